package web_test

// Page tests of issue 12 points 3-5: ending a need, an offer or an engagement asks first and
// says what it releases; a proposal carries its amount and period; offers show what is left;
// the funding chart and country pages use the one funding-gap definition.

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// agreed proposes (as the ministry) and accepts (as the donor) an engagement of the amount.
func (s *stack) agreed(n *models.Need, o *models.Offer, budget int64) *models.Engagement {
	t := s.t
	ctx := context.Background()
	e, _, err := s.app.Engagements.Propose(ctx, s.actor(s.fx.ministry), service.EngagementInput{NeedID: n.ID, OfferID: o.ID, BudgetUSD: budget})
	require.NoError(t, err)
	e, err = s.app.Engagements.Accept(ctx, s.actor(s.fx.donor), e.ID)
	require.NoError(t, err)
	return e
}

func TestWithdrawingANeedAsksFirstAndSaysWhatIsReleased(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")
	o2 := s.openOffer("Second CSIRT programme")
	proposal, _, err := s.app.Engagements.Propose(ctx, s.actor(s.fx.ministry), service.EngagementInput{NeedID: n.ID, OfferID: o2.ID})
	require.NoError(t, err)
	agreement := s.agreed(n, o, 200_000)

	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/needs/" + n.ID)
	assert.Contains(t, p.Body, `href="/needs/`+n.ID+`/withdraw"`, "the withdraw button leads to the confirmation")
	p = m.get("/needs/" + n.ID + "/withdraw")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Withdraw this need?")
	assert.Contains(t, p.Body, "1 agreed engagement will be cancelled:")
	assert.Contains(t, p.Body, `<a href="/engagements/`+agreement.ID+`">Francophone CSIRT programme</a> · US$200,000`)
	assert.Contains(t, p.Body, "US$200,000 and 1 engagement slot go back to the offers.")
	assert.Contains(t, p.Body, "1 proposal will be withdrawn:")
	assert.Contains(t, p.Body, `href="/engagements/`+proposal.ID+`"`)
	assert.Contains(t, p.Body, `name="reason"`)

	// A form posted without the confirmation (an old page) gets the confirmation page.
	p = m.post("/needs/"+n.ID, "/needs/"+n.ID+"/withdraw", nil)
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Withdraw this need?")
	got, err := s.app.Needs.Get(ctx, s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedMatched, got.Status, "nothing changed")

	// Confirmed without a reason: the other sides must be told why.
	p = m.post("/needs/"+n.ID+"/withdraw", "/needs/"+n.ID+"/withdraw", url.Values{"confirm": {"yes"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-reason-err">This field is required.`)

	p = m.post("/needs/"+n.ID+"/withdraw", "/needs/"+n.ID+"/withdraw", url.Values{"confirm": {"yes"}, "reason": {"Funded by the national budget"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Contains(t, m.get(p.Header.Get("Location")).Body, "The need was withdrawn")
	got, err = s.app.Needs.Get(ctx, s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedWithdrawn, got.Status)
	e, err := s.app.Engagements.Get(ctx, s.actor(s.fx.coord), agreement.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementCancelled, e.Status)
	off, err := s.app.Offers.Get(ctx, s.actor(s.fx.coord), o.ID)
	require.NoError(t, err)
	assert.Zero(t, off.EngagementsUsed)
	assert.Zero(t, off.BudgetCommitted)

	// The donor reads it in its feed and on the engagement's page.
	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.get("/notifications")
	assert.Contains(t, p.Body, "An agreed engagement was cancelled")
	assert.Contains(t, p.Body, "Funded by the national budget")
	p = d.get("/engagements/" + agreement.ID)
	assert.Contains(t, p.Body, "Cancelled")
	assert.NotContains(t, p.Body, "Start the project")
}

func TestClosingAnOfferAsksFirstAndKeepsAgreements(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	o := s.openOffer("Francophone CSIRT programme")
	agreement := s.agreed(s.openNeed("National CSIRT"), o, 300_000)
	proposal, _, err := s.app.Engagements.Propose(ctx, s.actor(s.fx.ministry), service.EngagementInput{NeedID: s.openNeed("CSIRT training").ID, OfferID: o.ID})
	require.NoError(t, err)

	d := s.browser()
	d.signIn(s.fx.donor)
	assert.Contains(t, d.get("/donor").Body, `href="/offers/`+o.ID+`/close?next=%2Fdonor"`)
	p := d.get("/offers/" + o.ID + "/close?next=/donor")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Close this offer?")
	assert.Contains(t, p.Body, "1 proposal will be withdrawn:")
	assert.Contains(t, p.Body, `href="/engagements/`+proposal.ID+`">Senegal · Establishing a national CERT/CSIRT</a>`,
		"a need is named by what the donor may know of it")
	assert.Contains(t, p.Body, "1 agreed engagement stays")
	assert.Contains(t, p.Body, `href="/engagements/`+agreement.ID+`"`)
	assert.Contains(t, p.Body, `<input type="hidden" name="next" value="/donor">`)

	p = d.post("/offers/"+o.ID+"/close", "/offers/"+o.ID+"/close", url.Values{"confirm": {"yes"}, "reason": {"Fully planned"}, "next": {"/donor"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.True(t, strings.HasPrefix(p.Header.Get("Location"), "/donor?ok=offer_closed"), p.Header.Get("Location"))
	e, err := s.app.Engagements.Get(ctx, s.actor(s.fx.coord), proposal.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementWithdrawn, e.Status)
	e, err = s.app.Engagements.Get(ctx, s.actor(s.fx.coord), agreement.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, e.Status)
}

func TestCancellingAnAgreedEngagementFromItsPage(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")
	e := s.agreed(n, o, 250_000)

	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/engagements/" + e.ID)
	assert.Contains(t, p.Body, `href="/engagements/`+e.ID+`/cancel"`)
	p = m.get("/engagements/" + e.ID + "/cancel")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "Cancel this agreed engagement?")
	assert.Contains(t, p.Body, "US$250,000 and 1 engagement slot go back to the offers.")
	assert.Contains(t, p.Body, "The need opens again for other offers")
	p = m.post("/engagements/"+e.ID+"/cancel", "/engagements/"+e.ID+"/cancel", url.Values{"confirm": {"yes"}, "reason": {"The ministry changed its plans"}})
	require.Equal(t, 303, p.Status, p.Body)
	assert.Contains(t, m.get(p.Header.Get("Location")).Body, "The engagement is cancelled")
	got, err := s.app.Needs.Get(ctx, s.actor(s.fx.coord), n.ID)
	require.NoError(t, err)
	assert.Equal(t, models.NeedOpen, got.Status)
	p = m.get("/needs/" + n.ID)
	assert.NotContains(t, p.Body, "See the engagement under way", "a cancelled engagement is not under way")
	assert.Contains(t, p.Body, `id="amt-`+n.ID+"-"+o.ID+`"`, "the pair may be proposed again")
	// A cancelled engagement has nothing left to cancel.
	assertPage(t, m.get("/engagements/"+e.ID+"/cancel"), 409)
	// Another ministry may not even know it exists.
	other := s.browser()
	other.signIn(s.fx.ministry2)
	assertPage(t, other.get("/engagements/"+e.ID+"/cancel"), 404)
}

func TestProposalCarriesAmountAndPeriodAndOffersShowWhatIsLeft(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	n := s.openNeed("National CSIRT")
	o := s.openOffer("Francophone CSIRT programme")

	m := s.browser()
	m.signIn(s.fx.ministry)
	p := m.get("/needs/" + n.ID)
	k := n.ID + "-" + o.ID
	assert.Contains(t, p.Body, `id="amt-`+k+`" name="budget_usd"`)
	assert.Contains(t, p.Body, `value="400000"`, "the default: what the need lacks, at most what remains of the offer")
	assert.Contains(t, p.Body, `id="start-`+k+`" name="start_date" type="date" value="2030-03-01"`)
	assert.Contains(t, p.Body, `id="end-`+k+`" name="end_date" type="date" value="2031-09-01"`)
	assert.Contains(t, p.Body, "at most what remains of the offer (US$2,000,000)")

	// Too much: the proposal form again, with the reason next to the amount.
	p = m.do("POST", "/engagements", url.Values{"_csrf": {csrf(t, p)}, "need_id": {n.ID}, "offer_id": {o.ID},
		"budget_usd": {"2,500,000"}, "start_date": {"2030-03-01"}, "end_date": {"2033-06-30"}})
	assertPage(t, p, 422)
	assert.Contains(t, p.Body, `id="f-budget-usd-err">Enter an amount from 1 to what remains of the offer (US$2,000,000).`)
	assert.Contains(t, p.Body, `id="f-end-date-err">Choose a date within the offer&#39;s window, from 1 Jan 2029 to 31 Dec 2032.`)
	assert.Contains(t, p.Body, `value="2,500,000"`, "what was typed is kept")

	p = m.do("POST", "/engagements", url.Values{"_csrf": {csrf(t, p)}, "need_id": {n.ID}, "offer_id": {o.ID},
		"budget_usd": {"150,000"}, "start_date": {"2030-06-01"}, "end_date": {"2031-05-31"}})
	require.Equal(t, 303, p.Status, p.Body)
	engID := strings.TrimPrefix(strings.SplitN(p.Header.Get("Location"), "?", 2)[0], "/engagements/")
	e, err := s.app.Engagements.Get(ctx, s.actor(s.fx.coord), engID)
	require.NoError(t, err)
	assert.Equal(t, int64(150_000), e.BudgetUSD)
	assert.Equal(t, models.Date("2030-06-01"), e.StartDate)
	assert.Equal(t, models.Date("2031-05-31"), e.EndDate)

	// The side that accepts sees what it reserves.
	d := s.browser()
	d.signIn(s.fx.donor)
	p = d.get("/engagements/" + engID)
	assert.Contains(t, p.Body, "Accepting reserves US$150,000 of the US$2,000,000 that remain of the offer and one of its 4 remaining engagement slots")
	require.Equal(t, 303, d.post("/engagements/"+engID, "/engagements/"+engID+"/accept", nil).Status)

	// Everyone sees what is left: the offer's page, the list, the donor's workspace.
	left := "US$1,850,000 left of US$2,000,000"
	assert.Contains(t, d.get("/offers/"+o.ID).Body, left)
	assert.Contains(t, d.get("/offers/"+o.ID).Body, "3 of 4 engagements left")
	assert.Contains(t, d.get("/donor").Body, left)
	assert.Contains(t, m.get("/offers").Body, left)
	assert.Contains(t, s.browser().get("/offers").Body, left, "visitors too")
}

// TestFundingChartAndCountryPageAddUp: the Senegal shape on the coordinators' chart and the
// country page.
func TestFundingChartAndCountryPageAddUp(t *testing.T) {
	s := newStack(t)
	s.seed()
	ctx := context.Background()
	v := s.startProject() // a need of 400,000
	_, _, err := s.app.Projects.AddTransaction(ctx, s.actor(s.fx.donor), v.ID, service.TransactionInput{Type: models.TxCommitment, AmountUSD: 150_000,
		Date: models.DateOf(time.Now())}) // a transaction is never after today (IATI rule 11.2.1)
	require.NoError(t, err)
	for _, title := range []string{"Cyber awareness", "CERT training"} {
		in := needInput(title)
		in.BudgetUSD = 185_000
		m := s.actor(s.fx.ministry)
		n, err := s.app.Needs.Create(ctx, m, in)
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, s.actor(s.fx.coord), n.ID, models.NeedApprove, "")
		require.NoError(t, err)
	}
	c := s.browser()
	c.signIn(s.fx.coord)
	p := c.get("/coordinator/funding?by=country")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, "requested US$770,000")
	assert.Contains(t, p.Body, "committed US$150,000")
	assert.Contains(t, p.Body, "gap US$620,000", "250,000 short on the funded need plus 370,000 of unfunded open needs")
	p = c.get("/countries/SN")
	assertPage(t, p, 200)
	assert.Contains(t, p.Body, `<li id="country-gap"><strong>US$620,000</strong> funding gap</li>`)
}
