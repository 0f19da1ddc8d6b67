package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
)

// The service-level benchmarks of issue 5: the matching service wired as in main (read model,
// index kept in step by the model's observer, in-process cache in front of Redis), loaded with
// the 10,000 needs × 10,000 offers of the matching benchmarks (bench/synth, seed 42). Redis is
// the server named by REDIS_URL when set, an in-process one otherwise.
//
//	go test -run '^$' -bench 'Service' -benchtime 60x ./service/

// benchStore is a store the matching paths measured here never call: the weights stay the
// defaults and nothing is audited. Any call panics through the nil interface.
type benchStore struct{ models.Store }

// benchBus is no change log: writers apply their changes themselves.
type benchBus struct{}

var errNoLog = errors.New("no change log")

func (benchBus) Publish(context.Context, models.Event) (int64, error) { return 0, errNoLog }

// benchWorld is a service.App on the synthetic marketplace.
type benchWorld struct {
	app    *App
	offers []string
	needs  []string
	gen    *synth.Generator
	coord  *models.Actor
}

func newBenchWorld(b testing.TB, nNeeds, nOffers int) *benchWorld {
	b.Helper()
	cache, err := rediscache.Open(redistest.URL(b), redistest.Prefix())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cache.Close() })
	return newWorldOn(b, cache, nNeeds, nOffers)
}

// newWorldOn is newBenchWorld on a given Redis cache, so that two servers can share one.
func newWorldOn(b testing.TB, cache *rediscache.Client, nNeeds, nOffers int) *benchWorld {
	b.Helper()
	today, _ := synth.Today.Time()
	now := today.Add(9 * time.Hour)
	app := New(Deps{Store: benchStore{}, Bus: benchBus{}, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CursorKey: []byte("bench"),
		Rankings: rediscache.NewRankings(cache, time.Hour)})
	app.Revocations.SetFresh(true) // the bus is up: rankings are cached
	needs, offers, ctx := synth.Data(42, nNeeds, nOffers)
	app.Matching.activeFn = func() map[matching.Delivery]int { return ctx.Active }
	app.Sync.step(app.Matching.ContextChanged)
	w := &benchWorld{app: app, gen: synth.New(7), coord: &models.Actor{UserID: "bench", Role: models.RoleCoordinator, OrgID: "coord"}}
	for _, n := range needs {
		n.Version, n.OrganizationID = 1, "gov-"+n.Country
		app.Sync.step(func(p int64) { app.model.PutNeedAt(n, p) })
		w.needs = append(w.needs, n.ID)
	}
	for _, o := range offers {
		o.Version, o.OrganizationID, o.CreatedAt = 1, "donor", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		app.Sync.step(func(p int64) { app.model.PutOfferAt(o, p) })
		w.offers = append(w.offers, o.ID)
	}
	return w
}

// mutate returns a copy of o with one realistic edit chosen by i (the same kinds as
// matching.BenchmarkOfferChange10k) and the next version.
func (w *benchWorld) mutate(o *models.Offer, i int) *models.Offer {
	c := *o
	c.Version++
	switch i % 6 {
	case 0:
		c.BudgetCommitted = min(c.BudgetUSD, c.BudgetCommitted+c.BudgetUSD/4)
	case 1:
		c.Languages = append(slices.Clone(c.Languages), w.gen.Language())
	case 2:
		if len(c.EligibleRegions) > 0 {
			c.EligibleRegions = nil
			c.EligibleCountries = []string{w.gen.Country(), w.gen.Country()}
		} else {
			c.EligibleRegions = []string{w.gen.SubRegion()}
			c.EligibleCountries = nil
		}
	case 3:
		c.Capabilities = []models.Capability{w.gen.Capability()}
	case 4:
		if c.Status == models.OfferOpen {
			c.Status = models.OfferClosed
		} else {
			c.Status = models.OfferOpen
		}
	case 5:
		c.Languages = c.Languages[:max(0, len(c.Languages)-1)]
		c.BudgetCommitted = c.BudgetCommitted / 2
	}
	return &c
}

// read serves a need's ranking (limit 20) as the API does for a coordinator.
func (w *benchWorld) read(b testing.TB, needID string) {
	if _, err := w.app.Matching.OffersForNeed(context.Background(), w.coord, needID, 20); err != nil {
		b.Fatal(err)
	}
}

// readOffer serves an offer's ranking of needs (limit 20) for a coordinator.
func (w *benchWorld) readOffer(b testing.TB, offerID string) {
	if _, err := w.app.Matching.NeedsForOffer(context.Background(), w.coord, offerID, 20); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServiceOfferChange10k measures, at 10,000 × 10,000, what one donor edit costs
// until every affected ranking that was cached is current again in both cache layers.
// Before each timed edit, the rankings it affects are read (untimed), so every one of them is
// cached: the worst case, when all of them are being served. The timed change is the read
// model taking the new version (PutOffer), whose observer updates the index, patches every
// affected cached ranking (the core's PatchOffer), installs them in L1 with the new stamp and
// writes the changed ones to Redis in one pipeline: "affected rankings recomputed and
// stored". Then every affected ranking and the offer's own ranking are read through the
// service (all but the offer's own should be L1 hits). Reported per edit: affected rankings,
// rankings recomputed on read, rankings changed and written to Redis, the change alone
// (change-p50-ms, change-p90-ms, change-worst-ms, change-ms mean) and change plus reads
// (p50-ms, p90-ms, worst-ms).
func BenchmarkServiceOfferChange10k(b *testing.B) {
	w := newBenchWorld(b, 10_000, 10_000)
	ix := w.app.Matching.Index()
	var total, change []time.Duration
	var affectedSum, computedSum int
	_, lists0 := w.app.Matching.Patches()
	type byScope struct {
		n        int
		affected int
		c, d     time.Duration
	}
	scopes := map[string]*byScope{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := w.offers[(i*7919)%len(w.offers)]
		old, _ := w.app.model.Offer(id)
		o := w.mutate(old, i)
		affected := ix.AffectedByOffer(old, o)
		for _, n := range affected {
			w.read(b, n)
		}
		w.readOffer(b, id)
		before := w.app.Matching.Computes()
		b.StartTimer()

		t0 := time.Now()
		w.app.Sync.step(func(p int64) { w.app.model.PutOfferAt(o, p) })
		t1 := time.Now()
		for _, n := range affected {
			w.read(b, n)
		}
		w.readOffer(b, id)
		t2 := time.Now()

		b.StopTimer()
		change = append(change, t1.Sub(t0))
		total = append(total, t2.Sub(t0))
		affectedSum += len(affected) + 1
		computedSum += int(w.app.Matching.Computes() - before)
		scope := "countries"
		switch {
		case len(old.EligibleCountries) == 0 && len(old.EligibleRegions) == 0,
			len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0:
			scope = "worldwide"
		case len(old.EligibleRegions) > 0 || len(o.EligibleRegions) > 0:
			scope = "regions"
		}
		s := scopes[scope]
		if s == nil {
			s = &byScope{}
			scopes[scope] = s
		}
		s.n++
		s.affected += len(affected) + 1
		s.c += t1.Sub(t0)
		s.d += t2.Sub(t0)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(affectedSum)/n, "affected/op")
	b.ReportMetric(float64(computedSum)/n, "recomputed/op")
	_, lists1 := w.app.Matching.Patches()
	b.ReportMetric(float64(lists1-lists0)/n, "stored/op")
	b.ReportMetric(msOf(sumDurations(change))/n, "change-ms")
	b.ReportMetric(msOf(durationQuantile(change, 0.5)), "change-p50-ms")
	b.ReportMetric(msOf(durationQuantile(change, 0.9)), "change-p90-ms")
	b.ReportMetric(msOf(durationQuantile(change, 1)), "change-worst-ms")
	b.ReportMetric(msOf(durationQuantile(total, 0.5)), "p50-ms")
	b.ReportMetric(msOf(durationQuantile(total, 0.9)), "p90-ms")
	b.ReportMetric(msOf(durationQuantile(total, 1)), "worst-ms")
	for _, k := range []string{"countries", "regions", "worldwide"} {
		if s := scopes[k]; s != nil && b.N > 1 { // the framework's first round has b.N = 1
			b.Logf("%-9s eligibility: %3d edits, %6.0f affected rankings; change %6.1f ms, change and reads %7.1f ms per edit on average",
				k, s.n, float64(s.affected)/float64(s.n), msOf(s.c)/float64(s.n), msOf(s.d)/float64(s.n))
		}
	}
}

// BenchmarkServiceNeedRankingCached10k is the hot path of GET /needs/{id}/matches once a
// ranking is cached: the need's visibility check, the freshness stamps and the L1 lookup of
// the encoded body.
func BenchmarkServiceNeedRankingCached10k(b *testing.B) {
	w := newBenchWorld(b, 10_000, 10_000)
	ids := w.needs[:100]
	for _, id := range ids {
		w.read(b, id)
	}
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.read(b, ids[i%len(ids)])
		i++
	}
}

// BenchmarkServiceNeedRankingCompute10k is a ranking read that must compute: top 50 offers,
// their explanations, encoding, and the write to Redis (each iteration first marks the
// need dirty by re-putting it at a new version, outside the timer).
func BenchmarkServiceNeedRankingCompute10k(b *testing.B) {
	w := newBenchWorld(b, 10_000, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := w.needs[(i*7919)%len(w.needs)]
		n, _ := w.app.model.Need(id)
		c := *n
		c.Version++
		w.app.Sync.step(func(p int64) { w.app.model.PutNeedAt(&c, p) })
		b.StartTimer()
		w.read(b, id)
	}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sumDurations(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// durationQuantile returns the q-quantile (0..1) of ds by the nearest-rank method.
func durationQuantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(len(s)-1, i))]
}
