package service_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The use cases of needs, offers, engagements and projects, tested through the application
// layer itself (not over HTTP): each lifecycle step, what it does to the other documents, and
// callers the policy refuses (models/policy.go: ErrNotFound for who may not know the object,
// ErrForbidden for who sees it but may not act).

func TestMain(m *testing.M) { os.Exit(stacktest.Main(m)) }

const password = "correct horse battery staple"

// world is one application with a coordinator, the ministries of Senegal and Fiji, and two
// donors, each signed in.
type world struct {
	t   testing.TB
	ctx context.Context
	s   *stacktest.Stack
	app *service.App
	// coord, sn, fj, donor, donor2 are the signed-in actors.
	coord, sn, fj, donor, donor2 *models.Actor
}

func newWorld(t *testing.T) *world { t.Helper(); return newWorldWith(t, nil) }

// newWorldWith is newWorld on dependencies adjusted first (a fake port, ...).
func newWorldWith(t *testing.T, adjust func(*service.Deps)) *world {
	t.Helper()
	return newWorldOn(t, stacktest.Options{Adjust: adjust})
}

// newWorldOn is newWorld on a stack built with o (a shared database and Redis for a second
// replica, a test clock, ...).
func newWorldOn(t testing.TB, o stacktest.Options) *world {
	t.Helper()
	s := stacktest.New(t, o)
	w := &world{t: t, ctx: context.Background(), s: s, app: s.App}
	org := func(name string, typ models.OrgType, country string) string {
		o, err := w.app.Accounts.CreateOrgDirect(w.ctx, service.OrgInput{Name: name, Type: typ, Country: country})
		require.NoError(t, err)
		return o.ID
	}
	user := func(email string, role models.Role, orgID string) *models.Actor {
		_, err := w.app.Accounts.CreateUser(w.ctx, nil, service.UserInput{Email: email, Password: password, Name: email, Role: role, OrganizationID: orgID})
		require.NoError(t, err)
		pair, err := w.app.Auth.Login(w.ctx, email, password, "10.9.9.9")
		require.NoError(t, err)
		a, err := w.app.Auth.Authenticate(w.ctx, pair.AccessToken)
		require.NoError(t, err)
		return &a
	}
	w.coord = user("coord@desk.example", models.RoleCoordinator, org("Coordination desk", models.OrgCoordinator, ""))
	w.sn = user("official@mfa.sn.example", models.RoleMinistry, org("Ministry of Foreign Affairs of Senegal", models.OrgGovernment, "SN"))
	w.fj = user("official@moc.fj.example", models.RoleMinistry, org("Ministry of Communications of Fiji", models.OrgGovernment, "FJ"))
	w.donor = user("officer@csirt-programme.example", models.RoleDonor, org("Francophone CSIRT Programme", models.OrgDonor, ""))
	w.donor2 = user("officer@pacific-fund.example", models.RoleDonor, org("Pacific Cyber Fund", models.OrgDonor, ""))
	return w
}

func needInput(title string) service.NeedInput {
	return service.NeedInput{Title: title, Description: "Set up a national CSIRT.", Theme: models.ThemeIncidentManagement,
		Capability: models.CapCERTSetup, Modalities: []models.Modality{models.ModExpertDeployment}, Languages: []string{"fr"},
		BudgetUSD: 400_000, StartBy: "2030-03-01", DurationMonths: 18, Priority: models.PriorityHigh,
		Maturity: &models.Maturity{Framework: models.FrameworkSIM3, Current: 1, Target: 3}, Visibility: models.VisibilityPublic}
}

// openNeed is a need of Senegal's ministry, submitted and approved.
func (w *world) openNeed(title string) *models.Need {
	w.t.Helper()
	n, err := w.app.Needs.Create(w.ctx, w.sn, needInput(title))
	require.NoError(w.t, err)
	_, err = w.app.Needs.Transition(w.ctx, w.sn, n.ID, models.NeedSubmit, "")
	require.NoError(w.t, err)
	n, err = w.app.Needs.Transition(w.ctx, w.coord, n.ID, models.NeedApprove, "")
	require.NoError(w.t, err)
	return n
}

func offerInput(title string) service.OfferInput {
	return service.OfferInput{Title: title, Themes: []models.Theme{models.ThemeIncidentManagement},
		Capabilities: []models.Capability{models.CapCERTSetup}, Modalities: []models.Modality{models.ModExpertDeployment, models.ModTraining},
		Languages: []string{"fr", "en"}, EligibleRegions: []string{"002"}, BudgetUSD: 2_000_000, MaxEngagements: 4,
		AvailableFrom: "2029-01-01", AvailableUntil: "2032-12-31"}
}

// openOffer is a published offer of the donor d.
func (w *world) openOffer(d *models.Actor, title string) *models.Offer {
	w.t.Helper()
	o, err := w.app.Offers.Create(w.ctx, d, offerInput(title))
	require.NoError(w.t, err)
	o, err = w.app.Offers.Transition(w.ctx, d, o.ID, models.OfferPublish, "")
	require.NoError(w.t, err)
	return o
}

// propose has a (the need's ministry or the offer's donor) propose an engagement between them.
func (w *world) propose(a *models.Actor, need, offer string) *models.Engagement {
	w.t.Helper()
	e, created, err := w.app.Engagements.Propose(w.ctx, a, service.EngagementInput{NeedID: need, OfferID: offer})
	require.NoError(w.t, err)
	require.True(w.t, created)
	return e
}

// agree proposes an engagement as the ministry and has the offer's donor d accept it.
func (w *world) agree(need string, d *models.Actor, offer string) *models.Engagement {
	w.t.Helper()
	e, err := w.app.Engagements.Accept(w.ctx, d, w.propose(w.sn, need, offer).ID)
	require.NoError(w.t, err)
	require.Equal(w.t, models.EngagementAgreed, e.Status)
	return e
}

func (w *world) need(id string) *models.Need {
	w.t.Helper()
	n, err := w.app.Needs.Get(w.ctx, w.coord, id)
	require.NoError(w.t, err)
	return n
}

func (w *world) offer(id string) *models.Offer {
	w.t.Helper()
	o, err := w.app.Offers.Get(w.ctx, w.coord, id)
	require.NoError(w.t, err)
	return o
}

func (w *world) engagement(id string) *models.Engagement {
	w.t.Helper()
	e, err := w.app.Engagements.Get(w.ctx, w.coord, id)
	require.NoError(w.t, err)
	return e
}

func TestNeedLifecycleAndItsCallers(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	_, err := w.app.Needs.Create(ctx, w.donor, needInput("A donor's need"))
	assert.ErrorIs(t, err, models.ErrForbidden, "only ministries and coordinators post needs")

	n, err := w.app.Needs.Create(ctx, w.sn, needInput("National CSIRT"))
	require.NoError(t, err)
	assert.Equal(t, models.NeedDraft, n.Status)
	assert.Equal(t, "SN", n.Country, "a ministry posts for its own country")
	for _, a := range []*models.Actor{w.fj, w.donor} {
		_, err = w.app.Needs.Get(ctx, a, n.ID)
		assert.ErrorIs(t, err, models.ErrNotFound, "a draft is seen by its ministry and coordinators only")
	}

	// submit: the ministry that owns it; a coordinator sees it but may not; Fiji does not see it.
	_, err = w.app.Needs.Transition(ctx, w.fj, n.ID, models.NeedSubmit, "")
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = w.app.Needs.Transition(ctx, w.coord, n.ID, models.NeedSubmit, "")
	assert.ErrorIs(t, err, models.ErrForbidden)
	n, err = w.app.Needs.Transition(ctx, w.sn, n.ID, models.NeedSubmit, "")
	require.NoError(t, err)
	assert.Equal(t, models.NeedSubmitted, n.Status)

	// approve: coordinators only.
	_, err = w.app.Needs.Transition(ctx, w.sn, n.ID, models.NeedApprove, "")
	assert.ErrorIs(t, err, models.ErrForbidden, "a ministry does not approve its own need")
	n, err = w.app.Needs.Transition(ctx, w.coord, n.ID, models.NeedApprove, "")
	require.NoError(t, err)
	assert.Equal(t, models.NeedOpen, n.Status)
	got, err := w.app.Needs.Get(ctx, w.fj, n.ID)
	require.NoError(t, err, "an open public need is seen by everyone")
	assert.Equal(t, models.NeedOpen, got.Status)

	// withdraw: the owner only; a donor sees the open need but may not.
	_, err = w.app.Needs.Transition(ctx, w.donor, n.ID, models.NeedWithdraw, "")
	assert.ErrorIs(t, err, models.ErrForbidden)
	_, err = w.app.Needs.Transition(ctx, w.coord, n.ID, models.NeedWithdraw, "")
	assert.ErrorIs(t, err, models.ErrForbidden, "coordinators reject, they do not withdraw")
	n, err = w.app.Needs.Transition(ctx, w.sn, n.ID, models.NeedWithdraw, "")
	require.NoError(t, err)
	assert.Equal(t, models.NeedWithdrawn, n.Status)
	_, err = w.app.Needs.Get(ctx, w.fj, n.ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "a withdrawn need is no longer published")
	assert.Equal(t, models.NeedWithdrawn, w.need(n.ID).Status)
}

func TestWithdrawingAMatchedNeedCancelsItsEngagementsAndReleasesTheOffers(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	n := w.openNeed("National CSIRT")
	o := w.openOffer(w.donor, "Francophone CSIRT programme")
	o2 := w.openOffer(w.donor2, "Cyber fund")
	pending := w.propose(w.sn, n.ID, o2.ID) // a proposal still waiting for donor2
	agreed := w.agree(n.ID, w.donor, o.ID)
	require.Equal(t, models.NeedMatched, w.need(n.ID).Status)
	require.Equal(t, 1, w.offer(o.ID).EngagementsUsed)
	require.Equal(t, agreed.BudgetUSD, w.offer(o.ID).BudgetCommitted)
	require.Positive(t, agreed.BudgetUSD)

	_, err := w.app.Needs.Change(ctx, w.donor, n.ID, models.NeedWithdraw, "merged into another request")
	assert.ErrorIs(t, err, models.ErrForbidden, "the donor of the agreement may not withdraw the need")
	assert.Equal(t, models.NeedMatched, w.need(n.ID).Status, "a refused withdrawal changes nothing")

	ch, err := w.app.Needs.Change(ctx, w.sn, n.ID, models.NeedWithdraw, "merged into another request")
	require.NoError(t, err)
	assert.Equal(t, models.NeedWithdrawn, ch.Status)
	require.NotNil(t, ch.Cascade)
	assert.Equal(t, []string{agreed.ID}, ch.Cascade.Cancelled)
	assert.Equal(t, []string{pending.ID}, ch.Cascade.Withdrawn)
	assert.Equal(t, agreed.BudgetUSD, ch.Cascade.ReleasedBudget)
	assert.Equal(t, 1, ch.Cascade.ReleasedEngagements)

	assert.Equal(t, models.EngagementCancelled, w.engagement(agreed.ID).Status)
	assert.Equal(t, models.EngagementWithdrawn, w.engagement(pending.ID).Status)
	released := w.offer(o.ID)
	assert.Zero(t, released.EngagementsUsed, "the agreement's slot is given back")
	assert.Zero(t, released.BudgetCommitted, "and its amount")
	assert.Equal(t, models.OfferOpen, released.Status)
	assert.Equal(t, models.NeedWithdrawn, w.need(n.ID).Status)
	// What the use cases say is what is stored.
	stored, err := w.s.Store.GetOffer(ctx, o.ID)
	require.NoError(t, err)
	assert.Zero(t, stored.EngagementsUsed)
	assert.Zero(t, stored.BudgetCommitted)
}

func TestOfferLifecycleClosingWithdrawsProposalsAndKeepsAgreements(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	_, err := w.app.Offers.Create(ctx, w.sn, offerInput("A ministry's offer"))
	assert.ErrorIs(t, err, models.ErrForbidden, "only donors post offers")

	o, err := w.app.Offers.Create(ctx, w.donor, offerInput("Francophone CSIRT programme"))
	require.NoError(t, err)
	assert.Equal(t, models.OfferDraft, o.Status)
	_, err = w.app.Offers.Get(ctx, w.donor2, o.ID)
	assert.ErrorIs(t, err, models.ErrNotFound, "a draft is its donor's and the coordinators'")
	_, err = w.app.Offers.Transition(ctx, w.donor2, o.ID, models.OfferPublish, "")
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = w.app.Offers.Transition(ctx, w.coord, o.ID, models.OfferPublish, "")
	assert.ErrorIs(t, err, models.ErrForbidden, "the donor publishes its own offer")
	o, err = w.app.Offers.Transition(ctx, w.donor, o.ID, models.OfferPublish, "")
	require.NoError(t, err)
	assert.Equal(t, models.OfferOpen, o.Status)

	kept := w.agree(w.openNeed("National CSIRT").ID, w.donor, o.ID)
	proposal := w.propose(w.sn, w.openNeed("Incident response training").ID, o.ID)
	before := w.offer(o.ID)
	require.Equal(t, 1, before.EngagementsUsed)

	for _, a := range []*models.Actor{w.donor2, w.sn} {
		_, err = w.app.Offers.Change(ctx, a, o.ID, models.OfferClose, "programme ended")
		assert.ErrorIs(t, err, models.ErrForbidden, "an open offer is seen by all, closed by its donor and coordinators")
	}
	assert.Equal(t, models.OfferOpen, w.offer(o.ID).Status)

	ch, err := w.app.Offers.Change(ctx, w.donor, o.ID, models.OfferClose, "programme ended")
	require.NoError(t, err)
	assert.Equal(t, models.OfferClosed, ch.Status)
	require.NotNil(t, ch.Cascade)
	assert.Equal(t, []string{proposal.ID}, ch.Cascade.Withdrawn)
	assert.Equal(t, []string{kept.ID}, ch.Cascade.Kept)
	assert.Empty(t, ch.Cascade.Cancelled)
	assert.Equal(t, models.EngagementWithdrawn, w.engagement(proposal.ID).Status)
	assert.Equal(t, models.EngagementAgreed, w.engagement(kept.ID).Status, "an agreement outlives its offer's closing")
	after := w.offer(o.ID)
	assert.Equal(t, models.OfferClosed, after.Status)
	assert.Equal(t, before.EngagementsUsed, after.EngagementsUsed, "the kept agreement's slot stays taken")
	assert.Equal(t, before.BudgetCommitted, after.BudgetCommitted)
	assert.Equal(t, models.NeedMatched, w.need(kept.NeedID).Status)
	assert.Equal(t, models.NeedOpen, w.need(proposal.NeedID).Status)
}

func TestEngagementLifecycleReservesAndReleases(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	n := w.openNeed("National CSIRT")
	o := w.openOffer(w.donor, "Francophone CSIRT programme")

	_, _, err := w.app.Engagements.Propose(ctx, w.donor2, service.EngagementInput{NeedID: n.ID, OfferID: o.ID})
	assert.ErrorIs(t, err, models.ErrForbidden, "only the need's ministry or the offer's donor proposes")
	_, _, err = w.app.Engagements.Propose(ctx, w.fj, service.EngagementInput{NeedID: n.ID, OfferID: o.ID})
	assert.ErrorIs(t, err, models.ErrForbidden)

	e := w.propose(w.sn, n.ID, o.ID)
	assert.Equal(t, models.EngagementProposed, e.Status)
	assert.Equal(t, models.SideNeed, e.ProposedBy)
	for _, a := range []*models.Actor{w.fj, w.donor2} {
		_, err = w.app.Engagements.Get(ctx, a, e.ID)
		assert.ErrorIs(t, err, models.ErrNotFound, "an engagement is its two sides' and the coordinators'")
		_, err = w.app.Engagements.Accept(ctx, a, e.ID)
		assert.ErrorIs(t, err, models.ErrNotFound)
	}
	_, err = w.app.Engagements.Accept(ctx, w.sn, e.ID)
	assert.ErrorIs(t, err, models.ErrForbidden, "the proposer does not accept its own proposal")
	_, err = w.app.Engagements.Decline(ctx, w.sn, e.ID, "")
	assert.ErrorIs(t, err, models.ErrForbidden, "nor declines it")
	assert.Zero(t, w.offer(o.ID).EngagementsUsed, "a proposal reserves nothing")

	// accept: the need is matched, the offer's slot and the engagement's amount taken.
	e, err = w.app.Engagements.Accept(ctx, w.donor, e.ID)
	require.NoError(t, err)
	assert.Equal(t, models.EngagementAgreed, e.Status)
	nd := w.need(n.ID)
	assert.Equal(t, models.NeedMatched, nd.Status)
	assert.Equal(t, e.ID, nd.EngagementID)
	taken := w.offer(o.ID)
	assert.Equal(t, 1, taken.EngagementsUsed)
	assert.Equal(t, e.BudgetUSD, taken.BudgetCommitted)

	// cancel: either side (not a stranger), with a reason; the slot and amount come back and
	// the need opens again.
	_, err = w.app.Engagements.Cancel(ctx, w.fj, e.ID, "no longer needed")
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = w.app.Engagements.Cancel(ctx, w.donor, e.ID, "")
	assert.ErrorIs(t, err, models.ErrInvalid, "a cancellation says why")
	assert.Equal(t, models.EngagementAgreed, w.engagement(e.ID).Status)
	e, err = w.app.Engagements.Cancel(ctx, w.donor, e.ID, "the expert team is no longer available")
	require.NoError(t, err)
	assert.Equal(t, models.EngagementCancelled, e.Status)
	released := w.offer(o.ID)
	assert.Zero(t, released.EngagementsUsed)
	assert.Zero(t, released.BudgetCommitted)
	nd = w.need(n.ID)
	assert.Equal(t, models.NeedOpen, nd.Status)
	_, err = w.app.Engagements.Cancel(ctx, w.donor, e.ID, "again")
	require.NoError(t, err, "cancelling again answers the same")
	assert.Zero(t, w.offer(o.ID).EngagementsUsed, "and releases nothing twice")

	// decline: the side that did not propose; nothing is reserved.
	p := w.propose(w.donor, n.ID, o.ID)
	assert.Equal(t, models.SideOffer, p.ProposedBy)
	_, err = w.app.Engagements.Decline(ctx, w.donor, p.ID, "")
	assert.ErrorIs(t, err, models.ErrForbidden)
	p, err = w.app.Engagements.Decline(ctx, w.sn, p.ID, "we found another partner")
	require.NoError(t, err)
	assert.Equal(t, models.EngagementDeclined, p.Status)
	assert.Zero(t, w.offer(o.ID).EngagementsUsed)
	assert.Equal(t, models.NeedOpen, w.need(n.ID).Status)
}

func TestProjectStartsRecordsMoneyAndClosesItsNeed(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	n := w.openNeed("National CSIRT")
	o := w.openOffer(w.donor, "Francophone CSIRT programme")
	e := w.agree(n.ID, w.donor, o.ID)
	in := service.ProjectInput{EngagementID: e.ID, Title: "National CSIRT project", BudgetUSD: 400_000,
		StartDate: "2030-03-01", EndDate: "2031-08-31"}

	_, _, err := w.app.Projects.Create(ctx, w.sn, in)
	assert.ErrorIs(t, err, models.ErrForbidden, "the need's ministry follows the project, it does not start it")
	_, _, err = w.app.Projects.Create(ctx, w.donor2, in)
	assert.ErrorIs(t, err, models.ErrNotFound)

	v, created, err := w.app.Projects.Create(ctx, w.donor, in)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, models.StatusPipeline, v.Status)
	assert.Equal(t, models.NeedInProgress, w.need(n.ID).Status)
	assert.Equal(t, v.ID, w.engagement(e.ID).ProjectID)
	_, err = w.app.Engagements.Cancel(ctx, w.donor, e.ID, "changed our mind")
	assert.ErrorIs(t, err, models.ErrConflict, "an engagement with a project is not cancelled")

	// Money: its donor and coordinators record it; the ministry and strangers may not.
	today := models.DateOf(time.Now().UTC())
	tx := service.TransactionInput{Type: models.TxCommitment, AmountUSD: 250_000, Date: today}
	_, _, err = w.app.Projects.AddTransaction(ctx, w.sn, v.ID, tx)
	assert.ErrorIs(t, err, models.ErrForbidden)
	_, _, err = w.app.Projects.AddTransaction(ctx, w.fj, v.ID, tx)
	assert.ErrorIs(t, err, models.ErrForbidden, "Fiji sees the public need's project but records nothing")
	_, _, err = w.app.Projects.AddTransaction(ctx, w.donor2, v.ID, tx)
	assert.ErrorIs(t, err, models.ErrForbidden)
	_, v, err = w.app.Projects.AddTransaction(ctx, w.donor, v.ID, tx)
	require.NoError(t, err)
	assert.Len(t, v.Transactions, 1)
	assert.Equal(t, int64(250_000), v.Funding.Committed)

	// Close: through implementation and finalisation, with a result recorded; the need is
	// fulfilled.
	_, err = w.app.Projects.SetStatus(ctx, w.sn, v.ID, models.StatusImplementation, "")
	assert.ErrorIs(t, err, models.ErrForbidden)
	_, err = w.app.Projects.SetStatus(ctx, w.donor, v.ID, models.StatusClosed, "")
	assert.ErrorIs(t, err, models.ErrConflict, "a pipeline project does not close")
	for _, st := range []models.ActivityStatus{models.StatusImplementation, models.StatusFinalisation} {
		v, err = w.app.Projects.SetStatus(ctx, w.donor, v.ID, st, "")
		require.NoError(t, err)
		assert.Equal(t, st, v.Status)
	}
	_, err = w.app.Projects.SetStatus(ctx, w.donor, v.ID, models.StatusClosed, "")
	assert.ErrorIs(t, err, models.ErrConflict, "no closing without a result")
	res := []models.Result{{Type: models.ResultOutput, Title: "Analysts trained"}}
	_, err = w.app.Projects.Patch(ctx, w.donor, v.ID, service.ProjectPatch{Results: &res}, nil)
	require.NoError(t, err)
	assert.Equal(t, models.NeedInProgress, w.need(n.ID).Status)
	v, err = w.app.Projects.SetStatus(ctx, w.donor, v.ID, models.StatusClosed, "")
	require.NoError(t, err)
	assert.Equal(t, models.StatusClosed, v.Status)
	assert.Contains(t, []models.Date{today, models.DateOf(time.Now().UTC())}, v.ActualEnd, "closing records its day (around midnight, either)")
	assert.Equal(t, models.NeedFulfilled, w.need(n.ID).Status)
}

func TestNoProjectStartsOnAWithdrawnNeed(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	n := w.openNeed("National CSIRT")
	e := w.agree(n.ID, w.donor, w.openOffer(w.donor, "Francophone CSIRT programme").ID)
	_, err := w.app.Needs.Transition(ctx, w.sn, n.ID, models.NeedWithdraw, "merged into another request")
	require.NoError(t, err)
	_, _, err = w.app.Projects.Create(ctx, w.donor, service.ProjectInput{EngagementID: e.ID, Title: "National CSIRT project",
		BudgetUSD: 400_000, StartDate: "2030-03-01", EndDate: "2031-08-31"})
	assert.ErrorIs(t, err, models.ErrConflict)
	assert.Empty(t, w.engagement(e.ID).ProjectID, "the engagement takes no project id")
	assert.Equal(t, models.NeedWithdrawn, w.need(n.ID).Status)
	projects, err := w.app.Projects.List(ctx, w.coord, "", "", 0)
	require.NoError(t, err)
	assert.Empty(t, projects)
}
