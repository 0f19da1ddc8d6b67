package service_test

import (
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAConflictRefreshesWhatTheReplicaHolds: a write can land in the store without this replica
// hearing of it (the store applied it and died before answering, or its writer crashed before
// announcing it on the change log). A versioned edit then meets the store's newer version and
// answers 409 "reload it": the reload must show the store's version, not the replica's stale copy
// again, or the user can never make the edit (found by TestStoreKilledWithWritesInFlight: a donor
// got 409 eighteen times in a row). Needs and offers alike.
func TestAConflictRefreshesWhatTheReplicaHolds(t *testing.T) {
	w := newWorld(t)
	o := w.openOffer(w.donor, "Programme")
	n, err := w.app.Needs.Create(w.ctx, w.sn, needInput("Need")) // a draft: its ministry may edit it
	require.NoError(t, err)

	// Behind the replica's back: the store moves on a version.
	so, err := w.s.Store.GetOffer(w.ctx, o.ID)
	require.NoError(t, err)
	so.Title, so.Version = "Changed elsewhere", so.Version+1
	require.NoError(t, w.s.Store.ReplaceOffer(w.ctx, so, so.Version-1))
	sn, err := w.s.Store.GetNeed(w.ctx, n.ID)
	require.NoError(t, err)
	sn.Title, sn.Version = "Changed elsewhere", sn.Version+1
	require.NoError(t, w.s.Store.ReplaceNeed(w.ctx, sn, sn.Version-1))

	title := "Edited"
	stale := o.Version
	_, err = w.app.Offers.Patch(w.ctx, w.donor, o.ID, service.OfferPatch{Title: &title}, &stale)
	require.ErrorIs(t, err, models.ErrConflict)
	got, err := w.app.Offers.Get(w.ctx, w.donor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, so.Version, got.Version, "after a 409 the offer reads at the store's version")
	assert.Equal(t, "Changed elsewhere", got.Title)
	v := got.Version
	_, err = w.app.Offers.Patch(w.ctx, w.donor, o.ID, service.OfferPatch{Title: &title}, &v)
	require.NoError(t, err, "an edit made with the version read after the 409 succeeds")

	staleN := n.Version
	_, err = w.app.Needs.Patch(w.ctx, w.sn, n.ID, service.NeedPatch{Title: &title}, &staleN)
	require.ErrorIs(t, err, models.ErrConflict)
	gotN, err := w.app.Needs.Get(w.ctx, w.sn, n.ID)
	require.NoError(t, err)
	assert.Equal(t, sn.Version, gotN.Version, "after a 409 the need reads at the store's version")
}
