package web

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// previewNeeds is how many open needs the weights preview compares in detail; previewScan
// bounds how many it checks for a changed best offer.
const (
	previewNeeds = 6
	previewTop   = 3
	previewScan  = 2000
)

// weightsPage is the data of the weights editor.
type weightsPage struct {
	F       *form
	Factors []string
	Version int64
	// Total is the sum of the typed weights, as the form shows it before any script runs.
	Total string
	// Preview compares the rankings under the weights in force and the proposed ones.
	Preview *weightsPreview
}

// weightsPreview shows how rankings would change: a few needs in detail and, over all open
// needs, how many would get a different best offer.
type weightsPreview struct {
	Rows       []previewRow
	Scanned    int
	TopChanged int
}

// previewRow is one need's top offers now and with the proposed weights.
type previewRow struct {
	Need          *models.Need
	Before, After []previewItem
}

// previewItem is one offer in a top list; Move is how many places it rose (negative: fell);
// New marks an offer that was not in the top list before.
type previewItem struct {
	Rank  int
	ID    string
	Title string
	Score float64
	Band  matching.Band
	Move  int
	New   bool
}

// weightsForm writes weights as percentages, which is how people think about shares.
func weightsForm(w matching.Weights) *form {
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
func parseWeights(L *Localizer, f *form) matching.Weights {
	get := func(name string) float64 {
		v, ok := parsePercent(f.Get(name))
		if !ok {
			f.Add(name, L.T("err.percent"))
		}
		return v
	}
	m := map[string]float64{}
	for _, name := range matching.FactorNames() {
		m[name] = get(name)
	}
	w := matching.Weights{}.WithNames(m)
	w.Version, _ = strconv.ParseInt(f.Get("version"), 10, 64)
	return w
}

// total is the sum of the weights typed so far.
func total(L *Localizer, f *form) string {
	sum := 0.0
	for _, n := range matching.FactorNames() {
		if v, ok := parsePercent(f.Get(n)); ok {
			sum += v
		}
	}
	return L.Percent(sum)
}

func (u *UI) weightsLabels(L *Localizer) map[string]string {
	m := map[string]string{"weights": L.T("weights.sum")}
	for _, n := range matching.FactorNames() {
		m[n] = L.T("factor." + n)
	}
	return m
}

// WeightsEditor shows the matching weights in force as percentages, for coordinators to
// adjust, with a preview of how the rankings would change before anything is saved.
func (u *UI) WeightsEditor() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		w := u.app.Matching.Weights()
		p := &weightsPage{F: weightsForm(w), Factors: matching.FactorNames(), Version: w.Version}
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
		p := &weightsPage{F: f, Factors: matching.FactorNames(), Version: cur.Version, Total: total(r.L, f)}
		if f.OK() {
			f.addDomainErrors(r.L, proposed.Validate())
		}
		if !f.OK() {
			return r.render(422, "weights", r.L.T("weights.title"), "weights", p)
		}
		if f.Get("op") != "save" {
			p.Preview = u.previewWeights(cur, proposed)
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

// previewWeights ranks open needs' offers under both weight sets with the matching index
// (read-only: nothing is cached or saved). The delivery context is the service's when it
// exposes one, so the duplication factor is the same as in live rankings.
func (u *UI) previewWeights(cur, proposed matching.Weights) *weightsPreview {
	m := u.app.Matching
	ix := m.Index()
	c := &matching.Context{Today: models.DateOf(u.now())}
	if m.Active != nil {
		c.Active = m.Active()
	}
	var open []*models.Need
	for _, n := range u.app.Model.AllNeeds() {
		if n.Status == models.NeedOpen {
			open = append(open, n)
		}
	}
	sort.SliceStable(open, func(i, j int) bool {
		pi, pj := priorityRank(open[i].Priority), priorityRank(open[j].Priority)
		if pi != pj {
			return pi < pj
		}
		return open[i].CreatedAt.After(open[j].CreatedAt)
	})
	pv := &weightsPreview{}
	title := func(id string) string {
		if o, ok := u.app.Model.Offer(id); ok {
			return o.Title
		}
		return id
	}
	for i, n := range open {
		if i >= previewScan {
			break
		}
		before := ix.TopOffersForNeed(n.ID, previewTop, cur, c)
		after := ix.TopOffersForNeed(n.ID, previewTop, proposed, c)
		pv.Scanned++
		if len(before) > 0 && len(after) > 0 && before[0].OfferID != after[0].OfferID {
			pv.TopChanged++
		}
		if len(pv.Rows) >= previewNeeds || len(before)+len(after) == 0 {
			continue
		}
		row := previewRow{Need: n}
		oldRank := map[string]int{}
		for k, x := range before {
			oldRank[x.OfferID] = k + 1
			row.Before = append(row.Before, previewItem{Rank: k + 1, ID: x.OfferID, Title: title(x.OfferID), Score: x.Score, Band: x.Band})
		}
		for k, x := range after {
			it := previewItem{Rank: k + 1, ID: x.OfferID, Title: title(x.OfferID), Score: x.Score, Band: x.Band}
			if old, ok := oldRank[x.OfferID]; ok {
				it.Move = old - (k + 1)
			} else {
				it.New = true
			}
			row.After = append(row.After, it)
		}
		pv.Rows = append(pv.Rows, row)
	}
	return pv
}

func priorityRank(p models.Priority) int {
	switch p {
	case models.PriorityHigh:
		return 0
	case models.PriorityMedium:
		return 1
	}
	return 2
}
