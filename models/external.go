package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// ExternalActivity is an aid activity that an organization publishes to IATI and that was
// imported into capmatch (POST /api/v1/import/iati), so that coordinators and ministries see
// who already funds what in a country, and overlap detection and the duplication factor see
// work done outside the platform. It is keyed by its iati-identifier: importing it again
// replaces it.
//
// It is stored as rows: every import writes its own row of each activity, tagged with its
// batch, and the row of the newest committed batch is the activity (see ImportStore and
// ExternalActivityStore), so that an import is all or nothing and concurrent imports of the
// same identifier converge on every replica.
type ExternalActivity struct {
	// RowID is the stored row: Key and the import batch.
	RowID string `json:"-" bson:"_id"`
	// Key is the activity's id in capmatch, derived from its iati-identifier (ExternalKey).
	Key            string `json:"id" bson:"key"`
	IATIIdentifier string `json:"iati_identifier" bson:"iati_identifier"`
	// Version is the IATI version of the file it came from (2.01, 2.02, 2.03).
	Version      string      `json:"iati_version" bson:"iati_version"`
	LastUpdated  string      `json:"last_updated,omitempty" bson:"last_updated,omitempty"`
	ReportingOrg ExternalOrg `json:"reporting_org" bson:"reporting_org"`
	// Title and Description are the narratives in the first language found (English first,
	// then French, then Spanish, then any); Titles and Descriptions keep every language.
	Title        string      `json:"title" bson:"title"`
	Titles       []Narrative `json:"titles" bson:"titles"`
	Description  string      `json:"description,omitempty" bson:"description,omitempty"`
	Descriptions []Narrative `json:"descriptions,omitempty" bson:"descriptions,omitempty"`
	// Status is the IATI activity status; 0 when the file gives none.
	Status       ActivityStatus      `json:"status" bson:"status"`
	PlannedStart Date                `json:"planned_start,omitempty" bson:"planned_start,omitempty"`
	ActualStart  Date                `json:"actual_start,omitempty" bson:"actual_start,omitempty"`
	PlannedEnd   Date                `json:"planned_end,omitempty" bson:"planned_end,omitempty"`
	ActualEnd    Date                `json:"actual_end,omitempty" bson:"actual_end,omitempty"`
	Countries    []ExternalCountry   `json:"countries" bson:"countries"`
	Regions      []ExternalRegion    `json:"regions" bson:"regions"`
	Sectors      []ExternalSector    `json:"sectors" bson:"sectors"`
	Capabilities []CapabilityMatch   `json:"capabilities" bson:"capabilities"`
	Participants []ExternalOrg       `json:"participating_orgs" bson:"participants"`
	Currency     string              `json:"default_currency,omitempty" bson:"currency,omitempty"`
	Budgets      []ExternalMoney     `json:"budgets" bson:"budgets"`
	Transactions []ExternalMoney     `json:"transactions" bson:"transactions"`
	Totals       ExternalMoneyTotals `json:"totals" bson:"totals"`
	// ImportBatch tags the row with its import; ImportedBy is the importing organization.
	ImportBatch string    `json:"-" bson:"import_batch"`
	ImportedBy  string    `json:"imported_by_organization_id" bson:"imported_by"`
	ImportedAt  time.Time `json:"imported_at" bson:"imported_at"`
}

// ExternalKey is the id in capmatch of the external activity with an iati-identifier: a
// hash of the identifier (identifiers hold characters that ids do not), the same on every
// replica and in every import.
func ExternalKey(identifier string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(identifier)))
	return "ext-" + hex.EncodeToString(sum[:12])
}

// Narrative is a text in one language (ISO 639-1; "" when the file does not say).
type Narrative struct {
	Lang string `json:"lang" bson:"lang"`
	Text string `json:"text" bson:"text"`
}

// ExternalOrg is an organisation an IATI activity names: the reporting organisation or a
// participating one (Role: the IATI organisation role code, 1 funding ... 4 implementing).
type ExternalOrg struct {
	Ref  string `json:"ref,omitempty" bson:"ref,omitempty"`
	Name string `json:"name,omitempty" bson:"name,omitempty"`
	Type string `json:"type,omitempty" bson:"type,omitempty"`
	Role string `json:"role,omitempty" bson:"role,omitempty"`
	// SecondaryReporter is set on a reporting organisation that re-publishes others' data.
	SecondaryReporter bool `json:"secondary_reporter,omitempty" bson:"secondary_reporter,omitempty"`
}

// ExternalCountry is a recipient country with its share of the activity, in percent (0 when
// the file gives none for one of several countries).
type ExternalCountry struct {
	Code       string  `json:"code" bson:"code"`
	Percentage float64 `json:"percentage" bson:"percentage"`
}

// ExternalRegion is a recipient region as the file codes it, with its UN M49 equivalent when
// there is one (M49 empty otherwise).
type ExternalRegion struct {
	Vocabulary string  `json:"vocabulary" bson:"vocabulary"`
	Code       string  `json:"code" bson:"code"`
	M49        string  `json:"m49,omitempty" bson:"m49,omitempty"`
	Percentage float64 `json:"percentage" bson:"percentage"`
}

// ExternalSector is a sector as the file codes it (vocabulary 1: DAC 5-digit, 2: DAC 3-digit,
// 99/98: the reporting organisation's own).
type ExternalSector struct {
	Vocabulary string  `json:"vocabulary" bson:"vocabulary"`
	Code       string  `json:"code" bson:"code"`
	Percentage float64 `json:"percentage" bson:"percentage"`
}

// Confidence says how sure the mapping of an external activity to a capability is.
type Confidence string

// The confidence levels (see adapters/iati/README.md for what earns each).
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// Weight is the confidence as a number in (0, 1], what the duplication factor and overlaps
// multiply by: high 1, medium 0.6, low 0.3; 0 for anything else.
func (c Confidence) Weight() float64 {
	switch c {
	case ConfidenceHigh:
		return 1
	case ConfidenceMedium:
		return 0.6
	case ConfidenceLow:
		return 0.3
	}
	return 0
}

// CapabilityMatch is a capability an external activity was mapped to, how confidently, and
// the evidence as codes ("vocabulary-99:cert_setup", "title:csirt", "sector:1:22040").
type CapabilityMatch struct {
	Capability Capability `json:"capability" bson:"capability"`
	Confidence Confidence `json:"confidence" bson:"confidence"`
	Evidence   []string   `json:"evidence" bson:"evidence"`
}

// ExternalMoney is a budget or a transaction in its original currency (Value as the file
// wrote it) and, when that currency is US dollars, in whole US dollars (USD); amounts in
// other currencies are not converted (USD nil).
type ExternalMoney struct {
	// Type is the IATI BudgetType or TransactionType code.
	Type        string `json:"type" bson:"type"`
	Status      string `json:"status,omitempty" bson:"status,omitempty"`
	PeriodStart Date   `json:"period_start,omitempty" bson:"period_start,omitempty"`
	PeriodEnd   Date   `json:"period_end,omitempty" bson:"period_end,omitempty"`
	Date        Date   `json:"date,omitempty" bson:"date,omitempty"`
	Value       string `json:"value" bson:"value"`
	Currency    string `json:"currency" bson:"currency"`
	ValueDate   Date   `json:"value_date,omitempty" bson:"value_date,omitempty"`
	USD         *int64 `json:"usd,omitempty" bson:"usd,omitempty"`
}

// ExternalMoneyTotals sums an activity's money in US dollars, over the amounts in US dollars;
// Unconverted lists the other currencies it holds amounts in (not in the sums).
type ExternalMoneyTotals struct {
	BudgetUSD    int64    `json:"budget_usd" bson:"budget_usd"`
	CommittedUSD int64    `json:"committed_usd" bson:"committed_usd"`
	DisbursedUSD int64    `json:"disbursed_usd" bson:"disbursed_usd"`
	Unconverted  []string `json:"unconverted_currencies" bson:"unconverted"`
	// Transactions counts every transaction of the activity, including those not kept.
	Transactions int `json:"transactions" bson:"transactions"`
}

// Start is the activity's start: actual, else planned ("" when unknown).
func (a *ExternalActivity) Start() Date {
	if a.ActualStart != "" {
		return a.ActualStart
	}
	return a.PlannedStart
}

// End is the activity's end: actual, else planned ("" when unknown).
func (a *ExternalActivity) End() Date {
	if a.ActualEnd != "" {
		return a.ActualEnd
	}
	return a.PlannedEnd
}

// Active reports whether the activity is under way on day today: in pipeline, implementation
// or finalisation (or with no status) and not ended before today. Closed, cancelled and
// suspended activities are not (a suspended one delivers nothing now).
func (a *ExternalActivity) Active(today Date) bool {
	switch a.Status {
	case 0, StatusPipeline, StatusImplementation, StatusFinalisation:
	default:
		return false
	}
	end := a.End()
	return end == "" || today == "" || end >= today
}

// Capability returns the activity's match of capability c, if any.
func (a *ExternalActivity) Capability(c Capability) (CapabilityMatch, bool) {
	for _, m := range a.Capabilities {
		if m.Capability == c {
			return m, true
		}
	}
	return CapabilityMatch{}, false
}

// InCountry reports whether the activity names the country as a recipient.
func (a *ExternalActivity) InCountry(iso string) bool {
	for _, c := range a.Countries {
		if c.Code == iso {
			return true
		}
	}
	return false
}

// ExternalActivityStore keeps the rows of imported external activities (see ImportStore for
// the batch they belong to: a row counts only once its batch committed, and the row of the
// newest committed batch of a key is the activity).
type ExternalActivityStore interface {
	// InsertExternalActivities stores rows of a batch (their ImportBatch set).
	InsertExternalActivities(ctx context.Context, rows []*ExternalActivity) error
	// ListExternalActivities returns the rows of one batch, or every row when batch is "".
	ListExternalActivities(ctx context.Context, batch string) ([]*ExternalActivity, error)
	// DeleteExternalRowsBefore deletes the rows of the keys that belong to batches older than
	// batch (batch ids sort by creation): rows a newer committed import superseded.
	DeleteExternalRowsBefore(ctx context.Context, keys []string, batch string) error
}
