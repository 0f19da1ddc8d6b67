package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOnlyLoopbackTargets(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":  "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/": "http://127.0.0.1:8080",
		"http://localhost:9000":  "http://127.0.0.1:9000",
		"http://127.8.9.10":      "http://127.8.9.10",
		"http://[::1]:8080":      "http://[::1]:8080",
		"https://127.0.0.1:8443": "https://127.0.0.1:8443",
	} {
		got, err := loopbackBase(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.2", "http://example.com", "http://0.0.0.0:8080",
		"http://[::]:8080", "ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1.nip.io",
		"http://user:pw@127.0.0.1", "http://127.0.0.1/api", "http://127.0.0.1?x=1",
	} {
		_, err := loopbackBase(in)
		assert.Error(t, err, in)
	}
}

func TestDialerRefusesOtherAddresses(t *testing.T) {
	c := newHTTPClient(time.Second, 4)
	_, err := c.Get("http://192.0.2.1:80/") // TEST-NET-1: never routed
	require.Error(t, err)
	assert.ErrorIs(t, err, errNotLoopback)
}

func TestFlagsAreBounded(t *testing.T) {
	_, err := parseFlags(nil)
	require.NoError(t, err, "the defaults are valid")
	for _, args := range [][]string{
		{"-duration", "11m"}, {"-duration", "0s"}, {"-rate", "-1"}, {"-rate", "1000000"},
		{"-workers", "0"}, {"-max-workers", "100000"}, {"-needs", "0"}, {"-needs", "5000"},
		{"-peak-steps", "31"}, {"-peak-step", "2m"}, {"-peak-factor", "1"}, {"-mode", "soak"},
		{"-target", "http://10.1.2.3:8080"}, {"-user", "nobody"}, {"-donors", "a@b:c,broken"},
		{"-limit", "51"}, {"extra"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
}

func TestParseMix(t *testing.T) {
	built := map[string]int{}
	ops := map[string]func() *op{}
	for _, name := range []string{"a", "b", "c"} {
		ops[name] = func() *op { built[name]++; return &op{name: name} }
	}
	mix, err := parseMix("a=3, b=1,c=0", ops)
	require.NoError(t, err)
	require.Len(t, mix, 2)
	assert.Equal(t, "a", mix[0].op.name)
	assert.Equal(t, 3, mix[0].weight)
	assert.Equal(t, map[string]int{"a": 1, "b": 1}, built, "ops of weight 0 are not built")
	for _, bad := range []string{"", "a=0", "x=1", "a", "a=-1", "a=1,a=2", "a=1001", "a=one"} {
		_, err := parseMix(bad, ops)
		assert.Error(t, err, bad)
	}
}

// fakeServer is enough of capmatch's API for the tool: sign-in, /me, lists, rankings, need
// creation and offer edits. With lose set it acknowledges writes it then forgets.
type fakeServer struct {
	mu     sync.Mutex
	lose   bool
	needs  map[string]item
	offers map[string]item
	calls  map[string]int
}

func newFakeServer(lose bool) *fakeServer {
	return &fakeServer{lose: lose, needs: map[string]item{"n1": {ID: "n1", Title: "Need 1", Status: "open", Version: 1}},
		offers: map[string]item{"o1": {ID: "o1", Status: "open", Version: 1}, "o2": {ID: "o2", Status: "closed", Version: 1}},
		calls:  map[string]int{}}
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.Method+" "+r.URL.Path]++
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case r.Method == "POST" && p == "/api/v1/auth/login":
		var body struct{ Email string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeJSON(200, map[string]string{"access_token": "tok-" + body.Email})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
		writeJSON(401, map[string]string{"title": "Unauthorized"})
		return
	}
	switch {
	case p == "/api/v1/me":
		writeJSON(200, map[string]string{"role": "donor", "organization_id": "org1"})
	case r.Method == "GET" && p == "/api/v1/needs":
		writeJSON(200, map[string]any{"items": []item{f.needs["n1"]}, "next_cursor": nil})
	case r.Method == "GET" && p == "/api/v1/offers":
		writeJSON(200, map[string]any{"items": []item{f.offers["o1"], f.offers["o2"]}, "next_cursor": nil})
	case strings.HasSuffix(p, "/matches"):
		writeJSON(200, map[string]any{"cached": true, "items": []any{}})
	case r.Method == "POST" && p == "/api/v1/needs":
		var in item
		_ = json.NewDecoder(r.Body).Decode(&in)
		n := item{ID: fmt.Sprintf("n%d", len(f.needs)+1), Title: in.Title, Status: "draft", Version: 1}
		if !f.lose {
			f.needs[n.ID] = n
		}
		writeJSON(201, n)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/needs/"):
		n, ok := f.needs[strings.TrimPrefix(p, "/api/v1/needs/")]
		if !ok {
			writeJSON(404, map[string]string{"title": "Not Found"})
			return
		}
		writeJSON(200, n)
	case r.Method == "PATCH" && strings.HasPrefix(p, "/api/v1/offers/"):
		id := strings.TrimPrefix(p, "/api/v1/offers/")
		var in item
		_ = json.NewDecoder(r.Body).Decode(&in)
		o := f.offers[id]
		o.Version++
		o.Description = in.Description
		if !f.lose {
			f.offers[id] = o
		}
		writeJSON(200, o)
	case r.Method == "GET" && strings.HasPrefix(p, "/api/v1/offers/"):
		writeJSON(200, f.offers[strings.TrimPrefix(p, "/api/v1/offers/")])
	default:
		writeJSON(404, map[string]string{"title": "Not Found"})
	}
}

func TestMixedModeChecksEveryAcknowledgedWrite(t *testing.T) {
	for _, lose := range []bool{false, true} {
		t.Run(fmt.Sprintf("lose=%v", lose), func(t *testing.T) {
			f := newFakeServer(lose)
			srv := httptest.NewServer(f)
			defer srv.Close()
			var out bytes.Buffer
			code, err := realMain(context.Background(), []string{"-target", srv.URL, "-mode", "mixed", "-rate", "200",
				"-duration", "1s", "-mix", "need_matches=2,list=1,create_need=1,patch_offer=1"}, &out)
			t.Log(out.String())
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Zero(t, f.calls["PATCH /api/v1/offers/o2"], "closed offers are not edited")
			assert.Greater(t, f.calls["POST /api/v1/needs"], 10)
			if lose {
				assert.Equal(t, 1, code)
				assert.Error(t, err)
				assert.Contains(t, out.String(), "acknowledged but not readable")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 0, code)
			assert.Contains(t, out.String(), "0 lost or unreadable")
			assert.Regexp(t, `create_need: \d+ acknowledged, \d+ read back`, out.String())
		})
	}
}

func TestRankingsAndPeakModes(t *testing.T) {
	f := newFakeServer(false)
	srv := httptest.NewServer(f)
	defer srv.Close()
	var out bytes.Buffer
	code, err := realMain(context.Background(), []string{"-target", srv.URL, "-mode", "rankings", "-rate", "100", "-duration", "1s"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Regexp(t, `need_matches\s+\d+`, out.String())

	out.Reset()
	code, err = realMain(context.Background(), []string{"-target", srv.URL, "-mode", "peak", "-peak-start", "50",
		"-peak-factor", "2", "-peak-steps", "2", "-peak-step", "1s", "-peak-p99", "1s"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Contains(t, out.String(), "step  2:")
	assert.Regexp(t, `peak: \d+ req/s`, out.String())
}
