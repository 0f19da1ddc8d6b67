package service

import (
	"context"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// outbox takes notifications off the request that causes them: a notification is a side
// channel (writing one never failed its request, and its webhook was always delivered later),
// but storing it cost three or four store round trips inside every proposal, accept, decline,
// withdrawal and message (issue 16, target 4). The outbox queues them per feed in this process
// and one goroutine per feed with work stores them in order, in one append per batch; a reader
// of a feed on this replica first waits until everything queued for it before the read is
// stored (Notifications.load), so that whoever acts and then reads, on this replica, never
// misses a notification, as before. Another replica reads the feed from the store, where a
// notification lands a few milliseconds after the request that caused it was answered.
// flush waits for every queued notification (shutdown). What a crash of the process loses is
// what was queued in those milliseconds: the same notifications a crash between the change and
// its notification lost before.
type outbox struct {
	// write stores one feed's batch (Notifications.store).
	write func(ctx context.Context, feed string, items []models.Notification)

	mu    sync.Mutex
	feeds map[string]*feedQueue
}

// feedQueue is one feed's queued notifications. queued counts every notification ever queued
// for the feed, stored those written (or given up on); changed is closed and replaced each time
// stored moves.
type feedQueue struct {
	items          []models.Notification
	ctx            context.Context
	queued, stored uint64
	running        bool
	changed        chan struct{}
}

// outboxWait bounds how long a reader waits for a feed's queued notifications: the store call
// that writes them is itself bounded by postTimeout.
const outboxWait = 2 * postTimeout

// postTimeout bounds one batch's store calls.
const postTimeout = 5 * time.Second

func newOutbox(write func(context.Context, string, []models.Notification)) *outbox {
	return &outbox{write: write, feeds: map[string]*feedQueue{}}
}

// add queues items for feed and makes sure a drain runs for it. The drain keeps ctx's values
// (the request id in its log lines), not its cancellation.
func (o *outbox) add(ctx context.Context, feed string, items []models.Notification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.feeds[feed]
	if q == nil {
		q = &feedQueue{changed: make(chan struct{})}
		o.feeds[feed] = q
	}
	q.items = append(q.items, items...)
	q.queued += uint64(len(items))
	if !q.running {
		q.running, q.ctx = true, context.WithoutCancel(ctx)
		go o.drain(feed, q)
	}
}

// drain stores feed's queued notifications, oldest first, a batch at a time, until none is left.
func (o *outbox) drain(feed string, q *feedQueue) {
	for {
		o.mu.Lock()
		batch, ctx := q.items, q.ctx
		q.items = nil
		if len(batch) == 0 {
			q.running = false
			if q.stored == q.queued {
				delete(o.feeds, feed)
			}
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		o.write(ctx, feed, batch)
		o.mu.Lock()
		q.stored += uint64(len(batch))
		close(q.changed)
		q.changed = make(chan struct{})
		o.mu.Unlock()
	}
}

// wait returns once every notification queued for feed before the call is stored (or was given
// up on), or ctx ends, or outboxWait passed.
func (o *outbox) wait(ctx context.Context, feed string) {
	o.mu.Lock()
	q := o.feeds[feed]
	if q == nil {
		o.mu.Unlock()
		return
	}
	target := q.queued
	o.mu.Unlock()
	timer := time.NewTimer(outboxWait)
	defer timer.Stop()
	for {
		o.mu.Lock()
		done, ch := q.stored >= target, q.changed
		o.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		}
	}
}

// flush waits until every notification queued before the call is stored, or ctx ends.
func (o *outbox) flush(ctx context.Context) {
	o.mu.Lock()
	feeds := make([]string, 0, len(o.feeds))
	for f := range o.feeds {
		feeds = append(feeds, f)
	}
	o.mu.Unlock()
	for _, f := range feeds {
		o.wait(ctx, f)
	}
}
