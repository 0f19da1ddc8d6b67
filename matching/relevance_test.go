package matching

import (
	"math"
	"slices"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// unrelatedOffer is the kind of offer the issue saw ranked at 50-67 for needs it has nothing
// to do with: open everywhere, in every language the need could ask for, every modality, a
// large budget and a long window, but on another theme (a cybercrime-law programme for a
// CSIRT need).
func unrelatedOffer() *models.Offer {
	return &models.Offer{
		ID: "offer-crime", Title: "Cybercrime legislation programme",
		Themes:       []models.Theme{models.ThemeCybercrime},
		Capabilities: []models.Capability{models.CapCybercrimeLegislation, models.CapLawEnforcementTraining},
		Modalities: []models.Modality{models.ModExpertDeployment, models.ModTraining, models.ModMentoring,
			models.ModPolicyAdvice, models.ModFunding},
		Languages: []string{"fr", "en", "es", "ar", "pt"}, EligibleCountries: []string{"SN"},
		BudgetUSD: 10_000_000, MaxEngagements: 20, AvailableFrom: "2026-01-01", AvailableUntil: "2030-12-31",
		Status: models.OfferOpen,
	}
}

// sameThemeOffer covers the need's theme (incident management) with another capability.
func sameThemeOffer() *models.Offer {
	o := unrelatedOffer()
	o.ID, o.Title = "offer-ciip", "Critical infrastructure protection programme"
	o.Themes, o.Capabilities = []models.Theme{models.ThemeIncidentManagement}, []models.Capability{models.CapCIIP}
	return o
}

func TestRelevanceGatesTheScore(t *testing.T) {
	w := DefaultWeights()
	n := baseNeed()

	// Unrelated: it passes every hard constraint and is perfect on every other factor, yet
	// it scores 0, is weak and is not listed. Before relevance gated the score it scored
	// 0.70 (every factor but capability).
	m, ok := Score(n, unrelatedOffer(), w, nil)
	if !ok {
		t.Fatal("the unrelated offer failed a hard constraint; the test needs it eligible")
	}
	checkMatch(t, m, w)
	if m.Relevance != 0 || m.Score != 0 || m.Listed() || m.Band != BandWeak {
		t.Errorf("unrelated pair: relevance %v, score %v, listed %v, band %q", m.Relevance, m.Score, m.Listed(), m.Band)
	}
	for _, f := range m.Factors {
		if f.Contribution != 0 {
			t.Errorf("unrelated pair: %s contributes %v", f.Name, f.Contribution)
		}
	}
	if ok, _ := Eligible(n, unrelatedOffer(), nil); !ok {
		t.Error("relevance is not a hard constraint: a ministry may still propose an engagement")
	}

	// Same theme, another capability: a partial match. Every contribution is halved and the
	// capability factor itself is worth a quarter of its weight.
	m, _ = Score(n, sameThemeOffer(), w, nil)
	checkMatch(t, m, w)
	if m.Relevance != 0.5 || !m.Listed() {
		t.Fatalf("same-theme pair: relevance %v, listed %v", m.Relevance, m.Listed())
	}
	wa := w.array()
	var sum float64
	for i, f := range m.Factors {
		want := round4(wa[i] * f.Value * 0.5)
		if math.Abs(f.Contribution-want) > 1e-9 {
			t.Errorf("same theme: %s contributes %v, want %v", f.Name, f.Contribution, want)
		}
		sum += f.Contribution
	}
	if m.Score != round4(sum) || m.Score >= StrongFrom || m.Band == BandStrong {
		t.Errorf("same-theme pair scores %v (%s)", m.Score, m.Band)
	}
	// The most a same-theme offer can score: a quarter of the capability weight and half of
	// every other weight, 0.07 + 0.36 = 0.43 with the defaults; this one is perfect on
	// every other factor and reaches it.
	if best := 0.25*w.Capability + 0.5*(1-w.Capability); m.Score != round4(best) || best >= StrongFrom {
		t.Errorf("same theme scores %v, bound %v", m.Score, best)
	}

	// Exact capability: relevance 1, the plain weighted sum.
	m, _ = Score(n, baseOffer(), w, nil)
	if m.Relevance != 1 || m.Band != BandStrong {
		t.Errorf("exact pair: relevance %v, band %q", m.Relevance, m.Band)
	}
}

func TestBandOf(t *testing.T) {
	for _, tt := range []struct {
		score float64
		band  Band
	}{
		{1, BandStrong}, {0.7, BandStrong}, {0.6999, BandPossible}, {0.4, BandPossible}, {0.3999, BandWeak}, {0, BandWeak},
	} {
		if got := BandOf(tt.score); got != tt.band {
			t.Errorf("BandOf(%v) = %q, want %q", tt.score, got, tt.band)
		}
	}
}

// TestUnrelatedNeverListed checks every path that lists pairs, in both directions: rankings
// of offers for a need and of needs for an offer (explained and bulk), RebuildAll, the
// incremental refreshes after an offer or a need changes (RefreshOffer, PatchOffer,
// RefreshNeed), ExplainAll on a stale list, and allocation.
func TestUnrelatedNeverListed(t *testing.T) {
	w, ctx := DefaultWeights(), &Context{Today: "2026-06-01"}
	n := baseNeed()
	exact, theme, unrelated := baseOffer(), sameThemeOffer(), unrelatedOffer()
	ix := NewIndex([]*models.Need{n}, []*models.Offer{exact, theme, unrelated})
	ids := func(ms []Match, id func(Match) string) []string {
		var out []string
		for _, m := range ms {
			out = append(out, id(m))
		}
		return out
	}
	want := []string{exact.ID, theme.ID}
	if got := ids(ix.TopOffersForNeed(n.ID, 10, w, ctx), offerID); !slices.Equal(got, want) {
		t.Errorf("TopOffersForNeed lists %v, want %v", got, want)
	}
	if got := ids(ix.RankOffersForNeed(n.ID, 10, w, ctx), offerID); !slices.Equal(got, want) {
		t.Errorf("RankOffersForNeed lists %v, want %v", got, want)
	}
	if got := ix.TopNeedsForOffer(unrelated.ID, 10, w, ctx, nil); len(got) != 0 {
		t.Errorf("TopNeedsForOffer of the unrelated offer lists %v", got)
	}
	if got := ix.RankNeedsForOffer(unrelated.ID, 10, w, ctx, nil); len(got) != 0 {
		t.Errorf("RankNeedsForOffer of the unrelated offer lists %v", got)
	}
	if got := ids(ix.TopNeedsForOffer(theme.ID, 10, w, ctx, nil), needID); !slices.Equal(got, []string{n.ID}) {
		t.Errorf("the same-theme offer lists %v", got)
	}
	all := ix.RebuildAll(10, w, ctx, 2)
	if got := ids(all.ForNeed[n.ID], offerID); !slices.Equal(got, want) || len(all.ForOffer[unrelated.ID]) != 0 {
		t.Errorf("RebuildAll lists %v for the need and %v for the unrelated offer", got, all.ForOffer[unrelated.ID])
	}
	// A stale cached list that still holds the unrelated pair is not explained.
	stale := []Match{{NeedID: n.ID, OfferID: unrelated.ID, Score: 0.7}, {NeedID: n.ID, OfferID: exact.ID, Score: 0.9}}
	if got := ids(ix.ExplainAll(stale, w, ctx), offerID); !slices.Equal(got, []string{exact.ID}) {
		t.Errorf("ExplainAll shows %v", got)
	}
	// Allocation: the unrelated offer is the only one with room, yet it serves nothing.
	full := func(o *models.Offer) *models.Offer { c := *o; c.EngagementsUsed = c.MaxEngagements; return &c }
	if got := AllocateAll([]*models.Need{n}, []*models.Offer{full(exact), full(theme), unrelated}, w, ctx); len(got) != 0 {
		t.Errorf("AllocateAll serves the need with %v", got)
	}

	// The exact offer changes to another theme: it leaves the need's list, by RefreshOffer
	// and by PatchOffer, and its own list is empty.
	cached := ix.RebuildAll(10, w, ctx, 1)
	moved := *exact
	moved.Themes, moved.Capabilities = []models.Theme{models.ThemeCultureSkills}, []models.Capability{models.CapAwareness}
	old := ix.UpsertOffer(&moved)
	r := ix.RefreshOffer(old, moved.ID, func(id string) ([]Match, bool) { l, ok := cached.ForNeed[id]; return l, ok }, 10, w, ctx)
	if got := ids(r.Changed[n.ID], offerID); !slices.Equal(got, []string{theme.ID}) || len(r.Own) != 0 {
		t.Errorf("RefreshOffer: need's list %v, offer's own %v", got, r.Own)
	}
	p := ix.PatchOffer(old, moved.ID, func(id string) (CachedList, bool) {
		l, ok := cached.ForNeed[id]
		return CachedList{Items: l, Complete: len(l) < 10}, ok
	}, 10, 5, w, ctx)
	if got := ids(p.Changed[n.ID].Items, offerID); !slices.Equal(got, []string{theme.ID}) {
		t.Errorf("PatchOffer: need's list %v", got)
	}
	// And back: it enters again.
	cached = ix.RebuildAll(10, w, ctx, 1)
	back := ix.UpsertOffer(exact)
	r = ix.RefreshOffer(back, exact.ID, func(id string) ([]Match, bool) { l, ok := cached.ForNeed[id]; return l, ok }, 10, w, ctx)
	if got := ids(r.Changed[n.ID], offerID); !slices.Equal(got, want) {
		t.Errorf("RefreshOffer after the offer covers cert_setup again: %v", got)
	}

	// The need changes to a cybercrime capability: it leaves the CSIRT offers' lists and
	// enters the cybercrime offer's, by RefreshNeed.
	cached = ix.RebuildAll(10, w, ctx, 1)
	crime := *n
	crime.Theme, crime.Capability = models.ThemeCybercrime, models.CapCybercrimeLegislation
	oldNeed := ix.UpsertNeed(&crime)
	rn := ix.RefreshNeed(oldNeed, n.ID, func(id string) ([]Match, bool) { l, ok := cached.ForOffer[id]; return l, ok }, 10, w, ctx)
	for _, id := range []string{exact.ID, theme.ID} {
		if l, ok := rn.Changed[id]; !ok || len(l) != 0 {
			t.Errorf("RefreshNeed: %s's list is %v (changed %v), want empty", id, l, ok)
		}
	}
	if got := ids(rn.Changed[unrelated.ID], needID); !slices.Equal(got, []string{n.ID}) {
		t.Errorf("RefreshNeed: the cybercrime offer's list is %v", got)
	}
	if got := ids(rn.Own, offerID); !slices.Equal(got, []string{unrelated.ID}) {
		t.Errorf("RefreshNeed: the need's own list is %v", got)
	}
}
