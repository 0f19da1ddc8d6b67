package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// needStore is the part of the store this use case needs: the needs' documents, the audit trail, and organizations (a coordinator posts for a government).
type needStore interface {
	models.NeedStore
	models.AuditStore
	models.OrgStore
}

// Needs is the use cases of needs: ministries post them, coordinators approve them, everyone
// lists and searches what they may see.
type Needs struct {
	store   needStore
	model   *readmodel.Model
	bus     models.Bus
	cursors *Cursors
	now     Clock
	log     *slog.Logger
	// events announces transitions: notifications react, and the engagements' cascade on a
	// withdrawn or rejected need (models.FateOf), which reports what it did.
	events *Events
}

// NeedInput is the body of POST /needs. Server-owned fields (id, status, owner, timestamps,
// version) are not in it, so a body that sends them is rejected as having unknown fields.
type NeedInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	// Lang is the language of the title and description; Translations are the author's
	// versions in other languages (see models.Translation).
	Lang           string                        `json:"lang"`
	Translations   map[string]models.Translation `json:"translations"`
	Country        string                        `json:"country"`
	Theme          models.Theme                  `json:"theme"`
	Capability     models.Capability             `json:"capability"`
	Modalities     []models.Modality             `json:"modalities"`
	Languages      []string                      `json:"languages"`
	BudgetUSD      int64                         `json:"budget_usd"`
	StartBy        models.Date                   `json:"start_by"`
	DurationMonths int                           `json:"duration_months"`
	Priority       models.Priority               `json:"priority"`
	Maturity       *models.Maturity              `json:"maturity"`
	Visibility     models.Visibility             `json:"visibility"`
	// OrganizationID lets a coordinator post on behalf of a government organization.
	OrganizationID string `json:"organization_id"`
}

// NeedPatch is the body of PATCH /needs/{id}: only the fields present change. Version, when
// given, must be the version the client read (optimistic concurrency).
type NeedPatch struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Lang        *string `json:"lang"`
	// Translations are merged in (models.MergeTranslations): a language set to null is removed.
	Translations   map[string]*models.Translation `json:"translations"`
	Theme          *models.Theme                  `json:"theme"`
	Capability     *models.Capability             `json:"capability"`
	Modalities     *[]models.Modality             `json:"modalities"`
	Languages      *[]string                      `json:"languages"`
	BudgetUSD      *int64                         `json:"budget_usd"`
	StartBy        *models.Date                   `json:"start_by"`
	DurationMonths *int                           `json:"duration_months"`
	Priority       *models.Priority               `json:"priority"`
	Maturity       *models.Maturity               `json:"maturity"`
	Visibility     *models.Visibility             `json:"visibility"`
	Version        *int64                         `json:"version"`
}

// Create stores a new draft need for the actor's country (or, for a coordinator, for the
// government organization named in the input).
func (s *Needs) Create(ctx context.Context, a *models.Actor, in NeedInput) (*models.Need, error) {
	country := models.NormalizeISO(in.Country)
	if country == "" && a.Role == models.RoleMinistry {
		country = a.Country // a ministry's need is for its own country
	}
	if err := models.AuthorizeNewNeed(a, country); err != nil {
		return nil, err
	}
	orgID := a.OrgID
	if a.Role.Curates() {
		org, err := s.governmentOrg(ctx, in.OrganizationID)
		if err != nil {
			return nil, err
		}
		orgID = org.ID
		if country == "" {
			country = org.Country
		}
		if country != org.Country {
			return nil, fieldErr("country", models.ProblemOrgCountry, orgCountry(org))
		}
	} else if in.OrganizationID != "" && in.OrganizationID != a.OrgID {
		return nil, models.Errorf(models.ErrForbidden, "a ministry posts needs only for its own organization")
	}
	now := s.now().UTC()
	n := &models.Need{
		ID: models.NewID(now), Title: in.Title, Description: in.Description, Lang: in.Lang, Translations: in.Translations, Country: country,
		Theme: in.Theme, Capability: in.Capability, Modalities: in.Modalities, Languages: in.Languages,
		BudgetUSD: in.BudgetUSD, StartBy: in.StartBy, DurationMonths: in.DurationMonths, Priority: in.Priority,
		Visibility: in.Visibility, Status: models.NeedDraft, OrganizationID: orgID, CreatedBy: a.UserID,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if in.Maturity != nil {
		n.Maturity = *in.Maturity
	} else {
		n.Maturity = models.Maturity{Framework: models.FrameworkNone}
	}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateNeed(ctx, n); err != nil {
		return nil, err
	}
	s.applied(ctx, n)
	audit(ctx, s.store, s.log, now, a, "create", "need", n.ID, nil)
	return n, nil
}

// Propose stores a draft need capmatch proposes to a government organization (n.Proposal says
// why): never submitted by itself, it waits for the ministry to review, edit and submit it. The
// id is the caller's (deterministic), so proposing twice stores one need: created is false when
// it already exists.
func (s *Needs) Propose(ctx context.Context, n *models.Need) (created bool, err error) {
	now := s.now().UTC()
	n.Status, n.CreatedAt, n.UpdatedAt, n.Version = models.NeedDraft, now, now, 1
	n.CreatedBy = ""
	n.Normalize()
	if err := n.Validate(); err != nil {
		return false, err
	}
	if err := s.store.CreateNeed(ctx, n); err != nil {
		if errors.Is(err, models.ErrConflict) {
			if got, gerr := s.store.GetNeed(ctx, n.ID); gerr == nil {
				s.model.PutNeed(got) // make sure this replica has it
			}
			return false, nil
		}
		return false, err
	}
	s.applied(ctx, n)
	audit(ctx, s.store, s.log, now, nil, "propose", "need", n.ID, []string{"proposal:" + n.Proposal.Reason})
	return true, nil
}

func (s *Needs) governmentOrg(ctx context.Context, id string) (*models.Organization, error) {
	if id == "" {
		return nil, fieldErr("organization_id", models.ProblemOrgRequired, nil)
	}
	if !models.ValidID(id) {
		return nil, fieldErr("organization_id", models.ProblemUnknownOrg, nil)
	}
	org, err := s.store.GetOrg(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fieldErr("organization_id", models.ProblemUnknownOrg, nil)
	}
	if err != nil {
		return nil, err
	}
	if org.Type != models.OrgGovernment {
		return nil, fieldErr("organization_id", models.ProblemOrgNotGovernment, nil)
	}
	return org, nil
}

// Get returns a need the actor may see; any other is ErrNotFound.
func (s *Needs) Get(ctx context.Context, a *models.Actor, id string) (*models.Need, error) {
	n, err := s.find(ctx, a, id, models.ActRead)
	if err != nil {
		return nil, err
	}
	return viewAs(s.model, a).redactNeed(n), nil
}

// find reads a need for an action of the actor, through the one lookup path (see lookup).
func (s *Needs) find(ctx context.Context, a *models.Actor, id string, act models.Action) (*models.Need, error) {
	return lookup(ctx, id, "need", s.model.Need, s.store.GetNeed, s.model.PutNeed,
		func(n *models.Need) int64 { return n.Version },
		func(n *models.Need) error { return models.AuthorizeNeed(a, act, n) })
}

// load finds a need in the read model, or by _id in the store when this replica has not heard
// of it yet (a write on another replica whose event is still on its way).
func (s *Needs) load(ctx context.Context, id string) (*models.Need, error) {
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "need not found")
	}
	if n, ok := s.model.Need(id); ok {
		return n, nil
	}
	n, err := s.store.GetNeed(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Errorf(models.ErrNotFound, "need not found")
	}
	if err != nil {
		return nil, err
	}
	s.model.PutNeed(n)
	return n, nil
}

// Patch edits a need: the owner while it is a draft, a coordinator until it is finished. A
// stale version (in the body or If-Match) is ErrConflict.
func (s *Needs) Patch(ctx context.Context, a *models.Actor, id string, p NeedPatch, ifMatch *int64) (*models.Need, error) {
	want, err := pickVersion(p.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	var changed []string
	n, err := s.update(ctx, a, id, want, models.ActUpdate, func(n *models.Need) error {
		if err := n.Editable(a); err != nil {
			return err
		}
		changed = applyNeedPatch(n, p)
		n.Normalize()
		return n.Validate()
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "update", "need", id, changed)
	return n, nil
}

func applyNeedPatch(n *models.Need, p NeedPatch) []string {
	var changed []string
	set := func(name string, ok bool, apply func()) {
		if ok {
			apply()
			changed = append(changed, name)
		}
	}
	set("title", p.Title != nil, func() { n.Title = *p.Title })
	set("description", p.Description != nil, func() { n.Description = *p.Description })
	set("lang", p.Lang != nil, func() { n.Lang = *p.Lang })
	set("translations", p.Translations != nil, func() { n.Translations = models.MergeTranslations(n.Translations, p.Translations) })
	set("theme", p.Theme != nil, func() { n.Theme = *p.Theme })
	set("capability", p.Capability != nil, func() { n.Capability = *p.Capability })
	set("modalities", p.Modalities != nil, func() { n.Modalities = *p.Modalities })
	set("languages", p.Languages != nil, func() { n.Languages = *p.Languages })
	set("budget_usd", p.BudgetUSD != nil, func() { n.BudgetUSD = *p.BudgetUSD })
	set("start_by", p.StartBy != nil, func() { n.StartBy = *p.StartBy })
	set("duration_months", p.DurationMonths != nil, func() { n.DurationMonths = *p.DurationMonths })
	set("priority", p.Priority != nil, func() { n.Priority = *p.Priority })
	set("maturity", p.Maturity != nil, func() { n.Maturity = *p.Maturity })
	set("visibility", p.Visibility != nil, func() { n.Visibility = *p.Visibility })
	return changed
}

// Transition moves a need through its lifecycle on behalf of an actor: submit, approve, reject
// (reason required) or withdraw. See Change for what it does to the need's engagements.
func (s *Needs) Transition(ctx context.Context, a *models.Actor, id string, t models.NeedTransition, reason string) (*models.Need, error) {
	ch, err := s.Change(ctx, a, id, t, reason)
	if err != nil {
		return nil, err
	}
	return ch.Need, nil
}

// NeedChange is a need after a transition, with what the transition did to its engagements
// (withdraw and reject only).
type NeedChange struct {
	*models.Need
	Cascade *Cascade `json:"cascade,omitempty"`
}

// Change is Transition reporting the cascade. A withdrawal is refused (409, naming the
// project) while the need has a running project; otherwise the need's end is written first
// (the commit point) and then its proposals are withdrawn and its agreements cancelled, their
// offer slots and amounts released and both sides told (Engagements.NeedEnded), each step a
// conditional single-document write that a retry or the start-up recovery completes. Ending a
// need that has engagements of another party needs a reason: they are told why.
func (s *Needs) Change(ctx context.Context, a *models.Actor, id string, t models.NeedTransition, reason string) (*NeedChange, error) {
	act := map[models.NeedTransition]models.Action{models.NeedSubmit: models.ActSubmit, models.NeedApprove: models.ActApprove,
		models.NeedReject: models.ActReject, models.NeedWithdraw: models.ActWithdraw}[t]
	if act == "" {
		return nil, models.Errorf(models.ErrNotFound, "no such transition")
	}
	// The reason is checked once the actor is known to be allowed (update authorizes before it
	// applies), so that a caller who may not act gets 403 or 404 whatever the input.
	n, err := s.update(ctx, a, id, nil, act, func(n *models.Need) error {
		var p models.Problems
		if t == models.NeedReject {
			models.RequiredText("reason", reason, 2000, true, &p)
		} else {
			models.ValidText("reason", reason, 2000, true, &p)
		}
		if err := p.Err(); err != nil {
			return err
		}
		next, err := n.Next(t)
		if t == models.NeedWithdraw {
			if berr := models.CheckNeedEnd(n, s.engagementsOf(n.ID), systemView(s.model).projects(func(p *models.Project) bool { return p.NeedID == n.ID })); berr != nil {
				return berr
			}
		}
		if err != nil {
			return err
		}
		n.Status = next
		n.StatusReason = models.CleanText(reason)
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, string(t), "need", id, []string{"status"})
	ev := &NeedChanged{Actor: a, Need: n, Transition: t, Reason: reason}
	s.events.NeedChanged(ctx, ev)
	return &NeedChange{Need: n, Cascade: ev.Cascade}, nil
}

// engagementsOf lists the need's engagements as this replica knows them.
func (s *Needs) engagementsOf(needID string) []*models.Engagement {
	return systemView(s.model).engagements(func(e *models.Engagement) bool { return e.NeedID == needID })
}

// PlanEnd says what withdrawing the need would do to its engagements, for the confirmation the
// web asks for (the actor must be allowed to withdraw it).
func (s *Needs) PlanEnd(ctx context.Context, a *models.Actor, id string) (*models.Need, models.CascadePlan, error) {
	n, err := s.find(ctx, a, id, models.ActWithdraw)
	if err != nil {
		return nil, models.CascadePlan{}, err
	}
	if err := models.CheckNeedEnd(n, s.engagementsOf(n.ID), systemView(s.model).projects(func(p *models.Project) bool { return p.NeedID == n.ID })); err != nil {
		return nil, models.CascadePlan{}, err
	}
	if _, err := n.Next(models.NeedWithdraw); err != nil {
		return nil, models.CascadePlan{}, err
	}
	return n, models.PlanNeedEnd(s.engagementsOf(n.ID)), nil
}

// Advance applies a system transition (match, start, fulfil) caused by an engagement or a
// project, retrying on concurrent edits. It reports ErrConflict when the need is not in a state
// that allows it.
func (s *Needs) Advance(ctx context.Context, id string, t models.NeedTransition) (*models.Need, error) {
	return s.update(ctx, nil, id, nil, "", func(n *models.Need) error {
		next, err := n.Next(t)
		if err != nil {
			return err
		}
		n.Status = next
		return nil
	})
}

// update is the read-modify-write loop of every change: authorize, check the version the client
// named, apply, store conditionally on the version read, and retry when another writer got in
// between (unless the client named a version, which is then stale).
func (s *Needs) update(ctx context.Context, a *models.Actor, id string, want *int64, act models.Action, apply func(*models.Need) error) (*models.Need, error) {
	for attempt := 0; ; attempt++ {
		var cur *models.Need
		var err error
		if a != nil {
			cur, err = s.find(ctx, a, id, act)
		} else {
			cur, err = s.load(ctx, id)
		}
		if err != nil {
			return nil, err
		}
		if want != nil && *want != cur.Version {
			return nil, models.Errorf(models.ErrConflict, "version %d is stale: the need is at version %d; reload it", *want, cur.Version)
		}
		n := *cur
		n.Modalities = append([]models.Modality(nil), cur.Modalities...)
		n.Languages = append([]string(nil), cur.Languages...)
		if err := apply(&n); err != nil {
			return nil, err
		}
		n.Version = cur.Version + 1
		n.UpdatedAt = s.now().UTC()
		err = s.store.ReplaceNeed(ctx, &n, cur.Version)
		if err == nil {
			s.applied(ctx, &n)
			return &n, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 4 {
			return nil, err
		}
		// Someone wrote first (another replica, or a write this replica never heard of): take the
		// store's version, so that the caller's reload after a 409 shows it; without a version
		// to hold to, try again on it.
		if fresh, gerr := s.store.GetNeed(ctx, id); gerr == nil {
			s.model.PutNeed(fresh)
		}
		if want != nil {
			return nil, err
		}
	}
}

// applied announces an acknowledged write on the change log, which applies it to this
// replica's model and the others' (commit).
func (s *Needs) applied(ctx context.Context, n *models.Need) {
	commit(ctx, s.bus, s.log, models.Event{Type: models.EventNeed, ID: n.ID, Version: n.Version, At: n.UpdatedAt, Data: mustJSON(n)},
		func() { s.model.PutNeed(n) })
}

// NeedListParams are the list and search parameters of GET /needs.
type NeedListParams struct {
	Country, Theme, Capability, Status, Q, Sort, Cursor, OrgID string
	Limit                                                      int
}

// List returns a page of the needs the actor may see, with the cursor of the next page.
func (s *Needs) List(ctx context.Context, a *models.Actor, p NeedListParams) ([]*models.Need, string, error) {
	var probs models.Problems
	q := readmodel.NeedQuery{Country: models.NormalizeISO(p.Country), Theme: models.Theme(p.Theme), Capability: models.Capability(p.Capability),
		Status: models.NeedStatus(p.Status), OrgID: p.OrgID, Q: p.Q, Sort: p.Sort, Limit: p.Limit}
	if q.Country != "" && !models.ValidISO(q.Country) {
		probs.Add("country", models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(p.Country)})
	}
	if q.Theme != "" && !q.Theme.Valid() {
		probs.Add("theme", models.ProblemUnknownTheme, models.Args{"value": models.ArgSent(p.Theme)})
	}
	if q.Capability != "" && !q.Capability.Valid() {
		probs.Add("capability", models.ProblemUnknownCapability, models.Args{"value": models.ArgSent(p.Capability)})
	}
	if q.Status != "" && !validNeedStatus(q.Status) {
		probs.Add("status", models.ProblemOneOf, models.OneOf(needStatuses))
	}
	switch q.Sort {
	case "":
		q.Sort = readmodel.SortNewest
	case readmodel.SortNewest, readmodel.SortPriority:
	default:
		probs.Add("sort", models.ProblemOneOf, models.OneOf([]string{readmodel.SortNewest, readmodel.SortPriority}))
	}
	models.ValidText("q", p.Q, 200, false, &probs)
	if err := probs.Err(); err != nil {
		return nil, "", err
	}
	canon := strings.Join([]string{"needs", q.Country, string(q.Theme), string(q.Capability), string(q.Status), q.OrgID, readmodel.Fold(strings.TrimSpace(q.Q)), q.Sort}, "|")
	after, err := s.cursors.Decode(p.Cursor, canon)
	if err != nil {
		return nil, "", err
	}
	q.After = after
	v := viewAs(s.model, a)
	page := v.needs(q)
	for i, n := range page.Items {
		page.Items[i] = v.redactNeed(n)
	}
	return page.Items, s.cursors.Encode(page.Next, canon), nil
}

// Queue is the coordinators' approval queue: the submitted needs, the one waiting longest
// first (by the time of its last write, which for a submitted need is its submission unless a
// coordinator has edited it since), at most limit of them, so that no need waits behind newer
// ones however urgent they say they are.
func (s *Needs) Queue(ctx context.Context, a *models.Actor, limit int) ([]*models.Need, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return nil, err
	}
	page := viewAs(s.model, a).needs(readmodel.NeedQuery{Status: models.NeedSubmitted, Limit: math.MaxInt})
	items := page.Items
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].UpdatedAt.Equal(items[j].UpdatedAt) {
			return items[i].UpdatedAt.Before(items[j].UpdatedAt)
		}
		return items[i].ID < items[j].ID
	})
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// needStatuses are the statuses a need list may be filtered by.
var needStatuses = []models.NeedStatus{models.NeedDraft, models.NeedSubmitted, models.NeedOpen, models.NeedMatched,
	models.NeedInProgress, models.NeedFulfilled, models.NeedWithdrawn}

func validNeedStatus(st models.NeedStatus) bool { return slices.Contains(needStatuses, st) }

// pickVersion reconciles the version named in the body and in If-Match.
func pickVersion(body, header *int64) (*int64, error) {
	if body != nil && header != nil && *body != *header {
		return nil, fieldErr("version", models.ProblemVersionMismatch, nil)
	}
	if body != nil {
		return body, nil
	}
	return header, nil
}

// fieldErr is the 422 of one field's problem: a problem code (models.Problem*) and its
// arguments.
func fieldErr(field, code string, args models.Args) error {
	return models.Invalid(field, code, args)
}

// orgCountry is the arguments of an org_country problem: the organization and its country.
func orgCountry(org *models.Organization) models.Args {
	return models.Args{"organization": models.ArgText(org.Name), "country": models.ArgOf(models.KindCountry, org.Country)}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil // receivers reload by id
	}
	return b
}

// commit announces a change the store acknowledged: it appends it to the change log, whose
// consumer applies it to this replica (in the log's order, stamped with its position) before
// Publish returns, and which the other replicas apply too. When that fails (the log is
// unreachable, or this replica's consumer has not applied it in time), local applies the
// change to this replica alone, ahead of the log: the log keeps the event and appends it when
// it can, and meanwhile this replica trusts no cache. local may be nil for a change the caller
// applied itself already.
func commit(ctx context.Context, bus models.Bus, log *slog.Logger, e models.Event, local func()) {
	if _, err := bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		log.DebugContext(ctx, "change applied here ahead of the change log", "err", err, "type", e.Type, "id", e.ID)
		if local != nil {
			local()
		}
	}
}

// publish announces a change this replica applied already (revocations, profiles, weights):
// the log's own application of it is a repetition, harmless since applying is idempotent.
func publish(ctx context.Context, bus models.Bus, log *slog.Logger, e models.Event) {
	commit(ctx, bus, log, e, nil)
}
