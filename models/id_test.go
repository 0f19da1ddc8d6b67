package models

import (
	"testing"
	"time"
)

// TestNewIDIsMonotonicWithinAMillisecond: times are kept to the millisecond (StoredTime), so
// objects created in the same millisecond tie on created_at and lists order them by id; ids made
// in one process in the same millisecond still sort in the order they were made.
func TestNewIDIsMonotonicWithinAMillisecond(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 123_000_000, time.UTC)
	prev := NewID(now)
	for i := range 2000 {
		id := NewID(now.Add(time.Duration(i%900) * time.Microsecond)) // all within the same millisecond
		if id <= prev {
			t.Fatalf("id %d: %s does not sort after %s", i, id, prev)
		}
		if len(id) != 24 || !ValidID(id) {
			t.Fatalf("id %q", id)
		}
		prev = id
	}
	later := NewID(now.Add(time.Millisecond))
	if later <= prev {
		t.Fatalf("an id of the next millisecond %s sorts before %s", later, prev)
	}
	if a, b := NewID(now.Add(time.Hour)), NewID(now.Add(time.Hour)); a[:9] != b[:9] || a == b {
		t.Fatalf("same millisecond, same time prefix, different ids: %s %s", a, b)
	}
}
