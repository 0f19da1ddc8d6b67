package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
	"golang.org/x/sync/singleflight"
)

// settingStore is the part of the store this use case needs: the matching weights (a setting)
// and the audit trail of their changes.
type settingStore interface {
	models.SettingStore
	models.AuditStore
}

// MaxRankLimit is the longest ranking a client may ask for; each list is computed and cached
// to this length once and cut per request.
const MaxRankLimit = 50

// needListDepth is how deep a need's ranking of offers is cached: deeper than it is served,
// so that an offer leaving it (closed, filled, or fallen in score) is patched out without
// ranking the need anew until the list is shorter than MaxRankLimit (matching.PatchOffer).
const needListDepth = MaxRankLimit + 14

// offerListDepth is the same for an offer's ranking of needs, patched after a need change or a
// change of the deliveries under way (matching.PatchNeed, PatchContext).
const offerListDepth = MaxRankLimit + 14

// RankCache is the shared ranking cache (Redis, adapters/rediscache), holding snapshots by key.
// Get returns nil, nil for a miss; how a snapshot is encoded is the adapter's business.
type RankCache interface {
	Get(ctx context.Context, key string) (*matching.Snapshot, error)
	Set(ctx context.Context, entries map[string]*matching.Snapshot) error
}

// Matching serves ranked, explained matches: offers for a need and needs for an offer.
//
// Freshness: every change reaches every replica through the change log (models.Bus), in one
// order, and a replica applies the entry at position p by marking the rankings the change can
// alter as dirty at p (an offer change marks only the needs of the countries it is or was
// eligible for; a change in the deliveries under way, the duplication factor's input, only the
// needs of that country and capability and the offers that can list them) — at the same
// position on every replica. A ranking is stamped with the position its replica had applied
// when the computation began (Sync.Applied), so it reflects every entry up to its stamp; a
// replica that has applied position Q serves a cached ranking stamped s only if dirty ≤ s ≤ Q
// and the weights are the same. A change this replica applies ahead of the log (its own write,
// before the log hands it back) is marked just after the applied position, so no ranking
// stamped before it is served here. Writers wait until their own replica and every other live
// replica has applied their entry (or a short timeout), so the next read on any replica sees
// the change. An offer change patches the cached need rankings it reaches instead of dropping
// them (applyOffer; in the background for offers that reach thousands of needs), and a need
// change or a change of the deliveries under way patches the offers' cached rankings, for
// coordinators, donors and each ministry (applyNeed, ContextChanged; in the background), so an
// edit does not leave the rankings being read to be ranked anew by their readers. A reader of a
// ranking a background patch will bring up to date waits for it (serve, pendingFor); see apply
// for the order of changes and patches.
//
// Layers: an in-process cache (L1) in front of Redis (L2), both checked against the stamps;
// on a miss the ranking is computed from the in-memory index once per process (singleflight)
// and written to both. While this replica does not follow the change log this replica cannot know what others
// changed, so it computes every ranking from its model and answers cached=false.
type Matching struct {
	store settingStore
	model *readmodel.Model
	cache RankCache
	bus   models.Bus
	now   Clock
	log   *slog.Logger
	// Fresh reports whether this replica hears every change (it follows the change log).
	fresh func() bool
	// applied is the change-log position this replica's state reflects (Sync.Applied).
	applied func() int64

	// activeFn, when set (tests of this package), supplies the deliveries under way instead of
	// the read model.
	activeFn func() map[matching.Delivery]int

	ix         *matching.Index
	mu         sync.RWMutex
	weights    matching.Weights
	weightsRaw []byte
	// needDirty and offerDirty are the position of the last change that could alter a
	// ranking (its dirty mark).
	needDirty  map[string]int64
	offerDirty map[string]int64
	// floor is the stamp of the last full load in bulk (reload): no cached ranking below it
	// is current, whatever the dirty marks say, since the load did not work out which
	// rankings each loaded object alters.
	floor    int64
	active   map[matching.Delivery]int
	external map[matching.Delivery]matching.External
	// ctxNow is the matching context of today over active and external, made once and shared
	// by the reads until either changes (set to nil then) or the day does (see context).
	ctxNow atomic.Pointer[matching.Context]
	// day is today's date, formatted once a day (see today).
	day atomic.Pointer[dayDate]
	// The in-process cache (L1): need rankings by need id, offer rankings by offerKey; at most
	// l1Max entries each (see remember).
	l1Need  map[string]*rankEntry
	l1Offer map[string]*rankEntry
	l1Max   int
	// ministries names, by offer id, the ministries' audiences whose ranking of the offer was
	// put in l1Offer (see remember): more than it holds, perhaps, never fewer, so that a change
	// finds every ministry's ranking it may alter without a scan of L1 (offerAudiences).
	ministries map[string]map[string]bool
	// explained keeps the explained lines of the rankings being read (see explainCache), at
	// most explainedMax.
	explained    *explainCache
	explainedMax int
	sf           singleflight.Group
	computes     atomic.Int64
	explains     atomic.Int64
	waits        atomic.Int64 // reads that waited for a background patch
	// applyMu applies changes one at a time, in the log's order (see apply); a change's
	// background patch runs after it is released (see background).
	applyMu      sync.Mutex
	patches      atomic.Int64
	needPatches  atomic.Int64
	patchedLists atomic.Int64
	// backgroundFrom is how many needs an offer change must reach to be patched in the
	// background (DefaultBackgroundPatchFrom); pending are the background patches running
	// (m.mu), each until it has installed its lists. patchingNeeds and patchingOffers count
	// those of needs' rankings (offer changes) and of offers' rankings (need edits, changes of
	// the deliveries under way): a change that moves the index waits for both (see apply).
	backgroundFrom int
	pending        []*pendingPatch
	patchingNeeds  sync.WaitGroup
	patchingOffers sync.WaitGroup
	// patchHook, when set (tests), runs at the start of each background patch.
	patchHook func()
	// markOnly is a log position whose changes are marked, never patched (see markOnlyAt).
	markOnly atomic.Int64
	// moved is the highest position whose change has begun to move the index or the matching
	// context (see moving); a ranking computed while it is above the computing replica's
	// applied position may reflect that change, and is served but never cached (serve).
	moved atomic.Int64
	// moveHook, when set (tests), runs after an offer change moved the index, before its marks.
	moveHook func()
}

// Computes counts rankings computed (not served from a cache) by this replica; tests and
// metrics read it.
func (m *Matching) Computes() int64 { return m.computes.Load() }

// Explains counts the rankings' lines explained (not found explained in Matching.explained) by
// this replica; tests read it.
func (m *Matching) Explains() int64 { return m.explains.Load() }

// rankEntry is one cached ranking: the pairs in order with their scores, and what it was
// computed with. Neither cache layer holds explanations: a reader explains the lines it shows
// from the index, and the explained lines are kept apart, in a small bounded cache by entry
// and explanation key (explainCache), so a cached ranking costs a few kB in memory (about 3 kB
// in Redis) and a change rewrites only ids and scores. Explained lines were ~90% of the heap
// when kept with every entry (2.5 GB at 10,000 × 10,000, BENCHMARKS.md, issue 16 target 3).
type rankEntry struct {
	// stamp is the change-log position the ranking reflects; it only moves up, in place,
	// when a change leaves the ranking as it was (see applyOffer).
	stamp          atomic.Int64
	Day            models.Date
	WeightsVersion int64
	ComputedAt     time.Time
	// Items is the ranking, best first; Factors are nil. It is the exact top len(Items);
	// Complete says it holds every eligible candidate (see matching.CachedList).
	Items    []matching.Match
	Complete bool
	// serial names this entry among every entry of the process (see version); ver is it
	// formatted, once.
	serial atomic.Uint64
	ver    atomic.Pointer[string]
}

// rankSerials numbers ranking entries (rankEntry.version).
var rankSerials atomic.Uint64

// version names the entry for the answers drawn from it (NeedRanking.Version): a number no
// other entry of this process has, given when first asked for. An entry's lines, header and
// explained lines never change once it is shared (a change makes a new entry; restamping one
// the change left as it was keeps what it shows), so two reads of one entry with the same
// explanation key show the same answer.
func (e *rankEntry) version() string {
	if s := e.ver.Load(); s != nil {
		return *s
	}
	s := strconv.FormatUint(e.serialNumber(), 36)
	e.ver.Store(&s) // every reader formats the same serial: whichever store wins is the same
	return s
}

// serialNumber is the entry's number (see version), given when first asked for.
func (e *rankEntry) serialNumber() uint64 {
	v := e.serial.Load()
	if v == 0 {
		e.serial.CompareAndSwap(0, rankSerials.Add(1))
		v = e.serial.Load()
	}
	return v
}

// snapshot is the entry as the shared cache keeps it; k says whose ranking it is.
func (e *rankEntry) snapshot(k rankKey) *matching.Snapshot {
	return &matching.Snapshot{Owner: k.owner, ByNeed: k.need, Stamp: e.stamp.Load(), Day: e.Day,
		WeightsVersion: e.WeightsVersion, ComputedAt: e.ComputedAt, Items: e.Items, Complete: e.Complete,
		Model: matching.ModelVersion}
}

// entryOf turns a snapshot read from the shared cache into an entry for k, refusing one that is
// not k's list or that another scoring model ranked (a replica running other code, or one from
// before snapshots named their model): such an entry is stale and ranked again.
func entryOf(s *matching.Snapshot, k rankKey) (*rankEntry, error) {
	if s.Owner != k.owner || s.ByNeed != k.need {
		return nil, fmt.Errorf("cached ranking: the list of %q, not of %q", s.Owner, k.owner)
	}
	if s.Model != matching.ModelVersion {
		return nil, fmt.Errorf("cached ranking: scored by model %d, not %d", s.Model, matching.ModelVersion)
	}
	for _, x := range s.Items {
		if (k.need && x.NeedID != k.owner) || (!k.need && x.OfferID != k.owner) {
			return nil, fmt.Errorf("cached ranking: a line of another list")
		}
	}
	e := &rankEntry{Day: s.Day, WeightsVersion: s.WeightsVersion, ComputedAt: s.ComputedAt, Items: s.Items, Complete: s.Complete}
	e.stamp.Store(s.Stamp)
	return e, nil
}

// NewMatching wires the service; call Start before serving.
func NewMatching(m *Matching) *Matching {
	m.needDirty = map[string]int64{}
	m.offerDirty = map[string]int64{}
	if m.applied == nil {
		m.applied = func() int64 { return 0 }
	}
	m.l1Need, m.l1Offer = map[string]*rankEntry{}, map[string]*rankEntry{}
	m.ministries = map[string]map[string]bool{}
	m.markOnly.Store(readmodel.Local)
	if m.l1Max <= 0 {
		m.l1Max = DefaultRankingsInMemory
	}
	if m.explainedMax <= 0 {
		m.explainedMax = DefaultExplainedLines
	}
	m.explained = newExplainCache(m.explainedMax)
	if m.backgroundFrom <= 0 {
		m.backgroundFrom = DefaultBackgroundPatchFrom
	}
	m.weights = matching.DefaultWeights()
	m.ix = matching.NewIndex(nil, nil)
	m.model.Observe(m.apply)
	return m
}

// Index exposes the matching index (allocation, benchmarks).
func (m *Matching) Index() *matching.Index { return m.ix }

// weightsSetting is where the weights live in the store.
const weightsSetting = "matching_weights"

// LoadWeights reads the weights in force from the store (creating the defaults once).
func (m *Matching) LoadWeights(ctx context.Context) error {
	def, _ := json.Marshal(matching.DefaultWeights())
	raw, err := m.store.GetOrCreateSetting(ctx, weightsSetting, def)
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
	ok, err := m.store.SwapSetting(ctx, weightsSetting, curRaw, raw)
	if err != nil {
		return matching.Weights{}, err
	}
	if !ok {
		_ = m.LoadWeights(ctx)
		return matching.Weights{}, models.Errorf(models.ErrConflict, "the weights were changed by someone else; reload them")
	}
	m.mu.Lock()
	m.weights, m.weightsRaw = w, raw
	m.mu.Unlock()
	m.clearL1()
	publish(ctx, m.bus, m.log, models.Event{Type: models.EventWeights, ID: strconv.FormatInt(w.Version, 10), Version: w.Version, At: m.now().UTC(), Data: raw})
	audit(ctx, m.store, m.log, m.now(), a, "update", "matching_weights", "weights", matching.FactorNames())
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

// ContextChanged re-reads the deliveries under way (an engagement was agreed or undone, a
// project started or closed) after a change at log position g (readmodel.Local: a change
// outside the log's order, see stampOf). A delivery counts only in the duplication factor of the
// needs of its country and capability, so only their rankings, and the rankings of the offers
// that can list them, are marked dirty at g; every other cached ranking stays current. Every
// replica applies the same entry at the same position. The offers' rankings of coordinators,
// donors and ministries held in L1 are then patched in the background, need by need
// (matching.PatchContext), their readers waiting for the patch (see applyOffer, and apply for
// what it waits for); the needs' own rankings are ranked again when read.
func (m *Matching) ContextChanged(g int64) {
	local := g < 0 // applied outside the log's order: marked, not patched (see applyOffer)
	g = m.stampOf(g)
	// Every delivery under way (active projects, agreed engagements without one) and every
	// external activity under way, visible or not: the duplication factor's inputs. What a
	// caller reads about them is counted over what that caller may see (seenBy).
	v := systemView(m.model)
	act := v.deliveryCounts(nil)
	if m.activeFn != nil {
		act = m.activeFn()
	}
	ext := v.externalsUnderWay(models.DateOf(m.now()))
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	// A running patch of offers' rankings (a need edit's, an earlier context change's) is let
	// finish, so that the lists it brings up to date can be held and patched again here. One of
	// needs' rankings (a wide offer change's) is not waited for: this change moves no index,
	// and the needs' rankings it alters are dropped here, which that patch then leaves alone
	// (installNeedLists).
	m.patchingOffers.Wait()
	if !local {
		m.moving(g)
	}
	m.mu.RLock()
	prev, prevExt := m.active, m.external
	m.mu.RUnlock()
	seen := map[matching.Delivery]bool{}
	var changed []matching.Delivery
	note := func(d matching.Delivery) {
		if !seen[d] {
			seen[d] = true
			changed = append(changed, d)
		}
	}
	for d, n := range act {
		if prev[d] != n {
			note(d)
		}
	}
	for d := range prev {
		if _, ok := act[d]; !ok {
			note(d)
		}
	}
	for d, e := range ext {
		if prevExt[d] != e {
			note(d)
		}
	}
	for d := range prevExt {
		if _, ok := ext[d]; !ok {
			note(d)
		}
	}
	if len(changed) == 0 {
		m.mu.Lock()
		m.setContext(act, ext)
		m.mu.Unlock()
		return
	}
	var needs, offers []string
	for _, d := range changed {
		for _, id := range m.ix.NeedsDelivering(d) {
			needs = append(needs, id)
			if n, ok := m.ix.Need(id); ok {
				offers = append(offers, m.ix.AffectedByNeed(n, n)...)
			}
		}
	}
	slices.Sort(offers)
	offers = slices.Compact(offers)
	// The offers' rankings held before the change, computed with the previous context, are
	// patched need by need (matching.PatchContext): each need's pairs scored with the previous
	// context and with the new one. A need's own ranking is ranked again when read.
	var lists offerLists
	if !local {
		lists = m.heldOfferLists(offers)
	}
	m.mu.Lock()
	m.setContext(act, ext)
	for _, id := range needs {
		markDirty(m.needDirty, id, g)
		delete(m.l1Need, id)
	}
	// The patch runs in the background, as a wide offer's does (applyOffer): the rankings it
	// brings up to date are marked, and their readers wait for it.
	m.patchOffersBehind(&lists, offers, g, func() {
		prevCtx := &matching.Context{Today: lists.ctx.Today, Active: prev, External: prevExt}
		nowCtx := &matching.Context{Today: lists.ctx.Today, Active: act, External: ext}
		now := m.now().UTC()
		for _, id := range needs {
			lists.apply(m.ix.PatchContext(id, lists.audiences(), offerListDepth, MaxRankLimit, lists.w, prevCtx, nowCtx), now)
		}
	})
}

// clearL1 drops the in-process cache (its entries are checked anyway; this frees memory).
func (m *Matching) clearL1() {
	m.mu.Lock()
	m.l1Need, m.l1Offer = map[string]*rankEntry{}, map[string]*rankEntry{}
	m.ministries = map[string]map[string]bool{}
	m.mu.Unlock()
}

// stampOf is the position a change is marked dirty at: its log position, or for a change this
// replica applies outside the log's order (readmodel.Local: a write of its own the log could not
// take, a removal, what a reconciliation found), the position after the applied one, which no
// ranking computed so far reflects.
func (m *Matching) stampOf(g int64) int64 {
	if g >= 0 {
		return g
	}
	return m.applied() + 1
}

// markDirty records that a ranking may have changed at stamp g; stamps only move forward.
func markDirty(dirty map[string]int64, id string, g int64) {
	if g > dirty[id] {
		dirty[id] = g
	}
}

// apply keeps the index in step with the read model and marks what a change can alter, at the
// changed object's own stamp.
//
// Changes are applied one at a time, in the log's order (applyMu), each marking what it may
// alter before it returns; a patch of the cached rankings left to the background runs after
// that, and the next change does not wait for it unless it must: a need or offer change moves
// the index, which a running patch scores against (and a writer waiting for the index's lock
// would hold up every reader of it), so it first waits for every running patch (waitPatches);
// a change of the deliveries under way moves no index and waits only for the patches of the
// rankings it patches itself (ContextChanged). An earlier patch never overtakes a later change:
// a change drops from L1 every ranking it may alter that it does not patch itself, and a patch
// installs a list only where L1 still holds the one it started from (installNeedLists,
// installOfferLists), stamped at its own change's position.
func (m *Matching) apply(c readmodel.Change) {
	if c.Reload {
		m.reload(c.Gen)
		return
	}
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.waitPatches()
	g := m.stampOf(c.Gen)
	if c.Gen >= 0 {
		m.moving(g)
	}
	switch c.Kind {
	case models.EventNeed:
		m.applyNeed(c, g)
	case models.EventOffer:
		m.applyOffer(c)
	}
}

// markOnlyAt says that the changes to come at log position g share it (an import's rows, which
// its entry carries): they are marked and their rankings ranked anew when read, not patched. A
// patch stamps what it installs, in L1 and in Redis, with its change's position, saying that
// the list reflects every change up to it; a list one row patched would not reflect the rows
// applied after it at the same position, and a replica reading it from Redis could not tell.
func (m *Matching) markOnlyAt(g int64) { m.markOnly.Store(g) }

// patchable reports whether a change's rankings may be patched: not when it was applied
// outside the log's order (see applyOffer) or shares its position with others (markOnlyAt).
func (m *Matching) patchable(gen int64) bool {
	return gen != readmodel.Local && gen != m.markOnly.Load()
}

// waitPatches waits until every background patch has installed its lists and written them to
// Redis; m.applyMu must be held (no new patch starts meanwhile).
func (m *Matching) waitPatches() {
	m.patchingNeeds.Wait()
	m.patchingOffers.Wait()
}

// patchedAudiences are the audiences whose offer rankings a need change patches (applyNeed)
// whoever reads them: coordinators' and donors'. Each ministry's (its public needs and its own)
// are patched too where this replica holds them (offerAudiences).
var patchedAudiences = []string{"all", "donor"}

// ministryAudience is how the audience of a ministry's rankings of needs begins (audience).
const ministryAudience = "ministry-"

// offerAudiences returns the audiences of every ranking of the given offers this replica may
// hold in L1: the patched audiences, then the ministries' (m.ministries), in order; m.mu must
// be held.
func (m *Matching) offerAudiences(offers []string) []string {
	var mins []string
	for _, o := range offers {
		for aud := range m.ministries[o] {
			mins = append(mins, aud)
		}
	}
	slices.Sort(mins)
	return append(slices.Clone(patchedAudiences), slices.Compact(mins)...)
}

// audienceVisible is which needs an audience's rankings list (see audience): nil for every need.
func audienceVisible(aud string) func(*models.Need) bool {
	switch {
	case aud == "all":
		return nil
	case aud == "donor":
		_, v := audience(&models.Actor{Role: models.RoleDonor})
		return v
	}
	// A ministry sees what its organization's users see (models.CanSeeNeed).
	_, v := audience(&models.Actor{Role: models.RoleMinistry, OrgID: strings.TrimPrefix(aud, ministryAudience)})
	return v
}

// applyNeed keeps the index in step with a need change and brings the cached rankings it
// affects up to date, as applyOffer does for offers with needs and offers swapped: the need's
// own ranking and the rankings of every offer it can enter or leave (the offers eligible for
// the country it was or is posted for) are marked dirty at the change's stamp; those of the
// offers' rankings held in L1 for coordinators and donors are patched with the core's
// PatchNeed (the need counts in a ranking only where its audience may see it): a ranking left
// as it was is restamped, a changed one gets its new order and scores and is written to Redis,
// and one that cannot be patched (the need left a full list) is dropped and ranked on its
// next read. A need edit therefore costs scoring the need against those offers once (~1,700
// at 10,000 × 10,000), not a ranking of each on its next read (up to 0.5 s for an offer
// that reaches every need, BENCHMARKS.md, issue 16 target 3).
//
// The patch runs in the background, as a wide offer change's does (applyOffer): the write
// moves the index and makes the marks, which is all it waits for, and a reader of a marked
// offer's ranking waits for the patch (serve) rather than being served the old ranking or
// ranking it anew. m.applyMu must be held.
func (m *Matching) applyNeed(c readmodel.Change, g int64) {
	id := ""
	if c.NewNeed != nil {
		id = c.NewNeed.ID
	} else if c.OldNeed != nil {
		id = c.OldNeed.ID
	}
	prev, _ := m.ix.Need(id)
	// The offers a need can reach depend only on the offers indexed.
	affected := m.ix.AffectedByNeed(prev, c.NewNeed)
	// Lists of this replica's L1 current before the change (none for a change applied outside
	// the log's order: see applyOffer).
	var lists offerLists
	if m.patchable(c.Gen) {
		lists = m.heldOfferLists(affected)
	}
	var old *models.Need
	if c.NewNeed != nil {
		old = m.ix.UpsertNeed(c.NewNeed)
	} else {
		old = m.ix.RemoveNeed(id)
	}
	m.mu.Lock()
	markDirty(m.needDirty, id, g)
	delete(m.l1Need, id)
	m.patchOffersBehind(&lists, affected, g, func() {
		lists.apply(m.ix.PatchNeed(old, id, lists.audiences(), offerListDepth, MaxRankLimit, lists.w, lists.ctx), m.now().UTC())
		m.needPatches.Add(1)
	})
}

// patchOffersBehind ends a change at g that alters the given offers' rankings (applyNeed,
// ContextChanged): it marks them, drops from L1 those lists does not hold, and, when it holds
// any, registers the patch and leaves it to the background: patch updates lists, which are then
// installed at g and written to Redis. Called with m.mu held for writing, which it releases.
func (m *Matching) patchOffersBehind(lists *offerLists, offers []string, g int64, patch func()) {
	for _, o := range offers {
		markDirty(m.offerDirty, o, g)
		lists.dropUnheld(m, o)
	}
	if !lists.any() {
		m.mu.Unlock()
		return
	}
	p := m.addPending(g, true)
	m.mu.Unlock()
	m.background(p, patch, func() func() {
		toStore := m.installOfferLists(*lists, g)
		return func() { m.storeLists(toStore) }
	})
}

// offerLists are the offers' rankings of needs held in L1 for the patched audiences, current
// before a change, with the day, weights and context they were computed with; a patch
// updates them in place (apply) before they are installed (installOfferLists).
type offerLists struct {
	listSnapshot
	auds    []string                // the audiences held (offerAudiences)
	held    []map[string]*rankEntry // by audience (auds), by offer id
	orig    []map[string]*rankEntry // held as taken from L1, which install compares with L1
	changed []map[string]bool       // the lists a patch changed, to be written to Redis
}

// heldOfferLists takes the L1 rankings of the given offers, for every audience (offerAudiences),
// that are current now. It takes none while the replica does not follow the change log.
func (m *Matching) heldOfferLists(offers []string) offerLists {
	if m.fresh == nil || !m.fresh() || len(offers) == 0 {
		return offerLists{}
	}
	l := offerLists{listSnapshot: m.listContext()}
	q := m.applied()
	m.mu.RLock()
	l.auds = m.offerAudiences(offers)
	for a, aud := range l.auds {
		h := map[string]*rankEntry{}
		for _, o := range offers {
			if a >= len(patchedAudiences) && !m.ministries[o][aud] {
				continue
			}
			if e := m.l1Offer[offerKey(o, aud)]; e.current(max(m.floor, m.offerDirty[o]), q, l.today, l.w.Version) {
				h[o] = e
			}
		}
		l.held = append(l.held, h)
		l.orig = append(l.orig, maps.Clone(h))
		l.changed = append(l.changed, map[string]bool{})
	}
	m.mu.RUnlock()
	return l
}

// any reports whether any list is held.
func (l *offerLists) any() bool {
	for _, h := range l.held {
		if len(h) > 0 {
			return true
		}
	}
	return false
}

// dropUnheld forgets an offer's rankings in L1 that the change may alter and that l does not
// hold (every audience's when l holds none), so that no patch still running installs them
// (installOfferLists installs a list only where L1 holds what it started from) and none stamped
// at the change's own position by an earlier change of that position (an import's rows share
// it) is served without this change; m.mu must be held.
func (l *offerLists) dropUnheld(m *Matching, o string) {
	if l.held == nil {
		m.dropOfferL1(o)
		return
	}
	for a, aud := range l.auds {
		if _, ok := l.orig[a][o]; !ok {
			m.dropOfferAudience(o, aud)
		}
	}
	for aud := range m.ministries[o] { // one put in L1 since the lists were taken
		if !slices.Contains(l.auds, aud) {
			m.dropOfferAudience(o, aud)
		}
	}
}

// audiences are the lists for matching.PatchNeed and PatchContext: each audience's held lists
// and the needs it may see.
func (l *offerLists) audiences() []matching.NeedAudience {
	auds := make([]matching.NeedAudience, len(l.held))
	for a, aud := range l.auds {
		h := l.held[a]
		auds[a].Cached = func(o string) (matching.CachedList, bool) {
			e, ok := h[o]
			if !ok {
				return matching.CachedList{}, false
			}
			return matching.CachedList{Items: e.Items, Complete: e.Complete}, true
		}
		auds[a].Visible = audienceVisible(aud)
	}
	return auds
}

// apply records what a patch did to the held lists: a changed list is replaced by a new entry,
// one holding the need at the same score by a new entry with the same lines (they may read
// differently), and one the patch could not bring up to date is let go (ranked on its next
// read). New entries are unstamped until installed.
func (l *offerLists) apply(patches []matching.NeedPatch, now time.Time) {
	for a, p := range patches {
		h := l.held[a]
		for _, o := range p.Stale {
			delete(h, o)
			delete(l.changed[a], o)
		}
		for _, o := range p.Holding {
			e := h[o]
			h[o] = &rankEntry{Day: e.Day, WeightsVersion: e.WeightsVersion, ComputedAt: e.ComputedAt, Items: e.Items, Complete: e.Complete}
		}
		for o, x := range p.Changed {
			h[o] = &rankEntry{Day: l.today, WeightsVersion: l.w.Version, ComputedAt: now, Items: x.Items, Complete: x.Complete}
			l.changed[a][o] = true
		}
	}
}

// installOfferLists puts the held lists back in L1, stamped at g, the position of the change
// that patched them (they were marked at g before), each only where L1 still holds the entry it
// was taken from: a later change that may alter it dropped it, and a read that ranked it anew
// meanwhile put a newer one there. It returns the changed ones as Redis keeps them; m.mu must
// be held.
func (m *Matching) installOfferLists(l offerLists, g int64) map[string]*matching.Snapshot {
	toStore := map[string]*matching.Snapshot{}
	for a, aud := range l.auds {
		for o, e := range l.orig[a] {
			if _, ok := l.held[a][o]; !ok && m.l1Offer[offerKey(o, aud)] == e {
				delete(m.l1Offer, offerKey(o, aud)) // stale: ranked anew when read
			}
		}
		for o, e := range l.held[a] {
			k := rankKey{id: offerKey(o, aud), owner: o}
			if m.l1Offer[k.id] != l.orig[a][o] {
				continue
			}
			e.stamp.Store(g)
			m.l1Offer[k.id] = e
			if l.changed[a][o] {
				toStore[k.redis()] = e.snapshot(k)
			}
		}
	}
	return toStore
}

// storeLists writes patched rankings to Redis, in one pipeline.
func (m *Matching) storeLists(toStore map[string]*matching.Snapshot) {
	if len(toStore) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), patchStoreTimeout)
	defer cancel()
	if err := m.cache.Set(ctx, toStore); err != nil {
		m.log.Debug("patched rankings not cached", "err", err, "lists", len(toStore))
	}
}

// reload follows a full load of the read model in bulk (readmodel.Load): the index is built
// anew from the model in one pass (matching.Index.Load), linear in the number of needs and
// offers, with no per-object work to find what each one affects, which is what made start-up
// quadratic. Every ranking is then marked dirty at once, at the load's stamp (taken before
// the store was read): the floor below which no cached ranking, in L1 or in Redis, is
// current, since any of them may predate a change the load brought in. L1 is dropped, the
// dirty marks below the floor with it, and the deliveries and external activities under way
// are read again (the reload loads them before it commits) so that the context change that
// follows a reload finds nothing left to mark.
//
// Changes are applied one at a time (applyMu): one that reaches the model while the index
// is rebuilt waits and is then applied to the new index; the background patches running are
// let finish first.
func (m *Matching) reload(stamp int64) {
	fromLog := stamp >= 0
	stamp = m.stampOf(stamp)
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.waitPatches()
	if fromLog {
		m.moving(stamp)
	}
	all := systemView(m.model) // the index ranks everything; callers' views filter what they read
	m.ix.Load(all.allNeeds(nil), all.allOffers(nil))
	act := all.deliveryCounts(nil)
	if m.activeFn != nil {
		act = m.activeFn()
	}
	ext := all.externalsUnderWay(models.DateOf(m.now()))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.floor = max(m.floor, stamp)
	for id, g := range m.needDirty {
		if g <= m.floor {
			delete(m.needDirty, id)
		}
	}
	for id, g := range m.offerDirty {
		if g <= m.floor {
			delete(m.offerDirty, id)
		}
	}
	m.l1Need, m.l1Offer = map[string]*rankEntry{}, map[string]*rankEntry{}
	m.ministries = map[string]map[string]bool{}
	m.setContext(act, ext)
}

// needMin is the stamp a cached ranking of a need must have reached to be current: its dirty
// mark, or the floor of the last reload; m.mu must be held.
func (m *Matching) needMin(id string) int64 { return max(m.floor, m.needDirty[id]) }

// applyOffer keeps the index in step with an offer change and brings the cached rankings it
// affects up to date. Every need ranking the offer can enter or leave (the needs of the
// countries it was or is eligible for) is marked dirty at the change's stamp, as on every
// replica; those of them held in this replica's L1 are patched with the core's PatchOffer
// rather than recomputed: a list the change leaves as it was is restamped, a changed one gets
// its new order and scores (its lines are explained anew when first read) and is written
// to Redis with the new stamp, in one pipeline. A donor's edit therefore costs about the lists
// it really changes (a few dozen of the thousands it could touch), not a recomputation of
// every affected ranking on its next read. Rankings not in L1 are left dirty and recomputed
// lazily. The offer's own rankings (per audience) are dropped and recomputed on next read.
//
// A patch starts from the lists as they were before its change, taken before the index
// moves, and installs its result with the dirty marks (or after them, see below), so a
// concurrent read either sees the lists before the change or after it.
//
// An offer that reaches many needs (backgroundFrom or more: offers eligible everywhere reach
// ~9,000 of 10,000) is patched off the write path: the change's marks are made and the index
// moved, which is all a write waits for, and the patch runs in the background (see apply for
// what the next change waits for). Freshness is kept by the marks: a ranking the change may
// alter is stale from the moment the write returns, and its reader waits for the pending patch
// (serve) rather than being served the old ranking or ranking it anew. m.applyMu must be held.
func (m *Matching) applyOffer(c readmodel.Change) {
	id := ""
	if c.NewOffer != nil {
		id = c.NewOffer.ID
	} else if c.OldOffer != nil {
		id = c.OldOffer.ID
	}
	prev, _ := m.ix.Offer(id)
	// The needs an offer can reach depend only on the needs indexed, which an offer change
	// does not move, so they are the same before and after it.
	affected := m.ix.NeedsReachedBy(prev, c.NewOffer)
	// A change applied outside the log's order is marked after the applied position, which
	// the log's next entry, another change perhaps, will take: a list patched and restamped
	// there could miss that entry. Such lists are left stale by their marks and recomputed.
	g := m.stampOf(c.Gen)
	if m.patchable(c.Gen) && len(affected) >= m.backgroundFrom && m.fresh != nil && m.fresh() {
		m.patchInBackground(c, id, g, affected)
		return
	}
	var snap listSnapshot
	if m.patchable(c.Gen) {
		snap = m.snapshotNeedLists(affected)
	}
	old := m.moveOffer(c, id)
	var patched map[string]*rankEntry
	var changed []string
	if len(snap.entries) > 0 {
		patched, changed = m.patchNeedLists(snap, old, id)
	}
	m.mu.Lock()
	m.markOffer(id, g, affected, snap.entries)
	m.installNeedLists(snap.entries, patched, changed, g)
	m.mu.Unlock()
	m.storePatched(patched, changed)
}

// patchInBackground applies an offer change at g that reaches many needs (see applyOffer):
// under one lock, in one pass over them, it takes the L1 rankings current before the change
// and marks every ranking the change may alter, dropping the others from L1 (see markOffer);
// then it moves the index and leaves the patch of the rankings taken to the background.
// Marking before the index moves is safe: this replica has not yet applied the change's
// position, so nothing ranked meanwhile is stamped at or after it.
func (m *Matching) patchInBackground(c readmodel.Change, id string, g int64, affected []string) {
	snap := m.listContext()
	q := m.applied()
	var lists []heldList
	m.mu.Lock()
	markDirty(m.offerDirty, id, g)
	m.dropOfferL1(id)
	for _, n := range affected {
		if e := m.l1Need[n]; e.current(m.needMin(n), q, snap.today, snap.w.Version) {
			lists = append(lists, heldList{n, e})
		} else {
			delete(m.l1Need, n)
		}
		markDirty(m.needDirty, n, g)
	}
	if len(lists) == 0 {
		m.mu.Unlock()
		m.moveOffer(c, id)
		return
	}
	p := m.addPending(g, false)
	m.mu.Unlock()
	old := m.moveOffer(c, id)
	var patched map[string]*rankEntry
	var changed []string
	m.background(p, func() {
		snap.entries = make(map[string]*rankEntry, len(lists))
		for _, l := range lists {
			snap.entries[l.need] = l.e
		}
		patched, changed = m.patchNeedLists(snap, old, id)
	}, func() func() {
		m.installNeedLists(snap.entries, patched, changed, g)
		return func() { m.storePatched(patched, changed) }
	})
}

// heldList is a need's ranking held in L1 before a change.
type heldList struct {
	need string
	e    *rankEntry
}

// moveOffer applies an offer change to the index and returns the offer it replaced.
func (m *Matching) moveOffer(c readmodel.Change, id string) *models.Offer {
	var old *models.Offer
	if c.NewOffer != nil {
		old = m.ix.UpsertOffer(c.NewOffer)
	} else {
		old = m.ix.RemoveOffer(id)
	}
	if m.moveHook != nil {
		m.moveHook()
	}
	return old
}

// moving records that the change at g is about to move the index or the context, before it
// does. A ranking is stamped with the position its replica had applied when its computation
// began, and that position moves only once a change is applied and marked: a ranking computed
// in between could already reflect the change while stamped before it. Cached (in Redis), it
// would then be taken by a replica that has not applied the change yet as a list from before
// it, and that replica's patch would apply the change to it a second time (an offer listed
// twice: TestFaultyLogTransportServesFreshRankings caught it once in CI). Only log positions are
// recorded: a change applied outside the log's order is marked at the position after the
// applied one, which the position reaches only with the log's next entry, and recording it would
// stop all caching until then. m.applyMu must be held.
func (m *Matching) moving(g int64) {
	if g > m.moved.Load() { // one writer at a time (applyMu): no compare-and-swap needed
		m.moved.Store(g)
	}
}

// markOffer marks the rankings an offer change at g may alter: the offer's own (dropped from
// L1) and the needs' it reaches, dropping from L1 those of them not held (see
// offerLists.dropUnheld); m.mu must be held.
func (m *Matching) markOffer(id string, g int64, affected []string, held map[string]*rankEntry) {
	markDirty(m.offerDirty, id, g)
	m.dropOfferL1(id)
	for _, n := range affected {
		markDirty(m.needDirty, n, g)
		if _, ok := held[n]; !ok {
			delete(m.l1Need, n)
		}
	}
}

// installNeedLists puts the need rankings held before an offer change at g back in L1, each
// replaced by its patched entry if the patch made one and stamped at g: lists the change left
// as they were are restamped in place. A held ranking no longer in L1 is left out: a later
// change that may alter it dropped it (markOffer, ContextChanged), or a read ranked it anew. m.mu
// must be held.
func (m *Matching) installNeedLists(held, patched map[string]*rankEntry, changed []string, g int64) {
	for n, e := range held {
		if m.l1Need[n] != e {
			continue
		}
		if p, ok := patched[n]; ok {
			e = p // a new entry: its lines are explained anew when first read
		}
		e.stamp.Store(g)
		m.l1Need[n] = e
	}
	if len(held) > 0 {
		m.patches.Add(1)
		m.patchedLists.Add(int64(len(changed)))
	}
}

// storePatched writes the rankings a patch changed to Redis, in one pipeline.
func (m *Matching) storePatched(patched map[string]*rankEntry, changed []string) {
	toStore := make(map[string]*matching.Snapshot, len(changed))
	for _, n := range changed {
		toStore[needKey(n)] = patched[n].snapshot(rankKey{need: true, id: n, owner: n})
	}
	m.storeLists(toStore)
}

// DefaultBackgroundPatchFrom is how many needs an offer must reach for a change of it to be
// patched off the write path (applyOffer): patching the ~9,000 rankings an offer eligible
// everywhere reaches at 10,000 × 10,000 took ~22 ms of CPU on the write path (BENCHMARKS.md,
// issue 16 target 3); an offer of a few countries reaches a few hundred, patched in ~2 ms.
const DefaultBackgroundPatchFrom = 2048

// pendingPatch is a change whose patch of cached rankings runs in the background: an offer
// change's of the needs' rankings (applyOffer), or a need edit's or a change of the deliveries
// under way's of the offers' rankings (applyNeed, ContextChanged). Every ranking of that side
// marked dirty at stamp waits for done before it is ranked anew.
type pendingPatch struct {
	stamp int64
	// offers says the patch is of offers' rankings of needs (applyNeed, ContextChanged), else
	// of needs' rankings of offers (applyOffer).
	offers bool
	done   chan struct{}
}

// addPending registers the background patch of the change at g, under the lock that makes its
// marks, so that a reader who sees a mark sees the patch; m.mu must be held for writing.
func (m *Matching) addPending(g int64, offers bool) *pendingPatch {
	p := &pendingPatch{stamp: g, offers: offers, done: make(chan struct{})}
	m.pending = append(m.pending, p)
	return p
}

// background runs a change's patch (registered by addPending) off the write path: patch
// computes it, install (called with m.mu held) installs it and returns the writing of the
// changed rankings to Redis, done after the readers waiting for the patch are released. Call
// it with m.applyMu held, so that a change waiting for the running patches (waitPatches) sees
// this one.
func (m *Matching) background(p *pendingPatch, patch func(), install func() (store func())) {
	wg := &m.patchingNeeds
	if p.offers {
		wg = &m.patchingOffers
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if m.patchHook != nil {
			m.patchHook()
		}
		patch()
		m.mu.Lock()
		store := install()
		m.pending = slices.DeleteFunc(m.pending, func(x *pendingPatch) bool { return x == p })
		m.mu.Unlock()
		close(p.done)
		store()
	}()
}

// pendingFor returns the background patches a ranking whose mark is min waits for: those of
// the change at min (several where changes share a position, as an import's rows do).
func (m *Matching) pendingFor(k rankKey, min int64) []*pendingPatch {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*pendingPatch
	for _, p := range m.pending {
		if p.stamp == min && p.offers != k.need {
			out = append(out, p)
		}
	}
	return out
}

// patchStoreTimeout bounds the Redis write of patched rankings, which runs as part of
// applying a change (the cache client's own timeouts are shorter; this is a backstop). A
// failed write leaves the Redis copies stale-stamped, so they are recomputed when read.
const patchStoreTimeout = time.Second

// Patches counts the offer changes that patched cached rankings, and the rankings they changed
// and wrote back (see applyOffer); tests and benchmarks read them. It waits for the patches
// still running in the background.
func (m *Matching) Patches() (changes, lists int64) {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.waitPatches()
	return m.patches.Load(), m.patchedLists.Load()
}

// listSnapshot is the L1 rankings of some needs that are current before a change, with the
// weights and context they were computed with.
type listSnapshot struct {
	today   models.Date
	w       matching.Weights
	ctx     *matching.Context
	entries map[string]*rankEntry
}

// snapshotNeedLists takes the current L1 rankings of the given needs. It takes none while the
// replica does not follow the change log: rankings are then computed on every read and never cached.
func (m *Matching) snapshotNeedLists(ids []string) listSnapshot {
	if m.fresh == nil || !m.fresh() {
		return listSnapshot{}
	}
	s := m.listContext()
	s.entries = map[string]*rankEntry{}
	q := m.applied()
	m.mu.RLock()
	for _, id := range ids {
		if e := m.l1Need[id]; e.current(m.needMin(id), q, s.today, s.w.Version) {
			s.entries[id] = e
		}
	}
	m.mu.RUnlock()
	return s
}

// listContext is the day, weights and context the rankings current now were computed with.
func (m *Matching) listContext() listSnapshot {
	today := m.today()
	return listSnapshot{today: today, w: m.Weights(), ctx: m.context(today)}
}

// patchNeedLists patches the snapshot's need rankings after an offer change (the index
// already holds it). It returns new entries for the rankings that changed (changed lists
// them: they are written to Redis) and for those that hold the offer unchanged (same lines
// and scores, but the offer's line may read differently: their lines are explained anew);
// every other ranking of the snapshot is as it was. New entries are unstamped: the caller
// stamps them when it installs them.
func (m *Matching) patchNeedLists(s listSnapshot, old *models.Offer, offerID string) (map[string]*rankEntry, []string) {
	r := m.ix.PatchOffer(old, offerID, func(n string) (matching.CachedList, bool) {
		e, ok := s.entries[n]
		if !ok {
			return matching.CachedList{}, false
		}
		return matching.CachedList{Items: e.Items, Complete: e.Complete}, true
	}, needListDepth, MaxRankLimit, s.w, s.ctx)
	now := m.now().UTC()
	out := make(map[string]*rankEntry, len(r.Changed)+len(r.Holding))
	changed := make([]string, 0, len(r.Changed))
	for n, l := range r.Changed {
		out[n] = &rankEntry{Day: s.today, WeightsVersion: s.w.Version, ComputedAt: now, Items: l.Items, Complete: l.Complete}
		changed = append(changed, n)
	}
	for _, n := range r.Holding {
		e := s.entries[n]
		out[n] = &rankEntry{Day: e.Day, WeightsVersion: e.WeightsVersion, ComputedAt: e.ComputedAt, Items: e.Items, Complete: e.Complete}
	}
	return out, changed
}

// dropOfferL1 forgets every audience's ranking of an offer, ministries' included; m.mu must be
// held.
func (m *Matching) dropOfferL1(id string) {
	for _, aud := range patchedAudiences {
		delete(m.l1Offer, offerKey(id, aud))
	}
	for aud := range m.ministries[id] {
		delete(m.l1Offer, offerKey(id, aud))
	}
	delete(m.ministries, id)
}

// dropOfferAudience forgets one audience's ranking of an offer; m.mu must be held.
func (m *Matching) dropOfferAudience(id, aud string) {
	delete(m.l1Offer, offerKey(id, aud))
	if set := m.ministries[id]; set[aud] {
		delete(set, aud)
		if len(set) == 0 {
			delete(m.ministries, id)
		}
	}
}

func needKey(id string) string       { return "n:" + id }
func offerKey(id, aud string) string { return "o:" + id + ":" + aud }

// audience names the group of callers who see the same needs, so that a ranking of needs is
// cached once per group: coordinators see all; donors see published public and donors-tier
// needs; a ministry sees published public needs and every need of its own organization.
func audience(a *models.Actor) (string, func(*models.Need) bool) {
	switch {
	case a.Role.Curates():
		return "all", func(n *models.Need) bool { return true }
	case a.Role == models.RoleDonor:
		probe := &models.Actor{Role: models.RoleDonor, OrgID: "\x00"}
		return "donor", func(n *models.Need) bool { return models.CanSeeNeed(probe, n) }
	}
	probe := &models.Actor{Role: models.RoleMinistry, Country: a.Country, OrgID: a.OrgID}
	return ministryAudience + a.OrgID, func(n *models.Need) bool { return models.CanSeeNeed(probe, n) }
}

func (m *Matching) context(today models.Date) *matching.Context {
	if c := m.ctxNow.Load(); c != nil && c.Today == today {
		return c
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := &matching.Context{Today: today, Active: m.active, External: m.external}
	// Stored under the read lock: a change of active or external (under the write lock) clears
	// it after, never before, so what is kept is never older than the model.
	m.ctxNow.Store(c)
	return c
}

// setContext replaces the deliveries under way and the external projects, and forgets the
// context made of the previous ones (see context); m.mu must be held for writing.
func (m *Matching) setContext(act map[matching.Delivery]int, ext map[matching.Delivery]matching.External) {
	m.active, m.external = act, ext
	m.ctxNow.Store(nil)
}

// today is the UTC date of m.now(), formatted once a day rather than on every read.
func (m *Matching) today() models.Date {
	t := m.now().UTC()
	day := t.Unix() / 86400
	if d := m.day.Load(); d != nil && d.n == day {
		return d.date
	}
	d := &dayDate{n: day, date: models.DateOf(t)}
	m.day.Store(d)
	return d.date
}

// dayDate is a day (days since the Unix epoch) and its date.
type dayDate struct {
	n    int64
	date models.Date
}

// minStamp is the stamp a cached ranking must have reached to be current: the ranking's dirty
// mark, or the floor of the last reload.
func (m *Matching) minStamp(dirty map[string]int64, id string) int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return max(m.floor, dirty[id])
}

// NeedRanking is the offers ranked for a need, best first, each score explained: what
// GET /needs/{id}/matches and a need's page show. ComputedAt and WeightsVersion say when and
// with which weights the ranking was computed; Cached says it came from a cache (L1 or Redis)
// rather than being computed for this read.
type NeedRanking struct {
	NeedID         string
	ComputedAt     time.Time
	Cached         bool
	WeightsVersion int64
	// Items are shared with other readers of the same ranking: read them, never modify them.
	Items []RankedOffer
	// Version and Variant name this answer, so that the API can keep it rendered: two reads
	// of the same need with equal Version, Variant and Cached have the same header and lines.
	// Version names the computed ranking the answer is drawn from (an opaque value, unique
	// in the process: a ranking the next change alters gets a new one); Variant what of it
	// this caller is shown: the limit and what the caller's visibility makes of the
	// duplication reasons (seenKey), and for needs ranked for an offer the audience.
	Version, Variant string
	explain          func() []RankedOffer
}

// Explained returns the ranking's lines, explained: Items when set (OffersForNeed), else
// explained now (OffersForNeedUnexplained).
func (r *NeedRanking) Explained() []RankedOffer {
	if r.Items != nil || r.explain == nil {
		return r.Items
	}
	return r.explain()
}

// RankedOffer is one ranked offer for a need. Band says how strong the match is in one word
// (strong, possible, weak; matching.BandOf); Relevance is the gate every factor's
// contribution is scaled by (1 exact capability, 0.5 same theme only).
type RankedOffer struct {
	Rank      int
	OfferID   string
	Score     float64
	Band      Band
	Relevance float64
	Title     string
	// Lang and Translations are the offer's, so that a reader sees the title in their language
	// (In).
	Lang           string
	Translations   map[string]models.Translation
	OrganizationID string
	Factors        []Factor
}

// In is the ranked offer's title for a reader of lang (models.LocalText; no description).
func (r *RankedOffer) In(lang string) models.LocalText {
	o := models.Offer{Title: r.Title, Lang: r.Lang, Translations: r.Translations}
	return o.In(lang)
}

// OfferRanking is the needs ranked for an offer, best first, listing only needs the reader
// may see: what GET /offers/{id}/matches and an offer's page show (fields as in NeedRanking).
type OfferRanking struct {
	OfferID        string
	ComputedAt     time.Time
	Cached         bool
	WeightsVersion int64
	// Items are shared with other readers of the same ranking: read them, never modify them.
	Items []RankedNeed
	// Version and Variant name this answer as in NeedRanking.
	Version, Variant string
	explain          func() []RankedNeed
}

// Explained returns the ranking's lines, explained (see NeedRanking.Explained).
func (r *OfferRanking) Explained() []RankedNeed {
	if r.Items != nil || r.explain == nil {
		return r.Items
	}
	return r.explain()
}

// RankedNeed is one ranked need for an offer, with its band and relevance as in RankedOffer.
type RankedNeed struct {
	Rank      int
	NeedID    string
	Score     float64
	Band      Band
	Relevance float64
	Title     string
	// Lang and Translations are the need's (see RankedOffer).
	Lang           string
	Translations   map[string]models.Translation
	Country        string
	OrganizationID string
	Factors        []Factor
}

// In is the ranked need's title for a reader of lang (models.LocalText; no description).
func (r *RankedNeed) In(lang string) models.LocalText {
	n := models.Need{Title: r.Title, Lang: r.Lang, Translations: r.Translations}
	return n.In(lang)
}

// OffersForNeed ranks the offers for a need the actor may see, best first, limit at most.
func (m *Matching) OffersForNeed(ctx context.Context, a *models.Actor, needID string, limit int) (*NeedRanking, error) {
	r, err := m.OffersForNeedUnexplained(ctx, a, needID, limit)
	if err != nil {
		return nil, err
	}
	r.Items = r.Explained()
	return r, nil
}

// OffersForNeedUnexplained is OffersForNeed with its lines explained only when Explained is
// called: the caller is authorized and the ranking is current as with OffersForNeed, and
// Version and Variant name the answer, so that the API, which keeps answers rendered by
// those names, explains the lines only when it has no rendered answer for them (issue 16).
func (m *Matching) OffersForNeedUnexplained(ctx context.Context, a *models.Actor, needID string, limit int) (*NeedRanking, error) {
	n, ok := m.model.Need(needID)
	if !ok || !models.ValidID(needID) {
		return nil, models.Errorf(models.ErrNotFound, "need not found")
	}
	if err := models.AuthorizeNeed(a, models.ActRead, n); err != nil {
		return nil, err
	}
	q := m.applied() // before the dirty mark: an entry's marks are made before the position moves
	r, err := serve(m, ctx, rankKey{need: true, id: needID, owner: needID}, m.minStamp(m.needDirty, needID), q, limit, m.seenBy(a),
		func(w matching.Weights, c *matching.Context) []matching.Match {
			return m.ix.RankOffersForNeed(needID, needListDepth, w, c)
		},
		func(shown []matching.Match, w matching.Weights, c *matching.Context) []RankedOffer {
			out := []RankedOffer{}
			for _, x := range m.ix.ExplainAll(shown, w, c) {
				if o, ok := m.ix.Offer(x.OfferID); ok {
					out = append(out, RankedOffer{Rank: len(out) + 1, OfferID: x.OfferID, Score: x.Score,
						Band: x.Band, Relevance: x.Relevance, Title: o.Title, Lang: o.Lang, Translations: o.Translations, OrganizationID: o.OrganizationID, Factors: x.Factors})
				}
			}
			return out
		})
	if err != nil {
		return nil, err
	}
	return &NeedRanking{NeedID: needID, ComputedAt: r.e.ComputedAt, Cached: r.cached, WeightsVersion: r.e.WeightsVersion,
		Version: r.e.version(), Variant: r.variant, explain: r.explain}, nil
}

// NeedsForOffer ranks the needs for an offer, best first, limit at most, listing only needs
// the actor may see.
func (m *Matching) NeedsForOffer(ctx context.Context, a *models.Actor, offerID string, limit int) (*OfferRanking, error) {
	r, err := m.NeedsForOfferUnexplained(ctx, a, offerID, limit)
	if err != nil {
		return nil, err
	}
	r.Items = r.Explained()
	return r, nil
}

// NeedsForOfferUnexplained is NeedsForOffer with its lines explained only when Explained is
// called (see OffersForNeedUnexplained).
func (m *Matching) NeedsForOfferUnexplained(ctx context.Context, a *models.Actor, offerID string, limit int) (*OfferRanking, error) {
	o, ok := m.model.Offer(offerID)
	if !ok || !models.ValidID(offerID) {
		return nil, models.Errorf(models.ErrNotFound, "offer not found")
	}
	if err := models.AuthorizeOffer(a, models.ActRead, o); err != nil {
		return nil, err
	}
	aud, visible := audience(a)
	q := m.applied()
	r, err := serve(m, ctx, rankKey{id: offerKey(offerID, aud), owner: offerID}, m.minStamp(m.offerDirty, offerID), q, limit, m.seenBy(a),
		func(w matching.Weights, c *matching.Context) []matching.Match {
			return m.ix.RankNeedsForOffer(offerID, offerListDepth, w, c, visible)
		},
		func(shown []matching.Match, w matching.Weights, c *matching.Context) []RankedNeed {
			out := []RankedNeed{}
			for _, x := range m.ix.ExplainAll(shown, w, c) {
				if n, ok := m.ix.Need(x.NeedID); ok && visible(n) {
					out = append(out, RankedNeed{Rank: len(out) + 1, NeedID: x.NeedID, Score: x.Score,
						Band: x.Band, Relevance: x.Relevance, Title: n.Title, Lang: n.Lang, Translations: n.Translations, Country: n.Country, OrganizationID: n.OrganizationID, Factors: x.Factors})
				}
			}
			return out
		})
	if err != nil {
		return nil, err
	}
	return &OfferRanking{OfferID: offerID, ComputedAt: r.e.ComputedAt, Cached: r.cached, WeightsVersion: r.e.WeightsVersion,
		Version: r.e.version(), Variant: r.variant, explain: r.explain}, nil
}

// ranked is what serve found for a read: the ranking, whether it came from a cache, and how
// to explain the lines it shows.
type ranked[L any] struct {
	e      *rankEntry
	cached bool
	// explain returns the lines the read shows, explained (kept in Matching.explained).
	explain func() []L
	// variant is what of the entry the read shows: the ranking's key (its audience) and the
	// lines' explanation key.
	variant string
}

// serve is the cache path shared by both directions: L1, then L2, then compute once.
//
// compute ranks the list from the index; explain explains the lines a read shows, with the
// weights and context the ranking was computed with. seen counts the deliveries the caller
// may see (nil: all of them), for the duplication reasons: the lines are explained once per
// limit and per what those counts make of them (seenKey), so a caller is never served another
// caller's counts.
//
// q is the log position this replica had applied when the read began, taken before min (the
// ranking's dirty mark): what it computes reflects at least q and is stamped q, and nothing
// stamped beyond q is served.
func serve[L any](m *Matching, ctx context.Context, k rankKey, min, q int64, limit int, seen func(matching.Delivery) int,
	compute func(matching.Weights, *matching.Context) []matching.Match,
	explain func(shown []matching.Match, w matching.Weights, c *matching.Context) []L) (ranked[L], error) {
	today := m.today()
	w := m.Weights()
	ctxNow := m.context(today)
	current := func(e *rankEntry) bool { return e.current(min, q, today, w.Version) }
	answer := func(e *rankEntry, cached, keep bool) ranked[L] {
		shown := e.Items
		if limit < len(shown) {
			shown = shown[:limit]
		}
		key := strconv.Itoa(limit) + m.seenKey(shown, ctxNow, seen)
		kept := m.explained
		if !keep {
			kept = nil
		}
		// Everything the lines need is made only when they are asked for: a kept answer never asks.
		return ranked[L]{e: e, cached: cached, explain: func() []L {
			return explained(kept, e, key, func() []L {
				m.explains.Add(1)
				c := ctxNow
				if seen != nil {
					c = &matching.Context{Today: ctxNow.Today, Active: ctxNow.Active, Seen: seen, External: ctxNow.External}
				}
				return explain(shown, w, c)
			})
		},
			variant: k.id + "/" + key}
	}
	// ahead says a change past q began moving the index or the context before the computation
	// ended: the ranking computed may reflect it, so it is served to this reader (it is not
	// older than q) but never cached under stamp q (see moving).
	ahead := false
	fresh := func() *rankEntry {
		m.computes.Add(1)
		items := compute(w, ctxNow)
		e := &rankEntry{Day: today, WeightsVersion: w.Version, ComputedAt: m.now().UTC(),
			Items: items, Complete: len(items) < k.depth()}
		e.stamp.Store(q)
		ahead = m.moved.Load() > q
		return e
	}
	if !m.fresh() {
		// Not following the change log, this replica may miss other replicas' changes: compute from the
		// model, cache nothing, and say so.
		return answer(fresh(), false, false), nil
	}
	m.mu.RLock()
	e := m.l1Of(k)[k.id]
	m.mu.RUnlock()
	if current(e) {
		return answer(e, true, true), nil
	}
	if ps := m.pendingFor(k, min); len(ps) > 0 {
		// A change being patched in the background left this ranking stale: its patch, not a
		// new ranking, brings it up to date (applyOffer, applyNeed, ContextChanged).
		// A caller that gives up meanwhile goes on as without the patch (an error here would
		// reach the API as a 500).
		m.waits.Add(1)
		waited := true
		for _, p := range ps {
			select {
			case <-p.done:
			case <-ctx.Done():
				waited = false
			}
			if !waited {
				break
			}
		}
		if waited {
			m.mu.RLock()
			e = m.l1Of(k)[k.id]
			m.mu.RUnlock()
			if current(e) {
				return answer(e, true, true), nil
			}
		}
	}
	key := k.redis()
	v, err, _ := m.sf.Do(key+"|"+strconv.FormatInt(min, 10)+"|"+strconv.FormatInt(q, 10)+"|"+strconv.FormatInt(w.Version, 10), func() (any, error) {
		if snap, err := m.cache.Get(ctx, key); err == nil && snap != nil {
			if got, err := entryOf(snap, k); err == nil && current(got) {
				m.remember(k, got)
				return served{got, true}, nil
			}
		} else if err != nil {
			m.log.DebugContext(ctx, "ranking cache unavailable; computing", "err", err)
		}
		e := fresh()
		if ahead {
			return served{e, false}, nil
		}
		if err := m.cache.Set(context.WithoutCancel(ctx), map[string]*matching.Snapshot{key: e.snapshot(k)}); err != nil {
			m.log.DebugContext(ctx, "ranking not cached", "err", err)
		}
		m.remember(k, e)
		return served{e, false}, nil
	})
	if err != nil {
		return ranked[L]{}, err
	}
	s := v.(served)
	return answer(s.e, s.cached, true), nil
}

// current reports whether a cached ranking can be served by a replica that has applied the
// log up to q: it reflects every change up to min (the last that could alter it, or the
// floor), nothing beyond q (so never more than this replica's state), and was computed today
// with the weights in force.
func (e *rankEntry) current(min, q int64, today models.Date, weightsVersion int64) bool {
	if e == nil {
		return false
	}
	s := e.stamp.Load()
	return s >= min && s <= q && e.Day == today && e.WeightsVersion == weightsVersion
}

type served struct {
	e      *rankEntry
	cached bool
}

// DefaultRankingsInMemory is how many rankings of each direction (needs' and offers') a replica
// keeps in memory, unless Deps.RankingsInMemory (CAPMATCH_RANKINGS_IN_MEMORY) says otherwise. An
// entry holds ids and scores only, 5–7 kB (64 lines of a need, 50 of an offer; ~5.2 kB on
// average in the 10,000 × 10,000 benchmark); its explained lines are kept apart and bounded
// (DefaultExplainedLines). 2 × 8,192 entries are at most ~85 MB, which with the explained lines
// and the API's rendered answers keeps a replica of 100,000 needs + 100,000 offers (~480 MiB of
// live heap) under the Deployment's GOMEMLIMIT of 768 MiB (docs/operations.md, Resources). When
// explained lines were kept with every entry, the heap of a 10,000 × 10,000 marketplace with every
// ranking kept reached 2.5 GB (BENCHMARKS.md, issue 16 target 3). Rankings beyond the bound stay
// in Redis, from which a read takes them back (about 0.1 ms).
const DefaultRankingsInMemory = 8_192

// remember keeps an entry in L1 unless a newer one is there. A full L1 forgets one entry
// first, chosen at random (Go's map iteration order): no bookkeeping on the read path, and a
// ranking read often is soon back (from Redis) if it was the one forgotten.
func (m *Matching) remember(k rankKey, e *rankEntry) {
	m.mu.Lock()
	l1 := m.l1Of(k)
	if cur := l1[k.id]; cur == nil || cur.stamp.Load() <= e.stamp.Load() {
		if cur == nil && len(l1) >= m.l1Max {
			for id := range l1 {
				delete(l1, id)
				break
			}
		}
		l1[k.id] = e
		if aud := strings.TrimPrefix(k.id, offerKey(k.owner, "")); !k.need && strings.HasPrefix(aud, ministryAudience) {
			set := m.ministries[k.owner]
			if set == nil {
				set = map[string]bool{}
				m.ministries[k.owner] = set
			}
			set[aud] = true
		}
	}
	m.mu.Unlock()
}

// rankKey names a cached ranking: a need's (id is the need id) or an offer's for an audience
// (id is offerKey).
type rankKey struct {
	need  bool
	id    string
	owner string // the need's or the offer's id
}

// depth is how many lines a ranking is computed to.
func (k rankKey) depth() int {
	if k.need {
		return needListDepth
	}
	return offerListDepth
}

// redis is the ranking's key in the shared cache.
func (k rankKey) redis() string {
	if k.need {
		return needKey(k.id)
	}
	return k.id
}

// l1Of returns the L1 map that holds a ranking; m.mu must be held.
func (m *Matching) l1Of(k rankKey) map[string]*rankEntry {
	if k.need {
		return m.l1Need
	}
	return m.l1Offer
}

// seenBy returns how to count, for a's explanations, the deliveries under way that a may see
// (models/policy.go, through a's view), or nil when a sees them all (coordinators). Each
// country and capability is counted once per request, when a line first needs it (a ranking
// of offers for a need needs one; of needs for an offer, one per country and capability of
// its lines that has deliveries).
func (m *Matching) seenBy(a *models.Actor) func(matching.Delivery) int {
	v := viewAs(m.model, a)
	if v.all() {
		return nil
	}
	var counts map[matching.Delivery]int // made when first needed: most rankings show no delivery
	return func(d matching.Delivery) int {
		if n, ok := counts[d]; ok {
			return n
		}
		if counts == nil {
			counts = map[matching.Delivery]int{}
		}
		n := v.deliveryCounts(func(x matching.Delivery) bool { return x == d })[d]
		counts[d] = n
		return n
	}
}

// seenKey names what seen makes of the duplication reasons of the lines shown: the visible
// count of each line whose need's capability is being delivered in its country ("" when seen
// is nil or no line has a delivery).
func (m *Matching) seenKey(shown []matching.Match, c *matching.Context, seen func(matching.Delivery) int) string {
	if seen == nil || len(c.Active) == 0 {
		return ""
	}
	var b strings.Builder
	last := ""
	for i, x := range shown {
		if x.NeedID == last {
			continue // a need's ranking of offers: one need, one count
		}
		last = x.NeedID
		n, ok := m.ix.Need(x.NeedID)
		if !ok {
			continue
		}
		if d := (matching.Delivery{Country: n.Country, Capability: n.Capability}); c.Active[d] > 0 {
			fmt.Fprintf(&b, "|%d:%d", i, seen(d))
		}
	}
	return b.String()
}

// Allocation proposes which need each open offer should serve (coordinators): at most one
// offer per need, within each offer's slots and remaining budget, maximising the total score.
func (m *Matching) Allocation(ctx context.Context, a *models.Actor) ([]matching.Match, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return nil, err
	}
	today := models.DateOf(m.now())
	w := m.Weights()
	c := m.context(today)
	// A coordinators' tool: it weighs every open need and offer.
	all := systemView(m.model)
	needs := all.allNeeds(func(n *models.Need) bool { return n.Status == models.NeedOpen })
	offers := all.allOffers(func(o *models.Offer) bool { return o.Status == models.OfferOpen })
	out := matching.AllocateAll(needs, offers, w, c)
	if out == nil {
		out = []matching.Match{}
	}
	return out, nil
}
