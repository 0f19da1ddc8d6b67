//go:build unix

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// requestTimeout bounds every request the tests send: a request that takes longer is a hang.
const requestTimeout = 15 * time.Second

var transport = &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	MaxIdleConns:        256,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     30 * time.Second,
}

// client talks to one API process.
type client struct {
	name string
	base string
	hc   *http.Client
}

func newClient(a *apiProc) *client {
	return &client{name: a.name, base: a.base, hc: &http.Client{Transport: transport, Timeout: requestTimeout}}
}

// resp is one request's outcome.
type resp struct {
	status int
	header http.Header
	body   []byte
	dur    time.Duration
	err    error
}

func (r resp) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

// do sends one request with an optional bearer token and JSON body.
func (c *client) do(method, path, token string, body any) resp {
	return c.doWith(c.hc, method, path, token, body, nil)
}

func (c *client) doWith(hc *http.Client, method, path, token string, body any, hdr map[string]string) resp {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return resp{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return resp{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return resp{err: err, dur: time.Since(start)}
	}
	b, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	return resp{status: res.StatusCode, header: res.Header, body: b, dur: time.Since(start), err: err}
}

// must sends a request and fails the test unless it answers want.
func (c *client) must(t *testing.T, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	r := c.do(method, path, token, body)
	if r.err != nil || r.status != want {
		t.Fatalf("%s: %s %s: want %d, got %s", c.name, method, path, want, r)
	}
	var m map[string]any
	if len(r.body) > 0 {
		_ = json.Unmarshal(r.body, &m)
	}
	return m
}

func (c *client) login(t *testing.T, email, password string) string {
	t.Helper()
	m := c.must(t, 200, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("%s: login %s: no access_token", c.name, email)
	}
	return tok
}

// Demo data: Senegal's CSIRT-maturity need (visible to its ministry and to donors) ranks the
// EU CyberNet resilience offer first; the EU donor may edit that offer.
const (
	demoNeed  = "need-sn-csirt-maturity"
	demoOffer = "offer-eu-cyber-resilience"
)

// fixture holds the demo sign-ins the scenarios use.
type fixture struct {
	ministry, donor, coord string
}

func demoLogins(t *testing.T, c *client) fixture {
	t.Helper()
	f := fixture{
		ministry: c.login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!"),
		donor:    c.login(t, "donor.eu@capmatch.example", "demo-donor-eu-cybernet!"),
		coord:    c.login(t, "coordinator@capmatch.example", "demo-coordinator-desk!"),
	}
	rk, r := c.ranking(f.ministry, demoNeed)
	if r.err != nil || r.status != 200 || rk.title(demoOffer) == "" {
		t.Fatalf("demo data: %s's ranking must list %s (the scenarios change that offer); got %s", demoNeed, demoOffer, r)
	}
	return f
}

// needBody is a valid need for Senegal's ministry.
func needBody(title string) map[string]any {
	return map[string]any{
		"title": title, "description": "Set up a national CSIRT with incident coordination services.",
		"theme": "incident_management", "capability": "cert_setup",
		"modalities": []string{"expert_deployment", "training"}, "languages": []string{"fr"},
		"budget_usd": 400000, "start_by": "2027-03-01", "duration_months": 18, "priority": "high",
		"maturity": map[string]any{"framework": "sim3", "current": 1, "target": 3}, "visibility": "public",
	}
}

// offerBody is a valid offer open to Africa.
func offerBody(title string) map[string]any {
	return map[string]any{
		"title": title, "description": "Francophone CSIRT establishment programme.",
		"themes": []string{"incident_management"}, "capabilities": []string{"cert_setup", "cert_maturity"},
		"modalities": []string{"expert_deployment", "training", "mentoring"}, "languages": []string{"fr", "en"},
		"eligible_countries": []string{}, "eligible_regions": []string{"002"},
		"budget_usd": 2000000, "max_engagements": 4, "available_from": "2027-01-01", "available_until": "2028-12-31",
	}
}

// ranking is the part of a matches response the tests read.
type ranking struct {
	Cached bool `json:"cached"`
	Items  []struct {
		OfferID string `json:"offer_id"`
		Title   string `json:"title"`
	} `json:"items"`
}

func (rk ranking) title(offerID string) string {
	for _, it := range rk.Items {
		if it.OfferID == offerID {
			return it.Title
		}
	}
	return ""
}

func (c *client) ranking(token, needID string) (ranking, resp) {
	r := c.do("GET", "/api/v1/needs/"+needID+"/matches?limit=10", token, nil)
	var rk ranking
	if r.err == nil && r.status == 200 {
		if err := json.Unmarshal(r.body, &rk); err != nil {
			r.err = err
		}
	}
	return rk, r
}

// listIDs returns the ids of a list response's items.
func (c *client) listIDs(t *testing.T, path, token string) []string {
	t.Helper()
	m := c.must(t, 200, "GET", path, token, nil)
	items, _ := m["items"].([]any)
	ids := make([]string, 0, len(items))
	for _, it := range items {
		if o, ok := it.(map[string]any); ok {
			ids = append(ids, fmt.Sprint(o["id"]))
		}
	}
	return ids
}

// readyz is one readiness probe: its status and the state of each check.
func (c *client) readyz() (int, map[string]string, resp) {
	r := c.do("GET", "/readyz", "", nil)
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	if r.err == nil {
		_ = json.Unmarshal(r.body, &body)
	}
	return r.status, body.Checks, r
}

// waitReady polls /readyz until it answers want (for 503: with the check down named down and a
// Retry-After) and returns the time elapsed since from.
func (c *client) waitReady(t *testing.T, want int, down string, from time.Time, within time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(within)
	var last resp
	for time.Now().Before(deadline) {
		st, checks, r := c.readyz()
		last = r
		if st == want {
			if want != 503 {
				return time.Since(from)
			}
			if checks[down] == "down" && r.header.Get("Retry-After") != "" {
				return time.Since(from)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: /readyz did not answer %d (down: %q) within %v; last: %s", c.name, want, down, within, last)
	return 0
}

// waitCached polls a ranking until it is served from the cache (cached=true: this replica's bus
// is connected again) and returns the time elapsed since from.
func (c *client) waitCached(t *testing.T, token, needID string, from time.Time, within time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(within)
	var last resp
	for time.Now().Before(deadline) {
		rk, r := c.ranking(token, needID)
		last = r
		if r.err == nil && r.status == 200 && rk.Cached {
			return time.Since(from)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: the ranking of %s was not served from the cache within %v; last: %s", c.name, needID, within, last)
	return 0
}

// ---- load ----

// op is one kind of request a load worker sends.
type op struct {
	kind   string
	write  bool
	method string
	path   string
	token  string
	body   func(n int64) any // nil: no body
	want   int               // expected status
}

// result is one request sent under load.
type result struct {
	kind   string
	write  bool
	start  time.Time
	dur    time.Duration
	status int
	err    error
	detail string
}

func (r result) failed(want int) bool { return r.err != nil || r.status != want }

// worker sends its ops in turn, pausing between requests.
type worker struct {
	ops   []op
	pause time.Duration
}

// load runs workers until stopped, or until each has sent max requests, or for at most limit.
type load struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []result
	wants   map[string]int
	seq     atomic.Int64
}

func startLoad(c *client, workers []worker, max int, limit time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	l := &load{cancel: cancel, wants: map[string]int{}}
	for _, w := range workers {
		for _, o := range w.ops {
			l.wants[o.kind] = o.want
		}
	}
	for i, w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; n < max && ctx.Err() == nil; n++ {
				o := w.ops[(i+n)%len(w.ops)]
				var body any
				if o.body != nil {
					body = o.body(l.seq.Add(1))
				}
				start := time.Now()
				r := c.do(o.method, o.path, o.token, body)
				res := result{kind: o.kind, write: o.write, start: start, dur: r.dur, status: r.status, err: r.err}
				if res.failed(o.want) {
					res.detail = o.method + " " + o.path + ": " + truncate(r.String(), 300)
				}
				l.mu.Lock()
				l.results = append(l.results, res)
				l.mu.Unlock()
				if w.pause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(w.pause):
					}
				}
			}
		}()
	}
	return l
}

// stop ends the load and returns every result.
func (l *load) stop() []result {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]result(nil), l.results...)
}

// summary is what the figures report for a set of requests.
type summary struct {
	n, failed int
	worst     time.Duration
	p99       time.Duration
	failures  []string
}

func (s summary) String() string {
	return fmt.Sprintf("%d requests, %d failed, worst %s, p99 %s", s.n, s.failed, ms(s.worst), ms(s.p99))
}

// summarize the results that started in [from, to) and match keep.
func summarize(rs []result, wants map[string]int, from, to time.Time, keep func(result) bool) summary {
	var s summary
	var lat []time.Duration
	for _, r := range rs {
		if r.start.Before(from) || !r.start.Before(to) || (keep != nil && !keep(r)) {
			continue
		}
		s.n++
		lat = append(lat, r.dur)
		if r.dur > s.worst {
			s.worst = r.dur
		}
		if r.failed(wants[r.kind]) {
			s.failed++
			if len(s.failures) < 5 {
				s.failures = append(s.failures, r.kind+": "+r.detail)
			}
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		s.p99 = lat[(len(lat)*99)/100]
	}
	return s
}

func kind(k string) func(result) bool { return func(r result) bool { return r.kind == k } }
func reads(r result) bool             { return !r.write }
func writes(r result) bool            { return r.write }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// readOps are the reads the scenarios keep sending: a ranking, lists, the caller's account.
func readOps(f fixture) []op {
	return []op{
		{kind: "ranking", method: "GET", path: "/api/v1/needs/" + demoNeed + "/matches?limit=10", token: f.ministry, want: 200},
		{kind: "list-needs", method: "GET", path: "/api/v1/needs?country=SN&limit=20", token: f.ministry, want: 200},
		{kind: "me", method: "GET", path: "/api/v1/me", token: f.ministry, want: 200},
		{kind: "list-offers", method: "GET", path: "/api/v1/offers?limit=20", token: f.donor, want: 200},
		{kind: "offer-ranking", method: "GET", path: "/api/v1/offers/" + demoOffer + "/matches?limit=10", token: f.donor, want: 200},
	}
}

// createNeedOp creates a need per request, titled with prefix and a sequence number.
func createNeedOp(f fixture, prefix string) op {
	return op{kind: "create-need", write: true, method: "POST", path: "/api/v1/needs", token: f.ministry, want: 201,
		body: func(n int64) any { return needBody(fmt.Sprintf("%s %d", prefix, n)) }}
}

// logSummaries writes one figure line per kind and for all reads and all writes.
func logSummaries(t *testing.T, label string, rs []result, wants map[string]int, from, to time.Time) {
	t.Helper()
	kinds := map[string]bool{}
	for _, r := range rs {
		kinds[r.kind] = true
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("FIGURE %s %-14s %s", label, k+":", summarize(rs, wants, from, to, kind(k)))
	}
	for _, agg := range []struct {
		name string
		keep func(result) bool
	}{{"all reads:", reads}, {"all writes:", writes}} {
		if s := summarize(rs, wants, from, to, agg.keep); s.n > 0 {
			t.Logf("FIGURE %s %-14s %s", label, agg.name, s)
		}
	}
}

// noFailures fails the test for every failed request of the kinds that match keep.
func noFailures(t *testing.T, what string, s summary) {
	t.Helper()
	if s.failed > 0 {
		t.Errorf("%s: %d of %d requests failed; first: %s", what, s.failed, s.n, strings.Join(s.failures, " | "))
	}
}
