package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// offerStore is the part of the store this use case needs: the offers' documents and the audit trail.
type offerStore interface {
	models.OfferStore
	models.AuditStore
}

// Offers is the use cases of offers: donors post and publish programmes; everyone signed in
// lists and searches the published ones.
type Offers struct {
	store   offerStore
	model   *readmodel.Model
	bus     models.Bus
	cursors *Cursors
	now     Clock
	log     *slog.Logger
	// events announces transitions and edits: notifications react to a publication, the
	// engagements to a close (models.FateOf) and to an edit that leaves no capacity.
	events *Events
}

// OfferView is an offer as a reader sees it: with what is left of it for everyone, and what is
// committed for its organization and coordinators only (models.CanSeeOfferCommitments).
type OfferView struct {
	*models.Offer
	EngagementsRemaining int   `json:"engagements_remaining"`
	BudgetRemaining      int64 `json:"budget_remaining_usd"`
	// BudgetCommitted shadows the stored figure: absent for readers who may not see it.
	BudgetCommitted *int64 `json:"budget_committed_usd,omitempty"`
}

// ViewOffer prepares an offer for a reader.
func ViewOffer(a *models.Actor, o *models.Offer) *OfferView {
	v := &OfferView{Offer: o, EngagementsRemaining: o.SlotsLeft(), BudgetRemaining: o.RemainingBudget()}
	if models.CanSeeOfferCommitments(a, o) {
		c := o.BudgetCommitted
		v.BudgetCommitted = &c
	}
	return v
}

// ViewOffers prepares a list of offers for a reader.
func ViewOffers(a *models.Actor, offers []*models.Offer) []*OfferView {
	out := make([]*OfferView, len(offers))
	for i, o := range offers {
		out[i] = ViewOffer(a, o)
	}
	return out
}

// OfferInput is the body of POST /offers.
type OfferInput struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	// Lang is the language of the title and description; Translations are the author's
	// versions in other languages (see models.Translation).
	Lang              string                        `json:"lang"`
	Translations      map[string]models.Translation `json:"translations"`
	Themes            []models.Theme                `json:"themes"`
	Capabilities      []models.Capability           `json:"capabilities"`
	Modalities        []models.Modality             `json:"modalities"`
	Languages         []string                      `json:"languages"`
	EligibleCountries []string                      `json:"eligible_countries"`
	EligibleRegions   []string                      `json:"eligible_regions"`
	BudgetUSD         int64                         `json:"budget_usd"`
	MaxEngagements    int                           `json:"max_engagements"`
	AvailableFrom     models.Date                   `json:"available_from"`
	AvailableUntil    models.Date                   `json:"available_until"`
	// ContactName and ContactEmail publish the programme's contact to signed-in users
	// (optional; an e-mail address is needed with a name).
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
}

// OfferPatch is the body of PATCH /offers/{id}.
type OfferPatch struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Lang        *string `json:"lang"`
	// Translations are merged in (models.MergeTranslations): a language set to null is removed.
	Translations      map[string]*models.Translation `json:"translations"`
	Themes            *[]models.Theme                `json:"themes"`
	Capabilities      *[]models.Capability           `json:"capabilities"`
	Modalities        *[]models.Modality             `json:"modalities"`
	Languages         *[]string                      `json:"languages"`
	EligibleCountries *[]string                      `json:"eligible_countries"`
	EligibleRegions   *[]string                      `json:"eligible_regions"`
	BudgetUSD         *int64                         `json:"budget_usd"`
	MaxEngagements    *int                           `json:"max_engagements"`
	AvailableFrom     *models.Date                   `json:"available_from"`
	AvailableUntil    *models.Date                   `json:"available_until"`
	ContactName       *string                        `json:"contact_name"`
	ContactEmail      *string                        `json:"contact_email"`
	Version           *int64                         `json:"version"`
}

// Create stores a new draft offer of the donor's organization.
func (s *Offers) Create(ctx context.Context, a *models.Actor, in OfferInput) (*models.Offer, error) {
	if err := models.AuthorizeNewOffer(a); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	o := &models.Offer{
		ID: models.NewID(now), Title: in.Title, Description: in.Description, Lang: in.Lang, Translations: in.Translations,
		Themes: in.Themes, Capabilities: in.Capabilities,
		Modalities: in.Modalities, Languages: in.Languages, EligibleCountries: in.EligibleCountries, EligibleRegions: in.EligibleRegions,
		BudgetUSD: in.BudgetUSD, MaxEngagements: in.MaxEngagements, AvailableFrom: in.AvailableFrom, AvailableUntil: in.AvailableUntil,
		ContactName: in.ContactName, ContactEmail: in.ContactEmail,
		Status: models.OfferDraft, OrganizationID: a.OrgID, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	fillEmpty(o)
	o.Normalize()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateOffer(ctx, o); err != nil {
		return nil, err
	}
	s.applied(ctx, o)
	audit(ctx, s.store, s.log, now, a, "create", "offer", o.ID, nil)
	return o, nil
}

// fillEmpty makes absent lists empty lists, so they encode as [] and never as null.
func fillEmpty(o *models.Offer) {
	if o.EligibleCountries == nil {
		o.EligibleCountries = []string{}
	}
	if o.EligibleRegions == nil {
		o.EligibleRegions = []string{}
	}
	if o.Capabilities == nil {
		o.Capabilities = []models.Capability{}
	}
}

// Get returns an offer the actor may see.
func (s *Offers) Get(ctx context.Context, a *models.Actor, id string) (*models.Offer, error) {
	o, err := s.find(ctx, a, id, models.ActRead)
	if err != nil {
		return nil, err
	}
	return forReader(a, o), nil
}

// forReader is the offer as actor a may read it: an anonymous visitor (nil) never gets the
// programme's contact, which only signed-in users do (models.Offer.ForVisitors).
func forReader(a *models.Actor, o *models.Offer) *models.Offer {
	if a == nil {
		return o.ForVisitors()
	}
	return o
}

// find reads an offer for an action of the actor, through the one lookup path (see lookup).
func (s *Offers) find(ctx context.Context, a *models.Actor, id string, act models.Action) (*models.Offer, error) {
	return lookup(ctx, id, "offer", s.model.Offer, s.store.GetOffer, s.model.PutOffer,
		func(o *models.Offer) int64 { return o.Version },
		func(o *models.Offer) error { return models.AuthorizeOffer(a, act, o) })
}

func (s *Offers) load(ctx context.Context, id string) (*models.Offer, error) {
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "offer not found")
	}
	if o, ok := s.model.Offer(id); ok {
		return o, nil
	}
	o, err := s.store.GetOffer(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Errorf(models.ErrNotFound, "offer not found")
	}
	if err != nil {
		return nil, err
	}
	s.model.PutOffer(o)
	return o, nil
}

// Patch edits an offer (its donor while draft or open, coordinators any time before closing).
func (s *Offers) Patch(ctx context.Context, a *models.Actor, id string, p OfferPatch, ifMatch *int64) (*models.Offer, error) {
	want, err := pickVersion(p.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	var changed []string
	o, err := s.update(ctx, a, id, want, models.ActUpdate, func(o *models.Offer) error {
		if err := o.Editable(a); err != nil {
			return err
		}
		changed = applyOfferPatch(o, p)
		fillEmpty(o)
		o.Normalize()
		if err := o.Validate(); err != nil {
			return err
		}
		if o.MaxEngagements < o.EngagementsUsed {
			return fieldErr("max_engagements", models.ProblemBelowUsed, models.Args{"count": models.ArgInt(o.EngagementsUsed)})
		}
		if o.BudgetUSD < o.BudgetCommitted {
			return fieldErr("budget_usd", models.ProblemBelowCommitted, models.Args{"committed": models.ArgUSD(o.BudgetCommitted)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "update", "offer", id, changed)
	// An edit that leaves nothing to give closes the offer, as an agreement would (the
	// engagements' reaction).
	ev := &OfferChanged{Actor: a, Offer: o}
	s.events.OfferChanged(ctx, ev)
	if ev.Closed != nil {
		o = ev.Closed
	}
	return o, nil
}

func applyOfferPatch(o *models.Offer, p OfferPatch) []string {
	var changed []string
	set := func(name string, ok bool, apply func()) {
		if ok {
			apply()
			changed = append(changed, name)
		}
	}
	set("title", p.Title != nil, func() { o.Title = *p.Title })
	set("description", p.Description != nil, func() { o.Description = *p.Description })
	set("lang", p.Lang != nil, func() { o.Lang = *p.Lang })
	set("translations", p.Translations != nil, func() { o.Translations = models.MergeTranslations(o.Translations, p.Translations) })
	set("themes", p.Themes != nil, func() { o.Themes = *p.Themes })
	set("capabilities", p.Capabilities != nil, func() { o.Capabilities = *p.Capabilities })
	set("modalities", p.Modalities != nil, func() { o.Modalities = *p.Modalities })
	set("languages", p.Languages != nil, func() { o.Languages = *p.Languages })
	set("eligible_countries", p.EligibleCountries != nil, func() { o.EligibleCountries = *p.EligibleCountries })
	set("eligible_regions", p.EligibleRegions != nil, func() { o.EligibleRegions = *p.EligibleRegions })
	set("budget_usd", p.BudgetUSD != nil, func() { o.BudgetUSD = *p.BudgetUSD })
	set("max_engagements", p.MaxEngagements != nil, func() { o.MaxEngagements = *p.MaxEngagements })
	set("available_from", p.AvailableFrom != nil, func() { o.AvailableFrom = *p.AvailableFrom })
	set("available_until", p.AvailableUntil != nil, func() { o.AvailableUntil = *p.AvailableUntil })
	set("contact_name", p.ContactName != nil, func() { o.ContactName = *p.ContactName })
	set("contact_email", p.ContactEmail != nil, func() { o.ContactEmail = *p.ContactEmail })
	return changed
}

// Transition publishes or closes an offer; closing keeps the reason. See Change for what
// closing does to the offer's engagements.
func (s *Offers) Transition(ctx context.Context, a *models.Actor, id string, t models.OfferTransition, reason string) (*models.Offer, error) {
	ch, err := s.Change(ctx, a, id, t, reason)
	if err != nil {
		return nil, err
	}
	return ch.Offer, nil
}

// OfferChange is an offer after a transition, with what closing did to its engagements.
type OfferChange struct {
	*models.Offer
	Cascade *Cascade
}

// Change is Transition reporting the cascade: closing writes the offer's end first (the commit
// point), then withdraws its proposals and tells their ministries, and keeps its agreements,
// telling their ministries that they stand (Engagements.OfferClosed). Closing an offer that
// has proposals of ministries needs a reason: they are told why.
func (s *Offers) Change(ctx context.Context, a *models.Actor, id string, t models.OfferTransition, reason string) (*OfferChange, error) {
	act := map[models.OfferTransition]models.Action{models.OfferPublish: models.ActPublish, models.OfferClose: models.ActClose}[t]
	if act == "" {
		return nil, models.Errorf(models.ErrNotFound, "no such transition")
	}
	o, err := s.update(ctx, a, id, nil, act, func(o *models.Offer) error {
		var p models.Problems // checked once the actor is allowed (see Needs.Transition)
		models.ValidText("reason", reason, 2000, true, &p)
		if err := p.Err(); err != nil {
			return err
		}
		next, err := o.Next(t)
		if err != nil {
			return err
		}
		o.Status = next
		o.StatusReason = models.CleanText(reason)
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, string(t), "offer", id, []string{"status"})
	ev := &OfferChanged{Actor: a, Offer: o, Transition: t, Reason: reason}
	s.events.OfferChanged(ctx, ev)
	return &OfferChange{Offer: o, Cascade: ev.Cascade}, nil
}

// engagementsOf lists the offer's engagements as this replica knows them.
func (s *Offers) engagementsOf(offerID string) []*models.Engagement {
	return systemView(s.model).engagements(func(e *models.Engagement) bool { return e.OfferID == offerID })
}

// PlanClose says what closing the offer would do to its engagements, for the confirmation the
// web asks for (the actor must be allowed to close it).
func (s *Offers) PlanClose(ctx context.Context, a *models.Actor, id string) (*models.Offer, models.CascadePlan, error) {
	o, err := s.find(ctx, a, id, models.ActClose)
	if err != nil {
		return nil, models.CascadePlan{}, err
	}
	if _, err := o.Next(models.OfferClose); err != nil {
		return nil, models.CascadePlan{}, err
	}
	return o, models.PlanOfferClose(s.engagementsOf(o.ID)), nil
}

// update is the offer's read-modify-write loop (see Needs.update).
func (s *Offers) update(ctx context.Context, a *models.Actor, id string, want *int64, act models.Action, apply func(*models.Offer) error) (*models.Offer, error) {
	for attempt := 0; ; attempt++ {
		var cur *models.Offer
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
			return nil, models.Errorf(models.ErrConflict, "version %d is stale: the offer is at version %d; reload it", *want, cur.Version)
		}
		o := *cur
		o.Themes = append([]models.Theme(nil), cur.Themes...)
		o.Capabilities = append([]models.Capability(nil), cur.Capabilities...)
		o.Modalities = append([]models.Modality(nil), cur.Modalities...)
		o.Languages = append([]string(nil), cur.Languages...)
		o.EligibleCountries = append([]string(nil), cur.EligibleCountries...)
		o.EligibleRegions = append([]string(nil), cur.EligibleRegions...)
		if err := apply(&o); err != nil {
			return nil, err
		}
		fillEmpty(&o)
		o.Version = cur.Version + 1
		o.UpdatedAt = s.now().UTC()
		err = s.store.ReplaceOffer(ctx, &o, cur.Version)
		if err == nil {
			s.applied(ctx, &o)
			return &o, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 4 {
			return nil, err
		}
		// Someone wrote first: take the store's version (see Needs.update), then answer the 409
		// or try again.
		if fresh, gerr := s.store.GetOffer(ctx, id); gerr == nil {
			s.model.PutOffer(fresh)
		}
		if want != nil {
			return nil, err
		}
	}
}

// applied announces an acknowledged write on the change log (commit, as Needs.applied).
func (s *Offers) applied(ctx context.Context, o *models.Offer) {
	commit(ctx, s.bus, s.log, models.Event{Type: models.EventOffer, ID: o.ID, Version: o.Version, At: o.UpdatedAt, Data: mustJSON(o)},
		func() { s.model.PutOffer(o) })
}

// OfferListParams are the list and search parameters of GET /offers.
type OfferListParams struct {
	Country, Theme, Capability, Status, Q, Cursor, OrgID string
	Limit                                                int
}

// List returns a page of the offers the actor may see.
func (s *Offers) List(ctx context.Context, a *models.Actor, p OfferListParams) ([]*models.Offer, string, error) {
	var probs models.Problems
	q := readmodel.OfferQuery{Country: models.NormalizeISO(p.Country), Theme: models.Theme(p.Theme), Capability: models.Capability(p.Capability),
		Status: models.OfferStatus(p.Status), OrgID: p.OrgID, Q: p.Q, Limit: p.Limit}
	if q.Country != "" && !models.ValidISO(q.Country) {
		probs.Add("country", models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(p.Country)})
	}
	if q.Theme != "" && !q.Theme.Valid() {
		probs.Add("theme", models.ProblemUnknownTheme, models.Args{"value": models.ArgSent(p.Theme)})
	}
	if q.Capability != "" && !q.Capability.Valid() {
		probs.Add("capability", models.ProblemUnknownCapability, models.Args{"value": models.ArgSent(p.Capability)})
	}
	switch q.Status {
	case "", models.OfferDraft, models.OfferOpen, models.OfferClosed:
	default:
		probs.Add("status", models.ProblemOneOf, models.OneOf([]models.OfferStatus{models.OfferDraft, models.OfferOpen, models.OfferClosed}))
	}
	models.ValidText("q", p.Q, 200, false, &probs)
	if err := probs.Err(); err != nil {
		return nil, "", err
	}
	canon := strings.Join([]string{"offers", q.Country, string(q.Theme), string(q.Capability), string(q.Status), q.OrgID, readmodel.Fold(strings.TrimSpace(q.Q))}, "|")
	after, err := s.cursors.Decode(p.Cursor, canon)
	if err != nil {
		return nil, "", err
	}
	q.After = after
	page := viewAs(s.model, a).offers(q)
	for i, o := range page.Items {
		page.Items[i] = forReader(a, o)
	}
	return page.Items, s.cursors.Encode(page.Next, canon), nil
}
