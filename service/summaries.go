package service

import (
	"context"
	"crypto/rand"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// The engine's vocabulary that callers of the application layer (api, web) need, named here so
// that they depend on this layer and the domain only.
type (
	// Weights are the matching factors' weights (see matching.Weights).
	Weights = matching.Weights
	// Factor is one explained factor of a ranked item (see matching.Factor).
	Factor = matching.Factor
	// Band names how strong a match is: strong, possible or weak (see matching.Band).
	Band = matching.Band
)

// FactorNames lists the matching factors in their order.
func FactorNames() []string { return matching.FactorNames() }

// The orders a list of needs can take (NeedListParams.Sort).
const (
	SortNewest   = readmodel.SortNewest
	SortPriority = readmodel.SortPriority
)

// StatusCounts counts the needs the actor may see by status, in one country when given: the
// tabs of a ministry's workspace and a coordinator's figures.
func (s *Needs) StatusCounts(ctx context.Context, a *models.Actor, country string) map[models.NeedStatus]int {
	out := map[models.NeedStatus]int{}
	for _, n := range viewAs(s.model, a).allNeeds(func(n *models.Need) bool { return country == "" || n.Country == country }) {
		out[n.Status]++
	}
	return out
}

// StatusCounts counts the offers the actor may see by status.
func (s *Offers) StatusCounts(ctx context.Context, a *models.Actor) map[models.OfferStatus]int {
	out := map[models.OfferStatus]int{}
	for _, o := range viewAs(s.model, a).allOffers(nil) {
		out[o.Status]++
	}
	return out
}

// PairState says what the actor may do about a need and an offer together, for the ranked
// matches on a need's or an offer's page.
type PairState struct {
	// MayPropose: the need and the offer are open, the offer has capacity left, the actor is the
	// need's ministry or the offer's donor, and no engagement of the pair is under way.
	MayPropose bool
	// Engagement is the engagement of the pair under way that the actor may see, if any.
	Engagement string
}

// Pair reports what the actor may do about a need and an offer (see PairState); the rule is
// the one Propose applies.
func (s *Engagements) Pair(ctx context.Context, a *models.Actor, needID, offerID string) PairState {
	var st PairState
	if a == nil {
		return st
	}
	v := viewAs(s.model, a)
	live := false
	for _, e := range systemView(s.model).engagements(func(e *models.Engagement) bool { return e.NeedID == needID && e.OfferID == offerID }) {
		if e.Live() {
			live = true
			if v.engagement(e) {
				st.Engagement = e.ID
			}
		}
	}
	n, ok := s.model.Need(needID)
	if !ok || !v.need(n) || n.Status != models.NeedOpen {
		return st
	}
	o, ok := s.model.Offer(offerID)
	if !ok || !v.offer(o) || o.Status != models.OfferOpen {
		return st
	}
	mine := (a.Role == models.RoleMinistry && a.OrgID == n.OrganizationID) || (a.Role == models.RoleDonor && a.OrgID == o.OrganizationID)
	st.MayPropose = mine && !live && o.HasCapacity()
	return st
}

// SharedSecret returns the secret stored under name, creating a random one of size bytes the
// first time, so that every replica uses the same key (the web's CSRF key, say).
func (a *App) SharedSecret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	return a.store.GetOrCreateSetting(ctx, name, fresh)
}
