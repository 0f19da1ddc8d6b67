package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// assessmentStore is the part of the store this use case needs: self-assessments, the draft needs they propose, the audit trail.
type assessmentStore interface {
	models.AssessmentStore
	models.NeedStore
	models.AuditStore
}

// Assessments is the use cases of self-assessments: a country's ministries (and coordinators)
// answer the questionnaire; the answers set the readiness facts they state and the maturity
// baselines, and each gap becomes a proposed draft need for the ministry to review, edit and
// submit. Nothing is posted without a person.
type Assessments struct {
	store     assessmentStore
	model     *readmodel.Model
	needs     *Needs
	countries *Countries
	now       Clock
	log       *slog.Logger
}

// AssessmentInput is the body of POST /countries/{iso}/assessments. Answers and comments are
// keyed by question code; an answer is a whole number on the question's scale (null or absent:
// not answered).
type AssessmentInput struct {
	// Questionnaire is the version answered; empty means the current one.
	Questionnaire string `json:"questionnaire"`
	// Language is the language the answers (and the proposed needs) are in; empty means the
	// caller's.
	Language string `json:"language"`
	// OrganizationID is the government organization that answers: required from a coordinator
	// (a ministry answers for its own).
	OrganizationID string `json:"organization_id"`
	// Supersedes, when given, is the id of the latest assessment the answers were based on (""
	// for none yet): if another was submitted meanwhile, the submission is a 409.
	Supersedes *string           `json:"supersedes"`
	Answers    map[string]*int   `json:"answers"`
	Comments   map[string]string `json:"comments"`
}

// AssessmentSummary is an assessment in a country's list.
type AssessmentSummary struct {
	ID             string              `json:"id"`
	Questionnaire  string              `json:"questionnaire"`
	OrganizationID string              `json:"organization_id"`
	SubmittedBy    string              `json:"submitted_by"`
	SubmittedAt    time.Time           `json:"submitted_at"`
	Supersedes     string              `json:"supersedes,omitempty"`
	SupersededBy   string              `json:"superseded_by,omitempty"`
	Latest         bool                `json:"latest"`
	Areas          []models.AreaResult `json:"areas"`
	Gaps           []models.Capability `json:"gaps"`
}

// AssessmentView is one assessment with its results: where the country stands per area, the
// maturity baseline per capability (with its gaps), what changed since the previous
// assessment, and the needs its gaps proposed.
type AssessmentView struct {
	*models.Assessment
	SupersededBy string              `json:"superseded_by,omitempty"`
	Latest       bool                `json:"latest"`
	Areas        []models.AreaResult `json:"areas"`
	Baselines    []models.Baseline   `json:"baselines"`
	Changes      *AssessmentChanges  `json:"changes,omitempty"`
	Proposals    []ProposalView      `json:"proposals"`
	// Readiness lists the readiness facts this submission changed (only in the answer to the
	// submission itself).
	Readiness []ReadinessFactChange `json:"readiness_changes,omitempty"`
}

// AssessmentChanges is what changed since the previous assessment.
type AssessmentChanges struct {
	Previous string                `json:"previous"`
	Answers  []models.AnswerChange `json:"answers"`
	Areas    []models.AreaChange   `json:"areas"`
}

// ProposalView is what one gap proposed, as far as the caller may see: the draft need this
// assessment created for it (Proposed true), or a live need of the answering organization that
// already covers the capability (Proposed false, nothing was created). Needs the caller may not
// see are left out: then neither is named and Proposed is false.
type ProposalView struct {
	Capability models.Capability `json:"capability"`
	Proposed   bool              `json:"proposed"`
	NeedID     string            `json:"need_id,omitempty"`
	Title      string            `json:"title,omitempty"`
	Status     models.NeedStatus `json:"status,omitempty"`
	// Editable says the caller may edit the need now (a draft of its own organization).
	Editable bool `json:"editable"`
}

// Questionnaire returns the current questionnaire in lang.
func (s *Assessments) Questionnaire(lang string) models.QuestionnaireDoc {
	qn, _ := models.LookupQuestionnaire(models.CurrentQuestionnaire)
	return qn.Document(lang)
}

// country checks the code and who may read and answer its assessments.
func assessmentsCountry(a *models.Actor, act models.Action, iso string) (string, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return "", models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	if err := models.AuthorizeAssessments(a, act, iso, ""); err != nil {
		return "", err
	}
	return iso, nil
}

// List returns a country's assessments, newest first (its ministries and coordinators).
func (s *Assessments) List(ctx context.Context, a *models.Actor, iso string) ([]AssessmentSummary, error) {
	iso, err := assessmentsCountry(a, models.ActRead, iso)
	if err != nil {
		return nil, err
	}
	items, _, err := s.store.ListAssessments(ctx, iso)
	if err != nil {
		return nil, err
	}
	out := make([]AssessmentSummary, 0, len(items))
	for i := len(items) - 1; i >= 0; i-- {
		x := items[i]
		areas, bs := x.Results()
		sum := AssessmentSummary{ID: x.ID, Questionnaire: x.Questionnaire, OrganizationID: x.OrganizationID, SubmittedBy: x.SubmittedBy,
			SubmittedAt: x.SubmittedAt, Supersedes: x.Supersedes, Latest: i == len(items)-1, Areas: areas, Gaps: []models.Capability{}}
		if i+1 < len(items) {
			sum.SupersededBy = items[i+1].ID
		}
		for _, b := range bs {
			if b.Gap {
				sum.Gaps = append(sum.Gaps, b.Capability)
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

// find loads a country's assessments and the one with id (with its index).
func (s *Assessments) find(ctx context.Context, iso, id string) ([]*models.Assessment, int, error) {
	if !models.ValidID(id) {
		return nil, 0, models.Errorf(models.ErrNotFound, "assessment not found")
	}
	items, _, err := s.store.ListAssessments(ctx, iso)
	if err != nil {
		return nil, 0, err
	}
	for i, x := range items {
		if x.ID == id {
			return items, i, nil
		}
	}
	return nil, 0, models.Errorf(models.ErrNotFound, "assessment not found")
}

// Get returns one assessment with its results (the country's ministries and coordinators).
func (s *Assessments) Get(ctx context.Context, a *models.Actor, iso, id string) (*AssessmentView, error) {
	iso, err := assessmentsCountry(a, models.ActRead, iso)
	if err != nil {
		return nil, err
	}
	items, i, err := s.find(ctx, iso, id)
	if err != nil {
		return nil, err
	}
	return s.view(a, items, i), nil
}

// view builds an assessment's view for the actor.
func (s *Assessments) view(a *models.Actor, items []*models.Assessment, i int) *AssessmentView {
	x := items[i]
	v := &AssessmentView{Assessment: x, Latest: i == len(items)-1, Proposals: []ProposalView{}}
	if i+1 < len(items) {
		v.SupersededBy = items[i+1].ID
	}
	v.Areas, v.Baselines = x.Results()
	if i > 0 {
		answers, areas := models.CompareAssessments(items[i-1], x)
		if answers == nil {
			answers = []models.AnswerChange{}
		}
		v.Changes = &AssessmentChanges{Previous: items[i-1].ID, Answers: answers, Areas: areas}
	}
	// What each gap proposed, as far as the caller may see: the need this assessment created,
	// else a live need of the organization that covers the gap. Needs the caller may not see
	// count as absent, so nothing here depends on them.
	vw := viewAs(s.model, a)
	for _, b := range v.Baselines {
		if !b.Proposes() {
			continue
		}
		p := ProposalView{Capability: b.Capability}
		n, ok := s.model.Need(models.ProposalNeedID(x, b.Capability))
		if ok && vw.need(n) {
			p.Proposed = true
		} else {
			n = liveNeed(vw, x.OrganizationID, b.Capability)
		}
		if n != nil {
			p.NeedID, p.Title, p.Status = n.ID, n.Title, n.Status
			p.Editable = models.AuthorizeNeed(a, models.ActUpdate, n) == nil && n.Editable(a) == nil
		}
		v.Proposals = append(v.Proposals, p)
	}
	return v
}

// liveNeed finds, among the needs the view sees, the newest need of the organization for the
// capability that is still alive (from a draft to in progress).
func liveNeed(v view, orgID string, c models.Capability) *models.Need {
	live := v.allNeeds(func(n *models.Need) bool {
		if n.OrganizationID != orgID || n.Capability != c {
			return false
		}
		switch n.Status {
		case models.NeedDraft, models.NeedSubmitted, models.NeedOpen, models.NeedMatched, models.NeedInProgress:
			return true
		}
		return false
	})
	if len(live) == 0 {
		return nil
	}
	return live[0]
}

// Submit stores a country's new self-assessment, which supersedes the previous one, then sets
// the readiness facts it derives and proposes a draft need for each gap. Bad answers are a 422
// listing every problem, and change nothing.
func (s *Assessments) Submit(ctx context.Context, a *models.Actor, iso string, in AssessmentInput, lang string) (*AssessmentView, error) {
	iso, err := assessmentsCountry(a, models.ActCreate, iso)
	if err != nil {
		return nil, err
	}
	orgID := a.OrgID
	if a.Role.Curates() {
		org, err := s.needs.governmentOrg(ctx, in.OrganizationID)
		if err != nil {
			return nil, err
		}
		if org.Country != iso {
			return nil, fieldErr("organization_id", models.ProblemOrgCountry, models.Args{"organization": models.ArgText(org.Name), "country": models.ArgOf(models.KindCountry, iso)})
		}
		orgID = org.ID
	} else if in.OrganizationID != "" && in.OrganizationID != a.OrgID {
		return nil, models.Errorf(models.ErrForbidden, "a ministry answers only for its own organization")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	x := &models.Assessment{ID: models.NewID(now), Country: iso, OrganizationID: orgID, Questionnaire: in.Questionnaire,
		Language: in.Language, SubmittedBy: a.UserID, SubmittedAt: now}
	if x.Questionnaire == "" {
		x.Questionnaire = models.CurrentQuestionnaire
	}
	if x.Language == "" {
		x.Language = models.NormalizeLang(lang)
	}
	x.Answers = answersOf(in)
	x.Normalize()
	if err := x.Validate(); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		items, version, err := s.store.ListAssessments(ctx, iso)
		if err != nil {
			return nil, err
		}
		latest := ""
		if len(items) > 0 {
			latest = items[len(items)-1].ID
		}
		if in.Supersedes != nil && *in.Supersedes != latest {
			return nil, models.Errorf(models.ErrConflict, "another assessment of %s was submitted meanwhile (%s): reload it and answer again", iso, latest)
		}
		x.Supersedes = latest
		err = s.store.AppendAssessment(ctx, x, version)
		if err == nil {
			break
		}
		if !errors.Is(err, models.ErrConflict) || in.Supersedes != nil || attempt >= 4 {
			return nil, err
		}
	}
	audit(ctx, s.store, s.log, now, a, "submit", "assessment", x.ID, []string{iso})
	changes, err := s.countries.applyAssessment(ctx, a, x)
	if err != nil {
		return nil, err
	}
	if err := s.propose(ctx, a, x); err != nil {
		return nil, err
	}
	items, i, err := s.find(ctx, iso, x.ID)
	if err != nil {
		return nil, err
	}
	v := s.view(a, items, i)
	for _, c := range changes {
		v.Readiness = append(v.Readiness, ReadinessFactChange{Field: c.Field, From: json.RawMessage(c.From), To: json.RawMessage(c.To)})
	}
	return v, nil
}

// Propose proposes again the draft needs of a country's latest assessment: those that were
// never created (a failure half-way) are created, none is created twice (one need per
// assessment and capability, with a fixed id), and a gap the organization already has a live
// need for proposes nothing. For the organization that answered and coordinators.
func (s *Assessments) Propose(ctx context.Context, a *models.Actor, iso, id string) (*AssessmentView, error) {
	iso, err := assessmentsCountry(a, models.ActRead, iso)
	if err != nil {
		return nil, err
	}
	items, i, err := s.find(ctx, iso, id)
	if err != nil {
		return nil, err
	}
	x := items[i]
	if err := models.AuthorizeAssessments(a, models.ActPropose, iso, x.OrganizationID); err != nil {
		return nil, err
	}
	if i != len(items)-1 {
		return nil, models.Errorf(models.ErrConflict, "assessment %s was superseded by %s: propose from the latest", x.ID, items[len(items)-1].ID)
	}
	if err := s.propose(ctx, a, x); err != nil {
		return nil, err
	}
	return s.view(a, items, i), nil
}

// propose creates the draft need of every gap that proposes one and has none yet.
func (s *Assessments) propose(ctx context.Context, a *models.Actor, x *models.Assessment) error {
	_, baselines := x.Results()
	for _, b := range baselines {
		if !b.Proposes() {
			continue
		}
		id := models.ProposalNeedID(x, b.Capability)
		if _, err := s.needs.load(ctx, id); err == nil {
			continue // proposed before
		} else if !errors.Is(err, models.ErrNotFound) {
			return err
		}
		// A gap the organization already has a live need for proposes nothing new. This looks at
		// every need (the system view): it decides what to create, and is not shown as such.
		if liveNeed(systemView(s.model), x.OrganizationID, b.Capability) != nil {
			continue
		}
		n := x.ProposedNeed(b)
		now := s.now().UTC()
		n.ID, n.OrganizationID, n.CreatedBy, n.CreatedAt, n.UpdatedAt, n.Version = id, x.OrganizationID, a.UserID, now, now, 1
		n.Normalize()
		if err := n.Validate(); err != nil {
			return err // a questionnaire whose proposals are invalid: a bug the domain tests catch
		}
		err := s.store.CreateNeed(ctx, n)
		if errors.Is(err, models.ErrConflict) {
			continue // proposed at the same moment by another request
		}
		if err != nil {
			return err
		}
		s.needs.applied(ctx, n)
		audit(ctx, s.store, s.log, now, a, "propose", "need", n.ID, []string{x.ID})
	}
	return nil
}

// answersOf turns the body's maps into answers, in a stable order (Normalize then puts the
// questionnaire's order on them).
func answersOf(in AssessmentInput) []models.Answer {
	codes := make([]string, 0, len(in.Answers)+len(in.Comments))
	seen := map[string]bool{}
	for c := range in.Answers {
		codes, seen[c] = append(codes, c), true
	}
	for c := range in.Comments {
		if !seen[c] {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	out := make([]models.Answer, 0, len(codes))
	for _, c := range codes {
		out = append(out, models.Answer{Question: c, Value: in.Answers[c], Comment: in.Comments[c]})
	}
	return out
}
