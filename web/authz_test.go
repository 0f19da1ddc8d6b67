package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The web UI's authorization table: every page and form of the browser UI (the routes under
// "// Web UI." in api/routes.go) and what each kind of visitor gets, the way api/authz_test.go
// does it for the API. "ministry" and "donor" own the fixture's objects; "ministry2" (Fiji)
// and "donor2" are the same roles in other organizations. Every POST carries a valid CSRF
// token of the actor's own session, so a refusal is the authorization's, never the token's.
// TestWebAuthorizationTableCoversEveryRoute fails when a web route has no row.

var webActors = []string{"anon", "ministry", "ministry2", "donor", "donor2", "coordinator", "admin"}

// Outcomes a row expects: a status code ("200", "403", ...), "signin" (303 to the sign-in page
// with the way back), or "done" (303 to where the row's done pattern says).
const (
	sawPage   = "200"
	issued    = "201"
	forbidden = "403"
	notFound  = "404"
	conflict  = "409"
	invalid   = "422"
	toSignIn  = "signin"
	done      = "done"
)

// webRow is one route (and object) of the table.
type webRow struct {
	name, method string
	// route is the pattern as api/routes.go registers it (for the coverage check).
	route string
	// path builds the request path for an actor; it may create a fresh object for each.
	path func(w *webWorld, actor string) string
	// form is the body of a POST (without the CSRF token, which is added).
	form func(w *webWorld, actor string) url.Values
	// fresh: the request ends or replaces the session, so it runs on a session of its own.
	fresh bool
	// twin: the request changes the signed-in account itself (its password, its sessions), so
	// it runs on a session of a new account with the actor's role and organization.
	twin bool
	// doneRe is where a "done" answer redirects (a regular expression on Location).
	doneRe string
	want   map[string]string
}

// outcomes is a want map: anon's outcome, everyone else's, then overrides as actor, outcome.
func outcomes(anon, others string, overrides ...string) map[string]string {
	m := map[string]string{"anon": anon}
	for _, a := range webActors[1:] {
		m[a] = others
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		m[overrides[i]] = overrides[i+1]
	}
	return m
}

// webWorld is the fixture: a stack with two ministries, two donors, a coordinator and an admin,
// each with a signed-in browser, and objects of every kind in the states the rows need.
type webWorld struct {
	t      *testing.T
	s      *stack
	b      map[string]*browser
	tok    map[string]string
	actors map[string]*models.Actor
	seq    int

	openNeed, donorsNeed, draftNeed *models.Need
	openOffer, draftOffer           *models.Offer
	proposed, agreed                *models.Engagement
	project                         *service.ProjectView
	donor2, admin, probe            string // e-mails
	// snPoC is a Point of Contact of Senegal (the ministry's state); Fiji's ministry2 is itself
	// a nominated PoC of Fiji, so it may read Senegal's contacts but not keep them.
	snPoC string
	// check is an open communication check of Senegal and ack the token of snPoC's link in it.
	check, ack string
	// assessment is a self-assessment of Senegal and source one of its sources (issue 17.2-17.3).
	assessment, source string
}

func newWebWorld(t *testing.T) *webWorld {
	s := newStack(t)
	f := s.seed()
	ctx := context.Background()
	w := &webWorld{t: t, s: s, b: map[string]*browser{}, tok: map[string]string{}, actors: map[string]*models.Actor{}}
	org, err := s.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Second donor agency", Type: models.OrgDonor})
	require.NoError(t, err)
	user := func(email string, role models.Role, orgID string) string {
		_, err := s.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: email, Password: pw, Name: email, Role: role, OrganizationID: orgID})
		require.NoError(t, err)
		return email
	}
	w.donor2 = user("officer@second-donor.example", models.RoleDonor, org.ID)
	w.admin = user("admin@desk.example", models.RoleAdmin, f.coordOrg)
	w.probe = user("probe@second-donor.example", models.RoleDonor, org.ID)
	for _, a := range webActors {
		b := s.browser()
		if a == "anon" {
			w.tok[a] = csrf(t, b.get("/signin"))
		} else {
			b.signIn(w.email(a))
			w.tok[a] = csrf(t, b.get("/notifications"))
		}
		w.b[a] = b
	}
	w.openNeed = w.need("open", models.VisibilityPublic)
	w.donorsNeed = w.need("open", models.VisibilityDonors)
	w.draftNeed = w.need("draft", models.VisibilityPublic)
	w.openOffer = w.offer("open")
	w.draftOffer = w.offer("draft")
	w.proposed = w.engagement(false)
	w.agreed = w.engagement(true)
	w.project = w.newProject()
	w.snPoC = w.poc()
	_, err = s.app.PoCs.Create(ctx, w.as(f.coord), "FJ", models.PoCInput{Kind: models.PoCDiplomatic, Name: "Fiji's PoC",
		Email: f.ministry2, Languages: []string{"en"}})
	require.NoError(t, err)
	w.check = w.newCheck()
	c, err := s.store.GetPoCCheck(ctx, w.check)
	require.NoError(t, err)
	w.ack = s.app.PoCChecks.Token(c, w.snPoC)
	v, err := s.app.Assessments.Submit(ctx, w.as(f.ministry), "SN", service.AssessmentInput{Answers: bestAnswers()}, "en")
	require.NoError(t, err)
	w.assessment = v.ID
	w.source = w.newSource()
	return w
}

// bestAnswers answers every question of the current questionnaire with its best answer: no
// gap, so no need is proposed.
func bestAnswers() map[string]*int {
	out := map[string]*int{}
	qn, _ := models.LookupQuestionnaire(models.CurrentQuestionnaire)
	for _, q := range qn.Questions() {
		_, hi := q.Scale.Range()
		out[q.Code] = &hi
	}
	return out
}

// assessmentForm is the questionnaire answered at its best for Senegal's ministry, based on the
// latest assessment (as the form carries it, so that the submission is not stale).
func assessmentForm(w *webWorld, _ string) url.Values {
	v := url.Values{"organization_id": {w.s.fx.snOrg}, "supersedes": {w.latestAssessment()}}
	for code, a := range bestAnswers() {
		v.Set("answers."+code, strconv.Itoa(*a))
	}
	return v
}

// latestAssessment is the id of Senegal's latest self-assessment.
func (w *webWorld) latestAssessment() string {
	items, err := w.s.app.Assessments.List(context.Background(), w.as(w.s.fx.coord), "SN")
	require.NoError(w.t, err)
	for _, it := range items {
		if it.Latest {
			return it.ID
		}
	}
	w.t.Fatal("Senegal has no assessment")
	return ""
}

// newSource adds a fresh source to Senegal's profile.
func (w *webWorld) newSource() string {
	src, err := w.s.app.Countries.AddSource(context.Background(), w.as(w.s.fx.ministry), "SN", service.SourceInput{Kind: models.SourceKind("strategy"),
		Title: w.unique("Stratégie nationale"), URL: "https://www.example.sn/strategie.pdf", Date: "2017-11-23", Language: "fr"})
	require.NoError(w.t, err)
	return src.ID
}

// sourceForm is the source form; for an edit, at the source's current version.
func sourceForm(edit bool) func(w *webWorld, _ string) url.Values {
	return func(w *webWorld, _ string) url.Values {
		v := url.Values{"kind": {"strategy"}, "title": {w.unique("Stratégie")}, "url": {"https://www.example.sn/s.pdf"},
			"date": {"2018-01-01"}, "language": {"fr"}}
		if edit {
			src, err := w.s.app.Countries.Source(context.Background(), "SN", w.source)
			require.NoError(w.t, err)
			v.Set("version", strconv.FormatInt(src.Version, 10))
		}
		return v
	}
}

// poc adds a fresh Point of Contact to Senegal's directory.
func (w *webWorld) poc() string {
	name := w.unique("Contact")
	p, err := w.s.app.PoCs.Create(context.Background(), w.as(w.s.fx.coord), "SN", models.PoCInput{Kind: models.PoCTechnical, Name: name,
		Email: strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@cert.sn.example", Languages: []string{"fr"}})
	require.NoError(w.t, err)
	return p.ID
}

// newCheck runs a fresh communication check on Senegal.
func (w *webWorld) newCheck() string {
	v, err := w.s.app.PoCChecks.Run(context.Background(), w.as(w.s.fx.coord), service.PoCCheckInput{Countries: []string{"SN"}})
	require.NoError(w.t, err)
	return v.ID
}

func (w *webWorld) email(actor string) string {
	f := w.s.fx
	return map[string]string{"ministry": f.ministry, "ministry2": f.ministry2, "donor": f.donor, "donor2": w.donor2,
		"coordinator": f.coord, "admin": w.admin}[actor]
}

// as is the service actor of a fixture user, signed in once (sign-ins are rate limited).
func (w *webWorld) as(email string) *models.Actor {
	if a, ok := w.actors[email]; ok {
		return a
	}
	a := w.s.actor(email)
	w.actors[email] = a
	return a
}

func (w *webWorld) unique(prefix string) string { w.seq++; return fmt.Sprintf("%s %d", prefix, w.seq) }

// need posts a need of Senegal's ministry in the given status (draft, submitted or open).
func (w *webWorld) need(status string, vis models.Visibility) *models.Need {
	ctx := context.Background()
	m := w.as(w.s.fx.ministry)
	in := needInput(w.unique("Need"))
	in.Visibility = vis
	n, err := w.s.app.Needs.Create(ctx, m, in)
	require.NoError(w.t, err)
	if status == "draft" {
		return n
	}
	n, err = w.s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
	require.NoError(w.t, err)
	if status == "submitted" {
		return n
	}
	n, err = w.s.app.Needs.Transition(ctx, w.as(w.s.fx.coord), n.ID, models.NeedApprove, "")
	require.NoError(w.t, err)
	return n
}

// offer posts an offer of the donor, open (published) or draft, that fits the needs.
func (w *webWorld) offer(status string) *models.Offer {
	ctx := context.Background()
	d := w.as(w.s.fx.donor)
	o, err := w.s.app.Offers.Create(ctx, d, service.OfferInput{Title: w.unique("Offer"), Themes: []models.Theme{models.ThemeIncidentManagement},
		Capabilities: []models.Capability{models.CapCERTSetup}, Modalities: []models.Modality{models.ModExpertDeployment},
		Languages: []string{"fr"}, EligibleRegions: []string{"002"}, BudgetUSD: 2_000_000, MaxEngagements: 4,
		AvailableFrom: "2029-01-01", AvailableUntil: "2032-12-31"})
	require.NoError(w.t, err)
	if status == "open" {
		o, err = w.s.app.Offers.Transition(ctx, d, o.ID, models.OfferPublish, "")
		require.NoError(w.t, err)
	}
	return o
}

// engagement is a fresh engagement the donor proposed for a fresh pair; agreed when asked.
func (w *webWorld) engagement(agreed bool) *models.Engagement {
	ctx := context.Background()
	e, _, err := w.s.app.Engagements.Propose(ctx, w.as(w.s.fx.donor), service.EngagementInput{NeedID: w.need("open", models.VisibilityPublic).ID,
		OfferID: w.offer("open").ID, Message: "We can help."})
	require.NoError(w.t, err)
	if agreed {
		e, err = w.s.app.Engagements.Accept(ctx, w.as(w.s.fx.ministry), e.ID)
		require.NoError(w.t, err)
	}
	return e
}

// account creates a new account with a role in an organization, with the fixture's password,
// and returns its e-mail and id.
func (w *webWorld) account(role models.Role, orgID string) (string, string) {
	w.seq++
	email := fmt.Sprintf("account%d@%s.example", w.seq, role)
	u, err := w.s.app.Accounts.CreateUser(context.Background(), nil, service.UserInput{Email: email, Password: pw, Name: "Account " + strconv.Itoa(w.seq),
		Role: role, OrganizationID: orgID})
	require.NoError(w.t, err)
	return email, u.ID
}

// resetLink is the path of a fresh one-time reset link (as an admin issues it) for a new
// ministry account of Senegal.
func (w *webWorld) resetLink() string {
	_, id := w.account(models.RoleMinistry, w.s.fx.snOrg)
	link, err := w.s.app.Accounts.IssuePasswordReset(context.Background(), w.as(w.admin), id)
	require.NoError(w.t, err)
	return link.Path
}

// newProject is a fresh project of the donor on a public need of Senegal.
func (w *webWorld) newProject() *service.ProjectView {
	v, _, err := w.s.app.Projects.Create(context.Background(), w.as(w.s.fx.donor), service.ProjectInput{EngagementID: w.engagement(true).ID,
		Title: w.unique("Project"), BudgetUSD: 400000, StartDate: "2030-03-01", EndDate: "2031-08-31"})
	require.NoError(w.t, err)
	return v
}

func fixed(p string) func(*webWorld, string) string {
	return func(*webWorld, string) string { return p }
}

func values(kv ...string) func(*webWorld, string) url.Values {
	return func(*webWorld, string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
}

// validOffer is a complete offer form.
func validOffer(w *webWorld, _ string) url.Values {
	return url.Values{"title": {w.unique("Web offer")}, "themes": {"incident_management"}, "capabilities": {"cert_setup"},
		"modalities": {"training"}, "languages": {"fr"}, "eligible_regions": {"002"}, "budget_usd": {"1000000"},
		"max_engagements": {"2"}, "available_from": {"2029-01-01"}, "available_until": {"2031-12-31"}}
}

// weightsForm is the weights editor's form with the weights in force, as percentages.
func weightsForm(w *webWorld, _ string) url.Values {
	b, err := json.Marshal(w.s.app.Matching.Weights())
	require.NoError(w.t, err)
	var m map[string]float64
	require.NoError(w.t, json.Unmarshal(b, &m))
	v := url.Values{"op": {"save"}}
	for k, x := range m {
		if k == "version" {
			v.Set(k, strconv.FormatInt(int64(x), 10))
		} else {
			v.Set(k, strconv.FormatFloat(x*100, 'f', -1, 64))
		}
	}
	return v
}

func readinessForm(w *webWorld, _ string) url.Values {
	cv, err := w.s.app.Countries.Get(context.Background(), nil, "SN")
	require.NoError(w.t, err)
	return url.Values{"version": {strconv.FormatInt(cv.ReadinessVersion, 10)}, "national_cert": {"1"}, "cert_maturity": {"1"}}
}

// forged is an acknowledgement token with the last character of its MAC changed.
func forged(tok string) string {
	last := "A"
	if strings.HasSuffix(tok, last) {
		last = "B"
	}
	return tok[:len(tok)-1] + last
}

// pocForm is the Point of Contact form: a fresh contact, or for an edit the contact's current
// version (rows run one after the other, each edit moving it on).
func pocForm(edit bool) func(w *webWorld, _ string) url.Values {
	return func(w *webWorld, _ string) url.Values {
		name := w.unique("Contact")
		v := url.Values{"kind": {"technical"}, "name": {name}, "role": {"Head of the CERT"}, "languages": {"fr"},
			"email": {strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@cert.sn.example"}, "phone": {"+221 33 889 13 00"}}
		if edit {
			p, err := w.s.app.PoCs.Get(context.Background(), w.as(w.s.fx.coord), "SN", w.snPoC)
			require.NoError(w.t, err)
			v.Set("version", strconv.FormatInt(p.Version, 10))
		}
		return v
	}
}

func (w *webWorld) rows() []webRow {
	needPath := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/needs/" + w.openNeed.ID + suffix }
	}
	freshNeed := func(status string, vis models.Visibility, suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/needs/" + w.need(status, vis).ID + suffix }
	}
	freshOffer := func(status, prefix, suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return prefix + w.offer(status).ID + suffix }
	}
	freshEngagement := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/engagements/" + w.engagement(false).ID + suffix }
	}
	projectPath := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/projects/" + w.project.ID + suffix }
	}
	freshProject := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/projects/" + w.newProject().ID + suffix }
	}
	curators := func(ok string) map[string]string {
		return outcomes(toSignIn, forbidden, "coordinator", ok, "admin", ok)
	}
	ministries := func(ok string) map[string]string {
		return outcomes(toSignIn, forbidden, "ministry", ok, "ministry2", ok)
	}
	donors := func(ok string) map[string]string { return outcomes(toSignIn, forbidden, "donor", ok, "donor2", ok) }
	signedIn := func(ok string) map[string]string { return outcomes(toSignIn, ok) }
	// Senegal's contacts: its ministry and coordinators keep them; Fiji's ministry, a nominated
	// PoC, reads them (403 on the forms); donors may not see them at all (404).
	pocKeepers := func(ok string) map[string]string {
		return outcomes(toSignIn, notFound, "ministry", ok, "ministry2", forbidden, "coordinator", ok, "admin", ok)
	}
	pocPath := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/countries/SN/pocs/" + w.snPoC + suffix }
	}
	// Senegal's self-assessments and sources: its ministries and coordinators; anyone else 403,
	// whether or not the object exists.
	insiders := func(ok string) map[string]string {
		return outcomes(toSignIn, forbidden, "ministry", ok, "coordinator", ok, "admin", ok)
	}
	sourcePath := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/countries/SN/sources/" + w.source + suffix }
	}
	checkPath := func(suffix string) func(*webWorld, string) string {
		return func(w *webWorld, _ string) string { return "/coordinator/poc-checks/" + w.check + suffix }
	}
	const id = `[a-z0-9_-]+`
	return append([]webRow{
		// Public pages.
		{name: "home", method: "GET", route: "/", path: fixed("/"), want: outcomes(sawPage, sawPage)},
		{name: "favicon", method: "GET", route: "/favicon.ico", path: fixed("/favicon.ico"), want: outcomes(sawPage, sawPage)},
		{name: "language switch", method: "GET", route: "/lang/:code", path: fixed("/lang/en?next=%2Fneeds"), doneRe: `^/needs$`,
			want: outcomes(done, done)},
		{name: "sign-in page", method: "GET", route: "/signin", path: fixed("/signin"), doneRe: `^/(ministry|donor|coordinator)$`,
			want: outcomes(sawPage, done)},
		{name: "sign in", method: "POST", route: "/signin", path: fixed("/signin"), fresh: true, doneRe: `^/donor$`,
			form: func(w *webWorld, _ string) url.Values { return url.Values{"email": {w.probe}, "password": {pw}} },
			want: outcomes(done, done)},
		{name: "sign out", method: "POST", route: "/signout", path: fixed("/signout"), fresh: true, doneRe: `^/\?ok=signed_out$`,
			want: outcomes(done, done)},

		// One's own password, and one-time reset links.
		{name: "change password page", method: "GET", route: "/account/password", path: fixed("/account/password"), want: signedIn(sawPage)},
		{name: "change password", method: "POST", route: "/account/password", path: fixed("/account/password"), twin: true,
			form:   values("current_password", pw, "new_password", newPW, "confirm_password", newPW),
			doneRe: `^/(ministry|donor|coordinator)\?ok=password_changed$`, want: signedIn(done)},
		{name: "change password with a mismatch", method: "POST", route: "/account/password", path: fixed("/account/password"),
			form: values("current_password", pw, "new_password", newPW, "confirm_password", newPW+"!"), want: signedIn(invalid)},
		{name: "reset page", method: "GET", route: "/reset", path: func(w *webWorld, _ string) string { return w.resetLink() },
			want: outcomes(sawPage, sawPage)},
		{name: "reset page of an unknown link", method: "GET", route: "/reset", path: fixed("/reset?token=nobody.nothing"),
			want: outcomes(notFound, notFound)},
		{name: "reset password", method: "POST", route: "/reset", path: fixed("/reset"), fresh: true,
			form: func(w *webWorld, _ string) url.Values {
				tok, _ := url.ParseQuery(strings.TrimPrefix(w.resetLink(), "/reset?"))
				return url.Values{"token": {tok.Get("token")}, "new_password": {newPW}, "confirm_password": {newPW}}
			}, doneRe: `^/signin\?ok=password_reset$`, want: outcomes(done, done)},
		{name: "reset password with a mismatch", method: "POST", route: "/reset", path: fixed("/reset"),
			form: values("token", "nobody.nothing", "new_password", newPW, "confirm_password", newPW+"!"), want: outcomes(invalid, invalid)},
		{name: "accounts", method: "GET", route: "/coordinator/users", path: fixed("/coordinator/users"), want: curators(sawPage)},
		{name: "issue a ministry's reset link", method: "POST", route: "/coordinator/users/:id/reset",
			path: func(w *webWorld, _ string) string {
				_, uid := w.account(models.RoleMinistry, w.s.fx.snOrg)
				return "/coordinator/users/" + uid + "/reset"
			}, want: curators(issued)},
		{name: "issue a coordinator's reset link", method: "POST", route: "/coordinator/users/:id/reset",
			path: func(w *webWorld, _ string) string {
				_, uid := w.account(models.RoleCoordinator, w.s.fx.coordOrg)
				return "/coordinator/users/" + uid + "/reset"
			}, want: outcomes(toSignIn, forbidden, "admin", issued)},
		{name: "issue an unknown account's reset link", method: "POST", route: "/coordinator/users/:id/reset",
			path: fixed("/coordinator/users/nobody/reset"), want: outcomes(toSignIn, forbidden, "coordinator", notFound, "admin", notFound)},

		{name: "needs", method: "GET", route: "/needs", path: fixed("/needs"), want: outcomes(sawPage, sawPage)},
		{name: "public need", method: "GET", route: "/needs/:id", path: needPath(""), want: outcomes(sawPage, sawPage)},
		{name: "donors-only need", method: "GET", route: "/needs/:id",
			path: func(w *webWorld, _ string) string { return "/needs/" + w.donorsNeed.ID },
			want: outcomes(notFound, sawPage, "ministry2", notFound)},
		{name: "draft need", method: "GET", route: "/needs/:id",
			path: func(w *webWorld, _ string) string { return "/needs/" + w.draftNeed.ID },
			want: outcomes(notFound, notFound, "ministry", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "offers", method: "GET", route: "/offers", path: fixed("/offers"), want: outcomes(sawPage, sawPage)},
		{name: "open offer", method: "GET", route: "/offers/:id",
			path: func(w *webWorld, _ string) string { return "/offers/" + w.openOffer.ID }, want: outcomes(sawPage, sawPage)},
		{name: "draft offer", method: "GET", route: "/offers/:id",
			path: func(w *webWorld, _ string) string { return "/offers/" + w.draftOffer.ID },
			want: outcomes(notFound, notFound, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "countries", method: "GET", route: "/countries", path: fixed("/countries?all=1"), want: outcomes(sawPage, sawPage)},
		{name: "country", method: "GET", route: "/countries/:iso", path: fixed("/countries/SN"), want: outcomes(sawPage, sawPage)},
		{name: "map", method: "GET", route: "/map", path: fixed("/map?metric=projects"), want: outcomes(sawPage, sawPage)},

		// Needs: the lifecycle buttons.
		{name: "submit need", method: "POST", route: "/needs/:id/:action", path: freshNeed("draft", models.VisibilityPublic, "/submit"),
			doneRe: `^/needs/` + id + `\?ok=need_submitted$`,
			want:   outcomes(toSignIn, notFound, "ministry", done, "coordinator", forbidden, "admin", forbidden)},
		{name: "withdraw need confirmation", method: "GET", route: "/needs/:id/withdraw", path: needPath("/withdraw"),
			want: outcomes(toSignIn, forbidden, "ministry", sawPage)},
		{name: "withdraw donors-only need confirmation", method: "GET", route: "/needs/:id/withdraw",
			path: func(w *webWorld, _ string) string { return "/needs/" + w.donorsNeed.ID + "/withdraw" },
			want: outcomes(toSignIn, forbidden, "ministry", sawPage, "ministry2", notFound)},
		{name: "withdraw need unconfirmed", method: "POST", route: "/needs/:id/:action", path: needPath("/withdraw"),
			want: outcomes(toSignIn, forbidden, "ministry", sawPage)},
		{name: "withdraw need", method: "POST", route: "/needs/:id/:action", path: freshNeed("open", models.VisibilityPublic, "/withdraw"),
			form: values("confirm", "yes", "reason", "Funded by the budget law."), doneRe: `^/needs/` + id + `\?ok=need_withdrawn$`,
			want: outcomes(toSignIn, forbidden, "ministry", done)},
		{name: "approve need", method: "POST", route: "/needs/:id/:action", path: freshNeed("submitted", models.VisibilityRestricted, "/approve"),
			doneRe: `^/needs/` + id + `\?ok=need_approved$`,
			want:   outcomes(toSignIn, notFound, "ministry", forbidden, "coordinator", done, "admin", done)},
		{name: "reject need", method: "POST", route: "/needs/:id/:action", path: freshNeed("submitted", models.VisibilityRestricted, "/reject"),
			form: values("reason", "Please give the budget split."), doneRe: `^/needs/` + id + `\?ok=need_rejected$`,
			want: outcomes(toSignIn, notFound, "ministry", forbidden, "coordinator", done, "admin", done)},
		{name: "reject need without a reason", method: "POST", route: "/needs/:id/:action",
			path: freshNeed("submitted", models.VisibilityRestricted, "/reject"),
			want: outcomes(toSignIn, notFound, "ministry", forbidden, "coordinator", invalid, "admin", invalid)},
		{name: "unknown need action", method: "POST", route: "/needs/:id/:action", path: needPath("/explode"),
			want: outcomes(toSignIn, notFound)},

		// Offers: the lifecycle buttons.
		{name: "publish offer", method: "POST", route: "/offers/:id/:action", path: freshOffer("draft", "/offers/", "/publish"),
			doneRe: `^/offers/` + id + `\?ok=offer_published$`,
			want:   outcomes(toSignIn, notFound, "donor", done, "coordinator", forbidden, "admin", forbidden)},
		{name: "close offer confirmation", method: "GET", route: "/offers/:id/close",
			path: func(w *webWorld, _ string) string { return "/offers/" + w.openOffer.ID + "/close" },
			want: outcomes(toSignIn, forbidden, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "close draft offer confirmation", method: "GET", route: "/offers/:id/close",
			path: func(w *webWorld, _ string) string { return "/offers/" + w.draftOffer.ID + "/close" },
			want: outcomes(toSignIn, notFound, "donor", conflict, "coordinator", conflict, "admin", conflict)},
		{name: "close offer unconfirmed", method: "POST", route: "/offers/:id/:action",
			path: func(w *webWorld, _ string) string { return "/offers/" + w.openOffer.ID + "/close" },
			want: outcomes(toSignIn, forbidden, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "close offer", method: "POST", route: "/offers/:id/:action", path: freshOffer("open", "/offers/", "/close"),
			form: values("confirm", "yes", "reason", "The programme's budget is spent."), doneRe: `^/offers/` + id + `\?ok=offer_closed$`,
			want: outcomes(toSignIn, forbidden, "donor", done, "coordinator", done, "admin", done)},

		// Readiness.
		{name: "readiness form", method: "GET", route: "/countries/:iso/readiness", path: fixed("/countries/SN/readiness"),
			want: outcomes(toSignIn, forbidden, "ministry", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "save readiness", method: "POST", route: "/countries/:iso/readiness", path: fixed("/countries/SN/readiness"),
			form: readinessForm, doneRe: `^/countries/SN\?ok=readiness_saved$`,
			want: outcomes(toSignIn, forbidden, "ministry", done, "coordinator", done, "admin", done)},
		{name: "save bad readiness", method: "POST", route: "/countries/:iso/readiness", path: fixed("/countries/SN/readiness"),
			form: values("version", "1", "cert_maturity", "many"),
			want: outcomes(toSignIn, forbidden, "ministry", invalid, "coordinator", invalid, "admin", invalid)},

		// Points of Contact (issue 17.1).
		{name: "new PoC form", method: "GET", route: "/countries/:iso/pocs/new", path: fixed("/countries/SN/pocs/new"), want: pocKeepers(sawPage)},
		{name: "add PoC", method: "POST", route: "/countries/:iso/pocs", path: fixed("/countries/SN/pocs"), form: pocForm(false),
			doneRe: `^/countries/SN\?ok=poc_saved#pocs$`, want: pocKeepers(done)},
		{name: "add PoC with bad input", method: "POST", route: "/countries/:iso/pocs", path: fixed("/countries/SN/pocs"),
			form: func(w *webWorld, a string) url.Values { v := pocForm(false)(w, a); v.Set("phone", "33 889"); return v },
			want: pocKeepers(invalid)},
		{name: "edit PoC form", method: "GET", route: "/countries/:iso/pocs/:id/edit", path: pocPath("/edit"), want: pocKeepers(sawPage)},
		{name: "edit PoC", method: "POST", route: "/countries/:iso/pocs/:id/edit", path: pocPath("/edit"), form: pocForm(true),
			doneRe: `^/countries/SN\?ok=poc_saved#pocs$`, want: pocKeepers(done)},
		{name: "edit PoC with bad input", method: "POST", route: "/countries/:iso/pocs/:id/edit", path: pocPath("/edit"),
			form: func(w *webWorld, a string) url.Values {
				v := pocForm(true)(w, a)
				v.Set("email", "Awa <awa@sn>")
				return v
			},
			want: pocKeepers(invalid)},
		{name: "remove PoC", method: "POST", route: "/countries/:iso/pocs/:id/delete",
			path: func(w *webWorld, actor string) string {
				if pocKeepers(done)[actor] == done {
					return "/countries/SN/pocs/" + w.poc() + "/delete" // a fresh one for each who may remove it
				}
				return "/countries/SN/pocs/" + w.snPoC + "/delete"
			},
			doneRe: `^/countries/SN\?ok=poc_deleted#pocs$`, want: pocKeepers(done)},
		{name: "communication checks", method: "GET", route: "/coordinator/poc-checks", path: fixed("/coordinator/poc-checks"),
			want: curators(sawPage)},
		{name: "run a check", method: "POST", route: "/coordinator/poc-checks", path: fixed("/coordinator/poc-checks"),
			form: values("scope", "countries", "countries", "SN"), doneRe: `^/coordinator/poc-checks/` + id + `\?ok=check_started$`,
			want: curators(done)},
		{name: "run a check on no country", method: "POST", route: "/coordinator/poc-checks", path: fixed("/coordinator/poc-checks"),
			form: values("scope", "countries"), want: curators(invalid)},
		{name: "check results", method: "GET", route: "/coordinator/poc-checks/:id", path: checkPath(""), want: curators(sawPage)},
		{name: "end a check", method: "POST", route: "/coordinator/poc-checks/:id/close",
			path: func(w *webWorld, actor string) string {
				if actor == "coordinator" || actor == "admin" {
					return "/coordinator/poc-checks/" + w.newCheck() + "/close"
				}
				return "/coordinator/poc-checks/" + w.check + "/close"
			},
			doneRe: `^/coordinator/poc-checks/` + id + `\?ok=check_closed$`, want: curators(done)},
		{name: "outbox", method: "GET", route: "/coordinator/outbox", path: fixed("/coordinator/outbox"), want: curators(sawPage)},
		// The acknowledgement link needs no sign-in: whoever holds it sees the page; the first
		// POST acknowledges and the others say it was already used (both pages).
		{name: "acknowledgement page", method: "GET", route: "/ack/:token",
			path: func(w *webWorld, _ string) string { return "/ack/" + w.ack }, want: outcomes(sawPage, sawPage)},
		{name: "forged acknowledgement link", method: "GET", route: "/ack/:token",
			path: func(w *webWorld, _ string) string { return "/ack/" + forged(w.ack) }, want: outcomes(notFound, notFound)},
		{name: "acknowledge", method: "POST", route: "/ack/:token",
			path: func(w *webWorld, _ string) string { return "/ack/" + w.ack }, want: outcomes(sawPage, sawPage)},
		{name: "acknowledge with a forged link", method: "POST", route: "/ack/:token",
			path: func(w *webWorld, _ string) string { return "/ack/" + w.check + "." + w.snPoC + ".1.x" }, want: outcomes(notFound, notFound)},

		// Self-assessments and country sources (issues 17.2-17.3).
		{name: "self-assessments", method: "GET", route: "/countries/:iso/assessments", path: fixed("/countries/SN/assessments"),
			want: insiders(sawPage)},
		{name: "questionnaire", method: "GET", route: "/countries/:iso/assessments/new", path: fixed("/countries/SN/assessments/new"),
			want: insiders(sawPage)},
		{name: "submit a self-assessment", method: "POST", route: "/countries/:iso/assessments", path: fixed("/countries/SN/assessments"),
			form: assessmentForm, doneRe: `^/countries/SN/assessments/` + id + `\?ok=assessment_submitted#proposals$`, want: insiders(done)},
		{name: "submit an answer off its scale", method: "POST", route: "/countries/:iso/assessments", path: fixed("/countries/SN/assessments"),
			form: func(w *webWorld, a string) url.Values {
				v := assessmentForm(w, a)
				v.Set("answers.cert_exists", "99")
				return v
			},
			want: insiders(invalid)},
		{name: "self-assessment results", method: "GET", route: "/countries/:iso/assessments/:id",
			path: func(w *webWorld, _ string) string { return "/countries/SN/assessments/" + w.assessment }, want: insiders(sawPage)},
		{name: "propose again", method: "POST", route: "/countries/:iso/assessments/:id/proposals",
			path: func(w *webWorld, _ string) string {
				return "/countries/SN/assessments/" + w.latestAssessment() + "/proposals"
			},
			doneRe: `^/countries/SN/assessments/` + id + `\?ok=proposals_created#proposals$`, want: insiders(done)},
		{name: "new source form", method: "GET", route: "/countries/:iso/sources/new", path: fixed("/countries/SN/sources/new"),
			want: insiders(sawPage)},
		{name: "add source", method: "POST", route: "/countries/:iso/sources", path: fixed("/countries/SN/sources"), form: sourceForm(false),
			doneRe: `^/countries/SN\?ok=source_added#sources$`, want: insiders(done)},
		{name: "add source with bad input", method: "POST", route: "/countries/:iso/sources", path: fixed("/countries/SN/sources"),
			form: func(w *webWorld, a string) url.Values {
				v := sourceForm(false)(w, a)
				v.Set("url", "javascript:x")
				return v
			},
			want: insiders(invalid)},
		{name: "edit source form", method: "GET", route: "/countries/:iso/sources/:id/edit", path: sourcePath("/edit"), want: insiders(sawPage)},
		{name: "edit source", method: "POST", route: "/countries/:iso/sources/:id/edit", path: sourcePath("/edit"), form: sourceForm(true),
			doneRe: `^/countries/SN\?ok=source_updated#sources$`, want: insiders(done)},
		{name: "edit source with bad input", method: "POST", route: "/countries/:iso/sources/:id/edit", path: sourcePath("/edit"),
			form: func(w *webWorld, a string) url.Values {
				v := sourceForm(true)(w, a)
				v.Set("date", "2017-02-30")
				return v
			},
			want: insiders(invalid)},
		{name: "delete source", method: "POST", route: "/countries/:iso/sources/:id/delete",
			path: func(w *webWorld, actor string) string {
				if insiders(done)[actor] == done {
					return "/countries/SN/sources/" + w.newSource() + "/delete" // a fresh one for each who may delete it
				}
				return "/countries/SN/sources/" + w.source + "/delete"
			},
			doneRe: `^/countries/SN\?ok=source_deleted#sources$`, want: insiders(done)},

		// The ministry workspace and the guided need form.
		{name: "ministry workspace", method: "GET", route: "/ministry", path: fixed("/ministry"), want: ministries(sawPage)},
		{name: "new need form", method: "GET", route: "/ministry/needs/new", path: fixed("/ministry/needs/new"), want: ministries(sawPage)},
		{name: "post need", method: "POST", route: "/ministry/needs", path: fixed("/ministry/needs"),
			form:   func(*webWorld, string) url.Values { return needForm(url.Values{"op": {"save"}}) },
			doneRe: `^/ministry\?ok=need_created#need-` + id + `$`, want: ministries(done)},
		{name: "post bad need", method: "POST", route: "/ministry/needs", path: fixed("/ministry/needs"),
			form: func(*webWorld, string) url.Values { return needForm(url.Values{"op": {"save"}, "title": {""}}) },
			want: ministries(invalid)},
		{name: "edit need form", method: "GET", route: "/ministry/needs/:id/edit",
			path: func(w *webWorld, _ string) string { return "/ministry/needs/" + w.draftNeed.ID + "/edit" },
			want: outcomes(toSignIn, forbidden, "ministry", sawPage, "ministry2", notFound)},
		{name: "edit need", method: "POST", route: "/ministry/needs/:id/edit",
			path: func(w *webWorld, _ string) string {
				return "/ministry/needs/" + w.need("draft", models.VisibilityPublic).ID + "/edit"
			},
			form:   func(*webWorld, string) url.Values { return needForm(url.Values{"op": {"save"}, "version": {"1"}}) },
			doneRe: `^/needs/` + id + `\?ok=need_updated$`, want: outcomes(toSignIn, forbidden, "ministry", done, "ministry2", notFound)},
		{name: "edit need with bad input", method: "POST", route: "/ministry/needs/:id/edit",
			path: func(w *webWorld, _ string) string { return "/ministry/needs/" + w.draftNeed.ID + "/edit" },
			form: func(*webWorld, string) url.Values { return needForm(url.Values{"op": {"save"}, "title": {""}}) },
			want: outcomes(toSignIn, forbidden, "ministry", invalid, "ministry2", notFound)},
		{name: "continue another's need form", method: "POST", route: "/ministry/needs/:id/edit",
			path: func(w *webWorld, _ string) string { return "/ministry/needs/" + w.draftNeed.ID + "/edit" },
			form: values("op", "refresh", "theme", "cybercrime"), want: outcomes(toSignIn, forbidden, "ministry", sawPage, "ministry2", notFound)},

		// The donor workspace and the offer form.
		{name: "donor workspace", method: "GET", route: "/donor", path: fixed("/donor"), want: donors(sawPage)},
		{name: "new offer form", method: "GET", route: "/donor/offers/new", path: fixed("/donor/offers/new"), want: donors(sawPage)},
		{name: "post offer", method: "POST", route: "/donor/offers", path: fixed("/donor/offers"), form: validOffer,
			doneRe: `^/donor\?ok=offer_created#offer-` + id + `$`, want: donors(done)},
		{name: "post bad offer", method: "POST", route: "/donor/offers", path: fixed("/donor/offers"),
			form: func(w *webWorld, a string) url.Values { v := validOffer(w, a); v.Set("budget_usd", "lots"); return v },
			want: donors(invalid)},
		{name: "edit offer form", method: "GET", route: "/donor/offers/:id/edit",
			path: func(w *webWorld, _ string) string { return "/donor/offers/" + w.openOffer.ID + "/edit" },
			want: outcomes(toSignIn, forbidden, "donor", sawPage)},
		{name: "edit draft offer form", method: "GET", route: "/donor/offers/:id/edit",
			path: func(w *webWorld, _ string) string { return "/donor/offers/" + w.draftOffer.ID + "/edit" },
			want: outcomes(toSignIn, forbidden, "donor", sawPage, "donor2", notFound)},
		{name: "edit offer", method: "POST", route: "/donor/offers/:id/edit", path: freshOffer("open", "/donor/offers/", "/edit"),
			form:   func(w *webWorld, a string) url.Values { v := validOffer(w, a); v.Set("version", "2"); return v },
			doneRe: `^/offers/` + id + `\?ok=offer_updated$`, want: outcomes(toSignIn, forbidden, "donor", done)},
		{name: "edit offer with bad input", method: "POST", route: "/donor/offers/:id/edit",
			path: func(w *webWorld, _ string) string { return "/donor/offers/" + w.openOffer.ID + "/edit" },
			form: func(w *webWorld, a string) url.Values { v := validOffer(w, a); v.Set("budget_usd", "lots"); return v },
			want: outcomes(toSignIn, forbidden, "donor", invalid)},

		// The coordinators' tools.
		{name: "approval queue", method: "GET", route: "/coordinator", path: fixed("/coordinator"), want: curators(sawPage)},
		{name: "weights editor", method: "GET", route: "/coordinator/weights", path: fixed("/coordinator/weights"), want: curators(sawPage)},
		{name: "save weights", method: "POST", route: "/coordinator/weights", path: fixed("/coordinator/weights"), form: weightsForm,
			doneRe: `^/coordinator/weights\?ok=weights_saved$`, want: curators(done)},
		{name: "preview bad weights", method: "POST", route: "/coordinator/weights", path: fixed("/coordinator/weights"),
			form: values("op", "preview", "capability", "x"), want: curators(invalid)},
		{name: "funding chart", method: "GET", route: "/coordinator/funding", path: fixed("/coordinator/funding"), want: curators(sawPage)},
		{name: "allocation", method: "GET", route: "/coordinator/allocation", path: fixed("/coordinator/allocation"), want: curators(sawPage)},

		// Engagements.
		{name: "engagements", method: "GET", route: "/engagements", path: fixed("/engagements"), want: signedIn(sawPage)},
		{name: "propose engagement", method: "POST", route: "/engagements", path: fixed("/engagements"),
			form: func(w *webWorld, _ string) url.Values {
				return url.Values{"need_id": {w.need("open", models.VisibilityPublic).ID}, "offer_id": {w.offer("open").ID}, "message": {"Shall we?"}}
			}, doneRe: `^/engagements/` + id + `\?ok=engagement_proposed$`,
			want: outcomes(toSignIn, forbidden, "ministry", done, "donor", done)},
		{name: "propose without an offer", method: "POST", route: "/engagements", path: fixed("/engagements"),
			form: func(w *webWorld, _ string) url.Values { return url.Values{"need_id": {w.openNeed.ID}} }, want: signedIn(invalid)},
		{name: "engagement", method: "GET", route: "/engagements/:id",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.proposed.ID },
			want: outcomes(toSignIn, notFound, "ministry", sawPage, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "accept engagement", method: "POST", route: "/engagements/:id/:action", path: freshEngagement("/accept"),
			doneRe: `^/engagements/` + id + `\?ok=engagement_agreed$`,
			want:   outcomes(toSignIn, notFound, "ministry", done, "donor", forbidden, "coordinator", forbidden, "admin", forbidden)},
		{name: "decline engagement", method: "POST", route: "/engagements/:id/:action", path: freshEngagement("/decline"),
			form: values("reason", "Not now."), doneRe: `^/engagements/` + id + `\?ok=engagement_declined$`,
			want: outcomes(toSignIn, notFound, "ministry", done, "donor", forbidden, "coordinator", forbidden, "admin", forbidden)},
		{name: "decline with a reason too long", method: "POST", route: "/engagements/:id/:action", path: freshEngagement("/decline"),
			form: values("reason", strings.Repeat("x", 2001)),
			want: outcomes(toSignIn, notFound, "ministry", invalid, "donor", forbidden, "coordinator", forbidden, "admin", forbidden)},
		{name: "withdraw engagement", method: "POST", route: "/engagements/:id/:action", path: freshEngagement("/withdraw"),
			doneRe: `^/engagements/` + id + `\?ok=engagement_withdrawn$`,
			want:   outcomes(toSignIn, notFound, "ministry", forbidden, "donor", done, "coordinator", forbidden, "admin", forbidden)},
		{name: "cancel engagement confirmation", method: "GET", route: "/engagements/:id/cancel",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.agreed.ID + "/cancel" },
			want: outcomes(toSignIn, notFound, "ministry", sawPage, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "cancel engagement unconfirmed", method: "POST", route: "/engagements/:id/:action",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.agreed.ID + "/cancel" },
			want: outcomes(toSignIn, notFound, "ministry", sawPage, "donor", sawPage, "coordinator", sawPage, "admin", sawPage)},
		{name: "cancel engagement", method: "POST", route: "/engagements/:id/:action",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.engagement(true).ID + "/cancel" },
			form: values("confirm", "yes", "reason", "The experts are no longer available."), doneRe: `^/engagements/` + id + `\?ok=engagement_cancelled$`,
			want: outcomes(toSignIn, notFound, "ministry", done, "donor", done, "coordinator", done, "admin", done)},
		{name: "message engagement", method: "POST", route: "/engagements/:id/:action",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.proposed.ID + "/message" },
			form: values("body", "When can the experts travel?"), doneRe: `^/engagements/` + id + `\?ok=message_sent$`,
			want: outcomes(toSignIn, notFound, "ministry", done, "donor", done, "coordinator", done, "admin", done)},
		{name: "empty message", method: "POST", route: "/engagements/:id/:action",
			path: func(w *webWorld, _ string) string { return "/engagements/" + w.proposed.ID + "/message" },
			form: values("body", " "), want: outcomes(toSignIn, notFound, "ministry", invalid, "donor", invalid, "coordinator", invalid, "admin", invalid)},

		// Projects.
		{name: "projects", method: "GET", route: "/projects", path: fixed("/projects"), want: signedIn(sawPage)},
		{name: "start project", method: "POST", route: "/projects", path: fixed("/projects"),
			form: func(w *webWorld, _ string) url.Values {
				return url.Values{"engagement_id": {w.engagement(true).ID}, "title": {"CSIRT project"}, "budget_usd": {"300000"},
					"start_date": {"2030-03-01"}, "end_date": {"2031-03-01"}}
			}, doneRe: `^/projects/` + id + `\?ok=project_started$`,
			want: outcomes(toSignIn, notFound, "ministry", forbidden, "donor", done, "coordinator", done, "admin", done)},
		{name: "start project with bad input", method: "POST", route: "/projects", path: fixed("/projects"),
			form: func(w *webWorld, _ string) url.Values {
				return url.Values{"engagement_id": {w.engagement(true).ID}, "title": {""}, "budget_usd": {"lots"}}
			}, want: outcomes(toSignIn, notFound, "ministry", forbidden, "donor", invalid, "coordinator", invalid, "admin", invalid)},
		{name: "project", method: "GET", route: "/projects/:id", path: projectPath(""), want: signedIn(sawPage)},
		{name: "record transaction", method: "POST", route: "/projects/:id/transactions", path: projectPath("/transactions"),
			form:   values("type", "commitment", "amount_usd", "1000", "date", "2025-03-02"), // a transaction is never after today
			doneRe: `^/projects/` + id + `\?ok=transaction_recorded#transactions$`,
			want:   outcomes(toSignIn, forbidden, "donor", done, "coordinator", done, "admin", done)},
		{name: "record bad transaction", method: "POST", route: "/projects/:id/transactions", path: projectPath("/transactions"),
			form: values("type", "gift", "amount_usd", "-1"), want: outcomes(toSignIn, forbidden, "donor", invalid, "coordinator", invalid, "admin", invalid)},
		{name: "move project", method: "POST", route: "/projects/:id/status", path: freshProject("/status"), form: values("status", "2"),
			doneRe: `^/projects/` + id + `\?ok=project_status#main$`,
			want:   outcomes(toSignIn, forbidden, "donor", done, "coordinator", done, "admin", done)},
		{name: "move project nowhere", method: "POST", route: "/projects/:id/status", path: projectPath("/status"), form: values("status", "9"),
			want: outcomes(toSignIn, forbidden, "donor", invalid, "coordinator", invalid, "admin", invalid)},
		{name: "add result", method: "POST", route: "/projects/:id/results", path: projectPath("/results"),
			form: values("result_type", "output", "result_title", "Analysts trained"), doneRe: `^/projects/` + id + `\?ok=result_added#results$`,
			want: outcomes(toSignIn, forbidden, "donor", done, "coordinator", done, "admin", done)},
		{name: "add bad result", method: "POST", route: "/projects/:id/results", path: projectPath("/results"),
			form: values("result_type", "output", "result_title", ""), want: outcomes(toSignIn, forbidden, "donor", invalid, "coordinator", invalid, "admin", invalid)},
		{name: "link document", method: "POST", route: "/projects/:id/documents", path: projectPath("/documents"),
			form:   values("doc_title", "Terms of reference", "doc_url", "https://example.org/tor.pdf"),
			doneRe: `^/projects/` + id + `\?ok=document_added#documents$`, want: outcomes(toSignIn, forbidden, "donor", done, "coordinator", done, "admin", done)},
		{name: "link bad document", method: "POST", route: "/projects/:id/documents", path: projectPath("/documents"),
			form: values("doc_title", "ToR", "doc_url", "ftp://example.org/"), want: outcomes(toSignIn, forbidden, "donor", invalid, "coordinator", invalid, "admin", invalid)},
		{name: "IATI download", method: "GET", route: "/export/iati.xml", path: fixed("/export/iati.xml"), want: signedIn(sawPage)},

		// Notifications.
		{name: "notifications", method: "GET", route: "/notifications", path: fixed("/notifications"), want: signedIn(sawPage)},
		{name: "mark notifications read", method: "POST", route: "/notifications/read-all", path: fixed("/notifications/read-all"),
			doneRe: `^/notifications\?ok=notifications_read$`, want: signedIn(done)},

		// Open data (issue 18.2): the data dictionary page, and the files, which the API serves
		// outside /api/: the anonymous view for everyone, signed in or not.
		{name: "open data dictionary", method: "GET", route: "/open-data", path: fixed("/open-data"), want: outcomes(sawPage, sawPage)},
	}, openDataRows()...)
}

// openDataRows are the open data files: every dataset as CSV and JSON, for everyone.
func openDataRows() []webRow {
	var rows []webRow
	for _, ds := range service.Datasets {
		for _, ext := range []string{"csv", "json"} {
			route := "/open-data/" + ds.Name + "." + ext
			rows = append(rows, webRow{name: "open data " + ds.Name + "." + ext, method: "GET", route: route, path: fixed(route),
				want: outcomes(sawPage, sawPage)})
		}
	}
	return rows
}

// session is the browser and CSRF token a row runs with: the actor's own, or for a fresh
// row a copy (signing in replaces the cookie there only) or a new session (signing out ends it).
func (w *webWorld) session(row webRow, actor string) (*browser, string) {
	if !row.fresh && !row.twin {
		return w.b[actor], w.tok[actor]
	}
	b := w.s.browser()
	if actor == "anon" {
		return b, csrf(w.t, b.get("/signin"))
	}
	if row.twin {
		a := w.as(w.email(actor))
		email, _ := w.account(a.Role, a.OrgID)
		b.signIn(email)
		return b, csrf(w.t, b.get("/notifications"))
	}
	if row.route == "/signin" {
		for k, c := range w.b[actor].cookies {
			b.cookies[k] = c
		}
		return b, w.tok[actor]
	}
	b.signIn(w.email(actor))
	return b, csrf(w.t, b.get("/notifications"))
}

// webRoutes are the routes the UI registers (api/routes.go's "Web UI." block): every route
// outside the API and the operational endpoints.
func webRoutes(app *fiber.App) []fiber.Route {
	ops := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/docs": true}
	var out []fiber.Route
	for _, r := range app.GetRoutes(true) {
		if r.Method == fiber.MethodHead || strings.HasPrefix(r.Path, "/api/") || ops[r.Path] {
			continue
		}
		out = append(out, r)
	}
	return out
}

// patternRe turns a route pattern (/needs/:id/:action) into a regular expression.
func patternRe(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = `[^/]+`
		} else {
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
}

// routeOf is the first route, in the order they are registered (Fiber's order of matching),
// that answers method and path.
func routeOf(routes []fiber.Route, method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	for _, r := range routes {
		if r.Method == method && patternRe(r.Path).MatchString(path) {
			return r.Path
		}
	}
	return ""
}

func TestWebAuthorizationTable(t *testing.T) {
	w := newWebWorld(t)
	routes := webRoutes(w.s.srv.App())
	for i, row := range w.rows() {
		if i%tableSample != 0 {
			continue // under -race only a sample (race_on_test.go)
		}
		for _, actor := range webActors {
			want, ok := row.want[actor]
			require.True(t, ok, "%s: no expectation for %s", row.name, actor)
			t.Run(row.name+"/"+actor, func(t *testing.T) {
				path := row.path(w, actor)
				require.Equal(t, row.route, routeOf(routes, row.method, path), "%s %s is served by its row's route", row.method, path)
				b, tok := w.session(row, actor)
				var p page
				if row.method == "POST" {
					form := url.Values{}
					if row.form != nil {
						form = row.form(w, actor)
					}
					form.Set("_csrf", tok)
					p = b.do("POST", path, form)
				} else {
					p = b.get(path)
				}
				loc := p.Header.Get("Location")
				switch want {
				case toSignIn:
					assert.Equal(t, 303, p.Status, "%s %s as %s: %.300s", row.method, path, actor, p.Body)
					assert.True(t, strings.HasPrefix(loc, "/signin?next="), "%s %s as %s goes to sign in, not %q", row.method, path, actor, loc)
				case done:
					assert.Equal(t, 303, p.Status, "%s %s as %s: %.300s", row.method, path, actor, p.Body)
					assert.Regexp(t, row.doneRe, loc, "%s %s as %s", row.method, path, actor)
				default:
					assert.Equal(t, want, strconv.Itoa(p.Status), "%s %s as %s: %s %.300s", row.method, path, actor, loc, p.Body)
					if p.Status >= 400 {
						assert.NotContains(t, p.Body, "This form has expired", "refused by the authorization, not by the CSRF token")
					}
				}
			})
		}
	}
}

// TestWebAuthorizationTableCoversEveryRoute fails when a web route of api/routes.go has no row
// in the table, and checks that each row's path is answered by the row's route.
func TestWebAuthorizationTableCoversEveryRoute(t *testing.T) {
	s := newStack(t)
	w := &webWorld{t: t, s: s}
	covered := map[string]bool{}
	for _, row := range w.rows() {
		covered[row.method+" "+row.route] = true
	}
	routes := webRoutes(s.srv.App())
	require.NotEmpty(t, routes)
	for _, r := range routes {
		assert.True(t, covered[r.Method+" "+r.Path], "web route %s %s has no row in the authorization table", r.Method, r.Path)
	}
	// The check of each row's path against its route matches Fiber's patterns the way Fiber does.
	assert.Equal(t, "/needs/:id/:action", routeOf(routes, "POST", "/needs/n-1/withdraw?x=1"))
	assert.Equal(t, "/countries/:iso/readiness", routeOf(routes, "GET", "/countries/SN/readiness"))
	assert.Equal(t, "/countries/:iso", routeOf(routes, "GET", "/countries/SN"))
	assert.Equal(t, "/ministry/needs/:id/edit", routeOf(routes, "POST", "/ministry/needs/n-1/edit"))
	assert.Empty(t, routeOf(routes, "POST", "/needs"))
}
