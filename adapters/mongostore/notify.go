package mongostore

import (
	"context"
	"errors"
	"time"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colNotifications holds two kinds of documents, both read by _id only (FerretDB scans for any
// other filter): "org:<feed>" with a feed's newest notifications, and "read:<user>" with what a
// user has read.
const colNotifications = "notifications"

// feedDoc is one feed: an organization's (or the coordinators') newest notifications, oldest
// first.
type feedDoc struct {
	ID      string                `bson:"_id"`
	Items   []models.Notification `bson:"items"`
	Version int64                 `bson:"version"`
}

// readDoc is one user's read state.
type readDoc struct {
	ID               string `bson:"_id"`
	models.ReadState `bson:",inline"`
}

func feedKey(feed string) string   { return "org:" + feed }
func readKey(userID string) string { return "read:" + userID }

// AppendNotifications implements models.NotificationStore. FerretDB 1.24 ignores $slice in
// $push (it would grow the feed without bound), so this is a read-modify-write conditional on
// the feed's version, under the per-document lock on FerretDB; the first write inserts.
func (s *Store) AppendNotifications(ctx context.Context, feed string, items []models.Notification, max int) error {
	if len(items) == 0 {
		return nil
	}
	coll := s.db.Collection(colNotifications)
	id := feedKey(feed)
	defer s.lockDoc(colNotifications, id)()
	for attempt := 0; attempt < 20; attempt++ {
		cur, err := findByID[feedDoc](ctx, coll, id)
		if errors.Is(err, models.ErrNotFound) {
			_, err := coll.InsertOne(ctx, feedDoc{ID: id, Items: newest(items, max), Version: 1})
			if err == nil || !mongo.IsDuplicateKeyError(err) {
				return mapErr(err)
			}
			continue // another replica created the feed first: append to it
		}
		if err != nil {
			return err
		}
		next := newest(append(cur.Items, items...), max)
		res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: id}, {Key: "version", Value: cur.Version}}),
			bson.D{{Key: "$set", Value: bson.D{{Key: "items", Value: next}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
		if err != nil {
			return mapErr(err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
	}
	return models.Errorf(models.ErrConflict, "the notification feed is changing too fast")
}

// newest keeps the last max items (the newest, as items are appended in time order).
func newest(items []models.Notification, max int) []models.Notification {
	if max > 0 && len(items) > max {
		items = items[len(items)-max:]
	}
	return items
}

// NotificationFeed implements models.NotificationStore.
func (s *Store) NotificationFeed(ctx context.Context, feed string) ([]models.Notification, error) {
	d, err := findByID[feedDoc](ctx, s.db.Collection(colNotifications), feedKey(feed))
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d.Items, nil
}

// GetReadState implements models.NotificationStore.
func (s *Store) GetReadState(ctx context.Context, userID string) (*models.ReadState, error) {
	d, err := findByID[readDoc](ctx, s.db.Collection(colNotifications), readKey(userID))
	if errors.Is(err, models.ErrNotFound) {
		return &models.ReadState{UserID: userID}, nil
	}
	if err != nil {
		return nil, err
	}
	return &d.ReadState, nil
}

// PutReadState implements models.NotificationStore: the first state is an insert (a
// concurrent first insert loses with ErrConflict), later ones replace by version.
func (s *Store) PutReadState(ctx context.Context, st *models.ReadState, prev int64) error {
	coll := s.db.Collection(colNotifications)
	doc := readDoc{ID: readKey(st.UserID), ReadState: *st}
	if prev == 0 {
		_, err := coll.InsertOne(ctx, doc)
		if mongo.IsDuplicateKeyError(err) {
			return models.Errorf(models.ErrConflict, "the read state changed meanwhile")
		}
		return mapErr(err)
	}
	return s.replaceVersioned(ctx, coll, doc.ID, prev, doc)
}

// SetOrgWebhook implements models.NotificationStore with one update of the organization.
func (s *Store) SetOrgWebhook(ctx context.Context, orgID string, hook *models.Webhook, at time.Time) (*models.Organization, error) {
	set := bson.D{{Key: "updated_at", Value: at}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	if hook != nil {
		set = append(set, bson.E{Key: "webhook", Value: hook})
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "webhook", Value: ""}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	defer s.lockDoc(colOrgs, orgID)()
	var o models.Organization
	err := s.db.Collection(colOrgs).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: orgID}}, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&o)
	if err != nil {
		return nil, mapErr(err)
	}
	return &o, nil
}
