package mongostore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	colEngagements = "engagements"
	colProjects    = "projects"
	colKeys        = "idempotency_keys"
)

// capacityFields are the offer fields only the reservation operations change.
var capacityFields = map[string]bool{"_id": true, "reservations": true, "engagements_used": true, "budget_committed_usd": true}

// ReplaceOffer implements models.OfferStore: an update of every content field (set, or unset
// when cleared; setUpdate), conditional on the version, that leaves the capacity counters alone.
func (s *Store) ReplaceOffer(ctx context.Context, o *models.Offer, prev int64) error {
	update, err := setUpdate(o, capacityFields)
	if err != nil {
		return err
	}
	coll := s.db.Collection(colOffers)
	defer s.lockDoc(colOffers, o.ID)()
	if _, known := s.knownAt(colOffers, o.ID, prev); s.serial && !known {
		v, err := versionOf(ctx, coll, o.ID)
		if err != nil {
			return err
		}
		if v != prev {
			return missingOrStale(ctx, coll, o.ID, prev)
		}
	}
	res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: o.ID}, {Key: "version", Value: prev}}), update)
	if err != nil {
		s.forget(colOffers, o.ID)
		return mapErr(err)
	}
	if res.MatchedCount == 1 {
		s.wroteUpdate(colOffers, o.ID, update, nil)
		return nil
	}
	s.forget(colOffers, o.ID)
	return missingOrStale(ctx, coll, o.ID, prev)
}

func missingOrStale(ctx context.Context, coll *mongo.Collection, id string, prev int64) error {
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return models.Errorf(models.ErrNotFound, "%s not found", coll.Name())
	}
	return staleVersion(prev)
}

// ReserveOfferSlot implements models.OfferStore with one conditional update: the filter holds
// the offer's capacity as read (status open, the slot limit and budget unchanged, a slot and
// enough budget left, this engagement not yet in) and the update takes the slot. Of many
// concurrent accepts, only as many as there are slots match.
func (s *Store) ReserveOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*models.Offer, error) {
	coll := s.db.Collection(colOffers)
	defer s.lockDoc(colOffers, offerID)()
	s.forget(colOffers, offerID) // known again only once this write is seen to succeed
	for attempt := 0; attempt < 50; attempt++ {
		cur, err := findByID[models.Offer](ctx, coll, offerID)
		if err != nil {
			return nil, err
		}
		for _, r := range cur.Reservations {
			if r == engagementID {
				return cur, nil // already reserved by an earlier try
			}
		}
		switch {
		case cur.Status != models.OfferOpen:
			return nil, models.Errorf(models.ErrConflict, "the offer is %s and takes no more engagements", cur.Status)
		case cur.EngagementsUsed >= cur.MaxEngagements:
			return nil, models.Errorf(models.ErrConflict, "the offer has no engagement slots left")
		case cur.BudgetUSD-cur.BudgetCommitted < budget:
			return nil, models.Errorf(models.ErrConflict, "the offer's remaining budget ($%d) is below the $%d agreed", cur.BudgetUSD-cur.BudgetCommitted, budget)
		}
		filter := bson.D{
			{Key: "_id", Value: offerID},
			{Key: "status", Value: models.OfferOpen},
			{Key: "max_engagements", Value: cur.MaxEngagements},
			{Key: "budget_usd", Value: cur.BudgetUSD},
			{Key: "engagements_used", Value: cur.EngagementsUsed},
			{Key: "reservations", Value: bson.D{{Key: "$ne", Value: engagementID}}},
		}
		update := bson.D{
			{Key: "$inc", Value: bson.D{{Key: "engagements_used", Value: 1}, {Key: "budget_committed_usd", Value: budget}, {Key: "version", Value: 1}}},
			{Key: "$push", Value: bson.D{{Key: "reservations", Value: engagementID}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: at}}},
		}
		var after models.Offer
		// cur was read under the document lock on FerretDB, so guard may drop the conditions.
		err = coll.FindOneAndUpdate(ctx, s.guard(filter), update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
		if err == nil {
			s.wrote(colOffers, offerID, after.Version, nil)
			return &after, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, mapErr(err)
		}
		// Someone else changed the offer between our read and write: read again.
	}
	return nil, models.Errorf(models.ErrConflict, "the offer is changing too fast; try again")
}

// ReleaseOfferSlot implements models.OfferStore; releasing what was never reserved changes nothing.
func (s *Store) ReleaseOfferSlot(ctx context.Context, offerID, engagementID string, budget int64, at time.Time) (*models.Offer, error) {
	coll := s.db.Collection(colOffers)
	defer s.lockDoc(colOffers, offerID)()
	s.forget(colOffers, offerID) // known again only once this write is seen to succeed
	if s.serial {
		cur, err := findByID[models.Offer](ctx, coll, offerID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(cur.Reservations, engagementID) {
			return cur, nil
		}
	}
	var after models.Offer
	err := coll.FindOneAndUpdate(ctx,
		s.guard(bson.D{{Key: "_id", Value: offerID}, {Key: "reservations", Value: engagementID}}),
		bson.D{
			{Key: "$inc", Value: bson.D{{Key: "engagements_used", Value: -1}, {Key: "budget_committed_usd", Value: -budget}, {Key: "version", Value: 1}}},
			{Key: "$pull", Value: bson.D{{Key: "reservations", Value: engagementID}}},
			{Key: "$set", Value: bson.D{{Key: "updated_at", Value: at}}},
		}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return findByID[models.Offer](ctx, coll, offerID)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	s.wrote(colOffers, offerID, after.Version, nil)
	return &after, nil
}

// CloseFullOffer implements models.OfferStore.
func (s *Store) CloseFullOffer(ctx context.Context, offerID string, at time.Time) (*models.Offer, bool, error) {
	coll := s.db.Collection(colOffers)
	defer s.lockDoc(colOffers, offerID)()
	s.forget(colOffers, offerID) // known again only once this write is seen to succeed
	cur, err := findByID[models.Offer](ctx, coll, offerID)
	if err != nil {
		return nil, false, err
	}
	if cur.Status != models.OfferOpen || cur.HasCapacity() {
		return cur, false, nil
	}
	var after models.Offer
	err = coll.FindOneAndUpdate(ctx,
		s.guard(bson.D{{Key: "_id", Value: offerID}, {Key: "status", Value: models.OfferOpen}, {Key: "engagements_used", Value: cur.EngagementsUsed},
			{Key: "max_engagements", Value: cur.MaxEngagements}, {Key: "budget_usd", Value: cur.BudgetUSD}, {Key: "budget_committed_usd", Value: cur.BudgetCommitted}}),
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "status", Value: models.OfferClosed}, {Key: "status_reason", Value: models.OfferFullReason}, {Key: "updated_at", Value: at}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	if errors.Is(err, mongo.ErrNoDocuments) {
		got, gerr := findByID[models.Offer](ctx, coll, offerID)
		return got, false, gerr
	}
	if err != nil {
		return nil, false, mapErr(err)
	}
	s.wrote(colOffers, offerID, after.Version, nil)
	return &after, true, nil
}

// idempotencyKey is one claimed key.
type idempotencyKey struct {
	Key       string    `bson:"_id"`
	Value     string    `bson:"value"`
	CreatedAt time.Time `bson:"created_at"`
}

// ClaimKey implements models.EngagementStore: an insert by _id, which both MongoDB and FerretDB
// make unique; a claim that loses reads the winner's value.
func (s *Store) ClaimKey(ctx context.Context, key, value string) (string, error) {
	coll := s.db.Collection(colKeys)
	_, err := coll.InsertOne(ctx, idempotencyKey{Key: key, Value: value, CreatedAt: time.Now().UTC()})
	if err == nil {
		return value, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return "", mapErr(err)
	}
	got, err := findByID[idempotencyKey](ctx, coll, key)
	if err != nil {
		return "", err
	}
	return got.Value, nil
}

// CreateProject implements models.ProjectStore.
func (s *Store) CreateProject(ctx context.Context, p *models.Project) error {
	return s.insertVersioned(ctx, s.db.Collection(colProjects), p)
}

// GetProject implements models.ProjectStore.
func (s *Store) GetProject(ctx context.Context, id string) (*models.Project, error) {
	return findByID[models.Project](ctx, s.db.Collection(colProjects), id)
}

// ReplaceProject implements models.ProjectStore.
func (s *Store) ReplaceProject(ctx context.Context, p *models.Project, prev int64) error {
	return s.replaceVersioned(ctx, s.db.Collection(colProjects), p.ID, prev, p)
}

// ListProjects implements models.ProjectStore.
func (s *Store) ListProjects(ctx context.Context) ([]*models.Project, error) {
	return findAll[models.Project](ctx, s.db.Collection(colProjects), bson.D{}, nil)
}
