package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// Cheap hashing and the embedded store (package stacktest).
	os.Exit(stacktest.Main(m))
}

// clock is a settable clock shared by the token issuer and the services, so tests can let
// an access token expire.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// stack is one capmatch server (API and web UI) on a fresh database, built by package
// stacktest, the way cmd/capmatch builds it.
type stack struct {
	t *testing.T
	h *stacktest.Stack
	// app is the use cases (h.App).
	app *service.App
	// store is the stack's store, for tests that plant or read documents directly.
	store models.Store
	srv   *api.Server
	clock *clock
	fx    fixture
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newStack(t *testing.T) *stack {
	t.Helper()
	clk := &clock{}
	h := stacktest.New(t, stacktest.Options{Secret: []byte(strings.Repeat("w", 40)), Now: clk.now, Log: discard(),
		Mail: true}) // e-mails go to the outbox
	return &stack{t: t, h: h, app: h.App, store: h.Store, clock: clk,
		srv: api.New(api.Deps{Log: discard(), App: h.App, Checks: []api.Check{{Name: "store", Ping: h.Store}, {Name: "cache", Ping: h.Cache}}})}
}

const pw = "correct horse battery staple"

// fixture is a small world: a coordinator, a ministry of Senegal, a ministry of Fiji and a
// donor.
type fixture struct {
	snOrg, fjOrg, donorOrg, coordOrg  string
	coord, ministry, ministry2, donor string // e-mails
}

func (s *stack) seed() *fixture {
	t := s.t
	ctx := context.Background()
	acc := s.app.Accounts
	org := func(name string, typ models.OrgType, country string) string {
		o, err := acc.CreateOrgDirect(ctx, service.OrgInput{Name: name, Type: typ, Country: country})
		require.NoError(t, err)
		return o.ID
	}
	f := &s.fx
	f.coordOrg = org("Coordination desk", models.OrgCoordinator, "")
	f.snOrg = org("Ministry of Foreign Affairs of Senegal", models.OrgGovernment, "SN")
	f.fjOrg = org("Ministry of Communications of Fiji", models.OrgGovernment, "FJ")
	f.donorOrg = org("Francophone CSIRT Programme", models.OrgDonor, "")
	user := func(email, name string, role models.Role, orgID string) string {
		_, err := acc.CreateUser(ctx, nil, service.UserInput{Email: email, Password: pw, Name: name, Role: role, OrganizationID: orgID})
		require.NoError(t, err)
		return email
	}
	f.coord = user("coord@desk.example", "Desk coordinator", models.RoleCoordinator, f.coordOrg)
	f.ministry = user("official@mfa.sn.example", "A. Diallo", models.RoleMinistry, f.snOrg)
	f.ministry2 = user("official@moc.fj.example", "S. Vuniwaqa", models.RoleMinistry, f.fjOrg)
	f.donor = user("officer@csirt-programme.example", "Programme officer", models.RoleDonor, f.donorOrg)
	return f
}

// actor signs in through the service and returns the actor, for seeding data directly.
func (s *stack) actor(email string) *models.Actor {
	t := s.t
	pair, err := s.app.Auth.Login(context.Background(), email, pw, "10.9.9.9")
	require.NoError(t, err)
	a, err := s.app.Auth.Authenticate(context.Background(), pair.AccessToken)
	require.NoError(t, err)
	return &a
}

// needInput is a valid need for the ministry's country.
func needInput(title string) service.NeedInput {
	return service.NeedInput{Title: title, Description: "Set up a national CSIRT.\nSecond line.", Theme: models.ThemeIncidentManagement,
		Capability: models.CapCERTSetup, Modalities: []models.Modality{models.ModExpertDeployment}, Languages: []string{"fr"},
		BudgetUSD: 400000, StartBy: "2030-03-01", DurationMonths: 18, Priority: models.PriorityHigh,
		Maturity: &models.Maturity{Framework: models.FrameworkSIM3, Current: 1, Target: 3}, Visibility: models.VisibilityPublic}
}

// openNeed posts a need as the ministry and has the coordinator approve it.
func (s *stack) openNeed(title string) *models.Need {
	t := s.t
	ctx := context.Background()
	m := s.actor(s.fx.ministry)
	n, err := s.app.Needs.Create(ctx, m, needInput(title))
	require.NoError(t, err)
	_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
	require.NoError(t, err)
	n, err = s.app.Needs.Transition(ctx, s.actor(s.fx.coord), n.ID, models.NeedApprove, "")
	require.NoError(t, err)
	return n
}

// browser is a cookie-keeping client over app.Test, like a browser with JavaScript off.
type browser struct {
	s       *stack
	host    string
	lang    string
	cookies map[string]*http.Cookie
}

func (s *stack) browser() *browser {
	return &browser{s: s, host: "127.0.0.1:8080", cookies: map[string]*http.Cookie{}}
}

// page is a response as a browser sees it.
type page struct {
	Status int
	Header http.Header
	Body   string
	Set    []*http.Cookie
}

func (b *browser) do(method, path string, form url.Values, extra ...string) page {
	t := b.s.t
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.Host = b.host
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := b.s.srv.App().Test(req, -1)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw), Set: resp.Cookies()}
	for _, c := range p.Set {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return p
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf is the CSRF token of a page's forms.
func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "page has a CSRF token: %.300s", p.Body)
	return m[1]
}

// post submits a form with the CSRF token of the page at from.
func (b *browser) post(from, action string, form url.Values) page {
	b.s.t.Helper()
	tok := csrf(b.s.t, b.get(from))
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", tok)
	return b.do("POST", action, form)
}

// signIn signs in through the sign-in form and checks the redirect.
func (b *browser) signIn(email string) page {
	t := b.s.t
	t.Helper()
	p := b.post("/signin", "/signin", url.Values{"email": {email}, "password": {pw}})
	require.Equal(t, 303, p.Status, p.Body)
	return p
}
