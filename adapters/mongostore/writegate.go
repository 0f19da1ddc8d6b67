package mongostore

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// writeGate lets at most gateWidth write commands at a time reach the embedded store, so
// that colliding writes queue in Go rather than sleep in SQLite.
//
// FerretDB's SQLite backend applies each write command in its own SQLite transaction, and a
// database file has one writer at a time. When two transactions collide, the second does not
// queue: SQLite's default busy handler puts it to sleep for 1, 2, 5, 10, 15, 20, 25... ms
// before each retry, however soon the lock is free, and with many writers some lose again and
// again. Under the mixed load of issue 16 that sleeping was 58% of the time requests spent
// blocked (BENCHMARKS.md, target 4). Here a write command beyond gateWidth waits for one in
// flight to be answered and goes as soon as it is.
//
// The gate sits in the driver's connections (Options.EmbeddedSQLite installs a dialer whose
// connections pass through it), not in a proxy: no extra hop, and reads are not touched. A
// write command (insert, update, delete, findAndModify, and the commands that create or drop
// collections and indexes) holds a place from the moment it is written to the socket until
// the first byte of its reply is read, or the connection fails or closes. FerretDB replies
// after its transaction committed. It is enabled only once Open has seen FerretDB reached
// directly (Store.serial): never on MongoDB, and never behind the write proxy (which has its
// own locks).
type writeGate struct {
	on  atomic.Bool
	sem chan struct{} // capacity gateWidth: a place is a write in flight
	// queued is how many writes are waiting for the gate now (tests wait on it).
	queued atomic.Int64
}

// gateWidth is how many write commands may be in FerretDB at once. One at a time (1) leaves
// SQLite idle while FerretDB decodes a command and encodes its reply, and measured no better
// than no gate at moderate load; with two, one command's work overlaps the other's commit, and
// a collision costs at most the busy handler's first short sleeps, since only one transaction
// can be ahead (BENCHMARKS.md, target 4: A/B runs of 1, 2 and no gate).
const gateWidth = 2

func newWriteGate() *writeGate { return &writeGate{sem: make(chan struct{}, gateWidth)} }

// acquire takes the gate, giving up at deadline (the connection's write deadline; zero is
// none) with os.ErrDeadlineExceeded, as the socket write would have.
func (g *writeGate) acquire(deadline time.Time) error {
	select {
	case g.sem <- struct{}{}:
		return nil
	default:
	}
	g.queued.Add(1)
	defer g.queued.Add(-1)
	if deadline.IsZero() {
		g.sem <- struct{}{}
		return nil
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case g.sem <- struct{}{}:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

func (g *writeGate) release() { <-g.sem }

// dialer is the driver's dialer (options.ContextDialer) for connections through g.
type gateDialer struct {
	d net.Dialer
	g *writeGate
}

// DialContext implements options.ContextDialer.
func (d *gateDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, g: d.g}, nil
}

// gatedConn is one driver connection through the gate. The driver writes a whole request in
// one Write and then reads its reply; Close may come from another goroutine.
type gatedConn struct {
	net.Conn
	g    *writeGate
	held atomic.Bool // this connection holds the gate: a write is in flight

	mu            sync.Mutex
	writeDeadline time.Time
}

func (c *gatedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *gatedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if !c.g.on.Load() || c.held.Load() || !isWriteCommand(b) {
		return c.Conn.Write(b)
	}
	c.mu.Lock()
	deadline := c.writeDeadline
	c.mu.Unlock()
	if err := c.g.acquire(deadline); err != nil {
		return 0, &net.OpError{Op: "write", Net: "tcp", Addr: c.RemoteAddr(), Err: err}
	}
	c.held.Store(true)
	n, err := c.Conn.Write(b)
	if err != nil {
		c.let()
	}
	return n, err
}

func (c *gatedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 || err != nil {
		c.let()
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.let()
	return c.Conn.Close()
}

// let releases the gate if this connection holds it.
func (c *gatedConn) let() {
	if c.held.CompareAndSwap(true, false) {
		c.g.release()
	}
}

// writeCommands are the commands that open a write transaction in FerretDB's SQLite backend.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true,
	"create": true, "createIndexes": true, "drop": true, "dropIndexes": true,
	"dropDatabase": true, "renameCollection": true, "compact": true,
}

// Wire protocol: a 16-byte header (length, request id, response to, op code), then for OP_MSG
// a 4-byte flag word and sections; section kind 0 is the command document, whose first
// element names the command.
const (
	wireOpMsg       = 2013
	wireMoreToCome  = 1 << 1
	wireHeaderBytes = 16
)

// isWriteCommand reports whether b is one whole OP_MSG request whose command is a write that
// expects a reply. Anything else (reads, compressed or legacy messages, unacknowledged
// writes, partial buffers) passes ungated.
func isWriteCommand(b []byte) bool {
	if len(b) < wireHeaderBytes+4+1+4+1 {
		return false
	}
	if int(binary.LittleEndian.Uint32(b[0:4])) != len(b) || binary.LittleEndian.Uint32(b[12:16]) != wireOpMsg {
		return false
	}
	if binary.LittleEndian.Uint32(b[16:20])&wireMoreToCome != 0 {
		return false
	}
	// Sections: find the kind-0 body (a kind-1 document sequence may come first).
	i := wireHeaderBytes + 4
	for i < len(b) {
		kind := b[i]
		i++
		switch kind {
		case 0:
			if i+5 > len(b) {
				return false
			}
			name := b[i+5:] // after the document's length and the first element's type
			end := bytes.IndexByte(name, 0)
			if end < 0 {
				return false
			}
			return writeCommands[string(name[:end])]
		case 1:
			if i+4 > len(b) {
				return false
			}
			size := int(binary.LittleEndian.Uint32(b[i : i+4]))
			if size < 4 {
				return false
			}
			i += size
		default:
			return false
		}
	}
	return false
}
