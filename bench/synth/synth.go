// Package synth builds the synthetic marketplace that capmatch's benchmarks run on, outside
// package matching so that the service benchmark (service) and the chart program
// (bench/chart) can use it: test files are not importable.
//
// It is a copy of matching/synth_test.go's generator: the same seed gives the same needs,
// offers and context as the matching benchmarks, so the chart's 10,000 × 10,000 point and
// BenchmarkRebuildAll10kx10k measure the same data. Keep the two in step when either changes.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
)

// capabilities is the capability catalogue in matching's interner order (matching/prep.go),
// so that random draws pick the same capabilities as the matching benchmarks.
var capabilities = []models.Capability{
	models.CapNationalStrategy, models.CapLegalPosition, models.CapNormsImplementation,
	models.CapCBMImplementation, models.CapPoCReadiness, models.CapCERTSetup,
	models.CapCERTMaturity, models.CapCIIP, models.CapCyberExercises,
	models.CapCybercrimeLegislation, models.CapDigitalForensics,
	models.CapLawEnforcementTraining, models.CapAwareness, models.CapWorkforceEducation,
	models.CapStandardsAdoption,
}

// Today is the date the synthetic data is built around; contexts and clocks of benchmarks
// that use this data should say it is today.
const Today models.Date = "2026-03-01"

// Generator draws needs and offers from one seeded random source. Needs come mostly from
// Africa, Asia, Latin America and the Pacific and ask in the region's languages; offers are
// eligible worldwide, for one or two M49 regions or for a list of countries, deliver mostly in
// English plus a regional language, and are at various stages of their budget and
// engagements.
type Generator struct {
	rng       *rand.Rand
	byRegion  map[string][]string // M49 region code → ISO codes
	allISO    []string
	subRegion []string // eligible-region codes offers draw from
}

// New returns a generator; the same seed always yields the same sequence.
func New(seed uint64) *Generator {
	s := &Generator{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		byRegion: map[string][]string{},
		subRegion: []string{"002", "202", "015", "011", "014", "017", "018", "019", "419", "029", "013", "005",
			"142", "030", "034", "035", "145", "143", "009", "053", "054", "057", "061", "150", "151", "039"},
	}
	for _, c := range models.Countries() {
		s.allISO = append(s.allISO, c.ISO)
		if c.RegionCode != "" {
			s.byRegion[c.RegionCode] = append(s.byRegion[c.RegionCode], c.ISO)
		}
	}
	return s
}

func (s *Generator) pick(xs []string) string { return xs[s.rng.IntN(len(xs))] }

// weighted picks a key by weight; keys and weights are parallel.
func (s *Generator) weighted(keys []string, weights []float64) string {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := s.rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return keys[i]
		}
		x -= w
	}
	return keys[len(keys)-1]
}

var (
	regions       = []string{"002", "142", "019", "009", "150"} // Africa, Asia, Americas, Oceania, Europe
	regionWeights = []float64{0.35, 0.25, 0.2, 0.1, 0.1}
	regionLangs   = map[string]struct {
		codes   []string
		weights []float64
	}{
		"002": {[]string{"en", "fr", "ar", "pt"}, []float64{0.45, 0.35, 0.1, 0.1}},
		"142": {[]string{"en", "ar", "ru", "zh"}, []float64{0.65, 0.15, 0.15, 0.05}},
		"019": {[]string{"es", "en", "pt", "fr"}, []float64{0.6, 0.25, 0.1, 0.05}},
		"009": {[]string{"en", "fr"}, []float64{0.85, 0.15}},
		"150": {[]string{"en", "ru", "fr", "es"}, []float64{0.5, 0.2, 0.15, 0.15}},
	}
	langPool = []string{"en", "fr", "es", "ar", "pt", "ru"}
)

func day(d models.Date, plus int) models.Date {
	t, _ := d.Time()
	return models.DateOf(t.AddDate(0, 0, plus))
}

// Capability draws a capability.
func (s *Generator) Capability() models.Capability {
	return capabilities[s.rng.IntN(len(capabilities))]
}

// Language draws a language from the pool offers deliver in.
func (s *Generator) Language() string { return s.pick(langPool) }

// Country draws any ISO country code.
func (s *Generator) Country() string { return s.pick(s.allISO) }

// SubRegion draws an M49 region or sub-region code that offers are made eligible for.
func (s *Generator) SubRegion() string { return s.pick(s.subRegion) }

func (s *Generator) logUniform(lo, hi float64) int64 {
	return int64(math.Exp(math.Log(lo)+s.rng.Float64()*(math.Log(hi)-math.Log(lo)))) / 1000 * 1000
}

// Need draws need number i (its id is "n" and i on five digits).
func (s *Generator) Need(i int) *models.Need {
	region := s.weighted(regions, regionWeights)
	country := s.pick(s.byRegion[region])
	c := s.Capability()
	theme, _ := models.CapabilityTheme(c)
	l := regionLangs[region]
	langs := []string{s.weighted(l.codes, l.weights)}
	if s.rng.Float64() < 0.3 {
		if x := s.weighted(l.codes, l.weights); x != langs[0] {
			langs = append(langs, x)
		}
	}
	var mods []models.Modality
	for range 1 + s.rng.IntN(3) {
		m := models.Modalities[s.rng.IntN(len(models.Modalities))]
		if !contains(mods, m) {
			mods = append(mods, m)
		}
	}
	status := models.NeedStatus(s.weighted(
		[]string{"open", "submitted", "draft", "matched", "in_progress"}, []float64{0.6, 0.2, 0.1, 0.05, 0.05}))
	m := models.Maturity{Framework: models.FrameworkNone}
	if s.rng.Float64() < 0.7 {
		m.Framework = []models.MaturityFramework{models.FrameworkCMM, models.FrameworkSIM3, models.FrameworkGCI}[s.rng.IntN(3)]
		m.Current = s.rng.IntN(4)
		m.Target = min(5, m.Current+1+s.rng.IntN(3))
	}
	return &models.Need{
		ID:             fmt.Sprintf("n%05d", i),
		Title:          fmt.Sprintf("%s for %s", c, country),
		Country:        country,
		Theme:          theme,
		Capability:     c,
		Modalities:     mods,
		Languages:      langs,
		BudgetUSD:      s.logUniform(50_000, 2_000_000),
		StartBy:        day("2026-01-01", s.rng.IntN(900)),
		DurationMonths: 6 + s.rng.IntN(31),
		Priority:       models.Priority(s.weighted([]string{"high", "medium", "low"}, []float64{0.3, 0.5, 0.2})),
		Maturity:       m,
		Visibility:     models.Visibility(s.weighted([]string{"public", "donors", "restricted"}, []float64{0.7, 0.2, 0.1})),
		Status:         status,
		CreatedAt:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// Offer draws offer number i (its id is "o" and i on five digits).
func (s *Generator) Offer(i int) *models.Offer {
	o := &models.Offer{ID: fmt.Sprintf("o%05d", i)}
	for range 1 + s.rng.IntN(4) {
		c := s.Capability()
		if !contains(o.Capabilities, c) {
			o.Capabilities = append(o.Capabilities, c)
		}
	}
	for _, c := range o.Capabilities {
		t, _ := models.CapabilityTheme(c)
		if !contains(o.Themes, t) {
			o.Themes = append(o.Themes, t)
		}
	}
	if s.rng.Float64() < 0.3 {
		if t := models.Themes[s.rng.IntN(len(models.Themes))]; !contains(o.Themes, t) {
			o.Themes = append(o.Themes, t)
		}
	}
	for range 2 + s.rng.IntN(3) {
		m := models.Modalities[s.rng.IntN(len(models.Modalities))]
		if !contains(o.Modalities, m) {
			o.Modalities = append(o.Modalities, m)
		}
	}
	if s.rng.Float64() < 0.8 {
		o.Languages = append(o.Languages, "en")
	}
	for range 1 + s.rng.IntN(2) {
		if l := s.pick(langPool); !contains(o.Languages, l) {
			o.Languages = append(o.Languages, l)
		}
	}
	switch x := s.rng.Float64(); {
	case x < 0.15: // worldwide
	case x < 0.65:
		for range 1 + s.rng.IntN(2) {
			if r := s.pick(s.subRegion); !contains(o.EligibleRegions, r) {
				o.EligibleRegions = append(o.EligibleRegions, r)
			}
		}
	default:
		region := s.weighted(regions, regionWeights)
		for range 2 + s.rng.IntN(11) {
			if c := s.pick(s.byRegion[region]); !contains(o.EligibleCountries, c) {
				o.EligibleCountries = append(o.EligibleCountries, c)
			}
		}
	}
	o.BudgetUSD = s.logUniform(100_000, 5_000_000)
	o.BudgetCommitted = int64(float64(o.BudgetUSD)*s.rng.Float64()*0.8) / 1000 * 1000
	o.MaxEngagements = 1 + s.rng.IntN(8)
	o.EngagementsUsed = s.rng.IntN(o.MaxEngagements + 1)
	if o.EngagementsUsed == o.MaxEngagements && s.rng.Float64() < 0.7 {
		o.EngagementsUsed = 0
	}
	o.AvailableFrom = day("2025-06-01", s.rng.IntN(730))
	o.AvailableUntil = day(o.AvailableFrom, 365+s.rng.IntN(1100))
	o.Status = models.OfferStatus(s.weighted([]string{"open", "draft", "closed"}, []float64{0.88, 0.07, 0.05}))
	return o
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Context returns a context dated Today with n active deliveries, half of them of
// capabilities some of the needs ask for in their country, so that duplication bites.
func (s *Generator) Context(n int, needs []*models.Need) *matching.Context {
	c := &matching.Context{Today: Today, Active: map[matching.Delivery]int{}}
	for i := range n {
		d := matching.Delivery{}
		if i%2 == 0 && len(needs) > 0 {
			x := needs[s.rng.IntN(len(needs))]
			d = matching.Delivery{Country: x.Country, Capability: x.Capability}
		} else {
			region := s.weighted(regions, regionWeights)
			d = matching.Delivery{Country: s.pick(s.byRegion[region]), Capability: s.Capability()}
		}
		c.Active[d] += 1 + s.rng.IntN(2)
	}
	return c
}

// Data returns nNeeds needs, nOffers offers and a context (nNeeds/10 active deliveries),
// drawn in that order from seed: Data(42, 10_000, 10_000) is the matching benchmarks' data.
func Data(seed uint64, nNeeds, nOffers int) ([]*models.Need, []*models.Offer, *matching.Context) {
	s := New(seed)
	needs := make([]*models.Need, nNeeds)
	for i := range needs {
		needs[i] = s.Need(i)
	}
	offers := make([]*models.Offer, nOffers)
	for i := range offers {
		offers[i] = s.Offer(i)
	}
	return needs, offers, s.Context(nNeeds/10, needs)
}
