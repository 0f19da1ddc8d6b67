package mongostore

import (
	"context"
	"errors"
	"sort"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The collections of the Points of Contact directory and its communication checks. Requests
// read them by _id only (FerretDB scans for any other filter): a state's directory by its ISO
// code, a user's link by the user id, a check by its id. Only start-up derivation, demo loading,
// the list of checks (a few a year) and the outbox page read a whole collection.
const (
	colPoCs      = "pocs"       // one document per state: its contacts and check outcomes
	colPoCLinks  = "poc_links"  // user id → the state whose nominated PoC the user is
	colPoCChecks = "poc_checks" // one document per communication check
	colOutbox    = "outbox"     // e-mails written while no SMTP server is configured
)

func init() {
	collections = append(collections, colPoCs, colPoCLinks, colPoCChecks, colOutbox)
}

// GetPoCDirectory implements models.PoCStore.
func (s *Store) GetPoCDirectory(ctx context.Context, iso string) (*models.PoCDirectory, error) {
	d, err := findByID[models.PoCDirectory](ctx, s.db.Collection(colPoCs), iso)
	if errors.Is(err, models.ErrNotFound) {
		return &models.PoCDirectory{ISO: iso}, nil
	}
	return d, err
}

// PutPoCDirectory implements models.PoCStore: the first entry of a state is an insert (a
// concurrent first insert loses with ErrConflict), later ones replace by version.
func (s *Store) PutPoCDirectory(ctx context.Context, d *models.PoCDirectory, prev int64) error {
	coll := s.db.Collection(colPoCs)
	if prev == 0 {
		err := s.insertVersioned(ctx, coll, d)
		if errors.Is(err, models.ErrConflict) {
			return models.Errorf(models.ErrConflict, "the state's Points of Contact changed meanwhile; reload them")
		}
		return err
	}
	return s.replaceVersioned(ctx, coll, d.ISO, prev, d)
}

// ListPoCDirectories implements models.PoCStore.
func (s *Store) ListPoCDirectories(ctx context.Context) ([]*models.PoCDirectory, error) {
	return findAll[models.PoCDirectory](ctx, s.db.Collection(colPoCs), bson.D{}, nil)
}

// pocLink is a user's link to the state whose PoC they are.
type pocLink struct {
	UserID string `bson:"_id"`
	ISO    string `bson:"iso"`
}

// GetPoCLink implements models.PoCStore.
func (s *Store) GetPoCLink(ctx context.Context, userID string) (string, error) {
	l, err := findByID[pocLink](ctx, s.db.Collection(colPoCLinks), userID)
	if err != nil {
		return "", err
	}
	return l.ISO, nil
}

// PutPoCLink implements models.PoCStore with one upsert by _id.
func (s *Store) PutPoCLink(ctx context.Context, userID, iso string) error {
	_, err := s.db.Collection(colPoCLinks).ReplaceOne(ctx, bson.D{{Key: "_id", Value: userID}}, pocLink{UserID: userID, ISO: iso},
		options.Replace().SetUpsert(true))
	return mapErr(err)
}

// DeletePoCLink implements models.PoCStore.
func (s *Store) DeletePoCLink(ctx context.Context, userID string) error {
	_, err := s.db.Collection(colPoCLinks).DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
	return mapErr(err)
}

// CreatePoCCheck implements models.PoCStore.
func (s *Store) CreatePoCCheck(ctx context.Context, c *models.PoCCheck) error {
	return s.insertVersioned(ctx, s.db.Collection(colPoCChecks), c)
}

// GetPoCCheck implements models.PoCStore.
func (s *Store) GetPoCCheck(ctx context.Context, id string) (*models.PoCCheck, error) {
	return findByID[models.PoCCheck](ctx, s.db.Collection(colPoCChecks), id)
}

// ReplacePoCCheck implements models.PoCStore.
func (s *Store) ReplacePoCCheck(ctx context.Context, c *models.PoCCheck, prev int64) error {
	return s.replaceVersioned(ctx, s.db.Collection(colPoCChecks), c.ID, prev, c)
}

// ListPoCChecks implements models.PoCStore. Checks are few (a coordinator runs one every few
// months), so the collection is read whole and sorted here.
func (s *Store) ListPoCChecks(ctx context.Context) ([]*models.PoCCheck, error) {
	out, err := findAll[models.PoCCheck](ctx, s.db.Collection(colPoCChecks), bson.D{}, nil)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// AppendOutbox implements models.OutboxStore.
func (s *Store) AppendOutbox(ctx context.Context, m *models.MailMessage) error {
	_, err := s.db.Collection(colOutbox).InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		return nil // a retried write of the same message
	}
	return mapErr(err)
}

// ListOutbox implements models.OutboxStore. The outbox is the embedded default's stand-in for
// an SMTP server, read by coordinators now and then, so it is read whole and sorted here.
func (s *Store) ListOutbox(ctx context.Context, limit int) ([]*models.MailMessage, error) {
	out, err := findAll[models.MailMessage](ctx, s.db.Collection(colOutbox), bson.D{}, nil)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
