package embedded

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// marketStore starts FerretDB in a temporary directory with a store adapter on database
// "capmatch".
func marketStore(t *testing.T) (*FerretDB, *mongostore.Store) {
	t.Helper()
	ctx := context.Background()
	f, err := StartFerretDB(ctx, t.TempDir(), quiet)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	st, err := mongostore.Open(ctx, f.URI(), "capmatch", mongostore.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	require.NoError(t, st.EnsureCollections(ctx))
	return f, st
}

// bothWays reads every need and offer through the store adapter (the driver) and through a
// MarketReader, and returns them by id.
func bothWays(t *testing.T, st *mongostore.Store, r *MarketReader) (driverN, fileN map[string]*models.Need, driverO, fileO map[string]*models.Offer) {
	t.Helper()
	ctx := context.Background()
	driverN, fileN = map[string]*models.Need{}, map[string]*models.Need{}
	driverO, fileO = map[string]*models.Offer{}, map[string]*models.Offer{}
	require.NoError(t, st.EachNeed(ctx, nil, func(n *models.Need) error { driverN[n.ID] = n; return nil }))
	require.NoError(t, st.EachOffer(ctx, nil, func(o *models.Offer) error { driverO[o.ID] = o; return nil }))
	require.NoError(t, r.EachNeed(ctx, nil, func(n *models.Need) error {
		require.NotContains(t, fileN, n.ID, "a need passed on twice")
		fileN[n.ID] = n
		return nil
	}))
	require.NoError(t, r.EachOffer(ctx, nil, func(o *models.Offer) error {
		require.NotContains(t, fileO, o.ID, "an offer passed on twice")
		fileO[o.ID] = o
		return nil
	}))
	return driverN, fileN, driverO, fileO
}

// seedMarket writes needs and offers with every field filled, with fields absent or cleared,
// and documents as an older build (or another tool) wrote them: through the store adapter,
// and raw through the driver.
func seedMarket(t *testing.T, st *mongostore.Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 14, 38, 5, 123_000_000, time.UTC)
	odd := "Côte d'Ivoire \"quoted\" back\\slash <b>&amp;</b> tab\tnew\nline \u2028 emoji 🛡️ \x00nul"
	full := &models.Need{ID: "need-full", Title: odd, Description: strings.Repeat("long description ", 50), Lang: "fr",
		Translations: map[string]models.Translation{"en": {Title: "English", Description: "In English"}, "es": {Title: "Solo título"}},
		Country:      "CI", Theme: models.ThemeIncidentManagement, Capability: "cert_setup",
		Modalities: []models.Modality{models.ModTraining, models.ModExpertDeployment}, Languages: []string{"fr", "en"},
		BudgetUSD: 9_000_000_000, StartBy: "2027-01-31", DurationMonths: 18, Priority: "high",
		Maturity: models.Maturity{Framework: "gci", Current: 1, Target: 4}, Visibility: "public", Status: models.NeedMatched,
		StatusReason: "matched", OrganizationID: "gov-ci", CreatedBy: "user-ci", CreatedAt: at, UpdatedAt: at.Add(time.Hour),
		Version: 7, EngagementID: "eng-1", ImportBatch: "batch-1",
		Proposal: &models.NeedProposal{Source: models.ProposalAssessment, Reason: models.ReasonAssessmentGap,
			Refs: []string{"a", "b"}, AssessmentID: "as-1", ProposedAt: at.Add(-time.Hour)}}
	require.NoError(t, st.CreateNeed(ctx, full))
	// Old and odd dates, empty (not absent) lists and maps, an empty proposal.
	old := &models.Need{ID: "need-old-dates", Title: "x", CreatedAt: time.Date(1931, 3, 4, 5, 6, 7, 999_000_000, time.UTC),
		UpdatedAt: time.Date(2999, 1, 1, 0, 0, 0, 1_000_000, time.UTC), Modalities: []models.Modality{}, Languages: []string{},
		Translations: map[string]models.Translation{}, Proposal: &models.NeedProposal{}, BudgetUSD: -5, Version: 1}
	require.NoError(t, st.CreateNeed(ctx, old))
	// Almost nothing set: zero dates, nil lists and maps.
	require.NoError(t, st.CreateNeed(ctx, &models.Need{ID: "need-empty", Version: 1}))
	// Cleared by an update: the omitempty fields are $unset, the rest written empty.
	cleared := *full
	cleared.ID, cleared.Version = "need-cleared", 1
	require.NoError(t, st.CreateNeed(ctx, &cleared))
	cleared.StatusReason, cleared.EngagementID, cleared.Proposal, cleared.Translations, cleared.Modalities = "", "", nil, nil, nil
	cleared.Version = 2
	require.NoError(t, st.ReplaceNeed(ctx, &cleared, 1))

	offer := &models.Offer{ID: "offer-full", Title: odd, Description: "d", Lang: "en",
		Translations: map[string]models.Translation{"fr": {Title: "Titre", Description: "Desc"}},
		Themes:       []models.Theme{models.ThemeIncidentManagement}, Capabilities: []models.Capability{"cert_setup", "poc_readiness"},
		Modalities: []models.Modality{models.ModTraining}, Languages: []string{"en"}, EligibleCountries: []string{"CI", "SN"},
		EligibleRegions: []string{"002"}, BudgetUSD: 3_000_000_000, MaxEngagements: 3, AvailableFrom: "2026-01-01",
		AvailableUntil: "2028-12-31", Status: models.OfferOpen, StatusReason: "r", ContactName: "Desk",
		ContactEmail: "desk@example.org", OrganizationID: "donor-1", CreatedBy: "donor-user-1", CreatedAt: at, UpdatedAt: at, Version: 1}
	require.NoError(t, st.CreateOffer(ctx, offer))
	_, err := st.ReserveOfferSlot(ctx, "offer-full", "eng-1", 1_000, at)
	require.NoError(t, err)
	require.NoError(t, st.CreateOffer(ctx, &models.Offer{ID: "offer-empty", Version: 1}))
	cleared2 := *offer
	cleared2.ID = "offer-cleared"
	require.NoError(t, st.CreateOffer(ctx, &cleared2))
	cleared2.ContactName, cleared2.ContactEmail, cleared2.EligibleCountries, cleared2.Version = "", "", nil, 2
	require.NoError(t, st.ReplaceOffer(ctx, &cleared2, 1))

	// Written by an older build or another tool: no schema_version, a "gen" field this build
	// ignores, int32 where the driver writes int64 and the reverse, explicit nulls, fields
	// and nested fields this build does not know (of every BSON type FerretDB stores).
	needs := st.Database().Collection("needs")
	_, err = needs.InsertOne(ctx, bson.D{{Key: "_id", Value: "need-legacy"}, {Key: "title", Value: "legacy"},
		{Key: "budget_usd", Value: int32(1500)}, {Key: "duration_months", Value: int64(7)}, {Key: "gen", Value: int64(42)},
		{Key: "maturity", Value: bson.D{{Key: "framework", Value: "cmm"}, {Key: "current", Value: int64(2)}, {Key: "extra", Value: "x"}}},
		{Key: "modalities", Value: nil}, {Key: "languages", Value: bson.A{"fr", nil}}, {Key: "translations", Value: nil},
		{Key: "proposal", Value: nil}, {Key: "status_reason", Value: nil}, {Key: "created_at", Value: nil},
		{Key: "updated_at", Value: bson.NewDateTimeFromTime(at)}, {Key: "version", Value: int32(3)},
		{Key: "unknown_doc", Value: bson.D{{Key: "a", Value: bson.A{1.5, true, bson.NewObjectID(), bson.Regex{Pattern: "^a", Options: "i"}}}}},
		{Key: "unknown_bin", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2}}}, {Key: "unknown_ts", Value: bson.Timestamp{T: 5, I: 1}},
		{Key: "unknown_double", Value: 2.5}, {Key: "unknown_null", Value: nil}})
	require.NoError(t, err)
	// A double in an integer field: the driver takes it (integral), the file reader reads this
	// document through FerretDB.
	_, err = needs.InsertOne(ctx, bson.D{{Key: "_id", Value: "need-double"}, {Key: "budget_usd", Value: 2500.0}, {Key: "version", Value: int64(1)}})
	require.NoError(t, err)
	_, err = st.Database().Collection("offers").InsertOne(ctx, bson.D{{Key: "_id", Value: "offer-legacy"},
		{Key: "themes", Value: bson.A{}}, {Key: "max_engagements", Value: int64(2)}, {Key: "engagements_used", Value: int32(1)},
		{Key: "translations", Value: bson.D{{Key: "de", Value: bson.D{{Key: "title", Value: "T"}, {Key: "more", Value: 1}}}, {Key: "it", Value: nil}}},
		{Key: "reservations", Value: bson.A{"e1", "e2"}}, {Key: "version", Value: int64(5)}})
	require.NoError(t, err)
}

// TestMarketReaderDecodesLikeTheDriver: every need and offer read from FerretDB's file is
// deep-equal to what the store adapter reads through FerretDB and the driver, for documents
// with every field filled, with fields absent, cleared or null, and written by older builds;
// a document the reader does not decode itself (a double in an integer field) is read through
// FerretDB, and the rest from the file.
func TestMarketReaderDecodesLikeTheDriver(t *testing.T) {
	f, st := marketStore(t)
	seedMarket(t, st)
	var logs logBuffer
	r := NewMarketReader(f.Dir(), "capmatch", st, slog.New(slog.NewTextHandler(&logs, nil)))
	driverN, fileN, driverO, fileO := bothWays(t, st, r)
	require.Len(t, driverN, 6)
	require.Len(t, driverO, 4)
	assert.Equal(t, driverN, fileN)
	assert.Equal(t, driverO, fileO)
	for id := range driverN { // field by field, for a readable failure
		assert.True(t, reflect.DeepEqual(driverN[id], fileN[id]), "need %s:\n driver %+v\n file   %+v", id, driverN[id], fileN[id])
	}
	for id := range driverO {
		assert.True(t, reflect.DeepEqual(driverO[id], fileO[id]), "offer %s:\n driver %+v\n file   %+v", id, driverO[id], fileO[id])
	}
	assert.Contains(t, logs.String(), "needs read from the embedded store's file")
	assert.Contains(t, logs.String(), "documents=5 read_one_by_one=1", "the need with a double is read through FerretDB, the others from the file")
	assert.Contains(t, logs.String(), "offers read from the embedded store's file")
	assert.Contains(t, logs.String(), "documents=4 read_one_by_one=0")
	assert.NotContains(t, logs.String(), "not from its file")

	// known: what the caller holds is skipped, and only that.
	var got []string
	require.NoError(t, r.EachNeed(context.Background(), func(id string, _ int64) bool { return id != "need-full" }, func(n *models.Need) error {
		got = append(got, n.ID)
		return nil
	}))
	assert.Equal(t, []string{"need-full"}, got)
}

// TestMarketReaderFallsBack: when the file is not what it knows (no such database; a
// collection missing from FerretDB's catalogue; more documents it cannot decode than it reads
// one by one), the reader says so and reads through FerretDB, passing each document on once.
func TestMarketReaderFallsBack(t *testing.T) {
	f, st := marketStore(t)
	seedMarket(t, st)

	var logs logBuffer
	r := NewMarketReader(filepath.Join(f.Dir(), "elsewhere"), "capmatch", st, slog.New(slog.NewTextHandler(&logs, nil)))
	driverN, fileN, driverO, fileO := bothWays(t, st, r)
	assert.Equal(t, driverN, fileN)
	assert.Equal(t, driverO, fileO)
	assert.Contains(t, logs.String(), "reading needs through FerretDB, not from its file")
	assert.Contains(t, logs.String(), "reading offers through FerretDB, not from its file")

	// The rest of a collection through FerretDB once a document is not decoded here and
	// reading one by one is used up: each document still passed on once.
	defer func(n int) { maxOneByOne = n }(maxOneByOne)
	maxOneByOne = 0
	logs = logBuffer{}
	r = NewMarketReader(f.Dir(), "capmatch", st, slog.New(slog.NewTextHandler(&logs, nil)))
	driverN, fileN, _, _ = bothWays(t, st, r)
	assert.Equal(t, driverN, fileN)
	assert.Contains(t, logs.String(), "reading the rest through FerretDB")

	// A collection FerretDB's catalogue does not list.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.Dir(), "capmatch.sqlite"))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE _ferretdb_collections SET name = 'offers_renamed' WHERE name = 'offers'`)
	require.NoError(t, err)
	logs = logBuffer{}
	var n int
	require.NoError(t, r.EachOffer(context.Background(), nil, func(*models.Offer) error { n++; return nil }))
	assert.Contains(t, logs.String(), "reading offers through FerretDB, not from its file")
}

// TestMarketReaderNeverReturnsAWrongObject: a document whose schema holds a type FerretDB
// 1.24 does not have (as a later FerretDB might write) is not decoded from the file; FerretDB
// cannot read it either, so the read fails instead of passing on a wrong need.
func TestMarketReaderNeverReturnsAWrongObject(t *testing.T) {
	f, st := marketStore(t)
	ctx := context.Background()
	require.NoError(t, st.CreateNeed(ctx, &models.Need{ID: "n1", Title: "one", BudgetUSD: 5, Version: 1}))
	require.NoError(t, st.CreateNeed(ctx, &models.Need{ID: "n2", Title: "two", BudgetUSD: 6, Version: 1}))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.Dir(), "capmatch.sqlite"))
	require.NoError(t, err)
	defer db.Close()
	var table string
	require.NoError(t, db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'needs'`).Scan(&table))
	res, err := db.Exec(fmt.Sprintf(`UPDATE "%s" SET _ferretdb_sjson = replace(_ferretdb_sjson, '"budget_usd":{"t":"long"}', '"budget_usd":{"t":"decimal128"}') WHERE _ferretdb_sjson->>'$._id' = 'n2'`, table))
	require.NoError(t, err)
	changed, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, changed)

	var logs logBuffer
	r := NewMarketReader(f.Dir(), "capmatch", st, slog.New(slog.NewTextHandler(&logs, nil)))
	var got []*models.Need
	err = r.EachNeed(ctx, nil, func(n *models.Need) error { got = append(got, n); return nil })
	require.Error(t, err, "FerretDB cannot read the document either")
	for _, n := range got {
		assert.Equal(t, "n1", n.ID, "only the need it decoded")
		assert.EqualValues(t, 5, n.BudgetUSD)
	}
	assert.Contains(t, logs.String(), `unknown type \"decimal128\"`)
}

// TestPlanRefusesWhatItDoesNotDecode: Go types the decoder does not decode exactly as the
// driver are refused before any document is read.
func TestPlanRefusesWhatItDoesNotDecode(t *testing.T) {
	for name, v := range map[string]any{
		"float": struct {
			F float64 `bson:"f"`
		}{},
		"no tag": struct{ F string }{},
		"inline": struct {
			F struct {
				G string `bson:"g"`
			} `bson:"f,inline"`
		}{},
		"bytes": struct {
			F []byte `bson:"f"`
		}{},
		"interface": struct {
			F any `bson:"f"`
		}{},
		"objectid": struct {
			F bson.ObjectID `bson:"f"`
		}{},
	} {
		_, err := planFor(reflect.TypeOf(v))
		assert.Error(t, err, name)
	}
	_, err := planFor(reflect.TypeOf(models.Need{}))
	assert.NoError(t, err)
	_, err = planFor(reflect.TypeOf(models.Offer{}))
	assert.NoError(t, err)
}
