package mongostore

import (
	"context"
	"errors"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// colAssessments holds one document per country (_id the ISO code) with all its assessments;
// colSources one per country with its sources. Both are read by _id only (FerretDB scans for
// any other filter) and written conditionally on the document's version.
const (
	colAssessments = "assessments"
	colSources     = "country_sources"
)

func init() { collections = append(collections, colAssessments, colSources) }

// assessmentsDoc is a country's assessments, oldest first.
type assessmentsDoc struct {
	ID      string               `bson:"_id"`
	Items   []*models.Assessment `bson:"items"`
	Version int64                `bson:"version"`
}

// sourcesDoc is a country's sources.
type sourcesDoc struct {
	ID      string                 `bson:"_id"`
	Items   []models.CountrySource `bson:"items"`
	Version int64                  `bson:"version"`
}

// ListAssessments implements models.AssessmentStore.
func (s *Store) ListAssessments(ctx context.Context, iso string) ([]*models.Assessment, int64, error) {
	d, err := findByID[assessmentsDoc](ctx, s.db.Collection(colAssessments), iso)
	if errors.Is(err, models.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return d.Items, d.Version, nil
}

// AppendAssessment implements models.AssessmentStore: the first assessment of a country is an
// insert (a concurrent first insert loses with ErrConflict), later ones replace the list by
// version.
func (s *Store) AppendAssessment(ctx context.Context, a *models.Assessment, prev int64) error {
	coll := s.db.Collection(colAssessments)
	if prev == 0 {
		_, err := coll.InsertOne(ctx, assessmentsDoc{ID: a.Country, Items: []*models.Assessment{a}, Version: 1})
		if mongo.IsDuplicateKeyError(err) {
			return models.Errorf(models.ErrConflict, "another assessment of %s was submitted meanwhile", a.Country)
		}
		return mapErr(err)
	}
	defer s.lockDoc(colAssessments, a.Country)()
	cur, err := findByID[assessmentsDoc](ctx, coll, a.Country)
	if err != nil {
		return err
	}
	if cur.Version != prev {
		return models.Errorf(models.ErrConflict, "another assessment of %s was submitted meanwhile", a.Country)
	}
	res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: a.Country}, {Key: "version", Value: prev}}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "items", Value: append(cur.Items, a)}, {Key: "version", Value: prev + 1}}}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount != 1 {
		return models.Errorf(models.ErrConflict, "another assessment of %s was submitted meanwhile", a.Country)
	}
	return nil
}

// ListCountrySources implements models.SourceStore.
func (s *Store) ListCountrySources(ctx context.Context, iso string) ([]models.CountrySource, int64, error) {
	d, err := findByID[sourcesDoc](ctx, s.db.Collection(colSources), iso)
	if errors.Is(err, models.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return d.Items, d.Version, nil
}

// PutCountrySources implements models.SourceStore: the first list of a country is an insert,
// later ones replace it by version.
func (s *Store) PutCountrySources(ctx context.Context, iso string, items []models.CountrySource, prev int64) error {
	coll := s.db.Collection(colSources)
	if items == nil {
		items = []models.CountrySource{}
	}
	if prev == 0 {
		_, err := coll.InsertOne(ctx, sourcesDoc{ID: iso, Items: items, Version: 1})
		if mongo.IsDuplicateKeyError(err) {
			return models.Errorf(models.ErrConflict, "the sources of %s were changed meanwhile; reload them", iso)
		}
		return mapErr(err)
	}
	return s.replaceVersioned(ctx, coll, iso, prev, sourcesDoc{ID: iso, Items: items, Version: prev + 1})
}
