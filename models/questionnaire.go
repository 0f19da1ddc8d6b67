package models

import "fmt"

// This file is the self-assessment questionnaire as data: areas → questions, each with the
// scale it is answered on, the capability a gap maps to and the readiness fact it sets. It is
// drawn from two sources states already know:
//
//   - the structure of the UN "National Survey of Implementation" of the framework of responsible
//     state behaviour (General Assembly resolutions 70/237 and 76/19; the OEWG's reports): the
//     eleven norms of the 2015 GGE report (A/70/174, paragraph 13 (a)–(k)), confidence-building
//     measures, international law, and capacity building;
//   - the five dimensions of the Oxford GCSCC Cybersecurity Capacity Maturity Model for Nations
//     (CMM): policy and strategy; culture and society; knowledge and capabilities; legal and
//     regulatory frameworks; standards and technologies, each factor answered on the CMM's five
//     stages (start-up, formative, established, strategic, dynamic).
//
// The wording is capmatch's own summary, not the text of either instrument. Questionnaires are
// versioned: an assessment names the version it answered, and a version, once published, never
// changes (a new one is added beside it), so old assessments keep their meaning.

// Scale is how a question is answered. Answers are whole numbers in the scale's range; higher is
// always better.
type Scale string

// The answer scales.
const (
	// ScaleYesPartialNo answers a yes/no fact that may be half done: 0 not yet, 1 partly, 2 yes.
	ScaleYesPartialNo Scale = "yes_partial_no"
	// ScaleCMMStage is a CMM stage: 1 start-up, 2 formative, 3 established, 4 strategic,
	// 5 dynamic.
	ScaleCMMStage Scale = "cmm_stage"
	// ScaleSIM3 is a CSIRT's SIM3 level, 0 (not available) to 4.
	ScaleSIM3 Scale = "sim3"
)

// Scales lists every scale.
var Scales = []Scale{ScaleYesPartialNo, ScaleCMMStage, ScaleSIM3}

// Range returns the lowest and highest answer of the scale; an unknown scale yields 0, -1 (no
// answer fits).
func (s Scale) Range() (lo, hi int) {
	switch s {
	case ScaleYesPartialNo:
		return 0, 2
	case ScaleCMMStage:
		return 1, 5
	case ScaleSIM3:
		return 0, 4
	}
	return 0, -1
}

// Valid reports whether s is one of the scales.
func (s Scale) Valid() bool {
	lo, hi := s.Range()
	return lo <= hi
}

// Framework is the maturity framework whose stages the scale's answers are ("" for
// yes/partial/no, which is no maturity scale).
func (s Scale) Framework() MaturityFramework {
	switch s {
	case ScaleCMMStage:
		return FrameworkCMM
	case ScaleSIM3:
		return FrameworkSIM3
	}
	return ""
}

// Score puts an answer on [0,1]: 0 for the scale's lowest answer, 1 for its highest, so that
// answers on different scales can be averaged into an area's score.
func (s Scale) Score(v int) float64 {
	lo, hi := s.Range()
	if hi <= lo {
		return 0
	}
	return float64(min(max(v, lo), hi)-lo) / float64(hi-lo)
}

var yesPartialNoText = []text{
	{"Not yet", "Pas encore", "Todavía no"},
	{"Partly", "En partie", "En parte"},
	{"Yes", "Oui", "Sí"},
}

var scaleText = map[Scale]text{
	ScaleYesPartialNo: {"Not yet, partly or yes", "Pas encore, en partie ou oui", "Todavía no, en parte o sí"},
	ScaleCMMStage: {
		"CMM stage, from start-up (1) to dynamic (5)",
		"Stade du CMM, du démarrage (1) au dynamique (5)",
		"Etapa del CMM, de inicial (1) a dinámica (5)",
	},
	ScaleSIM3: {
		"SIM3 level of the CERT/CSIRT, from 0 (not available) to 4",
		"Niveau SIM3 du CERT/CSIRT, de 0 (non disponible) à 4",
		"Nivel SIM3 del CERT/CSIRT, de 0 (no disponible) a 4",
	},
}

// AnswerLabel names an answer on a scale in lang ("Partly", "Formative", "2 – Explicit,
// internal"); out of range it yields the number.
func AnswerLabel(lang string, s Scale, v int) string {
	switch s {
	case ScaleYesPartialNo:
		if v >= 0 && v < len(yesPartialNoText) {
			return yesPartialNoText[v].in(lang)
		}
	case ScaleCMMStage, ScaleSIM3:
		lo, hi := s.Range()
		if v >= lo && v <= hi {
			return StageLabel(lang, s.Framework(), v)
		}
	}
	return fmt.Sprint(v)
}

// ScaleLabel describes a scale in lang.
func ScaleLabel(lang string, s Scale) string { return scaleText[s].in(lang) }

// AreaGroup says which instrument an area comes from.
type AreaGroup string

// The instruments the questionnaire draws on.
const (
	GroupUNSurvey AreaGroup = "un_survey" // the UN national survey of implementation
	GroupCMM      AreaGroup = "cmm"       // the Oxford GCSCC CMM's five dimensions
)

// Readiness facts a question may set (the JSON names of Readiness's fields). The other facts
// (poc_nominated) are not derived from a self-assessment: see DerivedReadiness.
const (
	ReadyNationalCERT     = "national_cert"
	ReadyCERTMaturity     = "cert_maturity"
	ReadyLegalPosition    = "legal_position_published"
	ReadyNationalStrategy = "national_strategy"
)

// Question is one question of a questionnaire.
type Question struct {
	// Code identifies the question within its questionnaire (answers are keyed by it).
	Code  string
	Scale Scale
	// Required questions must be answered for an assessment to be accepted.
	Required bool
	// Capability is what an answer below Target is a gap in: the capability of the draft need
	// the assessment proposes. Empty for questions that inform the results and propose nothing.
	Capability Capability
	// Target is the lowest answer that is not a gap: yes on yes/partial/no, "established" (3) on
	// the CMM, 3 on SIM3.
	Target int
	// Readiness names the readiness fact the answer sets (Ready* constants), if any.
	Readiness string
	// Ref cites where the question comes from, e.g. "A/70/174 §13(a)" or "CMM D1".
	Ref  string
	text text
}

// Text is the question in lang.
func (q Question) Text(lang string) string { return q.text.in(lang) }

// Area is a group of questions: one section of the UN survey or one CMM dimension.
type Area struct {
	Code      string
	Group     AreaGroup
	Questions []Question
	title     text
	intro     text
}

// Title is the area's name in lang.
func (a Area) Title(lang string) string { return a.title.in(lang) }

// Intro is the area's one-paragraph introduction in lang.
func (a Area) Intro(lang string) string { return a.intro.in(lang) }

// Questionnaire is one published version of the self-assessment.
type Questionnaire struct {
	Version string
	Areas   []Area
	byCode  map[string]*Question
	areaOf  map[string]string
}

// Question finds a question by code.
func (qn *Questionnaire) Question(code string) (Question, bool) {
	q, ok := qn.byCode[code]
	if !ok {
		return Question{}, false
	}
	return *q, true
}

// AreaOf names the area a question belongs to.
func (qn *Questionnaire) AreaOf(code string) string { return qn.areaOf[code] }

// Questions lists every question in order.
func (qn *Questionnaire) Questions() []Question {
	var out []Question
	for _, a := range qn.Areas {
		out = append(out, a.Questions...)
	}
	return out
}

func (qn *Questionnaire) index() *Questionnaire {
	qn.byCode, qn.areaOf = map[string]*Question{}, map[string]string{}
	for i := range qn.Areas {
		for j := range qn.Areas[i].Questions {
			q := &qn.Areas[i].Questions[j]
			qn.byCode[q.Code], qn.areaOf[q.Code] = q, qn.Areas[i].Code
		}
	}
	return qn
}

// CurrentQuestionnaire is the version new assessments answer.
const CurrentQuestionnaire = "2025.1"

var questionnaires = map[string]*Questionnaire{CurrentQuestionnaire: questionnaire2025()}

// LookupQuestionnaire finds a published questionnaire by version.
func LookupQuestionnaire(version string) (*Questionnaire, bool) {
	qn, ok := questionnaires[version]
	return qn, ok
}

// QuestionnaireVersions lists the published versions.
func QuestionnaireVersions() []string { return []string{CurrentQuestionnaire} }

// norm is a yes/partial/no question on one of the eleven norms.
func norm(code, ref string, c Capability, t text) Question {
	return Question{Code: code, Scale: ScaleYesPartialNo, Required: true, Capability: c, Target: 2, Ref: ref, text: t}
}

// fact is a yes/partial/no question on a fact of national readiness.
func fact(code, ref string, c Capability, readiness string, t text) Question {
	return Question{Code: code, Scale: ScaleYesPartialNo, Required: true, Capability: c, Target: 2, Readiness: readiness, Ref: ref, text: t}
}

// stage is a question answered with a CMM stage; a gap is anything below "established".
func stage(code, ref string, c Capability, t text) Question {
	return Question{Code: code, Scale: ScaleCMMStage, Required: true, Capability: c, Target: 3, Ref: ref, text: t}
}

func questionnaire2025() *Questionnaire {
	qn := &Questionnaire{Version: "2025.1", Areas: []Area{
		{Code: "un_norms", Group: GroupUNSurvey,
			title: text{"Norms of responsible state behaviour", "Normes de comportement responsable des États", "Normas de comportamiento responsable de los Estados"},
			intro: text{
				"The eleven voluntary, non-binding norms of the 2015 report of the Group of Governmental Experts (A/70/174), endorsed by the General Assembly and confirmed by the Open-Ended Working Group. How far has your state put each into national policy and practice?",
				"Les onze normes volontaires et non contraignantes du rapport de 2015 du Groupe d'experts gouvernementaux (A/70/174), approuvées par l'Assemblée générale et confirmées par le Groupe de travail à composition non limitée. Dans quelle mesure votre État a-t-il traduit chacune d'elles dans ses politiques et pratiques nationales ?",
				"Las once normas voluntarias y no vinculantes del informe de 2015 del Grupo de Expertos Gubernamentales (A/70/174), respaldadas por la Asamblea General y confirmadas por el Grupo de Trabajo de Composición Abierta. ¿En qué medida ha incorporado su Estado cada una de ellas a sus políticas y prácticas nacionales?",
			},
			Questions: []Question{
				norm("norm_a_cooperation", "A/70/174 §13(a)", CapNormsImplementation, text{
					"Cooperating with other states to increase stability and security in the use of ICTs and to prevent harmful ICT practices.",
					"Coopérer avec les autres États pour renforcer la stabilité et la sécurité dans l'utilisation des TIC et prévenir les pratiques nuisibles.",
					"Cooperar con otros Estados para aumentar la estabilidad y la seguridad en el uso de las TIC y prevenir las prácticas perjudiciales.",
				}),
				norm("norm_b_incidents", "A/70/174 §13(b)", CapNormsImplementation, text{
					"Considering all relevant information, including the larger context, when responding to ICT incidents.",
					"Prendre en compte toutes les informations pertinentes, y compris le contexte général, face aux incidents liés aux TIC.",
					"Tener en cuenta toda la información pertinente, incluido el contexto general, al responder a incidentes relacionados con las TIC.",
				}),
				norm("norm_c_territory", "A/70/174 §13(c)", CapNormsImplementation, text{
					"Not knowingly allowing your territory to be used for internationally wrongful acts using ICTs.",
					"Ne pas laisser sciemment utiliser votre territoire pour commettre des faits internationalement illicites à l'aide des TIC.",
					"No permitir deliberadamente que su territorio se utilice para cometer hechos internacionalmente ilícitos mediante las TIC.",
				}),
				norm("norm_d_criminal_use", "A/70/174 §13(d)", CapNormsImplementation, text{
					"Exchanging information, assisting other states and prosecuting the criminal and terrorist use of ICTs.",
					"Échanger des informations, prêter assistance aux autres États et poursuivre l'utilisation des TIC à des fins criminelles et terroristes.",
					"Intercambiar información, prestar asistencia a otros Estados y enjuiciar el uso delictivo y terrorista de las TIC.",
				}),
				norm("norm_e_human_rights", "A/70/174 §13(e)", CapNormsImplementation, text{
					"Respecting human rights, including the right to privacy, in the use of ICTs.",
					"Respecter les droits de l'homme, y compris le droit à la vie privée, dans l'utilisation des TIC.",
					"Respetar los derechos humanos, incluido el derecho a la privacidad, en el uso de las TIC.",
				}),
				norm("norm_f_no_ci_attacks", "A/70/174 §13(f)", CapNormsImplementation, text{
					"Not conducting or knowingly supporting ICT activity that intentionally damages critical infrastructure.",
					"Ne pas mener ni soutenir sciemment d'activité liée aux TIC qui endommage intentionnellement des infrastructures critiques.",
					"No realizar ni apoyar deliberadamente actividades relacionadas con las TIC que dañen intencionadamente infraestructuras críticas.",
				}),
				norm("norm_g_ci_protection", "A/70/174 §13(g)", CapCIIP, text{
					"Taking appropriate measures to protect your critical infrastructure from ICT threats.",
					"Prendre les mesures appropriées pour protéger vos infrastructures critiques contre les menaces liées aux TIC.",
					"Adoptar las medidas adecuadas para proteger sus infraestructuras críticas frente a las amenazas relacionadas con las TIC.",
				}),
				norm("norm_h_assistance", "A/70/174 §13(h)", CapNormsImplementation, text{
					"Responding to appropriate requests for assistance from a state whose critical infrastructure is subject to malicious ICT acts.",
					"Répondre aux demandes d'assistance appropriées d'un État dont les infrastructures critiques sont la cible d'actes malveillants liés aux TIC.",
					"Responder a las solicitudes de asistencia adecuadas de un Estado cuyas infraestructuras críticas sean objeto de actos malintencionados relacionados con las TIC.",
				}),
				norm("norm_i_supply_chain", "A/70/174 §13(i)", CapStandardsAdoption, text{
					"Ensuring the integrity of the supply chain and preventing the spread of malicious ICT tools and hidden functions.",
					"Garantir l'intégrité de la chaîne d'approvisionnement et empêcher la prolifération d'outils malveillants et de fonctions cachées.",
					"Garantizar la integridad de la cadena de suministro e impedir la proliferación de herramientas malintencionadas y funciones ocultas.",
				}),
				norm("norm_j_vulnerabilities", "A/70/174 §13(j)", CapNormsImplementation, text{
					"Encouraging the responsible reporting of ICT vulnerabilities and sharing the remedies.",
					"Encourager le signalement responsable des vulnérabilités des TIC et le partage des correctifs.",
					"Fomentar la notificación responsable de las vulnerabilidades de las TIC y el intercambio de soluciones.",
				}),
				norm("norm_k_cert_protection", "A/70/174 §13(k)", CapNormsImplementation, text{
					"Not harming the authorised emergency response teams (CERTs/CSIRTs) of other states, and not using your own for malicious activity.",
					"Ne pas porter atteinte aux équipes d'intervention d'urgence agréées (CERT/CSIRT) des autres États, ni utiliser les vôtres à des fins malveillantes.",
					"No dañar a los equipos autorizados de respuesta a emergencias (CERT/CSIRT) de otros Estados ni utilizar los propios para actividades malintencionadas.",
				}),
			}},
		{Code: "un_cbm", Group: GroupUNSurvey,
			title: text{"Confidence-building measures", "Mesures de confiance", "Medidas de fomento de la confianza"},
			intro: text{
				"The measures agreed at the UN and in regional organisations to build transparency and trust between states, including the global directory of Points of Contact.",
				"Les mesures convenues à l'ONU et dans les organisations régionales pour renforcer la transparence et la confiance entre États, y compris le répertoire mondial des points de contact.",
				"Las medidas acordadas en las Naciones Unidas y en las organizaciones regionales para aumentar la transparencia y la confianza entre los Estados, incluido el directorio mundial de puntos de contacto.",
			},
			Questions: []Question{
				fact("poc_nomination", "OEWG PoC directory", CapPoCReadiness, "", text{
					"Has your state nominated diplomatic and technical Points of Contact to the UN global directory?",
					"Votre État a-t-il désigné des points de contact diplomatiques et techniques dans le répertoire mondial de l'ONU ?",
					"¿Ha designado su Estado puntos de contacto diplomáticos y técnicos en el directorio mundial de las Naciones Unidas?",
				}),
				fact("poc_exercised", "OEWG PoC directory", CapPoCReadiness, "", text{
					"Do your Points of Contact take part in the directory's communication checks and in exercises?",
					"Vos points de contact participent-ils aux tests de communication du répertoire et à des exercices ?",
					"¿Participan sus puntos de contacto en las pruebas de comunicación del directorio y en ejercicios?",
				}),
				fact("cbm_transparency", "OEWG CBMs", CapCBMImplementation, "", text{
					"Does your state share its national cyber policies, strategies and views with other states, at the UN or in regional organisations?",
					"Votre État partage-t-il ses politiques, stratégies et points de vue nationaux en matière cyber avec les autres États, à l'ONU ou dans les organisations régionales ?",
					"¿Comparte su Estado sus políticas, estrategias y opiniones nacionales en materia cibernética con otros Estados, en las Naciones Unidas o en organizaciones regionales?",
				}),
				fact("cbm_regional", "OSCE, OAS, ARF, AU CBMs", CapCBMImplementation, "", text{
					"Does your state take part in regional confidence-building measures (OSCE, OAS, ASEAN Regional Forum, African Union or others)?",
					"Votre État participe-t-il à des mesures de confiance régionales (OSCE, OEA, Forum régional de l'ASEAN, Union africaine ou autres) ?",
					"¿Participa su Estado en medidas regionales de fomento de la confianza (OSCE, OEA, Foro Regional de la ASEAN, Unión Africana u otras)?",
				}),
			}},
		{Code: "un_international_law", Group: GroupUNSurvey,
			title: text{"International law", "Droit international", "Derecho internacional"},
			intro: text{
				"International law, and in particular the Charter of the United Nations, applies to the use of ICTs by states.",
				"Le droit international, et en particulier la Charte des Nations Unies, s'applique à l'utilisation des TIC par les États.",
				"El derecho internacional, y en particular la Carta de las Naciones Unidas, se aplica al uso de las TIC por los Estados.",
			},
			Questions: []Question{
				fact("legal_position", "A/76/135 §73", CapLegalPosition, ReadyLegalPosition, text{
					"Has your state published its national position on how international law applies to the use of ICTs?",
					"Votre État a-t-il publié sa position nationale sur l'application du droit international à l'utilisation des TIC ?",
					"¿Ha publicado su Estado su posición nacional sobre la aplicación del derecho internacional al uso de las TIC?",
				}),
				fact("legal_expertise", "A/76/135 §71", CapLegalPosition, "", text{
					"Do your government lawyers and diplomats have training in the international law that applies to cyberspace?",
					"Vos juristes gouvernementaux et vos diplomates sont-ils formés au droit international applicable au cyberespace ?",
					"¿Tienen sus juristas gubernamentales y diplomáticos formación en el derecho internacional aplicable al ciberespacio?",
				}),
			}},
		{Code: "un_capacity_building", Group: GroupUNSurvey,
			title: text{"Capacity building", "Renforcement des capacités", "Creación de capacidad"},
			intro: text{
				"The OEWG's principles of capacity building: nationally owned, demand-driven and coordinated. These answers describe the context; they propose no need of their own.",
				"Les principes du renforcement des capacités du GTCNL : appropriation nationale, réponse à la demande et coordination. Ces réponses décrivent le contexte ; elles ne proposent aucun besoin.",
				"Los principios de la creación de capacidad del GTCA: implicación nacional, orientación a la demanda y coordinación. Estas respuestas describen el contexto; no proponen ninguna necesidad.",
			},
			Questions: []Question{
				fact("cb_priorities", "A/75/816 §56", "", "", text{
					"Has your state identified its cyber capacity-building needs and priorities?",
					"Votre État a-t-il défini ses besoins et priorités de renforcement des capacités cyber ?",
					"¿Ha determinado su Estado sus necesidades y prioridades de creación de capacidad cibernética?",
				}),
				fact("cb_coordination", "A/75/816 §56", "", "", text{
					"Is there a national focal point that coordinates the support of partners?",
					"Existe-t-il un point focal national qui coordonne l'appui des partenaires ?",
					"¿Existe un punto focal nacional que coordine el apoyo de los socios?",
				}),
			}},
		{Code: "cmm_policy_strategy", Group: GroupCMM,
			title: text{"Cybersecurity policy and strategy (CMM dimension 1)", "Politique et stratégie de cybersécurité (dimension 1 du CMM)", "Política y estrategia de ciberseguridad (dimensión 1 del CMM)"},
			intro: text{
				"The national strategy, incident response, critical infrastructure protection and crisis management. Stages run from start-up (1) to dynamic (5).",
				"La stratégie nationale, la réponse aux incidents, la protection des infrastructures critiques et la gestion de crise. Les stades vont du démarrage (1) au dynamique (5).",
				"La estrategia nacional, la respuesta a incidentes, la protección de infraestructuras críticas y la gestión de crisis. Las etapas van de inicial (1) a dinámica (5).",
			},
			Questions: []Question{
				fact("strategy_adopted", "CMM D1.1", CapNationalStrategy, ReadyNationalStrategy, text{
					"Has your state adopted a national cybersecurity strategy?",
					"Votre État a-t-il adopté une stratégie nationale de cybersécurité ?",
					"¿Ha adoptado su Estado una estrategia nacional de ciberseguridad?",
				}),
				stage("cmm_strategy", "CMM D1.1", CapNationalStrategy, text{
					"The national cybersecurity strategy: how it is developed, what it covers, how it is carried out and reviewed.",
					"La stratégie nationale de cybersécurité : son élaboration, son contenu, sa mise en œuvre et son réexamen.",
					"La estrategia nacional de ciberseguridad: su elaboración, su contenido, su aplicación y su revisión.",
				}),
				fact("cert_exists", "CMM D1.2", CapCERTSetup, ReadyNationalCERT, text{
					"Does your state have a national CERT/CSIRT with a formal mandate?",
					"Votre État dispose-t-il d'un CERT/CSIRT national doté d'un mandat formel ?",
					"¿Dispone su Estado de un CERT/CSIRT nacional con un mandato formal?",
				}),
				{Code: "cert_sim3", Scale: ScaleSIM3, Capability: CapCERTMaturity, Target: 3, Readiness: ReadyCERTMaturity, Ref: "SIM3", text: text{
					"The SIM3 maturity level of the national CERT/CSIRT (leave it unanswered if there is none).",
					"Le niveau de maturité SIM3 du CERT/CSIRT national (ne pas répondre s'il n'y en a pas).",
					"El nivel de madurez SIM3 del CERT/CSIRT nacional (no responda si no existe).",
				}},
				stage("cmm_incident_response", "CMM D1.2", CapCERTMaturity, text{
					"Incident response: identifying incidents, organising and coordinating the response at national level.",
					"Réponse aux incidents : détection des incidents, organisation et coordination de la réponse au niveau national.",
					"Respuesta a incidentes: detección de incidentes, organización y coordinación de la respuesta a nivel nacional.",
				}),
				stage("cmm_ciip", "CMM D1.3", CapCIIP, text{
					"Critical infrastructure protection: identifying critical assets, managing their risks and responding to attacks on them.",
					"Protection des infrastructures critiques : recensement des actifs critiques, gestion de leurs risques et réponse aux attaques.",
					"Protección de infraestructuras críticas: identificación de los activos críticos, gestión de sus riesgos y respuesta a los ataques.",
				}),
				stage("cmm_crisis_management", "CMM D1.4", CapCyberExercises, text{
					"Crisis management: national cyber exercises and crisis plans.",
					"Gestion de crise : exercices cyber nationaux et plans de crise.",
					"Gestión de crisis: ciberejercicios nacionales y planes de crisis.",
				}),
			}},
		{Code: "cmm_culture_society", Group: GroupCMM,
			title: text{"Cyber culture and society (CMM dimension 2)", "Culture cyber et société (dimension 2 du CMM)", "Cultura cibernética y sociedad (dimensión 2 del CMM)"},
			intro: text{
				"How government, businesses and people think about cybersecurity and use the Internet safely.",
				"La façon dont l'administration, les entreprises et la population envisagent la cybersécurité et utilisent Internet en sécurité.",
				"Cómo la administración, las empresas y la población entienden la ciberseguridad y usan Internet de forma segura.",
			},
			Questions: []Question{
				stage("cmm_mindset", "CMM D2.1", CapAwareness, text{
					"The cybersecurity mindset across government, the private sector and users.",
					"L'état d'esprit en matière de cybersécurité dans l'administration, le secteur privé et chez les utilisateurs.",
					"La mentalidad de ciberseguridad en la administración, el sector privado y los usuarios.",
				}),
				stage("cmm_reporting", "CMM D2.4", CapAwareness, text{
					"Reporting mechanisms: channels for the public to report incidents and cybercrime.",
					"Mécanismes de signalement : canaux permettant au public de signaler les incidents et la cybercriminalité.",
					"Mecanismos de denuncia: canales para que el público notifique incidentes y ciberdelitos.",
				}),
			}},
		{Code: "cmm_knowledge_capabilities", Group: GroupCMM,
			title: text{"Cybersecurity knowledge and capabilities (CMM dimension 3)", "Connaissances et compétences en cybersécurité (dimension 3 du CMM)", "Conocimientos y capacidades en ciberseguridad (dimensión 3 del CMM)"},
			intro: text{
				"Awareness-raising, education and professional training.",
				"Sensibilisation, enseignement et formation professionnelle.",
				"Concienciación, educación y formación profesional.",
			},
			Questions: []Question{
				stage("cmm_awareness_programmes", "CMM D3.1", CapAwareness, text{
					"National cybersecurity awareness-raising programmes.",
					"Programmes nationaux de sensibilisation à la cybersécurité.",
					"Programas nacionales de concienciación sobre ciberseguridad.",
				}),
				stage("cmm_education", "CMM D3.2", CapWorkforceEducation, text{
					"Cybersecurity education: curricula, teachers and university programmes.",
					"Enseignement de la cybersécurité : programmes scolaires, enseignants et cursus universitaires.",
					"Educación en ciberseguridad: planes de estudio, docentes y programas universitarios.",
				}),
				stage("cmm_professional_training", "CMM D3.3", CapWorkforceEducation, text{
					"Professional cybersecurity training and a national workforce framework.",
					"Formation professionnelle en cybersécurité et cadre national des compétences.",
					"Formación profesional en ciberseguridad y marco nacional de competencias.",
				}),
			}},
		{Code: "cmm_legal_regulatory", Group: GroupCMM,
			title: text{"Legal and regulatory frameworks (CMM dimension 4)", "Cadres juridiques et réglementaires (dimension 4 du CMM)", "Marcos jurídicos y reglamentarios (dimensión 4 del CMM)"},
			intro: text{
				"Cybercrime law, the criminal justice system, digital forensics and international cooperation against cybercrime.",
				"Droit de la cybercriminalité, système de justice pénale, criminalistique numérique et coopération internationale contre la cybercriminalité.",
				"Legislación sobre ciberdelincuencia, sistema de justicia penal, informática forense y cooperación internacional contra la ciberdelincuencia.",
			},
			Questions: []Question{
				fact("cybercrime_law", "CMM D4.1", CapCybercrimeLegislation, "", text{
					"Does your state have substantive and procedural cybercrime legislation (in line with the Budapest Convention or the UN Convention against Cybercrime)?",
					"Votre État dispose-t-il d'une législation pénale de fond et de procédure sur la cybercriminalité (conforme à la Convention de Budapest ou à la Convention des Nations Unies contre la cybercriminalité) ?",
					"¿Dispone su Estado de legislación penal sustantiva y procesal sobre ciberdelincuencia (conforme al Convenio de Budapest o a la Convención de las Naciones Unidas contra la Ciberdelincuencia)?",
				}),
				stage("cmm_criminal_justice", "CMM D4.2", CapLawEnforcementTraining, text{
					"The criminal justice system: the capacity of police, prosecutors and judges to handle cybercrime cases.",
					"Le système de justice pénale : la capacité de la police, des procureurs et des juges à traiter les affaires de cybercriminalité.",
					"El sistema de justicia penal: la capacidad de la policía, los fiscales y los jueces para tramitar casos de ciberdelincuencia.",
				}),
				stage("cmm_forensics", "CMM D4.2", CapDigitalForensics, text{
					"Digital forensics: laboratories, procedures and trained examiners.",
					"Criminalistique numérique : laboratoires, procédures et experts formés.",
					"Informática forense: laboratorios, procedimientos y peritos formados.",
				}),
				stage("cmm_cooperation", "CMM D4.3", CapCybercrimeLegislation, text{
					"Formal and informal international cooperation against cybercrime (mutual legal assistance, 24/7 networks).",
					"Coopération internationale formelle et informelle contre la cybercriminalité (entraide judiciaire, réseaux 24/7).",
					"Cooperación internacional formal e informal contra la ciberdelincuencia (asistencia judicial mutua, redes 24/7).",
				}),
			}},
		{Code: "cmm_standards_technologies", Group: GroupCMM,
			title: text{"Standards and technologies (CMM dimension 5)", "Normes et technologies (dimension 5 du CMM)", "Estándares y tecnologías (dimensión 5 del CMM)"},
			intro: text{
				"Security standards, the resilience of the Internet infrastructure and the disclosure of vulnerabilities.",
				"Normes de sécurité, résilience de l'infrastructure Internet et divulgation des vulnérabilités.",
				"Estándares de seguridad, resiliencia de la infraestructura de Internet y divulgación de vulnerabilidades.",
			},
			Questions: []Question{
				stage("cmm_standards", "CMM D5.1", CapStandardsAdoption, text{
					"Adherence to ICT security standards in government and critical sectors.",
					"Application des normes de sécurité des TIC dans l'administration et les secteurs critiques.",
					"Aplicación de estándares de seguridad de las TIC en la administración y los sectores críticos.",
				}),
				stage("cmm_internet_resilience", "CMM D5.2", CapCIIP, text{
					"Resilience of the national Internet infrastructure.",
					"Résilience de l'infrastructure Internet nationale.",
					"Resiliencia de la infraestructura nacional de Internet.",
				}),
				stage("cmm_disclosure", "CMM D5.7", CapStandardsAdoption, text{
					"Responsible disclosure: a national framework for reporting and fixing vulnerabilities.",
					"Divulgation responsable : un cadre national pour signaler et corriger les vulnérabilités.",
					"Divulgación responsable: un marco nacional para notificar y corregir vulnerabilidades.",
				}),
			}},
	}}
	return qn.index()
}

// QuestionnaireDoc is a questionnaire as GET /api/v1/questionnaire serves it, in one language:
// what a client needs to show the questions and send valid answers.
type QuestionnaireDoc struct {
	Version string               `json:"version"`
	Lang    string               `json:"lang"`
	Scales  []QuestionnaireScale `json:"scales"`
	Areas   []QuestionnaireArea  `json:"areas"`
}

// QuestionnaireScale is an answer scale with its range and the label of every answer.
type QuestionnaireScale struct {
	Code    Scale         `json:"code"`
	Label   string        `json:"label"`
	Min     int           `json:"min"`
	Max     int           `json:"max"`
	Answers []ScaleAnswer `json:"answers"`
}

// ScaleAnswer is one answer of a scale and its label.
type ScaleAnswer struct {
	Value int    `json:"value"`
	Label string `json:"label"`
}

// QuestionnaireArea is an area with its questions.
type QuestionnaireArea struct {
	Code      string              `json:"code"`
	Group     AreaGroup           `json:"group"`
	Title     string              `json:"title"`
	Intro     string              `json:"intro"`
	Questions []QuestionnaireItem `json:"questions"`
}

// QuestionnaireItem is one question: its text, scale, whether it must be answered, the
// capability a gap in it proposes a need for, the readiness fact it sets and its source.
type QuestionnaireItem struct {
	Code       string     `json:"code"`
	Text       string     `json:"text"`
	Scale      Scale      `json:"scale"`
	Required   bool       `json:"required"`
	Target     int        `json:"target"`
	Capability Capability `json:"capability,omitempty"`
	Readiness  string     `json:"readiness,omitempty"`
	Reference  string     `json:"reference"`
}

// Document renders the questionnaire in lang ("en", "fr" or "es"; anything else is English).
func (qn *Questionnaire) Document(lang string) QuestionnaireDoc {
	lang = NormalizeLang(lang)
	doc := QuestionnaireDoc{Version: qn.Version, Lang: lang}
	for _, s := range Scales {
		lo, hi := s.Range()
		qs := QuestionnaireScale{Code: s, Label: ScaleLabel(lang, s), Min: lo, Max: hi}
		for v := lo; v <= hi; v++ {
			qs.Answers = append(qs.Answers, ScaleAnswer{Value: v, Label: AnswerLabel(lang, s, v)})
		}
		doc.Scales = append(doc.Scales, qs)
	}
	for _, a := range qn.Areas {
		qa := QuestionnaireArea{Code: a.Code, Group: a.Group, Title: a.Title(lang), Intro: a.Intro(lang)}
		for _, q := range a.Questions {
			qa.Questions = append(qa.Questions, QuestionnaireItem{Code: q.Code, Text: q.Text(lang), Scale: q.Scale, Required: q.Required,
				Target: q.Target, Capability: q.Capability, Readiness: q.Readiness, Reference: q.Ref})
		}
		doc.Areas = append(doc.Areas, qa)
	}
	return doc
}
