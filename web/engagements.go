package web

import (
	"errors"
	"net/url"
	"sort"
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// engagementStatuses are the engagement states the pages show, in pipeline order.
var engagementStatuses = []models.EngagementStatus{models.EngagementProposed, models.EngagementAccepting,
	models.EngagementAgreed, models.EngagementDeclined, models.EngagementWithdrawn, models.EngagementCancelled}

// engagementRow is one engagement in a list, with the titles of its need and offer.
type engagementRow struct {
	E          *models.Engagement
	NeedTitle  string
	OfferTitle string
	OfferOrg   string
	// Yours is true when the viewer's side must answer the proposal.
	Yours bool
}

// engagementsPage is the data of the engagements list (the coordinators' pipeline).
type engagementsPage struct {
	Status   string
	Statuses []statusTab
	Rows     []engagementRow
	// Overlaps are duplicated deliveries (coordinators).
	Overlaps []service.OverlapPair
}

func (u *UI) engagementRow(r *req, e *models.Engagement) engagementRow {
	row := engagementRow{E: e, NeedTitle: e.NeedID, OfferTitle: e.OfferID}
	if n := u.needFor(r, e.NeedID); n != nil {
		row.NeedTitle = n.Title
	}
	if o := u.offerFor(r, e.OfferID); o != nil {
		row.OfferTitle = o.Title
	}
	row.OfferOrg = u.orgName(r.c.UserContext(), e.OfferOrgID)
	if a := r.actor(); a != nil && e.Status == models.EngagementProposed {
		side := models.EngagementSide(a, e)
		row.Yours = side != "" && side != e.ProposedBy
	}
	return row
}

// Engagements lists the engagements the viewer may see: a ministry's and a donor's own, every
// one for coordinators (the pipeline), with tabs by status and proposals to answer first.
func (u *UI) Engagements() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a := r.actor()
		p := &engagementsPage{Status: r.c.Query("status")}
		valid := false
		for _, st := range engagementStatuses {
			valid = valid || string(st) == p.Status
		}
		if !valid {
			p.Status = ""
		}
		all, err := u.app.Engagements.List(r.c.UserContext(), a, "", "", "")
		if err != nil {
			return err
		}
		counts := map[models.EngagementStatus]int{}
		for _, e := range all {
			counts[e.Status]++
		}
		p.Statuses = append(p.Statuses, statusTab{Count: len(all)})
		for _, st := range engagementStatuses {
			if counts[st] > 0 || a.Role.Curates() {
				p.Statuses = append(p.Statuses, statusTab{Status: string(st), Count: counts[st]})
			}
		}
		for _, e := range all {
			if p.Status == "" || string(e.Status) == p.Status {
				p.Rows = append(p.Rows, u.engagementRow(r, e))
			}
		}
		sort.SliceStable(p.Rows, func(i, j int) bool {
			if p.Rows[i].Yours != p.Rows[j].Yours {
				return p.Rows[i].Yours
			}
			return p.Rows[i].E.UpdatedAt.After(p.Rows[j].E.UpdatedAt)
		})
		if a.Role.Curates() {
			p.Overlaps = u.app.Projects.Overlaps(r.c.UserContext(), a)
		}
		return r.render(200, "engagements", r.L.T("engagements.title"), "engagements", p)
	})
}

// engagementPage is the data of an engagement's page.
type engagementPage struct {
	engagementRow
	NeedCountry string
	// What the viewer may do now.
	CanAccept, CanWithdraw, CanCancel, CanMessage, CanStartProject bool
	// HasProject: the project started from it exists (its id is reserved before it is written).
	HasProject bool
	// OfferLeft and SlotsLeft are what remains of the offer, shown to the side that accepts.
	OfferLeft int64
	SlotsLeft int
	F         *form
	// ProjectForm is the form to start the project of an agreed engagement.
	ProjectForm  *form
	Implementers []option
	// Side is how messages are labelled: by the side that wrote them.
	Authors map[string]string
}

func (u *UI) engagementPage(r *req, e *models.Engagement, f, pf *form) *engagementPage {
	a := r.actor()
	p := &engagementPage{engagementRow: u.engagementRow(r, e), NeedCountry: e.Country, F: f, ProjectForm: pf}
	p.CanAccept = e.Status == models.EngagementProposed && models.AuthorizeEngagement(a, models.ActAccept, e) == nil
	p.CanWithdraw = e.Status == models.EngagementProposed && models.AuthorizeEngagement(a, models.ActWithdraw, e) == nil
	p.CanMessage = models.AuthorizeEngagement(a, models.ActMessage, e) == nil
	if e.ProjectID != "" {
		_, err := u.app.Projects.Get(r.c.UserContext(), a, e.ProjectID)
		p.HasProject = err == nil
	}
	p.CanCancel = e.Status == models.EngagementAgreed && e.ProjectID == "" && models.AuthorizeEngagement(a, models.ActCancel, e) == nil
	// An interrupted start (an id reserved, no project written) is finished by starting again.
	p.CanStartProject = e.Status == models.EngagementAgreed && !p.HasProject && models.AuthorizeStartProject(a, e) == nil
	if o := u.offerFor(r, e.OfferID); o != nil && p.CanAccept {
		p.OfferLeft, p.SlotsLeft = o.RemainingBudget(), o.SlotsLeft()
	}
	if p.CanStartProject {
		if p.ProjectForm == nil {
			p.ProjectForm = newForm()
			p.ProjectForm.Values.Set("title", p.NeedTitle)
			p.ProjectForm.Values.Set("budget_usd", strconv.FormatInt(e.BudgetUSD, 10))
			p.ProjectForm.Values.Set("start_date", string(e.StartDate))
			p.ProjectForm.Values.Set("end_date", string(e.EndDate))
			p.ProjectForm.Values.Set("implementer_organization_id", e.OfferOrgID)
		}
		if orgs, err := u.app.Accounts.ListOrgs(r.c.UserContext()); err == nil {
			for _, o := range orgs {
				if o.Type == models.OrgImplementer || o.Type == models.OrgDonor {
					p.Implementers = append(p.Implementers, option{Value: o.ID, Label: o.Name})
				}
			}
			sortByName(r.L, p.Implementers, func(o option) string { return o.Label })
		}
	}
	return p
}

// Engagement shows an engagement: its need and offer, the thread of messages, and the answers
// the viewer may give (accept, decline with a reason, withdraw), or, once agreed, the form to
// start its project.
func (u *UI) Engagement() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		e, err := u.app.Engagements.Get(r.c.UserContext(), r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		p := u.engagementPage(r, e, newForm(), nil)
		return r.render(200, "engagement", r.L.T("engagement.title"), "engagements", p)
	})
}

// ProposeEngagement proposes an engagement between a need and an offer, from the need's page
// (its ministry) or the offer's page (its donor), with the amount and period it reserves. A
// proposal the service refuses as invalid (an amount above what remains of the offer, a period
// outside its window) shows the proposal form again with the errors next to their fields.
func (u *UI) ProposeEngagement() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		f := postedForm(r.c)
		f.labels = map[string]string{"budget_usd": r.L.T("match.propose_budget"), "start_date": r.L.T("match.propose_start"),
			"end_date": r.L.T("match.propose_end"), "message": r.L.T("match.propose_message")}
		in := service.EngagementInput{NeedID: f.Get("need_id"), OfferID: f.Get("offer_id"), Message: f.Get("message")}
		in.BudgetUSD = f.intField(r.L, "budget_usd", false)
		in.StartDate = f.dateField(r.L, "start_date", false)
		in.EndDate = f.dateField(r.L, "end_date", false)
		var e *models.Engagement
		var err error
		if f.OK() {
			e, _, err = u.app.Engagements.Propose(r.c.UserContext(), r.actor(), in)
		}
		if !f.OK() || f.addDomainErrors(r.L, err) {
			p, perr := u.proposalPage(r, in.NeedID, in.OfferID, f)
			if errors.Is(perr, models.ErrNotFound) && err != nil {
				// No form to show again (the ids are missing, unknown or hidden): the
				// service's validation error is the answer, a 422 whatever the ids are.
				return err
			}
			if perr != nil {
				return perr
			}
			return r.render(422, "propose", r.L.T("match.propose"), "engagements", p)
		}
		if err != nil {
			return err
		}
		return r.redirect("/engagements/" + url.PathEscape(e.ID) + "?ok=engagement_proposed")
	})
}

// proposalForm is the proposal form of one pair: the default amount and period the service
// proposes (models.DefaultTerms) and what remains of the offer, shown next to the fields.
type proposalForm struct {
	NeedID, OfferID string
	Terms           models.Terms
	OfferLeft       int64
	WindowFrom      models.Date
	WindowUntil     models.Date
}

// proposalFor prepares the proposal form of a pair the viewer may propose.
func (u *UI) proposalFor(n *models.Need, o *models.Offer) *proposalForm {
	return &proposalForm{NeedID: n.ID, OfferID: o.ID, Terms: u.app.Engagements.Terms(n, o), OfferLeft: o.RemainingBudget(),
		WindowFrom: o.AvailableFrom, WindowUntil: o.AvailableUntil}
}

// proposalPage is the data of the proposal page shown when a proposal needs correcting.
type proposalPage struct {
	NeedTitle, OfferTitle string
	P                     *proposalForm
	F                     *form
}

func (u *UI) proposalPage(r *req, needID, offerID string, f *form) (*proposalPage, error) {
	ctx := r.c.UserContext()
	n, err := u.app.Needs.Get(ctx, r.actor(), needID)
	if err != nil {
		return nil, err
	}
	o, err := u.app.Offers.Get(ctx, r.actor(), offerID)
	if err != nil {
		return nil, err
	}
	return &proposalPage{NeedTitle: n.Title, OfferTitle: o.Title, P: u.proposalFor(n, o), F: f}, nil
}

// engagementActions are the answers an engagement's buttons may give.
var engagementActions = map[string]string{"accept": "engagement_agreed", "decline": "engagement_declined",
	"withdraw": "engagement_withdrawn", "cancel": "engagement_cancelled", "message": "message_sent"}

// EngagementAction accepts, declines, withdraws or adds a message to an engagement; a reason
// or message that fails validation shows the page again with the error next to the field.
func (u *UI) EngagementAction() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		action := r.c.Params("action")
		flash, ok := engagementActions[action]
		if !ok {
			return models.Errorf(models.ErrNotFound, "no such action")
		}
		ctx := r.c.UserContext()
		a := r.actor()
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"reason": r.L.T("engagement.reason"), "body": r.L.T("engagement.message")}
		var err error
		switch action {
		case "accept":
			_, err = u.app.Engagements.Accept(ctx, a, id)
		case "decline":
			_, err = u.app.Engagements.Decline(ctx, a, id, f.Get("reason"))
		case "withdraw":
			_, err = u.app.Engagements.Withdraw(ctx, a, id, f.Get("reason"))
		case "message":
			_, err = u.app.Engagements.Message(ctx, a, id, f.Get("body"))
		case "cancel":
			if !confirmed(f) {
				return u.showConfirm(r, "engagement", id, 200, f)
			}
			if _, err = u.app.Engagements.Cancel(ctx, a, id, f.Get("reason")); err != nil {
				return u.confirmFailed(r, "engagement", id, f, err)
			}
		}
		if errors.Is(err, models.ErrInvalid) {
			f.addDomainErrors(r.L, err)
			e, gerr := u.app.Engagements.Get(ctx, a, id)
			if gerr != nil {
				return gerr
			}
			return r.render(422, "engagement", r.L.T("engagement.title"), "engagements", u.engagementPage(r, e, f, nil))
		}
		if err != nil {
			return err
		}
		return r.redirect("/engagements/" + url.PathEscape(id) + "?ok=" + flash)
	})
}
