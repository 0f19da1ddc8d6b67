package mongostore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/mongostore"
	"github.com/capmatch/capmatch/models/mongostore/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
