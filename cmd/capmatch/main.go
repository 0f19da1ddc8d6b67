// Command capmatch serves the capmatch API and web UI. With no MONGO_URI it embeds FerretDB
// (SQLite in CAPMATCH_DATA_DIR) and, with no REDIS_URL, an in-process Redis-protocol server,
// so that `go run ./cmd/capmatch` works on a machine with nothing else installed.
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/capmatch/capmatch/adapters/iati"
	"github.com/capmatch/capmatch/adapters/passwords"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/jwtauth"
	"github.com/capmatch/capmatch/adapters/mailer"
	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/webhooks"
	"github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "capmatch:", err)
		os.Exit(1)
	}
}

// shutdownBudget is how long in-flight requests get to finish after SIGTERM.
const shutdownBudget = 10 * time.Second

// run is the whole program: it reads the configuration, starts what it needs, serves until ctx
// is cancelled or a signal arrives, and shuts down in order. Tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	hooks, err := webhookOptions(getenv)
	if err != nil {
		return err
	}
	data, err := loadDataConfig(getenv)
	if err != nil {
		return err
	}

	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "serve":
	case "healthcheck":
		return healthcheck(ctx, cfg.Addr)
	case "ferretdb":
		return ferretCommand(ctx, args[2:], stdout, stderr)
	case "user":
	default:
		return fmt.Errorf("unknown command %q (commands: serve, healthcheck, user create)", cmd)
	}

	st, err := openStack(ctx, cfg, hooks, data, log, stderr)
	if err != nil {
		return err
	}
	defer st.close()

	if cmd == "user" {
		return userCommand(ctx, args[2:], getenv, stdout, st.app)
	}
	return serve(ctx, cfg, data, log, st)
}

// stack is everything the program runs on, opened in order and closed in reverse.
type stack struct {
	mode, cacheMode string
	store           *mongostore.Store
	cache           *rediscache.Client
	bus             *rediscache.Log
	app             *service.App
	closers         []func()
}

func (st *stack) close() {
	for i := len(st.closers) - 1; i >= 0; i-- {
		st.closers[i]()
	}
}

// webhookOptions reads CAPMATCH_WEBHOOK_ALLOW_PRIVATE: whether webhooks may target plain http
// and loopback, private or link-local addresses (off by default: SSRF).
func webhookOptions(getenv func(string) string) (webhooks.Options, error) {
	switch v := strings.ToLower(strings.TrimSpace(getenv("CAPMATCH_WEBHOOK_ALLOW_PRIVATE"))); v {
	case "", "false":
		return webhooks.Options{}, nil
	case "true":
		return webhooks.Options{AllowPrivate: true}, nil
	default:
		return webhooks.Options{}, &configError{"CAPMATCH_WEBHOOK_ALLOW_PRIVATE", fmt.Sprintf("%q must be true or false", v)}
	}
}

// openStack starts or connects to the store and the cache and wires the use cases on them.
func openStack(ctx context.Context, cfg config, hooks webhooks.Options, data dataConfig, log *slog.Logger, stderr io.Writer) (st *stack, err error) {
	st = &stack{mode: "external", cacheMode: "external"}
	defer func() {
		if err != nil {
			st.close()
		}
	}()

	mongoURI := cfg.MongoURI
	var ferret *embedded.FerretDB
	if cfg.embedded() {
		st.mode = "embedded"
		ferretLog := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		f, err := embedded.StartFerretDBWith(ctx, filepath.Join(cfg.DataDir, "ferretdb"),
			embedded.Config{Addr: "127.0.0.1:0", Sync: cfg.EmbeddedSync}, ferretLog)
		if err != nil {
			return st, err
		}
		st.closers = append(st.closers, func() { f.Stop(); log.Info("embedded store stopped") })
		mongoURI, ferret = f.URI(), f
	}
	st.store, err = mongostore.Open(ctx, mongoURI, cfg.MongoDB, mongostore.Options{Logger: log, EmbeddedSQLite: ferret != nil})
	if err != nil {
		return st, fmt.Errorf("open store: %w", err)
	}
	if ferret == nil && st.store.Serialized() {
		log.Warn("MONGO_URI is a FerretDB reached directly: its conditional writes are atomic for this one process only; " +
			"run a single API process on it, serve it with `capmatch ferretdb` (through the write proxy), or use MongoDB")
	}
	if ferret != nil {
		// FerretDB 1.24 scans a whole collection for every lookup by _id unless this index
		// exists (embedded.FerretDB.IndexIDs).
		if err := st.store.EnsureCollections(ctx); err != nil {
			return st, fmt.Errorf("open store: %w", err)
		}
		n, err := ferret.IndexIDs(ctx, cfg.MongoDB)
		if err != nil {
			return st, fmt.Errorf("open store: %w", err)
		}
		log.Info("embedded store ready", "id_indexes_created", n, "sync", cfg.EmbeddedSync, "writes_queued", st.store.WritesQueued())
	}
	st.closers = append(st.closers, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := st.store.Close(ctx); err != nil {
			log.Warn("store disconnect", "err", err)
		}
		log.Info("store disconnected")
	})

	redisURL := cfg.RedisURL
	if redisURL == "" {
		st.cacheMode = "embedded"
		r, err := embedded.StartRedis()
		if err != nil {
			return st, err
		}
		st.closers = append(st.closers, func() { r.Stop(); log.Info("embedded cache stopped") })
		redisURL = r.URL()
	}
	rcfg, err := rediscache.ParseURL(redisURL)
	if err != nil {
		return st, fmt.Errorf("open cache: parse REDIS_URL: %w", err)
	}
	st.cache = rediscache.OpenConfig(rcfg, cfg.RedisPrefix)
	st.closers = append(st.closers, func() { _ = st.cache.Close(); log.Info("cache closed") })

	secret, source, err := jwtSecret(ctx, cfg, st.store)
	if err != nil {
		return st, err
	}
	ring, err := accessKeyring(secret, cfg)
	if err != nil {
		return st, err
	}
	log.Debug("jwt key", "source", source, "kid", jwtauth.KeyID(secret))
	if cfg.JWTPreviousSecret != "" {
		log.Info("access tokens signed with the previous key are still accepted", "previous_kid", jwtauth.KeyID([]byte(cfg.JWTPreviousSecret)))
	}

	// One id per process: the change log's origin and the owner of
	// the leases the process takes on multi-document work (service.Deps.Replica).
	replica := models.NewID(time.Now())
	st.bus = rediscache.NewLog(st.cache, replica, log)
	var mail service.MailOptions
	if cfg.SMTP != nil {
		mail.Transport = mailer.New(*cfg.SMTP, cfg.SMTPFrom)
	}
	// On the embedded store full loads (the start-up's, the reconcile's) read needs and offers
	// from FerretDB's files (embedded.MarketReader: many times faster than through FerretDB; it
	// falls back on the store by itself); everything else goes through FerretDB.
	var market service.MarketScanner
	if ferret != nil {
		market = embedded.NewMarketReader(ferret.Dir(), cfg.MongoDB, st.store, log)
	}
	st.app = service.New(service.Deps{
		Store:      st.store,
		Bus:        st.bus,
		Passwords:  passwords.Argon2id{},
		Activities: iati.Exporter{Publisher: data.Publisher},
		AidData:    iati.Importer{},
		Limiter:    rediscache.NewRateLimiter(st.cache),
		Access:     jwtauth.New(ring, time.Now),
		Log:        log,
		CursorKey:  secret,
		Rankings:   rediscache.NewRankings(st.cache, 24*time.Hour),
		Webhooks:   webhooks.New(hooks, time.Now, log),
		Texts:      i18n.Default(),
		Mail:       mail,
		PublicURL:  cfg.PublicURL,
		IATI:       data.IATI,
		OpenData:   data.OpenData,
		Replica:    replica,

		RankingsInMemory: cfg.RankingsInMemory,
		ExplainedLines:   cfg.ExplainedLines,

		BulkMarket: market,
	})
	if data.Publisher.Ref == "" {
		log.Warn("IATI exports name the placeholder publisher XM-CAPMATCH; set CAPMATCH_IATI_PUBLISHER_REF to your registered organisation identifier")
	}
	// Finish what a crash may have interrupted: imports roll back or stay committed, accepts
	// complete or undo once their lease lapsed (also every 30 s while serving). Both are idempotent.
	if err := st.app.RecoverImports(ctx); err != nil {
		log.Warn("import recovery incomplete; it runs again at the next start", "err", err)
	}
	// The load starts from the change log's head, read before it, so that the log's consumer
	// resumes there instead of loading everything a second time when it connects. Without the
	// log (Redis unreachable), the consumer loads again once it answers. With CAPMATCH_DEMO it
	// does too, as before: the demo is written around the change log and reconciled outside its
	// order, which marks the rankings it changes after the applied position, and only the
	// consumer's reload at its head lets them be cached again (cheap at the demo's size).
	var head int64
	var epoch string
	resume := false
	if !cfg.Demo {
		hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var herr error
		head, epoch, herr = st.bus.Head(hctx)
		cancel()
		if herr != nil {
			log.Warn("change log unreachable at start-up; loading without its position (its consumer loads again once it answers)", "err", herr)
		}
		resume = herr == nil
	}
	if resume {
		err = st.app.StartAt(ctx, head)
	} else {
		err = st.app.Start(ctx)
	}
	if err != nil {
		return st, fmt.Errorf("load state: %w", err)
	}
	if err := st.app.Engagements.Recover(ctx); err != nil {
		log.Warn("engagement recovery incomplete; it runs again within 30 s", "err", err)
	}
	if cfg.AdminEmail != "" {
		created, err := st.app.Accounts.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return st, fmt.Errorf("CAPMATCH_ADMIN_EMAIL: create admin: %w", err)
		}
		if created {
			log.Info("created admin account", "email", cfg.AdminEmail)
		}
	}
	if cfg.Demo {
		accounts, loaded, err := st.app.LoadDemo(ctx, models.DateOf(time.Now()))
		if err != nil {
			return st, fmt.Errorf("load demo data (CAPMATCH_DEMO): %w", err)
		}
		if loaded {
			needs, errN := st.store.ListNeeds(ctx)
			offers, errO := st.store.ListOffers(ctx)
			if err := errors.Join(errN, errO); err != nil {
				log.Warn("loaded the demo data set; counting it failed", "err", err)
			} else {
				log.Info("loaded the demo data set", "needs", len(needs), "offers", len(offers))
			}
		}
		for _, a := range accounts {
			log.Info("demo account", "email", a.Email, "password", a.Password, "role", string(a.Role), "organization", a.OrgKey)
		}
	}
	// The PoC part of every readiness profile follows the directory (a store written before it
	// was derived, or a replica stopped half-way, is brought in line).
	if err := st.app.PoCs.Rederive(ctx); err != nil {
		log.Warn("points of contact readiness not derived; it is at the next start", "err", err)
	}
	if resume {
		st.bus.Resume(head, epoch)
	}
	log.Info("e-mail", "mode", st.app.Mailer.Mode(), "public_url", cfg.PublicURL)
	return st, nil
}

// accessKeyring is the access-token keyring: it signs with secret and also accepts tokens
// signed with CAPMATCH_JWT_PREVIOUS_SECRET, which a rotation keeps until they have expired.
func accessKeyring(secret []byte, cfg config) (*jwtauth.Keyring, error) {
	var previous [][]byte
	if cfg.JWTPreviousSecret != "" {
		previous = append(previous, []byte(cfg.JWTPreviousSecret))
	}
	ring, err := jwtauth.NewKeyring(secret, previous...)
	if err != nil {
		return nil, fmt.Errorf("CAPMATCH_JWT_SECRET: %w", err)
	}
	return ring, nil
}

// serve runs the HTTP server and the background sync until ctx ends, then shuts down in order:
// readiness 503, in-flight requests finish, background work stops, then the stack closes.
func serve(ctx context.Context, cfg config, data dataConfig, log *slog.Logger, st *stack) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{}, 6)
	go func() { st.bus.Run(bg, st.app.Sync, time.Second); bgDone <- struct{}{} }()
	go func() { st.app.Sync.RunReconciler(bg, cfg.ReconcileInterval); bgDone <- struct{}{} }()
	// Webhook deliveries run until shutdown; what is still queued then is lost (in memory).
	go func() { st.app.Notifications.Run(bg); bgDone <- struct{}{} }()
	// E-mails (communication checks) likewise; and expired checks are closed every minute.
	go func() { st.app.Mailer.Run(bg); bgDone <- struct{}{} }()
	go func() { st.app.PoCChecks.RunSweeper(bg, time.Minute); bgDone <- struct{}{} }()
	// Work another replica left under a lease that lapsed (it crashed) is finished here.
	go func() { st.app.Engagements.RunRecovery(bg, service.RecoveryInterval); bgDone <- struct{}{} }()
	defer func() {
		stopBG()
		for range 6 {
			<-bgDone
		}
	}()

	srv := api.New(api.Deps{
		Log:     log,
		Version: version,
		Checks:  []api.Check{{Name: "store", Ping: st.store}, {Name: "cache", Ping: st.cache}},
		App:     st.app,
		// The IATI import streams its body; every other route keeps the 1 MiB limit.
		IATIImportMaxBytes: data.IATIImportMaxBytes,
	})
	if err := srv.RegisterNotificationMetrics(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on CAPMATCH_ADDR %s: %w", cfg.Addr, err)
	}
	log.Info("capmatch running", "mode", st.mode, "store", storeDesc(st.mode, cfg), "cache", st.cacheMode,
		"redis", string(st.cache.Mode()), "replica_set", st.store.ReplicaSet(), "conditional_writes", st.store.ConditionalWrites(),
		"addr", ln.Addr().String(), "version", version)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(ln) }()
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "budget", shutdownBudget.String())
	if err := srv.Shutdown(shutdownBudget); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", "err", err)
	}
	// The notifications the last requests queued are stored before the store closes.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownBudget)
	defer cancel()
	st.app.Notifications.Flush(flushCtx)
	return nil
}

// servePprof serves net/http/pprof's handlers on a loopback address (CAPMATCH_PPROF_ADDR), for
// profiling a running server: go tool pprof http://127.0.0.1:6060/debug/pprof/profile. It is
// a separate listener so that the profiler is never reachable through the API's port.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on CAPMATCH_PPROF_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(ln) }()
	log.Info("profiler listening", "addr", ln.Addr().String())
	return func() { _ = s.Close() }, nil
}

// healthcheck asks the local server's /healthz, so that container health checks work in an
// image without curl or a shell.
func healthcheck(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", resp.StatusCode)
	}
	return nil
}

func storeDesc(mode string, cfg config) string {
	if mode == "embedded" {
		return "ferretdb+sqlite in " + filepath.Join(cfg.DataDir, "ferretdb")
	}
	return "mongodb"
}
