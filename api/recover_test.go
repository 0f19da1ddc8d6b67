package api

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecoverInterruptedAccepts plants what a crash in the middle of an accept leaves behind and
// checks that recovery completes an accept whose slot was reserved and undoes one whose was not.
func TestRecoverInterruptedAccepts(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	store := storetest.OpenDB(t, e.db)

	// crash leaves engagement id "accepting", its need matched to it, and (if reserved) the slot taken.
	crash := func(reserved bool) (engID, needID, offerID string) {
		engID = n.newEngagement(t, false)
		eng, err := store.GetEngagement(ctx, engID)
		require.NoError(t, err)
		needID, offerID = eng.NeedID, eng.OfferID
		accepting := *eng
		accepting.Status, accepting.Version = models.EngagementAccepting, eng.Version+1
		require.NoError(t, store.ReplaceEngagement(ctx, &accepting, eng.Version))
		nd, err := store.GetNeed(ctx, needID)
		require.NoError(t, err)
		matched := *nd
		matched.Status, matched.EngagementID, matched.Version = models.NeedMatched, engID, nd.Version+1
		require.NoError(t, store.ReplaceNeed(ctx, &matched, nd.Version))
		if reserved {
			_, err := store.ReserveOfferSlot(ctx, offerID, engID, eng.BudgetUSD, time.Now())
			require.NoError(t, err)
		}
		return engID, needID, offerID
	}
	done, doneNeed, doneOffer := crash(true)
	undone, undoneNeed, undoneOffer := crash(false)

	// A replica starting now loads the half-done state and recovers it (twice: idempotent).
	r := e.node()
	require.NoError(t, r.app.Engagements.Recover(ctx))
	require.NoError(t, r.app.Engagements.Recover(ctx))

	get := func(path string) map[string]any { return r.call("GET", path, f.coord.Token, nil).json(t) }
	assert.Equal(t, "agreed", get("/api/v1/engagements/" + done)["status"])
	assert.Equal(t, "matched", get("/api/v1/needs/" + doneNeed)["status"])
	assert.EqualValues(t, 1, get("/api/v1/offers/" + doneOffer)["engagements_used"])

	assert.Equal(t, "proposed", get("/api/v1/engagements/" + undone)["status"])
	assert.Equal(t, "open", get("/api/v1/needs/" + undoneNeed)["status"])
	assert.EqualValues(t, 0, get("/api/v1/offers/" + undoneOffer)["engagements_used"])
	// The undone one can be accepted normally afterwards.
	assert.Equal(t, 200, r.call("POST", "/api/v1/engagements/"+undone+"/accept", f.donor.Token, nil).Status)
}

// TestRecoverFinishesInterruptedCascades plants what a crash in the middle of a cascade leaves
// behind (a need withdrawn but its engagements untouched, a cancellation not yet released, an
// offer closed with a proposal still open) and checks that the start-up recovery finishes
// each, idempotently, booking nothing twice.
func TestRecoverFinishesInterruptedCascades(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	store := storetest.OpenDB(t, e.db)
	get := func(r *node, path string) map[string]any { return r.call("GET", path, f.coord.Token, nil).json(t) }

	// 1. A need withdrawn straight in the store: its agreement and a proposal were not settled.
	agreed := n.newEngagement(t, true)
	eng, err := store.GetEngagement(ctx, agreed)
	require.NoError(t, err)
	needID, offerID := eng.NeedID, eng.OfferID
	other := n.newOffer(t, "open")
	r := n.call("POST", "/api/v1/engagements", f.donor.Token, map[string]any{"need_id": needID, "offer_id": other})
	require.Equal(t, 409, r.Status, "a matched need takes no new proposal: %s", r.Body)
	nd, err := store.GetNeed(ctx, needID)
	require.NoError(t, err)
	withdrawn := *nd
	withdrawn.Status, withdrawn.Version = models.NeedWithdrawn, nd.Version+1
	require.NoError(t, store.ReplaceNeed(ctx, &withdrawn, nd.Version))

	// 2. A cancellation written but not released: the slot and amount are still taken.
	cancelled := n.newEngagement(t, true)
	c, err := store.GetEngagement(ctx, cancelled)
	require.NoError(t, err)
	half := *c
	half.Status, half.Reason, half.Version = models.EngagementCancelled, "called off", c.Version+1
	require.NoError(t, store.ReplaceEngagement(ctx, &half, c.Version))

	// 3. An offer closed straight in the store with a proposal still open.
	proposal := n.newEngagement(t, false)
	p, err := store.GetEngagement(ctx, proposal)
	require.NoError(t, err)
	o, err := store.GetOffer(ctx, p.OfferID)
	require.NoError(t, err)
	closed := *o
	closed.Status, closed.Version = models.OfferClosed, o.Version+1
	require.NoError(t, store.ReplaceOffer(ctx, &closed, o.Version))

	rep := e.node()
	require.NoError(t, rep.app.Engagements.Recover(ctx))
	require.NoError(t, rep.app.Engagements.Recover(ctx))

	assert.Equal(t, "cancelled", get(rep, "/api/v1/engagements/"+agreed)["status"], "the withdrawn need's agreement is cancelled")
	off := get(rep, "/api/v1/offers/"+offerID)
	assert.EqualValues(t, 0, off["engagements_used"], "and its slot released once")
	assert.EqualValues(t, 0, off["budget_committed_usd"])

	x := get(rep, "/api/v1/engagements/"+cancelled)
	assert.NotEmpty(t, x["released_at"], "the interrupted cancellation is released")
	off = get(rep, "/api/v1/offers/"+x["offer_id"].(string))
	assert.EqualValues(t, 0, off["engagements_used"])
	assert.EqualValues(t, 0, off["budget_committed_usd"])
	assert.Equal(t, "open", get(rep, "/api/v1/needs/"+x["need_id"].(string))["status"], "its need is open again")

	assert.Equal(t, "withdrawn", get(rep, "/api/v1/engagements/"+proposal)["status"], "the closed offer's proposal is withdrawn")
	assert.True(t, rep.feed(t, f.ministry.Token, "").has("withdrawn", proposal), "and its sides told")
}
