package service

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// Sync keeps this replica's in-process state in step with the change log (models.Bus): it
// applies every entry in the log's order, its own replica's included, and reloads everything
// from the store when the log cannot be followed (first start, entries trimmed away, the log
// lost). It implements rediscache.Follower.
//
// The position of the last entry applied (Applied) is what this replica's state reflects: a
// ranking it computes is stamped with it, and a cached ranking is served only if it is stamped
// at or below it and at or above the position of the last change that could alter it.
type Sync struct {
	revocations *Revocations
	log         *slog.Logger

	// applied is the log position the state reflects: it moves only when an entry has been
	// applied (Apply, in the log's order) or a reload read the store after the log's head.
	applied atomic.Int64
	// applyMu applies one entry or one reload at a time.
	applyMu   sync.Mutex
	mu        sync.Mutex
	handlers  map[models.EventType]func(context.Context, models.Event)
	reloaders []func(context.Context, int64) error
	live      bool
}

// Handle registers what to do with an entry of type t; the event's Gen is its position.
func (s *Sync) Handle(t models.EventType, h func(context.Context, models.Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handlers == nil {
		s.handlers = map[models.EventType]func(context.Context, models.Event){}
	}
	s.handlers[t] = h
}

// OnReload registers a full reload from the store, given the log position it starts from (its
// stamp: rankings cached before it are not trusted where it finds changes).
func (s *Sync) OnReload(f func(context.Context, int64) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloaders = append(s.reloaders, f)
}

// Applied is the log position this replica's state reflects.
func (s *Sync) Applied() int64 { return s.applied.Load() }

// Apply applies the log's entry at pos. An entry at or below the applied position is a
// duplicate and is skipped; the log hands entries over in order, so pos is the next one.
func (s *Sync) Apply(ctx context.Context, pos int64, e models.Event) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if pos <= s.applied.Load() {
		return
	}
	e.Gen = pos
	s.dispatch(ctx, e)
	s.applied.Store(pos)
}

// Deliver applies an event at the next position, for a process that follows no log (the tools
// and the in-memory test stacks plant their data this way).
func (s *Sync) Deliver(ctx context.Context, e models.Event) {
	s.Apply(ctx, s.applied.Load()+1, e)
}

func (s *Sync) dispatch(ctx context.Context, e models.Event) {
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

// Reload loads every state from the store; head is the log's position read before (the log
// goes on from there).
func (s *Sync) Reload(ctx context.Context, head int64) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.reconcile(ctx, head); err != nil {
		return err
	}
	s.applied.Store(head)
	return nil
}

// following reports whether this replica follows the change log (Live).
func (s *Sync) following() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Live says whether this replica hears every change (its log consumer is caught up): while it
// does not, revocations are checked in the store and rankings are computed, never cached. On
// becoming live it reloads the revocations first: one whose writer could not append it (Redis
// unreachable from that replica) is then in force here without waiting for its append.
func (s *Sync) Live(live bool) {
	s.mu.Lock()
	s.live = live
	s.mu.Unlock()
	if !live {
		s.revocations.SetFresh(false)
		s.log.Warn("change log not followed; checking the store until it is")
		return
	}
	if err := s.refreshRevocations(); err != nil {
		s.log.Warn("change log followed, but the revocations could not be reloaded; still checking the store", "err", err)
		return
	}
	s.log.Info("change log followed; caches trusted", "position", s.applied.Load())
}

// refreshRevocations reloads the revocations from the store and, if the replica follows the
// log, trusts its copy again.
func (s *Sync) refreshRevocations() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.revocations.Load(ctx); err != nil {
		return err
	}
	s.revocations.Prune()
	s.revocations.SetFresh(s.following())
	return nil
}

// revocationRefresh is how often a replica that follows the log reloads the revocations (a
// small read): the bound for a revocation whose writer cannot reach Redis while this replica
// can (the writer keeps appending it until it lands).
const revocationRefresh = 30 * time.Second

// Start loads every state from the store at start-up, at the applied position (none yet: the
// log's consumer reloads at the log's head when it starts).
func (s *Sync) Start(ctx context.Context) error {
	return s.reconcile(ctx, s.applied.Load())
}

// Reconcile reloads every registered state from the store outside the log's order (the
// periodic safety net, and the resync while the log is not followed): what it finds changed is
// what the log did not carry (yet), so it is marked after the applied position
// (readmodel.Local), and a bulk load makes every ranking computed so far stale.
func (s *Sync) Reconcile(ctx context.Context) error {
	return s.reconcile(ctx, readmodel.Local)
}

func (s *Sync) reconcile(ctx context.Context, stamp int64) error {
	if err := s.revocations.Load(ctx); err != nil {
		return err
	}
	s.revocations.Prune()
	s.mu.Lock()
	rs := append([]func(context.Context, int64) error(nil), s.reloaders...)
	s.mu.Unlock()
	for _, f := range rs {
		if err := f(ctx, stamp); err != nil {
			return err
		}
	}
	return nil
}

// outageResync is how often a replica that does not follow the log reloads from the store: it
// cannot hear the other replicas' changes, so it catches up by reading them.
const outageResync = 2 * time.Second

// DefaultReconcileInterval is how often a replica that follows the log reloads everything from
// the store anyway: a safety net for a change whose writer stopped between its store write and
// its append (or whose queued append was lost with the process), which the log never carries.
const DefaultReconcileInterval = 10 * time.Minute

// RunReconciler reconciles every interval until ctx ends, and every outageResync while the
// replica does not follow the log.
func (s *Sync) RunReconciler(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReconcileInterval
	}
	t := time.NewTicker(min(interval, outageResync))
	defer t.Stop()
	last, lastRevocations := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		live := s.live
		s.mu.Unlock()
		if live && time.Since(last) < interval {
			if time.Since(lastRevocations) >= revocationRefresh {
				lastRevocations = time.Now()
				if err := s.refreshRevocations(); err != nil {
					s.log.Warn("revocations not reloaded", "err", err)
				}
			}
			continue
		}
		lastRevocations = time.Now()
		last = time.Now()
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			if live {
				s.log.Warn("periodic reconciliation failed", "err", err)
			} else {
				s.log.Debug("resync while the change log is not followed failed", "err", err)
			}
		}
	}
}

// step applies f as the entry at the next position, as Apply does with the log's entries: for
// tests and tools that change the model directly yet want it stamped like the log's changes.
func (s *Sync) step(f func(pos int64)) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	p := s.applied.Load() + 1
	f(p)
	s.applied.Store(p)
}
