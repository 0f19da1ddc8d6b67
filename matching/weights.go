package matching

import (
	"errors"
	"math"
	"sort"

	"github.com/capmatch/capmatch/models"
)

// Factor names, in the order every Match lists its factors. They are also the JSON names of
// the matching Weights fields, so an admin who reads a factor in a match explanation knows
// which weight to change.
const (
	FactorCapability  = "capability"
	FactorLanguage    = "language"
	FactorModality    = "modality"
	FactorBudget      = "budget"
	FactorTiming      = "timing"
	FactorMaturity    = "maturity"
	FactorFocus       = "focus"
	FactorPriority    = "priority"
	FactorDuplication = "duplication"
)

// Indices of the factors in the internal fixed-size arrays; the order is the public order.
const (
	fCapability = iota
	fLanguage
	fModality
	fBudget
	fTiming
	fMaturity
	fFocus
	fPriority
	fDuplication
	nFactors
)

var factorNames = [nFactors]string{
	FactorCapability, FactorLanguage, FactorModality, FactorBudget,
	FactorTiming, FactorMaturity, FactorFocus, FactorPriority, FactorDuplication,
}

// FactorNames lists the factor names in the order every Match lists its factors, so that
// user interfaces and documentation generators need not hard-code them.
func FactorNames() []string { return append([]string(nil), factorNames[:]...) }

// ModelVersion names the scoring formula, apart from the weights: caches of rankings must
// not serve a ranking computed under another one. 2: relevance gates the score and focus is
// a factor.
const ModelVersion = 2

// scale is the number of score units per 1.0: scores, contributions and weights are all
// multiples of 1/scale (four decimal places), which is what makes the score equal the sum
// of the contributions exactly.
const scale = 10000

// Weights says how much each factor counts. Weights are data, not code: the service stores
// them, an admin edits them, and every ranking is a function of them, so that a change of
// weights re-ranks everything without a release.
//
// A valid set of weights (see Validate) has every weight in [0,1] with at most four decimal
// places, and the weights sum to exactly 1. The four-decimal rule is what guarantees that
// the score, rounded to four places, is in [0,1] and equals the sum of the contributions.
type Weights struct {
	Capability float64 `json:"capability"`
	Language   float64 `json:"language"`
	Modality   float64 `json:"modality"`
	Budget     float64 `json:"budget"`
	Timing     float64 `json:"timing"`
	Maturity   float64 `json:"maturity"`
	// Focus was added after the other factors: a stored or submitted weight set without it
	// has focus 0 and stays valid.
	Focus       float64 `json:"focus"`
	Priority    float64 `json:"priority"`
	Duplication float64 `json:"duplication"`
	// Version identifies the weight set so that cached rankings can record which weights
	// produced them; it plays no part in scoring.
	Version int64 `json:"version"`
}

// DefaultWeights is the weight set capmatch ships with. Capability fit dominates because an
// offer that does not cover what the country asked for is rarely useful whatever else it
// has (and relevance also gates the whole score, see doc.go); language and budget come next
// because a programme the ministry cannot follow or that cannot pay is a non-starter in
// practice; duplication is weighted like them because avoiding duplicated effort is the
// reason the marketplace exists. Focus is small: it only decides between programmes that
// fit about equally, in favour of the one designed for the need's region.
func DefaultWeights() Weights {
	return Weights{
		Capability:  0.28,
		Language:    0.12,
		Modality:    0.09,
		Budget:      0.11,
		Timing:      0.10,
		Maturity:    0.06,
		Focus:       0.05,
		Priority:    0.08,
		Duplication: 0.11,
		Version:     1,
	}
}

// array returns the weights in factor order.
func (w Weights) array() [nFactors]float64 {
	return [nFactors]float64{w.Capability, w.Language, w.Modality, w.Budget, w.Timing, w.Maturity, w.Focus, w.Priority, w.Duplication}
}

// fromArray sets the weights from factor order, keeping the version.
func (w Weights) fromArray(a [nFactors]float64) Weights {
	w.Capability, w.Language, w.Modality, w.Budget = a[0], a[1], a[2], a[3]
	w.Timing, w.Maturity, w.Focus, w.Priority, w.Duplication = a[4], a[5], a[6], a[7], a[8]
	return w
}

// ByName returns the weights keyed by factor name, so that forms and reports need not list
// the fields themselves (and cannot forget one when a factor is added).
func (w Weights) ByName() map[string]float64 {
	out := make(map[string]float64, nFactors)
	for i, x := range w.array() {
		out[factorNames[i]] = x
	}
	return out
}

// WithNames returns w with the weights named in m replaced (unknown names are ignored).
func (w Weights) WithNames(m map[string]float64) Weights {
	a := w.array()
	for i, name := range factorNames {
		if x, ok := m[name]; ok {
			a[i] = x
		}
	}
	return w.fromArray(a)
}

// units returns each weight in score units (1/scale). For valid weights this is exact.
func (w Weights) units() [nFactors]int64 {
	var u [nFactors]int64
	for i, x := range w.array() {
		if math.IsNaN(x) || x <= 0 {
			continue
		}
		if x > 1 {
			x = 1
		}
		u[i] = int64(math.Round(x * scale))
	}
	return u
}

// Validate reports every problem with the weights at once, one field error per weight
// (field named like its JSON key) plus one for the sum (field "weights"), as a
// models.ErrInvalid domain error so that the HTTP layer can answer 422 with the list.
//
// Validate does not normalise: an admin who types weights that do not add up should be told
// so rather than silently get different ones. Normalize is there for callers that want the
// closest valid set instead.
func (w Weights) Validate() error {
	var p models.Problems
	var sum int64
	for i, x := range w.array() {
		name := factorNames[i]
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			p.Add(name, models.ProblemNotFinite, nil)
		case x < 0 || x > 1:
			p.Add(name, models.ProblemRange, models.Args{"min": models.ArgShare(0), "max": models.ArgShare(1)})
		case math.Abs(x*scale-math.Round(x*scale)) > 1e-6:
			p.Add(name, models.ProblemDecimals, models.Args{"places": models.ArgInt(4)})
		default:
			sum += int64(math.Round(x * scale))
		}
	}
	if len(p) == 0 && sum != scale {
		p.Add("weights", models.ProblemWeightSum, models.Args{"sum": models.ArgShare(float64(sum) / scale)})
	}
	return p.Err()
}

// ErrZeroWeights is returned by Normalize when there is nothing to scale.
var ErrZeroWeights = errors.New("matching: all weights are zero")

// Normalize returns the valid weight set closest to w: negative or non-finite weights are
// an error, the rest are scaled to sum to 1 and rounded to four decimal places with the
// largest-remainder method so that the rounded weights still sum to exactly 1. The version
// is kept.
func (w Weights) Normalize() (Weights, error) {
	a := w.array()
	var total float64
	for i, x := range a {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return w, models.Invalid(factorNames[i], models.ProblemRange, models.Args{"min": models.ArgShare(0), "max": models.ArgShare(1)})
		}
		total += x
	}
	if total == 0 {
		return w, ErrZeroWeights
	}
	var units [nFactors]int64
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, 0, nFactors)
	var used int64
	for i, x := range a {
		exact := x / total * scale
		units[i] = int64(math.Floor(exact))
		used += units[i]
		rems = append(rems, rem{i, exact - math.Floor(exact)})
	}
	sort.SliceStable(rems, func(x, y int) bool { return rems[x].r > rems[y].r })
	for j := 0; used < scale; j++ {
		units[rems[j%nFactors].i]++
		used++
	}
	for i := range a {
		a[i] = float64(units[i]) / scale
	}
	return w.fromArray(a), nil
}
