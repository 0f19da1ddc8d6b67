package models

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names what changed, so that every API replica can update its in-memory state.
type EventType string

// The change events replicas exchange.
const (
	EventRevoked    EventType = "revoked"    // ID is a Revocation id
	EventNeed       EventType = "need"       // ID is a need id
	EventOffer      EventType = "offer"      // ID is an offer id
	EventEngagement EventType = "engagement" // ID is an engagement id
	EventProject    EventType = "project"    // ID is a project id
	EventCountry    EventType = "country"    // ID is an ISO code
	EventWeights    EventType = "weights"    // ID is the weights version
	EventUser       EventType = "user"       // ID is a user id
	EventImport     EventType = "import"     // ID is an import batch; Data holds its rows
	EventExternal   EventType = "external"   // ID is a committed IATI import batch; receivers load its rows
)

// Event says that an object changed; receivers reload it from the store by id.
type Event struct {
	Type    EventType `json:"type"`
	ID      string    `json:"id"`
	Version int64     `json:"version,omitempty"`
	// Origin is the replica that published it, so it can skip its own events.
	Origin string    `json:"origin,omitempty"`
	At     time.Time `json:"at"`
	// ExpiresAt carries a revocation's expiry.
	ExpiresAt time.Time `json:"expires_at,omitempty"`
	// Except carries the refresh family a user's revocation spares (Revocation.Except).
	Except string `json:"except,omitempty"`
	// Data carries the changed object itself (JSON), so receivers apply it without a store
	// round trip; without it they reload by id.
	Data json.RawMessage `json:"data,omitempty"`
	// Gen is the event's position in the change log, set by the log when it hands the event
	// to a replica (publishers leave it zero). Every replica applies the events in the order
	// of their positions, and a cached ranking is stamped with the position it reflects.
	Gen int64 `json:"gen,omitempty"`
}

// Bus is the change log every API replica follows: a total order of change events. Publish
// appends an event after the store write it announces, and returns its position once this
// replica has applied it and every other live replica has too (or a short timeout passed), so
// that the next read on any replica sees the change. An error means the event is not (yet)
// applied here: the caller applies the change to its own replica, and the bus keeps an event
// it could not append and appends it when it can.
type Bus interface {
	Publish(ctx context.Context, e Event) (int64, error)
}

// RateLimiter counts failures per key, in a store every replica shares, and blocks a key for a
// growing time once it has failed too often (Backoff). Only failures count: what succeeds costs
// nothing, so honest users who get it right are never slowed down by how often they do.
type RateLimiter interface {
	// Wait reports how long the longest-blocked of keys stays blocked; 0 when none is.
	Wait(ctx context.Context, keys ...string) (time.Duration, error)
	// Fail records one failure under key and returns how many failures key has had (within
	// b.Memory of each other) and how long key is now blocked (0 while within b.Free).
	Fail(ctx context.Context, key string, b Backoff) (failures int, blocked time.Duration, err error)
	// Clear forgets keys' failures and lifts their blocks.
	Clear(ctx context.Context, keys ...string) error
}

// RequestLimiter counts requests per key in fixed windows, shared by every replica: the limit
// on anonymous reads of open data (sign-ins are limited by RateLimiter's back-off instead,
// which counts failures only).
type RequestLimiter interface {
	// Allow records one request for key and reports whether it is within limit per window;
	// when not, retryAfter says how long until the window resets. An error means the counter
	// did not answer; the caller decides how to degrade.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Backoff is how failures under one key turn into waiting: the first Free failures cost
// nothing (typing mistakes); each one after that blocks the key for Base, doubling with every
// further failure up to Max (exponential back-off rather than a lock-out: a patient honest
// user always gets another try, an attacker gets fewer and fewer). Failures are forgotten
// Memory after the last one.
type Backoff struct {
	Free      int
	Base, Max time.Duration
	Memory    time.Duration
}

// Delay is how long a key is blocked after its n-th failure.
func (b Backoff) Delay(n int) time.Duration {
	if n <= b.Free || b.Base <= 0 {
		return 0
	}
	d := b.Base
	for i := b.Free + 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

type requestIDKey struct{}

type correlationIDKey struct{}

// WithCorrelationID attaches a client's own id for the request (a valid X-Correlation-Id or
// X-Request-Id) to ctx. It is recorded beside the request id, never in its place: the
// request id is always the server's.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationIDKey{}, id)
}

// CorrelationIDFrom returns the client's correlation id attached to ctx, or "".
func CorrelationIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(correlationIDKey{}).(string)
	return s
}

// WithRequestID attaches the HTTP request id, which the server draws at random, to ctx so the
// audit trail can record it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id attached to ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
