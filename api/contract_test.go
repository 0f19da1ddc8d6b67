package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/matching"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

// The API tests check every exchange they make against openapi.yaml (issue 14), so that the
// document is what the server does and a client generated from it can trust it:
//
//   - every response to a documented operation must match the document: its status must be
//     documented for the operation, its Content-Type one the status lists, its headers and body
//     valid against their schemas (kin-openapi's openapi3filter.ValidateResponse);
//   - a request the document calls invalid must not succeed: the tests send bad input on
//     purpose, and the server must then answer 4xx, but a 2xx answer to a request the document
//     rejects means the document is stricter than the server;
//   - a request under /api/ that matches no documented operation must get 404 or 405.
//
// Paths outside the document (the web UI's pages and assets) are not checked here.

// contractDoc is the document the exchanges are checked against, loaded once per test binary.
var contractDoc struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// openAPIContract loads and validates openapi.yaml and builds a router over its operations.
func openAPIContract() (*openapi3.T, routers.Router, error) {
	contractDoc.once.Do(func() {
		// The IATI export and the documentation page are text the document describes as a
		// string; kin-openapi decodes only JSON, forms and text/plain by itself.
		for _, ct := range []string{"application/xml", "text/html"} {
			openapi3filter.RegisterBodyDecoder(ct, textBody)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openapiYAML)
		if err != nil {
			contractDoc.err = fmt.Errorf("openapi.yaml does not load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			contractDoc.err = fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		// The document's one server is "/": route on the request's path alone.
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			contractDoc.err = fmt.Errorf("openapi.yaml: no router: %w", err)
			return
		}
		contractDoc.doc, contractDoc.router = doc, r
	})
	return contractDoc.doc, contractDoc.router, contractDoc.err
}

// textBody decodes a text body as one string.
func textBody(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

// exercised records the documented operations ("METHOD /path") the tests have called.
var exercised sync.Map

// unexercisedOperations lists the operations of the document that no exchange checked so far.
func unexercisedOperations() []string {
	doc, _, err := openAPIContract()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if _, ok := exercised.Load(method + " " + path); !ok {
				out = append(out, method+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// exchange is one request the tests sent and the answer they got.
type exchange struct {
	req     *http.Request
	reqBody []byte
	status  int
	header  http.Header
	body    []byte
}

// checkContract reports, on t, every way the exchange departs from openapi.yaml.
func checkContract(t testing.TB, x exchange) {
	t.Helper()
	if err := contractViolation(x); err != nil {
		t.Errorf("openapi.yaml: %s %s → %d: %v\nresponse: %.600s", x.req.Method, x.req.URL.RequestURI(), x.status, err, x.body)
	}
}

// contractViolation returns how the exchange departs from openapi.yaml, or nil.
func contractViolation(x exchange) error {
	_, router, err := openAPIContract()
	if err != nil {
		return err
	}
	ctx := context.Background()
	req := x.req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	route, params, err := router.FindRoute(req)
	if err != nil {
		var re *routers.RouteError
		if !errors.As(err, &re) {
			return err
		}
		if strings.HasPrefix(req.URL.Path, "/api/") && x.status != http.StatusNotFound && x.status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no documented operation (%v), yet the server answered %d", err, x.status)
		}
		return nil
	}
	exercised.Store(route.Method+" "+route.Path, true)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError: true, SkipSettingDefaults: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && x.status < 300 {
		return fmt.Errorf("the document rejects this request, yet the server answered %d: %w", x.status, err)
	}
	// The response is checked against the request as sent (the request check may have read
	// its body).
	req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.status, Header: x.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	body, err := decodedBody(x.header.Get("Content-Encoding"), x.body)
	if err != nil {
		return err
	}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, out)
}

// decodedBody is a response body with its content coding (gzip, br) undone: the document
// describes the content, whichever coding it travels in.
func decodedBody(coding string, body []byte) ([]byte, error) {
	switch coding {
	case "":
		return body, nil
	case "gzip":
		return fasthttp.AppendGunzipBytes(nil, body)
	case "br":
		return fasthttp.AppendUnbrotliBytes(nil, body)
	}
	return nil, fmt.Errorf("unexpected Content-Encoding %q", coding)
}

// send runs a request through the node's server, records the body (see assertNoSecrets) and
// checks the exchange against openapi.yaml.
func (n *node) send(req *http.Request) resp {
	t := n.env.t
	t.Helper()
	hr, raw := n.roundTrip(t, req)
	h := map[string]string{}
	for k := range hr.Header {
		h[k] = hr.Header.Get(k)
	}
	return resp{Status: hr.StatusCode, Header: h, Body: raw}
}

// roundTrip is send for any client: it answers the http.Response with its body read (and
// put back, so that the caller may read it again).
func (n *node) roundTrip(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		if err != nil {
			t.Fatalf("reading the request body: %v", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	probe := req.Clone(context.Background())
	hr, err := n.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	hr.Body = io.NopCloser(bytes.NewReader(raw))
	n.env.mu.Lock()
	n.env.seen = append(n.env.seen, string(raw))
	n.env.mu.Unlock()
	checkContract(t, exchange{req: probe, reqBody: reqBody, status: hr.StatusCode, header: hr.Header, body: raw})
	return hr, raw
}

// TestOpenAPIDocumentIsValid: openapi.yaml loads, every $ref resolves and the document is a
// valid OpenAPI 3 document (kin-openapi's validation); the contract checks stand on it.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	if _, _, err := openAPIContract(); err != nil {
		t.Fatal(err)
	}
}

// TestContractCheckCatchesMismatches: the check every API test runs is not vacuous: it refuses
// answers the document does not describe (wrong types, a null list, an undocumented status or
// Content-Type, an undocumented route answered, a request the document rejects answered 2xx),
// and accepts the shapes the server sends (an Organization with its server-owned fields).
func TestContractCheckCatchesMismatches(t *testing.T) {
	jsonH := http.Header{"Content-Type": {"application/json"}}
	problemH := http.Header{"Content-Type": {"application/problem+json"}}
	req := func(method, path, body string) (*http.Request, []byte) {
		r := httptest.NewRequest(method, path, nil)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, []byte(body)
	}
	x := func(method, path, reqBody string, status int, h http.Header, body string) exchange {
		r, b := req(method, path, reqBody)
		return exchange{req: r, reqBody: b, status: status, header: h, body: []byte(body)}
	}
	const org = `{"id":"06h4wy7mb5dt0wchata8h9my","name":"Ministry of ICT","type":"government","country":"GH",
		"created_at":"2026-12-07T03:11:18.123Z","updated_at":"2026-12-07T03:11:18.123Z","version":1}`
	const eng = `{"id":"e","need_id":"n","offer_id":"o","need_organization_id":"a","offer_organization_id":"b",
		"country":"SN","capability":"cert_setup","proposed_by":"need","status":"agreed","message":"","budget_usd":1,
		"messages":%s,"start_date":"2027-01-01","end_date":"2027-12-31","created_by":"u",
		"created_at":"2026-12-07T03:11:18Z","updated_at":"2026-12-07T03:11:18Z","version":2}`
	good := map[string]exchange{
		"an organization":      x("GET", "/api/v1/organizations/06h4wy7mb5dt0wchata8h9my", "", 200, jsonH, org),
		"an engagement":        x("POST", "/api/v1/engagements/e/accept", "", 200, jsonH, fmt.Sprintf(eng, "[]")),
		"a problem":            x("GET", "/api/v1/needs", "", 503, problemH, `{"type":"urn:capmatch:problem:unavailable","title":"Service Unavailable","status":503}`),
		"a 404 off the map":    x("GET", "/API/V1/NEEDS", "", 404, problemH, `{"status":404}`),
		"a bad request, 4xx'd": x("POST", "/api/v1/auth/login", `{"email":"a@b.example","password":"x","extra":1}`, 400, problemH, `{"type":"urn:capmatch:problem:malformed","title":"Bad Request","status":400}`),
		"a web page":           x("GET", "/needs", "", 200, http.Header{"Content-Type": {"text/html"}}, "<html></html>"),
	}
	for name, ex := range good {
		assert.NoError(t, contractViolation(ex), name)
	}
	bad := map[string]exchange{
		"a wrong type":             x("GET", "/healthz", "", 200, jsonH, `{"status":5}`),
		"a null list":              x("POST", "/api/v1/engagements/e/accept", "", 200, jsonH, fmt.Sprintf(eng, "null")),
		"a missing required field": x("GET", "/api/v1/organizations/x", "", 200, jsonH, `{"id":"x"}`),
		"an undocumented 2xx":      x("GET", "/api/v1/needs", "", 202, jsonH, `{}`),
		"a problem as JSON":        x("GET", "/api/v1/needs", "", 503, jsonH, `{"status":503}`),
		"an undocumented route":    x("GET", "/api/v1/nowhere", "", 200, jsonH, `{}`),
		"a bad request, 2xx'd":     x("POST", "/api/v1/auth/login", `{"email":"a@b.example","password":"x","extra":1}`, 200, jsonH, `{"access_token":"a"}`),
		"an unknown notification":  x("GET", "/api/v1/notifications", "", 200, jsonH, `{"unread":0,"items":[{"id":"1","kind":"gossip","text":"","object_type":"need","object_id":"n","organization_id":"o","created_at":"2026-12-07T03:11:18Z","read":false}]}`),
	}
	for name, ex := range bad {
		assert.Error(t, contractViolation(ex), name)
	}
}

// TestEngagementThreadIsAlwaysAList: an engagement whose thread is empty answers
// "messages": [] (never null) when proposed, agreed, declined or withdrawn, as the document
// promises (issue 14: a zod-validating client broke on the null).
func TestEngagementThreadIsAlwaysAList(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	thread := func(r resp) any {
		t.Helper()
		require.Less(t, r.Status, 300, string(r.Body))
		m := r.json(t)
		require.Contains(t, m, "messages")
		return m["messages"]
	}
	for _, end := range []struct{ action, token string }{
		{"accept", f.donor.Token}, {"decline", f.donor.Token}, {"withdraw", f.ministry.Token}} {
		need, offer := n.newNeed(t, "open", "public"), n.newOffer(t, "open")
		r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer})
		assert.Equal(t, []any{}, thread(r), "proposed")
		id := r.json(t)["id"].(string)
		assert.Equal(t, []any{}, thread(n.call("POST", "/api/v1/engagements/"+id+"/"+end.action, end.token, nil)), end.action)
		assert.Equal(t, []any{}, thread(n.call("GET", "/api/v1/engagements/"+id, f.coord.Token, nil)), "read back after "+end.action)
	}
}

// TestReasonCodesAreDocumented: the document's list of reason codes is the engine's, so a client
// that switches on `code` knows every value it can receive.
func TestReasonCodesAreDocumented(t *testing.T) {
	doc, _, err := openAPIContract()
	require.NoError(t, err)
	var got []string
	for _, v := range doc.Components.Schemas["Factor"].Value.Properties["code"].Value.Enum {
		got = append(got, v.(string))
	}
	assert.ElementsMatch(t, matching.ReasonCodes, got)
}
