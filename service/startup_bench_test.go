package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The start-up of issue 16 without the store's own cost: App.Start over a store that holds the
// documents as BSON in memory and decodes each one when the load reads it, as the driver does
// with a cursor's batch. cmd/capmatch-startup measures the same start-up on a real store
// (FerretDB), whose reading dominates; this isolates the service's part of it.
//
//	go test -run '^$' -bench 'Startup' -benchtime 1x ./service/

// rawStore is memStore with every need and offer kept as a BSON document.
type rawStore struct {
	*memStore
	needs, offers []bson.Raw
}

// skip reads _id and version from a raw document as the adapter does, and asks known.
func skip(raw bson.Raw, known func(string, int64) bool) bool {
	if known == nil {
		return false
	}
	id, okID := raw.Lookup("_id").StringValueOK()
	v, okV := raw.Lookup("version").AsInt64OK()
	return okID && okV && known(id, v)
}

func (s *rawStore) EachNeed(_ context.Context, known func(string, int64) bool, f func(*models.Need) error) error {
	for _, raw := range s.needs {
		if skip(raw, known) {
			continue
		}
		n := new(models.Need)
		if err := bson.Unmarshal(raw, n); err != nil {
			return err
		}
		if err := f(n); err != nil {
			return err
		}
	}
	return nil
}

func (s *rawStore) EachOffer(_ context.Context, known func(string, int64) bool, f func(*models.Offer) error) error {
	for _, raw := range s.offers {
		if skip(raw, known) {
			continue
		}
		o := new(models.Offer)
		if err := bson.Unmarshal(raw, o); err != nil {
			return err
		}
		if err := f(o); err != nil {
			return err
		}
	}
	return nil
}

// startupWords is what descriptions are drawn from (as in cmd/capmatch-startup).
var startupWords = strings.Fields("national CSIRT incident response strategy cybercrime legislation forensics training " +
	"prosecutors points of contact confidence-building measures position international law awareness workforce " +
	"exercise critical infrastructure standards maturity sovereignty due diligence Côte d'Ivoire sécurité " +
	"réseau équipe nationale capacités ciberseguridad formación técnica the of and for to in with a programme " +
	"ministry partners regional support mentoring deployment assessment roadmap governance")

// newRawStore fills a store as cmd/capmatch-startup fills FerretDB: n needs and n offers of
// bench/synth with 60-word descriptions, ids, organizations and times, and n/20 agreed
// engagements.
func newRawStore(b *testing.B, n int) *rawStore {
	s := &rawStore{memStore: newMemStore()}
	g := synth.New(42)
	rng := rand.New(rand.NewPCG(42, 7))
	desc := func() string {
		var w []string
		for range 60 {
			w = append(w, startupWords[rng.IntN(len(startupWords))])
		}
		return strings.Join(w, " ")
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		x := g.Need(i)
		at := base.Add(time.Duration(i) * 7 * time.Minute)
		x.ID, x.CreatedAt, x.UpdatedAt, x.Version = models.NewID(at), at, at, 1
		x.OrganizationID, x.CreatedBy, x.Description = "gov-"+strings.ToLower(x.Country), "user-"+strings.ToLower(x.Country), desc()
		raw, err := bson.Marshal(x)
		if err != nil {
			b.Fatal(err)
		}
		s.needs = append(s.needs, raw)
		if x.Status == models.NeedMatched && len(s.engagements) < n/20 {
			s.engagements = append(s.engagements, &models.Engagement{ID: "e" + x.ID, NeedID: x.ID, Country: x.Country,
				Capability: x.Capability, Status: models.EngagementAgreed, Version: 2})
		}
	}
	for i := range n {
		x := g.Offer(i)
		at := base.Add(time.Duration(i)*7*time.Minute + 3*time.Minute)
		x.ID, x.CreatedAt, x.UpdatedAt, x.Version = models.NewID(at), at, at, 1
		x.OrganizationID, x.CreatedBy, x.Description = fmt.Sprintf("donor-%03d", i%400), fmt.Sprintf("donor-user-%03d", i%400), desc()
		raw, err := bson.Marshal(x)
		if err != nil {
			b.Fatal(err)
		}
		s.offers = append(s.offers, raw)
	}
	return s
}

// BenchmarkStartup measures App.Start (the full load in bulk: streaming, folding, sorting,
// the matching index) at N needs + N offers, and reports the live heap it leaves per object.
func BenchmarkStartup(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			store := newRawStore(b, n)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var app *App
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				app = nil
				runtime.GC()
				w := newStoreWorld(b, store.memStore, nil)
				w.app.store = store
				b.StartTimer()
				if err := w.app.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				app = w.app
			}
			b.StopTimer()
			if nn, no := app.Matching.Index().Len(); nn != n || no != n {
				b.Fatalf("indexed %d needs and %d offers", nn, no)
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			live := float64(after.HeapAlloc) - float64(before.HeapAlloc)
			b.ReportMetric(live/(1<<20), "live-MiB")
			b.ReportMetric(live/float64(2*n), "B/object")
			runtime.KeepAlive(app)
		})
	}
}
