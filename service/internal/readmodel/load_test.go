package readmodel

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marketplace returns n needs and n offers with creation times, priorities and texts drawn
// from seed; several share a creation time, so that the lists' tie on id is exercised.
// Ids are unique, as in a store, and handed out in a random order.
func marketplace(seed int64, prefix string, n int) ([]*models.Need, []*models.Offer) {
	r := rand.New(rand.NewSource(seed))
	prios := []models.Priority{models.PriorityHigh, models.PriorityMedium, models.PriorityLow}
	var needs []*models.Need
	var offers []*models.Offer
	for i, k := range r.Perm(n) {
		x := need(fmt.Sprintf("%sn%05d", prefix, k), r.Intn(n/3+1), prios[r.Intn(3)])
		if i%4 == 0 {
			x.Description = fmt.Sprintf("Programme %d for Côte d'Ivoire", i)
		}
		needs = append(needs, x)
		offers = append(offers, &models.Offer{ID: fmt.Sprintf("%so%05d", prefix, k), Title: fmt.Sprintf("Offer %d", i),
			Status: models.OfferOpen, CreatedAt: base.Add(time.Duration(r.Intn(n/3+1)) * time.Minute), Version: 1})
	}
	return needs, offers
}

// loaded is a time after every creation time of marketplace.
var loaded = base.Add(1000 * time.Hour)

// lists returns everything a model serves in order: needs newest first and by priority,
// offers newest first, and a search.
func lists(m *Model) [4][]string {
	var out [4][]string
	for _, p := range []struct {
		i int
		q NeedQuery
	}{{0, NeedQuery{Limit: 1 << 30}}, {1, NeedQuery{Limit: 1 << 30, Sort: SortPriority}}, {3, NeedQuery{Limit: 1 << 30, Q: "cote d'ivoire"}}} {
		for _, n := range m.Needs(p.q, everyone).Items {
			out[p.i] = append(out[p.i], n.ID)
		}
	}
	for _, o := range m.Offers(OfferQuery{Limit: 1 << 30}, func(*models.Offer) bool { return true }).Items {
		out[2] = append(out[2], o.ID)
	}
	return out
}

// TestBulkLoadEqualsIncremental: a model filled by a load in bulk serves the same lists, in
// the same order, as one that took every object with PutNeed and PutOffer; a later load that
// changes many objects, also in bulk, gives what applying those changes one by one gives;
// and each bulk load tells the observers once, with Reload and the load's stamp.
func TestBulkLoadEqualsIncremental(t *testing.T) {
	needs, offers := marketplace(1, "", 1500)
	inc := New()
	for _, n := range needs {
		inc.PutNeed(n)
	}
	for _, o := range offers {
		inc.PutOffer(o)
	}
	bulk := New()
	var seen []Change
	bulk.Observe(func(c Change) { seen = append(seen, c) })
	l := bulk.BeginLoad(loaded, 77)
	for _, n := range needs {
		l.Need(n)
	}
	for _, o := range offers {
		l.Offer(o)
	}
	require.True(t, l.Commit(), "an empty model loads in bulk")
	require.Len(t, seen, 1)
	assert.True(t, seen[0].Reload)
	assert.Equal(t, int64(77), seen[0].Gen)
	assert.Equal(t, lists(inc), lists(bulk))
	require.Len(t, lists(bulk)[0], len(inc.AllNeeds()))
	require.NotEmpty(t, lists(bulk)[3], "the search finds the folded text")

	// The store moves on: many needs change, some go, some come.
	next := map[string]*models.Need{}
	for _, n := range needs {
		next[n.ID] = n
	}
	var gone []string
	for i, n := range needs {
		switch {
		case i%2 == 0:
			c := *n
			c.Version++
			c.Priority = models.PriorityHigh
			c.Title = "Renamed " + c.Title
			next[n.ID] = &c
		case i%17 == 0:
			delete(next, n.ID)
			gone = append(gone, n.ID)
		}
	}
	fresh, _ := marketplace(3, "f", 300)
	for _, n := range fresh {
		next[n.ID] = n
	}
	for _, n := range next {
		if cur, ok := inc.Need(n.ID); !ok || cur.Version < n.Version {
			inc.PutNeed(n)
		}
	}
	for _, id := range gone {
		inc.RemoveNeed(id)
	}
	seen = nil
	l = bulk.BeginLoad(loaded, 78)
	for _, n := range next {
		l.Need(n)
	}
	for _, o := range offers {
		l.Offer(o)
	}
	require.True(t, l.Commit(), "%d changes load in bulk", len(gone)+len(fresh)+len(needs)/2)
	require.Len(t, seen, 1)
	assert.Equal(t, lists(inc), lists(bulk))
	for _, id := range gone {
		_, ok := bulk.Need(id)
		assert.False(t, ok, "need %s is no longer stored", id)
	}
}

// TestLoadAppliesFewChangesOneByOne: a load that finds few changes applies each as a write
// would (a Change per object, so observers mark only what it alters), and one that finds none
// changes nothing at all.
func TestLoadAppliesFewChangesOneByOne(t *testing.T) {
	needs, offers := marketplace(4, "", 1200)
	m := New()
	require.True(t, m.Reconcile(needs, offers, nil, loaded, 1))
	gen := m.Gen()
	var seen []Change
	m.Observe(func(c Change) { seen = append(seen, c) })
	assert.False(t, m.Reconcile(needs, offers, nil, loaded, 2))
	assert.Empty(t, seen)
	assert.Equal(t, gen, m.Gen(), "an unchanged store changes nothing")

	c := *needs[5]
	c.Version++
	assert.False(t, m.Reconcile(append([]*models.Need{&c}, needs[6:]...), offers, nil, loaded, 3))
	// One change, and the five needs the store no longer has.
	require.Len(t, seen, 6)
	for _, ch := range seen {
		assert.False(t, ch.Reload)
	}
	got, _ := m.Need(c.ID)
	assert.Equal(t, c.Version, got.Version)
	_, ok := m.Need(needs[0].ID)
	assert.False(t, ok)
}

// TestLoadKeepsWritesThatRaceIt: a write that reaches the model while a load runs is kept
// when it is newer than what the load read, whether the load ends in bulk or one by one, and
// an object created after the load began is not dropped for being absent from it.
func TestLoadKeepsWritesThatRaceIt(t *testing.T) {
	for _, size := range []int{20, 1500} {
		needs, offers := marketplace(5, "", size)
		m := New()
		if size < BulkLoadMin {
			m.Reconcile(needs, offers, nil, loaded, 1) // held: the next load is small
		}
		l := m.BeginLoad(loaded, 2)
		for _, n := range needs {
			l.Need(n)
		}
		// Meanwhile a write stores a newer version of a need the load has read, and creates one.
		w := *needs[0]
		w.Version, w.Title = 9, "written during the load"
		m.PutNeed(&w)
		created := need("created-during-load", 0, models.PriorityLow)
		created.CreatedAt = loaded.Add(time.Hour)
		m.PutNeed(created)
		for _, o := range offers {
			l.Offer(o)
		}
		l.Commit()
		got, _ := m.Need(w.ID)
		assert.Equal(t, int64(9), got.Version, "size %d: the write wins", size)
		_, ok := m.Need(created.ID)
		assert.True(t, ok, "size %d: created after the load began", size)
		assert.Len(t, m.AllNeeds(), len(needs)+1, "size %d", size)
	}
}

// TestFoldRunsAsWhole: folding the runs of non-ASCII characters one by one (Fold) gives what
// folding the whole text at once gives, on accents precomposed and combining, marks after an
// ASCII letter, scripts whose letters compose (Hangul jamo) or change length when lower-cased,
// and random mixes of them.
func TestFoldRunsAsWhole(t *testing.T) {
	cases := []string{"", "plain ascii", "Côte d'Ivoire STRATÉGIE", "São Tomé e Príncipe", "e\u0301te\u0301", "A\u030A and Å",
		"İstanbul", "ΣΊΣΥΦΟΣ", "\u1100\u1161\u11A8 한국", "ﬁnance Straße", "x\u0345y", "a\u0903b", "Ǆemal", "\u00e9\u0300\u0301",
		"ȺȾ ⱥ", "\xff\xfe invalid", "tab\tnew\nline"}
	pieces := []string{"a", "Z", " ", "'", "é", "e\u0301", "\u0301", "Ö", "ß", "İ", "Σ", "ς", "\u1100", "\u1161", "\u11A8", "한", "ﬁ",
		"\u0903", "Ǆ", "ǅ", "\xff", "日本", "Ω", "\u212B", "K", "\u212A"}
	r := rand.New(rand.NewSource(9))
	for range 3000 {
		var s string
		for range r.Intn(12) {
			s += pieces[r.Intn(len(pieces))]
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		require.Equal(t, foldRun(s), Fold(s), "%q", s)
	}
}

// TestKnownObjectsCountAsRead: an object the store skips because the model holds its version
// (NeedKnown, OfferKnown) counts as read: it is neither replaced nor dropped; one held at an
// older version is not known, and its stored version is loaded.
func TestKnownObjectsCountAsRead(t *testing.T) {
	needs, offers := marketplace(6, "", 300)
	m := New()
	require.True(t, m.Reconcile(needs, offers, nil, loaded, 1))
	var seen []Change
	m.Observe(func(c Change) { seen = append(seen, c) })
	l := m.BeginLoad(loaded, 2)
	for _, n := range needs {
		require.True(t, l.NeedKnown(n.ID, n.Version))
	}
	for _, o := range offers[1:] { // offers[0] is no longer stored
		require.True(t, l.OfferKnown(o.ID, o.Version))
	}
	assert.False(t, l.NeedKnown("unheld", 1))
	c := *offers[1]
	c.Version++
	require.False(t, l.OfferKnown(c.ID, c.Version), "an older version is held")
	l.Offer(&c)
	assert.False(t, l.Commit())
	assert.Len(t, m.AllNeeds(), len(needs))
	assert.Len(t, m.AllOffers(), len(offers)-1)
	got, _ := m.Offer(c.ID)
	assert.Equal(t, c.Version, got.Version)
	assert.Len(t, seen, 2, "one offer changed, one gone")
}

// TestOverlappingLoadsDropNothing: two loads that run at once (a replica's reload on its bus
// reconnecting while its outage resync runs, as after a Redis failover) both read every stored
// object; whichever commits first must not drop the objects the other one marked as read,
// whether the loads end one by one or in bulk. Before the fix the first to commit dropped them
// all, and the replica answered 404 for needs and offers that exist.
func TestOverlappingLoadsDropNothing(t *testing.T) {
	for _, size := range []int{20, 1500} {
		for _, firstCommits := range []string{"older", "newer"} {
			needs, offers := marketplace(7, "", size)
			m := New()
			require.True(t, m.Reconcile(needs, offers, nil, loaded, 1))
			older, newer := m.BeginLoad(loaded, 2), m.BeginLoad(loaded, 3)
			read := func(l *Load) {
				for _, n := range needs {
					if !l.NeedKnown(n.ID, n.Version) {
						l.Need(n)
					}
				}
				for _, o := range offers {
					if !l.OfferKnown(o.ID, o.Version) {
						l.Offer(o)
					}
				}
			}
			read(older)
			read(newer)
			read(older) // interleaved: each marks what the other marked
			first, second := older, newer
			if firstCommits == "newer" {
				first, second = newer, older
			}
			first.Commit()
			assert.Len(t, m.AllNeeds(), len(needs), "size %d, %s load committed first", size, firstCommits)
			assert.Len(t, m.AllOffers(), len(offers), "size %d, %s load committed first", size, firstCommits)
			second.Commit()
			assert.Len(t, m.AllNeeds(), len(needs), "size %d, then the other", size)
			assert.Len(t, m.AllOffers(), len(offers), "size %d, then the other", size)
		}
	}
}
