package mongostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/capmatch/capmatch/models"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// supportsTransactions decides from the server's hello and buildInfo replies whether it runs
// multi-document transactions: a replica set member (hello's setName) or a mongos (hello's msg
// "isdbgrid"), and not FerretDB (buildInfo's ferretdbVersion), which answers like MongoDB but
// has no transactions. A standalone mongod has none either. buildInfo is nil when it failed.
func supportsTransactions(hello, buildInfo bson.M) bool {
	if _, ferret := buildInfo["ferretdbVersion"]; ferret {
		return false
	}
	if _, rs := hello["setName"]; rs {
		return true
	}
	msg, _ := hello["msg"].(string)
	return msg == "isdbgrid"
}

// errNoTransactions refuses InTransaction on a store without transactions.
var errNoTransactions = errors.New("mongostore: this store has no multi-document transactions (FerretDB or a standalone MongoDB)")

// Transactions implements models.Transactor: true on a MongoDB replica set or mongos, false on
// FerretDB and a standalone MongoDB (detected at Open).
func (s *Store) Transactions() bool { return s.transactions }

// InTransaction implements models.Transactor with a driver session: fn's store calls (made with
// the ctx it is given, which carries the session) commit together, with majority and journaled
// write concern and snapshot reads; the driver retries the whole of fn on a transient error
// (a write conflict with another transaction, an election) and the commit on an unknown
// result, within the client's timeout. fn's own errors come back unchanged; the driver's are
// mapped like every other store error (mapErr).
func (s *Store) InTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.transactions {
		return errNoTransactions
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return fmt.Errorf("start session: %w", mapErr(err))
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	opts := options.Transaction().
		SetReadConcern(readconcern.Snapshot()).
		SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: boolPtr(true)})
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) { return nil, fn(ctx) }, opts)
	if err == nil || domainError(err) {
		return err
	}
	return mapErr(err)
}

// domainError reports whether err is already one of the domain's errors (fn's own refusal, or
// a store error mapErr mapped), which InTransaction passes on as it is.
func domainError(err error) bool {
	var me *models.Error
	if errors.As(err, &me) {
		return true
	}
	for _, kind := range []error{models.ErrNotFound, models.ErrConflict, models.ErrUnavailable, models.ErrInvalid} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}
