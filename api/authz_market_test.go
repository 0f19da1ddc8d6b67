package api

import "github.com/stretchr/testify/require"

// marketAuthzRows extends the authorization table with needs, offers and countries. Rows that
// change an object create a fresh one per actor, so each actor meets the object in the state
// the row names.
func marketAuthzRows() []authzCase {
	needPath := func(status, vis, suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string { return "/api/v1/needs/" + w.n.newNeed(w.t, status, vis) + suffix }
	}
	offerPath := func(status, suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string { return "/api/v1/offers/" + w.n.newOffer(w.t, status) + suffix }
	}
	static := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	engPath := func(agreed bool, suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string { return "/api/v1/engagements/" + w.n.newEngagement(w.t, agreed) + suffix }
	}
	prjPath := func(suffix string) func(w *authzWorld) string {
		return func(w *authzWorld) string { return "/api/v1/projects/" + w.n.newProject(w.t) + suffix }
	}
	// Signed-in actors other than the owner ministry and the curators.
	others := func(status int) map[string]int {
		return map[string]int{"ministry2": status, "donor": status, "donor2": status}
	}
	return []authzCase{
		// Needs.
		{name: "create need", method: "POST", route: "/api/v1/needs", path: static("/api/v1/needs"),
			body: func(w *authzWorld, actor string) any { return needBody(w.f, actor, w.unique("Need")) },
			want: with(curators(201, 403), map[string]int{"ministry": 201})},
		{name: "list needs", method: "GET", route: "/api/v1/needs", path: static("/api/v1/needs"), want: all(200)},
		{name: "get public open need", method: "GET", route: "/api/v1/needs/:id", path: needPath("open", "public", ""), want: all(200)},
		{name: "get donors-tier need", method: "GET", route: "/api/v1/needs/:id", path: needPath("open", "donors", ""),
			want: with(all(200), map[string]int{"ministry2": 404})},
		{name: "get restricted need", method: "GET", route: "/api/v1/needs/:id", path: needPath("open", "restricted", ""),
			want: with(curators(200, 404), map[string]int{"ministry": 200})},
		{name: "get draft need", method: "GET", route: "/api/v1/needs/:id", path: needPath("draft", "public", ""),
			want: with(curators(200, 404), map[string]int{"ministry": 200})},
		{name: "edit draft need", method: "PATCH", route: "/api/v1/needs/:id", path: needPath("draft", "public", ""),
			body: func(*authzWorld, string) any { return map[string]any{"title": "Edited title"} },
			want: with(curators(200, 404), map[string]int{"ministry": 200})},
		{name: "edit open need", method: "PATCH", route: "/api/v1/needs/:id", path: needPath("open", "public", ""),
			body: func(*authzWorld, string) any { return map[string]any{"budget_usd": 500000} },
			want: with(curators(200, 403), map[string]int{"ministry": 409})},
		{name: "submit need", method: "POST", route: "/api/v1/needs/:id/submit", path: needPath("draft", "public", "/submit"),
			want: with(curators(403, 404), map[string]int{"ministry": 200})},
		{name: "get submitted need", method: "GET", route: "/api/v1/needs/:id", path: needPath("submitted", "public", ""),
			want: with(curators(200, 404), map[string]int{"ministry": 200})},
		// A need awaiting approval is its owner's and the coordinators' business: others get 404.
		{name: "approve need", method: "POST", route: "/api/v1/needs/:id/approve", path: needPath("submitted", "public", "/approve"),
			want: with(curators(200, 404), map[string]int{"ministry": 403})},
		{name: "approve restricted need", method: "POST", route: "/api/v1/needs/:id/approve", path: needPath("submitted", "restricted", "/approve"),
			want: with(with(curators(200, 404), others(404)), map[string]int{"ministry": 403})},
		{name: "reject need", method: "POST", route: "/api/v1/needs/:id/reject", path: needPath("submitted", "public", "/reject"),
			body: func(*authzWorld, string) any {
				return map[string]string{"reason": "Please state the current SIM3 level"}
			},
			want: with(curators(200, 404), map[string]int{"ministry": 403})},
		{name: "withdraw need", method: "POST", route: "/api/v1/needs/:id/withdraw", path: needPath("open", "public", "/withdraw"),
			want: with(curators(403, 403), map[string]int{"ministry": 200})},

		// Offers.
		{name: "create offer", method: "POST", route: "/api/v1/offers", path: static("/api/v1/offers"),
			body: func(w *authzWorld, _ string) any { return offerBody(w.unique("Offer")) },
			want: with(all(403), map[string]int{"donor": 201, "donor2": 201})},
		{name: "list offers", method: "GET", route: "/api/v1/offers", path: static("/api/v1/offers"), want: all(200)},
		{name: "get open offer", method: "GET", route: "/api/v1/offers/:id", path: offerPath("open", ""), want: all(200)},
		{name: "get draft offer", method: "GET", route: "/api/v1/offers/:id", path: offerPath("draft", ""),
			want: with(curators(200, 404), map[string]int{"donor": 200})},
		{name: "edit open offer", method: "PATCH", route: "/api/v1/offers/:id", path: offerPath("open", ""),
			body: func(*authzWorld, string) any { return map[string]any{"budget_usd": 2500000} },
			want: with(curators(200, 403), map[string]int{"donor": 200})},
		{name: "publish offer", method: "POST", route: "/api/v1/offers/:id/publish", path: offerPath("draft", "/publish"),
			want: with(curators(403, 404), map[string]int{"donor": 200})},
		{name: "close offer", method: "POST", route: "/api/v1/offers/:id/close", path: offerPath("open", "/close"),
			want: with(curators(200, 403), map[string]int{"donor": 200})},

		// Matching.
		{name: "matches of public need", method: "GET", route: "/api/v1/needs/:id/matches", path: needPath("open", "public", "/matches"), want: all(200)},
		{name: "matches of restricted need", method: "GET", route: "/api/v1/needs/:id/matches", path: needPath("open", "restricted", "/matches"),
			want: with(curators(200, 404), map[string]int{"ministry": 200})},
		{name: "matches of open offer", method: "GET", route: "/api/v1/offers/:id/matches", path: offerPath("open", "/matches"), want: all(200)},
		{name: "matches of draft offer", method: "GET", route: "/api/v1/offers/:id/matches", path: offerPath("draft", "/matches"),
			want: with(curators(200, 404), map[string]int{"donor": 200})},
		{name: "read weights", method: "GET", route: "/api/v1/matching/weights", path: static("/api/v1/matching/weights"), want: all(200)},
		{name: "set weights", method: "PUT", route: "/api/v1/matching/weights", path: static("/api/v1/matching/weights"),
			body: func(w *authzWorld, _ string) any {
				return w.n.call("GET", "/api/v1/matching/weights", w.f.coord.Token, nil).json(w.t)
			}, want: curators(200, 403)},
		{name: "allocation", method: "GET", route: "/api/v1/matching/allocation", path: static("/api/v1/matching/allocation"), want: curators(200, 403)},

		// Engagements and projects.
		{name: "propose engagement", method: "POST", route: "/api/v1/engagements", path: static("/api/v1/engagements"),
			body: func(w *authzWorld, _ string) any {
				return map[string]any{"need_id": w.n.newNeed(w.t, "open", "public"), "offer_id": w.n.newOffer(w.t, "open"), "message": "Let us talk"}
			}, want: with(all(403), map[string]int{"ministry": 201, "donor": 201})},
		{name: "list engagements", method: "GET", route: "/api/v1/engagements", path: static("/api/v1/engagements"), want: all(200)},
		{name: "get engagement", method: "GET", route: "/api/v1/engagements/:id", path: engPath(false, ""),
			want: with(curators(200, 404), map[string]int{"ministry": 200, "donor": 200})},
		{name: "accept engagement", method: "POST", route: "/api/v1/engagements/:id/accept", path: engPath(false, "/accept"),
			want: with(curators(403, 404), map[string]int{"ministry": 403, "donor": 200})},
		{name: "decline engagement", method: "POST", route: "/api/v1/engagements/:id/decline", path: engPath(false, "/decline"),
			want: with(curators(403, 404), map[string]int{"ministry": 403, "donor": 200})},
		{name: "withdraw engagement", method: "POST", route: "/api/v1/engagements/:id/withdraw", path: engPath(false, "/withdraw"),
			want: with(curators(403, 404), map[string]int{"ministry": 200, "donor": 403})},
		{name: "cancel engagement", method: "POST", route: "/api/v1/engagements/:id/cancel", path: engPath(true, "/cancel"),
			body: func(*authzWorld, string) any {
				return map[string]string{"reason": "The experts are no longer available"}
			},
			want: with(curators(200, 404), map[string]int{"ministry": 200, "donor": 200})},
		{name: "message engagement", method: "POST", route: "/api/v1/engagements/:id/messages", path: engPath(false, "/messages"),
			body: func(*authzWorld, string) any { return map[string]string{"body": "When can the experts travel?"} },
			want: with(curators(201, 404), map[string]int{"ministry": 201, "donor": 201})},
		{name: "create project", method: "POST", route: "/api/v1/projects", path: static("/api/v1/projects"),
			body: func(w *authzWorld, _ string) any {
				return map[string]any{"engagement_id": w.n.newEngagement(w.t, true), "title": "CSIRT project", "budget_usd": 300000,
					"start_date": "2027-03-01", "end_date": "2028-03-01"}
			}, want: with(curators(201, 404), map[string]int{"ministry": 403, "donor": 201})},
		{name: "list projects", method: "GET", route: "/api/v1/projects", path: static("/api/v1/projects"), want: all(200)},
		{name: "get project", method: "GET", route: "/api/v1/projects/:id", path: prjPath(""), want: all(200)},
		{name: "edit project", method: "PATCH", route: "/api/v1/projects/:id", path: prjPath(""),
			body: func(*authzWorld, string) any { return map[string]any{"description": "Updated plan"} },
			want: with(curators(200, 403), map[string]int{"donor": 200})},
		{name: "project status", method: "POST", route: "/api/v1/projects/:id/status", path: prjPath("/status"),
			body: func(*authzWorld, string) any { return map[string]any{"status": 2} },
			want: with(curators(200, 403), map[string]int{"donor": 200})},
		{name: "project transaction", method: "POST", route: "/api/v1/projects/:id/transactions", path: prjPath("/transactions"),
			body: func(*authzWorld, string) any {
				return map[string]any{"type": "commitment", "amount_usd": 100000, "date": "2025-03-15"}
			},
			want: with(curators(201, 403), map[string]int{"donor": 201})},
		{name: "funding report", method: "GET", route: "/api/v1/reports/funding", path: static("/api/v1/reports/funding?group_by=theme"), want: all(200)},
		{name: "overlaps report", method: "GET", route: "/api/v1/reports/overlaps", path: static("/api/v1/reports/overlaps"), want: all(200)},
		{name: "IATI export", method: "GET", route: "/api/v1/export/iati.xml", path: func(w *authzWorld) string { w.n.newProject(w.t); return "/api/v1/export/iati.xml" },
			want: all(200)},

		// Notifications and webhooks.
		{name: "list notifications", method: "GET", route: "/api/v1/notifications", path: static("/api/v1/notifications"), want: all(200)},
		{name: "read all notifications", method: "POST", route: "/api/v1/notifications/read-all", path: static("/api/v1/notifications/read-all"), want: all(200)},
		{name: "read a coordinators' notification", method: "POST", route: "/api/v1/notifications/:id/read",
			path: func(w *authzWorld) string { return "/api/v1/notifications/" + w.coordinatorNotification() + "/read" },
			want: curators(200, 404)},
		{name: "get webhook", method: "GET", route: "/api/v1/organizations/:id/webhook",
			path: func(w *authzWorld) string {
				w.setWebhook()
				return "/api/v1/organizations/" + w.f.donorOrg + "/webhook"
			},
			want: with(curators(200, 403), map[string]int{"donor": 200})},
		{name: "get webhook of unknown organization", method: "GET", route: "/api/v1/organizations/:id/webhook",
			path: static("/api/v1/organizations/nosuchorg/webhook"), want: all(404)},
		{name: "set webhook", method: "PUT", route: "/api/v1/organizations/:id/webhook",
			path: func(w *authzWorld) string { return "/api/v1/organizations/" + w.f.donorOrg + "/webhook" },
			body: func(*authzWorld, string) any { return webhookBody() },
			want: with(curators(200, 403), map[string]int{"donor": 200})},
		{name: "delete webhook", method: "DELETE", route: "/api/v1/organizations/:id/webhook",
			path: func(w *authzWorld) string {
				w.setWebhook()
				return "/api/v1/organizations/" + w.f.donorOrg + "/webhook"
			},
			want: with(curators(204, 403), map[string]int{"donor": 204})},

		// Countries.
		{name: "list countries", method: "GET", route: "/api/v1/countries", path: static("/api/v1/countries"), want: all(200)},
		{name: "get country", method: "GET", route: "/api/v1/countries/:iso", path: static("/api/v1/countries/SN"), want: all(200)},
		{name: "get unknown country", method: "GET", route: "/api/v1/countries/:iso", path: static("/api/v1/countries/XX"), want: all(404)},
		{name: "update readiness", method: "PATCH", route: "/api/v1/countries/:iso/readiness", path: static("/api/v1/countries/SN/readiness"),
			body: func(*authzWorld, string) any { return map[string]any{"national_strategy": true} },
			want: with(curators(200, 403), map[string]int{"ministry": 200})},
	}
}

// webhookBody is a valid webhook setting. Its target refuses connections, so the deliveries
// the table's other rows cause fail fast.
func webhookBody() map[string]string {
	return map[string]string{"url": "http://127.0.0.1:9/capmatch", "secret": "authz-table-webhook-secret"}
}

// setWebhook gives the donor organization a webhook, as an admin.
func (w *authzWorld) setWebhook() {
	r := w.n.call("PUT", "/api/v1/organizations/"+w.f.donorOrg+"/webhook", w.f.admin.Token, webhookBody())
	require.Equal(w.t, 200, r.Status, string(r.Body))
}

// coordinatorNotification submits a need, which notifies the coordinators, and returns that
// notification's id.
func (w *authzWorld) coordinatorNotification() string {
	need := w.n.newNeed(w.t, "submitted", "public")
	it, ok := w.n.feed(w.t, w.f.coord.Token, "?limit=200").find("submitted", need)
	require.True(w.t, ok)
	return it.ID
}
