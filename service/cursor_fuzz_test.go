package service

import (
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// FuzzCursor checks the cursor codec's invariants: an encoded cursor decodes to the same
// position for the same query and fails for any other query; an arbitrary string never decodes
// (a forged cursor needs the key) and never panics.
func FuzzCursor(f *testing.F) {
	f.Add(int64(1700000000), "need-sn-cert-setup", 1, "needs|SN||||", "abc.def")
	f.Add(int64(0), "", 0, "", "")
	f.Add(int64(-5), "x", 2, "offers|||open||csirt", "eyJrIjp7InQiOiIifSwicSI6IiJ9.AAAA")
	c := NewCursors([]byte("fuzz-key-fuzz-key-fuzz-key-fuzz!"))
	f.Fuzz(func(t *testing.T, sec int64, id string, rank int, query, forged string) {
		if !models.ValidID(id) && id != "" {
			// Positions come from stored ids, which pass models.ValidID (at most 64 of
			// [a-z0-9_-]). Longer ids with characters JSON escapes (a fuzzed id of 50 '&',
			// 6 bytes each once escaped) make a cursor longer than Decode's 512-byte limit.
			return
		}
		k := &readmodel.Key{Rank: rank, CreatedAt: time.Unix(sec%1e10, 0).UTC(), ID: id}
		s := c.Encode(k, query)
		got, err := c.Decode(s, query)
		if err != nil {
			t.Fatalf("own cursor rejected: %v", err)
		}
		if got.ID != k.ID || got.Rank != k.Rank || !got.CreatedAt.Equal(k.CreatedAt) {
			t.Fatalf("round trip: got %+v want %+v", got, k)
		}
		if _, err := c.Decode(s, query+"x"); err == nil {
			t.Fatal("a cursor decoded for another query")
		}
		if forged != "" && forged != s {
			if _, err := c.Decode(forged, query); err == nil {
				t.Fatalf("forged cursor %q accepted", forged)
			}
		}
	})
}
