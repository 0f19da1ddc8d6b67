package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fasthttp"
)

// These tests cover issue 16 target 1: the ranking answers are kept rendered (answers.go) and
// served with a strong ETag; If-None-Match gets 304 with no body; any change that alters a
// ranking gives a new ETag; callers who may see different things never share an answer.

// rankGet reads a ranking with the given language and extra headers (name, value pairs).
func (n *node) rankGet(path, token, lang string, header ...string) resp {
	return n.callRaw("GET", path, token, "", "", append([]string{"Accept-Language", lang}, header...)...)
}

// keptAnswer reads path until it is served from the ranking cache (the first read after a
// change computes it, and says cached: false), and returns that answer.
func (n *node) keptAnswer(t *testing.T, path, token, lang string) resp {
	t.Helper()
	for range 3 {
		r := n.rankGet(path, token, lang)
		require.Equal(t, 200, r.Status, string(r.Body))
		if r.json(t)["cached"] == true {
			return r
		}
	}
	t.Fatalf("%s never served from the cache", path)
	return resp{}
}

func TestRankingAnswersKeptWithETag(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.deliveries(t) // duplication reasons with counts in them
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	n.newOffer(t, "open")
	a := actorOf(f.ministry, f.snOrg, "SN")
	ctx := context.Background()
	needPath := "/api/v1/needs/" + need + "/matches?limit=50"
	offerPath := "/api/v1/offers/" + offer + "/matches?limit=50"

	// render is the answer as the handler rendered it before answers were kept.
	render := func(path, lang string) []byte {
		var v any
		if path == needPath {
			r, err := n.app.Matching.OffersForNeed(ctx, a, need, 50)
			require.NoError(t, err)
			v = needMatchesOf(r, lang)
		} else {
			r, err := n.app.Matching.NeedsForOffer(ctx, a, offer, 50)
			require.NoError(t, err)
			v = offerMatchesOf(r, lang)
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}

	etags := map[string]bool{}
	for _, path := range []string{needPath, offerPath} {
		for _, lang := range []string{"en", "fr"} {
			first := n.keptAnswer(t, path, f.ministry.Token, lang)
			tag := first.Header["Etag"]
			require.Regexp(t, `^"[A-Za-z0-9_-]+"$`, tag, "a strong ETag")
			assert.False(t, etags[tag], "each language and ranking has its own ETag")
			etags[tag] = true
			assert.Equal(t, lang, first.Header["Content-Language"])
			assert.Contains(t, first.Header["Vary"], "Accept-Language")
			assert.Contains(t, first.Header["Vary"], "Accept-Encoding")
			assert.Equal(t, "application/json", first.Header["Content-Type"])
			assert.Contains(t, string(first.Body), "duplication.some")

			// Served again (now kept): the same bytes, the same as an uncached rendering.
			again := n.rankGet(path, f.ministry.Token, lang)
			require.Equal(t, 200, again.Status)
			assert.Equal(t, string(first.Body), string(again.Body), "%s %s: kept bytes", path, lang)
			assert.Equal(t, tag, again.Header["Etag"])
			assert.Equal(t, string(render(path, lang)), string(again.Body), "%s %s: the same as rendered anew", path, lang)

			// If-None-Match with it: 304, no body, the ETag repeated.
			nm := n.rankGet(path, f.ministry.Token, lang, "If-None-Match", `"other", `+tag)
			assert.Equal(t, 304, nm.Status)
			assert.Empty(t, nm.Body)
			assert.Equal(t, tag, nm.Header["Etag"])
			stale := n.rankGet(path, f.ministry.Token, lang, "If-None-Match", `"not-it"`)
			assert.Equal(t, 200, stale.Status)
			assert.Equal(t, string(first.Body), string(stale.Body))

			// gzip and brotli: each its own ETag, the same JSON once decoded.
			gz := n.rankGet(path, f.ministry.Token, lang, "Accept-Encoding", "gzip")
			require.Equal(t, 200, gz.Status)
			assert.Equal(t, "gzip", gz.Header["Content-Encoding"])
			zr, err := gzip.NewReader(bytes.NewReader(gz.Body))
			require.NoError(t, err)
			plain, err := io.ReadAll(zr)
			require.NoError(t, err)
			assert.Equal(t, string(first.Body), string(plain))
			assert.NotEqual(t, tag, gz.Header["Etag"])
			assert.Equal(t, 304, n.rankGet(path, f.ministry.Token, lang, "Accept-Encoding", "gzip", "If-None-Match", gz.Header["Etag"]).Status)
			assert.Equal(t, 200, n.rankGet(path, f.ministry.Token, lang, "If-None-Match", gz.Header["Etag"]).Status,
				"the gzip form's ETag does not name the identity form")
			br := n.rankGet(path, f.ministry.Token, lang, "Accept-Encoding", "br, gzip")
			require.Equal(t, 200, br.Status)
			assert.Equal(t, "br", br.Header["Content-Encoding"])
			plain, err = fasthttp.AppendUnbrotliBytes(nil, br.Body)
			require.NoError(t, err)
			assert.Equal(t, string(first.Body), string(plain))
		}
	}
	assert.NotEqual(t, string(n.rankGet(needPath, f.ministry.Token, "en").Body), string(n.rankGet(needPath, f.ministry.Token, "fr").Body),
		"reasons in the caller's language")

	// Each change that alters the rankings gives a new ETag, and the answer is the new one.
	changes := []struct {
		name string
		do   func()
	}{
		{"an offer edit", func() {
			r := n.call("PATCH", "/api/v1/offers/"+offer, f.donor.Token, map[string]any{"budget_usd": 100000})
			require.Equal(t, 200, r.Status, string(r.Body))
		}},
		{"new weights", func() {
			w := n.call("GET", "/api/v1/matching/weights", f.coord.Token, nil).json(t)
			w["capability"], w["duplication"] = 0.37, 0.02
			r := n.call("PUT", "/api/v1/matching/weights", f.coord.Token, w)
			require.Equal(t, 200, r.Status, string(r.Body))
		}},
		{"an agreed engagement", func() { n.newEngagement(t, true) }},
	}
	for _, ch := range changes {
		before := map[string]resp{}
		for _, path := range []string{needPath, offerPath} {
			before[path] = n.keptAnswer(t, path, f.ministry.Token, "en")
		}
		ch.do()
		for _, path := range []string{needPath, offerPath} {
			old := before[path].Header["Etag"]
			r := n.rankGet(path, f.ministry.Token, "en", "If-None-Match", old)
			require.Equal(t, 200, r.Status, "%s: %s answered %d to the ETag from before", ch.name, path, r.Status)
			assert.NotEqual(t, old, r.Header["Etag"], "%s: %s has a new ETag", ch.name, path)
			assert.NotEqual(t, string(before[path].Body), string(r.Body), "%s: %s changed", ch.name, path)
			kept := n.keptAnswer(t, path, f.ministry.Token, "en")
			assert.Equal(t, string(render(path, "en")), string(kept.Body), "%s: %s kept as rendered anew", ch.name, path)
		}
	}
}

// TestRankingAnswersNeverSharedAcrossVisibility: callers who may see different deliveries read
// the same rankings, alternately and repeatedly (so that answers are kept), in both languages:
// each reads its own duplication counts, and an ETag taken from another caller's answer never
// gets a 304 unless the bytes are the same.
func TestRankingAnswersNeverSharedAcrossVisibility(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.deliveries(t)
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	w := &authzWorld{t: t, n: n, f: f}
	want := map[string]string{ // as in TestDuplicationReasonCountsOnlyVisibleDeliveries
		"ministry":  "duplication.some 4 cert_setup SN",
		"donor2":    "duplication.some 2 cert_setup SN",
		"ministry2": "duplication.some 1 cert_setup SN",
	}
	actors := []string{"ministry", "donor2", "ministry2"}
	for _, lang := range []string{"en", "fr"} {
		tags := map[string]string{}
		bodies := map[string]string{}
		for round := range 3 {
			for _, actor := range actors {
				r := n.rankGet("/api/v1/needs/"+need+"/matches?limit=50", w.token(actor), lang)
				require.Equal(t, 200, r.Status, string(r.Body))
				got := dupReason(t, r, "offer_id")
				require.NotEmpty(t, got, actor)
				for id, reason := range got {
					assert.Equal(t, want[actor], reason, "round %d %s: %s reads offer %s", round, lang, actor, id)
				}
				o := n.rankGet("/api/v1/offers/"+offer+"/matches?limit=50", w.token(actor), lang)
				require.Equal(t, 200, o.Status, string(o.Body))
				assert.Equal(t, want[actor], dupReason(t, o, "need_id")[need], "round %d %s: %s reads the offer's matches", round, lang, actor)
				if round > 0 && r.json(t)["cached"] == true {
					tags[actor], bodies[actor] = r.Header["Etag"], string(r.Body)
				}
			}
		}
		for _, a := range actors {
			require.NotEmpty(t, tags[a], a)
			for _, b := range actors {
				if a == b {
					continue
				}
				assert.NotEqual(t, tags[a], tags[b], "%s and %s share an ETag", a, b)
				r := n.rankGet("/api/v1/needs/"+need+"/matches?limit=50", w.token(b), lang, "If-None-Match", tags[a])
				assert.Equal(t, 200, r.Status, "%s's ETag is not a 304 for %s", a, b)
				assert.Equal(t, bodies[b], string(r.Body), "%s reads its own answer", b)
			}
		}
	}
}
