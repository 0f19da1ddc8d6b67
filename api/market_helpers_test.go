package api

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// needBody is a valid need for Senegal; coordinators post it on behalf of the SN ministry.
func needBody(f *fixture, actor string, title string) map[string]any {
	b := map[string]any{
		"title": title, "description": "Set up a national CSIRT with incident coordination services.",
		"country": "SN", "theme": "incident_management", "capability": "cert_setup",
		"modalities": []string{"expert_deployment", "training"}, "languages": []string{"fr"},
		"budget_usd": 400000, "start_by": "2027-03-01", "duration_months": 18, "priority": "high",
		"maturity": map[string]any{"framework": "sim3", "current": 1, "target": 3}, "visibility": "public",
	}
	if actor == "coordinator" || actor == "admin" {
		b["organization_id"] = f.snOrg
	}
	return b
}

// offerBody is a valid offer open to Africa.
func offerBody(title string) map[string]any {
	return map[string]any{
		"title": title, "description": "Francophone CSIRT establishment programme.",
		"themes": []string{"incident_management"}, "capabilities": []string{"cert_setup", "cert_maturity"},
		"modalities": []string{"expert_deployment", "training", "mentoring"}, "languages": []string{"fr", "en"},
		"eligible_countries": []string{}, "eligible_regions": []string{"002"},
		"budget_usd": 2000000, "max_engagements": 4, "available_from": "2027-01-01", "available_until": "2028-12-31",
	}
}

// newNeed creates a need owned by the Senegal ministry with the visibility, and moves it to
// status (draft, submitted, open, withdrawn) through the API as its owner and a coordinator.
func (n *node) newNeed(t *testing.T, status, visibility string) string {
	t.Helper()
	f := &n.env.fx
	b := needBody(f, "ministry", fmt.Sprintf("Need %s %s", status, visibility))
	b["visibility"] = visibility
	r := n.call("POST", "/api/v1/needs", f.ministry.Token, b)
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	step := func(token, action string, body any) {
		r := n.call("POST", "/api/v1/needs/"+id+"/"+action, token, body)
		require.Equal(t, 200, r.Status, "%s: %s", action, r.Body)
	}
	switch status {
	case "draft":
	case "submitted":
		step(f.ministry.Token, "submit", nil)
	case "open":
		step(f.ministry.Token, "submit", nil)
		step(f.coord.Token, "approve", nil)
	case "withdrawn":
		step(f.ministry.Token, "withdraw", map[string]string{"reason": "no longer needed"})
	default:
		t.Fatalf("newNeed: status %s", status)
	}
	return id
}

// newOffer creates an offer of the fixture's donor, published when status is open.
func (n *node) newOffer(t *testing.T, status string) string {
	t.Helper()
	f := &n.env.fx
	r := n.call("POST", "/api/v1/offers", f.donor.Token, offerBody("Offer "+status))
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	if status == "open" {
		r = n.call("POST", "/api/v1/offers/"+id+"/publish", f.donor.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
	}
	return id
}

// newEngagement creates an open need (Senegal ministry) and an open offer (the donor), and a
// proposal from the ministry; agreed when asked. It returns the engagement id.
func (n *node) newEngagement(t *testing.T, agreed bool) string {
	t.Helper()
	f := &n.env.fx
	need := n.newNeed(t, "open", "public")
	offer := n.newOffer(t, "open")
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer, "message": "We would like to work with you"})
	require.Equal(t, 201, r.Status, string(r.Body))
	id := r.json(t)["id"].(string)
	if agreed {
		r = n.call("POST", "/api/v1/engagements/"+id+"/accept", f.donor.Token, nil)
		require.Equal(t, 200, r.Status, string(r.Body))
	}
	return id
}

// newProject starts a project from a fresh agreed engagement, as the donor.
func (n *node) newProject(t *testing.T) string {
	t.Helper()
	f := &n.env.fx
	eng := n.newEngagement(t, true)
	r := n.call("POST", "/api/v1/projects", f.donor.Token, map[string]any{"engagement_id": eng, "title": "National CSIRT establishment",
		"budget_usd": 380000, "start_date": "2027-03-01", "end_date": "2028-08-31"})
	require.Equal(t, 201, r.Status, string(r.Body))
	return r.json(t)["id"].(string)
}
