// Package stacktest wires a complete application layer (service.App) on in-process adapters,
// the way cmd/capmatch wires it on real ones: the store on a fresh database of the test
// binary's embedded FerretDB (storetest), Redis (redistest: REDIS_URL or an in-process server)
// for the rankings, the rate limits and the event bus, a JWT keyring, argon2id at cheap
// parameters and the IATI adapters. It is the one place that knows how a test stack is built:
// the api and web tests, the load tool's tests, the service tests and the benchmarks all start
// theirs here, so that a new dependency of the use cases is wired once for all of them.
//
// It is test support: only tests import it (TestLayers checks), and it sits outside the layers
// (under internal/, named *test) because it wires adapters into the application layer, which
// only cmd/ does in production.
package stacktest

import (
	"context"
	"encoding/json"
	"errors"
	"go.mongodb.org/mongo-driver/v2/event"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/iati"
	"github.com/capmatch/capmatch/adapters/jwtauth"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/adapters/passwords"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/adapters/webhooks"
	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// CheapPasswords sets argon2id to parameters that cost next to nothing: at production cost
// (and under the race detector) hashing would dominate the suites. The production parameters
// are tested in package passwords. Main calls it.
func CheapPasswords() { passwords.Default = passwords.Params{Memory: 64, Time: 1, Threads: 1} }

// Main sets cheap password hashing, starts the embedded store shared by the test binary, runs
// the tests and stops it. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(stacktest.Main(m)) }
func Main(m *testing.M) int {
	CheapPasswords()
	return storetest.Main(m)
}

// Options adjust the stack; the zero value is a complete stack on a fresh database and a
// fresh Redis, with the event bus running.
type Options struct {
	// DB is the database (default a fresh one): replicas of one deployment share it.
	DB string
	// StoreURI is where the store is reached (default the shared test server; a proxy in front
	// of it for outage tests).
	StoreURI string
	// StoreMonitor, when set, observes every store command (tests that count round trips).
	StoreMonitor *event.CommandMonitor
	// RedisURL and Prefix name the Redis and the key prefix (default a fresh Redis per test
	// and a fresh prefix): replicas of one deployment share them.
	RedisURL, Prefix string
	// Secret signs access tokens and cursors (default 40 bytes of 's').
	Secret []byte
	// Now is the clock of the token issuer and of the use cases (default time.Now), for tests
	// that let a token expire or date what they do.
	Now func() time.Time
	// Log receives the application's log (default discarded).
	Log *slog.Logger
	// Adjust changes the use cases' dependencies last, before service.New: an SMTP transport,
	// webhook options, a store wrapped to count its reads, ...
	Adjust func(*service.Deps)
	// Webhooks runs the webhook deliveries (Notifications.Run) and Mail the e-mail sender
	// (Mailer.Run) until the test ends; without them webhooks and e-mails stay queued.
	Webhooks, Mail bool
	// WebhookOptions tunes the webhook adapter the stack wires in (default: what production
	// runs with, https and public addresses only); tests that deliver to an httptest server
	// allow private targets and shorten the backoff.
	WebhookOptions webhooks.Options
	// Memory builds the use cases on the read model alone, without store or bus (any store call
	// panics), for benchmarks of read paths: the stack is not started, nothing runs in the
	// background, the rankings are cached as when the bus is up, and Plant fills it.
	Memory bool
}

// Stack is one application (one replica) on its adapters.
type Stack struct {
	// App is the use cases.
	App *service.App
	// Store is the stack's store (nil with Options.Memory), for tests that plant or read
	// documents directly.
	Store models.Store
	// Cache is the Redis client of the rankings, limits and change log (nil with
	// Options.Memory).
	Cache *rediscache.Client
	// Log is the stack's change log (nil with Options.Memory).
	Log *rediscache.Log
	// Access issues and checks access tokens, for tests that forge what a client cannot.
	Access models.AccessTokens
	// Deps is what the use cases were built on, after Options.Adjust.
	Deps service.Deps

	t    testing.TB
	stop func()
	once sync.Once
}

// DefaultSecret is the access-token and cursor key of a stack without Options.Secret.
var DefaultSecret = []byte(strings.Repeat("s", 40))

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// New builds a stack, starts it (loads the store into the read model), runs its bus and the
// background loops asked for, and waits until the bus is connected. Everything stops when the
// test ends (or at Stop).
func New(t testing.TB, o Options) *Stack {
	t.Helper()
	if o.Secret == nil {
		o.Secret = DefaultSecret
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = Discard()
	}
	ring, err := jwtauth.NewKeyring(o.Secret)
	if err != nil {
		t.Fatalf("stacktest: keyring: %v", err)
	}
	s := &Stack{t: t, Access: jwtauth.New(ring, o.Now)}
	deps := service.Deps{Passwords: passwords.Argon2id{}, Activities: iati.Exporter{}, AidData: iati.Importer{},
		Texts: i18n.Default(), Access: s.Access, Now: o.Now, Log: o.Log, CursorKey: o.Secret, PublicURL: "https://capmatch.test"}
	deps.Webhooks = webhooks.New(o.WebhookOptions, o.Now, o.Log)
	if o.Memory {
		return s.memory(deps, o)
	}
	s.Store = openStore(t, o)
	if o.RedisURL == "" {
		o.RedisURL = redistest.URL(t)
	}
	if o.Prefix == "" {
		o.Prefix = redistest.Prefix()
	}
	s.Cache, err = rediscache.Open(o.RedisURL, o.Prefix)
	if err != nil {
		t.Fatalf("stacktest: redis: %v", err)
	}
	s.Log = rediscache.NewLog(s.Cache, models.NewID(time.Now()), o.Log)
	deps.Store, deps.Bus = s.Store, s.Log
	deps.Limiter = rediscache.NewRateLimiter(s.Cache)
	deps.Rankings = rediscache.NewRankings(s.Cache, time.Hour)
	if o.Adjust != nil {
		o.Adjust(&deps)
	}
	s.Deps, s.Store = deps, deps.Store
	s.App = service.New(deps)
	if err := s.App.Start(context.Background()); err != nil {
		_ = s.Cache.Close()
		t.Fatalf("stacktest: start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(f func(context.Context)) { wg.Add(1); go func() { defer wg.Done(); f(ctx) }() }
	run(func(ctx context.Context) { s.Log.Run(ctx, s.App.Sync, 200*time.Millisecond) })
	if o.Webhooks {
		run(s.App.Notifications.Run)
	}
	if o.Mail {
		run(s.App.Mailer.Run)
	}
	s.stop = func() {
		// What the outbox still holds is stored before the database is dropped, as a replica
		// shutting down stores it before closing the store.
		flushCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		s.App.Notifications.Flush(flushCtx)
		done()
		cancel()
		wg.Wait()
		_ = s.Cache.Close()
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(5 * time.Second)
	for !s.App.Revocations.Fresh() {
		if time.Now().After(deadline) {
			t.Fatal("stacktest: the change log was not followed within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func openStore(t testing.TB, o Options) models.Store {
	db := o.DB
	if db == "" {
		db = storetest.NewDBName()
	}
	if o.StoreURI != "" {
		return storetest.OpenMonitored(t, o.StoreURI, db, o.StoreMonitor)
	}
	if o.StoreMonitor != nil {
		return storetest.OpenMonitored(t, storetest.URI(), db, o.StoreMonitor)
	}
	return storetest.OpenDB(t, db)
}

// nopStore is the store of a memory stack: the paths it serves never call it (any call panics
// through the nil interface).
type nopStore struct{ models.Store }

// nopBus is no change log: every change is applied by its writer alone.
type nopBus struct{}

func (nopBus) Publish(context.Context, models.Event) (int64, error) {
	return 0, errors.New("stacktest: a memory stack has no change log")
}

func (s *Stack) memory(deps service.Deps, o Options) *Stack {
	url := o.RedisURL
	if url == "" {
		url = redistest.URL(s.t)
	}
	prefix := o.Prefix
	if prefix == "" {
		prefix = redistest.Prefix()
	}
	cache, err := rediscache.Open(url, prefix)
	if err != nil {
		s.t.Fatalf("stacktest: redis: %v", err)
	}
	deps.Store, deps.Bus = nopStore{}, nopBus{}
	deps.Rankings = rediscache.NewRankings(cache, time.Hour)
	if o.Adjust != nil {
		o.Adjust(&deps)
	}
	s.Deps = deps
	s.App = service.New(deps)
	s.App.Revocations.SetFresh(true) // as when the bus is up: rankings are cached
	s.stop = func() { _ = cache.Close() }
	s.t.Cleanup(s.Stop)
	return s
}

// Stop stops the background loops and closes the Redis client, as a replica that goes away;
// it runs when the test ends and may run before.
func (s *Stack) Stop() { s.once.Do(s.stop) }

// Plant puts needs and offers in the read model as another replica's announcements do (the
// event carries the document), without the store: for benchmarks on a memory stack that need
// a market larger than the use cases fill quickly.
func (s *Stack) Plant(needs []*models.Need, offers []*models.Offer) {
	ctx := context.Background()
	for _, n := range needs {
		s.deliver(ctx, models.EventNeed, n.ID, n)
	}
	for _, o := range offers {
		s.deliver(ctx, models.EventOffer, o.ID, o)
	}
}

// Reload makes the application read one document again from the store, as it does when
// another replica announces a change of it: for tests that write a state into the store that
// the use cases cannot (or must not) reach, then let the application see it. The change goes
// through the stack's change log (a memory stack applies it at its next position); a reload of an
// engagement or a project recomputes
// what the rankings know of deliveries.
func (s *Stack) Reload(ctx context.Context, typ models.EventType, id string) {
	s.deliver(ctx, typ, id, nil)
}

func (s *Stack) deliver(ctx context.Context, typ models.EventType, id string, doc any) {
	s.t.Helper()
	e := models.Event{Type: typ, ID: id}
	if doc != nil {
		raw, err := json.Marshal(doc)
		if err != nil {
			s.t.Fatalf("stacktest: %s %s: %v", typ, id, err)
		}
		e.Data = raw
	}
	if s.Log != nil {
		if _, err := s.Log.Publish(ctx, e); err != nil {
			s.t.Fatalf("stacktest: %s %s on the change log: %v", typ, id, err)
		}
		return
	}
	s.App.Sync.Deliver(ctx, e)
}

// Needs reads every need from the store (what every replica reads), newest first as the lists
// show them, for tests that check what requests left behind.
func (s *Stack) Needs() []*models.Need {
	s.t.Helper()
	all, err := s.Store.ListNeeds(context.Background())
	if err != nil {
		s.t.Fatalf("stacktest: needs: %v", err)
	}
	slices.SortFunc(all, func(a, b *models.Need) int { return newestFirst(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return all
}

// Offers reads every offer from the store, newest first.
func (s *Stack) Offers() []*models.Offer {
	s.t.Helper()
	all, err := s.Store.ListOffers(context.Background())
	if err != nil {
		s.t.Fatalf("stacktest: offers: %v", err)
	}
	slices.SortFunc(all, func(a, b *models.Offer) int { return newestFirst(a.CreatedAt, b.CreatedAt, a.ID, b.ID) })
	return all
}

// Need reads one need from the store; ok is false when there is none.
func (s *Stack) Need(id string) (*models.Need, bool) {
	s.t.Helper()
	n, err := s.Store.GetNeed(context.Background(), id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		s.t.Fatalf("stacktest: need %s: %v", id, err)
	}
	return n, true
}

func newestFirst(a, b time.Time, idA, idB string) int {
	if c := b.Compare(a); c != 0 {
		return c
	}
	return strings.Compare(idB, idA)
}
