package api

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The canary test (issue 13.1): no derived view (a list, search, count, sum, ranking, reason,
// overlap, report, export, notification, map or dashboard figure) tells an actor anything about
// an object the policy hides from it. Canaries with distinctive titles, ids, amounts and dates
// are planted in sets (restricted needs with their engagement and project, the same for
// donors-only needs, needs awaiting approval, drafts and withdrawn needs, a proposal, a draft
// offer). The test reads every GET route of the server, API and web, as the actors who may not
// see a set, before and after planting it:
//
//   - the answers must be the same, apart from the volatile parts normalize removes (request
//     ids, the times rankings were computed, whether they came from the cache): so no id,
//     title, date, amount or count derived from the canaries reaches them;
//   - after all the sets are planted, no answer to an actor contains a token (id, title, amount,
//     date) of a canary hidden from that actor, and looking a hidden canary up answers exactly
//     as looking up a missing id does.
//
// Engagements and projects are planted straight into the store and the read model, so that
// the offer they use does not change (what an offer shows of its commitments is issue 13.4's
// other half). The duplication factor's value counts every delivery by design (see
// matching.Context.Seen): the world already has a public delivery of the canaries' capability
// to their country, so the value is 0 before any canary and only counts could change.
//
// The probes come from canaryRoutes, which must name every route the server registers
// (TestCanaryTableCoversEveryRoute): a new route needs probes, or a reason it has none.

// canaryActors are the actors whose answers the test compares: every signed-in role that may
// not see some canary, and anonymous visitors. "snOther" is a ministry of Senegal in another
// organization than the needs' owner ("ministry"); coordinators and admins see everything.
var canaryActors = []string{"anon", "ministry2", "snOther", "donor", "donor2"}

// canaryRoute says how the test reads a route: the paths it probes (the route's own pattern
// filled in from the world), or why it probes none.
type canaryRoute struct {
	paths func(w *canaryWorld) []string
	skip  string
}

func probe(paths ...string) canaryRoute {
	return canaryRoute{paths: func(*canaryWorld) []string { return paths }}
}

func probeWith(f func(w *canaryWorld) []string) canaryRoute { return canaryRoute{paths: f} }

// canaryRoutes covers every route, keyed "METHOD pattern".
func canaryRoutes() map[string]canaryRoute {
	write := canaryRoute{skip: "a write: it answers the object it wrote, read back by the probed GET routes (its callers are checked by the authorization tables)"}
	ops := canaryRoute{skip: "operations: no market data"}
	password := canaryRoute{skip: "sets a password: answers no market data"}
	resetLink := canaryRoute{skip: "issues a one-time reset link (curators only): answers the link and the accounts, no market data"}
	routes := map[string]canaryRoute{
		"GET /healthz":                     ops,
		"GET /readyz":                      ops,
		"GET /metrics":                     {skip: "operations: request counts per route pattern, no market data (block it at the edge)"},
		"GET /docs":                        {skip: "the API documentation: static"},
		"GET /api/v1/openapi.json":         {skip: "the OpenAPI document: static"},
		"GET /api/v1/catalogue":            probe("/api/v1/catalogue"),
		"GET /api/v1/questionnaire":        probe("/api/v1/questionnaire", "/api/v1/questionnaire?lang=fr"),
		"POST /api/v1/auth/login":          {skip: "sign-in: answers tokens"},
		"POST /api/v1/auth/refresh":        {skip: "sign-in: answers tokens"},
		"POST /api/v1/auth/logout":         {skip: "sign-out"},
		"POST /api/v1/auth/password-reset": password,
		"POST /api/v1/me/password":         password,
		"GET /api/v1/me":                   probe("/api/v1/me"),
		"POST /api/v1/organizations":       write,
		"GET /api/v1/organizations":        probe("/api/v1/organizations"),
		"GET /api/v1/organizations/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/organizations/" + w.f.snOrg, "/api/v1/organizations/" + w.f.donorOrg}
		}),
		"GET /api/v1/organizations/:id/webhook": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/organizations/" + w.f.snOrg + "/webhook"}
		}),
		"PUT /api/v1/organizations/:id/webhook":    write,
		"DELETE /api/v1/organizations/:id/webhook": write,
		"POST /api/v1/users":                       write,
		"GET /api/v1/users":                        probe("/api/v1/users"),
		"GET /api/v1/users/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/users/" + w.f.ministry.ID}
		}),
		"POST /api/v1/users/:id/disable":        write,
		"POST /api/v1/users/:id/enable":         write,
		"POST /api/v1/users/:id/password-reset": resetLink,
		"GET /api/v1/audit": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/audit", "/api/v1/audit?object_id=" + w.pub}
		}),
		"POST /api/v1/needs": write,
		"GET /api/v1/needs": probeWith(func(w *canaryWorld) []string {
			out := []string{"/api/v1/needs", "/api/v1/needs?limit=100", "/api/v1/needs?country=SN&limit=100",
				"/api/v1/needs?q=canary&limit=100", "/api/v1/needs?q=csirt&sort=priority&limit=100",
				"/api/v1/needs?capability=cert_setup&limit=100", "/api/v1/needs?theme=incident_management&limit=100",
				"/api/v1/needs?organization_id=" + w.f.snOrg + "&limit=100"}
			for _, st := range []string{"draft", "submitted", "open", "matched", "in_progress", "withdrawn"} {
				out = append(out, "/api/v1/needs?limit=100&status="+st)
			}
			return out
		}),
		"GET /api/v1/needs/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/needs/" + w.pub, "/api/v1/needs/" + w.pubDeliveredNeed}
		}),
		"GET /api/v1/needs/:id/matches": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/needs/" + w.pub + "/matches?limit=50"}
		}),
		"PATCH /api/v1/needs/:id":         write,
		"POST /api/v1/needs/:id/submit":   write,
		"POST /api/v1/needs/:id/approve":  write,
		"POST /api/v1/needs/:id/reject":   write,
		"POST /api/v1/needs/:id/withdraw": write,
		"POST /api/v1/offers":             write,
		"GET /api/v1/offers": probe("/api/v1/offers?limit=100", "/api/v1/offers?country=SN&limit=100",
			"/api/v1/offers?status=closed&limit=100", "/api/v1/offers?q=csirt&limit=100"),
		"GET /api/v1/offers/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/offers/" + w.offer, "/api/v1/offers/" + w.offer2}
		}),
		"GET /api/v1/offers/:id/matches": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/offers/" + w.offer + "/matches?limit=50", "/api/v1/offers/" + w.offer2 + "/matches?limit=50"}
		}),
		"PATCH /api/v1/offers/:id":        write,
		"POST /api/v1/offers/:id/publish": write,
		"POST /api/v1/offers/:id/close":   write,
		"GET /api/v1/matching/weights":    probe("/api/v1/matching/weights"),
		"PUT /api/v1/matching/weights":    write,
		"GET /api/v1/matching/allocation": probe("/api/v1/matching/allocation"),
		"POST /api/v1/engagements":        write,
		"GET /api/v1/engagements": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/engagements", "/api/v1/engagements?status=agreed", "/api/v1/engagements?status=proposed",
				"/api/v1/engagements?need_id=" + w.pub, "/api/v1/engagements?offer_id=" + w.offer}
		}),
		"GET /api/v1/engagements/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/engagements/" + w.pubEngagement}
		}),
		"POST /api/v1/engagements/:id/accept":   write,
		"POST /api/v1/engagements/:id/decline":  write,
		"POST /api/v1/engagements/:id/withdraw": write,
		"POST /api/v1/engagements/:id/cancel":   write,
		"POST /api/v1/engagements/:id/messages": write,
		"POST /api/v1/projects": {skip: "answers the new project with the overlaps its creator may see: " +
			"TestOverlapsListOnlyWhatTheCallerMaySee"},
		"GET /api/v1/projects": probe("/api/v1/projects", "/api/v1/projects?country=SN", "/api/v1/projects?status=2",
			"/api/v1/projects?theme=incident_management"),
		"GET /api/v1/projects/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/projects/" + w.pubProject}
		}),
		"PATCH /api/v1/projects/:id":             write,
		"POST /api/v1/projects/:id/status":       write,
		"POST /api/v1/projects/:id/transactions": write,
		"GET /api/v1/reports/funding": probe("/api/v1/reports/funding?group_by=country", "/api/v1/reports/funding?group_by=theme",
			"/api/v1/reports/funding?group_by=capability", "/api/v1/reports/funding?group_by=country&format=csv"),
		"GET /api/v1/reports/overlaps":           probe("/api/v1/reports/overlaps"),
		"GET /api/v1/export/iati.xml":            probe("/api/v1/export/iati.xml", "/api/v1/export/iati.xml?country=SN"),
		"GET /api/v1/notifications":              probe("/api/v1/notifications", "/api/v1/notifications?unread=true&limit=200"),
		"POST /api/v1/notifications/read-all":    write,
		"POST /api/v1/notifications/:id/read":    write,
		"GET /api/v1/countries":                  probe("/api/v1/countries"),
		"GET /api/v1/countries/:iso":             probe("/api/v1/countries/SN", "/api/v1/countries/FJ"),
		"PATCH /api/v1/countries/:iso/readiness": write,
		"GET /api/v1/countries/:iso/readiness/history": probe("/api/v1/countries/SN/readiness/history",
			"/api/v1/countries/FJ/readiness/history"),
		"POST /api/v1/countries/:iso/sources":                   write,
		"PATCH /api/v1/countries/:iso/sources/:id":              write,
		"DELETE /api/v1/countries/:iso/sources/:id":             write,
		"GET /api/v1/countries/:iso/assessments":                probe("/api/v1/countries/SN/assessments", "/api/v1/countries/FJ/assessments"),
		"POST /api/v1/countries/:iso/assessments":               write,
		"POST /api/v1/countries/:iso/assessments/:id/proposals": write,
		"GET /api/v1/countries/:iso/assessments/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/countries/SN/assessments/" + w.assessment}
		}),
		"GET /api/v1/countries/:iso/pocs": probe("/api/v1/countries/SN/pocs", "/api/v1/countries/FJ/pocs"),
		"GET /api/v1/countries/:iso/pocs/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/api/v1/countries/SN/pocs/" + w.poc}
		}),
		"POST /api/v1/countries/:iso/pocs":       write,
		"PATCH /api/v1/countries/:iso/pocs/:id":  write,
		"DELETE /api/v1/countries/:iso/pocs/:id": write,
		"GET /api/v1/countries/:iso/poc-checks":  probe("/api/v1/countries/SN/poc-checks", "/api/v1/countries/FJ/poc-checks"),
		"POST /api/v1/poc-checks":                write,
		"GET /api/v1/poc-checks":                 probe("/api/v1/poc-checks"),
		"GET /api/v1/poc-checks/:id":             probeWith(func(w *canaryWorld) []string { return []string{"/api/v1/poc-checks/" + w.pocCheck} }),
		"POST /api/v1/poc-checks/:id/close":      write,
		"POST /api/v1/poc-acks":                  {skip: "uses an acknowledgement link: answers only that link's state, country and kind (TestCommunicationCheckOverSMTP)"},
		"GET /api/v1/outbox":                     probe("/api/v1/outbox", "/api/v1/outbox?limit=500"),
		"POST /api/v1/import/needs":              write,
		"POST /api/v1/import/offers":             write,

		// The web UI.
		"GET /":                  probe("/"),
		"GET /lang/:code":        {skip: "sets the language cookie and redirects"},
		"GET /signin":            probe("/signin"),
		"POST /signin":           {skip: "sign-in"},
		"POST /signout":          {skip: "sign-out"},
		"GET /favicon.ico":       {skip: "the icon: static"},
		"GET /account/password":  probe("/account/password"),
		"POST /account/password": password,
		// Opening a reset link's form with a link that does not work counts as a failed attempt
		// of the address (and a working link is a one-time secret, nobody's canary).
		"GET /reset":                        {skip: "the form of a one-time reset link: no market data"},
		"POST /reset":                       password,
		"GET /coordinator/users":            probe("/coordinator/users"),
		"POST /coordinator/users/:id/reset": resetLink,
		"GET /needs": probe("/needs", "/needs?country=SN", "/needs?q=canary", "/needs?status=submitted", "/needs?status=draft",
			"/needs?status=matched", "/needs?status=in_progress", "/needs?status=withdrawn", "/needs?sort=priority&status="),
		"GET /needs/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/needs/" + w.pub, "/needs/" + w.pubDeliveredNeed}
		}),
		"POST /needs/:id/:action": write,
		// The confirmations list the engagements the page's object would end: their owner's
		// (a side of each); the canaries' engagements are on offer, not offer2.
		"GET /needs/:id/withdraw": probeWith(func(w *canaryWorld) []string { return []string{"/needs/" + w.pub + "/withdraw"} }),
		"GET /offers/:id/close":   probeWith(func(w *canaryWorld) []string { return []string{"/offers/" + w.offer2 + "/close"} }),
		"GET /engagements/:id/cancel": probeWith(func(w *canaryWorld) []string {
			return []string{"/engagements/" + w.pubEngagement + "/cancel"}
		}),
		"GET /offers": probe("/offers", "/offers?country=SN", "/offers?status=closed"),
		"GET /offers/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/offers/" + w.offer, "/offers/" + w.offer2}
		}),
		"POST /offers/:id/:action":       write,
		"GET /countries":                 probe("/countries", "/countries?open=1"),
		"GET /countries/:iso":            probe("/countries/SN", "/countries/FJ"),
		"GET /countries/:iso/readiness":  probe("/countries/SN/readiness"),
		"POST /countries/:iso/readiness": write,
		"GET /countries/:iso/pocs/new":   probe("/countries/SN/pocs/new", "/countries/FJ/pocs/new"),
		"POST /countries/:iso/pocs":      write,
		"GET /countries/:iso/pocs/:id/edit": probeWith(func(w *canaryWorld) []string {
			return []string{"/countries/SN/pocs/" + w.poc + "/edit"}
		}),
		"POST /countries/:iso/pocs/:id/edit":   write,
		"POST /countries/:iso/pocs/:id/delete": write,
		"GET /coordinator/poc-checks":          probe("/coordinator/poc-checks"),
		"POST /coordinator/poc-checks":         write,
		"GET /coordinator/poc-checks/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/coordinator/poc-checks/" + w.pocCheck}
		}),
		"POST /coordinator/poc-checks/:id/close": write,
		"GET /coordinator/outbox":                probe("/coordinator/outbox"),
		"GET /ack/:token": probeWith(func(w *canaryWorld) []string {
			return []string{"/ack/" + w.ackToken, "/ack/not-a-token"}
		}),
		"POST /ack/:token":                    {skip: "acknowledges with the link's token (a write); answers that link's state only"},
		"GET /countries/:iso/assessments":     probe("/countries/SN/assessments", "/countries/FJ/assessments"),
		"GET /countries/:iso/assessments/new": probe("/countries/SN/assessments/new"),
		"POST /countries/:iso/assessments":    write,
		"GET /countries/:iso/assessments/:id": probeWith(func(w *canaryWorld) []string {
			return []string{"/countries/SN/assessments/" + w.assessment}
		}),
		"POST /countries/:iso/assessments/:id/proposals": write,
		"GET /countries/:iso/sources/new":                probe("/countries/SN/sources/new"),
		"POST /countries/:iso/sources":                   write,
		"GET /countries/:iso/sources/:id/edit": probeWith(func(w *canaryWorld) []string {
			return []string{"/countries/SN/sources/" + w.source + "/edit"}
		}),
		"POST /countries/:iso/sources/:id/edit":   write,
		"POST /countries/:iso/sources/:id/delete": write,
		"GET /map":                        probe("/map", "/map?metric=funding", "/map?metric=projects"),
		"GET /ministry":                   probe("/ministry", "/ministry?status=submitted", "/ministry?status=draft"),
		"GET /ministry/needs/new":         probe("/ministry/needs/new"),
		"POST /ministry/needs":            write,
		"GET /ministry/needs/:id/edit":    probeWith(func(w *canaryWorld) []string { return []string{"/ministry/needs/" + w.pub + "/edit"} }),
		"POST /ministry/needs/:id/edit":   write,
		"GET /donor":                      probe("/donor"),
		"GET /donor/offers/new":           probe("/donor/offers/new"),
		"POST /donor/offers":              write,
		"GET /donor/offers/:id/edit":      probeWith(func(w *canaryWorld) []string { return []string{"/donor/offers/" + w.offer + "/edit"} }),
		"POST /donor/offers/:id/edit":     write,
		"GET /coordinator":                probe("/coordinator"),
		"GET /coordinator/weights":        probe("/coordinator/weights"),
		"POST /coordinator/weights":       write,
		"GET /coordinator/funding":        probe("/coordinator/funding"),
		"GET /coordinator/allocation":     probe("/coordinator/allocation"),
		"GET /engagements":                probe("/engagements", "/engagements?status=agreed", "/engagements?status=proposed"),
		"POST /engagements":               write,
		"GET /engagements/:id":            probeWith(func(w *canaryWorld) []string { return []string{"/engagements/" + w.pubEngagement} }),
		"POST /engagements/:id/:action":   write,
		"GET /projects":                   probe("/projects", "/projects?country=SN"),
		"POST /projects":                  {skip: "starts a project and redirects to its page, which GET /projects/:id probes"},
		"GET /projects/:id":               probeWith(func(w *canaryWorld) []string { return []string{"/projects/" + w.pubProject} }),
		"POST /projects/:id/transactions": write,
		"POST /projects/:id/status":       write,
		"POST /projects/:id/results":      write,
		"POST /projects/:id/documents":    write,
		"GET /export/iati.xml":            probe("/export/iati.xml", "/export/iati.xml?country=SN"),
		"GET /notifications":              probe("/notifications"),
		"POST /notifications/read-all":    write,
	}
	for k, v := range dataCanaryRoutes() { // open data in and out (issue 18): data_canary_test.go
		routes[k] = v
	}
	return routes
}

// registeredRoutes lists the server's routes as "METHOD pattern" (HEAD twins of GET routes
// and middleware mounts left out).
func registeredRoutes(n *node) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range n.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "CONNECT" || r.Method == "OPTIONS" || r.Method == "TRACE" {
			continue
		}
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestCanaryTableCoversEveryRoute fails when a route has no entry in canaryRoutes (probes, or
// why it has none), or an entry names no route.
func TestCanaryTableCoversEveryRoute(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	table := canaryRoutes()
	registered := map[string]bool{}
	for _, k := range registeredRoutes(n) {
		registered[k] = true
		c, ok := table[k]
		if assert.True(t, ok, "route %s has no entry in canaryRoutes (canary_test.go): give it probes, or the reason it needs none", k) {
			assert.True(t, (c.paths == nil) != (c.skip == ""), "%s: probes or a reason, not both or neither", k)
			if c.skip != "" {
				assert.False(t, strings.HasPrefix(k, "GET ") && strings.Contains(c.skip, "a write"), "%s: a GET is not a write", k)
			}
		}
	}
	for k := range table {
		assert.True(t, registered[k], "canaryRoutes names %s, which the server does not register", k)
	}
}

// canaryWorld is the fixture plus what the probes read: a public need of Senegal without a
// delivery (pub), one delivered by a project (pubDeliveredNeed, pubEngagement, pubProject:
// everyone signed in sees it, so that the duplication factor's value is already 0 before any
// canary is planted and only what is counted can change), and two open offers.
type canaryWorld struct {
	t                                                *testing.T
	n                                                *node
	f                                                *fixture
	pub, pubDeliveredNeed, pubEngagement, pubProject string
	offer, offer2                                    string
	// poc is a Point of Contact of Senegal in the baseline (so poc_nominated is already true
	// before the PoC canary), pocCheck a check that reached it, ackToken its link's token.
	poc, pocCheck, ackToken string
	// assessment is a self-assessment of Senegal and source one of its sources, planted before
	// any snapshot (the SN ministries and coordinators read the assessment; everyone the source).
	assessment, source string
	snOther            string // token
	tokens             map[string]string
	browsers           map[string]*browser
	actorOf            map[string]*models.Actor
	probes             []canaryProbe
	canaries           []canary
}

// canaryProbe is one request the test sends as each actor.
type canaryProbe struct {
	route, path string
	web         bool
}

// canary is one planted object: the actors the policy hides it from, and the tokens (id,
// title, amounts, dates) that must never reach them.
type canary struct {
	what       string
	hiddenFrom []string
	tokens     []string
	// lookups are the paths that name the object (tokens[0], its id): each answers the actors
	// it is hidden from as the same path naming a missing id does.
	lookups []string
	visible func(a *models.Actor) bool
}

// amountTokens writes an amount as the API (digits) and the web (grouped by thousands) do.
func amountTokens(v int64) []string {
	s := strconv.FormatInt(v, 10)
	var g []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			g = append(g, ',')
		}
		g = append(g, s[i])
	}
	return []string{s, string(g)}
}

func (w *canaryWorld) request(actor string, p canaryProbe) (int, string) {
	w.t.Helper()
	if p.web {
		pg := w.browsers[actor].get(p.path)
		return pg.Status, pg.Body
	}
	r := w.n.call("GET", p.path, w.tokens[actor], nil)
	return r.Status, string(r.Body)
}

// volatileJSON are response fields that change between two reads of the same data.
var volatileJSON = map[string]bool{"computed_at": true, "cached": true, "request_id": true}

// generatedAt is the IATI export's generation time; uuid a request id (web error pages quote
// it).
var (
	generatedAt = regexp.MustCompile(`generated-datetime="[^"]*"`)
	uuid        = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// normalize removes what differs between two reads of the same data.
func normalize(body string) string {
	var v any
	if json.Unmarshal([]byte(body), &v) == nil {
		var strip func(any) any
		strip = func(x any) any {
			switch t := x.(type) {
			case map[string]any:
				for k := range t {
					if volatileJSON[k] {
						delete(t, k)
					} else {
						t[k] = strip(t[k])
					}
				}
			case []any:
				for i := range t {
					t[i] = strip(t[i])
				}
			}
			return x
		}
		b, _ := json.Marshal(strip(v))
		return string(b)
	}
	return uuid.ReplaceAllString(generatedAt.ReplaceAllString(body, `generated-datetime=""`), "<request id>")
}

// snapshot reads every probe as every canary actor.
func (w *canaryWorld) snapshot() map[string]string {
	out := map[string]string{}
	for _, a := range canaryActors {
		for _, p := range w.probes {
			status, body := w.request(a, p)
			require.Less(w.t, status, 500, "%s GET %s: %s", a, p.path, body)
			out[a+" "+p.path] = strconv.Itoa(status) + "\n" + normalize(body)
		}
	}
	return out
}

// firstDifference shows where two answers part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("before: …%s…\n after: …%s…", a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
}

func newCanaryWorld(t *testing.T) *canaryWorld {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	w := &canaryWorld{t: t, n: n, f: f, tokens: map[string]string{}, browsers: map[string]*browser{}, actorOf: map[string]*models.Actor{}}
	org, err := n.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Ministry of Digital Economy of Senegal",
		Type: models.OrgGovernment, Country: "SN"})
	require.NoError(t, err)
	_, err = n.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: "digital@gouv.sn.example", Password: pw,
		Name: "Digital", Role: models.RoleMinistry, OrganizationID: org.ID})
	require.NoError(t, err)
	w.snOther, _ = n.login("digital@gouv.sn.example", pw)
	aw := &authzWorld{t: t, n: n, f: f}
	emails := map[string]string{"snOther": "digital@gouv.sn.example", "anon": ""}
	for _, a := range actors[1:] {
		w.tokens[a] = aw.token(a)
		emails[a] = aw.account(a).Email
	}
	w.tokens["snOther"] = w.snOther
	for _, a := range canaryActors {
		w.browsers[a] = n.browser(t, emails[a])
		if a != "anon" {
			act, err := n.app.Auth.Authenticate(ctx, w.tokens[a])
			require.NoError(t, err)
			w.actorOf[a] = &act
		}
	}

	// The baseline: what everyone may see.
	w.offer = n.newOffer(t, "open")
	r := n.call("POST", "/api/v1/offers", f.donor2.Token, offerBody("Pan-African incident response fund"))
	require.Equal(t, 201, r.Status, string(r.Body))
	w.offer2 = r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+w.offer2+"/publish", f.donor2.Token, nil).Status)
	w.pub = n.newNeed(t, "open", "public")
	w.pubDeliveredNeed, w.pubEngagement, w.pubProject = n.deliver(t, "public", "Open CSIRT build")
	require.Equal(t, 201, n.call("POST", "/api/v1/projects/"+w.pubProject+"/transactions", f.donor.Token,
		map[string]any{"type": "commitment", "amount_usd": 150000, "date": "2025-03-02"}).Status)
	fj := needBody(f, "ministry", "Fiji national CSIRT")
	fj["country"] = "FJ"
	r = n.call("POST", "/api/v1/needs", f.ministry2.Token, fj)
	require.Equal(t, 201, r.Status, string(r.Body))
	r = n.call("POST", "/api/v1/countries/SN/assessments", f.ministry.Token, assessmentBody(noCERT))
	require.Equal(t, 201, r.Status, string(r.Body))
	w.assessment = r.json(t)["id"].(string)
	r = n.call("POST", "/api/v1/countries/SN/sources", f.ministry.Token, map[string]any{"kind": "cert_website", "title": "CERT-SN",
		"url": "https://cert.example.sn/", "language": "fr"})
	require.Equal(t, 201, r.Status, string(r.Body))
	w.source = r.json(t)["id"].(string)

	w.poc = n.newPoC(t, f.ministry.Token, "SN", pocBody("diplomatic", "Baseline diplomat", "baseline.diplomat@mfa.sn.example"))
	r = n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"countries": []string{"SN"}})
	require.Equal(t, 201, r.Status, string(r.Body))
	w.pocCheck = r.json(t)["id"].(string)
	chk, err := n.store.GetPoCCheck(ctx, w.pocCheck)
	require.NoError(t, err)
	w.ackToken = n.app.PoCChecks.Token(chk, w.poc)
	require.Eventually(t, func() bool { // the e-mail was written and recorded: nothing moves any more
		c, err := n.store.GetPoCCheck(ctx, w.pocCheck)
		return err == nil && c.Targets[0].Contacts[0].Mail == models.MailSent
	}, 10*time.Second, 20*time.Millisecond)

	table := canaryRoutes()
	for _, k := range registeredRoutes(n) {
		c, ok := table[k]
		if !ok || c.paths == nil {
			continue // TestCanaryTableCoversEveryRoute reports a missing entry
		}
		pattern := strings.TrimPrefix(k, "GET ")
		for _, p := range c.paths(w) {
			w.probes = append(w.probes, canaryProbe{route: k, path: p, web: !strings.HasPrefix(pattern, "/api/")})
		}
	}
	require.Greater(t, len(w.probes), 80)
	return w
}

// needCanary creates a need of the SN ministry through the API with a distinctive title,
// budget and start, and moves it to status (draft, submitted, open, withdrawn).
func (w *canaryWorld) needCanary(title, visibility, status string, budget int64, start string) *models.Need {
	t, n, f := w.t, w.n, w.f
	t.Helper()
	b := needBody(f, "ministry", title)
	b["visibility"], b["budget_usd"], b["start_by"], b["duration_months"] = visibility, budget, start, 17
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	step := func(token, action string, body any) {
		r := n.call("POST", "/api/v1/needs/"+id+"/"+action, token, body)
		require.Equal(t, 200, r.Status, "%s: %s", action, r.Body)
	}
	switch status {
	case "draft":
	case "submitted":
		step(f.ministry.Token, "submit", nil)
	case "open":
		step(f.ministry.Token, "submit", nil)
		step(f.coord.Token, "approve", nil)
	case "withdrawn":
		step(f.ministry.Token, "submit", nil)
		step(f.ministry.Token, "withdraw", map[string]string{"reason": "merged into another request"})
	}
	nd, ok := n.storedNeed(id)
	require.True(t, ok)
	return nd
}

// plantDelivery writes an agreed engagement between a need and the world's offer straight into
// the store (with a project when prj is set), moves the need to matched or in progress, and
// lets the node load them as a replica does when another announces them (stacktest.Reload).
// The offer is left as it was: what an offer shows of its commitments is issue 13.4's other half, so nothing anyone may see changes here
// but what derives from the canaries.
func (w *canaryWorld) plantDelivery(need *models.Need, budget int64, prj *models.Project) *models.Engagement {
	t := w.t
	ctx := context.Background()
	store := w.n.store
	offer, err := store.GetOffer(ctx, w.offer)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := &models.Engagement{ID: "eng-" + models.NewID(now), NeedID: need.ID, OfferID: offer.ID, NeedOrgID: need.OrganizationID,
		OfferOrgID: offer.OrganizationID, Country: need.Country, Capability: need.Capability, ProposedBy: models.SideNeed,
		Status: models.EngagementAgreed, BudgetUSD: budget, StartDate: need.StartBy, EndDate: need.StartBy.AddMonths(need.DurationMonths),
		Messages: []models.EngagementMessage{}, CreatedBy: w.f.ministry.ID, CreatedAt: now, UpdatedAt: now, DecidedAt: &now, Version: 1}
	status := models.NeedMatched
	if prj != nil {
		donor, err := store.GetOrg(ctx, offer.OrganizationID)
		require.NoError(t, err)
		ministry, err := store.GetOrg(ctx, need.OrganizationID)
		require.NoError(t, err)
		prj.ID, prj.EngagementID, prj.NeedID, prj.OfferID = "prj-"+models.NewID(now), e.ID, need.ID, offer.ID
		prj.Country, prj.Theme, prj.Capability, prj.Maturity = need.Country, need.Theme, need.Capability, need.Maturity
		prj.DonorOrgID, prj.ImplementerID, prj.NeedOrgID = donor.ID, donor.ID, ministry.ID
		prj.Participants = []models.Participant{
			{OrganizationID: donor.ID, Name: donor.Name, Role: models.RoleFunding, Type: donor.IATIType},
			{OrganizationID: donor.ID, Name: donor.Name, Role: models.RoleExtending, Type: donor.IATIType},
			{OrganizationID: donor.ID, Name: donor.Name, Role: models.RoleImplementing, Type: donor.IATIType},
			{OrganizationID: ministry.ID, Name: ministry.Name, Role: models.RoleAccountable, Type: "10"},
		}
		prj.Status, prj.ActualStart = models.StatusImplementation, prj.PlannedStart
		prj.Results, prj.Documents = []models.Result{}, []models.Document{}
		for i := range prj.Transactions {
			prj.Transactions[i].ID, prj.Transactions[i].CreatedBy, prj.Transactions[i].CreatedAt = models.NewID(now), w.f.donor.ID, now
		}
		prj.CreatedBy, prj.CreatedAt, prj.UpdatedAt, prj.Version = w.f.donor.ID, now, now, 1
		e.ProjectID = prj.ID
		status = models.NeedInProgress
	}
	require.NoError(t, store.CreateEngagement(ctx, e))
	if prj != nil {
		require.NoError(t, store.CreateProject(ctx, prj))
	}
	next := *need
	next.Status, next.EngagementID, next.Version, next.UpdatedAt = status, e.ID, need.Version+1, now
	require.NoError(t, store.ReplaceNeed(ctx, &next, need.Version))
	// The replica reads them back as when another announces them; the engagement last, so
	// that the rankings' deliveries are recomputed with everything in place.
	w.n.stack.Reload(ctx, models.EventNeed, next.ID)
	if prj != nil {
		w.n.stack.Reload(ctx, models.EventProject, prj.ID)
	}
	w.n.stack.Reload(ctx, models.EventEngagement, e.ID)
	return e
}

// needTokens are what a hidden need must never show.
func needTokens(n *models.Need) []string {
	return append([]string{n.ID, n.Title, string(n.StartBy)}, amountTokens(n.BudgetUSD)...)
}

func (w *canaryWorld) needCanaryOf(n *models.Need, hiddenFrom ...string) canary {
	return canary{what: "need " + n.Title, hiddenFrom: hiddenFrom, tokens: needTokens(n),
		lookups: []string{"/api/v1/needs/" + n.ID, "/api/v1/needs/" + n.ID + "/matches", "/needs/" + n.ID, "/ministry/needs/" + n.ID + "/edit"},
		visible: func(a *models.Actor) bool { cur, _ := w.n.storedNeed(n.ID); return models.CanSeeNeed(a, cur) }}
}

func (w *canaryWorld) engagementCanary(e *models.Engagement, hiddenFrom ...string) canary {
	return canary{what: "engagement of " + e.NeedID, hiddenFrom: hiddenFrom,
		tokens:  append([]string{e.ID, string(e.EndDate)}, amountTokens(e.BudgetUSD)...),
		lookups: []string{"/api/v1/engagements/" + e.ID, "/engagements/" + e.ID},
		visible: func(a *models.Actor) bool { return models.CanSeeEngagement(a, e) }}
}

func (w *canaryWorld) projectCanary(p *models.Project, hiddenFrom ...string) canary {
	tokens := append([]string{p.ID, p.Title, string(p.PlannedStart), string(p.PlannedEnd)}, amountTokens(p.BudgetUSD)...)
	for _, tx := range p.Transactions {
		tokens = append(tokens, amountTokens(tx.AmountUSD)...)
	}
	return canary{what: "project " + p.Title, hiddenFrom: hiddenFrom, tokens: tokens,
		lookups: []string{"/api/v1/projects/" + p.ID, "/projects/" + p.ID},
		visible: func(a *models.Actor) bool { n, _ := w.n.storedNeed(p.NeedID); return models.CanSeeProject(a, p, n) }}
}

// canarySet is a group of canaries planted together, and the actors who may see none of them
// (whose every answer must be the same before and after).
type canarySet struct {
	name      string
	forbidden []string
	plant     func(w *canaryWorld) []canary
}

func canarySets() []canarySet {
	project := func(title string, budget, tx int64, from, to string) *models.Project {
		return &models.Project{Title: title, BudgetUSD: budget, PlannedStart: models.Date(from), PlannedEnd: models.Date(to),
			Transactions: []models.Transaction{{Type: models.TxCommitment, AmountUSD: tx, Date: models.Date(from)}}}
	}
	return []canarySet{
		{name: "restricted needs, their engagement and project", forbidden: []string{"anon", "ministry2", "donor2"},
			plant: func(w *canaryWorld) []canary {
				hidden := []string{"anon", "ministry2", "donor2"}
				nr := w.needCanary("Canary restricted CSIRT", "restricted", "open", 4_613_297, "2027-02-13")
				prj := project("Canary restricted CSIRT project", 6_271_339, 1_379_113, "2027-04-17", "2028-06-19")
				w.plantDelivery(nr, 2_143_907, prj)
				nr2 := w.needCanary("Canary restricted incident desk", "restricted", "open", 4_613_311, "2027-02-19")
				e2 := w.plantDelivery(nr2, 2_143_911, nil)
				return []canary{w.needCanaryOf(nr, hidden...), w.needCanaryOf(nr2, hidden...), w.projectCanary(prj, hidden...),
					w.engagementCanary(e2, hidden...)}
			}},
		{name: "donors-only needs, their engagement and project", forbidden: []string{"anon", "ministry2"},
			plant: func(w *canaryWorld) []canary {
				hidden := []string{"anon", "ministry2"}
				nd := w.needCanary("Canary donors-only CSIRT", "donors", "open", 5_827_143, "2027-02-23")
				prj := project("Canary donors-only CSIRT project", 6_271_351, 1_379_127, "2027-04-23", "2028-06-29")
				w.plantDelivery(nd, 2_143_919, prj)
				nd2 := w.needCanary("Canary donors-only incident desk", "donors", "open", 5_827_159, "2027-02-27")
				e2 := w.plantDelivery(nd2, 2_143_923, nil)
				return []canary{w.needCanaryOf(nd, hidden...), w.needCanaryOf(nd2, hidden...), w.projectCanary(prj, hidden...),
					// The engagement has no project: donors see its need, not the engagement.
					w.engagementCanary(e2, "anon", "ministry2", "donor2")}
			}},
		{name: "needs awaiting approval, drafts and withdrawn needs", forbidden: []string{"anon", "ministry2", "snOther", "donor", "donor2"},
			plant: func(w *canaryWorld) []canary {
				hidden := []string{"anon", "ministry2", "snOther", "donor", "donor2"}
				var out []canary
				for i, st := range []string{"submitted", "draft", "withdrawn"} {
					nd := w.needCanary("Canary "+st+" CSIRT", "public", st, 3_915_443+int64(i)*14, fmt.Sprintf("2027-03-%02d", 11+2*i))
					out = append(out, w.needCanaryOf(nd, hidden...))
				}
				return out
			}},
		{name: "a proposal on a public need", forbidden: []string{"anon", "ministry2", "snOther", "donor2"},
			plant: func(w *canaryWorld) []canary {
				r := w.n.call("POST", "/api/v1/engagements", w.f.ministry.Token, map[string]any{"need_id": w.pub, "offer_id": w.offer,
					"budget_usd": 1_143_931, "message": "Canary proposal message"})
				require.Equal(w.t, 201, r.Status, string(r.Body))
				e, err := w.n.store.GetEngagement(context.Background(), r.json(w.t)["id"].(string))
				require.NoError(w.t, err)
				c := w.engagementCanary(e, "anon", "ministry2", "snOther", "donor2")
				c.tokens = append([]string{e.ID, "Canary proposal message"}, amountTokens(e.BudgetUSD)...)
				return []canary{c}
			}},
		{name: "a Point of Contact of Senegal", forbidden: []string{"anon", "ministry2", "donor", "donor2"},
			plant: func(w *canaryWorld) []canary {
				// Personal data: seen by Senegal's ministries (snOther too) and coordinators only.
				id := w.n.newPoC(w.t, w.f.ministry.Token, "SN", map[string]any{"kind": "technical", "name": "Canary Ndeye Sokhna",
					"role": "Canary incident handler", "organization": "Canary CSIRT", "email": "canary.sokhna@cert.sn.example",
					"phone": "+221 77 613 29 47", "languages": []string{"wo", "fr"}})
				return []canary{{what: "PoC Canary Ndeye Sokhna", hiddenFrom: []string{"anon", "ministry2", "donor", "donor2"},
					tokens:  []string{id, "Canary Ndeye Sokhna", "canary.sokhna@cert.sn.example", "+221776132947", "Canary incident handler", "Canary CSIRT"},
					lookups: []string{"/api/v1/countries/SN/pocs/" + id, "/countries/SN/pocs/" + id + "/edit"},
					visible: func(a *models.Actor) bool {
						if a == nil {
							return false
						}
						pocOf, err := w.n.app.PoCs.PoCOf(context.Background(), a)
						require.NoError(w.t, err)
						return models.CanSeePoCs(a, "SN", pocOf)
					}}}
			}},
		{name: "a self-assessment of Senegal", forbidden: []string{"anon", "ministry2", "donor", "donor2"},
			plant: func(w *canaryWorld) []canary {
				// The same answers as the world's assessment, so that the readiness (public) does not
				// change and no new need is proposed: only the assessment itself is new.
				b := assessmentBody(noCERT)
				b["comments"] = map[string]string{"cert_exists": "Canary CERT decree pending", "legal_position": "Canary legal drafting team"}
				r := w.n.call("POST", "/api/v1/countries/SN/assessments", w.f.ministry.Token, b)
				require.Equal(w.t, 201, r.Status, string(r.Body))
				v := r.json(w.t)
				require.Nil(w.t, v["readiness_changes"])
				id := v["id"].(string)
				return []canary{{what: "self-assessment " + id, hiddenFrom: []string{"anon", "ministry2", "donor", "donor2"},
					tokens:  []string{id, "Canary CERT decree pending", "Canary legal drafting team"},
					lookups: []string{"/api/v1/countries/SN/assessments/" + id, "/countries/SN/assessments/" + id},
					visible: func(a *models.Actor) bool { return models.CanSeeAssessments(a, "SN") }}}
			}},
		{name: "a draft offer", forbidden: []string{"anon", "ministry2", "snOther", "donor2"},
			plant: func(w *canaryWorld) []canary {
				b := offerBody("Canary draft programme")
				b["budget_usd"], b["available_from"] = 3_331_819, "2027-01-19"
				r := w.n.call("POST", "/api/v1/offers", w.f.donor.Token, b)
				require.Equal(w.t, 201, r.Status, string(r.Body))
				o, err := w.n.store.GetOffer(context.Background(), r.json(w.t)["id"].(string))
				require.NoError(w.t, err)
				return []canary{{what: "offer " + o.Title, hiddenFrom: []string{"anon", "ministry2", "snOther", "donor2"},
					tokens:  append([]string{o.ID, o.Title, string(o.AvailableFrom)}, amountTokens(o.BudgetUSD)...),
					lookups: []string{"/api/v1/offers/" + o.ID, "/api/v1/offers/" + o.ID + "/matches", "/offers/" + o.ID, "/donor/offers/" + o.ID + "/edit"},
					visible: func(a *models.Actor) bool { return models.CanSeeOffer(a, o) }}}
			}},
	}
}

// TestDerivedViewsNeverRevealHiddenCanaries is the canary test described at the top of this
// file.
func TestDerivedViewsNeverRevealHiddenCanaries(t *testing.T) {
	w := newCanaryWorld(t)
	before := w.snapshot()
	for _, set := range canarySets() {
		planted := set.plant(w)
		// The policy agrees with the set: each canary is hidden from the actors it names.
		for _, c := range planted {
			for _, a := range c.hiddenFrom {
				require.False(t, c.visible(w.actorOf[a]), "%s: the policy shows %s to %s", set.name, c.what, a)
			}
		}
		w.canaries = append(w.canaries, planted...)
		after := w.snapshot()
		for _, a := range set.forbidden {
			for _, p := range w.probes {
				k := a + " " + p.path
				if before[k] != after[k] {
					t.Errorf("planting %s changed what %s reads at GET %s (%s):\n%s", set.name, a, p.path, p.route, firstDifference(before[k], after[k]))
				}
			}
		}
		before = after
	}

	// No answer carries a token of a canary hidden from its reader.
	for _, c := range w.canaries {
		for _, a := range c.hiddenFrom {
			for _, p := range w.probes {
				body := before[a+" "+p.path]
				for _, tok := range c.tokens {
					if i := strings.Index(body, tok); i >= 0 {
						t.Errorf("%s reads %q of the hidden %s at GET %s: …%s…", a, tok, c.what, p.path, body[max(0, i-150):min(len(body), i+len(tok)+80)])
					}
				}
			}
			// Looking the canary up answers exactly as looking up an id that does not exist.
			missing := models.NewID(time.Now())
			for _, path := range c.lookups {
				web := !strings.HasPrefix(path, "/api/")
				status, body := w.request(a, canaryProbe{path: path, web: web})
				absentStatus, absent := w.request(a, canaryProbe{path: strings.ReplaceAll(path, c.tokens[0], missing), web: web})
				assert.Equal(t, absentStatus, status, "%s GET %s", a, path)
				assert.Equal(t, normalize(absent), normalize(strings.ReplaceAll(body, c.tokens[0], missing)), "%s GET %s", a, path)
			}
		}
	}
	t.Logf("%d probes × %d actors, %d canaries", len(w.probes), len(canaryActors), len(w.canaries))
}
