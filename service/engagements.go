package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// engagementStore is the part of the store this use case needs: the engagements and what an engagement reserves or ends: its need, its offer's slots, its project.
type engagementStore interface {
	models.EngagementStore
	models.NeedStore
	models.OfferStore
	models.ProjectStore
	models.AuditStore
}

// Engagements brokers agreed matches: one side proposes, the other accepts or declines, and an
// accept marks the need matched and takes one of the offer's slots and the engagement's amount.
//
// Where the store has multi-document transactions (models.Transactor: MongoDB as a replica set
// or behind mongos), an accept and a cancellation's release are each one transaction. Without
// them (FerretDB, the embedded default) every change that touches several documents is a short
// protocol of single-document steps, each conditional and idempotent, in an order that a retry
// or recovery (Recover, at start-up and every RecoveryInterval on every replica) can finish:
//
//   - accept: the engagement moves to "accepting" with this replica's lease (models.Lease); the
//     need is matched to it (remembering which engagement); the offer's slot and amount are
//     reserved for it (remembering which engagement); the engagement becomes "agreed" and the
//     lease goes. Before each step the owner renews the lease once half of it is gone, and its
//     writes to the engagement require the lease to be its own, so a step whose accept another
//     replica took over stops. A step that cannot happen (the offer is full) undoes the earlier
//     ones; an accept whose replica crashed is completed or undone by recovery on any replica,
//     once its lease has lapsed, never before.
//   - cancel: the engagement becomes "cancelled" (the commit point, refused once a project
//     started from it); its offer slot and amount are released; its need, if matched to it,
//     opens again; the engagement is marked released (released_at). Until that mark, a retry
//     or Recover redoes the release, which books nothing twice; its steps only move forward, so
//     a release running on two replicas at once needs no lease.
//   - project start (Projects.Create): the engagement takes the project's id under a lease, the
//     need starts, the project is written, the lease goes; recovery gives the id back to an
//     engagement whose project was never written once the lease lapsed.
//   - the end of a need or an offer: the need or offer is written first; then each of its
//     engagements is settled by models.FateOf (proposals withdrawn, agreements cancelled or
//     kept), one engagement at a time; Recover settles any engagement a crash left behind,
//     because FateOf depends only on the engagement, its need and its offer as they stand.
type Engagements struct {
	store  engagementStore
	model  *readmodel.Model
	bus    models.Bus
	needs  *Needs
	offers *Offers
	now    Clock
	log    *slog.Logger
	// events announces notices and changes of the deliveries under way; the engagements react
	// to needs and offers that end (subscribe).
	events *Events
	// replica is this process's id, the owner of the leases it takes (Deps.Replica).
	replica string
}

// subscribe makes the engagements react to the lifecycles of needs and offers: a need withdrawn
// or rejected ends its engagements, an offer closed withdraws its proposals, an offer left
// without capacity by an edit closes (models.FateOf); each reports what it did in the event.
func (s *Engagements) subscribe(events *Events) {
	events.OnNeedChanged(func(ctx context.Context, ev *NeedChanged) {
		if ev.Transition == models.NeedWithdraw || ev.Transition == models.NeedReject {
			ev.Cascade = s.NeedEnded(ctx, ev.Actor, ev.Need, ev.Reason)
		}
	})
	events.OnOfferChanged(func(ctx context.Context, ev *OfferChanged) {
		switch {
		case ev.Transition == models.OfferClose:
			ev.Cascade = s.OfferClosed(ctx, ev.Actor, ev.Offer, ev.Reason)
		case ev.Transition == "" && ev.Offer.Status == models.OfferOpen && !ev.Offer.HasCapacity():
			ev.Closed = s.closeIfFull(ctx, ev.Offer.ID)
		}
	})
}

// EngagementInput is the body of POST /engagements.
type EngagementInput struct {
	NeedID  string `json:"need_id"`
	OfferID string `json:"offer_id"`
	Message string `json:"message"`
	// BudgetUSD is the amount the engagement reserves of the offer once agreed; 0 means the
	// default (models.DefaultTerms): the smaller of the need's unfunded remainder and what
	// remains of the offer.
	BudgetUSD int64 `json:"budget_usd"`
	// StartDate and EndDate are the engagement's period, inside the offer's window; empty
	// means the need's period cut to the offer's window.
	StartDate models.Date `json:"start_date"`
	EndDate   models.Date `json:"end_date"`
}

// Terms are the amount and period a proposal between the need and the offer reserves when it
// names none: the web proposal form shows them.
func (s *Engagements) Terms(n *models.Need, o *models.Offer) models.Terms {
	return models.DefaultTerms(n, o, s.committedTo(n))
}

// committedTo is what the need's projects have committed to it (models.FundingOfNeed).
func (s *Engagements) committedTo(n *models.Need) int64 {
	return models.FundingOfNeed(n, systemView(s.model).projects(func(p *models.Project) bool { return p.NeedID == n.ID })).Committed
}

// Propose opens an engagement between a need and an offer on behalf of either side, with the
// amount and period it would reserve. Engagement ids are random; a retried proposal finds the
// engagement it opened through an idempotency key (the need, the offer and how many of their
// engagements ended), claimed before the engagement is written.
func (s *Engagements) Propose(ctx context.Context, a *models.Actor, in EngagementInput) (*models.Engagement, bool, error) {
	var p models.Problems
	if in.NeedID == "" {
		p.Add("need_id", models.ProblemRequired, nil)
	}
	if in.OfferID == "" {
		p.Add("offer_id", models.ProblemRequired, nil)
	}
	models.ValidText("message", in.Message, 5000, true, &p)
	if in.BudgetUSD < 0 || in.BudgetUSD >= models.MaxBudgetUSD {
		p.Add("budget_usd", models.ProblemRange, models.BudgetRange())
	}
	checkDates(&p, "start_date", in.StartDate, "end_date", in.EndDate, false)
	if err := p.Err(); err != nil {
		return nil, false, err
	}
	n, err := s.needs.Get(ctx, a, in.NeedID)
	if err != nil {
		return nil, false, err
	}
	o, err := s.offers.Get(ctx, a, in.OfferID)
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
	if ok, why := matching.Eligible(n, o, &matching.Context{Today: models.DateOf(s.now())}); !ok {
		return nil, false, models.Errorf(models.ErrConflict, "this offer cannot serve this need: %s", why)
	}
	terms := s.Terms(n, o)
	if in.BudgetUSD != 0 {
		terms.BudgetUSD = in.BudgetUSD
	}
	if in.StartDate != "" {
		terms.Start = in.StartDate
	}
	if in.EndDate != "" {
		terms.End = in.EndDate
	}
	models.CheckTerms(terms, o, &p)
	if err := p.Err(); err != nil {
		return nil, false, err
	}
	// Every engagement of the pair, visible or not: they have the same two sides as this one.
	previous := systemView(s.model).engagements(func(e *models.Engagement) bool { return e.NeedID == n.ID && e.OfferID == o.ID })
	ended := 0
	for _, e := range previous {
		if !e.Live() {
			ended++
		}
	}
	now := s.now().UTC()
	id, err := s.store.ClaimKey(ctx, fmt.Sprintf("engagement|%s|%s|%d", n.ID, o.ID, ended), models.NewID(now))
	if err != nil {
		return nil, false, err
	}
	for _, e := range previous {
		if e.ID != id && e.Live() {
			return nil, false, models.Errorf(models.ErrConflict, "an engagement between this need and this offer is already %s (%s)", e.Status, e.ID)
		}
	}
	e := &models.Engagement{
		ID: id, NeedID: n.ID, OfferID: o.ID, NeedOrgID: n.OrganizationID, OfferOrgID: o.OrganizationID,
		Country: n.Country, Capability: n.Capability, ProposedBy: side, Status: models.EngagementProposed,
		Message: models.CleanText(in.Message), BudgetUSD: terms.BudgetUSD, StartDate: terms.Start, EndDate: terms.End,
		CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now, Version: 1, Messages: []models.EngagementMessage{},
	}
	if e.Message != "" {
		e.Messages = append(e.Messages, models.EngagementMessage{ID: models.NewID(now), AuthorID: a.UserID, Side: side, Body: e.Message, CreatedAt: now})
	}
	if err := s.store.CreateEngagement(ctx, e); err != nil {
		if errors.Is(err, models.ErrConflict) {
			existing, gerr := s.store.GetEngagement(ctx, id)
			if gerr == nil && existing.ProposedBy == side && existing.Status == models.EngagementProposed {
				s.applied(ctx, existing)
				return existing, false, nil // a retried proposal: the same engagement
			}
			return nil, false, models.Errorf(models.ErrConflict, "an engagement between this need and this offer already exists")
		}
		return nil, false, err
	}
	s.applied(ctx, e)
	audit(ctx, s.store, s.log, now, a, "propose", "engagement", e.ID, nil)
	// The need may have been withdrawn, or the offer closed, while this was written (perhaps on
	// another replica, whose cascade did not see it yet): settle against the store.
	if fate, _, err := s.settle(ctx, a, e, nil, nil, ""); err == nil && fate != models.FateNone {
		return nil, false, models.Errorf(models.ErrConflict, "the need or the offer ended while the proposal was made; it was withdrawn")
	}
	s.notify(ctx, e, otherOrg(e, side), KindProposal, "")
	return e, true, nil
}

func otherOrg(e *models.Engagement, side models.Side) string {
	if side == models.SideNeed {
		return e.OfferOrgID
	}
	return e.NeedOrgID
}

// Get returns an engagement the actor may see.
func (s *Engagements) Get(ctx context.Context, a *models.Actor, id string) (*models.Engagement, error) {
	return s.find(ctx, a, id, models.ActRead)
}

// find reads an engagement for an action of the actor, through the one lookup path (see lookup).
func (s *Engagements) find(ctx context.Context, a *models.Actor, id string, act models.Action) (*models.Engagement, error) {
	return lookup(ctx, id, "engagement", s.model.Engagement, s.store.GetEngagement, s.model.PutEngagement,
		func(e *models.Engagement) int64 { return e.Version },
		func(e *models.Engagement) error { return models.AuthorizeEngagement(a, act, e) })
}

// load reads an engagement for the system's own steps (no actor).
func (s *Engagements) load(ctx context.Context, id string) (*models.Engagement, error) {
	if !models.ValidID(id) {
		return nil, notFound("engagement")
	}
	if e, ok := s.model.Engagement(id); ok {
		return e, nil
	}
	e, err := s.store.GetEngagement(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, notFound("engagement")
	}
	if err != nil {
		return nil, err
	}
	s.model.PutEngagement(e)
	return e, nil
}

// List returns the engagements the actor may see, filtered by need, offer and status.
func (s *Engagements) List(ctx context.Context, a *models.Actor, needID, offerID, status string) ([]*models.Engagement, error) {
	switch models.EngagementStatus(status) {
	case "", models.EngagementProposed, models.EngagementAccepting, models.EngagementAgreed, models.EngagementDeclined,
		models.EngagementWithdrawn, models.EngagementCancelled:
	default:
		return nil, fieldErr("status", models.ProblemOneOf, models.OneOf([]models.EngagementStatus{models.EngagementProposed,
			models.EngagementAccepting, models.EngagementAgreed, models.EngagementDeclined, models.EngagementWithdrawn, models.EngagementCancelled}))
	}
	return viewAs(s.model, a).engagements(func(e *models.Engagement) bool {
		return (needID == "" || e.NeedID == needID) && (offerID == "" || e.OfferID == offerID) &&
			(status == "" || string(e.Status) == status)
	}), nil
}

// Decline ends a proposal (the side that did not propose), keeping the reason.
func (s *Engagements) Decline(ctx context.Context, a *models.Actor, id, reason string) (*models.Engagement, error) {
	return s.end(ctx, a, id, reason, models.ActDecline, models.EngDecline)
}

// Withdraw takes a proposal back (the side that proposed); the other side is told.
func (s *Engagements) Withdraw(ctx context.Context, a *models.Actor, id, reason string) (*models.Engagement, error) {
	return s.end(ctx, a, id, reason, models.ActWithdraw, models.EngWithdraw)
}

func (s *Engagements) end(ctx context.Context, a *models.Actor, id, reason string, act models.Action, t models.EngagementTransition) (*models.Engagement, error) {
	if _, err := s.find(ctx, a, id, act); err != nil {
		return nil, err
	}
	var p models.Problems // checked once the actor is allowed: 403 or 404 whatever the input
	models.ValidText("reason", reason, 2000, true, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	e, changed, err := s.move(ctx, id, t, reason)
	if err != nil {
		return nil, err
	}
	if changed {
		audit(ctx, s.store, s.log, s.now(), a, string(act), "engagement", id, []string{"status"})
		other := otherOrg(e, models.EngagementSide(a, e))
		if t == models.EngDecline {
			s.notify(ctx, e, other, KindDeclined, "")
		} else {
			s.notify(ctx, e, other, KindWithdrawn, e.Reason)
		}
	}
	return e, nil
}

// Cancel calls off an agreed engagement that has no project yet (either side, coordinators),
// with a reason: its offer slot and amount are released, its need opens again, and both sides
// are told. Cancelling it again answers the same and releases nothing twice.
func (s *Engagements) Cancel(ctx context.Context, a *models.Actor, id, reason string) (*models.Engagement, error) {
	if _, err := s.find(ctx, a, id, models.ActCancel); err != nil {
		return nil, err
	}
	var p models.Problems // checked once the actor is allowed
	models.RequiredText("reason", reason, 2000, true, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	e, changed, err := s.move(ctx, id, models.EngCancel, reason)
	if err != nil {
		return nil, err
	}
	if e, err = s.release(ctx, e); err != nil {
		return nil, err
	}
	if changed {
		audit(ctx, s.store, s.log, s.now(), a, "cancel", "engagement", id, []string{"status"})
		s.tellBoth(ctx, e, KindCancelled, e.Reason)
	}
	return e, nil
}

// PlanCancel returns the agreed engagement the actor may cancel now, for the confirmation the
// web asks for: ErrConflict when it cannot be cancelled (a proposal, or a project started).
func (s *Engagements) PlanCancel(ctx context.Context, a *models.Actor, id string) (*models.Engagement, error) {
	e, err := s.find(ctx, a, id, models.ActCancel)
	if err != nil {
		return nil, err
	}
	if _, err := e.Next(models.EngCancel); err != nil {
		return nil, err
	}
	return e, nil
}

// move applies a lifecycle transition to the stored engagement. It is idempotent: an
// engagement already in the target state is returned unchanged (changed false).
func (s *Engagements) move(ctx context.Context, id string, t models.EngagementTransition, reason string) (*models.Engagement, bool, error) {
	changed := false
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		if e.Status == t.To() {
			return errUnchanged
		}
		next, err := e.Next(t)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		e.Status = next
		if reason != "" {
			e.Reason = models.CleanText(reason)
		}
		if t != models.EngAccept && t != models.EngRevert {
			e.DecidedAt = &now
		}
		changed = true
		return nil
	})
	return e, changed, err
}

// release gives a cancelled engagement's offer slot and amount back (an offer that closed
// because it was full opens again when the window allows), lets go of its need (matched to it:
// open again), and marks the engagement released. Each step is conditional and idempotent, so
// that a retry or Recover finishes an interrupted release without booking anything twice.
func (s *Engagements) release(ctx context.Context, e *models.Engagement) (*models.Engagement, error) {
	if e.Status != models.EngagementCancelled || e.ReleasedAt != nil {
		return e, nil
	}
	if tx := s.transactor(); tx != nil {
		return s.releaseInTx(context.WithoutCancel(ctx), tx, e)
	}
	ctx = context.WithoutCancel(ctx)
	o, err := s.store.ReleaseOfferSlot(ctx, e.OfferID, e.ID, e.BudgetUSD, s.now().UTC())
	if err != nil {
		return nil, err
	}
	s.offers.applied(ctx, o)
	s.events.DeliveriesChanged(readmodel.Local)
	s.reopenIfRoom(ctx, o)
	if err := s.unmatchNeed(ctx, e); err != nil {
		return nil, err
	}
	return s.update(ctx, e.ID, func(x *models.Engagement) error {
		if x.ReleasedAt != nil {
			return errUnchanged
		}
		now := s.now().UTC()
		x.ReleasedAt = &now
		return nil
	})
}

// releaseInTx is release in one transaction, where the store has them: the offer's slot and
// amount given back, the need let go of and the engagement marked released commit together.
// The cancellation before it stays the commit point; a release that fails is retried whole.
func (s *Engagements) releaseInTx(ctx context.Context, tx models.Transactor, e *models.Engagement) (*models.Engagement, error) {
	var x *models.Engagement
	var n *models.Need
	var o *models.Offer
	err := tx.InTransaction(ctx, func(ctx context.Context) error {
		x, n, o = nil, nil, nil // fn runs again when the transaction is retried
		cur, err := s.store.GetEngagement(ctx, e.ID)
		if err != nil {
			return err
		}
		if cur.Status != models.EngagementCancelled || cur.ReleasedAt != nil {
			x = cur
			return nil
		}
		now := s.now().UTC()
		if o, err = s.store.ReleaseOfferSlot(ctx, cur.OfferID, cur.ID, cur.BudgetUSD, now); err != nil {
			return err
		}
		need, err := s.store.GetNeed(ctx, cur.NeedID)
		if err != nil {
			return err
		}
		if need.EngagementID == cur.ID && need.Status == models.NeedMatched {
			next, err := need.Next(models.NeedUnmatch)
			if err != nil {
				return err
			}
			m := *need
			m.Status, m.EngagementID = next, ""
			m.Version, m.UpdatedAt = need.Version+1, now
			if err := s.store.ReplaceNeed(ctx, &m, need.Version); err != nil {
				return err
			}
			n = &m
		}
		y := *cur
		y.ReleasedAt, y.Version, y.UpdatedAt = &now, cur.Version+1, now
		if err := s.store.ReplaceEngagement(ctx, &y, cur.Version); err != nil {
			return err
		}
		x = &y
		return nil
	})
	if err != nil {
		return nil, err
	}
	if o == nil { // released already
		s.model.PutEngagement(x)
		return x, nil
	}
	s.offers.applied(ctx, o)
	if n != nil {
		s.needs.applied(ctx, n)
	}
	s.applied(ctx, x)
	s.events.DeliveriesChanged(readmodel.Local)
	s.reopenIfRoom(ctx, o)
	return x, nil
}

// reopenIfRoom opens again an offer that closed by itself because it was full, once a
// release gives it room and its window has not ended. An offer its donor closed stays closed.
func (s *Engagements) reopenIfRoom(ctx context.Context, o *models.Offer) {
	today := models.DateOf(s.now())
	full := func(o *models.Offer) bool {
		return o.Status == models.OfferClosed && o.StatusReason == models.OfferFullReason && o.HasCapacity() &&
			(o.AvailableUntil == "" || o.AvailableUntil >= today)
	}
	if !full(o) {
		return
	}
	if _, err := s.offers.update(ctx, nil, o.ID, nil, "", func(o *models.Offer) error {
		if !full(o) {
			return errUnchanged
		}
		o.Status, o.StatusReason = models.OfferOpen, ""
		return nil
	}); err != nil && !errors.Is(err, errUnchanged) {
		s.log.WarnContext(ctx, "a full offer with room again did not reopen", "err", err, "offer", o.ID)
	}
}

// closeIfFull closes an open offer that has no slot or no budget left, and ends its proposals
// (the offer-close cascade). It returns the closed offer, or nil when it stays open.
func (s *Engagements) closeIfFull(ctx context.Context, offerID string) *models.Offer {
	closed, ok, err := s.store.CloseFullOffer(ctx, offerID, s.now().UTC())
	if err != nil || !ok {
		return nil
	}
	s.offers.applied(ctx, closed)
	s.OfferClosed(ctx, nil, closed, "")
	return closed
}

// Cascade reports what the end of a need or of an offer did to its engagements.
type Cascade struct {
	Withdrawn []string `json:"withdrawn_engagements"`
	Cancelled []string `json:"cancelled_engagements"`
	Kept      []string `json:"kept_engagements"`
	// ReleasedBudget and ReleasedEngagements are what the cancellations gave back to offers.
	ReleasedBudget      int64 `json:"released_budget_usd"`
	ReleasedEngagements int   `json:"released_engagements"`
	// Pending lists engagements a step could not settle now (the store was unreachable); the
	// start-up recovery, or the next change of the engagement, settles them.
	Pending []string `json:"pending_engagements,omitempty"`
	// Notes say in words what happened.
	Notes []string `json:"notes"`
}

func newCascade() *Cascade {
	return &Cascade{Withdrawn: []string{}, Cancelled: []string{}, Kept: []string{}, Notes: []string{}}
}

// NeedEnded applies the end of a need (withdrawn, or rejected back to draft) to its
// engagements: proposals withdrawn, agreements cancelled with their slot and amount released,
// both sides told. It is idempotent; call it after the need's end is stored.
func (s *Engagements) NeedEnded(ctx context.Context, a *models.Actor, n *models.Need, reason string) *Cascade {
	ctx = context.WithoutCancel(ctx) // the need has ended: finish even if the client went away
	c := newCascade()
	for _, e := range s.oldestFirst(func(e *models.Engagement) bool { return e.NeedID == n.ID }) {
		fate, x, err := s.settle(ctx, a, e, n, nil, reason)
		c.record(fate, e, x, err)
	}
	if len(c.Withdrawn) > 0 {
		c.Notes = append(c.Notes, plural(len(c.Withdrawn), "proposal", "proposals")+" withdrawn")
	}
	if len(c.Cancelled) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%s cancelled: US$%d and %s released to their offers",
			plural(len(c.Cancelled), "agreed engagement", "agreed engagements"), c.ReleasedBudget, plural(c.ReleasedEngagements, "engagement slot", "engagement slots")))
	}
	return c
}

// OfferClosed applies the closing of an offer to its engagements: proposals withdrawn and both
// sides told; agreements kept (their slot and amount stay taken) and their ministries told so.
// It is idempotent; call it after the offer's end is stored.
func (s *Engagements) OfferClosed(ctx context.Context, a *models.Actor, o *models.Offer, reason string) *Cascade {
	ctx = context.WithoutCancel(ctx)
	if reason == "" && o.StatusReason == models.OfferFullReason {
		reason = "the offer has no engagement slot or budget left"
	}
	c := newCascade()
	for _, e := range s.oldestFirst(func(e *models.Engagement) bool { return e.OfferID == o.ID }) {
		fate, x, err := s.settle(ctx, a, e, nil, o, reason)
		c.record(fate, e, x, err)
		if fate == models.FateKeep && e.ProjectID == "" {
			s.notify(ctx, e, e.NeedOrgID, KindKept, "")
		}
	}
	if len(c.Withdrawn) > 0 {
		c.Notes = append(c.Notes, plural(len(c.Withdrawn), "proposal", "proposals")+" withdrawn")
	}
	if len(c.Kept) > 0 {
		c.Notes = append(c.Notes, plural(len(c.Kept), "agreed engagement stays", "agreed engagements stay")+
			": their slots and amounts remain taken; cancel an engagement, or close its project, to end it")
	}
	return c
}

func (c *Cascade) record(fate models.EngagementFate, before, after *models.Engagement, err error) {
	if err != nil {
		c.Pending = append(c.Pending, before.ID)
		return
	}
	switch fate {
	case models.FateWithdraw:
		c.Withdrawn = append(c.Withdrawn, before.ID)
	case models.FateCancel:
		c.Cancelled = append(c.Cancelled, before.ID)
		c.ReleasedBudget += after.BudgetUSD
		c.ReleasedEngagements++
	case models.FateKeep:
		c.Kept = append(c.Kept, before.ID)
	}
}

func (s *Engagements) oldestFirst(keep func(*models.Engagement) bool) []*models.Engagement {
	list := systemView(s.model).engagements(keep)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// settle applies models.FateOf to one engagement: a proposal whose need or offer ended is
// withdrawn, an agreement whose need ended is cancelled and released, and both sides are told.
// n and o are the need and the offer as the caller knows them; when both are nil they are read
// from the store (the truth when another replica ended them). It returns the fate, the
// engagement after, and an error when a step failed (a retry or Recover finishes it).
func (s *Engagements) settle(ctx context.Context, a *models.Actor, e *models.Engagement, n *models.Need, o *models.Offer, reason string) (models.EngagementFate, *models.Engagement, error) {
	if n == nil && o == nil {
		var err error
		if n, err = s.store.GetNeed(ctx, e.NeedID); err != nil {
			return models.FateNone, e, err
		}
		if o, err = s.store.GetOffer(ctx, e.OfferID); err != nil {
			return models.FateNone, e, err
		}
	}
	fate := models.FateOf(e, n, o)
	why := reason
	if why == "" {
		switch {
		case n != nil && n.Status == models.NeedWithdrawn:
			why = "the need was withdrawn"
		case n != nil && !n.TakesEngagements():
			why = "the need went back to " + string(n.Status)
		case o != nil && o.Status == models.OfferClosed:
			why = "the offer was closed"
		}
	}
	switch fate {
	case models.FateWithdraw:
		x, changed, err := s.move(ctx, e.ID, models.EngWithdraw, why)
		if err != nil {
			return fate, e, err
		}
		if changed {
			audit(ctx, s.store, s.log, s.now(), a, "withdraw", "engagement", e.ID, []string{"status"})
			s.tellBoth(ctx, x, KindWithdrawn, x.Reason)
		}
		return fate, x, nil
	case models.FateCancel:
		x, changed, err := s.move(ctx, e.ID, models.EngCancel, why)
		if err != nil {
			return fate, e, err
		}
		if x, err = s.release(ctx, x); err != nil {
			return fate, e, err
		}
		if changed {
			audit(ctx, s.store, s.log, s.now(), a, "cancel", "engagement", e.ID, []string{"status"})
			s.tellBoth(ctx, x, KindCancelled, x.Reason)
		}
		return fate, x, nil
	}
	return fate, e, nil
}

// tellBoth notifies both sides of an engagement.
func (s *Engagements) tellBoth(ctx context.Context, e *models.Engagement, kind, reason string) {
	s.notify(ctx, e, e.NeedOrgID, kind, reason)
	s.notify(ctx, e, e.OfferOrgID, kind, reason)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// EngagementSideOf is models.EngagementSide, kept here for the notifications' wording.
func EngagementSideOf(a *models.Actor, e *models.Engagement) models.Side {
	return models.EngagementSide(a, e)
}

// Message adds a message to the engagement's thread (either side, coordinators).
func (s *Engagements) Message(ctx context.Context, a *models.Actor, id, body string) (*models.Engagement, error) {
	if _, err := s.find(ctx, a, id, models.ActMessage); err != nil {
		return nil, err
	}
	var p models.Problems // checked once the actor is allowed: 403 or 404 whatever the input
	models.RequiredText("body", body, 5000, true, &p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		now := s.now().UTC()
		side := models.EngagementSide(a, e)
		e.Messages = append(e.Messages, models.EngagementMessage{ID: models.NewID(now), AuthorID: a.UserID, Side: side, Body: models.CleanText(body), CreatedAt: now})
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "message", "engagement", id, []string{"messages"})
	return e, nil
}

// errUnchanged ends an update that has nothing to write (an idempotent retry).
var errUnchanged = errors.New("unchanged")

// update is the engagement's read-modify-write loop. An apply that returns errUnchanged ends
// it with the engagement as read.
func (s *Engagements) update(ctx context.Context, id string, apply func(*models.Engagement) error) (*models.Engagement, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.load(ctx, id)
		if err != nil {
			return nil, err
		}
		e := *cur
		// A copy, never nil: an engagement's thread is a list, empty when no one wrote.
		e.Messages = append(make([]models.EngagementMessage, 0, len(cur.Messages)+1), cur.Messages...)
		if err := apply(&e); err != nil {
			if errors.Is(err, errUnchanged) {
				return cur, nil
			}
			return nil, err
		}
		e.Version = cur.Version + 1
		e.UpdatedAt = s.now().UTC()
		err = s.store.ReplaceEngagement(ctx, &e, cur.Version)
		if err == nil {
			s.applied(ctx, &e)
			return &e, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 8 {
			return nil, err
		}
		if fresh, gerr := s.store.GetEngagement(ctx, id); gerr == nil {
			s.model.PutEngagement(fresh)
		}
	}
}

func (s *Engagements) applied(ctx context.Context, e *models.Engagement) {
	commit(ctx, s.bus, s.log, models.Event{Type: models.EventEngagement, ID: e.ID, Version: e.Version, At: e.UpdatedAt, Data: mustJSON(e)},
		func() { s.model.PutEngagement(e) })
	if e.Status == models.EngagementAgreed || e.Status == models.EngagementCancelled {
		s.events.DeliveriesChanged(readmodel.Local)
	}
}

// notify tells an organization about an engagement: the kind, with the titles of its need and
// offer, and the reason when one was given.
func (s *Engagements) notify(ctx context.Context, e *models.Engagement, orgID, kind, reason string) {
	if orgID == "" {
		return
	}
	needTitle, offerTitle := e.NeedID, e.OfferID
	if n, ok := s.model.Need(e.NeedID); ok {
		needTitle = n.Title
	}
	if o, ok := s.model.Offer(e.OfferID); ok {
		offerTitle = o.Title
	}
	s.events.Notify(ctx, Notice{Feed: orgID, Kind: kind, Args: noticeArgs(needTitle, offerTitle, reason), ObjectType: "engagement", ObjectID: e.ID})
}

// Accept agrees an engagement on behalf of the side that did not propose it. Concurrent and
// retried accepts never take more slots or budget than the offer has.
func (s *Engagements) Accept(ctx context.Context, a *models.Actor, id string) (*models.Engagement, error) {
	if _, err := s.find(ctx, a, id, models.ActAccept); err != nil {
		return nil, err
	}
	e, err := s.complete(ctx, id)
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "accept", "engagement", id, []string{"status"})
	s.notify(ctx, e, otherOrg(e, models.EngagementSide(a, e)), KindAccepted, "")
	return e, nil
}

// Why an accept step stops: another replica holds the accept (its lease is live), or took it
// over after this replica's lease lapsed and finishes it itself.
var (
	errBusy      = models.Errorf(models.ErrConflict, "the engagement is being accepted on another replica; try again in a moment")
	errTakenOver = models.Errorf(models.ErrConflict, "another replica took this accept over after this one's lease lapsed; it finishes the accept")
	// errLeave ends a takeover that finds the work alive or finished (Recover).
	errLeave = errors.New("left to its lease owner")
)

// complete runs (or resumes) the accept of an engagement: in one transaction where the store
// has them (completeInTx), else as the protocol of single-document steps under this replica's
// lease (models.Lease), each step checking in its conditional write that the lease is still
// this replica's, so that a step whose accept another replica took over stops.
func (s *Engagements) complete(ctx context.Context, id string) (*models.Engagement, error) {
	if tx := s.transactor(); tx != nil {
		return s.completeInTx(ctx, tx, id)
	}
	// Step 1: proposed → accepting, with this replica's lease (a retry finds it accepting or
	// agreed already; an accepting one whose lease lapsed is taken over and finished).
	e, err := s.update(ctx, id, func(e *models.Engagement) error {
		now := s.now()
		switch e.Status {
		case models.EngagementAgreed:
			return errUnchanged
		case models.EngagementAccepting:
			if e.Lease.Live(now) && !e.Lease.HeldBy(s.replica) {
				return errBusy
			}
		default:
			if e.Lease.Live(now) {
				return errBusy // recovery is cleaning what a taken-over accept left (cleanLeftover)
			}
			next, err := e.Next(models.EngAccept)
			if err != nil {
				return models.Errorf(models.ErrConflict, "a %s engagement cannot be accepted", e.Status)
			}
			e.Status = next
		}
		e.Lease = models.NewLease(s.replica, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.Status == models.EngagementAgreed {
		return e, nil
	}
	// Step 2: match the need to this engagement.
	if e, err = s.hold(ctx, e); err != nil {
		return nil, err
	}
	if _, err := s.needs.update(ctx, nil, e.NeedID, nil, "", func(n *models.Need) error {
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
	// Step 3: take the offer's slot and the engagement's amount.
	if e, err = s.hold(ctx, e); err != nil {
		return nil, err
	}
	o, err := s.store.ReserveOfferSlot(ctx, e.OfferID, e.ID, e.BudgetUSD, s.now().UTC())
	if err != nil {
		return nil, s.undo(ctx, e, true, err)
	}
	s.offers.applied(ctx, o)
	// Step 4: agreed, while this replica still holds the lease (an accept another replica
	// took over and agreed meanwhile reads as done).
	e, err = s.update(ctx, id, func(e *models.Engagement) error {
		if e.Status == models.EngagementAgreed {
			return errUnchanged
		}
		if e.Status != models.EngagementAccepting || !e.Lease.HeldBy(s.replica) {
			return errTakenOver
		}
		next, err := e.Next(models.EngAgree)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		e.Status, e.DecidedAt, e.Lease = next, &now, nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.agreed(ctx, e, o)
}

// agreed finishes an accept once the engagement is agreed: an offer left full closes, and an
// agreement whose need was withdrawn meanwhile is cancelled. reserved is the offer as the
// reservation of its slot left it.
func (s *Engagements) agreed(ctx context.Context, e *models.Engagement, reserved *models.Offer) (*models.Engagement, error) {
	// An offer with no slot or budget left closes by itself, ending its other proposals. One
	// the reservation left with room needs no look: a later reservation that fills it closes
	// it, and an edit that leaves it full closes it (subscribe).
	if reserved == nil || !reserved.HasCapacity() {
		s.closeIfFull(ctx, e.OfferID)
	}
	// The need may have been withdrawn while this accept ran (after step 2): the agreement is
	// then cancelled at once, as the withdrawal's cascade would have.
	if n, err := s.store.GetNeed(ctx, e.NeedID); err == nil && !n.TakesEngagements() {
		if _, _, err := s.settle(ctx, nil, e, n, nil, ""); err != nil {
			s.log.WarnContext(ctx, "agreement on a withdrawn need not cancelled yet; Recover will", "err", err, "engagement", e.ID)
		}
		return nil, models.Errorf(models.ErrConflict, "the need was withdrawn while the engagement was being accepted; the engagement is cancelled")
	}
	return e, nil
}

// hold makes sure this replica still holds the lease of e's accept before its next step, and
// renews it once less than half of it is left, so that the step starts with at least
// LeaseDuration/2 ahead of it. A lease this replica wrote is not read again while more than
// half is left: no other replica takes a lease over before it lapses. errTakenOver when
// another replica took the accept over, or it ended: this replica then stops.
func (s *Engagements) hold(ctx context.Context, e *models.Engagement) (*models.Engagement, error) {
	return s.holdWhile(ctx, e, func(x *models.Engagement) bool { return x.Status == models.EngagementAccepting })
}

// holdWhile is hold for any leased work: still says whether the stored engagement is still in
// the state the work is about (accepting; linked to the project being started).
func (s *Engagements) holdWhile(ctx context.Context, e *models.Engagement, still func(*models.Engagement) bool) (*models.Engagement, error) {
	if e.Lease.HeldBy(s.replica) && e.Lease.Until.Sub(s.now()) > models.LeaseDuration/2 {
		return e, nil
	}
	return s.update(ctx, e.ID, func(x *models.Engagement) error {
		if !still(x) || !x.Lease.HeldBy(s.replica) {
			return errTakenOver
		}
		x.Lease = models.NewLease(s.replica, s.now())
		return nil
	})
}

// transactor returns the store's transactions when it has them (MongoDB as a replica set or
// behind mongos), else nil (FerretDB).
func (s *Engagements) transactor() models.Transactor {
	if t, ok := s.store.(models.Transactor); ok && t.Transactions() {
		return t
	}
	return nil
}

// completeInTx is the accept in one transaction: the need matched, the offer's slot and amount
// taken and the engagement agreed commit together or not at all, so nothing is left for
// recovery and no lease is taken. An engagement left "accepting" by the protocol (by a replica
// that ran without transactions) is finished the same way once its lease lapsed; the steps it
// already took are found done.
func (s *Engagements) completeInTx(ctx context.Context, tx models.Transactor, id string) (*models.Engagement, error) {
	var e *models.Engagement
	var n *models.Need
	var o *models.Offer
	wrote := false
	err := tx.InTransaction(ctx, func(ctx context.Context) error {
		e, n, o, wrote = nil, nil, nil, false // fn runs again when the transaction is retried
		cur, err := s.store.GetEngagement(ctx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		switch cur.Status {
		case models.EngagementAgreed:
			e = cur
			return nil
		case models.EngagementAccepting:
			if cur.Lease.Live(now) && !cur.Lease.HeldBy(s.replica) {
				return errBusy
			}
		default:
			if cur.Lease.Live(now) {
				return errBusy // recovery is cleaning what a taken-over accept left (cleanLeftover)
			}
			if _, err := cur.Next(models.EngAccept); err != nil {
				return models.Errorf(models.ErrConflict, "a %s engagement cannot be accepted", cur.Status)
			}
		}
		need, err := s.store.GetNeed(ctx, cur.NeedID)
		if err != nil {
			return err
		}
		if need.Status != models.NeedMatched || need.EngagementID != cur.ID {
			next, err := need.Next(models.NeedMatch)
			if err != nil {
				return models.Errorf(models.ErrConflict, "the need is %s and can no longer be matched", need.Status)
			}
			m := *need
			m.Status, m.EngagementID = next, cur.ID
			m.Version, m.UpdatedAt = need.Version+1, now
			if err := s.store.ReplaceNeed(ctx, &m, need.Version); err != nil {
				return err
			}
			n = &m
		}
		if o, err = s.store.ReserveOfferSlot(ctx, cur.OfferID, cur.ID, cur.BudgetUSD, now); err != nil {
			return err
		}
		x := *cur
		x.Status, x.DecidedAt, x.Lease = models.EngagementAgreed, &now, nil
		x.Version, x.UpdatedAt = cur.Version+1, now
		if err := s.store.ReplaceEngagement(ctx, &x, cur.Version); err != nil {
			return err
		}
		e, wrote = &x, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !wrote {
		s.model.PutEngagement(e)
		return e, nil
	}
	if n != nil {
		s.needs.applied(ctx, n)
	}
	s.offers.applied(ctx, o)
	s.applied(ctx, e)
	return s.agreed(ctx, e, o)
}

// undo reverses the steps an accept took before one failed, settles the engagement (its need
// or offer may have ended, which is why the step failed), then returns cause. Only the
// lease's owner undoes: an accept another replica took over is left to it.
func (s *Engagements) undo(ctx context.Context, e *models.Engagement, needMatched bool, cause error) error {
	ctx = context.WithoutCancel(ctx)
	held, err := s.hold(ctx, e)
	if err != nil {
		s.log.WarnContext(ctx, "accept not undone here: another replica took it over", "err", err, "engagement", e.ID)
		return cause
	}
	e = held
	if needMatched {
		// The need as stored: a replica taking over an accept may not have seen step 2 yet.
		if fresh, err := s.store.GetNeed(ctx, e.NeedID); err == nil {
			s.model.PutNeed(fresh)
		}
		_ = s.unmatchNeed(ctx, e)
	}
	x, err := s.update(ctx, e.ID, func(x *models.Engagement) error {
		if x.Status != models.EngagementAccepting {
			return errUnchanged
		}
		if !x.Lease.HeldBy(s.replica) {
			return errTakenOver
		}
		next, err := x.Next(models.EngRevert)
		if err != nil {
			return err
		}
		x.Status, x.Lease = next, nil
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "accept could not be undone; Recover will", "err", err, "engagement", e.ID)
		return cause
	}
	if _, _, err := s.settle(ctx, nil, x, nil, nil, ""); err != nil {
		s.log.WarnContext(ctx, "engagement not settled after an undone accept; Recover will", "err", err, "engagement", e.ID)
	}
	return cause
}

// takeOver gives this replica the lease of an accept left "accepting" whose lease lapsed (or
// that has none: it was interrupted before leases existed), in one conditional write;
// errLeave when the accept is still alive on its owner, or over.
func (s *Engagements) takeOver(ctx context.Context, id string) (*models.Engagement, error) {
	// The engagement as stored: this replica's model may lag behind the owner's steps.
	if fresh, err := s.store.GetEngagement(ctx, id); err == nil {
		s.model.PutEngagement(fresh)
	}
	return s.update(ctx, id, func(x *models.Engagement) error {
		if x.Status != models.EngagementAccepting || x.Lease.Live(s.now()) {
			return errLeave
		}
		x.Lease = models.NewLease(s.replica, s.now())
		return nil
	})
}

// holdsNothing reports whether an engagement may hold no offer slot and no need: a proposal,
// or an engagement that ended without an agreement, or a cancelled one already released. What
// such an engagement holds was left by an accept step that landed after another replica took
// the accept over and undid it (a replica frozen inside a write for longer than half a lease).
func holdsNothing(e *models.Engagement) bool {
	switch e.Status {
	case models.EngagementProposed, models.EngagementDeclined, models.EngagementWithdrawn:
		return true
	case models.EngagementCancelled:
		return e.ReleasedAt != nil
	}
	return false
}

// leftovers lists the engagements that, in this replica's model, hold an offer slot or a need
// they should not (holdsNothing), without a live lease.
func (s *Engagements) leftovers() []string {
	now := s.now()
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if e, ok := s.model.Engagement(id); ok && !seen[id] && holdsNothing(e) && !e.Lease.Live(now) {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, o := range systemView(s.model).allOffers(func(o *models.Offer) bool { return len(o.Reservations) > 0 }) {
		for _, r := range o.Reservations {
			add(r)
		}
	}
	for _, n := range systemView(s.model).allNeeds(func(n *models.Need) bool { return n.Status == models.NeedMatched && n.EngagementID != "" }) {
		add(n.EngagementID)
	}
	return ids
}

// cleanLeftover gives back the offer slot and the need an engagement holds although it holds
// nothing (holdsNothing). It first writes its own lease on the engagement, conditionally, as
// a fence: an accept of that proposal starting meanwhile waits (errBusy) rather than find the
// slot and the need "already taken" and agree on what is being given back.
func (s *Engagements) cleanLeftover(ctx context.Context, id string) error {
	ctx = context.WithoutCancel(ctx)
	if fresh, err := s.store.GetEngagement(ctx, id); err == nil {
		s.model.PutEngagement(fresh)
	}
	x, err := s.update(ctx, id, func(x *models.Engagement) error {
		if !holdsNothing(x) || x.Lease.Live(s.now()) {
			return errLeave
		}
		x.Lease = models.NewLease(s.replica, s.now())
		return nil
	})
	if errors.Is(err, errLeave) {
		return nil
	}
	if err != nil {
		return err
	}
	o, err := s.store.ReleaseOfferSlot(ctx, x.OfferID, x.ID, x.BudgetUSD, s.now().UTC())
	if err != nil {
		return err
	}
	s.offers.applied(ctx, o)
	s.reopenIfRoom(ctx, o)
	if fresh, err := s.store.GetNeed(ctx, x.NeedID); err == nil {
		s.model.PutNeed(fresh)
	}
	if err := s.unmatchNeed(ctx, x); err != nil {
		return err
	}
	s.events.DeliveriesChanged(readmodel.Local)
	s.log.WarnContext(ctx, "gave back an offer slot and a need held by an engagement that holds nothing (a late step of a taken-over accept)", "engagement", x.ID)
	_, err = s.update(ctx, id, func(x *models.Engagement) error {
		if !x.Lease.HeldBy(s.replica) {
			return errUnchanged
		}
		x.Lease = nil
		return nil
	})
	return err
}

// RecoveryInterval is how often RunRecovery looks for work another replica left behind: once
// per lease, so that an accept whose replica died is finished within two lease durations.
const RecoveryInterval = models.LeaseDuration

// RunRecovery runs Recover every interval until ctx ends, so that the multi-document work of
// a replica that stopped is finished by the others once its lease lapses, without waiting for
// a restart. Each run is idempotent and leaves work under a live lease alone.
func (s *Engagements) RunRecovery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Recover(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "engagement recovery incomplete; it runs again", "err", err)
			}
		}
	}
}

// Recover finishes what a crash interrupted, and is idempotent; it runs at start-up and then
// periodically (RunRecovery), on every replica, and never touches work under a live lease:
//   - an engagement left "accepting" whose lease lapsed is taken over (a conditional write of
//     this replica's lease), then completed if its offer slot is reserved, else undone;
//   - an engagement that should hold nothing (a proposal, or ended unagreed, or released) but
//     holds an offer slot or a need (a late step of an accept taken over) gives them back;
//   - a cancelled engagement not yet released is released (every step of a release is
//     idempotent and only moves forward, so a release running elsewhere needs no lease);
//   - a live engagement whose need or offer ended is settled (models.FateOf);
//   - an agreed engagement linked to a project that was never written (the start was
//     interrupted before its need moved) is unlinked, once its start's lease lapsed (or, for a
//     link without a lease, once the link is older than a minute).
func (s *Engagements) Recover(ctx context.Context) error {
	var errs []error
	for _, e := range systemView(s.model).engagements(func(e *models.Engagement) bool {
		return e.Status == models.EngagementAccepting && !e.Lease.Live(s.now())
	}) {
		x, err := s.takeOver(ctx, e.ID)
		if errors.Is(err, errLeave) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o, err := s.store.GetOffer(ctx, x.OfferID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if slices.Contains(o.Reservations, x.ID) {
			if _, err := s.complete(ctx, x.ID); err != nil && !errors.Is(err, models.ErrConflict) {
				errs = append(errs, err)
			}
			continue
		}
		_ = s.undo(ctx, x, true, nil)
	}
	for _, id := range s.leftovers() {
		if err := s.cleanLeftover(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, e := range systemView(s.model).engagements(func(e *models.Engagement) bool {
		return e.Status == models.EngagementCancelled && e.ReleasedAt == nil
	}) {
		if _, err := s.release(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	for _, e := range systemView(s.model).engagements(func(e *models.Engagement) bool {
		return e.Status == models.EngagementProposed || e.Status == models.EngagementAgreed
	}) {
		n, _ := s.model.Need(e.NeedID)
		o, _ := s.model.Offer(e.OfferID)
		if models.FateOf(e, n, o) == models.FateNone {
			continue
		}
		if _, _, err := s.settle(ctx, nil, e, nil, nil, ""); err != nil {
			errs = append(errs, err)
		}
	}
	now := s.now()
	stale := now.Add(-time.Minute)
	for _, e := range systemView(s.model).engagements(func(e *models.Engagement) bool {
		lapsed := !e.Lease.Live(now) && (e.Lease != nil || e.UpdatedAt.Before(stale))
		return e.Status == models.EngagementAgreed && e.ProjectID != "" && lapsed
	}) {
		if _, has := s.model.Project(e.ProjectID); has {
			continue
		}
		if _, err := s.store.GetProject(ctx, e.ProjectID); !errors.Is(err, models.ErrNotFound) {
			continue
		}
		if n, err := s.store.GetNeed(ctx, e.NeedID); err != nil || n.Status != models.NeedMatched {
			s.log.WarnContext(ctx, "a project start was interrupted after its need moved; retrying the start finishes it", "engagement", e.ID, "project", e.ProjectID)
			continue
		}
		if err := s.unlink(ctx, e.ID, e.ProjectID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unmatchNeed opens e's need again if it is matched to e (the release of a cancelled agreement,
// an undone accept, a late step given back); a need matched to another engagement, or no longer
// matched, is left as it is.
func (s *Engagements) unmatchNeed(ctx context.Context, e *models.Engagement) error {
	_, err := s.needs.update(ctx, nil, e.NeedID, nil, "", func(n *models.Need) error {
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
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// unlink gives back the project id an engagement reserved for a project that did not start.
func (s *Engagements) unlink(ctx context.Context, id, projectID string) error {
	_, err := s.update(context.WithoutCancel(ctx), id, func(x *models.Engagement) error {
		if x.ProjectID != projectID {
			return errUnchanged
		}
		if x.Lease.Live(s.now()) && !x.Lease.HeldBy(s.replica) {
			return errBusy // the start runs on another replica
		}
		x.ProjectID, x.Lease = "", nil
		return nil
	})
	return err
}
