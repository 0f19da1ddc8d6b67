package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// Deps are the adapters the use cases run on.
type Deps struct {
	Store   models.Store
	Bus     models.Bus
	Limiter models.RateLimiter
	Access  models.AccessTokens
	Now     Clock
	Log     *slog.Logger
	// CursorKey signs list cursors; every replica must use the same key.
	CursorKey []byte
	// Rankings is the shared ranking cache.
	Rankings RankCache
	// Passwords hashes, verifies and judges passwords (the argon2id adapter).
	Passwords models.Passwords
	// Activities writes the IATI export (the IATI adapter, configured with the publisher).
	Activities models.ActivityExporter
	// Webhooks tunes outbound notification delivery (defaults: https only, public addresses,
	// five tries over 15 s).
	Webhooks WebhookOptions
}

// App is every use case, wired once by main (and by tests the same way).
type App struct {
	Auth        *Auth
	Accounts    *Accounts
	Sync        *Sync
	Revocations *Revocations
	Needs       *Needs
	Offers      *Offers
	Countries   *Countries
	Matching    *Matching
	Engagements *Engagements
	Projects    *Projects
	Model       *readmodel.Model
	Clock       *HLC
	// Notifications keeps the in-app feeds and delivers webhooks; run it with Notifications.Run.
	Notifications *Notifications

	store      models.Store
	activities models.ActivityExporter
	now        Clock
}

// New wires the use cases on the adapters.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	// The change stamps keep the wall clock's microseconds; every time that is stored or
	// returned is taken to the store's millisecond (models.StoredTime), here, once.
	wall := d.Now
	d.Now = func() time.Time { return models.StoredTime(wall()) }
	if d.Log == nil {
		d.Log = slog.Default()
	}
	rev := NewRevocations(d.Store, d.Now)
	auth := &Auth{Users: d.Store, Tokens: d.Store, Audit: d.Store, Access: newTokenCache(d.Access, d.Now), Limiter: d.Limiter, Passwords: d.Passwords,
		Bus: d.Bus, Revocations: rev, Now: d.Now, Log: d.Log}
	model := readmodel.New()
	cursors := NewCursors(d.CursorKey)
	hlc := NewHLC(wall)
	app := &App{
		Auth:        auth,
		Accounts:    &Accounts{Orgs: d.Store, Users: d.Store, Audit: d.Store, Auth: auth, Passwords: d.Passwords, Now: d.Now, Log: d.Log},
		Sync:        &Sync{Revocations: rev, Log: d.Log},
		Revocations: rev,
		Needs:       &Needs{Store: d.Store, Model: model, Bus: d.Bus, Cursors: cursors, Clock: hlc, Now: d.Now, Log: d.Log},
		Offers:      &Offers{Store: d.Store, Model: model, Bus: d.Bus, Cursors: cursors, Clock: hlc, Now: d.Now, Log: d.Log},
		Countries:   &Countries{Store: d.Store, Model: model, Bus: d.Bus, Now: d.Now, Log: d.Log},
		Model:       model,
		Clock:       hlc,
		store:       d.Store,
		activities:  d.Activities,
	}
	app.Matching = NewMatching(&Matching{Store: d.Store, Model: model, Cache: d.Rankings, Bus: d.Bus, Clock: hlc, Now: d.Now, Log: d.Log,
		Fresh: rev.Fresh})
	app.Engagements = &Engagements{Store: d.Store, Model: model, Bus: d.Bus, Clock: hlc, Needs: app.Needs, Offers: app.Offers,
		Matching: app.Matching, Now: d.Now, Log: d.Log}
	app.Projects = &Projects{Store: d.Store, Model: model, Bus: d.Bus, Clock: hlc, Needs: app.Needs, Engagements: app.Engagements,
		Matching: app.Matching, Now: d.Now, Log: d.Log}
	app.Notifications = &Notifications{Store: d.Store, Matching: app.Matching, Webhooks: NewDispatcher(d.Webhooks, d.Now, d.Log),
		Now: d.Now, Log: d.Log}
	app.Engagements.Notify = app.Notifications.Notify
	app.Projects.Notify = app.Notifications.Notify
	app.Needs.Notices = app.Notifications
	app.Offers.Notices = app.Notifications
	app.Needs.Cascades = app.Engagements
	app.Offers.Cascades = app.Engagements
	app.Matching.Active = app.Engagements.ActiveDeliveries
	app.Countries.Projects = app.Projects.CountryFigures
	app.now = d.Now
	app.syncModel()
	return app
}

// syncModel teaches Sync how to apply other replicas' changes to the read model and how to
// reload it from the store.
func (a *App) syncModel() {
	a.Sync.Handle(models.EventNeed, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		var n models.Need
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &n) == nil && n.ID == e.ID {
			a.Model.PutNeed(&n)
			return
		}
		if got, err := a.store.GetNeed(ctx, e.ID); err == nil {
			a.Model.PutNeed(got)
		}
	})
	a.Sync.Handle(models.EventOffer, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		var o models.Offer
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &o) == nil && o.ID == e.ID {
			a.Model.PutOffer(&o)
			return
		}
		if got, err := a.store.GetOffer(ctx, e.ID); err == nil {
			a.Model.PutOffer(got)
		}
	})
	a.Sync.Handle(models.EventCountry, func(ctx context.Context, e models.Event) {
		var p models.CountryProfile
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &p) == nil && p.ISO == e.ID {
			a.Model.PutProfile(&p)
			return
		}
		if got, err := a.store.GetCountryProfile(ctx, e.ID); err == nil {
			a.Model.PutProfile(got)
		}
	})
	a.Sync.Handle(models.EventImport, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		var rows importedRows
		if json.Unmarshal(e.Data, &rows) != nil {
			return
		}
		for _, n := range rows.Needs {
			a.Model.PutNeed(n)
		}
		for _, o := range rows.Offers {
			a.Model.PutOffer(o)
		}
	})
	a.Sync.Handle(models.EventEngagement, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		var x models.Engagement
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &x) == nil && x.ID == e.ID {
			a.Model.PutEngagement(&x)
		} else if got, err := a.store.GetEngagement(ctx, e.ID); err == nil {
			a.Model.PutEngagement(got)
		}
		a.Matching.ContextChanged(e.Gen)
	})
	a.Sync.Handle(models.EventProject, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		var x models.Project
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &x) == nil && x.ID == e.ID {
			a.Model.PutProject(&x)
		} else if got, err := a.store.GetProject(ctx, e.ID); err == nil {
			a.Model.PutProject(got)
		}
		a.Matching.ContextChanged(e.Gen)
	})
	a.Sync.Handle(models.EventWeights, func(ctx context.Context, e models.Event) {
		a.Clock.Observe(e.Gen)
		a.Matching.WeightsChanged(e.Data)
	})
	a.Sync.OnReload(a.reload)
}

// reload brings the read model and the matching index in line with the store (Sync runs it at
// start-up, when the bus connects and periodically).
//
// The deliveries under way are loaded first, so that a bulk load of needs and offers ranks
// with them. Needs and offers are streamed (readmodel.Load): an object the model holds at the
// same version is dropped as it is read, so a reload holds no second copy of the collections,
// and a load that changes much, or fills an empty model at start-up, rebuilds the index in one
// pass instead of working out, object by object, which rankings each one alters. Its stamp,
// taken before the store is read, is below every change the load may not include, and above
// every one it does: rankings cached before it are not served after a bulk load.
func (a *App) reload(ctx context.Context) error {
	if err := a.Matching.LoadWeights(ctx); err != nil {
		return err
	}
	engagements, err := a.store.ListEngagements(ctx)
	if err != nil {
		return err
	}
	projects, err := a.store.ListProjects(ctx)
	if err != nil {
		return err
	}
	a.Model.ReconcileDelivery(engagements, projects)
	loadedAt := a.now()
	l := a.Model.BeginLoad(loadedAt, a.Clock.Tick())
	// Rows of bulk imports are visible once their batch committed; the batches are read after
	// the rows, as before, and the few tagged rows wait for them.
	// Needs and offers are read side by side: the store serves two cursors at once, and one
	// collection is decoded while the other's next batch is fetched.
	var taggedN []*models.Need
	var taggedO []*models.Offer
	scan, cancel := context.WithCancel(ctx)
	defer cancel()
	needsDone := make(chan error, 1)
	go func() {
		needsDone <- a.store.EachNeed(scan, l.NeedKnown, func(n *models.Need) error {
			if n.ImportBatch != "" {
				taggedN = append(taggedN, n)
			} else {
				l.Need(n)
			}
			return nil
		})
	}()
	errO := a.store.EachOffer(scan, l.OfferKnown, func(o *models.Offer) error {
		if o.ImportBatch != "" {
			taggedO = append(taggedO, o)
		} else {
			l.Offer(o)
		}
		return nil
	})
	if errO != nil {
		cancel()
	}
	if err := errors.Join(<-needsDone, errO); err != nil {
		return err
	}
	profiles, err := a.store.ListCountryProfiles(ctx)
	if err != nil {
		return err
	}
	for _, p := range profiles {
		l.Profile(p)
	}
	batches, err := a.store.ListImports(ctx, ImportCommitted)
	if err != nil {
		return err
	}
	committed := make(map[string]bool, len(batches))
	for _, b := range batches {
		committed[b.ID] = true
	}
	for _, n := range committedRows(taggedN, committed, func(n *models.Need) string { return n.ImportBatch }) {
		l.Need(n)
	}
	for _, o := range committedRows(taggedO, committed, func(o *models.Offer) string { return o.ImportBatch }) {
		l.Offer(o)
	}
	a.Clock.Observe(l.MaxGen())
	l.Commit()
	// What changed while this replica was not listening carries no stamp: mark it now.
	a.Matching.ContextChanged(a.Clock.Tick())
	return nil
}

// Start loads the in-process state from the store. Call it before serving.
func (a *App) Start(ctx context.Context) error {
	return a.Sync.Reconcile(ctx)
}

// committedRows drops rows of bulk imports that have not committed.
func committedRows[T any](rows []*T, committed map[string]bool, batch func(*T) string) []*T {
	out := rows[:0]
	for _, r := range rows {
		if b := batch(r); b == "" || committed[b] {
			out = append(out, r)
		}
	}
	return out
}
