package web

import (
	"net/url"
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/models/service"
	"github.com/gofiber/fiber/v2"
)

// activityStatuses are the IATI activity statuses, in order.
var activityStatuses = []models.ActivityStatus{models.StatusPipeline, models.StatusImplementation, models.StatusFinalisation,
	models.StatusClosed, models.StatusCancelled, models.StatusSuspended}

// transactionTypes are the money movements a project records.
var transactionTypes = []models.TransactionType{models.TxPledge, models.TxCommitment, models.TxDisbursement, models.TxExpenditure}

// fundingBar is a project's or a group's money drawn as one bar: committed (of which
// disbursed) against the budget or request, the rest being the gap. Widths are percentages
// of the bar, used as SVG attributes (the CSP allows no style attributes).
type fundingBar struct {
	Total, Committed, Disbursed, Gap int64
	WTotal, WCommitted, WDisbursed   int
}

// newFundingBar draws total (budget or request), committed and disbursed on a scale; a zero
// scale means the bar's own largest figure.
func newFundingBar(total, committed, disbursed, scale int64) fundingBar {
	b := fundingBar{Total: total, Committed: committed, Disbursed: disbursed}
	if g := total - committed; g > 0 {
		b.Gap = g
	}
	if scale == 0 {
		scale = max(total, committed, disbursed)
	}
	b.WTotal = pct(total, scale)
	b.WCommitted = pct(committed, scale)
	b.WDisbursed = pct(disbursed, scale)
	return b
}

// projectRow is one project in a list.
type projectRow struct {
	P   *service.ProjectView
	Bar fundingBar
	Org string
}

// projectsPage is the data of the projects list.
type projectsPage struct {
	Country   string
	Status    string
	Rows      []projectRow
	Countries []option
	Statuses  []models.ActivityStatus
}

// Projects lists the projects the viewer may see with their status and funding (budget,
// committed, disbursed, gap): a donor's and a ministry's own, all for coordinators.
func (u *UI) Projects() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a := r.actor()
		p := &projectsPage{Country: models.NormalizeISO(r.c.Query("country")), Status: r.c.Query("status"), Statuses: activityStatuses}
		if !models.ValidISO(p.Country) {
			p.Country = ""
		}
		st, _ := strconv.Atoi(p.Status)
		if st < 1 || st > 6 {
			st, p.Status = 0, ""
		}
		views, err := u.app.Projects.List(r.c.UserContext(), a, p.Country, "", st)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, v := range views {
			p.Rows = append(p.Rows, projectRow{P: v, Bar: newFundingBar(v.Funding.Budget, v.Funding.Committed, v.Funding.Disbursed, 0),
				Org: u.orgName(r.c.UserContext(), v.DonorOrgID)})
		}
		for _, prj := range u.app.Projects.Visible(a, "", "", 0) {
			seen[prj.Country] = true
		}
		var isos []string
		for iso := range seen {
			isos = append(isos, iso)
		}
		p.Countries = countryOptions(r.L, isos)
		return r.render(200, "projects", r.L.T("projects.title"), "projects", p)
	})
}

// projectPage is the data of a project's page.
type projectPage struct {
	P            *service.ProjectView
	Bar          fundingBar
	NeedTitle    string
	Donor, Impl  string
	CanMoney     bool
	CanStatus    bool
	F            *form
	Types        []models.TransactionType
	NextStatuses []models.ActivityStatus
}

func (u *UI) projectPage(r *req, v *service.ProjectView, f *form) *projectPage {
	a := r.actor()
	n, _ := u.app.Model.Need(v.NeedID)
	p := &projectPage{P: v, Bar: newFundingBar(v.Funding.Budget, v.Funding.Committed, v.Funding.Disbursed, 0), F: f, Types: transactionTypes,
		Donor: u.orgName(r.c.UserContext(), v.DonorOrgID), Impl: u.orgName(r.c.UserContext(), v.ImplementerID)}
	if n != nil && models.CanSeeNeed(a, n) {
		p.NeedTitle = n.Title
	}
	p.CanMoney = models.AuthorizeProject(a, models.ActTransaction, v.Project, n) == nil
	p.CanStatus = models.AuthorizeProject(a, models.ActStatus, v.Project, n) == nil
	for _, st := range activityStatuses {
		if st != v.Status {
			p.NextStatuses = append(p.NextStatuses, st)
		}
	}
	if f.Get("date") == "" {
		f.Values.Set("date", string(models.DateOf(u.now())))
	}
	return p
}

// Project shows a project: its parties, dates, status, funding and transactions, with the
// forms to record money and change the status for those who may.
func (u *UI) Project() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		v, err := u.app.Projects.Get(r.c.UserContext(), r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		return r.render(200, "project", v.Title, "projects", u.projectPage(r, v, newForm()))
	})
}

// StartProject starts the project of an agreed engagement (its donor, coordinators).
func (u *UI) StartProject() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		ctx := r.c.UserContext()
		a := r.actor()
		f := postedForm(r.c)
		f.labels = map[string]string{"title": r.L.T("project.field.title"), "budget_usd": r.L.T("project.field.budget_usd"),
			"start_date": r.L.T("project.field.start_date"), "end_date": r.L.T("project.field.end_date"),
			"implementer_organization_id": r.L.T("project.field.implementer")}
		in := service.ProjectInput{EngagementID: f.Get("engagement_id"), Title: f.Get("title"), Description: f.Get("description"),
			ImplementerID: f.Get("implementer_organization_id")}
		in.BudgetUSD = f.intField(r.L, "budget_usd", true)
		in.StartDate = f.dateField(r.L, "start_date", true)
		in.EndDate = f.dateField(r.L, "end_date", true)
		var v *service.ProjectView
		var err error
		if f.OK() {
			v, _, err = u.app.Projects.Create(ctx, a, in)
		}
		if !f.OK() || f.addDomainErrors(r.L, err) {
			e, gerr := u.app.Engagements.Get(ctx, a, in.EngagementID)
			if gerr != nil {
				return gerr
			}
			return r.render(422, "engagement", r.L.T("engagement.title"), "engagements", u.engagementPage(r, e, newForm(), f))
		}
		if err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(v.ID) + "?ok=project_started")
	})
}

// AddTransaction records a pledge, commitment, disbursement or expenditure on a project.
func (u *UI) AddTransaction() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		ctx := r.c.UserContext()
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"type": r.L.T("tx.type"), "amount_usd": r.L.T("tx.amount"), "date": r.L.T("tx.date"),
			"description": r.L.T("tx.description")}
		in := service.TransactionInput{Type: models.TransactionType(f.Get("type")), Description: f.Get("description")}
		in.AmountUSD = f.intField(r.L, "amount_usd", true)
		in.Date = f.dateField(r.L, "date", true)
		var err error
		if f.OK() {
			_, _, err = u.app.Projects.AddTransaction(ctx, r.actor(), id, in)
		}
		if !f.OK() || f.addDomainErrors(r.L, err) {
			v, gerr := u.app.Projects.Get(ctx, r.actor(), id)
			if gerr != nil {
				return gerr
			}
			return r.render(422, "project", v.Title, "projects", u.projectPage(r, v, f))
		}
		if err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=transaction_recorded#transactions")
	})
}

// SetProjectStatus moves a project to another IATI activity status; the service refuses a
// move its lifecycle does not allow (shown as a conflict).
func (u *UI) SetProjectStatus() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		id := r.c.Params("id")
		f := postedForm(r.c)
		st, err := strconv.Atoi(f.Get("status"))
		if err != nil {
			return models.Errorf(models.ErrInvalid, "status must be a number")
		}
		if _, err := u.app.Projects.SetStatus(r.c.UserContext(), r.actor(), id, models.ActivityStatus(st), f.Get("reason")); err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=project_status")
	})
}

// fundingPage is the data of the funding-gap chart.
type fundingPage struct {
	By     string
	Groups []string
	Rows   []fundingRow
	Total  fundingBar
}

// fundingRow is one bar of the chart.
type fundingRow struct {
	service.FundingRow
	Label string
	Href  string
	Bar   fundingBar
}

// Funding charts the funding gap by country, theme or capability: what open needs request
// against what projects committed and disbursed, drawn as SVG bars on the server.
func (u *UI) Funding() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		p := &fundingPage{By: r.c.Query("by", "country"), Groups: []string{"country", "theme", "capability"}}
		if p.By != "theme" && p.By != "capability" {
			p.By = "country"
		}
		rows, err := u.app.FundingReport(r.c.UserContext(), r.actor(), p.By)
		if err != nil {
			return err
		}
		var scale, req, com, dis int64
		for _, row := range rows {
			scale = max(scale, row.Requested, row.Committed, row.Disbursed)
			req += row.Requested
			com += row.Committed
			dis += row.Disbursed
		}
		for _, row := range rows {
			fr := fundingRow{FundingRow: row}
			switch p.By {
			case "country":
				fr.Label, fr.Href = r.L.Country(row.Key), "/countries/"+row.Key
			case "theme":
				fr.Label, fr.Href = r.L.Label(models.KindTheme, row.Key), "/needs?theme="+row.Key
			default:
				fr.Label, fr.Href = r.L.Label(models.KindCapability, row.Key), "/needs?capability="+row.Key
			}
			// Bars share one scale, so lengths compare across rows.
			fr.Bar = newFundingBar(row.Requested, row.Committed, row.Disbursed, scale)
			p.Rows = append(p.Rows, fr)
		}
		p.Total = newFundingBar(req, com, dis, 0)
		return r.render(200, "funding", r.L.T("funding.title"), "funding", p)
	})
}
