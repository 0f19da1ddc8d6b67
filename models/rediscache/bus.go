package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
}

// NewBus returns a bus for this replica; origin identifies the replica in its events.
func NewBus(c *Client, origin string, log *slog.Logger) *Bus {
	return &Bus{c: c, origin: origin, log: log}
}

// Origin is this replica's id.
func (b *Bus) Origin() string { return b.origin }

func (b *Bus) channel() string { return b.c.Key("events") }

// Publish sends an event to every subscribed replica.
func (b *Bus) Publish(ctx context.Context, e models.Event) error {
	e.Origin = b.origin
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := b.c.rdb.Publish(ctx, b.channel(), payload).Err(); err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	return nil
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
			if e.Origin != b.origin {
				sub.Deliver(ctx, e)
			}
		}
	}
}
