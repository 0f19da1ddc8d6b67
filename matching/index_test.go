package matching

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/require"
)

// byRank orders matches as rankings do: score descending, then the given id ascending.
func byRank(id func(Match) string) func(a, b Match) int {
	return func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(id(a), id(b))
	}
}

func offerID(m Match) string { return m.OfferID }
func needID(m Match) string  { return m.NeedID }

// bruteOffers ranks every offer for a need with Score, the reference the index must match:
// every pair that passes the hard constraints and shares the need's capability or theme.
func bruteOffers(n *models.Need, offers []*models.Offer, w Weights, c *Context, k int) []Match {
	var out []Match
	for _, o := range offers {
		if m, ok := Score(n, o, w, c); ok && m.Listed() {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, byRank(offerID))
	return out[:min(k, len(out))]
}

func bruteNeeds(o *models.Offer, needs []*models.Need, w Weights, c *Context, k int, visible func(*models.Need) bool) []Match {
	var out []Match
	for _, n := range needs {
		if n.Status != models.NeedOpen && n.Status != models.NeedSubmitted {
			continue
		}
		if visible != nil && !visible(n) {
			continue
		}
		if m, ok := Score(n, o, w, c); ok && m.Listed() {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, byRank(needID))
	return out[:min(k, len(out))]
}

// scoresOnly drops the factors so that bulk results compare with explained ones.
func scoresOnly(ms []Match) []Match {
	if len(ms) == 0 {
		return nil
	}
	out := make([]Match, len(ms))
	for i, m := range ms {
		out[i] = Match{NeedID: m.NeedID, OfferID: m.OfferID, Score: m.Score}
	}
	return out
}

// testWeights exercises the pruning bounds with very different weight sets.
func testWeights() map[string]Weights {
	return map[string]Weights{
		"default":         DefaultWeights(),
		"no capability":   {Language: 0.3, Modality: 0.2, Budget: 0.2, Timing: 0.1, Maturity: 0.1, Priority: 0.05, Duplication: 0.05},
		"capability only": {Capability: 1},
		"need-side heavy": {Capability: 0.1, Language: 0.05, Modality: 0.05, Budget: 0.05, Timing: 0.05, Maturity: 0.1, Priority: 0.3, Duplication: 0.3},
	}
}

func TestIndexMatchesBruteForce(t *testing.T) {
	needs, offers, ctx := synthData(3, 150, 150)
	ix := NewIndex(needs, offers)
	visible := func(n *models.Need) bool { return n.Visibility == models.VisibilityPublic }
	for name, w := range testWeights() {
		t.Run(name, func(t *testing.T) {
			for _, k := range []int{1, 3, 20, 1000} {
				for _, n := range needs {
					got := ix.TopOffersForNeed(n.ID, k, w, ctx)
					want := bruteOffers(n, offers, w, ctx, k)
					if !reflect.DeepEqual(nilIfEmpty(got), nilIfEmpty(want)) {
						t.Fatalf("k=%d need %s:\n got %v\nwant %v", k, n.ID, scoresOnly(got), scoresOnly(want))
					}
					for _, m := range got {
						checkMatch(t, m, w)
					}
				}
				for _, o := range offers {
					for _, vis := range []func(*models.Need) bool{nil, visible} {
						got := ix.TopNeedsForOffer(o.ID, k, w, ctx, vis)
						want := bruteNeeds(o, needs, w, ctx, k, vis)
						if !reflect.DeepEqual(nilIfEmpty(got), nilIfEmpty(want)) {
							t.Fatalf("k=%d offer %s (filtered %v):\n got %v\nwant %v", k, o.ID, vis != nil, scoresOnly(got), scoresOnly(want))
						}
					}
				}
			}
		})
	}
}

func nilIfEmpty(ms []Match) []Match {
	if len(ms) == 0 {
		return nil
	}
	return ms
}

func TestVisibleAppliedBeforeTruncation(t *testing.T) {
	o := baseOffer()
	var needs []*models.Need
	for i := range 10 {
		n := baseNeed()
		n.ID = fmt.Sprintf("n%02d", i)
		if i < 5 {
			n.Visibility = models.VisibilityRestricted // the five best (equal score, lower ids) are hidden
		}
		needs = append(needs, n)
	}
	ix := NewIndex(needs, []*models.Offer{o})
	got := ix.TopNeedsForOffer(o.ID, 3, DefaultWeights(), nil, func(n *models.Need) bool { return n.Visibility != models.VisibilityRestricted })
	var ids []string
	for _, m := range got {
		ids = append(ids, m.NeedID)
	}
	if !slices.Equal(ids, []string{"n05", "n06", "n07"}) {
		t.Errorf("got %v", ids)
	}
}

func TestTiesBrokenByID(t *testing.T) {
	n := baseNeed()
	var offers []*models.Offer
	for _, id := range []string{"o-c", "o-a", "o-d", "o-b"} {
		o := baseOffer()
		o.ID = id
		offers = append(offers, o)
	}
	ix := NewIndex([]*models.Need{n}, offers)
	got := ix.TopOffersForNeed(n.ID, 3, DefaultWeights(), nil)
	if len(got) != 3 || got[0].OfferID != "o-a" || got[1].OfferID != "o-b" || got[2].OfferID != "o-c" {
		t.Errorf("got %v", scoresOnly(got))
	}
}

func TestRebuildAllDeterministicAndExact(t *testing.T) {
	needs, offers, ctx := synthData(4, 200, 200)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	ref := ix.RebuildAll(10, w, ctx, 1)
	for _, workers := range []int{2, 3, 8, 0} {
		if got := ix.RebuildAll(10, w, ctx, workers); !reflect.DeepEqual(got, ref) {
			t.Fatalf("RebuildAll with %d workers differs from 1 worker", workers)
		}
	}
	if len(ref.ForNeed) != len(needs) || len(ref.ForOffer) != len(offers) {
		t.Fatalf("%d need and %d offer lists, want %d and %d", len(ref.ForNeed), len(ref.ForOffer), len(needs), len(offers))
	}
	for _, n := range needs {
		if want := scoresOnly(ix.TopOffersForNeed(n.ID, 10, w, ctx)); !reflect.DeepEqual(ref.ForNeed[n.ID], want) {
			t.Fatalf("need %s: rebuild %v, query %v", n.ID, ref.ForNeed[n.ID], want)
		}
	}
	for _, o := range offers {
		if want := scoresOnly(ix.TopNeedsForOffer(o.ID, 10, w, ctx, nil)); !reflect.DeepEqual(ref.ForOffer[o.ID], want) {
			t.Fatalf("offer %s: rebuild %v, query %v", o.ID, ref.ForOffer[o.ID], want)
		}
	}
	// Building the index from shuffled input changes nothing.
	s := newSynthetic(99)
	n2, o2 := slices.Clone(needs), slices.Clone(offers)
	s.rng.Shuffle(len(n2), func(i, j int) { n2[i], n2[j] = n2[j], n2[i] })
	s.rng.Shuffle(len(o2), func(i, j int) { o2[i], o2[j] = o2[j], o2[i] })
	if got := NewIndex(n2, o2).RebuildAll(10, w, ctx, 2); !reflect.DeepEqual(got, ref) {
		t.Fatal("RebuildAll depends on input order")
	}
}

func TestExplain(t *testing.T) {
	needs, offers, ctx := synthData(6, 60, 60)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	r := ix.RebuildAll(5, w, ctx, 2)
	for id, list := range r.ForNeed {
		ex := ix.ExplainAll(list, w, ctx)
		if len(ex) != len(list) {
			t.Fatalf("need %s: explained %d of %d", id, len(ex), len(list))
		}
		for i, m := range ex {
			checkMatch(t, m, w)
			if m.Score != list[i].Score || m.OfferID != list[i].OfferID {
				t.Fatalf("explained %+v for %+v", m, list[i])
			}
		}
	}
	if _, ok := ix.Explain("nope", offers[0].ID, w, ctx); ok {
		t.Error("unknown need explained")
	}
}

func TestUpsertRemove(t *testing.T) {
	n, o := baseNeed(), baseOffer()
	ix := NewIndex(nil, nil)
	if old := ix.UpsertNeed(n); old != nil {
		t.Error("new need returned an old one")
	}
	ix.UpsertOffer(o)
	w := DefaultWeights()
	if got := ix.TopOffersForNeed(n.ID, 5, w, nil); len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	o2 := *o
	o2.EligibleRegions = []string{"419"}
	if old := ix.UpsertOffer(&o2); old != o {
		t.Error("upsert did not return the replaced offer")
	}
	if got := ix.TopOffersForNeed(n.ID, 5, w, nil); len(got) != 0 {
		t.Fatalf("ineligible offer still listed: %v", got)
	}
	ix.UpsertOffer(o)
	n2 := *n
	n2.Status = models.NeedWithdrawn
	ix.UpsertNeed(&n2)
	if got := ix.TopNeedsForOffer(o.ID, 5, w, nil, nil); len(got) != 0 {
		t.Fatalf("withdrawn need listed: %v", got)
	}
	if ix.RemoveOffer(o.ID) != o || ix.RemoveOffer(o.ID) != nil {
		t.Error("RemoveOffer")
	}
	if got := ix.TopOffersForNeed(n.ID, 5, w, nil); len(got) != 0 {
		t.Fatalf("removed offer listed: %v", got)
	}
	if ix.RemoveNeed(n.ID) != &n2 {
		t.Error("RemoveNeed")
	}
	if nn, no := ix.Len(); nn != 0 || no != 0 {
		t.Errorf("Len = %d, %d", nn, no)
	}
	// Freed slots are reused.
	ix.UpsertNeed(n)
	ix.UpsertOffer(o)
	if got := ix.TopOffersForNeed(n.ID, 5, w, nil); len(got) != 1 {
		t.Fatalf("after re-adding: %v", got)
	}
}

func TestAffected(t *testing.T) {
	sn, gm, br := baseNeed(), baseNeed(), baseNeed()
	gm.ID, gm.Country = "need-gm", "GM"
	br.ID, br.Country = "need-br", "BR"
	o := baseOffer() // Africa
	ix := NewIndex([]*models.Need{sn, gm, br}, []*models.Offer{o})
	if got := ix.AffectedByOffer(nil, o); !slices.Equal(got, []string{"need-gm", "need-sn"}) {
		t.Errorf("new African offer affects %v", got)
	}
	latam := *o
	latam.EligibleRegions = []string{"419"}
	if got := ix.AffectedByOffer(o, &latam); !slices.Equal(got, []string{"need-br", "need-gm", "need-sn"}) {
		t.Errorf("Africa → Latin America affects %v", got)
	}
	closed := latam
	closed.Status = models.OfferClosed
	if got := ix.AffectedByOffer(&closed, &closed); len(got) != 0 {
		t.Errorf("a closed offer's edit affects %v", got)
	}
	global := *o
	global.EligibleRegions = nil
	if got := ix.AffectedByOffer(nil, &global); len(got) != 3 {
		t.Errorf("a global offer affects %v", got)
	}
	if got := ix.AffectedByNeed(nil, sn); !slices.Equal(got, []string{"offer-fr"}) {
		t.Errorf("Senegal need affects %v", got)
	}
	if got := ix.AffectedByNeed(nil, br); len(got) != 0 {
		t.Errorf("Brazil need affects %v", got)
	}
}

// TestRefreshKeepsRankingsExact applies a long random sequence of edits to needs and offers,
// patches cached rankings with Refresh* after each, and checks them against a full rebuild.
func TestRefreshKeepsRankingsExact(t *testing.T) {
	needs, offers, ctx := synthData(8, 250, 250)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	const k = 8
	cache := ix.RebuildAll(k, w, ctx, 2)
	s := newSynthetic(21)
	nextNeed, nextOffer := 1000, 1000
	var recomputed, changed int
	steps := 400
	if testing.Short() {
		steps = 100
	}
	for step := 0; step < steps; step++ {
		switch x := s.rng.IntN(10); {
		case x < 5: // edit, add or remove an offer
			var o *models.Offer
			var old *models.Offer
			switch y := s.rng.IntN(10); {
			case y < 7:
				cur, _ := ix.Offer(offers[s.rng.IntN(len(offers))].ID)
				if cur == nil {
					continue
				}
				o = mutateOffer(s, cur, s.rng.IntN(6))
				old = ix.UpsertOffer(o)
			case y < 9:
				o = s.offer(nextOffer)
				nextOffer++
				old = ix.UpsertOffer(o)
			default:
				id := offers[s.rng.IntN(len(offers))].ID
				old = ix.RemoveOffer(id)
				if old == nil {
					continue
				}
				r := ix.RefreshOffer(old, id, func(id string) ([]Match, bool) { l, ok := cache.ForNeed[id]; return l, ok }, k, w, ctx)
				apply(cache.ForNeed, r.Changed)
				delete(cache.ForOffer, id)
				recomputed += r.Recomputed
				changed += len(r.Changed)
				continue
			}
			r := ix.RefreshOffer(old, o.ID, func(id string) ([]Match, bool) { l, ok := cache.ForNeed[id]; return l, ok }, k, w, ctx)
			apply(cache.ForNeed, r.Changed)
			cache.ForOffer[o.ID] = r.Own
			recomputed += r.Recomputed
			changed += len(r.Changed)
		default: // edit, add or remove a need
			var n, old *models.Need
			switch y := s.rng.IntN(10); {
			case y < 7:
				cur, _ := ix.Need(needs[s.rng.IntN(len(needs))].ID)
				if cur == nil {
					continue
				}
				c := *cur
				switch s.rng.IntN(4) {
				case 0:
					c.Status = []models.NeedStatus{models.NeedOpen, models.NeedSubmitted, models.NeedMatched, models.NeedDraft}[s.rng.IntN(4)]
				case 1:
					c.Capability = s.capability()
					c.Theme, _ = models.CapabilityTheme(c.Capability)
				case 2:
					c.Country = s.pick(s.allISO)
				case 3:
					c.BudgetUSD, c.Priority = c.BudgetUSD*2, models.PriorityLow
				}
				n = &c
				old = ix.UpsertNeed(n)
			case y < 9:
				n = s.need(nextNeed)
				nextNeed++
				old = ix.UpsertNeed(n)
			default:
				id := needs[s.rng.IntN(len(needs))].ID
				old = ix.RemoveNeed(id)
				if old == nil {
					continue
				}
				r := ix.RefreshNeed(old, id, func(id string) ([]Match, bool) { l, ok := cache.ForOffer[id]; return l, ok }, k, w, ctx)
				apply(cache.ForOffer, r.Changed)
				delete(cache.ForNeed, id)
				continue
			}
			r := ix.RefreshNeed(old, n.ID, func(id string) ([]Match, bool) { l, ok := cache.ForOffer[id]; return l, ok }, k, w, ctx)
			apply(cache.ForOffer, r.Changed)
			cache.ForNeed[n.ID] = r.Own
		}
		if step%25 == 24 || step == steps-1 {
			want := ix.RebuildAll(k, w, ctx, 2)
			for id, l := range want.ForNeed {
				if !reflect.DeepEqual(nilIfEmpty(cache.ForNeed[id]), nilIfEmpty(l)) {
					t.Fatalf("step %d need %s:\ncached %v\n   want %v", step, id, cache.ForNeed[id], l)
				}
			}
			for id, l := range want.ForOffer {
				if !reflect.DeepEqual(nilIfEmpty(cache.ForOffer[id]), nilIfEmpty(l)) {
					t.Fatalf("step %d offer %s:\ncached %v\n   want %v", step, id, cache.ForOffer[id], l)
				}
			}
			if len(cache.ForNeed) != len(want.ForNeed) || len(cache.ForOffer) != len(want.ForOffer) {
				t.Fatalf("step %d: cache has %d/%d lists, want %d/%d", step, len(cache.ForNeed), len(cache.ForOffer), len(want.ForNeed), len(want.ForOffer))
			}
		}
	}
	t.Logf("%d edits; offer refreshes ranked %d lists from scratch and changed %d", steps, recomputed, changed)
}

// TestPatchOfferKeepsPartialCacheExact is the service's use of PatchOffer: a cache that
// holds the lists of only some needs (those being read), deeper (depth) than they are served
// (k), patched after every offer edit. Every cached list must stay the exact top
// len(list) of its need, hold at least k offers unless it is complete, and hold every
// eligible offer when it says it is complete; lists PatchOffer was not given are left alone.
// Need edits drop the need's own list, as the service does. Every few steps the lists are
// checked against a full ranking of every eligible offer, and some lists are (re)loaded.
func TestPatchOfferKeepsPartialCacheExact(t *testing.T) {
	needs, offers, ctx := synthData(11, 250, 250)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	const k, depth = 6, 9
	s := newSynthetic(23)
	cache := map[string]CachedList{}
	load := func() {
		all := ix.RebuildAll(depth, w, ctx, 2)
		for id, l := range all.ForNeed {
			if s.rng.IntN(3) == 0 {
				cache[id] = CachedList{Items: l, Complete: len(l) < depth}
			}
		}
	}
	load()
	nextOffer := 1000
	var changed, patchedSteps, recomputed, shrunk int
	for step := 0; step < 400; step++ {
		if s.rng.IntN(5) == 0 {
			cur, _ := ix.Need(needs[s.rng.IntN(len(needs))].ID)
			if cur == nil {
				continue
			}
			c := *cur
			c.Capability = s.capability()
			c.Theme, _ = models.CapabilityTheme(c.Capability)
			ix.UpsertNeed(&c)
			delete(cache, c.ID)
			continue
		}
		var id string
		var old *models.Offer
		switch y := s.rng.IntN(10); {
		case y < 8:
			cur, _ := ix.Offer(offers[s.rng.IntN(len(offers))].ID)
			if cur == nil {
				continue
			}
			o := mutateOffer(s, cur, s.rng.IntN(6))
			id, old = o.ID, ix.UpsertOffer(o)
		case y < 9:
			o := s.offer(nextOffer)
			nextOffer++
			id, old = o.ID, ix.UpsertOffer(o)
		default:
			id = offers[s.rng.IntN(len(offers))].ID
			if old = ix.RemoveOffer(id); old == nil {
				continue
			}
		}
		asked := map[string]bool{}
		r := ix.PatchOffer(old, id, func(n string) (CachedList, bool) {
			if asked[n] {
				t.Fatalf("list of %s asked for twice", n)
			}
			asked[n] = true
			l, ok := cache[n]
			return l, ok
		}, depth, k, w, ctx)
		holding := map[string]bool{}
		for _, n := range r.Holding {
			holding[n] = true
		}
		for n, l := range cache {
			_, changed := r.Changed[n]
			has := slices.ContainsFunc(l.Items, func(m Match) bool { return m.OfferID == id })
			if want := has && !changed; holding[n] != want {
				t.Fatalf("step %d: need %s holds the offer unchanged: %v, PatchOffer says %v", step, n, want, holding[n])
			}
		}
		for n, l := range r.Changed {
			if _, ok := cache[n]; !ok {
				t.Fatalf("PatchOffer reported %s, which is not cached", n)
			}
			if !l.Complete && len(l.Items) < depth {
				shrunk++
			}
			cache[n] = l
		}
		changed += len(r.Changed)
		recomputed += r.Recomputed
		patchedSteps++
		if step%20 == 19 {
			all := ix.RebuildAll(len(offers)+nextOffer, w, ctx, 2)
			for n, l := range cache {
				want := all.ForNeed[n]
				if len(l.Items) > len(want) || !reflect.DeepEqual(nilIfEmpty(l.Items), nilIfEmpty(want[:len(l.Items)])) {
					t.Fatalf("step %d need %s: cached %v is not the top of %v", step, n, l.Items, want)
				}
				if l.Complete && len(l.Items) != len(want) {
					t.Fatalf("step %d need %s: complete list of %d, %d eligible", step, n, len(l.Items), len(want))
				}
				if !l.Complete && len(l.Items) < k {
					t.Fatalf("step %d need %s: incomplete list of %d < k", step, n, len(l.Items))
				}
				if len(l.Items) > depth {
					t.Fatalf("step %d need %s: %d > depth", step, n, len(l.Items))
				}
			}
			load()
		}
	}
	if changed == 0 || shrunk == 0 {
		t.Fatalf("%d offer edits changed %d cached lists, %d left shorter than depth: the test exercises too little", patchedSteps, changed, shrunk)
	}
	t.Logf("%d offer edits changed %d cached lists (%d left shorter than depth), ranked %d from scratch", patchedSteps, changed, shrunk, recomputed)
}

func apply(cache map[string][]Match, changed map[string][]Match) {
	for id, l := range changed {
		cache[id] = l
	}
}

// TestConcurrentUse runs queries while the index is edited; run with -race.
func TestConcurrentUse(t *testing.T) {
	needs, offers, ctx := synthData(9, 120, 120)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				ix.TopOffersForNeed(needs[(i*7+g)%len(needs)].ID, 5, w, ctx)
				ix.TopNeedsForOffer(offers[(i*5+g)%len(offers)].ID, 5, w, ctx, nil)
				if i%20 == 0 {
					ix.RebuildAll(5, w, ctx, 2)
				}
			}
		}()
	}
	// The writer keeps the final state it wrote, to check the index against a fresh one after.
	finalOffers := map[string]*models.Offer{}
	for _, o := range offers {
		finalOffers[o.ID] = o
	}
	allNeeds := append([]*models.Need(nil), needs...)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := newSynthetic(5)
		for i := 0; i < 60; i++ {
			cur, _ := ix.Offer(offers[i%len(offers)].ID)
			o := mutateOffer(s, cur, i)
			old := ix.UpsertOffer(o)
			ix.RefreshOffer(old, o.ID, func(string) ([]Match, bool) { return nil, false }, 5, w, ctx)
			finalOffers[o.ID] = o
			n := s.need(5000 + i)
			ix.UpsertNeed(n)
			allNeeds = append(allNeeds, n)
		}
	}()
	wg.Wait()

	// Whatever the interleaving, the edited index answers as one built from the final state.
	fresh := NewIndex(allNeeds, slices.Collect(maps.Values(finalOffers)))
	for _, n := range allNeeds {
		require.Equal(t, fresh.TopOffersForNeed(n.ID, 5, w, ctx), ix.TopOffersForNeed(n.ID, 5, w, ctx), "need %s", n.ID)
	}
	for id := range finalOffers {
		require.Equal(t, fresh.TopNeedsForOffer(id, 5, w, ctx, nil), ix.TopNeedsForOffer(id, 5, w, ctx, nil), "offer %s", id)
	}
}

// TestPatchNeedKeepsAudienceListsExact is the service's use of PatchNeed: cached rankings of
// needs by offer, for some offers only, per audience (all needs, and only the needs an audience
// may see), patched after every need edit, addition or removal; a list PatchNeed reports
// stale is ranked again, as a reader would. After every change each cached list must equal
// its ranking from scratch.
func TestPatchNeedKeepsAudienceListsExact(t *testing.T) {
	needs, offers, ctx := synthData(13, 250, 250)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	const depth, k = 11, 8
	visibles := []func(*models.Need) bool{nil, func(n *models.Need) bool { return n.Country < "M" && n.Status != models.NeedSubmitted }}
	s := newSynthetic(23)
	caches := make([]map[string]CachedList, len(visibles))
	for a, v := range visibles {
		caches[a] = map[string]CachedList{}
		for i, o := range offers {
			if i%4 != 0 { // three offers in four are cached
				caches[a][o.ID] = rankTo(ix.RankNeedsForOffer(o.ID, depth, w, ctx, v), depth)
			}
		}
	}
	auds := make([]NeedAudience, len(visibles))
	for a, v := range visibles {
		cache := caches[a]
		auds[a] = NeedAudience{Visible: v, Cached: func(id string) (CachedList, bool) {
			l, ok := cache[id]
			return l, ok
		}}
	}
	var changed, stale, touched int
	next := 1000
	for step := range 300 {
		var old *models.Need
		var id string
		switch y := s.rng.IntN(10); {
		case y < 7:
			cur, _ := ix.Need(needs[s.rng.IntN(len(needs))].ID)
			if cur == nil {
				continue
			}
			c := *cur
			switch s.rng.IntN(4) {
			case 0:
				c.Status = []models.NeedStatus{models.NeedOpen, models.NeedSubmitted, models.NeedMatched, models.NeedDraft}[s.rng.IntN(4)]
			case 1:
				c.Capability = s.capability()
				c.Theme, _ = models.CapabilityTheme(c.Capability)
			case 2:
				c.Country = s.pick(s.allISO)
			case 3:
				c.BudgetUSD, c.Priority = c.BudgetUSD*2, models.PriorityLow
			}
			id, old = c.ID, ix.UpsertNeed(&c)
		case y < 9:
			n := s.need(next)
			next++
			id, old = n.ID, ix.UpsertNeed(n)
		default:
			id = needs[s.rng.IntN(len(needs))].ID
			if old = ix.RemoveNeed(id); old == nil {
				continue
			}
		}
		for a, p := range ix.PatchNeed(old, id, auds, depth, k, w, ctx) {
			for o, l := range p.Changed {
				caches[a][o] = l
			}
			for _, o := range p.Stale {
				caches[a][o] = rankTo(ix.RankNeedsForOffer(o, depth, w, ctx, visibles[a]), depth)
			}
			changed += len(p.Changed)
			stale += len(p.Stale)
			touched += len(p.Changed) + len(p.Holding)
		}
		for a, v := range visibles {
			for o, l := range caches[a] {
				if want := ix.RankNeedsForOffer(o, depth, w, ctx, v); !exactTop(l, want, k) {
					t.Fatalf("step %d (need %s), audience %d, offer %s:\ncached %v\n  want %v", step, id, a, o, l, want)
				}
			}
		}
	}
	if changed == 0 || stale == 0 {
		t.Fatalf("%d lists changed, %d stale: the test exercises too little", changed, stale)
	}
	t.Logf("%d lists changed, %d ranked again (stale), %d changed or holding", changed, stale, touched)
}

// TestPatchContextKeepsAudienceListsExact: when a delivery starts or ends, the duplication
// factor of the needs of its country and capability changes; patching the cached rankings of
// needs by offer with PatchContext, need by need, leaves each equal to its ranking from scratch
// in the new context.
func TestPatchContextKeepsAudienceListsExact(t *testing.T) {
	needs, offers, ctx := synthData(17, 250, 250)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	const depth, k = 11, 8
	visibles := []func(*models.Need) bool{nil, func(n *models.Need) bool { return n.Country < "M" }}
	caches := make([]map[string]CachedList, len(visibles))
	auds := make([]NeedAudience, len(visibles))
	for a, v := range visibles {
		cache := map[string]CachedList{}
		for i, o := range offers {
			if i%4 != 0 {
				cache[o.ID] = rankTo(ix.RankNeedsForOffer(o.ID, depth, w, ctx, v), depth)
			}
		}
		caches[a] = cache
		auds[a] = NeedAudience{Visible: v, Cached: func(id string) (CachedList, bool) {
			l, ok := cache[id]
			return l, ok
		}}
	}
	s := newSynthetic(29)
	changed := 0
	for step := range 60 {
		n := needs[s.rng.IntN(len(needs))]
		d := Delivery{Country: n.Country, Capability: n.Capability}
		next := &Context{Today: ctx.Today, Active: maps.Clone(ctx.Active), External: ctx.External}
		if next.Active == nil {
			next.Active = map[Delivery]int{}
		}
		next.Active[d] += 1 + s.rng.IntN(2)
		stale := make([]map[string]bool, len(visibles))
		for a := range stale {
			stale[a] = map[string]bool{}
		}
		for _, id := range ix.NeedsDelivering(d) {
			for a, p := range ix.PatchContext(id, auds, depth, k, w, ctx, next) {
				for o, l := range p.Changed {
					caches[a][o] = l
				}
				for _, o := range p.Stale {
					delete(caches[a], o) // ranked again below, once every need is patched
					stale[a][o] = true
				}
				changed += len(p.Changed)
			}
		}
		ctx = next
		for a, v := range visibles {
			for o := range stale[a] {
				caches[a][o] = rankTo(ix.RankNeedsForOffer(o, depth, w, ctx, v), depth)
			}
			for o, l := range caches[a] {
				want := ix.RankNeedsForOffer(o, depth, w, ctx, v)
				if !exactTop(l, want, k) {
					t.Fatalf("step %d (%v), audience %d, offer %s:\ncached %v\n  want %v", step, d, a, o, l, want)
				}
			}
		}
	}
	if changed == 0 {
		t.Fatal("no list changed: the test exercises nothing")
	}
	t.Logf("%d lists changed", changed)
}

// exactTop reports whether a cached list is the exact top len(list) of a ranking to depth
// (want), holding at least k entries unless it holds all of want, and all of it when it says
// it is complete.
func exactTop(l CachedList, want []Match, k int) bool {
	list := l.Items
	if len(list) > len(want) || (len(list) < k && len(list) < len(want)) || (l.Complete && len(list) != len(want)) {
		return false
	}
	return reflect.DeepEqual(nilIfEmpty(list), nilIfEmpty(want[:len(list)]))
}

// rankTo is a list ranked to depth as a cache keeps it.
func rankTo(l []Match, depth int) CachedList { return CachedList{Items: l, Complete: len(l) < depth} }
