package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// plan returns SQLite's plan for the lookup FerretDB runs for a find or update by _id.
func plan(t testing.TB, dir, db, collection string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, db+".sqlite"))
	require.NoError(t, err)
	defer conn.Close()
	var table string
	require.NoError(t, conn.QueryRow("SELECT table_name FROM _ferretdb_collections WHERE name = ?", collection).Scan(&table))
	rows, err := conn.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "%s" WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		out = append(out, detail)
	}
	return strings.Join(out, "; ")
}

// TestIndexIDsMakesLookupsByIDUseAnIndex pins the FerretDB 1.24 bug IndexIDs works around
// (a lookup by _id scans the table) and that after IndexIDs SQLite uses an index for it,
// while finds and updates by _id still return the right documents.
func TestIndexIDsMakesLookupsByIDUseAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := StartFerretDB(ctx, dir, quiet)
	require.NoError(t, err)
	defer f.Stop()
	c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
	require.NoError(t, err)
	defer c.Disconnect(ctx)
	coll := c.Database("capmatch").Collection("engagements")
	for i := range 50 {
		_, err := coll.InsertOne(ctx, bson.M{"_id": fmt.Sprintf("eng-%03d", i), "n": i})
		require.NoError(t, err)
	}
	_, err = c.Database("capmatch").Collection("needs").InsertOne(ctx, bson.M{"_id": "need-1"})
	require.NoError(t, err)

	assert.Contains(t, plan(t, dir, "capmatch", "engagements"), "SCAN", "FerretDB 1.24 scans for _id; if this fails, the bug is fixed and IndexIDs can go")

	n, err := f.IndexIDs(ctx, "capmatch")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one index per collection")
	p := plan(t, dir, "capmatch", "engagements")
	assert.Contains(t, p, "USING INDEX")
	assert.Contains(t, p, "_capmatch_id")
	n, err = f.IndexIDs(ctx, "capmatch")
	require.NoError(t, err)
	assert.Zero(t, n, "idempotent")

	var got bson.M
	require.NoError(t, coll.FindOne(ctx, bson.M{"_id": "eng-042"}).Decode(&got))
	assert.EqualValues(t, 42, got["n"])
	res, err := coll.UpdateOne(ctx, bson.M{"_id": "eng-007"}, bson.M{"$set": bson.M{"n": 700}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.MatchedCount)
	require.NoError(t, coll.FindOne(ctx, bson.M{"_id": "eng-007"}).Decode(&got))
	assert.EqualValues(t, 700, got["n"])
	_, err = coll.InsertOne(ctx, bson.M{"_id": "eng-007"})
	assert.True(t, mongo.IsDuplicateKeyError(err), "FerretDB's own unique _id index still holds: %v", err)

	_, err = f.IndexIDs(ctx, "no such db")
	assert.Error(t, err)
}

// BenchmarkFindByID measures a find by _id through FerretDB in a collection of 3,000
// documents, with and without IndexIDs:
//
//	go test -run '^$' -bench FindByID ./adapters/embedded/
func BenchmarkFindByID(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(fmt.Sprintf("indexed=%v", indexed), func(b *testing.B) {
			ctx := context.Background()
			f, err := StartFerretDB(ctx, b.TempDir(), quiet)
			require.NoError(b, err)
			defer f.Stop()
			c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
			require.NoError(b, err)
			defer c.Disconnect(ctx)
			coll := c.Database("capmatch").Collection("engagements")
			docs := make([]any, 3000)
			for i := range docs {
				docs[i] = bson.M{"_id": fmt.Sprintf("eng-%05d", i), "need_id": "need", "offer_id": "offer", "status": "agreed",
					"messages": bson.A{bson.M{"text": strings.Repeat("a message ", 20)}}}
			}
			_, err = coll.InsertMany(ctx, docs)
			require.NoError(b, err)
			if indexed {
				_, err := f.IndexIDs(ctx, "capmatch")
				require.NoError(b, err)
			}
			i := 0
			for b.Loop() {
				var got bson.M
				if err := coll.FindOne(ctx, bson.M{"_id": fmt.Sprintf("eng-%05d", (i*7919)%3000)}).Decode(&got); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
