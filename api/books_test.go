package api

// Tests of issue 12 points 3-5 and issue 13 point 3: lifecycles cascade, an engagement
// reserves what was agreed, the funding gap adds up, and hidden and missing objects answer
// the same way from one code path.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// propose has the ministry propose an engagement between need and offer with extra fields.
func (n *node) propose(t *testing.T, token, need, offer string, extra map[string]any) map[string]any {
	t.Helper()
	b := map[string]any{"need_id": need, "offer_id": offer, "message": "We would like to work with you"}
	for k, v := range extra {
		b[k] = v
	}
	r := n.call("POST", "/api/v1/engagements", token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	return r.json(t)
}

// offerWith creates and publishes an offer of the fixture's donor with fields changed.
func (n *node) offerWith(t *testing.T, over map[string]any) string {
	t.Helper()
	f := &n.env.fx
	b := offerBody("Offer")
	for k, v := range over {
		b[k] = v
	}
	r := n.call("POST", "/api/v1/offers", f.donor.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+id+"/publish", f.donor.Token, nil).Status)
	return id
}

func (n *node) get(t *testing.T, path, token string) map[string]any {
	t.Helper()
	r := n.call("GET", path, token, nil)
	require.Equal(t, 200, r.Status, "%s: %s", path, r.Body)
	return r.json(t)
}

// TestWithdrawingAMatchedNeedCascades: the walk. A need with an agreed engagement
// (slot and amount reserved) and a second proposal is withdrawn: the proposal is withdrawn,
// the agreement cancelled, the offer's slot and amount come back, both sides are told, and a
// project on the cancelled engagement is refused.
func TestWithdrawingAMatchedNeedCascades(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	offer2 := n.newOffer(t, "open")
	agreed := n.propose(t, f.ministry.Token, need, offer, map[string]any{"budget_usd": 200000})["id"].(string)
	proposed := n.propose(t, f.ministry.Token, need, offer2, nil)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+agreed+"/accept", f.donor.Token, nil).Status)
	o := n.get(t, "/api/v1/offers/"+offer, f.donor.Token)
	require.EqualValues(t, 1, o["engagements_used"])
	require.EqualValues(t, 200000, o["budget_committed_usd"])

	r := n.call("POST", "/api/v1/needs/"+need+"/withdraw", f.ministry.Token, map[string]string{"reason": "The government funds it itself"})
	require.Equal(t, 200, r.Status, string(r.Body))
	body := r.json(t)
	assert.Equal(t, "withdrawn", body["status"])
	c, ok := body["cascade"].(map[string]any)
	require.True(t, ok, "the answer says what the withdrawal did: %s", r.Body)
	assert.Equal(t, []any{agreed}, c["cancelled_engagements"])
	assert.Equal(t, []any{proposed}, c["withdrawn_engagements"])
	assert.EqualValues(t, 200000, c["released_budget_usd"])
	assert.EqualValues(t, 1, c["released_engagements"])

	ag := n.get(t, "/api/v1/engagements/"+agreed, f.donor.Token)
	assert.Equal(t, "cancelled", ag["status"])
	assert.Equal(t, "The government funds it itself", ag["reason"])
	assert.NotEmpty(t, ag["released_at"], "what it held is released")
	assert.Equal(t, "withdrawn", n.get(t, "/api/v1/engagements/"+proposed, f.donor.Token)["status"])
	o = n.get(t, "/api/v1/offers/"+offer, f.donor.Token)
	assert.EqualValues(t, 0, o["engagements_used"], "the slot is released")
	assert.EqualValues(t, 0, o["budget_committed_usd"], "the amount is released")
	assert.EqualValues(t, 2000000, o["budget_remaining_usd"])

	// Both sides are told, in their feeds.
	for _, tok := range []string{f.donor.Token, f.ministry.Token} {
		fd := n.feed(t, tok, "")
		assert.True(t, fd.has("cancelled", agreed), "both sides hear of the cancellation")
		assert.True(t, fd.has("withdrawn", proposed), "both sides hear of the withdrawn proposal")
	}
	assert.False(t, n.feed(t, f.donor2.Token, "").has("cancelled", agreed))

	// The donor can no longer start a project on it.
	r = n.call("POST", "/api/v1/projects", f.donor.Token, map[string]any{"engagement_id": agreed, "title": "Too late",
		"budget_usd": 200000, "start_date": "2027-03-01", "end_date": "2028-03-01"})
	assert.Equal(t, 409, r.Status, string(r.Body))
	assert.Empty(t, n.get(t, "/api/v1/projects", f.coord.Token)["items"])

	// A retry of the withdrawal changes nothing more.
	r = n.call("POST", "/api/v1/needs/"+need+"/withdraw", f.ministry.Token, nil)
	assert.Equal(t, 409, r.Status)
	assert.EqualValues(t, 0, n.get(t, "/api/v1/offers/"+offer, f.donor.Token)["engagements_used"])
}

// TestNeedWithARunningProjectCannotBeWithdrawn: 409 naming the project.
func TestNeedWithARunningProjectCannotBeWithdrawn(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	prj := n.newProject(t)
	need := n.get(t, "/api/v1/projects/"+prj, f.coord.Token)["need_id"].(string)
	r := n.call("POST", "/api/v1/needs/"+need+"/withdraw", f.ministry.Token, nil)
	require.Equal(t, 409, r.Status, string(r.Body))
	assert.Contains(t, r.problem(t).Detail, prj, "the refusal names the project")
	assert.Equal(t, "in_progress", n.get(t, "/api/v1/needs/"+need, f.ministry.Token)["status"])
}

// TestCancellingAnAgreedEngagementReleasesIt: either side or a coordinator cancels an agreed
// engagement without a project, with a reason; the slot and amount come back and the need is
// open again. Cancelling one with a project, or without a reason, is refused.
func TestCancellingAnAgreedEngagementReleasesIt(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for _, who := range []account{f.ministry, f.donor, f.coord} {
		eng := n.newEngagement(t, true)
		x := n.get(t, "/api/v1/engagements/"+eng, f.coord.Token)
		r := n.call("POST", "/api/v1/engagements/"+eng+"/cancel", who.Token, map[string]string{})
		require.Equal(t, 422, r.Status, "a cancellation needs a reason: %s", r.Body)
		r = n.call("POST", "/api/v1/engagements/"+eng+"/cancel", who.Token, map[string]string{"reason": "The experts are no longer available"})
		require.Equal(t, 200, r.Status, "%s: %s", who.Role, r.Body)
		assert.Equal(t, "cancelled", r.json(t)["status"])
		o := n.get(t, "/api/v1/offers/"+x["offer_id"].(string), f.donor.Token)
		assert.EqualValues(t, 0, o["engagements_used"])
		assert.EqualValues(t, 0, o["budget_committed_usd"])
		nd := n.get(t, "/api/v1/needs/"+x["need_id"].(string), f.ministry.Token)
		assert.Equal(t, "open", nd["status"], "the need takes offers again")
		assert.Nil(t, nd["engagement_id"])
		// A retry answers the same; nothing is released twice.
		r = n.call("POST", "/api/v1/engagements/"+eng+"/cancel", who.Token, map[string]string{"reason": "The experts are no longer available"})
		assert.Equal(t, 200, r.Status)
		assert.EqualValues(t, 0, n.get(t, "/api/v1/offers/"+x["offer_id"].(string), f.donor.Token)["budget_committed_usd"])
		// The pair may engage again, under a new id.
		again := n.propose(t, f.ministry.Token, x["need_id"].(string), x["offer_id"].(string), nil)
		assert.NotEqual(t, eng, again["id"])
	}
	// A proposal is withdrawn or declined, not cancelled.
	eng := n.newEngagement(t, false)
	assert.Equal(t, 409, n.call("POST", "/api/v1/engagements/"+eng+"/cancel", f.ministry.Token, map[string]string{"reason": "x"}).Status)
	// An engagement with a project closes through the project.
	prj := n.newProject(t)
	withProject := n.get(t, "/api/v1/projects/"+prj, f.coord.Token)["engagement_id"].(string)
	r := n.call("POST", "/api/v1/engagements/"+withProject+"/cancel", f.donor.Token, map[string]string{"reason": "x"})
	assert.Equal(t, 409, r.Status)
	assert.Contains(t, r.problem(t).Detail, prj)
}

// TestClosingAnOfferWithdrawsItsProposalsAndKeepsAgreements: proposals are withdrawn and their
// ministries told; agreed engagements stay, and the answer says so.
func TestClosingAnOfferWithdrawsItsProposalsAndKeepsAgreements(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	offer := n.newOffer(t, "open")
	agreed := n.propose(t, f.ministry.Token, n.newNeed(t, "open", "public"), offer, nil)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+agreed+"/accept", f.donor.Token, nil).Status)
	proposed := n.propose(t, f.ministry.Token, n.newNeed(t, "open", "public"), offer, nil)["id"].(string)

	// Through the API the reason is optional (the web's confirmation asks for one).
	r := n.call("POST", "/api/v1/offers/"+offer+"/close", f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	body := r.json(t)
	assert.Equal(t, "closed", body["status"])
	c, ok := body["cascade"].(map[string]any)
	require.True(t, ok, "the answer says what closing did: %s", r.Body)
	assert.Equal(t, []any{proposed}, c["withdrawn_engagements"])
	assert.Equal(t, []any{agreed}, c["kept_engagements"])
	assert.Contains(t, fmt.Sprint(c["notes"]), "1 agreed engagement stays")
	assert.Equal(t, "withdrawn", n.get(t, "/api/v1/engagements/"+proposed, f.ministry.Token)["status"])
	assert.Equal(t, "agreed", n.get(t, "/api/v1/engagements/"+agreed, f.ministry.Token)["status"])
	o := n.get(t, "/api/v1/offers/"+offer, f.donor.Token)
	assert.EqualValues(t, 1, o["engagements_used"], "the agreement keeps its slot")
	fd := n.feed(t, f.ministry.Token, "")
	assert.True(t, fd.has("withdrawn", proposed), "the ministry hears its proposal ended")
	assert.True(t, fd.has("offer_closed", agreed), "the ministry hears its agreement stays")
}

// TestEngagementReservesWhatWasAgreed: amount and period on the proposal, defaults, the
// offer's remaining budget and slots, an offer with no budget left closes and is not ranked,
// and project dates stay inside the offer's window and the engagement's period.
func TestEngagementReservesWhatWasAgreed(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	// Defaults: the smaller of the need's unfunded remainder and the offer's remaining budget;
	// the period is the need's, inside the offer's window.
	small := n.offerWith(t, map[string]any{"budget_usd": 300000, "available_until": "2028-06-30"})
	need := n.newNeed(t, "open", "public")
	eng := n.propose(t, f.ministry.Token, need, small, nil)
	assert.EqualValues(t, 300000, eng["budget_usd"], "capped by what remains of the offer")
	assert.Equal(t, "2027-03-01", eng["start_date"])
	assert.Equal(t, "2028-06-30", eng["end_date"], "the need's 18 months end after the offer's window: the period stops at its end")

	// An explicit amount and period; the period must lie inside the offer's window.
	offer := n.newOffer(t, "open")
	need2 := n.newNeed(t, "open", "public")
	bad := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need2, "offer_id": offer,
		"budget_usd": 150000, "start_date": "2027-06-01", "end_date": "2029-05-31"})
	require.Equal(t, 422, bad.Status, string(bad.Body))
	assert.Contains(t, string(bad.Body), "end_date")
	assert.Contains(t, string(bad.Body), "2028-12-31", "the reason names the offer's window")
	bad = n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need2, "offer_id": offer, "budget_usd": 2500000})
	require.Equal(t, 422, bad.Status, string(bad.Body))
	eng = n.propose(t, f.ministry.Token, need2, offer, map[string]any{"budget_usd": 150000, "start_date": "2027-06-01", "end_date": "2027-12-31"})
	assert.EqualValues(t, 150000, eng["budget_usd"])
	assert.Equal(t, "2027-06-01", eng["start_date"])
	assert.Equal(t, "2027-12-31", eng["end_date"])
	engID := eng["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+engID+"/accept", f.donor.Token, nil).Status)

	// Everyone sees what is left; only the donor and coordinators see what is committed.
	for _, tok := range []string{f.donor.Token, f.coord.Token, f.ministry.Token, f.donor2.Token} {
		o := n.get(t, "/api/v1/offers/"+offer, tok)
		assert.EqualValues(t, 1, o["engagements_used"])
		assert.EqualValues(t, 3, o["engagements_remaining"])
		assert.EqualValues(t, 1850000, o["budget_remaining_usd"])
		_, shown := o["budget_committed_usd"]
		assert.Equal(t, tok == f.donor.Token || tok == f.coord.Token, shown, "budget_committed_usd only for the donor and coordinators")
	}
	list := n.get(t, "/api/v1/offers?limit=100", f.ministry.Token)["items"].([]any)
	for _, it := range list {
		m := it.(map[string]any)
		assert.Contains(t, m, "budget_remaining_usd")
		assert.NotContains(t, m, "budget_committed_usd")
	}

	// Project dates: inside the offer's window and the engagement's period, else 422.
	prj := func(start, end string) resp {
		return n.call("POST", "/api/v1/projects", f.donor.Token, map[string]any{"engagement_id": engID, "title": "CSIRT",
			"budget_usd": 150000, "start_date": start, "end_date": end})
	}
	r := prj("2027-06-01", "2029-04-30")
	require.Equal(t, 422, r.Status, string(r.Body))
	assert.Contains(t, string(r.Body), "2028-12-31")
	r = prj("2027-06-01", "2028-06-30")
	require.Equal(t, 422, r.Status, "inside the offer's window but after the engagement's period: %s", r.Body)
	assert.Contains(t, string(r.Body), "2027-12-31")
	r = prj("2027-07-01", "2027-12-15")
	require.Equal(t, 201, r.Status, string(r.Body))

	// An offer whose budget is used up closes by itself and is no longer ranked.
	exact := n.offerWith(t, map[string]any{"budget_usd": 400000, "max_engagements": 3})
	other := n.newNeed(t, "open", "public")
	assert.Contains(t, string(n.call("GET", "/api/v1/needs/"+other+"/matches?limit=50", f.ministry.Token, nil).Body), exact)
	all := n.propose(t, f.ministry.Token, n.newNeed(t, "open", "public"), exact, nil)
	assert.EqualValues(t, 400000, all["budget_usd"])
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+all["id"].(string)+"/accept", f.donor.Token, nil).Status)
	o := n.get(t, "/api/v1/offers/"+exact, f.donor.Token)
	assert.EqualValues(t, 0, o["budget_remaining_usd"])
	assert.EqualValues(t, 2, o["engagements_remaining"])
	assert.Equal(t, "closed", o["status"], "nothing left to give: the offer closes by itself")
	assert.NotContains(t, string(n.call("GET", "/api/v1/needs/"+other+"/matches?limit=50", f.ministry.Token, nil).Body), exact)
}

// TestFundingGapAddsUp is the Senegal shape: a funded need with a shortfall, an
// over-funded one, unfunded open needs, and a withdrawn one that does not count.
func TestFundingGapAddsUp(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	commit := func(prj string, amount int) {
		r := n.call("POST", "/api/v1/projects/"+prj+"/transactions", f.donor.Token, map[string]any{"type": "commitment", "amount_usd": amount,
			"date": models.DateOf(time.Now())}) // a transaction is never after today (IATI rule 11.2.1)
		require.Equal(t, 201, r.Status, string(r.Body))
	}
	commit(n.newProject(t), 150000) // a need of 400,000 with 150,000 committed: 250,000 short
	commit(n.newProject(t), 500000) // a need of 400,000 with more than it asked: no gap, no credit
	for _, budget := range []int{200000, 170000} {
		b := needBody(f, "ministry", fmt.Sprintf("Unfunded need %d", budget))
		b["budget_usd"] = budget
		r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
		require.Equal(t, 201, r.Status, string(r.Body))
		id := r.json(t)["id"].(string)
		require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+id+"/submit", f.ministry.Token, nil).Status)
		require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+id+"/approve", f.coord.Token, nil).Status)
	}
	n.newNeed(t, "withdrawn", "public") // not live: does not count

	items := n.get(t, "/api/v1/reports/funding?group_by=country", f.coord.Token)["items"].([]any)
	require.Len(t, items, 1)
	sn := items[0].(map[string]any)
	assert.EqualValues(t, 1170000, sn["requested"], "requested: the budgets of the live needs")
	assert.EqualValues(t, 650000, sn["committed"])
	assert.EqualValues(t, 620000, sn["gap"], "250,000 short on the funded need plus 370,000 of unfunded open needs")
	assert.EqualValues(t, 2, sn["open_needs"])

	r := n.call("GET", "/api/v1/reports/funding?group_by=theme&format=csv", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	require.Len(t, lines, 2, string(r.Body))
	assert.True(t, strings.HasSuffix(lines[1], ",1170000,2,650000,0,620000"), lines[1])

	country := n.get(t, "/api/v1/countries/SN", f.coord.Token)["funding"].(map[string]any)
	assert.EqualValues(t, 1170000, country["requested"], "country figures use the same definition")
	assert.EqualValues(t, 650000, country["committed"])
	assert.EqualValues(t, 620000, country["gap"])
}

// countingStore counts the reads by id that a request makes, to show that hidden and missing
// objects take the same path.
type countingStore struct {
	models.Store
	reads atomic.Int64
}

func (s *countingStore) GetNeed(ctx context.Context, id string) (*models.Need, error) {
	s.reads.Add(1)
	return s.Store.GetNeed(ctx, id)
}

func (s *countingStore) GetOffer(ctx context.Context, id string) (*models.Offer, error) {
	s.reads.Add(1)
	return s.Store.GetOffer(ctx, id)
}

func (s *countingStore) GetEngagement(ctx context.Context, id string) (*models.Engagement, error) {
	s.reads.Add(1)
	return s.Store.GetEngagement(ctx, id)
}

func (s *countingStore) GetProject(ctx context.Context, id string) (*models.Project, error) {
	s.reads.Add(1)
	return s.Store.GetProject(ctx, id)
}

// TestHiddenAndMissingTakeOneCodePath: for needs, offers, engagements and projects, an object
// the caller may not see and one that does not exist answer byte for byte the same (but for the
// id in the path and the request id) and make the same reads on the way.
func TestHiddenAndMissingTakeOneCodePath(t *testing.T) {
	e := newEnv(t)
	var counter *countingStore
	n := e.nodeWith(func(d *service.Deps) { counter = &countingStore{Store: d.Store}; d.Store = counter })
	f := n.seed()
	restricted := n.newNeed(t, "open", "restricted")
	draftOffer := n.newOffer(t, "draft")
	eng := n.newEngagement(t, false)
	// A project on a restricted need: hidden from other ministries.
	offer := n.newOffer(t, "open")
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": restricted, "offer_id": offer})
	require.Equal(t, 201, r.Status, string(r.Body))
	hiddenEng := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+hiddenEng+"/accept", f.donor.Token, nil).Status)
	r = n.call("POST", "/api/v1/projects", f.donor.Token, map[string]any{"engagement_id": hiddenEng, "title": "Restricted CSIRT work",
		"budget_usd": 100000, "start_date": "2027-03-01", "end_date": "2027-12-31"})
	require.Equal(t, 201, r.Status, string(r.Body))
	prj := r.json(t)["id"].(string)

	missing := models.NewID(time.Now())
	cases := []struct{ name, method, hidden, token string }{
		{"need", "GET", "/api/v1/needs/" + restricted, f.ministry2.Token},
		{"need write", "POST", "/api/v1/needs/" + restricted + "/withdraw", f.ministry2.Token},
		{"offer", "GET", "/api/v1/offers/" + draftOffer, f.donor2.Token},
		{"offer write", "POST", "/api/v1/offers/" + draftOffer + "/close", f.ministry2.Token},
		{"engagement", "GET", "/api/v1/engagements/" + eng, f.donor2.Token},
		{"engagement write", "POST", "/api/v1/engagements/" + eng + "/accept", f.ministry2.Token},
		{"project", "GET", "/api/v1/projects/" + prj, f.ministry2.Token},
		{"project write", "POST", "/api/v1/projects/" + prj + "/status", f.ministry2.Token},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := strings.Split(strings.TrimPrefix(c.hidden, "/api/v1/"), "/")[1]
			absent := strings.Replace(c.hidden, id, missing, 1)
			var body any
			if c.method == "POST" {
				body = map[string]any{}
				if strings.HasSuffix(c.hidden, "/status") {
					body = map[string]any{"status": 2}
				}
			}
			before := counter.reads.Load()
			h := n.call(c.method, c.hidden, c.token, body)
			hiddenReads := counter.reads.Load() - before
			before = counter.reads.Load()
			a := n.call(c.method, absent, c.token, body)
			absentReads := counter.reads.Load() - before
			require.Equal(t, 404, h.Status, string(h.Body))
			require.Equal(t, 404, a.Status, string(a.Body))
			norm := func(r resp, id string) string {
				s := strings.ReplaceAll(string(r.Body), id, "ID")
				return strings.ReplaceAll(s, `"request_id":"`+r.problem(t).RequestID+`"`, `"request_id":""`)
			}
			assert.Equal(t, norm(a, missing), norm(h, id), "byte for byte the same answer")
			assert.Equal(t, absentReads, hiddenReads, "the same reads: one code path")
		})
	}
}

// TestEngagementAndProjectIdsAreRandom: ids can no longer be computed from the pair, while a
// retried proposal or project start still lands on the same object.
func TestEngagementAndProjectIdsAreRandom(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	old := func(k int) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", need, offer, k)))
		return "eng-" + hex.EncodeToString(sum[:12])
	}
	body := map[string]any{"need_id": need, "offer_id": offer}
	first := n.propose(t, f.ministry.Token, need, offer, nil)["id"].(string)
	assert.NotEqual(t, old(0), first, "not derived from the pair")
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, body)
	require.Equal(t, 200, r.Status, "a retry is idempotent: %s", r.Body)
	assert.Equal(t, first, r.json(t)["id"])
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+first+"/withdraw", f.ministry.Token, nil).Status)
	second := n.propose(t, f.ministry.Token, need, offer, nil)["id"].(string)
	assert.NotEqual(t, first, second)
	assert.NotEqual(t, old(1), second)

	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+second+"/accept", f.donor.Token, nil).Status)
	pb := map[string]any{"engagement_id": second, "title": "CSIRT", "budget_usd": 100000, "start_date": "2027-03-01", "end_date": "2027-12-31"}
	r = n.call("POST", "/api/v1/projects", f.donor.Token, pb)
	require.Equal(t, 201, r.Status, string(r.Body))
	prj := r.json(t)["id"].(string)
	assert.NotEqual(t, "prj-"+strings.TrimPrefix(second, "eng-"), prj, "not derived from the engagement")
	r = n.call("POST", "/api/v1/projects", f.coord.Token, pb)
	require.Equal(t, 200, r.Status, "a retry is idempotent: %s", r.Body)
	assert.Equal(t, prj, r.json(t)["id"])
	assert.Len(t, n.get(t, "/api/v1/projects", f.coord.Token)["items"], 1)
}
