package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWebhookURLPolicy(t *testing.T) {
	strict := NewDispatcher(WebhookOptions{}, time.Now, discardLog())
	for _, ok := range []string{"https://hooks.example.org/capmatch", "https://93.184.215.14:8443/x?token=abc", "https://[2606:4700::1]/hook"} {
		assert.NoError(t, strict.CheckURL(ok), ok)
	}
	for _, bad := range []string{
		"", "hooks.example.org/x", "http://hooks.example.org/x", "ftp://hooks.example.org/x", "https://user:pw@hooks.example.org/x",
		"https://hooks.example.org/x#frag", "https://localhost/x", "https://api.localhost/x", "https://metadata.google.internal/x",
		"https://127.0.0.1/x", "https://10.1.2.3/x", "https://192.168.0.10/x", "https://172.16.5.4/x", "https://169.254.169.254/latest",
		"https://[::1]/x", "https://[fd00::1]/x", "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "https://0.0.0.0/x",
		"https://100.64.0.1/x", "https:///x", "mailto:a@example.org",
	} {
		assert.Error(t, strict.CheckURL(bad), bad)
	}
	open := NewDispatcher(WebhookOptions{AllowPrivate: true}, time.Now, discardLog())
	assert.NoError(t, open.CheckURL("http://127.0.0.1:8080/hook"), "allowed by configuration")
	assert.Error(t, open.CheckURL("ftp://127.0.0.1/hook"))
}

func TestBlockedAddresses(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "::1", "fc00::1",
		"fe80::1", "::ffff:10.0.0.1", "0.0.0.0", "::", "224.0.0.1", "255.255.255.255", "100.100.100.200", "64:ff9b::a00:1"} {
		assert.True(t, blockedAddr(netip.MustParseAddr(s)), s)
	}
	for _, s := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::1111"} {
		assert.False(t, blockedAddr(netip.MustParseAddr(s)), s)
	}
}

func TestSignIsHMACSHA256OfTheBody(t *testing.T) {
	// RFC 4231 test case 2.
	assert.Equal(t, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		Sign("Jefe", []byte("what do ya want for nothing?")))
}

// countingReceiver is a receiver that answers with status and counts requests.
func countingReceiver(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func runDispatcher(t *testing.T, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

var testNote = models.Notification{ID: "n1", Kind: KindProposal, Text: "hello", OrganizationID: "org"}

func TestDispatcherRefusesPrivateTargetsAtDelivery(t *testing.T) {
	srv, hits := countingReceiver(t, 200)
	d := NewDispatcher(WebhookOptions{Backoff: []time.Duration{time.Millisecond}}, time.Now, discardLog())
	runDispatcher(t, d)
	d.Enqueue(srv.URL, "secret-secret-secret", testNote) // loopback: refused when dialled, never retried
	require.Eventually(t, func() bool { return d.Stats().Failed == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 0, hits.Load())
	assert.EqualValues(t, 0, d.Stats().Retried)
}

func TestDispatcherRetriesThenGivesUp(t *testing.T) {
	srv, hits := countingReceiver(t, 503)
	d := NewDispatcher(WebhookOptions{AllowPrivate: true, Backoff: []time.Duration{time.Millisecond, 2 * time.Millisecond}}, time.Now, discardLog())
	runDispatcher(t, d)
	d.Enqueue(srv.URL, "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d.Stats().Failed == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 3, hits.Load(), "one try and one retry per backoff step")
	assert.EqualValues(t, 2, d.Stats().Retried)

	srv429, hits429 := countingReceiver(t, 429)
	d.Enqueue(srv429.URL, "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d.Stats().Failed == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 3, hits429.Load(), "429 is retried like a 5xx")

	srv404, hits404 := countingReceiver(t, 404)
	d.Enqueue(srv404.URL, "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d.Stats().Failed == 3 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 1, hits404.Load(), "a 4xx is final")

	srv302, hits302 := countingReceiver(t, 302)
	d.Enqueue(srv302.URL, "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d.Stats().Failed == 4 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 1, hits302.Load(), "redirects are not followed")
}

func TestDispatcherDropsWhenTheQueueIsFull(t *testing.T) {
	d := NewDispatcher(WebhookOptions{AllowPrivate: true, Queue: 2}, time.Now, discardLog())
	start := time.Now()
	for range 5 {
		d.Enqueue("http://127.0.0.1:9/", "secret-secret-secret", testNote) // not running: nothing drains
	}
	assert.Less(t, time.Since(start), time.Second, "enqueueing never waits")
	assert.EqualValues(t, 3, d.Stats().Dropped)
}

func TestNilNotificationsAreHarmless(t *testing.T) {
	var s *Notifications
	s.Notify(context.Background(), "org", KindProposal, "x", "need", "n")
	s.NeedTransitioned(context.Background(), models.NeedSubmit, &models.Need{})
	s.OfferPublished(context.Background(), &models.Offer{})
	s.Run(context.Background())
}
