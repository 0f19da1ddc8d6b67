package mongostore_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExternalRowsByBatch: the rows of IATI imports are listed by batch, a batch that did not
// commit is deleted by its tag (roll-back and recovery: ImportKindExternal lists no row ids),
// and the rows a newer batch superseded are deleted for its keys only.
func TestExternalRowsByBatch(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	older, newer, other := models.NewID(now), models.NewID(now.Add(time.Millisecond)), models.NewID(now.Add(2*time.Millisecond))
	row := func(identifier, batch string) *models.ExternalActivity {
		k := models.ExternalKey(identifier)
		return &models.ExternalActivity{RowID: k + "-" + batch, Key: k, IATIIdentifier: identifier, ImportBatch: batch, Title: identifier,
			Countries: []models.ExternalCountry{{Code: "SN", Percentage: 100}}, ImportedAt: now}
	}
	require.NoError(t, s.InsertExternalActivities(ctx, []*models.ExternalActivity{row("A-1", older), row("A-2", older)}))
	require.NoError(t, s.InsertExternalActivities(ctx, []*models.ExternalActivity{row("A-1", newer)}))
	require.NoError(t, s.InsertExternalActivities(ctx, []*models.ExternalActivity{row("B-1", other)}))
	ids := func(batch string) []string {
		rows, err := s.ListExternalActivities(ctx, batch)
		require.NoError(t, err)
		var out []string
		for _, r := range rows {
			out = append(out, r.IATIIdentifier+"@"+map[string]string{older: "older", newer: "newer", other: "other"}[r.ImportBatch])
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, []string{"A-1@older", "A-2@older"}, ids(older))
	assert.Equal(t, []string{"A-1@newer", "A-1@older", "A-2@older", "B-1@other"}, ids(""))

	require.NoError(t, s.DeleteExternalRowsBefore(ctx, []string{models.ExternalKey("A-1")}, newer))
	assert.Equal(t, []string{"A-1@newer", "A-2@older", "B-1@other"}, ids(""), "only the superseded row of A-1")

	require.NoError(t, s.DeleteImported(ctx, &models.ImportBatch{ID: other, Kind: models.ImportKindExternal}))
	assert.Equal(t, []string{"A-1@newer", "A-2@older"}, ids(""))
	got, err := s.ListExternalActivities(ctx, newer)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []models.ExternalCountry{{Code: "SN", Percentage: 100}}, got[0].Countries, "rows round-trip")
}
