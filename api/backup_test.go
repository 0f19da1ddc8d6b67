package api

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mongostore/storetest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The content fields of needs and offers that an export/import round trip must carry
// unchanged (docs/backup.md). organization_id is compared through the mapping of
// organizations between the deployments, and status separately.
var (
	needContentFields = []string{"title", "description", "country", "theme", "capability", "modalities", "languages",
		"budget_usd", "start_by", "duration_months", "priority", "maturity", "visibility"}
	offerContentFields = []string{"title", "description", "themes", "capabilities", "modalities", "languages",
		"eligible_countries", "eligible_regions", "budget_usd", "max_engagements", "available_from", "available_until",
		"contact_name", "contact_email"}
)

// exportAll walks a list endpoint page by page (small pages, so cursors are exercised) as
// the given caller and returns every item in order.
func exportAll(t *testing.T, n *node, path, token string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "the walk ends")
		q := path + "?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := n.call("GET", q, token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
		m := r.json(t)
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// TestExportImportRoundTripLosesNothing exports needs and offers with rich content (every
// field, non-Latin scripts, line breaks, lists, edge values) from one deployment through the
// API, imports them into a fresh deployment through the bulk import, and compares every
// user-visible content field, the statuses the import can set, and the rankings.
func TestExportImportRoundTripLosesNothing(t *testing.T) {
	src := newEnv(t)
	sn := src.node()
	f := sn.seed()

	// Source content, posted as ministries, coordinators (on a government's behalf) and donors.
	type posted struct {
		token, status string
		body          map[string]any
	}
	needs := []posted{
		{f.ministry.Token, "open", map[string]any{
			"title":       "Création d'un CSIRT national — Sénégal (Sàmm sa CERT)",
			"description": "Mise en place d'une équipe nationale de réponse aux incidents.\nServices : veille, alerte, coordination.\r\n\tPhase 1 : gouvernance ; phase 2 : SOC.",
			"country":     "SN", "theme": "incident_management", "capability": "cert_setup",
			"modalities": []string{"expert_deployment", "training", "mentoring"}, "languages": []string{"fr", "wo", "en"},
			"budget_usd": 400000, "start_by": "2027-03-01", "duration_months": 18, "priority": "high",
			"maturity": map[string]any{"framework": "sim3", "current": 1, "target": 3}, "visibility": "public"}},
		{f.coord.Token, "submitted", map[string]any{
			"title":       "Pacific PoC readiness — Viti Levu drills (फ़िजी संपर्क बिंदु)",
			"description": "Nominate and exercise the UN and regional Points of Contact.\nVosa Vakaviti and Hindi material.",
			"country":     "FJ", "theme": "diplomacy_norms", "capability": "poc_readiness",
			"modalities": []string{"training", "study_visit"}, "languages": []string{"en", "fj", "hi"},
			"budget_usd": 1, "start_by": "2026-12-31", "duration_months": 1, "priority": "medium",
			"maturity": map[string]any{"framework": "none", "current": 0, "target": 0}, "visibility": "restricted",
			"organization_id": f.fjOrg}},
		{f.ministry.Token, "draft", map[string]any{
			"title":       "Criminalistique numérique — الأدلة الجنائية الرقمية — 数字取证 🔒",
			"description": "Laboratoire de criminalistique : acquisition, analyse, chaîne de custody.\n\nالتدريب على الأدلة الرقمية.\n培训与设备。",
			"country":     "SN", "theme": "cybercrime", "capability": "digital_forensics",
			"modalities": []string{"equipment", "training"}, "languages": []string{"fr", "ar", "zh"},
			"budget_usd": 750000, "start_by": "2028-02-29", "duration_months": 24, "priority": "low",
			"maturity": map[string]any{"framework": "cmm", "current": 1, "target": 3}, "visibility": "donors"}},
		{f.coord.Token, "open", map[string]any{
			"title":       "Національна стратегія кібербезпеки — Estrategia nacional",
			"description": "Стратегія, план дій та індикатори.\nEstrategia, plan de acción e indicadores.",
			"country":     "SN", "theme": "policy_strategy", "capability": "national_strategy",
			"modalities": []string{"training", "expert_deployment", "funding", "equipment", "mentoring", "study_visit", "policy_advice"},
			"languages":  []string{"fr", "en", "es", "pt", "ar", "ru", "zh", "uk"},
			"budget_usd": 9_999_999_999, "start_by": "2027-01-01", "duration_months": 120, "priority": "medium",
			"maturity": map[string]any{"framework": "gci", "current": 2, "target": 5}, "visibility": "public",
			"organization_id": f.snOrg}},
	}
	for _, p := range needs {
		r := sn.call("POST", "/api/v1/needs", p.token, p.body)
		require.Equal(t, 201, r.Status, string(r.Body))
		id := r.json(t)["id"].(string)
		steps := map[string][]struct{ token, action string }{
			"submitted": {{f.ministry.Token, "submit"}},
			"open":      {{f.ministry.Token, "submit"}, {f.coord.Token, "approve"}},
		}[p.status]
		if p.body["country"] == "FJ" {
			steps = []struct{ token, action string }{{f.ministry2.Token, "submit"}}
		}
		for _, s := range steps {
			r := sn.call("POST", "/api/v1/needs/"+id+"/"+s.action, s.token, nil)
			require.Equal(t, 200, r.Status, "%s: %s", s.action, r.Body)
		}
	}
	offers := []posted{
		{f.donor.Token, "open", map[string]any{
			"title":       "Programme francophone CSIRT — مبادرة الاستجابة — 事件响应项目",
			"description": "Accompagnement des CSIRT nationaux.\nمرافقة الفرق الوطنية.\n国家级团队辅导。",
			"themes":      []string{"incident_management", "culture_skills"}, "capabilities": []string{"cert_setup", "cert_maturity", "awareness"},
			"modalities": []string{"expert_deployment", "training", "mentoring"}, "languages": []string{"fr", "en", "ar"},
			"eligible_countries": []string{"SN", "FJ", "HT"}, "eligible_regions": []string{"002", "009"},
			"budget_usd": 2_000_000, "max_engagements": 4, "available_from": "2027-01-01", "available_until": "2028-12-31",
			"contact_name": "Équipe CSIRT — فريق الاستجابة", "contact_email": "csirt-programme@donor.example"}},
		{f.donor2.Token, "draft", map[string]any{
			"title":       "Позиция по международному праву — Posiciones jurídicas",
			"description": "Помощь в подготовке национальной позиции.\nApoyo a la redacción de posiciones nacionales.",
			"themes":      []string{"diplomacy_norms"}, "capabilities": []string{"legal_position", "poc_readiness"},
			"modalities": []string{"policy_advice"}, "languages": []string{"es", "pt", "ru"},
			"eligible_countries": []string{}, "eligible_regions": []string{},
			"budget_usd": 1, "max_engagements": 1, "available_from": "2027-06-01", "available_until": "2027-06-02"}},
		{f.donor.Token, "open", map[string]any{
			"title":       "National strategy facility",
			"description": "Strategy drafting, costed action plans.",
			"themes":      []string{"policy_strategy"}, "capabilities": []string{"national_strategy"},
			"modalities": []string{"policy_advice", "funding"}, "languages": []string{"en", "fr", "uk"},
			"eligible_countries": []string{"SN"}, "eligible_regions": []string{},
			"budget_usd": 9_999_999_999, "max_engagements": 100, "available_from": "2026-11-01", "available_until": "2031-12-31"}},
	}
	for _, p := range offers {
		r := sn.call("POST", "/api/v1/offers", p.token, p.body)
		require.Equal(t, 201, r.Status, string(r.Body))
		if p.status == "open" {
			r = sn.call("POST", "/api/v1/offers/"+r.json(t)["id"].(string)+"/publish", p.token, nil)
			require.Equal(t, 200, r.Status, string(r.Body))
		}
	}

	// Export through the API, as a coordinator (who sees every need, restricted and draft).
	srcNeeds := exportAll(t, sn, "/api/v1/needs", f.coord.Token)
	srcOffers := exportAll(t, sn, "/api/v1/offers", f.coord.Token)
	require.Len(t, srcNeeds, len(needs))
	require.Len(t, srcOffers, len(offers))
	for _, it := range srcNeeds { // a list item is the whole object
		assert.Equal(t, sn.call("GET", "/api/v1/needs/"+it["id"].(string), f.coord.Token, nil).json(t), it)
	}
	for _, it := range srcOffers {
		assert.Equal(t, sn.call("GET", "/api/v1/offers/"+it["id"].(string), f.coord.Token, nil).json(t), it)
	}

	// A fresh deployment: another database and Redis namespace, with only its first admin.
	dst := newEnv(t)
	dn := dst.node()
	ctx := context.Background()
	desk, err := dn.app.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Restored desk", Type: models.OrgCoordinator})
	require.NoError(t, err)
	_, err = dn.app.Accounts.CreateUser(ctx, nil, service.UserInput{Email: "restore@desk.example", Password: pw, Name: "Restore",
		Role: models.RoleAdmin, OrganizationID: desk.ID})
	require.NoError(t, err)
	admin, _ := dn.login("restore@desk.example", pw)
	adminMe := dn.call("GET", "/api/v1/me", admin, nil).json(t)

	// Organizations: recreated with the same names and types, ids mapped old → new.
	orgMap := map[string]string{}
	mapOrg := func(old string) string {
		if id, ok := orgMap[old]; ok {
			return id
		}
		o := sn.call("GET", "/api/v1/organizations/"+old, f.coord.Token, nil).json(t)
		body := map[string]any{"name": o["name"], "type": o["type"]}
		for _, k := range []string{"country", "iati_ref", "iati_type"} {
			if v, ok := o[k]; ok {
				body[k] = v
			}
		}
		r := dn.call("POST", "/api/v1/organizations", admin, body)
		require.Equal(t, 201, r.Status, string(r.Body))
		orgMap[old] = r.json(t)["id"].(string)
		return orgMap[old]
	}

	// Import, one batch per status (the import's status parameter), rows carrying only the
	// content fields and the mapped organization.
	idMap := map[string]string{}
	importRows := func(kind string, items []map[string]any, fields []string) {
		byStatus := map[string][]map[string]any{}
		var order []string
		for _, it := range items {
			s := it["status"].(string)
			if _, ok := byStatus[s]; !ok {
				order = append(order, s)
			}
			byStatus[s] = append(byStatus[s], it)
		}
		for _, s := range order {
			var rows []any
			for _, it := range byStatus[s] {
				row := map[string]any{"organization_id": mapOrg(it["organization_id"].(string))}
				for _, k := range fields {
					if v, ok := it[k]; ok { // an absent field (an unpublished contact) stays absent
						row[k] = v
					}
				}
				rows = append(rows, row)
			}
			r := dn.call("POST", "/api/v1/import/"+kind+"?status="+s, admin, rows)
			require.Equal(t, 201, r.Status, "%s as %s: %s", kind, s, r.Body)
			res := decodeImport(t, r)
			require.Len(t, res.IDs, len(rows))
			assert.Equal(t, s, res.Status)
			for i, it := range byStatus[s] {
				idMap[it["id"].(string)] = res.IDs[i]
			}
		}
	}
	imported := time.Now().UTC().Add(-time.Second)
	importRows("needs", srcNeeds, needContentFields)
	importRows("offers", srcOffers, offerContentFields)

	// Export again from the new deployment and compare field by field.
	dstNeeds := exportAll(t, dn, "/api/v1/needs", admin)
	dstOffers := exportAll(t, dn, "/api/v1/offers", admin)
	require.Len(t, dstNeeds, len(srcNeeds))
	require.Len(t, dstOffers, len(srcOffers))
	byID := func(items []map[string]any) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, it := range items {
			m[it["id"].(string)] = it
		}
		return m
	}
	compare := func(kind string, srcItems []map[string]any, dstByID map[string]map[string]any, fields []string) {
		for _, s := range srcItems {
			d, ok := dstByID[idMap[s["id"].(string)]]
			require.True(t, ok, "%s %s was restored", kind, s["title"])
			for _, k := range fields {
				assert.True(t, reflect.DeepEqual(s[k], d[k]), "%s %q: %s was %#v, restored %#v", kind, s["title"], k, s[k], d[k])
			}
			assert.Equal(t, orgMap[s["organization_id"].(string)], d["organization_id"], "%s %q: organization", kind, s["title"])
			// What the round trip does not keep (docs/backup.md): ids, authorship, history.
			assert.NotEqual(t, s["id"], d["id"])
			assert.Equal(t, adminMe["id"], d["created_by"], "the importer is the author")
			assert.EqualValues(t, 1, d["version"])
			created, err := time.Parse(time.RFC3339Nano, d["created_at"].(string))
			require.NoError(t, err)
			assert.False(t, created.Before(imported), "created_at is the import's time")
		}
	}
	compare("need", srcNeeds, byID(dstNeeds), needContentFields)
	compare("offer", srcOffers, byID(dstOffers), offerContentFields)
	for _, d := range dstOffers {
		assert.EqualValues(t, 0, d["engagements_used"])
		assert.EqualValues(t, 0, d["budget_committed_usd"])
	}
	// Every visible string survived byte for byte, non-Latin scripts and line breaks included.
	for _, p := range needs {
		found := false
		for _, d := range dstNeeds {
			found = found || (d["title"] == p.body["title"] && d["description"] == p.body["description"])
		}
		assert.True(t, found, "need %q", p.body["title"])
	}

	// Statuses: the import sets the status its ?status= names, and the store holds it.
	store := storetest.OpenDB(t, dst.db)
	storedNeeds, err := store.ListNeeds(ctx)
	require.NoError(t, err)
	storedOffers, err := store.ListOffers(ctx)
	require.NoError(t, err)
	stored := map[string]string{}
	for _, n := range storedNeeds {
		stored[n.ID] = string(n.Status)
	}
	for _, o := range storedOffers {
		stored[o.ID] = string(o.Status)
	}
	for _, s := range append(append([]map[string]any{}, srcNeeds...), srcOffers...) {
		assert.Equal(t, s["status"], stored[idMap[s["id"].(string)]], "%q: stored status", s["title"])
	}

	// What the API serves, and so what matching sees, must be the same.
	t.Run("served statuses and rankings", func(t *testing.T) {
		servedStatusesAndRankings(t, sn, dn, f.coord.Token, admin, srcNeeds, srcOffers, dstNeeds, dstOffers, idMap)
	})
}

// servedStatusesAndRankings checks that the restored deployment serves the statuses the
// source had and that each open need ranks the same offers with the same scores in both.
func servedStatusesAndRankings(t *testing.T, sn, dn *node, srcToken, dstToken string,
	srcNeeds, srcOffers, dstNeeds, dstOffers []map[string]any, idMap map[string]string) {
	served := map[string]any{}
	for _, d := range append(append([]map[string]any{}, dstNeeds...), dstOffers...) {
		served[d["id"].(string)] = d["status"]
	}
	for _, s := range append(append([]map[string]any{}, srcNeeds...), srcOffers...) {
		assert.Equal(t, s["status"], served[idMap[s["id"].(string)]], "%q: served status", s["title"])
	}
	for _, s := range srcNeeds {
		if s["status"] != "open" {
			continue
		}
		sm := sn.call("GET", "/api/v1/needs/"+s["id"].(string)+"/matches", srcToken, nil)
		dm := dn.call("GET", "/api/v1/needs/"+idMap[s["id"].(string)]+"/matches", dstToken, nil)
		require.Equal(t, 200, sm.Status, string(sm.Body))
		require.Equal(t, 200, dm.Status, string(dm.Body))
		type ranked struct {
			Offer string
			Score float64
		}
		var want, got []ranked
		for _, it := range sm.json(t)["items"].([]any) {
			m := it.(map[string]any)
			want = append(want, ranked{idMap[m["offer_id"].(string)], m["score"].(float64)})
		}
		for _, it := range dm.json(t)["items"].([]any) {
			m := it.(map[string]any)
			got = append(got, ranked{m["offer_id"].(string), m["score"].(float64)})
		}
		assert.NotEmpty(t, want, "need %q has matches", s["title"])
		assert.Equal(t, want, got, "need %q ranks the same", s["title"])
	}
}
