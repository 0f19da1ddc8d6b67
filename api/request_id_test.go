package api

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestClientRequestIDsNeverReachTheAuditTrail (issue 13.5): the audit trail and the logs key on
// an id the server draws at random for every request. A client's X-Request-Id was trusted and
// stored (so a ministry's action could sit under a coordinator's request id, and 8 KB were
// accepted and echoed), and server ids were sequential. Now a short, safe client id is kept
// only as a separate correlation id (echoed in X-Correlation-Id, stored beside the request
// id); anything else is ignored.
func TestClientRequestIDsNeverReachTheAuditTrail(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	auditOf := func(id string) map[string]any {
		t.Helper()
		r := n.call("GET", "/api/v1/audit?object_id="+id, f.coord.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		items := r.json(t)["items"].([]any)
		require.Len(t, items, 1)
		return items[0].(map[string]any)
	}
	create := func(name string, headers map[string]string) (resp, string) {
		t.Helper()
		body, err := json.Marshal(map[string]string{"name": name, "type": "government", "country": "RW"})
		require.NoError(t, err)
		headers["Content-Type"] = "application/json"
		r := n.secCall("POST", "/api/v1/organizations", f.coord.Token, headers, bytes.NewReader(body))
		require.Equal(t, 201, r.Status, string(r.Body))
		return r, r.json(t)["id"].(string)
	}

	const forged = "coordinator-desk-7f3a"
	r, id := create("Ministry of ICT of Rwanda", map[string]string{"X-Request-Id": forged})
	rid := r.Header["X-Request-Id"]
	assert.NotEqual(t, forged, rid, "the client's id is not the request id")
	assert.Regexp(t, uuidV4, rid)
	assert.Equal(t, forged, r.Header["X-Correlation-Id"], "a valid client id comes back as the correlation id")
	entry := auditOf(id)
	assert.Equal(t, rid, entry["request_id"], "the audit trail keys on the server's id")
	assert.Equal(t, forged, entry["correlation_id"], "and keeps the client's beside it")

	r, _ = create("Ministry of Justice of Rwanda", map[string]string{"X-Correlation-Id": "trace:42.a_b"})
	assert.Equal(t, "trace:42.a_b", r.Header["X-Correlation-Id"])

	for name, bad := range map[string]string{
		"8 KB":        strings.Repeat("A", 8<<10),
		"65 chars":    strings.Repeat("a", 65),
		"spaces":      "a b",
		"markup":      "<script>alert(1)</script>",
		"non-ASCII":   "réquête",
		"header char": "a;b=c",
	} {
		t.Run(name, func(t *testing.T) {
			r, id := create("Ministry of Health of Rwanda "+name, map[string]string{"X-Request-Id": bad})
			assert.Regexp(t, uuidV4, r.Header["X-Request-Id"])
			assert.Empty(t, r.Header["X-Correlation-Id"], "an invalid client id is ignored")
			assert.NotContains(t, string(r.Body), bad)
			entry := auditOf(id)
			assert.Equal(t, r.Header["X-Request-Id"], entry["request_id"])
			assert.Nil(t, entry["correlation_id"])
		})
	}

	// Server ids are random: two consecutive ones share no tail (Fiber's default generator
	// counted up from one random seed, so consecutive ids differed only in their first bytes).
	a := n.call("GET", "/healthz", "", nil).Header["X-Request-Id"]
	b := n.call("GET", "/healthz", "", nil).Header["X-Request-Id"]
	assert.Regexp(t, uuidV4, a)
	assert.NotEqual(t, a[24:], b[24:], "%s and %s", a, b)
	assert.NotEqual(t, a[:8], b[:8], "%s and %s", a, b)
}
