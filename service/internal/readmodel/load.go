package readmodel

import (
	"slices"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Load is one full load of needs, offers and country profiles from the store: BeginLoad, then
// Need, Offer and Profile for every stored object as the store's cursor yields it, then
// Commit. Objects arrive one at a time, and one the model already holds at the same or a
// newer version is dropped at once, so that a reload never holds a second copy of the
// collections: only what changed waits for Commit.
//
// Commit applies the changes one by one, with a Change per object for the observers (the
// rankings they can alter are marked and patched), when they are few; when there are many,
// or the model was empty (a server's start-up), it installs them in bulk, sorts its lists
// once and tells the observers with a single Change whose Reload is set: they rebuild what
// they derive from the model in one pass (the matching index) instead of working out what
// each object affects, which grows with the product of needs and offers.
//
// Need and Offer may be called from two goroutines (one reading needs, the other offers), but
// each of them, like Profile and Commit, from one at a time. Writes and other replicas'
// changes may reach the model while a load runs (PutNeed and the like), and the newer version
// always wins.
type Load struct {
	m        *Model
	loadedAt time.Time
	stamp    int64
	epoch    uint32
	needs    []*needEntry
	offers   []*offerEntry
	profiles []*models.CountryProfile
	// Each kind has its own interner (see intern), so that needs and offers can be loaded
	// side by side.
	ni, oi interner
}

// interner keeps the first copy of each string it saw.
type interner map[string]string

// BulkLoadMin is the number of changes from which Commit loads in bulk; below it, and below
// one in bulkLoadShare of the objects held, changes are applied one by one.
const (
	BulkLoadMin   = 1000
	bulkLoadShare = 100
)

// BeginLoad starts a full load. loadedAt is when the store's read began: an object the store
// no longer has is dropped only if it is older (a younger one was created while the load
// ran). stamp is what Commit tells observers in Change.Gen: the change-log position read before
// the load began, from which the model reflects the store; rankings cached before it are not
// to be trusted where the load changed something (all of them after a bulk Commit).
func (m *Model) BeginLoad(loadedAt time.Time, stamp int64) *Load {
	m.mu.Lock()
	m.epoch++
	e := m.epoch
	m.mu.Unlock()
	return &Load{m: m, loadedAt: loadedAt, stamp: stamp, epoch: e, ni: interner{}, oi: interner{}}
}

// intern returns the first copy of s this load saw. A decoded document holds each of its
// strings in an allocation of its own, although most of them (countries, themes,
// capabilities, statuses, languages, dates, organizations) repeat across thousands of
// objects; sharing one copy saves about a tenth of the model's memory (BENCHMARKS.md).
// Strings are immutable, so sharing them is safe; slices are never shared, since code may
// change an object's copy in place.
func (l interner) intern(s string) string {
	if s == "" {
		return s
	}
	if v, ok := l[s]; ok {
		return v
	}
	l[s] = s
	return s
}

func internAs[T ~string](l interner, s T) T { return T(l.intern(string(s))) }

func internAll[T ~string](l interner, xs []T) {
	for i, x := range xs {
		xs[i] = internAs(l, x)
	}
}

// internNeed shares the repeated strings of a need this load decoded (and owns).
func (l interner) internNeed(n *models.Need) {
	n.Country, n.Theme, n.Capability = l.intern(n.Country), internAs(l, n.Theme), internAs(l, n.Capability)
	internAll(l, n.Modalities)
	internAll(l, n.Languages)
	n.StartBy, n.Priority, n.Visibility, n.Status = internAs(l, n.StartBy), internAs(l, n.Priority), internAs(l, n.Visibility), internAs(l, n.Status)
	n.Maturity.Framework, n.StatusReason = internAs(l, n.Maturity.Framework), l.intern(n.StatusReason)
	n.OrganizationID, n.CreatedBy = l.intern(n.OrganizationID), l.intern(n.CreatedBy)
}

// internOffer shares the repeated strings of an offer this load decoded.
func (l interner) internOffer(o *models.Offer) {
	internAll(l, o.Themes)
	internAll(l, o.Capabilities)
	internAll(l, o.Modalities)
	internAll(l, o.Languages)
	internAll(l, o.EligibleCountries)
	internAll(l, o.EligibleRegions)
	o.AvailableFrom, o.AvailableUntil, o.Status = internAs(l, o.AvailableFrom), internAs(l, o.AvailableUntil), internAs(l, o.Status)
	o.StatusReason, o.ContactName, o.ContactEmail = l.intern(o.StatusReason), l.intern(o.ContactName), l.intern(o.ContactEmail)
	o.OrganizationID, o.CreatedBy = l.intern(o.OrganizationID), l.intern(o.CreatedBy)
}

// NeedKnown reports whether the model holds version of the need with that id, or a newer one;
// the store then need not decode it (models.NeedStore.EachNeed). Either way it counts as read
// from the store.
func (l *Load) NeedKnown(id string, version int64) bool {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if e, ok := l.m.needs[id]; ok {
		e.seen = max(e.seen, l.epoch)
		return e.n.Version >= version
	}
	return false
}

// OfferKnown is NeedKnown for offers.
func (l *Load) OfferKnown(id string, version int64) bool {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	if e, ok := l.m.offers[id]; ok {
		e.seen = max(e.seen, l.epoch)
		return e.o.Version >= version
	}
	return false
}

// Need takes one stored need. The load owns it from then on: it may share its strings with
// other objects' (intern).
func (l *Load) Need(n *models.Need) {
	l.m.mu.Lock()
	if e, ok := l.m.needs[n.ID]; ok {
		e.seen = max(e.seen, l.epoch)
		if e.n.Version >= n.Version {
			l.m.mu.Unlock()
			return
		}
	}
	l.m.mu.Unlock()
	l.ni.internNeed(n)
	l.needs = append(l.needs, &needEntry{n: n, folded: needSearchText(n), seen: l.epoch})
}

// Offer takes one stored offer, as Need.
func (l *Load) Offer(o *models.Offer) {
	l.m.mu.Lock()
	if e, ok := l.m.offers[o.ID]; ok {
		e.seen = max(e.seen, l.epoch)
		if e.o.Version >= o.Version {
			l.m.mu.Unlock()
			return
		}
	}
	l.m.mu.Unlock()
	// The reservations (an engagement id per slot taken) are read from the store by the
	// capacity operations, which change them there and only there, and change events never
	// carry them: the model keeps none.
	o.Reservations = nil
	l.oi.internOffer(o)
	l.offers = append(l.offers, &offerEntry{o: o, folded: offerSearchText(o), seen: l.epoch})
}

// Profile takes one stored country profile.
func (l *Load) Profile(p *models.CountryProfile) {
	if cur, ok := l.m.Profile(p.ISO); !ok || cur.Version < p.Version {
		l.profiles = append(l.profiles, p)
	}
}

// Found returns the needs and offers the load found newer in the store than in the model
// (what Commit installs, unless a newer version arrived meanwhile).
func (l *Load) Found() ([]*models.Need, []*models.Offer) {
	needs := make([]*models.Need, len(l.needs))
	for i, e := range l.needs {
		needs[i] = e.n
	}
	offers := make([]*models.Offer, len(l.offers))
	for i, e := range l.offers {
		offers[i] = e.o
	}
	return needs, offers
}

// Commit installs what the load found: newer versions replace held ones, and held objects
// the store no longer has are dropped if they are older than loadedAt. Loads may overlap (a
// reload on the bus reconnecting while the outage resync runs): an object counts as read when
// this load or a later one found it (seen holds the latest epoch that did), so that the first
// to commit does not drop what only the other marked. It reports whether it
// loaded in bulk (see Load).
func (l *Load) Commit() (bulk bool) {
	m := l.m
	for _, p := range l.profiles {
		m.PutProfile(p)
	}
	m.mu.Lock()
	// What the load read is in the store, even where a write stored a newer version while it
	// ran (that version, held now, wins below).
	for _, e := range l.needs {
		if cur, ok := m.needs[e.n.ID]; ok {
			cur.seen = max(cur.seen, l.epoch)
		}
	}
	for _, e := range l.offers {
		if cur, ok := m.offers[e.o.ID]; ok {
			cur.seen = max(cur.seen, l.epoch)
		}
	}
	var goneN []*needEntry
	for _, e := range m.needs {
		if e.seen < l.epoch && e.n.CreatedAt.Before(l.loadedAt) {
			goneN = append(goneN, e)
		}
	}
	var goneO []*offerEntry
	for _, e := range m.offers {
		if e.seen < l.epoch && e.o.CreatedAt.Before(l.loadedAt) {
			goneO = append(goneO, e)
		}
	}
	held := len(m.needs) + len(m.offers)
	changes := len(l.needs) + len(l.offers) + len(goneN) + len(goneO)
	if changes == 0 || (held > 0 && changes < max(BulkLoadMin, held/bulkLoadShare)) {
		m.mu.Unlock()
		for _, e := range l.needs {
			m.putNeed(e, l.stamp)
		}
		for _, e := range l.offers {
			m.putOffer(e, l.stamp)
		}
		for _, e := range goneN {
			m.removeNeedEntry(e)
		}
		for _, e := range goneO {
			m.removeOfferEntry(e)
		}
		return false
	}
	for _, e := range l.needs {
		// A write may have put a newer version while the load ran.
		if cur, ok := m.needs[e.n.ID]; !ok || cur.n.Version < e.n.Version {
			if ok {
				e.seen = max(e.seen, cur.seen) // as putNeed: a later load's mark stays
			}
			m.needs[e.n.ID] = e
		}
	}
	for _, e := range l.offers {
		if cur, ok := m.offers[e.o.ID]; !ok || cur.o.Version < e.o.Version {
			if ok {
				e.seen = max(e.seen, cur.seen)
			}
			m.offers[e.o.ID] = e
		}
	}
	for _, e := range goneN {
		if m.needs[e.n.ID] == e {
			delete(m.needs, e.n.ID)
		}
	}
	for _, e := range goneO {
		if m.offers[e.o.ID] == e {
			delete(m.offers, e.o.ID)
		}
	}
	m.byNew = make([]*needEntry, 0, len(m.needs))
	for _, e := range m.needs {
		m.byNew = append(m.byNew, e)
	}
	m.byPrio = slices.Clone(m.byNew)
	slices.SortFunc(m.byNew, func(a, b *needEntry) int { return order(newer(a.n, b.n), newer(b.n, a.n)) })
	slices.SortFunc(m.byPrio, func(a, b *needEntry) int { return order(prioBefore(a.n, b.n), prioBefore(b.n, a.n)) })
	m.offersNew = make([]*offerEntry, 0, len(m.offers))
	for _, e := range m.offers {
		m.offersNew = append(m.offersNew, e)
	}
	slices.SortFunc(m.offersNew, func(a, b *offerEntry) int { return order(offerNewer(a.o, b.o), offerNewer(b.o, a.o)) })
	m.gen++
	m.mu.Unlock()
	m.notify(Change{Reload: true, Gen: l.stamp})
	return true
}

// order turns two "before" answers into a comparison result.
func order(before, after bool) int {
	switch {
	case before:
		return -1
	case after:
		return 1
	}
	return 0
}
