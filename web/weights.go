package web

import (
	"errors"
	"math"

	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// weightsPage is the data of the weights editor.
type weightsPage struct {
	F       *form
	Factors []string
	Version int64
	// Total is the sum of the typed weights, as the form shows it before any script runs.
	Total string
	// Preview compares the rankings under the weights in force and the proposed ones.
	Preview *service.WeightsPreview
}

// weightsForm writes weights as percentages, which is how people think about shares.
func weightsForm(w service.Weights) *form {
	f := newForm()
	for name, v := range w.ByName() {
		f.Values.Set(name, strconv.FormatFloat(math.Round(v*10000)/100, 'f', -1, 64))
	}
	f.Values.Set("version", strconv.FormatInt(w.Version, 10))
	return f
}

// parsePercent reads "30", "7.5" or "7,5" as a share of 1 with at most four decimals.
func parsePercent(s string) (float64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	s = strings.ReplaceAll(s, ",", ".")
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v / 100, true
}

// parseWeights reads the editor's form; fields that are not numbers are reported.
func parseWeights(L *Localizer, f *form) service.Weights {
	get := func(name string) float64 {
		v, ok := parsePercent(f.Get(name))
		if !ok {
			f.Add(name, L.T("err.percent"))
		}
		return v
	}
	m := map[string]float64{}
	for _, name := range service.FactorNames() {
		m[name] = get(name)
	}
	w := service.Weights{}.WithNames(m)
	w.Version, _ = strconv.ParseInt(f.Get("version"), 10, 64)
	return w
}

// total is the sum of the weights typed so far.
func total(L *Localizer, f *form) string {
	sum := 0.0
	for _, n := range service.FactorNames() {
		if v, ok := parsePercent(f.Get(n)); ok {
			sum += v
		}
	}
	return L.Percent(sum)
}

func (u *UI) weightsLabels(L *Localizer) map[string]string {
	m := map[string]string{"weights": L.T("weights.sum")}
	for _, n := range service.FactorNames() {
		m[n] = L.T("factor." + n)
	}
	return m
}

// WeightsEditor shows the matching weights in force as percentages, for coordinators to
// adjust, with a preview of how the rankings would change before anything is saved.
func (u *UI) WeightsEditor() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		w := u.app.Matching.Weights()
		p := &weightsPage{F: weightsForm(w), Factors: service.FactorNames(), Version: w.Version}
		p.Total = total(r.L, p.F)
		return r.render(200, "weights", r.L.T("weights.title"), "weights", p)
	})
}

// SaveWeights previews ("preview") or saves ("save") the weights typed in the editor. Saving
// goes through the matching service, which checks the version read (two coordinators never
// overwrite each other) and re-ranks everything on the next read.
func (u *UI) SaveWeights() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		f := postedForm(r.c)
		f.labels = u.weightsLabels(r.L)
		proposed := parseWeights(r.L, f)
		cur := u.app.Matching.Weights()
		p := &weightsPage{F: f, Factors: service.FactorNames(), Version: cur.Version, Total: total(r.L, f)}
		if f.OK() {
			f.addDomainErrors(r.L, proposed.Validate())
		}
		if !f.OK() {
			return r.render(422, "weights", r.L.T("weights.title"), "weights", p)
		}
		if f.Get("op") != "save" {
			pv, err := u.app.Matching.PreviewWeights(r.c.UserContext(), r.actor(), proposed)
			if err != nil {
				return err
			}
			p.Preview = pv
			return r.render(200, "weights", r.L.T("weights.title"), "weights", p)
		}
		_, err := u.app.Matching.SetWeights(r.c.UserContext(), r.actor(), proposed)
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "weights", r.L.T("weights.title"), "weights", p)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			f.Values.Set("version", strconv.FormatInt(u.app.Matching.Weights().Version, 10))
			return r.render(409, "weights", r.L.T("weights.title"), "weights", p)
		}
		if err != nil {
			return err
		}
		return r.redirect("/coordinator/weights?ok=weights_saved")
	})
}
