package matching

import (
	"cmp"
	"slices"

	"github.com/capmatch/capmatch/models"
)

// maxPasses bounds the local search so that Allocate's running time stays predictable on
// large inputs; on small ones it converges in a handful of passes.
const maxPasses = 64

// Allocate proposes which need each offer should serve so that the total score is as high
// as it can find: every need is served by at most one offer, an offer serves at most
// SlotsLeft needs, and the budgets of the needs it serves add up to at most its
// RemainingBudget (a need with no budget costs nothing). Only open or submitted needs and
// open offers with engagements left are allocated; candidate pairs with unknown ids or a
// score of 0 are ignored, and a pair listed twice counts with its best score.
//
// cands are scored pairs, typically every need's top k from RebuildAll (or every pair, see
// AllocateAll). The method is greedy over the pairs by score, then a local search that
// repeats improving moves until none is left (or maxPasses passes): serve an unserved need,
// or move a served one, by an ejection chain (at a full offer it displaces up to two needs,
// each of which may displace one more where it goes, the last ones going where they fit or
// staying unserved); swap the offers of two needs; and replace one or two served needs of an
// offer by two unserved ones. Each move raises the total, so the search ends; doc.go
// reports how far from the optimum it lands.
//
// The result is sorted by offer id, then need id, and depends only on the input values, not
// on their order.
func Allocate(cands []Match, needs []*models.Need, offers []*models.Offer) []Match {
	a := newAllocator(cands, needs, offers)
	a.greedy()
	for pass := 0; pass < maxPasses && a.improve(); pass++ {
	}
	return a.result()
}

// AllocateAll scores every pair of needs and offers with the weights and context and
// allocates over all of them. It costs len(needs)×len(offers) scorings, so for large sets
// allocate over RebuildAll's top-k lists instead.
func AllocateAll(needs []*models.Need, offers []*models.Offer, w Weights, c *Context) []Match {
	v := newVocab()
	q := newQuery(w, c)
	ors := make([]*offerRec, len(offers))
	for j, o := range offers {
		ors[j] = v.prepOffer(o, false)
	}
	var cands []Match
	for _, n := range needs {
		nr := v.prepNeed(n, false)
		if !nr.rankable {
			continue
		}
		ov := q.ec.dup(n)
		for _, or := range ors {
			if s, ok := q.pairScore(nr, or, ov); ok && s > 0 {
				cands = append(cands, Match{NeedID: n.ID, OfferID: or.o.ID, Score: unitsToFloat(s)})
			}
		}
	}
	return Allocate(cands, needs, offers)
}

type allocPair struct {
	n, o  int
	score int64
}

type allocator struct {
	needIDs  []string
	offerIDs []string
	cost     []int64 // need budget, 0 when none
	slots    []int   // offer slots left
	budget   []int64 // offer remaining budget
	pairs    []allocPair
	byNeed   [][]int // pair indices, best first
	byOffer  [][]int // pair indices, best first
	score    map[[2]int]int64
	at       []int   // need → offer, -1 when unserved
	members  [][]int // offer → needs served
	used     []int64 // offer → budget used
	log      []op    // changes of the chain being tried
}

func newAllocator(cands []Match, needs []*models.Need, offers []*models.Offer) *allocator {
	a := &allocator{score: map[[2]int]int64{}}
	// Index needs and offers in id order so that the search visits them in an order that
	// does not depend on how the caller listed them.
	needs = slices.Clone(needs)
	slices.SortStableFunc(needs, func(x, y *models.Need) int { return cmp.Compare(x.ID, y.ID) })
	offers = slices.Clone(offers)
	slices.SortStableFunc(offers, func(x, y *models.Offer) int { return cmp.Compare(x.ID, y.ID) })
	needIdx := map[string]int{}
	for _, n := range needs {
		if n.Status != models.NeedOpen && n.Status != models.NeedSubmitted {
			continue
		}
		if _, dup := needIdx[n.ID]; dup {
			continue
		}
		needIdx[n.ID] = len(a.needIDs)
		a.needIDs = append(a.needIDs, n.ID)
		a.cost = append(a.cost, max(n.BudgetUSD, 0))
	}
	offerIdx := map[string]int{}
	for _, o := range offers {
		if o.Status != models.OfferOpen || !o.HasCapacity() {
			continue
		}
		if _, dup := offerIdx[o.ID]; dup {
			continue
		}
		offerIdx[o.ID] = len(a.offerIDs)
		a.offerIDs = append(a.offerIDs, o.ID)
		a.slots = append(a.slots, o.SlotsLeft())
		a.budget = append(a.budget, o.RemainingBudget())
	}
	for _, m := range cands {
		n, ok1 := needIdx[m.NeedID]
		o, ok2 := offerIdx[m.OfferID]
		s := floatToUnits(m.Score)
		if !ok1 || !ok2 || s <= 0 || a.cost[n] > a.budget[o] {
			continue
		}
		key := [2]int{n, o}
		if old, dup := a.score[key]; !dup || s > old {
			a.score[key] = s
		}
	}
	for key, s := range a.score {
		a.pairs = append(a.pairs, allocPair{n: key[0], o: key[1], score: s})
	}
	slices.SortFunc(a.pairs, func(x, y allocPair) int {
		if c := cmp.Compare(y.score, x.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.needIDs[x.n], a.needIDs[y.n]); c != 0 {
			return c
		}
		return cmp.Compare(a.offerIDs[x.o], a.offerIDs[y.o])
	})
	a.byNeed = make([][]int, len(a.needIDs))
	a.byOffer = make([][]int, len(a.offerIDs))
	for i, p := range a.pairs {
		a.byNeed[p.n] = append(a.byNeed[p.n], i)
		a.byOffer[p.o] = append(a.byOffer[p.o], i)
	}
	a.at = make([]int, len(a.needIDs))
	for i := range a.at {
		a.at[i] = -1
	}
	a.members = make([][]int, len(a.offerIDs))
	a.used = make([]int64, len(a.offerIDs))
	return a
}

// fits reports whether offer o can serve its needs after dropping out (-1 for none) and
// adding the needs in add.
func (a *allocator) fits(o, out int, add ...int) bool {
	count, spend := len(a.members[o]), a.used[o]
	if out >= 0 {
		count--
		spend -= a.cost[out]
	}
	for _, n := range add {
		count++
		spend += a.cost[n]
	}
	return count <= a.slots[o] && spend <= a.budget[o]
}

func (a *allocator) assign(n, o int) {
	a.at[n] = o
	a.members[o] = append(a.members[o], n)
	a.used[o] += a.cost[n]
}

func (a *allocator) unassign(n int) {
	o := a.at[n]
	a.at[n] = -1
	a.members[o] = slices.DeleteFunc(a.members[o], func(m int) bool { return m == n })
	a.used[o] -= a.cost[n]
}

// maxOut says how many needs a placement may displace at each level of an ejection chain:
// a need being placed may displace up to two at the offer it takes, each of those may
// displace one where it goes, and needs displaced at that level go only where they fit or
// stay unserved. Deeper chains find little more and cost much more.
var maxOut = [...]int{2, 1, 0}

// op is one recorded change, so that a tentative chain can be undone.
type op struct {
	n, o int
	in   bool
}

func (a *allocator) doAssign(n, o int) {
	a.assign(n, o)
	a.log = append(a.log, op{n: n, o: o, in: true})
}

func (a *allocator) doUnassign(n int) {
	o := a.at[n]
	a.unassign(n)
	a.log = append(a.log, op{n: n, o: o})
}

// undo reverts the recorded changes after mark.
func (a *allocator) undo(mark int) {
	for len(a.log) > mark {
		x := a.log[len(a.log)-1]
		a.log = a.log[:len(a.log)-1]
		if x.in {
			a.unassign(x.n)
		} else {
			a.assign(x.n, x.o)
		}
	}
}

// scoreOf is the score of pair (n, o); the pair must be a candidate.
func (a *allocator) scoreOf(n, o int) int64 {
	for _, pi := range a.byNeed[n] {
		if a.pairs[pi].o == o {
			return a.pairs[pi].score
		}
	}
	return 0
}

// bestScore is the highest score need n can get anywhere.
func (a *allocator) bestScore(n int) int64 {
	if len(a.byNeed[n]) == 0 {
		return 0
	}
	return a.pairs[a.byNeed[n][0]].score
}

// place puts the unserved need n where the total gains most, by an ejection chain: at a
// full offer it may displace needs (maxOut[level] of them), which are placed in turn one
// level deeper or left unserved. Offers already in the chain are not revisited. It leaves
// the best chain applied and returns its gain, or changes nothing and returns 0.
func (a *allocator) place(n, level int, banned []int) int64 {
	mark := len(a.log)
	var best int64
	var bestOps []op
	try := func(o int, s int64, out ...int) {
		g := s
		ub := s
		for _, m := range out {
			sm := a.scoreOf(m, o)
			g -= sm
			ub -= sm
			if level+1 < len(maxOut) {
				ub += a.bestScore(m)
			}
		}
		if ub <= best {
			return
		}
		for _, m := range out {
			a.doUnassign(m)
		}
		a.doAssign(n, o)
		if level+1 < len(maxOut) {
			next := append(banned[:len(banned):len(banned)], o)
			for _, m := range out {
				g += a.place(m, level+1, next)
			}
		}
		if g > best {
			best = g
			bestOps = append(bestOps[:0], a.log[mark:]...)
		}
		a.undo(mark)
	}
	for _, pi := range a.byNeed[n] {
		p := a.pairs[pi]
		if slices.Contains(banned, p.o) {
			continue
		}
		if a.fits(p.o, -1, n) {
			try(p.o, p.score)
			continue
		}
		if maxOut[level] == 0 {
			continue
		}
		// No chain through this offer can gain more than n's score there plus what its two
		// most improvable members could win elsewhere.
		if level+1 < len(maxOut) {
			var up1, up2 int64
			for _, m := range a.members[p.o] {
				if d := a.bestScore(m) - a.scoreOf(m, p.o); d > up1 {
					up1, up2 = d, up1
				} else if d > up2 {
					up2 = d
				}
			}
			if p.score+up1+up2 <= best {
				continue
			}
		} else if p.score <= best {
			continue
		}
		ms := slices.Clone(a.members[p.o])
		for i, m1 := range ms {
			if a.fits(p.o, m1, n) {
				try(p.o, p.score, m1)
			}
			if maxOut[level] < 2 {
				continue
			}
			for _, m2 := range ms[i+1:] {
				if a.fitsOut2(p.o, m1, m2, n) {
					try(p.o, p.score, m1, m2)
				}
			}
		}
	}
	for _, x := range bestOps {
		if x.in {
			a.doAssign(x.n, x.o)
		} else {
			a.doUnassign(x.n)
		}
	}
	return best
}

// fitsOut2 reports whether offer o can take need add after dropping needs m1 and m2.
func (a *allocator) fitsOut2(o, m1, m2, add int) bool {
	count := len(a.members[o]) - 1
	spend := a.used[o] - a.cost[m1] - a.cost[m2] + a.cost[add]
	return count <= a.slots[o] && spend <= a.budget[o]
}

func (a *allocator) greedy() {
	for _, p := range a.pairs {
		if a.at[p.n] < 0 && a.fits(p.o, -1, p.n) {
			a.assign(p.n, p.o)
		}
	}
}

// improve makes every improving move it finds in one pass and reports whether it made any.
func (a *allocator) improve() bool {
	improved := false
	// Serve an unserved need, by an ejection chain if its offers are full.
	for n := range a.needIDs {
		if a.at[n] < 0 {
			a.log = a.log[:0]
			if a.place(n, 0, nil) > 0 {
				improved = true
			}
		}
	}
	// Move a served need where it and the needs it displaces score more: take it out, place
	// it again (with the shorter chains of level 1, which keeps this pass affordable), and put
	// it back unless the new chain beats staying.
	for n := range a.needIDs {
		o1 := a.at[n]
		if o1 < 0 {
			continue
		}
		stay := a.scoreOf(n, o1)
		if stay == a.bestScore(n) && a.pairs[a.byNeed[n][0]].o == o1 {
			continue // already at its best offer
		}
		a.unassign(n)
		a.log = a.log[:0]
		if a.place(n, 1, nil) > stay {
			improved = true
		} else {
			a.undo(0)
			a.assign(n, o1)
		}
	}
	// Swap the offers of two served needs.
	for n1 := range a.needIDs {
		o1 := a.at[n1]
		if o1 < 0 {
			continue
		}
		s11 := a.score[[2]int{n1, o1}]
		for _, pi := range a.byNeed[n1] {
			o2 := a.pairs[pi].o
			s12 := a.pairs[pi].score
			if o2 == o1 {
				continue
			}
			done := false
			for _, n2 := range a.members[o2] {
				s21, ok := a.score[[2]int{n2, o1}]
				if !ok {
					continue
				}
				s22 := a.score[[2]int{n2, o2}]
				if s12+s21 > s11+s22 && a.fits(o1, n1, n2) && a.fits(o2, n2, n1) {
					a.unassign(n1)
					a.unassign(n2)
					a.assign(n1, o2)
					a.assign(n2, o1)
					improved, done = true, true
					break
				}
			}
			if done {
				break
			}
		}
	}
	// Replace one or two served needs of an offer by two unserved ones that together score
	// more (the displaced needs are placed again in the next pass). Only the offer's best
	// unserved candidates are tried, which bounds the work on large inputs.
	const maxFree = 12
	for o := range a.offerIDs {
		var free []allocPair
		for _, pi := range a.byOffer[o] {
			if p := a.pairs[pi]; a.at[p.n] < 0 {
				if free = append(free, p); len(free) == maxFree {
					break
				}
			}
		}
		if len(free) < 2 {
			continue
		}
		ms := slices.Clone(a.members[o])
	exchange:
		for i, m1 := range ms {
			for j := i; j < len(ms); j++ {
				out := []int{m1}
				if j > i {
					out = append(out, ms[j])
				}
				var lose int64
				for _, m := range out {
					lose += a.scoreOf(m, o)
				}
				for x := range free {
					for y := x + 1; y < len(free); y++ {
						if free[x].score+free[y].score > lose && a.fitsSwap(o, out, free[x].n, free[y].n) {
							for _, m := range out {
								a.unassign(m)
							}
							a.assign(free[x].n, o)
							a.assign(free[y].n, o)
							improved = true
							break exchange
						}
					}
				}
			}
		}
	}
	return improved
}

// fitsSwap reports whether offer o can serve its needs with out replaced by n1 and n2.
func (a *allocator) fitsSwap(o int, out []int, n1, n2 int) bool {
	count := len(a.members[o]) - len(out) + 2
	spend := a.used[o] + a.cost[n1] + a.cost[n2]
	for _, m := range out {
		spend -= a.cost[m]
	}
	return count <= a.slots[o] && spend <= a.budget[o]
}

func (a *allocator) result() []Match {
	var out []Match
	for n, o := range a.at {
		if o >= 0 {
			s := unitsToFloat(a.score[[2]int{n, o}])
			out = append(out, Match{NeedID: a.needIDs[n], OfferID: a.offerIDs[o], Score: s, Band: BandOf(s)})
		}
	}
	slices.SortFunc(out, func(x, y Match) int {
		if c := cmp.Compare(x.OfferID, y.OfferID); c != 0 {
			return c
		}
		return cmp.Compare(x.NeedID, y.NeedID)
	})
	return out
}
