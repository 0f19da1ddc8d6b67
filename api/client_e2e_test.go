package api

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/capmatch/capmatch/api/client"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appDoer serves a generated client's requests with a node's server, through the harness's
// contract check.
type appDoer struct {
	t *testing.T
	n *node
}

func (d appDoer) Do(req *http.Request) (*http.Response, error) {
	hr, _ := d.n.roundTrip(d.t, req)
	return hr, nil
}

// typedClient is the generated client (api/client) talking to the node, signed in with token
// when one is given.
func typedClient(t *testing.T, n *node, token string) *client.ClientWithResponses {
	t.Helper()
	opts := []client.ClientOption{client.WithHTTPClient(appDoer{t, n})}
	if token != "" {
		opts = append(opts, client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	}
	c, err := client.NewClientWithResponses("http://capmatch.test", opts...)
	require.NoError(t, err)
	return c
}

// TestGeneratedClientEndToEnd: the Go client oapi-codegen generates from openapi.yaml works
// against the server: a ministry signs in, posts a need, submits it, a coordinator approves
// it, a donor posts and publishes an offer, and the ministry reads the need's matches, every
// answer decoded into the document's types; an unknown need comes back as a typed problem.
func TestGeneratedClientEndToEnd(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := context.Background()
	signIn := func(a account) *client.ClientWithResponses {
		r, err := typedClient(t, n, "").LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: openapi_types.Email(a.Email), Password: a.Password})
		require.NoError(t, err)
		require.NotNil(t, r.JSON200, string(r.Body))
		assert.Equal(t, "Bearer", r.JSON200.TokenType)
		assert.Positive(t, r.JSON200.ExpiresIn)
		return typedClient(t, n, r.JSON200.AccessToken)
	}
	ministry, coord, donor := signIn(f.ministry), signIn(f.coord), signIn(f.donor)

	desc := "Set up a national CSIRT with incident coordination services."
	date := func(s string) openapi_types.Date {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return openapi_types.Date{Time: d}
	}
	created, err := ministry.CreateNeedWithResponse(ctx, client.NeedInput{Title: "Establish a national CSIRT", Description: &desc,
		Theme: client.IncidentManagement, Capability: client.CapabilityCertSetup,
		Modalities: []client.Modality{client.ModalityExpertDeployment, client.ModalityTraining}, Languages: []client.LanguageCode{"fr"},
		BudgetUsd: 400000, StartBy: date("2027-03-01"), DurationMonths: 18, Priority: client.PriorityHigh})
	require.NoError(t, err)
	require.NotNil(t, created.JSON201, string(created.Body))
	need := created.JSON201
	assert.Equal(t, client.NeedStatusDraft, need.Status)
	assert.Equal(t, "SN", need.Country, "a ministry's need is for its country")

	sub, err := ministry.SubmitNeedWithResponse(ctx, need.Id, client.Reason{})
	require.NoError(t, err)
	require.NotNil(t, sub.JSON200, string(sub.Body))
	app, err := coord.ApproveNeedWithResponse(ctx, need.Id, client.Reason{})
	require.NoError(t, err)
	require.NotNil(t, app.JSON200, string(app.Body))
	assert.Equal(t, client.NeedStatusOpen, app.JSON200.Status)

	caps := []client.Capability{client.CapabilityCertSetup, client.CapabilityCertMaturity}
	regions := []client.RegionCode{"002"}
	off, err := donor.CreateOfferWithResponse(ctx, client.OfferInput{Title: "Francophone CSIRT establishment programme",
		Themes: []client.Theme{client.IncidentManagement}, Capabilities: &caps,
		Modalities: []client.Modality{client.ModalityExpertDeployment, client.ModalityTraining, client.ModalityMentoring}, Languages: []client.LanguageCode{"fr", "en"},
		EligibleRegions: &regions, BudgetUsd: 2000000, MaxEngagements: 4, AvailableFrom: date("2027-01-01"), AvailableUntil: date("2028-12-31")})
	require.NoError(t, err)
	require.NotNil(t, off.JSON201, string(off.Body))
	pub, err := donor.PublishOfferWithResponse(ctx, off.JSON201.Id, client.Reason{})
	require.NoError(t, err)
	require.NotNil(t, pub.JSON200, string(pub.Body))

	limit := 10
	m, err := ministry.NeedMatchesWithResponse(ctx, need.Id, &client.NeedMatchesParams{Limit: &limit})
	require.NoError(t, err)
	require.NotNil(t, m.JSON200, string(m.Body))
	assert.Equal(t, need.Id, m.JSON200.NeedId)
	require.Len(t, m.JSON200.Items, 1)
	it := m.JSON200.Items[0]
	assert.Equal(t, off.JSON201.Id, it.OfferId)
	assert.Equal(t, 1, it.Rank)
	assert.Equal(t, client.Strong, it.Band)
	require.Len(t, it.Factors, 9)
	sum := 0.0
	for _, fc := range it.Factors {
		sum += fc.Contribution
		assert.NotEmpty(t, fc.Reason, fc.Name)
	}
	assert.InDelta(t, it.Score, math.Round(sum*10000)/10000, 1e-9, "score = sum of contributions")

	missing, err := ministry.GetNeedWithResponse(ctx, "06h4wy7mb5dt0wchata8h9my")
	require.NoError(t, err)
	require.NotNil(t, missing.ApplicationproblemJSON404, string(missing.Body))
	assert.Equal(t, 404, missing.ApplicationproblemJSON404.Status)
}
