//go:build unix

package reliability

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// euOffers are the EU donor's three demo offers.
var euOffers = []string{"offer-eu-cybernet-experts", "offer-eu-lac-competence", "offer-eu-cyber-resilience"}

// offerState is what the replicas must agree on about an offer.
type offerState struct {
	Version int64 `json:"version"`
	Budget  int64 `json:"budget_usd"`
}

// rankLine is one line of a need's ranking as compared across replicas.
type rankLine struct {
	OfferID string  `json:"offer_id"`
	Score   float64 `json:"score"`
}

// TestReplicasAgreeWithAFreshReplica is issue 15's black-box scenario (point 9): two API
// replicas on one store process and one real redis-server; eight donor sessions (four through
// each replica) edit the budgets of the EU donor's three offers with the version they read
// (If-Match), while a coordinator reads the rankings of twelve open needs through both. As soon as the last edit is
// acknowledged (no quiet period: an acknowledged write is visible on every replica at its next
// read), both replicas must hold exactly what the store holds, and a third replica started from
// the store alone, sharing neither the change log nor the ranking cache (its own Redis
// prefix), must serve the same offers and the same rankings. Every acknowledged edit must be in
// the store's history (versions grew by the number of acknowledgements).
func TestReplicasAgreeWithAFreshReplica(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	st := startStore(t)
	a := startAPI(t, "A", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	b := startAPI(t, "B", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false"))
	reps := []*client{newClient(a), newClient(b)}
	donor := reps[0].login(t, "donor.eu@capmatch.example", "demo-donor-eu-cybernet!")
	reader := reps[1].login(t, "coordinator@capmatch.example", "demo-coordinator-desk!") // sees every need
	needs := reps[0].listIDs(t, "/api/v1/needs?status=open&limit=12", reader)
	if len(needs) < 6 {
		t.Fatalf("the coordinator sees %d open needs; the demo data has more", len(needs))
	}
	start := map[string]int64{}
	for _, id := range euOffers {
		start[id], _ = storeOffer(t, st.URI(), id)
	}

	var mu sync.Mutex
	acked := map[string]int{}
	statuses := map[int]int{}
	deadline := time.Now().Add(phase(4 * time.Second))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := reps[w%2]
			for i := 0; time.Now().Before(deadline); i++ {
				id := euOffers[(w+i)%len(euOffers)]
				r := c.do("GET", "/api/v1/offers/"+id, donor, nil)
				if r.err != nil || r.status != 200 {
					mu.Lock()
					statuses[r.status]++
					mu.Unlock()
					continue
				}
				p := c.doWith(c.hc, "PATCH", "/api/v1/offers/"+id, donor,
					map[string]any{"budget_usd": 1_000_000 + w*100_000 + i}, map[string]string{"If-Match": r.header.Get("ETag")})
				mu.Lock()
				statuses[p.status]++
				if p.err == nil && p.status == 200 {
					acked[id]++
				}
				mu.Unlock()
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := reps[w]
			for i := 0; time.Now().Before(deadline); i++ {
				c.do("GET", "/api/v1/needs/"+needs[i%len(needs)]+"/matches?limit=20", reader, nil)
			}
		}()
	}
	wg.Wait()
	for s, n := range statuses {
		if s != 200 && s != 409 && s != 412 {
			t.Errorf("unexpected status %d (%d times): versioned edits answer 200, or 409/412 when the version is stale", s, n)
		}
	}

	// Every acknowledged edit is in the store's history, and both replicas hold the store's state
	// at once.
	store := map[string]offerState{}
	for _, id := range euOffers {
		v, budget := storeOffer(t, st.URI(), id)
		store[id] = offerState{Version: v, Budget: budget}
		if got := int(v - start[id]); got != acked[id] {
			t.Errorf("%s: %d edits acknowledged, but the store's version grew by %d", id, acked[id], got)
		}
	}
	t.Logf("FIGURE replicas-agree: %d, %d and %d edits acknowledged on the three offers (statuses %v)",
		acked[euOffers[0]], acked[euOffers[1]], acked[euOffers[2]], statuses)
	if acked[euOffers[0]]+acked[euOffers[1]]+acked[euOffers[2]] == 0 {
		t.Fatal("no edit was acknowledged")
	}
	offerOf := func(c *client, id string) offerState {
		t.Helper()
		r := c.do("GET", "/api/v1/offers/"+id, donor, nil)
		var o offerState
		if r.err != nil || r.status != 200 || json.Unmarshal(r.body, &o) != nil {
			t.Fatalf("%s: GET %s: %s", c.name, id, r)
		}
		return o
	}
	rankingOf := func(c *client, needID string) []rankLine {
		t.Helper()
		r := c.do("GET", "/api/v1/needs/"+needID+"/matches?limit=20", reader, nil)
		var body struct {
			Items []rankLine `json:"items"`
		}
		if r.err != nil || r.status != 200 || json.Unmarshal(r.body, &body) != nil {
			t.Fatalf("%s: ranking of %s: %s", c.name, needID, r)
		}
		return body.Items
	}
	for _, c := range reps {
		for _, id := range euOffers {
			if got := offerOf(c, id); got != store[id] {
				t.Errorf("%s serves %s at version %d with budget %d; the store holds version %d with budget %d",
					c.name, id, got.Version, got.Budget, store[id].Version, store[id].Budget)
			}
		}
	}

	// A fresh replica, from the store alone.
	fresh := newClient(startAPI(t, "C", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "false",
		"CAPMATCH_REDIS_PREFIX", "fresh"+strconv.FormatInt(time.Now().UnixNano(), 36)+":")))
	differ := 0
	for _, id := range euOffers {
		if got := offerOf(fresh, id); got != store[id] {
			t.Errorf("the fresh replica serves %s at version %d, the store holds %d", id, got.Version, store[id].Version)
		}
	}
	for _, n := range needs {
		want := rankingOf(fresh, n)
		for _, c := range reps {
			if got := rankingOf(c, n); fmt.Sprint(got) != fmt.Sprint(want) {
				differ++
				t.Errorf("%s's ranking of %s differs from a fresh replica's:\n got  %v\n want %v", c.name, n, got, want)
			}
		}
	}
	t.Logf("FIGURE replicas-agree: %d needs' rankings compared on two replicas against a fresh replica; %d differ", len(needs), differ)
}
