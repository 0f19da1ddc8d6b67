package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	capapi "github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain sets up what the real-server tests share (see inside).
func TestMain(m *testing.M) {
	// Cheap password hashing for the in-process server's demo accounts; one embedded store
	// for the test binary (package stacktest).
	os.Exit(stacktest.Main(m))
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":  "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/": "http://127.0.0.1:8080",
		"http://localhost:9000":  "http://127.0.0.1:9000",
		"http://127.8.9.10":      "http://127.8.9.10",
		"http://[::1]:8080":      "http://[::1]:8080",
		"https://127.0.0.1:8443": "https://127.0.0.1:8443",
	} {
		got, err := loopbackBase(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.2", "http://example.com", "http://0.0.0.0:8080",
		"http://[::]:8080", "ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1.nip.io",
		"http://user:pw@127.0.0.1", "http://127.0.0.1/api", "http://127.0.0.1?x=1",
	} {
		_, err := loopbackBase(in)
		assert.Error(t, err, in)
	}
}

func TestDialerRefusesOtherAddresses(t *testing.T) {
	c := newHTTPClient(time.Second, 4)
	_, err := c.Get("http://192.0.2.1:80/") // TEST-NET-1: never routed
	require.Error(t, err)
	assert.ErrorIs(t, err, errNotLoopback)
}

func TestFlagsAreBounded(t *testing.T) {
	_, err := parseFlags(nil)
	require.NoError(t, err, "the defaults are valid")
	for _, args := range [][]string{
		{"-duration", "11m"}, {"-duration", "0s"}, {"-rate", "-1"}, {"-rate", "1000000"},
		{"-workers", "0"}, {"-max-workers", "100000"}, {"-needs", "0"}, {"-needs", "5000"},
		{"-peak-steps", "31"}, {"-peak-step", "2m"}, {"-peak-factor", "1"}, {"-mode", "soak"},
		{"-target", "http://10.1.2.3:8080"}, {"-user", "nobody"}, {"-donors", "a@b:c,broken"},
		{"-limit", "51"}, {"extra"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
}

func TestParseMix(t *testing.T) {
	built := map[string]int{}
	ops := map[string]func() *op{}
	for _, name := range []string{"a", "b", "c"} {
		ops[name] = func() *op { built[name]++; return &op{name: name} }
	}
	mix, err := parseMix("a=3, b=1,c=0", ops)
	require.NoError(t, err)
	require.Len(t, mix, 2)
	assert.Equal(t, "a", mix[0].op.name)
	assert.Equal(t, 3, mix[0].weight)
	assert.Equal(t, map[string]int{"a": 1, "b": 1}, built, "ops of weight 0 are not built")
	for _, bad := range []string{"", "a=0", "x=1", "a", "a=-1", "a=1,a=2", "a=1001", "a=one"} {
		_, err := parseMix(bad, ops)
		assert.Error(t, err, bad)
	}
}

// fakeServer is enough of capmatch's API for the tool: sign-in, /me, lists, rankings, need
// creation and offer edits. With lose set it acknowledges writes it then forgets.
type fakeServer struct {
	mu     sync.Mutex
	lose   bool
	needs  map[string]item
	offers map[string]item
	calls  map[string]int
}

func newFakeServer(lose bool) *fakeServer {
	return &fakeServer{lose: lose, needs: map[string]item{"n1": {ID: "n1", Title: "Need 1", Status: "open", Version: 1}},
		offers: map[string]item{"o1": {ID: "o1", Status: "open", Version: 1}, "o2": {ID: "o2", Status: "closed", Version: 1}},
		calls:  map[string]int{}}
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.Method+" "+r.URL.Path]++
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case r.Method == "POST" && p == "/api/v1/auth/login":
		var body struct{ Email string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeJSON(200, map[string]string{"access_token": "tok-" + body.Email})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
		writeJSON(401, map[string]string{"title": "Unauthorized"})
		return
	}
	switch {
	case p == "/api/v1/me":
		writeJSON(200, map[string]string{"role": "donor", "organization_id": "org1"})
	case r.Method == "GET" && p == "/api/v1/needs":
		writeJSON(200, map[string]any{"items": []item{f.needs["n1"]}, "next_cursor": nil})
	case r.Method == "GET" && p == "/api/v1/offers":
		writeJSON(200, map[string]any{"items": []item{f.offers["o1"], f.offers["o2"]}, "next_cursor": nil})
	case strings.HasSuffix(p, "/matches"):
		writeJSON(200, map[string]any{"cached": true, "items": []any{}})
	case r.Method == "POST" && p == "/api/v1/needs":
		var in item
		_ = json.NewDecoder(r.Body).Decode(&in)
		n := item{ID: fmt.Sprintf("n%d", len(f.needs)+1), Title: in.Title, Status: "draft", Version: 1}
		if !f.lose {
			f.needs[n.ID] = n
		}
		writeJSON(201, n)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/needs/"):
		n, ok := f.needs[strings.TrimPrefix(p, "/api/v1/needs/")]
		if !ok {
			writeJSON(404, map[string]string{"title": "Not Found"})
			return
		}
		writeJSON(200, n)
	case r.Method == "PATCH" && strings.HasPrefix(p, "/api/v1/offers/"):
		id := strings.TrimPrefix(p, "/api/v1/offers/")
		var in item
		_ = json.NewDecoder(r.Body).Decode(&in)
		o := f.offers[id]
		o.Version++
		o.Description = in.Description
		if !f.lose {
			f.offers[id] = o
		}
		writeJSON(200, o)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/offers/"):
		writeJSON(200, f.offers[strings.TrimPrefix(p, "/api/v1/offers/")])
	default:
		writeJSON(404, map[string]string{"title": "Not Found"})
	}
}

func TestMixedModeChecksEveryAcknowledgedWrite(t *testing.T) {
	for _, lose := range []bool{false, true} {
		t.Run(fmt.Sprintf("lose=%v", lose), func(t *testing.T) {
			f := newFakeServer(lose)
			srv := httptest.NewServer(f)
			defer srv.Close()
			var out bytes.Buffer
			code, err := realMain(context.Background(), []string{"-target", srv.URL, "-mode", "mixed", "-rate", "200",
				"-duration", "1s", "-mix", "need_matches=2,list=1,create_need=1,patch_offer=1"}, &out)
			t.Log(out.String())
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Zero(t, f.calls["PATCH /api/v1/offers/o2"], "closed offers are not edited")
			assert.Greater(t, f.calls["POST /api/v1/needs"], 10)
			if lose {
				assert.Equal(t, 1, code)
				assert.Error(t, err)
				assert.Contains(t, out.String(), "acknowledged but not readable")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 0, code)
			assert.Contains(t, out.String(), "0 lost or unreadable")
			assert.Regexp(t, `create_need: \d+ acknowledged, \d+ read back`, out.String())
		})
	}
}

func TestRankingsAndPeakModes(t *testing.T) {
	f := newFakeServer(false)
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out bytes.Buffer
	code, err := realMain(context.Background(), []string{"-target", srv.URL, "-mode", "rankings", "-rate", "100", "-duration", "1s"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Regexp(t, `need_matches\s+\d+`, out.String())

	out.Reset()
	code, err = realMain(context.Background(), []string{"-target", srv.URL, "-mode", "peak", "-peak-start", "50",
		"-peak-factor", "2", "-peak-steps", "2", "-peak-step", "1s", "-peak-p99", "1s"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Contains(t, out.String(), "step  2:")
	assert.Regexp(t, `peak: \d+ req/s`, out.String())
}

// realServer starts capmatch in process, wired the way cmd/capmatch wires it (package
// stacktest: embedded store, in-process Redis, event bus), with the demo data, on a loopback
// port; it returns the base URL and the stack, so that a test can check the server's own state.
func realServer(t *testing.T) (string, *stacktest.Stack) {
	t.Helper()
	ctx := context.Background()
	log := stacktest.Discard()
	s := stacktest.New(t, stacktest.Options{Secret: []byte(strings.Repeat("k", 40)), Log: log,
		Adjust: func(d *service.Deps) { d.PublicURL = "" }})
	_, _, err := s.App.LoadDemo(ctx, models.DateOf(time.Now()))
	require.NoError(t, err)
	srv := capapi.New(capapi.Deps{Log: log, App: s.App, Checks: []capapi.Check{{Name: "store", Ping: s.Store}, {Name: "cache", Ping: s.Cache}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() { _ = srv.App().Listener(ln); close(served) }()
	t.Cleanup(func() {
		_ = srv.Shutdown(5 * time.Second)
		<-served
		s.Stop()
	})
	return "http://" + ln.Addr().String(), s
}

// opLine finds an op's summary line and returns its requests and success columns.
func opLine(t *testing.T, out, name string) (requests int, success string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + name + `\s+(\d+)\s+\S+\s+\S+\s+(\S+)%`).FindStringSubmatch(out)
	require.NotNil(t, m, "no summary line for %s in:\n%s", name, out)
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

// readBack finds an op's read-back line: acknowledged, read back, lost.
func readBack(t *testing.T, out, name string) (acked, checked, lost int) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `: (\d+) acknowledged, (\d+) read back after the run, (\d+) lost`).FindStringSubmatch(out)
	require.NotNil(t, m, "no read-back line for %s in:\n%s", name, out)
	acked, _ = strconv.Atoi(m[1])
	checked, _ = strconv.Atoi(m[2])
	lost, _ = strconv.Atoi(m[3])
	return acked, checked, lost
}

// TestMixedEngagementStepsOnTheRealServer runs the default mix, engagement steps included,
// against the real server with the demo data: every request succeeds, every engagement op
// sends requests and every acknowledged step reads back; the server's own state agrees with
// what the tool counted; the run's material is taken off the market afterwards.
func TestMixedEngagementStepsOnTheRealServer(t *testing.T) {
	base, srv := realServer(t)
	rate := "150"
	if raceEnabled {
		rate = "40" // the default mix still sends every engagement op at least twice in 4 s
	}
	var out bytes.Buffer
	code, err := realMain(context.Background(), []string{"-target", base, "-mode", "mixed", "-rate", rate, "-duration", "4s"}, &out)
	t.Log(out.String())
	require.NoError(t, err)
	require.Equal(t, 0, code)
	s := out.String()
	assert.NotContains(t, s, "errors (", "no request failed")
	assert.NotContains(t, s, "did not hold")
	assert.Regexp(t, `empty pool waits: open needs 0 \(ran dry 0\), proposals \d+ \(ran dry 0\), answered engagements \d+ \(ran dry 0\)`, s)
	for _, name := range []string{"need_matches", "list", "create_need", "patch_offer", "reads", "writes", "all",
		opPropose, opAccept, opDecline, opWithdraw, opMessage} {
		n, success := opLine(t, s, name)
		assert.Positive(t, n, name)
		assert.Equal(t, "100.00", success, name)
	}
	acked := map[string]int{}
	for _, name := range []string{opPropose, opAccept, opDecline, opWithdraw, opMessage, "create_need"} {
		a, checked, lost := readBack(t, s, name)
		assert.Positive(t, a, name)
		assert.Equal(t, a, checked, "%s: every acknowledged step is read back", name)
		assert.Zero(t, lost, name)
		acked[name] = a
	}

	// The server agrees (its store, which every replica reads): the run's agreed engagements are exactly the acknowledged accepts, each
	// on a matched need; its load offers used one slot per accept and are closed by the cleanup.
	ctx := context.Background()
	engagements, err := srv.Store.ListEngagements(ctx)
	require.NoError(t, err)
	var agreed []*models.Engagement
	proposed := 0
	for _, e := range engagements {
		if e.Status == models.EngagementAgreed && strings.HasPrefix(e.Message, "capmatch-load ") {
			agreed = append(agreed, e)
		}
		if e.Status == models.EngagementProposed {
			proposed++
		}
	}
	assert.Len(t, agreed, acked[opAccept])
	for _, e := range agreed {
		n, err := srv.Store.GetNeed(ctx, e.NeedID)
		require.NoError(t, err)
		assert.Equal(t, models.NeedMatched, n.Status)
		assert.Equal(t, e.ID, n.EngagementID)
	}
	offers, err := srv.Store.ListOffers(ctx)
	require.NoError(t, err)
	used, loadOffers := 0, 0
	for _, o := range offers {
		if strings.Contains(o.Title, "engagement offer") {
			loadOffers++
			used += o.EngagementsUsed
			assert.Equal(t, models.OfferClosed, o.Status, "cleanup closes %s", o.ID)
		}
	}
	assert.Positive(t, loadOffers)
	assert.Equal(t, acked[opAccept], used)
	assert.Zero(t, proposed, "cleanup withdraws the proposals still open")
	assert.Regexp(t, `cleanup: withdrew \d+ open proposals and \d+ needs not agreed, closed \d+ load offers; 0 of these steps failed`, s)
}

// TestEngagementReadBackCatchesAChange shows the read-back can fail: after a short run, a
// proposal the tool saw acknowledged (and has not answered) is withdrawn behind its back, and
// the read-back reports it and fails.
func TestEngagementReadBackCatchesAChange(t *testing.T) {
	base, _ := realServer(t)
	ctx := context.Background()
	rate := "60"
	if raceEnabled {
		rate = "15"
	}
	cfg, err := parseFlags([]string{"-target", base, "-mode", "mixed", "-rate", rate, "-duration", "2s",
		"-mix", "need_matches=4,propose=4,accept=1,decline=1"})
	require.NoError(t, err)
	client := newHTTPClient(cfg.timeout, 64)
	a := &api{base: cfg.target, http: client}
	w, err := setup(ctx, a, cfg, true)
	require.NoError(t, err)
	mix, err := parseMix(cfg.mix, w.builders(cfg.limit))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, w.provision(ctx, &out, a, mix, []load{cfg.load()}))
	r := run(ctx, client, mix, cfg.load())
	r.print(&out)
	t.Log(out.String())

	// propose is twice as fast as the answers, so acknowledged proposals are left unanswered.
	var victim *engagement
	for _, e := range w.eng.ackedList(opPropose) {
		if answer, _, _ := w.eng.snapshot(e); answer == "" {
			victim = e
			break
		}
	}
	require.NotNil(t, victim, "an acknowledged proposal left unanswered")
	require.NoError(t, a.do(ctx, http.MethodPost, "/api/v1/engagements/"+victim.id+"/withdraw", victim.proposer().Token, nil, nil))

	out.Reset()
	assert.False(t, verifyWrites(ctx, &out, a, mix, r))
	t.Log(out.String())
	assert.Contains(t, out.String(), "engagement "+victim.id+" is withdrawn; the tool expected [proposed]")
	assert.Regexp(t, `propose: \d+ acknowledged, \d+ read back after the run, 1 lost or unreadable`, out.String())
	assert.Regexp(t, `accept: \d+ acknowledged, \d+ read back after the run, 0 lost`, out.String())
}

// TestEngagementPlan checks the sizing: the answers never outrun the proposals made before and
// during the run, and no accept can find its offer full.
func TestEngagementPlan(t *testing.T) {
	mix, err := parseMix(defaultMix, map[string]func() *op{
		"need_matches": func() *op { return &op{name: "need_matches"} }, "offer_matches": func() *op { return &op{name: "offer_matches"} },
		"list": func() *op { return &op{name: "list"} }, "search": func() *op { return &op{name: "search"} },
		"create_need": func() *op { return &op{name: "create_need"} }, "patch_offer": func() *op { return &op{name: "patch_offer"} },
		opPropose: func() *op { return &op{name: opPropose} }, opAccept: func() *op { return &op{name: opAccept} },
		opDecline: func() *op { return &op{name: opDecline} }, opWithdraw: func() *op { return &op{name: opWithdraw} },
		opMessage: func() *op { return &op{name: opMessage} },
	})
	require.NoError(t, err)
	l := load{Rate: 1000, Duration: 5 * time.Minute}
	p, err := planEngagements(mix, []load{l}, 3)
	require.NoError(t, err)
	// 1000 req/s × 2/109 for accepts: 18.3/s in tenths, 5,490 in 5 minutes (+1 at t = 0).
	assert.Equal(t, 5491, p.hi[opAccept])
	ans := p.hi[opAccept] + p.hi[opDecline] + p.hi[opWithdraw]
	assert.GreaterOrEqual(t, p.pending+p.hi[opPropose]-1, ans, "proposals before and during the run cover every answer")
	assert.GreaterOrEqual(t, p.needs, p.hi[opAccept]+p.pending, "a need for every accept and every pending proposal")
	assert.GreaterOrEqual(t, p.offersPerDonor*3*offerSlots, p.needs, "a slot for every need that can be held")
	assert.Positive(t, p.seeds)

	peakCfg, err := parseFlags([]string{"-mode", "peak", "-peak-of", "mixed"})
	require.NoError(t, err)
	pp, err := planEngagements(mix, peakLoads(peakCfg), 3)
	require.NoError(t, err)
	assert.Greater(t, pp.hi[opAccept], 1000, "a peak search provisions for all of its steps")

	_, err = planEngagements(mix, []load{{Rate: 0, Duration: time.Second, Workers: 4}}, 3)
	assert.ErrorContains(t, err, "open-loop -rate")
	_, err = planEngagements(mix, []load{{Rate: 100_000, Duration: 10 * time.Minute}}, 3)
	assert.ErrorContains(t, err, "lower -rate")
	none, err := planEngagements(mix[:2], []load{{Rate: 0}}, 0)
	require.NoError(t, err, "a mix without engagement ops needs nothing")
	assert.Zero(t, none.needs)
}

// TestNeedPageAndHealthzOnTheRealServer: the need_page op reads only needs its caller may see
// (every request 200; read as another account, a ministry's own needs answer 404), and the
// healthz op, the generator's ceiling in bench/mixed.sh, answers too.
func TestNeedPageAndHealthzOnTheRealServer(t *testing.T) {
	base, _ := realServer(t)
	var out bytes.Buffer
	code, err := realMain(context.Background(), []string{"-target", base, "-mode", "mixed", "-rate", "60", "-duration", "2s",
		"-mix", "need_page=1,healthz=1"}, &out)
	t.Log(out.String())
	require.NoError(t, err)
	require.Equal(t, 0, code)
	for _, name := range []string{"need_page", "healthz"} {
		n, success := opLine(t, out.String(), name)
		assert.Positive(t, n, name)
		assert.Equal(t, "100.00", success, name)
	}
}
