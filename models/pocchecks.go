package models

import (
	"context"
	"time"
)

// PoCCheckTTL is how long a communication check's acknowledgement links work: two weeks, the
// window the UN directory's ping tests give states to answer.
const PoCCheckTTL = 14 * 24 * time.Hour

// PoCCheck is one communication check ("ping test") a coordinator ran: the states it covered,
// and for each of their contacts whether the message went out and when it was acknowledged.
// It is one document; each acknowledgement is a conditional write of it.
type PoCCheck struct {
	ID string `json:"id" bson:"_id"`
	// Region or Countries is the scope the coordinator asked for.
	Region    string    `json:"region,omitempty" bson:"region,omitempty"`
	Countries []string  `json:"countries,omitempty" bson:"countries,omitempty"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	CreatedBy string    `json:"created_by" bson:"created_by"`
	ExpiresAt time.Time `json:"expires_at" bson:"expires_at"`
	// ClosedAt is set when a coordinator ends the check or it expired and was closed.
	ClosedAt *time.Time       `json:"closed_at,omitempty" bson:"closed_at,omitempty"`
	ClosedBy string           `json:"closed_by,omitempty" bson:"closed_by,omitempty"`
	Targets  []PoCCheckTarget `json:"targets" bson:"targets"`
	// Settled is set once a closed check's consequences (directory records, proposed needs)
	// are all written; a sweep completes any check closed but not settled.
	Settled bool  `json:"settled" bson:"settled"`
	Version int64 `json:"version" bson:"version"`
}

// PoCCheckTarget is one state in a check.
type PoCCheckTarget struct {
	ISO string `json:"iso" bson:"iso"`
	// Contacts are the state's PoCs when the check was run; none means it had none to check.
	Contacts []PoCCheckContact `json:"contacts" bson:"contacts"`
	// ProposedNeed is the PoC-readiness need proposed when this check made two misses in a row.
	ProposedNeed string `json:"proposed_need,omitempty" bson:"proposed_need,omitempty"`
}

// The states of a check's e-mail to one contact.
const (
	MailQueued = "queued" // waiting in the sending queue
	MailSent   = "sent"   // handed to the SMTP server (or written to the outbox)
	MailFailed = "failed" // every try failed, or the queue was full
)

// PoCCheckContact is one contact in a check. It keeps the contact's kind and name as they were
// (for the results, once the contact changed or left), never the address or phone.
type PoCCheckContact struct {
	PoCID string  `json:"poc_id" bson:"poc_id"`
	Kind  PoCKind `json:"kind" bson:"kind"`
	Name  string  `json:"name" bson:"name"`
	// Mail is where its e-mail stands (MailQueued, MailSent, MailFailed); SentAt when it went.
	Mail   string     `json:"mail" bson:"mail"`
	SentAt *time.Time `json:"sent_at,omitempty" bson:"sent_at,omitempty"`
	// Feed is the notification feed its in-app notice went to ("" when none).
	Feed           string     `json:"-" bson:"feed,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty" bson:"acknowledged_at,omitempty"`
}

// Over reports whether the check no longer takes acknowledgements at now.
func (c *PoCCheck) Over(now time.Time) bool { return c.ClosedAt != nil || !now.Before(c.ExpiresAt) }

// Target finds a state in the check.
func (c *PoCCheck) Target(iso string) (*PoCCheckTarget, bool) {
	for i := range c.Targets {
		if c.Targets[i].ISO == iso {
			return &c.Targets[i], true
		}
	}
	return nil, false
}

// Contact finds a contact of the check by PoC id, with its state.
func (c *PoCCheck) Contact(pocID string) (*PoCCheckTarget, *PoCCheckContact, bool) {
	for i := range c.Targets {
		for j := range c.Targets[i].Contacts {
			if c.Targets[i].Contacts[j].PoCID == pocID {
				return &c.Targets[i], &c.Targets[i].Contacts[j], true
			}
		}
	}
	return nil, nil, false
}

// Outcome is a state's outcome in the check at now (see the PoC* outcome constants).
func (t *PoCCheckTarget) Outcome(c *PoCCheck, now time.Time) string {
	if len(t.Contacts) == 0 {
		return PoCNoContact
	}
	for _, k := range t.Contacts {
		if k.AcknowledgedAt != nil {
			return PoCAcknowledged
		}
	}
	if c.Over(now) {
		return PoCMissed
	}
	return PoCPending
}

// FirstAck is when the state first acknowledged the check; nil if it has not.
func (t *PoCCheckTarget) FirstAck() *time.Time {
	var first *time.Time
	for _, k := range t.Contacts {
		if k.AcknowledgedAt != nil && (first == nil || k.AcknowledgedAt.Before(*first)) {
			first = k.AcknowledgedAt
		}
	}
	return first
}

// MailMessage is one e-mail capmatch sends: a communication check to a Point of Contact. In
// the embedded default (no SMTP server configured) messages are kept in the store's outbox,
// where coordinators read them. Messages hold personal data (the address): coordinators only.
type MailMessage struct {
	ID      string `json:"id" bson:"_id"`
	To      string `json:"to" bson:"to"`
	ToName  string `json:"to_name" bson:"to_name"`
	Subject string `json:"subject" bson:"subject"`
	Text    string `json:"text" bson:"text"`
	// Lang is the language the message is written in.
	Lang string `json:"lang" bson:"lang"`
	// Ref names what the message is about ("poc_check:<check id>:<poc id>") so that its
	// sending can be recorded there.
	Ref       string    `json:"ref" bson:"ref"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// MailTransport hands a message to whatever delivers it: an SMTP server, or the outbox. The
// sender retries a failed Send with backoff, unless the error wraps ErrInvalid (the server
// refused the message for good, e.g. an unknown recipient).
type MailTransport interface {
	Send(ctx context.Context, m *MailMessage) error
	// Name says where messages go ("smtp" or "outbox"), for the outbox page and logs.
	Name() string
}

// PoCStore keeps the PoC directory (one document per state), the links from user accounts to
// the state they are a PoC of, and the communication checks.
type PoCStore interface {
	// GetPoCDirectory returns a state's entry; an empty one (Version 0) when none is stored.
	GetPoCDirectory(ctx context.Context, iso string) (*PoCDirectory, error)
	// PutPoCDirectory stores d if the stored version is still prev (0: none stored yet);
	// ErrConflict otherwise.
	PutPoCDirectory(ctx context.Context, d *PoCDirectory, prev int64) error
	// ListPoCDirectories loads every stored entry (start-up derivation, demo loading).
	ListPoCDirectories(ctx context.Context) ([]*PoCDirectory, error)
	// GetPoCLink returns the state whose PoC the user is; ErrNotFound when none.
	GetPoCLink(ctx context.Context, userID string) (string, error)
	// PutPoCLink records that the user is a PoC of the state (replacing any earlier link).
	PutPoCLink(ctx context.Context, userID, iso string) error
	// DeletePoCLink removes the user's link; removing none is not an error.
	DeletePoCLink(ctx context.Context, userID string) error

	CreatePoCCheck(ctx context.Context, c *PoCCheck) error
	GetPoCCheck(ctx context.Context, id string) (*PoCCheck, error)
	// ReplacePoCCheck stores c if the stored version is still prev; ErrConflict otherwise.
	ReplacePoCCheck(ctx context.Context, c *PoCCheck, prev int64) error
	// ListPoCChecks loads every check (a few a year), newest first.
	ListPoCChecks(ctx context.Context) ([]*PoCCheck, error)
}

// OutboxStore keeps the e-mails written while no SMTP server is configured.
type OutboxStore interface {
	AppendOutbox(ctx context.Context, m *MailMessage) error
	// ListOutbox returns the newest messages first, at most limit.
	ListOutbox(ctx context.Context, limit int) ([]*MailMessage, error)
}
