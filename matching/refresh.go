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
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.needIDs(ix.affectedNeeds(old, new))
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

func (ix *Index) needIDs(slots []int32) []string {
	ids := make([]string, len(slots))
	for i, s := range slots {
		ids[i] = ix.needs[s].n.ID
	}
	slices.Sort(ids)
	return ids
}

// affectedNeeds returns the slots of the needs of every country old or new is eligible for.
func (ix *Index) affectedNeeds(old, new *models.Offer) []int32 {
	all := false
	var mark idset
	for _, o := range []*models.Offer{old, new} {
		if o == nil || o.Status != models.OfferOpen || o.SlotsLeft() <= 0 {
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
	r := Refresh{Changed: map[string][]Match{}}
	var redo []redoItem
	slots := ix.affectedNeeds(old, now)
	// Score the offer before and after against every affected need first, in parallel:
	// for a worldwide offer that is every need of the index.
	chs := make([]change, len(slots))
	parallel(len(slots), scanWorkers(len(slots)), func(_ *topHeap, i int) {
		nr := ix.needs[slots[i]]
		ch := change{id: offerID, byOffer: true}
		ov := q.needOverlaps(nr)
		if or != nil {
			ch.score, ch.eligible = pairScore(nr, or, &q.w, q.ec.today, ov)
		}
		if was != nil {
			ch.was, ch.wasEligible = pairScore(nr, was, &q.w, q.ec.today, ov)
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
		cur, known := current(needID)
		if known {
			next, changed, ok := patchList(cur, k, ch, func(u int64) Match {
				return Match{NeedID: needID, OfferID: offerID, Score: unitsToFloat(u)}
			})
			if ok {
				if changed {
					r.Changed[needID] = next
				}
				continue
			}
		}
		redo = append(redo, redoItem{owner: needID, slot: s, cur: cur, known: known})
	}
	lists := ix.recompute(redo, func(h *topHeap, s int32) []Match {
		nr := ix.needs[s]
		h.reset(k)
		ix.topOffers(nr, q, h)
		return toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: nr.n.ID, OfferID: e.id, Score: unitsToFloat(e.score)}
		})
	})
	r.merge(redo, lists)
	if or != nil && k > 0 {
		h := &topHeap{}
		h.reset(k)
		ix.topNeeds(or, q, nil, h)
		r.Own = toMatches(h.sorted(), func(e *entry) Match {
			return Match{NeedID: e.id, OfferID: offerID, Score: unitsToFloat(e.score)}
		})
	}
	return r
}

// RefreshNeed is RefreshOffer with needs and offers swapped: call it after UpsertNeed or
// RemoveNeed with the replaced need (nil for a new one); current returns the cached
// (unfiltered) top k of an offer. Own is the need's own new top k.
func (ix *Index) RefreshNeed(old *models.Need, needID string, current func(offerID string) ([]Match, bool), k int, w Weights, c *Context) Refresh {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := newQuery(w, c)
	q.indexActive(ix.v)
	var nr, was *needRec
	var now *models.Need
	if s, ok := ix.needSlot[needID]; ok {
		nr = ix.needs[s]
		now = nr.n
	}
	if old != nil {
		was = ix.v.prepNeed(old, true)
	}
	r := Refresh{Changed: map[string][]Match{}}
	var redo []redoItem
	slots := ix.affectedOffers(old, now)
	var ovNow, ovWas int
	if nr != nil {
		ovNow = q.needOverlaps(nr)
	}
	if was != nil {
		ovWas = q.ec.overlaps(was.n)
	}
	chs := make([]change, len(slots))
	parallel(len(slots), scanWorkers(len(slots)), func(_ *topHeap, i int) {
		or := ix.offers[slots[i]]
		ch := change{id: needID}
		if nr != nil && nr.rankable {
			ch.score, ch.eligible = pairScore(nr, or, &q.w, q.ec.today, ovNow)
		}
		if was != nil && was.rankable {
			ch.was, ch.wasEligible = pairScore(was, or, &q.w, q.ec.today, ovWas)
		}
		chs[i] = ch
	})
	for i, s := range slots {
		ch := chs[i]
		if !ch.eligible && !ch.wasEligible {
			continue
		}
		or := ix.offers[s]
		offerID := or.o.ID
		cur, known := current(offerID)
		if known {
			next, changed, ok := patchList(cur, k, ch, func(u int64) Match {
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

// scanWorkers is how many goroutines score an edit against the objects it affects: one
// for small scans, where starting goroutines costs more than it saves.
func scanWorkers(n int) int {
	if n < 2048 {
		return 1
	}
	return runtime.GOMAXPROCS(0)
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

// patchList updates a ranked top-k list after the score of one candidate changed. ok is false
// when the list cannot be patched and must be ranked from scratch: the candidate fell out of
// (or down within) a full list, so a candidate the list never held may now belong in it. A
// list shorter than k held every eligible candidate, so it can always be patched. The
// candidate's old standing tells whether it can be in the list at all, which spares
// searching the many lists it never reached.
func patchList(cur []Match, k int, c change, mk func(int64) Match) (next []Match, changed, ok bool) {
	if k <= 0 {
		return nil, len(cur) > 0, true
	}
	if len(cur) > k {
		cur = cur[:k]
	}
	full := len(cur) >= k
	pos := -1
	if c.wasEligible && (!full || !before(lastEntry(cur, &c), &entry{score: c.was, id: c.id})) {
		for i := range cur {
			if c.idOf(&cur[i]) == c.id {
				pos = i
				break
			}
		}
	}
	if pos >= 0 {
		was := floatToUnits(cur[pos].Score)
		switch {
		case c.eligible && c.score == was:
			return cur, false, true
		case full && !(c.eligible && c.score > was):
			return nil, false, false
		}
		next = slices.Delete(slices.Clone(cur), pos, pos+1)
	} else {
		if !c.eligible {
			return cur, false, true
		}
		if full && !before(&entry{score: c.score, id: c.id}, lastEntry(cur, &c)) {
			return cur, false, true
		}
		next = slices.Clone(cur)
	}
	if c.eligible {
		ce := entry{score: c.score, id: c.id}
		i := 0
		for ; i < len(next); i++ {
			if e := (entry{score: floatToUnits(next[i].Score), id: c.idOf(&next[i])}); before(&ce, &e) {
				break
			}
		}
		next = slices.Insert(next, i, mk(c.score))
		if len(next) > k {
			next = next[:k]
		}
	}
	return next, true, true
}

// lastEntry is the last entry of a non-empty list.
func lastEntry(cur []Match, c *change) *entry {
	if len(cur) == 0 {
		return &entry{score: -1}
	}
	m := &cur[len(cur)-1]
	return &entry{score: floatToUnits(m.Score), id: c.idOf(m)}
}
