package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/readmodel"
)

// Engagements brokers agreed matches: one side proposes, the other accepts or declines, and an
// accept marks the need matched and takes one of the offer's slots and part of its budget.
//
// Without multi-document transactions an accept is a short protocol of single-document steps,
// each conditional and idempotent: the engagement moves to "accepting"; the need is matched to
// it (remembering which engagement); the offer's slot is reserved for it (remembering which
// engagement); the engagement becomes "agreed". A retry redoes what is missing and no step books
// twice; a step that cannot happen (the offer is full) undoes the earlier ones; and an accept
// interrupted by a crash is completed or undone by Recover at the next start.
type Engagements struct {
	Store    models.Store
	Model    *readmodel.Model
	Bus      models.Bus
	Clock    *HLC
	Needs    *Needs
	Offers   *Offers
	Matching *Matching
	Now      Clock
	Log      *slog.Logger
	// Notify tells organizations about what happened (proposals, acceptances); may be nil.
	Notify func(ctx context.Context, orgID, kind, text, objectType, objectID string)
}

// EngagementInput is the body of POST /engagements.
type EngagementInput struct {
	NeedID  string `json:"need_id"`
	OfferID string `json:"offer_id"`
	Message string `json:"message"`
	// BudgetUSD is the part of the offer's budget the engagement asks for; it defaults to the
	// need's budget, capped by what remains of the offer.
	BudgetUSD int64 `json:"budget_usd"`
}

// Propose opens an engagement between a need and an offer on behalf of either side.
func (s *Engagements) Propose(ctx context.Context, a *models.Actor, in EngagementInput) (*models.Engagement, bool, error) {
	var p models.Problems
	if in.NeedID == "" {
		p.Add("need_id", "is required")
	}
	if in.OfferID == "" {
		p.Add("offer_id", "is required")
	}
	models.ValidText("message", in.Message, 5000, true, &p)
	if in.BudgetUSD < 0 || in.BudgetUSD >= models.MaxBudgetUSD {
		p.Add("budget_usd", "must be between 1 and 9,999,999,999 when given")
	}
	if err := p.Err(); err != nil {
		return nil, false, err
	}
	n, err := s.Needs.Get(ctx, a, in.NeedID)
	if err != nil {
		return nil, false, err
	}
	o, err := s.Offers.Get(ctx, a, in.OfferID)
	if err != nil {
		return nil, false, err
	}
	var side models.Side
	switch {
	case a.Role == models.RoleMinistry && a.OrgID == n.OrganizationID:
		side = models.SideNeed
	case a.Role == models.RoleDonor && a.OrgID == o.OrganizationID:
		side = models.SideOffer
	default:
		return nil, false, models.Errorf(models.ErrForbidden, "only the need's ministry or the offer's donor proposes an engagement")
	}
	if n.Status != models.NeedOpen {
		return nil, false, models.Errorf(models.ErrConflict, "only open needs take engagements; this one is %s", n.Status)
	}
	if ok, why := matching.Eligible(n, o, &matching.Context{Today: models.DateOf(s.Now())}); !ok {
		return nil, false, models.Errorf(models.ErrConflict, "this offer cannot serve this need: %s", why)
	}
	budget := in.BudgetUSD
	if budget == 0 {
		budget = min(n.BudgetUSD, o.RemainingBudget())
	}
	if budget > o.RemainingBudget() {
		return nil, false, fieldErr("budget_usd", "exceeds what remains of the offer ($%d)", o.RemainingBudget())
	}
	previous := s.Model.Engagements(func(e *models.Engagement) bool { return e.NeedID == n.ID && e.OfferID == o.ID })
	closed := 0
	for _, e := range previous {
		switch e.Status {
		case models.EngagementDeclined, models.EngagementWithdrawn:
			closed++
		}
	}
	// The id is derived from the pair and how many earlier engagements of the pair ended, so a
	// retried proposal lands on the same document instead of opening a second one.
	id := engagementID(n.ID, o.ID, closed)
	for _, e := range previous {
		if e.ID != id && (e.Status == models.EngagementProposed || e.Status == models.EngagementAccepting || e.Status == models.EngagementAgreed) {
			return nil, false, models.Errorf(models.ErrConflict, "an engagement between this need and this offer is already %s (%s)", e.Status, e.ID)
		}
	}
	now := s.Now().UTC()
	e := &models.Engagement{
		ID: id, NeedID: n.ID, OfferID: o.ID, NeedOrgID: n.OrganizationID, OfferOrgID: o.OrganizationID,
		Country: n.Country, Capability: n.Capability, ProposedBy: side, Status: models.EngagementProposed,
		Message: models.CleanText(in.Message), BudgetUSD: budget, StartDate: n.StartBy, EndDate: n.StartBy.AddMonths(n.DurationMonths),
		CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now, Version: 1, Messages: []models.EngagementMessage{},
	}
	if e.Message != "" {
		e.Messages = append(e.Messages, models.EngagementMessage{ID: models.NewID(now), AuthorID: a.UserID, Side: side, Body: e.Message, CreatedAt: now})
	}
	if err := s.Store.CreateEngagement(ctx, e); err != nil {
		if errors.Is(err, models.ErrConflict) {
			existing, gerr := s.Store.GetEngagement(ctx, id)
			if gerr == nil && existing.ProposedBy == side && existing.Status == models.EngagementProposed {
				s.applied(ctx, existing)
				return existing, false, nil // a retried proposal: the same engagement
			}
			return nil, false, models.Errorf(models.ErrConflict, "an engagement between this need and this offer already exists")
		}
		return nil, false, err
	}
	s.applied(ctx, e)
	audit(ctx, s.Store, s.Log, now, a, "propose", "engagement", e.ID, nil)
	s.notify(ctx, e, otherOrg(e, side), "proposal", fmt.Sprintf("New engagement proposal: %s", titleOf(n, o, side)))
	return e, true, nil
}

func engagementID(needID, offerID string, n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", needID, offerID, n)))
	return "eng-" + hex.EncodeToString(sum[:12])
}

func otherOrg(e *models.Engagement, side models.Side) string {
	if side == models.SideNeed {
		return e.OfferOrgID
	}
	return e.NeedOrgID
}

func titleOf(n *models.Need, o *models.Offer, side models.Side) string {
	if side == models.SideNeed {
		return n.Title
	}
	return o.Title
}

// Get returns an engagement the actor may see.
func (s *Engagements) Get(ctx context.Context, a *models.Actor, id string) (*models.Engagement, error) {
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeEngagement(a, models.ActRead, e); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Engagements) load(ctx context.Context, id string) (*models.Engagement, error) {
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "engagement not found")
	}
	if e, ok := s.Model.Engagement(id); ok {
		return e, nil
	}
	e, err := s.Store.GetEngagement(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Errorf(models.ErrNotFound, "engagement not found")
	}
	if err != nil {
		return nil, err
	}
	s.Model.PutEngagement(e)
	return e, nil
}

// List returns the engagements the actor may see, filtered by need, offer and status.
func (s *Engagements) List(ctx context.Context, a *models.Actor, needID, offerID, status string) ([]*models.Engagement, error) {
	switch models.EngagementStatus(status) {
	case "", models.EngagementProposed, models.EngagementAccepting, models.EngagementAgreed, models.EngagementDeclined, models.EngagementWithdrawn:
	default:
		return nil, fieldErr("status", "must be proposed, agreed, declined or withdrawn")
	}
	return s.Model.Engagements(func(e *models.Engagement) bool {
		return (needID == "" || e.NeedID == needID) && (offerID == "" || e.OfferID == offerID) &&
			(status == "" || string(e.Status) == status) && models.CanSeeEngagement(a, e)
	}), nil
}

// Decline ends a proposal (the side that did not propose), keeping the reason.
func (s *Engagements) Decline(ctx context.Context, a *models.Actor, id, reason string) (*models.Engagement, error) {
	return s.close(ctx, a, id, reason, models.ActDecline, models.EngagementDeclined)
}

// Withdraw takes a proposal back (the side that proposed).
func (s *Engagements) Withdraw(ctx context.Context, a *models.Actor, id, reason string) (*models.Engagement, error) {
	return s.close(ctx, a, id, reason, models.ActWithdraw, models.EngagementWithdrawn)
}

func (s *Engagements) close(ctx context.Context, a *models.Actor, id, reason string, act models.Action, to models.EngagementStatus) (*models.Engagement, error) {
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		if err := models.AuthorizeEngagement(a, act, e); err != nil {
			return err
		}
		var p models.Problems // checked once the actor is allowed: 403 or 404 whatever the input
		models.ValidText("reason", reason, 2000, true, &p)
		if err := p.Err(); err != nil {
			return err
		}
		if e.Status == to {
			return errUnchanged
		}
		if e.Status != models.EngagementProposed {
			return models.Errorf(models.ErrConflict, "a %s engagement cannot be %s", e.Status, to)
		}
		now := s.Now().UTC()
		e.Status, e.Reason, e.DecidedAt = to, models.CleanText(reason), &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.Store, s.Log, s.Now(), a, string(act), "engagement", id, []string{"status"})
	if to == models.EngagementDeclined {
		s.notify(ctx, e, otherOrg(e, EngagementSideOf(a, e)), "declined", "An engagement proposal was declined")
	}
	return e, nil
}

// EngagementSideOf is models.EngagementSide, kept here for the notifications' wording.
func EngagementSideOf(a *models.Actor, e *models.Engagement) models.Side {
	return models.EngagementSide(a, e)
}

// Message adds a message to the engagement's thread (either side, coordinators).
func (s *Engagements) Message(ctx context.Context, a *models.Actor, id, body string) (*models.Engagement, error) {
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		if err := models.AuthorizeEngagement(a, models.ActMessage, e); err != nil {
			return err
		}
		var p models.Problems // checked once the actor is allowed
		models.RequiredText("body", body, 5000, true, &p)
		if err := p.Err(); err != nil {
			return err
		}
		now := s.Now().UTC()
		side := models.EngagementSide(a, e)
		e.Messages = append(e.Messages, models.EngagementMessage{ID: models.NewID(now), AuthorID: a.UserID, Side: side, Body: models.CleanText(body), CreatedAt: now})
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.Store, s.Log, s.Now(), a, "message", "engagement", id, []string{"messages"})
	return e, nil
}

// errUnchanged ends an update that has nothing to write (an idempotent retry).
var errUnchanged = errors.New("unchanged")

// update is the engagement's read-modify-write loop.
func (s *Engagements) update(ctx context.Context, id string, apply func(*models.Engagement) error) (*models.Engagement, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.load(ctx, id)
		if err != nil {
			return nil, err
		}
		e := *cur
		e.Messages = append([]models.EngagementMessage(nil), cur.Messages...)
		if err := apply(&e); err != nil {
			if errors.Is(err, errUnchanged) {
				return cur, nil
			}
			return nil, err
		}
		e.Version = cur.Version + 1
		e.UpdatedAt = s.Now().UTC()
		err = s.Store.ReplaceEngagement(ctx, &e, cur.Version)
		if err == nil {
			s.applied(ctx, &e)
			return &e, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 8 {
			return nil, err
		}
		if fresh, gerr := s.Store.GetEngagement(ctx, id); gerr == nil {
			s.Model.PutEngagement(fresh)
		}
	}
}

func (s *Engagements) applied(ctx context.Context, e *models.Engagement) {
	g := s.Clock.Tick()
	s.Model.PutEngagement(e)
	if e.Status == models.EngagementAgreed {
		s.Matching.ContextChanged(g)
	}
	publish(ctx, s.Bus, s.Log, models.Event{Type: models.EventEngagement, ID: e.ID, Version: e.Version, At: e.UpdatedAt, Data: mustJSON(e), Gen: g})
}

func (s *Engagements) notify(ctx context.Context, e *models.Engagement, orgID, kind, text string) {
	if s.Notify != nil && orgID != "" {
		s.Notify(ctx, orgID, kind, text, "engagement", e.ID)
	}
}

// Accept agrees an engagement on behalf of the side that did not propose it. Concurrent and
// retried accepts never take more slots than the offer has.
func (s *Engagements) Accept(ctx context.Context, a *models.Actor, id string) (*models.Engagement, error) {
	cur, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeEngagement(a, models.ActAccept, cur); err != nil {
		return nil, err
	}
	e, err := s.complete(ctx, id)
	if err != nil {
		return nil, err
	}
	audit(ctx, s.Store, s.Log, s.Now(), a, "accept", "engagement", id, []string{"status"})
	s.notify(ctx, e, otherOrg(e, models.EngagementSide(a, e)), "accepted", "An engagement was agreed")
	return e, nil
}

// complete runs (or resumes) the accept protocol for an engagement.
func (s *Engagements) complete(ctx context.Context, id string) (*models.Engagement, error) {
	// Step 1: proposed → accepting (a retry finds it accepting or agreed already).
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		switch e.Status {
		case models.EngagementAccepting, models.EngagementAgreed:
			return errUnchanged
		case models.EngagementProposed:
			e.Status = models.EngagementAccepting
			return nil
		}
		return models.Errorf(models.ErrConflict, "a %s engagement cannot be accepted", e.Status)
	})
	if err != nil {
		return nil, err
	}
	if e.Status == models.EngagementAgreed {
		return e, nil
	}
	// Step 2: match the need to this engagement.
	if _, err := s.Needs.update(ctx, nil, e.NeedID, nil, "", func(n *models.Need) error {
		if n.Status == models.NeedMatched && n.EngagementID == e.ID {
			return errUnchanged
		}
		next, err := n.Next(models.NeedMatch)
		if err != nil {
			return models.Errorf(models.ErrConflict, "the need is %s and can no longer be matched", n.Status)
		}
		n.Status, n.EngagementID = next, e.ID
		return nil
	}); err != nil && !errors.Is(err, errUnchanged) {
		return nil, s.undo(ctx, e, false, err)
	}
	// Step 3: take the offer's slot and budget for this engagement.
	o, err := s.Store.ReserveOfferSlot(ctx, e.OfferID, e.ID, e.BudgetUSD, s.Now().UTC(), s.Clock.Tick())
	if err != nil {
		return nil, s.undo(ctx, e, true, err)
	}
	s.Offers.applied(ctx, o)
	// Step 4: agreed.
	e, err = s.update(ctx, id, func(e *models.Engagement) error {
		if e.Status == models.EngagementAgreed {
			return errUnchanged
		}
		now := s.Now().UTC()
		e.Status, e.DecidedAt = models.EngagementAgreed, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	// An offer whose slots are all used closes by itself.
	if closed, ok, err := s.Store.CloseFullOffer(ctx, e.OfferID, s.Now().UTC(), s.Clock.Tick()); err == nil && ok {
		s.Offers.applied(ctx, closed)
	}
	return e, nil
}

// undo reverses the steps an accept took before one failed, then returns cause.
func (s *Engagements) undo(ctx context.Context, e *models.Engagement, needMatched bool, cause error) error {
	ctx = context.WithoutCancel(ctx)
	if needMatched {
		_, _ = s.Needs.update(ctx, nil, e.NeedID, nil, "", func(n *models.Need) error {
			if n.Status != models.NeedMatched || n.EngagementID != e.ID {
				return errUnchanged
			}
			next, err := n.Next(models.NeedUnmatch)
			if err != nil {
				return err
			}
			n.Status, n.EngagementID = next, ""
			return nil
		})
	}
	if _, err := s.update(ctx, e.ID, func(x *models.Engagement) error {
		if x.Status != models.EngagementAccepting {
			return errUnchanged
		}
		x.Status = models.EngagementProposed
		return nil
	}); err != nil {
		s.Log.ErrorContext(ctx, "accept could not be undone; Recover will", "err", err, "engagement", e.ID)
	}
	return cause
}

// Recover finishes accepts a crash interrupted: an engagement left "accepting" whose offer
// slot is reserved is completed, any other is undone. Call it at start-up; it is idempotent.
func (s *Engagements) Recover(ctx context.Context) error {
	var errs []error
	for _, e := range s.Model.Engagements(func(e *models.Engagement) bool { return e.Status == models.EngagementAccepting }) {
		o, err := s.Store.GetOffer(ctx, e.OfferID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reserved := false
		for _, r := range o.Reservations {
			reserved = reserved || r == e.ID
		}
		if reserved {
			if _, err := s.complete(ctx, e.ID); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		_ = s.undo(ctx, e, true, nil)
	}
	return errors.Join(errs...)
}

// ActiveDeliveries counts, per country and capability, agreed engagements and active projects:
// the duplication factor's input.
func (s *Engagements) ActiveDeliveries() map[matching.Delivery]int {
	out := map[matching.Delivery]int{}
	withProject := map[string]bool{}
	for _, p := range s.Model.Projects(func(p *models.Project) bool { return p.Active() }) {
		out[matching.Delivery{Country: p.Country, Capability: p.Capability}]++
		withProject[p.EngagementID] = true
	}
	for _, e := range s.Model.Engagements(func(e *models.Engagement) bool { return e.Status == models.EngagementAgreed }) {
		if !withProject[e.ID] {
			out[matching.Delivery{Country: e.Country, Capability: e.Capability}]++
		}
	}
	return out
}
