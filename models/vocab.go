package models

// Theme is a capacity-building theme: the five GFCE themes plus cyber diplomacy.
type Theme string

// The themes a need or offer is filed under.
const (
	ThemePolicyStrategy     Theme = "policy_strategy"
	ThemeIncidentManagement Theme = "incident_management"
	ThemeCybercrime         Theme = "cybercrime"
	ThemeCultureSkills      Theme = "culture_skills"
	ThemeStandards          Theme = "standards"
	ThemeDiplomacyNorms     Theme = "diplomacy_norms"
)

// Themes lists every theme in catalogue order.
var Themes = []Theme{ThemePolicyStrategy, ThemeIncidentManagement, ThemeCybercrime, ThemeCultureSkills, ThemeStandards, ThemeDiplomacyNorms}

// Capability is a specific thing a country wants to be able to do; each belongs to one theme.
type Capability string

// The capabilities of the catalogue.
const (
	CapNationalStrategy       Capability = "national_strategy"
	CapLegalPosition          Capability = "legal_position"
	CapNormsImplementation    Capability = "norms_implementation"
	CapCBMImplementation      Capability = "cbm_implementation"
	CapPoCReadiness           Capability = "poc_readiness"
	CapCERTSetup              Capability = "cert_setup"
	CapCERTMaturity           Capability = "cert_maturity"
	CapCIIP                   Capability = "ciip"
	CapCyberExercises         Capability = "cyber_exercises"
	CapCybercrimeLegislation  Capability = "cybercrime_legislation"
	CapDigitalForensics       Capability = "digital_forensics"
	CapLawEnforcementTraining Capability = "law_enforcement_training"
	CapAwareness              Capability = "awareness"
	CapWorkforceEducation     Capability = "workforce_education"
	CapStandardsAdoption      Capability = "standards_adoption"
)

// Modality is a way of delivering help.
type Modality string

// The delivery modalities.
const (
	ModTraining         Modality = "training"
	ModExpertDeployment Modality = "expert_deployment"
	ModFunding          Modality = "funding"
	ModEquipment        Modality = "equipment"
	ModMentoring        Modality = "mentoring"
	ModStudyVisit       Modality = "study_visit"
	ModPolicyAdvice     Modality = "policy_advice"
)

// Modalities lists every modality in catalogue order.
var Modalities = []Modality{ModTraining, ModExpertDeployment, ModFunding, ModEquipment, ModMentoring, ModStudyVisit, ModPolicyAdvice}

// Priority is how urgent a ministry rates its need.
type Priority string

// The priorities, most urgent first.
const (
	PriorityHigh   Priority = "high"
	PriorityMedium Priority = "medium"
	PriorityLow    Priority = "low"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{PriorityHigh, PriorityMedium, PriorityLow}

// Visibility decides who may see a need: some gaps reveal a country's weaknesses.
type Visibility string

// The visibility tiers, most open first.
const (
	VisibilityPublic     Visibility = "public"     // anyone, visitors included, once approved
	VisibilityDonors     Visibility = "donors"     // donors, coordinators and the owner
	VisibilityRestricted Visibility = "restricted" // coordinators and the owner only
)

// Visibilities lists every tier, most open first.
var Visibilities = []Visibility{VisibilityPublic, VisibilityDonors, VisibilityRestricted}

// DefaultVisibility is the tier a need gets when its poster does not choose one: donors only
// for the capabilities whose gaps tell an attacker where a country is exposed or who to reach
// in a crisis (setting up a CERT, its maturity, Points of Contact readiness), public for the
// others. Need.Normalize applies it, so that the API, bulk imports and the web form default
// the same way.
func DefaultVisibility(c Capability) Visibility {
	switch c {
	case CapCERTSetup, CapCERTMaturity, CapPoCReadiness:
		return VisibilityDonors
	}
	return VisibilityPublic
}

// MaturityFramework names the scale a need states its baseline and target in.
type MaturityFramework string

// The maturity frameworks.
const (
	FrameworkCMM  MaturityFramework = "cmm"  // Oxford GCSCC Cybersecurity Capacity Maturity Model
	FrameworkSIM3 MaturityFramework = "sim3" // SIM3 for CERTs/CSIRTs
	FrameworkGCI  MaturityFramework = "gci"  // ITU Global Cybersecurity Index
	FrameworkNone MaturityFramework = "none" // no baseline stated
)

// MaturityFrameworks lists every framework.
var MaturityFrameworks = []MaturityFramework{FrameworkCMM, FrameworkSIM3, FrameworkGCI, FrameworkNone}

// capabilityThemes files each capability under its one theme.
var capabilityThemes = map[Capability]Theme{
	CapNationalStrategy:       ThemePolicyStrategy,
	CapCIIP:                   ThemeIncidentManagement,
	CapLegalPosition:          ThemeDiplomacyNorms,
	CapNormsImplementation:    ThemeDiplomacyNorms,
	CapCBMImplementation:      ThemeDiplomacyNorms,
	CapPoCReadiness:           ThemeDiplomacyNorms,
	CapCERTSetup:              ThemeIncidentManagement,
	CapCERTMaturity:           ThemeIncidentManagement,
	CapCyberExercises:         ThemeIncidentManagement,
	CapCybercrimeLegislation:  ThemeCybercrime,
	CapDigitalForensics:       ThemeCybercrime,
	CapLawEnforcementTraining: ThemeCybercrime,
	CapAwareness:              ThemeCultureSkills,
	CapWorkforceEducation:     ThemeCultureSkills,
	CapStandardsAdoption:      ThemeStandards,
}

// CapabilityTheme returns the theme a capability belongs to; ok is false for an unknown one.
func CapabilityTheme(c Capability) (t Theme, ok bool) {
	t, ok = capabilityThemes[c]
	return t, ok
}

// Capabilities lists every capability in catalogue order: grouped by theme, in the order of
// Themes, so that forms and the catalogue present them the same way everywhere.
var Capabilities = []Capability{
	CapNationalStrategy,
	CapCERTSetup, CapCERTMaturity, CapCIIP, CapCyberExercises,
	CapCybercrimeLegislation, CapDigitalForensics, CapLawEnforcementTraining,
	CapAwareness, CapWorkforceEducation,
	CapStandardsAdoption,
	CapLegalPosition, CapNormsImplementation, CapCBMImplementation, CapPoCReadiness,
}

// ThemeCapabilities lists the capabilities filed under a theme, in catalogue order, so that
// a form can offer only the capabilities that fit the chosen theme.
func ThemeCapabilities(t Theme) []Capability {
	var out []Capability
	for _, c := range Capabilities {
		if capabilityThemes[c] == t {
			out = append(out, c)
		}
	}
	return out
}

// Valid reports whether t is one of the catalogue's themes; validators use it to reject
// values a client invented.
func (t Theme) Valid() bool {
	for _, v := range Themes {
		if v == t {
			return true
		}
	}
	return false
}

// Valid reports whether c is one of the catalogue's capabilities.
func (c Capability) Valid() bool {
	_, ok := capabilityThemes[c]
	return ok
}

// Valid reports whether m is one of the delivery modalities.
func (m Modality) Valid() bool {
	for _, v := range Modalities {
		if v == m {
			return true
		}
	}
	return false
}

// Valid reports whether p is one of the priorities.
func (p Priority) Valid() bool {
	for _, v := range Priorities {
		if v == p {
			return true
		}
	}
	return false
}

// Valid reports whether v is one of the visibility tiers; an invalid tier must never be
// stored, because access checks would not know whom to show the need to.
func (v Visibility) Valid() bool {
	for _, x := range Visibilities {
		if x == v {
			return true
		}
	}
	return false
}

// Valid reports whether f is one of the maturity frameworks.
func (f MaturityFramework) Valid() bool {
	for _, v := range MaturityFrameworks {
		if v == f {
			return true
		}
	}
	return false
}

// StageRange returns the lowest and highest stage a need may state on the framework, so
// that baselines and targets are checked against the scale they claim to use. Every scale
// starts at 0 ("not assessed" or "not available") and higher always means more mature:
//   - cmm: 0..5, the five CMM stages start-up, formative, established, strategic, dynamic;
//   - sim3: 0..4, the SIM3 levels;
//   - gci: 0..5, where stage s is ITU GCI 2024 tier 6-s (stage 1 = tier 5 "building",
//     stage 5 = tier 1 "role-modelling"), because GCI numbers its tiers best first;
//   - none: only 0.
//
// An unknown framework yields 0, 0.
func (f MaturityFramework) StageRange() (min, max int) {
	switch f {
	case FrameworkCMM, FrameworkGCI:
		return 0, 5
	case FrameworkSIM3:
		return 0, 4
	default:
		return 0, 0
	}
}
