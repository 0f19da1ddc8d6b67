package mongostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// rawDoc reads a stored document as it is, fields the code does not know included.
func rawDoc(t *testing.T, s *mongostore.Store, coll, id string) bson.M {
	t.Helper()
	var m bson.M
	require.NoError(t, s.Database().Collection(coll).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&m))
	return m
}

// plant adds a field this build does not know to a stored document, as a newer build would.
func plant(t *testing.T, s *mongostore.Store, coll, id string) {
	t.Helper()
	_, err := s.Database().Collection(coll).UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "added_by_a_newer_build", Value: "keep me"}}}})
	require.NoError(t, err)
}

// TestUpdatesKeepFieldsOfNewerBuilds (issue 15, point 7): during a rolling update an old pod
// writes documents that a new pod has given new fields. Versioned updates $set the fields this
// build knows and $unset only the ones it cleared, so the newer build's fields survive; every
// write records the schema version it was made with.
func TestUpdatesKeepFieldsOfNewerBuilds(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)

	n := &models.Need{ID: "n1", Title: "Need", Country: "SN", Status: models.NeedOpen, StatusReason: "first",
		Version: 1, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.CreateNeed(ctx, n))
	assert.EqualValues(t, 1, rawDoc(t, s, "needs", "n1")["schema_version"], "inserts record the schema version")
	plant(t, s, "needs", "n1")
	n.Title, n.StatusReason, n.Version = "Need, edited", "", 2
	require.NoError(t, s.ReplaceNeed(ctx, n, 1))
	doc := rawDoc(t, s, "needs", "n1")
	assert.Equal(t, "keep me", doc["added_by_a_newer_build"], "a field of a newer build survives an update")
	assert.Equal(t, "Need, edited", doc["title"])
	assert.NotContains(t, doc, "status_reason", "a field this build cleared is removed")
	assert.EqualValues(t, 1, doc["schema_version"])
	got, err := s.GetNeed(ctx, "n1")
	require.NoError(t, err)
	assert.Empty(t, got.StatusReason)
	assert.EqualValues(t, 2, got.Version)
	require.ErrorIs(t, s.ReplaceNeed(ctx, n, 1), models.ErrConflict, "the version condition still holds")

	o := openOffer("o1", 2, 50_000)
	o.ContactName, o.ContactEmail = "Programme desk", "desk@example.org"
	require.NoError(t, s.CreateOffer(ctx, o))
	plant(t, s, "offers", "o1")
	o.ContactName, o.ContactEmail, o.Version = "", "", 2
	require.NoError(t, s.ReplaceOffer(ctx, o, 1))
	doc = rawDoc(t, s, "offers", "o1")
	assert.Equal(t, "keep me", doc["added_by_a_newer_build"])
	assert.NotContains(t, doc, "contact_email", "a cleared contact is removed from the store, not kept")
	got2, err := s.GetOffer(ctx, "o1")
	require.NoError(t, err)
	assert.Empty(t, got2.ContactEmail)
	assert.Empty(t, got2.ContactName)
}

// TestOfferEditLeavesReservationsAlone: the offer's content update never touches the capacity
// counters, which only the reservation operations change.
func TestOfferEditLeavesReservationsAlone(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	require.NoError(t, s.CreateOffer(ctx, openOffer("o1", 2, 50_000)))
	_, err := s.ReserveOfferSlot(ctx, "o1", "e1", 10_000, time.Now())
	require.NoError(t, err)
	stale, err := s.GetOffer(ctx, "o1")
	require.NoError(t, err)
	stale.Reservations, stale.EngagementsUsed, stale.BudgetCommitted = nil, 0, 0 // as an edit built from an older read would carry
	stale.Title = "Offer, edited"
	prev := stale.Version
	stale.Version++
	require.NoError(t, s.ReplaceOffer(ctx, stale, prev))
	got, err := s.GetOffer(ctx, "o1")
	require.NoError(t, err)
	assert.Equal(t, "Offer, edited", got.Title)
	assert.Equal(t, []string{"e1"}, got.Reservations)
	assert.Equal(t, 1, got.EngagementsUsed)
	assert.EqualValues(t, 10_000, got.BudgetCommitted)
}
