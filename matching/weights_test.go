package matching

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/capmatch/capmatch/models"
)

func TestDefaultWeightsAreValid(t *testing.T) {
	w := DefaultWeights()
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(w)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, name := range FactorNames() {
		if _, ok := m[name]; !ok {
			t.Errorf("weights JSON lacks %q: %s", name, b)
		}
	}
	if _, ok := m["version"]; !ok {
		t.Errorf("weights JSON lacks version: %s", b)
	}
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var de *models.Error
	if !errors.As(err, &de) || !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("error %v is not a models.ErrInvalid domain error", err)
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestWeightsValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(w *Weights)
		fields []string
	}{
		{"negative", func(w *Weights) { w.Budget, w.Capability = -0.1, 0.52 }, []string{"budget"}},
		{"above one", func(w *Weights) { w.Language = 1.5 }, []string{"language"}},
		{"NaN and Inf", func(w *Weights) { w.Timing, w.Maturity = math.NaN(), math.Inf(1) }, []string{"timing", "maturity"}},
		{"five decimals", func(w *Weights) { w.Priority, w.Duplication = 0.08005, 0.11995 }, []string{"priority", "duplication"}},
		{"sum below one", func(w *Weights) { w.Capability = 0.29 }, []string{"weights"}},
		{"sum above one", func(w *Weights) { w.Capability = 0.31 }, []string{"weights"}},
		{"all zero", func(w *Weights) { *w = Weights{} }, []string{"weights"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := DefaultWeights()
			tt.edit(&w)
			err := w.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			if got := fieldsOf(t, err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
	// Float sums that are 1 only within rounding are fine.
	w := Weights{Capability: 0.1, Language: 0.2, Modality: 0.3, Budget: 0.1, Timing: 0.1, Maturity: 0.1, Priority: 0.05, Duplication: 0.05}
	if err := w.Validate(); err != nil {
		t.Errorf("0.1+0.2+... rejected: %v", err)
	}
	one := Weights{Duplication: 1}
	if err := one.Validate(); err != nil {
		t.Errorf("a single weight of 1 rejected: %v", err)
	}
}

func TestWeightsNormalize(t *testing.T) {
	w := Weights{Capability: 1, Language: 1, Modality: 1, Version: 7}
	n, err := w.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Validate(); err != nil {
		t.Fatalf("normalised weights invalid: %v (%+v)", err, n)
	}
	if n.Version != 7 || n.Capability != 0.3334 || n.Language != 0.3333 || n.Modality != 0.3333 {
		t.Errorf("got %+v", n)
	}
	if _, err := (Weights{}).Normalize(); !errors.Is(err, ErrZeroWeights) {
		t.Errorf("zero weights: %v", err)
	}
	if _, err := (Weights{Budget: -1, Timing: 2}).Normalize(); err == nil {
		t.Error("negative weight normalised")
	}
	d, _ := DefaultWeights().Normalize()
	if d != DefaultWeights() {
		t.Errorf("normalising the defaults changed them: %+v", d)
	}
}

// Weights whose sum only rounds to 1 at four decimals would break the score invariant; the
// four-decimal rule in Validate prevents them, and scores stay in [0,1] for any valid set.
func TestScoreBoundedForRandomValidWeights(t *testing.T) {
	needs, offers, ctx := synthData(5, 40, 40)
	s := newSynthetic(11)
	for i := 0; i < 200; i++ {
		var w Weights
		a := w.array()
		for j := range a {
			a[j] = s.rng.Float64()
		}
		w, _ = w.fromArray(a).Normalize()
		if err := w.Validate(); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 30; j++ {
			if m, ok := Score(needs[s.rng.IntN(len(needs))], offers[s.rng.IntN(len(offers))], w, ctx); ok {
				checkMatch(t, m, w)
			}
		}
	}
}

func TestWeightsByName(t *testing.T) {
	w := DefaultWeights()
	m := w.ByName()
	if len(m) != len(FactorNames()) || m[FactorFocus] != w.Focus || m[FactorCapability] != w.Capability {
		t.Fatalf("ByName: %v", m)
	}
	if back := (Weights{Version: w.Version}).WithNames(m); back != w {
		t.Errorf("WithNames(ByName) = %+v, want %+v", back, w)
	}
	if got := w.WithNames(map[string]float64{FactorFocus: 0.2, "gravity": 1}); got.Focus != 0.2 || got.Capability != w.Capability {
		t.Errorf("WithNames: %+v", got)
	}
}
