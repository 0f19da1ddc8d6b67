package matching

import (
	"runtime"
	"slices"

	"github.com/capmatch/capmatch/models"
)

// An edit to one offer changes the score of that offer's pairs only: every other pair is a
// function of its own need and offer, the weights and the context. So after an offer
// changes, a need's top k can change only if the offer was in it or now scores well enough
// to enter it, and the need must be ranked from scratch only when the offer drops out of a
// full list (an unseen offer may then take its place). Refresh* use that to patch cached
// lists instead of recomputing every list the offer could touch; the same holds with needs
// and offers swapped.

// Refresh is what one change of a need or an offer does to the rankings.
type Refresh struct {
	// Changed holds the new top k of every ranking list that changed, by the id of the
	// list's owner: need ids for RefreshOffer, offer ids for RefreshNeed. Lists not in it
	// are unchanged. Matches carry scores but no factors, as in RebuildAll.
	Changed map[string][]Match
	// Own is the changed object's own top k (empty when it was removed or is not ranked).
	Own []Match
	// Recomputed counts the lists that had to be ranked from scratch rather than patched.
	Recomputed int
}

// AffectedByOffer returns, sorted, the ids of the indexed needs whose ranking a change from
// old to new can alter: the needs of every country the offer was or is eligible for, when
// it was or is ranked at all (open with engagements left). old or new may be nil for a
// created or deleted offer.
func (ix *Index) AffectedByOffer(old, new *models.Offer) []string {
	ids := ix.NeedsReachedBy(old, new)
	slices.Sort(ids)
	return ids
}

// NeedsReachedBy is AffectedByOffer in no particular order, for callers that only mark what
// a change touches (sorting thousands of ids costs more than using them).
func (ix *Index) NeedsReachedBy(old, new *models.Offer) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	slots := ix.affectedNeeds(old, new)
	ids := make([]string, len(slots))
	for i, s := range slots {
		ids[i] = ix.needs[s].n.ID
	}
	return ids
}

// AffectedByNeed returns, sorted, the ids of the indexed offers whose ranking a change from
// old to new can alter: the offers eligible for the country the need was or is posted for,
// when it was or is ranked for offers (open or submitted). The need's own ranking is always
// affected and is not listed.
func (ix *Index) AffectedByNeed(old, new *models.Need) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	slots := ix.affectedOffers(old, new)
	ids := make([]string, len(slots))
	for i, s := range slots {
		ids[i] = ix.offers[s].o.ID
	}
	slices.Sort(ids)
	return ids
}

// affectedNeeds returns the slots of the needs of every country old or new is eligible for.
func (ix *Index) affectedNeeds(old, new *models.Offer) []int32 {
	all := false
	var mark idset
	for _, o := range []*models.Offer{old, new} {
		if o == nil || o.Status != models.OfferOpen || !o.HasCapacity() {
			continue
		}
		if len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0 {
			all = true
			break
		}
		for _, c := range o.EligibleCountries {
			if id, ok := ix.v.country.lookup(c); ok {
				mark.add(id)
			}
		}
		for _, r := range o.EligibleRegions {
			for _, id := range geo().regions[r] {
				mark.add(id)
			}
		}
	}
	var out []int32
	for c, b := range ix.countries {
		if b != nil && (all || mark.has(uint32(c))) {
			out = append(out, b.needsAny...)
		}
	}
	return out
}

// affectedOffers returns the slots of the live offers eligible for old's or new's country.
func (ix *Index) affectedOffers(old, new *models.Need) []int32 {
	var mark idset
	some := false
	for _, n := range []*models.Need{old, new} {
		if n == nil || (n.Status != models.NeedOpen && n.Status != models.NeedSubmitted) {
			continue
		}
		if id, ok := ix.v.country.lookup(n.Country); ok {
			mark.add(id)
			some = true
		}
	}
	if !some {
		return nil
	}
	out := slices.Clone(ix.global.offersAll)
	for _, c := range mark.list() {
		if b := ix.bucketAt(c); b != nil {
			out = append(out, b.offersAll...)
		}
	}
	// A country id cannot repeat, and an offer is listed once per country, so out has no
	// duplicates.
	return out
}

// RefreshOffer brings cached rankings up to date after the offer with id offerID changed
// from old: call it after UpsertOffer (which returns old) or RemoveOffer, with old nil for a
// new offer. current returns the cached top k of a need, computed with the same k, weights
// and context against the index as it was before the change; it is called from one
// goroutine, and a need it does not know is ranked from scratch. The result holds only the
// lists that changed, and the offer's own new top k. Lists that must be ranked from scratch
// are ranked in parallel on GOMAXPROCS goroutines.
func (ix *Index) RefreshOffer(old *models.Offer, offerID string, current func(needID string) ([]Match, bool), k int, w Weights, c *Context) Refresh {
	lookup := func(id string) (CachedList, bool) {
		l, ok := current(id)
		return CachedList{Items: l, Complete: len(l) < k}, ok
	}
	changed, _, recomputed, own := ix.refreshOffer(old, offerID, lookup, k, k, w, c, false)
	r := Refresh{Changed: make(map[string][]Match, len(changed)), Own: own, Recomputed: recomputed}
	for id, l := range changed {
		r.Changed[id] = l.Items
	}
	return r
}

// CachedList is a need's ranked offers as a cache holds them for PatchOffer: the exact top
// len(Items), best first. Complete says it holds every eligible offer; otherwise offers
// past its end are unknown, so a list may be kept deeper than it is served and shrink as
// offers leave it, without being ranked anew until it is shorter than what is served.
type CachedList struct {
	Items    []Match
	Complete bool
}

// Patch is what PatchOffer did to the cached lists.
type Patch struct {
	// Changed holds the new state of every cached list that changed, by need id; lists not
	// in it are unchanged.
	Changed map[string]CachedList
	// Holding lists the cached lists left unchanged that hold the offer (at the same score):
	// their lines are the same, but the offer's line may read differently (a new title, or
	// a reason worded from a changed field).
	Holding []string
	// Recomputed counts the lists that had to be ranked from scratch: they had become
	// shorter than k without being complete.
	Recomputed int
}

// PatchOffer is RefreshOffer for a cache that holds only some lists, such as a server's
// in-process cache of the rankings being read, and keeps them deeper than it serves them.
// Call it after UpsertOffer or RemoveOffer. cached returns a need's cached list; a need it
// does not report is skipped (its caller must treat that list as stale), not ranked from
// scratch, and the offer's own list is not computed. Lists hold up to depth offers and are
// ranked from scratch (to depth) only when they would otherwise hold fewer than k without
// being complete, so an offer that closes or drops in score rarely costs a recomputation.
// Only the cached lists of the needs the change can affect are examined, so an edit costs in
// proportion to the lists being served, not to the size of the index.
func (ix *Index) PatchOffer(old *models.Offer, offerID string, cached func(needID string) (CachedList, bool), depth, k int, w Weights, c *Context) Patch {
	p := Patch{}
	p.Changed, p.Holding, p.Recomputed, _ = ix.refreshOffer(old, offerID, cached, max(depth, k), k, w, c, true)
	return p
}

// refreshOffer patches lists of up to depth entries that must hold at least k unless
// complete. partial skips needs lookup does not know and does not rank the offer's own list.
func (ix *Index) refreshOffer(old *models.Offer, offerID string, lookup func(needID string) (CachedList, bool), depth, k int, w Weights, c *Context, partial bool) (changed map[string]CachedList, holding []string, recomputed int, own []Match) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := newQuery(w, c)
	q.indexActive(ix.v)
	var or, was *offerRec
	var now *models.Offer
	if s, ok := ix.offerSlot[offerID]; ok {
		or = ix.offers[s]
		now = or.o
	}
	if old != nil {
		was = ix.v.prepOffer(old, true)
	}
	changed = map[string]CachedList{}
	var redo []redoItem
	slots := ix.affectedNeeds(old, now)
	var curs []cachedList
	if partial {
		// Keep only the needs whose list is cached, and ask for each list once.
		kept := slots[:0:0]
		for _, s := range slots {
			if l, ok := lookup(ix.needs[s].n.ID); ok {
				kept = append(kept, s)
				curs = append(curs, cachedList{l, true})
			}
		}
		slots = kept
	}
	// Score the offer before and after against every affected need first, in parallel:
	// for a worldwide offer that is every need of the index.
	chs := make([]change, len(slots))
	parallel(len(slots), scanWorkers(len(slots)), func(_ *topHeap, i int) {
		nr := ix.needs[slots[i]]
		ch := change{id: offerID, byOffer: true}
		ov := q.needOverlaps(nr)
		if or != nil {
			ch.score, ch.eligible = q.pairScore(nr, or, ov)
		}
		if was != nil {
			ch.was, ch.wasEligible = q.pairScore(nr, was, ov)
		}
		chs[i] = ch
	})
	for i, s := range slots {
		ch := chs[i]
		if !ch.eligible && !ch.wasEligible {
			continue // it was in no list of this need and cannot enter one
		}
		nr := ix.needs[s]
		needID := nr.n.ID
		var cur CachedList
		var known bool
		if partial {
			cur, known = curs[i].list, curs[i].ok
		} else {
			cur, known = lookup(needID)
		}
		if known {
			next, complete, diff, ok := patchList(cur.Items, cur.Complete, depth, k, ch, func(u int64) Match {
				return Match{NeedID: needID, OfferID: offerID, Score: unitsToFloat(u)}
			})
			if ok {
				if diff {
					changed[needID] = CachedList{Items: next, Complete: complete}
				} else if ch.eligible && ch.wasEligible && ch.score == ch.was && holds(cur.Items, &ch) {
					holding = append(holding, needID)
				}
				continue
			}
		}
		redo = append(redo, redoItem{owner: needID, slot: s, cur: cur.Items, known: known})
	}
	lists := ix.recompute(redo, func(h *topHeap, s int32) []Match {
		nr := ix.needs[s]
		h.reset(depth)
		ix.topOffers(nr, q, h)
		return toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: nr.n.ID, OfferID: e.id, Score: unitsToFloat(e.score)}
		})
	})
	for i, it := range redo {
		switch {
		case !it.known || !sameList(it.cur, lists[i]):
			changed[it.owner] = CachedList{Items: lists[i], Complete: len(lists[i]) < depth}
		case slices.ContainsFunc(it.cur, func(m Match) bool { return m.OfferID == offerID }):
			holding = append(holding, it.owner)
		}
	}
	if or != nil && k > 0 && !partial {
		h := &topHeap{}
		h.reset(k)
		ix.topNeeds(or, q, nil, h)
		own = toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: e.id, OfferID: offerID, Score: unitsToFloat(e.score)}
		})
	}
	return changed, holding, len(redo), own
}

// holds reports whether a list holds the candidate at its unchanged score, looking only
// where it can be: a candidate that ranks after the last entry is not in the list.
func holds(cur []Match, c *change) bool {
	if len(cur) == 0 || before(lastEntry(cur, c), &entry{score: c.score, id: c.id}) {
		return false
	}
	for i := range cur {
		if c.idOf(&cur[i]) == c.id {
			return true
		}
	}
	return false
}

// RefreshNeed is RefreshOffer with needs and offers swapped: call it after UpsertNeed or
// RemoveNeed with the replaced need (nil for a new one); current returns the cached
// (unfiltered) top k of an offer. Own is the need's own new top k.
func (ix *Index) RefreshNeed(old *models.Need, needID string, current func(offerID string) ([]Match, bool), k int, w Weights, c *Context) Refresh {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := newQuery(w, c)
	q.indexActive(ix.v)
	nr, was, now := ix.needStandings(needID, old)
	r := Refresh{Changed: map[string][]Match{}}
	var redo []redoItem
	slots, chs := ix.needChanges(needID, nr, was, now, old, q, q)
	for i, s := range slots {
		ch := chs[i]
		if !ch.eligible && !ch.wasEligible {
			continue
		}
		or := ix.offers[s]
		offerID := or.o.ID
		cur, known := current(offerID)
		if known {
			next, _, changed, ok := patchList(cur, len(cur) < k, k, k, ch, func(u int64) Match {
				return Match{NeedID: needID, OfferID: offerID, Score: unitsToFloat(u)}
			})
			if ok {
				if changed {
					r.Changed[offerID] = next
				}
				continue
			}
		}
		redo = append(redo, redoItem{owner: offerID, slot: s, cur: cur, known: known})
	}
	lists := ix.recompute(redo, func(h *topHeap, s int32) []Match {
		or := ix.offers[s]
		h.reset(k)
		ix.topNeeds(or, q, nil, h)
		return toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: e.id, OfferID: or.o.ID, Score: unitsToFloat(e.score)}
		})
	})
	r.merge(redo, lists)
	if nr != nil && k > 0 {
		h := &topHeap{}
		h.reset(k)
		ix.topOffers(nr, q, h)
		r.Own = toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: needID, OfferID: e.id, Score: unitsToFloat(e.score)}
		})
	}
	return r
}

// NeedAudience is one audience's cached rankings of offers' needs for PatchNeed: the needs
// the audience may see (nil: all), and its cached list of an offer (false when not cached).
type NeedAudience struct {
	Visible func(*models.Need) bool
	Cached  func(offerID string) (CachedList, bool)
}

// NeedPatch is what PatchNeed did to one audience's cached lists, by offer id.
type NeedPatch struct {
	// Changed holds the new state of every cached list that changed.
	Changed map[string]CachedList
	// Holding lists the cached lists left unchanged that hold the need at the same score
	// (its line may read differently).
	Holding []string
	// Stale lists the cached lists that cannot be patched (the need left a list that would
	// then hold fewer than k without being complete): they must be ranked from scratch.
	Stale []string
}

// PatchNeed is PatchOffer with needs and offers swapped, for cached rankings of needs by offer
// kept per audience (each filtered by what the audience may see): call it after UpsertNeed or
// RemoveNeed with the replaced need (nil for a new one). The need is scored once against every
// offer the change can affect, and each audience's cached lists of those offers are patched,
// the need counting as a candidate of an audience's list only where the audience may see it
// (before the change for its old standing, after it for its new one). As in PatchOffer, lists
// hold up to depth entries and must hold k unless complete. A list an audience's Cached does not report is skipped; one that cannot be patched
// is reported Stale, not ranked: PatchNeed costs the scoring of the need, never a ranking.
func (ix *Index) PatchNeed(old *models.Need, needID string, auds []NeedAudience, depth, k int, w Weights, c *Context) []NeedPatch {
	return ix.patchNeed(old, needID, auds, depth, k, w, nil, c)
}

// PatchContext is PatchNeed for a change of the context (the deliveries under way, the
// duplication factor's input) that alters the scores of one indexed, unchanged need: its pairs
// were scored with prev and are now scored with c. Call it once per need whose duplication
// input changed, in turn, each on the lists the previous call left.
func (ix *Index) PatchContext(needID string, auds []NeedAudience, depth, k int, w Weights, prev, c *Context) []NeedPatch {
	ix.mu.RLock()
	n, ok := ix.needSlot[needID]
	var old *models.Need
	if ok {
		old = ix.needs[n].n
	}
	ix.mu.RUnlock()
	if !ok {
		return make([]NeedPatch, len(auds))
	}
	return ix.patchNeed(old, needID, auds, depth, k, w, prev, c)
}

// patchNeed is PatchNeed, the need's old standing scored with the context prev when not nil.
func (ix *Index) patchNeed(old *models.Need, needID string, auds []NeedAudience, depth, k int, w Weights, prev, c *Context) []NeedPatch {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := newQuery(w, c)
	q.indexActive(ix.v)
	qWas := q
	if prev != nil {
		qWas = newQuery(w, prev)
		qWas.indexActive(ix.v)
	}
	nr, was, now := ix.needStandings(needID, old)
	out := make([]NeedPatch, len(auds))
	for i := range out {
		out[i].Changed = map[string]CachedList{}
	}
	slots, chs := ix.needChanges(needID, nr, was, now, old, q, qWas)
	for a, aud := range auds {
		seeNow, seeWas := now != nil, old != nil
		if aud.Visible != nil {
			seeNow = seeNow && aud.Visible(now)
			seeWas = seeWas && aud.Visible(old)
		}
		p := &out[a]
		for i, s := range slots {
			ch := chs[i]
			ch.eligible = ch.eligible && seeNow
			ch.wasEligible = ch.wasEligible && seeWas
			if !ch.eligible && !ch.wasEligible {
				continue
			}
			offerID := ix.offers[s].o.ID
			cur, known := aud.Cached(offerID)
			if !known {
				continue
			}
			next, complete, diff, ok := patchList(cur.Items, cur.Complete, max(depth, k), k, ch, func(u int64) Match {
				return Match{NeedID: needID, OfferID: offerID, Score: unitsToFloat(u)}
			})
			switch {
			case !ok:
				p.Stale = append(p.Stale, offerID)
			case diff:
				p.Changed[offerID] = CachedList{Items: next, Complete: complete}
			case ch.eligible && ch.wasEligible && ch.score == ch.was && holds(cur.Items, &ch):
				p.Holding = append(p.Holding, offerID)
			}
		}
	}
	return out
}

// scanWorkers is how many goroutines score an edit against the objects it affects: one
// for small scans, where starting goroutines costs more than it saves.
func scanWorkers(n int) int {
	if n < 2048 {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// cachedList is one answer of a cache lookup, kept so that each list is asked for once.
type cachedList struct {
	list CachedList
	ok   bool
}

// redoItem is a list that must be ranked from scratch.
type redoItem struct {
	owner string
	slot  int32
	cur   []Match
	known bool
}

// recompute ranks the lists of redo, in parallel when there are several.
func (ix *Index) recompute(redo []redoItem, rank func(h *topHeap, slot int32) []Match) [][]Match {
	lists := make([][]Match, len(redo))
	workers := 1
	if len(redo) >= 8 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel(len(redo), workers, func(h *topHeap, i int) {
		lists[i] = rank(h, redo[i].slot)
	})
	return lists
}

// merge records the recomputed lists that differ from the cached ones.
func (r *Refresh) merge(redo []redoItem, lists [][]Match) {
	r.Recomputed += len(redo)
	for i, it := range redo {
		if !it.known || !sameList(it.cur, lists[i]) {
			r.Changed[it.owner] = lists[i]
		}
	}
}

// change is the standing of one candidate in a list before and after an edit.
type change struct {
	id          string
	byOffer     bool // the candidate is an offer (lists of a need)
	score       int64
	eligible    bool
	was         int64
	wasEligible bool
}

func (c *change) idOf(m *Match) string {
	if c.byOffer {
		return m.OfferID
	}
	return m.NeedID
}

// sameList reports whether two ranked lists hold the same pairs with the same scores.
func sameList(a, b []Match) bool {
	return slices.EqualFunc(a, b, func(x, y Match) bool {
		return x.NeedID == y.NeedID && x.OfferID == y.OfferID && floatToUnits(x.Score) == floatToUnits(y.Score)
	})
}

// patchList updates a ranked list after the score of one candidate changed. cur is the exact
// top len(cur) of the candidates, best first, and complete says it holds every eligible
// candidate. The result holds at most capacity entries; ok is false when it cannot be
// patched and must be ranked from scratch: it would hold fewer than min entries without
// being complete (the candidate left or fell to the end of a list whose next candidates are
// unknown). The candidate's old standing tells whether it can be in the list at all, which
// spares searching the many lists it never reached.
func patchList(cur []Match, complete bool, capacity, min int, c change, mk func(int64) Match) (next []Match, nextComplete, changed, ok bool) {
	if capacity <= 0 {
		return nil, true, len(cur) > 0, true
	}
	if len(cur) > capacity {
		cur, complete = cur[:capacity], false
	}
	pos := -1
	if c.wasEligible && (complete || !before(lastEntry(cur, &c), &entry{score: c.was, id: c.id})) {
		for i := range cur {
			if c.idOf(&cur[i]) == c.id {
				pos = i
				break
			}
		}
	}
	next = cur
	if pos >= 0 {
		if c.eligible && c.score == floatToUnits(cur[pos].Score) {
			return cur, complete, false, true
		}
		next = slices.Delete(slices.Clone(cur), pos, pos+1)
	} else if !c.eligible {
		return cur, complete, false, true
	}
	if c.eligible {
		ce := entry{score: c.score, id: c.id}
		// The candidate belongs in the list if it ranks before the list's last entry, or
		// anywhere when the list holds every candidate; otherwise it ranks among the
		// unknown candidates past the end.
		if complete || (len(next) > 0 && before(&ce, lastEntry(next, &c))) {
			if pos < 0 {
				next = slices.Clone(next)
			}
			i := 0
			for ; i < len(next); i++ {
				if e := (entry{score: floatToUnits(next[i].Score), id: c.idOf(&next[i])}); before(&ce, &e) {
					break
				}
			}
			next = slices.Insert(next, i, mk(c.score))
			if len(next) > capacity {
				next, complete = next[:capacity], false
			}
		} else if pos < 0 {
			return cur, complete, false, true
		}
	}
	if !complete && len(next) < min {
		return nil, false, false, false
	}
	return next, complete, true, true
}

// lastEntry is the last entry of a non-empty list.
func lastEntry(cur []Match, c *change) *entry {
	if len(cur) == 0 {
		return &entry{score: -1}
	}
	m := &cur[len(cur)-1]
	return &entry{score: floatToUnits(m.Score), id: c.idOf(m)}
}

// needStandings is a need's record now (nr, now: nil when it left the index) and its old
// standing (was: nil for a new need), for RefreshNeed and patchNeed; ix.mu must be held.
func (ix *Index) needStandings(needID string, old *models.Need) (nr, was *needRec, now *models.Need) {
	if s, ok := ix.needSlot[needID]; ok {
		nr = ix.needs[s]
		now = nr.n
	}
	if old != nil {
		was = ix.v.prepNeed(old, true)
	}
	return nr, was, now
}

// needChanges scores a need's new standing (nr, with q) and its old one (was, with qWas: the
// previous context's query for a context change, else q) against every offer either can reach:
// the pairs a need change alters, one change per offer slot; ix.mu must be held.
func (ix *Index) needChanges(needID string, nr, was *needRec, now, old *models.Need, q, qWas *query) ([]int32, []change) {
	slots := ix.affectedOffers(old, now)
	var ovNow, ovWas dupInput
	if nr != nil {
		ovNow = q.needOverlaps(nr)
	}
	if was != nil {
		ovWas = qWas.ec.dup(was.n)
	}
	chs := make([]change, len(slots))
	parallel(len(slots), scanWorkers(len(slots)), func(_ *topHeap, i int) {
		or := ix.offers[slots[i]]
		ch := change{id: needID}
		if nr != nil && nr.rankable {
			ch.score, ch.eligible = q.pairScore(nr, or, ovNow)
		}
		if was != nil && was.rankable {
			ch.was, ch.wasEligible = qWas.pairScore(was, or, ovWas)
		}
		chs[i] = ch
	})
	return slots, chs
}
