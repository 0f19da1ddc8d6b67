package models

import "time"

// ActivityStatus is a project's status as an IATI activity status code, so that exports need
// no translation.
type ActivityStatus int

// The IATI activity status codes.
const (
	StatusPipeline       ActivityStatus = 1
	StatusImplementation ActivityStatus = 2
	StatusFinalisation   ActivityStatus = 3
	StatusClosed         ActivityStatus = 4
	StatusCancelled      ActivityStatus = 5
	StatusSuspended      ActivityStatus = 6
)

// OrgRole is an organisation's part in a project, as an IATI organisation role code.
type OrgRole int

// The IATI organisation roles.
const (
	RoleFunding      OrgRole = 1
	RoleAccountable  OrgRole = 2
	RoleExtending    OrgRole = 3
	RoleImplementing OrgRole = 4
)

// Participant is an organisation taking part in a project in an IATI role.
type Participant struct {
	OrganizationID string  `json:"organization_id" bson:"organization_id"`
	Name           string  `json:"name" bson:"name"`
	Role           OrgRole `json:"role" bson:"role"`
	// Type is the IATI organisation type code (10 government, 21 international NGO, 40
	// multilateral, 70 private sector, 60 foundation, ...), when known.
	Type string `json:"type,omitempty" bson:"type,omitempty"`
}

// TransactionType is a kind of money movement on a project.
type TransactionType string

// The transaction types and their IATI codes (see IATICode).
const (
	TxPledge       TransactionType = "pledge"       // IATI 12 outgoing pledge
	TxCommitment   TransactionType = "commitment"   // IATI 2 outgoing commitment
	TxDisbursement TransactionType = "disbursement" // IATI 3 disbursement
	TxExpenditure  TransactionType = "expenditure"  // IATI 4 expenditure
)

// Transaction is one money movement on a project, in whole US dollars.
type Transaction struct {
	ID          string          `json:"id" bson:"id"`
	Type        TransactionType `json:"type" bson:"type"`
	AmountUSD   int64           `json:"amount_usd" bson:"amount_usd"`
	Date        Date            `json:"date" bson:"date"`
	Description string          `json:"description,omitempty" bson:"description,omitempty"`
	CreatedBy   string          `json:"created_by" bson:"created_by"`
	CreatedAt   time.Time       `json:"created_at" bson:"created_at"`
}

// ResultType says whether a result is an output or an outcome (IATI result types 1 and 2).
type ResultType string

// The result types.
const (
	ResultOutput  ResultType = "output"
	ResultOutcome ResultType = "outcome"
)

// Result is what a project delivered or changed; for maturity needs it carries the baseline
// and the achieved stage.
type Result struct {
	Type        ResultType `json:"type" bson:"type"`
	Title       string     `json:"title" bson:"title"`
	Description string     `json:"description,omitempty" bson:"description,omitempty"`
	Baseline    *int       `json:"baseline,omitempty" bson:"baseline,omitempty"`
	Target      *int       `json:"target,omitempty" bson:"target,omitempty"`
	Achieved    *int       `json:"achieved,omitempty" bson:"achieved,omitempty"`
}

// Document is a link to a report, terms of reference or other document about a project.
type Document struct {
	Title    string `json:"title" bson:"title"`
	URL      string `json:"url" bson:"url"`
	Category string `json:"category,omitempty" bson:"category,omitempty"` // IATI document category code, e.g. A01
	Language string `json:"language,omitempty" bson:"language,omitempty"`
}

// Funding sums a project's money: committed is the sum of commitments, disbursed the sum of
// disbursements, and gap = budget − committed, never below 0.
type Funding struct {
	Budget    int64 `json:"budget"`
	Committed int64 `json:"committed"`
	Disbursed int64 `json:"disbursed"`
	Expended  int64 `json:"expended"`
	Pledged   int64 `json:"pledged"`
	Gap       int64 `json:"gap"`
}

// Project is a funded piece of work that came out of an agreed engagement, tracked as an IATI
// activity. Its transactions live inside the project document, so that every money movement
// and the funding figures change atomically without multi-document transactions.
type Project struct {
	ID             string         `json:"id" bson:"_id"`
	IATIIdentifier string         `json:"iati_identifier" bson:"iati_identifier"`
	EngagementID   string         `json:"engagement_id" bson:"engagement_id"`
	NeedID         string         `json:"need_id" bson:"need_id"`
	OfferID        string         `json:"offer_id" bson:"offer_id"`
	Title          string         `json:"title" bson:"title"`
	Description    string         `json:"description" bson:"description"`
	Country        string         `json:"country" bson:"country"`
	Theme          Theme          `json:"theme" bson:"theme"`
	Capability     Capability     `json:"capability" bson:"capability"`
	DonorOrgID     string         `json:"donor_organization_id" bson:"donor_org_id"`
	ImplementerID  string         `json:"implementer_organization_id" bson:"implementer_org_id"`
	NeedOrgID      string         `json:"need_organization_id" bson:"need_org_id"`
	Participants   []Participant  `json:"participants" bson:"participants"`
	PlannedStart   Date           `json:"start_date" bson:"planned_start"`
	PlannedEnd     Date           `json:"end_date" bson:"planned_end"`
	ActualStart    Date           `json:"actual_start,omitempty" bson:"actual_start,omitempty"`
	ActualEnd      Date           `json:"actual_end,omitempty" bson:"actual_end,omitempty"`
	BudgetUSD      int64          `json:"budget_usd" bson:"budget_usd"`
	Status         ActivityStatus `json:"status" bson:"status"`
	Results        []Result       `json:"results" bson:"results"`
	Documents      []Document     `json:"documents" bson:"documents"`
	Transactions   []Transaction  `json:"transactions" bson:"transactions"`
	Maturity       Maturity       `json:"maturity" bson:"maturity"`
	CreatedBy      string         `json:"created_by" bson:"created_by"`
	CreatedAt      time.Time      `json:"created_at" bson:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at" bson:"updated_at"`
	Version        int64          `json:"version" bson:"version"`
}

// Funding computes the project's funding figures from its transactions.
func (p *Project) Funding() Funding {
	f := Funding{Budget: p.BudgetUSD}
	for _, t := range p.Transactions {
		switch t.Type {
		case TxCommitment:
			f.Committed += t.AmountUSD
		case TxDisbursement:
			f.Disbursed += t.AmountUSD
		case TxExpenditure:
			f.Expended += t.AmountUSD
		case TxPledge:
			f.Pledged += t.AmountUSD
		}
	}
	if g := f.Budget - f.Committed; g > 0 {
		f.Gap = g
	}
	return f
}

// Active reports whether the project is delivering (pipeline, implementation, finalisation or
// suspended): what counts for duplication and a country's active projects.
func (p *Project) Active() bool {
	switch p.Status {
	case StatusPipeline, StatusImplementation, StatusFinalisation, StatusSuspended:
		return true
	}
	return false
}
