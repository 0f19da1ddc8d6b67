package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Revocations answers "was this token revoked?" on every request without a round trip: it
// keeps an in-process copy of the durable revocations, loaded from the store at start, updated
// by this replica's own revocations and by the other replicas' events on the bus, and reloaded
// from the store whenever the bus reconnects and periodically.
//
// While the bus is down this replica cannot know what the others revoked, so the copy is not
// trusted: each check then also looks the token's revocation ids up in the store by _id. A
// Redis outage therefore neither signs everyone out nor lets a revoked token back in; only
// when the store is down too does a check fail (503).
type Revocations struct {
	store models.TokenStore
	now   Clock
	mu    sync.RWMutex
	m     map[string]models.Revocation
	fresh atomic.Bool
}

// NewRevocations returns an empty list; call Load before serving.
func NewRevocations(store models.TokenStore, now Clock) *Revocations {
	return &Revocations{store: store, now: now, m: map[string]models.Revocation{}}
}

// Load replaces the copy with the store's unexpired revocations.
func (r *Revocations) Load(ctx context.Context) error {
	rs, err := r.store.ListRevocations(ctx, r.now())
	if err != nil {
		return err
	}
	m := make(map[string]models.Revocation, len(rs))
	for _, rv := range rs {
		m[rv.ID] = rv
	}
	r.mu.Lock()
	for id, rv := range r.m { // keep what arrived while loading
		if _, ok := m[id]; !ok && rv.ExpiresAt.After(r.now()) {
			m[id] = rv
		}
	}
	r.m = m
	r.mu.Unlock()
	return nil
}

// SetFresh says whether the copy can be trusted to hold every revocation (the bus is up and
// the copy was reloaded since it connected).
func (r *Revocations) SetFresh(ok bool) { r.fresh.Store(ok) }

// Fresh reports whether the copy is trusted.
func (r *Revocations) Fresh() bool { return r.fresh.Load() }

// Add records a revocation in the copy.
func (r *Revocations) Add(rv models.Revocation) {
	r.mu.Lock()
	r.m[rv.ID] = rv
	r.mu.Unlock()
}

// Prune drops expired revocations from the copy.
func (r *Revocations) Prune() {
	now := r.now()
	r.mu.Lock()
	for id, rv := range r.m {
		if !rv.ExpiresAt.After(now) {
			delete(r.m, id)
		}
	}
	r.mu.Unlock()
}

// Check returns ErrUnauthorized when the actor's token, its refresh family or every session
// of its user issued at or before issuedAt was revoked; ErrUnavailable when it cannot tell.
func (r *Revocations) Check(ctx context.Context, a models.Actor, issuedAt time.Time) error {
	if r.Fresh() {
		// Every request comes here: the three ids are looked up under one read lock, built in a
		// buffer on the stack (a map lookup by string(bytes) allocates nothing).
		var buf [128]byte
		r.mu.RLock()
		for _, k := range [...]struct{ prefix, id string }{{"jti:", a.TokenID}, {"fam:", a.FamilyID}, {"usr:", a.UserID}} {
			key := append(append(buf[:0], k.prefix...), k.id...)
			if rv, ok := r.m[string(key)]; ok && revokes(rv, k.prefix, a.FamilyID, issuedAt) {
				r.mu.RUnlock()
				return errSessionEnded()
			}
		}
		r.mu.RUnlock()
		return nil
	}
	for _, id := range []string{models.RevokedTokenKey(a.TokenID), models.RevokedFamilyKey(a.FamilyID), models.RevokedUserKey(a.UserID)} {
		rv, ok := r.lookup(id)
		if !ok {
			got, err := r.store.GetRevocation(ctx, id)
			switch {
			case err == nil:
				rv, ok = *got, true
				r.Add(rv)
			case errors.Is(err, models.ErrNotFound):
			default:
				return &models.Error{Kind: models.ErrUnavailable, Detail: "cannot verify the session right now", RetryAfter: 5 * time.Second}
			}
		}
		if ok && revokes(rv, id, a.FamilyID, issuedAt) {
			return errSessionEnded()
		}
	}
	return nil
}

func errSessionEnded() error {
	return models.Errorf(models.ErrUnauthorized, "the session has ended; sign in again")
}

func (r *Revocations) lookup(id string) (models.Revocation, bool) {
	r.mu.RLock()
	rv, ok := r.m[id]
	r.mu.RUnlock()
	return rv, ok
}

// revokes applies a revocation: token and family revocations are absolute, a user revocation
// ends only what was issued at or before it (so the user can sign in again once re-enabled),
// and spares the family it names as an exception (the session that changed the password).
func revokes(rv models.Revocation, id, family string, issuedAt time.Time) bool {
	if strings.HasPrefix(id, "usr:") {
		return !issuedAt.After(rv.At) && (rv.Except == "" || rv.Except != family)
	}
	return true
}
