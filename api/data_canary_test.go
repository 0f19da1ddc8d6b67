package api

import "github.com/capmatch/capmatch/service"

// dataAuthzRows are the authorization table's rows for open data (issue 18.2): the files and
// the public read API answer everyone, signed in or not, with the same anonymous view.
func dataAuthzRows() []authzCase {
	static := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	everyone := with(all(200), map[string]int{"anon": 200})
	var rows []authzCase
	for _, ds := range service.Datasets {
		for _, f := range []string{"csv", "json"} {
			p := "/open-data/" + ds.Name + "." + f
			rows = append(rows, authzCase{name: "open data " + ds.Name + "." + f, method: "GET", route: p, path: static(p), want: everyone})
		}
	}
	return append(rows,
		authzCase{name: "import IATI activities", method: "POST", route: "/api/v1/import/iati", path: static("/api/v1/import/iati"),
			body: func(w *authzWorld, _ string) any {
				return rawBody{contentType: "application/xml", data: []byte(`<iati-activities version="2.03"><iati-activity>` +
					`<iati-identifier>` + w.unique("XM-AUTHZ") + `</iati-identifier><title><narrative>National CSIRT</narrative></title>` +
					`<recipient-country code="SN"/><sector code="22040"/></iati-activity></iati-activities>`)}
			}, want: with(curators(201, 403), map[string]int{"donor": 201, "donor2": 201})},
		authzCase{name: "country external activities", method: "GET", route: "/api/v1/countries/:iso/external-activities",
			path: static("/api/v1/countries/SN/external-activities"), want: all(200)},
		authzCase{name: "unknown country external activities", method: "GET", route: "/api/v1/countries/:iso/external-activities",
			path: static("/api/v1/countries/XX/external-activities"), want: all(404)},
		authzCase{name: "public needs", method: "GET", route: "/api/v1/public/needs", path: static("/api/v1/public/needs"), want: everyone},
		authzCase{name: "public offers", method: "GET", route: "/api/v1/public/offers", path: static("/api/v1/public/offers"), want: everyone},
		authzCase{name: "public countries", method: "GET", route: "/api/v1/public/countries", path: static("/api/v1/public/countries"), want: everyone},
	)
}

// dataCanaryRoutes are the canary test's probes of the routes of issue 18: open data must never
// carry a canary (every canary is hidden from anonymous visitors, and open data is their view
// whoever asks).
func dataCanaryRoutes() map[string]canaryRoute {
	out := map[string]canaryRoute{
		"GET /api/v1/public/needs": probe("/api/v1/public/needs?limit=100", "/api/v1/public/needs?country=SN&limit=100",
			"/api/v1/public/needs?q=canary&limit=100", "/api/v1/public/needs?status=submitted&limit=100",
			"/api/v1/public/needs?status=draft&limit=100", "/api/v1/public/needs?status=withdrawn&limit=100",
			"/api/v1/public/needs?status=in_progress&limit=100", "/api/v1/public/needs?capability=cert_setup&sort=priority&limit=100"),
		"GET /api/v1/public/offers": probe("/api/v1/public/offers?limit=100", "/api/v1/public/offers?status=draft&limit=100",
			"/api/v1/public/offers?q=canary&limit=100", "/api/v1/public/offers?country=SN&limit=100"),
		"GET /api/v1/public/countries": probe("/api/v1/public/countries"),
		"GET /open-data":               probe("/open-data"),
		"POST /api/v1/import/iati": {skip: "a write: it answers the summary of the file it read; what it stored is read back by " +
			"GET /api/v1/countries/:iso/external-activities (activities published to IATI, which every signed-in user sees)"},
		"GET /api/v1/countries/:iso/external-activities": probe("/api/v1/countries/SN/external-activities",
			"/api/v1/countries/FJ/external-activities"),
	}
	for _, ds := range service.Datasets {
		paths := []string{"/open-data/" + ds.Name + ".csv", "/open-data/" + ds.Name + ".json"}
		if ds.Name == "funding" {
			paths = append(paths, "/open-data/funding.csv?group_by=theme", "/open-data/funding.json?group_by=capability")
		}
		out["GET /open-data/"+ds.Name+".csv"] = probe(paths[0])
		out["GET /open-data/"+ds.Name+".json"] = probe(paths[1:]...)
	}
	return out
}
