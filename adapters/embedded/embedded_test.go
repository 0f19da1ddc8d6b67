package embedded

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

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

// TestRedisExpiresKeysInRealTime: the embedded Redis is what `go run ./cmd/capmatch` uses, so
// keys given a lifetime (sign-in failure counters, back-offs) must disappear when it runs out,
// as in a real Redis, and their remaining lifetime must shrink as time passes. miniredis on its
// own moves its clock only when told, so without the server's clock these keys lived until
// the process restarted (issue 12).
func TestRedisExpiresKeysInRealTime(t *testing.T) {
	r, err := StartRedis()
	require.NoError(t, err)
	defer r.Stop()
	opt, err := redis.ParseURL(r.URL())
	require.NoError(t, err)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "short", "v", 300*time.Millisecond).Err())
	require.NoError(t, c.Set(ctx, "long", "v", time.Hour).Err())
	require.NoError(t, c.Set(ctx, "counter", 1, 0).Err())
	require.NoError(t, c.PExpire(ctx, "counter", 400*time.Millisecond).Err())
	start := time.Now()
	assert.Eventually(t, func() bool { return c.Exists(ctx, "short", "counter").Val() == 0 }, 5*time.Second, 20*time.Millisecond,
		"keys with a lifetime expire")
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "not before their time")
	assert.Equal(t, int64(1), c.Exists(ctx, "long").Val(), "a key with time left stays")
	ttl := c.PTTL(ctx, "long").Val()
	assert.Less(t, ttl, time.Hour-200*time.Millisecond, "the remaining lifetime shrinks: %v", ttl)
	assert.Greater(t, ttl, 59*time.Minute)
}

// TestFerretDBSync: CAPMATCH_EMBEDDED_SYNC's values reach SQLite. With SyncNormal FerretDB
// opens its database files with the synchronous(normal) pragma (its debug log names the URI
// of each file it opens), and that URI really sets the pragma on a connection; the default
// (full) adds none, SQLite's default in WAL mode being FULL; any other value is refused.
func TestFerretDBSync(t *testing.T) {
	ctx := context.Background()
	start := func(sync string) string {
		var logged bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f, err := StartFerretDBWith(ctx, t.TempDir(), Config{Sync: sync}, logger)
		require.NoError(t, err)
		c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
		require.NoError(t, err)
		_, err = c.Database("capmatch").Collection("probe").InsertOne(ctx, bson.M{"_id": "x"})
		require.NoError(t, err)
		require.NoError(t, c.Disconnect(ctx))
		f.Stop()
		m := regexp.MustCompile(`uri="(file:[^"]*/capmatch\.sqlite[^"]*)"`).FindStringSubmatch(logged.String())
		require.NotNil(t, m, "FerretDB logs the URI of the file it creates")
		return m[1]
	}
	pragma := func(uri string) int {
		db, err := sql.Open("sqlite", uri)
		require.NoError(t, err)
		defer db.Close()
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n))
		return n
	}
	normal := start(SyncNormal)
	assert.Contains(t, normal, "synchronous")
	assert.Equal(t, 1, pragma(normal), "NORMAL")
	full := start("")
	assert.NotContains(t, full, "synchronous")
	assert.Equal(t, 2, pragma(full), "FULL, SQLite's default")
	assert.NotContains(t, start(SyncFull), "synchronous")

	_, err := StartFerretDBWith(ctx, t.TempDir(), Config{Sync: "off"}, quiet)
	assert.ErrorContains(t, err, "sync")
}

// syncWriter serializes the writes of FerretDB's goroutines to a buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
