package mongostore

import (
	"context"
	"errors"
	"strconv"
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

// feedDoc is a feed's head or one of its pages. A feed is stored in pages of at most feedPage
// notifications ("org:<feed>#<n>"), so that an append reads and rewrites one small page instead
// of the whole feed (a feed of 200 notifications cost 20-60 ms per append on the embedded store).
// The head ("org:<feed>") names the current page and how many notifications the feed keeps; its
// Items are a feed written before pages, read until they age out.
type feedDoc struct {
	ID      string                `bson:"_id"`
	Items   []models.Notification `bson:"items"`
	Version int64                 `bson:"version"`
	Page    int64                 `bson:"page,omitempty"`
	Keep    int                   `bson:"keep,omitempty"`
}

// feedPage is how many notifications one page of a feed holds.
const feedPage = 20

// readDoc is one user's read state.
type readDoc struct {
	ID               string `bson:"_id"`
	models.ReadState `bson:",inline"`
}

func feedKey(feed string) string { return "org:" + feed }
func pageKey(feed string, page int64) string {
	return "org:" + feed + "#" + strconv.FormatInt(page, 10)
}
func readKey(userID string) string { return "read:" + userID }

// pagesKept is how many pages hold a feed's newest keep notifications, whatever the first one
// holds.
func pagesKept(keep int) int64 { return int64((keep+feedPage-1)/feedPage) + 1 }

// AppendNotifications implements models.NotificationStore. FerretDB 1.24 has no $slice in
// $push, so an append is a read-modify-write of the current page, conditional on its version,
// under the per-document lock on FerretDB. A full page starts the next one: the page is inserted
// first, then the head moves to it (conditional on the head's version); a page found past the
// head (another writer's, or one whose head update was lost) moves the head too, so the feed
// never stalls. Pages that fall out of the kept window are deleted. A batch longer than a page
// (the outbox stores what queued for a feed at once) is appended a page at a time, so that no
// page grows past feedPage and a page read stays small.
func (s *Store) AppendNotifications(ctx context.Context, feed string, items []models.Notification, max int) error {
	for len(items) > 0 {
		n, err := s.appendPage(ctx, feed, items, max)
		if err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// appendPage appends the first of items to feed: as many as the current page has room for, or
// a new page of at most feedPage; it returns how many it appended (AppendNotifications).
func (s *Store) appendPage(ctx context.Context, feed string, items []models.Notification, max int) (int, error) {
	coll := s.db.Collection(colNotifications)
	headID := feedKey(feed)
	defer s.lockDoc(colNotifications, headID)()
	for attempt := 0; attempt < 20; attempt++ {
		head, err := findByID[feedDoc](ctx, coll, headID)
		if errors.Is(err, models.ErrNotFound) {
			head, err = &feedDoc{ID: headID}, nil
		}
		if err != nil {
			return 0, err
		}
		if head.Page > 0 {
			page, err := findByID[feedDoc](ctx, coll, pageKey(feed, head.Page))
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return 0, err
			}
			if err == nil && len(page.Items) < feedPage {
				take := min(len(items), feedPage-len(page.Items))
				res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: page.ID}, {Key: "version", Value: page.Version}}),
					bson.D{{Key: "$set", Value: bson.D{{Key: "items", Value: append(page.Items, items[:take]...)}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
				if err != nil {
					return 0, mapErr(err)
				}
				if res.MatchedCount == 1 {
					return take, nil
				}
				continue // another writer changed the page: read again
			}
		}
		next, take := head.Page+1, min(len(items), feedPage)
		_, err = coll.InsertOne(ctx, feedDoc{ID: pageKey(feed, next), Items: items[:take], Version: 1})
		inserted := err == nil
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return 0, mapErr(err)
		}
		// The head moves to the next page, whoever wrote it.
		if err := s.moveFeedHead(ctx, head, next, max); err != nil {
			if errors.Is(err, models.ErrConflict) {
				if inserted {
					return take, nil // our page is in; another writer moved the head past it
				}
				continue
			}
			return 0, err
		}
		if inserted {
			s.pruneFeed(ctx, feed, next, max)
			return take, nil
		}
	}
	return 0, models.Errorf(models.ErrConflict, "the notification feed is changing too fast")
}

// moveFeedHead points the head at page, conditional on the head's version (inserting the head
// of a new feed); ErrConflict when another writer moved it first. Once the pages cover the kept
// window, a feed's items from before pages are dropped.
func (s *Store) moveFeedHead(ctx context.Context, head *feedDoc, page int64, keep int) error {
	coll := s.db.Collection(colNotifications)
	if head.Version == 0 {
		_, err := coll.InsertOne(ctx, feedDoc{ID: head.ID, Items: []models.Notification{}, Version: 1, Page: page, Keep: keep})
		if mongo.IsDuplicateKeyError(err) {
			return models.Errorf(models.ErrConflict, "the feed was created meanwhile")
		}
		return mapErr(err)
	}
	set := bson.D{{Key: "page", Value: page}, {Key: "keep", Value: keep}}
	if page >= pagesKept(keep) && len(head.Items) > 0 {
		set = append(set, bson.E{Key: "items", Value: []models.Notification{}})
	}
	res, err := coll.UpdateOne(ctx, s.guard(bson.D{{Key: "_id", Value: head.ID}, {Key: "version", Value: head.Version}}),
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return mapErr(err)
	}
	if res.MatchedCount == 0 {
		return models.Errorf(models.ErrConflict, "the feed moved meanwhile")
	}
	return nil
}

// pruneFeed deletes the page that fell out of the kept window when page was started (best
// effort: a page left behind is never read).
func (s *Store) pruneFeed(ctx context.Context, feed string, page int64, keep int) {
	if old := page - pagesKept(keep); old >= 1 {
		_, _ = s.db.Collection(colNotifications).DeleteOne(ctx, bson.D{{Key: "_id", Value: pageKey(feed, old)}})
	}
}

// NotificationFeed implements models.NotificationStore: the kept window of pages, oldest first,
// after any items from before pages, truncated to the newest Keep.
func (s *Store) NotificationFeed(ctx context.Context, feed string) ([]models.Notification, error) {
	coll := s.db.Collection(colNotifications)
	head, err := findByID[feedDoc](ctx, coll, feedKey(feed))
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := head.Items
	for p := max(1, head.Page-pagesKept(head.Keep)+1); p >= 1 && p <= head.Page; p++ {
		page, err := findByID[feedDoc](ctx, coll, pageKey(feed, p))
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
	}
	return newest(out, head.Keep), nil
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

// newest keeps the last max items (the newest, as items are appended in time order); max 0
// keeps them all.
func newest(items []models.Notification, max int) []models.Notification {
	if max > 0 && len(items) > max {
		items = items[len(items)-max:]
	}
	return items
}
