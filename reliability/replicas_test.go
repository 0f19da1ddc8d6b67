//go:build unix

package reliability

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestReplicas runs three API processes on one store process and one redis-server, with no
// balancer: the test sends each request to a replica of its choosing, round-robin. A write
// through one replica must be visible at the next read on the others, in lists, in rankings
// (a need's matches) and in revocations (logout on A → B refuses the token), and the login
// rate limit must hold across them (past the free failures of one account from one address,
// the next attempt → 429 on any replica).
//
// The store process serves FerretDB through the write proxy (`capmatch ferretdb`), which keeps
// conditional writes atomic across API processes; TestVersionedEditsAcrossReplicas races them.
// This test makes its writes one at a time: the order in which replicas hear of concurrent
// changes is the change log's business (issue 15), not checked here.
func TestReplicas(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	st := startStore(t)
	// The first replica loads the demo data; the others start on the loaded store.
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	c := startAPI(t, "C", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	reps := []*client{newClient(a), newClient(b), newClient(c)}
	// Tokens signed by one replica are accepted by all (the key is kept in the store).
	f := fixture{
		ministry: reps[0].login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!"),
		donor:    reps[1].login(t, "donor.eu@capmatch.example", "demo-donor-eu-cybernet!"),
		coord:    reps[2].login(t, "coordinator@capmatch.example", "demo-coordinator-desk!"),
	}
	others := func(i int) []*client {
		var o []*client
		for j := range reps {
			if j != i%len(reps) {
				o = append(o, reps[j])
			}
		}
		return o
	}
	checks, bad := 0, 0
	fail := func(format string, args ...any) {
		t.Helper()
		bad++
		t.Errorf(format, args...)
	}

	// Lists: a need created through one replica is listed by the others at their next read.
	for i := range 6 {
		w := reps[i%3]
		title := fmt.Sprintf("Replica list probe %d via %s", i, w.name)
		id := w.must(t, 201, "POST", "/api/v1/needs", f.ministry, needBody(title))["id"].(string)
		for _, r := range others(i) {
			checks++
			if ids := r.listIDs(t, "/api/v1/needs?country=SN&q="+url.QueryEscape(title), f.ministry); !slices.Contains(ids, id) {
				fail("%s: need %s created through %s is not listed at the next read (got %v)", r.name, id, w.name, ids)
			}
		}
	}

	// Rankings: an offer change through one replica shows in the need's matches on the others.
	for i := range 6 {
		w := reps[i%3]
		title := fmt.Sprintf("EU resilience programme, revision %d via %s", i, w.name)
		w.must(t, 200, "PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": title})
		for _, r := range others(i) {
			checks++
			rk, res := r.ranking(f.ministry, demoNeed)
			if res.err != nil || res.status != 200 {
				t.Fatalf("%s: ranking: %s", r.name, res)
			}
			if got := rk.title(demoOffer); got != title {
				fail("%s: STALE ranking at the next read after a change through %s: %q, want %q (cached=%v)", r.name, w.name, got, title, rk.Cached)
			}
		}
	}
	// A new offer made for the need, created through one replica and published through the
	// next, ranks for the need on the third at its next read.
	need := reps[0].must(t, 200, "GET", "/api/v1/needs/"+demoNeed, f.ministry, nil)
	offer := map[string]any{
		"title": "Offer made for Senegal's CSIRT", "description": "A programme written for this need.",
		"themes": []any{need["theme"]}, "capabilities": []any{need["capability"]},
		"modalities": need["modalities"], "languages": need["languages"],
		"eligible_countries": []string{"SN"}, "eligible_regions": []string{},
		"budget_usd": 5000000, "max_engagements": 5, "available_from": "2026-01-01", "available_until": "2031-12-31",
	}
	oid := reps[1].must(t, 201, "POST", "/api/v1/offers", f.donor, offer)["id"].(string)
	reps[2].must(t, 200, "POST", "/api/v1/offers/"+oid+"/publish", f.donor, nil)
	for _, r := range reps {
		checks++
		if rk, res := r.ranking(f.ministry, demoNeed); rk.title(oid) == "" {
			fail("%s: the offer %s published through C is not in %s's matches at the next read: %s", r.name, oid, demoNeed, truncate(res.String(), 300))
		}
	}

	// Revocations: logout through one replica, the token is refused by the others at once.
	for i := range 3 {
		w := reps[i]
		tok := w.login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!")
		for _, r := range others(i) {
			r.must(t, 200, "GET", "/api/v1/me", tok, nil)
		}
		w.must(t, 204, "POST", "/api/v1/auth/logout", tok, nil)
		for _, r := range others(i) {
			checks++
			if res := r.do("GET", "/api/v1/me", tok, nil); res.status != 401 {
				fail("%s: a token logged out through %s must be refused at the next request: %s", r.name, w.name, truncate(res.String(), 200))
			}
		}
	}

	// The sign-in limit is shared: failures for one account from one address, spread over the
	// replicas, are free up to service.LoginAccountBackoff.Free (5); the 6th starts a wait, so the
	// 7th and 8th are refused whichever replica gets them.
	for i := 1; i <= 8; i++ {
		r := reps[i%3]
		res := r.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "ministry.gm@capmatch.example", "password": "not the password"})
		want := 401
		if i > 6 {
			want = 429
		}
		checks++
		if res.err != nil || res.status != want {
			fail("login attempt %d via %s: want %d, got %s", i, r.name, want, truncate(res.String(), 200))
		} else if want == 429 && res.header.Get("Retry-After") == "" {
			fail("login attempt %d via %s: 429 without Retry-After", i, r.name)
		}
	}
	t.Logf("FIGURE replicas 3 API processes, 1 store process, 1 redis-server: %d cross-replica checks (lists, rankings, a new offer, revocations, login rate limit), %d stale or wrong", checks, bad)
}

// TestReplicaConvergesWithoutRedis measures what TestRedisRestartedEmptyNeverStale only
// reports: while Redis is down, a replica cannot hear the others' changes, so it serves its own
// model (lists, and rankings with cached=false) until it reloads from the store: every 2 s
// while it does not follow the change log (service.outageResync; the periodic reconciliation
// is every 10 min). Replica B must show a change made through A within the old 30 s period
// plus a margin, with Redis still down (TestReplicaCatchesUpWithoutRedis asserts the 2 s
// bound in the normal run).
func TestReplicaConvergesWithoutRedis(t *testing.T) {
	soakOnly(t)
	const period = 30 * time.Second // a loose bound: the outage resync is every 2 s
	rd := startRedis(t)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	ca, cb := newClient(a), newClient(b)
	f := demoLogins(t, ca)

	rd.Kill()
	ca.waitReady(t, 503, "cache", time.Now(), 5*time.Second)
	cb.waitReady(t, 503, "cache", time.Now(), 5*time.Second)
	changeAt := time.Now()
	title := "Made through A while Redis is down"
	id := ca.must(t, 201, "POST", "/api/v1/needs", f.ministry, needBody(title))["id"].(string)
	offerTitle := "EU resilience programme, changed through A while Redis is down"
	ca.must(t, 200, "PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": offerTitle})

	var listAt, rankAt time.Duration
	deadline := time.Now().Add(period + 10*time.Second)
	for time.Now().Before(deadline) && (listAt == 0 || rankAt == 0) {
		if listAt == 0 && slices.Contains(cb.listIDs(t, "/api/v1/needs?country=SN&q="+url.QueryEscape(title), f.ministry), id) {
			listAt = time.Since(changeAt)
		}
		if rk, r := cb.ranking(f.ministry, demoNeed); rankAt == 0 && r.status == 200 && rk.title(demoOffer) == offerTitle {
			rankAt = time.Since(changeAt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("FIGURE replica-no-redis B showed A's change after: list %s, ranking %s (reconciliation every %v)", ms(listAt), ms(rankAt), period)
	if listAt == 0 || rankAt == 0 || listAt > period+5*time.Second || rankAt > period+5*time.Second {
		t.Errorf("with Redis down, B must converge within the %v reconciliation (+5 s): list after %v, ranking after %v (0: never)", period, listAt, rankAt)
	}
}

// TestReplicaCatchesUpWithoutRedis asserts the catch-up bound without Redis (issue 15,
// points 3 and 8; it replaces the known-issue test that only logged the window). Redis is
// paused (SIGSTOP: the worst case, no connection is refused) and an offer changes through
// replica A: A's append fails, A applies the change itself and keeps it queued for the log.
// Replica B cannot hear it through the log; once its consumer notices the log is down (a read
// blocks at most the 1 s heartbeat plus half a second) it stops trusting its caches and
// reloads from the store every 2 s, so it must show the change within 1.5 s + 2 s plus a
// margin of 1.5 s for the reload on a loaded machine. Once Redis answers again, A's queued change lands on the log, both
// replicas follow it again without a reload and serve the change from their caches.
func TestReplicaCatchesUpWithoutRedis(t *testing.T) {
	slow(t)
	const bound = 5 * time.Second
	rd := startRedis(t)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	ca, cb := newClient(a), newClient(b)
	f := demoLogins(t, ca)
	cb.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	rd.Pause()
	changeAt := time.Now()
	title := "EU resilience programme, changed through A while Redis is paused"
	ca.must(t, 200, "PATCH", "/api/v1/offers/"+demoOffer, f.donor, map[string]string{"title": title})
	ackAfter := time.Since(changeAt)
	if rk, r := ca.ranking(f.ministry, demoNeed); r.status != 200 || rk.title(demoOffer) != title {
		t.Errorf("A: its own change is not in its ranking with Redis paused: %q (%s)", rk.title(demoOffer), truncate(r.String(), 120))
	}
	var staleCached, staleUncached int
	var lastStaleCached, freshAt time.Duration
	for freshAt == 0 && time.Since(changeAt) < bound+5*time.Second {
		rk, r := cb.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 {
			t.Fatalf("B: ranking while Redis is paused: %s", r)
		}
		switch {
		case rk.title(demoOffer) == title:
			freshAt = time.Since(changeAt)
		case rk.Cached:
			staleCached++
			lastStaleCached = time.Since(changeAt)
		default:
			staleUncached++
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("FIGURE replica-without-redis: A acknowledged its write after %s with Redis paused; B served it after %s (bound %v): before that %d stale reads with cached=true (the last %s after the change, before B noticed the log was down), %d stale with cached=false",
		ms(ackAfter), ms(freshAt), bound, staleCached, ms(lastStaleCached), staleUncached)
	if freshAt == 0 || freshAt > bound {
		t.Errorf("with Redis paused, B must show A's change within %v: it did after %v (0: never)", bound, freshAt)
	}

	resumeAt := time.Now()
	rd.Resume()
	toCached := cb.waitCached(t, f.ministry, demoNeed, resumeAt, 10*time.Second)
	ca.waitCached(t, f.ministry, demoNeed, resumeAt, 10*time.Second)
	for i, c := range []*client{ca, cb, ca, cb} {
		rk, r := c.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 || rk.title(demoOffer) != title {
			t.Errorf("%s, read %d after Redis returned: want the changed offer %q, got %q (%s)", c.name, i/2+1, title, rk.title(demoOffer), truncate(r.String(), 120))
		}
	}
	t.Logf("FIGURE replica-without-redis SIGCONT → B serves cached rankings again, fresh: %s", ms(toCached))
}
