package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests cover issue 13 points 1, 2 and 4: what a caller may not see never reaches it
// through a derived view (overlaps, duplication reasons, counts), and a need awaiting approval
// is its owner's and the coordinators' business. canary_test.go checks the same over every
// route.

// deliveries is a world of deliveries of cert_setup to Senegal, one of each visibility:
// a project on a public need (everyone signed in sees it), a project on a restricted need and
// one on a donors-only need (both the fixture donor's), and an agreed engagement without a
// project on a public need (seen only by its two sides, the SN ministry and the donor).
type deliveries struct {
	public, restricted, donorsOnly string // project ids
	engagement                     string // agreed engagement without a project
	restrictedNeed, donorsNeed     string
}

const (
	restrictedProjectTitle = "Sealed CSIRT build for the restricted need"
	donorsProjectTitle     = "Donor-circle CSIRT build"
)

// deliver creates an open SN cert_setup need of the visibility, has the SN ministry propose it
// to a fresh offer of the fixture donor, the donor accept, and (if title is set) the donor
// start a project with that title. It returns the need, engagement and project ids.
func (n *node) deliver(t *testing.T, visibility, title string) (need, eng, prj string) {
	t.Helper()
	f := &n.env.fx
	need = n.newNeed(t, "open", visibility)
	offer := n.newOffer(t, "open")
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer})
	require.Equal(t, 201, r.Status, string(r.Body))
	eng = r.json(t)["id"].(string)
	r = n.call("POST", "/api/v1/engagements/"+eng+"/accept", f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	if title == "" {
		return need, eng, ""
	}
	r = n.call("POST", "/api/v1/projects", f.donor.Token, map[string]any{"engagement_id": eng, "title": title,
		"budget_usd": 380000, "start_date": "2027-03-01", "end_date": "2028-08-31"})
	require.Equal(t, 201, r.Status, string(r.Body))
	return need, eng, r.json(t)["id"].(string)
}

func (n *node) deliveries(t *testing.T) deliveries {
	var d deliveries
	_, _, d.public = n.deliver(t, "public", "Open CSIRT build")
	d.restrictedNeed, _, d.restricted = n.deliver(t, "restricted", restrictedProjectTitle)
	d.donorsNeed, _, d.donorsOnly = n.deliver(t, "donors", donorsProjectTitle)
	_, d.engagement, _ = n.deliver(t, "public", "")
	return d
}

// overlapIDs lists the ids under "overlaps" of a project response.
func overlapIDs(t *testing.T, r resp) []string {
	t.Helper()
	require.Equal(t, 200/100, r.Status/100, string(r.Body))
	var ids []string
	if items, ok := r.json(t)["overlaps"].([]any); ok {
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
	}
	return ids
}

// TestOverlapsListOnlyWhatTheCallerMaySee: a project's overlaps (GET and the answer of POST
// /projects) and the web's "possible duplication" card name only the deliveries the caller
// may see; the overlaps report likewise.
func TestOverlapsListOnlyWhatTheCallerMaySee(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	d := n.deliveries(t)
	w := &authzWorld{t: t, n: n, f: f}
	want := map[string][]string{
		"coordinator": {d.restricted, d.donorsOnly, d.engagement},
		"admin":       {d.restricted, d.donorsOnly, d.engagement},
		"ministry":    {d.restricted, d.donorsOnly, d.engagement}, // its own needs and engagements
		"donor":       {d.restricted, d.donorsOnly, d.engagement}, // its own projects and engagement
		"donor2":      {d.donorsOnly},                             // donors see donors-only needs and their projects
		"ministry2":   nil,                                        // another country's ministry: public ones only
	}
	for actor, ids := range want {
		got := overlapIDs(t, n.call("GET", "/api/v1/projects/"+d.public, w.token(actor), nil))
		assert.ElementsMatch(t, ids, got, "%s reads the overlaps of the public project", actor)
	}

	// The answer of POST /projects: donor2 starts a project on SN cert_setup over the same dates.
	r := n.call("POST", "/api/v1/offers", f.donor2.Token, offerBody("Pacific and African CSIRT fund"))
	require.Equal(t, 201, r.Status, string(r.Body))
	offer := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+offer+"/publish", f.donor2.Token, nil).Status)
	need := n.newNeed(t, "open", "public")
	r = n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer})
	require.Equal(t, 201, r.Status, string(r.Body))
	eng := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+eng+"/accept", f.donor2.Token, nil).Status)
	r = n.call("POST", "/api/v1/projects", f.donor2.Token, map[string]any{"engagement_id": eng, "title": "Pacific fund CSIRT build",
		"budget_usd": 200000, "start_date": "2027-06-01", "end_date": "2028-01-31"})
	require.Equal(t, 201, r.Status, string(r.Body))
	assert.ElementsMatch(t, []string{d.public, d.donorsOnly}, overlapIDs(t, r), "donor2 is told only of deliveries it may see")
	assert.Contains(t, fmt.Sprint(r.json(t)["warnings"]), "2 other deliveries", "the warning counts what donor2 may see")
	assertAbsent(t, string(r.Body), "donor2's new project", restrictedProjectTitle)

	// The overlaps report pairs only visible deliveries.
	for _, actor := range []string{"donor2", "ministry2"} {
		body := string(n.call("GET", "/api/v1/reports/overlaps", w.token(actor), nil).Body)
		assertAbsent(t, body, actor+"'s overlaps report", d.restricted, d.engagement, restrictedProjectTitle)
	}

	// The web page of the public project: the "possible duplication" card links only what the
	// viewer may see.
	b := n.browser(t, f.donor2.Email)
	page := b.get("/projects/" + d.public)
	require.Equal(t, 200, page.Status)
	assert.Contains(t, page.Body, d.donorsOnly, "the card shows the donors-only project")
	assertAbsent(t, page.Body, "donor2's page of the public project", d.restricted, d.engagement, restrictedProjectTitle)
	b = n.browser(t, f.ministry2.Email)
	page = b.get("/projects/" + d.public)
	require.Equal(t, 200, page.Status)
	assertAbsent(t, page.Body, "ministry2's page of the public project", d.restricted, d.donorsOnly, d.engagement,
		restrictedProjectTitle, donorsProjectTitle)
}

// dupReason returns the duplication factor's reason of each item of a ranking, by the id
// under key: its code, the count when it has one, its capability and country ("duplication.some
// 4 cert_setup SN"). The reason written in English says no more than its arguments.
func dupReason(t *testing.T, r resp, key string) map[string]string {
	t.Helper()
	require.Equal(t, 200, r.Status, string(r.Body))
	out := map[string]string{}
	for _, it := range r.json(t)["items"].([]any) {
		m := it.(map[string]any)
		for _, fa := range m["factors"].([]any) {
			if fm := fa.(map[string]any); fm["name"] == "duplication" {
				args := fm["args"].(map[string]any)
				value := func(name string) string { return fmt.Sprint(args[name].(map[string]any)["value"]) }
				s := fm["code"].(string)
				if _, ok := args["count"]; ok {
					s += " " + value("count")
				}
				out[m[key].(string)] = s + " " + value("capability") + " " + value("country")
				if _, ok := args["count"]; !ok {
					assert.NotRegexp(t, `[0-9]`, fm["reason"], "a reason without a count shows no number")
				}
			}
		}
	}
	return out
}

// TestDuplicationReasonCountsOnlyVisibleDeliveries: the duplication factor's reason counts the
// deliveries the caller may see. Its value still counts every delivery (whether the capability
// is already being delivered in the country is the signal the factor exists for), so a
// caller who sees none of them reads that some exist, without a number.
func TestDuplicationReasonCountsOnlyVisibleDeliveries(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.deliveries(t)
	need := n.newNeed(t, "open", "public") // another SN cert_setup need, without a delivery
	offer := n.newOffer(t, "open")
	w := &authzWorld{t: t, n: n, f: f}
	want := map[string]string{
		"coordinator": "duplication.some 4 cert_setup SN",
		"ministry":    "duplication.some 4 cert_setup SN",
		"donor":       "duplication.some 4 cert_setup SN",
		"donor2":      "duplication.some 2 cert_setup SN",
		"ministry2":   "duplication.some 1 cert_setup SN",
	}
	for actor, reason := range want {
		got := dupReason(t, n.call("GET", "/api/v1/needs/"+need+"/matches?limit=50", w.token(actor), nil), "offer_id")
		require.NotEmpty(t, got, actor)
		for id, r := range got {
			assert.Equal(t, reason, r, "%s reads the matches of the public need (offer %s)", actor, id)
		}
		got = dupReason(t, n.call("GET", "/api/v1/offers/"+offer+"/matches?limit=50", w.token(actor), nil), "need_id")
		assert.Equal(t, reason, got[need], "%s reads the need's line in the offer's matches", actor)
	}

	// Only hidden deliveries: a restricted need's project delivers cert_maturity in SN.
	b := needBody(f, "ministry", "Sealed CSIRT maturity programme")
	b["visibility"], b["capability"] = "restricted", "cert_maturity"
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	hidden := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+hidden+"/submit", f.ministry.Token, nil).Status)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+hidden+"/approve", f.coord.Token, nil).Status)
	r = n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": hidden, "offer_id": offer})
	require.Equal(t, 201, r.Status, string(r.Body))
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+r.json(t)["id"].(string)+"/accept", f.donor.Token, nil).Status)
	b = needBody(f, "ministry", "Open CSIRT maturity programme")
	b["capability"] = "cert_maturity"
	r = n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	maturity := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+maturity+"/submit", f.ministry.Token, nil).Status)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+maturity+"/approve", f.coord.Token, nil).Status)
	for actor, reason := range map[string]string{
		"coordinator": "duplication.some 1 cert_maturity SN",
		"donor2":      "duplication.hidden cert_maturity SN",
		"ministry2":   "duplication.hidden cert_maturity SN",
	} {
		got := dupReason(t, n.call("GET", "/api/v1/needs/"+maturity+"/matches?limit=50", w.token(actor), nil), "offer_id")
		require.NotEmpty(t, got, actor)
		for _, r := range got {
			assert.Equal(t, reason, r, "%s reads the matches of the cert_maturity need", actor)
		}
	}
}

// TestNeedsAwaitingApprovalReachOnlyTheirOwnerAndCoordinators: until a coordinator approves
// it, a need (draft, submitted, or withdrawn) is seen by its own organization and coordinators
// only: not by donors, not by other countries' ministries, and not by another ministry of the
// same country. Get, list, search, status filter, offer matches and the ministry workspace's
// counts agree.
func TestNeedsAwaitingApprovalReachOnlyTheirOwnerAndCoordinators(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	// A second ministry of Senegal, in another organization.
	org, err := n.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Ministry of Digital Economy of Senegal",
		Type: models.OrgGovernment, Country: "SN"})
	require.NoError(t, err)
	_, err = n.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: "digital@gouv.sn.example", Password: pw,
		Name: "Digital", Role: models.RoleMinistry, OrganizationID: org.ID})
	require.NoError(t, err)
	snOther, _ := n.login("digital@gouv.sn.example", pw)

	ids := map[string]string{}
	for _, st := range []string{"draft", "submitted", "withdrawn", "open"} {
		ids[st] = n.newNeed(t, st, "public")
	}
	offer := n.newOffer(t, "open")
	w := &authzWorld{t: t, n: n, f: f}
	tokens := map[string]string{"snOther": snOther}
	for _, a := range actors[1:] {
		tokens[a] = w.token(a)
	}
	everything := []string{"draft", "submitted", "withdrawn", "open"}
	want := map[string][]string{
		"ministry":    everything,
		"coordinator": everything,
		"admin":       everything,
		"snOther":     {"open"},
		"ministry2":   {"open"},
		"donor":       {"open"},
		"donor2":      {"open"},
	}
	for actor, visible := range want {
		tok := tokens[actor]
		for st, id := range ids {
			status := n.call("GET", "/api/v1/needs/"+id, tok, nil).Status
			assert.Equal(t, map[bool]int{true: 200, false: 404}[contains(visible, st)], status, "%s gets the %s need", actor, st)
		}
		for _, path := range []string{"/api/v1/needs?limit=100", "/api/v1/needs?limit=100&q=need", "/api/v1/needs?country=SN&limit=100",
			"/api/v1/needs?status=submitted&limit=100", "/api/v1/needs?organization_id=" + f.snOrg + "&limit=100"} {
			r := n.call("GET", path, tok, nil)
			require.Equal(t, 200, r.Status, string(r.Body))
			got := map[string]bool{}
			for _, id := range itemIDs(r.json(t), "id") {
				got[id] = true
			}
			for st, id := range ids {
				if strings.Contains(path, "status=submitted") && st != "submitted" {
					continue
				}
				assert.Equal(t, contains(visible, st), got[id], "%s lists the %s need in %s", actor, st, path)
			}
		}
		// An offer's matches rank open and submitted needs; the submitted one only for those who
		// may see it: its own organization and coordinators.
		got := itemIDs(matches(t, n, "/api/v1/offers/"+offer+"/matches?limit=50", tok), "need_id")
		assert.Contains(t, got, ids["open"], actor)
		if actor == "coordinator" || actor == "admin" || actor == "ministry" {
			assert.Contains(t, got, ids["submitted"], actor)
		} else {
			assert.NotContains(t, got, ids["submitted"], "%s sees the submitted need in an offer's matches", actor)
		}
	}
	// The other Senegal ministry's workspace counts only what it may see: one open need.
	b := n.browser(t, "digital@gouv.sn.example")
	page := b.get("/ministry")
	require.Equal(t, 200, page.Status)
	for _, st := range []string{"draft", "submitted", "withdrawn"} {
		assertAbsent(t, page.Body, "the other SN ministry's workspace", "status="+st, ids[st])
	}
}

// assertAbsent fails for each secret found in body, showing where (not the whole body).
func assertAbsent(t *testing.T, body, where string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(body, s); i >= 0 {
			t.Errorf("%s reveals %q: …%s…", where, s, body[max(0, i-120):min(len(body), i+len(s)+60)])
		}
	}
}

// browser is a cookie-keeping web client over the server, signed in through the sign-in form.
type browser struct {
	t       *testing.T
	n       *node
	cookies map[string]*http.Cookie
}

var csrfFieldRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// browser signs email in through the web sign-in form (anonymous when email is empty).
func (n *node) browser(t *testing.T, email string) *browser {
	t.Helper()
	b := &browser{t: t, n: n, cookies: map[string]*http.Cookie{}}
	if email == "" {
		return b
	}
	p := b.get("/signin")
	m := csrfFieldRe.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "sign-in form has a CSRF token")
	p = b.do("POST", "/signin", url.Values{"email": {email}, "password": {pw}, "_csrf": {m[1]}})
	require.Equal(t, 303, p.Status, p.Body)
	return b
}

// webPage is a web response.
type webPage struct {
	Status int
	Body   string
}

func (b *browser) do(method, path string, form url.Values) webPage {
	t := b.t
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	hr, err := b.n.srv.App().Test(req, -1)
	require.NoError(t, err)
	raw, err := io.ReadAll(hr.Body)
	require.NoError(t, err)
	for _, c := range hr.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return webPage{Status: hr.StatusCode, Body: string(raw)}
}

func (b *browser) get(path string) webPage { return b.do("GET", path, nil) }
