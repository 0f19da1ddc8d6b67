package mongostore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSupportsTransactions: transactions are used on a replica set member or a mongos, never on
// FerretDB (even one that answered hello like a replica set) nor on a standalone mongod. The
// replies are shaped as the servers send them (hello's setName and msg, buildInfo's
// ferretdbVersion).
func TestSupportsTransactions(t *testing.T) {
	mongod := bson.M{"version": "7.0.14", "ok": 1.0}
	ferret := bson.M{"version": "7.0.77", "ferretdbVersion": "v1.24.0", "ok": 1.0}
	for _, c := range []struct {
		name      string
		hello, bi bson.M
		want      bool
	}{
		{"replica set member", bson.M{"isWritablePrimary": true, "setName": "rs0", "ok": 1.0}, mongod, true},
		{"mongos", bson.M{"isWritablePrimary": true, "msg": "isdbgrid", "ok": 1.0}, mongod, true},
		{"standalone mongod", bson.M{"isWritablePrimary": true, "ok": 1.0}, mongod, false},
		{"FerretDB", bson.M{"isWritablePrimary": true, "ok": 1.0}, ferret, false},
		{"FerretDB answering like a replica set", bson.M{"isWritablePrimary": true, "setName": "rs0", "ok": 1.0}, ferret, false},
		{"replica set whose buildInfo failed", bson.M{"setName": "rs0"}, nil, true},
	} {
		assert.Equal(t, c.want, supportsTransactions(c.hello, c.bi), c.name)
	}
}
