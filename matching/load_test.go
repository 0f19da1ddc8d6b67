package matching

import (
	"reflect"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// TestLoadRanksAsIncrementalUpdates: on synthetic marketplaces, an index that took a long
// history of changes one at a time (new objects, edits, closings, withdrawals, removals, in
// random order) and an index bulk-loaded with the final state give exactly the same top k for
// every need and every offer. The loaded index then takes more changes one at a time and
// still agrees with an index built from scratch, and a Load over a used index forgets what
// it held before.
func TestLoadRanksAsIncrementalUpdates(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		needs, offers, ctx := synthData(seed, 250, 250)
		s := newSynthetic(seed + 100)
		w := DefaultWeights()
		inc := NewIndex(nil, nil)
		curN := map[string]*models.Need{}
		curO := map[string]*models.Offer{}
		// A history: every object arrives, then random edits and removals.
		order := s.rng.Perm(len(needs) + len(offers))
		for _, i := range order {
			if i < len(needs) {
				inc.UpsertNeed(needs[i])
				curN[needs[i].ID] = needs[i]
			} else {
				o := offers[i-len(needs)]
				inc.UpsertOffer(o)
				curO[o.ID] = o
			}
		}
		for step := range 400 {
			switch step % 5 {
			case 0, 1: // edit an offer: eligibility, capacity, status
				o := *offers[s.rng.IntN(len(offers))]
				if _, ok := curO[o.ID]; !ok {
					continue
				}
				o.EligibleRegions, o.EligibleCountries = []string{s.pick([]string{"002", "142", "419", "009"})}, nil
				o.EngagementsUsed = s.rng.IntN(o.MaxEngagements + 1)
				if s.rng.IntN(4) == 0 {
					o.Status = models.OfferClosed
				}
				inc.UpsertOffer(&o)
				curO[o.ID] = &o
			case 2: // edit a need: status, capability, country
				n := *needs[s.rng.IntN(len(needs))]
				if _, ok := curN[n.ID]; !ok {
					continue
				}
				n.Status = []models.NeedStatus{models.NeedOpen, models.NeedSubmitted, models.NeedWithdrawn, models.NeedMatched}[s.rng.IntN(4)]
				n.Capability = s.capability()
				n.Theme, _ = models.CapabilityTheme(n.Capability)
				inc.UpsertNeed(&n)
				curN[n.ID] = &n
			case 3:
				id := needs[s.rng.IntN(len(needs))].ID
				inc.RemoveNeed(id)
				delete(curN, id)
			case 4:
				id := offers[s.rng.IntN(len(offers))].ID
				inc.RemoveOffer(id)
				delete(curO, id)
			}
		}
		finalN, finalO := mapValues(curN), mapValues(curO)
		// The bulk path starts from an index that held something else.
		loaded := NewIndex(needs[:50], offers[100:])
		loaded.Load(finalN, finalO)
		sameRankings(t, "after the history", inc, loaded, finalN, finalO, w, ctx)

		// Both keep taking changes one at a time.
		extraN, extraO, _ := synthData(seed+50, 40, 40)
		for i := range extraN {
			extraN[i].ID, extraO[i].ID = "x"+extraN[i].ID, "x"+extraO[i].ID
			for _, ix := range []*Index{inc, loaded} {
				ix.UpsertNeed(extraN[i])
				ix.UpsertOffer(extraO[i])
			}
			finalN, finalO = append(finalN, extraN[i]), append(finalO, extraO[i])
		}
		for _, ix := range []*Index{inc, loaded} {
			ix.RemoveOffer(finalO[0].ID)
			ix.RemoveNeed(finalN[0].ID)
		}
		finalN, finalO = finalN[1:], finalO[1:]
		sameRankings(t, "after more changes", NewIndex(finalN, finalO), loaded, finalN, finalO, w, ctx)
	}
}

// sameRankings fails unless both indexes hold the same objects and rank every need and every
// offer alike.
func sameRankings(t *testing.T, when string, want, got *Index, needs []*models.Need, offers []*models.Offer, w Weights, ctx *Context) {
	t.Helper()
	wn, wo := want.Len()
	gn, gotO := got.Len()
	if wn != gn || wo != gotO || gn != len(needs) || gotO != len(offers) {
		t.Fatalf("%s: %d/%d and %d/%d needs/offers, want %d/%d", when, wn, wo, gn, gotO, len(needs), len(offers))
	}
	a, b := want.RebuildAll(12, w, ctx, 2), got.RebuildAll(12, w, ctx, 2)
	if !reflect.DeepEqual(a, b) {
		for id, l := range a.ForNeed {
			if !reflect.DeepEqual(l, b.ForNeed[id]) {
				t.Fatalf("%s: need %s ranked %v, want %v", when, id, b.ForNeed[id], l)
			}
		}
		t.Fatalf("%s: the rankings of offers differ", when)
	}
	listed := 0
	for _, l := range a.ForNeed {
		listed += len(l)
	}
	if listed == 0 {
		t.Fatalf("%s: no need has a match: the test compares nothing", when)
	}
}

func mapValues[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
