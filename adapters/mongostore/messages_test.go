package mongostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func message(i int) models.EngagementMessage {
	return models.EngagementMessage{ID: fmt.Sprintf("m%03d", i), AuthorID: "u1", Side: models.SideNeed,
		Body: fmt.Sprintf("message %d", i), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
}

// TestEngagementMessagesLiveOutsideTheEngagement (issue 15, point 7): an engagement's document
// lists its messages' ids and each message is a document of its own, so that a long
// conversation neither grows the engagement toward the 16 MB document limit nor is rewritten by
// every status change. Reads give the thread back in order, one by one and in the full load.
func TestEngagementMessagesLiveOutsideTheEngagement(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := &models.Engagement{ID: "e1", NeedID: "n1", OfferID: "o1", Status: models.EngagementProposed, Version: 1,
		CreatedAt: now, UpdatedAt: now, Messages: []models.EngagementMessage{message(0)}}
	require.NoError(t, s.CreateEngagement(ctx, e))
	for i := 1; i <= 30; i++ {
		next := *e
		next.Messages = append(append([]models.EngagementMessage{}, e.Messages...), message(i))
		next.Version = e.Version + 1
		require.NoError(t, s.ReplaceEngagement(ctx, &next, e.Version))
		e = &next
	}
	doc := rawDoc(t, s, "engagements", "e1")
	assert.NotContains(t, doc, "messages", "the thread is not inside the engagement")
	assert.Len(t, doc["message_ids"], 31)
	n, err := s.Database().Collection("engagement_messages").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.EqualValues(t, 31, n, "each message written once")

	got, err := s.GetEngagement(ctx, "e1")
	require.NoError(t, err)
	assert.Equal(t, e.Messages, got.Messages)
	all, err := s.ListEngagements(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, e.Messages, all[0].Messages)

	// A status change that loses to a concurrent one leaves its message unlisted: never shown.
	lost := *e
	lost.Messages = append(append([]models.EngagementMessage{}, e.Messages...), message(99))
	lost.Version = e.Version + 1
	require.ErrorIs(t, s.ReplaceEngagement(ctx, &lost, e.Version-1), models.ErrConflict)
	got, err = s.GetEngagement(ctx, "e1")
	require.NoError(t, err)
	assert.Equal(t, e.Messages, got.Messages, "a message whose write lost is not in the thread")

	// An engagement without messages reads as an empty thread, never null.
	require.NoError(t, s.CreateEngagement(ctx, &models.Engagement{ID: "e2", NeedID: "n2", OfferID: "o1", Status: models.EngagementProposed, Version: 1, CreatedAt: now, UpdatedAt: now}))
	got, err = s.GetEngagement(ctx, "e2")
	require.NoError(t, err)
	assert.NotNil(t, got.Messages)
	assert.Empty(t, got.Messages)
}

// TestEngagementStoredWithItsThreadInsideIsMovedOut: an engagement written by an earlier version
// (the thread inside its document) reads as it is, and its next change moves the thread out.
func TestEngagementStoredWithItsThreadInsideIsMovedOut(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := models.Engagement{ID: "e1", NeedID: "n1", OfferID: "o1", Status: models.EngagementProposed, Version: 1,
		CreatedAt: now, UpdatedAt: now, Messages: []models.EngagementMessage{message(0), message(1)}}
	_, err := s.Database().Collection("engagements").InsertOne(ctx, old) // the earlier layout
	require.NoError(t, err)
	got, err := s.GetEngagement(ctx, "e1")
	require.NoError(t, err)
	assert.Equal(t, old.Messages, got.Messages)

	next := *got
	next.Messages = append(append([]models.EngagementMessage{}, got.Messages...), message(2))
	next.Status, next.Version = models.EngagementDeclined, 2
	require.NoError(t, s.ReplaceEngagement(ctx, &next, 1))
	doc := rawDoc(t, s, "engagements", "e1")
	assert.NotContains(t, doc, "messages")
	assert.Len(t, doc["message_ids"], 3)
	all, err := s.ListEngagements(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, next.Messages, all[0].Messages)
	assert.Equal(t, models.EngagementDeclined, all[0].Status)
}
