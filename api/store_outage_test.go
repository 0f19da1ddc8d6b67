package api

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStoreOutageIs503WithRetryAfter: when the store stops answering, requests that need it
// answer 503 with Retry-After and a fixed detail (never 500, never the driver's text), and they
// work again when it is back. The node reaches the store through a write proxy that the test
// stops, which closes every connection, as a crashed or partitioned store would.
func TestStoreOutageIs503WithRetryAfter(t *testing.T) {
	u, err := url.Parse(storetest.URI())
	require.NoError(t, err)
	p, err := embedded.StartWriteProxy(context.Background(), "127.0.0.1:0", u.Host, nil)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			p.Stop()
		}
	})
	e := newEnv(t)
	e.storeURI = p.URI()
	n := e.node()
	f := n.seed()
	require.Equal(t, 201, n.call("POST", "/api/v1/needs", f.ministry.Token, needBody(f, "ministry", "Before the outage")).Status)

	p.Stop()
	stopped = true
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/needs"},
		{"GET", "/api/v1/me"},
	} {
		var body any
		if c.method == "POST" {
			body = needBody(f, "ministry", "During the outage")
		}
		r := n.call(c.method, c.path, f.ministry.Token, body)
		require.Equal(t, 503, r.Status, "%s %s: %s", c.method, c.path, r.Body)
		assert.Equal(t, "5", r.Header["Retry-After"], "%s %s", c.method, c.path)
		pr := r.problem(t)
		assert.Equal(t, "urn:capmatch:problem:unavailable", pr.Type)
		assert.Equal(t, "the data store is unreachable", pr.Detail)
		assert.NotContains(t, string(r.Body), "127.0.0.1", "no driver text")
	}

	// The store is back at the same address: the next requests succeed.
	p, err = embedded.StartWriteProxy(context.Background(), p.Addr(), u.Host, nil)
	require.NoError(t, err)
	stopped = false
	require.Eventually(t, func() bool {
		return n.call("POST", "/api/v1/needs", f.ministry.Token, needBody(f, "ministry", "After the outage")).Status == 201
	}, 15*time.Second, 100*time.Millisecond, "writes work again once the store answers")
}

// TestListsNameOrganizationsWhileTheStoreIsDown: needs and offers are read from the in-memory
// model while the store is down (RELIABILITY.md), and so are the names of the organizations
// behind them that every view carries: a replica started after the organizations were created
// (a restart, a second replica) has them in memory from its start, not only once it has read
// each from the store.
func TestListsNameOrganizationsWhileTheStoreIsDown(t *testing.T) {
	u, err := url.Parse(storetest.URI())
	require.NoError(t, err)
	p, err := embedded.StartWriteProxy(context.Background(), "127.0.0.1:0", u.Host, nil)
	require.NoError(t, err)
	e := newEnv(t)
	first := e.node()
	f := first.seed()
	offer := first.offerWith(t, nil)
	need := first.newNeed(t, "open", "public")

	e.storeURI = p.URI()
	n := e.node()
	p.Stop()
	for path, name := range map[string]string{"/api/v1/offers/" + offer: "Francophone CSIRT Programme",
		"/api/v1/needs/" + need: "Ministry of Foreign Affairs of Senegal"} {
		r := n.call("GET", path, f.donor.Token, nil)
		require.Equal(t, 200, r.Status, "%s with the store down: %s", path, r.Body)
		assert.Equal(t, name, r.json(t)["organization_name"], path)
	}
	for _, path := range []string{"/api/v1/offers", "/api/v1/needs"} {
		r := n.call("GET", path, f.donor.Token, nil)
		require.Equal(t, 200, r.Status, "%s with the store down: %s", path, r.Body)
		items, _ := r.json(t)["items"].([]any)
		require.NotEmpty(t, items, path)
		for _, it := range items {
			assert.NotEmpty(t, it.(map[string]any)["organization_name"], path)
		}
	}
}
