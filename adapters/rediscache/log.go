package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
)

// Log is the change log every replica follows: one Redis stream holding every change event in
// one total order, each entry at a dense integer position (its stream id is "<position>-1").
// It implements models.Bus.
//
// Writers append after their store write (a Lua script takes the next position and adds the
// entry in one step, so positions are dense and never out of order) and wait until this
// replica's consumer has applied the entry, then, at most AckTimeout, until every other live
// replica reports having applied it. Each replica runs one consumer (Run) that reads the
// stream in order from its applied position and hands every entry, its own included, to its
// Follower. Dense positions let the consumer see a gap (an entry trimmed away, or positions
// that jumped because the log was lost: Redis restarted empty, or a failover lost its tail),
// and a changed epoch or a head below the applied position says the log went backwards: in
// each case the follower reloads from the store at the head instead of resuming.
//
// Positions start, for a new log, at the Redis server's clock in microseconds, and a log found
// behind a replica's applied position jumps to the clock again: so positions only grow, across
// Redis restarts and failovers, and a cached ranking stamped with a position of a lost log is
// never mistaken for one of the new log.
//
// Every key of the log shares the hash tag {log}, so it lives in one slot of a Redis Cluster.
type Log struct {
	c      *Client
	origin string
	log    *slog.Logger

	// AckTimeout bounds how long Publish waits for the other replicas to apply an entry.
	AckTimeout time.Duration
	// OwnTimeout bounds how long Publish waits for this replica's consumer to apply an entry
	// (a consumer that is reloading does not wait that long: Publish returns at once).
	OwnTimeout time.Duration
	// MaxLen is the approximate number of entries the stream keeps (XADD MAXLEN ~): a replica
	// further behind than that reloads from the store.
	MaxLen int64
	// LiveFor is how long a replica's report of its position counts as live without being
	// refreshed; consumers refresh it every heartbeat.
	LiveFor time.Duration

	applied  atomic.Int64
	epoch    string
	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever applied moves
	live     atomic.Bool
	// pending are events whose append failed, appended again in order by the retrier.
	pending []models.Event
	kick    chan struct{}
	// ack waiters: writers waiting for the other replicas (see waitOthers).
	ackMu      sync.Mutex
	ackWaiters []*ackWaiter
	ackPolling bool
	follower   Follower
}

// Follower is what a replica does with the log. Run calls it from one goroutine.
type Follower interface {
	// Reload loads every state from the store: the log cannot be followed from the replica's
	// position (first start, entries trimmed away, the log went backwards). head is the log's
	// position read before the load began: once Reload returns, the replica reflects at least
	// every entry up to head, and the consumer goes on from there.
	Reload(ctx context.Context, head int64) error
	// Apply applies the entry at pos. Entries come in order, each once; Apply must be
	// idempotent all the same (an entry may repeat a change the replica already holds).
	Apply(ctx context.Context, pos int64, e models.Event)
	// Live says whether the replica hears every change: its consumer is caught up with the log
	// and none of its own changes waits to be appended. While not live, the replica must not
	// trust what it cannot check (cached rankings, in-memory revocations).
	Live(live bool)
}

// ErrNotApplied is returned by Publish when the entry was appended but this replica's
// consumer did not apply it in time: the caller applies the change itself.
var ErrNotApplied = errors.New("change log: appended, but not yet applied here")

// ErrQueued is returned by Publish when the append failed: the event waits in memory and is
// appended as soon as Redis answers again; the caller applies the change itself meanwhile.
var ErrQueued = errors.New("change log: append failed; queued for retry")

// maxPending bounds the events kept for retry; beyond it the oldest are dropped and only the
// periodic reconciliation brings the other replicas in line.
const maxPending = 10000

// NewLog returns the change log of this replica; origin identifies the replica.
func NewLog(c *Client, origin string, log *slog.Logger) *Log {
	return &Log{c: c, origin: origin, log: log, AckTimeout: 250 * time.Millisecond, OwnTimeout: 2 * time.Second,
		MaxLen: 100000, LiveFor: 3 * time.Second, advanced: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Origin is this replica's id.
func (l *Log) Origin() string { return l.origin }

// The keys: the stream, its last position, the epoch (a random id set when the log is
// created), each replica's applied position (a hash), and a key per live replica that expires
// LiveFor after its last report.
func (l *Log) keys() []string {
	return []string{l.c.Key("{log}"), l.c.Key("{log}:seq"), l.c.Key("{log}:epoch")}
}
func (l *Log) replicasKey() string           { return l.c.Key("{log}:replicas") }
func (l *Log) aliveKey(origin string) string { return l.c.Key("{log}:alive:" + origin) }

// ensureSeq is the part of both scripts that makes the position at least ARGV[2] (the caller's
// applied position) and creates the epoch: a missing or backward log jumps to the server's
// clock in microseconds, above every position it ever gave.
const ensureSeq = `
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local id = tonumber(string.match(last[1][1], '^(%d+)'))
  if id > seq then seq = id end
end
local before = seq
if seq == 0 or seq < tonumber(ARGV[2]) or redis.call('EXISTS', KEYS[3]) == 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if now > seq then seq = now end
  if seq < tonumber(ARGV[2]) then seq = tonumber(ARGV[2]) end
  redis.call('SET', KEYS[2], string.format('%d', seq))
  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], ARGV[1]) end
end
`

// appendScript: KEYS stream, seq, epoch; ARGV new epoch id, caller's applied position, payload,
// max length. Returns the entry's position.
var appendScript = redis.NewScript(ensureSeq + `
seq = seq + 1
local pos = string.format('%d', seq)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], pos .. '-1', 'e', ARGV[3])
redis.call('SET', KEYS[2], pos)
return pos
`)

// headScript: KEYS and ARGV[1..2] as appendScript. Returns the head position, the position
// before any jump, and the epoch.
var headScript = redis.NewScript(ensureSeq + `
return {string.format('%d', seq), string.format('%d', before), redis.call('GET', KEYS[3])}
`)

func newEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Resume makes the consumer go on from head instead of reloading everything when it starts:
// head and epoch are what Head returned before the replica loaded its state from the store
// (service.App.StartAt), so the state reflects every entry up to head, as after the reload the
// consumer would otherwise run first. Entries after head are applied as usual; a log that was
// created anew or went backwards since (another epoch, a head below it) still makes the
// consumer reload. Call it before Run.
func (l *Log) Resume(head int64, epoch string) {
	l.epoch = epoch
	l.setApplied(head)
}

// Applied is the last position this replica's consumer applied.
func (l *Log) Applied() int64 { return l.applied.Load() }

// Head reads the log's last position and epoch (creating the log if there is none).
func (l *Log) Head(ctx context.Context) (head int64, epoch string, err error) {
	head, _, epoch, err = l.head(ctx, 0)
	return head, epoch, err
}

func (l *Log) head(ctx context.Context, floor int64) (head, before int64, epoch string, err error) {
	res, err := headScript.Run(ctx, l.c.rdb, l.keys(), newEpoch(), floor).Slice()
	if err != nil {
		return 0, 0, "", fmt.Errorf("change log head: %w", err)
	}
	if len(res) != 3 {
		return 0, 0, "", fmt.Errorf("change log head: %d values", len(res))
	}
	head, _ = strconv.ParseInt(fmt.Sprint(res[0]), 10, 64)
	before, _ = strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	return head, before, fmt.Sprint(res[2]), nil
}

// Publish appends e to the log after the store write it announces, then waits until this
// replica's consumer has applied it (so the writer reads its own write, and its model moves
// with the log), then at most AckTimeout until every other live replica has. It returns the
// entry's position.
//
// When the append fails (Redis down), e waits in memory and is appended in order once Redis
// answers (revocations included: they travel on the log like every change), the replica stops
// being live until then, and Publish returns ErrQueued: the caller applies the change itself.
// ErrNotApplied says the entry is in the log but this replica has not applied it yet.
func (l *Log) Publish(ctx context.Context, e models.Event) (int64, error) {
	e.Origin = l.origin
	e.Gen = 0
	l.mu.Lock()
	queued := len(l.pending) > 0
	if queued {
		l.enqueueLocked(e)
	}
	l.mu.Unlock()
	if queued {
		return 0, ErrQueued
	}
	pos, err := l.append(ctx, e)
	if err != nil {
		l.mu.Lock()
		l.enqueueLocked(e)
		l.mu.Unlock()
		l.setLive(false)
		l.log.WarnContext(ctx, "change not appended to the log; queued, and this replica checks the store until it lands", "err", err, "type", e.Type, "id", e.ID)
		return 0, ErrQueued
	}
	if !l.waitOwn(ctx, pos) {
		return pos, ErrNotApplied
	}
	l.waitOthers(ctx, pos)
	return pos, nil
}

func (l *Log) enqueueLocked(e models.Event) {
	if len(l.pending) >= maxPending {
		l.log.Warn("change log retry queue full; dropping the oldest change (the periodic reconciliation covers it)", "type", l.pending[0].Type, "id", l.pending[0].ID)
		l.pending = l.pending[1:]
	}
	l.pending = append(l.pending, e)
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *Log) append(ctx context.Context, e models.Event) (int64, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	s, err := appendScript.Run(ctx, l.c.rdb, l.keys(), newEpoch(), l.applied.Load(), payload, l.MaxLen).Text()
	if err != nil {
		return 0, fmt.Errorf("append to the change log: %w", err)
	}
	return strconv.ParseInt(s, 10, 64)
}

// waitOwn waits until this replica's consumer applied pos; false when it did not in time, or
// is not consuming (reloading, disconnected).
func (l *Log) waitOwn(ctx context.Context, pos int64) bool {
	timer := time.NewTimer(l.OwnTimeout)
	defer timer.Stop()
	for {
		l.mu.Lock()
		ch := l.advanced
		l.mu.Unlock()
		if l.applied.Load() >= pos {
			return true
		}
		if !l.live.Load() {
			return false
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

type ackWaiter struct {
	pos  int64
	done chan struct{}
	once sync.Once
}

func (w *ackWaiter) release() { w.once.Do(func() { close(w.done) }) }

// ackPoll is how often, while writers wait, the lowest applied position of the other replicas
// is read (one script call for every writer of the process that waits).
const ackPoll = 2 * time.Millisecond

// waitOthers waits, at most AckTimeout, until every other live replica has applied pos. The
// replicas report their positions in a hash of the log's slot (reportScript), so this works
// the same on a Redis Cluster; the writers of a process share one poller, which reads the
// lowest position every ackPoll while any of them waits.
func (l *Log) waitOthers(ctx context.Context, pos int64) {
	w := &ackWaiter{pos: pos, done: make(chan struct{})}
	l.ackMu.Lock()
	l.ackWaiters = append(l.ackWaiters, w)
	if !l.ackPolling {
		l.ackPolling = true
		go l.pollAcks()
	}
	l.ackMu.Unlock()
	timer := time.NewTimer(l.AckTimeout)
	defer timer.Stop()
	select {
	case <-w.done:
	case <-timer.C:
		l.log.WarnContext(ctx, "replicas did not apply a change in time", "position", pos)
		w.release()
	case <-ctx.Done():
		w.release()
	}
}

func (l *Log) pollAcks() {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		low, err := l.others(ctx)
		cancel()
		l.ackMu.Lock()
		keep := l.ackWaiters[:0]
		for _, w := range l.ackWaiters {
			select {
			case <-w.done:
				continue
			default:
			}
			if err != nil || low < 0 || low >= w.pos {
				w.release()
				continue
			}
			keep = append(keep, w)
		}
		clear(l.ackWaiters[len(keep):])
		l.ackWaiters = keep
		if len(keep) == 0 {
			l.ackPolling = false
			l.ackMu.Unlock()
			return
		}
		l.ackMu.Unlock()
		time.Sleep(ackPoll)
	}
}

// others is the lowest applied position of the other live replicas, -1 when there is none.
func (l *Log) others(ctx context.Context) (int64, error) {
	all, err := l.c.rdb.HGetAll(ctx, l.replicasKey()).Result()
	if err != nil {
		return 0, err
	}
	var who, alive []string
	for r := range all {
		if r != l.origin {
			who = append(who, r)
			alive = append(alive, l.aliveKey(r))
		}
	}
	if len(who) == 0 {
		return -1, nil
	}
	// Plain commands, no script: this runs every ackPoll while writers wait, and a script
	// costs the embedded Redis (miniredis, in this process) a Lua state each time. The alive
	// keys share the log's hash slot, so one MGET reads them on a Cluster too.
	up, err := l.c.rdb.MGet(ctx, alive...).Result()
	if err != nil {
		return 0, err
	}
	low := int64(-1)
	var gone []string
	for i, r := range who {
		if up[i] == nil {
			gone = append(gone, r)
			continue
		}
		if p, err := strconv.ParseInt(all[r], 10, 64); err == nil && (low < 0 || p < low) {
			low = p
		}
	}
	if len(gone) > 0 {
		_ = l.c.rdb.HDel(ctx, l.replicasKey(), gone...).Err() // replicas that stopped reporting
	}
	return low, nil
}

// report records this replica's applied position, and that it is alive for LiveFor (plain
// commands in one round trip: it runs at every batch and heartbeat).
func (l *Log) report(ctx context.Context) error {
	_, err := l.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, l.replicasKey(), l.origin, l.applied.Load())
		p.Set(ctx, l.aliveKey(l.origin), 1, l.LiveFor)
		return nil
	})
	return err
}

// withdraw removes this replica from those writers wait for (while it reloads, and when it
// stops).
func (l *Log) withdraw(ctx context.Context) {
	_, _ = l.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, l.replicasKey(), l.origin)
		p.Del(ctx, l.aliveKey(l.origin))
		return nil
	})
}

// wentBack checks, with plain reads, that the log is the one this replica follows and not
// behind it (see session); it also reports whether entries arrived.
func (l *Log) wentBack(ctx context.Context) (back, more bool, err error) {
	k := l.keys()
	var seq, epoch *redis.StringCmd
	_, err = l.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		seq = p.Get(ctx, k[1])
		epoch = p.Get(ctx, k[2])
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, false, err
	}
	head, _ := strconv.ParseInt(seq.Val(), 10, 64)
	applied := l.applied.Load()
	return epoch.Val() != l.epoch || head < applied, head > applied, nil
}

func (l *Log) setApplied(pos int64) {
	l.applied.Store(pos)
	l.mu.Lock()
	close(l.advanced)
	l.advanced = make(chan struct{})
	l.mu.Unlock()
}

func (l *Log) setLive(live bool) {
	l.mu.Lock()
	f := l.follower
	l.mu.Unlock()
	if l.live.Swap(live) != live && f != nil {
		f.Live(live)
	}
}

// caughtUp makes the replica live when nothing of its own waits to be appended.
func (l *Log) caughtUp() {
	l.mu.Lock()
	idle := len(l.pending) == 0
	l.mu.Unlock()
	l.setLive(idle)
}

// errReload ends a session whose log cannot be followed from the applied position.
var errReload = errors.New("change log: reload needed")

// Run follows the log until ctx ends: it reloads the follower when it must, then applies every
// entry in order, reconnecting with backoff. heartbeat is how long a read blocks: each time it
// ends, the replica refreshes its report and checks that the log did not go backwards. It also
// appends, in order, the events whose append failed.
func (l *Log) Run(ctx context.Context, f Follower, heartbeat time.Duration) {
	l.mu.Lock()
	l.follower = f
	l.mu.Unlock()
	retry := make(chan struct{})
	go func() { l.retry(ctx); close(retry) }()
	defer func() { <-retry }()
	defer func() {
		// A replica that stops is no longer waited for.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		l.withdraw(ctx)
		cancel()
	}()
	backoff := 100 * time.Millisecond
	reload := false
	for ctx.Err() == nil {
		err := l.session(ctx, f, heartbeat, reload)
		l.setLive(false)
		if ctx.Err() != nil {
			return
		}
		reload = errors.Is(err, errReload)
		if reload {
			l.log.Info("change log cannot be followed from this replica's position; reloading from the store", "err", err)
			continue
		}
		l.log.Warn("change log unreachable; reads check the store until it returns", "err", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

// checkBack confirms with the head script (which also moves the positions past the
// replica's) that the log went backwards, and ends the session for a reload.
func (l *Log) checkBack(ctx context.Context) error {
	_, before, ep, err := l.head(ctx, l.applied.Load())
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: epoch %s→%s, head %d, applied %d", errReload, l.epoch, ep, before, l.applied.Load())
}

// readGrace is how much longer than the heartbeat a blocking read may take before the
// consumer gives Redis up as unreachable.
const readGrace = 500 * time.Millisecond

// readBatch is how many entries one read takes.
const readBatch = 256

func (l *Log) session(ctx context.Context, f Follower, heartbeat time.Duration, reload bool) error {
	head, before, epoch, err := l.head(ctx, l.applied.Load())
	if err != nil {
		return err
	}
	applied := l.applied.Load()
	switch {
	case reload || applied == 0:
	case epoch != l.epoch:
		l.log.Warn("change log was created anew (Redis restarted empty or failed over); reloading", "applied", applied, "head", head)
		reload = true
	case before < applied:
		l.log.Warn("change log went backwards (a failover lost entries); reloading", "applied", applied, "head", before)
		reload = true
	}
	if reload || applied == 0 {
		// Writers stop waiting for this replica while it reloads; it is not live either.
		l.withdraw(ctx)
		if err := f.Reload(ctx, head); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		l.epoch = epoch
		l.setApplied(head)
	}
	if err := l.report(ctx); err != nil {
		return err
	}
	if head <= l.applied.Load() {
		l.caughtUp()
	}
	stream := l.keys()[0]
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		from := l.applied.Load()
		// The read is bounded by the context too: a Redis that stopped answering without
		// closing the connection (paused, blackholed) is noticed within heartbeat+readGrace.
		rctx, cancel := context.WithTimeout(ctx, heartbeat+readGrace)
		res, err := l.c.rdb.XRead(rctx, &redis.XReadArgs{Streams: []string{stream, strconv.FormatInt(from, 10) + "-1"},
			Count: readBatch, Block: heartbeat}).Result()
		cancel()
		if errors.Is(err, redis.Nil) {
			// Nothing new for a heartbeat: caught up. Check the log did not go backwards (the
			// next session finds out how), and say that this replica is alive.
			back, more, err := l.wentBack(ctx)
			if err != nil {
				return err
			}
			if back {
				return l.checkBack(ctx)
			}
			if more {
				continue // entries arrived since the read
			}
			if err := l.report(ctx); err != nil {
				return err
			}
			l.caughtUp()
			continue
		}
		if err != nil {
			return err
		}
		var msgs []redis.XMessage
		if len(res) > 0 {
			msgs = res[0].Messages
		}
		if err := l.applyAll(ctx, f, msgs); err != nil {
			return err
		}
		if err := l.report(ctx); err != nil {
			return err
		}
		if len(msgs) < readBatch {
			l.caughtUp()
		}
	}
}

// applyAll applies entries in order. A duplicate (at or below the applied position) is
// skipped; a gap is read again from the applied position with XRANGE, and if the entry after
// it is still missing, the stream was trimmed past it (or its positions jumped): reload.
func (l *Log) applyAll(ctx context.Context, f Follower, msgs []redis.XMessage) error {
	for i := 0; i < len(msgs); i++ {
		pos, err := positionOf(msgs[i].ID)
		if err != nil {
			return fmt.Errorf("%w: %v", errReload, err)
		}
		applied := l.applied.Load()
		if pos <= applied {
			continue
		}
		if pos != applied+1 {
			again, err := l.c.rdb.XRangeN(ctx, l.keys()[0], strconv.FormatInt(applied+1, 10)+"-1", "+", readBatch).Result()
			if err != nil {
				return err
			}
			if len(again) == 0 {
				return nil // nothing after all; read again
			}
			if p, _ := positionOf(again[0].ID); p != applied+1 {
				return fmt.Errorf("%w: the log lacks position %d (next is %d): trimmed past this replica", errReload, applied+1, p)
			}
			msgs, i = again, -1
			continue
		}
		var e models.Event
		raw, _ := msgs[i].Values["e"].(string)
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			l.log.Warn("bad entry in the change log; skipped", "position", pos, "err", err)
		} else {
			e.Gen = pos
			f.Apply(ctx, pos, e)
		}
		l.setApplied(pos)
	}
	return nil
}

// positionOf parses a stream id "<position>-1".
func positionOf(id string) (int64, error) {
	p, _, ok := strings.Cut(id, "-")
	if !ok {
		return 0, fmt.Errorf("stream id %q", id)
	}
	return strconv.ParseInt(p, 10, 64)
}

// retry appends the queued events, in order, whenever there are some, backing off while Redis
// does not answer.
func (l *Log) retry(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-time.After(time.Second):
		}
		for ctx.Err() == nil {
			l.mu.Lock()
			if len(l.pending) == 0 {
				l.mu.Unlock()
				break
			}
			e := l.pending[0]
			l.mu.Unlock()
			if _, err := l.append(ctx, e); err != nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			l.mu.Lock()
			if len(l.pending) > 0 {
				l.pending = l.pending[1:]
			}
			l.mu.Unlock()
		}
	}
}

// Pending is how many changes wait to be appended (metrics, tests).
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}
