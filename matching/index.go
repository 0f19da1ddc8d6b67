package matching

import (
	"slices"
	"sync"

	"github.com/capmatch/capmatch/models"
)

// Index holds prepared needs and offers and the buckets that make top-k queries fast:
// offers by eligible country and capability or theme, needs by country and capability or
// theme, with offers eligible everywhere kept apart. Weights and context are not part of
// the index; every query takes them, so a change of weights needs no rebuild of the index,
// only of the rankings.
//
// Concurrency: all methods are safe for concurrent use. Queries (Top*, RebuildAll, Refresh*,
// Affected*, Explain) share a read lock and run in parallel; Upsert* and Remove* take the
// write lock and wait for running queries. The index keeps the *models.Need and
// *models.Offer pointers it is given: do not modify them afterwards, upsert a new value.
type Index struct {
	mu        sync.RWMutex
	v         *vocab
	needs     []*needRec // by slot; nil for a free slot
	offers    []*offerRec
	needSlot  map[string]int32
	offerSlot map[string]int32
	freeNeed  []int32
	freeOffer []int32
	countries []*bucket // by country id
	global    bucket    // live offers eligible everywhere (only the offer lists are used)
}

// bucket lists, for one country, the live offers eligible there and the needs posted for
// it. Per-capability and per-theme lists let a query visit the best candidates first and
// skip the rest when they cannot make the top k.
type bucket struct {
	offersAll     []int32
	offersByCap   [][]int32 // by capability id
	offersByTheme [][]int32 // by theme id: offers covering the theme directly or via a capability
	needsAny      []int32   // every need of the country, whatever its status
	needsRankable []int32   // open and submitted needs
	needsByCap    [][]int32
	needsByTheme  [][]int32
}

// NewIndex prepares the needs and offers and builds the buckets. Needs and offers may be
// in any state; only open offers with engagements left and open or submitted needs are
// ranked. A later duplicate id replaces an earlier one.
func NewIndex(needs []*models.Need, offers []*models.Offer) *Index {
	ix := &Index{
		v:         newVocab(),
		needSlot:  make(map[string]int32, len(needs)),
		offerSlot: make(map[string]int32, len(offers)),
	}
	for _, o := range offers {
		ix.upsertOffer(o)
	}
	for _, n := range needs {
		ix.upsertNeed(n)
	}
	return ix
}

// Load replaces everything the index holds with needs and offers, as NewIndex builds them: the
// bulk path of a full load (a server's start-up, a reload that changed much), whose cost grows
// with the number of objects only, where one Upsert per object and the work of finding what
// each one affects grows with their product. The new content is prepared without the lock
// and swapped in at once: queries running meanwhile see the old content, later ones the new.
// A later duplicate id replaces an earlier one.
func (ix *Index) Load(needs []*models.Need, offers []*models.Offer) {
	fresh := NewIndex(needs, offers)
	fresh.compact()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.v, ix.needs, ix.offers = fresh.v, fresh.needs, fresh.offers
	ix.needSlot, ix.offerSlot = fresh.needSlot, fresh.offerSlot
	ix.freeNeed, ix.freeOffer = fresh.freeNeed, fresh.freeOffer
	ix.countries, ix.global = fresh.countries, fresh.global
}

// compact trims the spare capacity that building by appends leaves in the bucket lists (up
// to half of each), so that a loaded index holds what it lists and little more. Later
// upserts append as usual.
func (ix *Index) compact() {
	trim := func(l []int32) []int32 {
		if cap(l)-len(l) <= len(l)/8 {
			return l
		}
		return slices.Clone(l)
	}
	trimAll := func(ls [][]int32) {
		for i := range ls {
			ls[i] = trim(ls[i])
		}
	}
	buckets := append([]*bucket{&ix.global}, ix.countries...)
	for _, b := range buckets {
		if b == nil {
			continue
		}
		b.offersAll, b.needsAny, b.needsRankable = trim(b.offersAll), trim(b.needsAny), trim(b.needsRankable)
		trimAll(b.offersByCap)
		trimAll(b.offersByTheme)
		trimAll(b.needsByCap)
		trimAll(b.needsByTheme)
	}
	ix.needs, ix.offers = slices.Clip(ix.needs), slices.Clip(ix.offers)
}

// Len returns how many needs and offers the index holds.
func (ix *Index) Len() (needs, offers int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.needSlot), len(ix.offerSlot)
}

// Need returns the indexed need with that id.
func (ix *Index) Need(id string) (*models.Need, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if s, ok := ix.needSlot[id]; ok {
		return ix.needs[s].n, true
	}
	return nil, false
}

// Offer returns the indexed offer with that id.
func (ix *Index) Offer(id string) (*models.Offer, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if s, ok := ix.offerSlot[id]; ok {
		return ix.offers[s].o, true
	}
	return nil, false
}

// NeedsDelivering returns the ids of the indexed needs (whatever their status) of the given
// country and capability: those whose duplication factor counts deliveries d. When the
// deliveries under way change, only their rankings, and those they appear in, can change.
func (ix *Index) NeedsDelivering(d Delivery) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	c, ok1 := ix.v.country.lookup(d.Country)
	k, ok2 := ix.v.capability.lookup(string(d.Capability))
	if !ok1 || !ok2 {
		return nil
	}
	b := ix.bucketAt(c)
	if b == nil {
		return nil
	}
	var ids []string
	for _, s := range b.needsAny {
		if nr := ix.needs[s]; nr.cap == k {
			ids = append(ids, nr.id)
		}
	}
	return ids
}

// UpsertNeed adds the need or replaces the one with its id, and returns the replaced one
// (nil if it is new) so that the caller can work out what the change affects.
func (ix *Index) UpsertNeed(n *models.Need) (old *models.Need) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.upsertNeed(n)
}

// RemoveNeed drops the need with that id and returns it (nil if it was not there).
func (ix *Index) RemoveNeed(id string) (old *models.Need) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s, ok := ix.needSlot[id]
	if !ok {
		return nil
	}
	r := ix.needs[s]
	ix.unlinkNeed(r)
	ix.needs[s] = nil
	delete(ix.needSlot, id)
	ix.freeNeed = append(ix.freeNeed, s)
	return r.n
}

// UpsertOffer adds the offer or replaces the one with its id, and returns the replaced one
// (nil if it is new); pass it to AffectedByOffer or RefreshOffer.
func (ix *Index) UpsertOffer(o *models.Offer) (old *models.Offer) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.upsertOffer(o)
}

// RemoveOffer drops the offer with that id and returns it (nil if it was not there).
func (ix *Index) RemoveOffer(id string) (old *models.Offer) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s, ok := ix.offerSlot[id]
	if !ok {
		return nil
	}
	r := ix.offers[s]
	ix.unlinkOffer(r)
	ix.offers[s] = nil
	delete(ix.offerSlot, id)
	ix.freeOffer = append(ix.freeOffer, s)
	return r.o
}

func (ix *Index) upsertNeed(n *models.Need) (old *models.Need) {
	s, ok := ix.needSlot[n.ID]
	if ok {
		old = ix.needs[s].n
		ix.unlinkNeed(ix.needs[s])
	} else if k := len(ix.freeNeed); k > 0 {
		s, ix.freeNeed = ix.freeNeed[k-1], ix.freeNeed[:k-1]
	} else {
		s = int32(len(ix.needs))
		ix.needs = append(ix.needs, nil)
	}
	r := ix.v.prepNeed(n, false)
	r.slot = s
	ix.needs[s] = r
	ix.needSlot[n.ID] = s
	ix.linkNeed(r)
	return old
}

func (ix *Index) upsertOffer(o *models.Offer) (old *models.Offer) {
	s, ok := ix.offerSlot[o.ID]
	if ok {
		old = ix.offers[s].o
		ix.unlinkOffer(ix.offers[s])
	} else if k := len(ix.freeOffer); k > 0 {
		s, ix.freeOffer = ix.freeOffer[k-1], ix.freeOffer[:k-1]
	} else {
		s = int32(len(ix.offers))
		ix.offers = append(ix.offers, nil)
	}
	r := ix.v.prepOffer(o, false)
	r.slot = s
	ix.offers[s] = r
	ix.offerSlot[o.ID] = s
	ix.linkOffer(r)
	return old
}

// bucketFor returns the bucket of a country id, creating it.
func (ix *Index) bucketFor(c uint32) *bucket {
	for int(c) >= len(ix.countries) {
		ix.countries = append(ix.countries, nil)
	}
	if ix.countries[c] == nil {
		ix.countries[c] = &bucket{}
	}
	return ix.countries[c]
}

// bucketAt returns the bucket of a country id, or nil.
func (ix *Index) bucketAt(c uint32) *bucket {
	if int(c) < len(ix.countries) {
		return ix.countries[c]
	}
	return nil
}

func addAt(lists *[][]int32, i uint32, slot int32) {
	for int(i) >= len(*lists) {
		*lists = append(*lists, nil)
	}
	(*lists)[i] = append((*lists)[i], slot)
}

func removeAt(lists [][]int32, i uint32, slot int32) {
	if int(i) < len(lists) {
		lists[i] = remove(lists[i], slot)
	}
}

// remove deletes slot from the list by moving the last element into its place; list order
// carries no meaning, rankings are ordered by score and id.
func remove(list []int32, slot int32) []int32 {
	if i := slices.Index(list, slot); i >= 0 {
		last := len(list) - 1
		list[i] = list[last]
		return list[:last]
	}
	return list
}

func (ix *Index) linkOffer(r *offerRec) {
	if !r.live {
		return
	}
	link := func(b *bucket) {
		b.offersAll = append(b.offersAll, r.slot)
		for _, c := range r.capList {
			addAt(&b.offersByCap, c, r.slot)
		}
		for _, t := range r.themeList {
			addAt(&b.offersByTheme, t, r.slot)
		}
	}
	if r.global {
		link(&ix.global)
		return
	}
	for _, c := range r.eligList {
		link(ix.bucketFor(c))
	}
}

func (ix *Index) unlinkOffer(r *offerRec) {
	if !r.live {
		return
	}
	unlink := func(b *bucket) {
		b.offersAll = remove(b.offersAll, r.slot)
		for _, c := range r.capList {
			removeAt(b.offersByCap, c, r.slot)
		}
		for _, t := range r.themeList {
			removeAt(b.offersByTheme, t, r.slot)
		}
	}
	if r.global {
		unlink(&ix.global)
		return
	}
	for _, c := range r.eligList {
		if b := ix.bucketAt(c); b != nil {
			unlink(b)
		}
	}
}

func (ix *Index) linkNeed(r *needRec) {
	b := ix.bucketFor(r.country)
	b.needsAny = append(b.needsAny, r.slot)
	if !r.rankable {
		return
	}
	b.needsRankable = append(b.needsRankable, r.slot)
	addAt(&b.needsByCap, r.cap, r.slot)
	addAt(&b.needsByTheme, r.theme, r.slot)
}

func (ix *Index) unlinkNeed(r *needRec) {
	b := ix.bucketAt(r.country)
	if b == nil {
		return
	}
	b.needsAny = remove(b.needsAny, r.slot)
	if !r.rankable {
		return
	}
	b.needsRankable = remove(b.needsRankable, r.slot)
	removeAt(b.needsByCap, r.cap, r.slot)
	removeAt(b.needsByTheme, r.theme, r.slot)
}

// listAt returns lists[i], or nil.
func listAt(lists [][]int32, i uint32) []int32 {
	if int(i) < len(lists) {
		return lists[i]
	}
	return nil
}
