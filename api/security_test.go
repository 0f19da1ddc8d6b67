package api

// Security tests that close the gaps SECURITY.md's OWASP API Security Top 10 (2023) mapping
// found: response headers on every kind of response, the same-origin (no CORS) policy,
// server-owned fields in every write body, pagination and body limits, compressed bodies,
// the per-address sign-in limit, 500s that keep internals in the log, disabled users'
// tokens, hidden objects that look exactly like missing ones, and the SSRF policy as the API
// applies it with production settings.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/webhooks"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/capmatch/capmatch/web"
	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secCall sends a request with arbitrary headers and a raw body, which node.call cannot.
func (n *node) secCall(method, path, token string, headers map[string]string, body io.Reader) resp {
	t := n.env.t
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return n.send(req)
}

// TestSecurityHeadersOnEveryKindOfResponse checks the headers every response carries (API
// JSON, problem+json errors of every class, docs, static files, web pages and the web's error
// page), the pages' stricter CSP, and HSTS on HTTPS only.
func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	html := map[string]string{"Accept": "text/html"}
	cases := []struct {
		name, method, path, token string
		headers                   map[string]string
		status                    int
		page                      bool // a web UI page: the UI's own, stricter CSP
	}{
		{"public API JSON", "GET", "/api/v1/catalogue", "", nil, 200, false},
		{"signed-in API JSON", "GET", "/api/v1/me", f.ministry.Token, nil, 200, false},
		{"401 problem", "GET", "/api/v1/me", "", nil, 401, false},
		{"403 problem", "GET", "/api/v1/users", f.donor.Token, nil, 403, false},
		{"404 problem", "GET", "/api/v1/needs/nosuchneed", f.ministry.Token, nil, 404, false},
		{"422 problem", "GET", "/api/v1/needs?limit=101", f.ministry.Token, nil, 422, false},
		{"unknown API route", "GET", "/api/v1/nowhere", "", nil, 404, false},
		{"liveness", "GET", "/healthz", "", nil, 200, false},
		{"OpenAPI document", "GET", "/api/v1/openapi.json", "", nil, 200, false},
		{"docs page", "GET", "/docs", "", nil, 200, false},
		{"static file", "GET", "/static/css/site.css", "", nil, 200, false},
		{"web home page", "GET", "/", "", html, 200, true},
		{"web sign-in page", "GET", "/signin", "", html, 200, true},
		{"web error page", "GET", "/no-such-page", "", html, 404, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.secCall(tc.method, tc.path, tc.token, tc.headers, nil)
			require.Equal(t, tc.status, r.Status, string(r.Body))
			h := r.Header
			assert.Equal(t, "nosniff", h["X-Content-Type-Options"])
			assert.Contains(t, []string{"DENY", "SAMEORIGIN"}, h["X-Frame-Options"])
			assert.Equal(t, "strict-origin-when-cross-origin", h["Referrer-Policy"])
			assert.Equal(t, "same-origin", h["Cross-Origin-Opener-Policy"])
			assert.Equal(t, "same-origin", h["Cross-Origin-Resource-Policy"])
			assert.Equal(t, "none", h["X-Permitted-Cross-Domain-Policies"])
			assert.NotEmpty(t, h["X-Request-Id"])
			assert.Empty(t, h["Server"], "no server banner")
			assert.Empty(t, h["X-Powered-By"])
			assert.Empty(t, h["Access-Control-Allow-Origin"], "no CORS grant")
			assert.Empty(t, h["Strict-Transport-Security"], "HSTS only over HTTPS (RFC 6797 §7.2)")

			csp := h["Content-Security-Policy"]
			assert.Contains(t, csp, "frame-ancestors 'none'")
			assert.NotContains(t, csp, "unsafe-eval")
			assert.NotContains(t, cspDirective(csp, "script-src"), "unsafe-inline", "no inline script anywhere")
			if tc.page {
				assert.Equal(t, web.ContentSecurityPolicy, csp, "pages send the UI's own policy")
				assert.NotContains(t, csp, "unsafe-inline", "pages allow no inline style either")
				assert.Contains(t, csp, "default-src 'none'")
				assert.Contains(t, csp, "form-action 'self'")
			} else {
				assert.Equal(t, contentSecurityPolicy, csp)
			}
		})
	}

	// Behind a TLS-terminating proxy (X-Forwarded-Proto: https) or over TLS, HSTS is sent, for
	// a year and for subdomains, on API and page responses alike.
	for _, p := range []struct {
		path    string
		headers map[string]string
	}{
		{"/api/v1/catalogue", map[string]string{"X-Forwarded-Proto": "https"}},
		{"/signin", map[string]string{"X-Forwarded-Proto": "https", "Accept": "text/html"}},
	} {
		r := n.secCall("GET", p.path, "", p.headers, nil)
		require.Equal(t, 200, r.Status, p.path)
		assert.Equal(t, "max-age=31536000; includeSubDomains", r.Header["Strict-Transport-Security"], p.path)
	}

	// Answers that carry credentials are never stored by a cache.
	r := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": pw})
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "no-store", r.Header["Cache-Control"])
	r = n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": f.coord.Refresh})
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "no-store", r.Header["Cache-Control"])
}

// cspDirective returns one directive of a Content-Security-Policy ("" when absent).
func cspDirective(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if d == name || strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

// TestCrossOriginRequestsGetNoCORSGrant pins the CORS policy: the API is same-origin. No
// response grants another origin anything, so a page on another site can neither read an API
// answer nor send a preflighted request (JSON, or any Authorization header); the "simple"
// requests a browser sends without asking (text/plain, form bodies) are refused with 415, and
// the web UI refuses cross-site form posts.
func TestCrossOriginRequestsGetNoCORSGrant(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	corsHeaders := []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"}
	noGrant := func(t *testing.T, r resp) {
		t.Helper()
		for _, h := range corsHeaders {
			assert.Empty(t, r.Header[h], h)
		}
	}
	for _, origin := range []string{"https://evil.example", "null", "http://localhost:3000"} {
		t.Run("preflight from "+origin, func(t *testing.T) {
			for _, path := range []string{"/api/v1/needs", "/api/v1/auth/login", "/api/v1/users/" + f.coord.ID + "/disable"} {
				r := n.secCall("OPTIONS", path, "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
					"Access-Control-Request-Headers": "authorization, content-type"}, nil)
				noGrant(t, r)
				assert.Equal(t, 405, r.Status, "%s: a preflight is never approved (problem+json, Allow lists the real methods)", path)
			}
		})
		t.Run("reads from "+origin, func(t *testing.T) {
			r := n.secCall("GET", "/api/v1/needs", f.coord.Token, map[string]string{"Origin": origin}, nil)
			assert.Equal(t, 200, r.Status, "the server answers; the browser withholds the body from the other origin")
			noGrant(t, r)
			r = n.secCall("GET", "/api/v1/catalogue", "", map[string]string{"Origin": origin}, nil)
			assert.Equal(t, 200, r.Status)
			noGrant(t, r)
		})
	}
	// Simple requests need no preflight: they must not get through with another content type.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		r := n.secCall("POST", "/api/v1/auth/login", "", map[string]string{"Origin": "https://evil.example", "Content-Type": ct},
			strings.NewReader(`{"email":"`+f.donor.Email+`","password":"`+pw+`"}`))
		assert.Equal(t, 415, r.Status, ct)
		r.problem(t)
		noGrant(t, r)
	}
	// The web UI's forms: a cross-site post is refused before the CSRF token is looked at.
	form := url.Values{"email": {f.donor.Email}, "password": {pw}}
	r := n.secCall("POST", "/signin", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "Accept": "text/html"}, strings.NewReader(form.Encode()))
	assert.Equal(t, 403, r.Status)
	noGrant(t, r)
}

// TestServerOwnedFieldsAreNeverTakenFromABody sends, to every write endpoint, a body that
// names a field the server owns (ids, status, owner, counters, timestamps, secrets' state):
// each is a 400 naming the field, and nothing is stored. TestHostileInputsChangeNothing
// (validation_test.go) covers the same for needs, offers and readiness in more depth.
func TestServerOwnedFieldsAreNeverTakenFromABody(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	draft := n.newNeed(t, "draft", "public")
	offer := n.newOffer(t, "draft")
	project := n.newProject(t)
	openNeed := n.newNeed(t, "open", "public")
	openOffer := n.newOffer(t, "open")

	plus := func(b map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range b {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	user := map[string]any{"email": "new.officer@donor.example", "password": pw, "name": "New", "role": "donor", "organization_id": f.donorOrg}
	org := map[string]any{"name": "Cyber Fund", "type": "donor"}
	importedOffer := plus(offerBody("Imported"), "organization_id", f.donorOrg)
	cases := []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"user disabled flag", "POST", "/api/v1/users", f.admin.Token, plus(user, "disabled", false), "disabled"},
		{"user password hash", "POST", "/api/v1/users", f.admin.Token, plus(user, "password_hash", "$argon2id$v=19$..."), "password_hash"},
		{"user id", "POST", "/api/v1/users", f.admin.Token, plus(user, "id", "chosen"), "id"},
		{"user country", "POST", "/api/v1/users", f.admin.Token, plus(user, "country", "SN"), "country"},
		{"user created_at", "POST", "/api/v1/users", f.admin.Token, plus(user, "created_at", "2020-01-01T00:00:00Z"), "created_at"},
		{"organization webhook", "POST", "/api/v1/organizations", f.coord.Token, plus(org, "webhook", map[string]any{"url": "https://x.example"}), "webhook"},
		{"organization version", "POST", "/api/v1/organizations", f.coord.Token, plus(org, "version", 7), "version"},
		{"need owner", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"organization_id": f.fjOrg}, "organization_id"},
		{"need creator", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"created_by": f.coord.ID}, "created_by"},
		{"need engagement", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"engagement_id": "e1"}, "engagement_id"},
		{"need status reason", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"status_reason": "approved"}, "status_reason"},
		{"need owner on create", "POST", "/api/v1/needs", f.ministry.Token, plus(needBody(f, "ministry", "Mine"), "organization_id", f.fjOrg), ""},
		{"offer slots used", "POST", "/api/v1/offers", f.donor.Token, plus(offerBody("x"), "engagements_used", 0), "engagements_used"},
		{"offer budget committed", "POST", "/api/v1/offers", f.donor.Token, plus(offerBody("x"), "budget_committed_usd", 0), "budget_committed_usd"},
		{"offer creator", "POST", "/api/v1/offers", f.donor.Token, plus(offerBody("x"), "created_by", f.donor2.ID), "created_by"},
		{"offer patch status", "PATCH", "/api/v1/offers/" + offer, f.donor.Token, map[string]any{"status": "open"}, "status"},
		{"offer patch owner", "PATCH", "/api/v1/offers/" + offer, f.donor.Token, map[string]any{"organization_id": f.donor2Org}, "organization_id"},
		{"offer patch committed", "PATCH", "/api/v1/offers/" + offer, f.donor.Token, map[string]any{"budget_committed_usd": 0}, "budget_committed_usd"},
		{"engagement status", "POST", "/api/v1/engagements", f.ministry.Token,
			map[string]any{"need_id": openNeed, "offer_id": openOffer, "message": "hi", "status": "agreed"}, "status"},
		{"engagement proposer", "POST", "/api/v1/engagements", f.ministry.Token,
			map[string]any{"need_id": openNeed, "offer_id": openOffer, "message": "hi", "proposed_by": f.donor.ID}, "proposed_by"},
		{"project status", "PATCH", "/api/v1/projects/" + project, f.donor.Token, map[string]any{"status": 4}, "status"},
		{"project funding", "PATCH", "/api/v1/projects/" + project, f.donor.Token, map[string]any{"funding": map[string]any{"gap": 0}}, "funding"},
		{"transaction id", "POST", "/api/v1/projects/" + project + "/transactions", f.donor.Token,
			map[string]any{"type": "commitment", "amount_usd": 1000, "date": "2027-03-01", "id": "t1"}, "id"},
		{"transaction recorder", "POST", "/api/v1/projects/" + project + "/transactions", f.donor.Token,
			map[string]any{"type": "commitment", "amount_usd": 1000, "date": "2027-03-01", "recorded_by": f.coord.ID}, "recorded_by"},
		{"import need status", "POST", "/api/v1/import/needs", f.coord.Token, []any{plus(needBody(f, "coordinator", "Imp"), "status", "fulfilled")}, "rows[0].status"},
		{"import need id", "POST", "/api/v1/import/needs", f.coord.Token, []any{plus(needBody(f, "coordinator", "Imp"), "id", "chosen")}, "rows[0].id"},
		{"import offer slots", "POST", "/api/v1/import/offers", f.coord.Token, []any{plus(importedOffer, "engagements_used", 3)}, "rows[0].engagements_used"},
		{"webhook secret state", "PUT", "/api/v1/organizations/" + f.donorOrg + "/webhook", f.donor.Token,
			map[string]any{"url": "https://hooks.example.org/x", "secret": "a long random shared secret", "secret_set": true}, "secret_set"},
		{"login role", "POST", "/api/v1/auth/login", "", map[string]any{"email": f.donor.Email, "password": pw, "role": "admin"}, "role"},
	}
	needsBefore, offersBefore := e.storeCounts(t)
	usersBefore := len(n.call("GET", "/api/v1/users", f.admin.Token, nil).json(t)["items"].([]any))
	orgsBefore := len(n.call("GET", "/api/v1/organizations", f.admin.Token, nil).json(t)["items"].([]any))
	draftBefore := n.call("GET", "/api/v1/needs/"+draft, f.ministry.Token, nil).Body
	offerBefore := n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).Body
	projectBefore := n.call("GET", "/api/v1/projects/"+project, f.donor.Token, nil).Body
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.call(tc.method, tc.path, tc.token, tc.body)
			if tc.field == "" {
				// A ministry's need is always its own organization's: naming another is refused.
				assert.Contains(t, []int{400, 403}, r.Status, string(r.Body))
				r.problem(t)
				return
			}
			require.Equal(t, 400, r.Status, string(r.Body))
			var fields []string
			for _, fe := range r.problem(t).Errors {
				fields = append(fields, fe.Field)
			}
			assert.Contains(t, fields, tc.field)
		})
	}
	needsAfter, offersAfter := e.storeCounts(t)
	assert.Equal(t, needsBefore, needsAfter, "no need stored")
	assert.Equal(t, offersBefore, offersAfter, "no offer stored")
	assert.Len(t, n.call("GET", "/api/v1/users", f.admin.Token, nil).json(t)["items"].([]any), usersBefore, "no user stored")
	assert.Len(t, n.call("GET", "/api/v1/organizations", f.admin.Token, nil).json(t)["items"].([]any), orgsBefore, "no organization stored")
	assert.Equal(t, string(draftBefore), string(n.call("GET", "/api/v1/needs/"+draft, f.ministry.Token, nil).Body))
	assert.Equal(t, string(offerBefore), string(n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).Body))
	assert.Equal(t, string(projectBefore), string(n.call("GET", "/api/v1/projects/"+project, f.donor.Token, nil).Body))
	eng := n.call("GET", "/api/v1/engagements?need_id="+openNeed, f.coord.Token, nil).json(t)["items"]
	assert.Empty(t, eng, "no engagement stored")
	r := n.call("GET", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, nil)
	assert.NotEqual(t, 200, r.Status, "no webhook stored: %s", r.Body)
	// Problems name the refused field (so "password_hash" appears) but never echo a value.
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.seen {
		for _, v := range []string{pw, "$argon2id$", "a long random shared secret"} {
			assert.NotContains(t, b, v, "a response echoes a value sent")
		}
	}
}

// TestResponsesExposeOnlyKnownProperties lists the properties each kind of object shows. A new
// field on a model struct is exposed by default in Go's JSON; this test makes exposing one a
// decision (OWASP API3: excessive data exposure).
func TestResponsesExposeOnlyKnownProperties(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	allowed := map[string][]string{
		"need": {"id", "title", "description", "country", "theme", "capability", "modalities", "languages", "budget_usd", "start_by",
			"duration_months", "priority", "maturity", "visibility", "status", "status_reason", "organization_id", "created_by",
			"created_at", "updated_at", "version", "engagement_id", "gen", "organization_name", "proposal"},
		// A Point of Contact (for those who may see it): never its linked account or nominating
		// organization, only whether it is linked.
		"poc": {"id", "kind", "name", "role", "organization", "email", "phone", "languages", "linked", "created_at", "updated_at", "version"},
		"offer": {"id", "title", "description", "themes", "capabilities", "modalities", "languages", "eligible_countries",
			"eligible_regions", "budget_usd", "max_engagements", "available_from", "available_until", "status", "status_reason",
			"engagements_used", "engagements_remaining", "budget_remaining_usd", "organization_id", "created_by", "created_at", "updated_at",
			"version", "gen", "organization_name", "contact_name", "contact_email"},
		"user": {"id", "email", "name", "role", "organization_id", "country", "disabled", "must_change_password", "lang", "created_at",
			"updated_at", "version"},
		"organization": {"id", "name", "type", "country", "iati_ref", "iati_type", "created_at", "updated_at", "version"},
		"token pair":   {"access_token", "refresh_token", "token_type", "expires_in"},
	}
	got := map[string]map[string]any{}
	get := func(kind, path, token string) {
		r := n.call("GET", path, token, nil)
		require.Equal(t, 200, r.Status, "%s: %s", path, r.Body)
		got[kind+" "+path] = r.json(t)
	}
	get("need", "/api/v1/needs/"+need, f.donor.Token)
	get("offer", "/api/v1/offers/"+offer, f.ministry.Token)
	get("user", "/api/v1/me", f.donor.Token)
	get("user", "/api/v1/users/"+f.donor.ID, f.coord.Token)
	get("organization", "/api/v1/organizations/"+f.donorOrg, f.ministry.Token)
	poc := n.newPoC(t, f.ministry.Token, "SN", pocBody("diplomatic", "A. Diallo", f.ministry.Email)) // linked to the account
	get("poc", "/api/v1/countries/SN/pocs/"+poc, f.coord.Token)
	for _, it := range n.call("GET", "/api/v1/needs", f.donor.Token, nil).json(t)["items"].([]any) {
		got["need list item"] = it.(map[string]any)
	}
	for _, it := range n.call("GET", "/api/v1/users", f.coord.Token, nil).json(t)["items"].([]any) {
		got["user list item"] = it.(map[string]any)
	}
	r := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": pw})
	got["token pair login"] = r.json(t)
	for name, obj := range got {
		kind := ""
		for k := range allowed {
			if strings.HasPrefix(name, k+" ") {
				kind = k
			}
		}
		require.NotEmpty(t, kind, name)
		for key := range obj {
			assert.Contains(t, allowed[kind], key, "%s shows property %q: add it to the list only if every reader may see it", name, key)
		}
	}
	e.assertNoSecrets()
}

// TestHiddenObjectsLookExactlyMissing: an object the caller may not see answers exactly like
// one that does not exist, for reads and writes, so ids cannot be probed (OWASP API1).
func TestHiddenObjectsLookExactlyMissing(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	restricted := n.newNeed(t, "open", "restricted")
	draftOffer := n.newOffer(t, "draft")
	missing := models.NewID(time.Now())
	strip := func(r resp) Problem {
		p := r.problem(t)
		p.RequestID, p.Instance = "", ""
		return p
	}
	pairs := []struct {
		name, method, hidden, absent, token string
		body                                any
	}{
		{"read restricted need", "GET", "/api/v1/needs/" + restricted, "/api/v1/needs/" + missing, f.ministry2.Token, nil},
		{"edit restricted need", "PATCH", "/api/v1/needs/" + restricted, "/api/v1/needs/" + missing, f.donor.Token, map[string]any{"title": "x"}},
		{"match restricted need", "GET", "/api/v1/needs/" + restricted + "/matches", "/api/v1/needs/" + missing + "/matches", f.donor2.Token, nil},
		{"withdraw restricted need", "POST", "/api/v1/needs/" + restricted + "/withdraw", "/api/v1/needs/" + missing + "/withdraw", f.ministry2.Token, nil},
		{"read draft offer", "GET", "/api/v1/offers/" + draftOffer, "/api/v1/offers/" + missing, f.donor2.Token, nil},
		{"publish draft offer", "POST", "/api/v1/offers/" + draftOffer + "/publish", "/api/v1/offers/" + missing + "/publish", f.ministry.Token, nil},
		{"read another user", "GET", "/api/v1/users/" + f.coord.ID, "/api/v1/users/" + missing, f.donor.Token, nil},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			h := n.call(p.method, p.hidden, p.token, p.body)
			a := n.call(p.method, p.absent, p.token, p.body)
			require.Equal(t, 404, h.Status, string(h.Body))
			require.Equal(t, 404, a.Status, string(a.Body))
			assert.Equal(t, strip(a), strip(h), "the answers differ only in request id and path")
		})
	}
	// Lists and counts do not reveal it either.
	r := n.call("GET", "/api/v1/needs?limit=100", f.ministry2.Token, nil)
	assert.NotContains(t, string(r.Body), restricted)
	r = n.call("GET", "/api/v1/offers?limit=100", f.donor2.Token, nil)
	assert.NotContains(t, string(r.Body), draftOffer)
}

// TestListLimitsAreBounded: every paginated list refuses a page size past its maximum (and any
// other bad value) with a 422 naming limit, and accepts the maximum itself.
func TestListLimitsAreBounded(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	lists := []struct {
		path string
		max  int
	}{
		{"/api/v1/needs", 100},
		{"/api/v1/offers", 100},
		{"/api/v1/needs/" + need + "/matches", service.MaxRankLimit},
		{"/api/v1/offers/" + offer + "/matches", service.MaxRankLimit},
		{"/api/v1/notifications", service.FeedSize},
		{"/api/v1/audit", 500},
	}
	for _, l := range lists {
		t.Run(l.path, func(t *testing.T) {
			for _, bad := range []string{strconv.Itoa(l.max + 1), "0", "-1", "1e3", "abc", "99999999999999999999", "10%00"} {
				r := n.call("GET", l.path+"?limit="+bad, f.coord.Token, nil)
				require.Equal(t, 422, r.Status, "limit=%s: %s", bad, r.Body)
				p := r.problem(t)
				require.Len(t, p.Errors, 1)
				assert.Equal(t, "limit", p.Errors[0].Field)
			}
			r := n.call("GET", l.path+"?limit="+strconv.Itoa(l.max), f.coord.Token, nil)
			assert.Equal(t, 200, r.Status, string(r.Body))
		})
	}
	// A need list page never exceeds the limit asked for, and walking it ends.
	for i := 0; i < 3; i++ {
		n.newNeed(t, "open", "public")
	}
	r := n.call("GET", "/api/v1/needs?limit=2", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Len(t, r.json(t)["items"], 2)
	assert.NotEmpty(t, r.json(t)["next_cursor"])
	// A cursor is signed and bound to its filters: a forged or swapped one is refused.
	next := r.json(t)["next_cursor"].(string)
	assert.Equal(t, 422, n.call("GET", "/api/v1/needs?limit=2&cursor="+url.QueryEscape(next+"x"), f.coord.Token, nil).Status)
	assert.Equal(t, 422, n.call("GET", "/api/v1/needs?limit=2&country=FJ&cursor="+url.QueryEscape(next), f.coord.Token, nil).Status)
}

// TestCompressedAndForeignBodiesAreRefused: a body with a Content-Encoding (which could expand
// far past the 1 MiB limit once inflated) or of a content type the endpoint does not read is a
// 415, on every kind of write endpoint, and nothing is stored.
func TestCompressedAndForeignBodiesAreRefused(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	draft := n.newNeed(t, "draft", "public")

	// A gzip bomb: 8 MiB of JSON-ish padding that compresses to a few KiB.
	var bomb bytes.Buffer
	zw, err := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write([]byte(`[{"title":"`))
	require.NoError(t, err)
	_, err = zw.Write(bytes.Repeat([]byte("A"), 8<<20))
	require.NoError(t, err)
	_, err = zw.Write([]byte(`"}]`))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.Less(t, bomb.Len(), BodyLimit/8)

	needJSON, err := json.Marshal(needBody(f, "coordinator", "Compressed"))
	require.NoError(t, err)
	targets := []struct {
		method, path, token, ct string
	}{
		{"POST", "/api/v1/needs", f.ministry.Token, "application/json"},
		{"PATCH", "/api/v1/needs/" + draft, f.ministry.Token, "application/json"},
		{"POST", "/api/v1/offers", f.donor.Token, "application/json"},
		{"POST", "/api/v1/import/needs", f.coord.Token, "application/json"},
		{"POST", "/api/v1/import/needs", f.coord.Token, "text/csv"},
		{"POST", "/api/v1/import/offers", f.coord.Token, "application/json"},
		{"POST", "/api/v1/auth/login", "", "application/json"},
	}
	before, offersBefore := e.storeCounts(t)
	for _, tg := range targets {
		for _, enc := range []string{"gzip", "deflate", "br", "x-gzip", "GZIP", "gzip, identity"} {
			r := n.secCall(tg.method, tg.path, tg.token, map[string]string{"Content-Type": tg.ct, "Content-Encoding": enc},
				bytes.NewReader(bomb.Bytes()))
			assert.Equal(t, 415, r.Status, "%s %s (%s, %s): %s", tg.method, tg.path, tg.ct, enc, r.Body)
			r.problem(t)
		}
		for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded"} {
			r := n.secCall(tg.method, tg.path, tg.token, map[string]string{"Content-Type": ct}, bytes.NewReader(needJSON))
			assert.Equal(t, 415, r.Status, "%s %s as %s: %s", tg.method, tg.path, ct, r.Body)
		}
	}
	// Identity is no encoding at all, and is accepted.
	r := n.secCall("POST", "/api/v1/import/needs", f.coord.Token, map[string]string{"Content-Type": "application/json",
		"Content-Encoding": "identity"}, strings.NewReader("["+string(needJSON)+"]"))
	assert.Equal(t, 201, r.Status, string(r.Body))
	after, offersAfter := e.storeCounts(t)
	assert.Equal(t, before+1, after, "only the identity-encoded import stored anything")
	assert.Equal(t, offersBefore, offersAfter)
}

// TestBodyLimitOnRealEndpoints: bodies over 1 MiB are refused with a 413 problem+json before
// any handler reads them (limitBody), whether announced by Content-Length or streamed in
// chunks, on authenticated and public endpoints alike (TestErrorsAreProblemJSON covers a test
// route; TestIATIImportSizeLimit the one route allowed more).
func TestBodyLimitOnRealEndpoints(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	// A replica of its own: this test serves it on a socket and shuts it down.
	s := e.node()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.srv.App().Shutdown() })

	send := func(t *testing.T, head string, body io.Reader) (*http.Response, []byte) {
		t.Helper()
		conn, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
		_, err = io.WriteString(conn, head)
		require.NoError(t, err)
		if body != nil {
			_, _ = io.Copy(conn, body) // the server may answer and close before reading it all
		}
		hr, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		defer hr.Body.Close()
		b, err := io.ReadAll(hr.Body)
		require.NoError(t, err)
		return hr, b
	}
	for _, tc := range []struct{ path, token string }{
		{"/api/v1/needs", f.ministry.Token},
		{"/api/v1/import/needs", f.coord.Token},
		{"/api/v1/auth/login", ""},
	} {
		t.Run("announced "+tc.path, func(t *testing.T) {
			auth := ""
			if tc.token != "" {
				auth = "Authorization: Bearer " + tc.token + "\r\n"
			}
			// The server streams bodies: it reads the first 8 KiB before any handler runs, then
			// answers without reading the rest.
			hr, b := send(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
				tc.path, auth, BodyLimit+1), bytes.NewReader(make([]byte, 8<<10)))
			assert.Equal(t, 413, hr.StatusCode, string(b))
			assert.Equal(t, "urn:capmatch:problem:too-large", decodeProblem(t, hr, b).Type)
		})
	}
	t.Run("chunked", func(t *testing.T) {
		var chunked bytes.Buffer
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		for sent := 0; sent <= BodyLimit; sent += len(chunk) {
			fmt.Fprintf(&chunked, "%x\r\n%s\r\n", len(chunk), chunk)
		}
		chunked.WriteString("0\r\n\r\n")
		hr, b := send(t, "POST /api/v1/import/needs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+f.coord.Token+
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", &chunked)
		assert.Equal(t, 413, hr.StatusCode, string(b))
		decodeProblem(t, hr, b)
	})
}

// TestSignInLimitPerClientAddress: failures from one client address are counted whatever
// accounts they name (credential stuffing); past LoginAddressBackoff.Free the address must
// wait, with Retry-After, for every account, including a right password.
// TestLoginRateLimitHoldsAcrossReplicas covers the limit of one account from one address.
func TestSignInLimitPerClientAddress(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	ctx := context.Background()
	o, err := a.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Pacific Cyber Fund", Type: models.OrgDonor})
	require.NoError(t, err)
	_, err = a.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: "officer@fund.example", Password: pw, Name: "Officer",
		Role: models.RoleDonor, OrganizationID: o.ID})
	require.NoError(t, err)
	nodes := []*node{a, b}
	for i := 0; i <= service.LoginAddressBackoff.Free; i++ { // the free failures, and the one that starts the wait
		r := nodes[i%2].call("POST", "/api/v1/auth/login", "", map[string]string{"email": fmt.Sprintf("guess%d@fund.example", i), "password": "Winter2026!!!"})
		require.Equal(t, 401, r.Status, "attempt %d: %s", i+1, r.Body)
	}
	r := b.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "officer@fund.example", "password": pw})
	require.Equal(t, 429, r.Status, "the address has used its failures, even for an account it never tried: %s", r.Body)
	ra, err := strconv.Atoi(r.Header["Retry-After"])
	require.NoError(t, err)
	assert.True(t, ra > 0 && ra <= int(service.LoginAddressBackoff.Base.Seconds()), "Retry-After %d", ra)
	assert.Equal(t, "urn:capmatch:problem:rate-limited", r.problem(t).Type)
	assert.NotContains(t, string(r.Body), "officer@fund.example")
	// Another address is not affected.
	assert.Equal(t, 200, a.callFrom("127.0.0.7", "POST", "/api/v1/auth/login", "", map[string]string{"email": "officer@fund.example", "password": pw}).Status)
}

// TestServerErrorsNeverLeakInternals: whatever an unexpected failure carries (driver messages,
// addresses, credentials, stack traces), the client gets a fixed 500 problem with the request
// id, and the details go to the log under the same request id.
func TestServerErrorsNeverLeakInternals(t *testing.T) {
	const marker = "mongodb://capmatch:s3cr3t@10.1.2.3:27017/capmatch"
	var logs lockedBuffer
	s := New(Deps{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	app := s.App()
	app.Get("/test/wrapped", func(c *fiber.Ctx) error {
		return fmt.Errorf("store: find needs: %w", errors.New("server selection error: "+marker))
	})
	app.Get("/test/boom-error", func(c *fiber.Ctx) error { panic(errors.New("nil map in handler: " + marker)) })
	app.Get("/test/boom-value", func(c *fiber.Ctx) error { panic(struct{ URI string }{marker}) })
	app.Get("/test/fiber-500", func(c *fiber.Ctx) error { return fiber.NewError(500, marker) })
	app.Get("/test/fiber-502", func(c *fiber.Ctx) error { return fiber.NewError(502, marker) })
	app.Get("/test/unknown-kind", func(c *fiber.Ctx) error {
		return &models.Error{Kind: errors.New("some new kind"), Detail: marker}
	})
	app.Get("/test/timeout", func(c *fiber.Ctx) error { return context.DeadlineExceeded })
	for _, path := range []string{"/test/wrapped", "/test/boom-error", "/test/boom-value", "/test/fiber-500", "/test/fiber-502",
		"/test/unknown-kind", "/test/timeout"} {
		t.Run(path, func(t *testing.T) {
			hr, body := do(t, app, httptest.NewRequest("GET", path, nil))
			require.GreaterOrEqual(t, hr.StatusCode, 500)
			p := decodeProblem(t, hr, body)
			assert.Equal(t, "an unexpected error occurred; it has been logged", p.Detail)
			assert.Empty(t, p.Errors)
			assert.NotEmpty(t, p.RequestID)
			for _, leak := range []string{"s3cr3t", "10.1.2.3", "mongodb://", "goroutine", ".go:", "panic", "store:"} {
				assert.NotContains(t, string(body), leak)
			}
			assert.Equal(t, "nosniff", hr.Header.Get("X-Content-Type-Options"), "error answers keep the security headers")
			assert.Contains(t, logs.String(), p.RequestID, "the log has the request id the client was given")
		})
	}
	assert.Contains(t, logs.String(), "10.1.2.3", "the details are in the log")

	// A store outage is a 503 with a fixed detail and Retry-After, never the driver's text.
	app.Get("/test/store-down", func(c *fiber.Ctx) error {
		return fmt.Errorf("list: %w (%s)", &models.Error{Kind: models.ErrUnavailable, Detail: "the data store is unreachable",
			RetryAfter: 5 * time.Second}, marker)
	})
	hr, body := do(t, app, httptest.NewRequest("GET", "/test/store-down", nil))
	assert.Equal(t, 503, hr.StatusCode)
	assert.Equal(t, "5", hr.Header.Get("Retry-After"))
	assert.Equal(t, "the data store is unreachable", decodeProblem(t, hr, body).Detail)
	assert.NotContains(t, string(body), "s3cr3t")
}

// lockedBuffer is a log sink the server's goroutines and the test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDisabledUsersTokensFailEverywhere: once an account is disabled, every token it holds
// fails at once on every replica, for reads and writes, including tokens each replica had
// already verified and cached; its refresh token and its password fail too.
func TestDisabledUsersTokensFailEverywhere(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	access2, refresh2 := b.login(f.donor.Email, pw) // a second session, signed in on the other replica
	for _, n := range []*node{a, b} {
		for _, tok := range []string{f.donor.Token, access2} {
			require.Equal(t, 200, n.call("GET", "/api/v1/me", tok, nil).Status) // verified and cached on both replicas
		}
	}
	require.Equal(t, 200, a.call("POST", "/api/v1/users/"+f.donor.ID+"/disable", f.coord.Token, nil).Status)
	require.Eventually(t, func() bool { return b.call("GET", "/api/v1/me", access2, nil).Status == 401 }, 2*time.Second, 5*time.Millisecond)
	for _, n := range []*node{a, b} {
		for _, tok := range []string{f.donor.Token, access2} {
			assert.Equal(t, 401, n.call("GET", "/api/v1/me", tok, nil).Status)
			assert.Equal(t, 401, n.call("GET", "/api/v1/offers", tok, nil).Status)
			assert.Equal(t, 401, n.call("POST", "/api/v1/offers", tok, offerBody("After disable")).Status)
		}
		for _, rt := range []string{f.donor.Refresh, refresh2} {
			assert.Equal(t, 401, n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rt}).Status)
		}
		assert.Equal(t, 401, n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": pw}).Status)
	}
}

// TestTokenIssuedToADisabledUserFails covers what TestDisabledUsersTokensFailEverywhere cannot
// reach through the API: an access token issued after the account was disabled (a sign-in
// whose password check was under way while a coordinator disabled the account). The user's
// revocation covers only tokens issued until it, and authentication does not look at the
// account, so such a token works until it expires (15 minutes; its refresh token is refused).
// Disabling now revokes every token issued until the account is enabled again.
func TestTokenIssuedToADisabledUserFails(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	require.Equal(t, 200, n.call("POST", "/api/v1/users/"+f.ministry2.ID+"/disable", f.coord.Token, nil).Status)
	time.Sleep(1100 * time.Millisecond) // token times are whole seconds: issue this one after the revocation
	tok, _, _, err := n.access.Issue(models.Actor{UserID: f.ministry2.ID, Role: models.RoleMinistry, OrgID: f.fjOrg,
		Country: "FJ", FamilyID: models.NewID(time.Now())}, models.AccessTokenTTL)
	require.NoError(t, err)
	assert.Equal(t, 401, n.call("GET", "/api/v1/me", tok, nil).Status)
}

// TestWebhookTargetsFollowTheSSRFPolicy: with production settings (no private targets), the
// API refuses webhook URLs that name this host, internal names, cloud metadata, private or
// reserved addresses, plain http or credentials, and accepts a public https URL. The adapter's
// tests (adapters/webhooks: TestWebhookURLPolicy, TestBlockedAddresses,
// TestDispatcherRefusesPrivateTargetsAtDelivery) cover the address checks and the re-check of
// the dialled address.
func TestWebhookTargetsFollowTheSSRFPolicy(t *testing.T) {
	saved := testWebhooks
	testWebhooks = webhooks.Options{} // what production runs with
	e := newEnv(t)
	n := e.node()
	testWebhooks = saved
	f := n.seed()
	put := func(u string) resp {
		return n.call("PUT", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token,
			map[string]string{"url": u, "secret": "a long random shared secret"})
	}
	for _, bad := range []string{
		"http://hooks.example.org/x", "https://127.0.0.1/x", "https://localhost:8080/x", "https://capmatch.localhost/x",
		"https://169.254.169.254/latest/meta-data/", "https://metadata.google.internal/computeMetadata/v1/",
		"https://10.0.0.5/x", "https://192.168.1.1/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://0.0.0.0/x",
		"https://100.64.0.1/x", "https://printer.local/x", "https://admin:pw@hooks.example.org/x", "file:///etc/passwd",
		"gopher://127.0.0.1:6379/_FLUSHALL",
		// IPv6 forms that carry a refused IPv4 address (issue 13.7).
		"https://[::127.0.0.1]:8443/x", "https://[2002:7f00:1::]:8443/x", "https://[2002:a9fe:a9fe::]/latest",
		"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", "https://[64:ff9b::a9fe:a9fe]/latest",
	} {
		r := put(bad)
		require.Equal(t, 422, r.Status, "%s: %s", bad, r.Body)
		assert.Equal(t, "url", r.problem(t).Errors[0].Field, bad)
	}
	assert.Equal(t, 200, put("https://hooks.example.org/capmatch").Status)
}

// TestOWASPMappingNamesRealTests keeps SECURITY.md honest: every test it cites as
// `TestName` exists in the repository, and a test cited after a test file (`dir/name_test.go`:
// `TestName`, in the same list item) is defined in that file, so that moving tests to another
// package means updating the map.
func TestOWASPMappingNamesRealTests(t *testing.T) {
	doc, err := readRepoFile("SECURITY.md")
	require.NoError(t, err)
	cited := map[string]bool{}
	for _, field := range strings.FieldsFunc(doc, func(r rune) bool { return r == '`' }) {
		if (strings.HasPrefix(field, "Test") || strings.HasPrefix(field, "Fuzz")) && !strings.ContainsAny(field, " ./(") {
			cited[field] = true
		}
	}
	// Code spans are the odd pieces between backticks; a new list item or paragraph ends the
	// file that the tests after it belong to.
	itemBreak := regexp.MustCompile(`\n\s*- |\n\n`)
	inFile := map[string]map[string]bool{}
	var misplaced []string
	file := ""
	for i, span := range strings.Split(doc, "`") {
		switch {
		case i%2 == 0:
			if itemBreak.MatchString(span) {
				file = ""
			}
		case strings.HasSuffix(span, "_test.go") && !strings.ContainsAny(span, " *"):
			file = span
			if inFile[file] == nil {
				inFile[file] = map[string]bool{}
				b, err := readRepoFile(filepath.FromSlash(file))
				if err != nil {
					misplaced = append(misplaced, file+" (no such file)")
				}
				for _, m := range testFuncRE.FindAllStringSubmatch(string(b), -1) {
					inFile[file][m[1]] = true
				}
			}
		case file != "" && cited[span] && !inFile[file][span]:
			misplaced = append(misplaced, file+": "+span)
		}
	}
	assert.Empty(t, misplaced, "SECURITY.md cites tests in files that do not define them")
	require.NotEmpty(t, cited)
	defined, err := repoTestFunctions()
	require.NoError(t, err)
	var missing []string
	for name := range cited {
		if !defined[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "SECURITY.md cites tests that do not exist")
}

// readRepoFile reads a file at the repository root (the tests run in api/).
func readRepoFile(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("..", name))
	return string(b), err
}

var testFuncRE = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]*)\(`)

// repoTestFunctions returns the names of every test and fuzz function in the repository.
func repoTestFunctions() (map[string]bool, error) {
	out := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "data", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFuncRE.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
		return nil
	})
	return out, err
}
