// Package mongostore is capmatch's MongoDB adapter: it owns the driver client, creates the
// indexes at start-up, maps driver errors to the domain's sentinel errors, and implements the
// store interfaces of package models. It works against MongoDB 7 and against FerretDB 1.24
// (the embedded default), so it uses single-document atomic operations only: FerretDB has no
// multi-document transactions.
package mongostore

import (
	"context"
	"errors"
	"fmt"
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
	// serial is set on FerretDB, whose updates are a find followed by a write by _id with nothing
	// atomic in between (measured: 11 of 20 concurrent conditional updates on a 3-slot offer all
	// "matched"). Conditional writes then take an in-process lock per document. That is sound
	// because the embedded FerretDB serves one process; several API processes need MongoDB.
	serial bool
	log    *slog.Logger
}

// Options tunes how the store connects.
type Options struct {
	// ServerSelectionTimeout bounds how long an operation waits for a reachable server, so
	// that an unreachable store answers 503 quickly instead of hanging requests.
	ServerSelectionTimeout time.Duration
	Logger                 *slog.Logger
}

// Open connects to the MongoDB deployment at uri, uses database dbName, detects whether it is a
// replica set (then writes use majority write concern with journaling), and creates indexes.
func Open(ctx context.Context, uri, dbName string, opts Options) (*Store, error) {
	if opts.ServerSelectionTimeout == 0 {
		opts.ServerSelectionTimeout = 3 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	co := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(opts.ServerSelectionTimeout).
		SetConnectTimeout(opts.ServerSelectionTimeout).
		SetAppName("capmatch")
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
		_, s.serial = info["ferretdbVersion"]
	}
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

// Serialized reports whether conditional writes are serialized in-process (FerretDB).
func (s *Store) Serialized() bool { return s.serial }

// docLocks serializes conditional writes per document on FerretDB. It is shared by every Store
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

// guard returns the filter a conditional write sends. MongoDB applies the whole filter
// atomically with the write. FerretDB pushes only an _id equality down to SQLite and scans the
// collection for anything more, so on FerretDB (serial) the caller has verified the other
// conditions on a fresh read under lockDoc, and the write filters by _id alone.
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
	return s.client.Disconnect(ctx)
}

// Database exposes the underlying database for tests and maintenance tools.
func (s *Store) Database() *mongo.Database { return s.db }

// collections lists every collection capmatch keeps (import batches add temporary ones).
var collections = []string{colOrgs, colUsers, colRefresh, colRevocations, colAudit, colSettings,
	colNeeds, colOffers, colCountries, colEngagements, colProjects, colNotifications, colImports, colExternal}

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
		if _, err := s.db.Collection(ix.collection).Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index %s.%s: %w", ix.collection, ix.name, mapErr(err))
		}
	}
	return nil
}

// mapErr turns driver errors into the domain's sentinel errors: no document → not found,
// duplicate key → conflict, network trouble or timeouts → unavailable. Other errors pass
// through wrapped so they are logged as bugs.
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
	case errors.As(err, &sse), mongo.IsNetworkError(err), mongo.IsTimeout(err),
		errors.Is(err, mongo.ErrClientDisconnected), errors.Is(err, context.DeadlineExceeded):
		return &models.Error{Kind: models.ErrUnavailable, Detail: "the data store is unreachable", RetryAfter: 5 * time.Second}
	}
	return fmt.Errorf("mongodb: %w", err)
}
