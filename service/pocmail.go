package service

import (
	"fmt"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// The texts capmatch writes itself: the communication-check e-mail and the proposed need, in
// the languages of the web UI. They are rendered when written (an e-mail is its text), never
// kept as data otherwise.

// mailLang picks the language of a message to a contact: the first of its languages capmatch
// writes in, else English.
func mailLang(langs []string) string {
	for _, l := range langs {
		if _, ok := checkMail[l]; ok {
			return l
		}
	}
	return "en"
}

var checkMail = map[string]struct {
	subject, body, diplomatic, technical string
}{
	"en": {
		subject: "Communication check from capmatch: please acknowledge (%s)",
		body: `Dear %[1]s,

The capmatch coordination desk is testing the directory of Points of Contact for cyber incidents. You are listed as the %[2]s Point of Contact of %[3]s.

Please confirm that this message reached you: open the link below and press "Acknowledge". No sign-in is needed.

%[4]s

The link works once, until %[5]s (UTC). If you are no longer the right contact, please ask your ministry to update the directory.

This message was sent automatically; replies are not read.
`,
		diplomatic: "diplomatic", technical: "technical",
	},
	"fr": {
		subject: "Vérification des communications capmatch : merci d'accuser réception (%s)",
		body: `Bonjour %[1]s,

Le bureau de coordination de capmatch teste l'annuaire des points de contact pour les incidents cyber. Vous y figurez comme point de contact %[2]s pour : %[3]s.

Merci de confirmer que ce message vous est parvenu : ouvrez le lien ci-dessous et appuyez sur « Accuser réception ». Aucune connexion n'est nécessaire.

%[4]s

Le lien ne fonctionne qu'une fois, jusqu'au %[5]s (UTC). Si vous n'êtes plus la bonne personne, demandez à votre ministère de mettre l'annuaire à jour.

Ce message a été envoyé automatiquement ; les réponses ne sont pas lues.
`,
		diplomatic: "diplomatique", technical: "technique",
	},
	"es": {
		subject: "Prueba de comunicación de capmatch: confirme la recepción (%s)",
		body: `Estimado/a %[1]s:

La oficina de coordinación de capmatch está probando el directorio de puntos de contacto para incidentes cibernéticos. Usted figura como punto de contacto %[2]s de: %[3]s.

Confirme que este mensaje le llegó: abra el enlace siguiente y pulse «Confirmar recepción». No es necesario iniciar sesión.

%[4]s

El enlace funciona una sola vez, hasta el %[5]s (UTC). Si ya no es la persona indicada, pida a su ministerio que actualice el directorio.

Este mensaje se envió automáticamente; las respuestas no se leen.
`,
		diplomatic: "diplomático", technical: "técnico",
	},
	"ar": {
		subject: "اختبار اتصال من capmatch: يرجى تأكيد الاستلام (%s)",
		body: `السيد/السيدة %[1]s،

يختبر مكتب التنسيق في capmatch دليل جهات الاتصال المعنية بالحوادث السيبرانية. وأنتم مدرجون فيه بوصفكم جهة الاتصال %[2]s لـ %[3]s.

يرجى تأكيد وصول هذه الرسالة إليكم: افتحوا الرابط أدناه واضغطوا على «تأكيد الاستلام». لا حاجة إلى تسجيل الدخول.

%[4]s

يعمل الرابط مرة واحدة، حتى %[5]s (بالتوقيت العالمي المنسق). وإذا لم تعودوا جهة الاتصال المناسبة، فيرجى أن تطلبوا من وزارتكم تحديث الدليل.

أُرسلت هذه الرسالة تلقائيًا؛ ولا تُقرأ الردود عليها.
`,
		diplomatic: "الدبلوماسية", technical: "التقنية",
	},
	"zh": {
		subject: "capmatch通信测试：请确认收到（%s）",
		body: `%[1]s：

capmatch协调台正在测试网络事件联络点名录。您在名录中登记为%[3]s的%[2]s联络点。

请确认您已收到本消息：打开下方链接并点击“确认收到”。无需登录。

%[4]s

该链接仅可使用一次，有效期至%[5]s（UTC）。如您已不再是合适的联络人，请让您所在的部委更新名录。

本消息为自动发送，回复不会被阅读。
`,
		diplomatic: "外交", technical: "技术",
	},
	"ru": {
		subject: "Проверка связи capmatch: подтвердите получение (%s)",
		body: `Уважаемый(ая) %[1]s,

Координационный центр capmatch проверяет справочник контактных пунктов по киберинцидентам. Вы указаны в нём как %[2]s контактный пункт: %[3]s.

Подтвердите, пожалуйста, что это сообщение дошло до вас: откройте ссылку ниже и нажмите «Подтвердить получение». Входить в систему не нужно.

%[4]s

Ссылка действует один раз, до %[5]s (UTC). Если вы больше не являетесь контактным лицом, попросите своё министерство обновить справочник.

Это сообщение отправлено автоматически; ответы на него не читаются.
`,
		diplomatic: "дипломатический", technical: "технический",
	},
}

// message writes the e-mail of a check to one contact, with its absolute acknowledgement link.
func (s *PoCChecks) message(c *models.PoCCheck, iso string, p *models.PoC) *models.MailMessage {
	lang := mailLang(p.Languages)
	t := checkMail[lang]
	kind := t.technical
	if p.Kind == models.PoCDiplomatic {
		kind = t.diplomatic
	}
	country := iso
	if info, ok := models.LookupCountry(iso); ok {
		country = info.Name
	}
	link := strings.TrimRight(s.publicURL, "/") + s.AckPath(c, p.ID)
	now := s.now().UTC().Truncate(time.Millisecond)
	return &models.MailMessage{
		ID: models.NewID(now), To: p.Email, ToName: p.Name, Lang: lang,
		Subject:   fmt.Sprintf(t.subject, country),
		Text:      fmt.Sprintf(t.body, p.Name, kind, country, link, c.ExpiresAt.UTC().Format("2006-01-02 15:04")),
		Ref:       "poc_check:" + c.ID + ":" + p.ID,
		CreatedAt: now,
	}
}

var proposalTexts = map[string][2]string{
	"en": {"Points of Contact readiness: exercise and sustain the national contacts",
		"capmatch proposed this draft because %s's Points of Contact did not acknowledge the last communication checks. " +
			"Support could cover keeping the diplomatic and technical contacts up to date, handover procedures, and regular drills with the UN directory and regional partners.\n\n" +
			"Review and edit it (budget, dates, modalities are placeholders), then submit it, or withdraw it if no help is needed. Nothing is published without your submission."},
	"fr": {"Préparation des points de contact : entraîner et maintenir les contacts nationaux",
		"capmatch a proposé ce brouillon car les points de contact de %s n'ont pas accusé réception des dernières vérifications des communications. " +
			"Un appui pourrait couvrir la mise à jour des contacts diplomatiques et techniques, les procédures de passation et des exercices réguliers avec l'annuaire de l'ONU et les partenaires régionaux.\n\n" +
			"Relisez-le et modifiez-le (budget, dates et modalités sont indicatifs), puis soumettez-le, ou retirez-le si aucune aide n'est nécessaire. Rien n'est publié sans votre soumission."},
	"es": {"Preparación de los puntos de contacto: ejercitar y mantener los contactos nacionales",
		"capmatch propuso este borrador porque los puntos de contacto de %s no confirmaron las últimas pruebas de comunicación. " +
			"El apoyo podría cubrir la actualización de los contactos diplomáticos y técnicos, los procedimientos de relevo y simulacros periódicos con el directorio de la ONU y los socios regionales.\n\n" +
			"Revíselo y edítelo (presupuesto, fechas y modalidades son provisionales) y luego envíelo, o retírelo si no se necesita ayuda. Nada se publica sin su envío."},
	"ar": {"جاهزية جهات الاتصال: تدريب جهات الاتصال الوطنية والمحافظة عليها",
		"اقترح capmatch هذه المسودة لأن جهات الاتصال في %s لم تؤكد استلام اختبارات الاتصال الأخيرة. " +
			"ويمكن أن يشمل الدعم تحديث بيانات جهات الاتصال الدبلوماسية والتقنية، وإجراءات التسليم، وتمارين منتظمة مع دليل الأمم المتحدة والشركاء الإقليميين.\n\n" +
			"راجعوها وعدّلوها (الميزانية والتواريخ وأشكال الدعم تقديرية)، ثم أرسلوها، أو اسحبوها إن لم تكن هناك حاجة إلى مساعدة. لا يُنشر شيء دون إرسالكم."},
	"zh": {"联络点准备情况：演练和维护国家联络点",
		"capmatch提出此草稿，是因为%s的联络点未确认最近几次通信测试。" +
			"支助可包括更新外交和技术联络人信息、交接程序，以及与联合国名录和区域伙伴定期开展演练。\n\n" +
			"请审阅并编辑（预算、日期和支助方式均为暂定），然后提交；如不需要援助，请撤回。未经您提交，不会发布任何内容。"},
	"ru": {"Готовность контактных пунктов: тренировка и поддержание национальных контактов",
		"capmatch предложил этот черновик, потому что контактные пункты страны %s не подтвердили последние проверки связи. " +
			"Поддержка может включать обновление дипломатических и технических контактов, процедуры передачи дел и регулярные учения со справочником ООН и региональными партнёрами.\n\n" +
			"Проверьте и отредактируйте его (бюджет, сроки и формы помощи указаны ориентировочно), затем отправьте или отзовите, если помощь не нужна. Без вашей отправки ничего не публикуется."},
}

// proposalText is the title and description of a proposed PoC-readiness need.
func proposalText(lang, iso string) (string, string) {
	t, ok := proposalTexts[lang]
	if !ok {
		t = proposalTexts["en"]
	}
	country := iso
	if info, ok := models.LookupCountry(iso); ok {
		country = info.Name
	}
	return t[0], fmt.Sprintf(t[1], country)
}
