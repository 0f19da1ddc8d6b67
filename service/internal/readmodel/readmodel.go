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
	"unicode/utf8"

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
	// Gen is the change-log position the change was applied at (PutNeedAt, PutOfferAt), or
	// Local for a change this replica applied on its own, outside the log's order (a write of
	// its own the log could not take, a removal, a reconciliation); for a load, the stamp the
	// load was begun at (BeginLoad).
	Gen int64
	// Reload says that a full load replaced the needs and offers in bulk (Load.Commit): no
	// object is named, and observers rebuild from the model what they derive from it.
	Reload bool
}

// Local is the Gen of a change applied outside the change log's order.
const Local = -1

type needEntry struct {
	n      *models.Need
	folded string
	seen   uint32 // the latest Load (epoch) that found it in the store
}

type offerEntry struct {
	o      *models.Offer
	folded string
	seen   uint32
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
	epoch     uint32 // counts Loads (BeginLoad)
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
//
// Every title and description is folded when it is loaded, so Fold is most of what a start-up
// spends outside the store. Text is mostly ASCII, whose folding is lower-casing, and an ASCII
// character neither changes nor joins its neighbours in the normalisation (it is a starter
// that no mark composes with once the marks are removed), so only the runs of other
// characters go through the Unicode transformation (foldRun), each on its own; the result is
// the same as folding the whole text at once (TestFoldRunsAsWhole).
func Fold(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for j := 0; j < len(s); {
		k := j
		if s[j] < utf8.RuneSelf {
			for k < len(s) && s[k] < utf8.RuneSelf {
				c := s[k]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
				k++
			}
		} else {
			for k < len(s) && s[k] >= utf8.RuneSelf {
				k++
			}
			if r, size := utf8.DecodeRuneInString(s[j:k]); size == k-j && r < latinEnd {
				b.WriteString(latinFolds()[r]) // one accented Latin letter: the common case
			} else {
				b.WriteString(foldRun(s[j:k]))
			}
		}
		j = k
	}
	return b.String()
}

// foldRun folds text through the Unicode transformation: decompose, drop the nonspacing marks,
// recompose, lower-case.
func foldRun(s string) string {
	t := folders.Get().(transform.Transformer)
	out, _, err := transform.String(t, s) // resets t first
	folders.Put(t)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// latinEnd ends the Latin-1 Supplement and Latin Extended-A and -B blocks, whose letters
// (é, ô, ñ, ç, ã, ...) are most of the non-ASCII text capmatch sees.
const latinEnd = 0x250

// latinFolds is foldRun of each rune below latinEnd, alone.
var latinFolds = sync.OnceValue(func() []string {
	out := make([]string, latinEnd)
	for r := rune(0); r < latinEnd; r++ {
		out[r] = foldRun(string(r))
	}
	return out
})

// folders keeps the transformations foldRun uses: building one allocates buffers of a few
// kilobytes, which cost more than folding a word.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

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
	return m.putNeed(&needEntry{n: n, folded: needSearchText(n)}, Local)
}

// PutNeedAt is PutNeed for a change the log handed over at position gen. A version older than
// the one held changes nothing, but the observers are still told of the need as held, at gen:
// what the change could alter is marked at its position on every replica alike.
func (m *Model) PutNeedAt(n *models.Need, gen int64) bool {
	return m.putNeed(&needEntry{n: n, folded: needSearchText(n)}, gen)
}

func (m *Model) putNeed(e *needEntry, gen int64) bool {
	n := e.n
	m.mu.Lock()
	old, ok := m.needs[n.ID]
	if ok && old.n.Version > n.Version {
		m.mu.Unlock()
		if gen != Local {
			m.notify(Change{Kind: models.EventNeed, OldNeed: old.n, NewNeed: old.n, Country: old.n.Country, Gen: gen})
		}
		return false
	}
	m.needs[n.ID] = e
	if ok {
		e.seen = max(e.seen, old.seen)
		m.byNew = removeEntry(m.byNew, old)
		m.byPrio = removeEntry(m.byPrio, old)
	}
	m.byNew = insertSorted(m.byNew, e, func(a, b *needEntry) bool { return newer(a.n, b.n) })
	m.byPrio = insertSorted(m.byPrio, e, func(a, b *needEntry) bool { return prioBefore(a.n, b.n) })
	m.gen++
	m.mu.Unlock()
	c := Change{Kind: models.EventNeed, NewNeed: n, Country: n.Country, Gen: gen}
	if ok {
		c.OldNeed = old.n
	}
	m.notify(c)
	return true
}

// RemoveNeed drops a need (an aborted import).
func (m *Model) RemoveNeed(id string) {
	m.mu.RLock()
	e := m.needs[id]
	m.mu.RUnlock()
	if e != nil {
		m.removeNeedEntry(e)
	}
}

// removeNeedEntry drops a need if e is still its entry.
func (m *Model) removeNeedEntry(e *needEntry) {
	id := e.n.ID
	m.mu.Lock()
	old, ok := m.needs[id]
	ok = ok && old == e
	if ok {
		delete(m.needs, id)
		m.byNew = removeEntry(m.byNew, old)
		m.byPrio = removeEntry(m.byPrio, old)
		m.gen++
	}
	m.mu.Unlock()
	if ok {
		m.notify(Change{Kind: models.EventNeed, OldNeed: old.n, Country: old.n.Country, Gen: Local})
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

// Sizes says how many needs and offers the model holds: a count, not an enumeration, so that
// it reveals nothing about objects a caller may not see (start-up checks, metrics).
func (m *Model) Sizes() (needs, offers int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.needs), len(m.offers)
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
	return m.putOffer(&offerEntry{o: o, folded: offerSearchText(o)}, Local)
}

// PutOfferAt is PutNeedAt for offers.
func (m *Model) PutOfferAt(o *models.Offer, gen int64) bool {
	return m.putOffer(&offerEntry{o: o, folded: offerSearchText(o)}, gen)
}

func (m *Model) putOffer(e *offerEntry, gen int64) bool {
	o := e.o
	m.mu.Lock()
	old, ok := m.offers[o.ID]
	if ok && old.o.Version > o.Version {
		m.mu.Unlock()
		if gen != Local {
			m.notify(Change{Kind: models.EventOffer, OldOffer: old.o, NewOffer: old.o, Gen: gen})
		}
		return false
	}
	m.offers[o.ID] = e
	if ok {
		e.seen = max(e.seen, old.seen)
		m.offersNew = removeEntry(m.offersNew, old)
	}
	m.offersNew = insertSorted(m.offersNew, e, func(a, b *offerEntry) bool { return offerNewer(a.o, b.o) })
	m.gen++
	m.mu.Unlock()
	c := Change{Kind: models.EventOffer, NewOffer: o, Gen: gen}
	if ok {
		c.OldOffer = old.o
	}
	m.notify(c)
	return true
}

// RemoveOffer drops an offer (an aborted import).
func (m *Model) RemoveOffer(id string) {
	m.mu.RLock()
	e := m.offers[id]
	m.mu.RUnlock()
	if e != nil {
		m.removeOfferEntry(e)
	}
}

// removeOfferEntry drops an offer if e is still its entry.
func (m *Model) removeOfferEntry(e *offerEntry) {
	id := e.o.ID
	m.mu.Lock()
	old, ok := m.offers[id]
	ok = ok && old == e
	if ok {
		delete(m.offers, id)
		m.offersNew = removeEntry(m.offersNew, old)
		m.gen++
	}
	m.mu.Unlock()
	if ok {
		m.notify(Change{Kind: models.EventOffer, OldOffer: old.o, Gen: Local})
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

// Reconcile brings the model in line with a full load from the store held in memory: it is
// Load (BeginLoad, every object, Commit) for callers that have the objects at hand; the
// server's reload streams them instead. stamp is the Load's.
func (m *Model) Reconcile(needs []*models.Need, offers []*models.Offer, profiles []*models.CountryProfile, loadedAt time.Time, stamp int64) bool {
	l := m.BeginLoad(loadedAt, stamp)
	for _, n := range needs {
		l.Need(n)
	}
	for _, o := range offers {
		l.Offer(o)
	}
	for _, p := range profiles {
		l.Profile(p)
	}
	return l.Commit()
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
