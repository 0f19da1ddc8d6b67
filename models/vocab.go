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
	VisibilityPublic     Visibility = "public"     // anyone signed in
	VisibilityDonors     Visibility = "donors"     // donors, coordinators and the owner
	VisibilityRestricted Visibility = "restricted" // coordinators and the owner only
)

// Visibilities lists every tier, most open first.
var Visibilities = []Visibility{VisibilityPublic, VisibilityDonors, VisibilityRestricted}

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
