package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
)

// Bus publishes change events on a Redis channel and delivers the other replicas' events to
// this one. It implements models.Bus.
type Bus struct {
	c      *Client
	origin string
	log    *slog.Logger

	seq        atomic.Int64
	subscribed atomic.Bool
	mu         sync.Mutex
	waiters    map[string]chan struct{}
	// AckTimeout bounds how long Publish waits for the other replicas to apply an event.
	AckTimeout time.Duration
}

// NewBus returns a bus for this replica; origin identifies the replica in its events.
func NewBus(c *Client, origin string, log *slog.Logger) *Bus {
	return &Bus{c: c, origin: origin, log: log, waiters: map[string]chan struct{}{}, AckTimeout: 250 * time.Millisecond}
}

// Origin is this replica's id.
func (b *Bus) Origin() string { return b.origin }

func (b *Bus) channel() string { return b.c.Key("events") }

// Publish sends an event to every subscribed replica and waits until each of them has applied
// it (they acknowledge on the same channel), or AckTimeout passed. PUBLISH answers with the
// number of subscribers that received the message, so the wait knows how many acks to expect.
func (b *Bus) Publish(ctx context.Context, e models.Event) error {
	e.Origin = b.origin
	e.Seq = b.origin + ":" + strconv.FormatInt(b.seq.Add(1), 10)
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	acks := make(chan struct{}, 64)
	b.mu.Lock()
	b.waiters[e.Seq] = acks
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiters, e.Seq)
		b.mu.Unlock()
	}()
	self := b.subscribed.Load()
	n, err := b.c.rdb.Publish(ctx, b.channel(), payload).Result()
	if err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	expect := int(n)
	if self {
		expect-- // our own subscription received it too
	}
	timeout := time.NewTimer(b.AckTimeout)
	defer timeout.Stop()
	for got := 0; got < expect; got++ {
		select {
		case <-acks:
		case <-timeout.C:
			b.log.WarnContext(ctx, "replicas did not acknowledge an event in time", "type", e.Type, "id", e.ID, "acked", got, "expected", expect)
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (b *Bus) ack(ctx context.Context, e models.Event) {
	payload, _ := json.Marshal(models.Event{Type: models.EventAck, Ack: e.Seq, Origin: b.origin})
	if err := b.c.rdb.Publish(ctx, b.channel(), payload).Err(); err != nil {
		b.log.Warn("event ack failed", "err", err)
	}
}

// Subscriber receives what the bus delivers.
type Subscriber interface {
	// Connected is called each time the subscription is (re)established, before any event
	// from the new connection is delivered. Events published while disconnected are lost, so
	// the subscriber reconciles from the store here.
	Connected(ctx context.Context)
	// Disconnected is called when the subscription breaks: the subscriber must stop trusting
	// that it has seen every event.
	Disconnected()
	// Deliver handles one event from another replica.
	Deliver(ctx context.Context, e models.Event)
}

// Run subscribes and delivers events until ctx ends, reconnecting with backoff. A ping every
// heartbeat detects a dead or paused Redis within about a second.
func (b *Bus) Run(ctx context.Context, sub Subscriber, heartbeat time.Duration) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.session(ctx, sub, heartbeat)
		sub.Disconnected()
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("event bus disconnected; reads check the store until it returns", "err", err, "retry_in", backoff.String())
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

func (b *Bus) session(ctx context.Context, sub Subscriber, heartbeat time.Duration) error {
	ps := b.c.rdb.Subscribe(ctx, b.channel())
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblock a pending receive
	defer stop()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := ps.Receive(rctx) // the subscription confirmation
	cancel()
	if err != nil {
		return err
	}
	b.subscribed.Store(true)
	defer b.subscribed.Store(false)
	sub.Connected(ctx)
	awaitingPong := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, err := ps.ReceiveTimeout(ctx, heartbeat)
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() && !awaitingPong {
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				awaitingPong = true
				continue
			}
			return err
		}
		switch m := msg.(type) {
		case *redis.Pong:
			awaitingPong = false
		case *redis.Message:
			awaitingPong = false
			var e models.Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				b.log.Warn("bad event on bus", "err", err)
				continue
			}
			switch {
			case e.Type == models.EventAck:
				b.mu.Lock()
				w := b.waiters[e.Ack]
				b.mu.Unlock()
				if w != nil {
					w <- struct{}{}
				}
			case e.Origin != b.origin:
				sub.Deliver(ctx, e)
				b.ack(ctx, e)
			}
		}
	}
}
