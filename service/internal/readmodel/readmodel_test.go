package readmodel

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func need(id string, minute int, p models.Priority) *models.Need {
	return &models.Need{ID: id, Title: "Need " + id, Country: "SN", Theme: models.ThemeIncidentManagement, Capability: models.CapCERTSetup,
		Priority: p, Visibility: models.VisibilityPublic, Status: models.NeedOpen, CreatedAt: base.Add(time.Duration(minute) * time.Minute), Version: 1}
}

func everyone(*models.Need) bool { return true }

func TestFold(t *testing.T) {
	assert.Equal(t, "cote d'ivoire strategie", Fold("Côte d'Ivoire STRATÉGIE"))
	assert.Equal(t, "sao tome e principe", Fold("São Tomé e Príncipe"))
	assert.Equal(t, "ciberseguridad nacion", Fold("Ciberseguridad NACIÓN"))
}

func TestPutNeedKeepsNewestVersionAndOrder(t *testing.T) {
	m := New()
	var changes []Change
	m.Observe(func(c Change) { changes = append(changes, c) })
	m.PutNeed(need("a", 1, models.PriorityLow))
	m.PutNeed(need("b", 2, models.PriorityHigh))
	m.PutNeed(need("c", 3, models.PriorityMedium))
	ids := func(p Page[*models.Need]) (out []string) {
		for _, n := range p.Items {
			out = append(out, n.ID)
		}
		return out
	}
	assert.Equal(t, []string{"c", "b", "a"}, ids(m.Needs(NeedQuery{Limit: 10}, everyone)))
	assert.Equal(t, []string{"b", "c", "a"}, ids(m.Needs(NeedQuery{Limit: 10, Sort: SortPriority}, everyone)))

	v2 := need("a", 1, models.PriorityHigh)
	v2.Version = 2
	assert.True(t, m.PutNeed(v2))
	stale := need("a", 1, models.PriorityLow)
	assert.False(t, m.PutNeed(stale), "a late event never rolls back")
	got, _ := m.Need("a")
	assert.Equal(t, int64(2), got.Version)
	assert.Equal(t, []string{"b", "a", "c"}, ids(m.Needs(NeedQuery{Limit: 10, Sort: SortPriority}, everyone)))
	assert.Len(t, changes, 4)
	assert.NotNil(t, changes[3].OldNeed)
	assert.Equal(t, uint64(4), m.Gen())
}

func TestFiltersAndVisibility(t *testing.T) {
	m := New()
	a := need("a", 1, models.PriorityHigh)
	b := need("b", 2, models.PriorityHigh)
	b.Country, b.Title = "FJ", "Cyber exercise for Fiji"
	c := need("c", 3, models.PriorityHigh)
	c.Visibility = models.VisibilityRestricted
	for _, n := range []*models.Need{a, b, c} {
		m.PutNeed(n)
	}
	p := m.Needs(NeedQuery{Country: "FJ", Limit: 10}, everyone)
	require.Len(t, p.Items, 1)
	assert.Equal(t, "b", p.Items[0].ID)
	p = m.Needs(NeedQuery{Q: "  EXERCISE fiji ", Limit: 10}, everyone)
	assert.Len(t, p.Items, 0, "q is a phrase")
	p = m.Needs(NeedQuery{Q: "exercise for fiji", Limit: 10}, everyone)
	assert.Len(t, p.Items, 1)
	p = m.Needs(NeedQuery{Limit: 10}, func(n *models.Need) bool { return n.Visibility == models.VisibilityPublic })
	assert.Len(t, p.Items, 2)
	stats := m.NeedStats(func(n *models.Need) bool { return n.Visibility == models.VisibilityPublic })
	assert.Equal(t, 1, stats["SN"].OpenNeeds)
}

// TestPagingSeesEveryItemOnceUnderChange pages through a model with random priorities while
// other needs are inserted between pages: every item present at the start is seen exactly once.
func TestPagingSeesEveryItemOnceUnderChange(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	m := New()
	prios := []models.Priority{models.PriorityHigh, models.PriorityMedium, models.PriorityLow}
	for i := 0; i < 200; i++ {
		m.PutNeed(need(fmt.Sprintf("n%03d", i), r.Intn(50), prios[r.Intn(3)]))
	}
	for _, sortBy := range []string{SortNewest, SortPriority} {
		seen := map[string]int{}
		var after *Key
		for page := 0; ; page++ {
			p := m.Needs(NeedQuery{Sort: sortBy, Limit: 17, After: after}, everyone)
			for _, n := range p.Items {
				seen[n.ID]++
			}
			m.PutNeed(need(fmt.Sprintf("new-%s-%d", sortBy, page), 100+page, prios[page%3])) // newer than all: sorts before the cursor
			if p.Next == nil {
				break
			}
			after = p.Next
		}
		for i := 0; i < 200; i++ {
			assert.Equal(t, 1, seen[fmt.Sprintf("n%03d", i)], sortBy)
		}
	}
}

func TestEligible(t *testing.T) {
	o := &models.Offer{}
	assert.True(t, Eligible(o, "SN"), "no lists: everyone")
	o.EligibleRegions = []string{"002"}
	assert.True(t, Eligible(o, "SN"))
	assert.False(t, Eligible(o, "FJ"))
	o.EligibleCountries = []string{"FJ"}
	assert.True(t, Eligible(o, "FJ"))
}

func TestReconcile(t *testing.T) {
	m := New()
	m.PutNeed(need("kept", 1, models.PriorityLow))
	m.PutNeed(need("gone", 2, models.PriorityLow))
	young := need("young", 0, models.PriorityLow)
	young.CreatedAt = base.Add(time.Hour)
	m.PutNeed(young)
	newer := need("kept", 1, models.PriorityHigh)
	newer.Version = 3
	m.Reconcile([]*models.Need{newer, need("fresh", 5, models.PriorityLow)}, nil, nil, base.Add(30*time.Minute), 1)
	got := m.AllNeeds()
	var ids []string
	for _, n := range got {
		ids = append(ids, n.ID)
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"fresh", "kept", "young"}, ids, "gone is dropped; young was created after the load began")
	k, _ := m.Need("kept")
	assert.Equal(t, int64(3), k.Version)
}

// TestSearchAcrossLanguages: a search finds a need or an offer by the catalogue's names of its
// theme and capability in every UN language, and by the translations its author added, so that
// "ciberdelincuencia" and "cybercriminalité" find the cybercrime needs written in English.
func TestSearchAcrossLanguages(t *testing.T) {
	m := New()
	law := need("law", 1, models.PriorityHigh)
	law.Title, law.Description = "Modernise the penal code", "Align the code with the UN Convention."
	law.Theme, law.Capability = models.ThemeCybercrime, models.CapCybercrimeLegislation
	cert := need("cert", 2, models.PriorityHigh)
	cert.Title = "National CSIRT"
	cert.Translations = map[string]models.Translation{"ar": {Title: "فريق وطني للاستجابة لحوادث أمن الحاسوب", Description: "إنشاء الفريق"}}
	for _, n := range []*models.Need{law, cert} {
		m.PutNeed(n)
	}
	ids := func(q string) (out []string) {
		for _, n := range m.Needs(NeedQuery{Q: q, Limit: 10}, everyone).Items {
			out = append(out, n.ID)
		}
		return out
	}
	for _, q := range []string{"ciberdelincuencia", "cybercriminalité", "CYBERCRIMINALITE", "Cybercrime", "киберпреступность", "网络犯罪", "الجريمة السيبرانية"} {
		assert.Equal(t, []string{"law"}, ids(q), "%q names the theme in one of the six languages", q)
	}
	assert.Equal(t, []string{"law"}, ids("Legislación sobre ciberdelincuencia"), "the capability's label")
	assert.Equal(t, []string{"cert"}, ids("فريق وطني"), "a translation's title")
	assert.Equal(t, []string{"cert"}, ids("انشاء"), "Arabic folded (hamza on alif is a mark)")
	assert.Empty(t, ids("quantum"))

	m.PutOffer(&models.Offer{ID: "o1", Title: "Programme", Themes: []models.Theme{models.ThemeCybercrime},
		Capabilities: []models.Capability{models.CapDigitalForensics}, Status: models.OfferOpen, CreatedAt: base, Version: 1,
		Translations: map[string]models.Translation{"fr": {Title: "Programme de criminalistique", Description: "Laboratoires"}}})
	offers := func(q string) int {
		return len(m.Offers(OfferQuery{Q: q, Limit: 10}, func(*models.Offer) bool { return true }).Items)
	}
	assert.Equal(t, 1, offers("ciberdelincuencia"))
	assert.Equal(t, 1, offers("informática forense"))
	assert.Equal(t, 1, offers("laboratoires"))
	assert.Equal(t, 0, offers("квантовый"))
}
