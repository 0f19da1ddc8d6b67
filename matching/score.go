package matching

import (
	"math"

	"github.com/capmatch/capmatch/models"
)

// Factor is one weighted ingredient of a match score, with the reason a ministry or donor
// reads to understand why a match ranks where it does. The engine gives the reason as a stable
// Code (ReasonCodes) and its Args; Reason is its text in the reader's language, which the edges
// fill from the catalog (package i18n) and the engine leaves empty.
type Factor struct {
	Name string `json:"name"`
	// Weight is the factor's weight from the Weights in force.
	Weight float64 `json:"weight"`
	// Value is how well the pair does on this factor, in [0,1], rounded to four places.
	Value float64 `json:"value"`
	// Contribution is Weight × Value × the match's Relevance, rounded to four places; the
	// score is their sum.
	Contribution float64     `json:"contribution"`
	Code         string      `json:"code"`
	Args         models.Args `json:"args,omitempty"`
	Reason       string      `json:"reason"`
}

// Match is a scored need/offer pair. Score is in [0,1] and equals the sum of the factor
// contributions exactly (both are multiples of 0.0001). Factors lists every factor in
// FactorNames order; bulk results (RebuildAll, RefreshOffer) leave Factors, Relevance and
// Band empty and Explain fills them, because explaining hundreds of thousands of pairs
// nobody reads would dominate a rebuild.
type Match struct {
	NeedID  string  `json:"need_id"`
	OfferID string  `json:"offer_id"`
	Score   float64 `json:"score"`
	// Relevance is the gate every contribution is scaled by: 1 when the offer covers the
	// need's capability, 0.5 when it covers only its theme, 0 when neither (such a pair is
	// never listed). It is the capability factor's value.
	Relevance float64 `json:"relevance,omitempty"`
	// Band is the score's strength band (BandOf).
	Band    Band     `json:"band,omitempty"`
	Factors []Factor `json:"factors,omitempty"`
}

// Band says in one word how strong a match is, so that a reader need not interpret a
// number: strong, possible or weak. It depends on the score alone (BandOf).
type Band string

// The strength bands and their thresholds on the score.
const (
	BandStrong   Band = "strong"
	BandPossible Band = "possible"
	BandWeak     Band = "weak"

	// StrongFrom is the lowest score of a strong match. Only an offer that covers the
	// need's capability can reach it: a same-theme offer scores at most about 0.43 with
	// the default weights (doc.go).
	StrongFrom = 0.70
	// PossibleFrom is the lowest score of a possible match; below it a match is weak.
	PossibleFrom = 0.40
)

// BandOf returns the strength band of a score: strong from StrongFrom, possible from
// PossibleFrom, weak below.
func BandOf(score float64) Band {
	switch u := floatToUnits(score); {
	case u >= floatToUnits(StrongFrom):
		return BandStrong
	case u >= floatToUnits(PossibleFrom):
		return BandPossible
	}
	return BandWeak
}

// Delivery names a capability being delivered to a country, the unit in which duplicated
// effort is counted.
type Delivery struct {
	Country    string            `json:"country"`
	Capability models.Capability `json:"capability"`
}

// Context is what scoring needs to know about the world beyond the pair itself. It is passed
// in rather than looked up so that scoring stays pure and repeatable: the same needs, offers,
// weights and context always give the same rankings.
type Context struct {
	// Today is the current date. A need cannot start before it, so it moves the need's
	// effective start forward and excludes offers whose window has already ended. Empty means
	// "do not consider the current date".
	Today models.Date
	// Active counts active projects and agreed engagements per country and capability. The
	// service builds it from engagements and projects; scoring only reads it.
	Active map[Delivery]int
	// Seen, when set, counts the deliveries of Active that the reader of the explanations may
	// see. The duplication factor's value counts every delivery (Active); its reason counts
	// only these, so that it never reveals how many deliveries the reader may not see. Nil
	// means the reader sees them all.
	Seen func(Delivery) int
	// External says, per country and capability, what activities that others publish to IATI
	// (imported into capmatch, under way) deliver it: they lower the duplication factor less
	// than a delivery on capmatch (see ExternalWeight). Everyone who reads explanations may
	// see them, so their reason counts them all.
	External map[Delivery]External
}

// External is what activities published to IATI by others say about one delivery: how many
// deliver it, and the confidence of the surest mapping of one of them to the capability, in
// [0, 1] (models.Confidence.Weight: high 1, medium 0.6, low 0.3).
type External struct {
	Count      int     `json:"count"`
	Confidence float64 `json:"confidence"`
}

// ExternalWeight is how much an activity published to IATI by others counts against the
// duplication factor, where a delivery on capmatch counts 1: half, times the confidence of
// its mapping. It is known less well than a delivery on capmatch (its capability is read from
// sectors and words, it may cover several countries or end earlier than planned), so it
// halves the value at most (1 − 0.5 × confidence: 0.5 high, 0.7 medium, 0.85 low) and never
// removes the need from donors' view the way a delivery on capmatch does.
const ExternalWeight = 0.5

// dupInput is what the duplication factor of a need reads: the deliveries on capmatch of its
// capability in its country, and what others' IATI activities say about it.
type dupInput struct {
	n   int
	ext External
}

// evalCtx is a Context prepared for scoring.
type evalCtx struct {
	today    int32
	active   map[Delivery]int
	seenFn   func(Delivery) int
	external map[Delivery]External
}

func prepCtx(c *Context) evalCtx {
	e := evalCtx{today: noDay}
	if c == nil {
		return e
	}
	if d, ok := dayOf(c.Today); ok {
		e.today = d
	}
	e.active = c.Active
	e.seenFn = c.Seen
	e.external = c.External
	return e
}

// seen returns how many of the overlaps deliveries of the need's capability in its country
// the reader may see (all of them when the context does not say).
func (e *evalCtx) seen(n *models.Need, d dupInput) int {
	if e.seenFn == nil || d.n <= 0 {
		return d.n
	}
	return min(d.n, e.seenFn(Delivery{Country: n.Country, Capability: n.Capability}))
}

// dup returns what already covers the need's capability in its country: active deliveries on
// capmatch and others' IATI activities.
func (e *evalCtx) dup(n *models.Need) dupInput {
	var d dupInput
	if len(e.active) == 0 && len(e.external) == 0 {
		return d
	}
	k := Delivery{Country: n.Country, Capability: n.Capability}
	d.n = e.active[k]
	d.ext = e.external[k]
	return d
}

// effStart is the day the need can start: its start_by, or today when that has passed;
// noDay when neither is known.
func effStart(nr *needRec, today int32) int32 {
	if today != noDay && (nr.start == noDay || today > nr.start) {
		return today
	}
	return nr.start
}

// passes applies the pair's hard constraints (the need's status is checked by the callers
// that rank needs for offers, not here).
func passes(nr *needRec, or *offerRec, today int32) bool {
	if !or.live || (!or.global && !or.elig.has(nr.country)) {
		return false
	}
	return windowOK(nr, or, today)
}

// values computes the factor values of a pair that passes the hard constraints. The
// per-factor functions it calls are the one definition of each factor; ranking (which calls
// them through fastScore) and explanation (which calls values) cannot disagree. The
// capability value is also the pair's relevance, which scales every contribution.
func values(nr *needRec, or *offerRec, today int32, d dupInput) (v [nFactors]float64) {
	v[fCapability] = capabilityValue(nr, or)
	v[fLanguage] = languageValue(nr, or)
	v[fModality] = modalityValue(nr, or)
	v[fBudget] = budgetValue(nr, or)
	v[fTiming] = timingValue(nr, or, today)
	v[fMaturity] = maturityValue(nr, or)
	v[fFocus] = or.focus
	v[fPriority] = nr.priV
	v[fDuplication] = duplicationValue(d)
	return v
}

// capabilityValue is 1 for the exact capability, 0.5 for the same theme, else 0. It is
// also the pair's relevance: every contribution is scaled by it.
func capabilityValue(nr *needRec, or *offerRec) float64 {
	switch {
	case or.caps.has(nr.cap):
		return 1
	case or.themes.has(nr.theme):
		return 0.5
	}
	return 0
}

// languageValue is the share of the need's languages the offer delivers in (1 when the need
// names none).
func languageValue(nr *needRec, or *offerRec) float64 {
	if len(nr.langs) == 0 {
		return 1
	}
	k := 0
	for _, l := range nr.langs {
		if or.langs.has(l) {
			k++
		}
	}
	return float64(k) / float64(len(nr.langs))
}

// modalityValue is the share of the need's modalities the offer provides (1 when the need
// names none).
func modalityValue(nr *needRec, or *offerRec) float64 {
	if len(nr.mods) == 0 {
		return 1
	}
	k := 0
	for _, m := range nr.mods {
		if or.mods.has(m) {
			k++
		}
	}
	return float64(k) / float64(len(nr.mods))
}

// budgetValue is the share of the need's budget the offer's remaining budget covers, at most
// 1 (and 1 when the need states no budget).
func budgetValue(nr *needRec, or *offerRec) float64 {
	if nr.budget <= 0 || or.remaining >= nr.budget {
		return 1
	}
	return float64(or.remaining) / float64(nr.budget)
}

// duplicationValue is 1 when nothing already delivers the need's capability in its country,
// 0 when a delivery on capmatch does, and 1 − ExternalWeight × confidence when only
// activities published to IATI by others do.
func duplicationValue(d dupInput) float64 {
	switch {
	case d.n > 0:
		return 0
	case d.ext.Count > 0:
		return 1 - ExternalWeight*min(max(d.ext.Confidence, 0), 1)
	}
	return 1
}

// unit is a contribution in score units: weight units × value, rounded half away from zero.
// Every contribution is unit(W, value × relevance), written in that order everywhere so that
// ranking and explanation compute the same float; relevance is 1 or 0.5, so the product is
// exact anyway.
func unit(w int64, v float64) int64 { return int64(math.Round(float64(w) * v)) }

// gate holds, for one relevance r and one weight set, the contributions that do not depend
// on the pair and the bounds the ranking prunes with. unit is monotone in its value, so
// unit(W, r) bounds unit(W, v × r) for every v in [0,1].
type gate struct {
	r    float64
	capU int64 // the capability contribution: W × r × r
	tail int64 // the most budget, timing and maturity can add
	rest int64 // the most language, modality, budget, timing, maturity and focus can add
}

// relevance levels: exact capability, same theme.
const (
	gExact = iota
	gTheme
)

// newGates prepares the gates of both relevance levels a listed pair can have.
func newGates(w *[nFactors]int64) [2]gate {
	var g [2]gate
	for i, r := range [2]float64{1, 0.5} {
		g[i] = gate{r: r, capU: unit(w[fCapability], r*r)}
		g[i].tail = unit(w[fBudget], r) + unit(w[fTiming], r) + unit(w[fMaturity], r)
		g[i].rest = g[i].tail + unit(w[fLanguage], r) + unit(w[fModality], r) + unit(w[fFocus], r)
	}
	return g
}

// needUnits is the need-only contributions (priority and duplication) at relevance r.
func needUnits(w *[nFactors]int64, nr *needRec, d dupInput, r float64) int64 {
	return unit(w[fPriority], nr.priV*r) + unit(w[fDuplication], duplicationValue(d)*r)
}

// fastScore is the ranking hot path for a pair that passes the hard constraints and whose
// relevance is g.r: the same sum of the same contributions as contributions(values(...)),
// computed cheapest factors first so that it can give up (ok false) as soon as even perfect
// budget, timing and maturity could not lift the score to floor. fixed is the need's
// priority and duplication contributions at that relevance, which do not depend on the
// offer.
func fastScore(nr *needRec, or *offerRec, w *[nFactors]int64, g *gate, today int32, fixed, floor int64) (int64, bool) {
	r := g.r
	s := fixed + g.capU + unit(w[fLanguage], languageValue(nr, or)*r) +
		unit(w[fModality], modalityValue(nr, or)*r) + unit(w[fFocus], or.focus*r)
	if s+g.tail < floor {
		return 0, false
	}
	s += unit(w[fBudget], budgetValue(nr, or)*r) + unit(w[fTiming], timingValue(nr, or, today)*r) +
		unit(w[fMaturity], maturityValue(nr, or)*r)
	return s, true
}

// windowOK is the hard constraint on dates: the offer's window reaches the day the need can
// start. Index queries check only this, because bucket membership already guarantees the
// offer is live and the need's country eligible.
func windowOK(nr *needRec, or *offerRec, today int32) bool {
	if or.badUntil {
		return false
	}
	if or.until != noDay {
		if s := effStart(nr, today); s != noDay && or.until < s {
			return false
		}
	}
	return true
}

// timingValue is the share of the need's requested period [start, start+duration) that the
// offer's window covers; 0.5 (neutral) when the need has no start date at all.
func timingValue(nr *needRec, or *offerRec, today int32) float64 {
	s := effStart(nr, today)
	if s == noDay {
		return 0.5
	}
	lo, hi := s, s+nr.dur
	if or.from != noDay && or.from > lo {
		lo = or.from
	}
	if or.until != noDay && or.until+1 < hi {
		hi = or.until + 1
	}
	if hi <= lo {
		return 0
	}
	return float64(hi-lo) / float64(nr.dur)
}

// maturityValue judges whether the offer has the depth the need's maturity gap calls for.
// A gap of g stages calls for r = min(g,3) kinds of sustained support (training, mentoring,
// expert deployment); an offer with d of them scores min(1, (d+1)/(r+1)). A need with no
// stated baseline and target is neutral (0.5). An offer that matures existing CSIRTs
// (cert_maturity without cert_setup) is worth half for an incident-management need that
// starts from stage 0: there is nothing yet to mature.
func maturityValue(nr *needRec, or *offerRec) float64 {
	if !nr.baseline {
		return 0.5
	}
	r := min(nr.matTarget-nr.matCurrent, 3)
	v := min(1, float64(or.depth+1)/float64(r+1))
	if nr.matCurrent <= 0 && or.maturing && nr.incident {
		v *= 0.5
	}
	return v
}

// contributions turns values into contributions in score units: weight units × value ×
// relevance (the capability value), rounded half away from zero. The total of the returned
// units is the score.
func contributions(w *[nFactors]int64, v *[nFactors]float64) (c [nFactors]int64, total int64) {
	r := v[fCapability]
	for i := range v {
		c[i] = unit(w[i], v[i]*r)
		total += c[i]
	}
	return c, total
}

// pairScore is the score of a pair in units, or false when the pair is not listed: a hard
// constraint fails or the offer shares neither the need's capability nor its theme.
func (q *query) pairScore(nr *needRec, or *offerRec, d dupInput) (int64, bool) {
	if !passes(nr, or, q.ec.today) {
		return 0, false
	}
	var g *gate
	switch capabilityValue(nr, or) {
	case 1:
		g = &q.g[gExact]
	case 0.5:
		g = &q.g[gTheme]
	default:
		return 0, false
	}
	return fastScore(nr, or, &q.w, g, q.ec.today, needUnits(&q.w, nr, d, g.r), -1)
}

// unitsToFloat converts score units to the float a client sees.
func unitsToFloat(u int64) float64 { return float64(u) / scale }

// floatToUnits converts a score or contribution back to units.
func floatToUnits(f float64) int64 { return int64(math.Round(f * scale)) }

// round4 rounds to four decimal places.
func round4(f float64) float64 { return math.Round(f*scale) / scale }

// Score scores one need against one offer with the given weights and context, and explains
// every factor. ok is false when a hard constraint fails, in which case the pair must never
// be listed: the offer is not open or has no engagements left, the need's country is not
// eligible, or the offer's window ends before the need can start. The need's own status is
// not checked here (a ministry may preview matches for a draft); rankings of needs for
// offers consider only open and submitted needs.
//
// A pair that passes but shares neither the need's capability nor its theme has relevance
// 0 and scores 0: Score explains it, but no ranking lists it (see Listed).
//
// w should pass Validate; with invalid weights the score may fall outside [0,1].
func Score(n *models.Need, o *models.Offer, w Weights, c *Context) (Match, bool) {
	v := newVocab()
	nr, or := v.prepNeed(n, false), v.prepOffer(o, false)
	e := prepCtx(c)
	if !passes(nr, or, e.today) {
		return Match{}, false
	}
	wu := w.units()
	ov := e.dup(n)
	return explain(nr, or, &wu, e.today, ov, e.seen(n, ov)), true
}

// Listed reports whether a match scored by Score or Explain may appear in a ranking: the
// offer shares the need's capability or at least its theme. Rankings, refreshes and
// allocation list exactly the pairs that pass the hard constraints and this test.
func (m Match) Listed() bool { return m.Relevance > 0 }

// Eligible reports whether the pair passes the hard constraints and, when it does not, why,
// in words a coordinator can act on. It is Score's hard-constraint check on its own, for
// "why is this offer not listed?" questions.
func Eligible(n *models.Need, o *models.Offer, c *Context) (ok bool, why string) {
	v := newVocab()
	nr, or := v.prepNeed(n, false), v.prepOffer(o, false)
	e := prepCtx(c)
	switch {
	case o.Status != models.OfferOpen:
		return false, "the offer is " + string(o.Status) + ", not open"
	case o.SlotsLeft() <= 0:
		return false, "the offer has no engagements left"
	case o.RemainingBudget() <= 0:
		return false, "the offer has no budget left"
	case !or.global && !or.elig.has(nr.country):
		return false, n.Country + " is not among the offer's eligible countries and regions"
	case or.badUntil:
		return false, "the offer's available_until is not a valid date"
	}
	if s := effStart(nr, e.today); or.until != noDay && s != noDay && or.until < s {
		return false, "the offer's window ends " + string(o.AvailableUntil) + ", before the need can start on " + string(dayDate(s))
	}
	return true, ""
}
