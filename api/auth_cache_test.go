package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCachedTokensKeepTheirActor alternates five users' tokens through the verified-token cache
// (service/tokencache.go): Fiber reuses request buffers, so a cache keyed by the header's bytes
// without copying them would answer one user with another's identity. The cache's own rules
// (expiry by either clock, refused tokens never remembered, bounded) are in service's
// TestTokenCache.
func TestCachedTokensKeepTheirActor(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	accounts := []account{f.ministry, f.ministry2, f.donor, f.donor2, f.coord}
	for i := range 200 {
		acc := accounts[(i*7)%len(accounts)]
		r := n.call("GET", "/api/v1/me", acc.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		require.Equal(t, acc.Email, r.json(t)["email"], "request %d", i)
		n.call("GET", "/api/v1/needs?limit=1", accounts[i%len(accounts)].Token, nil)
	}
}

// TestMeFromMemoryFollowsAccountChanges: GET /me is served from memory (service/usercache.go),
// yet every change of the account shows on every replica that has it in memory, well within
// the cache's safety-net TTL: a password change made on one replica (the must-change flag
// goes), a change of UI language, and a disable (every token refused: never a 200 from
// memory), then a re-enable.
func TestMeFromMemoryFollowsAccountChanges(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	r := a.call("POST", "/api/v1/users", f.coord.Token, map[string]any{"email": "cached.officer@mfa.sn.example",
		"password": pw, "name": "Cached Officer", "role": "ministry", "organization_id": f.snOrg, "must_change_password": true})
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	tok, _ := a.login("cached.officer@mfa.sn.example", pw)
	for _, n := range []*node{a, b, a, b} { // read, then served from memory
		r := n.call("GET", "/api/v1/me", tok, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		require.Equal(t, true, r.json(t)["must_change_password"])
	}
	require.Equal(t, 204, a.call("POST", "/api/v1/me/password", tok, map[string]string{"current_password": pw, "new_password": newPW}).Status)
	_, flagged := a.call("GET", "/api/v1/me", tok, nil).json(t)["must_change_password"]
	assert.False(t, flagged, "at once on the replica that made the change")
	require.Eventually(t, func() bool {
		_, flagged := b.call("GET", "/api/v1/me", tok, nil).json(t)["must_change_password"]
		return !flagged
	}, 2*time.Second, 10*time.Millisecond, "on the other replica as soon as the change reaches it")

	// A change of UI language (the web's switcher; no revocation): every replica shows it.
	for _, n := range []*node{a, b, a, b} {
		r := n.call("GET", "/api/v1/me", f.ministry.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		require.NotEqual(t, "fr", r.json(t)["lang"])
	}
	require.Equal(t, 303, a.browser(t, f.ministry.Email).get("/lang/fr?next=%2F").Status)
	assert.Equal(t, "fr", a.call("GET", "/api/v1/me", f.ministry.Token, nil).json(t)["lang"], "at once where it was made")
	require.Eventually(t, func() bool { return b.call("GET", "/api/v1/me", f.ministry.Token, nil).json(t)["lang"] == "fr" },
		2*time.Second, 10*time.Millisecond, "and on the other replica")

	for _, n := range []*node{a, b} {
		require.Equal(t, false, n.call("GET", "/api/v1/me", tok, nil).json(t)["disabled"])
	}
	require.Equal(t, 200, a.call("POST", "/api/v1/users/"+id+"/disable", f.coord.Token, nil).Status)
	assert.Equal(t, 401, a.call("GET", "/api/v1/me", tok, nil).Status, "a disabled user never gets 200")
	require.Eventually(t, func() bool { return b.call("GET", "/api/v1/me", tok, nil).Status == 401 }, 2*time.Second, 10*time.Millisecond)
	for range 20 {
		require.Equal(t, 401, b.call("GET", "/api/v1/me", tok, nil).Status, "and never again")
	}
	require.Equal(t, 200, a.call("POST", "/api/v1/users/"+id+"/enable", f.coord.Token, nil).Status)
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds; a new one must be issued after the revocation
	tok2, _ := b.login("cached.officer@mfa.sn.example", newPW)
	for _, n := range []*node{a, b} {
		r := n.call("GET", "/api/v1/me", tok2, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		assert.Equal(t, false, r.json(t)["disabled"])
	}
}
