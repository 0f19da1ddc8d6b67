package mongostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEachStreamsAndSkipsKnownDocuments: EachNeed and EachOffer hand every stored document to
// the callback once, decoded, except those the caller says it holds at that version (or a
// newer one), which it reads only the _id and version of; an error of the callback stops the
// stream and is returned.
func TestEachStreamsAndSkipsKnownDocuments(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenDB(t, storetest.NewDBName())
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var needs []*models.Need
	var offers []*models.Offer
	for i := range 250 {
		needs = append(needs, &models.Need{ID: fmt.Sprintf("n%03d", i), Title: "need", Description: "Côte d'Ivoire", Country: "CI",
			Status: models.NeedOpen, CreatedAt: at, Version: int64(1 + i%3)})
		offers = append(offers, &models.Offer{ID: fmt.Sprintf("o%03d", i), Title: "offer", Status: models.OfferOpen,
			Reservations: []string{"e1"}, CreatedAt: at, Version: int64(1 + i%2)})
	}
	require.NoError(t, s.InsertNeeds(ctx, needs))
	require.NoError(t, s.InsertOffers(ctx, offers))

	held := map[string]int64{"n000": 1, "n001": 1, "n002": 5} // n000 as stored, n001 older, n002 newer
	var asked []string
	got := map[string]*models.Need{}
	err := s.EachNeed(ctx, func(id string, v int64) bool {
		asked = append(asked, id)
		h, ok := held[id]
		return ok && h >= v
	}, func(n *models.Need) error {
		got[n.ID] = n
		return nil
	})
	require.NoError(t, err)
	assert.Len(t, asked, len(needs), "every document's id and version are read")
	assert.Len(t, got, len(needs)-2, "n000 and n002 are held: not decoded")
	assert.NotContains(t, got, "n000")
	assert.NotContains(t, got, "n002")
	require.Contains(t, got, "n001")
	assert.Equal(t, int64(2), got["n001"].Version)
	assert.Equal(t, "Côte d'Ivoire", got["n001"].Description)

	count := 0
	err = s.EachOffer(ctx, nil, func(o *models.Offer) error {
		count++
		assert.Equal(t, []string{"e1"}, o.Reservations, "decoded whole")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, len(offers), count)

	stop := fmt.Errorf("stop")
	count = 0
	err = s.EachOffer(ctx, nil, func(*models.Offer) error {
		count++
		if count == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 3, count)
}
