package api

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenDataPublishesOnlyWhatAVisitorMaySee (issue 18.2): every open dataset, as CSV and
// JSON, and the public read API, without signing in: the public approved need, the open offer
// and the project of a public need are there; needs for donors only, restricted, draft or
// awaiting approval, draft offers, projects of hidden needs, engagements and personal data are
// not. A token changes nothing.
func TestOpenDataPublishesOnlyWhatAVisitorMaySee(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	public := n.newNeed(t, "open", "public")
	hidden := map[string]string{
		"donors-only need": n.newNeed(t, "open", "donors"),
		"restricted need":  n.newNeed(t, "open", "restricted"),
		"draft need":       n.newNeed(t, "draft", "public"),
		"submitted need":   n.newNeed(t, "submitted", "public"),
		"draft offer":      n.newOffer(t, "draft"),
	}
	offer := n.newOffer(t, "open")
	pubNeed, pubEng, pubPrj := n.deliver(t, "public", "Open CSIRT build")
	_, restrictedEng, restrictedPrj := n.deliver(t, "restricted", "Hidden CSIRT build")
	hidden["restricted project"], hidden["engagement"], hidden["restricted engagement"] = restrictedPrj, pubEng, restrictedEng
	require.Equal(t, 201, n.call("POST", "/api/v1/projects/"+pubPrj+"/transactions", f.donor.Token,
		map[string]any{"type": "commitment", "amount_usd": 123457, "date": "2025-03-02"}).Status)

	forbidden := []string{f.ministry.ID, f.donor.ID, f.coord.ID, "officer@", "created_by", "organization_id", "engagement_id",
		"password", "email", f.snOrg}
	for _, ds := range service.Datasets {
		for _, format := range []string{"csv", "json"} {
			path := "/open-data/" + ds.Name + "." + format
			r := n.call("GET", path, "", nil)
			require.Equal(t, 200, r.Status, "%s: %s", path, r.Body)
			assert.Equal(t, `<https://creativecommons.org/licenses/by/4.0/>; rel="license"`, r.Header["Link"], path)
			body := string(r.Body)
			for what, id := range hidden {
				assert.NotContains(t, body, id, "%s publishes the %s", path, what)
			}
			for _, s := range forbidden {
				assert.NotContains(t, body, s, "%s", path)
			}
			if format == "csv" {
				assert.Contains(t, r.Header["Content-Type"], "text/csv")
				recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
				require.NoError(t, err)
				var names []string
				for _, c := range ds.Columns {
					names = append(names, c.Name)
				}
				assert.Equal(t, names, recs[0], "%s: the dictionary's columns, in order", path)
				for _, rec := range recs[1:] {
					assert.Len(t, rec, len(names))
				}
			} else {
				m := r.json(t)
				assert.Equal(t, ds.Name, m["dataset"])
				assert.Equal(t, "CC-BY-4.0", m["licence"].(map[string]any)["id"])
			}
			// Signed in or not, open data is the anonymous view.
			assert.Equal(t, normalize(body), normalize(string(n.call("GET", path, f.coord.Token, nil).Body)), "%s with a token", path)
		}
	}
	assert.Contains(t, string(n.call("GET", "/open-data/needs.json", "", nil).Body), public)
	assert.Contains(t, string(n.call("GET", "/open-data/needs.csv", "", nil).Body), pubNeed)
	assert.Contains(t, string(n.call("GET", "/open-data/offers.csv", "", nil).Body), offer)
	projects := string(n.call("GET", "/open-data/projects.csv", "", nil).Body)
	assert.Contains(t, projects, pubPrj)
	assert.Contains(t, projects, ",123457,", "the project's commitments")
	assert.Contains(t, projects, "Francophone CSIRT Programme", "the funding organization by name")
	funding := n.call("GET", "/open-data/funding.csv?group_by=capability", "", nil)
	require.Equal(t, 200, funding.Status)
	assert.Contains(t, string(funding.Body), "cert_setup,")
	assert.Equal(t, 422, n.call("GET", "/open-data/funding.json?group_by=planet", "", nil).Status)

	// The public read API: the same needs and offers, paged and filtered like the signed-in API.
	r := n.call("GET", "/api/v1/public/needs?country=SN&limit=100", "", nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	ids := publicIDs(t, r)
	assert.ElementsMatch(t, []string{public, pubNeed}, ids)
	assert.Equal(t, "CC-BY-4.0", r.json(t)["licence"].(map[string]any)["id"])
	r = n.call("GET", "/api/v1/public/needs?limit=1", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Len(t, publicIDs(t, r), 1)
	next := r.json(t)["next_cursor"].(string)
	require.NotEmpty(t, next)
	r = n.call("GET", "/api/v1/public/needs?limit=1&cursor="+next, "", nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Len(t, publicIDs(t, r), 1)
	assert.Len(t, publicIDs(t, n.call("GET", "/api/v1/public/needs?status=draft", "", nil)), 0)
	assert.Equal(t, 422, n.call("GET", "/api/v1/public/needs?limit=1000", "", nil).Status)
	r = n.call("GET", "/api/v1/public/offers?limit=100", "", nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, publicIDs(t, r), offer)
	assert.NotContains(t, publicIDs(t, r), hidden["draft offer"])
	assert.NotContains(t, string(r.Body), "budget_committed_usd")
	assert.NotContains(t, string(r.Body), "engagements_used")
	r = n.call("GET", "/api/v1/public/countries", "", nil)
	require.Equal(t, 200, r.Status)
	items := r.json(t)["items"].([]any)
	assert.Greater(t, len(items), 190)
	for _, it := range items {
		c := it.(map[string]any)
		if c["iso"] == "SN" {
			assert.EqualValues(t, 1, c["open_needs"], "only the public open need counts")
		}
	}
	for _, s := range forbidden {
		assert.NotContains(t, string(r.Body), s)
	}
}

func publicIDs(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// TestPublicReadsAreRateLimitedPerAddress: beyond the limit a client address gets 429 with
// Retry-After, on the files and the API alike; the web pages are not counted.
func TestPublicReadsAreRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	e.configure = func(d *service.Deps) { d.OpenData.RatePerMinute = 3 }
	n := e.node()
	n.seed()
	for i := range 3 {
		path := []string{"/api/v1/public/needs", "/open-data/offers.csv", "/api/v1/public/countries"}[i]
		assert.Equal(t, 200, n.call("GET", path, "", nil).Status, path)
	}
	for _, path := range []string{"/api/v1/public/offers", "/open-data/needs.json"} {
		r := n.call("GET", path, "", nil)
		require.Equal(t, 429, r.Status, path)
		assert.Equal(t, "urn:capmatch:problem:rate-limited", r.problem(t).Type)
		ra, err := strconv.Atoi(r.Header["Retry-After"])
		require.NoError(t, err, "Retry-After %q", r.Header["Retry-After"])
		assert.True(t, ra >= 1 && ra <= 60, "Retry-After %d", ra)
	}
	assert.Equal(t, 200, n.call("GET", "/open-data", "", nil).Status, "the data dictionary page is not counted")
	assert.Equal(t, 200, n.call("GET", "/api/v1/needs", n.env.fx.coord.Token, nil).Status, "the signed-in API is not counted")
}

// TestOpenDataDictionaryPage: /open-data describes every column of every dataset, links the
// files and names the licence, in English, French and Spanish; every public page links it.
func TestOpenDataDictionaryPage(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	n.seed()
	for lang, want := range map[string][]string{
		"en": {"Open data", "Budget the need requests, in whole US dollars.", "Creative Commons Attribution 4.0 International"},
		"fr": {"Données ouvertes", "Budget demandé par le besoin, en dollars US entiers."},
		"es": {"Datos abiertos", "Presupuesto que solicita la necesidad, en dólares estadounidenses enteros."},
	} {
		b := n.browser(t, "")
		b.get("/lang/" + lang + "?next=/")
		p := b.get("/open-data")
		require.Equal(t, 200, p.Status, lang)
		for _, s := range want {
			assert.Contains(t, p.Body, s, lang)
		}
		for _, ds := range service.Datasets {
			assert.Contains(t, p.Body, `href="/open-data/`+ds.Name+`.csv"`, lang)
			assert.Contains(t, p.Body, `href="/open-data/`+ds.Name+`.json"`, lang)
			for _, c := range ds.Columns {
				assert.Contains(t, p.Body, "<code>"+c.Name+"</code>", "%s: %s.%s", lang, ds.Name, c.Name)
			}
		}
		assert.NotContains(t, p.Body, "opendata.col.", "%s: a description is missing", lang)
	}
	for _, path := range []string{"/", "/needs", "/offers", "/countries"} {
		assert.Contains(t, n.browser(t, "").get(path).Body, `href="/open-data"`, path)
	}
}
