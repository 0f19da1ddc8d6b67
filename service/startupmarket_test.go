package service

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingMarket counts the full reads of needs and offers it serves.
type countingMarket struct {
	*memStore
	needs, offers atomic.Int32
}

func (c *countingMarket) EachNeed(ctx context.Context, known func(string, int64) bool, f func(*models.Need) error) error {
	c.needs.Add(1)
	return c.memStore.EachNeed(ctx, known, f)
}

func (c *countingMarket) EachOffer(ctx context.Context, known func(string, int64) bool, f func(*models.Offer) error) error {
	c.offers.Add(1)
	return c.memStore.EachOffer(ctx, known, f)
}

// TestBulkMarketServesEveryFullLoad (issue 16): Deps.BulkMarket (the embedded store's file
// reader) serves the start-up's load and the reconcile's; the store serves neither.
func TestBulkMarketServesEveryFullLoad(t *testing.T) {
	ctx := context.Background()
	store := &countingMarket{memStore: newMemStore()}
	fillStore(store.memStore, 3, 50)
	file := &countingMarket{memStore: newMemStore()}
	fillStore(file.memStore, 3, 50)
	w := newStoreWorld(t, store.memStore, nil)
	app := New(Deps{Store: store, BulkMarket: file, Bus: benchBus{}, Now: w.app.Needs.now, Log: w.app.Needs.log,
		CursorKey: []byte("test"), Rankings: w.app.Matching.cache})
	require.NoError(t, app.StartAt(ctx, 0))
	needs, offers := app.Loaded()
	assert.Equal(t, 50, needs)
	assert.Equal(t, 50, offers)
	assert.EqualValues(t, 1, file.needs.Load())
	assert.EqualValues(t, 1, file.offers.Load())
	assert.EqualValues(t, 0, store.needs.Load()+store.offers.Load(), "the start-up's load read the file reader only")
	require.NoError(t, app.Sync.Reconcile(ctx))
	assert.EqualValues(t, 2, file.needs.Load(), "the reconcile reads the file reader too")
	assert.EqualValues(t, 2, file.offers.Load(), "the reconcile reads the file reader too")
	assert.EqualValues(t, 0, store.needs.Load()+store.offers.Load(), "no full load reads the store")
}
