package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upload sends a raw body with a content type (an IATI file), as the API's clients do.
func (n *node) upload(path, token, contentType string, body io.Reader) resp {
	t := n.env.t
	t.Helper()
	req := httptest.NewRequest("POST", path, body)
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hr, err := n.srv.App().Test(req, -1)
	require.NoError(t, err)
	raw, err := io.ReadAll(hr.Body)
	require.NoError(t, err)
	h := map[string]string{}
	for k := range hr.Header {
		h[k] = hr.Header.Get(k)
	}
	n.env.mu.Lock()
	n.env.seen = append(n.env.seen, string(raw))
	n.env.mu.Unlock()
	return resp{Status: hr.StatusCode, Header: h, Body: raw}
}

// iatiFixture reads one of adapters/iati's fixture files.
func iatiFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "adapters", "iati", "testdata", "import", name))
	require.NoError(t, err)
	return b
}

func (n *node) importIATI(t *testing.T, token string, doc []byte) (resp, map[string]any) {
	t.Helper()
	r := n.upload("/api/v1/import/iati", token, "application/xml", bytes.NewReader(doc))
	if r.Status >= 300 {
		return r, nil
	}
	return r, r.json(t)
}

// externalIn lists GET /countries/{iso}/external-activities by iati_identifier.
func (n *node) externalIn(t *testing.T, token, iso string) map[string]map[string]any {
	t.Helper()
	r := n.call("GET", "/api/v1/countries/"+iso+"/external-activities", token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	out := map[string]map[string]any{}
	for _, it := range r.json(t)["items"].([]any) {
		m := it.(map[string]any)
		out[m["iati_identifier"].(string)] = m
	}
	return out
}

func num(m map[string]any, path ...string) float64 {
	var cur any = m
	for _, p := range path {
		cur = cur.(map[string]any)[p]
	}
	f, _ := cur.(float64)
	return f
}

// TestIATIImportOfPublishersFiles (issue 18.1) imports four publishers' files (2.01, 2.02,
// 2.03; EUR, GBP, USD; several countries with percentages, regions; DAC 5- and 3-digit
// sectors; English, French and Spanish narratives) and checks what was read, mapped and
// skipped, what country profiles show, that a re-import updates without duplicating, and who
// may replace what.
func TestIATIImportOfPublishersFiles(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	r, sum := n.importIATI(t, f.coord.Token, iatiFixture(t, "nl-mfa-2.03.xml"))
	require.Equal(t, 201, r.Status, string(r.Body))
	assert.Equal(t, "2.03", sum["iati_version"])
	assert.EqualValues(t, 3, sum["activities_read"])
	assert.EqualValues(t, 2, sum["imported"])
	assert.EqualValues(t, 2, sum["created"])
	assert.EqualValues(t, 1, sum["skipped"])
	assert.Equal(t, map[string]any{"no_capability": 1.0}, sum["skipped_by_reason"])
	assert.Equal(t, map[string]any{"SN": 1.0, "GH": 1.0}, sum["mapped"].(map[string]any)["countries"])
	assert.Equal(t, map[string]any{"011": 1.0}, sum["mapped"].(map[string]any)["regions"])
	assert.Equal(t, map[string]any{"EUR": 1.0}, sum["mapped"].(map[string]any)["unconverted_currencies"])
	items := sum["items"].([]any)
	require.Len(t, items, 3)
	assert.Equal(t, "created", items[0].(map[string]any)["outcome"])
	assert.Equal(t, "skipped", items[2].(map[string]any)["outcome"])
	assert.Equal(t, "no_capability", items[2].(map[string]any)["code"])
	assert.NotEmpty(t, sum["batch_id"])

	for _, file := range []string{"fcdo-2.02.xml", "afd-2.01.xml", "oas-2.03-es.xml"} {
		r, sum := n.importIATI(t, f.coord.Token, iatiFixture(t, file))
		require.Equal(t, 201, r.Status, "%s: %s", file, r.Body)
		assert.Positive(t, sum["imported"], file)
	}

	// Senegal's profile: the two activities that name it, and the West African programme.
	sn := n.externalIn(t, f.ministry.Token, "SN")
	require.Len(t, sn, 3, "%v", sn)
	nl := sn["XM-DAC-7-PPR-4000012345"]
	assert.Equal(t, "country", nl["match"])
	assert.Equal(t, true, nl["active"])
	assert.Equal(t, "National CSIRT establishment in West Africa", nl["title"])
	assert.Equal(t, []any{map[string]any{"code": "SN", "percentage": 60.0}, map[string]any{"code": "GH", "percentage": 40.0}}, nl["countries"])
	caps := nl["capabilities"].([]any)
	require.Len(t, caps, 1)
	assert.Equal(t, "cert_setup", caps[0].(map[string]any)["capability"])
	assert.Equal(t, "high", caps[0].(map[string]any)["confidence"])
	assert.Equal(t, []any{"EUR"}, nl["totals"].(map[string]any)["unconverted_currencies"], "EUR is kept as published, not converted")
	assert.Nil(t, nl["budgets"].([]any)[0].(map[string]any)["usd"])
	assert.Equal(t, "750000.00", nl["budgets"].([]any)[0].(map[string]any)["value"])
	assert.Equal(t, "region", sn["XM-DAC-7-PPR-4000067890"]["match"], "ECOWAS programme: Western Africa (DAC 1030 → M49 011)")
	afd := sn["FR-3-CSN1234"]
	assert.Equal(t, "Appui à la création du CSIRT national du Sénégal et à la stratégie nationale de cybersécurité", afd["title"])
	assert.Equal(t, "2.01", afd["iati_version"])

	do := n.externalIn(t, f.donor.Token, "DO")
	oas := do["XI-IATI-OAS-CICTE-2025-07"]
	require.NotNil(t, oas, "%v", do)
	assert.Equal(t, "Strengthening cyber security: national cybersecurity strategy and cyber exercises", oas["title"], "English first")
	assert.EqualValues(t, 480000, num(oas, "totals", "budget_usd"))
	assert.EqualValues(t, 960000, num(oas, "totals", "committed_usd"))
	assert.EqualValues(t, 150001, num(oas, "totals", "disbursed_usd"), "150000.5 rounds half away from zero")
	assert.Equal(t, "region", do["XI-IATI-OAS-CICTE-2025-09"]["match"], "Latin America and the Caribbean (M49 419)")
	gm := n.externalIn(t, f.coord.Token, "GM")
	assert.Equal(t, 100.0, gm["GB-GOV-1-301234-101"]["countries"].([]any)[0].(map[string]any)["percentage"], "a single country without percentage: 100")
	assert.Equal(t, []any{"GBP"}, gm["GB-GOV-1-301234-101"]["totals"].(map[string]any)["unconverted_currencies"])
	assert.Equal(t, 401, n.call("GET", "/api/v1/countries/SN/external-activities", "", nil).Status)
	assert.Equal(t, 404, n.call("GET", "/api/v1/countries/XX/external-activities", f.coord.Token, nil).Status)

	// A re-import updates, never duplicates; superseded rows go.
	r, sum = n.importIATI(t, f.coord.Token, iatiFixture(t, "nl-mfa-2.03.xml"))
	require.Equal(t, 201, r.Status, string(r.Body))
	assert.EqualValues(t, 0, sum["created"])
	assert.EqualValues(t, 2, sum["updated"])
	assert.Len(t, n.externalIn(t, f.ministry.Token, "SN"), 3)
	rows, err := n.store.ListExternalActivities(context.Background(), "")
	require.NoError(t, err)
	perKey := map[string]int{}
	for _, x := range rows {
		perKey[x.Key]++
	}
	for k, c := range perKey {
		assert.Equal(t, 1, c, "key %s has %d rows after the re-import", k, c)
	}

	// A donor may not replace what another organization imported...
	r, sum = n.importIATI(t, f.donor.Token, iatiFixture(t, "nl-mfa-2.03.xml"))
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.EqualValues(t, 0, sum["imported"])
	assert.Equal(t, map[string]any{"no_capability": 1.0, "imported_by_another_organization": 2.0}, sum["skipped_by_reason"])
	// ...unless it is the publisher.
	org, err := n.app.Accounts.CreateOrgDirect(context.Background(), service.OrgInput{Name: "Netherlands MFA", Type: models.OrgDonor,
		IATIRef: "XM-DAC-7", PublishesIATI: true})
	require.NoError(t, err)
	_, err = n.app.Accounts.CreateUser(context.Background(), nil, service.UserInput{Email: "iati@minbuza.example", Password: pw,
		Name: "IATI officer", Role: models.RoleDonor, OrganizationID: org.ID})
	require.NoError(t, err)
	nlToken, _ := n.login("iati@minbuza.example", pw)
	r, sum = n.importIATI(t, nlToken, iatiFixture(t, "nl-mfa-2.03.xml"))
	require.Equal(t, 201, r.Status, string(r.Body))
	assert.EqualValues(t, 2, sum["updated"])
	assert.Equal(t, org.ID, n.externalIn(t, nlToken, "SN")["XM-DAC-7-PPR-4000012345"]["imported_by_organization_id"])

	// The web country page shows them to signed-in users ("already funded here"), in their language.
	page := n.browser(t, f.ministry.Email).get("/countries/SN")
	require.Equal(t, 200, page.Status)
	assert.Contains(t, page.Body, "Already funded here")
	assert.Contains(t, page.Body, "National CSIRT establishment in West Africa")
	assert.Contains(t, page.Body, "XM-DAC-7-PPR-4000012345")
	anon := n.browser(t, "").get("/countries/SN")
	require.Equal(t, 200, anon.Status)
	assert.NotContains(t, anon.Body, "XM-DAC-7-PPR-4000012345", "visitors who are not signed in do not see imported activities")

	// Ministries may not import.
	assert.Equal(t, 403, n.upload("/api/v1/import/iati", f.ministry.Token, "application/xml", bytes.NewReader(iatiFixture(t, "afd-2.01.xml"))).Status)
}

// TestIATIImportRefusesHostileFilesAndStoresNothing: hostile or broken files get a clear 4xx
// problem+json with the reader's code, and nothing of them is stored, even when hundreds of
// activities were stored before the broken one (all or nothing: the batch never commits and
// its rows are deleted).
func TestIATIImportRefusesHostileFilesAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	act := func(id, extra string) string {
		return `<iati-activity default-currency="USD"><iati-identifier>` + id + `</iati-identifier><title><narrative>National CSIRT set-up</narrative></title>` +
			`<activity-status code="2"/><activity-date type="1" iso-date="2025-01-01"/>` + extra + `<recipient-country code="SN"/><sector code="22040"/></iati-activity>`
	}
	var long strings.Builder
	long.WriteString(`<iati-activities version="2.03">`)
	for i := range 450 {
		long.WriteString(act(fmt.Sprintf("XM-TEST-%04d", i), ""))
	}
	long.WriteString(act("XM-TEST-BAD", `<activity-date type="3" iso-date="2026-02-30"/>`))
	long.WriteString(`</iati-activities>`)
	for _, tc := range []struct {
		name, doc, ct string
		status        int
		code          string
	}{
		{"entity expansion", `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><iati-activities version="2.03">` +
			act("X-1", "") + `</iati-activities>`, "application/xml", 400, "dtd_refused"},
		{"huge text", `<iati-activities version="2.03"><iati-activity><iati-identifier>X-2</iati-identifier><title><narrative>` +
			strings.Repeat("x", 2<<20) + `</narrative></title></iati-activity></iati-activities>`, "application/xml", 413, "token_too_large"},
		{"wrong version", `<iati-activities version="1.05">` + act("X-3", "") + `</iati-activities>`, "application/xml", 422, "unsupported_version"},
		{"bad date after 450 good activities", long.String(), "application/xml", 422, "bad_date"},
		{"not IATI", `<rss version="2.0"><channel/></rss>`, "application/xml", 422, "not_iati"},
		{"not XML", `{"iati-activities": []}`, "application/xml", 400, "not_xml"},
		{"empty", ``, "application/xml", 400, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := n.upload("/api/v1/import/iati", f.coord.Token, tc.ct, strings.NewReader(tc.doc))
			require.Equal(t, tc.status, r.Status, string(r.Body))
			p := r.problem(t)
			assert.Equal(t, tc.code, p.Code, string(r.Body))
			require.NotEmpty(t, p.Errors)
			assert.Contains(t, p.Detail, "nothing was imported")
		})
	}
	assert.Equal(t, 415, n.upload("/api/v1/import/iati", f.coord.Token, "application/json", strings.NewReader(`{}`)).Status)

	assert.Empty(t, n.externalIn(t, f.coord.Token, "SN"))
	rows, err := n.store.ListExternalActivities(context.Background(), "")
	require.NoError(t, err)
	assert.Empty(t, rows, "the rows of the interrupted import are deleted")
	aborted, err := n.store.ListImports(context.Background(), service.ImportAborted)
	require.NoError(t, err)
	require.Len(t, aborted, 1)
	assert.Equal(t, models.ImportKindExternal, aborted[0].Kind)
	// A replica that starts now sees nothing either.
	assert.Empty(t, e.node().externalIn(t, f.coord.Token, "SN"))
}

// TestIATIImportsOfOneIdentifierConverge: two replicas import two versions of one activity
// at once; both imports commit, and every replica, including one started afterwards, ends with
// the same single activity: the version of the newer import.
func TestIATIImportsOfOneIdentifierConverge(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	f := a.seed()
	doc := func(title string) []byte {
		return []byte(`<iati-activities version="2.03"><iati-activity default-currency="USD"><iati-identifier>XM-DAC-7-RACE</iati-identifier>` +
			`<title><narrative>` + title + `</narrative></title><activity-status code="2"/><activity-date type="1" iso-date="2025-01-01"/>` +
			`<recipient-country code="SN"/><sector code="22040"/></iati-activity></iati-activities>`)
	}
	for round := range 3 {
		var wg sync.WaitGroup
		sums := make([]map[string]any, 2)
		for i, n := range []*node{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := n.upload("/api/v1/import/iati", f.coord.Token, "application/xml", bytes.NewReader(doc(fmt.Sprintf("CSIRT round %d from replica %d", round, i))))
				if assert.Equal(t, 201, r.Status, string(r.Body)) {
					sums[i] = r.json(t)
				}
			}()
		}
		wg.Wait()
		require.NotNil(t, sums[0])
		require.NotNil(t, sums[1])
		newer := 0
		if sums[1]["batch_id"].(string) > sums[0]["batch_id"].(string) {
			newer = 1
		}
		want := fmt.Sprintf("CSIRT round %d from replica %d", round, newer)
		for _, n := range []*node{a, b, e.node()} {
			got := n.externalIn(t, f.coord.Token, "SN")
			require.Len(t, got, 1, "round %d", round)
			assert.Equal(t, want, got["XM-DAC-7-RACE"]["title"], "round %d", round)
		}
	}
}
