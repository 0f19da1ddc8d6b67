package models

import (
	"fmt"
	"strings"
)

// SupportedLangs lists the languages the catalogue and the web UI speak: the six official
// languages of the United Nations, where states negotiate the norms, confidence-building
// measures and capacity building this catalogue names: English, French, Spanish, Arabic
// (written right to left), Chinese (simplified) and Russian.
var SupportedLangs = []string{"en", "fr", "es", "ar", "zh", "ru"}

// The kinds of code Label and Describe know about, so that the web UI can ask for the
// display name of any stored code without a table of its own.
const (
	KindTheme      = "theme"
	KindCapability = "capability"
	KindModality   = "modality"
	KindPriority   = "priority"
	KindVisibility = "visibility"
	KindFramework  = "maturity_framework"
	KindLanguage   = "language"
	KindRegion     = "region"
	KindCountry    = "country"
)

// NormalizeLang maps a requested language to one of SupportedLangs: it accepts any case
// and a region or script suffix ("fr-SN", "es_419") and falls back to "en" for anything
// else, so that a caller always gets a complete document.
func NormalizeLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	for _, l := range SupportedLangs {
		if l == lang {
			return l
		}
	}
	return "en"
}

// text is one phrase in every supported language.
type text struct {
	EN, FR, ES string
}

// in returns the phrase in lang, falling back to English for an unsupported language or a
// missing translation. The Arabic, Chinese and Russian versions are kept in tables of their
// own keyed by the English phrase (unTexts), one file per language.
func (t text) in(lang string) string {
	switch l := NormalizeLang(lang); l {
	case "fr":
		if t.FR != "" {
			return t.FR
		}
	case "es":
		if t.ES != "" {
			return t.ES
		}
	case "en":
	default:
		if s, ok := unTexts[l][t.EN]; ok {
			return s
		}
	}
	return t.EN
}

// unTexts holds the catalogue's phrases in the UN languages beyond English, French and
// Spanish, keyed by the English phrase: text_ar.go, text_zh.go, text_ru.go. A test checks that
// every phrase has every version and that no version is left over.
var unTexts = map[string]map[string]string{"ar": arText, "zh": zhText, "ru": ruText}

// entryText is the label and the one-line description of a catalogue entry.
type entryText struct {
	Label       text
	Description text
}

var themeText = map[Theme]entryText{
	ThemePolicyStrategy: {
		text{"Policy and strategy", "Politique et stratégie", "Política y estrategia"},
		text{
			"National cybersecurity strategies, governance and the institutions that carry them out.",
			"Stratégies nationales de cybersécurité, gouvernance et institutions chargées de leur mise en œuvre.",
			"Estrategias nacionales de ciberseguridad, gobernanza e instituciones encargadas de aplicarlas.",
		},
	},
	ThemeIncidentManagement: {
		text{
			"Incident management and critical infrastructure protection",
			"Gestion des incidents et protection des infrastructures critiques",
			"Gestión de incidentes y protección de infraestructuras críticas",
		},
		text{
			"National CERTs/CSIRTs, incident response, critical information infrastructure and cyber exercises.",
			"CERT/CSIRT nationaux, réponse aux incidents, infrastructures d'information critiques et exercices cyber.",
			"CERT/CSIRT nacionales, respuesta a incidentes, infraestructuras críticas de información y ciberejercicios.",
		},
	},
	ThemeCybercrime: {
		text{"Cybercrime", "Cybercriminalité", "Ciberdelincuencia"},
		text{
			"Cybercrime law, digital forensics and the police, prosecutors and judges who apply them.",
			"Droit de la cybercriminalité, criminalistique numérique, et policiers, procureurs et juges qui les appliquent.",
			"Legislación sobre ciberdelincuencia, informática forense, y policías, fiscales y jueces que las aplican.",
		},
	},
	ThemeCultureSkills: {
		text{"Culture and skills", "Culture et compétences", "Cultura y competencias"},
		text{
			"Public awareness, education and a national cybersecurity workforce.",
			"Sensibilisation du public, enseignement et main-d'œuvre nationale en cybersécurité.",
			"Concienciación pública, educación y fuerza laboral nacional en ciberseguridad.",
		},
	},
	ThemeStandards: {
		text{"Standards", "Normes techniques", "Estándares"},
		text{
			"Adoption of international security standards and good practice.",
			"Adoption des normes internationales de sécurité et des bonnes pratiques.",
			"Adopción de estándares internacionales de seguridad y buenas prácticas.",
		},
	},
	ThemeDiplomacyNorms: {
		text{"Cyber diplomacy and norms", "Cyberdiplomatie et normes", "Ciberdiplomacia y normas"},
		text{
			"International law in cyberspace, UN norms of responsible state behaviour, confidence-building measures and Points of Contact.",
			"Droit international dans le cyberespace, normes de comportement responsable des États de l'ONU, mesures de confiance et points de contact.",
			"Derecho internacional en el ciberespacio, normas de las Naciones Unidas sobre el comportamiento responsable de los Estados, medidas de fomento de la confianza y puntos de contacto.",
		},
	},
}

var capabilityText = map[Capability]entryText{
	CapNationalStrategy: {
		text{"National cybersecurity strategy", "Stratégie nationale de cybersécurité", "Estrategia nacional de ciberseguridad"},
		text{
			"Develop, adopt and implement a national cybersecurity strategy with a governance structure, an action plan and a budget.",
			"Élaborer, adopter et mettre en œuvre une stratégie nationale de cybersécurité dotée d'une structure de gouvernance, d'un plan d'action et d'un budget.",
			"Elaborar, adoptar y aplicar una estrategia nacional de ciberseguridad con una estructura de gobernanza, un plan de acción y un presupuesto.",
		},
	},
	CapLegalPosition: {
		text{
			"National position on international law in cyberspace",
			"Position nationale sur le droit international dans le cyberespace",
			"Posición nacional sobre el derecho internacional en el ciberespacio",
		},
		text{
			"Draft and publish the national position on how international law applies in cyberspace.",
			"Rédiger et publier la position nationale sur l'application du droit international dans le cyberespace.",
			"Redactar y publicar la posición nacional sobre la aplicación del derecho internacional en el ciberespacio.",
		},
	},
	CapNormsImplementation: {
		text{"Implementation of UN cyber norms", "Mise en œuvre des normes cyber de l'ONU", "Aplicación de las normas cibernéticas de las Naciones Unidas"},
		text{
			"Put the eleven UN norms of responsible state behaviour in cyberspace into national policy and practice, and report on progress.",
			"Traduire dans les politiques et pratiques nationales les onze normes de l'ONU relatives au comportement responsable des États dans le cyberespace, et rendre compte des progrès.",
			"Incorporar a las políticas y prácticas nacionales las once normas de las Naciones Unidas sobre el comportamiento responsable de los Estados en el ciberespacio e informar sobre los avances.",
		},
	},
	CapCBMImplementation: {
		text{"Confidence-building measures", "Mesures de confiance", "Medidas de fomento de la confianza"},
		text{
			"Implement UN and regional cyber confidence-building measures: transparency, information sharing, national contact lists and joint exercises.",
			"Mettre en œuvre les mesures de confiance de l'ONU et des organisations régionales dans le cyberespace : transparence, échange d'informations, listes nationales de contacts et exercices conjoints.",
			"Aplicar las medidas de fomento de la confianza en el ciberespacio de las Naciones Unidas y de las organizaciones regionales: transparencia, intercambio de información, listas nacionales de contactos y ejercicios conjuntos.",
		},
	},
	CapPoCReadiness: {
		text{"Points of Contact readiness", "Préparation des points de contact", "Preparación de los puntos de contacto"},
		text{
			"Nominate and exercise diplomatic and technical Points of Contact for the UN directory and regional confidence-building measures.",
			"Désigner et entraîner les points de contact diplomatiques et techniques pour le répertoire de l'ONU et les mesures de confiance régionales.",
			"Designar y poner a prueba los puntos de contacto diplomáticos y técnicos para el directorio de las Naciones Unidas y las medidas regionales de fomento de la confianza.",
		},
	},
	CapCERTSetup: {
		text{"Establishing a national CERT/CSIRT", "Création d'un CERT/CSIRT national", "Creación de un CERT/CSIRT nacional"},
		text{
			"Establish a national CERT/CSIRT with a clear mandate and services defined according to FIRST's CSIRT Services Framework.",
			"Créer un CERT/CSIRT national doté d'un mandat clair et de services définis selon le cadre de services CSIRT du FIRST.",
			"Crear un CERT/CSIRT nacional con un mandato claro y servicios definidos según el marco de servicios CSIRT de FIRST.",
		},
	},
	CapCERTMaturity: {
		text{"CERT/CSIRT maturity", "Maturité du CERT/CSIRT", "Madurez del CERT/CSIRT"},
		text{
			"Raise an existing CERT/CSIRT's maturity, measured with SIM3 or the GFCE/ENISA tiers, in organisation, people, tools and processes.",
			"Accroître la maturité d'un CERT/CSIRT existant, mesurée selon SIM3 ou les niveaux GFCE/ENISA : organisation, personnel, outils et processus.",
			"Aumentar la madurez de un CERT/CSIRT existente, medida con SIM3 o los niveles GFCE/ENISA: organización, personal, herramientas y procesos.",
		},
	},
	CapCIIP: {
		text{
			"Critical information infrastructure protection",
			"Protection des infrastructures d'information critiques",
			"Protección de las infraestructuras críticas de información",
		},
		text{
			"Identify critical information infrastructure and its operators, and set the rules, risk management and incident reporting that protect it.",
			"Recenser les infrastructures d'information critiques et leurs opérateurs, et fixer les règles, la gestion des risques et la notification des incidents qui les protègent.",
			"Identificar las infraestructuras críticas de información y sus operadores, y establecer las normas, la gestión de riesgos y la notificación de incidentes que las protegen.",
		},
	},
	CapCyberExercises: {
		text{"Cyber exercises", "Exercices de cybersécurité", "Ciberejercicios"},
		text{
			"Plan and run national and cross-border cyber crisis exercises that test incident response, coordination and communication.",
			"Planifier et conduire des exercices de crise cyber nationaux et transfrontaliers qui éprouvent la réponse aux incidents, la coordination et la communication.",
			"Planificar y realizar ejercicios de crisis cibernética nacionales y transfronterizos que pongan a prueba la respuesta a incidentes, la coordinación y la comunicación.",
		},
	},
	CapCybercrimeLegislation: {
		text{"Cybercrime legislation", "Législation sur la cybercriminalité", "Legislación sobre ciberdelincuencia"},
		text{
			"Draft or update substantive and procedural cybercrime law in line with the Budapest Convention and the UN Convention against Cybercrime.",
			"Rédiger ou mettre à jour le droit pénal de fond et de procédure en matière de cybercriminalité, en cohérence avec la Convention de Budapest et la Convention des Nations Unies contre la cybercriminalité.",
			"Redactar o actualizar la legislación penal sustantiva y procesal sobre ciberdelincuencia, en consonancia con el Convenio de Budapest y la Convención de las Naciones Unidas contra la Ciberdelincuencia.",
		},
	},
	CapDigitalForensics: {
		text{"Digital forensics", "Criminalistique numérique", "Informática forense"},
		text{
			"Build a digital forensics capability: a laboratory, tools, trained examiners and procedures that keep electronic evidence admissible in court.",
			"Mettre en place une capacité de criminalistique numérique : laboratoire, outils, experts formés et procédures qui préservent la recevabilité des preuves électroniques en justice.",
			"Desarrollar una capacidad de informática forense: laboratorio, herramientas, peritos capacitados y procedimientos que preserven la admisibilidad de la prueba electrónica ante los tribunales.",
		},
	},
	CapLawEnforcementTraining: {
		text{
			"Training for police, prosecutors and judges",
			"Formation des policiers, procureurs et juges",
			"Capacitación de policías, fiscales y jueces",
		},
		text{
			"Train police, prosecutors and judges to investigate, prosecute and adjudicate cybercrime and to handle electronic evidence.",
			"Former les policiers, les procureurs et les juges à enquêter sur la cybercriminalité, à la poursuivre et à la juger, ainsi qu'à traiter la preuve électronique.",
			"Capacitar a policías, fiscales y jueces para investigar, enjuiciar y juzgar la ciberdelincuencia y tratar la prueba electrónica.",
		},
	},
	CapAwareness: {
		text{"Cybersecurity awareness", "Sensibilisation à la cybersécurité", "Concienciación sobre ciberseguridad"},
		text{
			"Run awareness campaigns that help citizens, businesses and public servants stay safe online.",
			"Mener des campagnes de sensibilisation qui aident les citoyens, les entreprises et les agents publics à se protéger en ligne.",
			"Realizar campañas de concienciación que ayuden a la ciudadanía, las empresas y los funcionarios públicos a protegerse en línea.",
		},
	},
	CapWorkforceEducation: {
		text{"Cybersecurity workforce and education", "Compétences et formation en cybersécurité", "Fuerza laboral y educación en ciberseguridad"},
		text{
			"Grow the national cybersecurity workforce through university curricula, professional certification and training of public servants.",
			"Développer les compétences nationales en cybersécurité par des cursus universitaires, la certification professionnelle et la formation des agents publics.",
			"Ampliar la fuerza laboral nacional en ciberseguridad mediante planes de estudio universitarios, certificación profesional y formación de los funcionarios públicos.",
		},
	},
	CapStandardsAdoption: {
		text{"Adoption of security standards", "Adoption de normes de sécurité", "Adopción de estándares de seguridad"},
		text{
			"Adopt and apply international security standards, such as ISO/IEC 27001, and good practice across government and critical sectors.",
			"Adopter et appliquer les normes internationales de sécurité, telles que l'ISO/IEC 27001, et les bonnes pratiques dans l'administration et les secteurs critiques.",
			"Adoptar y aplicar estándares internacionales de seguridad, como ISO/IEC 27001, y buenas prácticas en la administración pública y los sectores críticos.",
		},
	},
}

var modalityText = map[Modality]entryText{
	ModTraining: {
		text{"Training", "Formation", "Capacitación"},
		text{"Courses and workshops for national staff.", "Cours et ateliers pour le personnel national.", "Cursos y talleres para el personal nacional."},
	},
	ModExpertDeployment: {
		text{"Expert deployment", "Déploiement d'experts", "Despliegue de expertos"},
		text{
			"Experts seconded to work alongside national teams.",
			"Experts détachés pour travailler aux côtés des équipes nationales.",
			"Expertos destacados para trabajar junto a los equipos nacionales.",
		},
	},
	ModFunding: {
		text{"Funding", "Financement", "Financiación"},
		text{
			"Grants or co-financing for activities the country runs itself.",
			"Subventions ou cofinancement d'activités menées par le pays lui-même.",
			"Subvenciones o cofinanciación de actividades que ejecuta el propio país.",
		},
	},
	ModEquipment: {
		text{"Equipment", "Équipement", "Equipamiento"},
		text{"Hardware, software and licences.", "Matériel, logiciels et licences.", "Equipos, programas informáticos y licencias."},
	},
	ModMentoring: {
		text{"Mentoring", "Mentorat", "Mentoría"},
		text{
			"Long-term support from an experienced peer, such as a mature CERT.",
			"Accompagnement dans la durée par un homologue expérimenté, par exemple un CERT mature.",
			"Acompañamiento a largo plazo por un homólogo experimentado, como un CERT maduro.",
		},
	},
	ModStudyVisit: {
		text{"Study visit", "Visite d'étude", "Visita de estudio"},
		text{
			"Visits to learn from institutions in another country.",
			"Visites pour apprendre auprès d'institutions d'un autre pays.",
			"Visitas para aprender de instituciones de otro país.",
		},
	},
	ModPolicyAdvice: {
		text{"Policy advice", "Conseil en politiques publiques", "Asesoramiento en políticas públicas"},
		text{
			"Advice on drafting strategies, laws and regulations.",
			"Conseil pour la rédaction de stratégies, de lois et de règlements.",
			"Asesoramiento para la redacción de estrategias, leyes y reglamentos.",
		},
	},
}

var priorityText = map[Priority]entryText{
	PriorityHigh:   {Label: text{"High", "Élevée", "Alta"}},
	PriorityMedium: {Label: text{"Medium", "Moyenne", "Media"}},
	PriorityLow:    {Label: text{"Low", "Faible", "Baja"}},
}

var visibilityText = map[Visibility]entryText{
	VisibilityPublic: {
		text{"Public", "Publique", "Pública"},
		text{
			"Visible to everyone once a coordinator has approved it, including visitors who are not signed in.",
			"Visible par tous une fois validé par un coordinateur, y compris les visiteurs non connectés.",
			"Visible para todos una vez aprobada por un coordinador, incluidos los visitantes que no han iniciado sesión.",
		},
	},
	VisibilityDonors: {
		text{"Donors only", "Bailleurs uniquement", "Solo donantes"},
		text{
			"Visible to donors, coordinators and the owning ministry.",
			"Visible par les bailleurs, les coordinateurs et le ministère auteur.",
			"Visible para los donantes, los coordinadores y el ministerio autor.",
		},
	},
	VisibilityRestricted: {
		text{"Restricted", "Restreinte", "Restringida"},
		text{
			"Visible only to coordinators and the owning ministry.",
			"Visible uniquement par les coordinateurs et le ministère auteur.",
			"Visible solo para los coordinadores y el ministerio autor.",
		},
	},
}

// frameworkInfo describes a maturity framework and names each of its stages, indexed by
// stage number from 0.
type frameworkInfo struct {
	entryText
	Stages []text
}

var frameworkText = map[MaturityFramework]frameworkInfo{
	FrameworkCMM: {
		entryText{
			text{
				"Cybersecurity Capacity Maturity Model (Oxford GCSCC CMM)",
				"Modèle de maturité des capacités en cybersécurité (CMM du GCSCC d'Oxford)",
				"Modelo de Madurez de la Capacidad de Ciberseguridad (CMM del GCSCC de Oxford)",
			},
			text{
				"The Oxford Global Cyber Security Capacity Centre's national model: five dimensions, five stages from start-up to dynamic.",
				"Le modèle national du Global Cyber Security Capacity Centre d'Oxford : cinq dimensions, cinq stades, du démarrage au stade dynamique.",
				"El modelo nacional del Global Cyber Security Capacity Centre de Oxford: cinco dimensiones y cinco etapas, de la inicial a la dinámica.",
			},
		},
		[]text{
			{"Not assessed", "Non évalué", "No evaluado"},
			{"Start-up", "Démarrage", "Inicial"},
			{"Formative", "Formatif", "Formativo"},
			{"Established", "Établi", "Consolidado"},
			{"Strategic", "Stratégique", "Estratégico"},
			{"Dynamic", "Dynamique", "Dinámico"},
		},
	},
	FrameworkSIM3: {
		entryText{
			text{
				"SIM3 (Security Incident Management Maturity Model)",
				"SIM3 (modèle de maturité de la gestion des incidents de sécurité)",
				"SIM3 (modelo de madurez de la gestión de incidentes de seguridad)",
			},
			text{
				"The CERT/CSIRT maturity model maintained by the Open CSIRT Foundation and used by TF-CSIRT and ENISA: levels 0 to 4 per parameter.",
				"Le modèle de maturité des CERT/CSIRT tenu à jour par l'Open CSIRT Foundation et utilisé par TF-CSIRT et l'ENISA : niveaux 0 à 4 par paramètre.",
				"El modelo de madurez de los CERT/CSIRT mantenido por la Open CSIRT Foundation y utilizado por TF-CSIRT y ENISA: niveles 0 a 4 por parámetro.",
			},
		},
		[]text{
			{"0 – Not available or unknown", "0 – Non disponible ou inconnu", "0 – No disponible o desconocido"},
			{"1 – Implicit", "1 – Implicite", "1 – Implícito"},
			{"2 – Explicit, internal", "2 – Explicite, interne", "2 – Explícito, interno"},
			{"3 – Explicit, formalised", "3 – Explicite, formalisé", "3 – Explícito, formalizado"},
			{"4 – Explicit, actively assessed", "4 – Explicite, évalué activement", "4 – Explícito, evaluado activamente"},
		},
	},
	FrameworkGCI: {
		entryText{
			text{
				"ITU Global Cybersecurity Index (GCI)",
				"Indice mondial de cybersécurité de l'UIT (GCI)",
				"Índice Mundial de Ciberseguridad de la UIT (GCI)",
			},
			text{
				"The ITU index's tiers (2024 edition), across five pillars: legal, technical, organizational, capacity development and cooperation. Stage 1 is tier 5 and stage 5 is tier 1.",
				"Les niveaux de l'indice de l'UIT (édition 2024), sur cinq piliers : juridique, technique, organisationnel, développement des capacités et coopération. Le stade 1 correspond au niveau 5 et le stade 5 au niveau 1.",
				"Los niveles del índice de la UIT (edición 2024), en cinco pilares: jurídico, técnico, organizativo, desarrollo de capacidades y cooperación. La etapa 1 corresponde al nivel 5 y la etapa 5 al nivel 1.",
			},
		},
		[]text{
			{"Not assessed", "Non évalué", "No evaluado"},
			{"Tier 5 – Building", "Niveau 5 – En construction", "Nivel 5 – En construcción"},
			{"Tier 4 – Evolving", "Niveau 4 – En évolution", "Nivel 4 – En evolución"},
			{"Tier 3 – Establishing", "Niveau 3 – En consolidation", "Nivel 3 – En consolidación"},
			{"Tier 2 – Advancing", "Niveau 2 – En progression", "Nivel 2 – En progreso"},
			{"Tier 1 – Role-modelling", "Niveau 1 – Exemplaire", "Nivel 1 – Ejemplar"},
		},
	},
	FrameworkNone: {
		entryText{
			text{"No maturity scale", "Aucune échelle de maturité", "Sin escala de madurez"},
			text{
				"The need states no baseline or target on a maturity scale.",
				"Le besoin n'indique ni niveau de départ ni objectif sur une échelle de maturité.",
				"La necesidad no indica nivel de partida ni objetivo en una escala de madurez.",
			},
		},
		[]text{
			{"Not stated", "Non précisé", "No indicado"},
		},
	},
}

// regionText translates the UN M49 region names the embedded data set carries in English
// only; the names follow the UN Statistics Division's French and Spanish versions.
var regionText = map[string]text{
	"001": {"World", "Monde", "Mundo"},
	"002": {"Africa", "Afrique", "África"},
	"005": {"South America", "Amérique du Sud", "América del Sur"},
	"009": {"Oceania", "Océanie", "Oceanía"},
	"011": {"Western Africa", "Afrique occidentale", "África occidental"},
	"013": {"Central America", "Amérique centrale", "Centroamérica"},
	"014": {"Eastern Africa", "Afrique orientale", "África oriental"},
	"015": {"Northern Africa", "Afrique septentrionale", "África septentrional"},
	"017": {"Middle Africa", "Afrique centrale", "África central"},
	"018": {"Southern Africa", "Afrique australe", "África meridional"},
	"019": {"Americas", "Amériques", "Américas"},
	"021": {"Northern America", "Amérique septentrionale", "América septentrional"},
	"029": {"Caribbean", "Caraïbes", "Caribe"},
	"030": {"Eastern Asia", "Asie orientale", "Asia oriental"},
	"034": {"Southern Asia", "Asie du Sud", "Asia meridional"},
	"035": {"South-eastern Asia", "Asie du Sud-Est", "Asia sudoriental"},
	"039": {"Southern Europe", "Europe méridionale", "Europa meridional"},
	"053": {"Australia and New Zealand", "Australie et Nouvelle-Zélande", "Australia y Nueva Zelandia"},
	"054": {"Melanesia", "Mélanésie", "Melanesia"},
	"057": {"Micronesia", "Micronésie", "Micronesia"},
	"061": {"Polynesia", "Polynésie", "Polinesia"},
	"142": {"Asia", "Asie", "Asia"},
	"143": {"Central Asia", "Asie centrale", "Asia central"},
	"145": {"Western Asia", "Asie occidentale", "Asia occidental"},
	"150": {"Europe", "Europe", "Europa"},
	"151": {"Eastern Europe", "Europe orientale", "Europa oriental"},
	"154": {"Northern Europe", "Europe septentrionale", "Europa septentrional"},
	"155": {"Western Europe", "Europe occidentale", "Europa occidental"},
	"202": {"Sub-Saharan Africa", "Afrique subsaharienne", "África subsahariana"},
	"419": {"Latin America and the Caribbean", "Amérique latine et Caraïbes", "América Latina y el Caribe"},
}

// regionName returns the name of an M49 region in lang, or "" for an unknown code.
func regionName(lang, code string) string {
	r, ok := LookupRegion(code)
	if !ok {
		return ""
	}
	t, ok := regionText[code]
	if !ok {
		return r.Name
	}
	return t.in(lang)
}

// entryFor finds the texts of a code of the given kind.
func entryFor(kind, code string) (entryText, bool) {
	var e entryText
	var ok bool
	switch kind {
	case KindTheme:
		e, ok = themeText[Theme(code)]
	case KindCapability:
		e, ok = capabilityText[Capability(code)]
	case KindModality:
		e, ok = modalityText[Modality(code)]
	case KindPriority:
		e, ok = priorityText[Priority(code)]
	case KindVisibility:
		e, ok = visibilityText[Visibility(code)]
	case KindFramework:
		var f frameworkInfo
		f, ok = frameworkText[MaturityFramework(code)]
		e = f.entryText
	}
	return e, ok
}

// Label returns the display name of a stored code in lang (see NormalizeLang), so that
// templates and exports can show "Cybercrime" or "Cybercriminalité" instead of "cybercrime".
// kind is one of the Kind constants. Country names are in English only. An unknown kind or
// code yields the code itself, so that a page never shows a blank.
func Label(lang, kind, code string) string {
	var s string
	switch kind {
	case KindLanguage:
		s = languageName(lang, code)
	case KindRegion:
		s = regionName(lang, code)
	case KindCountry:
		if c, ok := LookupCountry(code); ok {
			s = c.Name
		}
	default:
		if e, ok := entryFor(kind, code); ok {
			s = e.Label.in(lang)
		}
	}
	if s == "" {
		return code
	}
	return s
}

// Describe returns the one-line explanation of a theme, capability, modality, visibility
// tier or maturity framework in lang, so that forms can help an official choose; it is ""
// when there is none.
func Describe(lang, kind, code string) string {
	e, ok := entryFor(kind, code)
	if !ok {
		return ""
	}
	return e.Description.in(lang)
}

// StageLabel names a stage of a maturity framework in lang, e.g. "Formative" for cmm stage
// 2, so that a need's baseline and target read as words; out of range it yields the number.
func StageLabel(lang string, f MaturityFramework, stage int) string {
	info, ok := frameworkText[f]
	if !ok || stage < 0 || stage >= len(info.Stages) {
		return fmt.Sprint(stage)
	}
	return info.Stages[stage].in(lang)
}

// CatalogueDoc is the vocabulary document served at GET /api/v1/catalogue: every code a
// client may send, with labels in one language, so that forms, filters and other systems
// need no copy of the vocabularies.
type CatalogueDoc struct {
	Lang               string               `json:"lang"`
	Themes             []CatalogueTheme     `json:"themes"`
	Modalities         []CatalogueEntry     `json:"modalities"`
	Priorities         []CatalogueEntry     `json:"priorities"`
	Visibilities       []CatalogueEntry     `json:"visibilities"`
	MaturityFrameworks []CatalogueFramework `json:"maturity_frameworks"`
	Languages          []CatalogueLanguage  `json:"languages"`
	Regions            []CatalogueRegion    `json:"regions"`
}

// CatalogueEntry is one code of a vocabulary with its label and, where there is one, a
// one-line description.
type CatalogueEntry struct {
	Code        string `json:"code"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// CatalogueTheme is a theme with the capabilities filed under it, so that a form can offer
// only matching capabilities.
type CatalogueTheme struct {
	CatalogueEntry
	Capabilities []CatalogueEntry `json:"capabilities"`
}

// CatalogueStage is one stage of a maturity framework.
type CatalogueStage struct {
	Stage int    `json:"stage"`
	Label string `json:"label"`
}

// CatalogueFramework is a maturity framework with its allowed stage range and stage names.
type CatalogueFramework struct {
	CatalogueEntry
	MinStage int              `json:"min_stage"`
	MaxStage int              `json:"max_stage"`
	Stages   []CatalogueStage `json:"stages"`
}

// CatalogueLanguage is an ISO 639-1 language with its name in the catalogue's language,
// in English and in itself.
type CatalogueLanguage struct {
	Code   string `json:"code"`
	Label  string `json:"label"`
	Name   string `json:"name"`
	Native string `json:"native,omitempty"`
}

// CatalogueRegion is a UN M49 region usable in an offer's eligible_regions.
type CatalogueRegion struct {
	Code   string `json:"code"`
	Label  string `json:"label"`
	Level  string `json:"level"`
	Parent string `json:"parent,omitempty"`
}

// Catalogue builds the vocabulary document in lang ("en", "fr" or "es"; anything else
// falls back to "en"). Each call returns a fresh document the caller may change.
func Catalogue(lang string) CatalogueDoc {
	lang = NormalizeLang(lang)
	entry := func(kind, code string) CatalogueEntry {
		return CatalogueEntry{Code: code, Label: Label(lang, kind, code), Description: Describe(lang, kind, code)}
	}
	doc := CatalogueDoc{Lang: lang}
	for _, t := range Themes {
		ct := CatalogueTheme{CatalogueEntry: entry(KindTheme, string(t)), Capabilities: []CatalogueEntry{}}
		for _, c := range ThemeCapabilities(t) {
			ct.Capabilities = append(ct.Capabilities, entry(KindCapability, string(c)))
		}
		doc.Themes = append(doc.Themes, ct)
	}
	for _, m := range Modalities {
		doc.Modalities = append(doc.Modalities, entry(KindModality, string(m)))
	}
	for _, p := range Priorities {
		doc.Priorities = append(doc.Priorities, entry(KindPriority, string(p)))
	}
	for _, v := range Visibilities {
		doc.Visibilities = append(doc.Visibilities, entry(KindVisibility, string(v)))
	}
	for _, f := range MaturityFrameworks {
		lo, hi := f.StageRange()
		cf := CatalogueFramework{CatalogueEntry: entry(KindFramework, string(f)), MinStage: lo, MaxStage: hi}
		for s := lo; s <= hi; s++ {
			cf.Stages = append(cf.Stages, CatalogueStage{Stage: s, Label: StageLabel(lang, f, s)})
		}
		doc.MaturityFrameworks = append(doc.MaturityFrameworks, cf)
	}
	for _, l := range languageTable {
		doc.Languages = append(doc.Languages, CatalogueLanguage{
			Code: l.code, Label: languageName(lang, l.code), Name: l.en, Native: l.native,
		})
	}
	for _, r := range Regions() {
		doc.Regions = append(doc.Regions, CatalogueRegion{
			Code: r.Code, Label: regionName(lang, r.Code), Level: r.Level, Parent: r.Parent,
		})
	}
	return doc
}
