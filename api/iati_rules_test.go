package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/iati"
	"github.com/capmatch/capmatch/adapters/iati/ruletest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIATIExportPassesTheValidatorRules (issue 18.0) records a project through the API the
// way the IATI Validator found broken (a project of almost three years, money dated in the
// future, an actual start while in pipeline, a donor that publishes its own IATI data) and
// checks the export against those rules: 7.5.3, 11.2.1, 11.2.2, 11.1.4, 1.14.8, the
// secondary reporter and an absolute vocabulary-uri.
func TestIATIExportPassesTheValidatorRules(t *testing.T) {
	e := newEnv(t)
	publisher := iati.Org{Ref: "XI-IATI-CAPMATCHTEST", Name: "capmatch test desk", Type: "40"}
	e.configure = func(d *service.Deps) { d.Activities = iati.Exporter{Publisher: publisher} }
	n := e.node()
	f := n.seed()

	// A donor that publishes to IATI, with an account.
	r := n.call("POST", "/api/v1/organizations", f.coord.Token, map[string]any{"name": "Netherlands MFA", "type": "donor",
		"iati_ref": "XM-DAC-7", "iati_type": "10", "publishes_to_iati": true})
	require.Equal(t, 201, r.Status, string(r.Body))
	nl := r.json(t)
	assert.Equal(t, true, nl["publishes_to_iati"])
	_, err := n.app.Accounts.CreateUser(context.Background(), nil, service.UserInput{Email: "officer@minbuza.example", Password: pw,
		Name: "Officer", Role: models.RoleDonor, OrganizationID: nl["id"].(string)})
	require.NoError(t, err)
	donor, _ := n.login("officer@minbuza.example", pw)
	for _, bad := range []map[string]any{
		{"name": "X", "type": "donor", "iati_type": "99"},
		{"name": "X", "type": "donor", "publishes_to_iati": true},
		{"name": "X", "type": "donor", "iati_ref": "XM/DAC 7"},
	} {
		r := n.call("POST", "/api/v1/organizations", f.coord.Token, bad)
		assert.Equal(t, 422, r.Status, "%v: %s", bad, r.Body)
	}

	// The project started three months ago and runs into the year after next (budgets over
	// three calendar years); the offer's window and the engagement's period cover it, as
	// projects must stay inside them.
	now := time.Now().UTC()
	today := models.DateOf(now)
	start, end := models.DateOf(now.AddDate(0, -3, 0)), models.DateOf(now.AddDate(2, 6, 0))
	need := n.newNeed(t, "open", "public")
	ob := offerBody("Dutch cyber capacity facility")
	ob["available_from"], ob["available_until"] = start, end
	r = n.call("POST", "/api/v1/offers", donor, ob)
	require.Equal(t, 201, r.Status, string(r.Body))
	offer := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/offers/"+offer+"/publish", donor, nil).Status)
	r = n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer, "message": "Please",
		"budget_usd": 1_234_567, "start_date": start, "end_date": end})
	require.Equal(t, 201, r.Status, string(r.Body))
	eng := r.json(t)["id"].(string)
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+eng+"/accept", donor, nil).Status)

	r = n.call("POST", "/api/v1/projects", donor, map[string]any{"engagement_id": eng, "title": "National CSIRT, phase 1",
		"budget_usd": 1_234_567, "start_date": start, "end_date": end})
	require.Equal(t, 201, r.Status, string(r.Body))
	prj := r.json(t)["id"].(string)

	// 11.2.1/11.2.2: a transaction dated in the future is refused with a reason; today's is recorded.
	tomorrow := models.DateOf(now.AddDate(0, 0, 1))
	r = n.call("POST", "/api/v1/projects/"+prj+"/transactions", donor, map[string]any{"type": "commitment", "amount_usd": 1_234_567, "date": tomorrow})
	require.Equal(t, 422, r.Status, string(r.Body))
	p := r.problem(t)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "date", p.Errors[0].Field)
	assert.Equal(t, models.ProblemFutureDate, p.Errors[0].Code)
	assert.Equal(t, string(today), p.Errors[0].Args["today"].Value, "the message names today")
	r = n.call("POST", "/api/v1/projects/"+prj+"/transactions", donor, map[string]any{"type": "commitment", "amount_usd": 1_234_567, "date": today})
	require.Equal(t, 201, r.Status, string(r.Body))

	// 11.1.4: no actual start in the future, nor while in pipeline.
	for _, d := range []models.Date{tomorrow, start} {
		r = n.call("PATCH", "/api/v1/projects/"+prj, donor, map[string]any{"actual_start": d})
		require.Equal(t, 422, r.Status, "%s: %s", d, r.Body)
		assert.Equal(t, "actual_start", r.problem(t).Errors[0].Field)
	}
	require.Equal(t, 200, n.call("POST", "/api/v1/projects/"+prj+"/status", donor, map[string]any{"status": 2}).Status)
	r = n.call("PATCH", "/api/v1/projects/"+prj, donor, map[string]any{"actual_end": tomorrow})
	assert.Equal(t, 422, r.Status, string(r.Body))

	r = n.call("GET", "/api/v1/export/iati.xml", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	xmllintValidates(t, r.Body)
	fs, err := ruletest.Check(r.Body, ruletest.Config{Now: now, ReportingRef: publisher.Ref, Placeholders: []string{iati.PlaceholderRef},
		Publishers: map[string]bool{"XM-DAC-7": true}})
	require.NoError(t, err)
	assert.Empty(t, fs)
	root, err := ruletest.Parse(r.Body)
	require.NoError(t, err)
	acts := root.All("iati-activity")
	require.Len(t, acts, 1)
	a := acts[0]
	assert.Equal(t, publisher.Ref+"-"+prj, a.First("iati-identifier"), "the configured publisher prefixes the identifier")
	assert.Equal(t, "1", a.First("reporting-org/@secondary-reporter"), "the Dutch MFA publishes its own IATI data")
	assert.Equal(t, "http://example.com/api/v1/catalogue", a.First("sector[@vocabulary='99']/@vocabulary-uri"), "the request's base URL")
	assert.GreaterOrEqual(t, len(a.All("budget")), 3, "one budget per calendar year")
	assert.NotContains(t, string(r.Body), "placeholder")

	// With CAPMATCH_PUBLIC_URL, the public address wins over the request's.
	e.configure = func(d *service.Deps) {
		d.Activities = iati.Exporter{Publisher: publisher}
		d.IATI = service.IATIConfig{PublicURL: "https://capmatch.example.org"}
	}
	n2 := e.node()
	r = n2.call("GET", "/api/v1/export/iati.xml", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Contains(t, string(r.Body), `vocabulary-uri="https://capmatch.example.org/api/v1/catalogue"`)
}

// TestIATIExportMarksThePlaceholderPublisher: without a configured publisher the export uses
// the documented placeholder and says so in the file.
func TestIATIExportMarksThePlaceholderPublisher(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.newProject(t)
	r := n.call("GET", "/api/v1/export/iati.xml", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	body := string(r.Body)
	assert.True(t, strings.Contains(body, "<!-- reporting-org/@ref XM-CAPMATCH is a placeholder"), body[:min(len(body), 400)])
	assert.Contains(t, body, `<reporting-org ref="XM-CAPMATCH"`)
	xmllintValidates(t, r.Body)
}
