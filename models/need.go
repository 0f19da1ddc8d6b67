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
	ID             string     `json:"id" bson:"_id"`
	Title          string     `json:"title" bson:"title"`
	Description    string     `json:"description" bson:"description"`
	Country        string     `json:"country" bson:"country"`
	Theme          Theme      `json:"theme" bson:"theme"`
	Capability     Capability `json:"capability" bson:"capability"`
	Modalities     []Modality `json:"modalities" bson:"modalities"`
	Languages      []string   `json:"languages" bson:"languages"`
	BudgetUSD      int64      `json:"budget_usd" bson:"budget_usd"`
	StartBy        Date       `json:"start_by" bson:"start_by"`
	DurationMonths int        `json:"duration_months" bson:"duration_months"`
	Priority       Priority   `json:"priority" bson:"priority"`
	Maturity       Maturity   `json:"maturity" bson:"maturity"`
	Visibility     Visibility `json:"visibility" bson:"visibility"`
	Status         NeedStatus `json:"status" bson:"status"`
	StatusReason   string     `json:"status_reason,omitempty" bson:"status_reason,omitempty"`
	OrganizationID string     `json:"organization_id" bson:"organization_id"`
	CreatedBy      string     `json:"created_by" bson:"created_by"`
	CreatedAt      time.Time  `json:"created_at" bson:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at" bson:"updated_at"`
	Version        int64      `json:"version" bson:"version"`
	// EngagementID is the agreed engagement that matched the need, so that a retried accept
	// recognises its own match.
	EngagementID string `json:"engagement_id,omitempty" bson:"engagement_id,omitempty"`
	// Gen is the logical time (hybrid logical clock) of the last write, stored with the object so
	// that every replica, even one that loads it from the store, stamps rankings the same way.
	Gen int64 `json:"gen,omitempty" bson:"gen,omitempty"`
	// Proposal marks a draft that a self-assessment proposed (only for those who may see that
	// country's assessments; see the visibility view's redactNeed).
	Proposal *NeedProposal `json:"proposal,omitempty" bson:"proposal,omitempty"`
	// ImportBatch tags a row of a bulk import until the import commits; tagged objects are
	// invisible.
	ImportBatch string `json:"-" bson:"import_batch,omitempty"`
}
