package api

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The actors of the authorization table. "ministry" and "donor" own the fixture's objects;
// "ministry2" and "donor2" are the same roles acting on objects of another organization.
var actors = []string{"anon", "ministry", "ministry2", "donor", "donor2", "coordinator", "admin"}

// authzCase is one endpoint (and object) of the authorization table and the status each actor
// gets. Every API route must appear in the table: TestAuthorizationTableCoversEveryRoute.
type authzCase struct {
	name   string
	method string
	// route is the route pattern as registered (to check coverage).
	route string
	// path builds the request path from the fixture.
	path func(w *authzWorld) string
	// body builds the request body for an actor; nil for none.
	body func(w *authzWorld, actor string) any
	// fresh: the call consumes the actor's session (logout), so sign in anew first.
	fresh bool
	// suffix follows the actor's own user path when path is nil.
	suffix string
	want   map[string]int
}

// authzWorld is the fixture plus helpers shared by the table's rows.
type authzWorld struct {
	t   *testing.T
	n   *node
	f   *fixture
	seq atomic.Int64
	// poc is the Points of Contact rows' fixture, made on first use (authz_pocs_test.go).
	poc pocWorld
	// signedIn is when the fixture's accounts last signed in: the table outlives an access
	// token's 15 minutes under the race detector on a busy machine, so freshen signs them in
	// again before their tokens expire.
	signedIn time.Time
}

// freshen signs the fixture's accounts in again once their tokens are 10 minutes old.
func (w *authzWorld) freshen() {
	if time.Since(w.signedIn) < 10*time.Minute {
		return
	}
	for _, a := range []*account{&w.f.ministry, &w.f.ministry2, &w.f.donor, &w.f.donor2, &w.f.coord, &w.f.admin} {
		a.Token, a.Refresh = w.n.login(a.Email, pw)
	}
	w.signedIn = time.Now()
}

func (w *authzWorld) token(actor string) string {
	switch actor {
	case "anon":
		return ""
	case "ministry":
		return w.f.ministry.Token
	case "ministry2":
		return w.f.ministry2.Token
	case "donor":
		return w.f.donor.Token
	case "donor2":
		return w.f.donor2.Token
	case "coordinator":
		return w.f.coord.Token
	case "admin":
		return w.f.admin.Token
	}
	panic(actor)
}

func (w *authzWorld) account(actor string) account {
	return map[string]account{"ministry": w.f.ministry, "ministry2": w.f.ministry2, "donor": w.f.donor,
		"donor2": w.f.donor2, "coordinator": w.f.coord, "admin": w.f.admin}[actor]
}

func (w *authzWorld) unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, w.seq.Add(1)) }

// victim creates a throwaway user of the role (disabled if asked) for rows that change accounts,
// so that no fixture session is ended by the table.
func (w *authzWorld) victim(role string, disabled bool) string {
	org := w.f.donorOrg
	if role == "coordinator" {
		org = w.f.coordOrg
	}
	r := w.n.call("POST", "/api/v1/users", w.f.admin.Token, map[string]string{"email": w.unique("victim") + "@x.example",
		"password": pw, "name": "Victim", "role": role, "organization_id": org})
	require.Equal(w.t, 201, r.Status, string(r.Body))
	id := r.json(w.t)["id"].(string)
	if disabled {
		require.Equal(w.t, 200, w.n.call("POST", "/api/v1/users/"+id+"/disable", w.f.admin.Token, nil).Status)
	}
	return id
}

// all returns a want map with the same status for every signed-in actor and 401 for anon.
func all(status int) map[string]int {
	m := map[string]int{"anon": 401}
	for _, a := range actors[1:] {
		m[a] = status
	}
	return m
}

// curators returns a want map where coordinators and admins get ok and the others other.
func curators(ok, other int) map[string]int {
	m := all(other)
	m["coordinator"], m["admin"] = ok, ok
	return m
}

func with(m map[string]int, overrides map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// authzTable lists every API endpoint. Later issues extend it.
func authzTable() []authzCase {
	static := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	return []authzCase{
		{name: "me", method: "GET", route: "/api/v1/me", path: static("/api/v1/me"), want: all(200)},
		{name: "logout", method: "POST", route: "/api/v1/auth/logout", path: static("/api/v1/auth/logout"), fresh: true, want: all(204)},
		{name: "create organization", method: "POST", route: "/api/v1/organizations", path: static("/api/v1/organizations"),
			body: func(w *authzWorld, _ string) any {
				return map[string]string{"name": w.unique("Agency"), "type": "donor"}
			}, want: curators(201, 403)},
		{name: "list organizations", method: "GET", route: "/api/v1/organizations", path: static("/api/v1/organizations"), want: all(200)},
		{name: "get organization", method: "GET", route: "/api/v1/organizations/:id",
			path: func(w *authzWorld) string { return "/api/v1/organizations/" + w.f.donorOrg }, want: all(200)},
		{name: "get unknown organization", method: "GET", route: "/api/v1/organizations/:id",
			path: static("/api/v1/organizations/nosuchorg"), want: all(404)},
		{name: "create donor user", method: "POST", route: "/api/v1/users", path: static("/api/v1/users"),
			body: func(w *authzWorld, _ string) any {
				return map[string]string{"email": w.unique("officer") + "@donor.example", "password": pw, "name": "Officer", "role": "donor", "organization_id": w.f.donorOrg}
			}, want: curators(201, 403)},
		{name: "create coordinator user", method: "POST", route: "/api/v1/users", path: static("/api/v1/users"),
			body: func(w *authzWorld, _ string) any {
				return map[string]string{"email": w.unique("coord") + "@desk.example", "password": pw, "name": "Coordinator", "role": "coordinator", "organization_id": w.f.coordOrg}
			}, want: with(curators(201, 403), map[string]int{"coordinator": 403})},
		{name: "list users", method: "GET", route: "/api/v1/users", path: static("/api/v1/users"), want: curators(200, 403)},
		{name: "get own user", method: "GET", route: "/api/v1/users/:id", path: nil, want: all(200)},
		{name: "get other user", method: "GET", route: "/api/v1/users/:id",
			path: func(w *authzWorld) string { return "/api/v1/users/" + w.f.ministry2.ID },
			want: with(curators(200, 404), map[string]int{"ministry2": 200})},
		{name: "disable donor user", method: "POST", route: "/api/v1/users/:id/disable",
			path: func(w *authzWorld) string { return "/api/v1/users/" + w.victim("donor", false) + "/disable" },
			want: curators(200, 404)},
		{name: "disable coordinator", method: "POST", route: "/api/v1/users/:id/disable",
			path: func(w *authzWorld) string { return "/api/v1/users/" + w.victim("coordinator", false) + "/disable" },
			want: with(curators(200, 404), map[string]int{"coordinator": 403})},
		{name: "disable self", method: "POST", route: "/api/v1/users/:id/disable", path: nil, suffix: "/disable",
			want: with(all(403), map[string]int{"admin": 409})},
		{name: "enable donor user", method: "POST", route: "/api/v1/users/:id/enable",
			path: func(w *authzWorld) string { return "/api/v1/users/" + w.victim("donor", true) + "/enable" },
			want: curators(200, 404)},
		{name: "audit trail", method: "GET", route: "/api/v1/audit", path: static("/api/v1/audit"), want: curators(200, 403)},
		// Passwords (issue 13.6). The table never really changes a fixture password (later rows
		// sign in with it): a wrong current password is the actor's own 422.
		{name: "change own password", method: "POST", route: "/api/v1/me/password", path: static("/api/v1/me/password"),
			body: func(*authzWorld, string) any {
				return map[string]string{"current_password": "not the current one", "new_password": "mango otter quilt lantern"}
			}, want: all(422)},
		{name: "issue reset link for a donor", method: "POST", route: "/api/v1/users/:id/password-reset",
			path: func(w *authzWorld) string { return "/api/v1/users/" + w.victim("donor", false) + "/password-reset" },
			want: curators(201, 404)},
		{name: "issue reset link for a coordinator", method: "POST", route: "/api/v1/users/:id/password-reset",
			path: func(w *authzWorld) string {
				return "/api/v1/users/" + w.victim("coordinator", false) + "/password-reset"
			},
			want: with(curators(201, 404), map[string]int{"coordinator": 403})},
		{name: "issue reset link for oneself", method: "POST", route: "/api/v1/users/:id/password-reset", path: nil, suffix: "/password-reset",
			want: with(all(403), map[string]int{"admin": 201})},
		{name: "reset a password with a bogus link", method: "POST", route: "/api/v1/auth/password-reset",
			path: static("/api/v1/auth/password-reset"),
			body: func(*authzWorld, string) any {
				return map[string]string{"token": "nobody.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "new_password": "mango otter quilt lantern"}
			}, want: with(all(422), map[string]int{"anon": 422})},
		{name: "import needs", method: "POST", route: "/api/v1/import/needs", path: static("/api/v1/import/needs"),
			body: func(w *authzWorld, _ string) any {
				return []any{needBody(w.f, "coordinator", w.unique("Imported need"))}
			}, want: curators(201, 403)},
		{name: "import offers", method: "POST", route: "/api/v1/import/offers", path: static("/api/v1/import/offers"),
			body: func(w *authzWorld, _ string) any {
				b := offerBody(w.unique("Imported offer"))
				b["organization_id"] = w.f.donorOrg
				return []any{b}
			}, want: curators(201, 403)},
	}
}

// allAuthzRows is every row of the authorization table, across the files that extend it.
func allAuthzRows() []authzCase {
	return append(append(append(append(authzTable(), marketAuthzRows()...), pocAuthzRows()...), dataAuthzRows()...), assessAuthzRows()...)
}

func TestAuthorizationTable(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	w := &authzWorld{t: t, n: n, f: n.seed(), signedIn: time.Now()}
	for i, tc := range allAuthzRows() {
		if i%tableSample != 0 {
			continue // under -race only a sample (race_on_test.go)
		}
		for _, actor := range actors {
			want, ok := tc.want[actor]
			require.True(t, ok, "%s: no expectation for %s", tc.name, actor)
			t.Run(tc.name+"/"+actor, func(t *testing.T) {
				w.freshen()
				token := w.token(actor)
				if tc.fresh && actor != "anon" {
					token, _ = n.login(w.account(actor).Email, pw)
				}
				path := ""
				if tc.path == nil { // the actor's own object
					if actor == "anon" {
						path = "/api/v1/users/someone"
					} else {
						path = "/api/v1/users/" + w.account(actor).ID
					}
					path += tc.suffix
				} else {
					path = tc.path(w)
				}
				var body any
				if tc.body != nil {
					body = tc.body(w, actor)
				}
				r := n.call(tc.method, path, token, body)
				assert.Equal(t, want, r.Status, "%s %s as %s: %s", tc.method, path, actor, r.Body)
				if r.Status >= 400 {
					r.problem(t)
				}
			})
		}
	}
	e.assertNoSecrets()
}

// TestAuthorizationTableCoversEveryRoute fails when a route under /api/v1 that needs a signed-in
// user has no row in the authorization table.
func TestAuthorizationTableCoversEveryRoute(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range allAuthzRows() {
		covered[tc.method+" "+tc.route] = true
	}
	public := regexp.MustCompile(`^/api/v1/(openapi\.json|catalogue|auth/login|auth/refresh|public/.*)$`)
	s := newTestServer()
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Method == "USE" || !strings.HasPrefix(r.Path, "/api/v1/") || public.MatchString(r.Path) {
			continue
		}
		assert.True(t, covered[r.Method+" "+r.Path], "route %s %s has no row in the authorization table", r.Method, r.Path)
	}
}
