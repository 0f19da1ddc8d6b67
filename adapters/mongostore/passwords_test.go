package mongostore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPasswordResetIsUsedOnce: of concurrent uses of one reset link exactly one succeeds;
// a wrong hash, an expired link and a replaced link are refused.
func TestPasswordResetIsUsedOnce(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, s.PutPasswordReset(ctx, &models.PasswordReset{UserID: "u1", Hash: "h1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	_, err := s.UsePasswordReset(ctx, "u1", "wrong", now)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = s.UsePasswordReset(ctx, "u1", "h1", now.Add(2*time.Hour))
	assert.ErrorIs(t, err, models.ErrNotFound, "expired")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UsePasswordReset(ctx, "u1", "h1", now); err == nil {
				wins.Add(1)
			} else {
				assert.ErrorIs(t, err, models.ErrNotFound)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())

	// A new link replaces the old one.
	require.NoError(t, s.PutPasswordReset(ctx, &models.PasswordReset{UserID: "u1", Hash: "h2", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	_, err = s.UsePasswordReset(ctx, "u1", "h1", now)
	assert.ErrorIs(t, err, models.ErrNotFound)
	r, err := s.GetPasswordReset(ctx, "u1")
	require.NoError(t, err)
	assert.Nil(t, r.UsedAt)
	require.NoError(t, s.DeletePasswordReset(ctx, "u1"))
	_, err = s.GetPasswordReset(ctx, "u1")
	assert.ErrorIs(t, err, models.ErrNotFound)
}

// TestSetUserPasswordIsConditional: a password write names the version it read; a stale one
// is a conflict and changes nothing.
func TestSetUserPasswordIsConditional(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, s.CreateUser(ctx, &models.User{ID: "u1", Email: "a@b.example", EmailKey: "a@b.example", PasswordHash: "old",
		MustChangePassword: true, Version: 1, CreatedAt: now}))
	u, err := s.SetUserPassword(ctx, "u1", 1, "new", false, now)
	require.NoError(t, err)
	assert.Equal(t, int64(2), u.Version)
	assert.False(t, u.MustChangePassword)
	_, err = s.SetUserPassword(ctx, "u1", 1, "stale", true, now)
	assert.ErrorIs(t, err, models.ErrConflict)
	got, err := s.GetUser(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "new", got.PasswordHash)
	_, err = s.SetUserPassword(ctx, "nobody", 1, "x", false, now)
	assert.ErrorIs(t, err, models.ErrNotFound)
}
