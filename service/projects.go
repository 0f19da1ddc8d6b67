package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// projectStore is the part of the store this use case needs: the projects, the audit trail and the organizations taking part.
type projectStore interface {
	models.ProjectStore
	models.AuditStore
	models.OrgStore
}

// Projects tracks funded work that came out of agreed engagements, as IATI activities: who
// takes part, dates, budget, status, results, documents and every money movement.
type Projects struct {
	store       projectStore
	model       *readmodel.Model
	bus         models.Bus
	needs       *Needs
	engagements *Engagements
	now         Clock
	log         *slog.Logger
	// events announces notices and changes of the deliveries under way.
	events *Events
}

// ProjectInput is the body of POST /projects.
type ProjectInput struct {
	EngagementID  string      `json:"engagement_id"`
	Title         string      `json:"title"`
	Description   string      `json:"description"`
	BudgetUSD     int64       `json:"budget_usd"`
	StartDate     models.Date `json:"start_date"`
	EndDate       models.Date `json:"end_date"`
	ImplementerID string      `json:"implementer_organization_id"`
}

// Overlap is another delivery of the same capability to the same country whose dates overlap:
// a sign of duplicated effort the coordinators want to see. Besides projects and engagements
// on capmatch, it may be an activity published to IATI by others (kind external_activity),
// which carries its identifier, its publisher and a Reason: why it counts and how much.
type Overlap struct {
	Kind       string            `json:"kind"` // project, engagement or external_activity
	ID         string            `json:"id"`
	Title      string            `json:"title,omitempty"`
	Country    string            `json:"country"`
	Capability models.Capability `json:"capability"`
	StartDate  models.Date       `json:"start_date"`
	EndDate    models.Date       `json:"end_date"`
	// IATIIdentifier and Publisher (the reporting organisation's ref) of an external activity.
	IATIIdentifier string         `json:"iati_identifier,omitempty"`
	Publisher      string         `json:"publisher,omitempty"`
	Reason         *OverlapReason `json:"reason,omitempty"`
}

// OverlapReason explains an overlap that does not count fully: a code, its arguments and its
// weight against 1 for a delivery on capmatch.
type OverlapReason struct {
	// Code is "external_activity": an activity published to IATI by others, mapped to the
	// capability with args.confidence (high, medium, low) from args.evidence (codes such as
	// "title:csirt", "sector:1:22040"), and covering the country at args.percentage.
	Code   string         `json:"code"`
	Args   map[string]any `json:"args"`
	Weight float64        `json:"weight"`
}

// datesOverlap reports whether two periods share a day; an empty start or end is open.
func datesOverlap(s1, e1, s2, e2 models.Date) bool {
	if e1 == "" {
		e1 = "9999-12-31"
	}
	if e2 == "" {
		e2 = "9999-12-31"
	}
	return s1 <= e2 && s2 <= e1
}

// ProjectView is a project as the API returns it: with its funding figures and any overlap
// warnings.
type ProjectView struct {
	*models.Project
	Funding  models.Funding `json:"funding"`
	Warnings []string       `json:"warnings,omitempty"`
	Overlaps []Overlap      `json:"overlaps,omitempty"`
}

// View adds the derived figures to a project.
func (s *Projects) View(p *models.Project) *ProjectView {
	return &ProjectView{Project: p, Funding: p.Funding()}
}

// Create starts a project from an agreed engagement (coordinators, or the engagement's donor),
// with dates inside the offer's window and the engagement's period. There is one project per
// engagement, with a random id. Without transactions the start is three conditional steps:
// the engagement takes a new project id (the idempotency key: a retried start finds it, and a
// cancellation can no longer happen); the need moves from matched to in_progress (the commit
// point against a withdrawal: if the withdrawal came first, the id is given back and the
// engagement cancelled, and the start is refused); the project is written under that id. A
// retry redoes what is missing and answers 200 with the same project.
func (s *Projects) Create(ctx context.Context, a *models.Actor, in ProjectInput) (*ProjectView, bool, error) {
	if in.EngagementID == "" {
		return nil, false, fieldErr("engagement_id", models.ProblemRequired, nil)
	}
	// Who may start it is decided before the input is checked: a caller who may not gets 403
	// or 404 whatever the body.
	e, err := s.engagements.Get(ctx, a, in.EngagementID)
	if err != nil {
		return nil, false, err
	}
	if err := models.AuthorizeStartProject(a, e); err != nil {
		return nil, false, err
	}
	var p models.Problems
	models.RequiredText("title", in.Title, models.MaxTitleRunes, false, &p)
	models.ValidText("description", in.Description, models.MaxDescriptionRunes, true, &p)
	if in.BudgetUSD <= 0 || in.BudgetUSD >= models.MaxBudgetUSD {
		p.Add("budget_usd", models.ProblemRange, models.BudgetRange())
	}
	checkDates(&p, "start_date", in.StartDate, "end_date", in.EndDate, true)
	if err := p.Err(); err != nil {
		return nil, false, err
	}
	if e.Status != models.EngagementAgreed {
		return nil, false, models.Errorf(models.ErrConflict, "only an agreed engagement becomes a project; this one is %s", e.Status)
	}
	n, err := s.needs.load(ctx, e.NeedID)
	if err != nil {
		return nil, false, err
	}
	if n.EngagementID != e.ID || (n.Status != models.NeedMatched && n.Status != models.NeedInProgress) {
		return nil, false, models.Errorf(models.ErrConflict, "the need is %s and not matched to this engagement: no project can start on it", n.Status)
	}
	o, err := s.engagements.offers.load(ctx, e.OfferID)
	if err != nil {
		return nil, false, err
	}
	models.CheckProjectDates(&p, in.StartDate, in.EndDate, o, e)
	if err := p.Err(); err != nil {
		return nil, false, err
	}
	implementer := e.OfferOrgID
	if in.ImplementerID != "" {
		implementer = in.ImplementerID
	}
	impl, err := s.org(ctx, implementer)
	if err != nil || (impl.Type != models.OrgImplementer && impl.Type != models.OrgDonor) {
		return nil, false, fieldErr("implementer_organization_id", models.ProblemOrgNotImplementer, nil)
	}
	donor, err := s.org(ctx, e.OfferOrgID)
	if err != nil {
		return nil, false, err
	}
	ministry, err := s.org(ctx, e.NeedOrgID)
	if err != nil {
		return nil, false, err
	}
	now := s.now().UTC()
	// Step 1: the engagement takes the project's id.
	// It takes this replica's lease (models.Lease), so that recovery on another replica does not
	// unlink a start still under way; a retry takes the lease over and finishes the same start.
	linked, err := s.engagements.update(ctx, e.ID, func(x *models.Engagement) error {
		if x.ProjectID == "" {
			if x.Status != models.EngagementAgreed {
				return models.Errorf(models.ErrConflict, "only an agreed engagement becomes a project; this one is %s", x.Status)
			}
			x.ProjectID = models.NewID(now)
		}
		x.Lease = models.NewLease(s.engagements.replica, now)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	pid := linked.ProjectID
	stillLinked := func(x *models.Engagement) bool { return x.ProjectID == pid }
	// Step 2: the need starts (a retry finds it in progress already), while this replica holds
	// the lease (a start that recovery unlinked after the lease lapsed stops here).
	if linked, err = s.engagements.holdWhile(ctx, linked, stillLinked); err != nil {
		return nil, false, err
	}
	if _, err := s.needs.update(ctx, nil, e.NeedID, nil, "", func(n *models.Need) error {
		if n.Status == models.NeedInProgress && n.EngagementID == e.ID {
			return errUnchanged
		}
		next, err := n.Next(models.NeedStart)
		if err != nil || n.EngagementID != e.ID {
			return models.Errorf(models.ErrConflict, "the need is %s: no project can start on it", n.Status)
		}
		n.Status = next
		return nil
	}); err != nil && !errors.Is(err, errUnchanged) {
		// The need was withdrawn first: give the id back and let the withdrawal's rule settle
		// the engagement (cancelled, its slot and amount released).
		if uerr := s.engagements.unlink(ctx, e.ID, linked.ProjectID); uerr == nil {
			if cur, gerr := s.engagements.load(ctx, e.ID); gerr == nil {
				_, _, _ = s.engagements.settle(context.WithoutCancel(ctx), a, cur, nil, nil, "")
			}
		}
		return nil, false, err
	}
	// Step 3: the project.
	theme, _ := models.CapabilityTheme(n.Capability)
	prj := &models.Project{
		ID: linked.ProjectID, EngagementID: e.ID, NeedID: e.NeedID, OfferID: e.OfferID,
		Title: models.CleanText(in.Title), Description: in.Description, Country: e.Country, Theme: theme, Capability: n.Capability,
		DonorOrgID: e.OfferOrgID, ImplementerID: impl.ID, NeedOrgID: e.NeedOrgID,
		Participants: []models.Participant{
			{OrganizationID: donor.ID, Name: donor.Name, Role: models.RoleFunding, Type: donor.IATIType},
			{OrganizationID: donor.ID, Name: donor.Name, Role: models.RoleExtending, Type: donor.IATIType},
			{OrganizationID: impl.ID, Name: impl.Name, Role: models.RoleImplementing, Type: impl.IATIType},
			{OrganizationID: ministry.ID, Name: ministry.Name, Role: models.RoleAccountable, Type: "10"},
		},
		PlannedStart: in.StartDate, PlannedEnd: in.EndDate, BudgetUSD: in.BudgetUSD, Status: models.StatusPipeline,
		Results: []models.Result{}, Documents: []models.Document{}, Transactions: []models.Transaction{},
		Maturity: n.Maturity, CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	created := true
	if linked, err = s.engagements.holdWhile(ctx, linked, stillLinked); err != nil {
		return nil, false, err
	}
	if err := s.store.CreateProject(ctx, prj); err != nil {
		if !errors.Is(err, models.ErrConflict) {
			return nil, false, err
		}
		existing, gerr := s.store.GetProject(ctx, prj.ID)
		if gerr != nil {
			return nil, false, gerr
		}
		prj, created = existing, false
	}
	s.applied(ctx, prj, true)
	// Step 4: the start is done; its lease goes (a lapsed one left by a crash here is harmless:
	// recovery unlinks only an engagement whose project does not exist).
	if _, err := s.engagements.update(context.WithoutCancel(ctx), e.ID, func(x *models.Engagement) error {
		if !x.Lease.HeldBy(s.engagements.replica) {
			return errUnchanged
		}
		x.Lease = nil
		return nil
	}); err != nil {
		s.log.WarnContext(ctx, "project started; its lease on the engagement stays until it lapses", "err", err, "engagement", e.ID)
	}
	v := s.View(prj)
	v.Overlaps = s.overlapsOf(viewAs(s.model, a), prj)
	if len(v.Overlaps) > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d other deliveries of %s to %s overlap these dates; see overlaps", len(v.Overlaps), prj.Capability, prj.Country))
	}
	// Coordinators hear of any duplication, including deliveries the project's donor may not see
	// (once: a retried start does not tell them again).
	if created && len(s.overlapsOf(systemView(s.model), prj)) > 0 {
		s.events.Notify(ctx, Notice{Feed: CoordinatorsFeed, Kind: KindOverlap, Args: models.Args{"capability": models.ArgOf(models.KindCapability, prj.Capability),
			"country": models.ArgOf(models.KindCountry, prj.Country)}, ObjectType: "project", ObjectID: prj.ID})
	}
	if created {
		audit(ctx, s.store, s.log, now, a, "create", "project", prj.ID, nil)
	}
	return v, created, nil
}

func (s *Projects) org(ctx context.Context, id string) (*models.Organization, error) {
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "organization not found")
	}
	return s.store.GetOrg(ctx, id)
}

// checkDates reports a period's dates that are not real dates (or missing, when required), or
// an end before the start.
func checkDates(p *models.Problems, fromName string, from models.Date, toName string, to models.Date, required bool) {
	fromOK, toOK := from.Valid(), to.Valid()
	for _, d := range []struct {
		name string
		v    models.Date
		ok   bool
	}{{fromName, from, fromOK}, {toName, to, toOK}} {
		switch {
		case d.ok:
		case d.v == "" && required:
			p.Add(d.name, models.ProblemDateRequired, nil)
		case d.v != "":
			p.Add(d.name, models.ProblemDateInvalid, models.Args{"got": models.ArgSent(string(d.v))})
		}
	}
	if fromOK && toOK && to < from {
		p.Add(toName, models.ProblemDateOrder, models.Args{"start": models.ArgDate(from)})
	}
}

// needOf finds the need of a project, for visibility; nil when unknown.
func (s *Projects) needOf(p *models.Project) *models.Need {
	n, _ := s.model.Need(p.NeedID)
	return n
}

// Get returns a project the actor may see.
func (s *Projects) Get(ctx context.Context, a *models.Actor, id string) (*ProjectView, error) {
	p, err := s.find(ctx, a, id, models.ActRead)
	if err != nil {
		return nil, err
	}
	v := s.View(p)
	v.Overlaps = s.overlapsOf(viewAs(s.model, a), p)
	return v, nil
}

// find reads a project for an action of the actor, through the one lookup path (see lookup).
func (s *Projects) find(ctx context.Context, a *models.Actor, id string, act models.Action) (*models.Project, error) {
	return lookup(ctx, id, "project", s.model.Project, s.store.GetProject, s.model.PutProject,
		func(p *models.Project) int64 { return p.Version },
		func(p *models.Project) error { return models.AuthorizeProject(a, act, p, s.needOf(p)) })
}

// Visible lists the projects the actor may see (a nil actor: none), filtered.
func (s *Projects) Visible(a *models.Actor, country, theme string, status int) []*models.Project {
	return viewAs(s.model, a).projects(func(p *models.Project) bool {
		return (country == "" || p.Country == country) && (theme == "" || string(p.Theme) == theme) &&
			(status == 0 || int(p.Status) == status)
	})
}

// List returns the projects the actor may see with their funding.
func (s *Projects) List(ctx context.Context, a *models.Actor, country, theme string, status int) ([]*ProjectView, error) {
	var p models.Problems
	country = models.NormalizeISO(country)
	if country != "" && !models.ValidISO(country) {
		p.Add("country", models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(country)})
	}
	if theme != "" && !models.Theme(theme).Valid() {
		p.Add("theme", models.ProblemUnknownTheme, models.Args{"value": models.ArgSent(theme)})
	}
	if status < 0 || status > 6 {
		p.Add("status", models.ProblemRange, activityStatusRange())
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	out := []*ProjectView{}
	for _, prj := range s.Visible(a, country, theme, status) {
		out = append(out, s.View(prj))
	}
	return out, nil
}

// ProjectPatch is the body of PATCH /projects/{id}.
type ProjectPatch struct {
	Title       *string            `json:"title"`
	Description *string            `json:"description"`
	StartDate   *models.Date       `json:"start_date"`
	EndDate     *models.Date       `json:"end_date"`
	ActualStart *models.Date       `json:"actual_start"`
	ActualEnd   *models.Date       `json:"actual_end"`
	BudgetUSD   *int64             `json:"budget_usd"`
	Results     *[]models.Result   `json:"results"`
	Documents   *[]models.Document `json:"documents"`
	Version     *int64             `json:"version"`
}

// Patch edits a project (its donor, coordinators).
func (s *Projects) Patch(ctx context.Context, a *models.Actor, id string, in ProjectPatch, ifMatch *int64) (*ProjectView, error) {
	want, err := pickVersion(in.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	var changed []string
	prj, err := s.update(ctx, a, id, want, models.ActUpdate, func(p *models.Project) error {
		set := func(name string, ok bool, f func()) {
			if ok {
				f()
				changed = append(changed, name)
			}
		}
		set("title", in.Title != nil, func() { p.Title = models.CleanText(*in.Title) })
		set("description", in.Description != nil, func() { p.Description = *in.Description })
		set("start_date", in.StartDate != nil, func() { p.PlannedStart = *in.StartDate })
		set("end_date", in.EndDate != nil, func() { p.PlannedEnd = *in.EndDate })
		set("actual_start", in.ActualStart != nil, func() { p.ActualStart = *in.ActualStart })
		set("actual_end", in.ActualEnd != nil, func() { p.ActualEnd = *in.ActualEnd })
		set("budget_usd", in.BudgetUSD != nil, func() { p.BudgetUSD = *in.BudgetUSD })
		set("results", in.Results != nil, func() { p.Results = *in.Results })
		set("documents", in.Documents != nil, func() { p.Documents = *in.Documents })
		if err := validateProject(p, models.DateOf(s.now())); err != nil {
			return err
		}
		if in.StartDate != nil || in.EndDate != nil {
			// New dates stay inside the offer's window and the engagement's period.
			var pr models.Problems
			o, _ := s.model.Offer(p.OfferID)
			e, _ := s.model.Engagement(p.EngagementID)
			models.CheckProjectDates(&pr, p.PlannedStart, p.PlannedEnd, o, e)
			return pr.Err()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "update", "project", id, changed)
	return s.View(prj), nil
}

// validateProject checks a project after an edit. Actual dates record what happened: they
// are never after today, and a project in pipeline has none (it has not started; moving it
// to implementation sets its actual start), so that the IATI export never reports a start
// or end that has not happened (IATI Validator rule 11.1.4).
func validateProject(p *models.Project, today models.Date) error {
	var pr models.Problems
	models.RequiredText("title", p.Title, models.MaxTitleRunes, false, &pr)
	models.ValidText("description", p.Description, models.MaxDescriptionRunes, true, &pr)
	if p.BudgetUSD <= 0 || p.BudgetUSD >= models.MaxBudgetUSD {
		pr.Add("budget_usd", models.ProblemRange, models.BudgetRange())
	}
	checkDates(&pr, "start_date", p.PlannedStart, "end_date", p.PlannedEnd, true)
	checkDates(&pr, "actual_start", p.ActualStart, "actual_end", p.ActualEnd, false)
	for _, d := range []struct {
		field string
		date  models.Date
	}{{"actual_start", p.ActualStart}, {"actual_end", p.ActualEnd}} {
		switch {
		case d.date == "" || !d.date.Valid():
		case d.date > today:
			pr.Add(d.field, models.ProblemFutureDate, models.Args{"today": models.ArgDate(today)})
		case p.Status == models.StatusPipeline:
			pr.Add(d.field, models.ProblemPipelineActual, nil)
		}
	}
	if len(p.Results) > 100 {
		pr.Add("results", models.ProblemListTooLong, models.Args{"max": models.ArgInt(100), "got": models.ArgInt(len(p.Results))})
	}
	for i, r := range p.Results {
		f := fmt.Sprintf("results[%d]", i)
		if r.Type != models.ResultOutput && r.Type != models.ResultOutcome {
			pr.Add(f+".type", models.ProblemOneOf, models.OneOf([]models.ResultType{models.ResultOutput, models.ResultOutcome}))
		}
		models.RequiredText(f+".title", r.Title, models.MaxTitleRunes, false, &pr)
		models.ValidText(f+".description", r.Description, 5000, true, &pr)
		for name, v := range map[string]*int{"baseline": r.Baseline, "target": r.Target, "achieved": r.Achieved} {
			if v != nil && (*v < 0 || *v > 1_000_000_000) {
				pr.Add(f+"."+name, models.ProblemRange, models.Args{"min": models.ArgInt(0), "max": models.ArgInt(1_000_000_000)})
			}
		}
	}
	if len(p.Documents) > 100 {
		pr.Add("documents", models.ProblemListTooLong, models.Args{"max": models.ArgInt(100), "got": models.ArgInt(len(p.Documents))})
	}
	for i, d := range p.Documents {
		f := fmt.Sprintf("documents[%d]", i)
		models.RequiredText(f+".title", d.Title, models.MaxTitleRunes, false, &pr)
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(d.URL) > 2000 {
			pr.Add(f+".url", models.ProblemURL, nil)
		}
		models.ValidText(f+".category", d.Category, 3, false, &pr)
		if d.Language != "" && !models.ValidLanguage(d.Language) {
			pr.Add(f+".language", models.ProblemUnknownLanguage, models.Args{"value": models.ArgSent(d.Language)})
		}
	}
	return pr.Err()
}

// activityStatusRange is the range problem's arguments of an IATI activity status code.
func activityStatusRange() models.Args {
	return models.Args{"min": models.ArgInt(1), "max": models.ArgInt(6)}
}

// statusMoves lists the IATI status changes a project may make.
var statusMoves = map[models.ActivityStatus][]models.ActivityStatus{
	models.StatusPipeline:       {models.StatusImplementation, models.StatusCancelled, models.StatusSuspended},
	models.StatusImplementation: {models.StatusFinalisation, models.StatusCancelled, models.StatusSuspended},
	models.StatusFinalisation:   {models.StatusClosed, models.StatusImplementation},
	models.StatusSuspended:      {models.StatusImplementation, models.StatusCancelled},
}

// SetStatus moves a project to another IATI activity status. Closing needs at least one
// recorded result; a closed project fulfils its need.
func (s *Projects) SetStatus(ctx context.Context, a *models.Actor, id string, to models.ActivityStatus, reason string) (*ProjectView, error) {
	if to < 1 || to > 6 {
		return nil, fieldErr("status", models.ProblemRange, activityStatusRange())
	}
	prj, err := s.update(ctx, a, id, nil, models.ActStatus, func(p *models.Project) error {
		allowed := false
		for _, t := range statusMoves[p.Status] {
			allowed = allowed || t == to
		}
		if !allowed {
			e := models.Errorf(models.ErrConflict, "a project in status %d cannot move to %d", p.Status, to)
			e.Code, e.Args = models.ConflictStatusMove, models.Args{"from": models.ArgInt(int(p.Status)), "to": models.ArgInt(int(to))}
			return e
		}
		if to == models.StatusClosed && len(p.Results) == 0 {
			e := models.Errorf(models.ErrConflict, "record the project's results before closing it")
			e.Code = models.ConflictResultsMissing
			return e
		}
		today := models.DateOf(s.now())
		if to == models.StatusImplementation && p.ActualStart == "" {
			p.ActualStart = today
		}
		if (to == models.StatusClosed || to == models.StatusCancelled) && p.ActualEnd == "" {
			p.ActualEnd = today
		}
		p.Status = to
		return nil
	})
	if err != nil {
		return nil, err
	}
	if to == models.StatusClosed {
		if _, err := s.needs.update(ctx, nil, prj.NeedID, nil, "", func(n *models.Need) error {
			next, err := n.Next(models.NeedFulfil)
			if err != nil {
				return errUnchanged
			}
			n.Status = next
			return nil
		}); err != nil && !errors.Is(err, errUnchanged) {
			s.log.WarnContext(ctx, "project closed but the need was not fulfilled", "err", err)
		}
	}
	audit(ctx, s.store, s.log, s.now(), a, fmt.Sprintf("status %d", to), "project", id, []string{"status"})
	return s.View(prj), nil
}

// TransactionInput is the body of POST /projects/{id}/transactions.
type TransactionInput struct {
	Type        models.TransactionType `json:"type"`
	AmountUSD   int64                  `json:"amount_usd"`
	Date        models.Date            `json:"date"`
	Description string                 `json:"description"`
}

// AddTransaction records a money movement (the project's donor or implementer, coordinators).
// A disbursement beyond what was committed is accepted with a warning, as happens when a
// commitment is recorded late. A transaction records money that moved or was committed, so
// its date is never after today (UTC): money planned for later belongs in the project's
// budget, which the IATI export splits by year. (The IATI Validator refuses future-dated
// transactions, rules 11.2.1 and 11.2.2; publishing them as planned disbursements would
// invent a schedule nobody recorded.)
func (s *Projects) AddTransaction(ctx context.Context, a *models.Actor, id string, in TransactionInput) (*models.Transaction, *ProjectView, error) {
	var p models.Problems
	switch in.Type {
	case models.TxPledge, models.TxCommitment, models.TxDisbursement, models.TxExpenditure:
	default:
		p.Add("type", models.ProblemOneOf, models.OneOf([]models.TransactionType{models.TxPledge, models.TxCommitment,
			models.TxDisbursement, models.TxExpenditure}))
	}
	if in.AmountUSD <= 0 || in.AmountUSD >= models.MaxBudgetUSD {
		p.Add("amount_usd", models.ProblemRange, models.BudgetRange())
	}
	today := models.DateOf(s.now())
	switch {
	case in.Date == "":
		p.Add("date", models.ProblemDateRequired, nil)
	case !in.Date.Valid():
		p.Add("date", models.ProblemDateInvalid, models.Args{"got": models.ArgSent(string(in.Date))})
	case in.Date > today:
		p.Add("date", models.ProblemFutureDate, models.Args{"today": models.ArgDate(today)})
	}
	models.ValidText("description", in.Description, 2000, true, &p)
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	var tx models.Transaction
	prj, err := s.update(ctx, a, id, nil, models.ActTransaction, func(p *models.Project) error {
		if len(p.Transactions) >= 10_000 {
			return models.Errorf(models.ErrConflict, "the project has too many transactions")
		}
		now := s.now().UTC()
		tx = models.Transaction{ID: models.NewID(now), Type: in.Type, AmountUSD: in.AmountUSD, Date: in.Date,
			Description: models.CleanText(in.Description), CreatedBy: a.UserID, CreatedAt: now}
		p.Transactions = append(p.Transactions, tx)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	v := s.View(prj)
	if v.Funding.Disbursed > v.Funding.Committed {
		v.Warnings = append(v.Warnings, fmt.Sprintf("disbursements ($%d) exceed commitments ($%d)", v.Funding.Disbursed, v.Funding.Committed))
	}
	audit(ctx, s.store, s.log, s.now(), a, "transaction", "project", id, []string{string(in.Type)})
	return &tx, v, nil
}

// update is the project's read-modify-write loop.
func (s *Projects) update(ctx context.Context, a *models.Actor, id string, want *int64, act models.Action, apply func(*models.Project) error) (*models.Project, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.find(ctx, a, id, act)
		if err != nil {
			return nil, err
		}
		if want != nil && *want != cur.Version {
			return nil, models.Errorf(models.ErrConflict, "version %d is stale: the project is at version %d; reload it", *want, cur.Version)
		}
		p := *cur
		p.Results = append([]models.Result(nil), cur.Results...)
		p.Documents = append([]models.Document(nil), cur.Documents...)
		p.Transactions = append([]models.Transaction(nil), cur.Transactions...)
		p.Participants = append([]models.Participant(nil), cur.Participants...)
		if err := apply(&p); err != nil {
			return nil, err
		}
		fillProject(&p)
		p.Version = cur.Version + 1
		p.UpdatedAt = s.now().UTC()
		err = s.store.ReplaceProject(ctx, &p, cur.Version)
		if err == nil {
			s.applied(ctx, &p, cur.Active() != p.Active())
			return &p, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 8 {
			return nil, err
		}
		// Someone wrote first: take the store's version (see Needs.update), then answer the 409
		// or try again.
		if fresh, gerr := s.store.GetProject(ctx, id); gerr == nil {
			s.model.PutProject(fresh)
		}
		if want != nil {
			return nil, err
		}
	}
}

func fillProject(p *models.Project) {
	if p.Results == nil {
		p.Results = []models.Result{}
	}
	if p.Documents == nil {
		p.Documents = []models.Document{}
	}
	if p.Transactions == nil {
		p.Transactions = []models.Transaction{}
	}
}

func (s *Projects) applied(ctx context.Context, p *models.Project, contextChanged bool) {
	commit(ctx, s.bus, s.log, models.Event{Type: models.EventProject, ID: p.ID, Version: p.Version, At: p.UpdatedAt, Data: mustJSON(p)},
		func() { s.model.PutProject(p) })
	if contextChanged {
		s.events.DeliveriesChanged(readmodel.Local)
	}
}

// overlapsOf lists the deliveries v sees (active projects and agreed engagements without a
// project) of the same capability to the same country as p, with overlapping dates, other
// than p itself and its engagement.
// Activities published to IATI by others (that v sees) count too, with their reason.
func (s *Projects) overlapsOf(v view, p *models.Project) []Overlap {
	start, end := p.PlannedStart, p.PlannedEnd
	same := func(o Overlap) bool {
		return o.ID != p.ID && o.ID != p.EngagementID && o.Country == p.Country && o.Capability == p.Capability &&
			datesOverlap(o.StartDate, o.EndDate, start, end)
	}
	return append(v.deliveries(same), v.externalDeliveries(same)...)
}

// OverlapPair is one pair of deliveries that overlap.
type OverlapPair struct {
	A Overlap `json:"a"`
	B Overlap `json:"b"`
}

// Overlaps lists every pair of visible active projects and agreed engagements that deliver the
// same capability to the same country over overlapping dates, and every pair of one of them
// with an activity published to IATI by others that does (b, with its reason). Pairs of two
// external activities are not listed: capmatch reports duplication it can act on.
func (s *Projects) Overlaps(ctx context.Context, a *models.Actor) []OverlapPair {
	v := viewAs(s.model, a)
	items := v.deliveries(nil)
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	ext := v.externalDeliveries(nil)
	out := []OverlapPair{}
	for i := range items {
		x := items[i]
		for j := i + 1; j < len(items); j++ {
			y := items[j]
			if x.Country == y.Country && x.Capability == y.Capability && datesOverlap(x.StartDate, x.EndDate, y.StartDate, y.EndDate) {
				out = append(out, OverlapPair{A: x, B: y})
			}
		}
		for _, y := range ext {
			if x.Country == y.Country && x.Capability == y.Capability && datesOverlap(x.StartDate, x.EndDate, y.StartDate, y.EndDate) {
				out = append(out, OverlapPair{A: x, B: y})
			}
		}
	}
	return out
}
