package mongostore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A country's assessments are one document appended to conditionally on its version: of two
// submissions that read the same list, exactly one is stored.
func TestAssessmentsAppendConditionally(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	items, v, err := s.ListAssessments(ctx, "SN")
	require.NoError(t, err)
	assert.Empty(t, items)
	assert.Zero(t, v)
	two := 2
	first := &models.Assessment{ID: "a1", Country: "SN", Questionnaire: models.CurrentQuestionnaire, Language: "fr",
		Answers:     []models.Answer{{Question: "cert_exists", Value: &two, Comment: "CERT-SN"}, {Question: "cert_sim3", Comment: "not assessed"}},
		SubmittedAt: time.Now().UTC().Truncate(time.Millisecond)}
	require.NoError(t, s.AppendAssessment(ctx, first, 0))
	assert.True(t, errors.Is(s.AppendAssessment(ctx, &models.Assessment{ID: "a0", Country: "SN"}, 0), models.ErrConflict))

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.AppendAssessment(ctx, &models.Assessment{ID: "b", Country: "SN", Supersedes: "a1"}, 1)
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.True(t, errors.Is(err, models.ErrConflict), "%v", err)
		}
	}
	assert.Equal(t, 1, ok, "one of the racing submissions wins")
	items, v, err = s.ListAssessments(ctx, "SN")
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	require.Len(t, items, 2)
	assert.Equal(t, "a1", items[0].ID)
	assert.Equal(t, 2, *items[0].Answers[0].Value)
	assert.Nil(t, items[0].Answers[1].Value, "a comment without an answer stays unanswered")
	assert.True(t, items[0].SubmittedAt.Equal(first.SubmittedAt))
	assert.Equal(t, "a1", items[1].Supersedes)
}

func TestCountrySourcesReplaceByVersion(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	src := models.CountrySource{ID: "s1", Kind: models.SourceStrategy, Title: "Stratégie", URL: "https://example.sn/s.pdf", Language: "fr", Version: 1}
	require.NoError(t, s.PutCountrySources(ctx, "SN", []models.CountrySource{src}, 0))
	assert.True(t, errors.Is(s.PutCountrySources(ctx, "SN", nil, 0), models.ErrConflict))
	require.NoError(t, s.PutCountrySources(ctx, "SN", nil, 1))
	assert.True(t, errors.Is(s.PutCountrySources(ctx, "SN", nil, 1), models.ErrConflict), "stale")
	items, v, err := s.ListCountrySources(ctx, "SN")
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	assert.Empty(t, items)
	_, v, err = s.ListCountrySources(ctx, "FJ")
	require.NoError(t, err)
	assert.Zero(t, v)
}
