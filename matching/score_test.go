package matching

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/models"
)

// baseNeed is the contract's example need: Senegal wants a national CSIRT.
func baseNeed() *models.Need {
	return &models.Need{
		ID: "need-sn", Title: "Establish a national CSIRT", Country: "SN",
		Theme: models.ThemeIncidentManagement, Capability: models.CapCERTSetup,
		Modalities: []models.Modality{models.ModExpertDeployment, models.ModTraining},
		Languages:  []string{"fr"}, BudgetUSD: 400_000, StartBy: "2027-03-01", DurationMonths: 18,
		Priority: models.PriorityHigh, Maturity: models.Maturity{Framework: models.FrameworkSIM3, Current: 1, Target: 3},
		Visibility: models.VisibilityPublic, Status: models.NeedOpen,
	}
}

// baseOffer is the contract's example offer, with some budget and one engagement used.
func baseOffer() *models.Offer {
	return &models.Offer{
		ID: "offer-fr", Title: "Francophone CSIRT establishment programme",
		Themes:       []models.Theme{models.ThemeIncidentManagement},
		Capabilities: []models.Capability{models.CapCERTSetup, models.CapCERTMaturity},
		Modalities:   []models.Modality{models.ModExpertDeployment, models.ModTraining, models.ModMentoring},
		Languages:    []string{"fr", "en"}, EligibleRegions: []string{"002"},
		BudgetUSD: 2_000_000, BudgetCommitted: 400_000, MaxEngagements: 4, EngagementsUsed: 1,
		AvailableFrom: "2027-01-01", AvailableUntil: "2028-12-31", Status: models.OfferOpen,
	}
}

// checkMatch asserts the invariants every match must satisfy.
func checkMatch(t *testing.T, m Match, w Weights) {
	t.Helper()
	if m.Score < 0 || m.Score > 1 {
		t.Errorf("score %v outside [0,1]", m.Score)
	}
	if len(m.Factors) != nFactors {
		t.Fatalf("got %d factors, want %d", len(m.Factors), nFactors)
	}
	wa := w.array()
	var sum float64
	for i, f := range m.Factors {
		if f.Name != factorNames[i] {
			t.Errorf("factor %d is %q, want %q", i, f.Name, factorNames[i])
		}
		if f.Value < 0 || f.Value > 1 || math.IsNaN(f.Value) {
			t.Errorf("%s value %v outside [0,1]", f.Name, f.Value)
		}
		if f.Weight != wa[i] {
			t.Errorf("%s weight %v, want %v", f.Name, f.Weight, wa[i])
		}
		// The contribution is weight × (unrounded) value × relevance rounded to 4 places; the
		// value is shown rounded to 4 places too, so allow both roundings.
		if d := math.Abs(f.Contribution - f.Weight*f.Value*m.Relevance); d > 0.5e-4+f.Weight*0.5e-4+1e-12 {
			t.Errorf("%s contribution %v != weight %v × value %v × relevance %v", f.Name, f.Contribution, f.Weight, f.Value, m.Relevance)
		}
		if f.Contribution != round4(f.Contribution) {
			t.Errorf("%s contribution %v not rounded to 4 places", f.Name, f.Contribution)
		}
		if !slices.Contains(ReasonCodes, f.Code) || !strings.HasPrefix(f.Code, f.Name+".") {
			t.Errorf("%s has reason code %q", f.Name, f.Code)
		}
		if f.Reason != "" {
			t.Errorf("%s has a reason text %q: the engine gives codes, the edges write words", f.Name, f.Reason)
		}
		sum += f.Contribution
	}
	if m.Score != round4(sum) {
		t.Errorf("score %v != rounded sum of contributions %v", m.Score, round4(sum))
	}
	if m.Score != round4(m.Score) {
		t.Errorf("score %v not rounded to 4 places", m.Score)
	}
	// Relevance is the capability value, and the band follows from the score.
	if m.Relevance != m.Factors[fCapability].Value || (m.Relevance != 0 && m.Relevance != 0.5 && m.Relevance != 1) {
		t.Errorf("relevance %v, capability value %v", m.Relevance, m.Factors[fCapability].Value)
	}
	if m.Band != BandOf(m.Score) {
		t.Errorf("band %q for score %v", m.Band, m.Score)
	}
}

func factor(m Match, name string) Factor {
	for _, f := range m.Factors {
		if f.Name == name {
			return f
		}
	}
	return Factor{}
}

func TestScoreBasePairIsPerfect(t *testing.T) {
	w := DefaultWeights()
	m, ok := Score(baseNeed(), baseOffer(), w, nil)
	if !ok {
		t.Fatal("base pair failed a hard constraint")
	}
	checkMatch(t, m, w)
	// Perfect on every factor but focus: the offer is open to the 60 countries of Africa,
	// focus 1 − 59/248 = 0.7621, which costs 0.05 × 0.2379 = 0.0119.
	if m.Score != 0.9881 || m.NeedID != "need-sn" || m.OfferID != "offer-fr" || m.Relevance != 1 || m.Band != BandStrong {
		t.Errorf("got %+v", m)
	}
	for _, want := range []struct{ name, reason string }{
		{FactorCapability, "capability.exact capability=cert_setup"},
		{FactorLanguage, "language.all asked=1 got=[fr] matched=1"},
		{FactorModality, "modality.all asked=2 got=[expert_deployment training] matched=2"},
		{FactorBudget, "budget.full remaining=$1600000 requested=$400000"},
		{FactorTiming, "timing.full period=18m@2027-03-01 window=2027-01-01..2028-12-31"},
		{FactorMaturity, "maturity.gap count=2 current=1/sim3 framework=sim3 gap=2 provided=[training mentoring expert_deployment] target=3/sim3"},
		{FactorFocus, "focus.some reach=60 total=249"},
		{FactorPriority, "priority.stated priority=high"},
		{FactorDuplication, "duplication.none capability=cert_setup country=SN"},
	} {
		if got := reasonOf(factor(m, want.name)); got != want.reason {
			t.Errorf("%s reason %q, want %q", want.name, got, want.reason)
		}
	}
}

func TestFactorValues(t *testing.T) {
	caps := func(cs ...models.Capability) []models.Capability { return cs }
	mods := func(ms ...models.Modality) []models.Modality { return ms }
	tests := []struct {
		name   string
		edit   func(n *models.Need, o *models.Offer, c *Context)
		factor string
		value  float64
		reason string // substring of the reason (reasonOf)
	}{
		{"capability exact", nil, FactorCapability, 1, "capability.exact capability=cert_setup"},
		{"capability same theme via capability", func(n *models.Need, o *models.Offer, c *Context) {
			o.Capabilities, o.Themes = caps(models.CapCERTMaturity), nil
		}, FactorCapability, 0.5, "capability.theme capability=cert_setup theme=incident_management"},
		{"capability same theme via theme", func(n *models.Need, o *models.Offer, c *Context) {
			o.Capabilities, o.Themes = caps(models.CapAwareness), []models.Theme{models.ThemeIncidentManagement}
		}, FactorCapability, 0.5, "capability.theme capability=cert_setup theme=incident_management"},
		{"capability unrelated", func(n *models.Need, o *models.Offer, c *Context) {
			o.Capabilities, o.Themes = caps(models.CapAwareness), []models.Theme{models.ThemeCultureSkills}
		}, FactorCapability, 0, "capability.none capability=cert_setup theme=incident_management"},
		{"language half", func(n *models.Need, o *models.Offer, c *Context) { n.Languages = []string{"fr", "ar"} },
			FactorLanguage, 0.5, "language.some asked=2 got=[fr] matched=1 missing=[ar]"},
		{"language none", func(n *models.Need, o *models.Offer, c *Context) { n.Languages = []string{"ar"} },
			FactorLanguage, 0, "language.none asked=1 matched=0 missing=[ar]"},
		{"language duplicates counted once", func(n *models.Need, o *models.Offer, c *Context) { n.Languages = []string{"fr", "fr", "pt"} },
			FactorLanguage, 0.5, "language.some asked=2 got=[fr] matched=1 missing=[pt]"},
		{"language not stated", func(n *models.Need, o *models.Offer, c *Context) { n.Languages = nil },
			FactorLanguage, 1, "language.unstated"},
		{"modality half", func(n *models.Need, o *models.Offer, c *Context) {
			n.Modalities = mods(models.ModFunding, models.ModTraining)
		},
			FactorModality, 0.5, "modality.some asked=2 got=[training] matched=1 missing=[funding]"},
		{"modality one third", func(n *models.Need, o *models.Offer, c *Context) {
			n.Modalities = mods(models.ModFunding, models.ModEquipment, models.ModMentoring)
		}, FactorModality, 0.3333, "modality.some asked=3 got=[mentoring] matched=1 missing=[funding equipment]"},
		{"modality none", func(n *models.Need, o *models.Offer, c *Context) { n.Modalities = mods(models.ModFunding) },
			FactorModality, 0, "modality.none asked=1 matched=0 missing=[funding]"},
		{"modality not stated", func(n *models.Need, o *models.Offer, c *Context) { n.Modalities = nil },
			FactorModality, 1, "modality.unstated"},
		{"budget partial", func(n *models.Need, o *models.Offer, c *Context) { o.BudgetCommitted = 1_900_000 },
			FactorBudget, 0.25, "budget.part remaining=$100000 requested=$400000 share=0.25"},
		// An offer with no budget left is not scored at all (TestHardConstraints, "no budget left").
		{"budget exactly enough", func(n *models.Need, o *models.Offer, c *Context) { o.BudgetCommitted = 1_600_000 },
			FactorBudget, 1, "budget.full remaining=$400000 requested=$400000"},
		{"budget not stated", func(n *models.Need, o *models.Offer, c *Context) { n.BudgetUSD = 0 },
			FactorBudget, 1, "budget.unstated"},
		// 2027-03-01 + 18 months = 2028-09-01: 550 days.
		{"timing window ends early", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableUntil = "2028-03-01" },
			FactorTiming, 0.6673, "timing.part period=18m@2027-03-01 share=0.667 window=2027-01-01..2028-03-01"}, // 367/550
		{"timing window starts late", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableFrom = "2027-09-01" },
			FactorTiming, 0.6655, "timing.part period=18m@2027-03-01 share=0.665 window=2027-09-01..2028-12-31"}, // 366/550
		{"timing window after the period", func(n *models.Need, o *models.Offer, c *Context) {
			o.AvailableFrom, o.AvailableUntil = "2029-01-01", "2030-12-31"
		}, FactorTiming, 0, "timing.none period=18m@2027-03-01 window=2029-01-01..2030-12-31"},
		{"timing open-ended", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableFrom, o.AvailableUntil = "", "" },
			FactorTiming, 1, "timing.full period=18m@2027-03-01 window=.."},
		{"timing today moves the start", func(n *models.Need, o *models.Offer, c *Context) {
			c.Today = "2027-10-01" // the period becomes 2027-10-01 + 550 days = 2029-04-04
		}, FactorTiming, 0.8327, "timing.part period=18m@2027-10-01(today) share=0.832 window=2027-01-01..2028-12-31"}, // (2029-01-01 − 2027-10-01 = 458) / 550
		{"timing zero duration counts as a month", func(n *models.Need, o *models.Offer, c *Context) {
			n.DurationMonths, o.AvailableUntil = 0, "2027-03-15"
		}, FactorTiming, 0.4839, "timing.part period=1m@2027-03-01 share=0.483 window=2027-01-01..2027-03-15"}, // 15/31
		{"maturity no baseline", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity = models.Maturity{Framework: models.FrameworkNone}
		},
			FactorMaturity, 0.5, "maturity.unstated"},
		{"maturity no gap", func(n *models.Need, o *models.Offer, c *Context) { n.Maturity.Current = 3 },
			FactorMaturity, 0.5, "maturity.unstated"},
		{"maturity small gap, light offer", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity.Current, n.Maturity.Target, o.Modalities = 2, 3, mods(models.ModFunding, models.ModEquipment)
		}, FactorMaturity, 0.5, "maturity.gap count=1 current=2/sim3 framework=sim3 gap=1 provided=[] target=3/sim3"},
		{"maturity small gap, one kind suffices", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity.Current, n.Maturity.Target, o.Modalities = 2, 3, mods(models.ModTraining)
		}, FactorMaturity, 1, "maturity.gap count=1 current=2/sim3 framework=sim3 gap=1 provided=[training] target=3/sim3"},
		{"maturity large gap, shallow offer", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity = models.Maturity{Framework: models.FrameworkCMM, Current: 1, Target: 5}
			o.Modalities = mods(models.ModTraining, models.ModFunding)
		}, FactorMaturity, 0.5, "maturity.gap count=3 current=1/cmm framework=cmm gap=4 provided=[training] target=5/cmm"},
		{"maturity large gap, deep offer", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity = models.Maturity{Framework: models.FrameworkCMM, Current: 1, Target: 5}
		}, FactorMaturity, 1, "maturity.gap count=3 current=1/cmm framework=cmm gap=4 provided=[training mentoring expert_deployment] target=5/cmm"},
		{"maturity offer matures CSIRTs, need starts from 0", func(n *models.Need, o *models.Offer, c *Context) {
			n.Maturity.Current = 0
			o.Capabilities = caps(models.CapCERTMaturity)
		}, FactorMaturity, 0.5, "maturity.gap_stage0 count=3 current=0/sim3"},
		{"maturity setup offer, need starts from 0", func(n *models.Need, o *models.Offer, c *Context) { n.Maturity.Current = 0 },
			FactorMaturity, 1, "maturity.gap count=3 current=0/sim3 framework=sim3 gap=3 provided=[training mentoring expert_deployment] target=3/sim3"},
		{"priority high", nil, FactorPriority, 1, "priority.stated priority=high"},
		{"priority medium", func(n *models.Need, o *models.Offer, c *Context) { n.Priority = models.PriorityMedium },
			FactorPriority, 0.6, "priority.stated priority=medium"},
		{"priority low", func(n *models.Need, o *models.Offer, c *Context) { n.Priority = models.PriorityLow },
			FactorPriority, 0.3, "priority.stated priority=low"},
		{"priority unknown", func(n *models.Need, o *models.Offer, c *Context) { n.Priority = "" },
			FactorPriority, 0.6, "priority.unstated"},
		{"duplication none", nil, FactorDuplication, 1, "duplication.none capability=cert_setup country=SN"},
		{"duplication other capability", func(n *models.Need, o *models.Offer, c *Context) {
			c.Active = map[Delivery]int{{Country: "SN", Capability: models.CapCERTMaturity}: 3}
		}, FactorDuplication, 1, "duplication.none capability=cert_setup country=SN"},
		{"duplication other country", func(n *models.Need, o *models.Offer, c *Context) {
			c.Active = map[Delivery]int{{Country: "GM", Capability: models.CapCERTSetup}: 3}
		}, FactorDuplication, 1, "duplication.none capability=cert_setup country=SN"},
		{"duplication one", func(n *models.Need, o *models.Offer, c *Context) {
			c.Active = map[Delivery]int{{Country: "SN", Capability: models.CapCERTSetup}: 1}
		}, FactorDuplication, 0, "duplication.some capability=cert_setup count=1 country=SN"},
		{"duplication several", func(n *models.Need, o *models.Offer, c *Context) {
			c.Active = map[Delivery]int{{Country: "SN", Capability: models.CapCERTSetup}: 2}
		}, FactorDuplication, 0, "duplication.some capability=cert_setup count=2 country=SN"},
	}
	w := DefaultWeights()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, o, c := baseNeed(), baseOffer(), &Context{}
			if tt.edit != nil {
				tt.edit(n, o, c)
			}
			m, ok := Score(n, o, w, c)
			if !ok {
				t.Fatal("pair failed a hard constraint")
			}
			checkMatch(t, m, w)
			f := factor(m, tt.factor)
			if f.Value != tt.value {
				t.Errorf("%s value %v, want %v (reason %q)", tt.factor, f.Value, tt.value, reasonOf(f))
			}
			if !strings.Contains(reasonOf(f), tt.reason) {
				t.Errorf("%s reason %q does not contain %q", tt.factor, reasonOf(f), tt.reason)
			}
		})
	}
}

func TestHardConstraints(t *testing.T) {
	tests := []struct {
		name string
		edit func(n *models.Need, o *models.Offer, c *Context)
		ok   bool
		why  string
	}{
		{"base pair", nil, true, ""},
		{"offer draft", func(n *models.Need, o *models.Offer, c *Context) { o.Status = models.OfferDraft }, false, "the offer is draft, not open"},
		{"offer closed", func(n *models.Need, o *models.Offer, c *Context) { o.Status = models.OfferClosed }, false, "not open"},
		{"no engagements left", func(n *models.Need, o *models.Offer, c *Context) { o.MaxEngagements, o.EngagementsUsed = 2, 2 }, false, "no engagements left"},
		{"one engagement left", func(n *models.Need, o *models.Offer, c *Context) { o.MaxEngagements, o.EngagementsUsed = 2, 1 }, true, ""},
		{"no budget left", func(n *models.Need, o *models.Offer, c *Context) { o.BudgetCommitted = o.BudgetUSD }, false, "no budget left"},
		{"one dollar left", func(n *models.Need, o *models.Offer, c *Context) { o.BudgetCommitted = o.BudgetUSD - 1 }, true, ""},
		{"region excludes the country", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"419"} }, false, "SN is not among"},
		{"sub-Saharan Africa", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"202"} }, true, ""},
		{"Western Africa", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"011"} }, true, ""},
		{"Northern Africa", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"015"} }, false, "eligible"},
		{"world", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"001"} }, true, ""},
		{"unknown region", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = []string{"999"} }, false, "eligible"},
		{"both lists empty", func(n *models.Need, o *models.Offer, c *Context) { o.EligibleRegions = nil }, true, ""},
		{"listed country", func(n *models.Need, o *models.Offer, c *Context) {
			o.EligibleRegions, o.EligibleCountries = nil, []string{"GM", "SN"}
		}, true, ""},
		{"other country only", func(n *models.Need, o *models.Offer, c *Context) {
			o.EligibleRegions, o.EligibleCountries = nil, []string{"GM"}
		}, false, "SN is not among"},
		{"country or region", func(n *models.Need, o *models.Offer, c *Context) {
			o.EligibleRegions, o.EligibleCountries = []string{"419"}, []string{"SN"}
		}, true, ""},
		{"unknown need country, global offer", func(n *models.Need, o *models.Offer, c *Context) {
			n.Country, o.EligibleRegions = "XX", nil
		}, true, ""},
		{"unknown need country, regional offer", func(n *models.Need, o *models.Offer, c *Context) { n.Country = "XX" }, false, "XX is not among"},
		{"window ends the day before", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableUntil = "2027-02-28" }, false, "ends 2027-02-28, before the need can start on 2027-03-01"},
		{"window ends on the start day", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableUntil = "2027-03-01" }, true, ""},
		{"window open-ended", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableUntil = "" }, true, ""},
		{"window end invalid", func(n *models.Need, o *models.Offer, c *Context) { o.AvailableUntil = "2027-02-30" }, false, "not a valid date"},
		{"window already over today", func(n *models.Need, o *models.Offer, c *Context) {
			c.Today, o.AvailableUntil = "2027-04-01", "2027-03-15"
		}, false, "before the need can start on 2027-04-01"},
		{"today before start_by changes nothing", func(n *models.Need, o *models.Offer, c *Context) {
			c.Today, o.AvailableUntil = "2026-01-01", "2027-02-28"
		}, false, "2027-03-01"},
		{"need status is not a pair constraint", func(n *models.Need, o *models.Offer, c *Context) { n.Status = models.NeedDraft }, true, ""},
	}
	w := DefaultWeights()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, o, c := baseNeed(), baseOffer(), &Context{}
			if tt.edit != nil {
				tt.edit(n, o, c)
			}
			m, ok := Score(n, o, w, c)
			if ok != tt.ok {
				t.Fatalf("Score ok = %v, want %v", ok, tt.ok)
			}
			if ok {
				checkMatch(t, m, w)
			} else if m.Factors != nil || m.Score != 0 {
				t.Errorf("failed pair returned %+v", m)
			}
			eok, why := Eligible(n, o, c)
			if eok != tt.ok || !strings.Contains(why, tt.why) {
				t.Errorf("Eligible = %v, %q; want %v, %q", eok, why, tt.ok, tt.why)
			}
			// An index must agree: the offer is listed for the need exactly when the pair passes.
			ix := NewIndex([]*models.Need{n}, []*models.Offer{o})
			got := ix.TopOffersForNeed(n.ID, 5, w, c)
			if (len(got) == 1) != tt.ok {
				t.Errorf("index lists %d offers, want pass=%v", len(got), tt.ok)
			}
		})
	}
}

func TestNeedStatusForOfferRankings(t *testing.T) {
	w := DefaultWeights()
	for _, st := range []models.NeedStatus{models.NeedDraft, models.NeedSubmitted, models.NeedOpen, models.NeedMatched,
		models.NeedInProgress, models.NeedFulfilled, models.NeedWithdrawn} {
		n := baseNeed()
		n.Status = st
		ix := NewIndex([]*models.Need{n}, []*models.Offer{baseOffer()})
		got := ix.TopNeedsForOffer("offer-fr", 5, w, nil, nil)
		want := st == models.NeedOpen || st == models.NeedSubmitted
		if (len(got) == 1) != want {
			t.Errorf("status %s: %d needs listed, want listed=%v", st, len(got), want)
		}
		r := ix.RebuildAll(5, w, nil, 1)
		if (len(r.ForOffer["offer-fr"]) == 1) != want {
			t.Errorf("status %s: RebuildAll lists %v", st, r.ForOffer["offer-fr"])
		}
		// The need's own ranking does not depend on its status: its owner may preview it.
		if len(ix.TopOffersForNeed(n.ID, 5, w, nil)) != 1 {
			t.Errorf("status %s: need sees no offer", st)
		}
	}
}

func TestScoreUsesWeights(t *testing.T) {
	n, o := baseNeed(), baseOffer()
	n.Languages = []string{"ar"} // language value 0
	w := DefaultWeights()
	m1, _ := Score(n, o, w, nil)
	w.Language, w.Capability = 0.28, 0.12
	m2, _ := Score(n, o, w, nil)
	checkMatch(t, m1, DefaultWeights())
	checkMatch(t, m2, w)
	// Perfect but for language (0) and focus (0.7621, open to 60 countries): 1 − 0.12 −
	// 0.05 × 0.2379 = 0.8681, and with the two weights swapped 1 − 0.28 − 0.0119 = 0.7081.
	if m1.Score != 0.8681 || m2.Score != 0.7081 {
		t.Errorf("scores %v and %v, want 0.8681 and 0.7081", m1.Score, m2.Score)
	}
}
