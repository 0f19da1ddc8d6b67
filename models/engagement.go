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
	// Lease names the replica running a multi-document step on the engagement (an accept while
	// it is "accepting", a project start while its ProjectID has no project yet) and until when:
	// recovery on another replica leaves the step alone until the lease expires, and every
	// later step of the owner checks in its conditional write that it still holds it. Unset
	// when nothing is under way.
	Lease   *Lease `json:"lease,omitempty" bson:"lease,omitempty"`
	Version int64  `json:"version" bson:"version"`
}

// LeaseDuration is how long a lease on multi-document work lasts unless renewed. Its owner
// renews it before a step once less than half is left, and every store call is bounded by the
// store's timeout (mongostore.DefaultTimeout, 10 s), so a step lands before another replica
// may take the work over, unless the owner's process is suspended in between.
const LeaseDuration = 30 * time.Second

// Lease is a time-limited claim of one replica on multi-document work in progress.
type Lease struct {
	// Owner is the replica's id (one per process, service.Deps.Replica).
	Owner string `json:"owner" bson:"owner"`
	// Until is when the claim lapses; recovery on any replica may take the work over after it.
	Until time.Time `json:"until" bson:"until"`
}

// NewLease is a lease of owner from now for LeaseDuration.
func NewLease(owner string, now time.Time) *Lease {
	return &Lease{Owner: owner, Until: now.Add(LeaseDuration).UTC()}
}

// Live reports whether the lease still holds at now (a nil lease never does: work interrupted
// before leases existed is anyone's to finish).
func (l *Lease) Live(now time.Time) bool { return l != nil && now.Before(l.Until) }

// HeldBy reports whether owner holds the lease, live or lapsed but not taken over: the owner
// may go on (and renew it) until another replica writes its own lease.
func (l *Lease) HeldBy(owner string) bool { return l != nil && l.Owner == owner }
