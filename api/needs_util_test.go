package api

import (
	"encoding/json"
	"testing"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/require"
)

// needInput turns a request body into the service's input, as the handler would.
func needInput(t *testing.T, body map[string]any) service.NeedInput {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	var in service.NeedInput
	require.NoError(t, json.Unmarshal(raw, &in))
	return in
}

// actorOf is the actor a fixture account's token speaks for.
func actorOf(a account, org, country string) *models.Actor {
	return &models.Actor{UserID: a.ID, Role: a.Role, OrgID: org, Country: country}
}
