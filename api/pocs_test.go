package api

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mailer"
	"github.com/capmatch/capmatch/adapters/mailer/smtptest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pocBody is a valid Point of Contact.
func pocBody(kind, name, email string) map[string]any {
	return map[string]any{"kind": kind, "name": name, "role": "Head of unit", "organization": "Ministry of Foreign Affairs",
		"email": email, "phone": "+221 33 889 13 00", "languages": []string{"fr", "en"}}
}

// newPoC adds a contact to a state's directory as the caller and returns its id.
func (n *node) newPoC(t *testing.T, token, iso string, body map[string]any) string {
	t.Helper()
	r := n.call("POST", "/api/v1/countries/"+iso+"/pocs", token, body)
	require.Equal(t, 201, r.Status, string(r.Body))
	return r.json(t)["id"].(string)
}

// readiness reads a country's readiness as the caller.
func (n *node) readiness(t *testing.T, token, iso string) map[string]any {
	t.Helper()
	r := n.call("GET", "/api/v1/countries/"+iso, token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	return r.json(t)["readiness"].(map[string]any)
}

// TestReadinessPatchRefusesDerivedFields: the PoC part of the readiness follows the directory
// and the checks; a ministry can no longer declare it.
func TestReadinessPatchRefusesDerivedFields(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for _, field := range []string{"poc_nominated", "poc_reachable", "poc_last_check", "poc_missed_checks"} {
		r := n.call("PATCH", "/api/v1/countries/SN/readiness", f.ministry.Token, map[string]any{field: true, "national_cert": true})
		require.Equal(t, 422, r.Status, "%s: %s", field, r.Body)
		p := r.problem(t)
		require.Len(t, p.Errors, 1)
		assert.Equal(t, field, p.Errors[0].Field)
		assert.Equal(t, models.ProblemDerived, p.Errors[0].Code)
		assert.Contains(t, p.Errors[0].Message, "cannot be set by hand")
	}
	rd := n.readiness(t, f.ministry.Token, "SN")
	assert.Equal(t, false, rd["national_cert"], "a refused patch changes nothing")
	assert.Equal(t, false, rd["poc_nominated"])
	assert.Equal(t, false, rd["poc_reachable"])
	assert.Nil(t, rd["poc_last_check"])
	r := n.call("PATCH", "/api/v1/countries/SN/readiness", f.ministry.Token, map[string]any{"national_cert": true, "cert_maturity": 2})
	require.Equal(t, 200, r.Status, string(r.Body))
}

// TestPoCsAreKeptByTheirMinistryValidatedAndAudited: create, validate, edit, delete; the
// derived poc_nominated follows the list; the audit trail names fields, never personal data.
func TestPoCsAreKeptByTheirMinistryValidatedAndAudited(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	assert.Equal(t, false, n.readiness(t, f.donor.Token, "SN")["poc_nominated"])

	// Every problem at once, nothing stored.
	r := n.call("POST", "/api/v1/countries/SN/pocs", f.ministry.Token, map[string]any{"kind": "political", "name": "",
		"email": "Awa <awa@cert.sn.example>", "phone": "00221 33 889", "languages": []string{"fra"}})
	require.Equal(t, 422, r.Status, string(r.Body))
	fields := map[string]bool{}
	for _, fe := range r.problem(t).Errors {
		fields[fe.Field] = true
	}
	assert.Equal(t, map[string]bool{"kind": true, "name": true, "email": true, "phone": true, "languages[0]": true}, fields)
	r = n.call("POST", "/api/v1/countries/SN/pocs", f.ministry.Token, `{"kind":"technical","id":"x"}`)
	assert.Equal(t, 400, r.Status, "unknown field: %s", r.Body)

	id := n.newPoC(t, f.ministry.Token, "sn", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	r = n.call("GET", "/api/v1/countries/SN/pocs", f.ministry.Token, nil)
	require.Equal(t, 200, r.Status)
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 1)
	p := items[0].(map[string]any)
	assert.Equal(t, "+221338891300", p["phone"], "stored in E.164")
	assert.Equal(t, false, p["linked"])
	assert.NotContains(t, string(r.Body), "user_id")
	assert.Equal(t, true, n.readiness(t, f.donor.Token, "SN")["poc_nominated"], "derived from the list, seen by everyone")

	r = n.call("PATCH", "/api/v1/countries/SN/pocs/"+id, f.ministry.Token, map[string]any{"role": "Director, CSIRT-SN", "version": 1})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "Director, CSIRT-SN", r.json(t)["role"])
	r = n.call("PATCH", "/api/v1/countries/SN/pocs/"+id, f.ministry.Token, map[string]any{"role": "Stale edit", "version": 1})
	assert.Equal(t, 409, r.Status, "stale version: %s", r.Body)
	r = n.call("PATCH", "/api/v1/countries/SN/pocs/"+id, f.ministry.Token, map[string]any{"email": "not an address"})
	require.Equal(t, 422, r.Status)
	assert.Equal(t, "email", r.problem(t).Errors[0].Field)
	r = n.call("PATCH", "/api/v1/countries/SN/pocs/nosuchpoc", f.ministry.Token, map[string]any{"role": "x"})
	assert.Equal(t, 404, r.Status)
	// Another state's ministry: 404 (it may not know the contacts exist).
	r = n.call("PATCH", "/api/v1/countries/SN/pocs/"+id, f.ministry2.Token, map[string]any{"role": "x"})
	assert.Equal(t, 404, r.Status)

	// A coordinator keeps them too.
	id2 := n.newPoC(t, f.coord.Token, "SN", pocBody("diplomatic", "Moussa Diop", "m.diop@diplomatie.sn.example"))
	require.Equal(t, 204, n.call("DELETE", "/api/v1/countries/SN/pocs/"+id, f.ministry.Token, nil).Status)
	assert.Equal(t, true, n.readiness(t, f.donor.Token, "SN")["poc_nominated"])
	require.Equal(t, 204, n.call("DELETE", "/api/v1/countries/SN/pocs/"+id2, f.ministry.Token, nil).Status)
	assert.Equal(t, 404, n.call("DELETE", "/api/v1/countries/SN/pocs/"+id2, f.ministry.Token, nil).Status)
	assert.Equal(t, false, n.readiness(t, f.donor.Token, "SN")["poc_nominated"], "no contact left")

	// The trail: every change, by field name.
	r = n.call("GET", "/api/v1/audit?object_id="+id, f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	body := string(r.Body)
	for _, action := range []string{`"create"`, `"update"`, `"delete"`} {
		assert.Contains(t, body, action)
	}
	r = n.call("GET", "/api/v1/audit?limit=200", f.coord.Token, nil)
	for _, personal := range []string{"Awa Ndiaye", "awa.ndiaye@", "338891300", "Moussa Diop", "m.diop@"} {
		assert.NotContains(t, string(r.Body), personal, "the audit trail holds no personal data")
	}

	// At most ten per state.
	for i := range models.MaxPoCsPerCountry {
		n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", fmt.Sprintf("Deputy %d", i), fmt.Sprintf("deputy%d@cert.sn.example", i)))
	}
	r = n.call("POST", "/api/v1/countries/SN/pocs", f.ministry.Token, pocBody("technical", "One too many", "eleven@cert.sn.example"))
	assert.Equal(t, 422, r.Status, string(r.Body))
}

// TestPoCsAreSeenByOtherStatesPoCsOnly: another state's ministry sees a state's contacts only
// once its own state nominated it as a PoC (its account's address is in its directory), and
// still may not change them; donors never see them; unlinking ends the access.
func TestPoCsAreSeenByOtherStatesPoCsOnly(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	id := n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	assert.Equal(t, 404, n.call("GET", "/api/v1/countries/SN/pocs", f.ministry2.Token, nil).Status)
	assert.Equal(t, 404, n.call("GET", "/api/v1/countries/SN/pocs", f.donor.Token, nil).Status)

	// Fiji names its ministry official as its diplomatic PoC (by the account's address, typed in
	// another case): the account is linked, and now reads Senegal's contacts.
	fj := n.newPoC(t, f.ministry2.Token, "FJ", pocBody("diplomatic", "S. Vuniwaqa", strings.ToUpper(f.ministry2.Email)))
	r := n.call("GET", "/api/v1/countries/FJ/pocs/"+fj, f.ministry2.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, true, r.json(t)["linked"])
	r = n.call("GET", "/api/v1/countries/SN/pocs", f.ministry2.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Contains(t, string(r.Body), "awa.ndiaye@cert.sn.example")
	assert.Equal(t, 200, n.call("GET", "/api/v1/countries/SN/pocs/"+id, f.ministry2.Token, nil).Status)
	assert.Equal(t, 403, n.call("PATCH", "/api/v1/countries/SN/pocs/"+id, f.ministry2.Token, map[string]any{"role": "x"}).Status)
	assert.Equal(t, 403, n.call("POST", "/api/v1/countries/SN/pocs", f.ministry2.Token, pocBody("technical", "X", "x@y.example")).Status)
	assert.Equal(t, 403, n.call("DELETE", "/api/v1/countries/SN/pocs/"+id, f.ministry2.Token, nil).Status)

	// A donor whose address a state enters is not linked (only ministries of that state are).
	n.newPoC(t, f.ministry.Token, "SN", pocBody("diplomatic", "Donor officer", f.donor.Email))
	assert.Equal(t, 404, n.call("GET", "/api/v1/countries/FJ/pocs", f.donor.Token, nil).Status)
	// Nor is a ministry of another state named in this state's directory.
	n.newPoC(t, f.ministry.Token, "SN", pocBody("diplomatic", "Fijian in Dakar", "official@moc.fj.example"))
	r = n.call("GET", "/api/v1/countries/SN/pocs", f.ministry.Token, nil)
	assert.Equal(t, 3, strings.Count(string(r.Body), `"linked":false`), string(r.Body))

	// Fiji changes its PoC's address: the account loses its standing at once.
	r = n.call("PATCH", "/api/v1/countries/FJ/pocs/"+fj, f.ministry2.Token, map[string]any{"email": "pocs@mfa.gov.fj.example"})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, false, r.json(t)["linked"])
	assert.Equal(t, 404, n.call("GET", "/api/v1/countries/SN/pocs", f.ministry2.Token, nil).Status)
}

var linkRe = regexp.MustCompile(`https://capmatch\.test(/ack/[A-Za-z0-9._-]+)`)

// TestCommunicationCheckOverSMTP runs a check through a real SMTP server in the test process:
// every contact gets an e-mail with its link and an in-app notice; opening the link only shows
// a confirmation page; acknowledging records the response time once; results per state and
// contact, the readiness and the country's history follow.
func TestCommunicationCheckOverSMTP(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseURL(srv.URL())
	require.NoError(t, err)
	from, err := mailer.ParseFrom("capmatch <noreply@capmatch.test>")
	require.NoError(t, err)
	e := newEnv(t)
	n := e.nodeWith(func(d *service.Deps) { d.Mail.Transport = mailer.New(cfg, from) })
	f := n.seed()
	tech := n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	dipl := n.newPoC(t, f.ministry.Token, "SN", map[string]any{"kind": "diplomatic", "name": "Moussa Diop",
		"email": "m.diop@diplomatie.sn.example", "languages": []string{"es"}})
	fjBody := pocBody("technical", "Tevita Rabuka", "t.rabuka@cert.gov.fj.example")
	fjBody["languages"] = []string{"en"}
	fj := n.newPoC(t, f.ministry2.Token, "FJ", fjBody)

	r := n.call("POST", "/api/v1/poc-checks", f.ministry.Token, map[string]any{"countries": []string{"SN"}})
	assert.Equal(t, 403, r.Status)
	r = n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"countries": []string{"SN", "FJ", "KE"}})
	require.Equal(t, 201, r.Status, string(r.Body))
	check := r.json(t)
	id := check["id"].(string)
	assert.Equal(t, "open", check["status"])

	mails := srv.Wait(3, 10*time.Second)
	require.Len(t, mails, 3)
	byTo := map[string]smtptest.Message{}
	for _, m := range mails {
		byTo[m.To[0]] = m
	}
	sn := byTo["awa.ndiaye@cert.sn.example"]
	assert.Contains(t, sn.Body, "point de contact technique", "written in the contact's first language")
	assert.Contains(t, byTo["m.diop@diplomatie.sn.example"].Body, "punto de contacto diplomático")
	assert.Contains(t, byTo["t.rabuka@cert.gov.fj.example"].Body, "technical Point of Contact of Fiji")
	link := linkRe.FindStringSubmatch(sn.Body)
	require.NotNil(t, link, sn.Body)
	path := link[1]

	// The in-app notice reached Senegal's ministry, with arguments and a rendered text.
	r = n.call("GET", "/api/v1/notifications", f.ministry.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, string(r.Body), `"kind":"poc_check"`)
	assert.Contains(t, string(r.Body), `"check_id":{"kind":"text","value":"`+id+`"}`, "the notice's arguments are typed")
	assert.Contains(t, string(r.Body), "Point of Contact of Senegal")

	// Opening the link (as a mail scanner would) shows a confirmation page, and acknowledges
	// nothing.
	for range 2 {
		r = n.call("GET", path, "", nil)
		require.Equal(t, 200, r.Status)
		assert.Contains(t, string(r.Body), `method="post"`)
		assert.Contains(t, string(r.Body), `action="`+path+`"`)
	}
	r = n.call("GET", "/api/v1/poc-checks/"+id, f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, float64(0), r.json(t)["summary"].(map[string]any)["acknowledged"])

	// Acknowledging: once.
	token := strings.TrimPrefix(path, "/ack/")
	r = n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": token})
	require.Equal(t, 200, r.Status, string(r.Body))
	ack := r.json(t)
	assert.Equal(t, "acknowledged", ack["state"])
	assert.Equal(t, "SN", ack["country"])
	r = n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": token})
	assert.Equal(t, 409, r.Status, "single use: %s", r.Body)
	forged := token[:len(token)-2] + "xx"
	assert.Equal(t, 404, n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": forged}).Status)
	assert.Equal(t, 404, n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": strings.Replace(token, tech, dipl, 1)}).Status,
		"a token names its contact: another contact's id breaks the signature")

	// Results per state and contact.
	require.Eventually(t, func() bool {
		r := n.call("GET", "/api/v1/poc-checks/"+id, f.coord.Token, nil)
		return r.json(t)["summary"].(map[string]any)["mails_sent"] == float64(3)
	}, 10*time.Second, 20*time.Millisecond, "every e-mail is recorded as sent")
	r = n.call("GET", "/metrics", "", nil)
	assert.Contains(t, string(r.Body), "capmatch_mail_sent_total 3")
	r = n.call("GET", "/api/v1/poc-checks/"+id, f.coord.Token, nil)
	v := r.json(t)
	byISO := map[string]map[string]any{}
	for _, c := range v["countries"].([]any) {
		byISO[c.(map[string]any)["iso"].(string)] = c.(map[string]any)
	}
	assert.Equal(t, "acknowledged", byISO["SN"]["outcome"])
	assert.NotNil(t, byISO["SN"]["response_seconds"])
	assert.Equal(t, "pending", byISO["FJ"]["outcome"])
	assert.Equal(t, "no_poc", byISO["KE"]["outcome"])
	for _, p := range byISO["SN"]["pocs"].([]any) {
		pm := p.(map[string]any)
		assert.Equal(t, true, pm["sent"])
		assert.Equal(t, true, pm["notified"])
		if pm["poc_id"] == tech {
			assert.NotNil(t, pm["acknowledged_at"])
		} else {
			assert.Nil(t, pm["acknowledged_at"])
		}
	}
	assert.NotContains(t, string(r.Body), "@", "results hold no addresses")
	r = n.call("GET", "/api/v1/poc-checks", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, string(r.Body), id)

	// The readiness is derived: Senegal reachable, Fiji not yet (its check is running).
	rd := n.readiness(t, f.donor.Token, "SN")
	assert.Equal(t, true, rd["poc_reachable"])
	assert.Equal(t, string(models.DateOf(time.Now())), rd["poc_last_check"])
	assert.Equal(t, false, n.readiness(t, f.donor.Token, "FJ")["poc_reachable"])
	// The country's history: outcomes for everyone, the contacts' results for those who see them.
	r = n.call("GET", "/api/v1/countries/SN/poc-checks", f.donor.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Contains(t, string(r.Body), `"outcome":"acknowledged"`)
	assert.NotContains(t, string(r.Body), "Awa Ndiaye", "a donor does not see the contacts")
	r = n.call("GET", "/api/v1/countries/SN/poc-checks", f.ministry.Token, nil)
	assert.Contains(t, string(r.Body), "Awa Ndiaye")

	// Closing ends the links: Fiji missed it.
	fjLink := linkRe.FindStringSubmatch(byTo["t.rabuka@cert.gov.fj.example"].Body)[1]
	r = n.call("POST", "/api/v1/poc-checks/"+id+"/close", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.Equal(t, "closed", r.json(t)["status"])
	r = n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": strings.TrimPrefix(fjLink, "/ack/")})
	assert.Equal(t, 409, r.Status, "the check is over: %s", r.Body)
	rd = n.readiness(t, f.donor.Token, "FJ")
	assert.Equal(t, false, rd["poc_reachable"])
	assert.Equal(t, float64(1), rd["poc_missed_checks"])
	_ = fj
}

// TestTwoMissedChecksProposeADraftNeed: a state that misses two checks in a row gets one
// proposed draft PoC-readiness need (donors-only, marked as proposed) and a notification; a
// third miss proposes nothing more; nothing is submitted without a person.
func TestTwoMissedChecksProposeADraftNeed(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	run := func() string {
		r := n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"region": "011"})
		require.Equal(t, 201, r.Status, string(r.Body))
		id := r.json(t)["id"].(string)
		r = n.call("POST", "/api/v1/poc-checks/"+id+"/close", f.coord.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		return id
	}
	proposed := func() []map[string]any {
		var out []map[string]any
		for _, nd := range n.storedNeeds() {
			if nd.Proposal != nil {
				r := n.call("GET", "/api/v1/needs/"+nd.ID, f.ministry.Token, nil)
				require.Equal(t, 200, r.Status)
				out = append(out, r.json(t))
			}
		}
		return out
	}
	first := run()
	assert.Empty(t, proposed(), "one miss proposes nothing")
	second := run()
	got := proposed()
	require.Len(t, got, 1)
	nd := got[0]
	assert.Equal(t, "draft", nd["status"])
	assert.Equal(t, "poc_readiness", nd["capability"])
	assert.Equal(t, "diplomacy_norms", nd["theme"])
	assert.Equal(t, "donors", nd["visibility"])
	assert.Equal(t, "SN", nd["country"])
	assert.Equal(t, f.snOrg, nd["organization_id"])
	prop := nd["proposal"].(map[string]any)
	assert.Equal(t, "poc_checks", prop["source"])
	assert.Equal(t, "missed_poc_checks", prop["reason"])
	assert.Equal(t, []any{first, second}, prop["refs"])
	rd := n.readiness(t, f.donor.Token, "SN")
	assert.Equal(t, float64(2), rd["poc_missed_checks"])
	// Only its ministry (and coordinators) see the draft; the ministry was told.
	assert.Equal(t, 404, n.call("GET", "/api/v1/needs/"+nd["id"].(string), f.donor.Token, nil).Status)
	r := n.call("GET", "/api/v1/notifications", f.ministry.Token, nil)
	assert.Contains(t, string(r.Body), `"kind":"need_proposed"`)
	// The ministry reviews, edits and submits it.
	r = n.call("PATCH", "/api/v1/needs/"+nd["id"].(string), f.ministry.Token, map[string]any{"budget_usd": 80000})
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.NotNil(t, r.json(t)["proposal"], "the provenance stays")
	r = n.call("POST", "/api/v1/needs/"+nd["id"].(string)+"/submit", f.ministry.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))

	run()
	assert.Len(t, proposed(), 1, "the same streak proposes once")
	// Closing a check twice, or the sweep after a close, changes nothing.
	r = n.call("POST", "/api/v1/poc-checks/"+second+"/close", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	_, err := n.app.PoCChecks.Sweep(context.Background())
	require.NoError(t, err)
	assert.Len(t, proposed(), 1)
}

// TestExpiredChecksAreClosedByTheSweep: a check whose links expired is closed by the sweep
// every replica runs, and its misses count.
func TestExpiredChecksAreClosedByTheSweep(t *testing.T) {
	e := newEnv(t)
	n := e.nodeWith(func(d *service.Deps) { d.PoCCheckTTL = 300 * time.Millisecond })
	f := n.seed()
	n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	r := n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"countries": []string{"SN"}})
	require.Equal(t, 201, r.Status)
	id := r.json(t)["id"].(string)
	require.Eventually(t, func() bool {
		return n.call("GET", "/api/v1/poc-checks/"+id, f.coord.Token, nil).json(t)["status"] == "closed"
	}, 5*time.Second, 20*time.Millisecond, "expired checks read as closed")
	closed, err := n.app.PoCChecks.Sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, closed)
	closed, err = n.app.PoCChecks.Sweep(context.Background())
	require.NoError(t, err)
	assert.Zero(t, closed, "a settled check is not swept again")
	assert.Equal(t, float64(1), n.readiness(t, f.donor.Token, "SN")["poc_missed_checks"])
}

// TestOutboxKeepsMailsWithoutSMTP: with no SMTP server (the embedded default) the messages
// land in the outbox, which coordinators read; its links work.
func TestOutboxKeepsMailsWithoutSMTP(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	n.newPoC(t, f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
	r := n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"countries": []string{"SN"}})
	require.Equal(t, 201, r.Status)
	var box map[string]any
	require.Eventually(t, func() bool {
		r := n.call("GET", "/api/v1/outbox", f.coord.Token, nil)
		box = r.json(t)
		return len(box["items"].([]any)) == 1
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "outbox", box["mode"])
	m := box["items"].([]any)[0].(map[string]any)
	assert.Equal(t, "awa.ndiaye@cert.sn.example", m["to"])
	link := linkRe.FindStringSubmatch(m["text"].(string))
	require.NotNil(t, link)
	r = n.call("POST", "/api/v1/poc-acks", "", map[string]string{"token": strings.TrimPrefix(link[1], "/ack/")})
	require.Equal(t, 200, r.Status, string(r.Body))
	for _, who := range []string{f.ministry.Token, f.donor.Token, f.ministry2.Token} {
		assert.Equal(t, 403, n.call("GET", "/api/v1/outbox", who, nil).Status)
	}
	assert.Equal(t, 401, n.call("GET", "/api/v1/outbox", "", nil).Status)
	// No check for nobody.
	r = n.call("POST", "/api/v1/poc-checks", f.coord.Token, map[string]any{"countries": []string{"KE"}})
	assert.Equal(t, 422, r.Status)
	for _, bad := range []map[string]any{{}, {"countries": []string{"SN"}, "region": "002"}, {"region": "999"},
		{"countries": []string{"XX"}}, {"countries": []string{"SN", "sn"}}} {
		r = n.call("POST", "/api/v1/poc-checks", f.coord.Token, bad)
		assert.Equal(t, 422, r.Status, "%v: %s", bad, r.Body)
	}
}
