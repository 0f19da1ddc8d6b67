package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/readmodel"
	"golang.org/x/sync/singleflight"
)

// MaxRankLimit is the longest ranking a client may ask for; each list is computed and cached
// to this length once and cut per request.
const MaxRankLimit = 50

// RankCache is the shared ranking cache (Redis). Get returns nil, nil for a miss.
type RankCache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, entries map[string][]byte) error
}

// Matching serves ranked, explained matches: offers for a need and needs for an offer.
//
// Freshness: every write of a need or an offer is stamped with the hybrid logical clock, and the
// stamp is stored with the object (its Gen), so every replica, including one that loads it from
// the store, marks the rankings the change can alter as dirty at the same stamp (an offer change
// marks only the needs of the countries it is or was eligible for). A cached ranking carries the
// stamp it was computed at, the weights version and a fingerprint of the deliveries under way
// (the duplication factor's input), and is served only if no change it could miss happened
// since, the weights are the same and the fingerprint matches. Writers publish changes
// synchronously (every listening replica applies and acknowledges before the write is
// answered), so the next read on any replica sees the change.
//
// Layers: an in-process cache (L1) in front of Redis (L2), both checked against the stamps;
// on a miss the ranking is computed from the in-memory index once per process (singleflight)
// and written to both. While the event bus is down this replica cannot know what others
// changed, so it computes every ranking from its model and answers cached=false.
type Matching struct {
	Store models.Store
	Model *readmodel.Model
	Cache RankCache
	Bus   models.Bus
	Clock *HLC
	Now   Clock
	Log   *slog.Logger
	// Fresh reports whether this replica hears every change (its bus is connected).
	Fresh func() bool
	// Active supplies the deliveries under way (agreed engagements, active projects) per
	// country and capability, for the duplication factor; nil means none.
	Active func() map[matching.Delivery]int

	ix         *matching.Index
	mu         sync.RWMutex
	weights    matching.Weights
	weightsRaw []byte
	needDirty  map[string]int64
	offerDirty map[string]int64
	active     map[matching.Delivery]int
	activeHash string
	l1         map[string]*rankEntry
	sf         singleflight.Group
	computes   atomic.Int64
}

// Computes counts rankings computed (not served from a cache) by this replica; tests and
// metrics read it.
func (m *Matching) Computes() int64 { return m.computes.Load() }

// rankEntry is one cached ranking.
type rankEntry struct {
	Stamp          int64        `json:"s"`
	Day            models.Date  `json:"d"`
	WeightsVersion int64        `json:"w"`
	Context        string       `json:"c"`
	ComputedAt     time.Time    `json:"t"`
	Items          []rankedItem `json:"i"`
	bodies         sync.Map     // limit → encoded response (L1 only)
	cachedBodies   sync.Map     // limit → encoded response with cached=true
}

// rankedItem is one line of a ranking with what a client shows.
type rankedItem struct {
	ID      string            `json:"id"`
	Score   float64           `json:"score"`
	Title   string            `json:"title"`
	OrgID   string            `json:"org"`
	Country string            `json:"country,omitempty"`
	Factors []matching.Factor `json:"factors"`
}

// NewMatching wires the service; call Start before serving.
func NewMatching(m *Matching) *Matching {
	m.needDirty = map[string]int64{}
	m.offerDirty = map[string]int64{}
	m.l1 = map[string]*rankEntry{}
	m.weights = matching.DefaultWeights()
	m.ix = matching.NewIndex(nil, nil)
	m.Model.Observe(m.apply)
	return m
}

// Index exposes the matching index (allocation, benchmarks).
func (m *Matching) Index() *matching.Index { return m.ix }

// weightsSetting is where the weights live in the store.
const weightsSetting = "matching_weights"

// LoadWeights reads the weights in force from the store (creating the defaults once).
func (m *Matching) LoadWeights(ctx context.Context) error {
	def, _ := json.Marshal(matching.DefaultWeights())
	raw, err := m.Store.GetOrCreateSetting(ctx, weightsSetting, def)
	if err != nil {
		return err
	}
	var w matching.Weights
	if err := json.Unmarshal(raw, &w); err != nil {
		return fmt.Errorf("stored weights: %w", err)
	}
	m.mu.Lock()
	changed := w.Version != m.weights.Version || string(raw) != string(m.weightsRaw)
	m.weights, m.weightsRaw = w, raw
	m.mu.Unlock()
	if changed {
		m.clearL1()
	}
	return nil
}

// Weights returns the weights in force.
func (m *Matching) Weights() matching.Weights {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.weights
}

// SetWeights replaces the weights (coordinators). The body's version must be the version in
// force; the stored version is then incremented. Every ranking is recomputed on next read.
func (m *Matching) SetWeights(ctx context.Context, a *models.Actor, w matching.Weights) (matching.Weights, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return matching.Weights{}, err
	}
	if err := w.Validate(); err != nil {
		return matching.Weights{}, err
	}
	m.mu.RLock()
	cur, curRaw := m.weights, m.weightsRaw
	m.mu.RUnlock()
	if w.Version != cur.Version {
		return matching.Weights{}, models.Errorf(models.ErrConflict, "version %d is stale: the weights are at version %d; reload them", w.Version, cur.Version)
	}
	w.Version = cur.Version + 1
	raw, _ := json.Marshal(w)
	ok, err := m.Store.SwapSetting(ctx, weightsSetting, curRaw, raw)
	if err != nil {
		return matching.Weights{}, err
	}
	if !ok {
		_ = m.LoadWeights(ctx)
		return matching.Weights{}, models.Errorf(models.ErrConflict, "the weights were changed by someone else; reload them")
	}
	g := m.Clock.Tick()
	m.mu.Lock()
	m.weights, m.weightsRaw = w, raw
	m.mu.Unlock()
	m.clearL1()
	publish(ctx, m.Bus, m.Log, models.Event{Type: models.EventWeights, ID: strconv.FormatInt(w.Version, 10), Version: w.Version, At: m.Now().UTC(), Data: raw, Gen: g})
	audit(ctx, m.Store, m.Log, m.Now(), a, "update", "matching_weights", "weights", matching.FactorNames())
	return w, nil
}

// WeightsChanged applies another replica's weights.
func (m *Matching) WeightsChanged(raw []byte) {
	var w matching.Weights
	if json.Unmarshal(raw, &w) != nil {
		return
	}
	m.mu.Lock()
	if w.Version < m.weights.Version {
		m.mu.Unlock()
		return
	}
	m.weights, m.weightsRaw = w, raw
	m.mu.Unlock()
	m.clearL1()
}

// ContextChanged re-reads the deliveries under way (an engagement was agreed, a project
// started or closed); when they differ, any ranking's duplication factor may have changed.
func (m *Matching) ContextChanged() {
	var act map[matching.Delivery]int
	if m.Active != nil {
		act = m.Active()
	}
	m.mu.Lock()
	same := maps.Equal(act, m.active) && m.activeHash != ""
	m.active, m.activeHash = act, fingerprint(act)
	m.mu.Unlock()
	if !same {
		m.clearL1()
	}
}

// fingerprint names a set of deliveries, so that rankings computed with the same duplication
// input are recognised as such on every replica.
func fingerprint(act map[matching.Delivery]int) string {
	keys := make([]string, 0, len(act))
	for d, n := range act {
		keys = append(keys, fmt.Sprintf("%s/%s/%d", d.Country, d.Capability, n))
	}
	sort.Strings(keys)
	sum := sha256.Sum256([]byte(strings.Join(keys, ",")))
	return hex.EncodeToString(sum[:8])
}

// clearL1 drops the in-process cache (its entries are checked anyway; this frees memory).
func (m *Matching) clearL1() {
	m.mu.Lock()
	m.l1 = map[string]*rankEntry{}
	m.mu.Unlock()
}

// markDirty records that a ranking may have changed at stamp g; stamps only move forward.
func markDirty(dirty map[string]int64, id string, g int64) {
	if g > dirty[id] {
		dirty[id] = g
	}
}

// apply keeps the index in step with the read model and marks what a change can alter, at the
// changed object's own stamp.
func (m *Matching) apply(c readmodel.Change) {
	g := c.Gen
	switch c.Kind {
	case models.EventNeed:
		var old *models.Need
		id := ""
		if c.NewNeed != nil {
			id = c.NewNeed.ID
			old = m.ix.UpsertNeed(c.NewNeed)
		} else if c.OldNeed != nil {
			id = c.OldNeed.ID
			old = m.ix.RemoveNeed(id)
		}
		affected := m.ix.AffectedByNeed(old, c.NewNeed)
		m.mu.Lock()
		markDirty(m.needDirty, id, g)
		delete(m.l1, needKey(id))
		for _, o := range affected {
			markDirty(m.offerDirty, o, g)
			m.dropOfferL1(o)
		}
		m.mu.Unlock()
	case models.EventOffer:
		var old *models.Offer
		id := ""
		if c.NewOffer != nil {
			id = c.NewOffer.ID
			old = m.ix.UpsertOffer(c.NewOffer)
		} else if c.OldOffer != nil {
			id = c.OldOffer.ID
			old = m.ix.RemoveOffer(id)
		}
		affected := m.ix.AffectedByOffer(old, c.NewOffer)
		m.mu.Lock()
		markDirty(m.offerDirty, id, g)
		m.dropOfferL1(id)
		for _, n := range affected {
			markDirty(m.needDirty, n, g)
			delete(m.l1, needKey(n))
		}
		m.mu.Unlock()
	}
}

// dropOfferL1 forgets every audience's ranking of an offer; m.mu must be held.
func (m *Matching) dropOfferL1(id string) {
	for _, aud := range []string{"all", "donor"} {
		delete(m.l1, offerKey(id, aud))
	}
	// Ministry audiences are per country; they are few and checked by stamp anyway.
}

func needKey(id string) string       { return "n:" + id }
func offerKey(id, aud string) string { return "o:" + id + ":" + aud }

// audience names the group of callers who see the same needs, so that a ranking of needs is
// cached once per group: coordinators see all; donors see public and donors-tier needs; a
// ministry sees public needs and its own country's.
func audience(a *models.Actor) (string, func(*models.Need) bool) {
	switch {
	case a.Role.Curates():
		return "all", func(n *models.Need) bool { return true }
	case a.Role == models.RoleDonor:
		probe := &models.Actor{Role: models.RoleDonor, OrgID: "\x00"}
		return "donor", func(n *models.Need) bool { return models.CanSeeNeed(probe, n) }
	}
	probe := &models.Actor{Role: models.RoleMinistry, Country: a.Country, OrgID: "\x00"}
	return "ministry-" + a.Country, func(n *models.Need) bool { return models.CanSeeNeed(probe, n) }
}

func (m *Matching) context(today models.Date) (*matching.Context, string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return &matching.Context{Today: today, Active: m.active}, m.activeHash
}

// minStamp is the stamp a cached ranking must have reached to be current.
func (m *Matching) minStamp(dirty map[string]int64, id string) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return dirty[id]
}

// OffersForNeedJSON returns the encoded ranking of offers for a need the actor may see.
func (m *Matching) OffersForNeedJSON(ctx context.Context, a *models.Actor, needID string, limit int) ([]byte, error) {
	n, ok := m.Model.Need(needID)
	if !ok || !models.ValidID(needID) {
		return nil, models.Errorf(models.ErrNotFound, "need not found")
	}
	if err := models.AuthorizeNeed(a, models.ActRead, n); err != nil {
		return nil, err
	}
	key := needKey(needID)
	return m.serve(ctx, key, m.minStamp(m.needDirty, needID), limit, func(w matching.Weights, c *matching.Context) []rankedItem {
		ms := m.ix.ExplainAll(m.ix.TopOffersForNeed(needID, MaxRankLimit, w, c), w, c)
		items := make([]rankedItem, 0, len(ms))
		for _, x := range ms {
			o, ok := m.ix.Offer(x.OfferID)
			if !ok {
				continue
			}
			items = append(items, rankedItem{ID: x.OfferID, Score: x.Score, Title: o.Title, OrgID: o.OrganizationID, Factors: x.Factors})
		}
		return items
	}, func(e *rankEntry, cached bool, limit int) any {
		return needMatchesBody(needID, e, cached, limit)
	})
}

// NeedsForOfferJSON returns the encoded ranking of needs for an offer, listing only needs the
// actor may see.
func (m *Matching) NeedsForOfferJSON(ctx context.Context, a *models.Actor, offerID string, limit int) ([]byte, error) {
	o, ok := m.Model.Offer(offerID)
	if !ok || !models.ValidID(offerID) {
		return nil, models.Errorf(models.ErrNotFound, "offer not found")
	}
	if err := models.AuthorizeOffer(a, models.ActRead, o); err != nil {
		return nil, err
	}
	aud, visible := audience(a)
	key := offerKey(offerID, aud)
	return m.serve(ctx, key, m.minStamp(m.offerDirty, offerID), limit, func(w matching.Weights, c *matching.Context) []rankedItem {
		ms := m.ix.ExplainAll(m.ix.TopNeedsForOffer(offerID, MaxRankLimit, w, c, visible), w, c)
		items := make([]rankedItem, 0, len(ms))
		for _, x := range ms {
			n, ok := m.ix.Need(x.NeedID)
			if !ok {
				continue
			}
			items = append(items, rankedItem{ID: x.NeedID, Score: x.Score, Title: n.Title, OrgID: n.OrganizationID, Country: n.Country, Factors: x.Factors})
		}
		return items
	}, func(e *rankEntry, cached bool, limit int) any {
		return offerMatchesBody(offerID, e, cached, limit)
	})
}

// serve is the cache path shared by both directions: L1, then L2, then compute once.
func (m *Matching) serve(ctx context.Context, key string, min int64, limit int,
	compute func(matching.Weights, *matching.Context) []rankedItem, body func(*rankEntry, bool, int) any) ([]byte, error) {
	today := models.DateOf(m.Now())
	w := m.Weights()
	ctxNow, ctxHash := m.context(today)
	current := func(e *rankEntry) bool {
		return e != nil && e.Stamp >= min && e.Day == today && e.WeightsVersion == w.Version && e.Context == ctxHash
	}
	fresh := func() *rankEntry {
		m.computes.Add(1)
		return &rankEntry{Stamp: min, Day: today, WeightsVersion: w.Version, Context: ctxHash, ComputedAt: m.Now().UTC(), Items: compute(w, ctxNow)}
	}
	if !m.Fresh() {
		// Without the bus this replica may miss other replicas' changes: compute from the
		// model, cache nothing, and say so.
		return json.Marshal(body(fresh(), false, limit))
	}
	m.mu.RLock()
	e := m.l1[key]
	m.mu.RUnlock()
	if current(e) {
		return e.encoded(true, limit, body)
	}
	v, err, _ := m.sf.Do(key+"|"+strconv.FormatInt(min, 10)+"|"+strconv.FormatInt(w.Version, 10)+"|"+ctxHash, func() (any, error) {
		if raw, err := m.Cache.Get(ctx, key); err == nil && raw != nil {
			var got rankEntry
			if json.Unmarshal(raw, &got) == nil && current(&got) {
				m.remember(key, &got)
				return served{&got, true}, nil
			}
		} else if err != nil {
			m.Log.DebugContext(ctx, "ranking cache unavailable; computing", "err", err)
		}
		e := fresh()
		if raw, err := json.Marshal(e); err == nil {
			if err := m.Cache.Set(context.WithoutCancel(ctx), map[string][]byte{key: raw}); err != nil {
				m.Log.DebugContext(ctx, "ranking not cached", "err", err)
			}
		}
		m.remember(key, e)
		return served{e, false}, nil
	})
	if err != nil {
		return nil, err
	}
	s := v.(served)
	return s.e.encoded(s.cached, limit, body)
}

type served struct {
	e      *rankEntry
	cached bool
}

// remember keeps an entry in L1 unless a newer one is there.
func (m *Matching) remember(key string, e *rankEntry) {
	m.mu.Lock()
	if cur := m.l1[key]; cur == nil || cur.Stamp <= e.Stamp {
		m.l1[key] = e
	}
	m.mu.Unlock()
}

// encoded returns the response body for a limit, encoding it once per entry.
func (e *rankEntry) encoded(cached bool, limit int, body func(*rankEntry, bool, int) any) ([]byte, error) {
	store := &e.bodies
	if cached {
		store = &e.cachedBodies
	}
	if b, ok := store.Load(limit); ok {
		return b.([]byte), nil
	}
	b, err := json.Marshal(body(e, cached, limit))
	if err != nil {
		return nil, err
	}
	store.Store(limit, b)
	return b, nil
}

// NeedMatches is the response of GET /needs/{id}/matches.
type NeedMatches struct {
	NeedID         string       `json:"need_id"`
	ComputedAt     time.Time    `json:"computed_at"`
	Cached         bool         `json:"cached"`
	WeightsVersion int64        `json:"weights_version"`
	Items          []OfferMatch `json:"items"`
}

// OfferMatch is one ranked offer for a need.
type OfferMatch struct {
	Rank           int               `json:"rank"`
	OfferID        string            `json:"offer_id"`
	Score          float64           `json:"score"`
	Title          string            `json:"title"`
	OrganizationID string            `json:"organization_id"`
	Factors        []matching.Factor `json:"factors"`
}

// OfferMatches is the response of GET /offers/{id}/matches.
type OfferMatches struct {
	OfferID        string      `json:"offer_id"`
	ComputedAt     time.Time   `json:"computed_at"`
	Cached         bool        `json:"cached"`
	WeightsVersion int64       `json:"weights_version"`
	Items          []NeedMatch `json:"items"`
}

// NeedMatch is one ranked need for an offer.
type NeedMatch struct {
	Rank           int               `json:"rank"`
	NeedID         string            `json:"need_id"`
	Score          float64           `json:"score"`
	Title          string            `json:"title"`
	Country        string            `json:"country"`
	OrganizationID string            `json:"organization_id"`
	Factors        []matching.Factor `json:"factors"`
}

func needMatchesBody(id string, e *rankEntry, cached bool, limit int) any {
	out := NeedMatches{NeedID: id, ComputedAt: e.ComputedAt, Cached: cached, WeightsVersion: e.WeightsVersion, Items: []OfferMatch{}}
	for i, it := range e.Items {
		if i == limit {
			break
		}
		out.Items = append(out.Items, OfferMatch{Rank: i + 1, OfferID: it.ID, Score: it.Score, Title: it.Title, OrganizationID: it.OrgID, Factors: it.Factors})
	}
	return out
}

func offerMatchesBody(id string, e *rankEntry, cached bool, limit int) any {
	out := OfferMatches{OfferID: id, ComputedAt: e.ComputedAt, Cached: cached, WeightsVersion: e.WeightsVersion, Items: []NeedMatch{}}
	for i, it := range e.Items {
		if i == limit {
			break
		}
		out.Items = append(out.Items, NeedMatch{Rank: i + 1, NeedID: it.ID, Score: it.Score, Title: it.Title, Country: it.Country, OrganizationID: it.OrgID, Factors: it.Factors})
	}
	return out
}

// OffersForNeed is OffersForNeedJSON decoded, for the web UI.
func (m *Matching) OffersForNeed(ctx context.Context, a *models.Actor, needID string, limit int) (*NeedMatches, error) {
	b, err := m.OffersForNeedJSON(ctx, a, needID, limit)
	if err != nil {
		return nil, err
	}
	var out NeedMatches
	return &out, json.Unmarshal(b, &out)
}

// NeedsForOffer is NeedsForOfferJSON decoded, for the web UI.
func (m *Matching) NeedsForOffer(ctx context.Context, a *models.Actor, offerID string, limit int) (*OfferMatches, error) {
	b, err := m.NeedsForOfferJSON(ctx, a, offerID, limit)
	if err != nil {
		return nil, err
	}
	var out OfferMatches
	return &out, json.Unmarshal(b, &out)
}

// Allocation proposes which need each open offer should serve (coordinators): at most one
// offer per need, within each offer's slots and remaining budget, maximising the total score.
func (m *Matching) Allocation(ctx context.Context, a *models.Actor) ([]matching.Match, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return nil, err
	}
	today := models.DateOf(m.Now())
	w := m.Weights()
	c, _ := m.context(today)
	var needs []*models.Need
	for _, n := range m.Model.AllNeeds() {
		if n.Status == models.NeedOpen {
			needs = append(needs, n)
		}
	}
	var offers []*models.Offer
	for _, o := range m.Model.AllOffers() {
		if o.Status == models.OfferOpen {
			offers = append(offers, o)
		}
	}
	out := matching.AllocateAll(needs, offers, w, c)
	if out == nil {
		out = []matching.Match{}
	}
	return out, nil
}
