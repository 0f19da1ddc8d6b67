package api

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// matches reads a ranking and checks the contract's invariants on it: ranks in order, scores
// in [0,1], best first, each score the sum of its factor contributions (weight × value ×
// relevance), a relevance of 1 or 0.5 (an unrelated offer is never listed) and the band its
// score falls in.
func matches(t *testing.T, n *node, path, token string) map[string]any {
	t.Helper()
	r := n.call("GET", path, token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	m := r.json(t)
	// The contract's field names, byte for byte (more may be added, none renamed).
	hasKeys := func(obj map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			assert.Contains(t, obj, k)
		}
	}
	side, other := "need_id", "offer_id"
	if _, ok := m["offer_id"]; ok {
		side, other = "offer_id", "need_id"
	}
	hasKeys(m, side, "computed_at", "cached", "weights_version", "items")
	prev := 2.0
	for i, it := range m["items"].([]any) {
		item := it.(map[string]any)
		hasKeys(item, "rank", other, "score", "band", "relevance", "title", "organization_id", "factors")
		if other == "need_id" {
			hasKeys(item, "country")
		}
		for _, f := range item["factors"].([]any) {
			hasKeys(f.(map[string]any), "name", "weight", "value", "contribution", "reason")
		}
		assert.EqualValues(t, i+1, item["rank"])
		score := item["score"].(float64)
		assert.GreaterOrEqual(t, score, 0.0)
		assert.LessOrEqual(t, score, 1.0)
		assert.LessOrEqual(t, score, prev, "best first")
		prev = score
		rel := item["relevance"].(float64)
		assert.Contains(t, []float64{1, 0.5}, rel, "relevance of a listed item")
		band := "weak"
		switch {
		case score >= 0.70:
			band = "strong"
		case score >= 0.40:
			band = "possible"
		}
		assert.Equal(t, band, item["band"], "band of score %v", score)
		sum := 0.0
		for _, f := range item["factors"].([]any) {
			fm := f.(map[string]any)
			sum += fm["contribution"].(float64)
			assert.NotEmpty(t, fm["reason"])
			assert.InDelta(t, fm["weight"].(float64)*fm["value"].(float64)*rel, fm["contribution"].(float64), 0.00011)
			if fm["name"] == "capability" {
				assert.Equal(t, rel, fm["value"], "relevance is the capability value")
			}
		}
		assert.InDelta(t, score, math.Round(sum*10000)/10000, 1e-9, "score = sum of contributions")
	}
	return m
}

func itemIDs(m map[string]any, key string) []string {
	var out []string
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any)[key].(string))
	}
	return out
}

func factor(m map[string]any, idx int, name string) map[string]any {
	for _, f := range m["items"].([]any)[idx].(map[string]any)["factors"].([]any) {
		if f.(map[string]any)["name"] == name {
			return f.(map[string]any)
		}
	}
	return nil
}

func TestMatchesAreExplainedAndCached(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	path := "/api/v1/needs/" + need + "/matches"
	// Opening the need ranked it already (the coordinators' match notification), and the
	// new offer was patched into that ranking, so even the first read may be cached.
	m := matches(t, n, path, f.ministry.Token)
	assert.Equal(t, need, m["need_id"])
	assert.Equal(t, []string{offer}, itemIDs(m, "offer_id"))
	names := []string{}
	for _, fct := range m["items"].([]any)[0].(map[string]any)["factors"].([]any) {
		names = append(names, fct.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"capability", "language", "modality", "budget", "timing", "maturity", "focus", "priority", "duplication"}, names)
	assert.Equal(t, "strong", m["items"].([]any)[0].(map[string]any)["band"])
	capFactor := factor(m, 0, "capability")
	assert.Equal(t, "capability.exact", capFactor["code"])
	assert.Equal(t, map[string]any{"capability": map[string]any{"kind": "capability", "value": "cert_setup"}}, capFactor["args"])
	assert.Equal(t, "The offer covers “Establishing a national CERT/CSIRT”.", capFactor["reason"], "English by default")
	m = matches(t, n, path, f.donor.Token)
	assert.Equal(t, true, m["cached"], "second read is served from the cache")

	// The offer side lists the need for the donor.
	om := matches(t, n, "/api/v1/offers/"+offer+"/matches", f.donor.Token)
	assert.Equal(t, []string{need}, itemIDs(om, "need_id"))

	// A closed offer, a need the offer's region does not cover: never listed.
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+offer+"/close", f.donor.Token, nil).Status)
	m = matches(t, n, path, f.ministry.Token)
	assert.Empty(t, m["items"], "a closed offer is never listed")

	for _, bad := range []string{path + "?limit=0", path + "?limit=51", "/api/v1/needs/nosuch/matches", "/api/v1/offers/nosuch/matches"} {
		r := n.call("GET", bad, f.ministry.Token, nil)
		assert.Contains(t, []int{404, 422}, r.Status, bad)
		r.problem(t)
	}
}

// TestMatchesNeverListUnrelated: an offer that shares neither the need's capability nor its
// theme is not listed, however well it does on language, budget and timing, in either
// direction; one that shares the theme only is listed as a partial match, never strong.
func TestMatchesNeverListUnrelated(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public") // cert_setup in SN, in French
	exact := n.newOffer(t, "open")
	publish := func(title string, themes, caps []string) string {
		b := offerBody(title)
		b["themes"], b["capabilities"] = themes, caps
		b["modalities"] = []string{"expert_deployment", "training", "mentoring", "policy_advice", "funding"}
		b["languages"], b["budget_usd"] = []string{"fr", "en", "es", "ar", "pt"}, 9000000
		b["eligible_regions"], b["eligible_countries"] = []string{}, []string{"SN"}
		r := n.call("POST", "/api/v1/offers", f.donor.Token, b)
		require.Equal(t, 201, r.Status, string(r.Body))
		id := r.json(t)["id"].(string)
		require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+id+"/publish", f.donor.Token, nil).Status)
		return id
	}
	unrelated := publish("Cybercrime legislation programme", []string{"cybercrime"}, []string{"cybercrime_legislation", "law_enforcement_training"})
	theme := publish("Critical infrastructure protection programme", []string{"incident_management"}, []string{"ciip"})

	m := matches(t, n, "/api/v1/needs/"+need+"/matches", f.ministry.Token)
	assert.Equal(t, []string{exact, theme}, itemIDs(m, "offer_id"), "the unrelated offer is not listed")
	partial := m["items"].([]any)[1].(map[string]any)
	assert.Equal(t, 0.5, partial["relevance"])
	assert.NotEqual(t, "strong", partial["band"])
	assert.Less(t, partial["score"].(float64), m["items"].([]any)[0].(map[string]any)["score"].(float64))

	om := matches(t, n, "/api/v1/offers/"+unrelated+"/matches", f.donor.Token)
	assert.Empty(t, om["items"], "the unrelated offer lists no need")
	om = matches(t, n, "/api/v1/offers/"+theme+"/matches", f.donor.Token)
	assert.Equal(t, []string{need}, itemIDs(om, "need_id"))

	// The allocation never pairs them either, and carries bands.
	r := n.call("GET", "/api/v1/matching/allocation", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	for _, it := range r.json(t)["items"].([]any) {
		item := it.(map[string]any)
		assert.NotEqual(t, unrelated, item["offer_id"])
		assert.Contains(t, []string{"strong", "possible", "weak"}, item["band"])
	}
}

// TestRankingsFreshOnOtherReplica: a changed budget, a closed offer and new weights are in the
// very next read on a second server.
func TestRankingsFreshOnOtherReplica(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	need := a.newNeed(t, "open", "public")
	offer := a.newOffer(t, "open")
	path := "/api/v1/needs/" + need + "/matches"
	m := matches(t, b, path, f.ministry.Token)
	require.Equal(t, []string{offer}, itemIDs(m, "offer_id"))
	matches(t, b, path, f.ministry.Token) // now cached on B
	budgetBefore := factor(m, 0, "budget")["value"].(float64)

	// Shrink the offer's budget below the need's on A: B's next read shows the new budget fit.
	require.Equal(t, 200, a.call("PATCH", "/api/v1/offers/"+offer, f.donor.Token, map[string]any{"budget_usd": 100000}).Status)
	m = matches(t, b, path, f.ministry.Token)
	assert.Less(t, factor(m, 0, "budget")["value"].(float64), budgetBefore, "B sees the changed budget at once")
	assert.Equal(t, true, m["cached"], "B patched the ranking it had cached when the change reached it")

	// New weights on A: B's next read uses them.
	w := a.call("GET", "/api/v1/matching/weights", f.coord.Token, nil).json(t)
	w["capability"], w["duplication"] = 0.37, 0.02
	r := a.call("PUT", "/api/v1/matching/weights", f.coord.Token, w)
	require.Equal(t, 200, r.Status, string(r.Body))
	m = matches(t, b, path, f.ministry.Token)
	assert.EqualValues(t, w["version"].(float64)+1, m["weights_version"])
	assert.InDelta(t, 0.37, factor(m, 0, "capability")["weight"], 1e-9)

	// Close it on A: B's next read drops it.
	require.Equal(t, 200, a.call("POST", "/api/v1/offers/"+offer+"/close", f.donor.Token, nil).Status)
	m = matches(t, b, path, f.ministry.Token)
	assert.Empty(t, m["items"], "B never serves the closed offer")
}

func TestRankingsServedWithRedisDown(t *testing.T) {
	r, err := embedded.StartRedis()
	require.NoError(t, err)
	e := newEnvWithRedis(t, r.URL())
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	path := "/api/v1/needs/" + need + "/matches"
	matches(t, n, path, f.ministry.Token)
	r.Stop()
	require.Eventually(t, func() bool { return !n.app.Revocations.Fresh() }, 5e9, 1e7)
	m := matches(t, n, path, f.ministry.Token)
	assert.Equal(t, []string{offer}, itemIDs(m, "offer_id"))
	assert.Equal(t, false, m["cached"], "computed from the in-memory model while Redis is down")
}

func TestColdReadsComputeOnce(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	n.newOffer(t, "open")
	// Opening the need ranked it (match notifications) and the offer was patched in: edit
	// the need so that its ranking is cold again.
	v := n.call("GET", "/api/v1/needs/"+need, f.coord.Token, nil).json(t)["version"]
	r := n.call("PATCH", "/api/v1/needs/"+need, f.coord.Token, map[string]any{"budget_usd": 450000, "version": v})
	require.Equal(t, 200, r.Status, string(r.Body))
	before := n.app.Matching.Computes()
	a := actorOf(f.ministry, f.snOrg, "SN")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := n.app.Matching.OffersForNeed(context.Background(), a, need, 10)
			assert.NoError(t, err)
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, n.app.Matching.Computes()-before, "500 concurrent cold reads compute once")
}

func TestOfferMatchesListOnlyVisibleNeeds(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	pub := n.newNeed(t, "open", "public")
	restricted := n.newNeed(t, "open", "restricted")
	donorsTier := n.newNeed(t, "open", "donors")
	offer := n.newOffer(t, "open")
	path := "/api/v1/offers/" + offer + "/matches?limit=50"
	assert.ElementsMatch(t, []string{pub, donorsTier}, itemIDs(matches(t, n, path, f.donor.Token), "need_id"))
	assert.ElementsMatch(t, []string{pub, restricted, donorsTier}, itemIDs(matches(t, n, path, f.coord.Token), "need_id"))
	assert.ElementsMatch(t, []string{pub, restricted, donorsTier}, itemIDs(matches(t, n, path, f.ministry.Token), "need_id"), "a ministry sees its own country's needs")
	assert.ElementsMatch(t, []string{pub}, itemIDs(matches(t, n, path, f.ministry2.Token), "need_id"))
	assert.Equal(t, 404, n.call("GET", "/api/v1/needs/"+restricted+"/matches", f.donor.Token, nil).Status)
}

func TestWeightsValidation(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	w := n.call("GET", "/api/v1/matching/weights", f.donor.Token, nil).json(t)
	bad := map[string]any{}
	for k, v := range w {
		bad[k] = v
	}
	bad["capability"] = 0.9
	r := n.call("PUT", "/api/v1/matching/weights", f.coord.Token, bad)
	assert.Equal(t, 422, r.Status, "weights must sum to 1")
	r.problem(t)
	bad["capability"] = -0.1
	assert.Equal(t, 422, n.call("PUT", "/api/v1/matching/weights", f.coord.Token, bad).Status)
	stale := map[string]any{}
	for k, v := range w {
		stale[k] = v
	}
	stale["version"] = 99
	assert.Equal(t, 409, n.call("PUT", "/api/v1/matching/weights", f.coord.Token, stale).Status)
	assert.Equal(t, 400, n.call("PUT", "/api/v1/matching/weights", f.coord.Token, map[string]any{"gravity": 1}).Status)
	assert.Equal(t, 200, n.call("PUT", "/api/v1/matching/weights", f.coord.Token, w).Status)
	// A client written before the focus factor sends eight weights that sum to 1: focus is 0
	// and the set is valid.
	cur := n.call("GET", "/api/v1/matching/weights", f.coord.Token, nil).json(t)
	eight := map[string]any{"capability": 0.30, "language": 0.12, "modality": 0.10, "budget": 0.12, "timing": 0.10,
		"maturity": 0.06, "priority": 0.08, "duplication": 0.12, "version": cur["version"]}
	r = n.call("PUT", "/api/v1/matching/weights", f.coord.Token, eight)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.EqualValues(t, 0, r.json(t)["focus"])
	r = n.call("GET", "/api/v1/audit?object_id=weights", f.coord.Token, nil)
	assert.Contains(t, string(r.Body), "matching_weights")
}

// TestEmptiedRedisRebuildsLazily: after Redis loses every key (a restart without persistence),
// the next read recomputes once and refills the cache; the one after is cached again, and a
// replica that started before that computation reads it from Redis. (A replica trusts only
// rankings computed after its own start-up load: the load marks every ranking at its stamp
// rather than object by object, which is what keeps start-up linear; so the replica that reads
// from Redis here is started first.)
func TestEmptiedRedisRebuildsLazily(t *testing.T) {
	r, err := embedded.StartRedis()
	require.NoError(t, err)
	defer r.Stop()
	e := newEnvWithRedis(t, r.URL())
	a, b := e.node(), e.node()
	f := a.seed()
	need := a.newNeed(t, "open", "public")
	a.newOffer(t, "open")
	path := "/api/v1/needs/" + need + "/matches"
	matches(t, a, path, f.ministry.Token)
	before := b.app.Matching.Computes()
	assert.Equal(t, true, matches(t, b, path, f.ministry.Token)["cached"], "B reads what A stored in Redis")
	assert.EqualValues(t, 0, b.app.Matching.Computes()-before)
	r.Server().FlushAll()
	d := e.node() // fresh replicas have nothing in memory either
	c := e.node()
	before = c.app.Matching.Computes()
	assert.Equal(t, false, matches(t, c, path, f.ministry.Token)["cached"])
	assert.Equal(t, true, matches(t, c, path, f.ministry.Token)["cached"])
	assert.EqualValues(t, 1, c.app.Matching.Computes()-before, "recomputed once")
	before = d.app.Matching.Computes()
	assert.Equal(t, true, matches(t, d, path, f.ministry.Token)["cached"], "and shared through Redis again")
	assert.EqualValues(t, 0, d.app.Matching.Computes()-before)
}

// TestAgreedEngagementReranksOnlyItsDeliveries: an engagement agreed on one server changes the
// duplication factor of the needs of its country and capability, which the next read on a
// second server shows; the second server's cached rankings of other needs stay cached (they
// are patched for the offer's used slot, not recomputed).
func TestAgreedEngagementReranksOnlyItsDeliveries(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	first := a.newNeed(t, "open", "public")
	same := a.newNeed(t, "open", "public") // Senegal, cert_setup, like first
	body := needBody(f, "ministry", "Maturity of the national CSIRT")
	body["capability"] = "cert_maturity"
	r := a.call("POST", "/api/v1/needs", f.ministry.Token, body)
	require.Equal(t, 201, r.Status, string(r.Body))
	other := r.json(t)["id"].(string)
	require.Equal(t, 200, a.call("POST", "/api/v1/needs/"+other+"/submit", f.ministry.Token, nil).Status)
	require.Equal(t, 200, a.call("POST", "/api/v1/needs/"+other+"/approve", f.coord.Token, nil).Status)
	offer := a.newOffer(t, "open")

	samePath, otherPath := "/api/v1/needs/"+same+"/matches", "/api/v1/needs/"+other+"/matches"
	dupBefore := factor(matches(t, b, samePath, f.ministry.Token), 0, "duplication")["value"].(float64)
	matches(t, b, otherPath, f.ministry.Token)
	require.Equal(t, true, matches(t, b, otherPath, f.ministry.Token)["cached"])

	r = a.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": first, "offer_id": offer, "message": "Let us start"})
	require.Equal(t, 201, r.Status, string(r.Body))
	r = a.call("POST", "/api/v1/engagements/"+r.json(t)["id"].(string)+"/accept", f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))

	before := b.app.Matching.Computes()
	m := matches(t, b, otherPath, f.ministry.Token)
	assert.Equal(t, true, m["cached"], "a need of another capability keeps its cached ranking")
	assert.EqualValues(t, 0, b.app.Matching.Computes()-before)
	assert.Equal(t, []string{offer}, itemIDs(m, "offer_id"))

	m = matches(t, b, samePath, f.ministry.Token)
	require.Equal(t, []string{offer}, itemIDs(m, "offer_id"))
	dup := factor(m, 0, "duplication")
	assert.Less(t, dup["value"].(float64), dupBefore, "B's next read counts the agreed engagement: %v", dup["reason"])
	om := matches(t, b, "/api/v1/offers/"+offer+"/matches", f.coord.Token)
	assert.ElementsMatch(t, []string{same, other}, itemIDs(om, "need_id"), "the matched need leaves the offer's ranking")
}
