package web

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
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

// newFundingBar draws total (budget or request), committed and disbursed on a scale, with the
// gap the service computed (for a group of needs, the sum of each need's gap: a need funded
// beyond its budget hides no other's shortfall); a zero scale means the bar's own largest figure.
func newFundingBar(total, committed, disbursed, gap, scale int64) fundingBar {
	b := fundingBar{Total: total, Committed: committed, Disbursed: disbursed, Gap: gap}
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
	// Export links the IATI file of the listed country's projects (coordinators).
	Export string
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
			p.Rows = append(p.Rows, projectRow{P: v, Bar: newFundingBar(v.Funding.Budget, v.Funding.Committed, v.Funding.Disbursed, v.Funding.Gap, 0),
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
		if a.Role.Curates() && len(p.Rows) > 0 {
			p.Export = "/export/iati.xml" + string(queryURL("country", p.Country))
			p.Export = strings.TrimSuffix(p.Export, "?")
		}
		return r.render(200, "projects", r.L.T("projects.title"), "projects", p)
	})
}

// nextStatuses are the IATI status moves a project may make, as service.Projects.SetStatus
// allows them, so that the status form offers only those (the service still decides; a page
// test checks that the two agree). Closed and cancelled projects move no more.
var nextStatuses = map[models.ActivityStatus][]models.ActivityStatus{
	models.StatusPipeline:       {models.StatusImplementation, models.StatusCancelled, models.StatusSuspended},
	models.StatusImplementation: {models.StatusFinalisation, models.StatusCancelled, models.StatusSuspended},
	models.StatusFinalisation:   {models.StatusClosed, models.StatusImplementation},
	models.StatusSuspended:      {models.StatusImplementation, models.StatusCancelled},
}

// resultTypes are the kinds of result a project records (IATI result types 1 and 2).
var resultTypes = []models.ResultType{models.ResultOutput, models.ResultOutcome}

// documentCategories are the IATI activity document categories (A01–A12) the document form
// offers; the IATI export files a document without one as A12, an activity web page.
var documentCategories = []string{"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A11", "A12"}

// projectPage is the data of a project's page: the project, and one form per thing the viewer
// may do to it (each empty unless it just came back with errors).
type projectPage struct {
	P           *service.ProjectView
	Bar         fundingBar
	NeedTitle   string
	Donor, Impl string
	// CanMoney: transactions (donor, implementer, coordinators); CanEdit: results and
	// documents, CanStatus: status moves (donor, coordinators).
	CanMoney, CanEdit, CanStatus bool
	// F is the transaction form.
	F                        *form
	Result, Document, Status *form
	Types                    []models.TransactionType
	ResultTypes              []models.ResultType
	Categories               []string
	NextStatuses             []models.ActivityStatus
}

// projectPage builds a project's page; f, when not nil, is the form named which ("tx",
// "result", "document" or "status") coming back with its errors.
func (u *UI) projectPage(r *req, v *service.ProjectView, which string, f *form) *projectPage {
	a := r.actor()
	n := u.needFor(r, v.NeedID)
	p := &projectPage{P: v, Bar: newFundingBar(v.Funding.Budget, v.Funding.Committed, v.Funding.Disbursed, v.Funding.Gap, 0),
		F: newForm(), Result: newForm(), Document: newForm(), Status: newForm(),
		Types: transactionTypes, ResultTypes: resultTypes, Categories: documentCategories,
		Donor: u.orgName(r.c.UserContext(), v.DonorOrgID), Impl: u.orgName(r.c.UserContext(), v.ImplementerID)}
	switch which {
	case "tx":
		p.F = f
	case "result":
		p.Result = f
	case "document":
		p.Document = f
	case "status":
		p.Status = f
	}
	if n != nil && models.CanSeeNeed(a, n) {
		p.NeedTitle = n.Title
	}
	p.CanMoney = models.AuthorizeProject(a, models.ActTransaction, v.Project, n) == nil
	p.CanEdit = models.AuthorizeProject(a, models.ActUpdate, v.Project, n) == nil
	p.CanStatus = models.AuthorizeProject(a, models.ActStatus, v.Project, n) == nil
	p.NextStatuses = nextStatuses[v.Status]
	if p.F.Get("date") == "" {
		p.F.Values.Set("date", string(models.DateOf(u.now())))
	}
	if p.Result.Get("result_type") == "" {
		p.Result.Values.Set("result_type", string(models.ResultOutput))
	}
	return p
}

// Project shows a project: its parties, dates, status, funding, transactions, results and
// documents, with the forms to record money, results and documents and to move its status
// for those who may.
func (u *UI) Project() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		v, err := u.app.Projects.Get(r.c.UserContext(), r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		return r.render(200, "project", v.Title, "projects", u.projectPage(r, v, "", nil))
	})
}

// projectAgain shows a project's page again with the named form and its errors, with status.
// A viewer who may not use that form at all is refused instead (the page would not show it).
func (u *UI) projectAgain(r *req, id string, status int, which string, f *form) error {
	v, err := u.app.Projects.Get(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return err
	}
	p := u.projectPage(r, v, which, f)
	if allowed := map[string]bool{"tx": p.CanMoney, "result": p.CanEdit, "document": p.CanEdit, "status": p.CanStatus}; !allowed[which] {
		return models.Errorf(models.ErrForbidden, "you may not change this project")
	}
	return r.render(status, "project", v.Title, "projects", p)
}

// StartProject starts the project of an agreed engagement (its donor, coordinators).
func (u *UI) StartProject() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		ctx := r.c.UserContext()
		a := r.actor()
		f := postedForm(r.c)
		// Who may start it first: anyone else is refused whatever the form holds.
		e, err := u.app.Engagements.Get(ctx, a, f.Get("engagement_id"))
		if err != nil {
			return err
		}
		if err := models.AuthorizeStartProject(a, e); err != nil {
			return err
		}
		f.labels = map[string]string{"title": r.L.T("project.field.title"), "budget_usd": r.L.T("project.field.budget_usd"),
			"start_date": r.L.T("project.field.start_date"), "end_date": r.L.T("project.field.end_date"),
			"implementer_organization_id": r.L.T("project.field.implementer")}
		in := service.ProjectInput{EngagementID: f.Get("engagement_id"), Title: f.Get("title"), Description: f.Get("description"),
			ImplementerID: f.Get("implementer_organization_id")}
		in.BudgetUSD = f.intField(r.L, "budget_usd", true)
		in.StartDate = f.dateField(r.L, "start_date", true)
		in.EndDate = f.dateField(r.L, "end_date", true)
		var v *service.ProjectView
		if f.OK() {
			v, _, err = u.app.Projects.Create(ctx, a, in)
		}
		if !f.OK() || f.addDomainErrors(r.L, err) {
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
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"type": r.L.T("tx.type"), "amount_usd": r.L.T("tx.amount"), "date": r.L.T("tx.date"),
			"description": r.L.T("tx.description")}
		in := service.TransactionInput{Type: models.TransactionType(f.Get("type")), Description: f.Get("description")}
		in.AmountUSD = f.intField(r.L, "amount_usd", true)
		in.Date = f.dateField(r.L, "date", true)
		var err error
		if f.OK() {
			_, _, err = u.app.Projects.AddTransaction(r.c.UserContext(), r.actor(), id, in)
		}
		if !f.OK() || f.addDomainErrors(r.L, err) {
			return u.projectAgain(r, id, 422, "tx", f)
		}
		if err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=transaction_recorded#transactions")
	})
}

// SetProjectStatus moves a project to another IATI activity status. A move the lifecycle
// refuses (closing a project without results, above all) shows the page again with the
// reason at the status form, as a conflict.
func (u *UI) SetProjectStatus() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"status": r.L.T("project.new_status")}
		st, err := strconv.Atoi(f.Get("status"))
		if err != nil || st < 1 || st > 6 {
			f.Add("status", r.L.T("err.choose"))
			return u.projectAgain(r, id, 422, "status", f)
		}
		_, err = u.app.Projects.SetStatus(r.c.UserContext(), r.actor(), id, models.ActivityStatus(st), f.Get("reason"))
		if errors.Is(err, models.ErrConflict) {
			f.Add("status", statusRefusal(r.L, err))
			return u.projectAgain(r, id, 409, "status", f)
		}
		if f.addDomainErrors(r.L, err) {
			return u.projectAgain(r, id, 422, "status", f)
		}
		if err != nil {
			return err
		}
		// #main: the form posts to #status, a fragment the redirect would otherwise inherit;
		// the new status and the confirmation are at the top.
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=project_status#main")
	})
}

// statusRefusal says in the user's language why the service refused a status move, by the
// refusal's code: results are missing, or the lifecycle does not allow the move (the page was
// stale); anything else is the generic conflict text.
func statusRefusal(L *Localizer, err error) string {
	var de *models.Error
	if errors.As(err, &de) {
		switch de.Code {
		case models.ConflictResultsMissing:
			return L.T("project.err.close_needs_results")
		case models.ConflictStatusMove:
			return L.T("project.err.move", L.T("iati."+de.Args["from"].Str()), L.T("iati."+de.Args["to"].Str()))
		}
	}
	return L.T("error.conflict.text")
}

// projectUpdateTries bounds the retries of an addition that met a concurrent change.
const projectUpdateTries = 5

// appendToProject adds to a project's results or documents as of its latest version: it
// reads the project, lets add extend a copy of its lists and saves them guarded by the version
// read, again when someone changed the project in between, so that no concurrent addition
// is lost and an addition never needs the page to be reloaded.
func (u *UI) appendToProject(r *req, id string, add func(p *service.ProjectPatch, cur *models.Project)) error {
	ctx := r.c.UserContext()
	for try := 1; ; try++ {
		v, err := u.app.Projects.Get(ctx, r.actor(), id)
		if err != nil {
			return err
		}
		var patch service.ProjectPatch
		add(&patch, v.Project)
		_, err = u.app.Projects.Patch(ctx, r.actor(), id, patch, &v.Version)
		if !errors.Is(err, models.ErrConflict) || try == projectUpdateTries {
			return err
		}
	}
}

// resultField maps the service's field names for a new (the last) result to the result form's.
func resultField(name string) string {
	if _, rest, ok := strings.Cut(name, "]."); ok && strings.HasPrefix(name, "results[") {
		return "result_" + rest
	}
	return ""
}

// AddResult records a result of a project (its donor, coordinators): an output or an outcome
// with a title and, optionally, a description and baseline, target and achieved values.
func (u *UI) AddResult() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"result_type": r.L.T("result.type"), "result_title": r.L.T("result.title"),
			"result_description": r.L.T("result.description"), "result_baseline": r.L.T("result.baseline"),
			"result_target": r.L.T("result.target"), "result_achieved": r.L.T("result.achieved")}
		res := models.Result{Type: models.ResultType(f.Get("result_type")), Title: f.Get("result_title"),
			Description: f.Get("result_description")}
		res.Baseline = f.optionalInt(r.L, "result_baseline")
		res.Target = f.optionalInt(r.L, "result_target")
		res.Achieved = f.optionalInt(r.L, "result_achieved")
		var err error
		if f.OK() {
			res.Title = models.CleanText(res.Title)
			err = u.appendToProject(r, id, func(p *service.ProjectPatch, cur *models.Project) {
				results := append(append([]models.Result{}, cur.Results...), res)
				p.Results = &results
			})
		}
		if !f.OK() {
			// A number that is not one stops the form before the service sees it: say at
			// once whether the title is missing too.
			var pr models.Problems
			models.RequiredText("results[0].title", res.Title, models.MaxTitleRunes, false, &pr)
			f.addDomainErrorsAs(r.L, pr.Err(), resultField)
		}
		if !f.OK() || f.addDomainErrorsAs(r.L, err, resultField) {
			return u.projectAgain(r, id, 422, "result", f)
		}
		if err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=result_added#results")
	})
}

// documentField maps the service's field names for a new (the last) document to the
// document form's.
func documentField(name string) string {
	if _, rest, ok := strings.Cut(name, "]."); ok && strings.HasPrefix(name, "documents[") {
		return "doc_" + rest
	}
	return ""
}

// AddDocument links a document to a project (its donor, coordinators): a title, an http(s)
// address, and optionally an IATI document category and a language.
func (u *UI) AddDocument() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = map[string]string{"doc_title": r.L.T("document.title"), "doc_url": r.L.T("document.url"),
			"doc_category": r.L.T("document.category"), "doc_language": r.L.T("document.language")}
		d := models.Document{Title: models.CleanText(f.Get("doc_title")), URL: strings.TrimSpace(f.Get("doc_url")),
			Category: f.Get("doc_category"), Language: strings.ToLower(strings.TrimSpace(f.Get("doc_language")))}
		if d.Category != "" && !slices.Contains(documentCategories, d.Category) {
			f.Add("doc_category", r.L.T("err.choose"))
		}
		var err error
		if f.OK() {
			err = u.appendToProject(r, id, func(p *service.ProjectPatch, cur *models.Project) {
				docs := append(append([]models.Document{}, cur.Documents...), d)
				p.Documents = &docs
			})
		}
		if !f.OK() || f.addDomainErrorsAs(r.L, err, documentField) {
			return u.projectAgain(r, id, 422, "document", f)
		}
		if err != nil {
			return err
		}
		return r.redirect("/projects/" + url.PathEscape(id) + "?ok=document_added#documents")
	})
}

// IATIExport downloads the projects the viewer may see (in a country, when asked) as an IATI
// 2.03 activities file: the API's export, for a browser's session (the API's own needs a
// bearer token, which a link cannot send).
func (u *UI) IATIExport() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		b, err := u.app.ExportIATI(r.c.UserContext(), r.actor(), service.IATIExport{Country: r.c.Query("country"), BaseURL: r.c.BaseURL()})
		if err != nil {
			return err
		}
		r.c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
		r.c.Set(fiber.HeaderContentDisposition, `attachment; filename="capmatch-iati-activities.xml"`)
		r.c.Set(fiber.HeaderCacheControl, "no-store")
		r.c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return r.c.Send(b)
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

// Funding charts the funding gap by country, theme or capability: what live needs request
// against what was committed and disbursed to them, and the sum of their gaps (the service's
// one definition, FundingReport), drawn as SVG bars on the server.
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
		var scale, req, com, dis, gap int64
		for _, row := range rows {
			scale = max(scale, row.Requested, row.Committed, row.Disbursed)
			req += row.Requested
			com += row.Committed
			dis += row.Disbursed
			gap += row.Gap
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
			fr.Bar = newFundingBar(row.Requested, row.Committed, row.Disbursed, row.Gap, scale)
			p.Rows = append(p.Rows, fr)
		}
		p.Total = newFundingBar(req, com, dis, gap, 0)
		return r.render(200, "funding", r.L.T("funding.title"), "funding", p)
	})
}
