package models

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Points of Contact (PoCs): each state nominates diplomatic and technical contacts for cyber
// incidents (the OEWG's global PoC directory, the "red telephone"), and coordinators exercise the
// directory with communication checks ("ping tests"). A PoC is personal data: its name, e-mail
// and phone are seen only by coordinators, the ministries of its country and the nominated PoCs
// of other states (see CanSeePoCs), never by donors or anonymous visitors, and never appear in
// exports, open data or logs.

// PoCKind is the kind of a Point of Contact, as the UN directory distinguishes them.
type PoCKind string

// The kinds of Point of Contact.
const (
	PoCDiplomatic PoCKind = "diplomatic" // policy level: a foreign ministry official
	PoCTechnical  PoCKind = "technical"  // operational level: usually the national CERT
)

// Valid reports whether k is a known kind.
func (k PoCKind) Valid() bool { return k == PoCDiplomatic || k == PoCTechnical }

// Limits of the PoC directory.
const (
	// MaxPoCsPerCountry bounds a state's directory entry: a handful of diplomatic and technical
	// contacts (and their deputies) is what the UN directory asks for.
	MaxPoCsPerCountry = 10
	// MaxPoCLanguages bounds the languages one contact works in.
	MaxPoCLanguages = 10
	// PoCCheckHistory is how many of a state's check outcomes its directory keeps, newest
	// last: enough for the country profile and for "missed two in a row".
	PoCCheckHistory = 12
	// PoCMissesForProposal is how many checks in a row a state misses before capmatch
	// proposes a PoC-readiness need to its ministry.
	PoCMissesForProposal = 2
)

// PoC is one Point of Contact of a state.
type PoC struct {
	ID           string   `json:"id" bson:"id"`
	Kind         PoCKind  `json:"kind" bson:"kind"`
	Name         string   `json:"name" bson:"name"`
	Role         string   `json:"role" bson:"role"`
	Organization string   `json:"organization" bson:"organization"`
	Email        string   `json:"email" bson:"email"`
	Phone        string   `json:"phone" bson:"phone"`
	Languages    []string `json:"languages" bson:"languages"`
	// UserID links the contact to a ministry account of the same state (matched by e-mail when
	// the contact is saved), which makes that account "a nominated PoC": it may then read other
	// states' PoCs (CanSeePoCs). Never shown; Linked says whether there is one.
	UserID string `json:"-" bson:"user_id,omitempty"`
	Linked bool   `json:"linked" bson:"-"`
	// NominatedBy is the government organization that entered the contact, whose feed gets the
	// contact's in-app notices when it has no linked account. Coordinators' entries have none.
	NominatedBy string    `json:"-" bson:"nominated_by,omitempty"`
	CreatedAt   time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" bson:"updated_at"`
	Version     int64     `json:"version" bson:"version"`
}

// PoCCheckRecord is one communication check as the state's directory remembers it: when it was
// sent, when the state first acknowledged it, and whether it is over.
type PoCCheckRecord struct {
	CheckID        string     `json:"check_id" bson:"check_id"`
	SentAt         time.Time  `json:"sent_at" bson:"sent_at"`
	ExpiresAt      time.Time  `json:"expires_at" bson:"expires_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty" bson:"acknowledged_at,omitempty"`
	Closed         bool       `json:"closed" bson:"closed"`
}

// The outcomes of a communication check for one state (and for one contact).
const (
	PoCAcknowledged = "acknowledged" // a contact acknowledged in time
	PoCPending      = "pending"      // no acknowledgement yet; the links still work
	PoCMissed       = "missed"       // the check ended without an acknowledgement
	PoCNoContact    = "no_poc"       // the state had no contact to check
)

// Outcome is the record's outcome at now.
func (r PoCCheckRecord) Outcome(now time.Time) string {
	switch {
	case r.AcknowledgedAt != nil:
		return PoCAcknowledged
	case r.Closed || !now.Before(r.ExpiresAt):
		return PoCMissed
	}
	return PoCPending
}

// PoCDirectory is one state's entry in the directory: its contacts and the outcomes of the
// checks that reached them. It is one document per state, so that every change is a
// single-document conditional write.
type PoCDirectory struct {
	ISO    string           `json:"iso" bson:"_id"`
	Items  []PoC            `json:"items" bson:"items"`
	Checks []PoCCheckRecord `json:"checks" bson:"checks"`
	// KeptBy is the government organization whose ministry last changed the contacts: it owns
	// the PoC-readiness need capmatch proposes after missed checks.
	KeptBy string `json:"-" bson:"kept_by,omitempty"`
	// Proposal is the latest PoC-readiness need capmatch proposed to the state after missed
	// checks, so that one streak of misses proposes one need.
	Proposal  *PoCProposal `json:"-" bson:"proposal,omitempty"`
	UpdatedAt time.Time    `json:"updated_at" bson:"updated_at"`
	// Version is 0 for a state with nothing stored yet.
	Version int64 `json:"version" bson:"version"`
}

// PoCProposal records a need proposed after missed checks.
type PoCProposal struct {
	CheckID        string    `bson:"check_id"`
	NeedID         string    `bson:"need_id"`
	OrganizationID string    `bson:"organization_id"`
	At             time.Time `bson:"at"`
}

// ProposedInStreak reports whether a need was already proposed during the state's current
// streak of missed checks (since the first check of the streak was sent).
func (d *PoCDirectory) ProposedInStreak(now time.Time) bool {
	if d.Proposal == nil {
		return false
	}
	var start time.Time
	decided := false
	for i := len(d.Checks) - 1; i >= 0; i-- {
		switch d.Checks[i].Outcome(now) {
		case PoCPending:
			if !decided {
				continue
			}
		case PoCMissed:
			decided = true
			start = d.Checks[i].SentAt
			continue
		}
		break
	}
	return !start.IsZero() && !d.Proposal.At.Before(start)
}

// PoC finds a contact by id.
func (d *PoCDirectory) PoC(id string) (*PoC, bool) {
	for i := range d.Items {
		if d.Items[i].ID == id {
			return &d.Items[i], true
		}
	}
	return nil, false
}

// HasUser reports whether a contact of the state is linked to the user.
func (d *PoCDirectory) HasUser(userID string) bool {
	if userID == "" {
		return false
	}
	for _, p := range d.Items {
		if p.UserID == userID {
			return true
		}
	}
	return false
}

// Record finds the state's record of a check.
func (d *PoCDirectory) Record(checkID string) (*PoCCheckRecord, bool) {
	for i := range d.Checks {
		if d.Checks[i].CheckID == checkID {
			return &d.Checks[i], true
		}
	}
	return nil, false
}

// PoCReadiness is what the directory says of a state's readiness: derived, never declared.
type PoCReadiness struct {
	// Nominated: the state has at least one Point of Contact in the directory.
	Nominated bool
	// Reachable: the latest check that has an outcome was acknowledged (a check still
	// running counts only once acknowledged).
	Reachable bool
	// LastCheck is the day the latest check that included the state was sent; nil if none.
	LastCheck *Date
	// Missed counts the checks missed in a row, up to the latest with an outcome.
	Missed int
}

// Readiness derives the PoC part of the state's readiness at now.
func (d *PoCDirectory) Readiness(now time.Time) PoCReadiness {
	r := PoCReadiness{Nominated: len(d.Items) > 0}
	if n := len(d.Checks); n > 0 {
		day := DateOf(d.Checks[n-1].SentAt)
		r.LastCheck = &day
	}
	decided := false
	for i := len(d.Checks) - 1; i >= 0; i-- {
		switch d.Checks[i].Outcome(now) {
		case PoCPending:
			if !decided {
				continue // a running check counts once it is acknowledged or over
			}
		case PoCAcknowledged:
			if !decided {
				r.Reachable = true
			}
			return r
		case PoCMissed:
			decided = true
			r.Missed++
			continue
		}
		break
	}
	return r
}

// PoCInput is the body of POST /countries/{iso}/pocs and, with every field optional, the base
// of PATCH.
type PoCInput struct {
	Kind         PoCKind  `json:"kind"`
	Name         string   `json:"name"`
	Role         string   `json:"role"`
	Organization string   `json:"organization"`
	Email        string   `json:"email"`
	Phone        string   `json:"phone"`
	Languages    []string `json:"languages"`
}

// Normalize cleans what a person may have typed: trimmed text and address, lower-case language
// codes, and the phone number reduced to "+" and digits (spaces, dots, dashes and brackets are
// only grouping). It never hides a problem Validate should report.
func (p *PoC) Normalize() {
	p.Name = CleanText(p.Name)
	p.Role = CleanText(p.Role)
	p.Organization = CleanText(p.Organization)
	p.Email = strings.TrimSpace(p.Email)
	p.Phone = NormalizePhone(p.Phone)
	for i, l := range p.Languages {
		p.Languages[i] = strings.ToLower(strings.TrimSpace(l))
	}
}

// NormalizePhone removes the grouping characters people type in phone numbers (spaces, dots,
// dashes, brackets), keeping a leading "+" and the digits. Anything else is left for
// ValidPhone to refuse.
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '-', '(', ')', '\u00a0', '\u202f':
			return -1
		}
		return r
	}, s)
}

// ValidPhone reports whether s (normalized) is an international number in E.164 form: "+", a
// country code that does not start with 0, and at most 15 digits in all (at least 7).
func ValidPhone(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsEmailAddress reports whether s is a bare e-mail address (no display name, no comments)
// with a domain that has a dot, at most MaxEmailLength bytes: the form an SMTP server accepts in
// RCPT. It is the one e-mail rule of the domain: ValidEmail (optional addresses such as an
// offer's contact) and a Point of Contact's required address both apply it.
func IsEmailAddress(s string) bool {
	if s == "" || len(s) > MaxEmailLength || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") &&
		utf8.ValidString(s)
}

// Validate checks a contact and reports every problem at once (a 422 with JSON field names).
func (p *PoC) Validate() error {
	var pr Problems
	switch {
	case p.Kind == "":
		pr.Add("kind", ProblemRequired, nil)
	case !p.Kind.Valid():
		pr.Add("kind", ProblemOneOf, OneOf([]PoCKind{PoCDiplomatic, PoCTechnical}))
	}
	RequiredText("name", p.Name, MaxTitleRunes, false, &pr)
	ValidText("role", p.Role, MaxTitleRunes, false, &pr)
	ValidText("organization", p.Organization, MaxTitleRunes, false, &pr)
	switch {
	case p.Email == "":
		pr.Add("email", ProblemRequired, nil)
	case !IsEmailAddress(p.Email):
		pr.Add("email", ProblemEmail, nil)
	}
	if p.Phone != "" && !ValidPhone(p.Phone) {
		pr.Add("phone", ProblemPhone, Args{"value": ArgSent(p.Phone)})
	}
	validList("languages", p.Languages, true, MaxPoCLanguages, ValidLanguage, ProblemUnknownLanguage, &pr)
	return pr.Err()
}

// String names a contact for messages without its personal data.
func (p *PoC) String() string { return fmt.Sprintf("%s PoC %s", p.Kind, p.ID) }
