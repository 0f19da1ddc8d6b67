package api

import (
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginMeAndNoSecretsInResponses(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	r := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "OFFICIAL@mfa.sn.example", "password": pw})
	require.Equal(t, 200, r.Status, "e-mail is case-insensitive")
	m := r.json(t)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.EqualValues(t, 900, m["expires_in"])
	assert.NotEmpty(t, m["refresh_token"])
	assert.Equal(t, "no-store", r.Header["Cache-Control"])

	r = n.call("GET", "/api/v1/me", f.ministry.Token, nil)
	require.Equal(t, 200, r.Status)
	me := r.json(t)
	assert.Equal(t, f.ministry.ID, me["id"])
	assert.Equal(t, "ministry", me["role"])
	assert.Equal(t, f.snOrg, me["organization_id"])
	assert.Equal(t, "SN", me["country"])
	assert.Equal(t, "official@mfa.sn.example", me["email"])
	for _, k := range []string{"password", "password_hash", "email_key"} {
		assert.NotContains(t, me, k)
	}

	// Creating a user echoes no password either.
	r = n.call("POST", "/api/v1/users", f.admin.Token, map[string]string{"email": "new@desk.example", "password": pw,
		"name": "New Coordinator", "role": "coordinator", "organization_id": f.coordOrg})
	require.Equal(t, 201, r.Status, string(r.Body))
	r = n.call("GET", "/api/v1/users", f.admin.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, string(r.Body), "new@desk.example")
	e.assertNoSecrets()
}

func TestBadCredentialsGetOneAnswer(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	unknown := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@nowhere.example", "password": pw})
	wrong := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": pw + "!"})
	assert.Equal(t, 401, unknown.Status)
	assert.Equal(t, 401, wrong.Status)
	pu, pwr := unknown.problem(t), wrong.problem(t)
	pu.RequestID, pwr.RequestID = "", ""
	assert.Equal(t, pu, pwr, "same body for unknown e-mail and wrong password")

	// Disabled accounts cannot sign in, with the same answer.
	r := n.call("POST", "/api/v1/users/"+f.donor.ID+"/disable", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	disabled := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": pw})
	pd := disabled.problem(t)
	pd.RequestID = ""
	assert.Equal(t, pu, pd)
}

func TestBearerTokenProblems(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for name, h := range map[string]string{
		"missing": "", "garbage": "garbage", "basic scheme": "",
		"tampered": f.coord.Token[:len(f.coord.Token)-3] + "abc",
	} {
		t.Run(name, func(t *testing.T) {
			r := n.call("GET", "/api/v1/me", h, nil)
			assert.Equal(t, 401, r.Status)
			assert.Contains(t, r.Header["Www-Authenticate"], "Bearer")
			r.problem(t)
		})
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	r := n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": f.donor.Refresh})
	require.Equal(t, 200, r.Status, string(r.Body))
	pair := r.json(t)
	access2, refresh2 := pair["access_token"].(string), pair["refresh_token"].(string)
	assert.NotEqual(t, f.donor.Refresh, refresh2)
	assert.Equal(t, 200, n.call("GET", "/api/v1/me", access2, nil).Status)

	// The rotated token is dead; presenting it again revokes the whole family.
	r = n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": f.donor.Refresh})
	assert.Equal(t, 401, r.Status)
	r = n.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh2})
	assert.Equal(t, 401, r.Status, "the family was revoked, so the newest refresh token is dead too")
	assert.Equal(t, 401, n.call("GET", "/api/v1/me", access2, nil).Status, "and so are the family's access tokens")
	assert.Equal(t, 401, n.call("GET", "/api/v1/me", f.donor.Token, nil).Status)

	// Other families (other sessions, other users) are untouched.
	assert.Equal(t, 200, n.call("GET", "/api/v1/me", f.ministry.Token, nil).Status)
	a3, _ := n.login(f.donor.Email, pw)
	assert.Equal(t, 200, n.call("GET", "/api/v1/me", a3, nil).Status, "signing in again starts a new family")

	for _, body := range []any{map[string]string{"refresh_token": "made-up"}, map[string]string{"refresh_token": ""}, `{"refresh_token": 5}`} {
		r = n.call("POST", "/api/v1/auth/refresh", "", body)
		assert.Contains(t, []int{400, 401}, r.Status)
		r.problem(t)
	}
}

// TestLogoutAcrossReplicas signs in on one replica and out on another sharing the store and
// Redis: the tokens stop working on both at once.
func TestLogoutAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	require.Equal(t, 200, b.call("GET", "/api/v1/me", f.ministry.Token, nil).Status)

	require.Equal(t, 204, a.call("POST", "/api/v1/auth/logout", f.ministry.Token, nil).Status)
	assert.Equal(t, 401, a.call("GET", "/api/v1/me", f.ministry.Token, nil).Status)
	// The other replica learns through the bus; give the message the moment it takes to arrive.
	assert.Eventually(t, func() bool { return b.call("GET", "/api/v1/me", f.ministry.Token, "").Status == 401 },
		time.Second, 5*time.Millisecond, "replica B rejects the revoked access token")
	assert.Equal(t, 401, b.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": f.ministry.Refresh}).Status)
	assert.Equal(t, 200, b.call("GET", "/api/v1/me", f.donor.Token, nil).Status, "other sessions live on")

	// A replica started after the logout loads revocations from the store.
	c := e.node()
	assert.Equal(t, 401, c.call("GET", "/api/v1/me", f.ministry.Token, nil).Status)
}

// TestRevocationWithRedisDown: with the bus down a replica cannot hear revocations, so it checks
// the store; nobody is signed out by the outage and no revoked token gets back in.
func TestRevocationWithRedisDown(t *testing.T) {
	r, err := embedded.StartRedis() // this test kills its Redis, so it never uses a shared one
	require.NoError(t, err)
	e := newEnvWithRedis(t, r.URL())
	a, b := e.node(), e.node()
	f := a.seed()
	r.Stop()
	require.Eventually(t, func() bool { return !b.app.Revocations.Fresh() }, 5*time.Second, 10*time.Millisecond)

	assert.Equal(t, 200, b.call("GET", "/api/v1/me", f.donor.Token, nil).Status, "the outage signs nobody out")
	require.Equal(t, 204, a.call("POST", "/api/v1/auth/logout", f.donor.Token, nil).Status, "logout works without Redis")
	assert.Equal(t, 401, b.call("GET", "/api/v1/me", f.donor.Token, nil).Status, "B sees the revocation in the store")
	a4, _ := a.login(f.ministry.Email, pw) // login works without Redis (in-process rate limit)
	assert.Equal(t, 200, b.call("GET", "/api/v1/me", a4, nil).Status)
	ready := a.call("GET", "/readyz", "", nil)
	assert.Equal(t, 503, ready.Status)
	assert.Equal(t, "cache down", ready.problem(t).Detail)
}

// TestLoginRateLimitHoldsAcrossReplicas: failures for one account from one address are counted
// across replicas (in Redis); past the free ones the pair must wait, whichever replica it
// asks, and the right password does not bypass the wait.
func TestLoginRateLimitHoldsAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	nodes := []*node{a, b}
	free := service.LoginAccountBackoff.Free
	statuses := []int{}
	for i := 0; i < free+3; i++ {
		r := nodes[i%2].call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.donor.Email, "password": "wrong password!"})
		statuses = append(statuses, r.Status)
		if r.Status == 429 {
			assert.NotEmpty(t, r.Header["Retry-After"], "every 429 says when to come back")
		}
	}
	want := []int{}
	for i := 0; i < free+1; i++ {
		want = append(want, 401) // the free failures, and the one that starts the back-off
	}
	assert.Equal(t, append(want, 429, 429), statuses)
	r := b.call("POST", "/api/v1/auth/login", "", map[string]string{"email": strings.ToUpper(f.donor.Email), "password": pw})
	assert.Equal(t, 429, r.Status, "the right password does not bypass the wait, whatever the case of the e-mail")
	assert.NotEmpty(t, r.Header["Retry-After"])
	assert.Equal(t, "urn:capmatch:problem:rate-limited", r.problem(t).Type)
	// Another account from the same address is still allowed.
	assert.Equal(t, 200, a.call("POST", "/api/v1/auth/login", "", map[string]string{"email": f.coord.Email, "password": pw}).Status)
}

func TestDisablingEndsSessionsAtOnce(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	require.Equal(t, 200, a.call("POST", "/api/v1/users/"+f.ministry2.ID+"/disable", f.coord.Token, nil).Status)
	assert.Eventually(t, func() bool { return b.call("GET", "/api/v1/me", f.ministry2.Token, nil).Status == 401 }, time.Second, 5*time.Millisecond)
	assert.Equal(t, 401, b.call("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": f.ministry2.Refresh}).Status)
	require.Equal(t, 200, a.call("POST", "/api/v1/users/"+f.ministry2.ID+"/enable", f.coord.Token, nil).Status)
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds; a new one must be issued after the revocation
	tok, _ := b.login(f.ministry2.Email, pw)
	assert.Equal(t, 200, a.call("GET", "/api/v1/me", tok, nil).Status, "re-enabled users can sign in again")
	assert.Equal(t, 401, a.call("GET", "/api/v1/me", f.ministry2.Token, nil).Status, "old sessions stay dead")
	assert.Equal(t, 409, a.call("POST", "/api/v1/users/"+f.admin.ID+"/disable", f.admin.Token, nil).Status, "no self-lockout")
}

func TestAuditRecordsWrites(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	r := n.call("POST", "/api/v1/organizations", f.coord.Token, map[string]string{"name": "Ministry of ICT of Rwanda", "type": "government", "country": "RW"})
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	rid := r.Header["X-Request-Id"]

	r = n.call("GET", "/api/v1/audit?object_id="+id, f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 1)
	entry := items[0].(map[string]any)
	assert.Equal(t, "create", entry["action"])
	assert.Equal(t, "organization", entry["object_type"])
	assert.Equal(t, f.coord.ID, entry["actor_id"])
	assert.Equal(t, "coordinator", entry["actor_role"])
	assert.Equal(t, f.coordOrg, entry["actor_organization_id"])
	assert.Equal(t, rid, entry["request_id"])
	assert.Contains(t, entry["changed"], "name")
}

func TestAccountValidation(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		fields []string
	}{
		{"org bad type", "/api/v1/organizations", map[string]any{"name": "X", "type": "ngo"}, 422, []string{"type"}},
		{"government without country", "/api/v1/organizations", map[string]any{"name": "X", "type": "government"}, 422, []string{"country"}},
		{"org unknown field", "/api/v1/organizations", map[string]any{"name": "X", "type": "donor", "status": "x"}, 400, []string{"status"}},
		{"org server-owned id", "/api/v1/organizations", map[string]any{"id": "mine", "name": "X", "type": "donor"}, 400, []string{"id"}},
		{"org operator object", "/api/v1/organizations", map[string]any{"name": map[string]any{"$gt": ""}, "type": "donor"}, 400, []string{"name"}},
		{"org malformed", "/api/v1/organizations", `{"name": "X",`, 400, nil},
		{"org not an object", "/api/v1/organizations", `[1,2]`, 400, nil},
		{"org trailing data", "/api/v1/organizations", `{"name":"X","type":"donor"} {}`, 400, nil},
		{"org NUL in name", "/api/v1/organizations", map[string]any{"name": "A\x00B", "type": "donor"}, 422, []string{"name"}},
		{"user everything wrong", "/api/v1/users", map[string]any{"email": "not-an-email", "password": "short", "name": "", "role": "king", "organization_id": "nope"}, 422,
			[]string{"email", "password", "name", "role", "organization_id"}},
		{"user role does not fit org", "/api/v1/users", map[string]any{"email": "x@y.example", "password": pw, "name": "X", "role": "donor", "organization_id": f.snOrg}, 422, []string{"role"}},
		{"user duplicate email", "/api/v1/users", map[string]any{"email": "ADMIN@desk.example", "password": pw, "name": "X", "role": "admin", "organization_id": f.coordOrg}, 409, []string{"email"}},
		{"user wrong type", "/api/v1/users", `{"email": 5}`, 400, []string{"email"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(n.call("GET", "/api/v1/organizations", f.admin.Token, nil).json(t)["items"].([]any))
			r := n.call("POST", tc.path, f.admin.Token, tc.body)
			assert.Equal(t, tc.status, r.Status, string(r.Body))
			p := r.problem(t)
			var got []string
			for _, fe := range p.Errors {
				got = append(got, fe.Field)
			}
			for _, want := range tc.fields {
				assert.Contains(t, got, want)
			}
			after := len(n.call("GET", "/api/v1/organizations", f.admin.Token, nil).json(t)["items"].([]any))
			assert.Equal(t, before, after, "nothing stored")
		})
	}
}
