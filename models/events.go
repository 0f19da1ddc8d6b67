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
	EventAck        EventType = "ack"        // a replica applied the event whose Seq is in Ack
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
	// Data carries the changed object itself (JSON), so receivers apply it without a store
	// round trip; without it they reload by id.
	Data json.RawMessage `json:"data,omitempty"`
	// Gen is the change's logical time (a hybrid logical clock shared through events), which
	// stamps what cached rankings include.
	Gen int64 `json:"gen,omitempty"`
	// Seq identifies the event for acknowledgements; Ack names the event an ack is for.
	Seq string `json:"seq,omitempty"`
	Ack string `json:"ack,omitempty"`
}

// Bus fans change events out to every API replica. Publish returns once every replica that
// was listening has applied the event (or a short timeout passed), so that the next read on
// any replica sees the change.
type Bus interface {
	Publish(ctx context.Context, e Event) error
}

// RateLimiter counts attempts per key in a fixed window shared by every replica.
type RateLimiter interface {
	// Allow records one attempt for key and reports whether it is within limit per window; when
	// not, retryAfter says how long until the window resets.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

type requestIDKey struct{}

// WithRequestID attaches the HTTP request id to ctx so the audit trail can record it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id attached to ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
