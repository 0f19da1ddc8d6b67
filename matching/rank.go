package matching

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/capmatch/capmatch/models"
)

// query is one ranking request's weights and context, prepared once.
type query struct {
	w        [nFactors]int64
	ec       evalCtx
	g        [2]gate             // by relevance level: gExact, gTheme
	overlaps []dupInput          // per need slot, precomputed by RebuildAll
	dup      map[uint64]dupInput // Active and External keyed by interned country and capability
}

func newQuery(w Weights, c *Context) *query {
	q := &query{w: w.units(), ec: prepCtx(c)}
	q.g = newGates(&q.w)
	return q
}

// indexActive re-keys the context's Active map by interned ids, once per query, for queries
// that look up many needs: an integer key hashes much faster than two strings.
func (q *query) indexActive(v *vocab) {
	q.dup = make(map[uint64]dupInput, len(q.ec.active)+len(q.ec.external))
	key := func(d Delivery) (uint64, bool) {
		c, ok1 := v.country.lookup(d.Country)
		k, ok2 := v.capability.lookup(string(d.Capability))
		return uint64(c)<<32 | uint64(k), ok1 && ok2
	}
	for d, n := range q.ec.active {
		if k, ok := key(d); ok && n > 0 {
			x := q.dup[k]
			x.n = min(n, 1<<30)
			q.dup[k] = x
		}
	}
	for d, e := range q.ec.external {
		if k, ok := key(d); ok && e.Count > 0 {
			x := q.dup[k]
			x.ext = e
			q.dup[k] = x
		}
	}
}

// needOverlaps returns the duplication input of an indexed need.
func (q *query) needOverlaps(nr *needRec) dupInput {
	switch {
	case q.overlaps != nil:
		return q.overlaps[nr.slot]
	case q.dup != nil:
		return q.dup[uint64(nr.country)<<32|uint64(nr.cap)]
	}
	return q.ec.dup(nr.n)
}

// needBound is the most a need can score with an offer at relevance level g, whatever the
// offer: priority at its value, duplication and every offer-side factor perfect.
func (q *query) needBound(nr *needRec, g *gate) int64 {
	return g.capU + g.rest + unit(q.w[fPriority], nr.priV*g.r) + unit(q.w[fDuplication], g.r)
}

var emptyBucket bucket

// topOffers fills h with the best offers for a need. Only offers that share the need's
// capability or theme are listed; they are visited in two tiers (offers covering the
// capability, then those covering only the theme, whose relevance halves every
// contribution), and the second tier is skipped when the heap is full and even a perfect
// same-theme score could not beat its worst entry. Skipping only drops candidates that
// cannot enter, so the result is exactly the top k in (score desc, id asc) order.
func (ix *Index) topOffers(nr *needRec, q *query, h *topHeap) {
	ov := q.needOverlaps(nr)
	own := ix.bucketAt(nr.country)
	if own == nil {
		own = &emptyBucket
	}
	sources := [2]*bucket{own, &ix.global}
	exact, theme := &q.g[gExact], &q.g[gTheme]
	fixed := needUnits(&q.w, nr, ov, exact.r)
	for _, b := range sources {
		for _, s := range listAt(b.offersByCap, nr.cap) {
			ix.tryOffer(nr, ix.offers[s], q, exact, fixed, h)
		}
	}
	fixed = needUnits(&q.w, nr, ov, theme.r)
	if h.prunes(fixed + theme.capU + theme.rest) {
		return
	}
	for _, b := range sources {
		for _, s := range listAt(b.offersByTheme, nr.theme) {
			if or := ix.offers[s]; !or.caps.has(nr.cap) {
				ix.tryOffer(nr, or, q, theme, fixed, h)
			}
		}
	}
}

// tryOffer scores a candidate offer taken from the need's buckets (so live and eligible)
// and keeps it if it makes the top k.
func (ix *Index) tryOffer(nr *needRec, or *offerRec, q *query, g *gate, fixed int64, h *topHeap) {
	if !windowOK(nr, or, q.ec.today) {
		return
	}
	if s, ok := fastScore(nr, or, &q.w, g, q.ec.today, fixed, h.floor()); ok && h.accepts(s, or.id) {
		h.push(entry{score: s, slot: or.slot, id: or.id})
	}
}

// topNeeds fills h with the best open or submitted needs for an offer, visiting the
// offer's eligible countries in the same two tiers as topOffers (needs of a capability the
// offer covers, then needs of a theme it covers only) and also skipping single needs whose
// best possible score cannot enter. Needs of other themes are never listed. Candidates come
// from the buckets of the offer's eligible countries, so only the window constraint is left
// to check.
func (ix *Index) topNeeds(or *offerRec, q *query, visible func(*models.Need) bool, h *topHeap) {
	if !or.live || or.badUntil {
		return
	}
	var bs []*bucket
	if or.global {
		for _, b := range ix.countries {
			if b != nil && len(b.needsRankable) > 0 {
				bs = append(bs, b)
			}
		}
	} else {
		for _, c := range or.eligList {
			if b := ix.bucketAt(c); b != nil && len(b.needsRankable) > 0 {
				bs = append(bs, b)
			}
		}
	}
	exact, theme := &q.g[gExact], &q.g[gTheme]
	for _, b := range bs {
		for _, c := range or.capList {
			for _, s := range listAt(b.needsByCap, c) {
				ix.tryNeed(or, ix.needs[s], q, exact, visible, h)
			}
		}
	}
	if h.prunes(theme.capU + theme.rest + unit(q.w[fPriority], theme.r) + unit(q.w[fDuplication], theme.r)) {
		return
	}
	for _, b := range bs {
		for _, t := range or.themeList {
			for _, s := range listAt(b.needsByTheme, t) {
				if nr := ix.needs[s]; !or.caps.has(nr.cap) {
					ix.tryNeed(or, nr, q, theme, visible, h)
				}
			}
		}
	}
}

func (ix *Index) tryNeed(or *offerRec, nr *needRec, q *query, g *gate, visible func(*models.Need) bool, h *topHeap) {
	if h.full() && !h.accepts(q.needBound(nr, g), nr.id) {
		return
	}
	if !windowOK(nr, or, q.ec.today) {
		return
	}
	fixed := needUnits(&q.w, nr, q.needOverlaps(nr), g.r)
	s, ok := fastScore(nr, or, &q.w, g, q.ec.today, fixed, h.floor())
	if !ok || !h.accepts(s, nr.id) || (visible != nil && !visible(nr.n)) {
		return
	}
	h.push(entry{score: s, slot: nr.slot, id: nr.id})
}

// TopOffersForNeed returns the k best offers for the need, best first, each with its
// factors explained; nil when the need is unknown or k <= 0. Only open offers with
// engagements left, eligible for the need's country and available when it can start are
// listed. Ties are broken by offer id ascending.
func (ix *Index) TopOffersForNeed(needID string, k int, w Weights, c *Context) []Match {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, ok := ix.needSlot[needID]
	if !ok || k <= 0 {
		return nil
	}
	nr := ix.needs[s]
	q := newQuery(w, c)
	h := &topHeap{}
	h.reset(k)
	ix.topOffers(nr, q, h)
	ov := q.needOverlaps(nr)
	var out []Match
	for _, e := range h.sorted() {
		out = append(out, explain(nr, ix.offers[e.slot], &q.w, q.ec.today, ov, q.ec.seen(nr.n, ov)))
	}
	return out
}

// TopNeedsForOffer returns the k best open or submitted needs for the offer, best first,
// each with its factors explained; nil when the offer is unknown or k <= 0. visible, when
// not nil, hides needs the caller may not see; it is applied before truncating to k, so a
// caller who may see fewer needs still gets k results when there are that many. Ties are
// broken by need id ascending.
func (ix *Index) TopNeedsForOffer(offerID string, k int, w Weights, c *Context, visible func(*models.Need) bool) []Match {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, ok := ix.offerSlot[offerID]
	if !ok || k <= 0 {
		return nil
	}
	or := ix.offers[s]
	q := newQuery(w, c)
	h := &topHeap{}
	h.reset(k)
	ix.topNeeds(or, q, visible, h)
	var out []Match
	for _, e := range h.sorted() {
		nr := ix.needs[e.slot]
		out = append(out, explain(nr, or, &q.w, q.ec.today, q.needOverlaps(nr), q.ec.seen(nr.n, q.needOverlaps(nr))))
	}
	return out
}

// RankOffersForNeed is TopOffersForNeed without the explanations (Factors nil): the ranking
// alone, for callers that cache rankings and explain only the lines they show.
func (ix *Index) RankOffersForNeed(needID string, k int, w Weights, c *Context) []Match {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, ok := ix.needSlot[needID]
	if !ok || k <= 0 {
		return nil
	}
	nr := ix.needs[s]
	h := &topHeap{}
	h.reset(k)
	ix.topOffers(nr, newQuery(w, c), h)
	return toMatches(h.sorted(), func(e *entry) Match {
		return Match{NeedID: needID, OfferID: e.id, Score: unitsToFloat(e.score)}
	})
}

// RankNeedsForOffer is TopNeedsForOffer without the explanations (Factors nil).
func (ix *Index) RankNeedsForOffer(offerID string, k int, w Weights, c *Context, visible func(*models.Need) bool) []Match {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, ok := ix.offerSlot[offerID]
	if !ok || k <= 0 {
		return nil
	}
	h := &topHeap{}
	h.reset(k)
	ix.topNeeds(ix.offers[s], newQuery(w, c), visible, h)
	return toMatches(h.sorted(), func(e *entry) Match {
		return Match{NeedID: e.id, OfferID: offerID, Score: unitsToFloat(e.score)}
	})
}

// Explain scores one indexed pair and explains every factor; ok is false when either id is
// unknown or the pair fails a hard constraint. A pair that passes but shares neither
// capability nor theme is explained with relevance 0 (see Match.Listed). It is how factors
// are filled in for entries of bulk results, which carry scores only.
func (ix *Index) Explain(needID, offerID string, w Weights, c *Context) (Match, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ns, ok1 := ix.needSlot[needID]
	os, ok2 := ix.offerSlot[offerID]
	if !ok1 || !ok2 {
		return Match{}, false
	}
	nr, or := ix.needs[ns], ix.offers[os]
	q := newQuery(w, c)
	if !passes(nr, or, q.ec.today) {
		return Match{}, false
	}
	ov := q.ec.dup(nr.n)
	return explain(nr, or, &q.w, q.ec.today, ov, q.ec.seen(nr.n, ov)), true
}

// ExplainAll explains a list of matches, keeping its order. Pairs that are no longer in the
// index, now fail a hard constraint or are no longer relevant are dropped, so a stale cached
// list can never show a pair that must not be listed; scores are those of the index now.
func (ix *Index) ExplainAll(ms []Match, w Weights, c *Context) []Match {
	out := make([]Match, 0, len(ms))
	for _, m := range ms {
		if x, ok := ix.Explain(m.NeedID, m.OfferID, w, c); ok && x.Listed() {
			out = append(out, x)
		}
	}
	return out
}

// Rankings is the top k of every need and every offer of an index. Every need and offer has
// an entry, empty when nothing qualifies. Matches carry scores but no factors (see Match).
// Offer rankings are not filtered by visibility: they are the coordinators' view.
type Rankings struct {
	ForNeed  map[string][]Match `json:"for_need"`
	ForOffer map[string][]Match `json:"for_offer"`
}

// RebuildAll ranks the top k offers for every need and the top k needs for every offer, on
// workers goroutines (GOMAXPROCS when workers <= 0). The result does not depend on the
// number of workers or on scheduling: every list is computed independently and ordered by
// (score desc, id asc).
func (ix *Index) RebuildAll(k int, w Weights, c *Context, workers int) Rankings {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	q := newQuery(w, c)
	q.indexActive(ix.v)
	overlaps := make([]dupInput, len(ix.needs))
	for s, nr := range ix.needs {
		if nr != nil {
			overlaps[s] = q.needOverlaps(nr)
		}
	}
	q.overlaps = overlaps
	forNeed := make([][]Match, len(ix.needs))
	forOffer := make([][]Match, len(ix.offers))
	parallel(len(ix.needs), workers, func(h *topHeap, s int) {
		nr := ix.needs[s]
		if nr == nil || k <= 0 {
			return
		}
		h.reset(k)
		ix.topOffers(nr, q, h)
		forNeed[s] = toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: nr.n.ID, OfferID: e.id, Score: unitsToFloat(e.score)}
		})
	})
	parallel(len(ix.offers), workers, func(h *topHeap, s int) {
		or := ix.offers[s]
		if or == nil || k <= 0 {
			return
		}
		h.reset(k)
		ix.topNeeds(or, q, nil, h)
		forOffer[s] = toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: e.id, OfferID: or.o.ID, Score: unitsToFloat(e.score)}
		})
	})
	r := Rankings{ForNeed: make(map[string][]Match, len(ix.needSlot)), ForOffer: make(map[string][]Match, len(ix.offerSlot))}
	for id, s := range ix.needSlot {
		r.ForNeed[id] = forNeed[s]
	}
	for id, s := range ix.offerSlot {
		r.ForOffer[id] = forOffer[s]
	}
	return r
}

// toMatches converts ranked entries to matches.
func toMatches(es []entry, conv func(*entry) Match) []Match {
	if len(es) == 0 {
		return nil
	}
	out := make([]Match, len(es))
	for i := range es {
		out[i] = conv(&es[i])
	}
	return out
}

// parallel calls fn for 0..n-1 on workers goroutines, each with its own heap, handing out
// small chunks so that uneven work spreads over the workers.
func parallel(n, workers int, fn func(h *topHeap, i int)) {
	const chunk = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &topHeap{}
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(h, i)
				}
			}
		}()
	}
	wg.Wait()
}
