package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/capmatch/capmatch/models"
)

// MarketSource is what MarketReader falls back on: the store adapter (mongostore.Store), which
// reads through FerretDB.
type MarketSource interface {
	EachNeed(ctx context.Context, known func(string, int64) bool, f func(*models.Need) error) error
	EachOffer(ctx context.Context, known func(string, int64) bool, f func(*models.Offer) error) error
	GetNeed(ctx context.Context, id string) (*models.Need, error)
	GetOffer(ctx context.Context, id string) (*models.Offer, error)
}

// MarketReader reads every need and offer of one database of the embedded FerretDB straight
// from its SQLite file, for full loads (the start-up's, the reconcile's; service.Deps.BulkMarket;
// issue 16). Through FerretDB a full read
// is its start-up's whole cost: FerretDB 1.24 parses each document's sjson into its own
// document type, filters and projects it, encodes it to BSON for the wire, and the driver
// decodes it again, about 0.3 ms of CPU a document (measured: 6.0 s of 8.0 s of CPU for 20,000
// documents went to FerretDB, 0.3 s of it to SQLite's reading of the rows). Here each
// collection is read in one read transaction of its own (a snapshot of it) and each document
// parsed once, into the same values the driver would produce (sjson.go says what is decoded
// and what is refused).
//
// It never returns a wrong object: when the file is not laid out as it knows FerretDB 1.24's
// (the database, the collections' catalogue, the table or its column missing; a Go type it
// does not decode), it reads the whole collection through the store adapter instead, before
// passing anything on; a document it does not know how to decode exactly (a type or a schema
// it does not know) is read on its own through the store adapter; and if reading the file
// fails half-way, the rest is read through the store adapter, skipping what was passed on. It
// logs each fallback at Warn.
//
// It implements the EachNeed and EachOffer of models.NeedStore and models.OfferStore, with
// the same contract.
type MarketReader struct {
	path     string
	fallback MarketSource
	log      *slog.Logger
}

// NewMarketReader reads database db of the FerretDB whose SQLite files are in dir
// (FerretDB.Dir), falling back on fallback.
func NewMarketReader(dir, db string, fallback MarketSource, log *slog.Logger) *MarketReader {
	if log == nil {
		log = slog.Default()
	}
	return &MarketReader{path: filepath.Join(dir, db+".sqlite"), fallback: fallback, log: log}
}

// Dir is the directory of the SQLite files, for NewMarketReader.
func (s *FerretDB) Dir() string { return s.dir }

// EachNeed implements models.NeedStore.EachNeed.
func (r *MarketReader) EachNeed(ctx context.Context, known func(string, int64) bool, f func(*models.Need) error) error {
	return eachDoc(ctx, r, "needs", known, f, r.fallback.EachNeed, r.fallback.GetNeed,
		func(n *models.Need) (string, int64) { return n.ID, n.Version })
}

// EachOffer implements models.OfferStore.EachOffer.
func (r *MarketReader) EachOffer(ctx context.Context, known func(string, int64) bool, f func(*models.Offer) error) error {
	return eachDoc(ctx, r, "offers", known, f, r.fallback.EachOffer, r.fallback.GetOffer,
		func(o *models.Offer) (string, int64) { return o.ID, o.Version })
}

// maxOneByOne is the most documents of a read that are read one by one through the store
// adapter; beyond it the rest of the collection is.
var maxOneByOne = 1000

// eachDoc is EachNeed and EachOffer for collection coll.
func eachDoc[T any](ctx context.Context, r *MarketReader, coll string, known func(string, int64) bool, f func(*T) error,
	all func(context.Context, func(string, int64) bool, func(*T) error) error,
	one func(context.Context, string) (*T, error), key func(*T) (string, int64)) error {
	t0 := time.Now()
	whole := func(reason error) error {
		r.log.WarnContext(ctx, "full load: reading "+coll+" through FerretDB, not from its file", "reason", reason.Error())
		return all(ctx, known, f)
	}
	plan, err := planFor(reflect.TypeFor[T]())
	if err != nil {
		return whole(err)
	}
	conn, rows, err := r.open(ctx, coll)
	if err != nil {
		return whole(err)
	}
	defer conn.Close()
	defer rows.Close()

	dec := newSJDecoder()
	delivered := make(map[string]struct{})
	var retry []string // documents read one by one
	rest := false      // whether the rest of the collection is read through FerretDB
	var raw sql.RawBytes
	n := 0
	for rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			r.log.WarnContext(ctx, "full load: reading "+coll+" from its file failed; reading the rest through FerretDB", "err", err.Error())
			rest = true
			break
		}
		v := new(T)
		if err := dec.decode(raw, plan, reflect.ValueOf(v).Elem()); err != nil {
			id, ok := docID(raw)
			if !ok || len(retry) >= maxOneByOne {
				r.log.WarnContext(ctx, "full load: a document of "+coll+" is not decoded here; reading the rest through FerretDB", "err", err.Error())
				rest = true
				break
			}
			r.log.WarnContext(ctx, "full load: a document of "+coll+" is read through FerretDB", "id", id, "err", err.Error())
			retry = append(retry, id)
			continue
		}
		n++
		id, version := key(v)
		delivered[id] = struct{}{}
		if known != nil && known(id, version) {
			continue
		}
		if err := f(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil && !rest {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.WarnContext(ctx, "full load: reading "+coll+" from its file failed; reading the rest through FerretDB", "err", err.Error())
		rest = true
	}
	rows.Close()
	conn.Close()
	if rest {
		skip := func(id string, version int64) bool {
			if _, ok := delivered[id]; ok {
				return true
			}
			return known != nil && known(id, version)
		}
		return all(ctx, skip, func(v *T) error {
			if id, _ := key(v); id != "" {
				if _, ok := delivered[id]; ok {
					return nil // passed on already (its id was not a string in the document)
				}
			}
			return f(v)
		})
	}
	for _, id := range retry {
		v, err := one(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			return err
		}
		if k, version := key(v); known != nil && known(k, version) {
			continue
		}
		if err := f(v); err != nil {
			return err
		}
	}
	r.log.InfoContext(ctx, "full load: "+coll+" read from the embedded store's file", "documents", n, "read_one_by_one", len(retry),
		"took", time.Since(t0).Round(time.Millisecond).String())
	return nil
}

// open starts a read transaction on the database file and the query of collection coll's
// documents; an error means the file is not laid out as expected (nothing was read).
func (r *MarketReader) open(ctx context.Context, coll string) (*sql.DB, *sql.Rows, error) {
	if _, err := os.Stat(r.path); err != nil {
		return nil, nil, err
	}
	// query_only: this connection never writes, whatever happens.
	db, err := sql.Open("sqlite", "file:"+r.path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	fail := func(err error) (*sql.DB, *sql.Rows, error) {
		db.Close()
		return nil, nil, err
	}
	var table string
	if err := db.QueryRowContext(ctx, "SELECT table_name FROM _ferretdb_collections WHERE name = ?", coll).Scan(&table); err != nil {
		return fail(fmt.Errorf("collection %s in the catalogue: %w", coll, err))
	}
	if !validName.MatchString(table) {
		return fail(fmt.Errorf("unexpected table name %q", table))
	}
	// The documents in one statement: SQLite reads them in one read transaction, a snapshot
	// of the collection however FerretDB writes meanwhile (WAL).
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT _ferretdb_sjson FROM "%s"`, table))
	if err != nil {
		return fail(fmt.Errorf("read table %s: %w", table, err))
	}
	return db, rows, nil
}

// docID is the document's _id when its schema says it is a string, found without decoding the
// rest.
func docID(doc []byte) (string, bool) {
	spans, err := members(doc, nil)
	if err != nil || len(spans) == 0 || !spans[0].is("$s") {
		return "", false
	}
	var sch sjSchema
	if err := json.Unmarshal(doc[spans[0].start:spans[0].end], &sch); err != nil {
		return "", false
	}
	if e := sch.Props["_id"]; e == nil || e.T != "string" {
		return "", false
	}
	for i := range spans {
		if spans[i].is("_id") {
			s, err := jsonString(doc[spans[i].start:spans[i].end])
			return s, err == nil
		}
	}
	return "", false
}
