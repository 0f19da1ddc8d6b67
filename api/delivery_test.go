package api

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/adapters/iati/reference"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNeedToIATIExport walks the whole path: a need and an offer, a proposal and its
// acceptance, a project, money, and an IATI export that validates against the official schema,
// with hostile text in the titles.
func TestNeedToIATIExport(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	hostile := `CSIRT <script>alert("x")</script> & "quotes" 'apos' — مركز الاستجابة 网络安全 Кибер`
	b := needBody(f, "ministry", hostile)
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	need := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+need+"/submit", f.ministry.Token, nil).Status)
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+need+"/approve", f.coord.Token, nil).Status)
	offer := n.newOffer(t, "open")

	// The donor proposes from the offer side; a retry is the same engagement.
	prop := map[string]any{"need_id": need, "offer_id": offer, "message": "Our programme fits your CSIRT plan"}
	r = n.call("POST", "/api/v1/engagements", f.donor.Token, prop)
	require.Equal(t, 201, r.Status, string(r.Body))
	eng := r.json(t)
	assert.Equal(t, "proposed", eng["status"])
	assert.Equal(t, "offer", eng["proposed_by"])
	assert.EqualValues(t, 400000, eng["budget_usd"], "defaults to the need's budget")
	r2 := n.call("POST", "/api/v1/engagements", f.donor.Token, prop)
	assert.Equal(t, 200, r2.Status, "a retried proposal is idempotent")
	assert.Equal(t, eng["id"], r2.json(t)["id"])
	engID := eng["id"].(string)

	assert.Equal(t, 403, n.call("POST", "/api/v1/engagements/"+engID+"/accept", f.donor.Token, nil).Status, "the proposer cannot accept")
	r = n.call("POST", "/api/v1/engagements/"+engID+"/messages", f.ministry.Token, map[string]string{"body": "Can the experts work in French?"})
	require.Equal(t, 201, r.Status)
	assert.Len(t, r.json(t)["messages"], 2)
	r = n.call("POST", "/api/v1/engagements/"+engID+"/accept", f.ministry.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "agreed", r.json(t)["status"])
	assert.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+engID+"/accept", f.ministry.Token, nil).Status, "a retried accept is idempotent")
	got := n.call("GET", "/api/v1/needs/"+need, f.ministry.Token, nil).json(t)
	assert.Equal(t, "matched", got["status"])
	assert.Equal(t, engID, got["engagement_id"])
	o := n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).json(t)
	assert.EqualValues(t, 1, o["engagements_used"], "one slot used, even after the retry")
	assert.EqualValues(t, 400000, o["budget_committed_usd"])

	// The donor starts the project; the need is in progress.
	pb := map[string]any{"engagement_id": engID, "title": hostile, "description": "Phase 1 & 2 <b>bold</b>", "budget_usd": 400000,
		"start_date": "2027-03-01", "end_date": "2028-08-31"}
	r = n.call("POST", "/api/v1/projects", f.donor.Token, pb)
	require.Equal(t, 201, r.Status, string(r.Body))
	prj := r.json(t)
	prjID := prj["id"].(string)
	assert.EqualValues(t, 1, prj["status"], "IATI pipeline")
	assert.Equal(t, 200, n.call("POST", "/api/v1/projects", f.donor.Token, pb).Status, "a retried creation returns the same project")
	assert.Equal(t, "in_progress", n.call("GET", "/api/v1/needs/"+need, f.ministry.Token, nil).json(t)["status"])

	// Money: the funding figures follow the contract's arithmetic.
	tx := func(typ string, amount int) map[string]any {
		r := n.call("POST", "/api/v1/projects/"+prjID+"/transactions", f.donor.Token, map[string]any{"type": typ, "amount_usd": amount, "date": "2025-04-01"})
		require.Equal(t, 201, r.Status, string(r.Body))
		return r.json(t)
	}
	tx("pledge", 400000)
	res := tx("disbursement", 50000)
	assert.Contains(t, fmt.Sprint(res["warnings"]), "exceed commitments", "disbursing before any commitment is flagged")
	tx("commitment", 250000)
	res = tx("expenditure", 30000)
	fund := res["funding"].(map[string]any)
	assert.EqualValues(t, 400000, fund["budget"])
	assert.EqualValues(t, 250000, fund["committed"])
	assert.EqualValues(t, 50000, fund["disbursed"])
	assert.EqualValues(t, 150000, fund["gap"], "gap = budget − committed")
	tx("commitment", 300000)
	fund = n.call("GET", "/api/v1/projects/"+prjID, f.ministry.Token, nil).json(t)["funding"].(map[string]any)
	assert.EqualValues(t, 0, fund["gap"], "never below 0")
	for _, bad := range []map[string]any{{"type": "gift", "amount_usd": 1, "date": "2027-01-01"}, {"type": "commitment", "amount_usd": 0, "date": "2027-01-01"},
		{"type": "commitment", "amount_usd": 5, "date": "2027-13-01"}} {
		r := n.call("POST", "/api/v1/projects/"+prjID+"/transactions", f.donor.Token, bad)
		assert.Equal(t, 422, r.Status)
	}

	// The country profile counts the project and its money.
	sn := n.call("GET", "/api/v1/countries/SN", f.donor.Token, nil).json(t)
	assert.EqualValues(t, 1, sn["active_projects"])
	assert.EqualValues(t, 550000, sn["funding"].(map[string]any)["committed"])

	// Status: closing needs results; a closed project fulfils the need.
	status := func(s int) int {
		return n.call("POST", "/api/v1/projects/"+prjID+"/status", f.donor.Token, map[string]any{"status": s}).Status
	}
	assert.Equal(t, 409, status(4), "pipeline cannot jump to closed")
	assert.Equal(t, 200, status(2))
	assert.Equal(t, 200, status(3))
	assert.Equal(t, 409, status(4), "results first")
	r = n.call("PATCH", "/api/v1/projects/"+prjID, f.donor.Token, map[string]any{"results": []map[string]any{
		{"type": "outcome", "title": "National CSIRT operational (SIM3)", "baseline": 1, "target": 3, "achieved": 3}},
		"documents": []map[string]any{{"title": "Final report", "url": "https://example.org/report.pdf", "category": "A07"}}})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, 200, status(4))
	assert.Equal(t, "fulfilled", n.call("GET", "/api/v1/needs/"+need, f.ministry.Token, nil).json(t)["status"])

	// IATI export validates against the official 2.03 schema.
	r = n.call("GET", "/api/v1/export/iati.xml?country=SN", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Contains(t, r.Header["Content-Type"], "xml")
	assert.NotContains(t, string(r.Body), "<script>", "markup is escaped")
	xmllintValidates(t, r.Body)
	first := string(r.Body)
	second := string(n.call("GET", "/api/v1/export/iati.xml?country=SN", f.coord.Token, nil).Body)
	assert.Equal(t, iatiIDs(first), iatiIDs(second), "identifiers are stable across exports")
	assert.Equal(t, 404, n.call("GET", "/api/v1/export/iati.xml?country=FJ", f.coord.Token, nil).Status, "nothing to export")
	assert.Equal(t, 422, n.call("GET", "/api/v1/export/iati.xml?from=2027-02-30", f.coord.Token, nil).Status)
}

func iatiIDs(doc string) []string {
	var out []string
	for _, part := range strings.Split(doc, "<iati-identifier>")[1:] {
		out = append(out, part[:strings.Index(part, "<")])
	}
	return out
}

// xmllintValidates checks an IATI file with xmllint against the IATI 2.03 schema kept in the
// repository (adapters/iati/reference).
func xmllintValidates(t *testing.T, doc []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	require.NoError(t, err, "xmllint is required (Debian package libxml2-utils; .ci/run installs it)")
	schema, err := reference.WriteSchema(t.TempDir())
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "export.xml")
	require.NoError(t, os.WriteFile(file, doc, 0o600))
	out, err := exec.Command(bin, "--noout", "--schema", schema, file).CombinedOutput()
	require.NoError(t, err, "xmllint: %s", out)
	assert.Contains(t, string(out), "validates")
}

// TestConcurrentAcceptsNeverOverbook: 20 simultaneous accepts on an offer with 3 slots leave
// exactly 3 agreed engagements, 3 matched needs and a closed offer.
func TestConcurrentAcceptsNeverOverbook(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ob := offerBody("Three-slot programme")
	ob["max_engagements"] = 3
	r := n.call("POST", "/api/v1/offers", f.donor.Token, ob)
	require.Equal(t, 201, r.Status)
	offer := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+offer+"/publish", f.donor.Token, nil).Status)
	var engs []string
	for i := 0; i < 20; i++ {
		need := n.newNeed(t, "open", "public")
		r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer, "budget_usd": 100000})
		require.Equal(t, 201, r.Status, string(r.Body))
		engs = append(engs, r.json(t)["id"].(string))
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(engs))
	for i, id := range engs {
		wg.Add(1)
		go func(i int, id string) {
			defer wg.Done()
			statuses[i] = n.call("POST", "/api/v1/engagements/"+id+"/accept", f.donor.Token, nil).Status
		}(i, id)
	}
	wg.Wait()
	agreed, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case 200:
			agreed++
		case 409:
			conflicts++
		}
	}
	assert.Equal(t, 3, agreed)
	assert.Equal(t, 17, conflicts)
	o := n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).json(t)
	assert.EqualValues(t, 3, o["engagements_used"])
	assert.EqualValues(t, 300000, o["budget_committed_usd"])
	assert.Equal(t, "closed", o["status"], "a full offer closes by itself")
	list := n.call("GET", "/api/v1/engagements?offer_id="+offer, f.coord.Token, nil).json(t)["items"].([]any)
	byStatus := map[string]int{}
	for _, it := range list {
		byStatus[it.(map[string]any)["status"].(string)]++
	}
	assert.Equal(t, map[string]int{"agreed": 3, "withdrawn": 17}, byStatus,
		"the losers went back to proposed, nothing half-done, and were withdrawn when the full offer closed")
	matched := n.call("GET", "/api/v1/needs?status=matched&limit=100", f.coord.Token, nil).json(t)["items"].([]any)
	assert.Len(t, matched, 3)
}

func TestOverlapsAreFlagged(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	first := n.newProject(t)
	eng := n.newEngagement(t, true)
	r := n.call("POST", "/api/v1/projects", f.coord.Token, map[string]any{"engagement_id": eng, "title": "Second CSIRT project",
		"budget_usd": 200000, "start_date": "2027-06-01", "end_date": "2028-01-31"})
	require.Equal(t, 201, r.Status, string(r.Body))
	p := r.json(t)
	assert.NotEmpty(t, p["warnings"], "the coordinator is warned at creation")
	assert.Contains(t, fmt.Sprint(p["overlaps"]), first)
	pairs := n.call("GET", "/api/v1/reports/overlaps", f.coord.Token, nil).json(t)["items"].([]any)
	require.Len(t, pairs, 1)
	assert.Contains(t, fmt.Sprint(pairs[0]), first)
}

func TestFundingReport(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.newNeed(t, "open", "public")
	prj := n.newProject(t)
	require.Equal(t, 201, n.call("POST", "/api/v1/projects/"+prj+"/transactions", f.donor.Token, map[string]any{"type": "commitment", "amount_usd": 120000, "date": "2025-03-02"}).Status)
	r := n.call("GET", "/api/v1/reports/funding?group_by=country", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 1)
	sn := items[0].(map[string]any)
	assert.Equal(t, "SN", sn["key"])
	assert.Equal(t, "Senegal", sn["label"])
	assert.EqualValues(t, 1, sn["open_needs"], "the need of the project is in progress, the other is open")
	assert.EqualValues(t, 2, sn["needs"], "both are live")
	assert.EqualValues(t, 800000, sn["requested"], "the budgets of the live needs")
	assert.EqualValues(t, 120000, sn["committed"])
	assert.EqualValues(t, 680000, sn["gap"], "280,000 short on the funded need plus the open need's 400,000")
	r = n.call("GET", "/api/v1/reports/funding?group_by=capability&format=csv", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, r.Header["Content-Type"], "text/csv")
	assert.True(t, strings.HasPrefix(string(r.Body), "capability,label,open_needs,requested_usd,projects,committed_usd,disbursed_usd,gap_usd\ncert_setup,"), string(r.Body))
	assert.Equal(t, 422, n.call("GET", "/api/v1/reports/funding?group_by=planet", f.coord.Token, nil).Status)
}
