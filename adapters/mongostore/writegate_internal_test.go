package mongostore

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// opMsg encodes cmd as an OP_MSG request (a kind-1 document sequence first when seq is set,
// as the driver sends an insert's documents).
func opMsg(t *testing.T, flags uint32, cmd bson.D, seq bool) []byte {
	t.Helper()
	body, err := bson.Marshal(cmd)
	require.NoError(t, err)
	msg := make([]byte, 16, 64+len(body))
	binary.LittleEndian.PutUint32(msg[12:], wireOpMsg)
	msg = binary.LittleEndian.AppendUint32(msg, flags)
	if seq {
		doc, err := bson.Marshal(bson.D{{Key: "_id", Value: "x"}})
		require.NoError(t, err)
		ident := []byte("documents\x00")
		msg = append(msg, 1)
		msg = binary.LittleEndian.AppendUint32(msg, uint32(4+len(ident)+len(doc)))
		msg = append(append(msg, ident...), doc...)
	}
	msg = append(append(msg, 0), body...)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	return msg
}

func TestIsWriteCommand(t *testing.T) {
	cmd := func(name string) bson.D {
		return bson.D{{Key: name, Value: "needs"}, {Key: "$db", Value: "capmatch"}}
	}
	for _, name := range []string{"insert", "update", "delete", "findAndModify", "createIndexes", "drop"} {
		assert.True(t, isWriteCommand(opMsg(t, 0, cmd(name), false)), name)
		assert.True(t, isWriteCommand(opMsg(t, 0, cmd(name), true)), name+" after a document sequence")
	}
	for _, name := range []string{"find", "aggregate", "count", "hello", "getMore", "ping", "buildInfo"} {
		assert.False(t, isWriteCommand(opMsg(t, 0, cmd(name), false)), name)
	}
	w := opMsg(t, 0, cmd("insert"), false)
	assert.False(t, isWriteCommand(opMsg(t, wireMoreToCome, cmd("insert"), false)), "an unacknowledged write has no reply to wait for")
	assert.False(t, isWriteCommand(w[:len(w)-3]), "a partial message")
	legacy := append([]byte(nil), w...)
	binary.LittleEndian.PutUint32(legacy[12:], 2012) // OP_COMPRESSED
	assert.False(t, isWriteCommand(legacy))
	assert.False(t, isWriteCommand(nil))
}

// fakeServer accepts connections and hands each request it reads to the test.
type fakeServer struct {
	ln   net.Listener
	reqs chan fakeReq
}

type fakeReq struct {
	conn net.Conn
	msg  []byte
}

func startFakeServer(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &fakeServer{ln: ln, reqs: make(chan fakeReq, 16)}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
			go func() {
				for {
					var size [4]byte
					if _, err := io.ReadFull(c, size[:]); err != nil {
						return
					}
					msg := make([]byte, binary.LittleEndian.Uint32(size[:]))
					copy(msg, size[:])
					if _, err := io.ReadFull(c, msg[4:]); err != nil {
						return
					}
					s.reqs <- fakeReq{conn: c, msg: msg}
				}
			}()
		}
	}()
	return s
}

func (s *fakeServer) next(t *testing.T) fakeReq {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the server received nothing")
		return fakeReq{}
	}
}

// none says that no request has reached the server so far.
func (s *fakeServer) none(t *testing.T, why string) {
	t.Helper()
	select {
	case r := <-s.reqs:
		t.Fatalf("%s: the server received %d bytes", why, len(r.msg))
	default:
	}
}

// TestWriteGateQueuesWrites: with gateWidth writes unanswered, a write command waits, and goes
// once one of those replies is read; reads pass; a write that cannot get the gate
// before its deadline fails without being sent; a closed connection gives the gate back; and
// with the gate off nothing waits.
func TestWriteGateQueuesWrites(t *testing.T) {
	srv := startFakeServer(t)
	g := newWriteGate()
	g.on.Store(true)
	d := &gateDialer{g: g}
	dial := func() net.Conn {
		c, err := d.DialContext(context.Background(), "tcp", srv.ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	insert := opMsg(t, 0, bson.D{{Key: "insert", Value: "needs"}, {Key: "$db", Value: "capmatch"}}, true)
	find := opMsg(t, 0, bson.D{{Key: "find", Value: "needs"}, {Key: "$db", Value: "capmatch"}}, false)
	c1, c2, c3 := dial(), dial(), dial()
	for range gateWidth - 1 { // writes in flight that stay unanswered
		_, err := dial().Write(insert)
		require.NoError(t, err)
		srv.next(t)
	}

	_, err := c1.Write(insert)
	require.NoError(t, err)
	r1 := srv.next(t)

	sent2 := make(chan error, 1)
	go func() { _, err := c2.Write(insert); sent2 <- err }()
	require.Eventually(t, func() bool { return len(g.sem) == gateWidth && waiting(g) }, 10*time.Second, time.Millisecond)
	srv.none(t, "a write beyond gateWidth")

	require.NoError(t, c3.SetWriteDeadline(time.Now().Add(10*time.Second)))
	_, err = c3.Write(find)
	require.NoError(t, err, "reads are not gated")
	r3 := srv.next(t)
	assert.Equal(t, find, r3.msg)

	_, err = r1.conn.Write([]byte("reply"))
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(c1, buf)
	require.NoError(t, err)
	select {
	case err := <-sent2:
		require.NoError(t, err, "the queued write goes once the first reply is read")
	case <-time.After(10 * time.Second):
		t.Fatal("the queued write is still waiting after the first reply was read")
	}
	r2 := srv.next(t)
	assert.Equal(t, insert, r2.msg)

	// c2 holds the last place now: a write with a deadline gives up, unsent.
	require.NoError(t, c3.SetWriteDeadline(time.Now().Add(20*time.Millisecond)))
	_, err = c3.Write(insert)
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrDeadlineExceeded), "got %v", err)
	srv.none(t, "a write that timed out waiting for the gate")

	// Closing c2 with its reply unread gives the gate back.
	require.NoError(t, c2.Close())
	require.NoError(t, c3.SetWriteDeadline(time.Time{}))
	_, err = c3.Write(insert)
	require.NoError(t, err)
	srv.next(t)

	// Off (not the embedded store): writes do not wait for one another.
	g.on.Store(false)
	c4, c5 := dial(), dial()
	_, err = c4.Write(insert)
	require.NoError(t, err)
	srv.next(t)
	_, err = c5.Write(insert)
	require.NoError(t, err)
	srv.next(t)
}

// waiting reports whether a write is queued at the gate.
func waiting(g *writeGate) bool { return g.queued.Load() > 0 }
