package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
)

// Accounts manages organizations and users.
type Accounts struct {
	orgs  models.OrgStore
	users models.UserStore
	audit models.AuditStore
	auth  *Auth
	// Passwords hashes and judges new passwords.
	passwords models.Passwords
	// Activities knows the aid-data standard's code lists (an organization's IATI type).
	activities models.ActivityExporter
	now        Clock
	log        *slog.Logger

	names orgNames
}

// orgNames keeps organization names for the lists and pages that say who is behind each need
// and offer (a page of 100 offers must not cost 100 store reads). They are loaded with the
// rest of the in-memory state (LoadOrgNames) and kept as organizations are created, so that
// the lists, which are served from memory, keep naming them while the store is unreachable.
// No use case renames an organization, so an entry stays until the cache is full and starts
// again.
type orgNames struct {
	mu sync.Mutex
	m  map[string]string
}

// maxOrgNames bounds the organization names kept in memory.
const maxOrgNames = 10_000

// remember keeps an organization's name.
func (c *orgNames) remember(id, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxOrgNames {
		c.m = map[string]string{}
	}
	c.m[id] = name
}

// OrgInput is what a coordinator sends to create an organization.
type OrgInput struct {
	Name     string         `json:"name"`
	Type     models.OrgType `json:"type"`
	Country  string         `json:"country"`
	IATIRef  string         `json:"iati_ref"`
	IATIType string         `json:"iati_type"`
	// PublishesIATI says the organization publishes its own activities to IATI (it then
	// needs its iati_ref): capmatch's export marks itself a secondary reporter of the
	// projects it funds.
	PublishesIATI bool `json:"publishes_to_iati"`
}

// Validate collects every problem with the input; validOrgType judges an IATI organisation
// type code (the aid-data adapter's code list; nil accepts none).
func (in *OrgInput) Validate(validOrgType func(string) bool) error {
	var p models.Problems
	models.RequiredText("name", in.Name, models.MaxTitleRunes, false, &p)
	if !in.Type.Valid() {
		p.Add("type", models.ProblemOneOf, models.OneOf(models.OrgTypes))
	}
	in.Country = models.NormalizeISO(in.Country)
	switch {
	case in.Country == "" && in.Type == models.OrgGovernment:
		p.Add("country", models.ProblemRequired, nil)
	case in.Country != "":
		if _, ok := models.LookupCountry(in.Country); !ok {
			p.Add("country", models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(in.Country)})
		}
	}
	in.IATIRef, in.IATIType = strings.TrimSpace(in.IATIRef), strings.TrimSpace(in.IATIType)
	if models.ValidText("iati_ref", in.IATIRef, 100, false, &p) && strings.ContainsAny(in.IATIRef, "/&|? \t") {
		p.Add("iati_ref", models.ProblemIATIRef, nil)
	}
	if in.IATIType != "" && (validOrgType == nil || !validOrgType(in.IATIType)) {
		p.Add("iati_type", models.ProblemIATIOrgType, nil)
	}
	if in.PublishesIATI && in.IATIRef == "" {
		p.Add("iati_ref", models.ProblemRequired, nil)
	}
	return p.Err()
}

// CreateOrg creates an organization on behalf of a coordinator or admin.
func (s *Accounts) CreateOrg(ctx context.Context, a *models.Actor, in OrgInput) (*models.Organization, error) {
	if err := models.AuthorizeAccounts(a, models.ActManage, ""); err != nil {
		return nil, err
	}
	return s.createOrg(ctx, a, in)
}

// CreateOrgDirect creates an organization with no actor: for the command line and bootstrap.
func (s *Accounts) CreateOrgDirect(ctx context.Context, in OrgInput) (*models.Organization, error) {
	return s.createOrg(ctx, nil, in)
}

func (s *Accounts) createOrg(ctx context.Context, a *models.Actor, in OrgInput) (*models.Organization, error) {
	var validOrgType func(string) bool
	if s.activities != nil {
		validOrgType = s.activities.ValidOrgType
	}
	if err := in.Validate(validOrgType); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	o := &models.Organization{ID: models.NewID(now), Name: models.CleanText(in.Name), Type: in.Type, Country: in.Country,
		IATIRef: in.IATIRef, IATIType: in.IATIType, PublishesIATI: in.PublishesIATI, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.orgs.CreateOrg(ctx, o); err != nil {
		return nil, err
	}
	s.names.remember(o.ID, o.Name)
	audit(ctx, s.audit, s.log, now, a, "create", "organization", o.ID, []string{"name", "type", "country"})
	return o, nil
}

// GetOrg returns an organization; any signed-in user may read organizations (they are the
// parties of public needs, offers and projects).
func (s *Accounts) GetOrg(ctx context.Context, id string) (*models.Organization, error) {
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "organization not found")
	}
	return s.orgs.GetOrg(ctx, id)
}

// OrgName is the name of the organization with that id, for showing who posted a need or an
// offer; "" when there is no such organization. Organization names are not secret: anyone
// who may see a need or an offer may know who is behind it.
func (s *Accounts) OrgName(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	s.names.mu.Lock()
	name, ok := s.names.m[id]
	s.names.mu.Unlock()
	if ok {
		return name, nil
	}
	org, err := s.GetOrg(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	s.names.remember(id, org.Name)
	return org.Name, nil
}

// LoadOrgNames reads every organization's name from the store into memory, up to maxOrgNames
// of them; it runs whenever the replica reloads its state (Sync.Reconcile: at start, after the
// demo data is loaded, and periodically).
func (s *Accounts) LoadOrgNames(ctx context.Context) error {
	orgs, err := s.orgs.ListOrgs(ctx)
	if err != nil {
		return fmt.Errorf("load organization names: %w", err)
	}
	for i, o := range orgs {
		if i == maxOrgNames {
			break
		}
		s.names.remember(o.ID, o.Name)
	}
	return nil
}

// ListOrgs lists every organization.
func (s *Accounts) ListOrgs(ctx context.Context) ([]*models.Organization, error) {
	return s.orgs.ListOrgs(ctx)
}

// UserInput is what a coordinator sends to create an account.
type UserInput struct {
	Email          string      `json:"email"`
	Password       string      `json:"password"`
	Name           string      `json:"name"`
	Role           models.Role `json:"role"`
	OrganizationID string      `json:"organization_id"`
	// MustChangePassword asks the user to choose their own password before anything else
	// (a password someone else chose and still knows). The web form and the command line ask
	// for it by default; through the API it is opt-in, so that the contract's flow of creating
	// an account and then acting as it (scripts, integrations, service accounts) keeps working.
	MustChangePassword bool `json:"must_change_password"`
}

// validate collects every problem with the input; org is the organization it names, if found.
// strong applies the password rules (pw.Check); only the demo data set, whose published
// passwords are deliberately simple, is loaded without them.
func (in *UserInput) validate(pw models.Passwords, org *models.Organization, strong bool) error {
	var p models.Problems
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		p.Add("email", models.ProblemEmail, nil)
	}
	if strong {
		checkPassword(pw, "password", in.Password, in.Email, in.Name, &p)
	} else if n := utf8.RuneCountInString(in.Password); n < models.PasswordMinLength || len(in.Password) > models.PasswordMaxBytes {
		p.Add("password", models.ProblemPasswordLength, models.Args{"min": models.ArgInt(models.PasswordMinLength), "max": models.ArgInt(models.PasswordMaxBytes)})
	}
	models.RequiredText("name", in.Name, models.MaxTitleRunes, false, &p)
	if !in.Role.Valid() {
		p.Add("role", models.ProblemOneOf, models.OneOf(models.Roles))
	}
	switch {
	case org == nil:
		p.Add("organization_id", models.ProblemUnknownOrg, nil)
	case in.Role.Valid() && !in.Role.FitsOrg(org.Type):
		p.Add("role", models.ProblemRoleOrg, models.Args{"role": models.ArgCode(string(in.Role)), "org_type": models.ArgCode(string(org.Type))})
	}
	return p.Err()
}

// CreateUser creates an account. The password must pass the password rules; it is hashed with
// argon2id and never stored, returned or logged in clear. An account a coordinator or an admin
// creates must change its password at first sign-in: its creator knows it.
func (s *Accounts) CreateUser(ctx context.Context, a *models.Actor, in UserInput) (*models.User, error) {
	return s.createUser(ctx, a, in, true)
}

func (s *Accounts) createUser(ctx context.Context, a *models.Actor, in UserInput, strong bool) (*models.User, error) {
	if a != nil { // nil: bootstrap from the environment or the command line
		if err := models.AuthorizeAccounts(a, models.ActManage, in.Role); err != nil {
			return nil, err
		}
	}
	var org *models.Organization
	if models.ValidID(in.OrganizationID) {
		o, err := s.orgs.GetOrg(ctx, in.OrganizationID)
		switch {
		case err == nil:
			org = o
		case !errors.Is(err, models.ErrNotFound):
			return nil, err
		}
	}
	if err := in.validate(s.passwords, org, strong); err != nil {
		return nil, err
	}
	hash, err := s.passwords.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &models.User{ID: models.NewID(now), Email: in.Email, EmailKey: EmailKey(in.Email), Name: models.CleanText(in.Name),
		Role: in.Role, OrganizationID: org.ID, PasswordHash: hash, MustChangePassword: in.MustChangePassword,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if in.Role == models.RoleMinistry {
		u.Country = org.Country
	}
	if err := s.users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, &models.Error{Kind: models.ErrConflict, Detail: "an account with this e-mail already exists",
				Fields: []models.FieldError{{Field: "email", Code: models.ProblemEmailTaken}}}
		}
		return nil, err
	}
	audit(ctx, s.audit, s.log, now, a, "create", "user", u.ID, []string{"email", "name", "role", "organization_id"})
	return u, nil
}

// GetUser returns an account to a coordinator, or to the user themself.
func (s *Accounts) GetUser(ctx context.Context, a *models.Actor, id string) (*models.User, error) {
	if a.UserID != id {
		if err := models.AuthorizeAccounts(a, models.ActRead, ""); err != nil {
			return nil, models.Errorf(models.ErrNotFound, "user not found")
		}
	}
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "user not found")
	}
	return s.users.GetUser(ctx, id)
}

// Me is the signed-in user's own account (GET /api/v1/me), from memory when that is safe
// (userCache): the account as the store holds it, never one a change since has altered.
func (s *Accounts) Me(ctx context.Context, a *models.Actor) (*models.User, error) {
	if !models.ValidID(a.UserID) {
		return nil, models.Errorf(models.ErrNotFound, "user not found")
	}
	return s.auth.me.get(ctx, a.UserID)
}

// SetLanguage remembers the UI language a user chose (one of the six UN languages) on their
// account, so that signing in on another browser brings it back.
func (s *Accounts) SetLanguage(ctx context.Context, a *models.Actor, lang string) error {
	if !slices.Contains(models.SupportedLangs, lang) {
		return fieldErr("lang", models.ProblemOneOf, models.OneOf(models.SupportedLangs))
	}
	if err := s.users.SetUserLang(ctx, a.UserID, lang, s.now().UTC()); err != nil {
		return err
	}
	s.auth.userChanged(ctx, a.UserID)
	return nil
}

// ListUsers lists accounts for coordinators.
func (s *Accounts) ListUsers(ctx context.Context, a *models.Actor) ([]*models.User, error) {
	if err := models.AuthorizeAccounts(a, models.ActRead, ""); err != nil {
		return nil, err
	}
	return s.users.ListUsers(ctx)
}

// SetDisabled disables or re-enables an account. Disabling ends all its sessions at once.
func (s *Accounts) SetDisabled(ctx context.Context, a *models.Actor, id string, disabled bool) (*models.User, error) {
	target, err := s.GetUser(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeAccounts(a, models.ActDisable, target.Role); err != nil {
		return nil, err
	}
	if target.ID == a.UserID {
		return nil, models.Errorf(models.ErrConflict, "you cannot disable your own account")
	}
	u, err := s.users.SetUserDisabled(ctx, id, disabled, s.now().UTC())
	s.auth.me.drop(id)
	if err != nil {
		return nil, err
	}
	if disabled {
		if err := s.auth.RevokeUser(ctx, id); err != nil {
			return nil, fmt.Errorf("end sessions: %w", err)
		}
	} else if err := s.auth.RestoreUser(ctx, id); err != nil {
		return nil, fmt.Errorf("re-enable sign-in: %w", err)
	}
	action := "enable"
	if disabled {
		action = "disable"
	}
	audit(ctx, s.audit, s.log, s.now(), a, action, "user", id, []string{"disabled"})
	return u, nil
}

// EnsureAdmin creates an admin (and a coordinating organization for it) when the store has no
// users yet: how the first account comes to exist. It reports whether it created one.
func (s *Accounts) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	n, err := s.users.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	now := s.now().UTC()
	org := &models.Organization{ID: "org-coordination", Name: "capmatch coordination desk", Type: models.OrgCoordinator,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.orgs.CreateOrg(ctx, org); err != nil && !errors.Is(err, models.ErrConflict) {
		return false, err
	}
	_, err = s.CreateUser(ctx, nil, UserInput{Email: email, Password: password, Name: "Administrator", Role: models.RoleAdmin, OrganizationID: org.ID})
	if err != nil {
		return false, err
	}
	return true, nil
}

// AuditTrail lists audit entries for coordinators.
func (s *Accounts) AuditTrail(ctx context.Context, a *models.Actor, objectID string, limit int) ([]*models.AuditEntry, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return nil, err
	}
	if objectID != "" && !models.ValidID(objectID) && !models.ValidISO(objectID) {
		return nil, models.Invalid("object_id", models.ProblemInvalidID, nil)
	}
	return s.audit.ListAudit(ctx, objectID, limit)
}
