package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// The self-assessment pages: a country's list of assessments, the questionnaire form (it works
// without JavaScript: one POST), and the results page with a chart per area, what changed since
// the previous assessment, the maturity baselines and the proposed needs. Only the country's
// ministries and coordinators reach them (the service answers 403 to anyone else).

// assessmentRow is one assessment in the country's list.
type assessmentRow struct {
	service.AssessmentSummary
	Org string
}

// assessmentsPage is the data of a country's list of self-assessments.
type assessmentsPage struct {
	ISO, Label string
	Items      []assessmentRow
	CanAnswer  bool
}

// Assessments lists a country's self-assessments, newest first.
func (u *UI) Assessments() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a, ctx := r.actor(), r.c.UserContext()
		items, err := u.app.Assessments.List(ctx, a, r.c.Params("iso"))
		if err != nil {
			return err
		}
		iso := models.NormalizeISO(r.c.Params("iso"))
		p := &assessmentsPage{ISO: iso, Label: r.L.Country(iso), CanAnswer: models.AuthorizeAssessments(a, models.ActCreate, iso, "") == nil}
		for _, it := range items {
			p.Items = append(p.Items, assessmentRow{AssessmentSummary: it, Org: u.orgName(ctx, it.OrganizationID)})
		}
		return r.render(200, "assessments", r.L.T("assessments.title", p.Label), "countries", p)
	})
}

// questionView is one question as the form and the results show it.
type questionView struct {
	Code, Text, Ref string
	Required        bool
	Scale           models.Scale
	Answers         []models.ScaleAnswer
}

// areaView is one area with its questions.
type areaView struct {
	Code, Title, Intro string
	Questions          []questionView
}

// questionnaireView is the current questionnaire in the page's language.
func questionnaireView(L *Localizer) []areaView {
	qn, _ := models.LookupQuestionnaire(models.CurrentQuestionnaire)
	doc := qn.Document(L.Lang)
	scales := map[models.Scale][]models.ScaleAnswer{}
	for _, s := range doc.Scales {
		scales[s.Code] = s.Answers
	}
	out := make([]areaView, 0, len(doc.Areas))
	for _, a := range doc.Areas {
		av := areaView{Code: a.Code, Title: a.Title, Intro: a.Intro}
		for _, q := range a.Questions {
			av.Questions = append(av.Questions, questionView{Code: q.Code, Text: q.Text, Ref: q.Reference, Required: q.Required,
				Scale: q.Scale, Answers: scales[q.Scale]})
		}
		out = append(out, av)
	}
	return out
}

// assessmentFormPage is the data of the questionnaire form.
type assessmentFormPage struct {
	ISO, Label string
	F          *form
	Areas      []areaView
	// Orgs are the government organizations a coordinator may answer for.
	Orgs    []option
	Curator bool
}

// assessmentForm builds the form page; prefill fills it with the latest assessment's answers.
func (u *UI) assessmentForm(r *req, iso string, f *form, prefill bool) (*assessmentFormPage, error) {
	a, ctx := r.actor(), r.c.UserContext()
	items, err := u.app.Assessments.List(ctx, a, iso)
	if err != nil {
		return nil, err
	}
	p := &assessmentFormPage{ISO: iso, Label: r.L.Country(iso), F: f, Areas: questionnaireView(r.L), Curator: a.Role.Curates()}
	latest := ""
	if len(items) > 0 {
		latest = items[0].ID
	}
	if prefill {
		f.Values.Set("supersedes", latest)
		if latest != "" {
			v, err := u.app.Assessments.Get(ctx, a, iso, latest)
			if err != nil {
				return nil, err
			}
			for _, x := range v.Answers {
				if x.Value != nil {
					f.Values.Set("answers."+x.Question, strconv.Itoa(*x.Value))
				}
			}
			if p.Curator {
				f.Values.Set("organization_id", v.OrganizationID)
			}
		}
	}
	if p.Curator {
		orgs, err := u.app.Accounts.ListOrgs(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			if o.Type == models.OrgGovernment && o.Country == iso {
				p.Orgs = append(p.Orgs, option{Value: o.ID, Label: o.Name})
			}
		}
		sortByName(r.L, p.Orgs, func(o option) string { return o.Label })
	}
	f.labels = assessmentLabels(r.L)
	return p, nil
}

// assessmentLabels names the form's fields for the error summary: each question by its text.
func assessmentLabels(L *Localizer) map[string]string {
	m := map[string]string{"organization_id": L.T("assessment.organization")}
	for _, ar := range questionnaireView(L) {
		for _, q := range ar.Questions {
			m["answers."+q.Code] = q.Text
			m["comments."+q.Code] = q.Text
		}
	}
	return m
}

// NewAssessment shows the questionnaire, filled with the latest answers so that only what
// changed needs answering again.
func (u *UI) NewAssessment() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso := models.NormalizeISO(r.c.Params("iso"))
		if !models.ValidISO(iso) {
			return models.Errorf(models.ErrNotFound, "no such country")
		}
		if err := models.AuthorizeAssessments(r.actor(), models.ActCreate, iso, ""); err != nil {
			return err
		}
		p, err := u.assessmentForm(r, iso, newForm(), true)
		if err != nil {
			return err
		}
		return r.render(200, "assessment_form", r.L.T("assessment.form_title", p.Label), "countries", p)
	})
}

// SubmitAssessment stores the answers and shows the results with the proposed needs. Invalid
// answers show the form again with each problem next to its question.
func (u *UI) SubmitAssessment() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a, ctx := r.actor(), r.c.UserContext()
		iso := models.NormalizeISO(r.c.Params("iso"))
		f := postedForm(r.c)
		f.labels = assessmentLabels(r.L)
		in := service.AssessmentInput{Language: r.L.Lang, OrganizationID: f.Get("organization_id"),
			Answers: map[string]*int{}, Comments: map[string]string{}}
		sup := f.Get("supersedes")
		in.Supersedes = &sup
		for k, vs := range f.Values {
			if len(vs) == 0 {
				continue
			}
			if code, ok := strings.CutPrefix(k, "answers."); ok && strings.TrimSpace(vs[0]) != "" {
				n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
				if err != nil {
					n = -1 // off every scale: the service names the question
				}
				in.Answers[code] = &n
			}
			if code, ok := strings.CutPrefix(k, "comments."); ok {
				in.Comments[code] = vs[0]
			}
		}
		render := func(status int, prefill bool) error {
			p, err := u.assessmentForm(r, iso, f, prefill)
			if err != nil {
				return err
			}
			return r.render(status, "assessment_form", r.L.T("assessment.form_title", p.Label), "countries", p)
		}
		v, err := u.app.Assessments.Submit(ctx, a, iso, in, r.L.Lang)
		if errors.Is(err, models.ErrInvalid) {
			// Field names are the API's: answers.<code>, comments.<code>, organization_id.
			f.addDomainErrorsAs(r.L, err, func(s string) string { return s })
			return render(422, false)
		}
		if errors.Is(err, models.ErrConflict) {
			// Someone submitted in between: show their answers, to check and submit again.
			f = newForm()
			f.labels = assessmentLabels(r.L)
			f.Add("", r.L.T("assessment.stale"))
			return render(409, true)
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + url.PathEscape(v.Country) + "/assessments/" + url.PathEscape(v.ID) + "?ok=assessment_submitted#proposals")
	})
}

// barRow is one bar of a results chart: a share in [0,1] now and, when there is one, before.
type barRow struct {
	Key, Label, Value string
	Score             float64
	// Prev is the previous assessment's value, when HasPrev.
	Prev    float64
	HasPrev bool
}

// resultArea is one area of the results: its chart (a bar per question) and its score.
type resultArea struct {
	Code, Title string
	Score       float64
	Prev        float64
	HasPrev     bool
	Answered    int
	Questions   int
	Bars        []barRow
}

// answerChangeRow is one answer that changed.
type answerChangeRow struct {
	Question, Before, After string
}

// proposalRow is one proposed need.
type proposalRow struct {
	service.ProposalView
	// Edit is where "review and edit" leads: the need form for its ministry, the need's page
	// otherwise.
	Edit string
}

// assessmentPage is the data of the results page.
type assessmentPage struct {
	ISO, Label string
	V          *service.AssessmentView
	Org        string
	Areas      []resultArea
	Summary    []barRow
	Changes    []answerChangeRow
	Proposals  []proposalRow
	CanPropose bool
	Mine       bool
}

// Assessment shows one self-assessment's results: a chart per area (server-rendered SVG bars,
// with the previous assessment's as a mark), what changed, the maturity baselines and the
// proposed needs with a way to review and edit each.
func (u *UI) Assessment() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a, ctx := r.actor(), r.c.UserContext()
		iso := models.NormalizeISO(r.c.Params("iso"))
		v, err := u.app.Assessments.Get(ctx, a, iso, r.c.Params("id"))
		if err != nil {
			return err
		}
		p := u.assessmentPage(r, v)
		return r.render(200, "assessment", r.L.T("assessment.results_title", p.Label, r.L.Date(v.SubmittedAt)), "countries", p)
	})
}

func (u *UI) assessmentPage(r *req, v *service.AssessmentView) *assessmentPage {
	a, ctx, L := r.actor(), r.c.UserContext(), r.L
	qn, _ := models.LookupQuestionnaire(v.Questionnaire)
	p := &assessmentPage{ISO: v.Country, Label: L.Country(v.Country), V: v, Org: u.orgName(ctx, v.OrganizationID),
		Mine:       a.UserID == v.SubmittedBy,
		CanPropose: v.Latest && models.AuthorizeAssessments(a, models.ActPropose, v.Country, v.OrganizationID) == nil}
	prevArea := map[string]float64{}
	prevAnswer := map[string]*int{}
	if v.Changes != nil {
		for _, c := range v.Changes.Areas {
			prevArea[c.Area] = c.From
		}
		for _, c := range v.Changes.Answers {
			prevAnswer[c.Question] = c.From
		}
	}
	views := map[string]areaView{}
	for _, av := range questionnaireView(L) {
		views[av.Code] = av
	}
	for _, res := range v.Areas {
		av := views[res.Area]
		ra := resultArea{Code: res.Area, Title: av.Title, Score: res.Score, Answered: res.Answered, Questions: res.Questions}
		ra.Prev, ra.HasPrev = prevArea[res.Area]
		for _, q := range av.Questions {
			x, _ := v.Assessment.Answer(q.Code)
			row := barRow{Key: q.Code, Label: q.Text, Value: L.T("assessment.not_answered")}
			if x.Value != nil {
				row.Score, row.Value = q.Scale.Score(*x.Value), models.AnswerLabel(L.Lang, q.Scale, *x.Value)
			}
			if before, changed := prevAnswer[q.Code]; changed && before != nil {
				row.Prev, row.HasPrev = q.Scale.Score(*before), true
			} else if !changed && x.Value != nil && v.Changes != nil {
				row.Prev, row.HasPrev = row.Score, true // unchanged: the mark sits at the bar's end
			}
			ra.Bars = append(ra.Bars, row)
		}
		p.Areas = append(p.Areas, ra)
		sum := barRow{Key: res.Area, Label: av.Title, Score: res.Score, Value: L.T("assessment.score", L.Points(res.Score))}
		sum.Prev, sum.HasPrev = ra.Prev, ra.HasPrev
		p.Summary = append(p.Summary, sum)
	}
	if v.Changes != nil {
		for _, c := range v.Changes.Answers {
			q, _ := qn.Question(c.Question)
			label := func(x *int) string {
				if x == nil {
					return L.T("assessment.not_answered")
				}
				return models.AnswerLabel(L.Lang, q.Scale, *x)
			}
			p.Changes = append(p.Changes, answerChangeRow{Question: q.Text(L.Lang), Before: label(c.From), After: label(c.To)})
		}
	}
	for _, pr := range v.Proposals {
		row := proposalRow{ProposalView: pr}
		if pr.NeedID != "" {
			row.Edit = "/needs/" + pr.NeedID
			if pr.Editable && a.Role == models.RoleMinistry {
				row.Edit = "/ministry/needs/" + pr.NeedID + "/edit"
			}
		}
		p.Proposals = append(p.Proposals, row)
	}
	return p
}

// ProposeFromAssessment creates the missing proposals of the latest assessment again.
func (u *UI) ProposeFromAssessment() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, id := models.NormalizeISO(r.c.Params("iso")), r.c.Params("id")
		if _, err := u.app.Assessments.Propose(r.c.UserContext(), r.actor(), iso, id); err != nil {
			return err
		}
		return r.redirect(fmt.Sprintf("/countries/%s/assessments/%s?ok=proposals_created#proposals", url.PathEscape(iso), url.PathEscape(id)))
	})
}
