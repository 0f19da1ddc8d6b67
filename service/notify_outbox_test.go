package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// heldFeeds is a store whose notification appends wait until the test lets them through.
type heldFeeds struct {
	models.Store
	hold    atomic.Bool // appends wait for release (else they go through)
	release chan struct{}
	entered chan string
	stored  atomic.Int64
}

func (h *heldFeeds) AppendNotifications(ctx context.Context, feed string, items []models.Notification, max int) error {
	if h.hold.Load() {
		h.entered <- feed
		<-h.release
	}
	err := h.Store.AppendNotifications(ctx, feed, items, max)
	h.stored.Add(int64(len(items)))
	return err
}

// TestNotificationsAreStoredAfterTheAnswerAndReadInOrder: a proposal is answered while the
// other side's notification is still being stored (the outbox), and a read of that feed on the
// same replica waits for it instead of missing it; Flush waits for what is queued.
func TestNotificationsAreStoredAfterTheAnswerAndReadInOrder(t *testing.T) {
	h := &heldFeeds{release: make(chan struct{}), entered: make(chan string, 16)}
	t.Cleanup(func() {
		if h.hold.Swap(false) {
			close(h.release) // a failed assertion leaves no append waiting
		}
	})
	w := newWorldWith(t, func(d *service.Deps) { h.Store = d.Store; d.Store = h })
	need := w.openNeed("National CSIRT, first year")
	offer := w.openOffer(w.donor, "Francophone CSIRT mentoring")
	w.app.Notifications.Flush(w.ctx)
	before := h.stored.Load()
	h.hold.Store(true)

	proposed := make(chan *models.Engagement, 1)
	go func() {
		e, created, err := w.app.Engagements.Propose(w.ctx, w.sn, service.EngagementInput{NeedID: need.ID, OfferID: offer.ID})
		assert.NoError(t, err)
		assert.True(t, created)
		proposed <- e
	}()
	var feed string
	select {
	case feed = <-h.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the proposal's notification was never written")
	}
	assert.Equal(t, w.donor.OrgID, feed, "the other side's feed")
	var e *models.Engagement
	select {
	case e = <-proposed:
	case <-time.After(5 * time.Second):
		t.Fatal("the proposal waited for its notification to be stored")
	}
	require.NotNil(t, e)
	assert.Equal(t, before, h.stored.Load(), "the proposal was answered before its notification was stored")

	listed := make(chan *service.Feed, 1)
	go func() {
		f, err := w.app.Notifications.List(w.ctx, w.donor, false, 50)
		assert.NoError(t, err)
		listed <- f
	}()
	select {
	case <-listed:
		t.Fatal("the feed was read before the notification queued for it was stored")
	case <-time.After(50 * time.Millisecond):
	}
	h.hold.Store(false)
	close(h.release)
	f := <-listed
	require.NotEmpty(t, f.Items)
	assert.Equal(t, service.KindProposal, f.Items[0].Kind, "the newest item is the proposal")
	assert.Equal(t, e.ID, f.Items[0].ObjectID)

	// Flush returns once everything queued is stored.
	_, err := w.app.Engagements.Decline(w.ctx, w.donor, e.ID, "no expert free this year")
	require.NoError(t, err)
	w.app.Notifications.Flush(w.ctx)
	assert.Equal(t, before+2, h.stored.Load(), "the proposal and the decline are stored")
}
