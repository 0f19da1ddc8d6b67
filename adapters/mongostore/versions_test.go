package mongostore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/event"
)

// counted opens two stores on one fresh database of the shared server, as two API replicas in
// one process, each counting the commands it sends.
func counted(t *testing.T) (a, b *mongostore.Store, ca, cb *atomic.Int64) {
	t.Helper()
	name := storetest.NewDBName()
	u := storetest.DirectURI()
	if u == "" {
		u = storetest.URI() // MongoDB (CAPMATCH_TEST_MONGO_URI): no version cache, same outcomes
	}
	mon := func(c *atomic.Int64) *event.CommandMonitor {
		return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
			switch e.CommandName {
			case "find", "update", "insert", "findAndModify", "delete", "count", "aggregate":
				c.Add(1)
			}
		}}
	}
	ca, cb = &atomic.Int64{}, &atomic.Int64{}
	return storetest.OpenMonitored(t, u, name, mon(ca)), storetest.OpenMonitored(t, u, name, mon(cb)), ca, cb
}

// calls counts the commands f sends through c.
func calls(c *atomic.Int64, f func()) int64 {
	before := c.Load()
	f()
	return c.Load() - before
}

// TestKnownVersionsSkipTheReadAndNeverHideAConflict (issue 16, target 4): on the embedded store a
// conditional write whose expected version is the one this process last wrote sends only its
// update (no version read), and a write from a stale version still fails with ErrConflict, also
// when the newer version was written through another store of the process (another replica).
func TestKnownVersionsSkipTheReadAndNeverHideAConflict(t *testing.T) {
	ctx := context.Background()
	a, b, ca, cb := counted(t)
	now := time.Now().UTC()
	n := &models.Need{ID: "n1", Title: "v1", Country: "SN", Status: models.NeedOpen, Version: 1, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, a.CreateNeed(ctx, n))

	n2 := *n
	n2.Title, n2.Version = "v2", 2
	sent := calls(ca, func() { require.NoError(t, a.ReplaceNeed(ctx, &n2, 1)) })
	if a.Serialized() {
		assert.EqualValues(t, 1, sent, "the version this process wrote is known: the update alone")
	}

	n3 := n2
	n3.Title, n3.Version = "v3 through the other replica", 3
	require.NoError(t, b.ReplaceNeed(ctx, &n3, 2))

	stale := n2
	stale.Title, stale.Version = "from a stale read", 3
	require.ErrorIs(t, a.ReplaceNeed(ctx, &stale, 2), models.ErrConflict, "the other replica's write is never overwritten")
	got, err := a.GetNeed(ctx, "n1")
	require.NoError(t, err)
	assert.Equal(t, "v3 through the other replica", got.Title)

	n4 := n3
	n4.Title, n4.Version = "v4", 4
	require.NoError(t, a.ReplaceNeed(ctx, &n4, 3))
	sent = calls(cb, func() {
		n5 := n4
		n5.Title, n5.Version = "v5", 5
		require.NoError(t, b.ReplaceNeed(ctx, &n5, 4))
	})
	if b.Serialized() {
		assert.EqualValues(t, 1, sent, "the cache is shared by the process's stores on one database")
	}
	require.ErrorIs(t, a.ReplaceNeed(ctx, &n4, 3), models.ErrConflict)
}

// TestKnownVersionsFollowReservations: the reservation operations change an offer's version
// too; an edit built before a reservation conflicts, one built after it needs no version read.
func TestKnownVersionsFollowReservations(t *testing.T) {
	ctx := context.Background()
	a, _, ca, _ := counted(t)
	require.NoError(t, a.CreateOffer(ctx, openOffer("o1", 3, 1_000_000)))
	before, err := a.GetOffer(ctx, "o1")
	require.NoError(t, err)
	after, err := a.ReserveOfferSlot(ctx, "o1", "e1", 1_000, time.Now())
	require.NoError(t, err)
	require.Greater(t, after.Version, before.Version)

	edit := *before
	edit.Title, edit.Version = "edited from before the reservation", before.Version+1
	require.ErrorIs(t, a.ReplaceOffer(ctx, &edit, before.Version), models.ErrConflict)

	edit = *after
	edit.Title, edit.Version = "edited after it", after.Version+1
	sent := calls(ca, func() { require.NoError(t, a.ReplaceOffer(ctx, &edit, after.Version)) })
	if a.Serialized() {
		assert.EqualValues(t, 1, sent)
	}
	released, err := a.ReleaseOfferSlot(ctx, "o1", "e1", 1_000, time.Now())
	require.NoError(t, err)
	require.ErrorIs(t, a.ReplaceOffer(ctx, &edit, after.Version), models.ErrConflict, "the release moved the version")
	got, err := a.GetOffer(ctx, "o1")
	require.NoError(t, err)
	assert.Equal(t, "edited after it", got.Title)
	assert.Equal(t, released.Version, got.Version)
	assert.Empty(t, got.Reservations)
}

// TestKnownVersionsKeepEngagementThreads: an engagement's change that skips the version read
// still stores exactly the new messages, and a change from a stale version conflicts.
func TestKnownVersionsKeepEngagementThreads(t *testing.T) {
	ctx := context.Background()
	a, b, ca, _ := counted(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := &models.Engagement{ID: "e1", NeedID: "n1", OfferID: "o1", Status: models.EngagementProposed, Version: 1, CreatedAt: now, UpdatedAt: now,
		Messages: []models.EngagementMessage{{ID: "m1", Body: "hello", CreatedAt: now}}}
	require.NoError(t, a.CreateEngagement(ctx, e))
	for i, body := range []string{"second", "third"} {
		next := *e
		next.Messages = append(append([]models.EngagementMessage{}, e.Messages...), models.EngagementMessage{ID: "m" + string(rune('2'+i)), Body: body, CreatedAt: now})
		next.Version = e.Version + 1
		sent := calls(ca, func() { require.NoError(t, a.ReplaceEngagement(ctx, &next, e.Version)) })
		if a.Serialized() {
			assert.EqualValues(t, 2, sent, "the new message and the engagement: no read")
		}
		e = &next
	}
	got, err := b.GetEngagement(ctx, "e1")
	require.NoError(t, err)
	require.Len(t, got.Messages, 3)
	assert.Equal(t, []string{"hello", "second", "third"}, []string{got.Messages[0].Body, got.Messages[1].Body, got.Messages[2].Body})

	other := *got
	other.Status, other.Version = models.EngagementDeclined, got.Version+1
	require.NoError(t, b.ReplaceEngagement(ctx, &other, got.Version))
	stale := *e
	stale.Version = e.Version + 1
	require.ErrorIs(t, a.ReplaceEngagement(ctx, &stale, e.Version), models.ErrConflict)
}

// TestKnownVersionsForgetDeletedImports: rows of an import deleted and imported again under
// the same ids start again at their stored version.
func TestKnownVersionsForgetDeletedImports(t *testing.T) {
	ctx := context.Background()
	a, _, _, _ := counted(t)
	now := time.Now().UTC()
	row := func(v int64) *models.Need {
		return &models.Need{ID: "imp-1", Title: "row", Country: "SN", Status: models.NeedOpen, Version: v, ImportBatch: "b1", CreatedAt: now, UpdatedAt: now}
	}
	require.NoError(t, a.InsertNeeds(ctx, []*models.Need{row(1)}))
	require.NoError(t, a.ReplaceNeed(ctx, row(2), 1))
	require.NoError(t, a.ReplaceNeed(ctx, row(3), 2))
	require.NoError(t, a.DeleteImported(ctx, &models.ImportBatch{ID: "b1", Kind: "needs", RowIDs: []string{"imp-1"}}))
	require.NoError(t, a.InsertNeeds(ctx, []*models.Need{row(1)}))
	// First the version the process wrote before the delete: the stored row is at 1 again.
	require.ErrorIs(t, a.ReplaceNeed(ctx, row(4), 3), models.ErrConflict, "the version before the delete is stale")
	require.NoError(t, a.ReplaceNeed(ctx, row(2), 1), "the version read again after the delete")
}

// TestOpeningAStoreForgetsItsDatabasesVersions: a store opened on a database (a server restarted
// at the same address may hold other data) makes the process read versions again before it
// trusts them.
func TestOpeningAStoreForgetsItsDatabasesVersions(t *testing.T) {
	ctx := context.Background()
	name := storetest.NewDBName()
	u := storetest.DirectURI()
	if u == "" {
		u = storetest.URI()
	}
	c := &atomic.Int64{}
	a := storetest.OpenMonitored(t, u, name, &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" || e.CommandName == "update" {
			c.Add(1)
		}
	}})
	now := time.Now().UTC()
	n := &models.Need{ID: "n1", Title: "v1", Country: "SN", Status: models.NeedOpen, Version: 1, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, a.CreateNeed(ctx, n))
	n.Version = 2
	require.NoError(t, a.ReplaceNeed(ctx, n, 1))
	_ = storetest.OpenAt(t, u, name) // another store of the database, opened after a's write
	n.Version = 3
	sent := calls(c, func() { require.NoError(t, a.ReplaceNeed(ctx, n, 2)) })
	if a.Serialized() {
		assert.EqualValues(t, 2, sent, "the version read again, then the update")
		n.Version = 4
		sent = calls(c, func() { require.NoError(t, a.ReplaceNeed(ctx, n, 3)) })
		assert.EqualValues(t, 1, sent, "known again once written")
	}
}
