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
// model (lists, and rankings with cached=false) until its periodic reconciliation with the
// store, every 30 s. Replica B must show a change made through A within that period plus a
// margin, with Redis still down.
func TestReplicaConvergesWithoutRedis(t *testing.T) {
	soakOnly(t)
	const period = 30 * time.Second // cmd/capmatch: RunReconciler(bg, 30*time.Second)
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

// TestKnownIssueReplicaWithoutBus measures issue 8's known issue (RELIABILITY.md, "A replica
// without its bus serves its own model"). Redis is paused (SIGSTOP) and an offer changes
// through replica A: A's publish fails and the write is acknowledged anyway. Replica B cannot
// hear it: until its heartbeat notices the dead bus it keeps serving its cached ranking
// (cached=true), then computes from its own model (cached=false); both show the old offer. The
// test logs that window and asserts only what the design promises: once Redis answers again
// and B's bus has reconnected (it reconciles from the store first), B is fresh.
func TestKnownIssueReplicaWithoutBus(t *testing.T) {
	slow(t)
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
	var staleCached, staleUncached, fresh int
	var lastStaleCached time.Duration
	for time.Since(changeAt) < 4*time.Second {
		rk, r := cb.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 {
			t.Fatalf("B: ranking while Redis is paused: %s", r)
		}
		switch {
		case rk.title(demoOffer) == title:
			fresh++
		case rk.Cached:
			staleCached++
			lastStaleCached = time.Since(changeAt)
		default:
			staleUncached++
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("KNOWN ISSUE (issue 8, RELIABILITY.md): the write through A was acknowledged after %s with Redis paused; over the next 4 s replica B answered %d ranking reads stale with cached=true (the last %s after the change), %d stale with cached=false, %d fresh",
		ms(ackAfter), staleCached, ms(lastStaleCached), staleUncached, fresh)

	resumeAt := time.Now()
	rd.Resume()
	toCached := cb.waitCached(t, f.ministry, demoNeed, resumeAt, 10*time.Second)
	for i := range 3 {
		rk, r := cb.ranking(f.ministry, demoNeed)
		if r.err != nil || r.status != 200 || rk.title(demoOffer) != title {
			t.Errorf("B, read %d after its bus reconnected: want the changed offer %q, got %q (%s)", i+1, title, rk.title(demoOffer), truncate(r.String(), 120))
		}
	}
	t.Logf("FIGURE known-issue SIGCONT → B serves cached rankings again, fresh: %s", ms(toCached))
}
