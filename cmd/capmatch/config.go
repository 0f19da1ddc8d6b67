package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/mailer"
	"github.com/capmatch/capmatch/adapters/passwords"
	"github.com/capmatch/capmatch/adapters/rediscache"
)

// config is the whole configuration, read from the environment exactly as the contract lists it.
type config struct {
	Addr        string
	DataDir     string
	MongoURI    string
	MongoDB     string
	RedisURL    string
	RedisPrefix string
	JWTSecret   string
	// JWTPreviousSecret is a key whose tokens are still accepted but never signed with, so
	// that CAPMATCH_JWT_SECRET can rotate without signing everyone out or splitting a rollout.
	JWTPreviousSecret string
	Demo              bool
	AdminEmail        string
	AdminPassword     string
	LogLevel          slog.Level
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on a loopback address, for
	// an operator to profile a running server; never on a public interface.
	PprofAddr string
	// SMTP is the parsed CAPMATCH_SMTP_URL (nil: e-mails go to the outbox in the store), with
	// its sender SMTPFrom (CAPMATCH_SMTP_FROM).
	SMTP     *mailer.Config
	SMTPFrom *mail.Address
	// PublicURL is the site's absolute base URL for links in e-mails (CAPMATCH_PUBLIC_URL).
	PublicURL string
	// ReconcileInterval is how often a replica that follows the change log reloads everything
	// from the store anyway, as a safety net (CAPMATCH_RECONCILE_INTERVAL, a Go duration;
	// default service.DefaultReconcileInterval).
	ReconcileInterval time.Duration
	// RankingsInMemory and ExplainedLines bound what a replica keeps of the rankings it serves
	// (CAPMATCH_RANKINGS_IN_MEMORY, per direction, and CAPMATCH_EXPLAINED_LINES; 0: the service's
	// defaults, sized for the Deployment's memory: docs/operations.md, Resources).
	RankingsInMemory, ExplainedLines int
	// EmbeddedSync is how the embedded store makes commits durable (CAPMATCH_EMBEDDED_SYNC:
	// embedded.SyncFull, the default, or embedded.SyncNormal, which survives a crash of the
	// process but not a power loss); ignored with MONGO_URI.
	EmbeddedSync string
}

// embedded reports whether the store runs in-process (no MONGO_URI).
func (c config) embedded() bool { return c.MongoURI == "" }

// configError names the variable that is wrong and what is allowed, in one line.
type configError struct {
	Var, Msg string
}

func (e *configError) Error() string { return "configuration: " + e.Var + ": " + e.Msg }

// loadConfig reads and validates the configuration. The first bad variable stops start-up with
// a configError naming it.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:              get("CAPMATCH_ADDR", ":8080"),
		DataDir:           get("CAPMATCH_DATA_DIR", "./data"),
		MongoURI:          get("MONGO_URI", ""),
		MongoDB:           get("MONGO_DB", "capmatch"),
		RedisURL:          get("REDIS_URL", ""),
		RedisPrefix:       get("CAPMATCH_REDIS_PREFIX", "capmatch:"),
		JWTSecret:         getenv("CAPMATCH_JWT_SECRET"),
		JWTPreviousSecret: getenv("CAPMATCH_JWT_PREVIOUS_SECRET"),
		AdminEmail:        get("CAPMATCH_ADMIN_EMAIL", ""),
		AdminPassword:     getenv("CAPMATCH_ADMIN_PASSWORD"),
	}

	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return c, &configError{"CAPMATCH_ADDR", fmt.Sprintf("%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return c, &configError{"CAPMATCH_ADDR", fmt.Sprintf("port %q must be a number from 0 to 65535", port)}
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return c, &configError{"CAPMATCH_ADDR", fmt.Sprintf("host %q is not a host name or IP address", host)}
	}

	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return c, &configError{"MONGO_URI", "must start with mongodb:// or mongodb+srv://"}
	}
	if len(c.MongoDB) > 63 || strings.ContainsAny(c.MongoDB, "/\\. \"$*<>:|?\x00") {
		return c, &configError{"MONGO_DB", fmt.Sprintf("%q is not a MongoDB database name (at most 63 characters, none of /\\. \"$*<>:|?)", c.MongoDB)}
	}
	if c.RedisURL != "" {
		if _, err := rediscache.ParseURL(c.RedisURL); err != nil {
			return c, &configError{"REDIS_URL", "must be a redis://, rediss://, unix:// (one server), " +
				"redis+sentinel://host:26379[,host...]/<master-name>[/<db>] or redis+cluster://host:6379[,host...] URL: " + err.Error()}
		}
	}
	if len(c.RedisPrefix) > 64 || strings.ContainsAny(c.RedisPrefix, " \t\r\n*?[]") {
		return c, &configError{"CAPMATCH_REDIS_PREFIX", "must be at most 64 characters without spaces or glob characters"}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return c, &configError{"CAPMATCH_JWT_SECRET", fmt.Sprintf("must be at least 32 bytes (got %d); generate one with `openssl rand -base64 48`", len(c.JWTSecret))}
	}
	switch p := c.JWTPreviousSecret; {
	case p == "":
	case c.JWTSecret == "":
		return c, &configError{"CAPMATCH_JWT_PREVIOUS_SECRET", "must be set together with CAPMATCH_JWT_SECRET (the key that signs)"}
	case len(p) < 32:
		return c, &configError{"CAPMATCH_JWT_PREVIOUS_SECRET", fmt.Sprintf("must be at least 32 bytes (got %d)", len(p))}
	case p == c.JWTSecret:
		return c, &configError{"CAPMATCH_JWT_PREVIOUS_SECRET", "is the same as CAPMATCH_JWT_SECRET; set it to the key being retired, or unset it"}
	}

	switch v := strings.ToLower(get("CAPMATCH_EMBEDDED_SYNC", embedded.SyncFull)); v {
	case embedded.SyncFull, embedded.SyncNormal:
		c.EmbeddedSync = v
	default:
		return c, &configError{"CAPMATCH_EMBEDDED_SYNC", fmt.Sprintf("%q must be %s (the default: every commit reaches the disk) or %s (durable across a crash of capmatch, not across a power loss)", v, embedded.SyncFull, embedded.SyncNormal)}
	}

	switch demo := strings.ToLower(get("CAPMATCH_DEMO", "")); demo {
	case "":
		c.Demo = c.embedded()
	case "true":
		c.Demo = true
	case "false":
		c.Demo = false
	default:
		return c, &configError{"CAPMATCH_DEMO", fmt.Sprintf("%q must be true or false", demo)}
	}

	switch {
	case c.AdminEmail == "" && c.AdminPassword == "":
	case c.AdminEmail == "":
		return c, &configError{"CAPMATCH_ADMIN_EMAIL", "must be set together with CAPMATCH_ADMIN_PASSWORD"}
	case c.AdminPassword == "":
		return c, &configError{"CAPMATCH_ADMIN_PASSWORD", "must be set together with CAPMATCH_ADMIN_EMAIL"}
	default:
		if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
			return c, &configError{"CAPMATCH_ADMIN_EMAIL", fmt.Sprintf("%q is not an e-mail address", c.AdminEmail)}
		}
		if err := passwords.Check(c.AdminPassword, c.AdminEmail, "Administrator"); err != nil {
			return c, &configError{"CAPMATCH_ADMIN_PASSWORD", strings.TrimPrefix(err.Error(), passwords.ErrWeak.Error()+": ")}
		}
	}

	if v := strings.TrimSpace(getenv("CAPMATCH_RECONCILE_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return c, &configError{"CAPMATCH_RECONCILE_INTERVAL", fmt.Sprintf("%q is not a duration of at least 1s (e.g. 10m)", v)}
		}
		c.ReconcileInterval = d
	}
	for _, n := range []struct {
		name string
		to   *int
	}{{"CAPMATCH_RANKINGS_IN_MEMORY", &c.RankingsInMemory}, {"CAPMATCH_EXPLAINED_LINES", &c.ExplainedLines}} {
		if v := strings.TrimSpace(getenv(n.name)); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 1 || i > 10_000_000 {
				return c, &configError{n.name, fmt.Sprintf("%q is not a whole number from 1 to 10000000", v)}
			}
			*n.to = i
		}
	}
	if c.PprofAddr = getenv("CAPMATCH_PPROF_ADDR"); c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		ip := net.ParseIP(host)
		if err != nil || !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
			return c, &configError{"CAPMATCH_PPROF_ADDR", fmt.Sprintf("%q must be a loopback host:port, e.g. 127.0.0.1:6060", c.PprofAddr)}
		}
	}

	if raw := get("CAPMATCH_SMTP_URL", ""); raw != "" {
		sc, err := mailer.ParseURL(raw)
		if err != nil {
			// The message never repeats the URL: it may carry a password.
			return c, &configError{"CAPMATCH_SMTP_URL", err.Error()}
		}
		c.SMTP = &sc
		from := get("CAPMATCH_SMTP_FROM", "")
		if from == "" {
			return c, &configError{"CAPMATCH_SMTP_FROM", "must be set with CAPMATCH_SMTP_URL: the sender address, e.g. capmatch <noreply@capmatch.example.org>"}
		}
		if c.SMTPFrom, err = mailer.ParseFrom(from); err != nil {
			return c, &configError{"CAPMATCH_SMTP_FROM", err.Error()}
		}
	} else if get("CAPMATCH_SMTP_FROM", "") != "" {
		if _, err := mailer.ParseFrom(get("CAPMATCH_SMTP_FROM", "")); err != nil {
			return c, &configError{"CAPMATCH_SMTP_FROM", err.Error()}
		}
	}
	c.PublicURL = get("CAPMATCH_PUBLIC_URL", "")
	if c.PublicURL == "" {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.PublicURL = "http://localhost:" + port
	} else {
		var err error
		if c.PublicURL, err = parsePublicURL(c.PublicURL); err != nil {
			return c, err
		}
	}

	switch lvl := strings.ToLower(get("CAPMATCH_LOG_LEVEL", "info")); lvl {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, &configError{"CAPMATCH_LOG_LEVEL", fmt.Sprintf("%q must be debug, info, warn or error", lvl)}
	}
	return c, nil
}

// parsePublicURL checks CAPMATCH_PUBLIC_URL, the site's absolute base URL, and returns it
// without a trailing slash. It is the one reading of the variable: the links in e-mails
// (Config.PublicURL, which defaults to localhost) and the absolute URLs of IATI exports
// (dataConfig, which falls back to the request's address) both take it from here.
func parsePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", &configError{"CAPMATCH_PUBLIC_URL", fmt.Sprintf("%q must be an absolute http(s) URL without credentials, query or fragment, e.g. https://capmatch.example.org", raw)}
	}
	return strings.TrimRight(u.String(), "/"), nil
}
