package mongostore

import (
	"context"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colExternal holds the rows of activities imported from IATI files, one per activity and
// import batch.
const colExternal = "external_activities"

// InsertExternalActivities implements models.ExternalActivityStore.
func (s *Store) InsertExternalActivities(ctx context.Context, rows []*models.ExternalActivity) error {
	if len(rows) == 0 {
		return nil
	}
	docs := make([]any, len(rows))
	for i, r := range rows {
		docs[i] = r
	}
	_, err := s.db.Collection(colExternal).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return mapErr(err)
}

// ListExternalActivities implements models.ExternalActivityStore.
func (s *Store) ListExternalActivities(ctx context.Context, batch string) ([]*models.ExternalActivity, error) {
	filter := bson.D{}
	if batch != "" {
		filter = bson.D{{Key: "import_batch", Value: batch}}
	}
	return findAll[models.ExternalActivity](ctx, s.db.Collection(colExternal), filter, nil)
}

// DeleteExternalRowsBefore implements models.ExternalActivityStore.
func (s *Store) DeleteExternalRowsBefore(ctx context.Context, keys []string, batch string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.db.Collection(colExternal).DeleteMany(ctx, bson.D{
		{Key: "key", Value: bson.D{{Key: "$in", Value: keys}}},
		{Key: "import_batch", Value: bson.D{{Key: "$lt", Value: batch}}}})
	return mapErr(err)
}
