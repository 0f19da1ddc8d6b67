package rediscache

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/matching"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRankingSnapshotsRoundTrip: a need's and an offer's lists come back as they were stored;
// an entry written before snapshots named their owner, or one that cannot be read, is a miss.
func TestRankingSnapshotsRoundTrip(t *testing.T) {
	c, err := Open(redistest.URL(t), redistest.Prefix())
	require.NoError(t, err)
	defer c.Close()
	r := NewRankings(c, time.Minute)
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	need := &matching.Snapshot{Owner: "n1", ByNeed: true, Stamp: 42, Day: "2026-12-07", WeightsVersion: 3, ComputedAt: at,
		Items: []matching.Match{{NeedID: "n1", OfferID: "o1", Score: 0.9}, {NeedID: "n1", OfferID: "o2", Score: 0.5}}, Complete: true,
		Model: matching.ModelVersion}
	offer := &matching.Snapshot{Owner: "o1", Stamp: 43, Day: "2026-12-07", WeightsVersion: 3, ComputedAt: at,
		Items: []matching.Match{{NeedID: "n1", OfferID: "o1", Score: 0.9}}, Model: matching.ModelVersion}
	require.NoError(t, r.Set(ctx, map[string]*matching.Snapshot{"need:n1": need, "o1|ministry-x": offer}))
	got, err := r.Get(ctx, "need:n1")
	require.NoError(t, err)
	assert.Equal(t, need, got)
	got, err = r.Get(ctx, "o1|ministry-x")
	require.NoError(t, err)
	assert.Equal(t, offer, got)
	got, err = r.Get(ctx, "need:missing")
	require.NoError(t, err)
	assert.Nil(t, got)

	for key, raw := range map[string]string{
		"need:old":  `{"s":1,"d":"2026-06-01","w":1,"t":"2026-06-01T00:00:00Z","i":["o1"],"v":[0.9],"m":2}`,
		"need:bad":  `{"o":"n1","i":["o1","o2"],"v":[0.9]}`,
		"need:junk": `not json`,
	} {
		require.NoError(t, c.rdb.Set(ctx, c.Key("rank", key), raw, time.Minute).Err())
		got, err := r.Get(ctx, key)
		require.NoError(t, err, key)
		assert.Nil(t, got, key)
	}
}
