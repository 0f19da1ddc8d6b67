package web

import (
	"encoding/json"
	"fmt"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// worldMap is the prepared world map (tools/build.mjs): Natural Earth 1:110m country shapes
// from the world-atlas package, projected with Equal Earth, as SVG path data per country.
type worldMap struct {
	Source    string     `json:"source"`
	Width     int        `json:"width"`
	Height    int        `json:"height"`
	Countries []mapShape `json:"countries"`
	drawn     map[string]bool
}

// mapShape is one country's outline; ISO is empty for territories without an ISO code
// (Kosovo, Northern Cyprus, Somaliland at this scale), drawn but not linked.
type mapShape struct {
	ISO  string `json:"iso"`
	Name string `json:"name"`
	D    string `json:"d"`
}

func loadWorldMap(b []byte) (*worldMap, error) {
	var m worldMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse map data: %w", err)
	}
	if m.Width <= 0 || m.Height <= 0 || len(m.Countries) < 100 {
		return nil, fmt.Errorf("map data looks truncated: %dx%d, %d shapes", m.Width, m.Height, len(m.Countries))
	}
	m.drawn = map[string]bool{}
	for _, c := range m.Countries {
		if c.ISO != "" {
			m.drawn[c.ISO] = true
		}
	}
	return &m, nil
}

// mapMetric is what the map shades: a value per country and the bucket thresholds.
type mapMetric struct {
	Key    string
	bounds []int64 // lower bounds of buckets 1..4
}

var mapMetrics = []mapMetric{
	{Key: "needs", bounds: []int64{1, 2, 3, 5}},
	{Key: "funding", bounds: []int64{1, 250_000, 1_000_000, 3_000_000}},
	{Key: "projects", bounds: []int64{1, 2, 3, 5}},
	// pocs shades the derived PoC readiness: 1 nominated but not yet answered a check, 2 missed
	// two or more checks in a row, 3 missed the last, 4 reachable (acknowledged the last).
	{Key: "pocs", bounds: []int64{1, 2, 3, 4}},
}

// pocState is a country's place on the PoC readiness scale of the map (0: none nominated).
func pocState(r models.Readiness) int64 {
	switch {
	case !r.PoCNominated:
		return 0
	case r.PoCReachable:
		return 4
	case r.PoCMissedChecks >= models.PoCMissesForProposal:
		return 2
	case r.PoCMissedChecks > 0:
		return 3
	}
	return 1
}

func (m mapMetric) bucket(v int64) int {
	b := 0
	for i, lo := range m.bounds {
		if v >= lo {
			b = i + 1
		}
	}
	return b
}

// pocStateKeys are the catalog keys of the PoC readiness states.
var pocStateKeys = []string{"map.poc_none", "map.poc_nominated", "map.poc_missed_twice", "map.poc_missed", "map.poc_reachable"}

// mapRow is one country on the map and in the table under it.
type mapRow struct {
	ISO, Label, Display string
	Value               int64
	Bucket              int
}

// shapeView is one drawn shape.
type shapeView struct {
	ISO, D, Title string
	Bucket        int
}

// legendItem is one bucket of the legend.
type legendItem struct {
	Bucket int
	Label  string
}

// mapPage is the data of the map page.
type mapPage struct {
	Metric        string
	Metrics       []string
	Width, Height int
	Shapes        []shapeView
	Legend        []legendItem
	Top           []mapRow
	// NotDrawn are countries with a value that the 1:110m map is too coarse to show.
	NotDrawn []mapRow
	Source   string
}

// Map is the world map shading each country by its open needs (or the funding they request),
// counted over what the viewer may see. Each country links to its profile. The SVG is
// rendered on the server from the prepared shapes: no script, no tiles, about 50 kB.
func (u *UI) Map() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		metric := mapMetrics[0]
		for _, m := range mapMetrics {
			if m.Key == r.c.Query("metric") {
				metric = m
			}
		}
		rows := map[string]mapRow{}
		var all []mapRow
		for _, cv := range u.app.Countries.List(r.c.UserContext(), r.actor()) {
			row := mapRow{ISO: cv.ISO, Label: r.L.Country(cv.ISO)}
			switch metric.Key {
			case "funding":
				row.Value = cv.Funding.Requested
				row.Display = r.L.Money(row.Value)
			case "projects":
				row.Value = int64(cv.ActiveProjects)
				row.Display = r.L.N("map.active_projects", cv.ActiveProjects)
			case "pocs":
				row.Value = pocState(cv.Readiness)
				row.Display = r.L.T(pocStateKeys[row.Value])
			default:
				row.Value = int64(cv.OpenNeeds)
				row.Display = r.L.N("map.open_needs", cv.OpenNeeds)
			}
			row.Bucket = metric.bucket(row.Value)
			rows[cv.ISO] = row
			all = append(all, row)
		}
		p := &mapPage{Metric: metric.Key, Width: u.world.Width, Height: u.world.Height, Source: u.world.Source}
		for _, m := range mapMetrics {
			p.Metrics = append(p.Metrics, m.Key)
		}
		for _, s := range u.world.Countries {
			sv := shapeView{ISO: s.ISO, D: s.D, Title: s.Name}
			if row, ok := rows[s.ISO]; ok {
				sv.Title = row.Label + ": " + row.Display
				sv.Bucket = row.Bucket
			}
			p.Shapes = append(p.Shapes, sv)
		}
		for i := range metric.bounds {
			lo := metric.bounds[i]
			var label string
			switch {
			case metric.Key == "pocs":
				label = r.L.T(pocStateKeys[lo])
			case metric.Key == "funding" && i == 0:
				label = r.L.T("map.under", r.L.Money(metric.bounds[1]))
			case metric.Key == "funding" && i+1 < len(metric.bounds):
				label = r.L.T("map.range", r.L.Money(lo), r.L.Money(metric.bounds[i+1]))
			case metric.Key == "funding":
				label = r.L.T("map.from", r.L.Money(lo))
			case i+1 < len(metric.bounds) && metric.bounds[i+1]-1 == lo:
				label = r.L.Num(lo)
			case i+1 < len(metric.bounds):
				label = r.L.T("map.range", r.L.Num(lo), r.L.Num(metric.bounds[i+1]-1))
			default:
				label = r.L.T("map.from", r.L.Num(lo))
			}
			p.Legend = append(p.Legend, legendItem{Bucket: i + 1, Label: label})
		}
		none := r.L.T("map.none")
		if metric.Key == "pocs" {
			none = r.L.T(pocStateKeys[0])
		}
		p.Legend = append([]legendItem{{Bucket: 0, Label: none}}, p.Legend...)
		p.Top = mapTable(r.L, all)
		for _, row := range p.Top {
			if !u.world.drawn[row.ISO] {
				p.NotDrawn = append(p.NotDrawn, row)
			}
		}
		return r.renderPage(200, "map", &Page{Title: r.L.T("map.title"), Nav: "map", Data: p, Wide: true})
	})
}
