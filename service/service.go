// Package service holds capmatch's use cases: it composes the store, the cache, the event bus
// and the in-memory models behind the operations the API offers (sign in, post a need, rank
// offers, agree an engagement, ...), and applies the authorization policy and the lifecycles
// of package models on every one of them. Handlers call it; it never sees HTTP.
package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Clock returns the current time; tests pass a fixed one.
type Clock func() time.Time

// audit records a write in the append-only trail. A failure is logged, not returned: the
// write it describes has already happened and cannot be rolled back without transactions.
func audit(ctx context.Context, store models.AuditStore, log *slog.Logger, now time.Time, a *models.Actor,
	action, objType, objID string, changed []string) {
	e := &models.AuditEntry{
		ID: models.NewID(now), At: now, Action: action, ObjectType: objType, ObjectID: objID,
		Changed: changed, RequestID: models.RequestIDFrom(ctx), CorrelationID: models.CorrelationIDFrom(ctx),
	}
	if a != nil {
		e.ActorID, e.ActorRole, e.ActorOrgID = a.UserID, a.Role, a.OrgID
	}
	if err := store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		log.ErrorContext(ctx, "audit append failed", "err", err, "action", action, "object_id", objID)
	}
}
