package models

import (
	"context"
	"time"
)

// OrgStore keeps organizations.
type OrgStore interface {
	CreateOrg(ctx context.Context, o *Organization) error
	GetOrg(ctx context.Context, id string) (*Organization, error)
	ListOrgs(ctx context.Context) ([]*Organization, error)
}

// UserStore keeps accounts. E-mail addresses are unique case-insensitively (User.EmailKey).
type UserStore interface {
	// CreateUser stores a new user; ErrConflict when the e-mail is taken.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail finds a user by lower-cased e-mail; ErrNotFound when none.
	GetUserByEmail(ctx context.Context, emailKey string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int64, error)
	// SetUserDisabled flips the disabled flag and bumps the version.
	SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) (*User, error)
	// SetUserLang remembers the language the user chose for the UI and bumps the version;
	// ErrNotFound when there is no such user.
	SetUserLang(ctx context.Context, id, lang string, at time.Time) error
	// SetUserPassword replaces the password hash and the must-change flag of the user at
	// version and bumps the version; ErrConflict when the user changed meanwhile.
	SetUserPassword(ctx context.Context, id string, version int64, hash string, mustChange bool, at time.Time) (*User, error)
	// PutPasswordReset stores a user's reset link, replacing any earlier one.
	PutPasswordReset(ctx context.Context, r *PasswordReset) error
	// GetPasswordReset returns a user's reset link; ErrNotFound when none.
	GetPasswordReset(ctx context.Context, userID string) (*PasswordReset, error)
	// UsePasswordReset marks the user's reset link with this hash used, in one conditional
	// write, if it is unused and unexpired at at; ErrNotFound otherwise (so a link works once).
	UsePasswordReset(ctx context.Context, userID, hash string, at time.Time) (*PasswordReset, error)
	// DeletePasswordReset removes a user's reset link, if any.
	DeletePasswordReset(ctx context.Context, userID string) error
}

// TokenStore keeps refresh tokens and revocations.
type TokenStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RetireRefreshToken marks an active token retired in one conditional update and returns
	// it. ErrConflict when it was already retired (a reuse); ErrNotFound when it never existed.
	RetireRefreshToken(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)
	// Revoke records a revocation; recording one that exists is not an error.
	Revoke(ctx context.Context, r Revocation) error
	// PutRevocation records a revocation, replacing one with the same id (a user's revocation
	// moves when the account is disabled and enabled again).
	PutRevocation(ctx context.Context, r Revocation) error
	// GetRevocation looks one revocation up by id; ErrNotFound when none.
	GetRevocation(ctx context.Context, id string) (*Revocation, error)
	// ListRevocations returns revocations that have not expired at now.
	ListRevocations(ctx context.Context, now time.Time) ([]Revocation, error)
}

// AuditStore appends to and reads the audit trail.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries about one object (all when objectID is empty), newest first.
	ListAudit(ctx context.Context, objectID string, limit int) ([]*AuditEntry, error)
}

// SettingStore keeps small named settings (the generated JWT secret, matching weights), each
// one document created at most once.
type SettingStore interface {
	// GetOrCreateSetting returns the stored value of name, storing value first if none exists.
	// Concurrent callers all get the same value.
	GetOrCreateSetting(ctx context.Context, name string, value []byte) ([]byte, error)
	// MarkSetting overwrites a setting's value.
	MarkSetting(ctx context.Context, name string, value []byte) error
	// SwapSetting replaces the value old with new in one conditional write; false when the
	// stored value is no longer old.
	SwapSetting(ctx context.Context, name string, old, new []byte) (bool, error)
}

// Store is everything capmatch keeps durably; the MongoDB adapter implements it.
type Store interface {
	OrgStore
	UserStore
	TokenStore
	AuditStore
	SettingStore
	NeedStore
	OfferStore
	CountryStore
	ImportStore
	ExternalActivityStore
	EngagementStore
	ProjectStore
	NotificationStore
	PoCStore
	OutboxStore
	AssessmentStore
	SourceStore
	Ping(ctx context.Context) error
}

// NeedStore keeps needs. Updates are conditional on the version the caller read, so two
// writers never silently overwrite each other (single-document atomicity; no transactions).
type NeedStore interface {
	CreateNeed(ctx context.Context, n *Need) error
	GetNeed(ctx context.Context, id string) (*Need, error)
	// ReplaceNeed stores n if the stored version is still prev; ErrConflict otherwise.
	ReplaceNeed(ctx context.Context, n *Need, prev int64) error
	// ListNeeds loads every need.
	ListNeeds(ctx context.Context) ([]*Need, error)
	// EachNeed calls f with every stored need, one at a time as they are read, and stops at
	// f's first error: the read model's full load streams the collection instead of holding
	// a second copy of it (issue 16). A need for which known(id, version) is true (the caller
	// holds that version already) is not decoded and not passed to f; known may be nil.
	EachNeed(ctx context.Context, known func(id string, version int64) bool, f func(*Need) error) error
}

// OfferStore keeps offers, like NeedStore. The capacity counters (engagements used, budget
// committed, reservations) change only through ReserveOfferSlot and ReleaseOfferSlot, each one
// conditional single-document update, so that concurrent accepts never overbook.
type OfferStore interface {
	CreateOffer(ctx context.Context, o *Offer) error
	GetOffer(ctx context.Context, id string) (*Offer, error)
	// ReplaceOffer stores o's content if the stored version is still prev; it never changes the
	// capacity counters.
	ReplaceOffer(ctx context.Context, o *Offer, prev int64) error
	ListOffers(ctx context.Context) ([]*Offer, error)
	// EachOffer is EachNeed for offers.
	EachOffer(ctx context.Context, known func(id string, version int64) bool, f func(*Offer) error) error
	// ReserveOfferSlot takes one engagement slot and budget of an open offer for the engagement,
	// and returns the offer after. Taking it again for the same engagement changes nothing.
	// ErrConflict when the offer is not open, full, or its remaining budget is too small.
	ReserveOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*Offer, error)
	// ReleaseOfferSlot gives a reservation back (an accept that could not complete).
	ReleaseOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*Offer, error)
	// CloseFullOffer closes an open offer that has no capacity left (Offer.HasCapacity: no slot
	// or no budget left), with the reason OfferFullReason; false when it has capacity or is
	// not open.
	CloseFullOffer(ctx context.Context, offerID string, at time.Time) (*Offer, bool, error)
}

// OfferFullReason is the status reason of an offer that closed by itself because its slots
// or its budget ran out; such an offer opens again when a cancellation gives capacity back.
const OfferFullReason = "all engagements or the whole budget are taken"

// CountryStore keeps countries' readiness profiles.
type CountryStore interface {
	GetCountryProfile(ctx context.Context, iso string) (*CountryProfile, error)
	// PutCountryProfile stores p if the stored version is still prev (0: none stored yet).
	PutCountryProfile(ctx context.Context, p *CountryProfile, prev int64) error
	ListCountryProfiles(ctx context.Context) ([]*CountryProfile, error)
}

// ImportStore records bulk imports so that an import stores all of its rows or none of them,
// even across a crash, without multi-document transactions: rows are inserted tagged with their
// batch, the batch document's state flips to committed in one write (the commit point), a
// tagged row is visible only when its batch committed, and a batch that never committed has its
// rows deleted.
type ImportStore interface {
	// CreateImport records a new batch in state "inserting".
	CreateImport(ctx context.Context, b *ImportBatch) error
	// SetImportState moves a batch to "committed" or "aborted".
	SetImportState(ctx context.Context, id, state string) error
	// ListImports returns the batches in a state, for recovery at start-up.
	ListImports(ctx context.Context, state string) ([]*ImportBatch, error)
	// InsertNeeds and InsertOffers store rows of a batch (their ImportBatch field set).
	InsertNeeds(ctx context.Context, needs []*Need) error
	InsertOffers(ctx context.Context, offers []*Offer) error
	// DeleteImported removes the rows of a batch that did not commit.
	DeleteImported(ctx context.Context, b *ImportBatch) error
}

// ImportKindExternal is the kind of an import batch of IATI activities (ExternalActivity rows,
// which the batch does not list: its RowIDs are empty).
const ImportKindExternal = "external"

// ImportBatch is one bulk import.
type ImportBatch struct {
	ID        string    `json:"id" bson:"_id"`
	Kind      string    `json:"kind" bson:"kind"` // needs, offers or external
	State     string    `json:"state" bson:"state"`
	RowIDs    []string  `json:"row_ids" bson:"row_ids"`
	CreatedBy string    `json:"created_by" bson:"created_by"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
}

// Transactor runs several store calls as one multi-document transaction, where the store has
// them: MongoDB as a replica set or behind mongos. FerretDB (the embedded default) has none;
// there the use cases keep their protocols of conditional single-document steps under a lease
// (Engagement.Lease). The MongoDB adapter implements it.
type Transactor interface {
	// Transactions reports whether InTransaction is atomic on this store; when false,
	// InTransaction refuses to run.
	Transactions() bool
	// InTransaction runs fn in a transaction: the store calls fn makes with the ctx it is given
	// commit together when fn returns nil, and none of them when it returns an error. fn may run
	// more than once (a transient conflict retries the whole transaction), so it must not have
	// effects outside the store.
	InTransaction(ctx context.Context, fn func(ctx context.Context) error) error
}

// EngagementStore keeps engagements.
type EngagementStore interface {
	// CreateEngagement stores a new engagement; ErrConflict when the id exists (a retried propose).
	CreateEngagement(ctx context.Context, e *Engagement) error
	// ClaimKey binds an idempotency key to value the first time the key is claimed, in one
	// insert, and returns the value bound to it then and ever after: concurrent and retried
	// claims of one key all get the first claimant's value. Engagement ids are random; the key
	// (a need, an offer and how many of their engagements ended) is what makes a retried
	// proposal land on the same engagement.
	ClaimKey(ctx context.Context, key, value string) (string, error)
	GetEngagement(ctx context.Context, id string) (*Engagement, error)
	ReplaceEngagement(ctx context.Context, e *Engagement, prev int64) error
	ListEngagements(ctx context.Context) ([]*Engagement, error)
}

// ProjectStore keeps projects with their transactions.
type ProjectStore interface {
	// CreateProject stores a new project; ErrConflict when the id exists (one project per engagement).
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, id string) (*Project, error)
	ReplaceProject(ctx context.Context, p *Project, prev int64) error
	ListProjects(ctx context.Context) ([]*Project, error)
}

// Notification is one entry of an organization's in-app feed: something happened that its
// people should look at (a proposal, an acceptance, an approval, a match, an overlap). It is
// stored as its Kind and Args; Text is written when it is read, in the reader's language, from
// the catalog's message for the kind (package i18n). Notifications stored before kinds carried
// arguments keep the English Text they were stored with.
type Notification struct {
	ID   string `json:"id" bson:"id"`
	Kind string `json:"kind" bson:"kind"`
	// Args are the kind's arguments (titles, a country, a score, a reason...).
	Args       Args   `json:"args,omitempty" bson:"args,omitempty"`
	Text       string `json:"text" bson:"text,omitempty"`
	ObjectType string `json:"object_type" bson:"object_type"`
	ObjectID   string `json:"object_id" bson:"object_id"`
	// OrganizationID is the feed it was written to: an organization id, or "coordinators".
	OrganizationID string    `json:"organization_id" bson:"organization_id"`
	CreatedAt      time.Time `json:"created_at" bson:"created_at"`
}

// ReadState is what one user has read of the feeds they see: everything created up to ReadUpTo,
// plus the ids read one by one after it. Read flags are per user, feeds per organization.
type ReadState struct {
	UserID   string    `json:"user_id" bson:"user_id"`
	ReadUpTo time.Time `json:"read_up_to" bson:"read_up_to"`
	ReadIDs  []string  `json:"read_ids" bson:"read_ids"`
	// Version is 0 for a user who never read anything (nothing stored yet).
	Version int64 `json:"version" bson:"version"`
}

// NotificationStore keeps the notification feeds and read states. FerretDB scans a collection
// for any filter but _id, so each feed is one document read by _id (an organization's newest
// notifications, capped) and each user's read state another.
type NotificationStore interface {
	// AppendNotifications adds items to a feed (an organization id or "coordinators"), keeping
	// only its newest max items.
	AppendNotifications(ctx context.Context, feed string, items []Notification, max int) error
	// NotificationFeed returns a feed's items, oldest first; none when nothing was written.
	NotificationFeed(ctx context.Context, feed string) ([]Notification, error)
	// GetReadState returns a user's read state; a zero state (Version 0) when none is stored.
	GetReadState(ctx context.Context, userID string) (*ReadState, error)
	// PutReadState stores st if the stored version is still prev (0: none stored yet);
	// ErrConflict otherwise.
	PutReadState(ctx context.Context, st *ReadState, prev int64) error
	// SetOrgWebhook sets (or, with nil, removes) an organization's outbound webhook and returns
	// the organization; ErrNotFound when it does not exist.
	SetOrgWebhook(ctx context.Context, orgID string, hook *Webhook, at time.Time) (*Organization, error)
}
