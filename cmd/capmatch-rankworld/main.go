// Command capmatch-rankworld serves the capmatch API over HTTP on a synthetic world (bench/synth) for
// the cached-ranking load test of issue 16 (bench/rankworld.sh): N needs × M offers in the
// in-memory model, an in-process Redis, many callers (ministries of many countries, donors, a
// coordinator) with their access tokens, and a list of ranking requests over many needs and
// offers, callers and languages that wrk replays (bench/wrk-many.lua). It warms every listed
// request once (so that the rankings and their rendered answers are cached, as they are for a
// running service whose readers come back), prints "ready <addr>" and serves until killed.
//
//	go run ./cmd/capmatch-rankworld -needs 1000 -offers 10000 -requests /tmp/req.tsv
//
// The store is never called (the measured paths serve from memory); -no-answer-cache renders
// every answer for its request (A/B against the kept answers).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/jwtauth"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// nopStore is a store the measured paths never call (any call panics).
type nopStore struct{ models.Store }

type nopBus struct{}

func (nopBus) Publish(context.Context, models.Event) (int64, error) {
	return 0, errors.New("no change log")
}

func main() {
	nNeeds := flag.Int("needs", 1000, "needs in the world")
	nOffers := flag.Int("offers", 1000, "offers in the world")
	nRequests := flag.Int("distinct", 3000, "distinct ranking requests (need or offer, caller, language)")
	out := flag.String("requests", "", "file to write the requests to (path, token, language; tab-separated)")
	noAnswers := flag.Bool("no-answer-cache", false, "render every ranking answer for its request")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the serving (from ready until SIGTERM or SIGINT) to this file")
	flag.Parse()
	if err := run(*nNeeds, *nOffers, *nRequests, *out, *noAnswers, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "rankworld:", err)
		os.Exit(1)
	}
}

func run(nNeeds, nOffers, nRequests int, out string, noAnswers bool, cpuProfile string) error {
	r, err := embedded.StartRedis()
	if err != nil {
		return err
	}
	cache, err := rediscache.Open(r.URL(), "rankworld:")
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ring, err := jwtauth.NewKeyring([]byte("bench-secret-bench-secret-bench-secret!"))
	if err != nil {
		return err
	}
	today, _ := synth.Today.Time()
	now := func() time.Time { return today.Add(9 * time.Hour) }
	tokens := jwtauth.New(ring, time.Now)
	app := service.New(service.Deps{Store: nopStore{}, Bus: nopBus{}, Access: tokens, Now: now, Log: log,
		CursorKey: []byte("bench"), Rankings: rediscache.NewRankings(cache, time.Hour), Texts: i18n.Default()})
	app.Revocations.SetFresh(true)
	needs, offers, _ := synth.Data(42, nNeeds, nOffers)
	// The world enters as other replicas' announcements do (the event carries the document),
	// as internal/stacktest's Plant does for the benchmarks.
	deliver := func(typ models.EventType, id string, doc any) error {
		raw, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		app.Sync.Deliver(context.Background(), models.Event{Type: typ, ID: id, Data: raw})
		return nil
	}
	var publicNeeds []*models.Need
	countries := map[string]bool{}
	for _, n := range needs {
		n.Version, n.OrganizationID = 1, "gov-"+n.Country
		if err := deliver(models.EventNeed, n.ID, n); err != nil {
			return err
		}
		if n.Visibility == models.VisibilityPublic && n.Status == models.NeedOpen {
			publicNeeds = append(publicNeeds, n)
		}
		countries[n.Country] = true
	}
	var openOffers []string
	for _, o := range offers {
		o.Version, o.OrganizationID = 1, "donor"
		if err := deliver(models.EventOffer, o.ID, o); err != nil {
			return err
		}
		if o.Status == models.OfferOpen {
			openOffers = append(openOffers, o.ID)
		}
	}
	if len(publicNeeds) == 0 || len(openOffers) == 0 {
		return fmt.Errorf("no open public need or no open offer in %d × %d", nNeeds, nOffers)
	}
	// Callers: a ministry of each country with needs (up to 40), three donors, a coordinator.
	var callers []string
	issue := func(a models.Actor) error {
		a.TokenID, a.FamilyID = a.UserID+"-t", a.UserID+"-f"
		tok, _, _, err := tokens.Issue(a, 24*time.Hour)
		callers = append(callers, tok)
		return err
	}
	for c := range countries {
		if len(callers) >= 40 {
			break
		}
		if err := issue(models.Actor{UserID: "min-" + c, Role: models.RoleMinistry, OrgID: "gov-" + c, Country: c}); err != nil {
			return err
		}
	}
	for i := range 3 {
		if err := issue(models.Actor{UserID: fmt.Sprintf("donor-%d", i), Role: models.RoleDonor, OrgID: fmt.Sprintf("donor-org-%d", i)}); err != nil {
			return err
		}
	}
	if err := issue(models.Actor{UserID: "coord", Role: models.RoleCoordinator, OrgID: "desk"}); err != nil {
		return err
	}

	var s api.Deps
	s.Log, s.App = log, app
	if noAnswers {
		s.AnswerCacheBytes = -1
	}
	srv := api.New(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.App().Listener(ln) }()
	base := "http://" + ln.Addr().String()

	// The requests: 80% a need's matches, 20% an offer's; limit 10; caller and language drawn.
	rng := rand.New(rand.NewPCG(7, 7))
	langs := []string{"en", "fr", "es"}
	var b strings.Builder
	client := &http.Client{Timeout: 30 * time.Second}
	for range nRequests {
		path := "/api/v1/needs/" + publicNeeds[rng.IntN(len(publicNeeds))].ID + "/matches?limit=10"
		if rng.IntN(5) == 0 {
			path = "/api/v1/offers/" + openOffers[rng.IntN(len(openOffers))] + "/matches?limit=10"
		}
		tok, lang := callers[rng.IntN(len(callers))], langs[rng.IntN(len(langs))]
		for range 2 { // computes, then kept
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept-Language", lang)
			if enc := os.Getenv("CAPMATCH_ENCODING"); enc != "" {
				// The encoding the load will ask for (bench/rankworld.sh ENCODING), so that the
				// kept compressed forms are made while warming, not during the measurement. The
				// client then leaves the body compressed; it is only discarded.
				req.Header.Set("Accept-Encoding", enc)
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("warming GET %s: %d", path, resp.StatusCode)
			}
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\n", path, tok, lang)
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "ready %s needs=%d offers=%d open_public_needs=%d open_offers=%d callers=%d requests=%d\n",
		ln.Addr(), nNeeds, nOffers, len(publicNeeds), len(openOffers), len(callers), nRequests)
	_ = w.Flush()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		<-stop
		pprof.StopCPUProfile()
		return f.Close()
	}
	<-stop
	return nil
}
