package models

import "time"

// EngagementStatus is where a proposed match between a need and an offer stands.
type EngagementStatus string

// The engagement lifecycle: proposed → agreed or declined (by the other side), or withdrawn
// (by the proposer while still proposed); an agreed engagement without a project may be
// cancelled, which gives its offer slot and amount back. The transitions are in cascade.go.
const (
	EngagementProposed EngagementStatus = "proposed"
	// EngagementAccepting is the short step of an accept in progress: the need is being matched
	// and the offer's slot reserved. A crash leaves it there and recovery completes or undoes it.
	EngagementAccepting EngagementStatus = "accepting"
	EngagementAgreed    EngagementStatus = "agreed"
	EngagementDeclined  EngagementStatus = "declined"
	EngagementWithdrawn EngagementStatus = "withdrawn"
	// EngagementCancelled is an agreement called off before its project started, by either
	// side or a coordinator, or because its need was withdrawn.
	EngagementCancelled EngagementStatus = "cancelled"
)

// Side names which party of an engagement acted: the need's ministry or the offer's donor.
type Side string

// The two sides of an engagement.
const (
	SideNeed  Side = "need"
	SideOffer Side = "offer"
)

// EngagementMessage is one message in an engagement's thread.
type EngagementMessage struct {
	ID        string    `json:"id" bson:"id"`
	AuthorID  string    `json:"author_id" bson:"author_id"`
	Side      Side      `json:"side" bson:"side"`
	Body      string    `json:"body" bson:"body"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// Engagement is a brokered conversation between a need's ministry and an offer's donor that,
// once agreed, uses one of the offer's slots and part of its budget.
type Engagement struct {
	ID         string              `json:"id" bson:"_id"`
	NeedID     string              `json:"need_id" bson:"need_id"`
	OfferID    string              `json:"offer_id" bson:"offer_id"`
	NeedOrgID  string              `json:"need_organization_id" bson:"need_org_id"`
	OfferOrgID string              `json:"offer_organization_id" bson:"offer_org_id"`
	Country    string              `json:"country" bson:"country"`
	Capability Capability          `json:"capability" bson:"capability"`
	ProposedBy Side                `json:"proposed_by" bson:"proposed_by"`
	Status     EngagementStatus    `json:"status" bson:"status"`
	Message    string              `json:"message" bson:"message"`
	BudgetUSD  int64               `json:"budget_usd" bson:"budget_usd"`
	Messages   []EngagementMessage `json:"messages" bson:"messages"`
	Reason     string              `json:"reason,omitempty" bson:"reason,omitempty"`
	StartDate  Date                `json:"start_date" bson:"start_date"`
	EndDate    Date                `json:"end_date" bson:"end_date"`
	CreatedBy  string              `json:"created_by" bson:"created_by"`
	CreatedAt  time.Time           `json:"created_at" bson:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at" bson:"updated_at"`
	DecidedAt  *time.Time          `json:"decided_at,omitempty" bson:"decided_at,omitempty"`
	// ProjectID is the project started from the engagement. It is set before the project
	// document is written, so that it is the key that makes starting a project idempotent and
	// the mark that stops a cancellation racing the start.
	ProjectID string `json:"project_id,omitempty" bson:"project_id,omitempty"`
	// ReleasedAt is when a cancelled engagement gave its offer slot and amount back and let go
	// of its need; unset while that is still to do (a retry or the start-up recovery does it).
	ReleasedAt *time.Time `json:"released_at,omitempty" bson:"released_at,omitempty"`
	Version    int64      `json:"version" bson:"version"`
}
