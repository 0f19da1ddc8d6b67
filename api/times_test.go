package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStoredTimesAgreeAcrossReplicas: the store keeps times to the millisecond, so every time
// capmatch sets is taken to the millisecond: the replica that made a change and a replica that
// read it from the store answer the same created_at and updated_at (and list cursors, which
// sort by creation time, agree).
func TestStoredTimesAgreeAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	a := e.node()
	f := a.seed()
	r := a.call("POST", "/api/v1/needs", f.ministry.Token, needBody(f, "ministry", "Times to the millisecond"))
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	r = a.call("PATCH", "/api/v1/needs/"+id, f.ministry.Token, map[string]any{"title": "Times, edited"})
	require.Equal(t, 200, r.Status, string(r.Body))

	b := e.node() // loads everything from the store
	onA := a.call("GET", "/api/v1/needs/"+id, f.ministry.Token, nil).json(t)
	onB := b.call("GET", "/api/v1/needs/"+id, f.ministry.Token, nil).json(t)
	for _, field := range []string{"created_at", "updated_at"} {
		assert.Equal(t, onA[field], onB[field], "%s: the writing replica and one that read the store agree", field)
		ts, err := time.Parse(time.RFC3339Nano, onA[field].(string))
		require.NoError(t, err)
		assert.Zero(t, ts.Nanosecond()%int(time.Millisecond), "%s %s is to the millisecond", field, onA[field])
	}
}
