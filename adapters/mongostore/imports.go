package mongostore

import (
	"context"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const colImports = "imports"

// CreateImport implements models.ImportStore.
func (s *Store) CreateImport(ctx context.Context, b *models.ImportBatch) error {
	_, err := s.db.Collection(colImports).InsertOne(ctx, b)
	return mapErr(err)
}

// SetImportState implements models.ImportStore.
func (s *Store) SetImportState(ctx context.Context, id, state string) error {
	defer s.lockDoc(colImports, id)()
	res, err := s.db.Collection(colImports).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: state}}}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return models.Errorf(models.ErrNotFound, "import %s not found", id)
	}
	return nil
}

// ListImports implements models.ImportStore.
func (s *Store) ListImports(ctx context.Context, state string) ([]*models.ImportBatch, error) {
	return findAll[models.ImportBatch](ctx, s.db.Collection(colImports), bson.D{{Key: "state", Value: state}}, nil)
}

// InsertNeeds implements models.ImportStore.
func (s *Store) InsertNeeds(ctx context.Context, needs []*models.Need) error {
	docs := make([]any, len(needs))
	for i, n := range needs {
		d, err := withSchema(n)
		if err != nil {
			return err
		}
		docs[i] = d
	}
	for _, n := range needs {
		s.forget(colNeeds, n.ID) // inserted as many: their versions are read at their first write
	}
	_, err := s.db.Collection(colNeeds).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return mapErr(err)
}

// InsertOffers implements models.ImportStore.
func (s *Store) InsertOffers(ctx context.Context, offers []*models.Offer) error {
	docs := make([]any, len(offers))
	for i, o := range offers {
		d, err := withSchema(o)
		if err != nil {
			return err
		}
		docs[i] = d
	}
	for _, o := range offers {
		s.forget(colOffers, o.ID) // inserted as many: their versions are read at their first write
	}
	_, err := s.db.Collection(colOffers).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return mapErr(err)
}

// importColl is the collection a batch's rows live in.
func (s *Store) importColl(b *models.ImportBatch) string {
	if b.Kind == "offers" {
		return colOffers
	}
	return colNeeds
}

// DeleteImported implements models.ImportStore: rows are deleted by _id (their ids are in the
// batch) and only while still tagged with the batch. The rows of an IATI import (kind
// "external"), which can be many and are not listed in the batch, are deleted by their tag.
func (s *Store) DeleteImported(ctx context.Context, b *models.ImportBatch) error {
	if b.Kind == models.ImportKindExternal {
		_, err := s.db.Collection(colExternal).DeleteMany(ctx, bson.D{{Key: "import_batch", Value: b.ID}})
		return mapErr(err)
	}
	if len(b.RowIDs) == 0 {
		return nil
	}
	_, err := s.db.Collection(s.importColl(b)).DeleteMany(ctx, bson.D{
		{Key: "_id", Value: bson.D{{Key: "$in", Value: b.RowIDs}}}, {Key: "import_batch", Value: b.ID}})
	for _, id := range b.RowIDs {
		s.forget(s.importColl(b), id)
	}
	return mapErr(err)
}
