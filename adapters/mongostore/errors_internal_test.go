package mongostore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// TestMapErrUnavailable: the errors of a deployment that cannot take the operation now (no
// primary, shutting down, an election, a network failure, a write concern not met in time, a
// timeout) become ErrUnavailable with a client-safe detail and a Retry-After, which the API
// answers with 503; never an unexpected error (500). The errors are built as the driver
// builds them, with the server's real codes.
func TestMapErrUnavailable(t *testing.T) {
	cmd := func(code int32, name string, labels ...string) error {
		return mongo.CommandError{Code: code, Name: name, Message: "server says " + name, Labels: labels}
	}
	wce := func(code int, name string) error {
		return mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: code, Name: name, Message: "waiting for replication timed out"}}
	}
	for _, tc := range []struct {
		name   string
		err    error
		detail string
	}{
		{"NotWritablePrimary", cmd(10107, "NotWritablePrimary"), detailNoPrimary},
		{"NotPrimaryNoSecondaryOk", cmd(13435, "NotPrimaryNoSecondaryOk"), detailNoPrimary},
		{"NotPrimaryOrSecondary", cmd(13436, "NotPrimaryOrSecondary"), detailNoPrimary},
		{"LegacyNotPrimary", cmd(10058, "LegacyNotPrimary"), detailNoPrimary},
		{"InterruptedAtShutdown", cmd(11600, "InterruptedAtShutdown"), detailNoPrimary},
		{"InterruptedDueToReplStateChange", cmd(11602, "InterruptedDueToReplStateChange"), detailNoPrimary},
		{"ShutdownInProgress", cmd(91, "ShutdownInProgress"), detailNoPrimary},
		{"PrimarySteppedDown", cmd(189, "PrimarySteppedDown"), detailNoPrimary},
		{"FailedToSatisfyReadPreference", cmd(133, "FailedToSatisfyReadPreference"), detailNoPrimary},
		{"ReadConcernMajorityNotAvailableYet", cmd(134, "ReadConcernMajorityNotAvailableYet"), detailNoPrimary},
		{"HostUnreachable", cmd(6, "HostUnreachable"), detailUnreachable},
		{"HostNotFound", cmd(7, "HostNotFound"), detailUnreachable},
		{"NetworkTimeout", cmd(89, "NetworkTimeout"), detailUnreachable},
		{"SocketException", cmd(9001, "SocketException"), detailUnreachable},
		{"MaxTimeMSExpired", cmd(50, "MaxTimeMSExpired"), detailUnreachable},
		{"ExceededTimeLimit", cmd(262, "ExceededTimeLimit"), detailUnreachable},
		{"a retryable write error by label", cmd(1, "InternalError", "RetryableWriteError"), detailUnreachable},
		{"a network error by label", cmd(0, "", "NetworkError"), detailUnreachable},
		{"WriteConcernFailed (wtimeout)", wce(64, "WriteConcernFailed"), detailWriteConcern},
		{"UnsatisfiableWriteConcern", wce(100, "UnsatisfiableWriteConcern"), detailWriteConcern},
		{"write concern wait beyond maxTimeMS", wce(50, "MaxTimeMSExpired"), detailWriteConcern},
		{"a write concern error on findAndModify", cmd(64, "WriteConcernFailed"), detailWriteConcern},
		{"write concern error, not primary any more", wce(10107, "NotWritablePrimary"), detailWriteConcern},
		{"server selection", topology.ServerSelectionError{Wrapped: errors.New("server selection timeout")}, detailUnreachable},
		{"deadline", context.DeadlineExceeded, detailUnreachable},
		{"client disconnected", mongo.ErrClientDisconnected, detailUnreachable},
		{"wrapped", fmt.Errorf("load offers: %w", cmd(10107, "NotWritablePrimary")), detailNoPrimary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err)
			assert.ErrorIs(t, got, models.ErrUnavailable)
			var de *models.Error
			if assert.ErrorAs(t, got, &de) {
				assert.Equal(t, tc.detail, de.Detail)
				assert.Equal(t, storeRetryAfter, de.RetryAfter)
				assert.NotContains(t, de.Detail, "server says", "no driver text in the client's detail")
			}
			assert.Contains(t, got.Error(), tc.err.Error(), "the cause is kept for the log")
		})
	}
	assert.GreaterOrEqual(t, storeRetryAfter, time.Second)
}

// TestMapErrOthers: what is not an outage keeps its meaning.
func TestMapErrOthers(t *testing.T) {
	dup := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: "E11000 duplicate key"}}}
	assert.ErrorIs(t, mapErr(dup), models.ErrConflict)
	both := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: "E11000 duplicate key"}},
		WriteConcernError: &mongo.WriteConcernError{Code: 64, Name: "WriteConcernFailed"}}
	assert.ErrorIs(t, mapErr(both), models.ErrConflict, "the duplicate decides")
	assert.ErrorIs(t, mapErr(mongo.ErrNoDocuments), models.ErrNotFound)
	for _, err := range []error{
		mongo.CommandError{Code: 2, Name: "BadValue", Message: "bad"},
		mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 121, Message: "Document failed validation"}}},
		errors.New("something else"),
	} {
		got := mapErr(err)
		assert.NotErrorIs(t, got, models.ErrUnavailable, "%v", err)
		assert.NotErrorIs(t, got, models.ErrConflict, "%v", err)
		assert.Contains(t, got.Error(), err.Error())
	}
	assert.NoError(t, mapErr(nil))
}
