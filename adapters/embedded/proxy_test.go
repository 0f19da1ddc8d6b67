package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ---- wire helpers for a hand-driven client and a fake backend ----

func opMsgBytes(t testing.TB, reqID, respTo int32, flags uint32, cmd bson.D) []byte {
	t.Helper()
	doc, err := bson.Marshal(cmd)
	require.NoError(t, err)
	b := make([]byte, headerLen+4, headerLen+4+1+len(doc))
	binary.LittleEndian.PutUint32(b[4:], uint32(reqID))
	binary.LittleEndian.PutUint32(b[8:], uint32(respTo))
	binary.LittleEndian.PutUint32(b[12:], opMsg)
	binary.LittleEndian.PutUint32(b[16:], flags)
	b = append(b, 0)
	b = append(b, doc...)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	return b
}

func reqIDOf(msg []byte) int32  { return int32(binary.LittleEndian.Uint32(msg[4:8])) }
func respToOf(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg[8:12])) }

// fakeBackend accepts the proxy's connections and hands every message it receives to the
// test, which answers when it chooses.
type fakeBackend struct {
	ln  net.Listener
	got chan received
}

type received struct {
	conn net.Conn
	msg  []byte
}

func startFakeBackend(t *testing.T) *fakeBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &fakeBackend{ln: ln, got: make(chan received, 64)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				for {
					m, err := readMessage(c)
					if err != nil {
						return
					}
					b.got <- received{c, m}
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return b
}

// next waits for the next message the backend receives.
func (b *fakeBackend) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-b.got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the backend received nothing within 5 s")
	}
	return received{}
}

// nothingFor asserts that the backend receives no message for d: the proxy is holding it.
func (b *fakeBackend) nothingFor(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case r := <-b.got:
		t.Fatalf("%s: the backend received %v while it should have been held", why, mustBody(t, r.msg))
	case <-time.After(d):
	}
}

func (b *fakeBackend) reply(t *testing.T, r received, doc bson.D) {
	t.Helper()
	_, err := r.conn.Write(opMsgBytes(t, 9000+reqIDOf(r.msg), reqIDOf(r.msg), 0, doc))
	require.NoError(t, err)
}

func mustBody(t *testing.T, msg []byte) bson.Raw {
	t.Helper()
	d, ok := msgBody(msg)
	require.True(t, ok)
	return d
}

func startProxy(t *testing.T, backend string) *WriteProxy {
	t.Helper()
	p, err := StartWriteProxy(context.Background(), "127.0.0.1:0", backend, quiet)
	require.NoError(t, err)
	t.Cleanup(p.Stop)
	return p
}

func dial(t *testing.T, p *WriteProxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func send(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	_, err := c.Write(msg)
	require.NoError(t, err)
}

func recv(t *testing.T, c net.Conn) []byte {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	m, err := readMessage(c)
	require.NoError(t, err)
	return m
}

func update(db, coll string) bson.D {
	return bson.D{{Key: "update", Value: coll}, {Key: "updates", Value: bson.A{}}, {Key: "$db", Value: db}}
}

const hold = 300 * time.Millisecond

// TestWriteProxyHoldsACollectionUntilTheReply: a second write to a collection is not forwarded
// until FerretDB has answered the first; a write to another collection and a read of the same
// one pass meanwhile.
func TestWriteProxyHoldsACollectionUntilTheReply(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	require.NotEqual(t, stripeOf("app.offers"), stripeOf("app.needs"), "the test needs two collections on different stripes")
	c1, c2, c3, c4 := dial(t, p), dial(t, p), dial(t, p), dial(t, p)

	send(t, c1, opMsgBytes(t, 1, 0, 0, update("app", "offers")))
	r1 := b.next(t)
	assert.Equal(t, int32(1), reqIDOf(r1.msg))

	send(t, c2, opMsgBytes(t, 2, 0, 0, update("app", "offers")))
	b.nothingFor(t, hold, "a second write to app.offers")

	send(t, c3, opMsgBytes(t, 3, 0, 0, update("app", "needs")))
	r3 := b.next(t)
	assert.Equal(t, int32(3), reqIDOf(r3.msg), "another collection is not held")
	send(t, c4, opMsgBytes(t, 4, 0, 0, bson.D{{Key: "find", Value: "offers"}, {Key: "$db", Value: "app"}}))
	r4 := b.next(t)
	assert.Equal(t, int32(4), reqIDOf(r4.msg), "reads are not held")

	b.reply(t, r1, bson.D{{Key: "ok", Value: 1}, {Key: "n", Value: 1}})
	assert.Equal(t, int32(1), respToOf(recv(t, c1)), "the reply reaches its client")
	r2 := b.next(t)
	assert.Equal(t, int32(2), reqIDOf(r2.msg), "the held write goes once the first is answered")
	for _, r := range []received{r2, r3, r4} {
		b.reply(t, r, bson.D{{Key: "ok", Value: 1}})
	}
	assert.Equal(t, int32(2), respToOf(recv(t, c2)))
	assert.Equal(t, int32(3), respToOf(recv(t, c3)))
	assert.Equal(t, int32(4), respToOf(recv(t, c4)))
}

// TestWriteProxyKeepsTheLockWhileAWriteOfAGoneClientRuns: a client that disconnects with a write
// in flight does not release the collection before FerretDB has applied that write.
func TestWriteProxyKeepsTheLockWhileAWriteOfAGoneClientRuns(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	c1, c2 := dial(t, p), dial(t, p)

	send(t, c1, opMsgBytes(t, 1, 0, 0, update("app", "offers")))
	r1 := b.next(t)
	require.NoError(t, c1.Close())
	send(t, c2, opMsgBytes(t, 2, 0, 0, update("app", "offers")))
	b.nothingFor(t, hold, "a write after a gone client's write still in flight")
	b.reply(t, r1, bson.D{{Key: "ok", Value: 1}})
	r2 := b.next(t)
	assert.Equal(t, int32(2), reqIDOf(r2.msg))
	b.reply(t, r2, bson.D{{Key: "ok", Value: 1}})
	assert.Equal(t, int32(2), respToOf(recv(t, c2)))
}

// TestWriteProxyReleasesWhenTheStoreDropsTheConnection: a backend connection that ends (the
// store crashed or refused the message) releases the locks its requests held.
func TestWriteProxyReleasesWhenTheStoreDropsTheConnection(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	c1, c2 := dial(t, p), dial(t, p)

	send(t, c1, opMsgBytes(t, 1, 0, 0, update("app", "offers")))
	r1 := b.next(t)
	send(t, c2, opMsgBytes(t, 2, 0, 0, update("app", "offers")))
	b.nothingFor(t, hold, "held behind the first write")
	require.NoError(t, r1.conn.Close())
	r2 := b.next(t)
	assert.Equal(t, int32(2), reqIDOf(r2.msg))
	require.NoError(t, c1.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := readMessage(c1)
	assert.Error(t, err, "the client of the dropped connection is disconnected too")
}

// TestWriteProxyCompressedTakesEverything: an OP_COMPRESSED message is not decompressed, so it
// takes the global lock: no write to any collection passes until it is answered.
func TestWriteProxyCompressedTakesEverything(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	c1, c2, c3 := dial(t, p), dial(t, p), dial(t, p)

	comp := make([]byte, headerLen+9)
	binary.LittleEndian.PutUint32(comp[0:], uint32(len(comp)))
	binary.LittleEndian.PutUint32(comp[4:], 1)
	binary.LittleEndian.PutUint32(comp[12:], opCompressed)
	send(t, c1, comp)
	r1 := b.next(t)
	send(t, c2, opMsgBytes(t, 2, 0, 0, update("other", "anything")))
	b.nothingFor(t, hold, "a write while a compressed message is in flight")
	send(t, c3, opMsgBytes(t, 3, 0, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}))
	r3 := b.next(t)
	assert.Equal(t, int32(3), reqIDOf(r3.msg), "reads still pass")
	b.reply(t, r1, bson.D{{Key: "ok", Value: 0}})
	r2 := b.next(t)
	assert.Equal(t, int32(2), reqIDOf(r2.msg))
}

// TestWriteProxyMoreToCome: a fire-and-forget write (moreToCome) is forwarded as one the store
// answers, so its lock is held until it is applied, and the answer is not sent to the client,
// which expects none.
func TestWriteProxyMoreToCome(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	c1, c2 := dial(t, p), dial(t, p)

	ins := bson.D{{Key: "insert", Value: "offers"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: 1}}}}, {Key: "$db", Value: "app"}}
	send(t, c1, opMsgBytes(t, 1, 0, flagMoreToCome, ins))
	r1 := b.next(t)
	assert.Zero(t, binary.LittleEndian.Uint32(r1.msg[16:20])&flagMoreToCome, "forwarded without moreToCome")
	send(t, c2, opMsgBytes(t, 2, 0, 0, update("app", "offers")))
	b.nothingFor(t, hold, "held behind the fire-and-forget insert")
	b.reply(t, r1, bson.D{{Key: "ok", Value: 1}})
	r2 := b.next(t)
	b.reply(t, r2, bson.D{{Key: "ok", Value: 1}})

	send(t, c1, opMsgBytes(t, 3, 0, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}))
	r3 := b.next(t)
	b.reply(t, r3, bson.D{{Key: "ok", Value: 1}})
	assert.Equal(t, int32(3), respToOf(recv(t, c1)), "the first thing the client reads answers its ping: the insert's reply was dropped")
}

// TestWriteProxyMarksBuildInfo: the proxy announces itself in buildInfo replies and leaves the
// rest of the reply alone.
func TestWriteProxyMarksBuildInfo(t *testing.T) {
	b := startFakeBackend(t)
	p := startProxy(t, b.ln.Addr().String())
	c := dial(t, p)
	send(t, c, opMsgBytes(t, 1, 0, 0, bson.D{{Key: "buildInfo", Value: 1}, {Key: "$db", Value: "admin"}}))
	r := b.next(t)
	b.reply(t, r, bson.D{{Key: "version", Value: "7.0.42"}, {Key: "ok", Value: 1.0}})
	got := mustBody(t, recv(t, c))
	assert.Equal(t, "7.0.42", got.Lookup("version").StringValue())
	assert.Equal(t, "collection", got.Lookup(ProxyField).StringValue())

	send(t, c, opMsgBytes(t, 2, 0, 0, bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}}))
	r = b.next(t)
	b.reply(t, r, bson.D{{Key: "ok", Value: 1.0}})
	_, err := mustBody(t, recv(t, c)).LookupErr(ProxyField)
	assert.Error(t, err, "only buildInfo is marked")
}

func TestClassify(t *testing.T) {
	msg := func(cmd bson.D) []byte { return opMsgBytes(t, 1, 0, 0, cmd) }
	query := func(coll string, cmd bson.D) []byte {
		doc, err := bson.Marshal(cmd)
		require.NoError(t, err)
		b := make([]byte, headerLen+4)
		binary.LittleEndian.PutUint32(b[12:], opQuery)
		b = append(b, coll...)
		b = append(b, 0)
		b = append(b, make([]byte, 8)...)
		b = append(b, doc...)
		binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
		return b
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		kind scopeKind
		ns   string
	}{
		{"update", msg(update("app", "offers")), lockColl, "app.offers"},
		{"findAndModify", msg(bson.D{{Key: "findAndModify", Value: "offers"}, {Key: "$db", Value: "app"}}), lockColl, "app.offers"},
		{"insert", msg(bson.D{{Key: "insert", Value: "needs"}, {Key: "$db", Value: "app"}}), lockColl, "app.needs"},
		{"delete", msg(bson.D{{Key: "delete", Value: "needs"}, {Key: "$db", Value: "app"}}), lockColl, "app.needs"},
		{"createIndexes", msg(bson.D{{Key: "createIndexes", Value: "users"}, {Key: "$db", Value: "app"}}), lockColl, "app.users"},
		{"insert without $db", msg(bson.D{{Key: "insert", Value: "needs"}}), lockGlobal, ""},
		{"find", msg(bson.D{{Key: "find", Value: "needs"}, {Key: "$db", Value: "app"}}), lockNone, ""},
		{"aggregate", msg(bson.D{{Key: "aggregate", Value: "needs"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{}}}}}, {Key: "$db", Value: "app"}}), lockNone, ""},
		{"aggregate $out", msg(bson.D{{Key: "aggregate", Value: "needs"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$out", Value: "x"}}}}, {Key: "$db", Value: "app"}}), lockGlobal, ""},
		{"aggregate $merge", msg(bson.D{{Key: "aggregate", Value: "needs"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$merge", Value: "x"}}}}, {Key: "$db", Value: "app"}}), lockGlobal, ""},
		{"dropDatabase", msg(bson.D{{Key: "dropDatabase", Value: 1}, {Key: "$db", Value: "app"}}), lockGlobal, ""},
		{"renameCollection", msg(bson.D{{Key: "renameCollection", Value: "app.a"}, {Key: "to", Value: "app.b"}, {Key: "$db", Value: "admin"}}), lockGlobal, ""},
		{"unknown", msg(bson.D{{Key: "somethingNew", Value: 1}, {Key: "$db", Value: "app"}}), lockGlobal, ""},
		{"OP_QUERY isMaster", query("admin.$cmd", bson.D{{Key: "isMaster", Value: 1}}), lockNone, ""},
		{"OP_QUERY wrapped hello", query("admin.$cmd", bson.D{{Key: "$query", Value: bson.D{{Key: "hello", Value: 1}}}}), lockNone, ""},
		{"OP_QUERY update", query("app.$cmd", bson.D{{Key: "update", Value: "offers"}}), lockGlobal, ""},
		{"OP_QUERY legacy find", query("app.offers", bson.D{}), lockNone, ""},
		{"garbage", []byte{20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0, 0, 0, 0, 0}, lockGlobal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, ns, _ := classify(tc.msg)
			assert.Equal(t, tc.kind, kind)
			assert.Equal(t, tc.ns, ns)
		})
	}
}

// TestWriteProxyOnFerretDB: against a real FerretDB, two clients with separate connection pools
// (two API processes) run 20 concurrent conditional updates that take one of 3 slots. Through
// the proxy exactly 3 match; straight to FerretDB more do (FerretDB's update is a find then a
// write), which shows the proxy is what makes them atomic.
func TestWriteProxyOnFerretDB(t *testing.T) {
	ctx := context.Background()
	f, err := StartFerretDB(ctx, t.TempDir(), quiet)
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	p := startProxy(t, f.Addr())

	var info bson.M
	cl := client(t, p.URI())
	require.NoError(t, cl.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info))
	assert.Equal(t, "collection", info[ProxyField], "announced to the client")
	assert.Contains(t, info, "ferretdbVersion", "the rest of FerretDB's reply is relayed")

	race := func(uri string, round int) (matched int64, used int32) {
		a, b := client(t, uri), client(t, uri)
		coll := fmt.Sprintf("slots%d", round)
		_, err := a.Database("app").Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: "o1"}, {Key: "used", Value: 0}, {Key: "max", Value: 3}})
		require.NoError(t, err)
		var n atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := a
				if i%2 == 1 {
					c = b
				}
				res, err := c.Database("app").Collection(coll).UpdateOne(ctx,
					bson.D{{Key: "_id", Value: "o1"}, {Key: "used", Value: bson.D{{Key: "$lt", Value: 3}}}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "used", Value: 1}}}})
				if assert.NoError(t, err) {
					n.Add(res.MatchedCount)
				}
			}()
		}
		wg.Wait()
		var doc struct {
			Used int32 `bson:"used"`
		}
		require.NoError(t, a.Database("app").Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: "o1"}}).Decode(&doc))
		return n.Load(), doc.Used
	}

	for round := range 3 {
		matched, used := race(p.URI(), round)
		assert.EqualValues(t, 3, matched, "through the proxy, round %d: exactly 3 updates match", round)
		assert.EqualValues(t, 3, used, "through the proxy, round %d", round)
	}
	over := 0
	for round := 10; round < 13; round++ {
		matched, used := race(f.URI(), round)
		t.Logf("straight to FerretDB, round %d: %d of 20 conditional updates matched, used = %d (3 slots)", round, matched, used)
		if matched > 3 {
			over++
		}
	}
	assert.Positive(t, over, "without the proxy FerretDB's conditional updates race (if this fails, FerretDB made them atomic and the proxy may go)")
}

func client(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(20))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}
