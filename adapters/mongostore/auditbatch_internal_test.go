package mongostore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuditBatcherGroupsAndAcknowledgesEach: entries appended while an insert is in flight go
// together in the next one; every caller is answered with its own insert's result (all of a
// failed insert's callers fail, and none is answered before its insert returned); and nothing
// is left behind.
func TestAuditBatcherGroupsAndAcknowledgesEach(t *testing.T) {
	var mu sync.Mutex
	var stored []string
	var batches [][]string
	release := make(chan error) // each insert waits for the test to say how it ends
	started := make(chan []string, 8)
	b := &auditBatcher{insert: func(_ context.Context, es []*models.AuditEntry) error {
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.ID
		}
		started <- ids
		err := <-release
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, ids)
		if err == nil {
			stored = append(stored, ids...)
		}
		return err
	}}
	ctx := context.Background()
	type result struct {
		id  string
		err error
	}
	results := make(chan result, 16)
	add := func(id string) {
		go func() { results <- result{id, b.add(ctx, &models.AuditEntry{ID: id})} }()
	}
	next := func() []string {
		select {
		case ids := <-started:
			return ids
		case <-time.After(10 * time.Second):
			t.Fatal("no insert started")
			return nil
		}
	}

	add("a")
	assert.Equal(t, []string{"a"}, next(), "alone, an entry goes at once")
	for _, id := range []string{"b", "c", "d"} {
		add(id)
	}
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.pending) == 3 }, 10*time.Second, time.Millisecond)
	select {
	case r := <-results:
		t.Fatalf("%s answered while its insert is in flight", r.id)
	default:
	}
	release <- nil
	assert.Equal(t, result{"a", nil}, <-results)
	assert.ElementsMatch(t, []string{"b", "c", "d"}, next(), "the three that waited go in one insert")
	boom := errors.New("disk full")
	release <- boom
	for range 3 {
		r := <-results
		assert.ErrorIs(t, r.err, boom, "every entry of a failed insert fails: %s", r.id)
	}

	add("e")
	assert.Equal(t, []string{"e"}, next())
	release <- nil
	assert.Equal(t, result{"e", nil}, <-results)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"a", "e"}, stored, "only acknowledged entries were stored")
	assert.Len(t, batches, 3)
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.pending)
}
