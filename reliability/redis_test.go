//go:build unix

package reliability

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// rankKey is the Redis key of a need's cached ranking (default prefix).
const rankKey = "capmatch:rank:n:" + demoNeed

// readWorkers is the read side of the load: n workers over the read ops.
func readWorkers(f fixture, n int) []worker {
	ws := make([]worker, n)
	for i := range ws {
		ws[i] = worker{ops: readOps(f), pause: 2 * time.Millisecond}
	}
	return ws
}

// waitDegraded polls a ranking until it is computed without the cache (cached=false: the
// replica noticed its event bus is down) and returns the time since from.
func waitDegraded(t *testing.T, c *client, token string, from time.Time, within time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		rk, r := c.ranking(token, demoNeed)
		if r.err == nil && r.status == 200 && !rk.Cached {
			// Two in a row: a single miss could be a first computation.
			if rk2, r2 := c.ranking(token, demoNeed); r2.err == nil && r2.status == 200 && !rk2.Cached {
				return time.Since(from)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: rankings were still served from the cache %v after Redis went away", c.name, within)
	return 0
}

// TestRedisKilledMidLoad kills redis-server (SIGKILL) under a steady load of reads and need
// creations, keeps the load on through the outage, restarts an empty redis-server on the same
// port and checks: no read and no write failed, /readyz said 503 naming the cache, and the
// same API process recovered (readiness 200, rankings served from the cache again) without a
// restart.
func TestRedisKilledMidLoad(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	ws := append(readWorkers(f, 6), worker{ops: []op{createNeedOp(f, "Written while Redis dies")}, pause: 20 * time.Millisecond})
	l := startLoad(c, ws, 100000, loadLimit)
	begin := time.Now()
	time.Sleep(phase(1500 * time.Millisecond))

	killAt := time.Now()
	rd.Kill()
	to503 := c.waitReady(t, 503, "cache", killAt, 5*time.Second)
	if _, checks, _ := c.readyz(); checks["store"] != "ok" {
		t.Errorf("/readyz with Redis dead: store should be ok, checks: %v", checks)
	}
	toDegraded := waitDegraded(t, c, f.ministry, killAt, 5*time.Second)
	time.Sleep(phase(2 * time.Second)) // the outage, under load

	restartAt := time.Now()
	rd.Restart()
	to200 := c.waitReady(t, 200, "", restartAt, 10*time.Second)
	toCached := c.waitCached(t, f.ministry, demoNeed, restartAt, 10*time.Second)
	// The shared cache refills lazily: a ranking not yet in this process's own cache is computed
	// and stored in the new Redis at its first read.
	const other = "need-sn-legal-position"
	c.must(t, 200, "GET", "/api/v1/needs/"+other+"/matches", f.ministry, nil)
	if !rd.exists("capmatch:rank:n:" + other) {
		t.Errorf("after recovery the ranking of %s should be stored in the restarted Redis at its first read", other)
	}
	time.Sleep(phase(time.Second)) // load after recovery
	end := time.Now()
	rs := l.stop()

	logSummaries(t, "redis-killed", rs, l.wants, begin, end)
	outage := summarize(rs, l.wants, killAt, restartAt.Add(to200), nil)
	t.Logf("FIGURE redis-killed outage (kill → ready again): %s", outage)
	t.Logf("FIGURE redis-killed kill → /readyz 503 naming cache: %s; kill → rankings computed with cached=false: %s", ms(to503), ms(toDegraded))
	t.Logf("FIGURE redis-killed restart → /readyz 200: %s; restart → rankings cached again: %s", ms(to200), ms(toCached))
	noFailures(t, "reads while Redis was killed and restarted", summarize(rs, l.wants, begin, end, reads))
	noFailures(t, "writes while Redis was killed and restarted", summarize(rs, l.wants, begin, end, writes))
	if s := summarize(rs, l.wants, killAt, restartAt, writes); s.n == 0 {
		t.Errorf("no write was sent while Redis was down")
	}
}

// TestRedisPaused stops redis-server with SIGSTOP under load: the kernel still accepts its
// connections but nothing answers. Every request must stay bounded by capmatch's own Redis
// timeouts (a correctness bound, not a performance target), /readyz must say 503 within a few
// seconds, and SIGCONT must bring the cache back without restarting the API.
func TestRedisPaused(t *testing.T) {
	slow(t)
	const bound = 3 * time.Second
	rd := startRedis(t)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	ws := append(readWorkers(f, 6), worker{ops: []op{createNeedOp(f, "Written while Redis is paused")}, pause: 20 * time.Millisecond})
	l := startLoad(c, ws, 100000, loadLimit)
	begin := time.Now()
	time.Sleep(phase(1500 * time.Millisecond))

	pauseAt := time.Now()
	rd.Pause()
	to503 := c.waitReady(t, 503, "cache", pauseAt, 5*time.Second)
	toDegraded := waitDegraded(t, c, f.ministry, pauseAt, 6*time.Second)
	if time.Since(pauseAt) < phase(4*time.Second) {
		time.Sleep(phase(4*time.Second) - time.Since(pauseAt))
	}

	resumeAt := time.Now()
	rd.Resume()
	to200 := c.waitReady(t, 200, "", resumeAt, 10*time.Second)
	toCached := c.waitCached(t, f.ministry, demoNeed, resumeAt, 10*time.Second)
	time.Sleep(phase(time.Second))
	end := time.Now()
	rs := l.stop()

	logSummaries(t, "redis-paused", rs, l.wants, begin, end)
	pr := summarize(rs, l.wants, pauseAt, resumeAt, reads)
	pw := summarize(rs, l.wants, pauseAt, resumeAt, writes)
	t.Logf("FIGURE redis-paused during the pause (%s): reads %s; writes %s", ms(resumeAt.Sub(pauseAt)), pr, pw)
	t.Logf("FIGURE redis-paused SIGSTOP → /readyz 503 naming cache: %s; SIGSTOP → rankings computed with cached=false: %s", ms(to503), ms(toDegraded))
	t.Logf("FIGURE redis-paused SIGCONT → /readyz 200: %s; SIGCONT → rankings cached again: %s", ms(to200), ms(toCached))
	if pr.worst >= bound || pw.worst >= bound {
		t.Errorf("requests during the pause must stay under %v: worst read %v, worst write %v", bound, pr.worst, pw.worst)
	}
	if pr.n == 0 || pw.n == 0 {
		t.Errorf("the load sent %d reads and %d writes during the pause; want some of each", pr.n, pw.n)
	}
	noFailures(t, "reads around the pause", summarize(rs, l.wants, begin, end, reads))
	noFailures(t, "writes around the pause", summarize(rs, l.wants, begin, end, writes))
}

// TestRedisRestartedEmptyNeverStale runs two API replicas on one store and one redis-server.
// It kills Redis, changes an offer through replica A while Redis is down, restarts an empty
// Redis, and checks that no ranking read shows the old offer where the design promises
// freshness: on A at once (its own change), on B as soon as B serves from the cache again (its
// bus reconnected and reconciled), and on both after further changes made once both replicas
// listen to the restarted, empty Redis. Rankings rebuild lazily: the restarted Redis holds no
// ranking until one is read.
//
// KNOWN ISSUE (see RELIABILITY.md, "The change log: consistency windows"): while a replica
// does not follow the change log it cannot hear the other replicas' changes and serves its own
// model (rankings with cached=false) until its next resync from the store (every 2 s; asserted
// by TestReplicaCatchesUpWithoutRedis) or until it follows the log again. The test measures and
// logs that window here; it does not fail on it.
func TestRedisRestartedEmptyNeverStale(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	ca, cb := newClient(a), newClient(b)
	f := demoLogins(t, ca)
	for _, c := range []*client{ca, cb} {
		c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)
	}
	patchTitle := func(c *client, title string) {
		t.Helper()
		c.must(t, 200, "PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": title})
	}
	// expect reads a ranking and fails unless it shows the offer under want.
	expect := func(c *client, want, when string) ranking {
		t.Helper()
		rk, r := c.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 {
			t.Fatalf("%s: ranking %s: %s", c.name, when, r)
		}
		if got := rk.title(demoOffer); got != want {
			t.Errorf("%s: STALE ranking %s: offer title %q, want %q (cached=%v)", c.name, when, got, want, rk.Cached)
		}
		return rk
	}

	// 1. Redis dies; an offer changes through A at once, before anyone noticed the outage.
	rd.Kill()
	v1 := "EU resilience programme (changed while Redis was down)"
	patchTitle(ca, v1)
	expect(ca, v1, "on A right after A's own change, Redis down")
	ca.waitReady(t, 503, "cache", time.Now(), 5*time.Second)
	for i := range 3 {
		expect(ca, v1, fmt.Sprintf("on A while Redis is down (read %d)", i+1))
	}
	// B did not hear the change (no log): it serves its own model, uncached, until it
	// resyncs. KNOWN ISSUE: measured and logged, not asserted.
	staleOnB := 0
	for range 5 {
		rk, r := cb.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 {
			t.Fatalf("B: ranking while Redis is down: %s", r)
		}
		if rk.Cached {
			t.Errorf("B served a cached ranking while Redis was down")
		}
		if rk.title(demoOffer) != v1 {
			staleOnB++
		}
	}
	t.Logf("KNOWN ISSUE (issue 8, RELIABILITY.md): replica B served %d of 5 ranking reads with the offer as it was before A's change while Redis was down (cached=false; B catches up at its 2 s resync or when it follows the log again)", staleOnB)

	// 2. An empty Redis comes back on the same port.
	restartAt := time.Now()
	rd.Restart()
	if rd.exists(rankKey) {
		t.Fatalf("the restarted Redis should be empty")
	}
	expect(ca, v1, "on A after Redis restarted empty")
	// Every cached=true answer from B must be fresh; uncached ones are B still reconnecting.
	deadline := time.Now().Add(10 * time.Second)
	staleUncached, reads := 0, 0
	var toCachedB time.Duration
	for time.Now().Before(deadline) {
		rk, r := cb.ranking(f.ministry, demoNeed)
		reads++
		if r.err != nil || r.status != 200 {
			t.Fatalf("B: ranking after Redis restarted: %s", r)
		}
		if rk.Cached {
			if got := rk.title(demoOffer); got != v1 {
				t.Errorf("B: STALE cached ranking after Redis restarted empty: %q, want %q", got, v1)
			}
			toCachedB = time.Since(restartAt)
			break
		}
		if rk.title(demoOffer) != v1 {
			staleUncached++
		}
		time.Sleep(25 * time.Millisecond)
	}
	if toCachedB == 0 {
		t.Fatalf("B did not serve from the cache within 10s of Redis restarting")
	}
	for i := range 3 {
		expect(cb, v1, fmt.Sprintf("on B after it reconnected (read %d)", i+1))
	}
	if !rd.exists(rankKey) {
		t.Errorf("the ranking should be back in Redis once read (lazy rebuild)")
	}
	toCachedA := ca.waitCached(t, f.ministry, demoNeed, restartAt, 10*time.Second)
	t.Logf("FIGURE redis-empty restart → B serves cached (fresh) rankings: %s (A: %s); B's uncached reads before that: %d, of which stale (KNOWN ISSUE): %d", ms(toCachedB), ms(toCachedA), reads-1, staleUncached)

	// 3. Both replicas listen to the restarted Redis: changes through either are fresh at the
	// next read on both, while Redis fills again.
	for i, w := range []*client{cb, ca, cb, ca} {
		v := fmt.Sprintf("EU resilience programme (change %d through %s, Redis back)", i+2, w.name)
		patchTitle(w, v)
		expect(ca, v, "on A at the next read after a change through "+w.name)
		expect(cb, v, "on B at the next read after a change through "+w.name)
	}
}

// blackhole listens on addr and never accepts, with the accept queue full: the kernel then
// drops new SYNs, so connecting to addr times out, as with a Redis host gone from the network.
func blackhole(t *testing.T, addr string) (stop func()) {
	t.Helper()
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("blackhole socket: %v", err)
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	sa := &syscall.SockaddrInet4{Port: port}
	copy(sa.Addr[:], net.ParseIP(host).To4())
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd)
		t.Fatalf("blackhole bind %s: %v", addr, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		_ = syscall.Close(fd)
		t.Fatalf("blackhole listen: %v", err)
	}
	var fill []net.Conn
	stop = func() {
		for _, c := range fill {
			_ = c.Close()
		}
		_ = syscall.Close(fd)
	}
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		fill = append(fill, c)
	}
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		_ = c.Close()
		stop()
		t.Fatalf("blackhole on %s still completes connections", addr)
	}
	return stop
}

// TestRedisBlackholed replaces redis-server with a port whose connections time out (a Redis
// host gone from the network: no refusal, no answer). Requests must stay bounded by capmatch's
// own dial timeout, and the cache must come back when redis-server returns.
func TestRedisBlackholed(t *testing.T) {
	slow(t)
	const bound = 3 * time.Second
	rd := startRedis(t)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	ws := append(readWorkers(f, 6), worker{ops: []op{createNeedOp(f, "Written while Redis is unreachable")}, pause: 20 * time.Millisecond})
	l := startLoad(c, ws, 100000, loadLimit)
	begin := time.Now()
	time.Sleep(phase(time.Second))

	killAt := time.Now()
	rd.Kill()
	unhole := blackhole(t, rd.addr)
	goneAt := time.Now()
	to503 := c.waitReady(t, 503, "cache", goneAt, 5*time.Second)
	_, _, probe := c.readyz()
	if time.Since(goneAt) < phase(4*time.Second) {
		time.Sleep(phase(4*time.Second) - time.Since(goneAt))
	}
	backAt := time.Now()
	unhole()
	rd.Restart()
	to200 := c.waitReady(t, 200, "", backAt, 10*time.Second)
	toCached := c.waitCached(t, f.ministry, demoNeed, backAt, 10*time.Second)
	end := time.Now()
	rs := l.stop()

	logSummaries(t, "redis-blackholed", rs, l.wants, begin, end)
	gr := summarize(rs, l.wants, killAt, backAt, reads)
	gw := summarize(rs, l.wants, killAt, backAt, writes)
	t.Logf("FIGURE redis-blackholed from the kill to Redis back (%s, unreachable for the last %s): reads %s; writes %s", ms(backAt.Sub(killAt)), ms(backAt.Sub(goneAt)), gr, gw)
	t.Logf("FIGURE redis-blackholed unreachable → /readyz 503 naming cache: %s (one probe then took %s); back → /readyz 200: %s; back → rankings cached again: %s", ms(to503), ms(probe.dur), ms(to200), ms(toCached))
	if gr.worst >= bound || gw.worst >= bound {
		t.Errorf("requests while Redis was unreachable must stay under %v: worst read %v, worst write %v", bound, gr.worst, gw.worst)
	}
	noFailures(t, "reads around the outage", summarize(rs, l.wants, begin, end, reads))
	noFailures(t, "writes around the outage", summarize(rs, l.wants, begin, end, writes))
}
