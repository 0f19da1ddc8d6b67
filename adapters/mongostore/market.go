package mongostore

import (
	"context"
	"errors"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

const (
	colNeeds     = "needs"
	colOffers    = "offers"
	colCountries = "countries"
)

// CreateNeed implements models.NeedStore.
func (s *Store) CreateNeed(ctx context.Context, n *models.Need) error {
	return s.insertVersioned(ctx, s.db.Collection(colNeeds), n)
}

// GetNeed implements models.NeedStore.
func (s *Store) GetNeed(ctx context.Context, id string) (*models.Need, error) {
	return findByID[models.Need](ctx, s.db.Collection(colNeeds), id)
}

// ReplaceNeed implements models.NeedStore.
func (s *Store) ReplaceNeed(ctx context.Context, n *models.Need, prev int64) error {
	return s.replaceVersioned(ctx, s.db.Collection(colNeeds), n.ID, prev, n)
}

// ListNeeds implements models.NeedStore.
func (s *Store) ListNeeds(ctx context.Context) ([]*models.Need, error) {
	return findAll[models.Need](ctx, s.db.Collection(colNeeds), bson.D{}, nil)
}

// EachNeed implements models.NeedStore.
func (s *Store) EachNeed(ctx context.Context, known func(string, int64) bool, f func(*models.Need) error) error {
	return forEach(ctx, s.db.Collection(colNeeds), known, f)
}

// EachOffer implements models.OfferStore.
func (s *Store) EachOffer(ctx context.Context, known func(string, int64) bool, f func(*models.Offer) error) error {
	return forEach(ctx, s.db.Collection(colOffers), known, f)
}

// CreateOffer implements models.OfferStore.
func (s *Store) CreateOffer(ctx context.Context, o *models.Offer) error {
	return s.insertVersioned(ctx, s.db.Collection(colOffers), o)
}

// GetOffer implements models.OfferStore.
func (s *Store) GetOffer(ctx context.Context, id string) (*models.Offer, error) {
	return findByID[models.Offer](ctx, s.db.Collection(colOffers), id)
}

// ListOffers implements models.OfferStore.
func (s *Store) ListOffers(ctx context.Context) ([]*models.Offer, error) {
	return findAll[models.Offer](ctx, s.db.Collection(colOffers), bson.D{}, nil)
}

// GetCountryProfile implements models.CountryStore.
func (s *Store) GetCountryProfile(ctx context.Context, iso string) (*models.CountryProfile, error) {
	return findByID[models.CountryProfile](ctx, s.db.Collection(colCountries), iso)
}

// PutCountryProfile implements models.CountryStore: the first profile of a country is an
// insert (a concurrent first insert loses with ErrConflict), later ones replace by version.
func (s *Store) PutCountryProfile(ctx context.Context, p *models.CountryProfile, prev int64) error {
	if prev == 0 {
		err := s.insertVersioned(ctx, s.db.Collection(colCountries), p)
		if errors.Is(err, models.ErrConflict) {
			return models.Errorf(models.ErrConflict, "the profile was changed by someone else; reload it")
		}
		return err
	}
	return s.replaceVersioned(ctx, s.db.Collection(colCountries), p.ISO, prev, p)
}

// ListCountryProfiles implements models.CountryStore.
func (s *Store) ListCountryProfiles(ctx context.Context) ([]*models.CountryProfile, error) {
	return findAll[models.CountryProfile](ctx, s.db.Collection(colCountries), bson.D{}, nil)
}

// replaceVersioned writes doc over the document with _id id if its version is still prev:
// optimistic concurrency on one document, which MongoDB and FerretDB both apply atomically. It
// updates the fields this build knows (setUpdate) rather than replacing the document, so that
// fields a newer build added survive.
func (s *Store) replaceVersioned(ctx context.Context, coll *mongo.Collection, id string, prev int64, doc any) error {
	update, err := setUpdate(doc, nil)
	if err != nil {
		return err
	}
	return s.updateVersioned(ctx, coll, id, prev, update)
}

// staleVersion is the conflict of a conditional write whose expected version prev is no longer
// the stored one.
func staleVersion(prev int64) error {
	return models.Errorf(models.ErrConflict, "version %d is stale: the object was changed by someone else; reload it", prev)
}

// updateVersioned applies update to the document with _id id if its version is still prev.
func (s *Store) updateVersioned(ctx context.Context, coll *mongo.Collection, id string, prev int64, update bson.D) error {
	defer s.lockDoc(coll.Name(), id)()
	if _, known := s.knownAt(coll.Name(), id, prev); s.serial && !known {
		v, err := versionOf(ctx, coll, id)
		if err != nil {
			return err
		}
		if v != prev {
			return staleVersion(prev)
		}
	}
	res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: id}, {Key: "version", Value: prev}}), update)
	if err != nil {
		s.forget(coll.Name(), id)
		return mapErr(err)
	}
	if res.MatchedCount == 1 {
		s.wroteUpdate(coll.Name(), id, update, nil)
		return nil
	}
	s.forget(coll.Name(), id)
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return models.Errorf(models.ErrNotFound, "%s not found", coll.Name())
	}
	return staleVersion(prev)
}
