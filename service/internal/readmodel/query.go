package readmodel

import (
	"sort"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Sort orders of lists.
const (
	SortNewest   = "newest"
	SortPriority = "priority"
)

// Key is the position of an item in a sorted list: where the next page starts after it.
type Key struct {
	Rank      int       `json:"r,omitempty"`
	CreatedAt time.Time `json:"t"`
	ID        string    `json:"i"`
}

// NeedQuery filters and pages needs. Empty fields do not filter.
type NeedQuery struct {
	Country    string
	Theme      models.Theme
	Capability models.Capability
	Status     models.NeedStatus
	OrgID      string
	Q          string // folded with Fold before matching
	Sort       string
	After      *Key
	Limit      int
}

// Page is one page of results and, when there are more, the key of its last item.
type Page[T any] struct {
	Items []T
	Next  *Key
}

// Needs returns the page of needs that match q and that visible allows, in q's order.
func (m *Model) Needs(q NeedQuery, visible func(*models.Need) bool) Page[*models.Need] {
	folded := Fold(strings.TrimSpace(q.Q))
	hits := newVocabHits(folded)
	m.mu.RLock()
	defer m.mu.RUnlock()
	list, prio := m.byNew, false
	if q.Sort == SortPriority {
		list, prio = m.byPrio, true
	}
	start := 0
	if q.After != nil {
		a := *q.After
		start = sort.Search(len(list), func(i int) bool { return needAfter(list[i].n, a, prio) })
	}
	var page Page[*models.Need]
	for _, e := range list[start:] {
		n := e.n
		if (q.Country != "" && n.Country != q.Country) ||
			(q.Theme != "" && n.Theme != q.Theme) ||
			(q.Capability != "" && n.Capability != q.Capability) ||
			(q.Status != "" && n.Status != q.Status) ||
			(q.OrgID != "" && n.OrganizationID != q.OrgID) ||
			(folded != "" && !hits.need(e.folded, n)) ||
			!visible(n) {
			continue
		}
		if len(page.Items) == q.Limit {
			last := page.Items[len(page.Items)-1]
			page.Next = &Key{CreatedAt: last.CreatedAt, ID: last.ID}
			if prio {
				page.Next.Rank = PriorityRank(last.Priority)
			}
			break
		}
		page.Items = append(page.Items, n)
	}
	return page
}

// needAfter reports whether n sorts strictly after the key.
func needAfter(n *models.Need, k Key, prio bool) bool {
	if prio {
		if r := PriorityRank(n.Priority); r != k.Rank {
			return r > k.Rank
		}
	}
	if !n.CreatedAt.Equal(k.CreatedAt) {
		return n.CreatedAt.Before(k.CreatedAt)
	}
	return n.ID < k.ID
}

// OfferQuery filters and pages offers. Country keeps offers the country is eligible for.
type OfferQuery struct {
	Country    string
	Theme      models.Theme
	Capability models.Capability
	Status     models.OfferStatus
	OrgID      string
	Q          string
	After      *Key
	Limit      int
}

// Offers returns the page of offers that match q and that visible allows, newest first.
func (m *Model) Offers(q OfferQuery, visible func(*models.Offer) bool) Page[*models.Offer] {
	folded := Fold(strings.TrimSpace(q.Q))
	hits := newVocabHits(folded)
	m.mu.RLock()
	defer m.mu.RUnlock()
	list := m.offersNew
	start := 0
	if q.After != nil {
		a := *q.After
		start = sort.Search(len(list), func(i int) bool {
			o := list[i].o
			if !o.CreatedAt.Equal(a.CreatedAt) {
				return o.CreatedAt.Before(a.CreatedAt)
			}
			return o.ID < a.ID
		})
	}
	var page Page[*models.Offer]
	for _, e := range list[start:] {
		o := e.o
		if (q.Theme != "" && !contains(o.Themes, q.Theme)) ||
			(q.Capability != "" && !contains(o.Capabilities, q.Capability)) ||
			(q.Status != "" && o.Status != q.Status) ||
			(q.OrgID != "" && o.OrganizationID != q.OrgID) ||
			(q.Country != "" && !Eligible(o, q.Country)) ||
			(folded != "" && !hits.offer(e.folded, o)) ||
			!visible(o) {
			continue
		}
		if len(page.Items) == q.Limit {
			last := page.Items[len(page.Items)-1]
			page.Next = &Key{CreatedAt: last.CreatedAt, ID: last.ID}
			break
		}
		page.Items = append(page.Items, o)
	}
	return page
}

// Eligible reports whether the country may receive the offer: listed explicitly, inside one
// of its M49 regions, or the offer names neither (open to all).
func Eligible(o *models.Offer, iso string) bool {
	if len(o.EligibleCountries) == 0 && len(o.EligibleRegions) == 0 {
		return true
	}
	for _, c := range o.EligibleCountries {
		if c == iso {
			return true
		}
	}
	for _, r := range o.EligibleRegions {
		if models.CountryInRegion(iso, r) {
			return true
		}
	}
	return false
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// CountryStats are the need counts of a country's profile, counted over what the caller may
// see (its money is counted by the service's one funding definition).
type CountryStats struct {
	OpenNeeds int
}

// NeedStats counts, per country, the open needs visible.
func (m *Model) NeedStats(visible func(*models.Need) bool) map[string]CountryStats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := map[string]CountryStats{}
	for _, e := range m.byNew {
		n := e.n
		if n.Status != models.NeedOpen || !visible(n) {
			continue
		}
		s := out[n.Country]
		s.OpenNeeds++
		out[n.Country] = s
	}
	return out
}
