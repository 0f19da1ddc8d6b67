package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// importStore is an in-memory models.Store with just what imports use, and failure injection:
// fail names a method that returns errDown (InsertNeeds and InsertOffers store half the rows
// first, like a connection lost mid-insert). Other methods panic through the nil interface.
type importStore struct {
	models.Store
	mu      sync.Mutex
	orgs    map[string]*models.Organization
	needs   map[string]*models.Need
	offers  map[string]*models.Offer
	batches map[string]*models.ImportBatch
	audit   []*models.AuditEntry
	fail    map[string]bool
}

var errDown = &models.Error{Kind: models.ErrUnavailable, Detail: "the data store is unreachable"}

func newImportStore() *importStore {
	return &importStore{orgs: map[string]*models.Organization{}, needs: map[string]*models.Need{},
		offers: map[string]*models.Offer{}, batches: map[string]*models.ImportBatch{}, fail: map[string]bool{}}
}

func (s *importStore) GetOrg(_ context.Context, id string) (*models.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orgs[id]; ok {
		return o, nil
	}
	return nil, models.Errorf(models.ErrNotFound, "organization not found")
}

func (s *importStore) CreateImport(_ context.Context, b *models.ImportBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail["CreateImport"] {
		return errDown
	}
	c := *b
	s.batches[b.ID] = &c
	return nil
}

func (s *importStore) SetImportState(_ context.Context, id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail["SetImportState:"+state] {
		return errDown
	}
	b, ok := s.batches[id]
	if !ok {
		return models.Errorf(models.ErrNotFound, "import not found")
	}
	b.State = state
	return nil
}

func (s *importStore) ListImports(_ context.Context, state string) ([]*models.ImportBatch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*models.ImportBatch
	for _, b := range s.batches {
		if b.State == state {
			c := *b
			out = append(out, &c)
		}
	}
	return out, nil
}

func (s *importStore) InsertNeeds(_ context.Context, needs []*models.Need) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(needs)
	if s.fail["InsertNeeds"] {
		n /= 2
	}
	for _, x := range needs[:n] {
		c := *x
		s.needs[x.ID] = &c
	}
	if n < len(needs) {
		return errDown
	}
	return nil
}

func (s *importStore) InsertOffers(_ context.Context, offers []*models.Offer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(offers)
	if s.fail["InsertOffers"] {
		n /= 2
	}
	for _, x := range offers[:n] {
		c := *x
		s.offers[x.ID] = &c
	}
	if n < len(offers) {
		return errDown
	}
	return nil
}

func (s *importStore) DeleteImported(_ context.Context, b *models.ImportBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail["DeleteImported"] {
		return errDown
	}
	for _, id := range b.RowIDs {
		if n, ok := s.needs[id]; ok && b.Kind == "needs" && n.ImportBatch == b.ID {
			delete(s.needs, id)
		}
		if o, ok := s.offers[id]; ok && b.Kind == "offers" && o.ImportBatch == b.ID {
			delete(s.offers, id)
		}
	}
	return nil
}

func (s *importStore) AppendAudit(_ context.Context, e *models.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, e)
	return nil
}

// state returns the stored needs, offers and batch states, for assertions.
func (s *importStore) state() (needs []*models.Need, offers []*models.Offer, states map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states = map[string]string{}
	for _, n := range s.needs {
		c := *n
		needs = append(needs, &c)
	}
	for _, o := range s.offers {
		c := *o
		offers = append(offers, &c)
	}
	for id, b := range s.batches {
		states[id] = b.State
	}
	return needs, offers, states
}

// countingBus counts the change events published; it is no log, so that writers apply
// their changes themselves.
type countingBus struct {
	mu sync.Mutex
	n  int
}

func (b *countingBus) Publish(context.Context, models.Event) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return 0, errNoLog
}

func (b *countingBus) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

type importWorld struct {
	store             *importStore
	bus               *countingBus
	app               *App
	now               time.Time
	coord             *models.Actor
	gov, donor, other string
}

func newImportWorld(t *testing.T) *importWorld {
	t.Helper()
	w := &importWorld{store: newImportStore(), bus: &countingBus{}, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	org := func(typ models.OrgType, country string) string {
		o := &models.Organization{ID: models.NewID(w.now), Name: string(typ) + " " + country, Type: typ, Country: country}
		w.store.orgs[o.ID] = o
		return o.ID
	}
	w.gov, w.donor, w.other = org(models.OrgGovernment, "SN"), org(models.OrgDonor, ""), org(models.OrgCoordinator, "")
	w.coord = &models.Actor{UserID: "coord1", Role: models.RoleCoordinator, OrgID: w.other}
	w.app = New(Deps{Store: w.store, Bus: w.bus, Now: func() time.Time { return w.now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CursorKey: []byte("test")})
	return w
}

func (w *importWorld) needRow(title string) NeedImportRow {
	return NeedImportRow{NeedInput: NeedInput{Title: title, Theme: models.ThemeIncidentManagement, Capability: models.CapCERTSetup,
		Modalities: []models.Modality{models.ModTraining}, Languages: []string{"FR"}, BudgetUSD: 400000,
		StartBy: "2027-03-01", DurationMonths: 18, Priority: models.PriorityHigh, OrganizationID: w.gov}}
}

func (w *importWorld) offerRow(title string) OfferImportRow {
	return OfferImportRow{OfferInput: OfferInput{Title: title, Themes: []models.Theme{models.ThemeIncidentManagement},
		Modalities: []models.Modality{models.ModTraining}, Languages: []string{"en"}, BudgetUSD: 100000,
		MaxEngagements: 2, AvailableFrom: "2027-01-01", AvailableUntil: "2027-12-31"}, OrganizationID: w.donor}
}

func (w *importWorld) needRows(n int) []NeedImportRow {
	rows := make([]NeedImportRow, n)
	for i := range rows {
		rows[i] = w.needRow(fmt.Sprintf("Need %d", i))
	}
	return rows
}

func TestImportNeedsStoresEveryRowAndPublishes(t *testing.T) {
	w := newImportWorld(t)
	ctx := context.Background()
	res, err := w.app.ImportNeeds(ctx, w.coord, w.needRows(4), models.NeedSubmitted)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Imported)
	assert.Equal(t, "submitted", res.Status)
	require.Len(t, res.IDs, 4)

	needs, _, states := w.store.state()
	require.Len(t, needs, 4)
	assert.Equal(t, map[string]string{res.BatchID: ImportCommitted}, states)
	for _, n := range needs {
		assert.Equal(t, res.BatchID, n.ImportBatch, "rows stay tagged with their committed batch")
		assert.Equal(t, models.NeedSubmitted, n.Status)
		assert.Equal(t, "SN", n.Country, "the country defaults to the organization's")
		assert.Equal(t, []string{"fr"}, n.Languages, "rows are normalized like POST /needs")
		assert.Equal(t, models.FrameworkNone, n.Maturity.Framework)
		assert.Equal(t, "coord1", n.CreatedBy)
		assert.Equal(t, int64(1), n.Version)
	}
	for i, id := range res.IDs {
		n, ok := w.app.model.Need(id)
		require.True(t, ok, "row %d is in the read model", i)
		if i > 0 {
			prev, _ := w.app.model.Need(res.IDs[i-1])
			assert.True(t, n.CreatedAt.After(prev.CreatedAt), "rows have distinct, increasing creation times")
		}
	}
	assert.Equal(t, 1, w.bus.count(), "one event carries the whole import to other replicas")
	require.Len(t, w.store.audit, 1, "one audit entry for the batch")
	a := w.store.audit[0]
	assert.Equal(t, "import", a.Action)
	assert.Equal(t, "import", a.ObjectType)
	assert.Equal(t, res.BatchID, a.ObjectID)
	assert.Equal(t, res.IDs, a.Changed)
}

func TestImportValidatesEveryRowAndStoresNothing(t *testing.T) {
	w := newImportWorld(t)
	ctx := context.Background()
	rows := w.needRows(4)
	rows[1].BudgetUSD = -1
	rows[1].StartBy = "2027-02-30"
	rows[2].OrganizationID = w.donor
	rows[3].Country = "FJ"
	rows[3].Problems.Add("duration_months", models.ProblemWholeNumber, nil) // a CSV cell that did not parse
	_, err := w.app.ImportNeeds(ctx, w.coord, rows, "")
	require.ErrorIs(t, err, models.ErrInvalid)
	var de *models.Error
	require.ErrorAs(t, err, &de)
	var fields []string
	for _, f := range de.Fields {
		fields = append(fields, f.Field)
	}
	assert.ElementsMatch(t, []string{"rows[1].budget_usd", "rows[1].start_by", "rows[2].organization_id",
		"rows[3].country", "rows[3].duration_months"}, fields, "every problem of every row, each once")
	needs, _, states := w.store.state()
	assert.Empty(t, needs)
	assert.Empty(t, states, "no batch is recorded for an invalid import")
	assert.Zero(t, w.bus.count())
	assert.Empty(t, w.store.audit)
}

func TestImportRefusesOtherRolesBadStatusAndSizes(t *testing.T) {
	w := newImportWorld(t)
	ctx := context.Background()
	_, err := w.app.ImportNeeds(ctx, nil, w.needRows(1), "")
	assert.ErrorIs(t, err, models.ErrUnauthorized)
	for _, role := range []models.Role{models.RoleMinistry, models.RoleDonor} {
		_, err := w.app.ImportNeeds(ctx, &models.Actor{UserID: "u", Role: role, OrgID: w.gov, Country: "SN"}, w.needRows(1), "")
		assert.ErrorIs(t, err, models.ErrForbidden, role)
		_, err = w.app.ImportOffers(ctx, &models.Actor{UserID: "u", Role: role, OrgID: w.donor}, []OfferImportRow{w.offerRow("x")}, "")
		assert.ErrorIs(t, err, models.ErrForbidden, role)
	}
	_, err = w.app.ImportNeeds(ctx, w.coord, w.needRows(1), models.NeedMatched)
	assert.ErrorIs(t, err, models.ErrInvalid)
	_, err = w.app.ImportOffers(ctx, w.coord, []OfferImportRow{w.offerRow("x")}, models.OfferClosed)
	assert.ErrorIs(t, err, models.ErrInvalid)
	_, err = w.app.ImportNeeds(ctx, w.coord, nil, "")
	assert.ErrorIs(t, err, models.ErrInvalid)
	_, err = w.app.ImportNeeds(ctx, w.coord, w.needRows(MaxImportRows+1), "")
	assert.ErrorIs(t, err, models.ErrInvalid)
	needs, _, states := w.store.state()
	assert.Empty(t, needs)
	assert.Empty(t, states)
}

func TestImportRollsBackWhenTheStoreFailsBeforeTheCommit(t *testing.T) {
	for _, failing := range []string{"InsertNeeds", "SetImportState:committed"} {
		t.Run(failing, func(t *testing.T) {
			w := newImportWorld(t)
			w.store.fail[failing] = true
			_, err := w.app.ImportNeeds(context.Background(), w.coord, w.needRows(6), "")
			require.ErrorIs(t, err, models.ErrUnavailable, "a store outage stays a 503")
			needs, _, states := w.store.state()
			assert.Empty(t, needs, "rows inserted before the failure are deleted")
			require.Len(t, states, 1)
			for _, st := range states {
				assert.Equal(t, ImportAborted, st)
			}
			assert.Empty(t, w.app.model.AllNeeds())
			assert.Zero(t, w.bus.count())
			assert.Empty(t, w.store.audit)
		})
	}
}

func TestRecoverImportsFinishesWhatAFailureLeft(t *testing.T) {
	w := newImportWorld(t)
	ctx := context.Background()

	// The insert fails and so does the roll-back: the rows stay, tagged, and the batch inserting.
	w.store.fail["InsertOffers"] = true
	w.store.fail["DeleteImported"] = true
	offers := []OfferImportRow{w.offerRow("a"), w.offerRow("b"), w.offerRow("c"), w.offerRow("d")}
	_, err := w.app.ImportOffers(ctx, w.coord, offers, models.OfferOpen)
	require.ErrorIs(t, err, models.ErrUnavailable)
	_, left, states := w.store.state()
	require.Len(t, left, 2)
	for _, o := range left {
		assert.NotEmpty(t, o.ImportBatch, "uncommitted rows stay tagged, hence invisible")
	}
	for _, st := range states {
		assert.Equal(t, ImportInserting, st)
	}

	// A committed import keeps its rows tagged; they are visible because the batch committed.
	w.store.fail = map[string]bool{}
	res, err := w.app.ImportNeeds(ctx, w.coord, w.needRows(3), "")
	require.NoError(t, err)
	assert.Equal(t, 3, res.Imported)
	needs, _, _ := w.store.state()
	for _, n := range needs {
		assert.Equal(t, res.BatchID, n.ImportBatch)
	}
	for _, id := range res.IDs {
		_, ok := w.app.model.Need(id)
		assert.True(t, ok, "committed rows are in the read model")
	}

	// Recovery right away leaves the young "inserting" batch alone (it may be in flight on
	// another replica) and the committed one as it is.
	require.NoError(t, w.app.RecoverImports(ctx))
	needs, left, _ = w.store.state()
	assert.Len(t, left, 2)
	require.Len(t, needs, 3)

	// Once the batch is stale, recovery rolls it back.
	w.now = w.now.Add(importStaleAfter + time.Minute)
	require.NoError(t, w.app.RecoverImports(ctx))
	needs, left, states = w.store.state()
	assert.Empty(t, left)
	assert.Len(t, needs, 3)
	assert.ElementsMatch(t, []string{ImportAborted, ImportCommitted}, values(states))

	// It is idempotent.
	require.NoError(t, w.app.RecoverImports(ctx))
	needs, left, _ = w.store.state()
	assert.Empty(t, left)
	assert.Len(t, needs, 3)
}

func TestRecoverImportsReportsAStoreOutage(t *testing.T) {
	w := newImportWorld(t)
	ctx := context.Background()
	old := w.now.Add(-time.Hour)
	b := &models.ImportBatch{ID: models.NewID(old), Kind: "needs", State: ImportInserting, CreatedAt: old}
	require.NoError(t, w.store.CreateImport(ctx, b))
	w.store.fail["DeleteImported"] = true
	err := w.app.RecoverImports(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, models.ErrUnavailable))
	_, _, states := w.store.state()
	assert.Equal(t, ImportInserting, states[b.ID], "a batch whose rows were not deleted is not marked aborted")
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
