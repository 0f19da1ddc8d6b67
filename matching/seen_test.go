package matching

import (
	"testing"

	"github.com/capmatch/capmatch/models"
)

// TestDuplicationReasonCountsWhatTheReaderSees (issue 13.4): the duplication factor's value
// counts every delivery under way (Active), its reason only those the reader may see
// (Context.Seen), so a reason never tells a reader how many deliveries it may not see. A
// reader who sees none while some exist reads "at least one", which says no more than the
// value does. Explain and Score agree.
func TestDuplicationReasonCountsWhatTheReaderSees(t *testing.T) {
	d := Delivery{Country: "SN", Capability: models.CapCERTSetup}
	tests := []struct {
		name   string
		active int
		seen   func(Delivery) int
		value  float64
		reason string
	}{
		{"none", 0, func(Delivery) int { return 0 }, 1, "duplication.none capability=cert_setup country=SN"},
		{"the reader sees all", 3, nil, 0, "duplication.some capability=cert_setup count=3 country=SN"},
		{"the reader sees one of three", 3, func(Delivery) int { return 1 }, 0, "duplication.some capability=cert_setup count=1 country=SN"},
		{"the reader sees two of three", 3, func(Delivery) int { return 2 }, 0, "duplication.some capability=cert_setup count=2 country=SN"},
		{"the reader sees none of three", 3, func(Delivery) int { return 0 }, 0, "duplication.hidden capability=cert_setup country=SN"},
		{"a stale count never exceeds the deliveries", 1, func(Delivery) int { return 4 }, 0, "duplication.some capability=cert_setup count=1 country=SN"},
	}
	w := DefaultWeights()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, o := baseNeed(), baseOffer()
			c := &Context{Active: map[Delivery]int{d: tt.active}, Seen: tt.seen}
			m, ok := Score(n, o, w, c)
			if !ok {
				t.Fatal("pair failed a hard constraint")
			}
			ix := NewIndex([]*models.Need{n}, []*models.Offer{o})
			x, ok := ix.Explain(n.ID, o.ID, w, c)
			if !ok {
				t.Fatal("Explain dropped the pair")
			}
			for _, got := range []Factor{factor(m, FactorDuplication), factor(x, FactorDuplication)} {
				if got.Value != tt.value || reasonOf(got) != tt.reason {
					t.Errorf("duplication = %v %q, want %v %q", got.Value, reasonOf(got), tt.value, tt.reason)
				}
			}
			if m.Score != x.Score {
				t.Errorf("Score %v and Explain %v disagree", m.Score, x.Score)
			}
			// What the reader sees never moves the score.
			all, _ := Score(n, o, w, &Context{Active: c.Active})
			if all.Score != m.Score {
				t.Errorf("the score moved with what the reader sees: %v, %v", all.Score, m.Score)
			}
		})
	}
}
