package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Sync keeps this replica's in-process state in step with the others: it receives their change
// events from the bus, and reloads everything from the store when the bus (re)connects and
// periodically, so that a missed event cannot leave the replica stale for long. It implements
// rediscache.Subscriber.
type Sync struct {
	revocations *Revocations
	log         *slog.Logger

	mu        sync.Mutex
	handlers  map[models.EventType]func(context.Context, models.Event)
	reloaders []func(context.Context) error
	connected bool
}

// Handle registers what to do with another replica's event of type t.
func (s *Sync) Handle(t models.EventType, h func(context.Context, models.Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handlers == nil {
		s.handlers = map[models.EventType]func(context.Context, models.Event){}
	}
	s.handlers[t] = h
}

// OnReload registers a full reload from the store, run on every (re)connection and periodic
// reconciliation.
func (s *Sync) OnReload(f func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloaders = append(s.reloaders, f)
}

// Connected reloads from the store, then trusts the in-process copies again.
func (s *Sync) Connected(ctx context.Context) {
	if err := s.Reconcile(ctx); err != nil {
		s.log.Warn("reload after bus connect failed; still checking the store", "err", err)
		return
	}
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	s.revocations.SetFresh(true)
	s.log.Info("event bus connected")
}

// Disconnected stops trusting the in-process copies until the next Connected.
func (s *Sync) Disconnected() {
	s.revocations.SetFresh(false)
	s.mu.Lock()
	s.connected = false
	s.mu.Unlock()
}

// Deliver applies another replica's event.
func (s *Sync) Deliver(ctx context.Context, e models.Event) {
	if e.Type == models.EventRevoked {
		s.revocations.Add(models.Revocation{ID: e.ID, At: e.At, ExpiresAt: e.ExpiresAt, Except: e.Except, Reason: "broadcast"})
		return
	}
	s.mu.Lock()
	h := s.handlers[e.Type]
	s.mu.Unlock()
	if h != nil {
		h(ctx, e)
	}
}

// Reconcile reloads every registered state from the store.
func (s *Sync) Reconcile(ctx context.Context) error {
	if err := s.revocations.Load(ctx); err != nil {
		return err
	}
	s.revocations.Prune()
	s.mu.Lock()
	rs := append([]func(context.Context) error(nil), s.reloaders...)
	s.mu.Unlock()
	for _, f := range rs {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// outageResync is how often a replica whose bus is down reloads from the store: it cannot hear
// the other replicas' changes, so it catches up by reading them.
const outageResync = 2 * time.Second

// RunReconciler reconciles every interval until ctx ends, and every outageResync while the bus
// is disconnected.
func (s *Sync) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(min(interval, outageResync))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		connected := s.connected
		s.mu.Unlock()
		if connected && time.Since(last) < interval {
			continue
		}
		last = time.Now()
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			if connected {
				s.log.Warn("periodic reconciliation failed", "err", err)
			} else {
				s.log.Debug("resync during a bus outage failed", "err", err)
			}
		}
	}
}
