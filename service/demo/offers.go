package demo

import "github.com/capmatch/capmatch/models"

// offerSpec is one row of the offer table; the window is relative to today's month.
type offerSpec struct {
	key       string // the ID is "offer-<key>"
	org       string
	title     string
	desc      string
	caps      []models.Capability
	mods      []models.Modality
	langs     []string
	countries []string
	regions   []string
	budget    int64
	max       int
	fromIn    int // available from the first day of the month fromIn months from now (negative: already running)
	months    int // window length in whole months
	status    models.OfferStatus
}

// caps keeps the table readable.
func caps(c ...models.Capability) []models.Capability { return c }

// UN M49 codes the demo offers are eligible for, named for the table.
const (
	m49Africa         = "002"
	m49Asia           = "142"
	m49Oceania        = "009"
	m49WesternAfrica  = "011"
	m49MiddleAfrica   = "017"
	m49SouthernAsia   = "034"
	m49SouthEastAsia  = "035"
	m49EasternEurope  = "151"
	m49LatinAmericaCb = "419"
)

// offerTable lists the 25 demo offers: global facilities, regional programmes for Africa,
// the Pacific, Latin America and the Caribbean and Eastern Europe, and a few with explicit
// country lists, from every kind of donor. Each can serve at least three demo needs.
var offerTable = []offerSpec{
	// Netherlands
	{"nl-legal-positions", orgNL,
		"International law in cyberspace: national positions support facility",
		"Supports governments that want to set out how international law applies to state conduct in cyberspace. " +
			"The facility funds a senior international lawyer for drafting workshops, a comparative briefing on published national positions and the Common African Position, and a peer review before adoption. " +
			"It also helps countries report on their implementation of the UN norms. Available in English, French and Spanish.",
		caps(models.CapLegalPosition, models.CapNormsImplementation), mods(advice, experts, training), langs("en", "fr", "es"),
		nil, nil, 1_200_000, 6, -2, 30, models.OfferOpen},
	{"nl-diplomacy-fellowships", orgNL,
		"Cyber diplomacy fellowships for Points of Contact and negotiators",
		"Fellowships for diplomats and technical officials who serve as national Points of Contact or represent their country in UN and regional cyber processes: a two-week course on the UN framework of responsible state behaviour, a study visit to a foreign ministry and a national CERT, and a year of mentoring. " +
			"Alumni help their countries nominate and exercise PoCs and implement confidence-building measures.",
		caps(models.CapPoCReadiness, models.CapCBMImplementation, models.CapNormsImplementation), mods(training, visit, mentor), langs("en", "fr", "es"),
		nil, nil, 600_000, 10, 1, 24, models.OfferOpen},

	// EU CyberNet
	{"eu-cybernet-experts", orgEU,
		"EU CyberNet expert pool: short-term expert deployments",
		"Short-term deployments of experts from the EU CyberNet pool, from a few days to several weeks, to help partner countries draft strategies and laws, design or assess a national CSIRT, or organise the protection of critical information infrastructure. " +
			"Requests are answered within weeks; experts work remotely and on site.",
		caps(models.CapNationalStrategy, models.CapCERTSetup, models.CapCERTMaturity, models.CapCIIP, models.CapCybercrimeLegislation),
		mods(experts, advice, training), langs("en", "fr", "es", "pt"),
		nil, nil, 3_000_000, 10, -4, 36, models.OfferOpen},
	{"eu-lac-competence", orgEU,
		"Latin America and Caribbean cyber competence centre: courses and exercises",
		"Regional courses, cyber range exercises and study visits for CSIRT staff, investigators and public servants of Latin America and the Caribbean, delivered in Spanish and English by a regional competence centre with EU support. " +
			"Covers CSIRT set-up and operations, national exercises, digital forensics and awareness programmes.",
		caps(models.CapCERTSetup, models.CapCERTMaturity, models.CapCyberExercises, models.CapDigitalForensics, models.CapAwareness, models.CapWorkforceEducation),
		mods(training, visit, mentor), langs("es", "en", "pt"),
		nil, []string{m49LatinAmericaCb}, 1_500_000, 8, -1, 30, models.OfferOpen},
	{"eu-cyber-resilience", orgEU,
		"Cyber resilience for development: CERT and critical infrastructure twinning",
		"Twinning between partner-country CERTs and critical infrastructure authorities and their European counterparts in Africa and Asia: embedded experts, mentoring, tooling and joint exercises over up to three years.",
		caps(models.CapCERTSetup, models.CapCERTMaturity, models.CapCIIP, models.CapCyberExercises),
		mods(experts, mentor, training, equip), langs("en", "fr"),
		nil, []string{m49Africa, m49Asia}, 5_000_000, 6, 0, 36, models.OfferOpen},

	// World Bank-administered trust fund
	{"wb-readiness-grants", orgWB,
		"Cybersecurity Multi-Donor Trust Fund: national cyber readiness grants",
		"Grants and technical assistance for countries building the foundations of cybersecurity alongside digital development projects: national strategies and governance, critical information infrastructure protection, national CSIRTs and workforce development. " +
			"Grants are usually combined with World Bank-financed digital projects.",
		caps(models.CapNationalStrategy, models.CapCIIP, models.CapCERTSetup, models.CapWorkforceEducation),
		mods(funding, advice), langs("en", "fr", "es"),
		nil, nil, 8_000_000, 6, -3, 36, models.OfferOpen},
	{"wb-dpi-security", orgWB,
		"Security of digital public infrastructure: standards and critical systems window",
		"A planned funding window for the security of digital public infrastructure (digital identity, payments, data exchange): adoption of security standards and protection of the systems that run it. Not yet open for requests.",
		caps(models.CapStandardsAdoption, models.CapCIIP),
		mods(funding, experts), langs("en", "fr", "es"),
		nil, nil, 4_000_000, 5, 3, 24, models.OfferDraft},

	// OAS
	{"oas-csirt-americas", orgOAS,
		"OAS CICTE Cyber Security Program: CSIRT development in the Americas",
		"Technical assistance to OAS member states to create and strengthen national CSIRTs: organisational design, training of analysts, equipment, national exercises and membership of the CSIRT Americas network.",
		caps(models.CapCERTSetup, models.CapCERTMaturity, models.CapCyberExercises),
		mods(training, experts, mentor, equip), langs("es", "en"),
		nil, []string{m49LatinAmericaCb}, 1_200_000, 5, -2, 24, models.OfferOpen},
	{"oas-cbms-diplomacy", orgOAS,
		"OAS cyber diplomacy and confidence-building measures training",
		"Training and policy advice for foreign ministries and national cyber authorities on the OAS cyber confidence-building measures, national Points of Contact, the UN norms and international law in cyberspace, including the drafting of national positions.",
		caps(models.CapCBMImplementation, models.CapPoCReadiness, models.CapLegalPosition, models.CapNormsImplementation),
		mods(training, advice), langs("es", "en"),
		nil, []string{m49LatinAmericaCb}, 450_000, 6, 0, 18, models.OfferOpen},

	// African Union Commission
	{"au-cyber-diplomacy", orgAUC,
		"African Union support for cyber diplomacy and the Common African Position",
		"Training and advice for AU member states on the Common African Position on the application of international law to cyberspace, national positions, the UN norms and Points of Contact, with study visits between member states.",
		caps(models.CapLegalPosition, models.CapNormsImplementation, models.CapPoCReadiness),
		mods(training, advice, visit), langs("en", "fr", "ar", "pt"),
		nil, []string{m49Africa}, 900_000, 8, 1, 24, models.OfferOpen},
	{"au-malabo-cybercrime", orgAUC,
		"Cybercrime legislation and criminal justice capacity in line with the Malabo Convention",
		"Legal drafting support and criminal justice training for AU member states harmonising their cybercrime laws with the African Union Convention on Cyber Security and Personal Data Protection, including electronic evidence and forensic procedures.",
		caps(models.CapCybercrimeLegislation, models.CapLawEnforcementTraining, models.CapDigitalForensics),
		mods(advice, experts, training), langs("en", "fr", "ar", "pt"),
		nil, []string{m49Africa}, 500_000, 4, -1, 24, models.OfferOpen},

	// OSCE
	{"osce-cbm-support", orgOSCE,
		"OSCE cyber/ICT security confidence-building measures: national implementation support",
		"Helps participating States implement the OSCE cyber/ICT security confidence-building measures: national contact lists and communication checks, sharing of terminology and policies, norms implementation and scenario-based exercises.",
		caps(models.CapCBMImplementation, models.CapPoCReadiness, models.CapNormsImplementation, models.CapCyberExercises),
		mods(training, experts, visit), langs("en", "ru"),
		[]string{"AL", "AM", "BA", "GE", "ME", "MK"}, []string{m49EasternEurope}, 350_000, 6, 0, 18, models.OfferOpen},

	// Australia
	{"aus-pacific-cert", orgAUS,
		"Pacific cyber capacity programme: national CERTs, cyber safety and cybercrime law",
		"Support for Pacific island countries to establish and mature national CERTs in cooperation with the Pacific Cyber Security Operational Network, run cyber safety campaigns and modernise cybercrime legislation.",
		caps(models.CapCERTSetup, models.CapCERTMaturity, models.CapAwareness, models.CapCybercrimeLegislation),
		mods(experts, training, equip, mentor), langs("en"),
		nil, []string{m49Oceania}, 2_500_000, 6, -3, 36, models.OfferOpen},
	{"aus-indo-pacific-diplomacy", orgAUS,
		"Indo-Pacific cyber diplomacy: Points of Contact, norms and international law",
		"Workshops, tabletop exercises and advice for Pacific, South-East Asian and South Asian governments on nominating and exercising Points of Contact, implementing the UN norms and confidence-building measures, and developing national positions on international law.",
		caps(models.CapPoCReadiness, models.CapNormsImplementation, models.CapLegalPosition, models.CapCBMImplementation),
		mods(training, advice, visit), langs("en"),
		nil, []string{m49Oceania, m49SouthEastAsia, m49SouthernAsia}, 700_000, 8, 0, 24, models.OfferOpen},

	// Expertise France
	{"fr-francophone-csirt", orgEF,
		"Francophone CSIRT establishment programme",
		"Accompanies African governments in establishing and maturing national CSIRTs: mandate and governance, FIRST CSIRT Services Framework catalogue, recruitment and training of analysts, and SIM3 self-assessment, with embedded experts and mentoring by French-speaking CSIRTs. Delivered in French, or English where needed.",
		caps(models.CapCERTSetup, models.CapCERTMaturity), mods(experts, training, mentor), langs("fr", "en"),
		nil, []string{m49Africa}, 2_000_000, 4, 1, 24, models.OfferOpen},
	{"fr-judicial-west-africa", orgEF,
		"Judicial training on cybercrime and electronic evidence for West and Central Africa",
		"Train-the-trainer courses for national judicial and police training institutes on cybercrime investigation, electronic evidence and international cooperation, plus legal advice on cybercrime laws and forensic procedures.",
		caps(models.CapLawEnforcementTraining, models.CapDigitalForensics, models.CapCybercrimeLegislation), mods(training, mentor), langs("fr", "en"),
		nil, []string{m49WesternAfrica, m49MiddleAfrica}, 1_100_000, 5, -2, 30, models.OfferOpen},

	// Council of Europe
	{"coe-global-cybercrime", orgCoE,
		"Global action on cybercrime: legislation, judicial training and electronic evidence",
		"Helps countries align their cybercrime legislation with the Budapest Convention and its Second Additional Protocol, trains judges, prosecutors and police through national training institutions, and strengthens forensic and electronic evidence procedures.",
		caps(models.CapCybercrimeLegislation, models.CapLawEnforcementTraining, models.CapDigitalForensics),
		mods(advice, training, experts), langs("en", "fr", "es", "pt"),
		nil, nil, 4_000_000, 10, -4, 36, models.OfferOpen},

	// Estonia
	{"ee-eastern-partnership", orgEE,
		"Eastern Partnership cyber resilience: CERTs, critical infrastructure and exercises",
		"Peer support from Estonian practitioners for Eastern Partnership countries: critical information infrastructure protection, security requirements and standards, national exercises on a cyber range, and CERT maturity.",
		caps(models.CapCIIP, models.CapCyberExercises, models.CapStandardsAdoption, models.CapCERTMaturity),
		mods(experts, visit, training), langs("en", "ru"),
		[]string{"AM", "AZ", "GE", "MD", "UA"}, nil, 1_300_000, 4, 0, 24, models.OfferOpen},
	{"ee-cyber-hygiene", orgEE,
		"Cyber hygiene for digital government: standards and awareness",
		"A planned programme on baseline security standards for government services and awareness of public servants and citizens. Still being designed.",
		caps(models.CapStandardsAdoption, models.CapAwareness),
		mods(training, advice), langs("en"),
		nil, nil, 600_000, 3, 2, 18, models.OfferDraft},

	// Cloud provider skills initiative
	{"cloud-skills-academy", orgCloud,
		"Cloud security skills academy for public servants and students",
		"Free online and instructor-led courses on cloud security, security operations and secure configuration, exam vouchers for professional certification, and awareness materials for public servants. Courses in English, French, Spanish and Portuguese.",
		caps(models.CapWorkforceEducation, models.CapAwareness, models.CapStandardsAdoption),
		mods(training, equip), langs("en", "fr", "es", "pt"),
		nil, nil, 750_000, 10, -1, 24, models.OfferOpen},
	{"cloud-cert-tooling", orgCloud,
		"Security tooling and threat-detection licences for national CERTs",
		"Donated licences for threat detection, log management and case management, with onboarding training, for national CERTs being set up or maturing.",
		caps(models.CapCERTSetup, models.CapCERTMaturity),
		mods(equip, training), langs("en", "fr", "es"),
		nil, nil, 400_000, 8, 0, 12, models.OfferOpen},

	// Foundation
	{"fdn-awareness-grants", orgFound,
		"Small grants for national cyber awareness and skills campaigns",
		"Grants of up to USD 50,000 to governments and their civil society partners for awareness campaigns and for skills initiatives reaching young people and women.",
		caps(models.CapAwareness, models.CapWorkforceEducation),
		mods(funding), langs("en", "fr", "es"),
		nil, nil, 250_000, 6, -1, 18, models.OfferOpen},

	// GFCE partner
	{"gfce-legal-mentoring", orgGFCE,
		"Mentoring for government lawyers drafting national positions on international law",
		"Pairs government lawyers with experienced international law practitioners for the months it takes to draft a national position on international law in cyberspace, and advises on reporting norms implementation. Brokered through the GFCE Clearing House.",
		caps(models.CapLegalPosition, models.CapNormsImplementation),
		mods(mentor, training, advice), langs("en", "fr", "es"),
		nil, nil, 300_000, 5, 0, 24, models.OfferOpen},
	{"gfce-strategy-support", orgGFCE,
		"National cybersecurity strategy development following good-practice guides",
		"Facilitators and experts who guide a government through developing a national cybersecurity strategy, from a CMM-based review to a costed action plan, and through organising critical information infrastructure protection.",
		caps(models.CapNationalStrategy, models.CapCIIP),
		mods(advice, experts), langs("en", "fr", "es"),
		nil, nil, 500_000, 4, -2, 24, models.OfferOpen},

	// Implementer
	{"csirt-peer-mentoring", orgMentors,
		"CSIRT peer mentoring and SIM3 self-assessment",
		"Matches new and growing national CSIRTs with experienced peer teams for a year of mentoring: service definition along the FIRST CSIRT Services Framework, SIM3 self-assessment, playbooks and participation in exercises.",
		caps(models.CapCERTSetup, models.CapCERTMaturity, models.CapCyberExercises),
		mods(mentor, training), langs("en", "fr", "es"),
		nil, nil, 180_000, 6, 0, 24, models.OfferOpen},
}

// offers builds the offers, each published on its own day over the past weeks.
func (c clock) offers() []models.Offer {
	out := make([]models.Offer, 0, len(offerTable))
	for i, s := range offerTable {
		daysAgo := 3 + (i*11)%50 // distinct for every row: 11 and 50 are coprime
		created := c.ago(daysAgo, 9+(i*3)%8, (i*13)%60)
		out = append(out, models.Offer{
			ID:                "offer-" + s.key,
			Title:             s.title,
			Description:       s.desc,
			Lang:              "en",
			Themes:            themesOf(s.caps),
			Capabilities:      append([]models.Capability(nil), s.caps...),
			Modalities:        append([]models.Modality(nil), s.mods...),
			Languages:         strs(s.langs),
			EligibleCountries: strs(s.countries),
			EligibleRegions:   strs(s.regions),
			BudgetUSD:         s.budget,
			MaxEngagements:    s.max,
			AvailableFrom:     c.monthStart(s.fromIn),
			AvailableUntil:    c.monthEnd(s.fromIn + s.months - 1),
			Status:            s.status,
			OrganizationID:    s.org,
			CreatedBy:         s.org,
			CreatedAt:         created,
			UpdatedAt:         created.AddDate(0, 0, 1),
			Version:           1,
		})
	}
	return out
}

// themesOf lists the themes of the capabilities in catalogue order, so that an offer's
// themes always cover its capabilities, as validation requires.
func themesOf(cs []models.Capability) []models.Theme {
	var out []models.Theme
	for _, t := range models.Themes {
		for _, c := range cs {
			if ct, _ := models.CapabilityTheme(c); ct == t {
				out = append(out, t)
				break
			}
		}
	}
	return out
}
