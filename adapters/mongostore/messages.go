package mongostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colMessages holds engagement messages, one document each (issue 15, point 7). An engagement's
// thread used to live inside the engagement's document, which every status change rewrote
// whole and which grew toward MongoDB's 16 MB document limit with a long conversation. Now the
// engagement's document lists its messages' ids, in order (message_ids: a few dozen bytes each),
// and each message is written once, before the engagement update that lists it.
//
// Writes: a message is inserted under its own _id (engagement id/message id) before the
// engagement's conditional update names it. If that update loses (a concurrent change, a crash),
// the message is left unreferenced and never shown: the thread is what the engagement lists.
// Reads: one engagement reads its messages by _id; a full load reads the collection once and
// joins in memory (FerretDB pushes only _id equality down). An engagement stored by an earlier
// version, with its thread inside, is read as it is and moved out at its next change.
const colMessages = "engagement_messages"

// messageDoc is one stored message.
type messageDoc struct {
	ID                       string `bson:"_id"` // <engagement id>/<message id>
	EngagementID             string `bson:"engagement_id"`
	models.EngagementMessage `bson:",inline"`
}

func messageKey(engagementID, messageID string) string { return engagementID + "/" + messageID }

// engagementDoc is how an engagement is stored: its fields, without the thread, and the ids of
// its messages in order.
type engagementDoc struct {
	models.Engagement `bson:",inline"`
	MessageIDs        []string `bson:"message_ids"`
}

// storedEngagement is an engagement as read: a thread inside (an earlier version's layout) or
// the ids of its messages.
type storedEngagement struct {
	models.Engagement `bson:",inline"`
	MessageIDs        []string `bson:"message_ids,omitempty"`
}

func toDoc(e *models.Engagement) *engagementDoc {
	d := &engagementDoc{Engagement: *e, MessageIDs: make([]string, len(e.Messages))}
	for i, m := range e.Messages {
		d.MessageIDs[i] = m.ID
	}
	d.Engagement.Messages = nil
	return d
}

// putMessages inserts the messages of e that are not stored yet; a message stored already (a
// retry, or the thread as an earlier write left it) is skipped.
func (s *Store) putMessages(ctx context.Context, e *models.Engagement, stored map[string]bool) error {
	var docs []any
	for _, m := range e.Messages {
		if !stored[m.ID] {
			docs = append(docs, messageDoc{ID: messageKey(e.ID, m.ID), EngagementID: e.ID, EngagementMessage: m})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := s.db.Collection(colMessages).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return mapErr(err)
	}
	return nil
}

// onlyDuplicates reports whether every error of a bulk insert is a duplicate _id: the documents
// are there already, which is what the insert wanted.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

// storedMessageIDs reads which messages the stored engagement lists (its ids, or the ids of the
// thread an earlier version kept inside it).
func (s *Store) storedMessageIDs(ctx context.Context, id string) (map[string]bool, error) {
	var got storedEngagement
	err := s.db.Collection(colEngagements).FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "message_ids", Value: 1}})).Decode(&got)
	if err != nil {
		return nil, mapErr(err)
	}
	ids := make(map[string]bool, len(got.MessageIDs))
	for _, m := range got.MessageIDs {
		ids[m] = true
	}
	return ids, nil
}

// CreateEngagement implements models.EngagementStore.
func (s *Store) CreateEngagement(ctx context.Context, e *models.Engagement) error {
	if err := s.putMessages(ctx, e, nil); err != nil {
		return err
	}
	doc := toDoc(e)
	d, err := withSchema(doc)
	if err != nil {
		return err
	}
	defer s.lockDoc(colEngagements, e.ID)()
	if _, err = s.db.Collection(colEngagements).InsertOne(ctx, withoutField(d, "messages")); err != nil {
		s.forget(colEngagements, e.ID)
		return mapErr(err)
	}
	s.wrote(colEngagements, e.ID, e.Version, doc.MessageIDs)
	return nil
}

// withoutField is d without its field key.
func withoutField(d bson.D, key string) bson.D {
	out := d[:0:0]
	for _, e := range d {
		if e.Key != key {
			out = append(out, e)
		}
	}
	return out
}

// ReplaceEngagement implements models.EngagementStore: the new messages first, then the
// engagement, conditional on its version, listing them. A thread stored inside the document by
// an earlier version is removed from it ($unset): its messages are written out first.
func (s *Store) ReplaceEngagement(ctx context.Context, e *models.Engagement, prev int64) error {
	update, err := setUpdate(toDoc(e), map[string]bool{"messages": true})
	if err != nil {
		return err
	}
	update = addUnset(update, "messages")
	if s.serial {
		return s.replaceEngagementSerial(ctx, e, prev, update)
	}
	stored, err := s.storedMessageIDs(ctx, e.ID)
	if err != nil {
		return err
	}
	if err := s.putMessages(ctx, e, stored); err != nil {
		return err
	}
	return s.updateVersioned(ctx, s.db.Collection(colEngagements), e.ID, prev, update)
}

// replaceEngagementSerial is ReplaceEngagement on FerretDB reached directly, where the version
// check is a read under the document's lock (updateVersioned): that one read also gives the
// stored message ids, one store round trip fewer per engagement change (issue 16, target 4).
func (s *Store) replaceEngagementSerial(ctx context.Context, e *models.Engagement, prev int64, update bson.D) error {
	coll := s.db.Collection(colEngagements)
	defer s.lockDoc(coll.Name(), e.ID)()
	var got struct {
		Version    int64    `bson:"version"`
		MessageIDs []string `bson:"message_ids"`
	}
	if known, ok := s.knownAt(colEngagements, e.ID, prev); ok {
		got.Version, got.MessageIDs = prev, known.messageIDs
	} else {
		err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: e.ID}},
			options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}, {Key: "message_ids", Value: 1}})).Decode(&got)
		if err != nil {
			return mapErr(err)
		}
	}
	if got.Version != prev {
		return staleVersion(prev)
	}
	stored := make(map[string]bool, len(got.MessageIDs))
	for _, m := range got.MessageIDs {
		stored[m] = true
	}
	if err := s.putMessages(ctx, e, stored); err != nil {
		return err
	}
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}}, update)
	if err != nil || res.MatchedCount == 0 {
		s.forget(colEngagements, e.ID)
		if err != nil {
			return mapErr(err)
		}
		return models.Errorf(models.ErrNotFound, "%s not found", coll.Name())
	}
	s.wroteUpdate(colEngagements, e.ID, update, toDoc(e).MessageIDs)
	return nil
}

// GetEngagement implements models.EngagementStore.
func (s *Store) GetEngagement(ctx context.Context, id string) (*models.Engagement, error) {
	got, err := findByID[storedEngagement](ctx, s.db.Collection(colEngagements), id)
	if err != nil {
		return nil, err
	}
	coll := s.db.Collection(colMessages)
	byID := make(map[string]models.EngagementMessage, len(got.MessageIDs))
	for _, mid := range got.MessageIDs {
		m, err := findByID[messageDoc](ctx, coll, messageKey(id, mid))
		if err != nil {
			return nil, fmt.Errorf("engagement %s, message %s: %w", id, mid, err)
		}
		byID[mid] = m.EngagementMessage
	}
	return thread(got, byID), nil
}

// ListEngagements implements models.EngagementStore: the engagements, then every message in one
// pass, joined in memory.
func (s *Store) ListEngagements(ctx context.Context) ([]*models.Engagement, error) {
	stored, err := findAll[storedEngagement](ctx, s.db.Collection(colEngagements), bson.D{}, nil)
	if err != nil {
		return nil, err
	}
	byID := map[string]models.EngagementMessage{}
	err = forEach(ctx, s.db.Collection(colMessages), nil, func(m *messageDoc) error {
		byID[m.ID] = m.EngagementMessage
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*models.Engagement, len(stored))
	for i, st := range stored {
		keyed := make(map[string]models.EngagementMessage, len(st.MessageIDs))
		for _, mid := range st.MessageIDs {
			if m, ok := byID[messageKey(st.ID, mid)]; ok {
				keyed[mid] = m
			}
		}
		out[i] = thread(st, keyed)
	}
	return out, nil
}

// thread is the engagement with its messages in the order it lists them; a listed message that
// is missing (only possible if the collection was edited by hand) is left out. An engagement in
// the earlier layout keeps the thread it holds.
func thread(st *storedEngagement, byID map[string]models.EngagementMessage) *models.Engagement {
	e := st.Engagement
	if len(st.MessageIDs) > 0 || e.Messages == nil {
		e.Messages = make([]models.EngagementMessage, 0, len(st.MessageIDs))
		for _, mid := range st.MessageIDs {
			if m, ok := byID[mid]; ok {
				e.Messages = append(e.Messages, m)
			}
		}
	}
	return &e
}

// addUnset adds field to update's $unset (creating it when update has none).
func addUnset(update bson.D, field string) bson.D {
	for i, op := range update {
		if op.Key == "$unset" {
			update[i].Value = append(op.Value.(bson.D), bson.E{Key: field, Value: ""})
			return update
		}
	}
	return append(update, bson.E{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}})
}
