package matching

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// The evaluation set: needs written after public cyber capacity-building cases of the kind
// the GFCE Clearing House brokers (national strategies for Tunisia and Sierra Leone, a CSIRT
// framework for Senegal, cybercrime law for The Gambia, Points-of-Contact readiness in the
// Pacific, national positions on international law in Latin America, ...), ranked against
// one shared pool of offers modelled on the kinds of programme donors run (regional CSIRT
// programmes, Budapest-Convention-aligned cybercrime programmes, strategy advisory, PoC and
// CBM programmes, ...). The offers are illustrative: titles describe the kind of programme,
// and budgets, windows and eligibility are invented, not any real programme's terms.
//
// For each need, "want" is the offer a human broker would propose first, with the reason in
// a comment, decided from the case before running the scorer; "also" grades other offers a
// broker would consider (2 good, 1 acceptable); every other offer counts 0. The test reports
// top-1 accuracy (the broker's pick ranks first) and NDCG@5 with those grades.

// evalToday is the date the set is evaluated at.
const evalToday = "2026-06-01"

type evalOffer struct {
	id, title          string
	themes             []models.Theme
	caps               []models.Capability
	mods               []models.Modality
	langs              []string
	countries, regions []string
	budget, committed  int64
	maxEng, used       int
	from, until        models.Date
	status             models.OfferStatus
}

type evalCase struct {
	name       string
	need       models.Need
	want       string         // the broker's first pick
	also       map[string]int // other relevant offers and their grade
	notes      string         // why the broker picks want
	provenance provenance
}

// provenance says where a case and its labels come from.
type provenance struct {
	basis string // the kind of public case the need is modelled on
	label string // who decided want and also, how and when
}

// labelAuthor is where every label of the set comes from. No label was changed when
// relevance started gating the score; the distractors added then need none.
const labelAuthor = "the set's author, as a broker's first pick and grades with the reason in notes, " +
	"written with the case before the scorer was run (f7cc227, as the set's header says); not reviewed by an outside broker"

// basedOn is the provenance of a case modelled on a kind of public case; the country's
// budget, dates, languages and maturity are invented for the set.
func basedOn(kind string) provenance {
	return provenance{basis: kind + "; budget, dates, languages and maturity invented", label: labelAuthor}
}

const (
	thPolicy   = models.ThemePolicyStrategy
	thIncident = models.ThemeIncidentManagement
	thCrime    = models.ThemeCybercrime
	thCulture  = models.ThemeCultureSkills
	thStd      = models.ThemeStandards
	thDiplo    = models.ThemeDiplomacyNorms

	mTrain  = models.ModTraining
	mExpert = models.ModExpertDeployment
	mFund   = models.ModFunding
	mEquip  = models.ModEquipment
	mMentor = models.ModMentoring
	mVisit  = models.ModStudyVisit
	mPolicy = models.ModPolicyAdvice
)

func themes(t ...models.Theme) []models.Theme           { return t }
func capsOf(c ...models.Capability) []models.Capability { return c }
func modsOf(m ...models.Modality) []models.Modality     { return m }
func strs(s ...string) []string                         { return s }
func maturity(f models.MaturityFramework, cur, tgt int) models.Maturity {
	return models.Maturity{Framework: f, Current: cur, Target: tgt}
}

var evalOffers = []evalOffer{
	{id: "o-fr-csirt", title: "Francophone CSIRT establishment programme", themes: themes(thIncident),
		caps: capsOf(models.CapCERTSetup, models.CapCERTMaturity), mods: modsOf(mExpert, mTrain, mMentor),
		langs: strs("fr", "en"), regions: strs("002"), budget: 2_000_000, committed: 400_000, maxEng: 4, used: 1,
		from: "2026-01-01", until: "2028-12-31"},
	{id: "o-en-csirt-africa", title: "Anglophone Africa CSIRT and exercises programme", themes: themes(thIncident),
		caps: capsOf(models.CapCERTSetup, models.CapCERTMaturity, models.CapCyberExercises), mods: modsOf(mTrain, mMentor, mExpert),
		langs: strs("en"), regions: strs("202"), budget: 1_500_000, committed: 300_000, maxEng: 5, used: 2,
		from: "2026-01-01", until: "2028-06-30"},
	{id: "o-expired-csirt", title: "CSIRT twinning pilot (window over)", themes: themes(thIncident),
		caps: capsOf(models.CapCERTSetup), mods: modsOf(mExpert, mTrain), langs: strs("fr", "en"),
		budget: 500_000, maxEng: 3, from: "2024-01-01", until: "2026-03-31"},
	{id: "o-strategy-global", title: "National cybersecurity strategy advisory facility", themes: themes(thPolicy),
		caps: capsOf(models.CapNationalStrategy, models.CapCIIP), mods: modsOf(mPolicy, mExpert, mVisit),
		langs: strs("en", "fr", "es"), budget: 3_000_000, committed: 1_000_000, maxEng: 10, used: 3,
		from: "2026-01-01", until: "2029-12-31"},
	{id: "o-strategy-francophone", title: "Francophone digital governance and strategy support", themes: themes(thPolicy),
		caps: capsOf(models.CapNationalStrategy), mods: modsOf(mPolicy, mTrain), langs: strs("fr"),
		regions: strs("002"), budget: 600_000, committed: 100_000, maxEng: 3, from: "2026-03-01", until: "2027-12-31"},
	{id: "o-anglo-strategy-africa", title: "Strategy development support for English-speaking Africa", themes: themes(thPolicy),
		caps: capsOf(models.CapNationalStrategy), mods: modsOf(mPolicy, mExpert, mVisit), langs: strs("en"),
		regions: strs("202"), budget: 900_000, committed: 100_000, maxEng: 4, used: 1, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-closed-strategy", title: "Strategy drafting grants (closed)", themes: themes(thPolicy),
		caps: capsOf(models.CapNationalStrategy), mods: modsOf(mPolicy, mFund, mExpert), langs: strs("en", "fr", "ar"),
		budget: 1_000_000, maxEng: 5, from: "2026-01-01", until: "2028-12-31", status: models.OfferClosed},
	{id: "o-coe-cybercrime", title: "Budapest-Convention-aligned cybercrime legislation and justice programme", themes: themes(thCrime),
		caps: capsOf(models.CapCybercrimeLegislation, models.CapLawEnforcementTraining, models.CapDigitalForensics),
		mods: modsOf(mPolicy, mTrain, mExpert), langs: strs("en", "fr", "es", "pt"), budget: 4_000_000, committed: 1_500_000,
		maxEng: 12, used: 5, from: "2026-01-01", until: "2029-06-30"},
	{id: "o-lusophone-cybercrime", title: "Lusophone cybercrime and criminal justice programme", themes: themes(thCrime),
		caps: capsOf(models.CapCybercrimeLegislation, models.CapLawEnforcementTraining), mods: modsOf(mTrain, mExpert, mPolicy),
		langs: strs("pt"), countries: strs("MZ", "AO", "CV", "GW", "ST", "BR", "TL"), budget: 700_000, committed: 100_000,
		maxEng: 5, used: 1, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-le-training", title: "Police cyber investigation training network", themes: themes(thCrime),
		caps: capsOf(models.CapLawEnforcementTraining, models.CapDigitalForensics), mods: modsOf(mTrain, mMentor),
		langs: strs("en", "fr", "es"), budget: 1_500_000, committed: 500_000, maxEng: 10, used: 4,
		from: "2026-01-01", until: "2028-12-31"},
	{id: "o-forensics-lab", title: "Digital forensics laboratory equipment fund", themes: themes(thCrime),
		caps: capsOf(models.CapDigitalForensics), mods: modsOf(mEquip, mFund, mTrain), langs: strs("en", "fr"),
		regions: strs("002", "142"), budget: 2_500_000, committed: 500_000, maxEng: 6, used: 2,
		from: "2026-06-01", until: "2028-12-31"},
	{id: "o-americas-cyber", title: "Cyber security programme for the Americas", themes: themes(thPolicy, thIncident, thDiplo),
		caps: capsOf(models.CapNationalStrategy, models.CapCERTSetup, models.CapCBMImplementation),
		mods: modsOf(mTrain, mPolicy, mExpert), langs: strs("es", "en", "pt"), regions: strs("419"),
		budget: 2_000_000, committed: 800_000, maxEng: 8, used: 3, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-legal-positions", title: "International law in cyberspace: national positions programme", themes: themes(thDiplo),
		caps: capsOf(models.CapLegalPosition, models.CapNormsImplementation), mods: modsOf(mPolicy, mTrain, mVisit),
		langs: strs("en", "es", "fr"), budget: 800_000, committed: 200_000, maxEng: 10, used: 2,
		from: "2026-01-01", until: "2028-12-31"},
	{id: "o-legal-latam", title: "Latin American workshops on national legal positions", themes: themes(thDiplo),
		caps: capsOf(models.CapLegalPosition), mods: modsOf(mPolicy, mTrain), langs: strs("es", "pt"), regions: strs("419"),
		budget: 400_000, committed: 100_000, maxEng: 6, used: 1, from: "2026-03-01", until: "2027-12-31"},
	{id: "o-pacific-poc", title: "Pacific Points-of-Contact readiness and CBM drills", themes: themes(thDiplo),
		caps: capsOf(models.CapPoCReadiness, models.CapCBMImplementation, models.CapCyberExercises),
		mods: modsOf(mTrain, mExpert, mMentor), langs: strs("en", "fr"), regions: strs("009"),
		budget: 1_200_000, committed: 200_000, maxEng: 10, used: 2, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-poc-onboarding", title: "Global PoC directory onboarding and ping-test clinics", themes: themes(thDiplo),
		caps: capsOf(models.CapPoCReadiness, models.CapNormsImplementation), mods: modsOf(mTrain, mPolicy),
		langs: strs("en", "fr", "es", "ar", "ru", "zh"), budget: 300_000, committed: 50_000, maxEng: 30, used: 5,
		from: "2026-01-01", until: "2027-06-30"},
	{id: "o-asean-cbm", title: "South-East Asia CBM, norms and exercises centre", themes: themes(thDiplo, thIncident),
		caps: capsOf(models.CapCBMImplementation, models.CapNormsImplementation, models.CapCyberExercises),
		mods: modsOf(mTrain, mVisit), langs: strs("en"), regions: strs("035"), budget: 1_000_000, committed: 300_000,
		maxEng: 10, used: 4, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-awareness", title: "Cyber hygiene awareness campaigns fund", themes: themes(thCulture),
		caps: capsOf(models.CapAwareness), mods: modsOf(mTrain, mFund), langs: strs("en", "fr", "es", "ar"),
		budget: 500_000, committed: 100_000, maxEng: 10, used: 3, from: "2026-01-01", until: "2027-12-31"},
	{id: "o-workforce-africa", title: "African cyber workforce academy", themes: themes(thCulture),
		caps: capsOf(models.CapWorkforceEducation, models.CapAwareness), mods: modsOf(mTrain, mMentor, mFund),
		langs: strs("en", "fr", "pt"), regions: strs("002"), budget: 1_800_000, committed: 600_000, maxEng: 6, used: 2,
		from: "2026-01-01", until: "2029-12-31"},
	{id: "o-ciip-experts", title: "Critical infrastructure protection expert pool", themes: themes(thIncident),
		caps: capsOf(models.CapCIIP, models.CapCyberExercises, models.CapCERTMaturity), mods: modsOf(mExpert, mPolicy, mTrain),
		langs: strs("en", "fr", "es", "pt"), budget: 2_500_000, committed: 700_000, maxEng: 8, used: 3,
		from: "2026-01-01", until: "2028-12-31"},
	{id: "o-standards", title: "Security standards adoption programme", themes: themes(thStd),
		caps: capsOf(models.CapStandardsAdoption), mods: modsOf(mTrain, mPolicy), langs: strs("en", "fr", "es", "ar", "ru"),
		budget: 700_000, committed: 100_000, maxEng: 8, used: 1, from: "2026-01-01", until: "2028-12-31"},
	{id: "o-arab-cert", title: "Arab region CERT maturity and drills programme", themes: themes(thIncident),
		caps: capsOf(models.CapCERTMaturity, models.CapCyberExercises), mods: modsOf(mTrain, mMentor),
		langs: strs("ar", "en", "fr"), countries: strs("TN", "EG", "JO", "MA", "DZ", "LB", "OM", "MR"),
		budget: 900_000, committed: 200_000, maxEng: 6, used: 1, from: "2026-01-01", until: "2028-06-30"},
}

// evalDistractors are offers that share neither theme nor capability with any case need
// they can reach, and are otherwise as attractive as an offer can be: open in six languages,
// every modality, a large untouched budget, a window covering every case. Each is eligible
// only in regions where no case asks for its theme (TestEvaluationSet checks that every pair
// they form with a case passes the hard constraints only when it is unrelated), so they need
// no grade: they are the offers the issue saw filling top 10s at 50-67 points, such as a
// cybercrime-law programme offered for a national position on international law.
var evalDistractors = []evalOffer{
	distractor("o-x-hygiene", "Global cyber hygiene and digital skills fund", thCulture,
		capsOf(models.CapAwareness, models.CapWorkforceEducation), "019", "009", "035", "150", "011", "015"),
	distractor("o-x-standards", "Standards, certification and testing laboratory fund", thStd,
		capsOf(models.CapStandardsAdoption), "202", "019", "142", "150", "009"),
	distractor("o-x-cert", "CERT twinning and security operations equipment programme", thIncident,
		capsOf(models.CapCERTSetup, models.CapCERTMaturity, models.CapCIIP, models.CapCyberExercises), "009", "035", "145", "013", "029", "017", "018"),
	distractor("o-x-cybercrime", "Cybercrime legislation and prosecutors programme", thCrime,
		capsOf(models.CapCybercrimeLegislation, models.CapLawEnforcementTraining, models.CapDigitalForensics), "009", "035", "145", "150", "005", "013", "015"),
	distractor("o-x-diplomacy", "Cyber diplomacy, norms and confidence-building academy", thDiplo,
		capsOf(models.CapLegalPosition, models.CapNormsImplementation, models.CapCBMImplementation, models.CapPoCReadiness), "015", "014", "145", "151", "017", "018"),
	distractor("o-x-strategy", "National cyber strategy and governance facility", thPolicy,
		capsOf(models.CapNationalStrategy), "019", "009", "142", "150", "014", "017", "018"),
}

func distractor(id, title string, th models.Theme, caps []models.Capability, regions ...string) evalOffer {
	return evalOffer{id: id, title: title, themes: themes(th), caps: caps,
		mods:  modsOf(mTrain, mExpert, mFund, mEquip, mMentor, mVisit, mPolicy),
		langs: strs("en", "fr", "es", "ar", "pt", "ru"), regions: regions, budget: 10_000_000, maxEng: 50,
		from: "2026-01-01", until: "2030-12-31"}
}

func needOf(id, country string, c models.Capability, mods []models.Modality, langs []string, budget int64,
	start models.Date, months int, p models.Priority, m models.Maturity) models.Need {
	t, _ := models.CapabilityTheme(c)
	return models.Need{ID: id, Country: country, Theme: t, Capability: c, Modalities: mods, Languages: langs,
		BudgetUSD: budget, StartBy: start, DurationMonths: months, Priority: p, Maturity: m,
		Visibility: models.VisibilityPublic, Status: models.NeedOpen}
}

var none = models.Maturity{Framework: models.FrameworkNone}

var evalCases = []evalCase{
	{name: "Tunisia national strategy",
		need: needOf("tn-strategy", "TN", models.CapNationalStrategy, modsOf(mPolicy, mExpert), strs("fr", "ar"), 300_000, "2026-10-01", 12, models.PriorityHigh, maturity(models.FrameworkCMM, 1, 3)),
		want: "o-strategy-global", also: map[string]int{"o-strategy-francophone": 2},
		notes:      "a strategy revision needs an expert team on the ground, in French; the francophone support offers advice but no deployments; the anglophone programme covers sub-Saharan Africa only",
		provenance: basedOn("national cybersecurity strategy revision with an expert team, the GFCE Clearing House kind of request")},
	{name: "Sierra Leone national strategy",
		need: needOf("sl-strategy", "SL", models.CapNationalStrategy, modsOf(mPolicy, mVisit), strs("en"), 200_000, "2026-09-01", 12, models.PriorityHigh, maturity(models.FrameworkCMM, 0, 2)),
		want: "o-anglo-strategy-africa", also: map[string]int{"o-strategy-global": 2},
		notes:      "the regional English-speaking programme brings peer countries' strategies and study visits in the region",
		provenance: basedOn("first national cybersecurity strategy in West Africa, with peer-country study visits")},
	{name: "Senegal CSIRT framework",
		need: needOf("sn-csirt", "SN", models.CapCERTSetup, modsOf(mExpert, mTrain), strs("fr"), 400_000, "2026-11-01", 18, models.PriorityHigh, maturity(models.FrameworkSIM3, 0, 2)),
		want: "o-fr-csirt", also: map[string]int{"o-ciip-experts": 1, "o-en-csirt-africa": 1},
		notes:      "a francophone CSIRT establishment programme eligible in Africa is exactly the request",
		provenance: basedOn("national CSIRT establishment in a francophone African state")},
	{name: "The Gambia cybercrime law",
		need: needOf("gm-cybercrime", "GM", models.CapCybercrimeLegislation, modsOf(mPolicy, mExpert), strs("en"), 150_000, "2026-09-01", 12, models.PriorityHigh, none),
		want: "o-coe-cybercrime", also: map[string]int{"o-le-training": 1},
		notes:      "legislative drafting aligned with the Budapest Convention",
		provenance: basedOn("cybercrime legislation drafting aligned with the Budapest Convention")},
	{name: "Fiji PoC readiness",
		need: needOf("fj-poc", "FJ", models.CapPoCReadiness, modsOf(mTrain, mMentor), strs("en"), 80_000, "2026-08-01", 12, models.PriorityMedium, none),
		want: "o-pacific-poc", also: map[string]int{"o-poc-onboarding": 2},
		notes:      "the Pacific programme runs PoC drills with mentoring in the region",
		provenance: basedOn("Points-of-Contact readiness in the Pacific (OEWG PoC directory)")},
	{name: "Vanuatu PoC readiness",
		need: needOf("vu-poc", "VU", models.CapPoCReadiness, modsOf(mTrain), strs("fr", "en"), 60_000, "2026-09-01", 6, models.PriorityHigh, none),
		want: "o-pacific-poc", also: map[string]int{"o-poc-onboarding": 2},
		notes:      "regional Pacific programme, delivers in both official languages",
		provenance: basedOn("Points-of-Contact readiness in a bilingual Pacific state")},
	{name: "Tonga CBM implementation",
		need: needOf("to-cbm", "TO", models.CapCBMImplementation, modsOf(mTrain, mVisit), strs("en"), 50_000, "2026-10-01", 12, models.PriorityMedium, none),
		want: "o-pacific-poc", also: map[string]int{"o-poc-onboarding": 1},
		notes:      "the Pacific programme covers CBMs; the ASEAN centre does not reach Oceania",
		provenance: basedOn("implementation of the OSCE/ARF-style confidence-building measures in the Pacific")},
	{name: "Costa Rica national legal position",
		need: needOf("cr-legal", "CR", models.CapLegalPosition, modsOf(mPolicy, mTrain), strs("es"), 100_000, "2026-09-01", 9, models.PriorityMedium, none),
		want: "o-legal-latam", also: map[string]int{"o-legal-positions": 2, "o-americas-cyber": 1},
		notes:      "Spanish-language regional workshops with peer states drafting their positions",
		provenance: basedOn("national position on international law in cyberspace, Latin America")},
	{name: "Ecuador national legal position",
		need: needOf("ec-legal", "EC", models.CapLegalPosition, modsOf(mPolicy, mVisit), strs("es"), 120_000, "2027-01-15", 12, models.PriorityHigh, none),
		want: "o-legal-positions", also: map[string]int{"o-legal-latam": 2},
		notes:      "wants a study visit and a full year from January 2027; the regional workshops end in 2027 and have no visits",
		provenance: basedOn("national position on international law in cyberspace, Latin America")},
	{name: "Brazil national legal position",
		need: needOf("br-legal", "BR", models.CapLegalPosition, modsOf(mPolicy), strs("pt"), 150_000, "2026-10-01", 12, models.PriorityMedium, none),
		want: "o-legal-latam", also: map[string]int{"o-legal-positions": 1},
		notes:      "only the regional workshops work in Portuguese",
		provenance: basedOn("national position on international law in cyberspace, in Portuguese")},
	{name: "Ghana CERT maturity",
		need: needOf("gh-cert", "GH", models.CapCERTMaturity, modsOf(mMentor, mTrain), strs("en"), 250_000, "2026-09-01", 24, models.PriorityMedium, maturity(models.FrameworkSIM3, 2, 3)),
		want: "o-en-csirt-africa", also: map[string]int{"o-ciip-experts": 2, "o-fr-csirt": 1},
		notes:      "regional anglophone CSIRT programme with mentoring; the broker accepts that its window ends in mid-2028, a few months before the 24 months are over",
		provenance: basedOn("maturing an existing national CERT (SIM3 self-assessment follow-up)")},
	{name: "Kenya national cyber exercise",
		need: needOf("ke-exercise", "KE", models.CapCyberExercises, modsOf(mTrain, mExpert), strs("en"), 200_000, "2026-08-01", 12, models.PriorityMedium, none),
		want: "o-en-csirt-africa", also: map[string]int{"o-ciip-experts": 2},
		notes:      "regional exercises build on the CSIRT network the programme already runs",
		provenance: basedOn("national cyber exercise for CERT and critical sectors")},
	{name: "Dominican Republic digital forensics",
		need: needOf("do-forensics", "DO", models.CapDigitalForensics, modsOf(mEquip, mTrain), strs("es"), 500_000, "2026-09-01", 18, models.PriorityHigh, none),
		want: "o-coe-cybercrime", also: map[string]int{"o-le-training": 2},
		notes:      "the forensics equipment fund does not cover the Americas; the justice programme trains forensic examiners in Spanish",
		provenance: basedOn("digital forensics capacity for police and prosecutors in the Caribbean")},
	{name: "Côte d'Ivoire forensics laboratory",
		need: needOf("ci-forensics", "CI", models.CapDigitalForensics, modsOf(mEquip, mTrain), strs("fr"), 600_000, "2026-10-01", 18, models.PriorityHigh, none),
		want: "o-forensics-lab", also: map[string]int{"o-coe-cybercrime": 1, "o-le-training": 1},
		notes:      "a laboratory needs equipment, which only the fund provides",
		provenance: basedOn("equipping a national digital forensics laboratory")},
	{name: "Indonesia norms implementation",
		need: needOf("id-norms", "ID", models.CapNormsImplementation, modsOf(mTrain, mVisit), strs("en"), 150_000, "2026-09-01", 12, models.PriorityMedium, none),
		want: "o-asean-cbm", also: map[string]int{"o-legal-positions": 2, "o-poc-onboarding": 1},
		notes:      "the South-East Asian centre works on norms with ASEAN peers and hosts study visits",
		provenance: basedOn("implementing the UN norms of responsible state behaviour in ASEAN")},
	{name: "Moldova CERT maturity",
		need: needOf("md-cert", "MD", models.CapCERTMaturity, modsOf(mExpert, mMentor), strs("ro", "en"), 300_000, "2026-09-01", 24, models.PriorityHigh, maturity(models.FrameworkSIM3, 1, 3)),
		want: "o-ciip-experts", also: map[string]int{},
		notes:      "the only CERT maturity offer open to Eastern Europe",
		provenance: basedOn("maturing a national CERT in Eastern Europe")},
	{name: "Jordan awareness campaign",
		need: needOf("jo-awareness", "JO", models.CapAwareness, modsOf(mTrain, mFund), strs("ar"), 100_000, "2026-09-01", 12, models.PriorityLow, none),
		want: "o-awareness", also: map[string]int{},
		notes:      "funds campaigns in Arabic",
		provenance: basedOn("national cyber hygiene awareness campaign in Arabic")},
	{name: "Mozambique cybercrime legislation",
		need: needOf("mz-cybercrime", "MZ", models.CapCybercrimeLegislation, modsOf(mPolicy, mExpert), strs("pt"), 200_000, "2026-10-01", 12, models.PriorityHigh, none),
		want: "o-lusophone-cybercrime", also: map[string]int{"o-coe-cybercrime": 2},
		notes:      "Lusophone programme works from Portuguese-law legal traditions, which the broker prefers",
		provenance: basedOn("cybercrime legislation in a Lusophone African state")},
	{name: "Tunisia CERT maturity",
		need: needOf("tn-cert", "TN", models.CapCERTMaturity, modsOf(mTrain, mMentor), strs("ar", "fr"), 200_000, "2026-09-01", 18, models.PriorityMedium, maturity(models.FrameworkSIM3, 1, 2)),
		want: "o-arab-cert", also: map[string]int{"o-fr-csirt": 2, "o-ciip-experts": 1},
		notes:      "regional Arab CERT programme in Arabic and French",
		provenance: basedOn("maturing a national CERT in the Arab region")},
	{name: "Rwanda cyber workforce",
		need: needOf("rw-workforce", "RW", models.CapWorkforceEducation, modsOf(mTrain, mMentor), strs("en", "fr"), 400_000, "2027-01-01", 24, models.PriorityMedium, none),
		want: "o-workforce-africa", also: map[string]int{},
		notes:      "the African academy covers workforce education with mentoring",
		provenance: basedOn("cyber workforce education programme in Africa")},
	{name: "Peru critical infrastructure protection",
		need: needOf("pe-ciip", "PE", models.CapCIIP, modsOf(mExpert, mPolicy), strs("es"), 350_000, "2026-09-01", 18, models.PriorityHigh, maturity(models.FrameworkCMM, 1, 3)),
		want: "o-ciip-experts", also: map[string]int{"o-strategy-global": 2},
		notes:      "a CIIP expert pool in Spanish with training as well as deployments",
		provenance: basedOn("critical information infrastructure protection framework")},
	{name: "Nigeria police cyber investigations",
		need: needOf("ng-le", "NG", models.CapLawEnforcementTraining, modsOf(mTrain, mMentor), strs("en"), 300_000, "2026-09-01", 12, models.PriorityHigh, none),
		want: "o-le-training", also: map[string]int{"o-coe-cybercrime": 2},
		notes:      "police training network with mentoring",
		provenance: basedOn("police cybercrime investigation training")},
	{name: "Cambodia CBM implementation",
		need: needOf("kh-cbm", "KH", models.CapCBMImplementation, modsOf(mTrain), strs("en"), 80_000, "2026-10-01", 12, models.PriorityMedium, none),
		want: "o-asean-cbm", also: map[string]int{},
		notes:      "the ASEAN centre runs CBM training for member states",
		provenance: basedOn("confidence-building measures under the ASEAN Regional Forum")},
	{name: "Senegal PoC nomination",
		need: needOf("sn-poc", "SN", models.CapPoCReadiness, modsOf(mTrain), strs("fr"), 40_000, "2026-09-01", 6, models.PriorityMedium, none),
		want: "o-poc-onboarding", also: map[string]int{},
		notes:      "the only PoC programme open to West Africa, in French",
		provenance: basedOn("nominating and training a diplomatic and technical Point of Contact")},
	{name: "Egypt standards adoption",
		need: needOf("eg-standards", "EG", models.CapStandardsAdoption, modsOf(mTrain, mPolicy), strs("ar", "en"), 150_000, "2026-10-01", 12, models.PriorityLow, none),
		want: "o-standards", also: map[string]int{},
		notes:      "standards programme delivering in Arabic",
		provenance: basedOn("adoption of information security standards")},
}

// evalOffersModels returns the pool the cases are ranked against: the graded offers and the
// distractors.
func evalOffersModels() []*models.Offer {
	pool := append(slices.Clone(evalOffers), evalDistractors...)
	out := make([]*models.Offer, len(pool))
	for i, e := range pool {
		st := e.status
		if st == "" {
			st = models.OfferOpen
		}
		out[i] = &models.Offer{ID: e.id, Title: e.title, Themes: e.themes, Capabilities: e.caps, Modalities: e.mods,
			Languages: e.langs, EligibleCountries: e.countries, EligibleRegions: e.regions, BudgetUSD: e.budget,
			BudgetCommitted: e.committed, MaxEngagements: e.maxEng, EngagementsUsed: e.used,
			AvailableFrom: e.from, AvailableUntil: e.until, Status: st}
	}
	return out
}

// rankedOffer is one offer in a ranking under evaluation: its id and its score in units
// (any scale; only the order and the ties matter).
type rankedOffer struct {
	id    string
	score int64
}

// evalRanker ranks every offer it lists for a need, best first. Ties may come in any order:
// the metrics below treat tied offers as one group.
type evalRanker func(n *models.Need) []rankedOffer

// caseResult is one case's standing under a ranker.
type caseResult struct {
	top1 float64 // 1/k when the broker's pick is in a k-way tie for first, 1 alone, else 0
	ndcg float64 // tie-aware NDCG@5
	tied bool    // the broker's pick shares first place with another offer
	top  []rankedOffer
}

// evalSummary is a ranker's mean over the cases.
type evalSummary struct {
	top1, ndcg float64
	cases      []caseResult
}

// gain is the NDCG gain of an offer for a case: 2^grade − 1, the broker's pick graded 3.
func (c *evalCase) gain(id string) float64 {
	g := c.also[id]
	if id == c.want {
		g = 3
	}
	return math.Pow(2, float64(g)) - 1
}

// evaluateCase scores one ranking. Tied offers are a group whose order is unknown: the
// broker's pick in a k-way tie for first counts 1/k, and each group contributes its mean
// gain at each of the positions it occupies (the expected DCG over every order of the
// ties, McSherry and Najork 2008), so an alphabetical tie-break can neither win nor lose.
func evaluateCase(c *evalCase, ranked []rankedOffer) caseResult {
	const cut = 5
	r := caseResult{top: ranked[:min(cut, len(ranked))]}
	var dcg float64
	for lo := 0; lo < len(ranked) && lo < cut; {
		hi := lo
		var sum float64
		hasWant := false
		for hi < len(ranked) && ranked[hi].score == ranked[lo].score {
			sum += c.gain(ranked[hi].id)
			hasWant = hasWant || ranked[hi].id == c.want
			hi++
		}
		if lo == 0 && hasWant {
			r.top1 = 1 / float64(hi)
			r.tied = hi > 1
		}
		for p := lo; p < hi && p < cut; p++ {
			dcg += sum / float64(hi-lo) / math.Log2(float64(p)+2)
		}
		lo = hi
	}
	ideal := []float64{c.gain(c.want)}
	for id := range c.also {
		ideal = append(ideal, c.gain(id))
	}
	sortDesc(ideal)
	var idcg float64
	for i, g := range ideal[:min(cut, len(ideal))] {
		idcg += g / math.Log2(float64(i)+2)
	}
	r.ndcg = dcg / idcg
	return r
}

func evaluate(rank evalRanker) evalSummary {
	var s evalSummary
	for i := range evalCases {
		c := &evalCases[i]
		r := evaluateCase(c, rank(&c.need))
		s.cases = append(s.cases, r)
		s.top1 += r.top1
		s.ndcg += r.ndcg
	}
	s.top1 /= float64(len(evalCases))
	s.ndcg /= float64(len(evalCases))
	return s
}

// modelRanker ranks with the matching index, every listed offer.
func modelRanker(w Weights) evalRanker {
	offers := evalOffersModels()
	var needs []*models.Need
	for i := range evalCases {
		needs = append(needs, &evalCases[i].need)
	}
	ix := NewIndex(needs, offers)
	ctx := &Context{Today: evalToday}
	return func(n *models.Need) []rankedOffer {
		var out []rankedOffer
		for _, m := range ix.RankOffersForNeed(n.ID, len(offers), w, ctx) {
			out = append(out, rankedOffer{m.OfferID, floatToUnits(m.Score)})
		}
		return out
	}
}

// naiveRanker is a baseline: the hard constraints, then score(n, o) for every eligible
// offer, best first.
func naiveRanker(score func(nr *needRec, or *offerRec, today int32) int64) evalRanker {
	v := newVocab()
	var ors []*offerRec
	for _, o := range evalOffersModels() {
		ors = append(ors, v.prepOffer(o, false))
	}
	today, _ := dayOf(evalToday)
	return func(n *models.Need) []rankedOffer {
		nr := v.prepNeed(n, false)
		var out []rankedOffer
		for _, or := range ors {
			if passes(nr, or, today) {
				out = append(out, rankedOffer{or.id, score(nr, or, today)})
			}
		}
		slices.SortStableFunc(out, func(a, b rankedOffer) int { return cmp.Compare(b.score, a.score) })
		return out
	}
}

// previousWeights is the default weight set before relevance gated the score and focus was
// a factor: the scorer the issue measured.
var previousWeights = [nFactors]float64{fCapability: 0.30, fLanguage: 0.12, fModality: 0.10, fBudget: 0.12,
	fTiming: 0.10, fMaturity: 0.06, fPriority: 0.08, fDuplication: 0.12}

// The naive baselines the model must beat by a margin (naive: true), and the previous
// scorer, which it must not fall behind. A scorer that cannot beat the naive ones is not
// worth its nine factors.
var evalBaselines = []struct {
	name  string
	naive bool
	score func(nr *needRec, or *offerRec, today int32) int64
}{
	// The naive ranker: capability, language and modality shares, equal weights.
	{"capability + language + modality shares", true, func(nr *needRec, or *offerRec, _ int32) int64 {
		return unit(scale, capabilityValue(nr, or)) + unit(scale, languageValue(nr, or)) + unit(scale, modalityValue(nr, or))
	}},
	// Relevance alone: exact capability, then same theme, then the rest.
	{"capability only", true, func(nr *needRec, or *offerRec, _ int32) int64 {
		return unit(scale, capabilityValue(nr, or))
	}},
	// Relevance, then language and modality shares, then budget: the order a hurried
	// broker reads an offer in, as a lexicographic key.
	{"capability, then languages, modalities, budget", true, func(nr *needRec, or *offerRec, _ int32) int64 {
		return unit(1e9, capabilityValue(nr, or)) + unit(1e6, languageValue(nr, or)) +
			unit(1e3, modalityValue(nr, or)) + unit(999, budgetValue(nr, or))
	}},
	// The previous scorer: the previous default weights as a plain weighted sum, no gate,
	// no focus.
	{"previous scorer (ungated weighted sum)", false, func(nr *needRec, or *offerRec, today int32) int64 {
		v := values(nr, or, today, dupInput{})
		var s int64
		for i := range v {
			s += unit(int64(previousWeights[i]*scale), v[i])
		}
		return s
	}},
}

// Floors and margins. The floors sit half a case below what the default weights reach
// (top-1 0.940, NDCG@5 0.985), so that they catch a regression and reject most weight sets:
// TestEvaluationSetRejectsRandomWeights reports how many random valid weight sets pass them
// (79 of 200), where 200 of 200 pass the floors of 0.8 and 0.9 this set used to have. The
// margins are what the model must gain over the best naive baseline on each metric; it
// gains 0.12 and 0.018 (NDCG@5 is near its ceiling for every ranker that puts relevant
// offers first).
const (
	minTop1       = 0.92
	minNDCG       = 0.98
	minTop1Margin = 0.10
	minNDCGMargin = 0.015
)

func TestEvaluationSet(t *testing.T) {
	if len(evalCases) < 20 {
		t.Fatalf("only %d scenarios", len(evalCases))
	}
	for _, c := range evalCases {
		if c.provenance.basis == "" || c.provenance.label == "" {
			t.Errorf("%s: no provenance", c.name)
		}
	}
	model := evaluate(modelRanker(DefaultWeights()))
	ties := 0
	for i, r := range model.cases {
		c := &evalCases[i]
		if r.tied {
			ties++
		}
		if r.top1 < 1 {
			var top []string
			for _, x := range r.top {
				top = append(top, x.id+" "+formatScore(unitsToFloat(x.score)))
			}
			t.Logf("miss: %s: broker picks %s (%s); model ranks %v (top-1 credit %.2f, NDCG@5 %.3f)", c.name, c.want, c.notes, top, r.top1, r.ndcg)
		}
	}
	t.Logf("evaluation set: %d scenarios, %d offers (%d of them distractors): top-1 accuracy %.3f, mean NDCG@5 %.3f (a k-way tie counts 1/k; broker picks tied for first: %d)",
		len(evalCases), len(evalOffers)+len(evalDistractors), len(evalDistractors), model.top1, model.ndcg, ties)
	if model.top1 < minTop1 || model.ndcg < minNDCG {
		t.Errorf("below the floors: top-1 %.3f (floor %.2f), NDCG@5 %.3f (floor %.2f)", model.top1, minTop1, model.ndcg, minNDCG)
	}
	for _, b := range evalBaselines {
		s := evaluate(naiveRanker(b.score))
		t.Logf("baseline %s: top-1 %.3f, NDCG@5 %.3f", b.name, s.top1, s.ndcg)
		switch {
		case b.naive && (model.top1 < s.top1+minTop1Margin || model.ndcg < s.ndcg+minNDCGMargin):
			t.Errorf("the model (%.3f, %.3f) does not beat %s by the margins %.2f and %.2f", model.top1, model.ndcg, b.name, minTop1Margin, minNDCGMargin)
		case !b.naive && (model.top1 < s.top1 || model.ndcg < s.ndcg):
			t.Errorf("the model (%.3f, %.3f) falls behind %s", model.top1, model.ndcg, b.name)
		}
	}
}

// TestEvaluationSetUnrelatedNeverListed checks the relevance gate on the evaluation set, in
// both directions: no ranking lists an offer that shares neither the need's capability nor
// its theme, and every distractor reaches some case need (so the check bites) without being
// listed for it.
func TestEvaluationSetUnrelatedNeverListed(t *testing.T) {
	offers := evalOffersModels()
	var needs []*models.Need
	for i := range evalCases {
		needs = append(needs, &evalCases[i].need)
	}
	ix := NewIndex(needs, offers)
	w, ctx := DefaultWeights(), &Context{Today: evalToday}
	related := func(n *models.Need, o *models.Offer) bool {
		t, _ := models.CapabilityTheme(n.Capability)
		return slices.Contains(o.Capabilities, n.Capability) || slices.Contains(o.Themes, t) ||
			slices.ContainsFunc(o.Capabilities, func(c models.Capability) bool { ct, _ := models.CapabilityTheme(c); return ct == t })
	}
	reached := map[string]int{}
	for _, n := range needs {
		for _, m := range ix.TopOffersForNeed(n.ID, len(offers), w, ctx) {
			o, _ := ix.Offer(m.OfferID)
			if !related(n, o) {
				t.Errorf("%s lists the unrelated %s at %.4f", n.ID, o.ID, m.Score)
			}
		}
		for _, o := range offers {
			m, ok := Score(n, o, w, ctx)
			if !ok {
				continue
			}
			if !related(n, o) && (m.Score >= PossibleFrom || m.Listed()) {
				t.Errorf("%s/%s: unrelated pair scores %.4f, listed %v", n.ID, o.ID, m.Score, m.Listed())
			}
			if strings.HasPrefix(o.ID, "o-x-") {
				reached[o.ID]++
				if related(n, o) {
					t.Errorf("distractor %s shares a theme with %s, which it can reach: it needs a grade", o.ID, n.ID)
				}
			}
		}
	}
	for _, d := range evalDistractors {
		for _, r := range d.regions {
			if _, ok := models.LookupRegion(r); !ok {
				t.Errorf("%s: unknown region %s", d.id, r)
			}
		}
		if reached[d.id] < 3 {
			t.Errorf("distractor %s reaches only %d case needs", d.id, reached[d.id])
		}
		if got := ix.TopNeedsForOffer(d.id, 50, w, ctx, nil); len(got) != 0 {
			t.Errorf("distractor %s lists needs %v", d.id, got)
		}
	}
	t.Logf("the %d distractors reach %d case needs in all, and are listed for none", len(evalDistractors), sum(reached))
	// The previous scorer listed them: count how often one sat in a case's top 5.
	prev := naiveRanker(evalBaselines[len(evalBaselines)-1].score)
	inTop := 0
	for _, n := range needs {
		for _, x := range evaluateCase(&evalCase{need: *n}, prev(n)).top {
			if strings.HasPrefix(x.id, "o-x-") {
				inTop++
			}
		}
	}
	t.Logf("with the previous scorer, distractors take %d of the %d top-5 places", inTop, 5*len(needs))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestEvaluationSetRejectsRandomWeights shows that the floors discriminate: random valid
// weight sets (uniform on the simplex, rounded to four places) mostly fall below them. If
// nearly every weight set passed, the floors would say nothing about the weights.
func TestEvaluationSetRejectsRandomWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 6))
	const sets = 200
	pass, passOld := 0, 0
	var best, worst evalSummary
	worst.top1, worst.ndcg = 2, 2
	for range sets {
		var a [nFactors]float64
		for i := range a {
			a[i] = -math.Log(1 - rng.Float64()) // exponential: the normalised set is uniform on the simplex
		}
		w, err := Weights{}.fromArray(a).Normalize()
		if err != nil || w.Validate() != nil {
			t.Fatalf("weights %+v: %v", w, err)
		}
		s := evaluate(modelRanker(w))
		if s.top1 >= minTop1 && s.ndcg >= minNDCG {
			pass++
		}
		if s.top1 >= 0.8 && s.ndcg >= 0.9 {
			passOld++
		}
		if s.top1 > best.top1 {
			best = s
		}
		if s.top1 < worst.top1 {
			worst = s
		}
	}
	t.Logf("%d of %d random valid weight sets pass both floors (top-1 ≥ %.2f, NDCG@5 ≥ %.2f), %d the old floors (0.8, 0.9); best top-1 %.3f (NDCG@5 %.3f), worst %.3f (%.3f)",
		pass, sets, minTop1, minNDCG, passOld, best.top1, best.ndcg, worst.top1, worst.ndcg)
	if pass > sets/2 {
		t.Errorf("%d of %d random weight sets pass the floors: they do not discriminate", pass, sets)
	}
}

func sortDesc(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] > xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func formatScore(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
