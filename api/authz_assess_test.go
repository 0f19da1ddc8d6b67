package api

import "github.com/stretchr/testify/require"

// assessAuthzRows extends the authorization table with self-assessments (the country's
// ministries and coordinators only: 403 for anyone else, decided by the country before any
// assessment is looked up), country sources and the readiness history.
func assessAuthzRows() []authzCase {
	static := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	// country: the SN ministry and curators get ok, every other signed-in actor other.
	country := func(ok, other int) map[string]int {
		return with(curators(ok, other), map[string]int{"ministry": ok})
	}
	assessment := func(suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string {
			r := w.n.call("POST", "/api/v1/countries/SN/assessments", w.f.ministry.Token, assessmentBody(noCERT))
			require.Equal(w.t, 201, r.Status, string(r.Body))
			return "/api/v1/countries/SN/assessments/" + r.json(w.t)["id"].(string) + suffix
		}
	}
	sourceBody := func(w *authzWorld, _ string) any {
		return map[string]any{"kind": "cert_website", "title": w.unique("CERT"), "url": "https://cert.example.sn/", "language": "fr"}
	}
	source := func(w *authzWorld) string {
		r := w.n.call("POST", "/api/v1/countries/SN/sources", w.f.ministry.Token, sourceBody(w, "ministry"))
		require.Equal(w.t, 201, r.Status, string(r.Body))
		return "/api/v1/countries/SN/sources/" + r.json(w.t)["id"].(string)
	}
	return []authzCase{
		{name: "questionnaire", method: "GET", route: "/api/v1/questionnaire", path: static("/api/v1/questionnaire?lang=fr"),
			want: with(all(200), map[string]int{"anon": 200})},
		{name: "list assessments", method: "GET", route: "/api/v1/countries/:iso/assessments", path: static("/api/v1/countries/SN/assessments"),
			want: country(200, 403)},
		{name: "submit assessment", method: "POST", route: "/api/v1/countries/:iso/assessments", path: static("/api/v1/countries/SN/assessments"),
			body: func(w *authzWorld, actor string) any {
				b := assessmentBody(noCERT)
				if actor == "coordinator" || actor == "admin" {
					b["organization_id"] = w.f.snOrg
				}
				return b
			}, want: country(201, 403)},
		{name: "get assessment", method: "GET", route: "/api/v1/countries/:iso/assessments/:id", path: assessment(""), want: country(200, 403)},
		{name: "get unknown assessment", method: "GET", route: "/api/v1/countries/:iso/assessments/:id",
			path: static("/api/v1/countries/SN/assessments/nosuchassessment"), want: country(404, 403)},
		{name: "propose from assessment", method: "POST", route: "/api/v1/countries/:iso/assessments/:id/proposals", path: assessment("/proposals"),
			want: country(200, 403)},
		{name: "readiness history", method: "GET", route: "/api/v1/countries/:iso/readiness/history",
			path: static("/api/v1/countries/SN/readiness/history"), want: all(200)},
		{name: "readiness history of an unknown country", method: "GET", route: "/api/v1/countries/:iso/readiness/history",
			path: static("/api/v1/countries/XX/readiness/history"), want: all(404)},
		{name: "add source", method: "POST", route: "/api/v1/countries/:iso/sources", path: static("/api/v1/countries/SN/sources"),
			body: sourceBody, want: country(201, 403)},
		{name: "edit source", method: "PATCH", route: "/api/v1/countries/:iso/sources/:id", path: source,
			body: func(*authzWorld, string) any { return map[string]any{"date": "2024-05-01"} }, want: country(200, 403)},
		{name: "delete source", method: "DELETE", route: "/api/v1/countries/:iso/sources/:id", path: source, want: country(204, 403)},
	}
}
