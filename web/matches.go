package web

import (
	"context"
	"errors"
	"html/template"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// matchLimit is how many ranked matches a need or offer page shows.
const matchLimit = 10

// factorView is one factor of a match as the page shows it: its fit as a bar, its weight,
// the points it adds and why, in the user's language.
type factorView struct {
	Name         string
	Key          string
	Value        float64
	Weight       float64
	Contribution float64
	Reason       string
}

// matchView is one ranked match.
type matchView struct {
	Rank  int
	ID    string
	Title string
	// TitleAttrs mark a title shown in another language than the page's (textAttrs).
	TitleAttrs template.HTMLAttr
	Org        string
	Country    string
	Score      float64
	// Band is the score's strength band (strong, possible, weak), which the page names in
	// words next to the number; Partial marks a match on the theme only (relevance 0.5).
	Band    service.Band
	Partial bool
	Factors []factorView
	// NeedID and OfferID are the pair, for the "propose an engagement" form.
	NeedID, OfferID string
	// CanPropose: the viewer may propose an engagement for this pair now; Engagement is the
	// engagement already under way for it, if any.
	CanPropose bool
	Engagement string
	// Proposal is the proposal form's defaults when the viewer may propose.
	Proposal *proposalForm
}

// matchList is the ranking shown on a need's or an offer's page.
type matchList struct {
	Items      []matchView
	ComputedAt time.Time
	// Unavailable is set when the ranking could not be computed right now (a store or cache
	// outage); the page still shows the rest.
	Unavailable bool
}

func (u *UI) factors(L *Localizer, fs []service.Factor) []factorView {
	out := make([]factorView, 0, len(fs))
	for _, f := range fs {
		out = append(out, factorView{Name: L.T("factor." + f.Name), Key: f.Name, Value: f.Value, Weight: f.Weight,
			Contribution: f.Contribution, Reason: L.Reason(f.Code, f.Args)})
	}
	return out
}

// offersForNeed ranks the offers for a need with the matching service, as the viewer may see
// them.
func (u *UI) offersForNeed(r *req, n *models.Need) *matchList {
	a := r.actor()
	if a == nil || u.app.Matching == nil {
		return nil
	}
	ctx := r.c.UserContext()
	ms, err := u.app.Matching.OffersForNeed(ctx, a, n.ID, matchLimit)
	if err != nil {
		return u.rankingFailed(ctx, err)
	}
	out := &matchList{ComputedAt: ms.ComputedAt}
	for _, it := range ms.Items {
		m := matchView{Rank: it.Rank, ID: it.OfferID, Title: it.Title, Score: it.Score,
			Band: it.Band, Partial: it.Relevance < 1, Org: u.orgName(ctx, it.OrganizationID), Factors: u.factors(r.L, it.Factors), NeedID: n.ID, OfferID: it.OfferID}
		t := it.In(r.L.Lang)
		m.Title, m.TitleAttrs = t.Title, textAttrs(t, "title")
		pair := u.app.Engagements.Pair(ctx, a, n.ID, it.OfferID)
		m.CanPropose, m.Engagement = pair.MayPropose, pair.Engagement
		if o := u.offerFor(r, it.OfferID); o != nil && m.CanPropose {
			m.Proposal = u.proposalFor(n, o)
		}
		out.Items = append(out.Items, m)
	}
	return out
}

// needsForOffer ranks the needs for an offer, listing only needs the viewer may see.
func (u *UI) needsForOffer(r *req, o *models.Offer) *matchList {
	a := r.actor()
	if a == nil || u.app.Matching == nil {
		return nil
	}
	ctx := r.c.UserContext()
	ms, err := u.app.Matching.NeedsForOffer(ctx, a, o.ID, matchLimit)
	if err != nil {
		return u.rankingFailed(ctx, err)
	}
	out := &matchList{ComputedAt: ms.ComputedAt}
	for _, it := range ms.Items {
		m := matchView{Rank: it.Rank, ID: it.NeedID, Title: it.Title, Score: it.Score, Country: it.Country,
			Band: it.Band, Partial: it.Relevance < 1, Org: u.orgName(ctx, it.OrganizationID), Factors: u.factors(r.L, it.Factors), NeedID: it.NeedID, OfferID: o.ID}
		t := it.In(r.L.Lang)
		m.Title, m.TitleAttrs = t.Title, textAttrs(t, "title")
		pair := u.app.Engagements.Pair(ctx, a, it.NeedID, o.ID)
		m.CanPropose, m.Engagement = pair.MayPropose, pair.Engagement
		if n := u.needFor(r, it.NeedID); n != nil && m.CanPropose {
			m.Proposal = u.proposalFor(n, o)
		}
		out.Items = append(out.Items, m)
	}
	return out
}

// rankingFailed keeps the page usable when only the ranking is unavailable.
func (u *UI) rankingFailed(ctx context.Context, err error) *matchList {
	if !errors.Is(err, models.ErrUnavailable) {
		u.log.ErrorContext(ctx, "ranking for the web UI failed", "err", err)
	}
	return &matchList{Unavailable: true}
}

// orgName is the name of an organization for the pages that say who is behind a need, an
// offer or a match ("" when unknown: a page never fails for a name).
// needFor and offerFor load a need or an offer as the viewer may see it, nil when the viewer
// may not (or it does not exist): for titles and summaries next to something else.
func (u *UI) needFor(r *req, id string) *models.Need {
	n, err := u.app.Needs.Get(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil
	}
	return n
}

func (u *UI) offerFor(r *req, id string) *models.Offer {
	o, err := u.app.Offers.Get(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil
	}
	return o
}

func (u *UI) orgName(ctx context.Context, id string) string {
	name, err := u.app.Accounts.OrgName(ctx, id)
	if err != nil {
		u.log.WarnContext(ctx, "organization name unavailable", "err", err, "organization_id", id)
	}
	return name
}

// rankable reports whether a need's page shows offers for it: not once it is finished.
func rankable(n *models.Need) bool {
	return n.Status != models.NeedWithdrawn && n.Status != models.NeedFulfilled
}
