package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExternalActivitiesFeedDuplicationAndOverlaps (issue 18.1): an activity published to IATI
// by another donor that delivers cert_setup in Senegal lowers the duplication factor of
// Senegal's CSIRT need to 0.5 (ExternalWeight × confidence high), with its own reason, in the
// next ranking on every replica (the score stays the sum of its contributions); a project on
// the same capability and country lists it among its overlaps with its reason and weight, the
// overlaps report pairs them, and once a project on capmatch delivers it the factor is 0.
func TestExternalActivitiesFeedDuplicationAndOverlaps(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	other := e.node()
	need := n.newNeed(t, "open", "public")
	n.newOffer(t, "open")
	path := "/api/v1/needs/" + need + "/matches?limit=5"
	before := matches(t, n, path, f.ministry.Token)
	require.NotEmpty(t, before["items"])
	assert.Equal(t, 1.0, factor(before, 0, "duplication")["value"])

	r, _ := n.importIATI(t, f.coord.Token, iatiFixture(t, "nl-mfa-2.03.xml"))
	require.Equal(t, 201, r.Status, string(r.Body))
	for _, node := range []*node{n, other} {
		after := matches(t, node, path, f.ministry.Token)
		dup := factor(after, 0, "duplication")
		assert.Equal(t, 0.5, dup["value"], "high confidence: 1 − 0.5 × 1")
		assert.Equal(t, "duplication.external", dup["code"], "its own reason")
		assert.Equal(t, "No project or agreement on capmatch delivers “Establishing a national CERT/CSIRT” in Senegal yet, but 1 activity published to IATI by others may (mapping confidence 100%).", dup["reason"])
		assert.InDelta(t, before["items"].([]any)[0].(map[string]any)["score"].(float64)-0.11*0.5,
			after["items"].([]any)[0].(map[string]any)["score"].(float64), 0.0002)
	}

	// A project on the same capability and country: the external activity overlaps it.
	prj := n.newProject(t)
	r = n.call("GET", "/api/v1/projects/"+prj, f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	var ext map[string]any
	for _, o := range r.json(t)["overlaps"].([]any) {
		if o.(map[string]any)["kind"] == "external_activity" {
			ext = o.(map[string]any)
		}
	}
	require.NotNil(t, ext, "%s", r.Body)
	assert.Equal(t, "XM-DAC-7-PPR-4000012345", ext["iati_identifier"])
	assert.Equal(t, "XM-DAC-7", ext["publisher"])
	reason := ext["reason"].(map[string]any)
	assert.Equal(t, "external_activity", reason["code"])
	assert.Equal(t, 0.5, reason["weight"])
	assert.Equal(t, "high", reason["args"].(map[string]any)["confidence"])
	assert.Equal(t, 60.0, reason["args"].(map[string]any)["percentage"])
	pairs := n.call("GET", "/api/v1/reports/overlaps", f.coord.Token, nil).json(t)["items"].([]any)
	found := false
	for _, p := range pairs {
		b := p.(map[string]any)["b"].(map[string]any)
		found = found || (b["kind"] == "external_activity" && fmt.Sprint(p.(map[string]any)["a"].(map[string]any)["id"]) == prj)
	}
	assert.True(t, found, "the overlaps report pairs the project with the external activity: %v", pairs)

	// The web's project page names it, linking to the country's list.
	page := n.browser(t, f.coord.Email).get("/projects/" + prj)
	require.Equal(t, 200, page.Status)
	assert.Contains(t, page.Body, `<a href="/countries/SN#external">National CSIRT establishment in West Africa</a> (published to IATI by XM-DAC-7, high confidence)`)
	assert.Contains(t, n.browser(t, f.coord.Email).get("/engagements").Body, "published to IATI by XM-DAC-7")

	// A delivery on capmatch decides: 0, whatever others publish.
	dup := factor(matches(t, n, path, f.ministry.Token), 0, "duplication")
	assert.Equal(t, 0.0, dup["value"])
	assert.Contains(t, dup["reason"], "already deliver")
}
