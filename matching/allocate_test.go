package matching

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// allocInstance is a small random allocation problem.
type allocInstance struct {
	needs  []*models.Need
	offers []*models.Offer
	cands  []Match
}

// randomInstance draws up to 5 needs and 3 offers with budgets sized so that the budget
// constraint binds often (offers hold one to three needs' worth), slots from 1 to 3, and 80%
// of pairs scored uniformly in [0.2, 1].
func randomInstance(rng *rand.Rand) allocInstance {
	var in allocInstance
	for i := range 1 + rng.IntN(5) {
		in.needs = append(in.needs, randomNeed(rng, i))
	}
	for j := range 1 + rng.IntN(3) {
		in.offers = append(in.offers, randomOffer(rng, j))
	}
	in.cands = randomCands(rng, in, 0.8)
	return in
}

// sizedInstance draws nNeeds needs and nOffers offers as randomInstance does, each pair a
// candidate with probability density.
func sizedInstance(rng *rand.Rand, nNeeds, nOffers int, density float64) allocInstance {
	var in allocInstance
	for i := range nNeeds {
		in.needs = append(in.needs, randomNeed(rng, i))
	}
	for j := range nOffers {
		in.offers = append(in.offers, randomOffer(rng, j))
	}
	in.cands = randomCands(rng, in, density)
	return in
}

// randomNeed asks for $50,000 to $500,000, or states no budget one time in five.
func randomNeed(rng *rand.Rand, i int) *models.Need {
	b := int64(0)
	if rng.IntN(5) > 0 {
		b = int64(50+rng.IntN(451)) * 1000
	}
	return &models.Need{ID: fmt.Sprintf("n%d", i), BudgetUSD: b, Status: models.NeedOpen}
}

// randomOffer has one to three slots and $100,000 to $1,000,000.
func randomOffer(rng *rand.Rand, j int) *models.Offer {
	maxEng := 1 + rng.IntN(3)
	return &models.Offer{ID: fmt.Sprintf("o%d", j), Status: models.OfferOpen,
		MaxEngagements: maxEng, BudgetUSD: int64(100+rng.IntN(901)) * 1000}
}

// randomCands makes each pair a candidate with probability density, scored uniformly in
// [0.2, 1].
func randomCands(rng *rand.Rand, in allocInstance, density float64) []Match {
	var out []Match
	for _, n := range in.needs {
		for _, o := range in.offers {
			if rng.Float64() < density {
				out = append(out, Match{NeedID: n.ID, OfferID: o.ID, Score: round4(0.2 + 0.8*rng.Float64())})
			}
		}
	}
	return out
}

// optimum enumerates every assignment (each need to no offer or one candidate offer) and
// returns the best feasible total, in score units.
func optimum(in allocInstance) int64 {
	score := map[[2]int]int64{}
	for _, m := range in.cands {
		var n, o int
		fmt.Sscanf(m.NeedID, "n%d", &n)
		fmt.Sscanf(m.OfferID, "o%d", &o)
		score[[2]int{n, o}] = floatToUnits(m.Score)
	}
	at := make([]int, len(in.needs))
	var best int64
	var rec func(i int)
	rec = func(i int) {
		if i == len(in.needs) {
			slots := make([]int, len(in.offers))
			spend := make([]int64, len(in.offers))
			var total int64
			for n, o := range at {
				if o < 0 {
					continue
				}
				slots[o]++
				spend[o] += in.needs[n].BudgetUSD
				total += score[[2]int{n, o}]
			}
			for o := range in.offers {
				if slots[o] > in.offers[o].SlotsLeft() || spend[o] > in.offers[o].RemainingBudget() {
					return
				}
			}
			best = max(best, total)
			return
		}
		at[i] = -1
		rec(i + 1)
		for o := range in.offers {
			if _, ok := score[[2]int{i, o}]; ok {
				at[i] = o
				rec(i + 1)
			}
		}
	}
	rec(0)
	return best
}

// checkFeasible asserts that an allocation respects every constraint and returns its total.
func checkFeasible(t *testing.T, in allocInstance, got []Match) int64 {
	t.Helper()
	cand := map[[2]string]float64{}
	for _, m := range in.cands {
		cand[[2]string{m.NeedID, m.OfferID}] = m.Score
	}
	offers := map[string]*models.Offer{}
	for _, o := range in.offers {
		offers[o.ID] = o
	}
	needs := map[string]*models.Need{}
	for _, n := range in.needs {
		needs[n.ID] = n
	}
	served := map[string]bool{}
	slots := map[string]int{}
	spend := map[string]int64{}
	var total int64
	for _, m := range got {
		s, ok := cand[[2]string{m.NeedID, m.OfferID}]
		if !ok || s != m.Score {
			t.Fatalf("allocated %+v, not a candidate", m)
		}
		if served[m.NeedID] {
			t.Fatalf("need %s served twice", m.NeedID)
		}
		served[m.NeedID] = true
		slots[m.OfferID]++
		spend[m.OfferID] += needs[m.NeedID].BudgetUSD
		total += floatToUnits(m.Score)
	}
	for id, o := range offers {
		if slots[id] > o.SlotsLeft() || spend[id] > o.RemainingBudget() {
			t.Fatalf("offer %s over capacity: %d slots, $%d", id, slots[id], spend[id])
		}
	}
	return total
}

// gapStats accumulates the gaps of allocations to a reference total (the optimum or a bound).
type gapStats struct {
	runs, exact   int
	sum, worst    float64
	gSum, gWorst  float64 // greedy alone
	gExact        int
	label, versus string
}

func (g *gapStats) add(ref, total, greedy int64) {
	gap, gGap := 0.0, 0.0
	if ref > 0 {
		gap = float64(ref-total) / float64(ref)
		gGap = float64(ref-greedy) / float64(ref)
	}
	g.runs++
	if total == ref {
		g.exact++
	}
	if greedy == ref {
		g.gExact++
	}
	g.sum, g.worst = g.sum+gap, max(g.worst, gap)
	g.gSum, g.gWorst = g.gSum+gGap, max(g.gWorst, gGap)
}

func (g *gapStats) mean() float64 { return g.sum / float64(max(g.runs, 1)) }

func (g *gapStats) log(t *testing.T) {
	t.Helper()
	n := float64(max(g.runs, 1))
	t.Logf("%s: %d instances; Allocate reaches the %s in %.2f%%, mean gap %.4f%%, worst %.2f%%; greedy alone reaches it in %.2f%%, mean gap %.4f%%, worst %.2f%%",
		g.label, g.runs, g.versus, 100*float64(g.exact)/n, 100*g.sum/n, 100*g.worst,
		100*float64(g.gExact)/n, 100*g.gSum/n, 100*g.gWorst)
}

// greedyTotal is what the greedy pass alone allocates.
func greedyTotal(t *testing.T, in allocInstance) int64 {
	a := newAllocator(in.cands, in.needs, in.offers)
	a.greedy()
	return checkFeasible(t, in, a.result())
}

// TestAllocateGap compares Allocate with the exhaustive optimum on many small random
// instances. The bound asserted below is justified in doc.go: greedy alone is a
// 1/2-approximation for matching with slot capacities, and the budget knapsack can make a
// single greedy choice block two better ones, which the local search's 1-for-2 exchange
// repairs; on instances of this size the search reaches the optimum almost always.
//
// Most of these instances are easy (greedy alone is optimal in nine of ten), so the figures
// are also reported on the non-trivial ones, where greedy alone misses the optimum and the
// search has work to do, and on the full 5 × 3 ones; TestAllocateFullInstances draws only
// full, dense instances.
func TestAllocateGap(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 3))
	const runs = 5000
	all := gapStats{label: "all (≤5 needs × ≤3 offers)", versus: "optimum"}
	hard := gapStats{label: "non-trivial (greedy alone misses the optimum)", versus: "optimum"}
	full := gapStats{label: "full 5 × 3", versus: "optimum"}
	for r := 0; r < runs; r++ {
		in := randomInstance(rng)
		got := Allocate(in.cands, in.needs, in.offers)
		total := checkFeasible(t, in, got)
		opt := optimum(in)
		if total > opt {
			t.Fatalf("run %d: allocation %d beats the optimum %d", r, total, opt)
		}
		greedy := greedyTotal(t, in)
		all.add(opt, total, greedy)
		if greedy < opt {
			hard.add(opt, total, greedy)
		}
		if len(in.needs) == 5 && len(in.offers) == 3 {
			full.add(opt, total, greedy)
		}
		// The LP relaxation bounds every instance's optimum (a check of the simplex that
		// TestAllocateAgainstLPBound relies on).
		if bound, ok := allocLPBound(in.cands, in.needs, in.offers); !ok || bound < float64(opt)-1e-6 {
			t.Fatalf("run %d: LP bound %v (ok %v) below the optimum %d", r, bound, ok, opt)
		}
	}
	all.log(t)
	hard.log(t)
	full.log(t)
	if all.worst > maxAllocGap || all.mean() > maxMeanAllocGap || hard.mean() > maxMeanHardGap {
		t.Errorf("gap above the bounds: worst %.4f (bound %.2f), mean %.5f (bound %.3f), mean on the non-trivial instances %.5f (bound %.3f)",
			all.worst, maxAllocGap, all.mean(), maxMeanAllocGap, hard.mean(), maxMeanHardGap)
	}
	if hard.runs < 300 {
		t.Errorf("only %d non-trivial instances: the generator is too easy to test the search", hard.runs)
	}
}

// TestAllocateFullInstances draws only full, dense instances (6 needs × 3 offers, every pair
// a candidate, budgets binding), where greedy alone goes wrong far more often, and compares
// with the exhaustive optimum.
func TestAllocateFullInstances(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 6))
	st := gapStats{label: "full 6 × 3, every pair a candidate", versus: "optimum"}
	hard := gapStats{label: "  of which non-trivial", versus: "optimum"}
	var lpOver, lpWorst float64
	for r := 0; r < 2000; r++ {
		in := sizedInstance(rng, 6, 3, 1)
		total := checkFeasible(t, in, Allocate(in.cands, in.needs, in.offers))
		opt := optimum(in)
		if total > opt {
			t.Fatalf("run %d: allocation %d beats the optimum %d", r, total, opt)
		}
		greedy := greedyTotal(t, in)
		st.add(opt, total, greedy)
		if greedy < opt {
			hard.add(opt, total, greedy)
		}
		bound, _ := allocLPBound(in.cands, in.needs, in.offers)
		lpOver += (bound - float64(opt)) / bound
		lpWorst = max(lpWorst, (bound-float64(opt))/bound)
	}
	st.log(t)
	hard.log(t)
	t.Logf("  the LP bound lies above the optimum by %.2f%% on average, %.2f%% at most: the slack budgets give the relaxation", 100*lpOver/2000, 100*lpWorst)
	if st.worst > maxFullGap || hard.mean() > maxMeanHardGap {
		t.Errorf("gap above the bounds: worst %.4f (bound %.2f), mean on the non-trivial instances %.5f (bound %.3f)",
			st.worst, maxFullGap, hard.mean(), maxMeanHardGap)
	}
}

// TestLPBoundIsExactWithoutBudgets checks the test's simplex: without budgets, allocation is
// a bipartite b-matching, whose LP relaxation has integral optima, so the bound must equal
// the exhaustive optimum.
func TestLPBoundIsExactWithoutBudgets(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for r := 0; r < 500; r++ {
		in := sizedInstance(rng, 1+rng.IntN(5), 1+rng.IntN(3), 0.8)
		for _, n := range in.needs {
			n.BudgetUSD = 0
		}
		opt := optimum(in)
		bound, ok := allocLPBound(in.cands, in.needs, in.offers)
		if !ok || math.Abs(bound-float64(opt)) > 1e-6 {
			t.Fatalf("run %d: LP %v (ok %v), optimum %d", r, bound, ok, opt)
		}
	}
}

// TestAllocateAgainstLPBound checks realistic sizes, too large for exhaustive search,
// against the LP relaxation's optimum, which no allocation can beat: the gap to the bound is
// at least the gap to the (unknown) optimum. Two kinds of instance: a marketplace of 50
// open needs and 20 open offers drawn like the synthetic one (real scores from the scorer,
// one to eight slots, budgets that bind), and random scores on 50 × 20 and 100 × 30 with
// budgets sized as in TestAllocateGap.
func TestAllocateAgainstLPBound(t *testing.T) {
	type kind struct {
		name  string
		runs  int
		draw  func(r int) allocInstance
		bound float64 // the worst gap to the LP bound asserted
		stats gapStats
	}
	rng := rand.New(rand.NewPCG(50, 20))
	kinds := []*kind{
		{name: "marketplace 50 × 20 (scored pairs)", runs: 20, bound: maxLPGap, draw: func(r int) allocInstance { return marketInstance(uint64(100+r), 50, 20) }},
		// Without budgets the LP bound is the optimum (see TestLPBoundIsExactWithoutBudgets),
		// so this gap is the true one.
		{name: "marketplace 50 × 20, slots only (the bound is the optimum)", runs: 20, bound: maxExactLPGap, draw: func(r int) allocInstance {
			in := marketInstance(uint64(100+r), 50, 20)
			for _, n := range in.needs {
				n.BudgetUSD = 0
			}
			return in
		}},
		{name: "random scores 50 × 20, 30% of pairs", runs: 20, bound: maxLPGap, draw: func(int) allocInstance { return sizedInstance(rng, 50, 20, 0.3) }},
		{name: "random scores 100 × 30, 20% of pairs", runs: 5, bound: maxLPGap, draw: func(int) allocInstance { return sizedInstance(rng, 100, 30, 0.2) }},
	}
	for _, k := range kinds {
		k.stats = gapStats{label: k.name, versus: "LP bound"}
		for r := range k.runs {
			in := k.draw(r)
			total := checkFeasible(t, in, Allocate(in.cands, in.needs, in.offers))
			bound, ok := allocLPBound(in.cands, in.needs, in.offers)
			if !ok || float64(total) > bound+1e-6 {
				t.Fatalf("%s run %d: allocation %d, LP bound %v (ok %v)", k.name, r, total, bound, ok)
			}
			// Compare in whole units, rounding the bound down: the optimum is an integer.
			k.stats.add(int64(math.Floor(bound+1e-6)), total, greedyTotal(t, in))
		}
		k.stats.log(t)
		if k.stats.worst > k.bound {
			t.Errorf("%s: gap to the LP bound %.4f above %.2f", k.name, k.stats.worst, k.bound)
		}
	}
}

// marketInstance is a marketplace of open needs and offers drawn like the synthetic one,
// every offer open with engagements left, and its candidates every listed pair scored by
// the default weights.
func marketInstance(seed uint64, nNeeds, nOffers int) allocInstance {
	s := newSynthetic(seed)
	var in allocInstance
	for i := range nNeeds {
		n := s.need(i)
		n.Status = models.NeedOpen
		in.needs = append(in.needs, n)
	}
	for j := range nOffers {
		o := s.offer(j)
		o.Status, o.EngagementsUsed = models.OfferOpen, 0
		// A marketplace in one region: every offer is open to every need's country.
		o.EligibleCountries, o.EligibleRegions = nil, nil
		in.offers = append(in.offers, o)
	}
	ctx := s.context(nNeeds/10, in.needs)
	ix := NewIndex(in.needs, in.offers)
	for _, n := range in.needs {
		in.cands = append(in.cands, ix.RankOffersForNeed(n.ID, nOffers, DefaultWeights(), ctx)...)
	}
	return in
}

// The asserted bounds are regression guards with headroom over the measurements reported
// in doc.go, which also gives the reasoning: the worst gap to the optimum on the small
// instances (measured 14.7%) and on the full 6 × 3 ones (26.2%: chains of three or more
// coordinated moves the search does not try), the mean gap overall (0.034%) and on the
// non-trivial instances (0.31% and 0.53%), and the worst gap to the LP bound at realistic
// sizes, with budgets (11.9%, most of it the relaxation's own slack: on the 6 × 3 instances
// the bound lies 2.95% above the optimum on average) and without (0.55%, where the bound is
// the optimum).
const (
	maxAllocGap     = 0.25
	maxFullGap      = 0.30
	maxMeanAllocGap = 0.005
	maxMeanHardGap  = 0.01
	maxLPGap        = 0.15
	maxExactLPGap   = 0.01
)

func TestAllocateDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		in := randomInstance(rng)
		ref := Allocate(in.cands, in.needs, in.offers)
		c, n, o := slices.Clone(in.cands), slices.Clone(in.needs), slices.Clone(in.offers)
		rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
		rng.Shuffle(len(n), func(i, j int) { n[i], n[j] = n[j], n[i] })
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		if got := Allocate(c, n, o); !reflect.DeepEqual(got, ref) {
			t.Fatalf("shuffled input changed the allocation:\n%v\n%v", got, ref)
		}
	}
}

func TestAllocateRules(t *testing.T) {
	n1, n2, n3 := baseNeed(), baseNeed(), baseNeed()
	n1.ID, n2.ID, n3.ID = "n1", "n2", "n3"
	n3.Status = models.NeedMatched // already matched: never allocated
	o := baseOffer()               // 3 slots left, $1,600,000 left
	o.MaxEngagements, o.EngagementsUsed = 2, 0
	closed := baseOffer()
	closed.ID, closed.Status = "closed", models.OfferClosed
	cands := []Match{
		{NeedID: "n1", OfferID: o.ID, Score: 0.9}, {NeedID: "n2", OfferID: o.ID, Score: 0.8},
		{NeedID: "n3", OfferID: o.ID, Score: 1}, {NeedID: "n1", OfferID: "closed", Score: 1},
		{NeedID: "ghost", OfferID: o.ID, Score: 1}, {NeedID: "n2", OfferID: o.ID, Score: 0.85}, // duplicate: best counts
	}
	got := Allocate(cands, []*models.Need{n1, n2, n3}, []*models.Offer{o, closed})
	want := []Match{{NeedID: "n1", OfferID: o.ID, Score: 0.9, Band: BandStrong}, {NeedID: "n2", OfferID: o.ID, Score: 0.85, Band: BandStrong}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// The budget binds: $1,600,000 left holds one $1,000,000 need, not two.
	n1.BudgetUSD, n2.BudgetUSD = 1_000_000, 1_000_000
	if got := Allocate(cands, []*models.Need{n1, n2}, []*models.Offer{o}); len(got) != 1 || got[0].NeedID != "n1" {
		t.Errorf("budget not respected: %v", got)
	}
	// A need that asks more than an offer has left is never allocated to it.
	n1.BudgetUSD = 2_000_000
	if got := Allocate(cands[:1], []*models.Need{n1}, []*models.Offer{o}); len(got) != 0 {
		t.Errorf("over-budget need allocated: %v", got)
	}
}

// TestAllocateAll runs the all-pairs entry point on a synthetic marketplace and checks the
// constraints.
func TestAllocateAll(t *testing.T) {
	needs, offers, ctx := synthData(13, 150, 60)
	got := AllocateAll(needs, offers, DefaultWeights(), ctx)
	if len(got) == 0 {
		t.Fatal("nothing allocated")
	}
	in := allocInstance{needs: needs, offers: offers}
	for _, n := range needs {
		if n.Status != models.NeedOpen && n.Status != models.NeedSubmitted {
			continue
		}
		for _, o := range offers {
			if m, ok := Score(n, o, DefaultWeights(), ctx); ok {
				in.cands = append(in.cands, Match{NeedID: n.ID, OfferID: o.ID, Score: m.Score})
			}
		}
	}
	checkFeasible(t, in, got)
	t.Logf("allocated %d of %d needs to %d offers", len(got), len(needs), len(offers))
}
