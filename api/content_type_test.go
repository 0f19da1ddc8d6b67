package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodiesWithoutAJSONContentTypeAreRefused (issue 13.8): a body sent with no Content-Type
// (or an empty one) was read as JSON, although SECURITY.md says every write reads only
// application/json. It is now a 415 like any other type, and nothing is stored; a request
// with no body at all (a transition without a reason) still needs no Content-Type.
func TestBodiesWithoutAJSONContentTypeAreRefused(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	draft := n.newNeed(t, "draft", "public")
	raw := func(v any) []byte {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	needsBefore, offersBefore := e.storeCounts(t)
	cases := []struct {
		method, path, token string
		body                []byte
	}{
		{"POST", "/api/v1/needs", f.ministry.Token, raw(needBody(&e.fx, "ministry", "No content type"))},
		{"PATCH", "/api/v1/needs/" + draft, f.ministry.Token, raw(map[string]any{"title": "Patched without a content type"})},
		{"POST", "/api/v1/needs/" + draft + "/submit", f.ministry.Token, raw(map[string]any{"reason": "ready"})},
		{"POST", "/api/v1/auth/login", "", raw(map[string]string{"email": f.donor.Email, "password": pw})},
		{"POST", "/api/v1/organizations", f.coord.Token, raw(map[string]string{"name": "No type", "type": "donor"})},
	}
	for _, c := range cases {
		for name, headers := range map[string]map[string]string{"absent": {}, "empty": {"Content-Type": ""}} {
			r := n.secCall(c.method, c.path, c.token, headers, bytes.NewReader(c.body))
			assert.Equal(t, 415, r.Status, "%s %s, Content-Type %s: %s", c.method, c.path, name, r.Body)
			if r.Status == 415 {
				assert.Contains(t, r.problem(t).Detail, "application/json")
			}
		}
	}
	needsAfter, offersAfter := e.storeCounts(t)
	assert.Equal(t, needsBefore, needsAfter, "nothing stored")
	assert.Equal(t, offersBefore, offersAfter)
	r := n.call("GET", "/api/v1/needs/"+draft, f.ministry.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "draft", r.json(t)["status"], "nothing changed")
	assert.NotEqual(t, "Patched without a content type", r.json(t)["title"])

	// No body, no Content-Type: fine where the body is optional.
	r = n.secCall("POST", "/api/v1/needs/"+draft+"/submit", f.ministry.Token, nil, nil)
	assert.Equal(t, 200, r.Status, string(r.Body))
}
