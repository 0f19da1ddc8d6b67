package webhooks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWebhookURLPolicy(t *testing.T) {
	strict := New(Options{}, time.Now, discardLog())
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
	open := New(Options{AllowPrivate: true}, time.Now, discardLog())
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

var testNote = models.Notification{ID: "n1", Kind: "proposal", Text: "hello", OrganizationID: "org"}

func TestDispatcherRefusesPrivateTargetsAtDelivery(t *testing.T) {
	srv, hits := countingReceiver(t, 200)
	d := New(Options{Backoff: []time.Duration{time.Millisecond}}, time.Now, discardLog())
	runDispatcher(t, d)
	d.Enqueue(srv.URL, "secret-secret-secret", testNote) // loopback: refused when dialled, never retried
	require.Eventually(t, func() bool { return d.Stats().Failed == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 0, hits.Load())
	assert.EqualValues(t, 0, d.Stats().Retried)
}

func TestDispatcherRetriesThenGivesUp(t *testing.T) {
	srv, hits := countingReceiver(t, 503)
	d := New(Options{AllowPrivate: true, Backoff: []time.Duration{time.Millisecond, 2 * time.Millisecond}}, time.Now, discardLog())
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
	d := New(Options{AllowPrivate: true, Queue: 2}, time.Now, discardLog())
	start := time.Now()
	for range 5 {
		d.Enqueue("http://127.0.0.1:9/", "secret-secret-secret", testNote) // not running: nothing drains
	}
	assert.Less(t, time.Since(start), time.Second, "enqueueing never waits")
	assert.EqualValues(t, 3, d.Stats().Dropped)
}

// TestEmbeddedIPv4FormsAreClassified (issue 13.7): IPv6 forms that carry an IPv4 address are
// classified by that address too, so a webhook cannot reach loopback, private or metadata
// addresses through them: IPv4-mapped, IPv4-compatible (deprecated; refused whatever it
// embeds), IPv4-translated (SIIT), 6to4 (2002::/16), Teredo (2001::/32: its server and its
// obfuscated client address) and NAT64 (64:ff9b::/96 and 64:ff9b:1::/48: refused whatever they
// embed, the translator being on the operator's network).
func TestEmbeddedIPv4FormsAreClassified(t *testing.T) {
	cases := []struct {
		addr    string
		blocked bool
		why     string
	}{
		{"::ffff:127.0.0.1", true, "IPv4-mapped loopback"},
		{"::ffff:169.254.169.254", true, "IPv4-mapped metadata"},
		{"::ffff:8.8.8.8", false, "IPv4-mapped public"},
		{"::127.0.0.1", true, "IPv4-compatible loopback (the probe's case)"},
		{"::a00:1", true, "IPv4-compatible 10.0.0.1"},
		{"::8.8.8.8", true, "IPv4-compatible, deprecated: refused whatever it embeds"},
		{"::ffff:0:7f00:1", true, "IPv4-translated (SIIT) loopback"},
		{"::ffff:0:808:808", true, "IPv4-translated: refused whatever it embeds"},
		{"2002:7f00:1::", true, "6to4 of 127.0.0.1 (the probe's case)"},
		{"2002:a00:1::1", true, "6to4 of 10.0.0.1"},
		{"2002:a9fe:a9fe::1", true, "6to4 of 169.254.169.254"},
		{"2002:c0a8:101:1::1", true, "6to4 of 192.168.1.1"},
		{"2002:6440:1::1", true, "6to4 of 100.64.0.1 (shared address space)"},
		{"2002:808:808::1", false, "6to4 of 8.8.8.8"},
		{"2001:0:a00:1:8000:63bf:f7f7:f7f7", true, "Teredo with server 10.0.0.1"},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", true, "Teredo with client 127.0.0.1 (obfuscated)"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true, "Teredo with client 192.0.2.45 (documentation)"},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false, "Teredo with server 65.54.227.120 and client 8.8.8.8"},
		{"64:ff9b::7f00:1", true, "NAT64 of 127.0.0.1"},
		{"64:ff9b::808:808", true, "NAT64 well-known prefix: refused whatever it embeds"},
		{"64:ff9b:1::a00:1", true, "NAT64 local-use prefix"},
		{"64:ff9b:1:ffff::808:808", true, "NAT64 local-use prefix, anywhere in the /48"},
		{"fec0::1", true, "site-local (deprecated)"},
		{"3fff::1", true, "documentation (RFC 9637)"},
		{"2001:db8::1", true, "documentation"},
		{"192.88.99.1", true, "6to4 relay anycast (deprecated)"},
		{"2001:4860:4860::8888", false, "public IPv6 (not Teredo: that is 2001:0::/32 only)"},
		{"2606:4700::1111", false, "public IPv6"},
		{"fe80::1%eth0", true, "link-local with a zone"},
	}
	for _, c := range cases {
		assert.Equal(t, c.blocked, blockedAddr(netip.MustParseAddr(c.addr)), "%s: %s", c.addr, c.why)
	}
	strict := New(Options{}, time.Now, discardLog())
	for _, u := range []string{"https://[::127.0.0.1]:8443/hook", "https://[2002:7f00:1::]:8443/hook", "https://[64:ff9b::a9fe:a9fe]/latest"} {
		assert.Error(t, strict.CheckURL(u), u)
	}
}

// TestFailedDeliveriesLogNoQuery (issue 13.7): a receiver URL often carries a token in its
// query; failed deliveries log the target as scheme, host and path only.
func TestFailedDeliveriesLogNoQuery(t *testing.T) {
	srv, _ := countingReceiver(t, 200)
	var logs safeBuffer
	d := New(Options{Backoff: []time.Duration{time.Millisecond}}, time.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	runDispatcher(t, d)
	// Refused when dialled (loopback), which fails inside the HTTP client, whose errors quote
	// the whole URL.
	d.Enqueue(srv.URL+"/hooks/capmatch?token=s3cr3t-t0ken&sig=abc", "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d.Stats().Failed == 1 }, 5*time.Second, 5*time.Millisecond)
	out := logs.String()
	assert.Contains(t, out, "webhook delivery failed")
	assert.Contains(t, out, srv.URL+"/hooks/capmatch", "the target is still named")
	assert.NotContains(t, out, "s3cr3t-t0ken")
	assert.NotContains(t, out, "sig=abc")

	// A receiver that answers 5xx is retried: the retry lines do not leak the query either.
	bad, _ := countingReceiver(t, 503)
	d2 := New(Options{AllowPrivate: true, Backoff: []time.Duration{time.Millisecond}}, time.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	runDispatcher(t, d2)
	d2.Enqueue(bad.URL+"/in?token=an0ther-t0ken", "secret-secret-secret", testNote)
	require.Eventually(t, func() bool { return d2.Stats().Failed == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.NotContains(t, logs.String(), "an0ther-t0ken")
	assert.Contains(t, logs.String(), bad.URL+"/in")
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example.org/capmatch?token=abc#x":    "https://hooks.example.org/capmatch",
		"https://user:pw@hooks.example.org:8443/a/b?c=d":    "https://hooks.example.org:8443/a/b",
		"https://[2606:4700::1]/hook":                       "https://[2606:4700::1]/hook",
		"::not a url":                                       "(unparsable URL)",
		"https://hooks.example.org/%2e%2e/secret?token=abc": "https://hooks.example.org/%2e%2e/secret",
	} {
		assert.Equal(t, want, redactURL(in), in)
	}
}

// safeBuffer is a log sink the dispatcher's goroutines and the test may use at once.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
