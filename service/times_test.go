package service

import (
	"context"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportedRowTimesAreStoredMilliseconds: imported rows get distinct, increasing creation
// times that the store keeps as they are (whole milliseconds), the last row at the import's
// time, even when the clock has nanoseconds.
func TestImportedRowTimesAreStoredMilliseconds(t *testing.T) {
	w := newImportWorld(t)
	w.now = time.Date(2026, 11, 23, 9, 0, 0, 123_456_789, time.UTC)
	res, err := w.app.ImportNeeds(context.Background(), w.coord, w.needRows(3), models.NeedSubmitted)
	require.NoError(t, err)
	var prev time.Time
	for i, id := range res.IDs {
		n, ok := w.app.model.Need(id)
		require.True(t, ok)
		assert.Equal(t, models.StoredTime(n.CreatedAt), n.CreatedAt, "row %d: %v is a whole millisecond", i, n.CreatedAt)
		assert.True(t, n.CreatedAt.After(prev), "row %d: increasing", i)
		prev = n.CreatedAt
	}
	assert.Equal(t, time.Date(2026, 11, 23, 9, 0, 0, 123_000_000, time.UTC), prev, "the last row at the import's time")
}
