package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/adapters/webhooks"
	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// Cheap hashing and the embedded store (package stacktest).
	code := stacktest.Main(m)
	if code == 0 && wholeSuite() {
		// Every response the tests receive is checked against openapi.yaml (contract_test.go);
		// the whole suite must reach every documented operation for that to mean something.
		if missing := unexercisedOperations(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: no API test calls these operations of openapi.yaml, so their answers are never checked against it:\n  %s\n",
				strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// wholeSuite reports whether every test of the package ran (no -run or -skip filter).
func wholeSuite() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// env is one deployment under test: a database and a Redis namespace that one or more API
// nodes share, like replicas behind a load balancer.
type env struct {
	t        *testing.T
	db       string
	redisURL string
	prefix   string
	secret   []byte
	// storeURI, when set, is where the env's nodes reach the store (default: the shared one).
	storeURI string
	// seen collects every response body, so tests can check no secret ever leaves the server.
	mu   sync.Mutex
	seen []string
	fx   fixture
	// configure, when set, adjusts the use cases' dependencies of every node (IATI publisher,
	// public rate limits, ...) before they are built; configureAPI the HTTP layer's.
	configure    func(*service.Deps)
	configureAPI func(*Deps)
}

// node is one API replica.
type node struct {
	env   *env
	stack *stacktest.Stack
	srv   *Server
	app   *service.App
	// store is the replica's store, for tests that plant or read documents directly; access
	// its token issuer, for tests that forge what a client cannot.
	store  models.Store
	access models.AccessTokens
	cache  *rediscache.Client
	stop   func()
}

func newEnv(t *testing.T) *env {
	return newEnvWithRedis(t, redistest.URL(t))
}

func newEnvWithRedis(t *testing.T, redisURL string) *env {
	return &env{t: t, db: storetest.NewDBName(), redisURL: redisURL, prefix: redistest.Prefix(),
		secret: []byte(strings.Repeat("s", 40))}
}

// node starts an API replica on the env's store and Redis, with its event bus running, and
// waits until the bus is connected.
func (e *env) node() *node { return e.nodeWith(nil) }

// nodeWith is node with the service's dependencies adjusted first (an SMTP transport, a short
// check TTL, a store wrapped to count reads, ...).
func (e *env) nodeWith(adjust func(d *service.Deps)) *node {
	t := e.t
	s := stacktest.New(t, stacktest.Options{DB: e.db, StoreURI: e.storeURI, RedisURL: e.redisURL, Prefix: e.prefix,
		Secret: e.secret, Log: discardLogger(), Webhooks: true, WebhookOptions: testWebhooks, Mail: true,
		Adjust: func(deps *service.Deps) {
			deps.Mail = testMail
			// Every request of app.Test comes from one address: tests that need the public
			// rate limit set their own.
			deps.OpenData = service.OpenDataConfig{RatePerMinute: 1_000_000}
			if e.configure != nil {
				e.configure(deps)
			}
			if adjust != nil {
				adjust(deps)
			}
		}})
	apiDeps := Deps{Log: discardLogger(), App: s.App, Checks: []Check{{"store", s.Store}, {"cache", s.Cache}}}
	if e.configureAPI != nil {
		e.configureAPI(&apiDeps)
	}
	n := &node{env: e, stack: s, app: s.App, store: s.Store, access: s.Access, cache: s.Cache, srv: New(apiDeps), stop: s.Stop}
	require.NoError(t, n.srv.RegisterNotificationMetrics())
	return n
}

// testWebhooks lets webhooks reach httptest servers on loopback over http, and retries within
// a fraction of a second.
var testWebhooks = webhooks.Options{AllowPrivate: true, Timeout: 5 * time.Second,
	Backoff: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond}}

// testMail retries e-mails within a fraction of a second.
var testMail = service.MailOptions{Timeout: 5 * time.Second,
	Backoff: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}}

// resp is a decoded response.
type resp struct {
	Status int
	Header map[string]string
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), string(r.Body))
	return m
}

func (r resp) problem(t *testing.T) Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header["Content-Type"], string(r.Body))
	var p Problem
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, r.Status, p.Status)
	return p
}

// call sends a request; body may be nil, a string (sent raw) or a value (sent as JSON).
func (n *node) call(method, path, token string, body any) resp {
	t := n.env.t
	t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case rawBody:
		rd, contentType = bytes.NewReader(b.data), b.contentType
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return n.send(req)
}

// rawBody is a request body sent as it is, with its own content type (an IATI file).
type rawBody struct {
	contentType string
	data        []byte
}

// login signs in and returns the access and refresh tokens.
func (n *node) login(email, password string) (string, string) {
	t := n.env.t
	t.Helper()
	r := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	require.Equal(t, 200, r.Status, string(r.Body))
	m := r.json(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// fixture is a small world: a coordinator desk, two governments, two donors, and one user of
// each role (plus a second ministry and donor for "other" checks).
type fixture struct {
	coordOrg, snOrg, fjOrg, donorOrg, donor2Org      string
	admin, coord, ministry, ministry2, donor, donor2 account
}

type account struct {
	ID, Email, Password string
	Role                models.Role
	Token, Refresh      string
}

const pw = "correct horse battery staple"

// seed creates the fixture through the service, as an operator would, and signs everyone in
// through the API.
func (n *node) seed() *fixture {
	t := n.env.t
	t.Helper()
	ctx := context.Background()
	acc := n.app.Accounts
	org := func(name string, typ models.OrgType, country string) string {
		o, err := acc.CreateOrgDirect(ctx, service.OrgInput{Name: name, Type: typ, Country: country})
		require.NoError(t, err)
		return o.ID
	}
	f := &n.env.fx
	f.coordOrg = org("Coordination desk", models.OrgCoordinator, "")
	f.snOrg = org("Ministry of Foreign Affairs of Senegal", models.OrgGovernment, "SN")
	f.fjOrg = org("Ministry of Communications of Fiji", models.OrgGovernment, "FJ")
	f.donorOrg = org("Francophone CSIRT Programme", models.OrgDonor, "")
	f.donor2Org = org("Pacific Cyber Fund", models.OrgDonor, "")
	user := func(email string, role models.Role, orgID string) account {
		u, err := acc.CreateUser(ctx, nil, service.UserInput{Email: email, Password: pw, Name: email, Role: role, OrganizationID: orgID})
		require.NoError(t, err)
		a := account{ID: u.ID, Email: email, Password: pw, Role: role}
		a.Token, a.Refresh = n.login(email, pw)
		return a
	}
	f.admin = user("admin@desk.example", models.RoleAdmin, f.coordOrg)
	f.coord = user("coord@desk.example", models.RoleCoordinator, f.coordOrg)
	f.ministry = user("official@mfa.sn.example", models.RoleMinistry, f.snOrg)
	f.ministry2 = user("official@moc.fj.example", models.RoleMinistry, f.fjOrg)
	f.donor = user("officer@csirt-programme.example", models.RoleDonor, f.donorOrg)
	f.donor2 = user("officer@pacific-fund.example", models.RoleDonor, f.donor2Org)
	return f
}

// assertNoSecrets checks that no response seen in the env contains a password or a hash.
func (e *env) assertNoSecrets() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.seen {
		if strings.Contains(b, pw) || strings.Contains(b, "$argon2id$") || strings.Contains(b, "password_hash") {
			e.t.Errorf("a response leaks a password or hash: %.200s", b)
		}
	}
}

// storedNeed reads a need from the node's store (what every replica reads), for tests that
// check what a request left behind; ok is false when there is none.
func (n *node) storedNeed(id string) (*models.Need, bool) { return n.stack.Need(id) }

// storedNeeds reads every need from the node's store, newest first.
func (n *node) storedNeeds() []*models.Need { return n.stack.Needs() }
