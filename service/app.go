package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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
	// AidData reads IATI activity files for the import, mapping each activity to an external
	// activity (the IATI adapter). Nil refuses imports as unavailable.
	AidData models.AidDataReader
	// Webhooks delivers notifications to organizations' webhooks and holds the SSRF policy of
	// their URLs (the webhook adapter, adapters/webhooks). Nil delivers none and refuses to set
	// a webhook as unavailable.
	Webhooks models.Webhooks
	// Texts writes reasons and notifications in a language (the catalog, package i18n): the
	// ranking responses carry each factor's reason in the caller's language, webhook bodies a
	// notification's text in English. Nil leaves them without text (codes and arguments only).
	Texts models.Texts
	// Mail tunes the e-mail sender (default: the outbox in the store, no SMTP server).
	Mail MailOptions
	// PublicURL is the site's absolute base URL (e.g. https://capmatch.example.org), for the
	// links in e-mails. Default http://localhost:8080.
	PublicURL string
	// LinkKey signs acknowledgement links; every replica must use the same. Default: derived
	// from CursorKey (an HMAC under it with a label of its own, so the two never collide).
	LinkKey []byte
	// PoCCheckTTL is how long a communication check takes acknowledgements (default
	// models.PoCCheckTTL, 14 days).
	PoCCheckTTL time.Duration
	// IATI is how exports name their publisher and where the deployment is reached.
	IATI IATIConfig
	// OpenData is the licence of open data and the public request limit.
	OpenData OpenDataConfig
	// Replica names this process among the replicas of a deployment: the owner of the leases
	// it takes on multi-document work (models.Lease), so that recovery on another replica leaves
	// that work alone while it runs. Every process needs its own; default a fresh random id.
	Replica string
	// RankingsInMemory bounds the rankings of each direction this replica keeps in memory
	// (0: DefaultRankingsInMemory); the others are read from Redis when asked for.
	RankingsInMemory int
	// ExplainedLines bounds the explained ranking lines this replica keeps for reuse, all
	// rankings together (0: DefaultExplainedLines).
	ExplainedLines int
	// Requests counts anonymous requests for the public limit across replicas. Default: the
	// Limiter, when it also counts requests (rediscache.RateLimiter does); else each process
	// counts its own.
	Requests models.RequestLimiter
	// BulkMarket, when set, is what every full load (the start-up's, the periodic reconcile,
	// a reload after the change log was lost) reads the needs and offers with instead of
	// Store: the embedded store's reader of its own files (embedded.MarketReader), many times
	// faster than a read through FerretDB (issue 16: 100,000 + 100,000 in ~9 s instead of
	// ~128 s, which the reconcile would otherwise spend every 10 minutes). Single reads and
	// writes always go to Store.
	BulkMarket MarketScanner
}

// MarketScanner reads every need and offer, with the contract of models.NeedStore.EachNeed
// and models.OfferStore.EachOffer.
type MarketScanner interface {
	EachNeed(ctx context.Context, known func(id string, version int64) bool, f func(*models.Need) error) error
	EachOffer(ctx context.Context, known func(id string, version int64) bool, f func(*models.Offer) error) error
}

// App is every use case, wired once by main (and by tests the same way, in internal/stacktest).
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
	// Assessments is the self-assessments of countries and the needs they propose.
	Assessments *Assessments
	// Notifications keeps the in-app feeds and delivers webhooks; run it with Notifications.Run.
	Notifications *Notifications
	// PoCs is the Points of Contact directory; PoCChecks its communication checks.
	PoCs      *PoCs
	PoCChecks *PoCChecks
	// Mailer sends e-mails off the request path; run it with Mailer.Run.
	Mailer *Mailer
	// OpenData serves what anonymous visitors may read: open datasets and the public API.
	OpenData *OpenData

	// model is the in-memory read model every use case reads. It is not exported: callers go
	// through the use cases (tests too: internal/stacktest plants and reloads documents through
	// Sync or the change log, as another replica would).
	model *readmodel.Model
	// origin names this replica in the change log (the Bus's Origin, when it has one), so
	// that it knows its own entries.
	origin     string
	store      models.Store
	activities models.ActivityExporter
	aidData    models.AidDataReader
	iati       IATIConfig
	// market is what full loads read needs and offers with: Deps.BulkMarket, else the store.
	market MarketScanner
}

// New wires the use cases on the adapters.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	// Every time that is stored or returned is taken to the store's millisecond
	// (models.StoredTime), here, once.
	wall := d.Now
	d.Now = func() time.Time { return models.StoredTime(wall()) }
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Replica == "" {
		d.Replica = models.NewID(wall())
	}
	rev := NewRevocations(d.Store, d.Now)
	auth := &Auth{users: d.Store, tokens: d.Store, audit: d.Store, access: newTokenCache(d.Access, d.Now), limiter: d.Limiter, passwords: d.Passwords,
		bus: d.Bus, revocations: rev, now: d.Now, log: d.Log, me: newUserCache(d.Store, rev, d.Now)}
	model := readmodel.New()
	cursors := NewCursors(d.CursorKey)
	events := &Events{}
	app := &App{
		Auth:        auth,
		Accounts:    &Accounts{orgs: d.Store, users: d.Store, audit: d.Store, auth: auth, passwords: d.Passwords, activities: d.Activities, now: d.Now, log: d.Log},
		Sync:        &Sync{revocations: rev, log: d.Log},
		Revocations: rev,
		Needs:       &Needs{store: d.Store, model: model, bus: d.Bus, cursors: cursors, now: d.Now, log: d.Log, events: events},
		Offers:      &Offers{store: d.Store, model: model, bus: d.Bus, cursors: cursors, now: d.Now, log: d.Log, events: events},
		Countries:   &Countries{store: d.Store, model: model, bus: d.Bus, now: d.Now, log: d.Log},
		model:       model,
		store:       d.Store,
		activities:  d.Activities,
		aidData:     d.AidData,
		iati:        d.IATI,
	}
	app.market = d.BulkMarket
	if app.market == nil {
		app.market = d.Store
	}
	app.Matching = NewMatching(&Matching{store: d.Store, model: model, cache: d.Rankings, bus: d.Bus, now: d.Now, log: d.Log,
		fresh: rev.Fresh, applied: app.Sync.Applied, l1Max: d.RankingsInMemory,
		explainedMax: d.ExplainedLines})
	app.Engagements = &Engagements{store: d.Store, model: model, bus: d.Bus, needs: app.Needs, offers: app.Offers,
		now: d.Now, log: d.Log, events: events, replica: d.Replica}
	app.Projects = &Projects{store: d.Store, model: model, bus: d.Bus, needs: app.Needs, engagements: app.Engagements,
		now: d.Now, log: d.Log, events: events}
	app.Notifications = &Notifications{store: d.Store, matching: app.Matching, webhooks: d.Webhooks, texts: d.Texts,
		now: d.Now, log: d.Log}
	app.Notifications.out = newOutbox(app.Notifications.write)
	app.Mailer = NewMailer(d.Mail, d.Store, d.Now, d.Log, events)
	app.PoCs = &PoCs{store: d.Store, countries: app.Countries, now: d.Now, log: d.Log}
	linkKey := d.LinkKey
	if len(linkKey) == 0 {
		m := hmac.New(sha256.New, d.CursorKey)
		m.Write([]byte("capmatch/poc-ack-links/v1"))
		linkKey = m.Sum(nil)
	}
	publicURL := d.PublicURL
	if publicURL == "" {
		publicURL = "http://localhost:8080"
	}
	app.PoCChecks = &PoCChecks{store: d.Store, pocs: app.PoCs, countries: app.Countries, needs: app.Needs, notices: app.Notifications,
		mail: app.Mailer, linkKey: linkKey, publicURL: publicURL, ttl: d.PoCCheckTTL, now: d.Now, log: d.Log}
	events.OnMailResult(func(ctx context.Context, r MailResult) { app.PoCChecks.mailResult(ctx, r.Message, r.Status, r.At) })
	requests := d.Requests
	if requests == nil {
		requests, _ = d.Limiter.(models.RequestLimiter)
	}
	app.OpenData = newOpenData(app, d.OpenData, requests)
	app.Assessments = &Assessments{store: d.Store, model: model, needs: app.Needs, countries: app.Countries, now: d.Now, log: d.Log}
	// Reactions, in the order they run: notifications first (they tell of the transition), then
	// the cascades (which tell of what they end), and re-ranking after any change of deliveries.
	app.Notifications.subscribe(events)
	app.Engagements.subscribe(events)
	events.OnDeliveriesChanged(app.Matching.ContextChanged)
	if o, ok := d.Bus.(interface{ Origin() string }); ok {
		app.origin = o.Origin()
	}
	app.syncModel(d.Now)
	return app
}

// syncModel teaches Sync how to apply the change log's entries to the read model (each at its
// position, e.Gen) and how to reload it from the store.
func (a *App) syncModel(now Clock) {
	a.Sync.Handle(models.EventNeed, func(ctx context.Context, e models.Event) {
		var n models.Need
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &n) == nil && n.ID == e.ID {
			a.model.PutNeedAt(&n, e.Gen)
			return
		}
		if got, err := a.store.GetNeed(ctx, e.ID); err == nil {
			a.model.PutNeedAt(got, e.Gen)
		}
	})
	a.Sync.Handle(models.EventOffer, func(ctx context.Context, e models.Event) {
		var o models.Offer
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &o) == nil && o.ID == e.ID {
			a.model.PutOfferAt(&o, e.Gen)
			return
		}
		if got, err := a.store.GetOffer(ctx, e.ID); err == nil {
			a.model.PutOfferAt(got, e.Gen)
		}
	})
	a.Sync.Handle(models.EventCountry, func(ctx context.Context, e models.Event) {
		var p models.CountryProfile
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &p) == nil && p.ISO == e.ID {
			a.model.PutProfile(&p)
			return
		}
		if got, err := a.store.GetCountryProfile(ctx, e.ID); err == nil {
			a.model.PutProfile(got)
		}
	})
	a.Sync.Handle(models.EventImport, func(ctx context.Context, e models.Event) {
		var rows importedRows
		if json.Unmarshal(e.Data, &rows) != nil {
			return
		}
		a.Matching.markOnlyAt(e.Gen) // the rows share the entry's position
		for _, n := range rows.Needs {
			a.model.PutNeedAt(n, e.Gen)
		}
		for _, o := range rows.Offers {
			a.model.PutOfferAt(o, e.Gen)
		}
	})
	a.Sync.Handle(models.EventExternal, func(ctx context.Context, e models.Event) {
		// The writer loaded its own import's rows before appending it; others read them.
		if e.Origin == "" || e.Origin != a.origin {
			a.loadExternalBatch(ctx, e.ID)
		}
		a.Matching.ContextChanged(e.Gen)
	})
	a.Sync.Handle(models.EventEngagement, func(ctx context.Context, e models.Event) {
		var x models.Engagement
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &x) == nil && x.ID == e.ID {
			a.model.PutEngagement(&x)
		} else if got, err := a.store.GetEngagement(ctx, e.ID); err == nil {
			a.model.PutEngagement(got)
		}
		a.Matching.ContextChanged(e.Gen)
	})
	a.Sync.Handle(models.EventProject, func(ctx context.Context, e models.Event) {
		var x models.Project
		if len(e.Data) > 0 && json.Unmarshal(e.Data, &x) == nil && x.ID == e.ID {
			a.model.PutProject(&x)
		} else if got, err := a.store.GetProject(ctx, e.ID); err == nil {
			a.model.PutProject(got)
		}
		a.Matching.ContextChanged(e.Gen)
	})
	a.Sync.Handle(models.EventWeights, func(ctx context.Context, e models.Event) {
		a.Matching.WeightsChanged(e.Data)
	})
	// An account another replica changed without a revocation (its UI language): forget
	// what GET /me keeps of it (usercache.go).
	a.Sync.Handle(models.EventUser, func(_ context.Context, e models.Event) { a.Auth.me.drop(e.ID) })
	a.Sync.OnReload(func(ctx context.Context, stamp int64) error { return a.reload(ctx, now, stamp) })
	// The names of the organizations behind the needs and offers, which every view of them
	// carries: in memory like the model, so that lists keep naming them while the store is
	// unreachable (organizations other replicas or the demo loader created included).
	a.Sync.OnReload(func(ctx context.Context, _ int64) error { return a.Accounts.LoadOrgNames(ctx) })
}

// reload brings the read model and the matching index in line with the store (Sync runs it at
// start-up, when the change log cannot be followed, and periodically). stamp is the log
// position read before the store is (the log's head, or the applied position at start-up), or
// readmodel.Local for a reconciliation outside the log's order.
//
// The deliveries under way are loaded first, so that a bulk load of needs and offers ranks
// with them. Needs and offers are streamed (readmodel.Load): an object the model holds at the
// same version is dropped as it is read, so a reload holds no second copy of the collections,
// and a load that changes much, or fills an empty model at start-up, rebuilds the index in one
// pass instead of working out, object by object, which rankings each one alters. Its stamp,
// the log position read before the store is, is below every entry the load may not include:
// what the load changes is marked at it, and after a bulk load no ranking stamped below it is
// served. The external
// activities (IATI imports) are reconciled before the load commits, for the same reason as
// the deliveries: they are part of the context a bulk load ranks with.
func (a *App) reload(ctx context.Context, now Clock, stamp int64) error {
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
	a.model.ReconcileDelivery(engagements, projects)
	loadedAt := now()
	l := a.model.BeginLoad(loadedAt, stamp)
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
		needsDone <- a.market.EachNeed(scan, l.NeedKnown, func(n *models.Need) error {
			if n.ImportBatch != "" {
				taggedN = append(taggedN, n)
			} else {
				l.Need(n)
			}
			return nil
		})
	}()
	errO := a.market.EachOffer(scan, l.OfferKnown, func(o *models.Offer) error {
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
	external, err := a.store.ListExternalActivities(ctx, "")
	if err != nil {
		return err
	}
	a.model.ReconcileExternal(external, committed)
	l.Commit()
	// What changed in the deliveries while this replica did not follow the log: marked at
	// the load's stamp.
	a.Matching.ContextChanged(stamp)
	if stamp == readmodel.Local && a.Sync.following() {
		a.repair(ctx, l)
	}
	return nil
}

// repairMax is the most needs and offers a reconciliation appends to the change log for the
// other replicas; beyond it they find them at their own reconciliation.
const repairMax = 500

// repair appends to the change log the needs and offers a reconciliation found newer in the
// store than in this replica's model while it follows the log: changes the log never carried
// (a writer that stopped between its store write and its append). Every replica then applies
// them at one position, marking the rankings they alter, instead of waiting for its own
// reconciliation; a replica that holds them already ignores them (versions).
func (a *App) repair(ctx context.Context, l *readmodel.Load) {
	needs, offers := l.Found()
	if len(needs)+len(offers) == 0 {
		return
	}
	if len(needs)+len(offers) > repairMax {
		a.Needs.log.WarnContext(ctx, "reconciliation found many changes the change log did not carry; other replicas find them at their own reconciliation", "needs", len(needs), "offers", len(offers))
		return
	}
	a.Needs.log.WarnContext(ctx, "reconciliation found changes the change log did not carry; appending them", "needs", len(needs), "offers", len(offers))
	publish(ctx, a.Needs.bus, a.Needs.log, models.Event{Type: models.EventImport, ID: "reconciled", At: a.Needs.now().UTC(),
		Data: mustJSON(importedRows{Needs: needs, Offers: offers})})
}

// Loaded says how many needs and offers this replica holds in memory: what start-up tools and
// checks compare with the store, without reaching into the read model.
func (a *App) Loaded() (needs, offers int) {
	return a.model.Sizes()
}

// Start loads the in-process state from the store. Call it before serving.
func (a *App) Start(ctx context.Context) error {
	return a.Sync.Start(ctx)
}

// StartAt is Start at the change log's position head, read (with the log's epoch) before it:
// the state then reflects every entry up to head, and the log's consumer resumes from there
// (rediscache.Log.Resume) instead of loading everything a second time when it connects.
func (a *App) StartAt(ctx context.Context, head int64) error {
	return a.Sync.Reload(ctx, head)
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
