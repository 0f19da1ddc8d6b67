package service

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// offerIDs lists a ranking's offers in order.
func offerIDs(items []RankedOffer) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = x.OfferID
	}
	return out
}

// TestTwoWriterReorderNeverCachesStale is issue 15's first finding. Two writers change two
// offers of one need's ranking: X (a low-ranked offer made a perfect match) is stored first,
// Y (the top offer renamed) second, but Y reaches the log first — the order a replica sees
// them in is not the order of the store writes. Replica C has applied Y only when it ranks the
// need and caches the ranking in Redis; replica D has applied both. D must not serve C's
// ranking, which lacks X.
//
// With the pub/sub bus and changes stamped by a hybrid logical clock before the store write,
// C's ranking was stamped with Y's stamp (above X's), and D, whose dirty mark for the need was
// Y's stamp, served it as current (cached=true, X ranked 12th instead of 2nd) until something
// else touched the need. Now a ranking is stamped with the log position its replica had
// applied (C: Y's position), and D marked the need dirty at X's later position.
func TestTwoWriterReorderNeverCachesStale(t *testing.T) {
	cache, err := rediscache.Open(redistest.URL(t), redistest.Prefix())
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	c := newWorldOn(t, cache, 200, 200)
	d := newWorldOn(t, cache, 200, 200)
	var needID string
	for _, id := range c.needs {
		if len(wantNeedRanking(t, c, id)) >= 4 {
			needID = id
			break
		}
	}
	require.NotEmpty(t, needID)
	top := wantNeedRanking(t, c, needID)
	xOld, _ := c.app.model.Offer(top[len(top)-1].OfferID)
	yOld, _ := c.app.model.Offer(top[0].OfferID)
	n, _ := c.app.model.Need(needID)
	x, y := *xOld, *yOld
	x.Version++
	x.Capabilities, x.Themes, x.Languages, x.Modalities = []models.Capability{n.Capability}, []models.Theme{n.Theme}, n.Languages, n.Modalities
	x.BudgetUSD, x.BudgetCommitted = 10*max(n.BudgetUSD, 1), 0
	y.Version++
	y.Title += " (revised)"
	entry := func(o models.Offer) models.Event {
		raw, _ := json.Marshal(&o)
		return models.Event{Type: models.EventOffer, ID: o.ID, Version: o.Version, Data: raw}
	}
	// The log: Y, then X.
	pY := max(c.app.Sync.Applied(), d.app.Sync.Applied()) + 1
	pX := pY + 1
	ctx := context.Background()
	c.app.Sync.Apply(ctx, pY, entry(y))
	fromC := gotNeedRanking(t, c, needID) // computed at pY, cached in Redis
	require.False(t, fromC.Cached)
	require.NotEqual(t, x.ID, fromC.Items[1].OfferID, "C has not applied X")

	d.app.Sync.Apply(ctx, pY, entry(y))
	d.app.Sync.Apply(ctx, pX, entry(x))
	got := gotNeedRanking(t, d, needID)
	want := wantNeedRanking(t, d, needID)
	assert.False(t, got.Cached, "D served C's ranking, which lacks X, as cached")
	require.Equal(t, offerIDs(want), offerIDs(got.Items), "D's ranking lacks X")
	require.Equal(t, x.ID, want[1].OfferID, "X is second once applied: the test compares something")

	// C, once it applied X, does not serve its own older ranking either, nor D's before
	// it reaches X's position.
	c.app.Sync.Apply(ctx, pX, entry(x))
	require.Equal(t, offerIDs(wantNeedRanking(t, c, needID)), offerIDs(gotNeedRanking(t, c, needID).Items))
}
