package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callRaw sends a raw body with the given Content-Type (none when empty), for CSV and for
// content types the harness's call does not send.
func (n *node) callRaw(method, path, token, contentType, body string, header ...string) resp {
	t := n.env.t
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return n.send(req)
}

// listAll walks every page of a list endpoint and returns the items' ids in order.
func (n *node) listAll(t *testing.T, path, token string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for {
		r := n.call("GET", path+sep+"limit=100&cursor="+cursor, token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &page))
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

type importResult struct {
	BatchID  string   `json:"batch_id"`
	Imported int      `json:"imported"`
	Status   string   `json:"status"`
	IDs      []string `json:"ids"`
}

func decodeImport(t *testing.T, r resp) importResult {
	t.Helper()
	require.Equal(t, 201, r.Status, string(r.Body))
	var res importResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	return res
}

// importedNeed is needBody for a coordinator import, with one change (nil deletes the field).
func importedNeed(f *fixture, title, key string, v any) map[string]any {
	b := needBody(f, "coordinator", title)
	if key != "" {
		if v == nil {
			delete(b, key)
		} else {
			b[key] = v
		}
	}
	return b
}

func TestImportNeedsFromJSON(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	rows := []any{
		importedNeed(f, "Establish a national CSIRT", "", nil),
		importedNeed(f, "Draft the national cyber strategy", "country", nil), // defaults to the organization's
		importedNeed(f, "Train CSIRT analysts", "maturity", nil),
	}
	res := decodeImport(t, n.call("POST", "/api/v1/import/needs", f.coord.Token, rows))
	assert.Equal(t, 3, res.Imported)
	assert.Equal(t, "draft", res.Status)
	require.Len(t, res.IDs, 3)
	assert.NotEmpty(t, res.BatchID)

	listed := n.listAll(t, "/api/v1/needs?organization_id="+f.snOrg, f.coord.Token)
	assert.Equal(t, []string{res.IDs[2], res.IDs[1], res.IDs[0]}, listed, "newest first, in a stable order")
	for i, id := range res.IDs {
		r := n.call("GET", "/api/v1/needs/"+id, f.coord.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		got := r.json(t)
		assert.Equal(t, "draft", got["status"])
		assert.Equal(t, "SN", got["country"])
		assert.Equal(t, f.snOrg, got["organization_id"])
		assert.Equal(t, f.coord.ID, got["created_by"])
		assert.EqualValues(t, 1, got["version"])
		assert.Equal(t, rows[i].(map[string]any)["title"], got["title"])
	}
	assert.Equal(t, 200, n.call("GET", "/api/v1/needs/"+res.IDs[0], f.ministry.Token, nil).Status, "the owning ministry sees its drafts")
	assert.Equal(t, 404, n.call("GET", "/api/v1/needs/"+res.IDs[0], f.donor.Token, nil).Status, "drafts stay hidden from donors")

	// One audit entry for the batch, naming the rows.
	r := n.call("GET", "/api/v1/audit?object_id="+res.BatchID, f.admin.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	var trail struct {
		Items []models.AuditEntry `json:"items"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &trail))
	require.Len(t, trail.Items, 1)
	assert.Equal(t, "import", trail.Items[0].Action)
	assert.Equal(t, "import", trail.Items[0].ObjectType)
	assert.Equal(t, res.IDs, trail.Items[0].Changed)

	// ?status=open publishes at once: donors see the need.
	res = decodeImport(t, n.call("POST", "/api/v1/import/needs?status=open", f.admin.Token,
		[]any{importedNeed(f, "Run a national cyber exercise", "", nil)}))
	assert.Equal(t, "open", res.Status)
	r = n.call("GET", "/api/v1/needs/"+res.IDs[0], f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "open", r.json(t)["status"])
	e.assertNoSecrets()
}

func TestImportFromCSV(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	offers := "\uFEFFtitle,description,themes,capabilities,modalities,languages,eligible_countries,eligible_regions,budget_usd,max_engagements,available_from,available_until,organization_id\r\n" +
		`"Francophone CSIRT programme, phase 2","Two lines` + "\r\n" + `of ""text""",incident_management,cert_setup; cert_maturity,expert_deployment;training,fr;EN,,002;011,2000000,4,2027-01-01,2028-12-31,` + f.donorOrg + "\r\n" +
		"Pacific cyber fund,,incident_management;policy_strategy,cert_setup;national_strategy,funding,en,fj;ws,,500000,2,2027-01-01,2027-12-31," + f.donor2Org + "\r\n"
	res := decodeImport(t, n.callRaw("POST", "/api/v1/import/offers?status=open", f.coord.Token, "text/csv; charset=utf-8", offers))
	assert.Equal(t, 2, res.Imported)
	assert.Equal(t, "open", res.Status)

	r := n.call("GET", "/api/v1/offers/"+res.IDs[0], f.donor2.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	got := r.json(t)
	assert.Equal(t, "Francophone CSIRT programme, phase 2", got["title"])
	assert.Equal(t, "Two lines\nof \"text\"", got["description"])
	assert.Equal(t, []any{"cert_setup", "cert_maturity"}, got["capabilities"])
	assert.Equal(t, []any{"fr", "en"}, got["languages"])
	assert.Equal(t, []any{}, got["eligible_countries"])
	assert.Equal(t, []any{"002", "011"}, got["eligible_regions"])
	assert.EqualValues(t, 2000000, got["budget_usd"])
	assert.EqualValues(t, 4, got["max_engagements"])
	assert.Equal(t, "open", got["status"])
	assert.Equal(t, f.donorOrg, got["organization_id"])
	r = n.call("GET", "/api/v1/offers/"+res.IDs[1], f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, []any{"FJ", "WS"}, r.json(t)["eligible_countries"])
	assert.Equal(t, f.donor2Org, r.json(t)["organization_id"])

	needs := "title,theme,capability,modalities,languages,budget_usd,start_by,duration_months,priority,maturity.framework,maturity.current,maturity.target,visibility,organization_id\n" +
		"Establish a national CSIRT,incident_management,cert_setup,expert_deployment;training,fr,400000,2027-03-01,18,high,sim3,1,3,donors," + f.snOrg + "\n" +
		"Publish a national position,diplomacy_norms,legal_position,policy_advice,fr;en,80000,2027-06-01,6,medium,,,,," + f.snOrg + "\n"
	res = decodeImport(t, n.callRaw("POST", "/api/v1/import/needs", f.coord.Token, "text/csv", needs))
	assert.Equal(t, "draft", res.Status)
	r = n.call("GET", "/api/v1/needs/"+res.IDs[0], f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	got = r.json(t)
	assert.Equal(t, map[string]any{"framework": "sim3", "current": 1.0, "target": 3.0}, got["maturity"])
	assert.Equal(t, "donors", got["visibility"])
	assert.Equal(t, []any{"expert_deployment", "training"}, got["modalities"])
	r = n.call("GET", "/api/v1/needs/"+res.IDs[1], f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	got = r.json(t)
	assert.Equal(t, "none", got["maturity"].(map[string]any)["framework"], "empty maturity cells default like an absent maturity")
	assert.Equal(t, "public", got["visibility"])
}

// TestImportRejectsBadBatchesAndStoresNothing sends batches with bad rows among valid ones,
// hostile values and bad bodies: each gets a 4xx problem+json naming every bad row (and no good
// one), and nothing is stored.
func TestImportRejectsBadBatchesAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.newNeed(t, "open", "public")
	n.newOffer(t, "open")

	good := func(title string) map[string]any { return importedNeed(f, title, "", nil) }
	bad := func(key string, v any) map[string]any { return importedNeed(f, "Bad row", key, v) }
	offer := func(key string, v any) map[string]any {
		b := offerBody("Imported offer")
		b["organization_id"] = f.donorOrg
		if v == nil {
			delete(b, key)
		} else {
			b[key] = v
		}
		return b
	}
	js := func(rows ...any) string {
		raw, err := json.Marshal(rows)
		require.NoError(t, err)
		return string(raw)
	}
	many := "[" + strings.Repeat("{},", 1000) + "{}]"
	csvHeader := "title,theme,capability,modalities,languages,budget_usd,start_by,duration_months,priority,organization_id\n"
	csvRow := func(title, budget string) string {
		return title + ",incident_management,cert_setup,training,fr," + budget + ",2027-03-01,12,high," + f.snOrg + "\n"
	}
	const needs, offers = "/api/v1/import/needs", "/api/v1/import/offers"
	const jsonCT, csvCT = "application/json", "text/csv"
	cases := []struct {
		name, path, ct, body string
		header               []string
		status               int
		fields               []string
	}{
		{"one bad row among valid ones", needs, jsonCT, js(good("a"), bad("budget_usd", -5), good("b")), nil, 422,
			[]string{"rows[1].budget_usd"}},
		{"impossible date and NUL byte", needs, jsonCT, js(bad("start_by", "2027-02-30"), good("a"), bad("title", "CSIRT\x00setup")), nil, 422,
			[]string{"rows[0].start_by", "rows[2].title"}},
		{"giant strings", needs, jsonCT, js(good("a"), bad("title", strings.Repeat("A", 300)), bad("description", strings.Repeat("B", 25000))), nil, 422,
			[]string{"rows[1].title", "rows[2].description"}},
		{"unknown codes", needs, jsonCT, js(bad("theme", "hacking"), bad("languages", []string{"xx", "fr", "fr"})), nil, 422,
			[]string{"rows[0].theme", "rows[1].languages[0]", "rows[1].languages[2]"}},
		{"operator object as a value", needs, jsonCT, js(good("a"), bad("title", map[string]any{"$gt": ""})), nil, 400,
			[]string{"rows[1].title"}},
		{"operator object as organization", needs, jsonCT, js(bad("organization_id", map[string]any{"$ne": nil})), nil, 400,
			[]string{"rows[0].organization_id"}},
		{"operator as a row", needs, jsonCT, `[{"$where": "sleep(1000)"}]`, nil, 400, []string{"rows[0].$where"}},
		{"wrong types", needs, jsonCT, js(good("a"), bad("budget_usd", "lots"), bad("modalities", "training")), nil, 400,
			[]string{"rows[1].budget_usd", "rows[2].modalities"}},
		{"unknown and server-owned fields", needs, jsonCT, js(bad("status", "open"), good("a"), bad("foo", 1)), nil, 400,
			[]string{"rows[0].status", "rows[2].foo"}},
		{"rows that are not objects", needs, jsonCT, js(good("a"), "title", nil, []any{}), nil, 400,
			[]string{"rows[1]", "rows[2]", "rows[3]"}},
		{"organization of the wrong type", needs, jsonCT, js(good("a"), bad("organization_id", f.donorOrg)), nil, 422,
			[]string{"rows[1].organization_id"}},
		{"no organization", needs, jsonCT, js(bad("organization_id", nil), bad("organization_id", "nosuchorg")), nil, 422,
			[]string{"rows[0].organization_id", "rows[1].organization_id"}},
		{"country of another organization", needs, jsonCT, js(bad("country", "FJ")), nil, 422, []string{"rows[0].country"}},
		{"offer without organization", offers, jsonCT, js(offer("budget_usd", 1), offer("organization_id", nil)), nil, 422,
			[]string{"rows[1].organization_id"}},
		{"offer for a government", offers, jsonCT, js(offer("organization_id", f.snOrg), offer("available_until", "2026-01-01")), nil, 422,
			[]string{"rows[0].organization_id", "rows[1].available_until"}},
		{"offer with a need's field", offers, jsonCT, js(offer("country", "SN")), nil, 400, []string{"rows[0].country"}},
		{"a body that is not an array", needs, jsonCT, `{"title": "x"}`, nil, 400, nil},
		{"data after the array", needs, jsonCT, js(good("a")) + "[]", nil, 400, nil},
		{"malformed JSON", needs, jsonCT, `[{"title": `, nil, 400, nil},
		{"empty array", needs, jsonCT, `[]`, nil, 422, []string{"rows"}},
		{"null", needs, jsonCT, `null`, nil, 422, []string{"rows"}},
		{"empty body", needs, jsonCT, ``, nil, 422, []string{"rows"}},
		{"more than 1000 rows", needs, jsonCT, many, nil, 422, []string{"rows"}},
		{"more than 1000 CSV rows", needs, csvCT, csvHeader + strings.Repeat(csvRow("x", "1"), 1001), nil, 422, []string{"rows"}},
		{"unknown need status", needs + "?status=matched", jsonCT, js(good("a")), nil, 422, []string{"status"}},
		{"unknown offer status", offers + "?status=submitted", jsonCT, js(offer("title", "x")), nil, 422, []string{"status"}},
		{"CSV number that does not parse", needs, csvCT, csvHeader + csvRow("a", "400000") + csvRow("b", "lots") + csvRow("c", "1e6"), nil, 422,
			[]string{"rows[1].budget_usd", "rows[2].budget_usd"}},
		{"CSV NUL byte and impossible date", needs, csvCT, csvHeader + csvRow("a\x00b", "1") + strings.Replace(csvRow("c", "1"), "2027-03-01", "2027-02-30", 1), nil, 422,
			[]string{"rows[0].title", "rows[1].start_by"}},
		{"CSV unknown column", needs, csvCT, "title,$where,status\nx,y,open\n", nil, 400, []string{"columns[1]", "columns[2]"}},
		{"CSV repeated column", needs, csvCT, "title,Title\nx,y\n", nil, 400, []string{"columns[1]"}},
		{"CSV wrong number of cells", needs, csvCT, csvHeader + csvRow("a", "1") + "b,incident_management\n", nil, 400, []string{"rows[1]"}},
		{"CSV bare quote", needs, csvCT, csvHeader + `a"b,incident_management,cert_setup,training,fr,1,2027-03-01,12,high,x` + "\n", nil, 400, []string{"rows[0]"}},
		{"CSV header only", needs, csvCT, csvHeader, nil, 422, []string{"rows"}},
		{"text/plain", needs, "text/plain", js(good("a")), nil, 415, nil},
		{"no content type", needs, "", js(good("a")), nil, 415, nil},
		{"form body", offers, "application/x-www-form-urlencoded", "title=x", nil, 415, nil},
		{"compressed body", needs, jsonCT, js(good("a")), []string{"Content-Encoding", "gzip"}, 415, nil},
	}
	store := storetest.OpenDB(t, e.db)
	imports := func() int {
		total := 0
		for _, st := range []string{"inserting", "committed", "aborted"} {
			bs, err := store.ListImports(context.Background(), st)
			require.NoError(t, err)
			total += len(bs)
		}
		return total
	}
	needsBefore, offersBefore := e.storeCounts(t)
	listedNeeds := n.listAll(t, "/api/v1/needs", f.coord.Token)
	listedOffers := n.listAll(t, "/api/v1/offers", f.coord.Token)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.callRaw("POST", tc.path, f.coord.Token, tc.ct, tc.body, tc.header...)
			require.Equal(t, tc.status, r.Status, "%.2000s", r.Body)
			p := r.problem(t)
			var got []string
			for _, fe := range p.Errors {
				got = append(got, fe.Field)
			}
			for _, want := range tc.fields {
				assert.Contains(t, got, want)
			}
			badRows := map[string]bool{}
			for _, want := range tc.fields {
				badRows[rowOf(want)] = true
			}
			for _, g := range got {
				assert.True(t, badRows[rowOf(g)], "a problem with %s, which is not a bad row: %v", g, p.Errors)
				assert.Less(t, len(g), 200, "field names stay short")
			}
			assert.Less(t, len(r.Body), 20000, "problems stay small whatever the input")
		})
	}
	needsAfter, offersAfter := e.storeCounts(t)
	assert.Equal(t, needsBefore, needsAfter, "no need was stored")
	assert.Equal(t, offersBefore, offersAfter, "no offer was stored")
	assert.Zero(t, imports(), "no batch was recorded")
	assert.Equal(t, listedNeeds, n.listAll(t, "/api/v1/needs", f.coord.Token))
	assert.Equal(t, listedOffers, n.listAll(t, "/api/v1/offers", f.coord.Token))
}

// rowOf is the row part of a problem's field ("rows[2]" of "rows[2].title").
func rowOf(field string) string { return strings.SplitN(field, ".", 2)[0] }

func TestImportIsForCoordinators(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	before, _ := e.storeCounts(t)
	body := []any{importedNeed(f, "Not allowed", "", nil)}
	for _, path := range []string{"/api/v1/import/needs", "/api/v1/import/offers"} {
		for _, tc := range []struct {
			token  string
			status int
		}{{"", 401}, {f.ministry.Token, 403}, {f.donor.Token, 403}, {"not-a-token", 401}} {
			r := n.call("POST", path, tc.token, body)
			assert.Equal(t, tc.status, r.Status, "%s: %s", path, r.Body)
			r.problem(t)
			// A caller who may not import learns nothing about the body either.
			r = n.callRaw("POST", path, tc.token, "text/plain", "garbage")
			assert.Equal(t, tc.status, r.Status, "%s: %s", path, r.Body)
		}
	}
	after, _ := e.storeCounts(t)
	assert.Equal(t, before, after)
}

// TestRecoverImports plants what a crash leaves behind (batches with tagged rows) directly in
// the store, then runs recovery as start-up does.
func TestRecoverImports(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	store := storetest.OpenDB(t, e.db)

	plantNeeds := func(state string, createdAt time.Time, count int) (*models.ImportBatch, []string) {
		b := &models.ImportBatch{ID: models.NewID(createdAt), Kind: "needs", State: state, CreatedBy: f.coord.ID, CreatedAt: createdAt}
		var rows []*models.Need
		for i := 0; i < count; i++ {
			at := createdAt.Add(time.Duration(i) * time.Microsecond)
			rows = append(rows, &models.Need{ID: models.NewID(at), Title: fmt.Sprintf("Planted %s need %d", state, i),
				Country: "SN", Theme: models.ThemeIncidentManagement, Capability: models.CapCERTSetup,
				Modalities: []models.Modality{models.ModTraining}, Languages: []string{"fr"}, BudgetUSD: 1000, StartBy: "2027-03-01",
				DurationMonths: 6, Priority: models.PriorityHigh, Maturity: models.Maturity{Framework: models.FrameworkNone},
				Visibility: models.VisibilityPublic, Status: models.NeedOpen, OrganizationID: f.snOrg, CreatedBy: f.coord.ID,
				CreatedAt: at, UpdatedAt: at, Version: 1, ImportBatch: b.ID})
			b.RowIDs = append(b.RowIDs, rows[i].ID)
		}
		require.NoError(t, store.CreateImport(ctx, b))
		require.NoError(t, store.InsertNeeds(ctx, rows))
		return b, b.RowIDs
	}
	old := time.Now().UTC().Add(-time.Hour)
	crashed, crashedIDs := plantNeeds("inserting", old, 3)
	committed, committedIDs := plantNeeds("committed", old.Add(time.Second), 2)
	inFlight, inFlightIDs := plantNeeds("inserting", time.Now().UTC(), 2) // another replica's import in progress

	ob := &models.ImportBatch{ID: models.NewID(old), Kind: "offers", State: "inserting", CreatedBy: f.coord.ID, CreatedAt: old}
	o := &models.Offer{ID: models.NewID(old), Title: "Planted offer", Themes: []models.Theme{models.ThemeIncidentManagement},
		Capabilities: []models.Capability{}, Modalities: []models.Modality{models.ModTraining}, Languages: []string{"en"},
		EligibleCountries: []string{}, EligibleRegions: []string{}, BudgetUSD: 1000, MaxEngagements: 1,
		AvailableFrom: "2027-01-01", AvailableUntil: "2027-12-31", Status: models.OfferOpen, OrganizationID: f.donorOrg,
		CreatedAt: old, UpdatedAt: old, Version: 1, ImportBatch: ob.ID}
	ob.RowIDs = []string{o.ID}
	require.NoError(t, store.CreateImport(ctx, ob))
	require.NoError(t, store.InsertOffers(ctx, []*models.Offer{o}))

	require.NoError(t, n.app.Sync.Reconcile(ctx))
	listed := n.listAll(t, "/api/v1/needs", f.coord.Token)
	for _, id := range append(append([]string{}, crashedIDs...), inFlightIDs...) {
		assert.NotContains(t, listed, id, "rows of a batch that has not committed are invisible")
	}
	for _, id := range committedIDs {
		assert.Contains(t, listed, id, "rows of a committed batch are visible")
	}
	assert.NotContains(t, n.listAll(t, "/api/v1/offers", f.coord.Token), o.ID)

	require.NoError(t, n.app.RecoverImports(ctx))
	require.NoError(t, n.app.RecoverImports(ctx), "recovery is idempotent")

	for _, id := range crashedIDs {
		_, err := store.GetNeed(ctx, id)
		assert.ErrorIs(t, err, models.ErrNotFound, "rows of a batch that never committed are deleted")
	}
	_, err := store.GetOffer(ctx, o.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	for _, id := range committedIDs {
		got, err := store.GetNeed(ctx, id)
		require.NoError(t, err)
		assert.NotEmpty(t, got.ImportBatch, "rows of a committed batch keep their tag and stay")
	}
	for _, id := range inFlightIDs {
		got, err := store.GetNeed(ctx, id)
		require.NoError(t, err, "an import in flight is not rolled back")
		assert.Equal(t, inFlight.ID, got.ImportBatch)
	}
	states := map[string]string{}
	for _, st := range []string{"inserting", "committed", "aborted"} {
		bs, err := store.ListImports(ctx, st)
		require.NoError(t, err)
		for _, b := range bs {
			states[b.ID] = b.State
		}
	}
	assert.Equal(t, map[string]string{crashed.ID: "aborted", ob.ID: "aborted", committed.ID: "committed", inFlight.ID: "inserting"}, states)

	require.NoError(t, n.app.Sync.Reconcile(ctx))
	listed = n.listAll(t, "/api/v1/needs", f.coord.Token)
	for _, id := range committedIDs {
		assert.Contains(t, listed, id, "a rolled-forward row is visible after the next reconcile")
	}
	for _, id := range append(append([]string{}, crashedIDs...), inFlightIDs...) {
		assert.NotContains(t, listed, id)
	}
	assert.Equal(t, 200, n.call("GET", "/api/v1/needs/"+committedIDs[0], f.donor.Token, nil).Status)
}

// TestImportTheLargestBatch imports MaxImportRows rows in one request, the most a batch holds.
func TestImportTheLargestBatch(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	var b strings.Builder
	b.WriteString("title,theme,capability,modalities,languages,budget_usd,start_by,duration_months,priority,organization_id\n")
	for i := 0; i < service.MaxImportRows; i++ {
		fmt.Fprintf(&b, "Need %d,incident_management,cert_setup,training,fr,%d,2027-03-01,12,high,%s\n", i, 1000+i, f.snOrg)
	}
	res := decodeImport(t, n.callRaw("POST", "/api/v1/import/needs", f.coord.Token, "text/csv", b.String()))
	assert.Equal(t, service.MaxImportRows, res.Imported)
	assert.Len(t, n.listAll(t, "/api/v1/needs?organization_id="+f.snOrg, f.coord.Token), service.MaxImportRows)
	stored, _ := e.storeCounts(t)
	assert.Equal(t, service.MaxImportRows, stored)
}
