package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileInputsChangeNothing sends hostile bodies to every write endpoint of needs, offers
// and countries: each gets a 4xx problem+json naming the problem, and the store is unchanged.
func TestHostileInputsChangeNothing(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	draft := n.newNeed(t, "draft", "public")
	offer := n.newOffer(t, "draft")

	// mutate returns a valid need or offer body with one change applied.
	need := func(k string, v any) map[string]any {
		b := needBody(f, "ministry", "Hostile test need")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	off := func(k string, v any) map[string]any {
		b := offerBody("Hostile test offer")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	giant := strings.Repeat("A", 300_000)
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		field  string
	}{
		{"operator in title", "POST", "/api/v1/needs", f.ministry.Token, need("title", map[string]any{"$ne": ""}), 400, "title"},
		{"operator in country", "POST", "/api/v1/needs", f.ministry.Token, need("country", map[string]any{"$gt": ""}), 400, "country"},
		{"operator key at top", "POST", "/api/v1/needs", f.ministry.Token, need("$where", "1"), 400, "$where"},
		{"budget as string", "POST", "/api/v1/needs", f.ministry.Token, need("budget_usd", "400000"), 400, "budget_usd"},
		{"budget fractional", "POST", "/api/v1/needs", f.ministry.Token, `{"budget_usd": 1.5}`, 400, "budget_usd"},
		{"languages not array", "POST", "/api/v1/needs", f.ministry.Token, need("languages", "fr"), 400, "languages"},
		{"server-owned status", "POST", "/api/v1/needs", f.ministry.Token, need("status", "open"), 400, "status"},
		{"server-owned id", "POST", "/api/v1/needs", f.ministry.Token, need("id", "mine"), 400, "id"},
		{"server-owned version", "POST", "/api/v1/needs", f.ministry.Token, need("version", 9), 400, "version"},
		{"server-owned created_at", "POST", "/api/v1/needs", f.ministry.Token, need("created_at", "2020-01-01T00:00:00Z"), 400, "created_at"},
		{"unknown nested field", "POST", "/api/v1/needs", f.ministry.Token, need("maturity", map[string]any{"framework": "sim3", "current": 1, "target": 2, "x": 1}), 400, "x"},
		{"giant title", "POST", "/api/v1/needs", f.ministry.Token, need("title", giant), 422, "title"},
		{"giant description", "POST", "/api/v1/needs", f.ministry.Token, need("description", giant), 422, "description"},
		{"NUL in title", "POST", "/api/v1/needs", f.ministry.Token, need("title", "CERT\x00setup"), 422, "title"},
		{"invalid UTF-8", "POST", "/api/v1/needs", f.ministry.Token, "{\"title\": \"bad \xff\xfe bytes\", \"country\": \"SN\"}", 400, ""},
		{"impossible date", "POST", "/api/v1/needs", f.ministry.Token, need("start_by", "2027-02-30"), 422, "start_by"},
		{"date with time", "POST", "/api/v1/needs", f.ministry.Token, need("start_by", "2027-02-01T00:00:00Z"), 422, "start_by"},
		{"negative budget", "POST", "/api/v1/needs", f.ministry.Token, need("budget_usd", -5), 422, "budget_usd"},
		{"budget too large", "POST", "/api/v1/needs", f.ministry.Token, need("budget_usd", 10_000_000_000), 422, "budget_usd"},
		{"budget overflows int64", "POST", "/api/v1/needs", f.ministry.Token, `{"budget_usd": 99999999999999999999999}`, 400, "budget_usd"},
		{"duration zero", "POST", "/api/v1/needs", f.ministry.Token, need("duration_months", 0), 422, "duration_months"},
		{"capability of another theme", "POST", "/api/v1/needs", f.ministry.Token, need("capability", "legal_position"), 422, "capability"},
		{"unknown theme", "POST", "/api/v1/needs", f.ministry.Token, need("theme", "space"), 422, "theme"},
		{"maturity target below current", "POST", "/api/v1/needs", f.ministry.Token, need("maturity", map[string]any{"framework": "sim3", "current": 3, "target": 1}), 422, "maturity.target"},
		{"maturity out of range", "POST", "/api/v1/needs", f.ministry.Token, need("maturity", map[string]any{"framework": "sim3", "current": 1, "target": 9}), 422, "maturity.target"},
		{"duplicate language", "POST", "/api/v1/needs", f.ministry.Token, need("languages", []string{"fr", "fr"}), 422, "languages[1]"},
		{"unknown language", "POST", "/api/v1/needs", f.ministry.Token, need("languages", []string{"xx"}), 422, "languages[0]"},
		{"missing title", "POST", "/api/v1/needs", f.ministry.Token, need("title", nil), 422, "title"},
		{"other country", "POST", "/api/v1/needs", f.ministry.Token, need("country", "FJ"), 403, ""},
		{"not JSON", "POST", "/api/v1/needs", f.ministry.Token, `title=CERT`, 400, ""},
		{"JSON null", "POST", "/api/v1/needs", f.ministry.Token, `null`, 400, ""},
		{"empty object", "POST", "/api/v1/needs", f.ministry.Token, `{}`, 422, "title"},
		{"patch status", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"status": "open"}, 400, "status"},
		{"patch country", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"country": "FJ"}, 400, "country"},
		{"patch operator", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"title": map[string]any{"$set": "x"}}, 400, "title"},
		{"patch bad budget", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"budget_usd": 0}, 422, "budget_usd"},
		{"patch control chars", "PATCH", "/api/v1/needs/" + draft, f.ministry.Token, map[string]any{"title": "a\u0007b"}, 422, "title"},
		{"patch unknown need", "PATCH", "/api/v1/needs/nosuchneed", f.ministry.Token, map[string]any{"title": "x"}, 404, ""},
		{"patch id with operator chars", "PATCH", "/api/v1/needs/%24where", f.ministry.Token, map[string]any{"title": "x"}, 404, ""},
		{"reason giant", "POST", "/api/v1/needs/" + draft + "/withdraw", f.ministry.Token, map[string]any{"reason": giant}, 422, "reason"},
		{"reason unknown field", "POST", "/api/v1/needs/" + draft + "/withdraw", f.ministry.Token, map[string]any{"why": "x"}, 400, "why"},
		{"offer empty themes", "POST", "/api/v1/offers", f.donor.Token, off("themes", []string{}), 422, "themes"},
		{"offer window reversed", "POST", "/api/v1/offers", f.donor.Token, off("available_until", "2026-01-01"), 422, "available_until"},
		{"offer unknown region", "POST", "/api/v1/offers", f.donor.Token, off("eligible_regions", []string{"999"}), 422, "eligible_regions[0]"},
		{"offer unknown country", "POST", "/api/v1/offers", f.donor.Token, off("eligible_countries", []string{"ZZ"}), 422, "eligible_countries[0]"},
		{"offer zero engagements", "POST", "/api/v1/offers", f.donor.Token, off("max_engagements", 0), 422, "max_engagements"},
		{"offer engagements as bool", "POST", "/api/v1/offers", f.donor.Token, off("max_engagements", true), 400, "max_engagements"},
		{"offer server-owned status", "POST", "/api/v1/offers", f.donor.Token, off("status", "open"), 400, "status"},
		{"offer server-owned organization", "POST", "/api/v1/offers", f.donor.Token, off("organization_id", f.donor2Org), 400, "organization_id"},
		{"offer patch used slots", "PATCH", "/api/v1/offers/" + offer, f.donor.Token, map[string]any{"engagements_used": 0}, 400, "engagements_used"},
		{"offer patch stale version", "PATCH", "/api/v1/offers/" + offer, f.donor.Token, map[string]any{"title": "x", "version": 99}, 409, ""},
		{"readiness bad level", "PATCH", "/api/v1/countries/SN/readiness", f.ministry.Token, map[string]any{"cert_maturity": 7}, 422, "cert_maturity"},
		{"readiness wrong type", "PATCH", "/api/v1/countries/SN/readiness", f.ministry.Token, map[string]any{"national_cert": "yes"}, 400, "national_cert"},
		{"readiness unknown field", "PATCH", "/api/v1/countries/SN/readiness", f.ministry.Token, map[string]any{"iso": "FJ"}, 400, "iso"},
	}
	// A compressed body could expand past the body limit: refused before it is read.
	req := httptest.NewRequest("POST", "/api/v1/needs", strings.NewReader("\x1f\x8b\x08\x00"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+f.ministry.Token)
	assert.Equal(t, 415, n.send(req).Status)

	needsBefore, offersBefore := e.storeCounts(t)
	draftBefore := n.call("GET", "/api/v1/needs/"+draft, f.ministry.Token, nil).Body
	offerBefore := n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).Body
	snBefore := n.call("GET", "/api/v1/countries/SN", f.ministry.Token, nil).Body
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := n.call(tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, r.Status, string(r.Body))
			p := r.problem(t)
			if tc.field != "" {
				var fields []string
				for _, fe := range p.Errors {
					fields = append(fields, fe.Field)
				}
				assert.Contains(t, fields, tc.field)
			}
			assert.NotContains(t, string(r.Body), giant[:1000], "no echo of giant input")
		})
	}
	needsAfter, offersAfter := e.storeCounts(t)
	assert.Equal(t, needsBefore, needsAfter, "no need stored")
	assert.Equal(t, offersBefore, offersAfter, "no offer stored")
	assert.Equal(t, string(draftBefore), string(n.call("GET", "/api/v1/needs/"+draft, f.ministry.Token, nil).Body), "draft unchanged")
	assert.Equal(t, string(offerBefore), string(n.call("GET", "/api/v1/offers/"+offer, f.donor.Token, nil).Body), "offer unchanged")
	assert.Equal(t, string(snBefore), string(n.call("GET", "/api/v1/countries/SN", f.ministry.Token, nil).Body), "readiness unchanged")
}
