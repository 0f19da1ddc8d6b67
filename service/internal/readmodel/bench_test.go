package readmodel

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
)

var words = []string{"national", "CSIRT", "incident", "strategy", "cybercrime", "legislation", "forensics", "training",
	"prosecutors", "Points of Contact", "confidence-building", "position", "international law", "awareness", "workforce",
	"exercise", "critical infrastructure", "standards", "maturity", "sovereignty", "due diligence", "Côte d'Ivoire"}

// model10k is a read model with 10,000 needs across countries, themes, priorities and
// visibility tiers, with realistic title and description lengths.
func model10k(b *testing.B) *Model {
	r := rand.New(rand.NewSource(42))
	m := New()
	countries := models.Countries()
	caps := models.Capabilities
	prios := []models.Priority{models.PriorityHigh, models.PriorityMedium, models.PriorityLow}
	vis := []models.Visibility{models.VisibilityPublic, models.VisibilityPublic, models.VisibilityDonors, models.VisibilityRestricted}
	statuses := []models.NeedStatus{models.NeedOpen, models.NeedOpen, models.NeedOpen, models.NeedSubmitted, models.NeedDraft, models.NeedMatched}
	for i := 0; i < 10_000; i++ {
		c := caps[r.Intn(len(caps))]
		th, _ := models.CapabilityTheme(c)
		desc := ""
		for j := 0; j < 60; j++ {
			desc += words[r.Intn(len(words))] + " "
		}
		m.PutNeed(&models.Need{ID: fmt.Sprintf("n%05d", i), Title: words[r.Intn(len(words))] + " " + words[r.Intn(len(words))],
			Description: desc, Country: countries[r.Intn(len(countries))].ISO, Theme: th, Capability: c,
			Priority: prios[r.Intn(3)], Visibility: vis[r.Intn(len(vis))], Status: statuses[r.Intn(len(statuses))],
			OrganizationID: fmt.Sprintf("org%d", r.Intn(200)), CreatedAt: time.Unix(int64(1_700_000_000+r.Intn(10_000_000)), 0), Version: 1})
	}
	return m
}

// donorView is what a donor may see: the policy's rule for donors.
func donorView(n *models.Need) bool {
	a := &models.Actor{Role: models.RoleDonor, OrgID: "donor-org"}
	return models.CanSeeNeed(a, n)
}

// BenchmarkList10k measures list and search latency over 10,000 needs through the policy
// filter, and reports p50 and p99 per query kind.
func BenchmarkList10k(b *testing.B) {
	m := model10k(b)
	queries := map[string]NeedQuery{
		"first_page":        {Limit: 20},
		"country_filter":    {Country: "SN", Limit: 20},
		"status_theme":      {Status: models.NeedOpen, Theme: models.ThemeCybercrime, Limit: 20},
		"search_common":     {Q: "national", Limit: 20},
		"search_rare":       {Q: "cote d'ivoire sovereignty", Limit: 20},
		"search_no_hit":     {Q: "quantum blockchain", Limit: 20},
		"priority_sort_100": {Sort: SortPriority, Limit: 100},
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				p := m.Needs(q, donorView)
				lat = append(lat, time.Since(start))
				if len(p.Items) > q.Limit {
					b.Fatal("page too long")
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
