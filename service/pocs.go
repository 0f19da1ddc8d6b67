package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/capmatch/capmatch/models"
)

// pocStore is the part of the store this use case needs: the Points of Contact directories, the accounts they are linked to, the audit trail.
type pocStore interface {
	models.PoCStore
	models.UserStore
	models.AuditStore
}

// PoCs is the use cases of the Points of Contact directory: each state's diplomatic and
// technical contacts, kept by its ministries (and coordinators), read by those the policy
// allows (models.CanSeePoCs). Every change is audited by field name only: the audit trail, like
// the logs, never holds a contact's personal data. The directory derives the PoC part of the
// country's readiness (Countries.SetPoCReadiness).
type PoCs struct {
	store     pocStore
	countries *Countries
	now       Clock
	log       *slog.Logger
}

// PoCList is a state's contacts as GET /countries/{iso}/pocs returns them.
type PoCList struct {
	ISO   string       `json:"iso"`
	Items []models.PoC `json:"items"`
	// Version is the directory's version (for If-Match on the list's writes; each item also
	// has its own).
	Version int64 `json:"version"`
}

// PoCPatch is the body of PATCH /countries/{iso}/pocs/{id}: only the fields present change.
type PoCPatch struct {
	Kind         *models.PoCKind `json:"kind"`
	Name         *string         `json:"name"`
	Role         *string         `json:"role"`
	Organization *string         `json:"organization"`
	Email        *string         `json:"email"`
	Phone        *string         `json:"phone"`
	Languages    *[]string       `json:"languages"`
	Version      *int64          `json:"version"`
}

// PoCOf returns the state whose nominated Point of Contact the actor is, or "": a ministry
// account whose link (made when a contact with its e-mail address was saved) is confirmed by the
// state's directory. Only ministries can be one, and only of their own state.
func (s *PoCs) PoCOf(ctx context.Context, a *models.Actor) (string, error) {
	if a == nil || a.Role != models.RoleMinistry || a.UserID == "" {
		return "", nil
	}
	iso, err := s.store.GetPoCLink(ctx, a.UserID)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if iso != a.Country {
		return "", nil // a stale link (the account moved): no standing
	}
	d, err := s.store.GetPoCDirectory(ctx, iso)
	if err != nil {
		return "", err
	}
	if !d.HasUser(a.UserID) {
		return "", nil // the contact changed or left; the link is stale
	}
	return iso, nil
}

// authorize resolves the state and applies the policy, looking the actor's PoC standing up only
// when it can matter (a ministry of another state).
func (s *PoCs) authorize(ctx context.Context, a *models.Actor, act models.Action, iso string) (string, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return "", models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	pocOf := ""
	if a != nil && a.Role == models.RoleMinistry && a.Country != iso {
		var err error
		if pocOf, err = s.PoCOf(ctx, a); err != nil {
			return "", err
		}
	}
	return iso, models.AuthorizePoCs(a, act, iso, pocOf)
}

// Access says what the actor may do with a state's contacts, for pages that show or hide them.
func (s *PoCs) Access(ctx context.Context, a *models.Actor, iso string) (see, keep bool) {
	if _, err := s.authorize(ctx, a, models.ActRead, iso); err != nil {
		return false, false
	}
	_, err := s.authorize(ctx, a, models.ActUpdate, iso)
	return true, err == nil
}

func listView(d *models.PoCDirectory) *PoCList {
	out := &PoCList{ISO: d.ISO, Items: make([]models.PoC, len(d.Items)), Version: d.Version}
	for i, p := range d.Items {
		p.Linked = p.UserID != ""
		p.Languages = slices.Clone(p.Languages)
		out.Items[i] = p
	}
	return out
}

// List returns a state's contacts; 404 for whoever may not see them.
func (s *PoCs) List(ctx context.Context, a *models.Actor, iso string) (*PoCList, error) {
	iso, err := s.authorize(ctx, a, models.ActRead, iso)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetPoCDirectory(ctx, iso)
	if err != nil {
		return nil, err
	}
	return listView(d), nil
}

// Get returns one contact.
func (s *PoCs) Get(ctx context.Context, a *models.Actor, iso, id string) (*models.PoC, error) {
	l, err := s.List(ctx, a, iso)
	if err != nil {
		return nil, err
	}
	for i := range l.Items {
		if l.Items[i].ID == id {
			return &l.Items[i], nil
		}
	}
	return nil, models.Errorf(models.ErrNotFound, "point of contact not found")
}

// linkOf finds the account a contact's address belongs to, when that is an active ministry
// account of the same state: the contact then "is" that account (models.PoC.UserID).
func (s *PoCs) linkOf(ctx context.Context, iso, email string) (userID, orgID string, err error) {
	u, err := s.store.GetUserByEmail(ctx, EmailKey(email))
	if errors.Is(err, models.ErrNotFound) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if u.Role != models.RoleMinistry || u.Country != iso || u.Disabled {
		return "", "", nil
	}
	return u.ID, u.OrganizationID, nil
}

// Create adds a contact to a state's directory (its ministries, coordinators).
func (s *PoCs) Create(ctx context.Context, a *models.Actor, iso string, in models.PoCInput) (*models.PoC, error) {
	iso, err := s.authorize(ctx, a, models.ActCreate, iso)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p := models.PoC{ID: models.NewID(now), Kind: in.Kind, Name: in.Name, Role: in.Role, Organization: in.Organization,
		Email: in.Email, Phone: in.Phone, Languages: slices.Clone(in.Languages), CreatedAt: now, UpdatedAt: now, Version: 1}
	if a.Role == models.RoleMinistry {
		p.NominatedBy = a.OrgID
	}
	p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.UserID, _, err = s.linkOf(ctx, iso, p.Email); err != nil {
		return nil, err
	}
	d, err := s.update(ctx, a, iso, func(d *models.PoCDirectory) error {
		if len(d.Items) >= models.MaxPoCsPerCountry {
			return &models.Error{Kind: models.ErrInvalid, Detail: fmt.Sprintf("a state lists at most %d Points of Contact; remove one first", models.MaxPoCsPerCountry)}
		}
		d.Items = append(d.Items, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.relink(ctx, d, "", p.UserID)
	audit(ctx, s.store, s.log, now, a, "create", "poc", p.ID, []string{"country:" + iso})
	got, _ := d.PoC(p.ID)
	out := *got
	out.Linked = out.UserID != ""
	return &out, nil
}

// Update changes the fields present in the patch, guarded by the contact's version when given
// (in the body or If-Match).
func (s *PoCs) Update(ctx context.Context, a *models.Actor, iso, id string, in PoCPatch, ifMatch *int64) (*models.PoC, error) {
	iso, err := s.authorize(ctx, a, models.ActUpdate, iso)
	if err != nil {
		return nil, err
	}
	want, err := pickVersion(in.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var changed []string
	var oldUser, newUser string
	d, err := s.update(ctx, a, iso, func(d *models.PoCDirectory) error {
		cur, ok := d.PoC(id)
		if !ok {
			return models.Errorf(models.ErrNotFound, "point of contact not found")
		}
		if want != nil && *want != cur.Version {
			return models.Errorf(models.ErrConflict, "version %d is stale: the contact is at version %d; reload it", *want, cur.Version)
		}
		next := *cur
		next.Languages = slices.Clone(cur.Languages)
		changed = changed[:0]
		setS := func(name string, v *string, dst *string) {
			if v != nil {
				*dst = *v
				changed = append(changed, name)
			}
		}
		if in.Kind != nil {
			next.Kind = *in.Kind
			changed = append(changed, "kind")
		}
		setS("name", in.Name, &next.Name)
		setS("role", in.Role, &next.Role)
		setS("organization", in.Organization, &next.Organization)
		setS("email", in.Email, &next.Email)
		setS("phone", in.Phone, &next.Phone)
		if in.Languages != nil {
			next.Languages = slices.Clone(*in.Languages)
			changed = append(changed, "languages")
		}
		next.Normalize()
		if err := next.Validate(); err != nil {
			return err
		}
		if next.Email != cur.Email || next.UserID == "" {
			uid, _, err := s.linkOf(ctx, iso, next.Email)
			if err != nil {
				return err
			}
			next.UserID = uid
		}
		if a.Role == models.RoleMinistry {
			next.NominatedBy = a.OrgID
		}
		oldUser, newUser = cur.UserID, next.UserID
		next.UpdatedAt, next.Version = now, cur.Version+1
		*cur = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.relink(ctx, d, oldUser, newUser)
	audit(ctx, s.store, s.log, now, a, "update", "poc", id, changed)
	got, _ := d.PoC(id)
	out := *got
	out.Linked = out.UserID != ""
	return &out, nil
}

// Delete removes a contact from the directory.
func (s *PoCs) Delete(ctx context.Context, a *models.Actor, iso, id string) error {
	iso, err := s.authorize(ctx, a, models.ActDelete, iso)
	if err != nil {
		return err
	}
	var oldUser string
	d, err := s.update(ctx, a, iso, func(d *models.PoCDirectory) error {
		i := slices.IndexFunc(d.Items, func(p models.PoC) bool { return p.ID == id })
		if i < 0 {
			return models.Errorf(models.ErrNotFound, "point of contact not found")
		}
		oldUser = d.Items[i].UserID
		d.Items = slices.Delete(d.Items, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	s.relink(ctx, d, oldUser, "")
	audit(ctx, s.store, s.log, s.now(), a, "delete", "poc", id, []string{"country:" + iso})
	return nil
}

// relink keeps the user → state links in step with the directory after a write: a user who is
// no longer any contact of the state loses the link, a newly linked one gets it. A failure is
// logged and fails closed: PoCOf always confirms a link against the directory, so a link left
// behind gives no access, and a missing one only withholds it until the contact is saved again.
func (s *PoCs) relink(ctx context.Context, d *models.PoCDirectory, oldUser, newUser string) {
	ctx = context.WithoutCancel(ctx)
	if oldUser != "" && oldUser != newUser && !d.HasUser(oldUser) {
		if err := s.store.DeletePoCLink(ctx, oldUser); err != nil {
			s.log.WarnContext(ctx, "poc link not removed (it gives no access: links are confirmed against the directory)", "err", err, "country", d.ISO)
		}
	}
	if newUser != "" {
		if err := s.store.PutPoCLink(ctx, newUser, d.ISO); err != nil {
			s.log.WarnContext(ctx, "poc link not stored; saving the contact again links it", "err", err, "country", d.ISO)
		}
	}
}

// update is the directory's read-modify-write loop, retried when another write got in between;
// after the write it derives the country's PoC readiness again.
func (s *PoCs) update(ctx context.Context, a *models.Actor, iso string, edit func(d *models.PoCDirectory) error) (*models.PoCDirectory, error) {
	d, err := s.modify(ctx, iso, func(d *models.PoCDirectory) (bool, error) {
		if err := edit(d); err != nil {
			return false, err
		}
		if a != nil && a.Role == models.RoleMinistry {
			d.KeptBy = a.OrgID
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	s.derive(ctx, d)
	return d, nil
}

// modify reads a state's directory, lets edit change a copy (reporting whether it did) and
// stores it if nobody wrote in between, retrying otherwise. It returns what is stored.
func (s *PoCs) modify(ctx context.Context, iso string, edit func(d *models.PoCDirectory) (bool, error)) (*models.PoCDirectory, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetPoCDirectory(ctx, iso)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.ISO = iso
		next.Items = slices.Clone(cur.Items)
		for i := range next.Items {
			next.Items[i].Languages = slices.Clone(next.Items[i].Languages)
		}
		next.Checks = slices.Clone(cur.Checks)
		ok, err := edit(&next)
		if err != nil {
			return nil, err
		}
		if !ok {
			return cur, nil
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.now().UTC()
		err = s.store.PutPoCDirectory(ctx, &next, cur.Version)
		if err == nil {
			return &next, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 8 {
			return nil, fmt.Errorf("store points of contact of %s: %w", iso, err)
		}
	}
}

// derive writes the PoC part of the country's readiness from its directory. A failure is
// logged: the write that changed the directory has happened, and Rederive (at start-up) or
// the next change repairs it.
func (s *PoCs) derive(ctx context.Context, d *models.PoCDirectory) {
	if s.countries == nil {
		return
	}
	if err := s.countries.SetPoCReadiness(context.WithoutCancel(ctx), d.ISO, d.Readiness(s.now())); err != nil {
		s.log.WarnContext(ctx, "derived readiness not stored", "err", err, "country", d.ISO)
	}
}

// Rederive derives the PoC readiness of every state from the directory: at start-up, so that a
// profile written before readiness was derived (or by a replica that stopped half-way) shows
// what the directory holds. Profiles that already agree are not written.
func (s *PoCs) Rederive(ctx context.Context) error {
	dirs, err := s.store.ListPoCDirectories(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		seen[d.ISO] = true
		if err := s.countries.SetPoCReadiness(ctx, d.ISO, d.Readiness(s.now())); err != nil {
			return err
		}
	}
	for _, c := range models.Countries() {
		if seen[c.ISO] {
			continue
		}
		p, ok := s.countries.model.Profile(c.ISO)
		if ok && (p.Readiness.PoCNominated || p.Readiness.PoCReachable || p.Readiness.PoCLastCheck != nil || p.Readiness.PoCMissedChecks != 0) {
			if err := s.countries.SetPoCReadiness(ctx, c.ISO, models.PoCReadiness{}); err != nil {
				return err
			}
		}
	}
	return nil
}
