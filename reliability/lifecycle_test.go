//go:build unix

package reliability

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shutdownBudget is the API's own budget for in-flight requests after SIGTERM
// (cmd/capmatch.shutdownBudget).
const shutdownBudget = 10 * time.Second

// TestSIGTERMUnderLoad sends SIGTERM to the API while a pool of goroutines keeps sending
// requests, half of them back to back on keep-alive connections and half on a new connection
// each. No request the server received may fail: each must complete with its 2xx, or never
// have reached the server because the listener was closing; the process must exit 0 within its
// shutdown budget.
//
// Each request carries its own X-Correlation-Id, which the API writes in its access log, so a
// failed request is classified from both ends: a client error for a request the server logged
// is an in-flight request that failed. A request the server never logged was never received:
// refused at connect, closed before it was written, reset in the closing listener's backlog,
// or written on a kept-alive connection at the instant the server closed it (the HTTP/1.1
// keep-alive race). The last two are counted and reported; they are the client's to retry.
func TestSIGTERMUnderLoad(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	dialer := &net.Dialer{Timeout: 2 * time.Second}
	keepAlive := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}}
	oneShot := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	ops := append(readOps(f), createNeedOp(f, "Written during shutdown"))

	type outcome struct {
		id, kind         string
		start, end       time.Time
		status           int
		err              error
		reused           bool
		wrote, firstByte bool
		keepAlive        bool
	}
	var (
		mu       sync.Mutex
		outs     []outcome
		stop     atomic.Bool
		wg       sync.WaitGroup
		seq      atomic.Int64
		deadline = time.Now().Add(phase(30 * time.Second))
	)
	const workers = 12
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := keepAlive
			if w%2 == 1 {
				hc = oneShot
			}
			for n := 0; n < 20000 && !stop.Load() && time.Now().Before(deadline); n++ {
				o := ops[(w+n)%len(ops)]
				out := outcome{id: fmt.Sprintf("sigterm-%d-%d", w, n), kind: o.kind, keepAlive: hc == keepAlive}
				// The transport calls these from its own goroutines.
				var reused, wrote, gotByte atomic.Bool
				trace := &httptrace.ClientTrace{
					GotConn:              func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
					WroteRequest:         func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
					GotFirstResponseByte: func() { gotByte.Store(true) },
				}
				var body any
				if o.body != nil {
					body = o.body(seq.Add(1))
				}
				out.start = time.Now()
				r := c.doWithTrace(hc, trace, o.method, o.path, o.token, body, map[string]string{"X-Correlation-Id": out.id})
				out.end, out.status, out.err = time.Now(), r.status, r.err
				out.reused, out.wrote, out.firstByte = reused.Load(), wrote.Load(), gotByte.Load()
				mu.Lock()
				outs = append(outs, out)
				mu.Unlock()
				if hc == oneShot {
					time.Sleep(time.Millisecond) // keep-alive workers send back to back
				}
			}
		}()
	}

	time.Sleep(phase(1500 * time.Millisecond))
	sigAt := time.Now()
	if err := api.p.signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	var exitAfter time.Duration
	select {
	case <-api.p.exited:
		exitAfter = time.Since(sigAt)
	case <-time.After(shutdownBudget + 5*time.Second):
		t.Fatalf("the API did not exit within %v of SIGTERM", shutdownBudget+5*time.Second)
	}
	time.Sleep(300 * time.Millisecond) // requests against the closed port
	stop.Store(true)
	wg.Wait()

	code := api.p.state.ExitCode()
	if code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0", code)
	}
	if exitAfter > shutdownBudget {
		t.Errorf("the API exited %v after SIGTERM, beyond its %v budget", exitAfter, shutdownBudget)
	}

	logged := api.out.requests()
	var (
		ok, okAcrossSignal, notSent, inFlightFailed, answeredError int
		idleRace, backlogReset, freshUnread                        int
		samples                                                    []string
	)
	kinds := map[string]int{}
	for _, o := range outs {
		st, seen := logged[o.id]
		switch {
		case o.err == nil && o.status >= 200 && o.status < 300:
			ok++
			kinds[o.kind]++
			if o.start.Before(sigAt) && o.end.After(sigAt) {
				okAcrossSignal++
			}
		case o.err == nil:
			answeredError++
			samples = append(samples, fmt.Sprintf("%s %s answered %d", o.id, o.kind, o.status))
		case seen:
			// The server read it (its access log has the id) and the client got no answer.
			inFlightFailed++
			samples = append(samples, fmt.Sprintf("%s %s: server logged %d, client got %v (reused=%v wrote=%v)", o.id, o.kind, st, o.err, o.reused, o.wrote))
		case isDialError(o.err) || !o.wrote:
			// Could not connect (refused, or reset while in the closed listener's backlog), or
			// the transport saw the connection closed before writing: never sent.
			notSent++
		case o.reused:
			// Written on a kept-alive connection that the server, shutting down, closed while it
			// was idle (no handler saw it): the HTTP/1.1 keep-alive close race of RFC 9112
			// §9.3.1, which a server cannot rule out; a client may retry only idempotent requests.
			idleRace++
			samples = append(samples, fmt.Sprintf("%s %s: written on a reused keep-alive connection the server closed unread (no access-log line): %v", o.id, o.kind, o.err))
		case errors.Is(o.err, syscall.ECONNRESET) && !o.firstByte && o.start.After(sigAt.Add(-250*time.Millisecond)):
			// A new connection the kernel completed in the listen backlog, reset when the
			// listener closed: the server never accepted it (fasthttp does not close accepted
			// connections that have not sent their first request within 5 s of arrival).
			backlogReset++
			samples = append(samples, fmt.Sprintf("%s %s: new connection reset by the closing listener, never accepted (no access-log line): %v", o.id, o.kind, o.err))
		default:
			// Anything else on a new connection: the server accepted it and dropped the request.
			freshUnread++
			samples = append(samples, fmt.Sprintf("%s %s: written on a new connection and lost (no access-log line): %v", o.id, o.kind, o.err))
		}
	}
	sort.Strings(samples)
	t.Logf("FIGURE sigterm %d requests: %d completed 2xx (%d of them in flight across the signal); %d failed in flight, %d answered non-2xx, %d other losses; never reached the server: %d not sent (connection refused, or closed before the request was written), %d reset in the closing listener's backlog, %d lost to the keep-alive close race",
		len(outs), ok, okAcrossSignal, inFlightFailed, answeredError, freshUnread, notSent, backlogReset, idleRace)
	t.Logf("FIGURE sigterm completed by kind: %v", kinds)
	t.Logf("FIGURE sigterm exit code %d, %s after SIGTERM (budget %v)", code, ms(exitAfter), shutdownBudget)
	for _, s := range lastN(samples, 10) {
		t.Logf("sigterm: %s", s)
	}
	if n := inFlightFailed + answeredError + freshUnread; n > 0 {
		t.Errorf("%d requests failed across SIGTERM (want 0)", n)
	}
	if notSent == 0 {
		t.Errorf("no request met the closed listener: the load did not span the shutdown")
	}
}

// doWithTrace is doWith with an httptrace attached.
func (c *client) doWithTrace(hc *http.Client, trace *httptrace.ClientTrace, method, path, token string, body any, hdr map[string]string) resp {
	tc := *hc
	base := hc.Transport
	tc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return base.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	})
	return c.doWith(&tc, method, path, token, body, hdr)
}

// isDialError reports whether err happened while connecting: the request was never sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSIGKILLKeepsAcknowledgedWrites kills the API with SIGKILL while writers create needs,
// restarts it on the same store, and checks that every need acknowledged with a 201 before the
// kill is there. It runs with the standalone store process and with the embedded store (same
// CAPMATCH_DATA_DIR), where the kill takes the store down with the API.
func TestSIGKILLKeepsAcknowledgedWrites(t *testing.T) {
	slow(t)
	t.Run("standalone store", func(t *testing.T) {
		rd := startRedis(t)
		st := startStore(t)
		killAndRestart(t, "standalone", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	})
	t.Run("embedded store", func(t *testing.T) {
		rd := startRedis(t)
		killAndRestart(t, "embedded", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true"))
	})
	// CAPMATCH_EMBEDDED_SYNC=normal skips the sync at each commit: it promises that an
	// acknowledged write survives the process being killed (not a power loss), which is this.
	t.Run("embedded store, sync normal", func(t *testing.T) {
		rd := startRedis(t)
		killAndRestart(t, "embedded-normal", apiEnv(t, "REDIS_URL", rd.URL(), "CAPMATCH_DEMO", "true", "CAPMATCH_EMBEDDED_SYNC", "normal"))
	})
}

func killAndRestart(t *testing.T, label string, env map[string]string) {
	api := startAPI(t, "api", env)
	c := newClient(api)
	ministry := c.login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!")

	type ack struct{ id, title string }
	var (
		mu      sync.Mutex
		acked   []ack
		unsure  []string // titles whose request got no answer: in flight at the kill
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(phase(15 * time.Second))
			for n := 0; n < 20000 && !stopped.Load() && time.Now().Before(deadline); n++ {
				title := fmt.Sprintf("SIGKILL probe w%d n%d end", w, n)
				r := c.do("POST", "/api/v1/needs", ministry, needBody(title))
				mu.Lock()
				switch {
				case r.err == nil && r.status == 201:
					var m struct{ ID string }
					if err := json.Unmarshal(r.body, &m); err == nil {
						acked = append(acked, ack{m.ID, title})
					}
				case r.err != nil && !isRefused(r.err):
					unsure = append(unsure, title)
				}
				mu.Unlock()
				if r.err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(phase(1500 * time.Millisecond))
	api.Kill()
	stopped.Store(true)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	restartAt := time.Now()
	api.Restart()
	toListen := time.Since(restartAt)
	c = newClient(api)
	ministry = c.login(t, "ministry.sn@capmatch.example", "demo-ministry-sn!")
	missing := 0
	for _, a := range acked {
		r := c.do("GET", "/api/v1/needs/"+a.id, ministry, nil)
		if r.err != nil || r.status != 200 || !strings.Contains(string(r.body), a.title) {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged need %s (%q) after the restart: %s", a.id, a.title, truncate(r.String(), 200))
			}
		}
	}
	landed := 0
	for _, title := range unsure {
		if ids := c.listIDs(t, "/api/v1/needs?q="+url.QueryEscape(title), ministry); len(ids) > 0 {
			landed++
		}
	}
	t.Logf("FIGURE sigkill %s: %d writes acknowledged before kill -9, %d missing after restart; %d in flight at the kill (no answer), %d of which were stored; restart → listening %s",
		label, len(acked), missing, len(unsure), landed, ms(toListen))
}
