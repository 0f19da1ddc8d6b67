// Package webhooks is the webhook delivery adapter: it posts notifications to organizations'
// webhooks over HTTP from a bounded in-memory queue, signs each body (HMAC-SHA256), retries with
// backoff, and applies the SSRF policy both to a webhook's URL when it is set (CheckURL) and to
// the address actually dialled at every delivery. It implements models.Webhooks, so that the
// application layer (service) never imports net or net/http.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Options tunes webhook delivery.
type Options struct {
	// AllowPrivate lets webhooks target plain http:// URLs and loopback, private and link-local
	// addresses. Off in production (SSRF: a webhook must not reach the servers' own network);
	// tests and on-premises receivers turn it on.
	AllowPrivate bool
	// Backoff is the wait before each retry; a delivery is tried len(Backoff)+1 times in all.
	// Default 1s, 2s, 4s, 8s (five tries).
	Backoff []time.Duration
	// Queue is how many deliveries may wait; beyond it new ones are dropped. Default 1000.
	Queue int
	// Workers deliver concurrently. Default 4.
	Workers int
	// Timeout bounds one try. Default 10s.
	Timeout time.Duration
}

// Dispatcher posts notifications to organizations' webhooks from a bounded in-memory queue,
// never blocking whoever enqueues: a full queue drops the delivery (counted and logged).
// Network errors, 429 and 5xx answers are retried with backoff; other answers are final.
type Dispatcher struct {
	opts   Options
	queue  chan *delivery
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	queued, delivered, failed, retried, dropped atomic.Int64
	running                                     sync.Mutex
}

// Dispatcher is the application layer's webhook port.
var _ models.Webhooks = (*Dispatcher)(nil)

// delivery is one notification on its way to one URL.
type delivery struct {
	url, secret, id string
	body            []byte
	attempt         int
}

// errBlockedAddress marks a target refused by the SSRF policy; it is never retried.
var errBlockedAddress = errors.New("webhook target address is not allowed")

// New builds a dispatcher; call Run to start delivering. now stamps the deliveries (nil: time.Now)
// and log receives their failures (nil: slog.Default()).
func New(opts Options, now func() time.Time, log *slog.Logger) *Dispatcher {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if opts.Backoff == nil {
		opts.Backoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	}
	if opts.Queue <= 0 {
		opts.Queue = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	allow := opts.AllowPrivate
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		// Checked on the address actually dialled, after DNS resolution, so a name that
		// resolves (or later rebinds) to an internal address is refused too.
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errBlockedAddress, address)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || (!allow && blockedAddr(ip)) {
			return fmt.Errorf("%w: %s", errBlockedAddress, host)
		}
		return nil
	}}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would hide the real target from the address check
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Dispatcher{opts: opts, queue: make(chan *delivery, opts.Queue), now: now, log: log,
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // redirects are not followed: a 3xx is a final answer
		}}}
}

// extraBlocked are ranges netip's predicates do not cover: this network, shared address space
// (carrier-grade NAT), IETF protocol assignments, documentation and benchmarking nets, the
// deprecated 6to4 relay anycast, reserved space and broadcast; in IPv6, discard, the
// deprecated site-local and ORCHID ranges, benchmarking and documentation.
var extraBlocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("192.88.99.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("fec0::/10"), netip.MustParsePrefix("2001:2::/48"),
	netip.MustParsePrefix("2001:10::/28"), netip.MustParsePrefix("2001:20::/28"), netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
}

// IPv6 forms that carry an IPv4 address (RFC 4291, 6145, 3056, 4380, 6052, 8215).
var (
	// refusedEmbedding are refused whatever IPv4 address they carry: IPv4-compatible addresses
	// (deprecated, and some stacks tunnel them to the embedded address), IPv4-translated ones
	// (SIIT), and the NAT64 prefixes, whose translator sits on the operator's own network.
	refusedEmbedding = []netip.Prefix{
		netip.MustParsePrefix("::/96"), netip.MustParsePrefix("::ffff:0:0:0/96"),
		netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"),
	}
	sixToFour = netip.MustParsePrefix("2002::/16")   // 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
	teredo    = netip.MustParsePrefix("2001:0::/32") // the server's IPv4 in bits 32-63, the client's inverted in 96-127
)

// blockedAddr reports whether a webhook may not reach ip: anything but a public unicast address.
// An IPv6 address that carries an IPv4 address (mapped, 6to4, Teredo) is refused when the
// IPv4 address it carries would be, so that the IPv4 checks cannot be walked around.
func blockedAddr(ip netip.Addr) bool {
	ip = ip.WithZone("")
	if !ip.IsValid() {
		return true
	}
	if ip.Is4In6() {
		return blockedAddr(ip.Unmap())
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range extraBlocked {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is4() {
		return false
	}
	for _, p := range refusedEmbedding {
		if p.Contains(ip) {
			return true
		}
	}
	b := ip.As16()
	switch {
	case sixToFour.Contains(ip):
		return blockedAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	case teredo.Contains(ip):
		server := netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]})
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return blockedAddr(server) || blockedAddr(client)
	}
	return false
}

// CheckURL applies the SSRF policy to a webhook URL as far as it can be checked before
// delivery: an absolute https URL (http too when private targets are allowed) without
// credentials, whose host is not a refused address or a localhost name. Names are resolved and
// checked again at every delivery. A refusal is an ErrInvalid *models.Error naming field "url".
func (d *Dispatcher) CheckURL(raw string) error {
	refuse := func(code string, args models.Args) error { return models.Invalid("url", code, args) }
	if raw == "" {
		return refuse(models.ProblemRequired, nil)
	}
	if len(raw) > 2000 {
		return refuse(models.ProblemTooLong, models.Args{"max": models.ArgInt(2000), "got": models.ArgInt(len(raw))})
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return refuse(models.ProblemURLHTTPS, nil)
	}
	allow := d != nil && d.opts.AllowPrivate
	if u.Scheme != "https" && !(allow && u.Scheme == "http") {
		return refuse(models.ProblemURLHTTPS, nil)
	}
	if u.User != nil {
		return refuse(models.ProblemURLCredentials, nil)
	}
	if u.Fragment != "" {
		return refuse(models.ProblemURLFragment, nil)
	}
	if allow {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") {
		return refuse(models.ProblemURLInternal, nil)
	}
	if ip, err := netip.ParseAddr(host); err == nil && blockedAddr(ip) {
		return refuse(models.ProblemURLInternal, nil)
	}
	return nil
}

// redactURL is how logs name a webhook target: scheme, host and path, without the user
// information, query and fragment, where receivers often carry a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// Sign returns the X-Capmatch-Signature value of a delivery body: "sha256=" and the hex
// HMAC-SHA256 of the body keyed with the organization's secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Enqueue queues a notification's delivery without ever waiting: when the queue is full the
// delivery is dropped, logged and counted.
func (d *Dispatcher) Enqueue(url, secret string, n models.Notification) {
	body, err := json.Marshal(n)
	if err != nil {
		d.log.Error("webhook body not encoded", "err", err, "notification", n.ID)
		return
	}
	d.queued.Add(1)
	d.enqueue(&delivery{url: url, secret: secret, id: n.ID, body: body})
}

func (d *Dispatcher) enqueue(job *delivery) {
	select {
	case d.queue <- job:
	default:
		d.dropped.Add(1)
		d.log.Warn("webhook queue full; delivery dropped", "delivery", job.id, "queue", cap(d.queue))
	}
}

// Run starts the workers and blocks until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	if !d.running.TryLock() {
		return // already running
	}
	defer d.running.Unlock()
	var wg sync.WaitGroup
	for range d.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-d.queue:
					d.attempt(ctx, job)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(d.queue); n > 0 {
		d.log.Warn("webhook deliveries lost at shutdown (the queue is in memory)", "queued", n)
	}
}

// attempt tries a delivery once; a retryable failure comes back to the queue after its
// backoff, without holding a worker meanwhile.
func (d *Dispatcher) attempt(ctx context.Context, job *delivery) {
	job.attempt++
	retry, err := d.send(ctx, job)
	switch {
	case err == nil:
		d.delivered.Add(1)
	case retry && job.attempt <= len(d.opts.Backoff) && ctx.Err() == nil:
		d.retried.Add(1)
		wait := d.opts.Backoff[job.attempt-1]
		d.log.Info("webhook delivery failed; retrying", "err", err, "target", redactURL(job.url), "delivery", job.id,
			"attempt", job.attempt, "retry_in", wait.String())
		time.AfterFunc(wait, func() {
			if ctx.Err() == nil {
				d.enqueue(job)
			}
		})
	default:
		d.failed.Add(1)
		d.log.Warn("webhook delivery failed", "err", err, "target", redactURL(job.url), "delivery", job.id, "attempts", job.attempt)
	}
}

// send posts the body once and says whether a failure is worth retrying.
func (d *Dispatcher) send(ctx context.Context, job *delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.url, bytes.NewReader(job.body))
	if err != nil {
		return false, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "capmatch-webhooks/1")
	req.Header.Set("X-Capmatch-Delivery", job.id)
	req.Header.Set("X-Capmatch-Timestamp", strconv.FormatInt(d.now().Unix(), 10))
	req.Header.Set("X-Capmatch-Attempt", strconv.Itoa(job.attempt))
	req.Header.Set("X-Capmatch-Signature", Sign(job.secret, job.body))
	resp, err := d.client.Do(req)
	if err != nil {
		// The client's *url.Error quotes the whole URL, query included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return !errors.Is(err, errBlockedAddress), fmt.Errorf("post webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return false, fmt.Errorf("webhook answered %d", resp.StatusCode)
}

// Stats returns the dispatcher's counters, for /metrics and tests.
func (d *Dispatcher) Stats() models.WebhookStats {
	return models.WebhookStats{Queued: d.queued.Load(), Delivered: d.delivered.Load(), Failed: d.failed.Load(), Retried: d.retried.Load(), Dropped: d.dropped.Load()}
}
