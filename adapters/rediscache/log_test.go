package rediscache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// follower records what a log hands it.
type follower struct {
	mu       sync.Mutex
	reloads  []int64
	applied  []int64
	ids      []string
	live     bool
	changed  chan struct{}
	onApply  func(pos int64)
	onReload func(head int64)
}

func newFollower() *follower { return &follower{changed: make(chan struct{}, 1000)} }

func (f *follower) Reload(_ context.Context, head int64) error {
	if f.onReload != nil {
		f.onReload(head)
	}
	f.mu.Lock()
	f.reloads = append(f.reloads, head)
	f.mu.Unlock()
	f.changed <- struct{}{}
	return nil
}

func (f *follower) Apply(_ context.Context, pos int64, e models.Event) {
	if f.onApply != nil {
		f.onApply(pos)
	}
	f.mu.Lock()
	if pos != e.Gen {
		panic(fmt.Sprintf("event at %d stamped %d", pos, e.Gen))
	}
	f.applied = append(f.applied, pos)
	f.ids = append(f.ids, e.ID)
	f.mu.Unlock()
	f.changed <- struct{}{}
}

func (f *follower) Live(live bool) {
	f.mu.Lock()
	f.live = live
	f.mu.Unlock()
	f.changed <- struct{}{}
}

// until waits (at most 5 s) for cond on the follower's records.
func (f *follower) until(t *testing.T, what string, cond func(f *follower) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		ok := cond(f)
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (f *follower) snapshot() (reloads, applied []int64, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.reloads...), append([]int64(nil), f.applied...), append([]string(nil), f.ids...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var logger = quiet()

// replica is one log with its follower and consumer.
type replica struct {
	log  *rediscache.Log
	f    *follower
	stop func()
}

func startReplica(t *testing.T, c *rediscache.Client, name string, f *follower) *replica {
	t.Helper()
	l := rediscache.NewLog(c, name, logger)
	r := &replica{log: l, f: f}
	r.start()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *replica) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.log.Run(ctx, r.f, 100*time.Millisecond); close(done) }()
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); <-done }) }
}

func openLogClient(t *testing.T, url, prefix string) *rediscache.Client {
	t.Helper()
	c, err := rediscache.Open(url, prefix)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func isLive(f *follower) bool { return f.live }

// TestLogOrdersEveryEntryForEveryReplica: two replicas append concurrently; both apply every
// entry, their own included, at the same dense positions in the same order, and Publish
// returns only once the writer's own consumer applied its entry.
func TestLogOrdersEveryEntryForEveryReplica(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	a := startReplica(t, openLogClient(t, url, prefix), "a", newFollower())
	b := startReplica(t, openLogClient(t, url, prefix), "b", newFollower())
	a.f.until(t, "a live", isLive)
	b.f.until(t, "b live", isLive)
	var wg sync.WaitGroup
	for w, r := range []*replica{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				id := fmt.Sprintf("%d-%d", w, i)
				pos, err := r.log.Publish(context.Background(), models.Event{Type: models.EventNeed, ID: id})
				if !assert.NoError(t, err) {
					return
				}
				assert.GreaterOrEqual(t, r.log.Applied(), pos, "Publish returned before its own consumer applied %s", id)
				r.f.mu.Lock()
				assert.Contains(t, r.f.ids, id, "the writer's follower has not applied its own entry")
				r.f.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, r := range []*replica{a, b} {
		r.f.until(t, "80 entries", func(f *follower) bool { return len(f.applied) == 80 })
	}
	ra, pa, ia := a.f.snapshot()
	rb, pb, ib := b.f.snapshot()
	require.Len(t, ra, 1, "one reload at start")
	require.Len(t, rb, 1)
	assert.Equal(t, pa, pb, "both replicas apply the same positions")
	assert.Equal(t, ia, ib, "in the same order")
	for i := 1; i < len(pa); i++ {
		require.Equal(t, pa[i-1]+1, pa[i], "positions are dense")
	}
	assert.Equal(t, max(ra[0], rb[0])+1, pa[0], "the first entry follows the head each replica loaded at")
}

// TestLogResumesFromItsPosition: a replica whose consumer stops and starts again applies what
// it missed from its position, without reloading.
func TestLogResumesFromItsPosition(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	a := startReplica(t, openLogClient(t, url, prefix), "a", newFollower())
	b := startReplica(t, openLogClient(t, url, prefix), "b", newFollower())
	a.f.until(t, "a live", isLive)
	b.f.until(t, "b live", isLive)
	for i := range 5 {
		_, err := b.log.Publish(context.Background(), models.Event{Type: models.EventOffer, ID: "x" + strconv.Itoa(i)})
		require.NoError(t, err)
	}
	a.f.until(t, "5 applied", func(f *follower) bool { return len(f.applied) == 5 })
	a.stop()
	for i := range 7 {
		_, err := b.log.Publish(context.Background(), models.Event{Type: models.EventOffer, ID: "y" + strconv.Itoa(i)})
		require.NoError(t, err)
	}
	a.start()
	a.f.until(t, "12 applied", func(f *follower) bool { return len(f.applied) == 12 })
	reloads, pos, ids := a.f.snapshot()
	assert.Len(t, reloads, 1, "resumed from its position, no reload")
	assert.Equal(t, "y6", ids[11])
	for i := 1; i < len(pos); i++ {
		require.Equal(t, pos[i-1]+1, pos[i])
	}
}

// TestLogTrimmedPastReloads: a replica whose next entry was trimmed away reloads at the head,
// and so does one that finds a gap in the positions (an entry missing in the middle).
func TestLogTrimmedPastReloads(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	c := openLogClient(t, url, prefix)
	a := startReplica(t, c, "a", newFollower())
	b := startReplica(t, openLogClient(t, url, prefix), "b", newFollower())
	a.f.until(t, "a live", isLive)
	b.f.until(t, "b live", isLive)
	a.stop()
	var last int64
	for i := range 20 {
		p, err := b.log.Publish(context.Background(), models.Event{Type: models.EventOffer, ID: "x" + strconv.Itoa(i)})
		require.NoError(t, err)
		last = p
	}
	ctx := context.Background()
	stream := c.Key("{log}")
	require.NoError(t, c.Redis().XTrimMinID(ctx, stream, strconv.FormatInt(last-2, 10)+"-1").Err())
	a.start()
	a.f.until(t, "a reload", func(f *follower) bool { return len(f.reloads) == 2 })
	reloads, applied, _ := a.f.snapshot()
	assert.Equal(t, last, reloads[1], "reloaded at the head")
	assert.Empty(t, applied, "applied nothing from a log it could not follow")

	// A gap in the middle: an entry two positions ahead, written behind the script's back.
	a.f.until(t, "a live", isLive)
	require.NoError(t, c.Redis().XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: strconv.FormatInt(last+2, 10) + "-1", Values: []string{"e", "{}"}}).Err())
	require.NoError(t, c.Redis().Set(ctx, c.Key("{log}:seq"), last+2, 0).Err())
	a.f.until(t, "a reload after the gap", func(f *follower) bool { return len(f.reloads) == 3 })
	reloads, applied, _ = a.f.snapshot()
	assert.Equal(t, last+2, reloads[2])
	assert.Empty(t, applied, "the entry after the gap is not applied alone")
}

// TestLogWentBackwardsReloads: when the log loses its tail (a failover to a replica that had
// not received it) or everything (Redis restarted empty), a replica reloads, and the positions
// given after that are above every position it had applied, so none is reused.
func TestLogWentBackwardsReloads(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	c := openLogClient(t, url, prefix)
	a := startReplica(t, c, "a", newFollower())
	a.f.until(t, "a live", isLive)
	var last int64
	for i := range 5 {
		p, err := a.log.Publish(context.Background(), models.Event{Type: models.EventOffer, ID: "x" + strconv.Itoa(i)})
		require.NoError(t, err)
		last = p
	}
	ctx := context.Background()
	stream := c.Key("{log}")
	// The tail is lost: the last two entries and the position with them.
	require.NoError(t, c.Redis().XDel(ctx, stream, strconv.FormatInt(last, 10)+"-1", strconv.FormatInt(last-1, 10)+"-1").Err())
	require.NoError(t, c.Redis().Set(ctx, c.Key("{log}:seq"), last-2, 0).Err())
	a.f.until(t, "reload after the lost tail", func(f *follower) bool { return len(f.reloads) == 2 })
	reloads, _, _ := a.f.snapshot()
	assert.Greater(t, reloads[1], last, "the head jumped past every position given before")
	a.f.until(t, "a live", isLive)
	p, err := a.log.Publish(ctx, models.Event{Type: models.EventOffer, ID: "after"})
	require.NoError(t, err)
	assert.Equal(t, reloads[1]+1, p)

	// Everything is lost, the epoch with it.
	require.NoError(t, c.Redis().Del(ctx, stream, c.Key("{log}:seq"), c.Key("{log}:epoch")).Err())
	a.f.until(t, "reload after the log was lost", func(f *follower) bool { return len(f.reloads) == 3 })
	reloads, _, _ = a.f.snapshot()
	assert.Greater(t, reloads[2], p, "positions of the new log are above the old one's")
}

// TestLogWaitsForLiveReplicasOnly: Publish waits until the other live replicas applied the
// entry, and does not wait for one that is reloading (it withdrew).
func TestLogWaitsForLiveReplicasOnly(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	a := startReplica(t, openLogClient(t, url, prefix), "a", newFollower())
	a.log.AckTimeout = 5 * time.Second
	entered, release := make(chan int64, 1), make(chan struct{})
	bf := newFollower()
	b := startReplica(t, openLogClient(t, url, prefix), "b", bf)
	a.f.until(t, "a live", isLive)
	bf.until(t, "b live", isLive)
	bf.onApply = func(pos int64) { entered <- pos; <-release }
	done := make(chan int64, 1)
	go func() {
		p, err := a.log.Publish(context.Background(), models.Event{Type: models.EventNeed, ID: "n"})
		assert.NoError(t, err)
		done <- p
	}()
	pos := <-entered
	select {
	case <-done:
		t.Fatal("Publish returned while another live replica was still applying its entry")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	assert.Equal(t, pos, <-done)
	assert.GreaterOrEqual(t, b.log.Applied(), pos)
	bf.onApply = nil

	// b reloads (its reload blocks): writers do not wait for it.
	b.stop()
	reloading, unblock := make(chan struct{}), make(chan struct{})
	bf2 := newFollower()
	bf2.onReload = func(int64) { close(reloading); <-unblock }
	b2 := startReplica(t, openLogClient(t, url, prefix), "b2", bf2)
	defer close(unblock)
	<-reloading
	start := time.Now()
	_, err := a.log.Publish(context.Background(), models.Event{Type: models.EventNeed, ID: "m"})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), a.log.AckTimeout, "a writer waited for a reloading replica")
	_ = b2
}

// TestLogQueuesWhatItCannotAppend: with Redis down, Publish queues the change (a revocation
// here) and the replica is not live; once a Redis answers again at that address (here an empty
// one, as after a restart) the change is appended, and the replica is live again.
func TestLogQueuesWhatItCannotAppend(t *testing.T) {
	s := miniredis.RunT(t)
	addr := s.Addr()
	url, prefix := "redis://"+addr, redistest.Prefix()
	c := openLogClient(t, url, prefix)
	a := startReplica(t, c, "a", newFollower())
	a.f.until(t, "a live", isLive)
	s.Close()
	_, err := a.log.Publish(context.Background(), models.Event{Type: models.EventRevoked, ID: "tok"})
	require.ErrorIs(t, err, rediscache.ErrQueued)
	assert.Equal(t, 1, a.log.Pending())
	a.f.until(t, "a not live", func(f *follower) bool { return !f.live })
	s2 := miniredis.NewMiniRedis()
	require.NoError(t, s2.StartAddr(addr))
	t.Cleanup(s2.Close)
	a.f.until(t, "a live again", func(f *follower) bool { return f.live && a.log.Pending() == 0 })
	entries, err := c.Redis().XRange(context.Background(), c.Key("{log}"), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Contains(t, entries[0].Values["e"], `"id":"tok"`, "the queued revocation is in the log")
	reloads, _, _ := a.f.snapshot()
	assert.Len(t, reloads, 2, "the new, empty log made the replica reload")
}

// TestLogResumeSkipsTheFirstReload (issue 16): a replica that loaded its state after reading
// the head (service.App.StartAt) and resumes there does not reload when its consumer starts,
// and applies what was appended after the head, the entries appended before its consumer
// ran included; a log created anew since still makes it reload.
func TestLogResumeSkipsTheFirstReload(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix()
	ctx := context.Background()
	b := startReplica(t, openLogClient(t, url, prefix), "b", newFollower())
	b.f.until(t, "b live", isLive)
	_, err := b.log.Publish(ctx, models.Event{Type: models.EventOffer, ID: "before"})
	require.NoError(t, err)

	c := openLogClient(t, url, prefix)
	l := rediscache.NewLog(c, "a", logger)
	head, epoch, err := l.Head(ctx)
	require.NoError(t, err)
	// The state is loaded here; a change lands meanwhile.
	_, err = b.log.Publish(ctx, models.Event{Type: models.EventOffer, ID: "during"})
	require.NoError(t, err)
	l.Resume(head, epoch)
	a := &replica{log: l, f: newFollower()}
	a.start()
	t.Cleanup(func() { a.stop() })
	a.f.until(t, "a live", isLive)
	a.f.until(t, "the change made during the load applied", func(f *follower) bool { return len(f.ids) == 1 })
	reloads, applied, ids := a.f.snapshot()
	assert.Empty(t, reloads, "resumed at the head read before the load: no second full load")
	assert.Equal(t, []int64{head + 1}, applied)
	assert.Equal(t, []string{"during"}, ids)

	// Resumed on a log that is not the one it read the head of: reloads.
	a.stop()
	l2 := rediscache.NewLog(c, "a2", logger)
	l2.Resume(head, "another-epoch")
	a2 := &replica{log: l2, f: newFollower()}
	a2.start()
	t.Cleanup(func() { a2.stop() })
	a2.f.until(t, "a2 reloads", func(f *follower) bool { return len(f.reloads) == 1 })
}
