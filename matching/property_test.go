package matching

import (
	"reflect"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// TestScoreProperties checks the invariants of every scored pair of a random marketplace:
// 0 <= score <= 1, score == sum of contributions, contribution == weight × value (to the
// rounding), values in [0,1], and that scoring is deterministic.
func TestScoreProperties(t *testing.T) {
	needs, offers, c := synthData(12, 120, 120)
	ctx := withExternal(c, needs) // and activities published to IATI by others (issue 18.1)
	passed := 0
	for name, w := range testWeights() {
		for _, n := range needs {
			for _, o := range offers {
				m, ok := Score(n, o, w, ctx)
				m2, ok2 := Score(n, o, w, ctx)
				if ok != ok2 || !reflect.DeepEqual(m, m2) {
					t.Fatalf("%s: scoring %s/%s is not deterministic", name, n.ID, o.ID)
				}
				if !ok {
					continue
				}
				passed++
				checkMatch(t, m, w)
				if t.Failed() {
					t.Fatalf("%s: pair %s/%s: %+v", name, n.ID, o.ID, m)
				}
			}
		}
	}
	if passed < 1000 {
		t.Errorf("only %d pairs passed the hard constraints; the generator is too strict to test much", passed)
	}
}

// FuzzScore builds a need and an offer from arbitrary input and checks the invariants, and
// that an index ranks the pair exactly as Score scores it. The seed corpus is in
// testdata/fuzz/FuzzScore.
func FuzzScore(f *testing.F) {
	f.Add("SN", "cert_setup", "fr", "training,expert_deployment", int64(400000), "2027-03-01", 18, "high", "sim3", 1, 3,
		"cert_setup,cert_maturity", "incident_management", "fr,en", "expert_deployment,training,mentoring", "", "002",
		int64(2000000), int64(400000), 4, 1, "2027-01-01", "2028-12-31", "open", "2026-06-01", 0)
	f.Add("GM", "cybercrime_legislation", "en", "policy_advice", int64(0), "", 0, "", "none", 0, 0,
		"", "cybercrime", "", "", "GM,SL", "", int64(0), int64(0), 1, 0, "", "", "open", "", 3)
	f.Fuzz(func(t *testing.T, country, capability, langs, mods string, budget int64, start string, dur int,
		priority, framework string, cur, tgt int,
		ocaps, othemes, olangs, omods, ocountries, oregions string, obudget, committed int64, maxEng, used int,
		from, until, status, today string, active int) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		n := &models.Need{ID: "n", Country: country, Capability: models.Capability(capability),
			Languages: split(langs), BudgetUSD: budget, StartBy: models.Date(start), DurationMonths: dur,
			Priority: models.Priority(priority), Maturity: models.Maturity{Framework: models.MaturityFramework(framework), Current: cur, Target: tgt},
			Status: models.NeedOpen}
		for _, m := range split(mods) {
			n.Modalities = append(n.Modalities, models.Modality(m))
		}
		o := &models.Offer{ID: "o", Languages: split(olangs), EligibleCountries: split(ocountries), EligibleRegions: split(oregions),
			BudgetUSD: obudget, BudgetCommitted: committed, MaxEngagements: maxEng, EngagementsUsed: used,
			AvailableFrom: models.Date(from), AvailableUntil: models.Date(until), Status: models.OfferStatus(status)}
		for _, c := range split(ocaps) {
			o.Capabilities = append(o.Capabilities, models.Capability(c))
		}
		for _, th := range split(othemes) {
			o.Themes = append(o.Themes, models.Theme(th))
		}
		for _, m := range split(omods) {
			o.Modalities = append(o.Modalities, models.Modality(m))
		}
		c := &Context{Today: models.Date(today), Active: map[Delivery]int{{Country: country, Capability: models.Capability(capability)}: active}}
		w := DefaultWeights()
		m, ok := Score(n, o, w, c)
		m2, ok2 := Score(n, o, w, c)
		if ok != ok2 || !reflect.DeepEqual(m, m2) {
			t.Fatal("not deterministic")
		}
		if eok, _ := Eligible(n, o, c); eok != ok {
			t.Fatalf("Eligible says %v, Score says %v", eok, ok)
		}
		ix := NewIndex([]*models.Need{n}, []*models.Offer{o})
		got := ix.TopOffersForNeed("n", 3, w, c)
		if ok {
			checkMatch(t, m, w)
		}
		if !ok || !m.Listed() {
			if len(got) != 0 {
				t.Fatalf("index lists a pair Score rejects or finds unrelated: %+v", got)
			}
			if back := ix.TopNeedsForOffer("o", 3, w, c, nil); len(back) != 0 {
				t.Fatalf("offer side lists a pair Score rejects or finds unrelated: %+v", back)
			}
			if ok && m.Score != 0 {
				t.Fatalf("an unrelated pair scores %v", m.Score)
			}
			return
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], m) {
			t.Fatalf("index %+v, Score %+v", got, m)
		}
		if back := ix.TopNeedsForOffer("o", 3, w, c, nil); len(back) != 1 || !reflect.DeepEqual(back[0], m) {
			t.Fatalf("offer side %+v, Score %+v", back, m)
		}
	})
}
