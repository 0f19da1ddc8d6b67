// Package readmodel is the in-memory model of needs, offers and country profiles that every API
// replica keeps, so that lists, searches, counts and rankings never query the store (FerretDB's
// SQLite backend scans a collection for any filter but _id). The store stays the source of truth:
// the model is loaded from it at start, updated after every acknowledged write, kept in step
// with other replicas by change events, and reconciled periodically.
//
// Objects in the model are immutable: an update replaces the pointer, so readers may keep what
// they got without locks or copies.
package readmodel

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/capmatch/capmatch/models"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Change describes one change to the model, for observers such as the ranking cache.
type Change struct {
	Kind     models.EventType
	OldNeed  *models.Need
	NewNeed  *models.Need
	OldOffer *models.Offer
	NewOffer *models.Offer
	Country  string
	// Gen is the changed object's logical time (its Gen field).
	Gen int64
}

type needEntry struct {
	n      *models.Need
	folded string
}

type offerEntry struct {
	o      *models.Offer
	folded string
}

// Model is the in-memory read model. The zero value is not usable; call New.
type Model struct {
	mu        sync.RWMutex
	needs     map[string]*needEntry
	byNew     []*needEntry // newest first
	byPrio    []*needEntry // high priority first, then newest
	offers    map[string]*offerEntry
	offersNew []*offerEntry // newest first
	profiles  map[string]*models.CountryProfile
	// engagements and projects: see delivery.go.
	engagements map[string]*models.Engagement
	projects    map[string]*models.Project
	// external activities imported from IATI files: see external.go.
	external  map[string]*models.ExternalActivity
	gen       uint64
	observers []func(Change)
}

// New returns an empty model.
func New() *Model {
	return &Model{needs: map[string]*needEntry{}, offers: map[string]*offerEntry{}, profiles: map[string]*models.CountryProfile{}}
}

// Observe registers f to be called after every change, outside the model's lock.
func (m *Model) Observe(f func(Change)) {
	m.mu.Lock()
	m.observers = append(m.observers, f)
	m.mu.Unlock()
}

// Gen counts changes; it moves whenever anything in the model changes.
func (m *Model) Gen() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen
}

func (m *Model) notify(c Change) {
	m.mu.RLock()
	obs := m.observers
	m.mu.RUnlock()
	for _, f := range obs {
		f(c)
	}
}

// Fold lower-cases s and strips diacritics, so that "Côte d'Ivoire" matches "cote d'ivoire".
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

func newer(a, b *models.Need) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// PriorityRank orders priorities: high 0, medium 1, low 2.
func PriorityRank(p models.Priority) int {
	switch p {
	case models.PriorityHigh:
		return 0
	case models.PriorityMedium:
		return 1
	}
	return 2
}

func prioBefore(a, b *models.Need) bool {
	ra, rb := PriorityRank(a.Priority), PriorityRank(b.Priority)
	if ra != rb {
		return ra < rb
	}
	return newer(a, b)
}

// PutNeed inserts or replaces a need, unless the model already holds a newer version (an event
// that arrives late never rolls the model back). It reports whether the model changed.
func (m *Model) PutNeed(n *models.Need) bool {
	m.mu.Lock()
	old, ok := m.needs[n.ID]
	if ok && old.n.Version > n.Version {
		m.mu.Unlock()
		return false
	}
	e := &needEntry{n: n, folded: needSearchText(n)}
	m.needs[n.ID] = e
	if ok {
		m.byNew = removeEntry(m.byNew, old)
		m.byPrio = removeEntry(m.byPrio, old)
	}
	m.byNew = insertSorted(m.byNew, e, func(a, b *needEntry) bool { return newer(a.n, b.n) })
	m.byPrio = insertSorted(m.byPrio, e, func(a, b *needEntry) bool { return prioBefore(a.n, b.n) })
	m.gen++
	m.mu.Unlock()
	c := Change{Kind: models.EventNeed, NewNeed: n, Country: n.Country, Gen: n.Gen}
	if ok {
		c.OldNeed = old.n
	}
	m.notify(c)
	return true
}

// RemoveNeed drops a need (an aborted import).
func (m *Model) RemoveNeed(id string) {
	m.mu.Lock()
	old, ok := m.needs[id]
	if ok {
		delete(m.needs, id)
		m.byNew = removeEntry(m.byNew, old)
		m.byPrio = removeEntry(m.byPrio, old)
		m.gen++
	}
	m.mu.Unlock()
	if ok {
		m.notify(Change{Kind: models.EventNeed, OldNeed: old.n, Country: old.n.Country})
	}
}

// Need returns a need by id.
func (m *Model) Need(id string) (*models.Need, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.needs[id]
	if !ok {
		return nil, false
	}
	return e.n, true
}

// AllNeeds returns every need, newest first.
func (m *Model) AllNeeds() []*models.Need {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*models.Need, len(m.byNew))
	for i, e := range m.byNew {
		out[i] = e.n
	}
	return out
}

func offerNewer(a, b *models.Offer) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// PutOffer inserts or replaces an offer unless a newer version is held; it reports whether
// the model changed.
func (m *Model) PutOffer(o *models.Offer) bool {
	m.mu.Lock()
	old, ok := m.offers[o.ID]
	if ok && old.o.Version > o.Version {
		m.mu.Unlock()
		return false
	}
	e := &offerEntry{o: o, folded: offerSearchText(o)}
	m.offers[o.ID] = e
	if ok {
		m.offersNew = removeEntry(m.offersNew, old)
	}
	m.offersNew = insertSorted(m.offersNew, e, func(a, b *offerEntry) bool { return offerNewer(a.o, b.o) })
	m.gen++
	m.mu.Unlock()
	c := Change{Kind: models.EventOffer, NewOffer: o, Gen: o.Gen}
	if ok {
		c.OldOffer = old.o
	}
	m.notify(c)
	return true
}

// RemoveOffer drops an offer (an aborted import).
func (m *Model) RemoveOffer(id string) {
	m.mu.Lock()
	old, ok := m.offers[id]
	if ok {
		delete(m.offers, id)
		m.offersNew = removeEntry(m.offersNew, old)
		m.gen++
	}
	m.mu.Unlock()
	if ok {
		m.notify(Change{Kind: models.EventOffer, OldOffer: old.o})
	}
}

// Offer returns an offer by id.
func (m *Model) Offer(id string) (*models.Offer, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.offers[id]
	if !ok {
		return nil, false
	}
	return e.o, true
}

// AllOffers returns every offer, newest first.
func (m *Model) AllOffers() []*models.Offer {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*models.Offer, len(m.offersNew))
	for i, e := range m.offersNew {
		out[i] = e.o
	}
	return out
}

// PutProfile stores a country's readiness profile unless a newer version is held.
func (m *Model) PutProfile(p *models.CountryProfile) bool {
	m.mu.Lock()
	old, ok := m.profiles[p.ISO]
	if ok && old.Version > p.Version {
		m.mu.Unlock()
		return false
	}
	m.profiles[p.ISO] = p
	m.gen++
	m.mu.Unlock()
	m.notify(Change{Kind: models.EventCountry, Country: p.ISO})
	return true
}

// Profile returns a country's readiness profile, if one was recorded.
func (m *Model) Profile(iso string) (*models.CountryProfile, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.profiles[iso]
	return p, ok
}

// Reconcile brings the model in line with a full load from the store: newer stored versions
// replace held ones, and objects the store no longer has are dropped if they are older than
// loadedAt (younger ones were created while the load ran).
func (m *Model) Reconcile(needs []*models.Need, offers []*models.Offer, profiles []*models.CountryProfile, loadedAt time.Time) {
	seenN := make(map[string]bool, len(needs))
	for _, n := range needs {
		seenN[n.ID] = true
		if cur, ok := m.Need(n.ID); !ok || cur.Version < n.Version {
			m.PutNeed(n)
		}
	}
	seenO := make(map[string]bool, len(offers))
	for _, o := range offers {
		seenO[o.ID] = true
		if cur, ok := m.Offer(o.ID); !ok || cur.Version < o.Version {
			m.PutOffer(o)
		}
	}
	for _, p := range profiles {
		if cur, ok := m.Profile(p.ISO); !ok || cur.Version < p.Version {
			m.PutProfile(p)
		}
	}
	for _, n := range m.AllNeeds() {
		if !seenN[n.ID] && n.CreatedAt.Before(loadedAt) {
			m.RemoveNeed(n.ID)
		}
	}
	for _, o := range m.AllOffers() {
		if !seenO[o.ID] && o.CreatedAt.Before(loadedAt) {
			m.RemoveOffer(o.ID)
		}
	}
}

func insertSorted[T comparable](s []T, e T, less func(a, b T) bool) []T {
	i := sort.Search(len(s), func(i int) bool { return !less(s[i], e) })
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = e
	return s
}

func removeEntry[T comparable](s []T, e T) []T {
	for i := range s {
		if s[i] == e {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}
