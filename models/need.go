package models

import "time"

// NeedStatus is where a need stands in its lifecycle.
type NeedStatus string

// The need lifecycle: draft → submitted → open → matched → in_progress → fulfilled, and
// withdrawn from any state before in_progress.
const (
	NeedDraft      NeedStatus = "draft"
	NeedSubmitted  NeedStatus = "submitted"
	NeedOpen       NeedStatus = "open"
	NeedMatched    NeedStatus = "matched"
	NeedInProgress NeedStatus = "in_progress"
	NeedFulfilled  NeedStatus = "fulfilled"
	NeedWithdrawn  NeedStatus = "withdrawn"
)

// Maturity states a need's baseline and target on a maturity scale, so that donors see how
// far the country wants to go and projects can report what they achieved.
type Maturity struct {
	Framework MaturityFramework `json:"framework" bson:"framework"`
	Current   int               `json:"current" bson:"current"`
	Target    int               `json:"target" bson:"target"`
}

// Need is a capacity-building need posted by a ministry for its country.
type Need struct {
	ID          string `json:"id" bson:"_id"`
	Title       string `json:"title" bson:"title"`
	Description string `json:"description" bson:"description"`
	// Lang is the ISO 639-1 language the title and description are written in ("" when the
	// author did not say); Translations are the author's versions in other languages, keyed by
	// ISO 639-1 code (see In).
	Lang           string                 `json:"lang,omitempty" bson:"lang"`
	Translations   map[string]Translation `json:"translations,omitempty" bson:"translations"`
	Country        string                 `json:"country" bson:"country"`
	Theme          Theme                  `json:"theme" bson:"theme"`
	Capability     Capability             `json:"capability" bson:"capability"`
	Modalities     []Modality             `json:"modalities" bson:"modalities"`
	Languages      []string               `json:"languages" bson:"languages"`
	BudgetUSD      int64                  `json:"budget_usd" bson:"budget_usd"`
	StartBy        Date                   `json:"start_by" bson:"start_by"`
	DurationMonths int                    `json:"duration_months" bson:"duration_months"`
	Priority       Priority               `json:"priority" bson:"priority"`
	Maturity       Maturity               `json:"maturity" bson:"maturity"`
	Visibility     Visibility             `json:"visibility" bson:"visibility"`
	Status         NeedStatus             `json:"status" bson:"status"`
	StatusReason   string                 `json:"status_reason,omitempty" bson:"status_reason,omitempty"`
	OrganizationID string                 `json:"organization_id" bson:"organization_id"`
	CreatedBy      string                 `json:"created_by" bson:"created_by"`
	CreatedAt      time.Time              `json:"created_at" bson:"created_at"`
	UpdatedAt      time.Time              `json:"updated_at" bson:"updated_at"`
	Version        int64                  `json:"version" bson:"version"`
	// EngagementID is the agreed engagement that matched the need, so that a retried accept
	// recognises its own match.
	EngagementID string `json:"engagement_id,omitempty" bson:"engagement_id,omitempty"`
	// ImportBatch tags a row of a bulk import until the import commits; tagged objects are
	// invisible.
	ImportBatch string `json:"-" bson:"import_batch,omitempty"`
	// Proposal is set on a draft capmatch proposed (never posted by itself): its ministry
	// reviews, edits and submits it, or withdraws it. A self-assessment's proposal names the
	// assessment, so it is shown only to those who may read that country's assessments (see
	// the visibility view's redactNeed).
	Proposal *NeedProposal `json:"proposal,omitempty" bson:"proposal,omitempty"`
}

// The sources of a proposed need (NeedProposal.Source) and their reasons.
const (
	// ProposalPoCChecks: the state missed communication checks (reason ReasonMissedPoCChecks).
	ProposalPoCChecks = "poc_checks"
	// ProposalAssessment: a self-assessment found a gap (reason ReasonAssessmentGap).
	ProposalAssessment = "self_assessment"

	ReasonMissedPoCChecks = "missed_poc_checks"
	ReasonAssessmentGap   = "assessment_gap"
)

// NeedProposal says why capmatch proposed a need: a source, a reason code and the objects it
// rests on, so that pages explain it in the reader's language.
type NeedProposal struct {
	// Source is what proposed it: ProposalPoCChecks (missed communication checks) or
	// ProposalAssessment (a self-assessment).
	Source string `json:"source" bson:"source"`
	// Reason is a code, e.g. ReasonMissedPoCChecks.
	Reason string `json:"reason" bson:"reason"`
	// Refs are the ids of what it rests on (the missed checks), oldest first.
	Refs []string `json:"refs,omitempty" bson:"refs,omitempty"`
	// AssessmentID is the self-assessment that proposed it, the way back to it (source
	// self_assessment).
	AssessmentID string    `json:"assessment_id,omitempty" bson:"assessment_id,omitempty"`
	ProposedAt   time.Time `json:"proposed_at" bson:"proposed_at"`
}
