package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCachedTokensKeepTheirActor alternates five users' tokens through the verified-token cache
// (service/tokencache.go): Fiber reuses request buffers, so a cache keyed by the header's bytes
// without copying them would answer one user with another's identity. The cache's own rules
// (expiry by either clock, refused tokens never remembered, bounded) are in service's
// TestTokenCache.
func TestCachedTokensKeepTheirActor(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	accounts := []account{f.ministry, f.ministry2, f.donor, f.donor2, f.coord}
	for i := range 200 {
		acc := accounts[(i*7)%len(accounts)]
		r := n.call("GET", "/api/v1/me", acc.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		require.Equal(t, acc.Email, r.json(t)["email"], "request %d", i)
		n.call("GET", "/api/v1/needs?limit=1", accounts[i%len(accounts)].Token, nil)
	}
}
