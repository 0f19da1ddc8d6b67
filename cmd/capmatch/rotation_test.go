package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/jwtauth"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJWTPreviousSecret: with CAPMATCH_JWT_PREVIOUS_SECRET, access tokens signed with the
// retiring key still work while new ones are signed with CAPMATCH_JWT_SECRET; a key named by
// neither is refused.
func TestJWTPreviousSecret(t *testing.T) {
	current, previous := strings.Repeat("c", 40), strings.Repeat("p", 40)
	in := startRun(t, map[string]string{"CAPMATCH_DATA_DIR": t.TempDir(), "CAPMATCH_DEMO": "false",
		"CAPMATCH_JWT_SECRET": current, "CAPMATCH_JWT_PREVIOUS_SECRET": previous,
		"CAPMATCH_ADMIN_EMAIL": "root@capmatch.example", "CAPMATCH_ADMIN_PASSWORD": "twelve chars min"})

	resp, err := http.Post(in.base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"root@capmatch.example","password":"twelve chars min"}`))
	require.NoError(t, err)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&login))
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	// A new token is signed with the current key (its kid).
	ring, err := jwtauth.NewKeyring([]byte(current))
	require.NoError(t, err)
	actor, _, _, err := jwtauth.New(ring, time.Now).Parse(login.AccessToken)
	require.NoError(t, err, "signed with CAPMATCH_JWT_SECRET")

	me := func(token string) int {
		req, err := http.NewRequest("GET", in.base+"/api/v1/me", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	signed := func(key string) string {
		r, err := jwtauth.NewKeyring([]byte(key))
		require.NoError(t, err)
		tok, _, _, err := jwtauth.New(r, time.Now).Issue(models.Actor{UserID: actor.UserID, Role: actor.Role, OrgID: actor.OrgID,
			FamilyID: actor.FamilyID}, time.Minute)
		require.NoError(t, err)
		return tok
	}
	assert.Equal(t, 200, me(login.AccessToken))
	assert.Equal(t, 200, me(signed(previous)), "a token signed with the previous key is still accepted")
	assert.Equal(t, 401, me(signed(strings.Repeat("x", 40))), "a token signed with any other key is refused")
}
