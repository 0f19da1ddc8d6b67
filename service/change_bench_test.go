package service

import (
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
)

// BenchmarkChange10k measures issue 16's target 3 on the 10,000 needs × 10,000 offers world
// (bench/synth, seed 42, wired as service.New does; Redis is REDIS_URL's when set, an
// in-process one otherwise): how long after a single change every ranking it can alter is
// re-ranked and served current. Every need ranking and every offer ranking (coordinators'
// audience) is read once before the sub-benchmarks, so all 20,000 are cached, and each change
// is followed by reads of every ranking it can alter, which leaves them all cached again for
// the next change: every change meets the worst case, a fully cached world.
//
//	go test -run '^$' -bench 'Change10k' -benchtime 100x -timeout 60m ./service/
//
// The kinds of change (sub-benchmarks):
//
//	need         a ministry's edit of one need: budget, a language added, the capability,
//	             the priority, or closed (matched) / reopened, in turn
//	offer        a donor's edit of one offer eligible for countries or regions (the six edits
//	             of BenchmarkServiceOfferChange10k that keep the offer's reach)
//	worldwide    the same edits of offers eligible everywhere (~9,100 needs reached)
//	engagement   an agreed engagement, as the replicas apply it: the need matched, one of the
//	             offer's slots used, and one more delivery under way in the need's country and
//	             capability (Matching.ContextChanged)
//
// Timed per change, from the first model update: write (the change applied on this replica:
// what a write waits for before it is answered, store and bus apart), write-cpu (the CPU
// the whole process used meanwhile, garbage collection and parallel scans included: a wall
// time well above it means the machine was busy), first-read (every first read of a ranking
// the change can alter, one sample each: for rankings the change only marked stale, the
// recomputation a reader waits for), own (write, then the changed object's own ranking
// read: what its author sees next), visible (write plus the slowest first read: the longest
// a reader of any altered ranking waits for the new one, reads being concurrent in a server)
// and all (write plus every such read in turn: the work to bring the whole cache up to date).
// Each is reported as p50, p99 and max in ms (nearest rank; with fewer than 100 changes the
// p99 is the max); also the rankings the change can alter and those recomputed on read, per
// change. BENCH_CPU_PROFILE=path writes a CPU profile of each kind's changes alone
// (path.BenchmarkChange10k-kind), BENCH_HEAP_PROFILE=path the heap of the cached world.
func BenchmarkChange10k(b *testing.B) {
	w := newBenchWorld(b, 10_000, 10_000)
	// The whole world's rankings and their lines in memory, as measured in BENCHMARKS.md (the
	// defaults, sized for a 100,000 + 100,000 replica's memory, keep 8,192 of each direction and
	// 16,384 lines; CAPMATCH_RANKINGS_IN_MEMORY and CAPMATCH_EXPLAINED_LINES set these).
	w.app.Matching.l1Max = 16_384
	w.app.Matching.explained = newExplainCache(32_768)
	active := maps.Clone(w.app.Matching.activeFn())
	w.app.Matching.activeFn = func() map[matching.Delivery]int { return active }
	t0 := time.Now()
	for _, id := range w.needs {
		w.read(b, id)
	}
	for _, id := range w.offers {
		w.readOffer(b, id)
	}
	b.Logf("20,000 rankings cached in %v", time.Since(t0).Round(time.Millisecond))
	if p := os.Getenv("BENCH_HEAP_PROFILE"); p != "" { // the heap of the fully cached world
		runtime.GC()
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
	}

	worldwide := func(o *models.Offer) bool {
		return len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0
	}
	var wide, local []string
	for _, id := range w.offers {
		if o, _ := w.app.model.Offer(id); worldwide(o) {
			wide = append(wide, id)
		} else {
			local = append(local, id)
		}
	}
	b.Logf("%d offers eligible worldwide, %d for countries or regions", len(wide), len(local))

	b.Run("need", func(b *testing.B) {
		w.measure(b, func(i int) (func(), []string, []string) {
			id := w.needs[(i*7919)%len(w.needs)]
			old, _ := w.app.model.Need(id)
			n := w.mutateNeed(old, i)
			offers := w.app.Matching.Index().AffectedByNeed(old, n)
			return func() {
				w.app.Sync.step(func(p int64) { w.app.model.PutNeedAt(n, p) })
			}, []string{id}, offers
		}, func(i int) (string, bool) { return w.needs[(i*7919)%len(w.needs)], true })
	})
	offerChange := func(ids []string) func(b *testing.B) {
		return func(b *testing.B) {
			var ids2 []string
			w.measure(b, func(i int) (func(), []string, []string) {
				id := ids[(i*7919)%len(ids)]
				old, _ := w.app.model.Offer(id)
				o := w.mutate(old, w.offerEdit(i))
				needs := w.app.Matching.Index().AffectedByOffer(old, o)
				ids2 = append(ids2[:0], id)
				return func() {
					w.app.Sync.step(func(p int64) { w.app.model.PutOfferAt(o, p) })
				}, needs, ids2
			}, func(i int) (string, bool) { return ids[(i*7919)%len(ids)], false })
		}
	}
	b.Run("offer", offerChange(local))
	b.Run("worldwide", offerChange(wide))
	b.Run("engagement", func(b *testing.B) {
		ix := w.app.Matching.Index()
		w.measure(b, func(i int) (func(), []string, []string) {
			// An open need and an open offer with a slot left that can reach it.
			var n *models.Need
			for k := i; n == nil; k++ {
				c, _ := w.app.model.Need(w.needs[(k*7919)%len(w.needs)])
				if c.Status == models.NeedOpen {
					n = c
				}
			}
			var o *models.Offer
			for _, oid := range ix.AffectedByNeed(n, n) {
				if c, _ := w.app.model.Offer(oid); c.Status == models.OfferOpen && c.HasCapacity() {
					o = c
					break
				}
			}
			nn := *n
			nn.Version++
			nn.Status = models.NeedMatched
			oo := *o
			oo.Version++
			oo.EngagementsUsed++
			d := matching.Delivery{Country: n.Country, Capability: n.Capability}
			needs := slices.Concat([]string{n.ID}, ix.NeedsDelivering(d), ix.AffectedByOffer(o, &oo))
			offers := ix.AffectedByNeed(n, &nn)
			for _, x := range ix.NeedsDelivering(d) {
				if m, ok := ix.Need(x); ok {
					offers = append(offers, ix.AffectedByNeed(m, m)...)
				}
			}
			offers = append(offers, o.ID)
			slices.Sort(needs)
			slices.Sort(offers)
			return func() {
				w.app.Sync.step(func(p int64) { w.app.model.PutNeedAt(&nn, p) })
				w.app.Sync.step(func(p int64) { w.app.model.PutOfferAt(&oo, p) })
				next := maps.Clone(active)
				next[d]++
				active = next
				w.app.Sync.step(w.app.Matching.ContextChanged)
			}, slices.Compact(needs), slices.Compact(offers)
		}, nil)
	})
}

// offerEdit picks one of mutate's edits that keeps the offer's reach (no change of
// eligibility), so that offers eligible everywhere stay so from one change to the next.
func (w *benchWorld) offerEdit(i int) int {
	return []int{0, 1, 3, 4, 5}[i%5]
}

// mutateNeed returns a copy of n with one realistic edit chosen by i and the next version.
func (w *benchWorld) mutateNeed(n *models.Need, i int) *models.Need {
	c := *n
	c.Version++
	switch i % 5 {
	case 0:
		c.BudgetUSD += c.BudgetUSD / 2
	case 1:
		c.Languages = append(slices.Clone(c.Languages), w.gen.Language())
	case 2:
		c.Capability = w.gen.Capability()
		c.Theme, _ = models.CapabilityTheme(c.Capability)
	case 3:
		c.Priority = []models.Priority{models.PriorityHigh, models.PriorityMedium, models.PriorityLow}[i%3]
	case 4:
		if c.Status == models.NeedOpen {
			c.Status = models.NeedMatched
		} else {
			c.Status = models.NeedOpen
		}
	}
	return &c
}

// measure runs b.N changes made by next (which returns the change, untimed until called, and
// the need and offer rankings it can alter) and reports their write, own, visible and all
// times (see BenchmarkChange10k). own names the ranking read as the changed object's own
// (a need's when isNeed); nil own reads the first need of the change.
func (w *benchWorld) measure(b *testing.B, next func(i int) (apply func(), needs, offers []string), own func(i int) (id string, isNeed bool)) {
	var write, cpu, owned, first, visible, all []time.Duration
	if p := os.Getenv("BENCH_CPU_PROFILE"); p != "" && b.N > 1 { // this kind's changes alone
		f, err := os.Create(p + "." + strings.ReplaceAll(b.Name(), "/", "-"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	var altered, recomputed int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		apply, needs, offers := next(i)
		ownID, ownNeed := "", true
		if own != nil {
			ownID, ownNeed = own(i)
		} else if len(needs) > 0 {
			ownID = needs[0]
		}
		before := w.app.Matching.Computes()
		b.StartTimer()

		c0 := processCPU()
		t0 := time.Now()
		apply()
		t1 := time.Now()
		cpu = append(cpu, processCPU()-c0)
		if ownID != "" {
			if ownNeed {
				w.read(b, ownID)
			} else {
				w.readOffer(b, ownID)
			}
		}
		t2 := time.Now()
		var slowest time.Duration
		for _, id := range needs {
			s := time.Now()
			w.read(b, id)
			d := time.Since(s)
			first = append(first, d)
			slowest = max(slowest, d)
		}
		for _, id := range offers {
			s := time.Now()
			w.readOffer(b, id)
			d := time.Since(s)
			first = append(first, d)
			slowest = max(slowest, d)
		}
		t3 := time.Now()

		b.StopTimer()
		write = append(write, t1.Sub(t0))
		owned = append(owned, t2.Sub(t0))
		visible = append(visible, t1.Sub(t0)+max(slowest, t2.Sub(t1)))
		all = append(all, t3.Sub(t0))
		altered += len(needs) + len(offers)
		recomputed += int(w.app.Matching.Computes() - before)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(altered)/n, "altered/op")
	b.ReportMetric(float64(recomputed)/n, "recomputed/op")
	for _, s := range []struct {
		name string
		ds   []time.Duration
	}{{"write", write}, {"write-cpu", cpu}, {"first-read", first}, {"own", owned}, {"visible", visible}, {"all", all}} {
		b.ReportMetric(msOf(durationQuantile(s.ds, 0.5)), s.name+"-p50-ms")
		b.ReportMetric(msOf(durationQuantile(s.ds, 0.99)), s.name+"-p99-ms")
		b.ReportMetric(msOf(durationQuantile(s.ds, 1)), s.name+"-max-ms")
	}
}

// processCPU is the CPU time the process has used (user and system, every thread: the
// garbage collector's and the parallel scans' too).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
