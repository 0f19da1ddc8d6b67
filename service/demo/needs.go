package demo

import (
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// needSpec is one row of the need table; dates are relative to today.
type needSpec struct {
	key     string // the ID is "need-<country>-<key>"
	country string
	org     string
	cap     models.Capability
	title   string
	desc    string
	mods    []models.Modality
	langs   []string
	budget  int64
	startIn int // start_by is today plus startIn months (1 to 9)
	months  int // duration
	prio    models.Priority
	mat     models.Maturity
	vis     models.Visibility
	status  models.NeedStatus
}

// Short names for the table, which would otherwise be mostly package qualifiers.
const (
	high = models.PriorityHigh
	med  = models.PriorityMedium
	low  = models.PriorityLow

	public     = models.VisibilityPublic
	donorsOnly = models.VisibilityDonors
	restricted = models.VisibilityRestricted

	open      = models.NeedOpen
	submitted = models.NeedSubmitted
	draft     = models.NeedDraft

	training = models.ModTraining
	experts  = models.ModExpertDeployment
	funding  = models.ModFunding
	equip    = models.ModEquipment
	mentor   = models.ModMentoring
	visit    = models.ModStudyVisit
	advice   = models.ModPolicyAdvice
)

// mods keeps the table readable.
func mods(m ...models.Modality) []models.Modality { return m }

// langs keeps the table readable.
func langs(l ...string) []string { return l }

// sim3 is a CERT need's baseline and target on the SIM3 levels.
func sim3(cur, tgt int) models.Maturity {
	return models.Maturity{Framework: models.FrameworkSIM3, Current: cur, Target: tgt}
}

// cmm is a baseline and target on the stages of the Oxford CMM.
func cmm(cur, tgt int) models.Maturity {
	return models.Maturity{Framework: models.FrameworkCMM, Current: cur, Target: tgt}
}

// gci is a baseline and target on the ITU GCI tiers, as models numbers them (stage 1 = tier 5).
func gci(cur, tgt int) models.Maturity {
	return models.Maturity{Framework: models.FrameworkGCI, Current: cur, Target: tgt}
}

// noScale is a need that states no maturity baseline, as most diplomacy requests do.
var noScale = models.Maturity{Framework: models.FrameworkNone}

// needTable lists the sixty demo needs, grouped by country. Legal positions, CERT set-up
// and Points of Contact readiness are deliberately frequent: they are what developing
// countries are most often asked for under the UN framework and can least often do alone.
// CERT gaps and PoC readiness are the needs most often shown to donors only or kept
// restricted, because they reveal weaknesses.
var needTable = []needSpec{
	// Senegal
	{"legal-position", "SN", orgSN, models.CapLegalPosition,
		"Draft and publish Senegal's national position on international law in cyberspace",
		"The Ministry of Foreign Affairs wants to publish Senegal's national position on how international law applies in cyberspace before the next sessions of the permanent UN mechanism on ICT security. " +
			"We ask for a senior international lawyer to accompany an inter-ministerial drafting group (Foreign Affairs, Armed Forces, Justice, the personal data protection commission and the national CSIRT) through workshops on sovereignty, non-intervention, due diligence, state responsibility and international humanitarian law, building on the Common African Position adopted by the African Union in 2024.\n\n" +
			"Working language French; the final text will be published in French and English and deposited with the UN.",
		mods(advice, experts, training), langs("fr"), 120_000, 3, 12, high, noScale, public, open},
	{"csirt-maturity", "SN", orgSN, models.CapCERTMaturity,
		"Raise Senegal's national CSIRT from SIM3 level 1 to level 3 and prepare FIRST membership",
		"Senegal's national CSIRT handles incidents for ministries and operators, but most of its processes are implicit. " +
			"We need support to formalise its mandate and constituency, document its service catalogue along the FIRST CSIRT Services Framework, introduce incident ticketing and triage procedures, and run a SIM3 self-assessment followed by a peer review. " +
			"The objective is FIRST membership and regular participation in AfricaCERT exercises. Working language French.",
		mods(mentor, training, equip), langs("fr"), 650_000, 5, 24, high, sim3(1, 3), donorsOnly, open},

	// Côte d'Ivoire
	{"legal-position", "CI", orgCI, models.CapLegalPosition,
		"Support Côte d'Ivoire in preparing its national position on the application of international law to cyberspace",
		"Côte d'Ivoire intends to contribute a national position to the UN discussions on ICTs in the context of international security. " +
			"The request has two phases: training for fifteen legal advisers of the ministries of Foreign Affairs, Defence and Justice on the questions raised in the Open-Ended Working Group (sovereignty, non-intervention, due diligence, peaceful settlement of disputes), then drafting assistance and a national validation workshop. Work in French.",
		mods(training, advice), langs("fr"), 90_000, 4, 10, med, noScale, public, open},
	{"judicial-training", "CI", orgCI, models.CapLawEnforcementTraining,
		"Train cybercrime investigators, prosecutors and judges in handling electronic evidence",
		"The Plateforme de lutte contre la cybercriminalité (PLCC) and the courts of Abidjan handle a growing number of online fraud and sextortion cases, but few magistrates are confident with electronic evidence. " +
			"We request a train-the-trainer programme with the national judicial training institute: a basic and an advanced course on electronic evidence, preservation orders and international cooperation requests, for police officers, prosecutors and judges, with French-language materials the institute can keep using.",
		mods(training, mentor), langs("fr"), 280_000, 2, 18, high, cmm(2, 3), public, open},

	// Ghana
	{"legal-position", "GH", orgGH, models.CapLegalPosition,
		"Develop Ghana's national position on how international law applies to the use of ICTs by states",
		"The Cyber Security Authority and the Ministry of Foreign Affairs want to set out a national position consistent with the Common African Position and with Ghana's statements in the Open-Ended Working Group. " +
			"Requested: a comparative study of published national positions, two drafting retreats with government lawyers, and peer review by international law experts before the text goes to Cabinet.",
		mods(advice, experts), langs("en"), 75_000, 2, 9, med, noScale, public, submitted},
	{"cii-designation", "GH", orgGH, models.CapCIIP,
		"Designate critical information infrastructure and roll out the CII directive to sector operators",
		"Under the Cybersecurity Act, 2020 (Act 1038) the Cyber Security Authority designates critical information infrastructure and enforces minimum security requirements. " +
			"We need expert support to run sector risk assessments (energy, finance, telecommunications, water, health), finalise the CII register and the incident reporting procedure, and train the security liaison officers of designated operators.",
		mods(experts, training, advice), langs("en"), 480_000, 4, 18, high, cmm(2, 3), donorsOnly, open},

	// Nigeria
	{"forensics-lab", "NG", orgNG, models.CapDigitalForensics,
		"Upgrade the digital forensics laboratory supporting federal cybercrime prosecutions",
		"Cases brought under the Cybercrimes (Prohibition, Prevention, etc.) Act have outgrown the forensic units that serve federal prosecutors. " +
			"We ask for mobile and cloud forensics tooling, a quality management system oriented towards ISO/IEC 17025, and certification training for twenty examiners, so that electronic evidence withstands challenge in court.",
		mods(equip, training), langs("en"), 1_200_000, 6, 24, high, cmm(2, 3), donorsOnly, open},
	{"poc-ping-tests", "NG", orgNG, models.CapPoCReadiness,
		"Exercise Nigeria's diplomatic and technical PoCs in UN Global PoC Directory ping tests",
		"Nigeria has nominated its Points of Contact to the UN Global Intergovernmental Points of Contact Directory. " +
			"We now need standard operating procedures that link the diplomatic PoC at the Ministry of Foreign Affairs with the technical PoC at ngCERT, a 24/7 escalation roster, and a tabletop exercise before the next ping test and the next African Union exchange of contacts.",
		mods(training, advice), langs("en"), 60_000, 1, 6, med, gci(3, 4), donorsOnly, open},

	// Kenya
	{"cert-maturity", "KE", orgKE, models.CapCERTMaturity,
		"Bring the National KE-CIRT/CC and sector CERT coordination to SIM3 level 3",
		"The National KE-CIRT/CC coordinates incident response for government and the private sector. " +
			"To reach SIM3 level 3 we need formalised procedures with sector CERTs (finance, energy, health), a shared threat-intelligence platform, and a mentoring partnership with an established national CERT. " +
			"The support should end with an external SIM3 assessment.",
		mods(mentor, equip, experts), langs("en", "sw"), 900_000, 3, 24, med, sim3(2, 3), public, open},
	{"norms-survey", "KE", orgKE, models.CapNormsImplementation,
		"Map Kenya's implementation of the eleven UN norms and complete the National Survey of Implementation",
		"Kenya wants to report on how it implements the UN norms of responsible state behaviour using the National Survey of Implementation of UN recommendations. " +
			"Requested: a gap analysis against the eleven norms with the Ministry of ICT, the Ministry of Foreign Affairs and the National Computer and Cybercrimes Coordination Committee, and a validation workshop. The survey would be shared with the UN and used to plan further assistance.",
		mods(advice, training), langs("en"), 55_000, 2, 6, med, noScale, public, open},

	// Rwanda
	{"national-exercise", "RW", orgRW, models.CapCyberExercises,
		"Run a national cyber crisis exercise for the financial, energy and telecommunications sectors",
		"The National Cyber Security Authority wants to test the national incident response plan with a two-day tabletop and technical exercise involving Rwanda CSIRT, the central bank, energy and telecommunications operators and government communication staff. " +
			"We ask for exercise design, white-cell support and an after-action review, and for the scenario library to be handed over so that Rwanda can repeat the exercise every year.",
		mods(experts, training), langs("en", "fr"), 180_000, 4, 8, med, cmm(2, 3), public, open},
	{"workforce", "RW", orgRW, models.CapWorkforceEducation,
		"Create a cybersecurity master's specialisation and a certification pathway for public servants",
		"Rwanda's digital transformation plans call for a national pool of cybersecurity professionals. " +
			"With the University of Rwanda we want to build a master's specialisation in cybersecurity, train its teaching staff, and fund vendor-neutral professional certification for 150 public servants over three years.",
		mods(training, funding, mentor), langs("en"), 1_500_000, 8, 36, med, cmm(2, 3), public, open},

	// The Gambia
	{"csirt-setup", "GM", orgGM, models.CapCERTSetup,
		"Establish a national CSIRT for The Gambia with incident coordination services (FIRST CSIRT Services Framework)",
		"The Gambia has no operational national CSIRT: incidents affecting government systems are handled case by case by the ministry's ICT unit. " +
			"We request support to set the team's mandate and legal basis, define its first services according to the FIRST CSIRT Services Framework (information security incident management, vulnerability management, situational awareness), recruit and train eight staff, and equip a small operations room. " +
			"The aim is a team at SIM3 level 2 within two years.",
		mods(experts, training, equip, mentor), langs("en"), 850_000, 3, 24, high, sim3(0, 2), donorsOnly, open},
	{"cybercrime-bill", "GM", orgGM, models.CapCybercrimeLegislation,
		"Finalise The Gambia's cybercrime bill in line with the Budapest and Malabo conventions",
		"A draft cybercrime bill has been reviewed once with help brokered by the GFCE Clearing House. " +
			"We now need legal drafting support to align the substantive offences and procedural powers with the Budapest Convention and the African Union's Malabo Convention, add safeguards consistent with human rights obligations, and hold a consultation with the National Assembly committee and civil society before the bill is tabled.",
		mods(advice, experts), langs("en"), 70_000, 1, 8, high, gci(1, 2), public, open},

	// Sierra Leone
	{"legal-position", "SL", orgSL, models.CapLegalPosition,
		"Prepare Sierra Leone's first national statement on international law in cyberspace",
		"Sierra Leone would like to move from general statements at the UN towards a short national statement on how international law applies in cyberspace. " +
			"We ask for an introductory course for officials of the Ministry of Foreign Affairs and the Law Officers' Department, and for help drafting a first statement. Still being scoped with the Ministry of Foreign Affairs.",
		mods(training, advice), langs("en"), 60_000, 6, 12, low, noScale, public, draft},
	{"cirt-setup", "SL", orgSL, models.CapCERTSetup,
		"Set up Sierra Leone's national computer incident response team",
		"The Cyber Security and Crime Act, 2021 provides for a national incident response capability, but it is not yet operational. " +
			"We need help to design the team's organisation and constituency, define its initial services (incident handling, alerts and warnings, awareness), procure a secure operations room and tooling, and train the first analysts, with a mentoring partner for the first two years.",
		mods(experts, equip, training), langs("en"), 1_100_000, 5, 30, high, sim3(0, 2), restricted, submitted},
	{"strategy", "SL", orgSL, models.CapNationalStrategy,
		"Adopt a national cybersecurity strategy with a costed implementation plan",
		"A draft strategy was prepared some years ago but never adopted. " +
			"We ask for a facilitator to update the draft with ministries, the central bank and telecommunications operators, cost the action plan, and set up governance (a national cybersecurity council and a national coordinator), using the ITU guide to developing a national cybersecurity strategy and a CMM review as the baseline.",
		mods(advice, experts), langs("en"), 160_000, 2, 12, high, cmm(1, 3), public, open},

	// Tunisia
	{"strategy", "TN", orgTN, models.CapNationalStrategy,
		"Develop Tunisia's national cybersecurity strategy and its governance",
		"The 2023 decree-law on cybersecurity created the Agence nationale de la cybersécurité and calls for a national strategy. " +
			"We want a participatory process with ministries, regulators, operators and universities: a CMM-based review, drafting of the strategy and its action plan, and a study visit to a national cybersecurity agency that has been through the same process. Work in French and Arabic.",
		mods(advice, experts, visit), langs("fr", "ar"), 220_000, 3, 14, high, cmm(2, 3), public, open},
	{"iso27001", "TN", orgTN, models.CapStandardsAdoption,
		"Support ISO/IEC 27001 certification of government data centres and critical operators",
		"The national agency's audit programme shows that few public data centres have a documented information security management system. " +
			"We request lead-implementer and lead-auditor training for 40 staff and coaching of three pilot organisations through ISO/IEC 27001 certification.",
		mods(training, experts), langs("fr", "ar"), 350_000, 6, 18, med, gci(3, 4), public, submitted},

	// Morocco
	{"vital-systems", "MA", orgMA, models.CapCIIP,
		"Extend protection of vital information systems to health and water operators",
		"Law 05-20 on cybersecurity requires operators of vital importance to apply the national security directive for their critical information systems. " +
			"Hospitals and water utilities have joined the list recently and lack the skills to comply. We seek a sector-specific risk assessment method, compliance audits for twelve operators and training of their information security officers.",
		mods(experts, training), langs("fr", "ar"), 600_000, 5, 18, med, cmm(3, 4), donorsOnly, open},
	{"youth-skills", "MA", orgMA, models.CapWorkforceEducation,
		"Train young graduates in cybersecurity through regional digital training centres",
		"We plan a three-year programme to train 1,000 young graduates as security analysts in regional training centres, with internships in public administrations and operators. " +
			"Support is sought for curricula, instructor training and scholarships. The request is still being costed.",
		mods(training, funding), langs("fr", "ar"), 800_000, 7, 24, low, cmm(3, 4), public, draft},

	// Benin
	{"scam-awareness", "BJ", orgBJ, models.CapAwareness,
		"Nationwide awareness campaign against mobile money fraud and online scams",
		"The Agence des systèmes d'information et du numérique and bjCSIRT want to reach citizens, small businesses and public servants with a campaign in French and national languages on mobile money fraud, phishing and account takeover. " +
			"We ask for campaign design, radio and social media production, and a survey before and after to measure its effect.",
		mods(funding, training), langs("fr", "yo"), 150_000, 2, 12, med, cmm(2, 3), public, open},

	// Zambia
	{"poc-nomination", "ZM", orgZM, models.CapPoCReadiness,
		"Nominate and exercise PoCs for the UN Global PoC Directory ping tests",
		"Zambia has not yet nominated its diplomatic and technical Points of Contact to the UN Global Intergovernmental Points of Contact Directory. " +
			"We ask for help to agree roles between the Ministry of Foreign Affairs and International Cooperation, the Zambia Information and Communications Technology Authority and ZM-CIRT, write the nomination and escalation procedures, and prepare staff for their first ping test.",
		mods(advice, training), langs("en"), 45_000, 1, 6, high, noScale, donorsOnly, open},

	// Fiji
	{"legal-position", "FJ", orgFJ, models.CapLegalPosition,
		"Develop Fiji's national position on international law applicable to cyberspace",
		"Fiji wants to articulate how international law applies to cyberspace, with attention to the protection of critical infrastructure in small island states and to state responsibility. " +
			"We ask for legal training of officials from Foreign Affairs, the Solicitor-General's Office and Defence, and expert drafting support over a year; the position would be presented at the permanent UN mechanism.",
		mods(training, advice, experts), langs("en"), 85_000, 2, 12, med, noScale, public, open},
	{"norms-policy", "FJ", orgFJ, models.CapNormsImplementation,
		"Translate the UN norms of responsible state behaviour into Fiji's national cyber policy",
		"We want to check national policy and practice against the eleven UN norms (in particular protection of critical infrastructure, protection of CERTs and responsible reporting of ICT vulnerabilities) and to prepare a short progress report for the UN. Requested: two workshops and a policy adviser for six months.",
		mods(advice, training), langs("en"), 50_000, 4, 9, low, noScale, public, submitted},

	// Papua New Guinea
	{"strategy", "PG", orgPG, models.CapNationalStrategy,
		"Turn Papua New Guinea's cyber security policy into a costed national strategy",
		"Papua New Guinea has a national cyber security policy but no strategy with responsibilities, timelines and a budget. " +
			"We ask for a strategy adviser to work with the Department of ICT, the Department of Prime Minister and NEC and sector regulators, and for a CMM review to set the baseline.",
		mods(advice, experts), langs("en"), 240_000, 3, 12, high, cmm(1, 2), public, open},
	{"cert-setup", "PG", orgPG, models.CapCERTSetup,
		"Establish a national CERT with 24/7 incident reporting for government networks",
		"Government agencies have no single place to report incidents and no team that can coordinate a response across agencies. " +
			"We request the design and establishment of a national CERT: mandate, services, staffing plan, a 24/7 reporting line, secure facilities and tooling, and training of the first twelve staff, with links to the Pacific Cyber Security Operational Network (PaCSON).",
		mods(experts, equip, training, mentor), langs("en"), 1_400_000, 4, 30, high, sim3(0, 2), restricted, open},

	// Vanuatu
	{"csirt-setup", "VU", orgVU, models.CapCERTSetup,
		"Establish a fully staffed national CSIRT for Vanuatu with PaCSON support",
		"Vanuatu's incident response relies on a very small team in the Office of the Government Chief Information Officer. " +
			"We need to establish a national CSIRT with a clear mandate, at least six trained analysts, a case management system and an agreement with a mentoring CERT in the Pacific Cyber Security Operational Network. Working languages English and French.",
		mods(experts, training, equip), langs("en", "fr"), 700_000, 2, 24, high, sim3(0, 2), donorsOnly, open},
	{"cybercrime-act-review", "VU", orgVU, models.CapCybercrimeLegislation,
		"Review Vanuatu's Cybercrime Act and prepare accession to the Budapest Convention",
		"Vanuatu wants to check its cybercrime legislation against the Budapest Convention and the UN Convention against Cybercrime and to prepare the request to accede to the Budapest Convention. " +
			"We ask for a legal gap analysis, drafting of amendments on procedural powers and safeguards, and a briefing for Parliament.",
		mods(advice, experts), langs("en", "fr"), 65_000, 3, 10, med, gci(2, 3), public, open},

	// Tonga
	{"poc-nomination", "TO", orgTO, models.CapPoCReadiness,
		"Nominate Tonga's Points of Contact and prepare them for UN and Pacific exercises",
		"Tonga has not yet nominated Points of Contact to the UN directory. " +
			"We need help to designate a diplomatic PoC and a technical PoC at CERT Tonga, agree how they reach each other out of hours, and rehearse a ping test together with Pacific neighbours.",
		mods(advice, training), langs("en", "to"), 40_000, 2, 6, med, noScale, restricted, open},

	// Samoa
	{"cert-setup", "WS", orgWS, models.CapCERTSetup,
		"Establish a national CERT for Samoa with a permanent mandate and budget",
		"Samoa's incident response has depended on project staff. " +
			"We need the national CERT to be established in law with a permanent budget, a service catalogue following the FIRST CSIRT Services Framework, trained staff and an incident reporting portal for government and operators.",
		mods(experts, training, equip), langs("en", "sm"), 600_000, 5, 24, high, sim3(0, 2), donorsOnly, open},
	{"cyber-safety", "WS", orgWS, models.CapAwareness,
		"Cyber safety campaign for schools, churches and village councils",
		"Online scams and harassment reach Samoan families through social media. " +
			"We ask for a cyber safety campaign in Samoan and English delivered through schools, churches and village councils, with teaching materials and a train-the-trainer course for teachers and community leaders.",
		mods(training, funding), langs("sm", "en"), 90_000, 3, 12, med, cmm(1, 2), public, open},

	// Cambodia
	{"poc-arf", "KH", orgKH, models.CapPoCReadiness,
		"Exercise Cambodia's Points of Contact for the UN directory and the ARF PoC directory",
		"Cambodia's PoCs are nominated but have not yet taken part in a ping test. " +
			"We ask for a workshop on procedures between the Ministry of Foreign Affairs and International Cooperation and CamCERT, a tabletop exercise, and support to take part in the next UN ping test and the ASEAN Regional Forum PoC exercise.",
		mods(training, advice), langs("km", "en"), 70_000, 3, 9, med, gci(2, 3), donorsOnly, open},
	{"fraud-investigation", "KH", orgKH, models.CapLawEnforcementTraining,
		"Train police and prosecutors to investigate cyber-enabled fraud and secure cross-border evidence",
		"Investigators and prosecutors face large cyber-enabled fraud cases with victims abroad. " +
			"We request training on open-source investigation, cryptocurrency tracing, preservation requests to service providers and mutual legal assistance, for 60 police officers and 20 prosecutors.",
		mods(training), langs("km", "en"), 320_000, 4, 18, high, noScale, public, open},

	// Lao PDR
	{"poc-nomination", "LA", orgLA, models.CapPoCReadiness,
		"Nominate and train the Lao PDR's technical and diplomatic Points of Contact",
		"We would like to nominate our Points of Contact to the UN directory and the ASEAN Regional Forum directory, with LaoCERT as technical PoC. " +
			"We ask for training of both PoCs, written procedures and a first exercise.",
		mods(training, advice), langs("lo", "en"), 55_000, 2, 6, med, noScale, restricted, submitted},

	// Sri Lanka
	{"poc-drill", "LK", orgLK, models.CapPoCReadiness,
		"Run a national PoC drill linking Sri Lanka CERT and the Ministry of Foreign Affairs",
		"Sri Lanka's PoCs are nominated and answered the first ping test, but the hand-over between the diplomatic PoC and Sri Lanka CERT|CC outside office hours has never been tested. " +
			"We ask for a one-day drill, a review of the procedures and a short course for stand-by officers.",
		mods(training), langs("en", "si", "ta"), 48_000, 1, 4, med, noScale, public, open},

	// Dominican Republic
	{"legal-position", "DO", orgDO, models.CapLegalPosition,
		"Prepare the Dominican Republic's national position on international law in cyberspace",
		"The Ministry of Foreign Affairs and the Centro Nacional de Ciberseguridad want to prepare a national position drawing on the work of the OAS Inter-American Juridical Committee and on other positions published in the region. " +
			"We request training for government lawyers and diplomats, drafting support and a national consultation. Working language Spanish.",
		mods(training, advice, experts), langs("es"), 95_000, 3, 12, med, noScale, public, open},
	{"oas-cbms", "DO", orgDO, models.CapCBMImplementation,
		"Implement the OAS cyber confidence-building measures and publish a national contact list",
		"We want to implement the confidence-building measures adopted in the OAS framework: designate national contacts, share information on national policies and institutions, and take part in regional exercises. " +
			"Support requested for an implementation plan and a workshop with the relevant agencies.",
		mods(advice, training), langs("es"), 80_000, 2, 9, low, noScale, public, open},

	// Jamaica
	{"cybercrime-training", "JM", orgJM, models.CapLawEnforcementTraining,
		"Build a cybercrime investigation and prosecution curriculum for police and prosecutors",
		"Cases under the Cybercrimes Act are rising, and the Jamaica Constabulary Force and the Office of the Director of Public Prosecutions want a permanent curriculum rather than one-off courses. " +
			"We ask for curriculum design, training of national trainers and a first cohort of 40 investigators and prosecutors.",
		mods(training, mentor), langs("en"), 250_000, 5, 18, med, cmm(2, 3), public, open},

	// Costa Rica
	{"national-exercise", "CR", orgCR, models.CapCyberExercises,
		"Design and run Costa Rica's annual national cyber exercise",
		"After the 2022 ransomware crisis that disrupted public services, Costa Rica wants a yearly national exercise that tests the coordination between CSIRT-CR, ministries, the social security fund and critical operators. " +
			"We request scenario design, facilitation and an after-action process, and training of a national exercise team.",
		mods(experts, training), langs("es"), 200_000, 4, 12, high, cmm(2, 3), public, open},

	// Paraguay
	{"legal-position", "PY", orgPY, models.CapLegalPosition,
		"Prepare Paraguay's national position on international law in cyberspace",
		"Paraguay is considering a national position on how international law applies in cyberspace. " +
			"We would ask for an introductory seminar for the Ministry of Foreign Affairs and MITIC and for drafting support. The request is being discussed internally.",
		mods(training, advice), langs("es"), 70_000, 5, 10, low, noScale, public, draft},
	{"forensics-unit", "PY", orgPY, models.CapDigitalForensics,
		"Equip and accredit a digital forensics unit for the Public Prosecutor's Office",
		"The Public Prosecutor's Office has a specialised cybercrime unit but sends most devices abroad or to private laboratories. " +
			"We request forensic workstations and software, procedures for chain of custody, and training of eight examiners towards accreditation.",
		mods(equip, training), langs("es"), 750_000, 6, 24, med, cmm(1, 3), public, open},

	// Ecuador
	{"egsi", "EC", orgEC, models.CapStandardsAdoption,
		"Roll out the government information security scheme (EGSI) aligned with ISO/IEC 27001",
		"Ecuador's Government Information Security Scheme (EGSI) is mandatory for central government, but most institutions lack the people to implement it. " +
			"We request an implementation toolkit, training of information security officers in 60 institutions and a compliance monitoring dashboard.",
		mods(training, experts), langs("es"), 300_000, 3, 18, med, gci(2, 3), public, open},
	{"poc-operations", "EC", orgEC, models.CapPoCReadiness,
		"Operationalise Ecuador's PoCs for the UN directory and the OAS network",
		"Ecuador's Points of Contact are nominated. We need operating procedures between the Ministry of Foreign Affairs and EcuCERT, a contact roster kept up to date, and participation in a regional ping test and tabletop exercise.",
		mods(training, advice), langs("es", "en"), 45_000, 1, 6, med, noScale, donorsOnly, open},

	// Guatemala
	{"csirt-setup", "GT", orgGT, models.CapCERTSetup,
		"Establish Guatemala's national CSIRT under the national cybersecurity strategy",
		"Guatemala's national cybersecurity strategy foresees a national CSIRT, which does not yet exist. " +
			"We need help to define its legal basis and institutional home, its services according to the FIRST CSIRT Services Framework, staffing, a secure facility and the first year of mentoring.",
		mods(experts, equip, training, mentor), langs("es"), 950_000, 4, 30, high, sim3(0, 2), donorsOnly, open},
	{"digital-safety", "GT", orgGT, models.CapAwareness,
		"Digital safety awareness campaign on online fraud for citizens and small businesses",
		"A campaign on online fraud, extortion and account takeover is planned with the national police and the banking association. " +
			"The request is in preparation: we expect to ask for campaign design and production support.",
		mods(funding, training), langs("es"), 120_000, 6, 12, low, noScale, public, draft},

	// Honduras
	{"csirt-setup", "HN", orgHN, models.CapCERTSetup,
		"Create a national CSIRT for Honduras with a government constituency",
		"Honduras has no national CSIRT. We request support to define the mandate and governance of a national CSIRT serving government institutions first, recruit and train its staff, set up tools and reporting channels, and connect it with CSIRT Americas.",
		mods(experts, training, equip), langs("es"), 800_000, 5, 24, high, sim3(0, 2), donorsOnly, open},
	{"cybercrime-law", "HN", orgHN, models.CapCybercrimeLegislation,
		"Draft comprehensive cybercrime legislation for Honduras",
		"Honduras's criminal code covers only a few computer offences and gives investigators no specific procedural powers for electronic evidence. " +
			"We ask for legal drafting assistance towards a cybercrime law consistent with the Budapest Convention, and consultations with Congress, the judiciary and civil society.",
		mods(advice, experts), langs("es"), 90_000, 2, 12, high, gci(1, 2), public, open},

	// Moldova
	{"legal-position", "MD", orgMD, models.CapLegalPosition,
		"Prepare the Republic of Moldova's national position on the application of international law in cyberspace",
		"The Ministry of Foreign Affairs wants to publish a national position, in line with the positions of EU Member States, as part of the Republic of Moldova's work on cyber resilience. " +
			"We request expert drafting support, a seminar for government lawyers and a review by international law scholars. Working languages Romanian and English.",
		mods(experts, advice, training), langs("ro", "en"), 80_000, 2, 9, med, noScale, public, open},
	{"csirt-maturity", "MD", orgMD, models.CapCERTMaturity,
		"Mature Moldova's national CSIRT to SIM3 level 3 and Trusted Introducer listing",
		"The national CSIRT has grown quickly under the new cybersecurity law. " +
			"We need a SIM3 assessment, formal procedures for incident handling and information sharing with operators of essential services, and mentoring towards Trusted Introducer listing and FIRST membership.",
		mods(mentor, experts, training), langs("ro", "en"), 700_000, 3, 24, high, sim3(2, 3), donorsOnly, open},
	{"osce-cbms", "MD", orgMD, models.CapCBMImplementation,
		"Implement the OSCE cyber/ICT confidence-building measures and update national contacts",
		"We want to implement the OSCE confidence-building measures more fully: keep the OSCE contact list current, share national terminology and policies, and take part in OSCE communication checks. Support requested for a short implementation plan and an inter-agency workshop.",
		mods(advice, training), langs("ro", "ru", "en"), 60_000, 1, 9, med, noScale, public, submitted},

	// Georgia
	{"sector-exercise", "GE", orgGE, models.CapCyberExercises,
		"Cross-sector cyber exercise with CERT-GOV-GE and critical information system subjects",
		"We want to run a technical and decision-making exercise with the government CERT, the energy, finance and transport operators designated as critical information system subjects, and the crisis management centre. " +
			"Requested: scenario design, a cyber range for the technical part and an after-action review.",
		mods(experts, training), langs("ka", "en"), 230_000, 4, 10, med, cmm(3, 4), public, open},
	{"minimum-requirements", "GE", orgGE, models.CapStandardsAdoption,
		"Apply minimum information security requirements based on ISO/IEC 27001 to critical information system subjects",
		"The Law on Information Security sets minimum requirements for critical information system subjects. " +
			"We request audit methodology, training of auditors and help to align the requirements with ISO/IEC 27001 and the EU NIS2 directive.",
		mods(training, advice), langs("ka", "en"), 280_000, 5, 18, med, cmm(3, 4), public, open},

	// Armenia
	{"cert-setup", "AM", orgAM, models.CapCERTSetup,
		"Establish a governmental national CERT for Armenia",
		"Armenia has no governmental national CERT; incident response relies on non-governmental teams and on individual institutions. " +
			"We request a feasibility study, legal basis, organisation and staffing plan, tooling and training for a governmental CERT that can act as national point of contact.",
		mods(experts, equip, training), langs("hy", "en"), 1_000_000, 6, 30, high, sim3(0, 2), restricted, submitted},
	{"norms-cii", "AM", orgAM, models.CapNormsImplementation,
		"Put the UN norms on critical infrastructure and vulnerability disclosure into national practice",
		"We want to implement two of the UN norms in practice: a policy protecting critical infrastructure from malicious ICT activity and a coordinated vulnerability disclosure policy for government systems. Requested: policy drafting and a workshop with operators and researchers.",
		mods(advice, training), langs("hy", "en"), 70_000, 3, 9, med, noScale, public, open},

	// Ukraine
	{"energy-ot", "UA", orgUA, models.CapCIIP,
		"Harden energy-sector OT networks and incident reporting for critical infrastructure operators",
		"Energy operators face sustained attacks on their operational technology. " +
			"We request OT network monitoring for regional distribution companies, training of their security teams, and support to the national incident reporting system for critical infrastructure operators.",
		mods(equip, training, experts), langs("uk", "en"), 2_000_000, 1, 24, high, cmm(3, 4), donorsOnly, open},
	{"attack-forensics", "UA", orgUA, models.CapDigitalForensics,
		"Digital forensics capacity to investigate cyber attacks against civilian infrastructure",
		"Investigators need to document cyber attacks against civilian infrastructure to a standard that supports prosecution. " +
			"We request forensic tooling, training in memory and network forensics and evidence-handling procedures agreed with the prosecution service.",
		mods(equip, training), langs("uk", "en"), 900_000, 2, 18, high, cmm(3, 4), donorsOnly, open},

	// Albania
	{"workforce", "AL", orgAL, models.CapWorkforceEducation,
		"Cybersecurity workforce programme with Albanian universities",
		"After the 2022 attacks on government systems, the National Cyber Security Authority wants to grow the pool of security professionals. " +
			"With three universities we plan a bachelor's module in cybersecurity, a capture-the-flag league and internships at the Authority; we seek curriculum support and funding for lab equipment.",
		mods(training, funding, equip), langs("sq", "en"), 450_000, 7, 24, med, cmm(2, 3), public, open},
	{"osce-cbms", "AL", orgAL, models.CapCBMImplementation,
		"Implement OSCE cyber confidence-building measures, including national terminology and contact lists",
		"Albania wants to contribute fully to the OSCE confidence-building measures: publish its national terminology and policy documents, keep the contact list current and take part in communication checks. Support requested for an inter-agency workshop and drafting.",
		mods(advice, training), langs("sq", "en"), 50_000, 2, 6, low, noScale, public, open},
	{"poc-drills", "AL", orgAL, models.CapPoCReadiness,
		"Run PoC communication drills between the National Cyber Security Authority and the Ministry for Europe and Foreign Affairs",
		"Albania's PoCs are nominated. We want quarterly drills of the procedure between the technical and diplomatic PoCs, an out-of-hours roster, and participation in UN and OSCE communication checks.",
		mods(training), langs("sq", "en"), 45_000, 2, 5, med, gci(3, 4), restricted, open},
}

// needs builds the needs. Each was posted on its own day over the past two months and
// reviewed a day later (drafts only saved), so that lists sorted by date look natural.
func (c clock) needs() []models.Need {
	out := make([]models.Need, 0, len(needTable))
	for i, s := range needTable {
		theme, _ := models.CapabilityTheme(s.cap)
		daysAgo := 2 + (i*17)%63 // distinct for every row: 17 and 63 are coprime
		created := c.ago(daysAgo, 8+(i*5)%9, (i*7)%60)
		updated := created.Add(2 * time.Hour)
		if s.status != models.NeedDraft {
			updated = created.AddDate(0, 0, 1)
		}
		out = append(out, models.Need{
			ID:             "need-" + strings.ToLower(s.country) + "-" + s.key,
			Title:          s.title,
			Description:    s.desc,
			Lang:           "en", // the demo's needs are written in English; a few carry translations
			Translations:   needTranslations["need-"+strings.ToLower(s.country)+"-"+s.key],
			Country:        s.country,
			Theme:          theme,
			Capability:     s.cap,
			Modalities:     append([]models.Modality(nil), s.mods...),
			Languages:      strs(s.langs),
			BudgetUSD:      s.budget,
			StartBy:        c.today.AddMonths(s.startIn),
			DurationMonths: s.months,
			Priority:       s.prio,
			Maturity:       s.mat,
			Visibility:     s.vis,
			Status:         s.status,
			OrganizationID: s.org,
			CreatedBy:      s.org,
			CreatedAt:      created,
			UpdatedAt:      updated,
			Version:        1,
		})
	}
	return out
}

// needTranslations are the translations a few demo needs carry, so that readers of French and
// Spanish see them in their language and the others see the English original, marked.
var needTranslations = map[string]map[string]models.Translation{
	"need-sn-legal-position": {"fr": {Title: "Rédiger et publier la position nationale du Sénégal sur le droit international dans le cyberespace",
		Description: "Le Sénégal souhaite préparer, valider et publier sa position nationale sur l'application du droit international au cyberespace."}},
	"need-py-forensics-unit": {"es": {Title: "Equipar y acreditar una unidad de informática forense para el Ministerio Público",
		Description: "El Ministerio Público necesita un laboratorio forense digital equipado y acreditado."}},
}
