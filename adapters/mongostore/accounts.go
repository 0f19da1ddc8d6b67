package mongostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection names.
const (
	colOrgs        = "organizations"
	colUsers       = "users"
	colRefresh     = "refresh_tokens"
	colRevocations = "revocations"
	colAudit       = "audit"
	colSettings    = "settings"
	colResets      = "password_resets"
)

// revocationTTL is how long a revocation is kept after the token it names has expired: none, as
// an expired token is refused anyway. (MongoDB's TTL monitor runs every 60 s, so documents
// linger up to a minute; ListRevocations filters on expires_at regardless.)
var revocationTTL = time.Duration(0)

func init() {
	indexes = append(indexes,
		index{collection: colUsers, keys: bson.D{{Key: "email_key", Value: 1}}, unique: true, name: "email_key_unique"},
		index{collection: colAudit, keys: bson.D{{Key: "object_id", Value: 1}, {Key: "at", Value: -1}}, name: "object_at"},
		// The unfiltered audit listing (newest first, with a limit) reads this index instead
		// of sorting the whole trail.
		index{collection: colAudit, keys: bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, name: "at_id"},
		// Named as `createIndex({expires_at: 1}, {expireAfterSeconds: 0})` names it, so that an
		// index an operator made by hand (as docs/operations.md once advised) is the same one.
		index{collection: colRevocations, keys: bson.D{{Key: "expires_at", Value: 1}}, name: "expires_at_1", ttl: &revocationTTL},
	)
}

// CreateOrg implements models.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *models.Organization) error {
	_, err := s.db.Collection(colOrgs).InsertOne(ctx, o)
	return mapErr(err)
}

// GetOrg implements models.OrgStore.
func (s *Store) GetOrg(ctx context.Context, id string) (*models.Organization, error) {
	return findByID[models.Organization](ctx, s.db.Collection(colOrgs), id)
}

// ListOrgs implements models.OrgStore.
func (s *Store) ListOrgs(ctx context.Context) ([]*models.Organization, error) {
	return findAll[models.Organization](ctx, s.db.Collection(colOrgs), bson.D{}, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
}

// CreateUser implements models.UserStore. The unique index on email_key turns a taken
// address into ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	_, err := s.db.Collection(colUsers).InsertOne(ctx, u)
	return mapErr(err)
}

// GetUser implements models.UserStore.
func (s *Store) GetUser(ctx context.Context, id string) (*models.User, error) {
	return findByID[models.User](ctx, s.db.Collection(colUsers), id)
}

// GetUserByEmail implements models.UserStore.
func (s *Store) GetUserByEmail(ctx context.Context, emailKey string) (*models.User, error) {
	var u models.User
	err := s.db.Collection(colUsers).FindOne(ctx, bson.D{{Key: "email_key", Value: emailKey}}).Decode(&u)
	if err != nil {
		return nil, mapErr(err)
	}
	return &u, nil
}

// ListUsers implements models.UserStore.
func (s *Store) ListUsers(ctx context.Context) ([]*models.User, error) {
	return findAll[models.User](ctx, s.db.Collection(colUsers), bson.D{}, options.Find().SetSort(bson.D{{Key: "email_key", Value: 1}}))
}

// CountUsers implements models.UserStore.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	n, err := s.db.Collection(colUsers).CountDocuments(ctx, bson.D{})
	return n, mapErr(err)
}

// SetUserDisabled implements models.UserStore.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) (*models.User, error) {
	defer s.lockDoc(colUsers, id)()
	var u models.User
	err := s.db.Collection(colUsers).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: disabled}, {Key: "updated_at", Value: at}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	if err != nil {
		return nil, mapErr(err)
	}
	return &u, nil
}

// SetUserLang implements models.UserStore.
func (s *Store) SetUserLang(ctx context.Context, id, lang string, at time.Time) error {
	defer s.lockDoc(colUsers, id)()
	res, err := s.db.Collection(colUsers).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lang", Value: lang}, {Key: "updated_at", Value: at}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return models.Errorf(models.ErrNotFound, "user not found")
	}
	return nil
}

// SetUserPassword implements models.UserStore with one write conditional on the version.
func (s *Store) SetUserPassword(ctx context.Context, id string, version int64, hash string, mustChange bool, at time.Time) (*models.User, error) {
	coll := s.db.Collection(colUsers)
	defer s.lockDoc(colUsers, id)()
	if s.serial {
		v, err := versionOf(ctx, coll, id)
		if err != nil {
			return nil, err
		}
		if v != version {
			return nil, models.Errorf(models.ErrConflict, "the account changed meanwhile; try again")
		}
	}
	var u models.User
	err := coll.FindOneAndUpdate(ctx, s.guard(bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "password_hash", Value: hash}, {Key: "must_change_password", Value: mustChange},
			{Key: "updated_at", Value: at}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		if _, gerr := versionOf(ctx, coll, id); gerr != nil {
			return nil, gerr
		}
		return nil, models.Errorf(models.ErrConflict, "the account changed meanwhile; try again")
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &u, nil
}

// PutPasswordReset implements models.UserStore: one document per user, replaced.
func (s *Store) PutPasswordReset(ctx context.Context, r *models.PasswordReset) error {
	defer s.lockDoc(colResets, r.UserID)()
	_, err := s.db.Collection(colResets).ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.UserID}}, r, options.Replace().SetUpsert(true))
	return mapErr(err)
}

// GetPasswordReset implements models.UserStore.
func (s *Store) GetPasswordReset(ctx context.Context, userID string) (*models.PasswordReset, error) {
	return findByID[models.PasswordReset](ctx, s.db.Collection(colResets), userID)
}

// UsePasswordReset implements models.UserStore with one conditional update, so that of two
// concurrent uses of a link exactly one succeeds.
func (s *Store) UsePasswordReset(ctx context.Context, userID, hash string, at time.Time) (*models.PasswordReset, error) {
	coll := s.db.Collection(colResets)
	defer s.lockDoc(colResets, userID)()
	gone := models.Errorf(models.ErrNotFound, "no usable reset link")
	if s.serial {
		r, err := findByID[models.PasswordReset](ctx, coll, userID)
		if err != nil {
			return nil, err
		}
		if r.Hash != hash || r.UsedAt != nil || !r.ExpiresAt.After(at) {
			return nil, gone
		}
	}
	var r models.PasswordReset
	err := coll.FindOneAndUpdate(ctx,
		s.guard(bson.D{{Key: "_id", Value: userID}, {Key: "hash", Value: hash}, {Key: "used_at", Value: nil},
			{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: at}}}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "used_at", Value: at}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, gone
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// DeletePasswordReset implements models.UserStore.
func (s *Store) DeletePasswordReset(ctx context.Context, userID string) error {
	defer s.lockDoc(colResets, userID)()
	_, err := s.db.Collection(colResets).DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
	return mapErr(err)
}

// CreateRefreshToken implements models.TokenStore.
func (s *Store) CreateRefreshToken(ctx context.Context, t *models.RefreshToken) error {
	_, err := s.db.Collection(colRefresh).InsertOne(ctx, t)
	return mapErr(err)
}

// RetireRefreshToken implements models.TokenStore with one conditional update, so that of two
// concurrent refreshes with the same token exactly one succeeds.
func (s *Store) RetireRefreshToken(ctx context.Context, hash string, at time.Time) (*models.RefreshToken, error) {
	coll := s.db.Collection(colRefresh)
	defer s.lockDoc(colRefresh, hash)()
	if s.serial {
		old, err := findByID[models.RefreshToken](ctx, coll, hash)
		if err != nil {
			return nil, err
		}
		if old.RetiredAt != nil {
			return old, fmt.Errorf("%w: refresh token already used", models.ErrConflict)
		}
	}
	var t models.RefreshToken
	err := coll.FindOneAndUpdate(ctx,
		s.guard(bson.D{{Key: "_id", Value: hash}, {Key: "retired_at", Value: nil}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "retired_at", Value: at}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&t)
	if err == nil {
		return &t, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, mapErr(err)
	}
	// Not active: either it never existed, or it was retired before (a reuse).
	old, gerr := findByID[models.RefreshToken](ctx, coll, hash)
	if gerr != nil {
		return nil, gerr
	}
	return old, fmt.Errorf("%w: refresh token already used", models.ErrConflict)
}

// Revoke implements models.TokenStore; revoking twice keeps the first record.
func (s *Store) Revoke(ctx context.Context, r models.Revocation) error {
	defer s.lockDoc(colRevocations, r.ID)()
	_, err := s.db.Collection(colRevocations).UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "reason", Value: r.Reason}, {Key: "at", Value: r.At}, {Key: "expires_at", Value: r.ExpiresAt}}}},
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // a concurrent upsert won; the revocation exists
	}
	return mapErr(err)
}

// PutRevocation implements models.TokenStore.
func (s *Store) PutRevocation(ctx context.Context, r models.Revocation) error {
	defer s.lockDoc(colRevocations, r.ID)()
	_, err := s.db.Collection(colRevocations).ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.ID}}, r, options.Replace().SetUpsert(true))
	return mapErr(err)
}

// GetRevocation implements models.TokenStore.
func (s *Store) GetRevocation(ctx context.Context, id string) (*models.Revocation, error) {
	return findByID[models.Revocation](ctx, s.db.Collection(colRevocations), id)
}

// ListRevocations implements models.TokenStore.
func (s *Store) ListRevocations(ctx context.Context, now time.Time) ([]models.Revocation, error) {
	rs, err := findAll[models.Revocation](ctx, s.db.Collection(colRevocations), bson.D{{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}}}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]models.Revocation, len(rs))
	for i, r := range rs {
		out[i] = *r
	}
	return out, nil
}

// AppendAudit implements models.AuditStore. The trail is append-only: nothing updates or
// deletes audit documents.
// On the embedded store, where writes queue (writeGate), entries appended together go in one
// insert (auditBatcher); each call returns once its own entry is stored, or with the error.
func (s *Store) AppendAudit(ctx context.Context, e *models.AuditEntry) error {
	if s.audits != nil {
		return s.audits.add(ctx, e)
	}
	_, err := s.db.Collection(colAudit).InsertOne(ctx, e)
	return mapErr(err)
}

// insertAudits inserts entries in one ordered insert: on FerretDB, one SQLite transaction.
func (s *Store) insertAudits(ctx context.Context, entries []*models.AuditEntry) error {
	docs := make([]any, len(entries))
	for i, e := range entries {
		docs[i] = e
	}
	_, err := s.db.Collection(colAudit).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return mapErr(err)
}

// ListAudit implements models.AuditStore.
func (s *Store) ListAudit(ctx context.Context, objectID string, limit int) ([]*models.AuditEntry, error) {
	filter := bson.D{}
	if objectID != "" {
		filter = bson.D{{Key: "object_id", Value: objectID}}
	}
	return findAll[models.AuditEntry](ctx, s.db.Collection(colAudit), filter,
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
}

// setting is one named value.
type setting struct {
	Name  string `bson:"_id"`
	Value []byte `bson:"value"`
}

// GetOrCreateSetting implements models.SettingStore: an insert that loses a race to another
// replica reads the winner's value, so every replica ends up with the same one.
func (s *Store) GetOrCreateSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	coll := s.db.Collection(colSettings)
	_, err := coll.InsertOne(ctx, setting{Name: name, Value: value})
	if err == nil {
		return value, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return nil, mapErr(err)
	}
	st, err := findByID[setting](ctx, coll, name)
	if err != nil {
		return nil, err
	}
	return st.Value, nil
}

// MarkSetting implements models.SettingStore.
func (s *Store) MarkSetting(ctx context.Context, name string, value []byte) error {
	_, err := s.db.Collection(colSettings).ReplaceOne(ctx, bson.D{{Key: "_id", Value: name}}, setting{Name: name, Value: value},
		options.Replace().SetUpsert(true))
	return mapErr(err)
}

// SwapSetting implements models.SettingStore.
func (s *Store) SwapSetting(ctx context.Context, name string, old, new []byte) (bool, error) {
	defer s.lockDoc(colSettings, name)()
	if s.serial {
		cur, err := findByID[setting](ctx, s.db.Collection(colSettings), name)
		if err != nil || !bytes.Equal(cur.Value, old) {
			return false, err
		}
	}
	res, err := s.db.Collection(colSettings).UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: name}, {Key: "value", Value: old}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "value", Value: new}}}})
	if err != nil {
		return false, mapErr(err)
	}
	return res.MatchedCount == 1, nil
}

// findByID loads one document by _id.
func findByID[T any](ctx context.Context, coll *mongo.Collection, id string) (*T, error) {
	var v T
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&v); err != nil {
		return nil, mapErr(err)
	}
	return &v, nil
}

// forEach decodes every document of a collection into a new T and hands it to f, one at a
// time: only the cursor's current batch is held, not the whole collection. A document whose
// _id and version known reports as held is skipped undecoded: reading those two fields from
// the raw document costs far less than decoding it, and a reload finds most documents
// unchanged.
func forEach[T any](ctx context.Context, coll *mongo.Collection, known func(string, int64) bool, f func(*T) error) error {
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return mapErr(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if known != nil {
			id, okID := cur.Current.Lookup("_id").StringValueOK()
			version, okV := cur.Current.Lookup("version").AsInt64OK()
			if okID && okV && known(id, version) {
				continue
			}
		}
		v := new(T)
		if err := cur.Decode(v); err != nil {
			return fmt.Errorf("decode %s: %w", coll.Name(), err)
		}
		if err := f(v); err != nil {
			return err
		}
	}
	return mapErr(cur.Err())
}

// findAll loads every document that matches filter.
func findAll[T any](ctx context.Context, coll *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]*T, error) {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(err)
	}
	defer cur.Close(ctx)
	var out []*T
	for cur.Next(ctx) {
		v := new(T)
		if err := cur.Decode(v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", coll.Name(), err)
		}
		out = append(out, v)
	}
	return out, mapErr(cur.Err())
}
