package embedded

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestFerretDBKeepsDataAcrossRestarts writes through the driver, stops the server, starts a
// new one on the same directory and reads the document back.
func TestFerretDBKeepsDataAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	write := func() {
		f, err := StartFerretDB(ctx, dir, quiet)
		require.NoError(t, err)
		defer f.Stop()
		c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
		require.NoError(t, err)
		defer c.Disconnect(ctx)
		_, err = c.Database("capmatch").Collection("probe").InsertOne(ctx, bson.M{"_id": "kept", "n": 42})
		require.NoError(t, err)
	}
	write()

	f, err := StartFerretDB(ctx, dir, quiet)
	require.NoError(t, err)
	defer f.Stop()
	c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	var got struct {
		N int `bson:"n"`
	}
	require.NoError(t, c.Database("capmatch").Collection("probe").FindOne(ctx, bson.M{"_id": "kept"}).Decode(&got))
	assert.Equal(t, 42, got.N)
}

func TestRedisStartsAndStops(t *testing.T) {
	r, err := StartRedis()
	require.NoError(t, err)
	opt, err := redis.ParseURL(r.URL())
	require.NoError(t, err)
	c := redis.NewClient(opt)
	defer c.Close()
	require.NoError(t, c.Set(context.Background(), "k", "v", 0).Err())
	assert.Equal(t, "v", c.Get(context.Background(), "k").Val())
	r.Stop()
	assert.Error(t, c.Ping(context.Background()).Err(), "stopped server refuses")
}
