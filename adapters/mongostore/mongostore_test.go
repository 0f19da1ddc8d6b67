package mongostore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(storeChild()) // a store process of multiprocess_test.go
	}
	os.Exit(storetest.Main(m))
}

func TestOpenIsIdempotentAndPings(t *testing.T) {
	name := storetest.NewDBName()
	s1 := storetest.OpenDB(t, name)
	require.NoError(t, s1.Ping(context.Background()))
	// A second start on the same database re-creates the indexes without error.
	s2 := storetest.OpenDB(t, name)
	require.NoError(t, s2.Ping(context.Background()))
	assert.False(t, s1.ReplicaSet(), "FerretDB is not a replica set")
}

func TestUnreachableStoreIsUnavailable(t *testing.T) {
	start := time.Now()
	_, err := mongostore.Open(context.Background(), "mongodb://127.0.0.1:1/", "x",
		mongostore.Options{ServerSelectionTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.Error(t, err)
	assert.True(t, errors.Is(err, models.ErrUnavailable), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second, "bounded by the server selection timeout")
}

// TestIndexesForAuditAndRevocations: the unfiltered audit listing has an index in its sort
// order; revocations expire on their own (a TTL index on MongoDB; FerretDB, which has no TTL
// indexes, prunes expired ones at each start).
func TestIndexesForAuditAndRevocations(t *testing.T) {
	ctx := context.Background()
	name := storetest.NewDBName()
	s := storetest.OpenDB(t, name)

	keysOf := func(coll string) map[string]bson.M {
		cur, err := s.Database().Collection(coll).Indexes().List(ctx)
		require.NoError(t, err)
		var specs []bson.M
		require.NoError(t, cur.All(ctx, &specs))
		out := map[string]bson.M{}
		for _, sp := range specs {
			out[sp["name"].(string)] = sp
		}
		return out
	}
	audit := keysOf("audit")
	require.Contains(t, audit, "at_id")
	assert.Equal(t, bson.D{{Key: "at", Value: int32(-1)}, {Key: "_id", Value: int32(-1)}}, toD(t, audit["at_id"]["key"]))

	now := time.Now().UTC().Truncate(time.Millisecond)
	require.NoError(t, s.PutRevocation(ctx, models.Revocation{ID: "jti:old", Reason: "logout", At: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}))
	require.NoError(t, s.PutRevocation(ctx, models.Revocation{ID: "jti:live", Reason: "logout", At: now, ExpiresAt: now.Add(time.Hour)}))
	if s.ConditionalWrites() == "mongodb" {
		rev := keysOf("revocations")
		require.Contains(t, rev, "expires_at_1")
		assert.EqualValues(t, 0, rev["expires_at_1"]["expireAfterSeconds"], "a TTL index: MongoDB deletes a revocation once its token has expired")
		return
	}
	// FerretDB: the next start prunes.
	storetest.OpenDB(t, name)
	_, err := s.GetRevocation(ctx, "jti:old")
	assert.ErrorIs(t, err, models.ErrNotFound, "an expired revocation is pruned at start")
	_, err = s.GetRevocation(ctx, "jti:live")
	assert.NoError(t, err, "a live revocation stays")
}

func toD(t *testing.T, v any) bson.D {
	t.Helper()
	raw, err := bson.Marshal(v)
	require.NoError(t, err)
	var d bson.D
	require.NoError(t, bson.Unmarshal(raw, &d))
	return d
}

// TestNoTransactionsOnFerretDB: the embedded FerretDB is detected as a store without
// transactions, and InTransaction refuses to run rather than run fn without atomicity (the use
// cases then keep their protocols under a lease).
func TestNoTransactionsOnFerretDB(t *testing.T) {
	s := storetest.OpenDB(t, storetest.NewDBName())
	var tx models.Transactor = s
	assert.False(t, tx.Transactions(), "FerretDB has no multi-document transactions")
	ran := false
	err := tx.InTransaction(context.Background(), func(context.Context) error { ran = true; return nil })
	require.Error(t, err)
	assert.False(t, ran, "fn is not run without a transaction")
}

// TestEmbeddedWritesQueueAndAllLand: on FerretDB reached directly with EmbeddedSQLite, write
// commands queue in the process (WritesQueued), and many concurrent writers are all
// acknowledged and all stored; the queue is never set up behind the write proxy or without
// the option.
func TestEmbeddedWritesQueueAndAllLand(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(uri string, embedded bool) *mongostore.Store {
		s, err := mongostore.Open(ctx, uri, storetest.NewDBName(), mongostore.Options{Logger: quiet, EmbeddedSQLite: embedded})
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = s.Database().Drop(context.Background())
			_ = s.Close(context.Background())
		})
		return s
	}
	if storetest.DirectURI() == "" {
		// Against MongoDB (CAPMATCH_TEST_MONGO_URI): asked for or not, the queue is never set up,
		// since the server does not say it is FerretDB.
		assert.False(t, open(storetest.URI(), true).WritesQueued(), "never on MongoDB")
		return
	}
	assert.False(t, open(storetest.DirectURI(), false).WritesQueued(), "not asked for")
	assert.False(t, open(storetest.ProxyURI(), true).WritesQueued(), "behind the write proxy, which has its own locks")
	s := open(storetest.DirectURI(), true)
	require.True(t, s.WritesQueued())

	const writers = 24
	now := time.Now().UTC()
	errs := make(chan error, 2*writers)
	for i := range writers {
		go func() {
			n := &models.Need{ID: models.NewID(now), Title: "queued", Country: "KE", Version: 1, CreatedAt: now, UpdatedAt: now}
			err := s.CreateNeed(ctx, n)
			errs <- err
			if err == nil {
				err = s.AppendAudit(ctx, &models.AuditEntry{ID: models.NewID(now), At: now, Action: "create", ObjectType: "need", ObjectID: n.ID, ActorID: string(rune('a' + i))})
			}
			errs <- err
		}()
	}
	for range 2 * writers {
		require.NoError(t, <-errs)
	}
	needs, err := s.ListNeeds(ctx)
	require.NoError(t, err)
	assert.Len(t, needs, writers, "every acknowledged need is stored")
	entries, err := s.ListAudit(ctx, "", 2*writers)
	require.NoError(t, err)
	assert.Len(t, entries, writers, "every acknowledged audit entry is stored")
}
