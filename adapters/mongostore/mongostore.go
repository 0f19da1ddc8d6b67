// Package mongostore is capmatch's MongoDB adapter: it owns the driver client, bounds every
// call in time, creates the indexes at start-up, maps driver errors to the domain's sentinel
// errors, and implements the store interfaces of package models. It works against MongoDB 7 and
// against FerretDB 1.24 (the embedded default, or several processes through capmatch's write
// proxy), so its store operations are single-document atomic operations: FerretDB has no
// multi-document transactions. Where the server has them (a MongoDB replica set or mongos),
// Store.InTransaction (models.Transactor) runs several operations as one transaction.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"go.mongodb.org/mongo-driver/v2/event"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Store is the MongoDB-backed implementation of the models store interfaces.
type Store struct {
	client     *mongo.Client
	db         *mongo.Database
	replicaSet bool
	// serial is set on FerretDB reached directly, whose updates are a find followed by a write
	// by _id with nothing atomic in between (measured: 11 of 20 concurrent conditional updates
	// on a 3-slot offer all "matched"). Conditional writes then take an in-process lock per
	// document, check their condition on a fresh read and write by _id alone (which FerretDB
	// looks up by index). That is sound only while one process writes: the embedded default.
	serial bool
	// proxied is set behind capmatch's write proxy (embedded.WriteProxy, which `capmatch
	// ferretdb` serves): it applies each write command alone in its collection, so a write
	// that carries its whole condition in its filter is atomic across processes, as on
	// MongoDB. FerretDB answers such filters by scanning the collection.
	proxied bool
	ferret  bool
	// transactions is set on a MongoDB replica set or mongos (not FerretDB): InTransaction.
	transactions bool
	// gate, when Options.EmbeddedSQLite asked for it and Open found FerretDB reached directly,
	// lets one write command at a time reach the store (see writeGate).
	gate *writeGate
	// audits batches audit entries appended together (group commit) when gate is set.
	audits *auditBatcher
	// instance names this store's address and database in the process's version cache
	// (knownVersions), when serial.
	instance string
	log      *slog.Logger
}

// Options tunes how the store connects.
type Options struct {
	// ServerSelectionTimeout bounds how long an operation waits for a reachable server, so
	// that an unreachable store answers 503 quickly instead of hanging requests.
	ServerSelectionTimeout time.Duration
	// Timeout bounds every store call, from server selection to the reply (the driver's
	// client-side operation timeout, timeoutMS; a call whose context has an earlier deadline
	// keeps it). The driver also sends the time left as maxTimeMS, which bounds a write's wait
	// for its write concern on a replica set (the v2 driver has no wtimeout). A timeoutMS in
	// the URI takes precedence. Default DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
	// EmbeddedSQLite says that uri is capmatch's own in-process FerretDB on SQLite (the
	// embedded default): write commands then queue in this process, at most gateWidth at a time, instead of
	// colliding in SQLite, whose busy handler sleeps (writeGate). The store turns this on only
	// if the server is FerretDB reached directly (Serialized), never on MongoDB.
	EmbeddedSQLite bool
	// Monitor, when set, observes every command the driver sends: the tests count a use
	// case's store round trips with it (service's TestWriteRoundTrips).
	Monitor *event.CommandMonitor
}

// DefaultTimeout bounds a store call when neither Options.Timeout nor the URI's timeoutMS says
// otherwise: long enough for a full read of the largest collection at start-up, short enough
// that a request never hangs on a store that stopped answering.
const DefaultTimeout = 10 * time.Second

// Open connects to the MongoDB deployment at uri, uses database dbName, detects whether it is a
// replica set (then writes use majority write concern with journaling), and creates indexes.
func Open(ctx context.Context, uri, dbName string, opts Options) (*Store, error) {
	if opts.ServerSelectionTimeout == 0 {
		opts.ServerSelectionTimeout = 3 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	co := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(opts.ServerSelectionTimeout).
		SetConnectTimeout(opts.ServerSelectionTimeout).
		SetAppName("capmatch")
	if co.Timeout == nil {
		co.SetTimeout(opts.Timeout)
	}
	if opts.Monitor != nil {
		co.SetMonitor(opts.Monitor)
	}
	var gate *writeGate
	if opts.EmbeddedSQLite && co.Dialer == nil {
		gate = newWriteGate()
		co.SetDialer(&gateDialer{g: gate})
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("connect to mongodb: %w", err)
	}
	s := &Store{client: client, log: opts.Logger}
	var hello bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongodb hello: %w", mapErr(err))
	}
	_, s.replicaSet = hello["setName"]
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err == nil {
		_, s.ferret = info["ferretdbVersion"]
		_, s.proxied = info[writeProxyField]
		s.serial = s.ferret && !s.proxied
	}
	s.instance = uri + "\x00" + dbName
	s.forgetAll() // a server restarted at this address may hold other data
	if gate != nil && s.serial {
		s.gate = gate
		gate.on.Store(true)
		s.audits = &auditBatcher{insert: s.insertAudits}
	}
	s.transactions = supportsTransactions(hello, info)
	dbOpts := options.Database()
	if s.replicaSet {
		dbOpts.SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: boolPtr(true)})
	}
	s.db = client.Database(dbName, dbOpts)
	if err := s.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

func boolPtr(b bool) *bool { return &b }

// writeProxyField is the field embedded.WriteProxy adds to buildInfo replies
// (embedded.ProxyField; TestWriteProxyIsRecognised checks that they agree).
const writeProxyField = "capmatchWriteProxy"

// Serialized reports whether conditional writes are serialized in-process (FerretDB reached
// directly): then only one process may write to the store.
func (s *Store) Serialized() bool { return s.serial }

// WritesQueued reports whether write commands queue in this process, at most gateWidth at a time
// (Options.EmbeddedSQLite on FerretDB reached directly; see writeGate), for the start-up log.
func (s *Store) WritesQueued() bool { return s.gate != nil }

// ConditionalWrites says what makes conditional writes atomic, for the start-up log:
// "mongodb" (the server applies filter and update atomically), "write-proxy" (FerretDB behind
// embedded.WriteProxy: safe for several processes) or "in-process-locks" (FerretDB reached
// directly: one process only).
func (s *Store) ConditionalWrites() string {
	switch {
	case s.serial:
		return "in-process-locks"
	case s.proxied:
		return "write-proxy"
	}
	return "mongodb"
}

// docLocks serializes conditional writes per document on FerretDB reached directly. It is shared by every Store
// in the process, so that two API replicas in one test process (one embedded server) agree.
var docLocks [256]sync.Mutex

// lockDoc takes the lock of one document when writes must be serialized, and returns its unlock.
func (s *Store) lockDoc(coll, id string) func() {
	if !s.serial {
		return func() {}
	}
	h := fnv.New32a()
	h.Write([]byte(s.db.Name()))
	h.Write([]byte{0})
	h.Write([]byte(coll))
	h.Write([]byte{0})
	h.Write([]byte(id))
	m := &docLocks[h.Sum32()%uint32(len(docLocks))]
	m.Lock()
	return m.Unlock
}

// guard returns the filter a conditional write sends. MongoDB, and FerretDB behind the write
// proxy, apply the whole filter atomically with the write. FerretDB pushes only an _id equality
// down to SQLite and scans the collection for anything more, so on FerretDB reached directly
// (serial) the caller has verified the other conditions on a fresh read under lockDoc, and the
// write filters by _id alone.
func (s *Store) guard(filter bson.D) bson.D {
	if !s.serial {
		return filter
	}
	for _, e := range filter {
		if e.Key == "_id" {
			return bson.D{e}
		}
	}
	return filter
}

// versionOf reads only a document's version, by _id; ErrNotFound when it does not exist.
func versionOf(ctx context.Context, coll *mongo.Collection, id string) (int64, error) {
	var v struct {
		Version int64 `bson:"version"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&v)
	if err != nil {
		return 0, mapErr(err)
	}
	return v.Version, nil
}

// ReplicaSet reports whether the deployment is a replica set (writes are then majority-acknowledged).
func (s *Store) ReplicaSet() bool { return s.replicaSet }

// Ping checks that the store answers; readiness probes call it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return mapErr(err)
	}
	return nil
}

// Close disconnects the client, waiting for in-use connections up to ctx's deadline.
func (s *Store) Close(ctx context.Context) error {
	s.forgetAll() // the versions it remembered (another store of the database reads them again)
	return s.client.Disconnect(ctx)
}

// Database exposes the underlying database for tests and maintenance tools.
func (s *Store) Database() *mongo.Database { return s.db }

// collections lists every collection capmatch keeps (import batches add temporary ones).
var collections = []string{colOrgs, colUsers, colRefresh, colRevocations, colAudit, colSettings, colResets,
	colNeeds, colOffers, colCountries, colEngagements, colProjects, colNotifications, colImports, colKeys, colExternal}

// EnsureCollections creates every collection capmatch uses that does not exist yet, so that
// maintenance that works per collection (embedded.FerretDB.IndexIDs) finds them all at
// start-up; MongoDB and FerretDB would otherwise create them at their first write.
func (s *Store) EnsureCollections(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return mapErr(err)
	}
	for _, c := range collections {
		if slices.Contains(names, c) {
			continue
		}
		if err := s.db.CreateCollection(ctx, c); err != nil {
			var ce mongo.CommandError
			if errors.As(err, &ce) && ce.Code == 48 { // NamespaceExists: another replica made it
				continue
			}
			return fmt.Errorf("create collection %s: %w", c, mapErr(err))
		}
	}
	return nil
}

// index describes one index the store relies on.
type index struct {
	collection string
	keys       bson.D
	unique     bool
	name       string
	// ttl, when set, makes it a TTL index: MongoDB deletes a document once the date in its
	// (single) key field is ttl in the past.
	ttl *time.Duration
}

// indexes lists every index capmatch relies on. Creating an index that exists with the same
// definition is a no-op on MongoDB and FerretDB, so start-up is idempotent.
var indexes = []index{}

func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, ix := range indexes {
		m := mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name)}
		if ix.unique {
			m.Options.SetUnique(true)
		}
		if ix.ttl != nil {
			if s.ferret {
				// FerretDB 1.24 refuses expireAfterSeconds; prune at each start instead.
				if err := s.pruneExpired(ctx, ix); err != nil {
					return err
				}
				continue
			}
			m.Options.SetExpireAfterSeconds(int32(ix.ttl.Seconds()))
		}
		if _, err := s.db.Collection(ix.collection).Indexes().CreateOne(ctx, m); err != nil {
			var ce mongo.CommandError
			if ix.ttl != nil && errors.As(err, &ce) && (ce.Code == 85 || ce.Code == 86) {
				// IndexOptionsConflict / IndexKeySpecsConflict: an operator made a TTL index on
				// this field with other options (docs/operations.md used to suggest it); keep theirs.
				s.log.Warn("an index on the TTL field exists with other options; keeping it", "collection", ix.collection, "index", ix.name, "err", err)
				continue
			}
			return fmt.Errorf("create index %s.%s: %w", ix.collection, ix.name, mapErr(err))
		}
	}
	return nil
}

// pruneExpired deletes what a TTL index would have deleted, where the store has no TTL indexes.
func (s *Store) pruneExpired(ctx context.Context, ix index) error {
	field := ix.keys[0].Key
	res, err := s.db.Collection(ix.collection).DeleteMany(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$lt", Value: time.Now().Add(-*ix.ttl)}}}})
	if err != nil {
		return fmt.Errorf("prune %s: %w", ix.collection, mapErr(err))
	}
	if res.DeletedCount > 0 {
		s.log.Info("pruned expired documents", "collection", ix.collection, "deleted", res.DeletedCount)
	}
	return nil
}

// unavailableCodes are the server error codes that mean the deployment cannot take the
// operation now but should shortly: no writable primary (an election, a step-down, a node
// starting or stopping), a network failure between members, a read or write concern that cannot
// be met in time, an operation that ran out of time.
var unavailableCodes = map[int32]string{
	6:     "HostUnreachable",
	7:     "HostNotFound",
	50:    "MaxTimeMSExpired",
	64:    "WriteConcernFailed",
	89:    "NetworkTimeout",
	91:    "ShutdownInProgress",
	100:   "UnsatisfiableWriteConcern",
	133:   "FailedToSatisfyReadPreference",
	134:   "ReadConcernMajorityNotAvailableYet",
	189:   "PrimarySteppedDown",
	262:   "ExceededTimeLimit",
	9001:  "SocketException",
	10058: "LegacyNotPrimary",
	10107: "NotWritablePrimary",
	11600: "InterruptedAtShutdown",
	11602: "InterruptedDueToReplStateChange",
	13435: "NotPrimaryNoSecondaryOk",
	13436: "NotPrimaryOrSecondary",
}

// writeConcernCodes are the codes of a write the primary applied but could not confirm at the
// write concern (majority) in time: it may or may not survive.
var writeConcernCodes = map[int32]bool{64: true, 100: true}

// Unavailability details, client-safe (the API's error handler sends them as the problem's
// detail with the status 503 and Retry-After).
const (
	detailUnreachable  = "the data store is unreachable"
	detailNoPrimary    = "the data store has no primary at the moment (an election or a restart); retry shortly"
	detailWriteConcern = "the data store did not confirm the write in time; it may have been applied: read the object again before retrying"
)

// storeRetryAfter is the Retry-After of a store outage: long enough for a driver to find the
// new primary after an election (typically 10-12 s in all, most of it before the first 503).
const storeRetryAfter = 5 * time.Second

// mapErr turns driver errors into the domain's sentinel errors: no document → not found,
// duplicate key → conflict; network trouble, timeouts, server selection, "not primary", a
// node shutting down or recovering, and write-concern failures → unavailable (503 with
// Retry-After, never a 500). Other errors pass through wrapped so they are logged as bugs.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var sse topology.ServerSelectionError
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%w: %w", models.ErrNotFound, err)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %w", models.ErrConflict, err)
	}
	if detail := unavailable(err); detail != "" {
		return fmt.Errorf("%w (%w)", &models.Error{Kind: models.ErrUnavailable, Detail: detail, RetryAfter: storeRetryAfter}, err)
	}
	if errors.As(err, &sse) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%w)", &models.Error{Kind: models.ErrUnavailable, Detail: detailUnreachable, RetryAfter: storeRetryAfter}, err)
	}
	return fmt.Errorf("mongodb: %w", err)
}

// unavailable returns the detail for a server error that means "not now", or "".
func unavailable(err error) string {
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		if we.WriteConcernError.Code == 50 || writeConcernCodes[int32(we.WriteConcernError.Code)] || len(we.WriteErrors) == 0 {
			return detailWriteConcern
		}
	}
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return ""
	}
	for _, c := range se.ErrorCodes() {
		if writeConcernCodes[int32(c)] {
			return detailWriteConcern
		}
	}
	for _, c := range se.ErrorCodes() {
		switch name := unavailableCodes[int32(c)]; {
		case name == "":
		case c == 6 || c == 7 || c == 89 || c == 9001 || c == 50 || c == 262:
			return detailUnreachable
		default:
			return detailNoPrimary
		}
	}
	if se.HasErrorLabel("RetryableWriteError") || se.HasErrorLabel("NetworkError") {
		return detailUnreachable
	}
	return ""
}
