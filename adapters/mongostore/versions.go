package mongostore

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// knownVersions remembers, on FerretDB reached directly (Store.serial), the version of each
// need, offer and engagement as this process last wrote it, so that a conditional write whose
// expected version is that one skips the read that checks it (issue 16, target 4: a version
// read is a store round trip, 1.5-2 ms on the embedded store, and an accept made four of them).
//
// It is sound for the same reason the in-process document locks are: on FerretDB reached
// directly only this process writes, and every write of these three collections in this
// package goes through lockDoc and then tells the cache what it left (wrote) or that it does
// not know (forget: an error, whose write may or may not have happened; a write whose result
// it does not read). A stale entry can therefore only be older than the document if something
// wrote the document outside this package, which serial mode already rules out. And it is only
// ever used to skip a read, never to refuse a write: an expected version that differs from the
// entry is checked against the store, as without the cache. Entries are shared by every Store
// of the process on the same address and database (two API replicas in one test process), like
// the locks; Open forgets the entries of its database, in case a server restarted at the same
// address holds other data, and Close forgets them too.
type knownVersions struct {
	mu sync.Mutex
	// byStore holds, per store address and database (Store.instance), the documents by
	// collection and id.
	byStore map[string]map[string]knownDoc
}

// knownDoc is what the cache knows of one document: its version and, for an engagement, the
// ids of its stored messages (ReplaceEngagement's version read also read those).
type knownDoc struct {
	version    int64
	messageIDs []string
}

// knownMax bounds one store's entries: past it they start again empty (a forgotten entry costs
// one read). 2^17 entries, an estimated ~20 MB (not measured).
const knownMax = 1 << 17

// versions is the process's cache (see knownVersions).
var versions = &knownVersions{byStore: map[string]map[string]knownDoc{}}

// cachedColls are the collections whose versions are remembered: the market's writes.
var cachedColls = map[string]bool{colNeeds: true, colOffers: true, colEngagements: true}

// knownKey names a document within its store's entries: the collection and the id; ok false
// when the document's version is not remembered (not serial, another collection).
func (s *Store) knownKey(coll, id string) (string, bool) {
	if !s.serial || !cachedColls[coll] {
		return "", false
	}
	return coll + "\x00" + id, true
}

// knownAt returns what the cache knows of a document whose expected version is prev: ok only
// when the entry says the stored version is prev. The caller holds the document's lock.
func (s *Store) knownAt(coll, id string, prev int64) (knownDoc, bool) {
	k, ok := s.knownKey(coll, id)
	if !ok {
		return knownDoc{}, false
	}
	versions.mu.Lock()
	defer versions.mu.Unlock()
	d, ok := versions.byStore[s.instance][k]
	if !ok || d.version != prev {
		return knownDoc{}, false
	}
	return d, true
}

// wrote records that this process left a document at version v (with messageIDs for an
// engagement). The caller holds the document's lock and saw its write succeed.
func (s *Store) wrote(coll, id string, v int64, messageIDs []string) {
	k, ok := s.knownKey(coll, id)
	if !ok {
		return
	}
	versions.mu.Lock()
	defer versions.mu.Unlock()
	docs := versions.byStore[s.instance]
	if docs == nil || len(docs) >= knownMax {
		docs = map[string]knownDoc{}
		versions.byStore[s.instance] = docs
	}
	docs[k] = knownDoc{version: v, messageIDs: messageIDs}
}

// wroteUpdate records the version a successful update from setUpdate left (wrote), or forgets
// the document when the update sets none.
func (s *Store) wroteUpdate(coll, id string, update bson.D, messageIDs []string) {
	if v, ok := versionSet(update); ok {
		s.wrote(coll, id, v, messageIDs)
		return
	}
	s.forget(coll, id)
}

// forget drops what the cache knows of a document: its next conditional write reads the version.
func (s *Store) forget(coll, id string) {
	k, ok := s.knownKey(coll, id)
	if !ok {
		return
	}
	versions.mu.Lock()
	defer versions.mu.Unlock()
	delete(versions.byStore[s.instance], k)
}

// forgetAll drops every entry of this store's address and database (Open, Close).
func (s *Store) forgetAll() {
	versions.mu.Lock()
	defer versions.mu.Unlock()
	delete(versions.byStore, s.instance)
}

// versionSet is the version an update from setUpdate writes ($set of "version"); ok false when
// it writes none.
func versionSet(update bson.D) (int64, bool) {
	set, _ := fieldOf(update, "$set").(bson.D)
	return asInt64(fieldOf(set, "version"))
}

// asInt64 is a BSON integer as int64; ok false for anything else (nil included).
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}
