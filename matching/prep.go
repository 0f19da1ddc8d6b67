package matching

import (
	"slices"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// This file turns needs and offers into compact records (interned ids, bit sets, day
// numbers) so that scoring a pair does no string work and no allocation. Scoring a single
// pair with Score and ranking through an Index run the very same code on these records,
// which is what keeps the explained score and the ranked score identical.

// interner maps strings of one vocabulary to small dense ids. An interner may extend a
// read-only base, so that the catalogue's ids are built once and shared by every index and
// every call to Score without copying.
type interner struct {
	base  *interner
	ids   map[string]uint32
	names []string
}

func newInterner(seed []string) *interner {
	in := &interner{ids: make(map[string]uint32, len(seed)+8)}
	for _, s := range seed {
		in.id(s)
	}
	return in
}

// noID is the id of a string a frozen lookup does not know; no set ever contains it.
const noID = ^uint32(0)

// lookup returns the id of s without assigning one.
func (in *interner) lookup(s string) (uint32, bool) {
	if in.base != nil {
		if id, ok := in.base.ids[s]; ok {
			return id, true
		}
	}
	id, ok := in.ids[s]
	return id, ok
}

// id returns the id of s, assigning the next one when s is new.
func (in *interner) id(s string) uint32 {
	if id, ok := in.lookup(s); ok {
		return id
	}
	if in.ids == nil {
		in.ids = map[string]uint32{}
	}
	id := uint32(len(in.names))
	if in.base != nil {
		id += uint32(len(in.base.names))
	}
	in.ids[s] = id
	in.names = append(in.names, s)
	return id
}

// sym interns s, or when frozen only looks it up (noID when unknown). Frozen preparation is
// used for objects that are not in an index, under its read lock: a string the index has
// never seen cannot match anything in it, so noID loses nothing.
func (in *interner) sym(s string, frozen bool) uint32 {
	if !frozen {
		return in.id(s)
	}
	if id, ok := in.lookup(s); ok {
		return id
	}
	return noID
}

// extend returns an empty interner on top of in.
func (in *interner) extend() *interner { return &interner{base: in} }

// idset is a set of interned ids: a 256-bit bitmap for the common small ids (every real
// country, capability, theme, modality and language fits) plus a sorted overflow.
type idset struct {
	lo [4]uint64
	hi []uint32
}

func (s *idset) add(id uint32) {
	if id == noID {
		return
	}
	if id < 256 {
		s.lo[id>>6] |= 1 << (id & 63)
		return
	}
	if i, found := slices.BinarySearch(s.hi, id); !found {
		s.hi = slices.Insert(s.hi, i, id)
	}
}

func (s *idset) has(id uint32) bool {
	if id < 256 {
		return s.lo[id>>6]&(1<<(id&63)) != 0
	}
	_, found := slices.BinarySearch(s.hi, id)
	return found
}

// list returns the members in ascending order.
func (s *idset) list() []uint32 {
	var out []uint32
	for w, bits := range s.lo {
		for b := 0; bits != 0; b++ {
			if bits&1 != 0 {
				out = append(out, uint32(w*64+b))
			}
			bits >>= 1
		}
	}
	return append(out, s.hi...)
}

// knownCapabilities is the capability catalogue in a fixed order, used to seed interners so
// that ids are stable and small.
var knownCapabilities = []models.Capability{
	models.CapNationalStrategy, models.CapLegalPosition, models.CapNormsImplementation,
	models.CapCBMImplementation, models.CapPoCReadiness, models.CapCERTSetup,
	models.CapCERTMaturity, models.CapCIIP, models.CapCyberExercises,
	models.CapCybercrimeLegislation, models.CapDigitalForensics,
	models.CapLawEnforcementTraining, models.CapAwareness, models.CapWorkforceEducation,
	models.CapStandardsAdoption,
}

// geoTable is the static country table: every country of models.Countries gets the id of
// its position, and every M49 code the ids of the countries it contains, so that an offer's
// eligible regions become a set of country ids once, when it is prepared.
type geoTable struct {
	codes   []string
	regions map[string][]uint32
}

// geo builds the country table on first use.
var geo = sync.OnceValue(func() *geoTable {
	g := &geoTable{regions: map[string][]uint32{}}
	for i, c := range models.Countries() {
		g.codes = append(g.codes, c.ISO)
		for _, r := range models.CountryRegionCodes(c.ISO) {
			g.regions[r] = append(g.regions[r], uint32(i))
		}
	}
	return g
})

// vocab holds the interners one set of records shares. An Index owns one and mutates it
// only under its write lock; Score makes a throwaway one.
type vocab struct {
	country, capability, theme, modality, language *interner
	capTheme                                       map[uint32]uint32
	themeIncident                                  uint32
	capSetup, capMaturity                          uint32
	sustained                                      [3]uint32 // training, mentoring, expert deployment
}

// baseVocab is the catalogue vocabulary, built once and never modified.
var baseVocab = sync.OnceValue(buildVocab)

// newVocab returns a vocabulary that shares the catalogue's ids and adds its own for
// strings outside the catalogue.
func newVocab() *vocab {
	b := baseVocab()
	v := *b
	v.country, v.capability, v.theme = b.country.extend(), b.capability.extend(), b.theme.extend()
	v.modality, v.language = b.modality.extend(), b.language.extend()
	return &v
}

func buildVocab() *vocab {
	caps := make([]string, len(knownCapabilities))
	for i, c := range knownCapabilities {
		caps[i] = string(c)
	}
	themes := make([]string, len(models.Themes))
	for i, t := range models.Themes {
		themes[i] = string(t)
	}
	mods := make([]string, len(models.Modalities))
	for i, m := range models.Modalities {
		mods[i] = string(m)
	}
	v := &vocab{
		country:    newInterner(geo().codes),
		capability: newInterner(caps),
		theme:      newInterner(themes),
		modality:   newInterner(mods),
		language:   newInterner([]string{"en", "fr", "es", "ar", "pt", "ru", "zh"}),
		capTheme:   map[uint32]uint32{},
	}
	for _, c := range knownCapabilities {
		t, _ := models.CapabilityTheme(c)
		v.capTheme[v.capability.id(string(c))] = v.theme.id(string(t))
	}
	v.themeIncident = v.theme.id(string(models.ThemeIncidentManagement))
	v.capSetup = v.capability.id(string(models.CapCERTSetup))
	v.capMaturity = v.capability.id(string(models.CapCERTMaturity))
	v.sustained = [3]uint32{
		v.modality.id(string(models.ModTraining)),
		v.modality.id(string(models.ModMentoring)),
		v.modality.id(string(models.ModExpertDeployment)),
	}
	return v
}

// noDay marks an absent date.
const noDay = int32(-1 << 31)

// dayOf converts a valid date to days since 1970-01-01; ok is false for an invalid one.
func dayOf(d models.Date) (int32, bool) {
	t, ok := d.Time()
	if !ok {
		return noDay, false
	}
	return int32(t.Unix() / 86400), true
}

// dayDate converts a day number back to a date for explanations.
func dayDate(day int32) models.Date {
	return models.DateOf(time.Unix(int64(day)*86400, 0))
}

// maxMonths caps a need's duration for arithmetic.
const maxMonths = 1200

// daysPerMonth approximates a month when a need has no valid start date to count from.
const daysPerMonth = 30.436875

// needRec is a need prepared for scoring.
type needRec struct {
	n                     *models.Need
	id                    string // n.ID, kept here so that ranking does not touch the model
	slot                  int32
	country               uint32
	cap                   uint32
	theme                 uint32
	langs                 []uint32 // deduplicated, in the need's order
	mods                  []uint32 // deduplicated, in the need's order
	langText              []string // the codes of langs, for explanations
	modText               []string // the names of mods, for explanations
	budget                int64
	start                 int32 // StartBy as a day number, or noDay
	dur                   int32 // requested duration in days, at least 1
	months                int   // requested duration in months, at least 1
	priV                  float64
	baseline              bool // a framework is named and target > current
	matCurrent, matTarget int
	incident              bool // the need's theme is incident management
	rankable              bool // open or submitted: may be ranked for offers
}

func (v *vocab) prepNeed(n *models.Need, frozen bool) *needRec {
	r := &needRec{
		n:        n,
		id:       n.ID,
		country:  v.country.sym(n.Country, frozen),
		cap:      v.capability.sym(string(n.Capability), frozen),
		budget:   n.BudgetUSD,
		rankable: n.Status == models.NeedOpen || n.Status == models.NeedSubmitted,
	}
	if t, ok := models.CapabilityTheme(n.Capability); ok {
		r.theme = v.theme.sym(string(t), frozen)
	} else {
		r.theme = v.theme.sym(string(n.Theme), frozen)
	}
	// Deduplicate by text, not id: two unknown strings share noID when frozen.
	for _, l := range n.Languages {
		if !slices.Contains(r.langText, l) {
			r.langs = append(r.langs, v.language.sym(l, frozen))
			r.langText = append(r.langText, l)
		}
	}
	for _, m := range n.Modalities {
		if !slices.Contains(r.modText, string(m)) {
			r.mods = append(r.mods, v.modality.sym(string(m), frozen))
			r.modText = append(r.modText, string(m))
		}
	}
	// A duration is at least a month; beyond a century it is treated as a century, which
	// keeps day arithmetic far from overflow for any input.
	r.months = min(max(n.DurationMonths, 1), maxMonths)
	if d, ok := dayOf(n.StartBy); ok {
		r.start = d
		end, _ := dayOf(n.StartBy.AddMonths(r.months))
		r.dur = max(end-d, 1)
	} else {
		r.start = noDay
		r.dur = max(int32(float64(r.months)*daysPerMonth+0.5), 1)
	}
	r.incident = r.theme == v.themeIncident
	r.priV = priorityValue(n.Priority)
	m := n.Maturity
	r.baseline = m.Framework != "" && m.Framework != models.FrameworkNone && m.Target > m.Current
	r.matCurrent, r.matTarget = m.Current, m.Target
	return r
}

// priorityValue maps a priority to its factor value; an unknown one counts as medium.
func priorityValue(p models.Priority) float64 {
	switch p {
	case models.PriorityHigh:
		return 1
	case models.PriorityLow:
		return 0.3
	default:
		return 0.6
	}
}

// focusOf is the focus factor of an offer open to n countries (every country when global):
// the share of the world's other countries it is not spread over, 1 − (n−1)/(N−1) for the
// N countries and territories of models.Countries, so 1 for a single-country programme,
// about 0.77 for one open to Africa and 0 for one open everywhere. reach is n, or N when
// global.
func focusOf(global bool, n int) (reach int, v float64) {
	all := len(geo().codes)
	if global || n >= all {
		return all, 0
	}
	return n, min(1, 1-float64(n-1)/float64(all-1))
}

// offerRec is an offer prepared for scoring.
type offerRec struct {
	o         *models.Offer
	id        string // o.ID, kept here so that ranking does not touch the model
	slot      int32
	live      bool // open with engagements left: the offer-only hard constraints hold
	global    bool // both eligibility lists empty
	elig      idset
	caps      idset
	themes    idset // its themes plus the themes of its capabilities
	langs     idset
	mods      idset
	eligList  []uint32 // elig in ascending order
	capList   []uint32
	themeList []uint32
	depth     int      // how many sustained modalities it provides (0..3)
	deep      []string // the sustained modalities it provides, for explanations
	maturing  bool     // covers cert_maturity but not cert_setup
	reach     int      // how many countries it is open to (every country when global)
	focus     float64  // the focus factor's value, from reach
	remaining int64
	from      int32 // noDay when unbounded (AvailableFrom empty or invalid)
	until     int32 // noDay when unbounded (AvailableUntil empty)
	badUntil  bool  // AvailableUntil is set but not a valid date: never eligible
}

func (v *vocab) prepOffer(o *models.Offer, frozen bool) *offerRec {
	r := &offerRec{
		o:         o,
		id:        o.ID,
		live:      o.Status == models.OfferOpen && o.HasCapacity(),
		global:    len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0,
		remaining: o.RemainingBudget(),
		from:      noDay,
		until:     noDay,
	}
	for _, c := range o.EligibleCountries {
		r.elig.add(v.country.sym(c, frozen))
	}
	g := geo()
	for _, code := range o.EligibleRegions {
		for _, id := range g.regions[code] {
			r.elig.add(id)
		}
	}
	for _, c := range o.Capabilities {
		id := v.capability.sym(string(c), frozen)
		r.caps.add(id)
		if t, ok := v.capTheme[id]; ok {
			r.themes.add(t)
		}
	}
	for _, t := range o.Themes {
		r.themes.add(v.theme.sym(string(t), frozen))
	}
	r.eligList, r.capList, r.themeList = r.elig.list(), r.caps.list(), r.themes.list()
	r.reach, r.focus = focusOf(r.global, len(r.eligList))
	for _, l := range o.Languages {
		r.langs.add(v.language.sym(l, frozen))
	}
	for _, m := range o.Modalities {
		r.mods.add(v.modality.sym(string(m), frozen))
	}
	for _, m := range v.sustained {
		if r.mods.has(m) {
			r.depth++
			r.deep = append(r.deep, baseVocab().modality.names[m])
		}
	}
	r.maturing = r.caps.has(v.capMaturity) && !r.caps.has(v.capSetup)
	if d, ok := dayOf(o.AvailableFrom); ok {
		r.from = d
	}
	if o.AvailableUntil != "" {
		if d, ok := dayOf(o.AvailableUntil); ok {
			r.until = d
		} else {
			r.badUntil = true
		}
	}
	return r
}
