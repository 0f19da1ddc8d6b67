package service_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/adapters/rediscache/redistest"
	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Recovery against live work (issue 15, point 2): two replicas of one deployment, A and B, on
// one store and one Redis. A's accept is held between its steps by its store; B runs the
// recovery every replica runs at start-up and periodically. The clock is the tests' own, so
// that A's lease lapses when the test says ("A crashed"), not after 30 s.

// testClock is a clock the test moves forward; both replicas read it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// pausingStore holds a replica between the steps of its multi-document work: once armed, the
// first need or engagement write that the armed predicate picks lands, then the writer waits
// until the test releases it.
type pausingStore struct {
	models.Store
	mu      sync.Mutex
	pick    func(doc any) bool
	before  bool // pause before the write is sent, not after it landed
	reached chan struct{}
	release chan struct{}
}

// arm makes the next write that pick picks pause after it lands (once).
func (p *pausingStore) arm(pick func(doc any) bool) (reached, release chan struct{}) {
	return p.armAt(pick, false)
}

// armAt is arm, pausing before the write is sent when before is set (a process frozen between
// its check of the lease and the write it then sends).
func (p *pausingStore) armAt(pick func(doc any) bool, before bool) (reached, release chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pick, p.before, p.reached, p.release = pick, before, make(chan struct{}), make(chan struct{})
	return p.reached, p.release
}

// wrote pauses at the armed write: before it is sent (when) or after it landed.
func (p *pausingStore) wrote(doc any, before bool) {
	p.mu.Lock()
	hit := p.pick != nil && p.before == before && p.pick(doc)
	reached, release := p.reached, p.release
	if hit {
		p.pick = nil
	}
	p.mu.Unlock()
	if hit {
		close(reached)
		<-release
	}
}

func (p *pausingStore) ReplaceNeed(ctx context.Context, n *models.Need, prev int64) error {
	p.wrote(n, true)
	err := p.Store.ReplaceNeed(ctx, n, prev)
	if err == nil {
		p.wrote(n, false)
	}
	return err
}

func (p *pausingStore) ReplaceEngagement(ctx context.Context, e *models.Engagement, prev int64) error {
	p.wrote(e, true)
	err := p.Store.ReplaceEngagement(ctx, e, prev)
	if err == nil {
		p.wrote(e, false)
	}
	return err
}

// watchStore calls a function the test sets with every engagement its replica writes.
type watchStore struct {
	models.Store
	mu sync.Mutex
	f  func(*models.Engagement)
}

func (w *watchStore) set(f func(*models.Engagement)) { w.mu.Lock(); w.f = f; w.mu.Unlock() }

func (w *watchStore) ReplaceEngagement(ctx context.Context, e *models.Engagement, prev int64) error {
	err := w.Store.ReplaceEngagement(ctx, e, prev)
	w.mu.Lock()
	f := w.f
	w.mu.Unlock()
	if err == nil && f != nil {
		f(e)
	}
	return err
}

// replicas is replica A (whose store pauses) with its signed-in actors, and replica B on the
// same store and Redis (whose engagement writes the test may watch).
type replicas struct {
	a     *world
	b     *stacktest.Stack
	pause *pausingStore
	watch *watchStore
	clock *testClock
}

func newReplicas(t *testing.T) *replicas {
	t.Helper()
	r := &replicas{clock: &testClock{now: time.Now()}, pause: &pausingStore{}, watch: &watchStore{}}
	o := stacktest.Options{DB: storetest.NewDBName(), RedisURL: redistest.URL(t), Prefix: redistest.Prefix(), Now: r.clock.Now}
	oa := o
	oa.Adjust = func(d *service.Deps) { r.pause.Store = d.Store; d.Store = r.pause }
	r.a = newWorldOn(t, oa)
	ob := o
	ob.Adjust = func(d *service.Deps) { r.watch.Store = d.Store; d.Store = r.watch }
	r.b = stacktest.New(t, ob)
	return r
}

// acceptPaused starts the donor's accept of a fresh proposal on A and returns once A has
// matched the need (step 2) and waits; the accept's outcome arrives on done once released.
func (r *replicas) acceptPaused(t *testing.T, offerID string) (e *models.Engagement, release chan struct{}, done chan error) {
	t.Helper()
	n := r.a.openNeed("National CSIRT")
	e = r.a.propose(r.a.sn, n.ID, offerID)
	reached, release := r.pause.arm(func(doc any) bool {
		x, ok := doc.(*models.Need)
		return ok && x.ID == n.ID && x.Status == models.NeedMatched
	})
	done = make(chan error, 1)
	go func() {
		_, err := r.a.app.Engagements.Accept(context.Background(), r.a.donor, e.ID)
		done <- err
	}()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the accept ended before its step 2 paused: %v", err)
	}
	// B has seen the accept begin, as a replica that applied A's announcements has.
	ctx := context.Background()
	r.b.Reload(ctx, models.EventEngagement, e.ID)
	r.b.Reload(ctx, models.EventNeed, n.ID)
	return e, release, done
}

// agreement is an engagement, its need and its offer as stored.
type agreement struct {
	e *models.Engagement
	n *models.Need
	o *models.Offer
}

func (r *replicas) stored(t *testing.T, id string) agreement {
	t.Helper()
	ctx := context.Background()
	e, err := r.b.Store.GetEngagement(ctx, id)
	require.NoError(t, err)
	n, err := r.b.Store.GetNeed(ctx, e.NeedID)
	require.NoError(t, err)
	o, err := r.b.Store.GetOffer(ctx, e.OfferID)
	require.NoError(t, err)
	return agreement{e, n, o}
}

// consistent checks that the engagement, its need and its offer agree: agreed (or accepting)
// with the need matched to it and the offer's slot reserved for it, or proposed with neither.
func (g agreement) consistent(t *testing.T) {
	t.Helper()
	reserved := slices.Contains(g.o.Reservations, g.e.ID)
	matched := g.n.Status == models.NeedMatched && g.n.EngagementID == g.e.ID
	switch g.e.Status {
	case models.EngagementAgreed:
		assert.True(t, matched, "an agreed engagement's need is matched to it (need %s, matched to %q)", g.n.Status, g.n.EngagementID)
		assert.True(t, reserved, "an agreed engagement holds its offer slot")
	case models.EngagementProposed:
		assert.False(t, matched, "a proposal's need is not matched to it")
		assert.Equal(t, models.NeedOpen, g.n.Status, "a proposal's need is open")
		assert.False(t, reserved, "a proposal holds no offer slot (reservations %v)", g.o.Reservations)
	default:
		t.Errorf("the engagement ended %s", g.e.Status)
	}
	assert.Equal(t, len(g.o.Reservations), g.o.EngagementsUsed, "the offer's count of slots used is its reservations")
}

// TestRecoveryNeverUndoesALiveAccept: replica B's recovery leaves alone an accept that replica A
// is running (A's lease is live), and A finishes it; once A "crashed" (its lease lapsed, the
// clock moved on) B's recovery takes the accept over and undoes it consistently.
func TestRecoveryNeverUndoesALiveAccept(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")

	// A live accept: B's recovery, run while A is between its steps, leaves it alone.
	e, release, done := r.acceptPaused(t, o.ID)
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	mid := r.stored(t, e.ID)
	assert.Equal(t, models.EngagementAccepting, mid.e.Status, "B left A's accept alone")
	assert.Equal(t, models.NeedMatched, mid.n.Status, "and the need A matched")
	close(release)
	assert.NoError(t, <-done, "A finishes its accept")
	end := r.stored(t, e.ID)
	assert.Equal(t, models.EngagementAgreed, end.e.Status)
	assert.Nil(t, end.e.Lease, "an agreed engagement holds no lease")
	end.consistent(t)

	// A crashes between its steps: its lease lapses, and B's recovery then undoes the accept
	// (no slot was reserved), leaving the engagement, the need and the offer in agreement.
	e2, release2, done2 := r.acceptPaused(t, o.ID)
	r.clock.Advance(models.LeaseDuration + time.Second)
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	undone := r.stored(t, e2.ID)
	assert.Equal(t, models.EngagementProposed, undone.e.Status, "B undid the accept whose lease lapsed")
	undone.consistent(t)
	require.NoError(t, r.b.App.Engagements.Recover(ctx), "recovery again: idempotent")
	r.stored(t, e2.ID).consistent(t)
	r.stored(t, e.ID).consistent(t)

	// A, frozen rather than dead, wakes up: its next step finds the lease taken and stops.
	close(release2)
	err := <-done2
	require.ErrorIs(t, err, models.ErrConflict, "A's step after the takeover stops")
	after := r.stored(t, e2.ID)
	assert.Equal(t, models.EngagementProposed, after.e.Status)
	after.consistent(t)
	assert.Equal(t, 1, after.o.EngagementsUsed, "only the first accept holds a slot")

	// The undone proposal can be accepted again, on either replica.
	x, err := r.b.App.Engagements.Accept(ctx, r.a.donor, e2.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, x.Status)
	r.stored(t, e2.ID).consistent(t)
}

// TestRecoveryFinishesACrashedAcceptWhoseSlotIsTaken: an accept that crashed after its slot was
// reserved is completed by another replica's recovery once its lease lapsed, not before.
func TestRecoveryFinishesACrashedAcceptWhoseSlotIsTaken(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")
	e, release, done := r.acceptPaused(t, o.ID)
	// The slot is taken as A's step 3 would have, then A stays frozen.
	_, err := r.b.Store.ReserveOfferSlot(ctx, o.ID, e.ID, e.BudgetUSD, r.clock.Now())
	require.NoError(t, err)
	r.b.Reload(ctx, models.EventOffer, o.ID)

	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	assert.Equal(t, models.EngagementAccepting, r.stored(t, e.ID).e.Status, "not before the lease lapses")

	r.clock.Advance(models.LeaseDuration + time.Second)
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	done1 := r.stored(t, e.ID)
	assert.Equal(t, models.EngagementAgreed, done1.e.Status, "B completed the accept whose slot was taken")
	done1.consistent(t)

	// A wakes up: its steps find the work done and book nothing twice.
	close(release)
	if err := <-done; err != nil {
		require.ErrorIs(t, err, models.ErrConflict)
	}
	final := r.stored(t, e.ID)
	assert.Equal(t, models.EngagementAgreed, final.e.Status)
	final.consistent(t)
	assert.Equal(t, 1, final.o.EngagementsUsed)
}

// txStore is a store with transactions, faked over the test store: InTransaction runs one
// transaction at a time and, when fn fails, restores what fn wrote (the documents' earlier
// states, the slots it reserved). It counts transactions and the engagement states written.
type txStore struct {
	models.Store
	mu       sync.Mutex // one transaction at a time
	undo     []func()
	txs      int
	statuses []models.EngagementStatus // every engagement status written, in order
	// failReserve, when set, is what ReserveOfferSlot answers (an offer that fills meanwhile).
	failReserve error
	// failEngagement, when set, refuses the engagement writes it returns an error for.
	failEngagement func(*models.Engagement) error
}

type inTx struct{}

func (s *txStore) Transactions() bool { return true }

func (s *txStore) InTransaction(ctx context.Context, fn func(context.Context) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txs++
	s.undo = nil
	err := fn(context.WithValue(ctx, inTx{}, true))
	if err != nil {
		for i := len(s.undo) - 1; i >= 0; i-- {
			s.undo[i]()
		}
	}
	s.undo = nil
	return err
}

func (s *txStore) onAbort(ctx context.Context, f func(context.Context)) {
	if ctx.Value(inTx{}) != nil {
		ctx = context.WithoutCancel(ctx)
		s.undo = append(s.undo, func() { f(ctx) })
	}
}

func (s *txStore) ReplaceNeed(ctx context.Context, n *models.Need, prev int64) error {
	before, err := s.Store.GetNeed(ctx, n.ID)
	if err != nil {
		return err
	}
	if err := s.Store.ReplaceNeed(ctx, n, prev); err != nil {
		return err
	}
	s.onAbort(ctx, func(ctx context.Context) { _ = s.Store.ReplaceNeed(ctx, before, n.Version) })
	return nil
}

func (s *txStore) ReplaceEngagement(ctx context.Context, e *models.Engagement, prev int64) error {
	before, err := s.Store.GetEngagement(ctx, e.ID)
	if err != nil {
		return err
	}
	if s.failEngagement != nil {
		if err := s.failEngagement(e); err != nil {
			return err
		}
	}
	if err := s.Store.ReplaceEngagement(ctx, e, prev); err != nil {
		return err
	}
	s.statuses = append(s.statuses, e.Status)
	s.onAbort(ctx, func(ctx context.Context) { _ = s.Store.ReplaceEngagement(ctx, before, e.Version) })
	return nil
}

func (s *txStore) ReserveOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*models.Offer, error) {
	if s.failReserve != nil {
		return nil, s.failReserve
	}
	before, err := s.Store.GetOffer(ctx, offerID)
	if err != nil {
		return nil, err
	}
	o, err := s.Store.ReserveOfferSlot(ctx, offerID, engagementID, budget, at)
	if err == nil && !slices.Contains(before.Reservations, engagementID) {
		s.onAbort(ctx, func(ctx context.Context) {
			_, _ = s.Store.ReleaseOfferSlot(ctx, offerID, engagementID, budget, at)
		})
	}
	return o, err
}

func (s *txStore) ReleaseOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*models.Offer, error) {
	before, err := s.Store.GetOffer(ctx, offerID)
	if err != nil {
		return nil, err
	}
	o, err := s.Store.ReleaseOfferSlot(ctx, offerID, engagementID, budget, at)
	if err == nil && slices.Contains(before.Reservations, engagementID) {
		s.onAbort(ctx, func(ctx context.Context) {
			_, _ = s.Store.ReserveOfferSlot(ctx, offerID, engagementID, budget, at)
		})
	}
	return o, err
}

// TestAcceptRunsInOneTransactionWhereTheStoreHasThem: on a store with transactions (MongoDB as
// a replica set) the accept is one transaction: the engagement goes from proposed to agreed
// without the "accepting" step or a lease, and a step that fails leaves nothing behind (no
// undo of the protocol runs: the transaction's abort is the undo).
func TestAcceptRunsInOneTransactionWhereTheStoreHasThem(t *testing.T) {
	tx := &txStore{}
	w := newWorldWith(t, func(d *service.Deps) { tx.Store = d.Store; d.Store = tx })
	ctx := w.ctx
	o := w.openOffer(w.donor, "Francophone CSIRT programme")
	n := w.openNeed("National CSIRT")
	e := w.propose(w.sn, n.ID, o.ID)

	tx.mu.Lock()
	tx.statuses, tx.txs = nil, 0
	tx.mu.Unlock()
	got, err := w.app.Engagements.Accept(ctx, w.donor, e.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, got.Status)
	assert.Equal(t, 1, tx.txs, "one transaction")
	assert.Equal(t, []models.EngagementStatus{models.EngagementAgreed}, tx.statuses, "proposed to agreed in one write, never accepting")
	assert.Nil(t, got.Lease)
	assert.Equal(t, models.NeedMatched, w.need(n.ID).Status)
	assert.Equal(t, 1, w.offer(o.ID).EngagementsUsed)
	again, err := w.app.Engagements.Accept(ctx, w.donor, e.ID)
	require.NoError(t, err, "a retried accept answers the same")
	assert.Equal(t, models.EngagementAgreed, again.Status)
	assert.Equal(t, 1, w.offer(o.ID).EngagementsUsed, "and books nothing twice")

	// The offer refuses the slot: the need's match written earlier in the transaction is
	// rolled back with it, and the engagement stays a proposal.
	n2 := w.openNeed("Incident response training")
	e2 := w.propose(w.sn, n2.ID, o.ID)
	tx.mu.Lock()
	tx.statuses, tx.failReserve = nil, models.Errorf(models.ErrConflict, "the offer has no engagement slots left")
	tx.mu.Unlock()
	_, err = w.app.Engagements.Accept(ctx, w.donor, e2.ID)
	require.ErrorIs(t, err, models.ErrConflict)
	assert.Empty(t, tx.statuses, "the engagement was never written")
	stored, err := w.s.Store.GetNeed(ctx, n2.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedOpen, stored.Status, "the need's match was rolled back")
	assert.Equal(t, models.NeedOpen, w.need(n2.ID).Status, "and the read model never saw it")
	assert.Equal(t, models.EngagementProposed, w.engagement(e2.ID).Status)
	assert.Equal(t, 1, w.offer(o.ID).EngagementsUsed)

	tx.mu.Lock()
	tx.failReserve = nil
	tx.mu.Unlock()
	got, err = w.app.Engagements.Accept(ctx, w.donor, e2.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, got.Status)
	assert.Equal(t, 2, w.offer(o.ID).EngagementsUsed)
}

// TestAProjectStartWhoseLeaseLapsedStops: a project start frozen between its steps 1 and 2 (the
// engagement took the project's id, the need has not moved) is left alone by recovery while its
// lease is live; once the lease lapsed, recovery gives the id back, and the start, waking up,
// stops instead of starting the need and writing a project its engagement no longer names.
func TestAProjectStartWhoseLeaseLapsedStops(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	n := r.a.openNeed("National CSIRT")
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")
	e := r.a.agree(n.ID, r.a.donor, o.ID)
	in := service.ProjectInput{EngagementID: e.ID, Title: "National CSIRT project", BudgetUSD: 400_000,
		StartDate: "2030-03-01", EndDate: "2031-08-31"}

	reached, release := r.pause.arm(func(doc any) bool {
		x, ok := doc.(*models.Engagement)
		return ok && x.ID == e.ID && x.ProjectID != ""
	})
	done := make(chan error, 1)
	go func() {
		_, _, err := r.a.app.Projects.Create(context.Background(), r.a.donor, in)
		done <- err
	}()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the start ended before its step 2 paused: %v", err)
	}
	linked := r.stored(t, e.ID).e
	require.NotEmpty(t, linked.ProjectID)
	require.NotNil(t, linked.Lease, "the start holds a lease")
	r.b.Reload(ctx, models.EventEngagement, e.ID)

	r.clock.Advance(2 * time.Minute) // older than the minute recovery waited for before leases
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	unlinked := r.stored(t, e.ID)
	assert.Empty(t, unlinked.e.ProjectID, "recovery gave the id back once the lease lapsed")

	close(release)
	require.ErrorIs(t, <-done, models.ErrConflict, "the start stops")
	final := r.stored(t, e.ID)
	assert.Empty(t, final.e.ProjectID)
	assert.Equal(t, models.NeedMatched, final.n.Status, "the need did not start")
	_, err := r.b.Store.GetProject(ctx, linked.ProjectID)
	assert.ErrorIs(t, err, models.ErrNotFound, "no project was written")

	// Started again, it completes, and its lease goes.
	v, created, err := r.b.App.Projects.Create(ctx, r.a.donor, in)
	require.NoError(t, err)
	assert.True(t, created)
	started := r.stored(t, e.ID)
	assert.Equal(t, v.ID, started.e.ProjectID)
	assert.Nil(t, started.e.Lease, "a finished start holds no lease")
	assert.Equal(t, models.NeedInProgress, started.n.Status)
}

// TestReleaseRunsInOneTransactionWhereTheStoreHasThem: on a store with transactions, a
// cancellation's release (the offer's slot back, the need open again, the engagement marked
// released) is one transaction: when its last write fails, the slot and the need are as before,
// the cancellation stands, and the next try (Recover) releases it once.
func TestReleaseRunsInOneTransactionWhereTheStoreHasThem(t *testing.T) {
	tx := &txStore{}
	w := newWorldWith(t, func(d *service.Deps) { tx.Store = d.Store; d.Store = tx })
	ctx := w.ctx
	o := w.openOffer(w.donor, "Francophone CSIRT programme")
	n := w.openNeed("National CSIRT")
	e := w.agree(n.ID, w.donor, o.ID)

	tx.mu.Lock()
	tx.failEngagement = func(x *models.Engagement) error {
		if x.ReleasedAt != nil {
			return models.Errorf(models.ErrUnavailable, "the store went away")
		}
		return nil
	}
	tx.mu.Unlock()
	_, err := w.app.Engagements.Cancel(ctx, w.donor, e.ID, "the expert team is no longer available")
	require.ErrorIs(t, err, models.ErrUnavailable)
	stored, err := w.s.Store.GetEngagement(ctx, e.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementCancelled, stored.Status, "the cancellation stands")
	assert.Nil(t, stored.ReleasedAt, "not released")
	off, err := w.s.Store.GetOffer(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, off.EngagementsUsed, "the slot given back was taken again with the abort")
	assert.Contains(t, off.Reservations, e.ID)
	nd, err := w.s.Store.GetNeed(ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedMatched, nd.Status, "the need's opening was rolled back")

	tx.mu.Lock()
	tx.failEngagement, tx.txs = nil, 0
	tx.mu.Unlock()
	require.NoError(t, w.app.Engagements.Recover(ctx))
	require.NoError(t, w.app.Engagements.Recover(ctx), "idempotent")
	assert.Equal(t, 1, tx.txs, "one release, in one transaction")
	assert.NotNil(t, w.engagement(e.ID).ReleasedAt)
	assert.Zero(t, w.offer(o.ID).EngagementsUsed, "the slot back once")
	assert.Zero(t, w.offer(o.ID).BudgetCommitted)
	assert.Equal(t, models.NeedOpen, w.need(n.ID).Status)
}

// TestRecoveryCleansTheLateStepOfATakenOverAccept: replica A is frozen after checking its lease
// and before its need write is sent; its lease lapses, B takes the accept over and undoes it,
// then A's write lands: the need is matched to a proposal. A stops at its next step, and the
// next recovery gives the need back (first fencing the proposal with its own lease), so the
// engagement, the need and the offer agree again; the proposal can then be accepted.
func TestRecoveryCleansTheLateStepOfATakenOverAccept(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")
	n := r.a.openNeed("National CSIRT")
	e := r.a.propose(r.a.sn, n.ID, o.ID)
	reached, release := r.pause.armAt(func(doc any) bool {
		x, ok := doc.(*models.Need)
		return ok && x.ID == n.ID && x.Status == models.NeedMatched
	}, true)
	done := make(chan error, 1)
	go func() {
		_, err := r.a.app.Engagements.Accept(context.Background(), r.a.donor, e.ID)
		done <- err
	}()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the accept ended before its step 2: %v", err)
	}
	r.b.Reload(ctx, models.EventEngagement, e.ID)
	r.clock.Advance(models.LeaseDuration + time.Second)
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	assert.Equal(t, models.EngagementProposed, r.stored(t, e.ID).e.Status, "B undid the accept")

	close(release)
	require.ErrorIs(t, <-done, models.ErrConflict, "A stops at its next step")
	late := r.stored(t, e.ID)
	require.Equal(t, models.NeedMatched, late.n.Status, "A's late write landed: the proposal holds the need")
	require.Equal(t, e.ID, late.n.EngagementID)

	r.b.Reload(ctx, models.EventNeed, n.ID)
	require.NoError(t, r.b.App.Engagements.Recover(ctx))
	cleaned := r.stored(t, e.ID)
	cleaned.consistent(t)
	assert.Nil(t, cleaned.e.Lease, "the fence went with the cleaning")
	require.NoError(t, r.b.App.Engagements.Recover(ctx), "idempotent")
	r.stored(t, e.ID).consistent(t)

	x, err := r.b.App.Engagements.Accept(ctx, r.a.donor, e.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, x.Status)
	r.stored(t, e.ID).consistent(t)
}

// TestAnAcceptWaitsForTheCleaningOfItsProposal: a proposal that recovery is cleaning (its lease
// on the proposal is live) is not accepted meanwhile (409), so the accept cannot find the slot
// and the need "already taken" while they are being given back.
func TestAnAcceptWaitsForTheCleaningOfItsProposal(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")
	n := r.a.openNeed("National CSIRT")
	e := r.a.propose(r.a.sn, n.ID, o.ID)
	cur, err := r.b.Store.GetEngagement(ctx, e.ID)
	require.NoError(t, err)
	fenced := *cur
	fenced.Lease, fenced.Version = models.NewLease("another-replica", r.clock.Now()), cur.Version+1
	require.NoError(t, r.b.Store.ReplaceEngagement(ctx, &fenced, cur.Version))
	r.a.s.Reload(ctx, models.EventEngagement, e.ID)

	_, err = r.a.app.Engagements.Accept(ctx, r.a.donor, e.ID)
	require.ErrorIs(t, err, models.ErrConflict)
	assert.Equal(t, models.EngagementProposed, r.stored(t, e.ID).e.Status)

	r.clock.Advance(models.LeaseDuration + time.Second)
	x, err := r.a.app.Engagements.Accept(ctx, r.a.donor, e.ID)
	require.NoError(t, err, "once the fence lapsed")
	assert.Equal(t, models.EngagementAgreed, x.Status)
	r.stored(t, e.ID).consistent(t)
}

// TestPeriodicRecoveryFinishesACrashedReplicasAccept: without any restart, replica B's periodic
// recovery (RunRecovery, every RecoveryInterval in production, every few milliseconds here)
// undoes A's accept once A's lease lapsed.
func TestPeriodicRecoveryFinishesACrashedReplicasAccept(t *testing.T) {
	r := newReplicas(t)
	o := r.a.openOffer(r.a.donor, "Francophone CSIRT programme")
	e, release, done := r.acceptPaused(t, o.ID)
	t.Cleanup(func() { close(release); <-done })
	undone := make(chan struct{})
	var once sync.Once
	r.watch.set(func(x *models.Engagement) {
		if x.ID == e.ID && x.Status == models.EngagementProposed {
			once.Do(func() { close(undone) })
		}
	})
	r.clock.Advance(models.LeaseDuration + time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.b.App.Engagements.RunRecovery(ctx, 5*time.Millisecond); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	select {
	case <-undone:
	case <-time.After(10 * time.Second):
		t.Fatal("the periodic recovery did not undo the accept within 10 s of its lease lapsing")
	}
	r.stored(t, e.ID).consistent(t)
}
