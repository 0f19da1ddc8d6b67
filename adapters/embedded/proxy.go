package embedded

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ProxyField is the field the write proxy adds to every buildInfo reply it relays. A client that
// sees it knows that each write command is applied alone in its collection, so a conditional
// write that carries its whole condition in the filter is atomic even on FerretDB
// (adapters/mongostore reads it). Its value names the lock's scope.
const ProxyField = "capmatchWriteProxy"

// Wire protocol constants (MongoDB wire protocol: message header, OP_MSG flag bits).
const (
	opReply      = 1
	opQuery      = 2004
	opCompressed = 2012
	opMsg        = 2013

	headerLen = 16
	// maxMessage is MongoDB's maxMessageSizeBytes; a longer message is a protocol error.
	maxMessage = 48_000_000

	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1
)

// WriteProxy is a MongoDB wire-protocol proxy in front of FerretDB that makes several client
// processes' conditional writes atomic.
//
// FerretDB 1.x applies an update (and findAndModify, and a delete) as a query followed by a write
// of each document found, two backend calls with nothing atomic in between, on SQLite as on
// PostgreSQL. Two processes that update the same document with a condition in the filter can
// therefore both match. The proxy relays every message unchanged but holds, per collection, a
// lock from the moment it forwards a write command until FerretDB's reply to that request comes
// back, so that no other write to the collection runs in between. Reads are not serialized.
// One lock per collection (striped), plus a global lock that commands touching several
// collections, unknown commands and compressed messages take alone.
//
// capmatch's API processes use it through `capmatch ferretdb`; the single-process embedded
// default talks to FerretDB directly (see docs/operations.md for why and the measured cost).
type WriteProxy struct {
	ln      net.Listener
	backend string
	log     *slog.Logger
	locks   lockTable
	// drain bounds how long a connection whose client went away keeps its backend connection
	// (and its lock) open waiting for the reply to a write already forwarded.
	drain time.Duration

	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// StartWriteProxy listens on addr (host:port; port 0 picks a free one) and relays every
// connection to the MongoDB wire-protocol server at backend (host:port).
func StartWriteProxy(ctx context.Context, addr, backend string, logger *slog.Logger) (*WriteProxy, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("write proxy: listen: %w", err)
	}
	p := &WriteProxy{ln: ln, backend: backend, log: logger, drain: time.Minute, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address clients connect to.
func (p *WriteProxy) Addr() string { return p.ln.Addr().String() }

// URI is the mongodb:// address clients connect to.
func (p *WriteProxy) URI() string { return "mongodb://" + p.Addr() + "/" }

// Stop closes the listener and every connection (releasing their locks) and waits for them.
func (p *WriteProxy) Stop() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		c.closeBoth()
	}
	p.wg.Wait()
}

func (p *WriteProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		var d net.Dialer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		backend, err := d.DialContext(ctx, "tcp", p.backend)
		cancel()
		if err != nil {
			p.log.Error("write proxy: cannot reach the store", "backend", p.backend, "err", err)
			_ = client.Close()
			continue
		}
		c := &proxyConn{p: p, client: client, backend: backend, pending: map[int32]*pending{}}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.closeBoth()
			return
		}
		p.conns[c] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go c.up()
		go c.down()
	}
}

// scopeKind says what a request locks.
type scopeKind int

const (
	lockNone   scopeKind = iota // a read: relayed without a lock
	lockColl                    // a write to one collection: that collection's lock
	lockGlobal                  // a write that may touch several collections, or one not understood: every lock
)

// lockTable holds the collection locks (striped, so memory stays bounded whatever the names)
// under a global reader/writer lock. A connection holds at most one scope at a time, and every
// holder releases on a reply from the backend (or when its connection ends), which never waits
// for another lock, so there is no cycle.
type lockTable struct {
	global sync.RWMutex
	colls  [64]sync.Mutex
}

// acquire takes the locks of scope (k, ns) and returns their release (nil for lockNone).
// sync mutexes may be released by another goroutine than the one that took them; the reply
// reader releases them.
func (l *lockTable) acquire(k scopeKind, ns string) func() {
	switch k {
	case lockColl:
		m := &l.colls[stripeOf(ns)]
		l.global.RLock()
		m.Lock()
		return func() { m.Unlock(); l.global.RUnlock() }
	case lockGlobal:
		l.global.Lock()
		return l.global.Unlock
	}
	return nil
}

// stripeOf is the collection lock that namespace ns (db.collection) takes.
func stripeOf(ns string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(ns))
	return h.Sum32() % uint32(len(lockTable{}.colls))
}

// pending is what a connection remembers about a request until its reply comes back.
type pending struct {
	release func() // the locks to release at the reply, or nil
	swallow bool   // the client sent moreToCome and expects no reply: drop it
	mark    bool   // buildInfo: add ProxyField to the reply
}

// proxyConn is one client connection and the backend connection dedicated to it.
type proxyConn struct {
	p       *WriteProxy
	client  net.Conn
	backend net.Conn

	mu         sync.Mutex
	pending    map[int32]*pending
	clientGone bool
	drainTimer *time.Timer
	closeOnce  sync.Once
}

func (c *proxyConn) closeBoth() {
	c.closeOnce.Do(func() {
		_ = c.client.Close()
		_ = c.backend.Close()
	})
}

// up relays requests from the client to the backend, taking each write's lock first.
func (c *proxyConn) up() {
	defer c.p.wg.Done()
	r := bufio.NewReaderSize(c.client, 64<<10)
	for {
		msg, err := readMessage(r)
		if err != nil {
			break
		}
		reqID := int32(binary.LittleEndian.Uint32(msg[4:8]))
		kind, ns, mark := classify(msg)
		msg, swallow := clearMoreToCome(msg)
		release := c.p.locks.acquire(kind, ns)
		if release != nil || swallow || mark {
			c.mu.Lock()
			if old := c.pending[reqID]; old != nil && old.release != nil {
				old.release() // a reused request id: never leave a lock behind
			}
			c.pending[reqID] = &pending{release: release, swallow: swallow, mark: mark}
			c.mu.Unlock()
		}
		if _, err := c.backend.Write(msg); err != nil {
			c.forget(reqID)
			break
		}
	}
	// The client is gone (or the backend is): the backend's replies to writes already
	// forwarded still release their locks, within the drain bound.
	c.mu.Lock()
	c.clientGone = true
	idle := c.hasNoWrites()
	if !idle {
		c.drainTimer = time.AfterFunc(c.p.drain, func() {
			c.p.log.Warn("write proxy: the store did not answer a write after its client left; closing", "drain", c.p.drain)
			c.closeBoth()
		})
	}
	c.mu.Unlock()
	if idle {
		c.closeBoth()
	}
}

// hasNoWrites reports whether no forwarded write is waiting for its reply. Call with c.mu held.
func (c *proxyConn) hasNoWrites() bool {
	for _, pd := range c.pending {
		if pd.release != nil {
			return false
		}
	}
	return true
}

// forget drops a request's pending entry and releases its locks.
func (c *proxyConn) forget(reqID int32) {
	c.mu.Lock()
	pd := c.pending[reqID]
	delete(c.pending, reqID)
	c.mu.Unlock()
	if pd != nil && pd.release != nil {
		pd.release()
	}
}

// down relays replies from the backend to the client, releasing a write's lock when its reply
// arrives. When the backend connection ends, every lock the connection still holds is released.
func (c *proxyConn) down() {
	defer c.p.wg.Done()
	defer func() {
		c.mu.Lock()
		var rel []func()
		for id, pd := range c.pending {
			if pd.release != nil {
				rel = append(rel, pd.release)
			}
			delete(c.pending, id)
		}
		if c.drainTimer != nil {
			c.drainTimer.Stop()
		}
		c.mu.Unlock()
		for _, f := range rel {
			f()
		}
		c.closeBoth()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c.backend, 64<<10)
	for {
		msg, err := readMessage(r)
		if err != nil {
			return
		}
		respTo := int32(binary.LittleEndian.Uint32(msg[8:12]))
		c.mu.Lock()
		pd := c.pending[respTo]
		delete(c.pending, respTo)
		c.mu.Unlock()
		if pd != nil && pd.release != nil {
			pd.release()
		}
		switch {
		case pd != nil && pd.swallow:
			msg = nil
		case pd != nil && pd.mark:
			if m, err := markReply(msg); err == nil {
				msg = m
			} else {
				c.p.log.Warn("write proxy: cannot mark a buildInfo reply", "err", err)
			}
		}
		c.mu.Lock()
		gone := c.clientGone
		done := gone && c.hasNoWrites()
		c.mu.Unlock()
		if msg != nil && !gone {
			if _, err := c.client.Write(msg); err != nil {
				c.mu.Lock()
				c.clientGone = true
				done = c.hasNoWrites()
				c.mu.Unlock()
			}
		}
		if done {
			return
		}
	}
}

// readMessage reads one whole wire-protocol message (header included).
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.LittleEndian.Uint32(hdr[0:4]))
	if n < headerLen || n > maxMessage {
		return nil, fmt.Errorf("write proxy: message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// readCommands are the commands that change no data: relayed without a lock.
var readCommands = map[string]bool{
	"find": true, "getmore": true, "count": true, "distinct": true, "listcollections": true,
	"listindexes": true, "listdatabases": true, "hello": true, "ismaster": true, "ping": true,
	"buildinfo": true, "serverstatus": true, "dbstats": true, "collstats": true, "datasize": true,
	"explain": true, "killcursors": true, "endsessions": true, "getparameter": true, "getlog": true,
	"whatsmyuri": true, "saslstart": true, "saslcontinue": true, "authenticate": true, "logout": true,
	"connectionstatus": true, "hostinfo": true, "getcmdlineopts": true, "listcommands": true,
	"validate": true, "currentop": true, "getfreemonitoringstatus": true, "getlasterror": true,
}

// collWrites are the commands that write to the one collection their first value names.
var collWrites = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true, "create": true, "drop": true,
	"createindexes": true, "dropindexes": true, "collmod": true, "compact": true, "reindex": true,
}

// classify says what a request must lock, and whether it is a buildInfo (whose reply is marked).
// Anything it cannot parse or does not know takes the global lock: being wrong there costs
// throughput, never atomicity.
func classify(msg []byte) (scopeKind, string, bool) {
	switch binary.LittleEndian.Uint32(msg[12:16]) {
	case opMsg:
		doc, ok := msgBody(msg)
		if !ok {
			return lockGlobal, "", false
		}
		return classifyCommand(doc)
	case opQuery:
		// flags, fullCollectionName, numberToSkip, numberToReturn, query. Drivers send only the
		// first handshake (hello) this way.
		b := msg[headerLen:]
		if len(b) < 4 {
			return lockGlobal, "", false
		}
		b = b[4:]
		end := indexByte(b, 0)
		if end < 0 {
			return lockGlobal, "", false
		}
		coll := string(b[:end])
		b = b[end+1:]
		if len(b) < 8 {
			return lockGlobal, "", false
		}
		doc, ok := document(b[8:])
		if !ok {
			return lockGlobal, "", false
		}
		if !strings.HasSuffix(coll, ".$cmd") {
			return lockNone, "", false // a legacy query: a read
		}
		if q, err := doc.LookupErr("$query"); err == nil {
			if d, ok := q.DocumentOK(); ok {
				doc = d
			}
		}
		kind, ns, _ := classifyCommand(doc)
		if kind == lockColl {
			kind = lockGlobal // no $db here; never mind the scope
		}
		return kind, ns, false
	}
	// OP_COMPRESSED (not decompressed here) and the legacy write opcodes: the global lock.
	return lockGlobal, "", false
}

// classifyCommand classifies a command document (an OP_MSG body).
func classifyCommand(doc bson.Raw) (scopeKind, string, bool) {
	first, err := doc.IndexErr(0)
	if err != nil {
		return lockGlobal, "", false
	}
	name := strings.ToLower(first.Key())
	switch {
	case readCommands[name]:
		return lockNone, "", name == "buildinfo"
	case name == "aggregate":
		if aggregateWrites(doc) {
			return lockGlobal, "", false
		}
		return lockNone, "", false
	case collWrites[name]:
		coll, ok := first.Value().StringValueOK()
		db, dbok := doc.Lookup("$db").StringValueOK()
		if !ok || !dbok || coll == "" {
			return lockGlobal, "", false
		}
		return lockColl, db + "." + coll, false
	}
	return lockGlobal, "", false
}

// aggregateWrites reports whether a pipeline ends in $out or $merge (which write, possibly to
// another collection).
func aggregateWrites(doc bson.Raw) bool {
	stages, ok := doc.Lookup("pipeline").ArrayOK()
	if !ok {
		return true
	}
	vals, err := stages.Values()
	if err != nil {
		return true
	}
	for _, v := range vals {
		st, ok := v.DocumentOK()
		if !ok {
			return true
		}
		if e, err := st.IndexErr(0); err == nil && (e.Key() == "$out" || e.Key() == "$merge") {
			return true
		}
	}
	return false
}

// msgBody returns an OP_MSG's kind-0 section (the command or reply document).
func msgBody(msg []byte) (bson.Raw, bool) {
	if len(msg) < headerLen+5 {
		return nil, false
	}
	flags := binary.LittleEndian.Uint32(msg[headerLen : headerLen+4])
	b := msg[headerLen+4:]
	if flags&flagChecksumPresent != 0 {
		if len(b) < 4 {
			return nil, false
		}
		b = b[:len(b)-4]
	}
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		if len(b) < 4 {
			return nil, false
		}
		size := int(int32(binary.LittleEndian.Uint32(b[0:4])))
		if size < 5 || size > len(b) {
			return nil, false
		}
		if kind == 0 {
			return document(b)
		}
		b = b[size:] // kind 1: a document sequence, its size counts itself
	}
	return nil, false
}

// document returns the BSON document at the start of b.
func document(b []byte) (bson.Raw, bool) {
	if len(b) < 5 {
		return nil, false
	}
	size := int(int32(binary.LittleEndian.Uint32(b[0:4])))
	if size < 5 || size > len(b) {
		return nil, false
	}
	doc := bson.Raw(b[:size])
	if doc.Validate() != nil {
		return nil, false
	}
	return doc, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// clearMoreToCome turns a fire-and-forget OP_MSG (moreToCome) into one the backend answers, so
// that its write's lock is held until it is applied; the proxy drops the reply, which the
// client does not expect. (FerretDB 1.24 answers such messages anyway.) A checksum, which would
// no longer match, is removed.
func clearMoreToCome(msg []byte) ([]byte, bool) {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg || len(msg) < headerLen+4 {
		return msg, false
	}
	flags := binary.LittleEndian.Uint32(msg[headerLen : headerLen+4])
	if flags&flagMoreToCome == 0 {
		return msg, false
	}
	flags &^= flagMoreToCome
	if flags&flagChecksumPresent != 0 && len(msg) >= headerLen+8 {
		flags &^= flagChecksumPresent
		msg = msg[:len(msg)-4]
		binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	}
	binary.LittleEndian.PutUint32(msg[headerLen:headerLen+4], flags)
	return msg, true
}

// markReply adds ProxyField to an OP_MSG reply's body.
func markReply(msg []byte) ([]byte, error) {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg {
		return nil, errors.New("not an OP_MSG reply")
	}
	body, ok := msgBody(msg)
	if !ok {
		return nil, errors.New("no body section")
	}
	var d bson.D
	if err := bson.Unmarshal(body, &d); err != nil {
		return nil, err
	}
	d = append(d, bson.E{Key: ProxyField, Value: "collection"})
	nb, err := bson.Marshal(d)
	if err != nil {
		return nil, err
	}
	flags := binary.LittleEndian.Uint32(msg[headerLen:headerLen+4]) &^ flagChecksumPresent
	out := make([]byte, headerLen+4, headerLen+4+1+len(nb))
	copy(out, msg[:headerLen])
	binary.LittleEndian.PutUint32(out[headerLen:], flags)
	out = append(out, 0)
	out = append(out, nb...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))
	return out, nil
}
