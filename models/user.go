package models

import "time"

// Role is what a user may do: act for a country's ministry, for a donor organisation, curate
// the marketplace, or also manage accounts.
type Role string

// The roles.
const (
	RoleMinistry    Role = "ministry"    // acts for the country of its government organisation
	RoleDonor       Role = "donor"       // acts for its donor organisation
	RoleCoordinator Role = "coordinator" // curates, sees everything, tracks projects
	RoleAdmin       Role = "admin"       // coordinator rights plus accounts
)

// Roles lists every role.
var Roles = []Role{RoleMinistry, RoleDonor, RoleCoordinator, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// FitsOrg reports whether a user with this role may belong to an organisation of type t: a
// ministry user to a government, a donor user to a donor or implementer, coordinators and
// admins to a coordinating body.
func (r Role) FitsOrg(t OrgType) bool {
	switch r {
	case RoleMinistry:
		return t == OrgGovernment
	case RoleDonor:
		return t == OrgDonor || t == OrgImplementer
	case RoleCoordinator, RoleAdmin:
		return t == OrgCoordinator
	}
	return false
}

// Curates reports whether the role has coordinator rights.
func (r Role) Curates() bool { return r == RoleCoordinator || r == RoleAdmin }

// User is an account. The password hash never leaves the server: it has no JSON name.
type User struct {
	ID    string `json:"id" bson:"_id"`
	Email string `json:"email" bson:"email"`
	// EmailKey is the lower-cased e-mail, unique across users.
	EmailKey       string `json:"-" bson:"email_key"`
	Name           string `json:"name" bson:"name"`
	Role           Role   `json:"role" bson:"role"`
	OrganizationID string `json:"organization_id" bson:"organization_id"`
	Country        string `json:"country,omitempty" bson:"country,omitempty"`
	PasswordHash   string `json:"-" bson:"password_hash"`
	Disabled       bool   `json:"disabled" bson:"disabled"`
	// MustChangePassword is set when someone else chose the password (an account created by a
	// coordinator or an admin): the user must choose their own before doing anything else.
	MustChangePassword bool `json:"must_change_password,omitempty" bson:"must_change_password,omitempty"`
	// Lang is the UI language the user chose (one of SupportedLangs; "" until they choose),
	// so that the choice follows them to every browser they sign in from.
	Lang      string    `json:"lang,omitempty" bson:"lang,omitempty"`
	CreatedAt time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt time.Time `json:"updated_at" bson:"updated_at"`
	Version   int64     `json:"version" bson:"version"`
}

// Actor is who makes a request, as the access token says: what every authorization decision
// is made from.
type Actor struct {
	UserID string
	Role   Role
	OrgID  string
	// Country is the ministry's country (empty for other roles).
	Country string
	// TokenID is the access token's jti, so logout can revoke it.
	TokenID string
	// FamilyID is the refresh-token family the access token was issued with.
	FamilyID string
	// MustChangePassword says the account had to change its password when the token was
	// issued; service.Auth.PasswordGate checks whether it still must.
	MustChangePassword bool
}

// Readiness is a country's state against the UN framework of responsible state behaviour: the
// profile donors and coordinators read before offering help. The PoC fields are derived from
// the Points of Contact directory and its communication checks (PoCDirectory.Readiness), never
// declared; the others are self-reported by the country's ministries.
type Readiness struct {
	// PoCNominated: at least one Point of Contact is in the directory (derived).
	PoCNominated bool `json:"poc_nominated" bson:"poc_nominated"`
	// PoCReachable: a contact acknowledged the latest communication check that has an outcome
	// (derived).
	PoCReachable bool `json:"poc_reachable" bson:"poc_reachable"`
	// PoCLastCheck is the day the latest communication check reached the country (derived);
	// nil when none has.
	PoCLastCheck *Date `json:"poc_last_check" bson:"poc_last_check,omitempty"`
	// PoCMissedChecks counts the communication checks missed in a row (derived).
	PoCMissedChecks int  `json:"poc_missed_checks" bson:"poc_missed_checks"`
	NationalCERT    bool `json:"national_cert" bson:"national_cert"`
	// CERTMaturity is the national CERT's SIM3 level, 0 (none or not assessed) to 4.
	CERTMaturity           int  `json:"cert_maturity" bson:"cert_maturity"`
	LegalPositionPublished bool `json:"legal_position_published" bson:"legal_position_published"`
	NationalStrategy       bool `json:"national_strategy" bson:"national_strategy"`
}

// CountryProfile is the stored part of a country's profile: its readiness.
type CountryProfile struct {
	ISO       string    `json:"iso" bson:"_id"`
	Readiness Readiness `json:"readiness" bson:"readiness"`
	UpdatedAt time.Time `json:"updated_at" bson:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty" bson:"updated_by,omitempty"`
	Version   int64     `json:"version" bson:"version"`
	// History is every change of the readiness, oldest first (see RecordReadiness), kept in the
	// profile's own document so that a change and its record are written together.
	History []ReadinessEvent `json:"history,omitempty" bson:"history,omitempty"`
}
