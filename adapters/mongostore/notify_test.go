package mongostore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestNotificationFeedsArePagedAndKeepTheNewest: a feed keeps its newest notifications in order
// across many pages, appends of several at once included, and its old pages are deleted.
func TestNotificationFeedsArePagedAndKeepTheNewest(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	n := 0
	next := func(k int) []models.Notification {
		var out []models.Notification
		for range k {
			out = append(out, models.Notification{ID: strconv.Itoa(n), Kind: "k", CreatedAt: now})
			n++
		}
		return out
	}
	feed, err := s.NotificationFeed(ctx, "org-x")
	require.NoError(t, err)
	assert.Empty(t, feed, "no feed yet")
	for i := range 130 {
		require.NoError(t, s.AppendNotifications(ctx, "org-x", next(1+i%3), 50))
	}
	feed, err = s.NotificationFeed(ctx, "org-x")
	require.NoError(t, err)
	require.Len(t, feed, 50)
	for i, it := range feed {
		assert.Equal(t, strconv.Itoa(n-50+i), it.ID, "the newest 50, oldest first")
	}
	pages, err := s.Database().Collection("notifications").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.LessOrEqual(t, pages, int64(1+4), "the head and the pages of the kept window only")
}

// TestConcurrentAppendsLoseNoNotification: appends from many goroutines to one feed all land.
func TestConcurrentAppendsLoseNoNotification(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				assert.NoError(t, s.AppendNotifications(ctx, "org-c", []models.Notification{{ID: fmt.Sprintf("%d-%d", g, i), Kind: "k"}}, 500))
			}
		}()
	}
	wg.Wait()
	feed, err := s.NotificationFeed(ctx, "org-c")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, it := range feed {
		seen[it.ID] = true
	}
	assert.Len(t, seen, 120)
}

// TestFeedWrittenBeforePagesIsReadUntilItAgesOut: a feed stored whole (before pages) is read with
// the pages that follow it, and dropped once the pages cover the kept window.
func TestFeedWrittenBeforePagesIsReadUntilItAgesOut(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	var old []models.Notification
	for i := range 30 {
		old = append(old, models.Notification{ID: "old-" + strconv.Itoa(i), Kind: "k"})
	}
	_, err := s.Database().Collection("notifications").InsertOne(ctx, bson.D{{Key: "_id", Value: "org:org-l"}, {Key: "items", Value: old}, {Key: "version", Value: 7}})
	require.NoError(t, err)
	require.NoError(t, s.AppendNotifications(ctx, "org-l", []models.Notification{{ID: "new-0", Kind: "k"}}, 40))
	feed, err := s.NotificationFeed(ctx, "org-l")
	require.NoError(t, err)
	require.Len(t, feed, 31)
	assert.Equal(t, "old-0", feed[0].ID)
	assert.Equal(t, "new-0", feed[30].ID)
	for i := 1; i < 80; i++ {
		require.NoError(t, s.AppendNotifications(ctx, "org-l", []models.Notification{{ID: "new-" + strconv.Itoa(i), Kind: "k"}}, 40))
	}
	feed, err = s.NotificationFeed(ctx, "org-l")
	require.NoError(t, err)
	require.Len(t, feed, 40)
	assert.Equal(t, "new-40", feed[0].ID)
	assert.Equal(t, "new-79", feed[39].ID)
}

// TestLongBatchesAreSplitIntoPages: a batch longer than a page (the outbox stores what queued
// for a feed at once) fills pages of at most 20, in order, and the feed reads all of it.
func TestLongBatchesAreSplitIntoPages(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	var batch []models.Notification
	for i := range 47 {
		batch = append(batch, models.Notification{ID: strconv.Itoa(i), Kind: "k"})
	}
	require.NoError(t, s.AppendNotifications(ctx, "org-b", batch[:3], 100))
	require.NoError(t, s.AppendNotifications(ctx, "org-b", batch[3:], 100))
	feed, err := s.NotificationFeed(ctx, "org-b")
	require.NoError(t, err)
	require.Len(t, feed, 47)
	for i, it := range feed {
		assert.Equal(t, strconv.Itoa(i), it.ID, "oldest first, in the order appended")
	}
	cur, err := s.Database().Collection("notifications").Find(ctx, bson.D{})
	require.NoError(t, err)
	var docs []struct {
		ID    string                `bson:"_id"`
		Items []models.Notification `bson:"items"`
	}
	require.NoError(t, cur.All(ctx, &docs))
	pages := 0
	for _, d := range docs {
		if d.ID == "org:org-b" {
			continue
		}
		pages++
		assert.LessOrEqual(t, len(d.Items), 20, "page %s", d.ID)
	}
	assert.Equal(t, 3, pages, "47 notifications fill three pages")
}
