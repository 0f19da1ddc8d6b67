package mongostore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// SchemaVersion is the version of the document layout this build writes, recorded in every
// versioned document as schema_version. A build that changes a layout incompatibly raises it,
// so that it can tell (and migrate, lazily or in bulk) the documents older builds wrote.
// Documents written before the field existed have none: they read as version 0, the same
// layout as 1.
const SchemaVersion = 1

// schemaField names the field that records SchemaVersion.
const schemaField = "schema_version"

// setUpdate is the update that writes doc over a stored document without replacing it: a
// $set of every field doc has (schema_version included) and an $unset of the fields this
// build knows that doc leaves out (an omitempty field it cleared). A field this build does
// not know, which a newer build added during a rolling update, is left alone, where a
// whole-document replace would delete it. Fields in keep (and _id) are neither set nor unset:
// the caller leaves them to other operations (an offer's capacity counters).
func setUpdate(doc any, keep map[string]bool) (bson.D, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", doc, err)
	}
	var fields bson.D
	if err := bson.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("decode %T: %w", doc, err)
	}
	set := make(bson.D, 0, len(fields)+1)
	present := make(map[string]bool, len(fields))
	for _, e := range fields {
		present[e.Key] = true
		if e.Key == "_id" || keep[e.Key] {
			continue
		}
		set = append(set, e)
	}
	set = append(set, bson.E{Key: schemaField, Value: SchemaVersion})
	var unset bson.D
	for _, k := range knownFields(reflect.TypeOf(doc)) {
		if !present[k] && !keep[k] && k != "_id" {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
	}
	update := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	return update, nil
}

// withSchema is doc as a document to insert, with the schema version it is written with.
func withSchema(doc any) (bson.D, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", doc, err)
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decode %T: %w", doc, err)
	}
	return append(d, bson.E{Key: schemaField, Value: SchemaVersion}), nil
}

// insertVersioned inserts doc with the schema version it is written with; a duplicate _id is
// ErrConflict (mapErr).
func (s *Store) insertVersioned(ctx context.Context, coll *mongo.Collection, doc any) error {
	d, err := withSchema(doc)
	if err != nil {
		return err
	}
	id, _ := fieldOf(d, "_id").(string)
	defer s.lockDoc(coll.Name(), id)()
	if _, err = coll.InsertOne(ctx, d); err != nil {
		s.forget(coll.Name(), id)
		return mapErr(err)
	}
	if v, ok := asInt64(fieldOf(d, "version")); ok {
		s.wrote(coll.Name(), id, v, nil)
	} else {
		s.forget(coll.Name(), id)
	}
	return nil
}

var knownCache sync.Map // reflect.Type → []string

// knownFields lists the top-level field names the bson encoder can write for values of type t
// (a struct or a pointer to one), following the bson struct tags: the name before the comma,
// the lower-cased Go name without a tag, none for "-", and the fields of inline structs.
func knownFields(t reflect.Type) []string {
	if v, ok := knownCache.Load(t); ok {
		return v.([]string)
	}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	var names []string
	if base.Kind() == reflect.Struct {
		names = structFields(base)
	}
	knownCache.Store(t, names)
	return names
}

func structFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("bson")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				names = append(names, structFields(ft)...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
	}
	return names
}

// fieldOf is the value of d's top-level field key, nil when d has none.
func fieldOf(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}
