package mongostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openOffer(id string, slots int, budget int64) *models.Offer {
	return &models.Offer{ID: id, Title: "Offer", Status: models.OfferOpen, MaxEngagements: slots, BudgetUSD: budget,
		Themes: []models.Theme{models.ThemeIncidentManagement}, Version: 1, CreatedAt: time.Now().UTC()}
}

// TestReserveNeverOverbooks runs 20 concurrent reservations on an offer with 3 slots against
// the real store: exactly 3 succeed, the counters agree, and retries change nothing.
func TestReserveNeverOverbooks(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	require.NoError(t, s.CreateOffer(ctx, openOffer("o1", 3, 1_000_000)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := []string{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			eng := fmt.Sprintf("e%02d", i)
			if _, err := s.ReserveOfferSlot(ctx, "o1", eng, 100_000, time.Now()); err == nil {
				mu.Lock()
				won = append(won, eng)
				mu.Unlock()
			} else {
				assert.ErrorIs(t, err, models.ErrConflict)
			}
		}(i)
	}
	wg.Wait()
	require.Len(t, won, 3)
	o, err := s.GetOffer(ctx, "o1")
	require.NoError(t, err)
	assert.Equal(t, 3, o.EngagementsUsed)
	assert.EqualValues(t, 300_000, o.BudgetCommitted)
	assert.ElementsMatch(t, won, o.Reservations)

	// A retried reservation of a winner is a no-op, not a fourth booking.
	again, err := s.ReserveOfferSlot(ctx, "o1", won[0], 100_000, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 3, again.EngagementsUsed)

	closed, ok, err := s.CloseFullOffer(ctx, "o1", time.Now())
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, models.OfferClosed, closed.Status)

	rel, err := s.ReleaseOfferSlot(ctx, "o1", won[0], 100_000, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 2, rel.EngagementsUsed)
	rel, err = s.ReleaseOfferSlot(ctx, "o1", won[0], 100_000, time.Now())
	require.NoError(t, err)
	assert.Equal(t, 2, rel.EngagementsUsed, "releasing twice changes nothing")
}

func TestReserveChecksBudgetAndStatus(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	require.NoError(t, s.CreateOffer(ctx, openOffer("o2", 5, 150_000)))
	_, err := s.ReserveOfferSlot(ctx, "o2", "e1", 100_000, time.Now())
	require.NoError(t, err)
	_, err = s.ReserveOfferSlot(ctx, "o2", "e2", 100_000, time.Now())
	assert.ErrorIs(t, err, models.ErrConflict, "only 50,000 left")
	d := openOffer("o3", 5, 150_000)
	d.Status = models.OfferDraft
	require.NoError(t, s.CreateOffer(ctx, d))
	_, err = s.ReserveOfferSlot(ctx, "o3", "e1", 1, time.Now())
	assert.ErrorIs(t, err, models.ErrConflict, "drafts take no engagements")
}

// TestReplaceOfferKeepsCounters: a content edit never overwrites the capacity counters.
func TestReplaceOfferKeepsCounters(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	require.NoError(t, s.CreateOffer(ctx, openOffer("o4", 5, 1_000_000)))
	after, err := s.ReserveOfferSlot(ctx, "o4", "e1", 200_000, time.Now())
	require.NoError(t, err)
	edit := *after
	edit.Title = "Renamed"
	edit.EngagementsUsed, edit.BudgetCommitted, edit.Reservations = 0, 0, nil
	edit.Version = after.Version + 1
	require.NoError(t, s.ReplaceOffer(ctx, &edit, after.Version))
	got, err := s.GetOffer(ctx, "o4")
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.Title)
	assert.Equal(t, 1, got.EngagementsUsed)
	assert.EqualValues(t, 200_000, got.BudgetCommitted)
	assert.Equal(t, []string{"e1"}, got.Reservations)
	assert.ErrorIs(t, s.ReplaceOffer(ctx, &edit, after.Version), models.ErrConflict, "stale version")
}

// TestVersionedReplaceHasOneWinner: of concurrent writers that read the same version, exactly
// one stores its change (on FerretDB through the in-process document lock).
func TestVersionedReplaceHasOneWinner(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	if storetest.URI() != "" && !s.Serialized() {
		t.Log("running against MongoDB: atomic conditional updates")
	}
	n := &models.Need{ID: "n1", Title: "v1", Version: 1}
	require.NoError(t, s.CreateNeed(ctx, n))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			next := &models.Need{ID: "n1", Title: fmt.Sprintf("writer %d", i), Version: 2}
			if err := s.ReplaceNeed(ctx, next, 1); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else {
				assert.ErrorIs(t, err, models.ErrConflict)
			}
		}(i)
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	got, err := s.GetNeed(ctx, "n1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, got.Version)
}

// TestTranslationsRoundTrip: a need's and an offer's language and translations are stored and
// read back as written, and removing every translation (or the language) removes them from the
// store too, also through ReplaceOffer's $set of the content fields.
func TestTranslationsRoundTrip(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	tr := map[string]models.Translation{"fr": {Title: "Offre", Description: "Deux ans"}, "ar": {Title: "عرض"}, "zh": {Title: "援助"}}
	o := openOffer("o-tr", 2, 100_000)
	o.Lang, o.Translations = "en", tr
	require.NoError(t, s.CreateOffer(ctx, o))
	got, err := s.GetOffer(ctx, "o-tr")
	require.NoError(t, err)
	assert.Equal(t, "en", got.Lang)
	assert.Equal(t, tr, got.Translations)
	edit := *got
	edit.Lang, edit.Translations, edit.Version = "", nil, got.Version+1
	require.NoError(t, s.ReplaceOffer(ctx, &edit, got.Version))
	got, err = s.GetOffer(ctx, "o-tr")
	require.NoError(t, err)
	assert.Empty(t, got.Lang)
	assert.Empty(t, got.Translations, "removed translations are removed from the store")

	n := &models.Need{ID: "n-tr", Title: "Need", Country: "SN", Status: models.NeedOpen, Version: 1, CreatedAt: time.Now().UTC(),
		Lang: "fr", Translations: map[string]models.Translation{"ru": {Title: "Потребность", Description: "Описание"}}}
	require.NoError(t, s.CreateNeed(ctx, n))
	gn, err := s.GetNeed(ctx, "n-tr")
	require.NoError(t, err)
	assert.Equal(t, n.Translations, gn.Translations)
	assert.Equal(t, "fr", gn.Lang)
	ed := *gn
	ed.Translations, ed.Version = map[string]models.Translation{"es": {Title: "Necesidad"}}, gn.Version+1
	require.NoError(t, s.ReplaceNeed(ctx, &ed, gn.Version))
	gn, err = s.GetNeed(ctx, "n-tr")
	require.NoError(t, err)
	assert.Equal(t, map[string]models.Translation{"es": {Title: "Necesidad"}}, gn.Translations)
}
