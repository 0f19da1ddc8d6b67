package models

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Assessment is one self-assessment a country submitted: its answers to one version of the
// questionnaire, with who answered and when. It is immutable once stored; a later assessment of
// the same country supersedes it (and names it in Supersedes), so the history is kept whole.
// A self-assessment reveals weaknesses: only the country's ministries and coordinators see it
// (CanSeeAssessments).
type Assessment struct {
	ID      string `json:"id" bson:"id"`
	Country string `json:"country" bson:"country"`
	// OrganizationID is the government organization that answered: the needs the assessment
	// proposes are its drafts.
	OrganizationID string `json:"organization_id" bson:"organization_id"`
	// Questionnaire is the version answered (see LookupQuestionnaire).
	Questionnaire string `json:"questionnaire" bson:"questionnaire"`
	// Language is the UI language it was answered in (en, fr, es): proposed needs are drafted in it.
	Language string `json:"language" bson:"language"`
	// Answers are in questionnaire order; each is kept with the assessment's date and author.
	Answers     []Answer  `json:"answers" bson:"answers"`
	SubmittedBy string    `json:"submitted_by" bson:"submitted_by"`
	SubmittedAt time.Time `json:"submitted_at" bson:"submitted_at"`
	// Supersedes is the country's previous assessment, if any.
	Supersedes string `json:"supersedes,omitempty" bson:"supersedes,omitempty"`
}

// Answer is the answer to one question: a value on the question's scale (nil: not answered,
// only allowed for optional questions) and an optional comment.
type Answer struct {
	Question string `json:"question" bson:"question"`
	Value    *int   `json:"value" bson:"value,omitempty"`
	Comment  string `json:"comment,omitempty" bson:"comment,omitempty"`
}

// MaxAnswerComment bounds a comment on an answer (about half a page).
const MaxAnswerComment = 2000

// AssessmentStore keeps each country's assessments. FerretDB scans for any filter but _id, so a
// country's assessments are one document read by _id (the ISO code), appended to conditionally
// on its version: two submissions that race cannot both claim to supersede the same one.
type AssessmentStore interface {
	// ListAssessments returns a country's assessments, oldest first, and the list's version
	// (0 when the country has none).
	ListAssessments(ctx context.Context, iso string) ([]*Assessment, int64, error)
	// AppendAssessment adds a to its country's list if the list is still at version prev;
	// ErrConflict otherwise.
	AppendAssessment(ctx context.Context, a *Assessment, prev int64) error
}

// Answer returns the answer to a question, if the assessment has one.
func (a *Assessment) Answer(code string) (Answer, bool) {
	for _, x := range a.Answers {
		if x.Question == code {
			return x, true
		}
	}
	return Answer{}, false
}

// value returns the answered value of a question.
func (a *Assessment) value(code string) (int, bool) {
	if x, ok := a.Answer(code); ok && x.Value != nil {
		return *x.Value, true
	}
	return 0, false
}

// Normalize trims the comments and puts the answers in questionnaire order (unknown questions
// last, for Validate to report), dropping answers that carry neither a value nor a comment.
func (a *Assessment) Normalize() {
	a.Country = NormalizeISO(a.Country)
	qn, _ := LookupQuestionnaire(a.Questionnaire)
	order := map[string]int{}
	if qn != nil {
		for i, q := range qn.Questions() {
			order[q.Code] = i
		}
	}
	kept := a.Answers[:0]
	for _, x := range a.Answers {
		x.Comment = CleanText(x.Comment)
		if x.Value == nil && x.Comment == "" {
			continue
		}
		kept = append(kept, x)
	}
	a.Answers = kept
	sort.SliceStable(a.Answers, func(i, j int) bool {
		oi, iok := order[a.Answers[i].Question]
		oj, jok := order[a.Answers[j].Question]
		if iok != jok {
			return iok
		}
		return oi < oj
	})
}

// Validate checks an assessment against its questionnaire and reports every problem at once:
// the questionnaire must be the current one, each answer must name a question of it and lie on
// its scale, every required question must be answered, comments must be clean text. Fields are
// named answers.<question> and comments.<question>, as the API's body names them.
func (a *Assessment) Validate() error {
	var p Problems
	if !ValidISO(a.Country) {
		p.Add("country", ProblemUnknownCountry, Args{"value": ArgSent(a.Country)})
	}
	if a.Questionnaire != CurrentQuestionnaire {
		p.Add("questionnaire", ProblemQuestionnaire, Args{"current": ArgText(CurrentQuestionnaire), "value": ArgSent(a.Questionnaire)})
		return p.Err()
	}
	qn, _ := LookupQuestionnaire(a.Questionnaire)
	if !validUILang(a.Language) {
		p.Add("language", ProblemOneOf, OneOf(SupportedLangs))
	}
	seen := map[string]bool{}
	for _, x := range a.Answers {
		q, ok := qn.Question(x.Question)
		if !ok {
			p.Add("answers."+fieldKey(x.Question), ProblemUnknownQuestion, Args{"value": ArgSent(x.Question)})
			continue
		}
		if seen[x.Question] {
			p.Add("answers."+x.Question, ProblemRepeatedAnswer, nil)
			continue
		}
		seen[x.Question] = true
		if x.Value != nil {
			if lo, hi := q.Scale.Range(); *x.Value < lo || *x.Value > hi {
				p.Add("answers."+x.Question, ProblemRange, Args{"min": ArgInt(lo), "max": ArgInt(hi)})
			}
		}
		ValidText("comments."+x.Question, x.Comment, MaxAnswerComment, true, &p)
	}
	for _, q := range qn.Questions() {
		if _, ok := a.value(q.Code); q.Required && !ok {
			p.Add("answers."+q.Code, ProblemRequired, nil)
		}
	}
	return p.Err()
}

// fieldKey keeps a client's unknown question code printable in a field name.
func fieldKey(s string) string {
	if ValidID(s) {
		return s
	}
	return "?"
}

func validUILang(l string) bool {
	for _, s := range SupportedLangs {
		if s == l {
			return true
		}
	}
	return false
}

// AreaResult is where the country stands in one area of the questionnaire.
type AreaResult struct {
	Area  string    `json:"area"`
	Group AreaGroup `json:"group"`
	// Questions and Answered count the area's questions and those answered.
	Questions int `json:"questions"`
	Answered  int `json:"answered"`
	// Score is the mean of the answered questions' scores (Scale.Score), in [0,1], 4 places.
	Score float64 `json:"score"`
}

// Baseline is the maturity of one capability as the assessment shows it, on the framework needs
// state that capability's maturity in (SIM3 for a CERT, the CMM otherwise): its current stage,
// and whether any question behind it falls short of its target (a gap). The baselines of the
// latest assessment are the country's maturity baselines.
type Baseline struct {
	Capability Capability        `json:"capability"`
	Framework  MaturityFramework `json:"framework"`
	Current    int               `json:"current"`
	// Target is the stage a proposed need aims at (the current stage when there is no gap).
	Target int  `json:"target"`
	Gap    bool `json:"gap"`
	// After names the capability that must come first (a CERT is set up before it matures):
	// a gap whose prerequisite is itself a gap proposes nothing of its own.
	After Capability `json:"after,omitempty"`
	// Priority is how urgent the gap is, from the weakest answer behind it.
	Priority  Priority `json:"priority"`
	Questions []string `json:"questions"`
	score     float64
}

// Proposes reports whether the baseline's gap proposes a draft need.
func (b Baseline) Proposes() bool { return b.Gap && b.After == "" }

// prerequisites: a capability whose gap waits for another's.
var prerequisites = map[Capability]Capability{CapCERTMaturity: CapCERTSetup}

// BaselineFramework is the maturity framework a capability's baseline and proposed need use:
// SIM3 for the national CERT, the CMM's stages for everything else.
func BaselineFramework(c Capability) MaturityFramework {
	if c == CapCERTSetup || c == CapCERTMaturity {
		return FrameworkSIM3
	}
	return FrameworkCMM
}

// stageOn puts an answer on a framework's stages: a stage answered on that framework is itself;
// yes/partial/no is start-up, formative, established on the CMM (0, 1, 2 on SIM3: no CERT, one
// being set up, one that works); a stage on another framework is placed by its score.
func stageOn(fw MaturityFramework, s Scale, v int) int {
	if s.Framework() == fw {
		return v
	}
	lo, hi := fw.StageRange()
	if fw == FrameworkCMM {
		lo = 1
	}
	if s == ScaleYesPartialNo {
		return min(lo+v, hi)
	}
	return lo + int(math.Round(s.Score(v)*float64(hi-lo)))
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// Results computes where the country stands: a result per area and a baseline per capability
// the answers touch. An assessment of an unknown questionnaire has none.
func (a *Assessment) Results() ([]AreaResult, []Baseline) {
	qn, ok := LookupQuestionnaire(a.Questionnaire)
	if !ok {
		return nil, nil
	}
	areas := make([]AreaResult, 0, len(qn.Areas))
	byCap := map[Capability]*Baseline{}
	var caps []Capability
	for _, ar := range qn.Areas {
		r := AreaResult{Area: ar.Code, Group: ar.Group, Questions: len(ar.Questions)}
		sum := 0.0
		for _, q := range ar.Questions {
			v, ok := a.value(q.Code)
			if !ok {
				continue
			}
			r.Answered++
			sc := q.Scale.Score(v)
			sum += sc
			if q.Capability == "" {
				continue
			}
			fw := BaselineFramework(q.Capability)
			st := stageOn(fw, q.Scale, v)
			b, seen := byCap[q.Capability]
			if !seen {
				b = &Baseline{Capability: q.Capability, Framework: fw, Current: st, score: sc}
				byCap[q.Capability] = b
				caps = append(caps, q.Capability)
			}
			b.Current, b.score = min(b.Current, st), min(b.score, sc)
			b.Questions = append(b.Questions, q.Code)
			if v < q.Target {
				b.Gap = true
			}
		}
		if r.Answered > 0 {
			r.Score = round4(sum / float64(r.Answered))
		}
		areas = append(areas, r)
	}
	baselines := make([]Baseline, 0, len(caps))
	for _, c := range caps {
		b := byCap[c]
		lo, hi := b.Framework.StageRange()
		b.Target = b.Current
		if b.Gap {
			b.Target = min(max(3, b.Current+1), hi)
			b.Target = max(b.Target, lo)
			switch {
			case b.score < 0.34:
				b.Priority = PriorityHigh
			case b.score < 0.67:
				b.Priority = PriorityMedium
			default:
				b.Priority = PriorityLow
			}
			if pre, ok := prerequisites[c]; ok && byCap[pre] != nil && byCap[pre].Gap {
				b.After = pre
			}
		}
		baselines = append(baselines, *b)
	}
	return areas, baselines
}

// AnswerChange is one answer that differs from the previous assessment's (nil: not answered).
type AnswerChange struct {
	Question string `json:"question"`
	Area     string `json:"area"`
	From     *int   `json:"from"`
	To       *int   `json:"to"`
}

// AreaChange is how an area's score moved since the previous assessment.
type AreaChange struct {
	Area  string  `json:"area"`
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Delta float64 `json:"delta"`
}

// CompareAssessments lists what changed from prev to cur: every answer whose value differs, and
// every area's score before and after. Both must answer the same questionnaire version (the
// answers of another version are not comparable question by question: only areas that exist in
// both are compared, and no answers).
func CompareAssessments(prev, cur *Assessment) ([]AnswerChange, []AreaChange) {
	qn, ok := LookupQuestionnaire(cur.Questionnaire)
	if !ok || prev == nil {
		return nil, nil
	}
	var answers []AnswerChange
	if prev.Questionnaire == cur.Questionnaire {
		for _, q := range qn.Questions() {
			pv, pok := prev.value(q.Code)
			cv, cok := cur.value(q.Code)
			if pok == cok && pv == cv {
				continue
			}
			c := AnswerChange{Question: q.Code, Area: qn.AreaOf(q.Code)}
			if pok {
				c.From = &pv
			}
			if cok {
				c.To = &cv
			}
			answers = append(answers, c)
		}
	}
	pa, _ := prev.Results()
	before := map[string]float64{}
	for _, r := range pa {
		before[r.Area] = r.Score
	}
	ca, _ := cur.Results()
	var areas []AreaChange
	for _, r := range ca {
		if b, ok := before[r.Area]; ok {
			areas = append(areas, AreaChange{Area: r.Area, From: b, To: r.Score, Delta: round4(r.Score - b)})
		}
	}
	return answers, areas
}

// DerivedReadiness is the readiness profile after this assessment: the facts its answers state
// replace those of cur, the others stay. Derived from the latest assessment:
//   - national_cert: the national CERT question answered "yes";
//   - cert_maturity: the SIM3 level answered, or 0 when the country now has no national CERT
//     and gave none;
//   - legal_position_published: the national position question answered "yes";
//   - national_strategy: the strategy question answered "yes".
//
// poc_nominated is not derived from a self-assessment: it follows the Points of Contact
// directory. A fact whose question is unanswered keeps its value.
func (a *Assessment) DerivedReadiness(cur Readiness) Readiness {
	qn, ok := LookupQuestionnaire(a.Questionnaire)
	if !ok {
		return cur
	}
	next := cur
	sim3Answered := false
	for _, q := range qn.Questions() {
		v, ok := a.value(q.Code)
		if !ok || q.Readiness == "" {
			continue
		}
		_, hi := q.Scale.Range()
		switch q.Readiness {
		case ReadyNationalCERT:
			next.NationalCERT = v == hi
		case ReadyLegalPosition:
			next.LegalPositionPublished = v == hi
		case ReadyNationalStrategy:
			next.NationalStrategy = v == hi
		case ReadyCERTMaturity:
			next.CERTMaturity, sim3Answered = v, true
		}
	}
	if !next.NationalCERT && !sim3Answered {
		next.CERTMaturity = 0
	}
	return next
}

// proposalTemplate is what a proposed need starts from for a capability: indicative modalities,
// budget and duration that the ministry is expected to review and edit before submitting.
type proposalTemplate struct {
	modalities []Modality
	budget     int64
	months     int
}

var proposalTemplates = map[Capability]proposalTemplate{
	CapNationalStrategy:       {[]Modality{ModPolicyAdvice, ModExpertDeployment}, 250_000, 18},
	CapLegalPosition:          {[]Modality{ModPolicyAdvice, ModExpertDeployment, ModTraining}, 150_000, 12},
	CapNormsImplementation:    {[]Modality{ModPolicyAdvice, ModTraining}, 150_000, 12},
	CapCBMImplementation:      {[]Modality{ModTraining, ModStudyVisit}, 100_000, 12},
	CapPoCReadiness:           {[]Modality{ModTraining, ModMentoring}, 80_000, 12},
	CapCERTSetup:              {[]Modality{ModExpertDeployment, ModTraining, ModEquipment}, 600_000, 24},
	CapCERTMaturity:           {[]Modality{ModMentoring, ModTraining}, 300_000, 18},
	CapCIIP:                   {[]Modality{ModPolicyAdvice, ModTraining}, 400_000, 24},
	CapCyberExercises:         {[]Modality{ModTraining, ModExpertDeployment}, 150_000, 12},
	CapCybercrimeLegislation:  {[]Modality{ModPolicyAdvice, ModExpertDeployment}, 200_000, 18},
	CapDigitalForensics:       {[]Modality{ModTraining, ModEquipment}, 350_000, 18},
	CapLawEnforcementTraining: {[]Modality{ModTraining}, 250_000, 18},
	CapAwareness:              {[]Modality{ModTraining, ModFunding}, 200_000, 12},
	CapWorkforceEducation:     {[]Modality{ModTraining, ModFunding}, 400_000, 24},
	CapStandardsAdoption:      {[]Modality{ModPolicyAdvice, ModTraining}, 200_000, 18},
}

var proposalText = struct{ intro, answer text }{
	intro: text{
		"Proposed by the self-assessment of %s. Review and edit the scope, budget and dates before submitting. The answers behind it:",
		"Proposé par l'auto-évaluation du %s. Vérifiez et modifiez le périmètre, le budget et les dates avant de soumettre. Les réponses à l'origine de ce besoin :",
		"Propuesto por la autoevaluación del %s. Revise y modifique el alcance, el presupuesto y las fechas antes de enviarlo. Las respuestas que lo originan:",
	},
	answer: text{"answer: %s", "réponse : %s", "respuesta: %s"},
}

// ProposalNeedID is the id of the need an assessment proposes for a capability: the same
// assessment and capability always give the same id, so proposing again never duplicates a need.
// It starts with the assessment's time like every id, and does not reveal the assessment's id
// (the rest is a hash), since the need may later be seen by those who may not see the assessment.
func ProposalNeedID(a *Assessment, c Capability) string {
	var b [15]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(a.SubmittedAt.UnixMilli()))
	copy(b[:6], ms[2:])
	h := sha256.Sum256([]byte("capmatch proposal\x00" + a.ID + "\x00" + string(c)))
	copy(b[6:], h[:9])
	return idEncoding.EncodeToString(b[:])
}

// ProposedNeed drafts the need a gap proposes: the capability and its theme, the maturity
// baseline and target, indicative modalities, budget and duration, a start six months after the
// assessment, donors-only visibility and the draft status, in the language the assessment was
// answered in. The id, organization and timestamps are left to the caller. Nothing is posted: a
// person reviews, edits and submits it.
func (a *Assessment) ProposedNeed(b Baseline) *Need {
	qn, _ := LookupQuestionnaire(a.Questionnaire)
	tpl := proposalTemplates[b.Capability]
	theme, _ := CapabilityTheme(b.Capability)
	lang := a.Language
	var desc strings.Builder
	fmt.Fprintf(&desc, proposalText.intro.in(lang), DateOf(a.SubmittedAt))
	for _, code := range b.Questions {
		q, ok := qn.Question(code)
		v, answered := a.value(code)
		if !ok || !answered || v >= q.Target {
			continue
		}
		fmt.Fprintf(&desc, "\n- %s (%s)", q.Text(lang), fmt.Sprintf(proposalText.answer.in(lang), AnswerLabel(lang, q.Scale, v)))
	}
	return &Need{
		Title:       Label(lang, KindCapability, string(b.Capability)),
		Description: desc.String(), Lang: lang, Country: a.Country, Theme: theme, Capability: b.Capability,
		Modalities: append([]Modality(nil), tpl.modalities...), Languages: []string{lang},
		BudgetUSD: tpl.budget, StartBy: DateOf(a.SubmittedAt).AddMonths(6), DurationMonths: tpl.months,
		Priority: b.Priority, Maturity: Maturity{Framework: b.Framework, Current: b.Current, Target: b.Target},
		Visibility: VisibilityDonors, Status: NeedDraft, Proposal: &NeedProposal{Source: ProposalAssessment, Reason: ReasonAssessmentGap, AssessmentID: a.ID,
			ProposedAt: a.SubmittedAt},
	}
}
