package api

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNeedsAndOffersNameTheirOrganization: every need and offer answer (create, get, list,
// patch, transition) carries organization_name next to organization_id, so that a client can
// say who is behind it without another call.
func TestNeedsAndOffersNameTheirOrganization(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	const ministry, donor = "Ministry of Foreign Affairs of Senegal", "Francophone CSIRT Programme"

	r := n.call("POST", "/api/v1/needs", f.ministry.Token, needBody(f, "ministry", "National CSIRT"))
	require.Equal(t, 201, r.Status, string(r.Body))
	need := r.json(t)
	assert.Equal(t, ministry, need["organization_name"])
	id := need["id"].(string)
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/api/v1/needs/" + id, f.ministry.Token},
		{"POST", "/api/v1/needs/" + id + "/submit", f.ministry.Token},
		{"PATCH", "/api/v1/needs/" + id, f.coord.Token},
	} {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"budget_usd": 450000}
		}
		r = n.call(c.method, c.path, c.token, body)
		require.Equal(t, 200, r.Status, "%s %s: %s", c.method, c.path, r.Body)
		assert.Equal(t, ministry, r.json(t)["organization_name"], "%s %s", c.method, c.path)
	}
	r = n.call("GET", "/api/v1/needs?status=submitted", f.coord.Token, nil)
	require.Equal(t, 200, r.Status)
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, ministry, items[0].(map[string]any)["organization_name"])

	r = n.call("POST", "/api/v1/offers", f.donor.Token, offerBody("Francophone CSIRT programme"))
	require.Equal(t, 201, r.Status, string(r.Body))
	offer := r.json(t)
	assert.Equal(t, donor, offer["organization_name"])
	oid := offer["id"].(string)
	r = n.call("POST", "/api/v1/offers/"+oid+"/publish", f.donor.Token, nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, donor, r.json(t)["organization_name"])
	for _, token := range []string{f.ministry2.Token, f.donor2.Token} {
		r = n.call("GET", "/api/v1/offers/"+oid, token, nil)
		require.Equal(t, 200, r.Status)
		assert.Equal(t, donor, r.json(t)["organization_name"])
		r = n.call("GET", "/api/v1/offers", token, nil)
		require.Equal(t, 200, r.Status)
		assert.Equal(t, donor, r.json(t)["items"].([]any)[0].(map[string]any)["organization_name"])
	}
}

// TestOfferContactIsOptionalAndValidated: contact_name and contact_email publish how to reach a
// programme; a bad address, a name without an address and control characters are 422 and
// change nothing; PATCH sets and clears them.
func TestOfferContactIsOptionalAndValidated(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for _, bad := range []struct {
		name, email, field string
	}{
		{"", "desk at programme", "contact_email"},
		{"", "Desk <desk@programme.example>", "contact_email"},
		{"", "desk@programme.example, other@programme.example", "contact_email"},
		{"", "desk@localhost", "contact_email"},
		{"Programme desk", "", "contact_email"},
		{"Desk\x00", "desk@programme.example", "contact_name"},
	} {
		b := offerBody("Programme")
		b["contact_name"], b["contact_email"] = bad.name, bad.email
		r := n.call("POST", "/api/v1/offers", f.donor.Token, b)
		require.Equal(t, 422, r.Status, "%q %q: %s", bad.name, bad.email, r.Body)
		assert.Contains(t, string(r.Body), `"field":"`+bad.field+`"`, "%q %q", bad.name, bad.email)
	}
	b := offerBody("Programme")
	b["contact_name"], b["contact_email"] = " Programme desk ", " desk@programme.example "
	r := n.call("POST", "/api/v1/offers", f.donor.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	o := r.json(t)
	assert.Equal(t, "Programme desk", o["contact_name"])
	assert.Equal(t, "desk@programme.example", o["contact_email"])
	id := o["id"].(string)
	r = n.call("PATCH", "/api/v1/offers/"+id, f.donor.Token, map[string]any{"contact_name": "", "contact_email": "cyber@programme.example"})
	require.Equal(t, 200, r.Status, string(r.Body))
	o = r.json(t)
	assert.NotContains(t, o, "contact_name", "cleared")
	assert.Equal(t, "cyber@programme.example", o["contact_email"])
	r = n.call("PATCH", "/api/v1/offers/"+id, f.donor.Token, map[string]any{"contact_email": "nope"})
	assert.Equal(t, 422, r.Status)
	r = n.call("GET", "/api/v1/offers/"+id, f.donor.Token, nil)
	assert.Equal(t, "cyber@programme.example", r.json(t)["contact_email"], "a refused patch changes nothing")
	r = n.call("POST", "/api/v1/offers", f.donor.Token, offerBody("No contact"))
	require.Equal(t, 201, r.Status)
	assert.NotContains(t, r.json(t), "contact_email", "absent when the programme published none")
}

// TestNeedVisibilityDefaultsByCapability: a need posted without visibility is donors-only when
// its capability is cert_setup, cert_maturity or poc_readiness, public otherwise.
func TestNeedVisibilityDefaultsByCapability(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	for _, c := range []struct{ theme, capability, want string }{
		{"incident_management", "cert_setup", "donors"},
		{"incident_management", "cert_maturity", "donors"},
		{"diplomacy_norms", "poc_readiness", "donors"},
		{"diplomacy_norms", "legal_position", "public"},
		{"incident_management", "cyber_exercises", "public"},
	} {
		b := needBody(f, "ministry", "Need for "+c.capability)
		delete(b, "visibility")
		b["theme"], b["capability"] = c.theme, c.capability
		b["maturity"] = map[string]any{"framework": "none", "current": 0, "target": 0}
		r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
		require.Equal(t, 201, r.Status, string(r.Body))
		assert.Equal(t, c.want, r.json(t)["visibility"], c.capability)
	}
	b := needBody(f, "ministry", "Chosen visibility wins")
	b["visibility"] = "public"
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status)
	assert.Equal(t, "public", r.json(t)["visibility"], "a chosen visibility is kept")
}
