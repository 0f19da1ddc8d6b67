package api

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/mongostore/storetest"
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
			_, err := store.ReserveOfferSlot(ctx, offerID, engID, eng.BudgetUSD, time.Now(), 1)
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
