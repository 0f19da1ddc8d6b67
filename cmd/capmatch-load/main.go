// Command capmatch-load puts a running capmatch server under HTTP load and reports
// requests per second, latency percentiles (p50, p95, p99) and errors (issue 5), for a mix of
// reads, need and offer writes and engagement steps (issue 8). It uses vegeta as a library,
// signs in as demo users (POST /api/v1/auth/login) and targets only loopback addresses: a
// -target that is not 127.0.0.0/8, ::1 or localhost is refused, its dialer refuses any other
// address, and it never follows redirects.
//
// Modes:
//
//	-mode rankings  GET /api/v1/needs/{id}/matches for -needs need ids taken from
//	                GET /api/v1/needs, at -rate requests/s for -duration (each ranking is
//	                read once first, so the run measures the cached path)
//	-mode peak      steps the rate of the rankings workload (or, with -peak-of mixed, the
//	                mix) up from -peak-start by -peak-factor, -peak-step each, and reports
//	                the highest rate served with ≥ 99.9% success, ≥ 95% of the rate and a
//	                p99 within -peak-p99
//	-mode mixed     the -mix of reads (rankings, lists, searches), need and offer writes
//	                (create need, patch offer) and engagement steps (propose, accept,
//	                decline, withdraw, message) at -rate for -duration; afterwards every
//	                acknowledged write is read back, and the exit status is 1 if one was lost
//
// The mix (-mix name=weight,...; default need_matches=50, offer_matches=10, list=15,
// search=15, create_need=5, patch_offer=5, propose=4, accept=2, decline=1, withdraw=1,
// message=1: 90 of 109 are reads):
//
//	need_matches   GET /api/v1/needs/{id}/matches, as the first ministry
//	offer_matches  GET /api/v1/offers/{id}/matches, as the donors
//	list, search   GET /api/v1/needs and /api/v1/offers with filters and q=
//	need_page      GET /api/v1/needs/{id}, as the first ministry (not in the
//	               default mix; bench/mixed.sh adds it)
//	healthz        GET /healthz alone (-mix healthz=1): the generator's own ceiling
//	create_need    POST /api/v1/needs (a draft), as each ministry for its country
//	patch_offer    PATCH /api/v1/offers/{id} (description), as each donor on its own offers
//	propose        POST /api/v1/engagements for a load need and a load offer, as the
//	               ministry or the donor in turn
//	accept         POST /api/v1/engagements/{id}/accept, by the side that did not propose:
//	               the engagement becomes agreed, the need matched, one offer slot used
//	decline        POST /api/v1/engagements/{id}/decline, by the side that did not propose
//	withdraw       POST /api/v1/engagements/{id}/withdraw, by the proposer
//	message        POST /api/v1/engagements/{id}/messages on an answered engagement
//
// propose's weight equals the three answers' together, so that proposals are answered as fast
// as they are made (neither starved nor piling up). An accept uses a need and an offer slot for
// good, so before the timed run the tool provisions what the engagement steps can use at
// -rate for -duration (load offers by the donors, open needs imported by the coordinator,
// pending proposals; engage.go says how and why no step can conflict with another), and
// after the read-back takes what is left off the market (-cleanup). Engagement steps need an
// open-loop -rate. The summary has a line per op, then "reads" and "writes" (the targets
// differ: p99 ≤ 50 ms is asked of reads), then "all".
//
// Each op runs on its own attacker with its weight's share of the rate (open loop: requests
// leave on schedule, so a slow server shows in the latencies); -rate 0 instead keeps -workers
// requests in flight (closed loop, like wrk -c). An open-loop op has at most -max-workers
// requests in flight (default 64): on a 2-core machine that also runs the server, more only
// queue, and with 512 the generator spread over hundreds of connections and collapsed (p99
// of 0.35-0.5 s at 5,000 req/s, where 64 workers sent 10,000 req/s at a p99 of 15 ms). When
// all workers are busy the generator falls behind its schedule; the report then says so.
// Every loop is bounded: -duration at most 10 minutes, at most 30 peak steps of at most 60 s.
//
// Examples, against `go run ./cmd/capmatch` on :8080:
//
//	go run ./cmd/capmatch-load -mode rankings -rate 500 -duration 20s
//	go run ./cmd/capmatch-load -mode peak
//	go run ./cmd/capmatch-load -mode mixed -rate 200 -duration 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Demo accounts (README.md) used unless flags name others.
const (
	defaultUser        = "ministry.sn@capmatch.example:demo-ministry-sn!"
	defaultMinistries  = "ministry.sn@capmatch.example:demo-ministry-sn!,ministry.ke@capmatch.example:demo-ministry-ke!,ministry.do@capmatch.example:demo-ministry-do!"
	defaultDonors      = "donor.eu@capmatch.example:demo-donor-eu-cybernet!,donor.nl@capmatch.example:demo-donor-nl-mfa!,donor.oas@capmatch.example:demo-donor-oas-cicte!"
	defaultCoordinator = "coordinator@capmatch.example:demo-coordinator-desk!"
	defaultMix         = "need_matches=50,offer_matches=10,list=15,search=15,create_need=5,patch_offer=5,propose=4,accept=2,decline=1,withdraw=1,message=1"
)

// Bounds on every loop the tool runs.
const (
	maxDuration  = 10 * time.Minute
	maxPeakSteps = 30
	maxPeakStep  = time.Minute
	maxRate      = 200_000
	maxWorkers   = 4096
	maxNeeds     = 1000
)

// config is the parsed command line.
type config struct {
	target, mode, mix, peakOf                 string
	rate, peakStart, peakFactor               float64
	duration, timeout, peakStep, peakP99      time.Duration
	workers, maxWorkers, needs, limit, steps  int
	warm, gzip, cleanup                       bool
	user, ministries, donors, coordinatorAcct string
}

// main runs realMain until done or interrupted (SIGINT, SIGTERM stop the load early) and
// exits with its status.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := realMain(ctx, os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capmatch-load:", err)
	}
	os.Exit(code)
}

// realMain parses args, runs the chosen mode and returns the exit status: 0 when the run
// completed (and every write held), 1 when a write was lost, 2 on a usage or set-up error.
func realMain(ctx context.Context, args []string, out io.Writer) (int, error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return 2, err
	}
	client := newHTTPClient(cfg.timeout, cfg.maxWorkers+cfg.workers+16)
	a := &api{base: cfg.target, http: client}
	switch cfg.mode {
	case "rankings":
		w, err := setup(ctx, a, cfg, false)
		if err != nil {
			return 2, err
		}
		fmt.Fprintf(out, "rankings: %d needs as %s, %s at %s for %s\n", len(w.needIDs), w.ministries[0].Email, cfg.target, rateLabel(cfg.rate, cfg.workers), cfg.duration)
		r := run(ctx, client, []weighted{{w.needMatchesOp(cfg.limit), 1}}, cfg.load())
		r.print(out)
		return 0, nil
	case "mixed":
		w, err := setup(ctx, a, cfg, true)
		if err != nil {
			return 2, err
		}
		mix, err := parseMix(cfg.mix, w.builders(cfg.limit))
		if err != nil {
			return 2, err
		}
		if err := w.provision(ctx, out, a, mix, []load{cfg.load()}); err != nil {
			w.eng.cleanup(context.WithoutCancel(ctx), out, a)
			return 2, fmt.Errorf("engagement set-up: %w", err)
		}
		fmt.Fprintf(out, "mixed: %s at %s for %s (%d ministries, %d donors, %d needs, %d editable offers)\n",
			cfg.mix, rateLabel(cfg.rate, cfg.workers), cfg.duration, len(w.ministries), len(w.donors), len(w.needIDs), len(w.ownOffers))
		r := run(ctx, client, mix, cfg.load())
		r.print(out)
		w.eng.report(out)
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		ok := verifyWrites(vctx, out, a, mix, r)
		if cfg.cleanup {
			w.eng.cleanup(vctx, out, a)
		}
		if !ok {
			return 1, errors.New("an acknowledged write was lost or unreadable")
		}
		return 0, nil
	case "peak":
		w, err := setup(ctx, a, cfg, cfg.peakOf == "mixed")
		if err != nil {
			return 2, err
		}
		mix := []weighted{{w.needMatchesOp(cfg.limit), 1}}
		if cfg.peakOf == "mixed" {
			if mix, err = parseMix(cfg.mix, w.builders(cfg.limit)); err != nil {
				return 2, err
			}
			if err := w.provision(ctx, out, a, mix, peakLoads(cfg)); err != nil {
				w.eng.cleanup(context.WithoutCancel(ctx), out, a)
				return 2, fmt.Errorf("engagement set-up: %w", err)
			}
		}
		peak(ctx, out, client, mix, cfg)
		w.eng.report(out)
		if cfg.cleanup {
			w.eng.cleanup(context.WithoutCancel(ctx), out, a)
		}
		return 0, nil
	}
	return 2, fmt.Errorf("-mode %q: use rankings, peak or mixed", cfg.mode)
}

// load is the run -rate, -duration and the worker flags ask for.
func (c config) load() load {
	return load{Rate: c.rate, Duration: c.duration, Workers: c.workers, MaxWorkers: c.maxWorkers}
}

// peakLoads are the steps a peak search may run, all of them (it stops at the first that
// fails, but the engagement material must last to the last).
func peakLoads(c config) []load {
	var out []load
	rate := c.peakStart
	for range c.steps {
		out = append(out, load{Rate: rate, Duration: c.peakStep, Workers: c.workers, MaxWorkers: c.maxWorkers})
		rate *= c.peakFactor
	}
	return out
}

// rateLabel names the load for the header line: a rate, or the requests kept in flight.
func rateLabel(rate float64, workers int) string {
	if rate == 0 {
		return fmt.Sprintf("closed loop with %d requests in flight", workers)
	}
	return strconv.FormatFloat(rate, 'f', -1, 64) + " req/s"
}

// parseFlags reads and bounds the command line: every loop the tool runs has a limit.
func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("capmatch-load", flag.ContinueOnError)
	fs.StringVar(&c.target, "target", "http://127.0.0.1:8080", "server base URL; loopback addresses only")
	fs.StringVar(&c.mode, "mode", "rankings", "rankings, peak or mixed")
	fs.Float64Var(&c.rate, "rate", 200, "requests per second in total (0: closed loop with -workers in flight)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long to load (at most 10m)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.IntVar(&c.workers, "workers", 16, "initial workers per op; in closed loop, requests in flight")
	fs.IntVar(&c.maxWorkers, "max-workers", 64, "most workers (and connections) per op in open loop")
	fs.IntVar(&c.needs, "needs", 20, "how many need ids to read rankings of")
	fs.IntVar(&c.limit, "limit", 10, "the limit query parameter of ranking reads")
	fs.BoolVar(&c.warm, "warm", true, "read each ranking once before the load, so that the load reads cached rankings")
	fs.BoolVar(&c.gzip, "gzip", false, "send Accept-Encoding: gzip on reads (default: no compression, like wrk)")
	fs.StringVar(&c.mix, "mix", defaultMix, "mixed mode ops and weights: name=weight,...")
	fs.BoolVar(&c.cleanup, "cleanup", true, "after the read-back, withdraw the engagement steps' open proposals and unmatched needs and close their offers")
	fs.StringVar(&c.peakOf, "peak-of", "rankings", "workload peak mode searches: rankings or mixed")
	fs.Float64Var(&c.peakStart, "peak-start", 200, "first rate of the peak search, req/s")
	fs.Float64Var(&c.peakFactor, "peak-factor", 1.25, "rate multiplier between peak steps (1.05..4)")
	fs.IntVar(&c.steps, "peak-steps", 15, "most peak steps (at most 30)")
	fs.DurationVar(&c.peakStep, "peak-step", 5*time.Second, "duration of one peak step (at most 60s)")
	fs.DurationVar(&c.peakP99, "peak-p99", 50*time.Millisecond, "a peak step fails when its p99 exceeds this")
	fs.StringVar(&c.user, "user", defaultUser, "email:password of the account that reads rankings")
	fs.StringVar(&c.ministries, "ministries", defaultMinistries, "mixed mode: ministry accounts, email:password,...")
	fs.StringVar(&c.donors, "donors", defaultDonors, "mixed mode: donor accounts, email:password,...")
	fs.StringVar(&c.coordinatorAcct, "coordinator", defaultCoordinator, "account that reads writes back (sees every need)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.target, err = loopbackBase(c.target); err != nil {
		return c, err
	}
	var problems []string
	check := func(ok bool, msg string) {
		if !ok {
			problems = append(problems, msg)
		}
	}
	check(c.mode == "rankings" || c.mode == "peak" || c.mode == "mixed", "-mode must be rankings, peak or mixed")
	check(c.rate >= 0 && c.rate <= maxRate, fmt.Sprintf("-rate must be in 0..%d", maxRate))
	check(c.duration > 0 && c.duration <= maxDuration, "-duration must be in (0, 10m]")
	check(c.timeout > 0 && c.timeout <= time.Minute, "-timeout must be in (0, 1m]")
	check(c.workers >= 1 && c.workers <= maxWorkers, fmt.Sprintf("-workers must be in 1..%d", maxWorkers))
	check(c.maxWorkers >= 1 && c.maxWorkers <= maxWorkers, fmt.Sprintf("-max-workers must be in 1..%d", maxWorkers))
	check(c.needs >= 1 && c.needs <= maxNeeds, fmt.Sprintf("-needs must be in 1..%d", maxNeeds))
	check(c.limit >= 1 && c.limit <= 50, "-limit must be in 1..50")
	check(c.peakOf == "rankings" || c.peakOf == "mixed", "-peak-of must be rankings or mixed")
	check(c.peakStart >= 1 && c.peakStart <= maxRate, fmt.Sprintf("-peak-start must be in 1..%d", maxRate))
	check(c.peakFactor >= 1.05 && c.peakFactor <= 4, "-peak-factor must be in 1.05..4")
	check(c.steps >= 1 && c.steps <= maxPeakSteps, fmt.Sprintf("-peak-steps must be in 1..%d", maxPeakSteps))
	check(c.peakStep >= time.Second && c.peakStep <= maxPeakStep, "-peak-step must be in 1s..60s")
	check(c.peakP99 > 0, "-peak-p99 must be positive")
	for name, v := range map[string]string{"-user": c.user, "-coordinator": c.coordinatorAcct} {
		_, err := parseAccounts(v)
		check(err == nil && !strings.Contains(v, ","), name+" must be one email:password")
	}
	for name, v := range map[string]string{"-ministries": c.ministries, "-donors": c.donors} {
		_, err := parseAccounts(v)
		check(err == nil, name+" must be email:password,...")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// parseAccounts reads "email:password,..." (a password may hold ':' but not ',').
func parseAccounts(s string) ([]account, error) {
	var out []account
	for _, part := range strings.Split(s, ",") {
		email, pw, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !strings.Contains(email, "@") || pw == "" {
			return nil, fmt.Errorf("%q is not email:password", part)
		}
		out = append(out, account{Email: email, Password: pw})
		if len(out) > 50 {
			return nil, errors.New("at most 50 accounts")
		}
	}
	return out, nil
}

// setup signs in and finds what the load aims at. For the rankings workload it signs in
// -user and takes -needs needs it may see; for the mix it also signs in the ministries, the
// donors and the coordinator, lists open offers and the donors' own editable offers.
func setup(ctx context.Context, a *api, cfg config, mixed bool) (*world, error) {
	w := &world{base: cfg.target, gzip: cfg.gzip, runID: strconv.FormatInt(time.Now().Unix()%1_000_000, 36)}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	user, _ := parseAccounts(cfg.user)
	if mixed {
		user, _ = parseAccounts(cfg.ministries)
	}
	for _, acc := range user {
		s, err := a.login(ctx, acc)
		if err != nil {
			return nil, err
		}
		w.ministries = append(w.ministries, s)
	}
	needs, err := a.list(ctx, "/api/v1/needs", w.ministries[0].Token, cfg.needs)
	if err != nil {
		return nil, err
	}
	for _, n := range needs {
		w.needIDs = append(w.needIDs, n.ID)
	}
	if len(w.needIDs) == 0 {
		return nil, fmt.Errorf("%s sees no needs: load demo data (CAPMATCH_DEMO=true)", w.ministries[0].Email)
	}
	if cfg.warm {
		for _, id := range w.needIDs {
			var body struct {
				Items []struct{} `json:"items"`
			}
			if err := a.do(ctx, http.MethodGet, "/api/v1/needs/"+id+"/matches?limit="+strconv.Itoa(cfg.limit), w.ministries[0].Token, nil, &body); err != nil {
				return nil, fmt.Errorf("warm rankings: %w", err)
			}
		}
	}
	if !mixed {
		return w, nil
	}
	donors, _ := parseAccounts(cfg.donors)
	for _, acc := range donors {
		s, err := a.login(ctx, acc)
		if err != nil {
			return nil, err
		}
		w.donors = append(w.donors, s)
		own, err := a.list(ctx, "/api/v1/offers?organization_id="+s.OrgID, s.Token, 100)
		if err != nil {
			return nil, err
		}
		for _, o := range own {
			if o.Status != "closed" {
				w.ownOffers = append(w.ownOffers, ownOffer{id: o.ID, donor: s})
			}
		}
	}
	coord, _ := parseAccounts(cfg.coordinatorAcct)
	if w.coordinator, err = a.login(ctx, coord[0]); err != nil {
		return nil, err
	}
	offers, err := a.list(ctx, "/api/v1/offers?status=open", w.donors[0].Token, cfg.needs)
	if err != nil {
		return nil, err
	}
	for _, o := range offers {
		w.offerIDs = append(w.offerIDs, o.ID)
	}
	return w, nil
}

// builders names the ops of the mixed workload: reads, need and offer writes, and the
// engagement steps (engage.go).
func (w *world) builders(limit int) map[string]func() *op {
	return map[string]func() *op{
		"need_matches":  func() *op { return w.needMatchesOp(limit) },
		"offer_matches": w.offerMatchesOp,
		"list":          w.listOp,
		"need_page":     w.needPageOp,
		"healthz":       w.healthzOp,
		"search":        w.searchOp,
		"create_need":   w.createNeedOp,
		"patch_offer":   w.patchOfferOp,
		opPropose:       w.proposeOp,
		opAccept:        func() *op { return w.answerOp(opAccept) },
		opDecline:       func() *op { return w.answerOp(opDecline) },
		opWithdraw:      func() *op { return w.answerOp(opWithdraw) },
		opMessage:       w.messageOp,
	}
}

// peak raises the rate step by step until a step fails, and reports the last that passed.
func peak(ctx context.Context, out io.Writer, client *http.Client, mix []weighted, cfg config) {
	fmt.Fprintf(out, "peak of %s: from %.0f req/s ×%.2f per %s step, at most %d steps; a step passes with ≥ 99.9%% success, ≥ 95%% of its rate served and p99 ≤ %s\n",
		cfg.peakOf, cfg.peakStart, cfg.peakFactor, cfg.peakStep, cfg.steps, cfg.peakP99)
	best := 0.0
	var bestP99 time.Duration
	rate := cfg.peakStart
	for step := 1; step <= cfg.steps && ctx.Err() == nil; step++ {
		l := load{Rate: rate, Duration: cfg.peakStep, Workers: cfg.workers, MaxWorkers: cfg.maxWorkers}
		r := run(ctx, client, mix, l)
		m := &r.total
		served := float64(m.Requests) * m.Success / cfg.peakStep.Seconds()
		pass := m.Success >= 0.999 && served >= 0.95*rate && m.Latencies.P99 <= cfg.peakP99
		verdict := "pass"
		if !pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(out, "step %2d: %8.0f req/s asked, %8.1f ok/s, success %6.2f%%, p50 %s p95 %s p99 %s  %s\n",
			step, rate, served, m.Success*100, ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99), verdict)
		if !pass {
			break
		}
		best, bestP99 = served, m.Latencies.P99
		rate *= cfg.peakFactor
		select { // let queues drain between steps
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if best == 0 {
		fmt.Fprintln(out, "peak: the first step already failed; lower -peak-start")
		return
	}
	fmt.Fprintf(out, "peak: %.0f req/s (p99 %s at that step)\n", best, ms(bestP99))
}
