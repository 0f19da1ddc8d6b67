package api

import (
	"sync"

	"github.com/stretchr/testify/require"
)

// pocWorld lazily gives the authorization table a Point of Contact of Senegal (so that checks
// have someone to reach) and a running check.
type pocWorld struct {
	once       sync.Once
	poc, check string
}

func (w *authzWorld) pocs() *pocWorld {
	pw := &w.poc
	pw.once.Do(func() {
		pw.poc = w.n.newPoC(w.t, w.f.ministry.Token, "SN", pocBody("technical", "Awa Ndiaye", "awa.ndiaye@cert.sn.example"))
		r := w.n.call("POST", "/api/v1/poc-checks", w.f.coord.Token, map[string]any{"countries": []string{"SN"}})
		require.Equal(w.t, 201, r.Status, string(r.Body))
		pw.check = r.json(w.t)["id"].(string)
	})
	return pw
}

// pocAuthzRows extends the authorization table with the Points of Contact (personal data: the
// state's ministries and coordinators; everyone else 404, anonymous callers 401) and the
// communication checks (coordinators; others 403).
func pocAuthzRows() []authzCase {
	static := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	// The contacts' circle: the owner ministry (of Senegal) and curators; others do not learn
	// they exist.
	circle := func(ok int) map[string]int {
		return with(curators(ok, 404), map[string]int{"ministry": ok})
	}
	// A contact per actor to delete (a state lists at most ten: the ones left by actors who may
	// not delete them, with the others, stay within it).
	freshPoC := func(suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string {
			id := w.n.newPoC(w.t, w.f.ministry.Token, "SN", pocBody("diplomatic", w.unique("Deputy"), w.unique("deputy")+"@mfa.sn.example"))
			return "/api/v1/countries/SN/pocs/" + id + suffix
		}
	}
	check := func(suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string { return "/api/v1/poc-checks/" + w.pocs().check + suffix }
	}
	return []authzCase{
		{name: "list pocs", method: "GET", route: "/api/v1/countries/:iso/pocs",
			path: func(w *authzWorld) string { w.pocs(); return "/api/v1/countries/SN/pocs" }, want: circle(200)},
		{name: "list pocs of unknown country", method: "GET", route: "/api/v1/countries/:iso/pocs", path: static("/api/v1/countries/XX/pocs"), want: all(404)},
		{name: "get poc", method: "GET", route: "/api/v1/countries/:iso/pocs/:id",
			path: func(w *authzWorld) string { return "/api/v1/countries/SN/pocs/" + w.pocs().poc }, want: circle(200)},
		{name: "get missing poc", method: "GET", route: "/api/v1/countries/:iso/pocs/:id", path: static("/api/v1/countries/SN/pocs/nosuchpoc"), want: all(404)},
		{name: "create poc", method: "POST", route: "/api/v1/countries/:iso/pocs", path: static("/api/v1/countries/SN/pocs"),
			body: func(w *authzWorld, _ string) any {
				return pocBody("technical", w.unique("Analyst"), w.unique("analyst")+"@cert.sn.example")
			}, want: circle(201)},
		{name: "edit poc", method: "PATCH", route: "/api/v1/countries/:iso/pocs/:id",
			path: func(w *authzWorld) string { return "/api/v1/countries/SN/pocs/" + w.pocs().poc },
			body: func(*authzWorld, string) any { return map[string]any{"role": "Deputy head"} }, want: circle(200)},
		{name: "delete poc", method: "DELETE", route: "/api/v1/countries/:iso/pocs/:id", path: freshPoC(""), want: circle(204)},
		{name: "country checks", method: "GET", route: "/api/v1/countries/:iso/poc-checks", path: static("/api/v1/countries/SN/poc-checks"), want: all(200)},
		{name: "run check", method: "POST", route: "/api/v1/poc-checks",
			path: func(w *authzWorld) string { w.pocs(); return "/api/v1/poc-checks" },
			body: func(*authzWorld, string) any { return map[string]any{"countries": []string{"SN"}} }, want: curators(201, 403)},
		{name: "list checks", method: "GET", route: "/api/v1/poc-checks", path: static("/api/v1/poc-checks"), want: curators(200, 403)},
		{name: "get check", method: "GET", route: "/api/v1/poc-checks/:id", path: check(""), want: curators(200, 403)},
		{name: "close check", method: "POST", route: "/api/v1/poc-checks/:id/close", path: check("/close"), want: curators(200, 403)},
		{name: "acknowledge with a forged token", method: "POST", route: "/api/v1/poc-acks", path: static("/api/v1/poc-acks"),
			body: func(w *authzWorld, _ string) any {
				return map[string]string{"token": w.pocs().check + "." + w.pocs().poc + ".4102444800.AAAAAAAAAAAAAAAAAAAAAAAA"}
			}, want: with(all(404), map[string]int{"anon": 404})},
		{name: "outbox", method: "GET", route: "/api/v1/outbox", path: static("/api/v1/outbox"), want: curators(200, 403)},
	}
}
