//go:build unix

package reliability

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
)

// written is a need the API acknowledged (201) under load: its id and title, and when.
type written struct {
	id, title string
	at        time.Time
}

// writer creates needs through one replica, one every pause, until stopped, and keeps what
// was acknowledged so that the test can read every one of them back.
type writer struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	ok    []written
	bad   []string
	sent  int
}

func startWriter(c *client, token, prefix string, pause time.Duration) *writer {
	w := &writer{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for n := 1; ; n++ {
			select {
			case <-w.stopc:
				return
			case <-time.After(pause):
			}
			title := fmt.Sprintf("%s %d", prefix, n)
			r := c.do("POST", "/api/v1/needs", token, needBody(title))
			var body struct {
				ID string `json:"id"`
			}
			w.mu.Lock()
			w.sent++
			if r.err == nil && r.status == 201 && json.Unmarshal(r.body, &body) == nil && body.ID != "" {
				w.ok = append(w.ok, written{id: body.ID, title: title, at: time.Now()})
			} else {
				w.bad = append(w.bad, truncate(r.String(), 200))
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// acked returns the writes acknowledged so far.
func (w *writer) acked() []written {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]written(nil), w.ok...)
}

// stop ends the writer and returns what it sent, what was acknowledged and what failed.
func (w *writer) stop() (sent int, ok []written, bad []string) {
	close(w.stopc)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent, w.ok, w.bad
}

// readBack fails the test for every acknowledged need that a replica does not return as it
// was written.
func readBack(t *testing.T, c *client, token string, ws []written) {
	t.Helper()
	lost := 0
	for _, w := range ws {
		r := c.do("GET", "/api/v1/needs/"+w.id, token, nil)
		var body struct {
			Title string `json:"title"`
		}
		if r.err != nil || r.status != 200 || json.Unmarshal(r.body, &body) != nil || body.Title != w.title {
			lost++
			if lost <= 5 {
				t.Errorf("%s: acknowledged need %s (%q) not read back: %s", c.name, w.id, w.title, truncate(r.String(), 200))
			}
		}
	}
	if lost > 0 {
		t.Errorf("%s: %d of %d acknowledged writes not read back", c.name, lost, len(ws))
	}
}

// noRedisProtocolErrors fails the test when the API logged a Redis error that only a
// single-slot client would meet on a Cluster (a script across slots, a redirection not
// followed) or that says the client wrote to a replica.
func noRedisProtocolErrors(t *testing.T, a *apiProc) {
	t.Helper()
	for _, l := range a.out.snapshot() {
		for _, bad := range []string{"CROSSSLOT", "MOVED", "ASK ", "READONLY"} {
			if strings.Contains(l, bad) {
				t.Errorf("%s logged %s: %s", a.name, bad, truncate(l, 300))
				break
			}
		}
	}
}

// loginLimitHolds sends failed sign-ins for one account: past the free failures
// (service.LoginAccountBackoff.Free, 5) the account waits, so the 7th and 8th are 429. The
// limiter's scripts run in Redis: on a Cluster each script's keys must share a slot.
func loginLimitHolds(t *testing.T, cs []*client, email string) {
	t.Helper()
	for i := 1; i <= 8; i++ {
		c := cs[i%len(cs)]
		res := c.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "not the password"})
		want := 401
		if i > 6 {
			want = 429
		}
		if res.err != nil || res.status != want {
			t.Errorf("%s: failed sign-in %d for %s: want %d, got %s", c.name, i, email, want, truncate(res.String(), 200))
		}
	}
}

// watchRecovery polls every replica's readiness and ranking in turn, every 25 ms, until each
// has answered /readyz 200 and served the ranking from the cache, and returns the times since
// from (all replicas are watched at once, so one slow replica does not delay another's figure).
func watchRecovery(t *testing.T, reps []*client, token string, from time.Time, within time.Duration) (ready, cached []time.Duration) {
	t.Helper()
	ready, cached = make([]time.Duration, len(reps)), make([]time.Duration, len(reps))
	deadline := time.Now().Add(within)
	for {
		pending := 0
		for i, c := range reps {
			if ready[i] == 0 {
				if st, _, _ := c.readyz(); st == 200 {
					ready[i] = time.Since(from)
				}
			}
			if cached[i] == 0 {
				if rk, r := c.ranking(token, demoNeed); r.err == nil && r.status == 200 && rk.Cached {
					cached[i] = time.Since(from)
				}
			}
			if ready[i] == 0 || cached[i] == 0 {
				pending++
			}
		}
		if pending == 0 {
			return ready, cached
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered within %v: ready %v, cached %v (0: not yet)", within, ready, cached)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestRedisClusterUnderLoad runs two API replicas on one store process and a real 3-master
// Redis Cluster (REDIS_URL redis+cluster://...) under reads of rankings and lists on both and a
// stream of writes through A, and checks that readiness says ready, rankings are served from
// the shared cache (their keys spread over the three nodes), the sign-in limit holds across the
// replicas (its scripts' keys share one hash slot), no request fails, no Redis redirection or
// cross-slot error is logged, every acknowledged write reads back on both replicas, and changes
// and a sign-out through one replica reach the other at its next read (the event channel on a
// Cluster).
func TestRedisClusterUnderLoad(t *testing.T) {
	slow(t)
	cl := redistest.StartCluster(t, 3)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", cl.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", cl.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	ca, cb := newClient(a), newClient(b)
	reps := []*client{ca, cb}
	f := demoLogins(t, ca)
	for _, c := range reps {
		c.waitReady(t, 200, "", time.Now(), 5*time.Second)
		c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)
	}

	begin := time.Now()
	la := startLoad(ca, readWorkers(f, 2), 100000, loadLimit)
	lb := startLoad(cb, readWorkers(f, 2), 100000, loadLimit)
	w := startWriter(ca, f.ministry, "Written on a Redis Cluster", 15*time.Millisecond)
	time.Sleep(phase(3 * time.Second))
	loginLimitHolds(t, reps, "ministry.gm@capmatch.example")
	sent, ok, bad := w.stop()
	end := time.Now()
	rsa, rsb := la.stop(), lb.stop()

	logSummaries(t, "redis-cluster A", rsa, la.wants, begin, end)
	logSummaries(t, "redis-cluster B", rsb, lb.wants, begin, end)
	t.Logf("FIGURE redis-cluster writes through A: %d sent, %d acknowledged, %d failed", sent, len(ok), len(bad))
	noFailures(t, "reads on A on a Redis Cluster", summarize(rsa, la.wants, begin, end, reads))
	noFailures(t, "reads on B on a Redis Cluster", summarize(rsb, lb.wants, begin, end, reads))
	if len(bad) > 0 {
		t.Errorf("%d of %d writes failed on a Redis Cluster; first: %s", len(bad), sent, bad[0])
	}
	if len(ok) == 0 {
		t.Fatalf("no write was acknowledged")
	}
	for _, c := range reps {
		if st, checks, r := c.readyz(); st != 200 {
			t.Errorf("%s: /readyz on a Redis Cluster: %d %v (%s)", c.name, st, checks, r)
		}
		readBack(t, c, f.ministry, ok)
	}
	// Changes through one replica are in the other's ranking at its next read; a sign-out
	// through one is refused by the other.
	for i, pair := range [][2]*client{{ca, cb}, {cb, ca}, {ca, cb}} {
		title := fmt.Sprintf("EU resilience programme, cluster revision %d via %s", i, pair[0].name)
		pair[0].must(t, 200, "PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": title})
		rk, r := pair[1].ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 {
			t.Fatalf("%s: ranking: %s", pair[1].name, r)
		}
		if got := rk.title(demoOffer); got != title {
			t.Errorf("%s: STALE ranking at the next read after a change through %s: %q, want %q (cached=%v)", pair[1].name, pair[0].name, got, title, rk.Cached)
		}
	}
	tok := cb.login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!")
	ca.must(t, 200, "GET", "/api/v1/me", tok, nil)
	cb.must(t, 204, "POST", "/api/v1/auth/logout", tok, nil)
	if r := ca.do("GET", "/api/v1/me", tok, nil); r.status != 401 {
		t.Errorf("A: a token signed out through B must be refused at the next request: %s", truncate(r.String(), 200))
	}
	// The cached rankings are spread over the nodes (keys without a hash tag).
	nodes := 0
	for _, n := range cl.Nodes {
		keys, err := n.Client().Keys(t.Context(), "capmatch:rank:*").Result()
		if err != nil {
			t.Fatalf("KEYS on %s: %v", n.Addr, err)
		}
		if len(keys) > 0 {
			nodes++
		}
	}
	if nodes < 2 {
		t.Errorf("cached rankings are on %d of 3 nodes; the test should cross slots", nodes)
	}
	for _, p := range []*apiProc{a, b} {
		noRedisProtocolErrors(t, p)
		for _, l := range p.out.snapshot() {
			if strings.Contains(l, "did not acknowledge an event in time") {
				t.Errorf("%s: %s", p.name, truncate(l, 300))
				break
			}
		}
	}
}

// TestRedisClusterFailoverUnderLoad runs the API on a Redis Cluster of three primaries with a
// replica each, under reads and writes, and kills (SIGKILL) the primary that serves the event
// channel's slot. The cluster promotes its replica (cluster-node-timeout 2 s). Asserted: no
// request failed, the API is ready and serves rankings from the cache again within a bound,
// every acknowledged write reads back, a session signed out before the kill is still refused,
// the sign-in limit holds, and no script met CROSSSLOT.
func TestRedisClusterFailoverUnderLoad(t *testing.T) {
	slow(t)
	const bound = 20 * time.Second
	cl := redistest.StartClusterWithReplicas(t, 3, 1)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", cl.URL(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)
	revoked := c.login(t, "donor.eu@capmatch.example", "demo-donor-eu-cybernet!")
	c.must(t, 204, "POST", "/api/v1/auth/logout", revoked, nil)

	begin := time.Now()
	l := startLoad(c, readWorkers(f, 4), 100000, loadLimit)
	w := startWriter(c, f.ministry, "Written through a Redis Cluster failover", 15*time.Millisecond)
	time.Sleep(phase(1500 * time.Millisecond))
	victim := cl.PrimaryOf(t, "capmatch:events")
	killAt := time.Now()
	victim.Kill()
	cl.WaitPromoted(t, victim, bound)
	promoted := time.Since(killAt)
	cl.WaitHealthy(t, bound)
	healthy := time.Since(killAt)
	toReady, toCached := watchRecovery(t, []*client{c}, f.ministry, killAt, bound)
	time.Sleep(phase(time.Second))
	loginLimitHolds(t, []*client{c}, "ministry.gm@capmatch.example")
	sent, ok, bad := w.stop()
	end := time.Now()
	rs := l.stop()

	logSummaries(t, "redis-cluster-failover", rs, l.wants, begin, end)
	t.Logf("FIGURE redis-cluster-failover kill the events slot's primary → its replica promoted: %s; → cluster_state ok on every node: %s; → /readyz 200: %s; → rankings served from the cache: %s",
		ms(promoted), ms(healthy), ms(toReady[0]), ms(toCached[0]))
	t.Logf("FIGURE redis-cluster-failover writes: %d sent, %d acknowledged, %d failed", sent, len(ok), len(bad))
	noFailures(t, "reads through a Redis Cluster failover", summarize(rs, l.wants, begin, end, reads))
	if len(bad) > 0 {
		t.Errorf("%d of %d writes failed through a Redis Cluster failover; first: %s", len(bad), sent, bad[0])
	}
	readBack(t, c, f.ministry, ok)
	if r := c.do("GET", "/api/v1/me", revoked, nil); r.status != 401 {
		t.Errorf("the token signed out before the failover is accepted after it: %s", truncate(r.String(), 200))
	}
	for _, line := range api.out.snapshot() {
		if strings.Contains(line, "CROSSSLOT") {
			t.Errorf("api logged CROSSSLOT: %s", truncate(line, 300))
			break
		}
	}
}

// TestRedisSentinelFailoverUnderLoad runs two API replicas on one store process and a Redis
// primary with one replica and three sentinels (REDIS_URL redis+sentinel://...). A token is
// signed out before the failover. Under load (reads on both replicas, writes through A), the
// primary is killed (SIGKILL); the sentinels promote the replica. It checks that the API kept
// serving (no read or write failed), that both replicas are ready again and serve rankings
// from the cache within a bound, that every acknowledged write reads back on both, and that
// the signed-out token is still refused on both after the failover.
func TestRedisSentinelFailoverUnderLoad(t *testing.T) {
	slow(t)
	t.Run("kill", func(t *testing.T) { sentinelFailover(t, "kill") })
	t.Run("sentinel-failover", func(t *testing.T) { sentinelFailover(t, "sentinel-failover") })
}

// sentinelFailover is one failover: how is "kill" (SIGKILL to the primary: the sentinels see
// it silent for a second, agree, promote) or "sentinel-failover" (SENTINEL FAILOVER, a planned
// switch: the old primary lives on and becomes a replica of the new one).
func sentinelFailover(t *testing.T, how string) {
	// bound is how long any one recovery step may take; hearAgain how long after the promotion
	// B may take to serve a change made through A from the cache.
	const bound, hearAgain = 15 * time.Second, 4 * time.Second
	g := redistest.StartSentinel(t, 1, 3)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", g.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", g.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	ca, cb := newClient(a), newClient(b)
	reps := []*client{ca, cb}
	f := demoLogins(t, ca)
	for _, c := range reps {
		c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)
	}

	// A session signed out through A before the failover: refused on both replicas.
	revoked := ca.login(t, "donor.eu@capmatch.example", "demo-donor-eu-cybernet!")
	cb.must(t, 200, "GET", "/api/v1/me", revoked, nil)
	ca.must(t, 204, "POST", "/api/v1/auth/logout", revoked, nil)
	for _, c := range reps {
		if r := c.do("GET", "/api/v1/me", revoked, nil); r.status != 401 {
			t.Fatalf("%s: a token signed out through A must be refused before the failover: %s", c.name, truncate(r.String(), 200))
		}
	}

	begin := time.Now()
	la := startLoad(ca, readWorkers(f, 3), 100000, loadLimit)
	lb := startLoad(cb, readWorkers(f, 3), 100000, loadLimit)
	w := startWriter(ca, f.ministry, "Written through a Redis failover", 15*time.Millisecond)
	time.Sleep(phase(1500 * time.Millisecond))

	old, err := g.PrimaryAddr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	killAt := time.Now()
	if how == "kill" {
		g.Server(old).Kill()
	} else if err := g.Sentinels[0].Client().Do(t.Context(), "SENTINEL", "FAILOVER", g.Master).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	g.WaitNewPrimary(t, old, bound)
	promoted := time.Since(killAt)
	toReady, toCached := watchRecovery(t, reps, f.ministry, killAt, bound)
	// Then the probe (not at the same time: its changes make B compute the ranking anew, so
	// that watchRecovery would rarely see it cached): an offer change through A, then B's ranking of the need, until B serves the
	// change from the shared cache: Redis takes writes again (A's publish, the rankings' SET) and
	// B's subscription is back.
	type probeResult struct {
		at    time.Duration
		title string // the last change A acknowledged
		n     int
		last  string // the last answer that did not end the probe
		// staleCached counts B's reads, 100 ms or more after A acknowledged a change, that
		// were served from the cache without it.
		staleCached, reads int
	}
	probed := make(chan probeResult, 1)
	go func() {
		var res probeResult
		defer func() { probed <- res }()
		deadline := time.Now().Add(bound)
		for time.Now().Before(deadline) {
			res.n++
			title := fmt.Sprintf("EU resilience programme (failover probe %d)", res.n)
			if r := ca.do("PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": title}); r.err != nil || r.status != 200 {
				res.last = "PATCH through A: " + truncate(r.String(), 200)
				time.Sleep(20 * time.Millisecond)
				continue
			}
			res.title = title
			acked := time.Now()
			for range 10 {
				rk, r := cb.ranking(f.ministry, demoNeed)
				if r.err == nil && r.status == 200 && time.Since(acked) >= 100*time.Millisecond {
					res.reads++
					if rk.Cached && rk.title(demoOffer) != title {
						res.staleCached++
					}
				}
				if r.err == nil && r.status == 200 && rk.Cached && rk.title(demoOffer) == title {
					res.at = time.Since(killAt)
					return
				}
				res.last = fmt.Sprintf("B's ranking: %s, cached=%v, title %q, want %q", truncate(r.String(), 80), rk.Cached, rk.title(demoOffer), title)
				time.Sleep(25 * time.Millisecond)
			}
		}
	}()
	probe := <-probed
	recovered := killAt.Add(max(toCached[0], toCached[1], probe.at))
	time.Sleep(phase(time.Second)) // load after the failover
	sent, ok, bad := w.stop()
	end := time.Now()
	rsa, rsb := la.stop(), lb.stop()

	logSummaries(t, "redis-sentinel-"+how+" A", rsa, la.wants, begin, end)
	logSummaries(t, "redis-sentinel-"+how+" B", rsb, lb.wants, begin, end)
	t.Logf("FIGURE redis-sentinel-%s → sentinels name the promoted replica: %s", how, ms(promoted))
	t.Logf("FIGURE redis-sentinel-%s → /readyz 200: A %s, B %s; → rankings served from the cache: A %s, B %s", how,
		ms(toReady[0]), ms(toReady[1]), ms(toCached[0]), ms(toCached[1]))
	t.Logf("FIGURE redis-sentinel-%s → first change through A served from the shared cache by B: %s (probe %d); B's reads 100 ms or more after a change, served from the cache without it: %d of %d", how, ms(probe.at), probe.n, probe.staleCached, probe.reads)
	during := 0
	for _, x := range ok {
		if x.at.After(killAt) && x.at.Before(recovered) {
			during++
		}
	}
	t.Logf("FIGURE redis-sentinel-%s writes: %d sent, %d acknowledged (%d between the failover and recovery), %d failed", how, sent, len(ok), during, len(bad))
	if probe.at == 0 {
		t.Errorf("B did not serve a change made through A from the cache within %v of the failover; %d probes, last: %s", bound, probe.n, probe.last)
	} else if late := probe.at - promoted; late > hearAgain {
		// A reader left on a demoted primary that still runs (SENTINEL FAILOVER) hears nothing
		// until Sentinel reconfigures it, up to 10 s later (as the pub/sub bus's subscriptions did).
		t.Errorf("B served A's change from the cache %s after the promotion; want within %v (B's change log stayed on the old primary?)", ms(late), hearAgain)
	}
	noFailures(t, "reads on A through the failover", summarize(rsa, la.wants, begin, end, reads))
	noFailures(t, "reads on B through the failover", summarize(rsb, lb.wants, begin, end, reads))
	if len(bad) > 0 {
		t.Errorf("%d of %d writes failed through the failover; first: %s", len(bad), sent, bad[0])
	}
	for _, c := range reps {
		readBack(t, c, f.ministry, ok)
		if got := c.must(t, 200, "GET", "/api/v1/offers/"+demoOffer, f.donor, nil)["title"]; got != probe.title {
			t.Errorf("%s: the offer's title is %q, want the last acknowledged change %q", c.name, got, probe.title)
		}
		if r := c.do("GET", "/api/v1/me", revoked, nil); r.status != 401 {
			t.Errorf("%s: the token signed out before the failover is accepted after it: %s", c.name, truncate(r.String(), 200))
		}
		c.must(t, 200, "GET", "/api/v1/me", f.ministry, nil)
	}
	// The limiter works on the new primary, shared by both replicas.
	loginLimitHolds(t, reps, "ministry.gm@capmatch.example")
	for _, p := range []*apiProc{a, b} {
		noRedisProtocolErrors(t, p)
	}
}
