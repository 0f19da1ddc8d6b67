package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Deps are the adapters the use cases run on.
type Deps struct {
	Store   models.Store
	Bus     models.Bus
	Limiter models.RateLimiter
	Access  models.AccessTokens
	Now     Clock
	Log     *slog.Logger
}

// App is every use case, wired once by main (and by tests the same way).
type App struct {
	Auth        *Auth
	Accounts    *Accounts
	Sync        *Sync
	Revocations *Revocations
}

// New wires the use cases on the adapters.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	rev := NewRevocations(d.Store, d.Now)
	auth := &Auth{Users: d.Store, Tokens: d.Store, Audit: d.Store, Access: d.Access, Limiter: d.Limiter,
		Bus: d.Bus, Revocations: rev, Now: d.Now, Log: d.Log}
	return &App{
		Auth:        auth,
		Accounts:    &Accounts{Orgs: d.Store, Users: d.Store, Audit: d.Store, Auth: auth, Now: d.Now, Log: d.Log},
		Sync:        &Sync{Revocations: rev, Log: d.Log},
		Revocations: rev,
	}
}

// Start loads the in-process state from the store. Call it before serving.
func (a *App) Start(ctx context.Context) error {
	return a.Sync.Reconcile(ctx)
}
