package matching

import (
	"reflect"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// TestExternalActivitiesLowerTheDuplicationFactor (issue 18.1): an activity published to IATI
// by others that delivers the need's capability in its country counts against the
// duplication factor at ExternalWeight times its mapping confidence, never as much as a
// delivery on capmatch, with its own reason; the score stays the sum of the contributions,
// and an index ranks and explains it exactly as Score does.
func TestExternalActivitiesLowerTheDuplicationFactor(t *testing.T) {
	d := Delivery{Country: "SN", Capability: models.CapCERTSetup}
	tests := []struct {
		name   string
		active int
		ext    External
		value  float64
		reason string
	}{
		{"nothing", 0, External{}, 1, "duplication.none capability=cert_setup country=SN"},
		{"one, high confidence", 0, External{Count: 1, Confidence: 1}, 0.5,
			"duplication.external capability=cert_setup confidence=1 count=1 country=SN"},
		{"two, medium", 0, External{Count: 2, Confidence: 0.6}, 0.7,
			"duplication.external capability=cert_setup confidence=0.6 count=2 country=SN"},
		{"one, low", 0, External{Count: 1, Confidence: 0.3}, 0.85,
			"duplication.external capability=cert_setup confidence=0.3 count=1 country=SN"},
		{"a delivery on capmatch decides", 1, External{Count: 3, Confidence: 1}, 0,
			"duplication.some capability=cert_setup count=1 country=SN"},
		{"another country's activity does not count", 0, External{}, 1, "duplication.none capability=cert_setup country=SN"},
	}
	w := DefaultWeights()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, o := baseNeed(), baseOffer()
			c := &Context{Active: map[Delivery]int{d: tt.active}, External: map[Delivery]External{d: tt.ext,
				{Country: "GM", Capability: models.CapCERTSetup}: {Count: 5, Confidence: 1}}}
			m, ok := Score(n, o, w, c)
			if !ok {
				t.Fatal("pair failed a hard constraint")
			}
			checkMatch(t, m, w)
			got := factor(m, FactorDuplication)
			if got.Value != tt.value || reasonOf(got) != tt.reason {
				t.Errorf("duplication = %v %q, want %v %q", got.Value, reasonOf(got), tt.value, tt.reason)
			}
			ix := NewIndex([]*models.Need{n}, []*models.Offer{o})
			ranked := ix.TopOffersForNeed(n.ID, 3, w, c)
			if len(ranked) != 1 || ranked[0].Score != m.Score || reasonOf(factor(ranked[0], FactorDuplication)) != tt.reason {
				t.Errorf("the index ranks %+v, Score says %+v", ranked, m)
			}
			all := ix.RebuildAll(3, w, c, 2)
			if len(all.ForNeed[n.ID]) != 1 || all.ForNeed[n.ID][0].Score != m.Score {
				t.Errorf("RebuildAll %+v, Score %v", all.ForNeed[n.ID], m.Score)
			}
			none, _ := Score(n, o, w, &Context{})
			if tt.value < 1 && !(m.Score < none.Score) {
				t.Errorf("the external activity does not lower the score: %v, without %v", m.Score, none.Score)
			}
		})
	}
}

// withExternal adds activities published to IATI by others to a synthetic context: as many
// as it has deliveries, at the three confidences, some where a delivery exists too.
func withExternal(c *Context, needs []*models.Need) *Context {
	out := *c
	out.External = map[Delivery]External{}
	confidences := []float64{1, 0.6, 0.3}
	for i := range max(len(c.Active), 5) {
		x := needs[(i*7919)%len(needs)]
		d := Delivery{Country: x.Country, Capability: x.Capability}
		e := out.External[d]
		e.Count++
		e.Confidence = max(e.Confidence, confidences[i%3])
		out.External[d] = e
	}
	return &out
}

// TestIndexWithExternalActivitiesMatchesBruteForce: on a synthetic market with activities
// published to IATI by others, the index ranks every need's offers and every offer's needs as
// scoring each pair does, every match keeps its invariants, and a rebuild agrees.
func TestIndexWithExternalActivitiesMatchesBruteForce(t *testing.T) {
	needs, offers, c := synthData(18, 120, 120)
	ctx := withExternal(c, needs)
	ix := NewIndex(needs, offers)
	w := DefaultWeights()
	lowered := 0
	for _, n := range needs {
		got := ix.TopOffersForNeed(n.ID, 20, w, ctx)
		want := bruteOffers(n, offers, w, ctx, 20)
		if !reflect.DeepEqual(nilIfEmpty(got), nilIfEmpty(want)) {
			t.Fatalf("need %s:\n got %v\nwant %v", n.ID, scoresOnly(got), scoresOnly(want))
		}
		for _, m := range got {
			checkMatch(t, m, w)
			if v := factor(m, FactorDuplication).Value; v > 0 && v < 1 {
				lowered++
			}
		}
	}
	if lowered == 0 {
		t.Error("no ranked pair has a duplication value between 0 and 1: the external activities never counted")
	}
	for _, o := range offers {
		got := ix.TopNeedsForOffer(o.ID, 20, w, ctx, nil)
		want := bruteNeeds(o, needs, w, ctx, 20, nil)
		if !reflect.DeepEqual(nilIfEmpty(got), nilIfEmpty(want)) {
			t.Fatalf("offer %s:\n got %v\nwant %v", o.ID, scoresOnly(got), scoresOnly(want))
		}
	}
	all := ix.RebuildAll(20, w, ctx, 3)
	for _, n := range needs {
		if got, want := scoresOnly(all.ForNeed[n.ID]), scoresOnly(ix.TopOffersForNeed(n.ID, 20, w, ctx)); !reflect.DeepEqual(got, want) {
			t.Fatalf("RebuildAll for %s: %v, want %v", n.ID, got, want)
		}
	}
}
