package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakePinger struct{ err error }

func (f fakePinger) Ping(context.Context) error { return f.err }

func newTestServer(checks ...Check) *Server {
	return New(Deps{Log: discardLogger(), Checks: checks})
}

func do(t *testing.T, app *fiber.App, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	var sent []byte
	if req.Body != nil {
		var err error
		sent, err = io.ReadAll(req.Body)
		require.NoError(t, err)
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	probe := req.Clone(context.Background())
	resp, err := app.Test(req, -1)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	checkContract(t, exchange{req: probe, reqBody: sent, status: resp.StatusCode, header: resp.Header, body: b})
	return resp, b
}

func decodeProblem(t *testing.T, resp *http.Response, body []byte) Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), string(body))
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, resp.StatusCode, p.Status)
	assert.NotEmpty(t, p.Type)
	assert.NotEmpty(t, p.Title)
	return p
}

// TestOpenAPICoversEveryRoute fails when a route is registered but not documented.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := newTestServer()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI(), &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	param := regexp.MustCompile(`:([a-z_]+)`)
	checked := 0
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Method == "USE" || r.Method == fiber.MethodOptions {
			continue
		}
		if !strings.HasPrefix(r.Path, "/api/") && !strings.HasPrefix(r.Path, "/healthz") && !strings.HasPrefix(r.Path, "/readyz") &&
			!strings.HasPrefix(r.Path, "/metrics") && r.Path != "/docs" {
			continue // web UI pages and static assets are not API
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		ops, ok := doc.Paths[path]
		if assert.True(t, ok, "route %s %s is not in openapi.yaml (as %s)", r.Method, r.Path, path) {
			_, ok := ops[strings.ToLower(r.Method)]
			assert.True(t, ok, "method %s of %s is not in openapi.yaml", r.Method, path)
		}
		checked++
	}
	assert.GreaterOrEqual(t, checked, 5)
}

func TestReadyzNamesTheDependencyThatIsDown(t *testing.T) {
	s := newTestServer(Check{"store", fakePinger{}}, Check{"cache", fakePinger{errors.New("dial tcp: refused")}})
	resp, body := do(t, s.App(), httptest.NewRequest("GET", "/readyz", nil))
	assert.Equal(t, 503, resp.StatusCode)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	p := decodeProblem(t, resp, body)
	assert.Equal(t, "cache down", p.Detail)
	assert.Equal(t, map[string]string{"store": "ok", "cache": "down"}, p.Checks)
	assert.NotContains(t, string(body), "refused", "no internals leak")

	s = newTestServer(Check{"store", fakePinger{}}, Check{"cache", fakePinger{}})
	resp, body = do(t, s.App(), httptest.NewRequest("GET", "/readyz", nil))
	assert.Equal(t, 200, resp.StatusCode, string(body))

	s.Drain()
	resp, body = do(t, s.App(), httptest.NewRequest("GET", "/readyz", nil))
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "shutting down", decodeProblem(t, resp, body).Detail)
	resp, _ = do(t, s.App(), httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, 200, resp.StatusCode, "liveness stays up while draining")
}

func TestErrorsAreProblemJSON(t *testing.T) {
	s := newTestServer()
	app := s.App()
	app.Get("/test/panic", func(c *fiber.Ctx) error { panic("secret internal state") })
	app.Get("/test/fail", func(c *fiber.Ctx) error { return errors.New("pq: password authentication failed") })
	app.Post("/test/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })

	resp, body := do(t, app, httptest.NewRequest("GET", "/nowhere", nil))
	assert.Equal(t, 404, resp.StatusCode)
	p := decodeProblem(t, resp, body)
	assert.Equal(t, "urn:capmatch:problem:not-found", p.Type)
	assert.NotEmpty(t, p.RequestID)

	for _, path := range []string{"/test/panic", "/test/fail"} {
		resp, body = do(t, app, httptest.NewRequest("GET", path, nil))
		assert.Equal(t, 500, resp.StatusCode)
		p = decodeProblem(t, resp, body)
		assert.NotContains(t, string(body), "secret")
		assert.NotContains(t, string(body), "password")
	}

	// The body limit is enforced by the server while reading, so test it over a real socket.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.Shutdown() }()
	// Announce a body over the limit; the server answers after its first 8 KiB (the server
	// streams bodies: it reads that much before any handler runs), without reading the rest.
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", BodyLimit+1,
		strings.Repeat("x", 8<<10))
	require.NoError(t, err)
	hresp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer hresp.Body.Close()
	body, err = io.ReadAll(hresp.Body)
	require.NoError(t, err)
	assert.Equal(t, 413, hresp.StatusCode)
	assert.Equal(t, "urn:capmatch:problem:too-large", decodeProblem(t, hresp, body).Type)
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	s := newTestServer()
	resp, _ := do(t, s.App(), httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.NotEmpty(t, resp.Header.Get("X-Frame-Options"))
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
}

func TestDocsServeAssetsFromTheBinary(t *testing.T) {
	s := newTestServer()
	resp, body := do(t, s.App(), httptest.NewRequest("GET", "/docs", nil))
	assert.Equal(t, 200, resp.StatusCode)
	for _, src := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		if strings.HasPrefix(src[1], "/api/") {
			continue
		}
		assert.True(t, strings.HasPrefix(src[1], "/docs/assets/"), "asset %s is served locally", src[1])
		r, _ := do(t, s.App(), httptest.NewRequest("GET", src[1], nil))
		assert.Equal(t, 200, r.StatusCode, src[1])
	}
}

// TestMetricsLabelsSurviveBufferReuse: many requests of different methods in a row leave only
// real method names in the metrics (Fiber reuses the buffers its strings point into).
func TestMetricsLabelsSurviveBufferReuse(t *testing.T) {
	s := newTestServer()
	for i := 0; i < 50; i++ {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			do(t, s.App(), httptest.NewRequest(m, "/healthz", nil))
		}
	}
	_, body := do(t, s.App(), httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "capmatch_http_requests_total{") {
			continue
		}
		m := regexp.MustCompile(`method="([^"]*)"`).FindStringSubmatch(line)
		require.NotNil(t, m, line)
		assert.Contains(t, []string{"GET", "POST", "PUT", "DELETE", "PATCH"}, m[1], line)
	}
}

// TestRoutingIsStrictAndCaseSensitive: a path is answered only as written in the route table
// (issue 14): another case or a trailing slash is 404, for the API, the operations endpoints
// and the web UI alike; path parameters keep their own rules (a country code in any case).
func TestRoutingIsStrictAndCaseSensitive(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for _, ok := range []string{"/api/v1/needs", "/api/v1/catalogue", "/healthz", "/api/v1/countries/sn", "/api/v1/countries/SN"} {
		assert.Equal(t, 200, n.call("GET", ok, f.coord.Token, nil).Status, ok)
	}
	for _, bad := range []string{"/API/V1/NEEDS", "/api/v1/needs/", "/Api/v1/catalogue", "/api/v1/catalogue/",
		"/HEALTHZ", "/healthz/", "/api/v1/Needs", "/api/v1/countries/SN/", "/API/v1/openapi.json"} {
		r := n.call("GET", bad, f.coord.Token, nil)
		assert.Equal(t, 404, r.Status, bad)
	}
	// The web UI: its pages as written, and nothing else.
	page := func(path string) int {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html")
		return n.send(req).Status
	}
	for _, ok := range []string{"/", "/signin", "/needs", "/countries/SN"} {
		assert.Equal(t, 200, page(ok), ok)
	}
	for _, bad := range []string{"/SIGNIN", "/signin/", "/Needs", "/needs/", "/countries/SN/"} {
		assert.Equal(t, 404, page(bad), bad)
	}
}

// TestMalformedHTTPIsAProblem: a request that is not well-formed HTTP gets a 400 problem from
// the one error handler, whatever the operation (openapi.yaml documents 400 on the operations
// that have no other client error, such as /healthz).
func TestMalformedHTTPIsAProblem(t *testing.T) {
	s := newTestServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.App().Shutdown() })
	for _, raw := range []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\nA header without a colon\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
		_, err = io.WriteString(c, raw)
		require.NoError(t, err)
		hr, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, raw)
		body, err := io.ReadAll(hr.Body)
		require.NoError(t, err)
		_ = c.Close()
		assert.Equal(t, 400, hr.StatusCode, raw)
		decodeProblem(t, hr, body)
		checkContract(t, exchange{req: httptest.NewRequest("GET", "/healthz", nil), status: hr.StatusCode, header: hr.Header, body: body})
	}
}
