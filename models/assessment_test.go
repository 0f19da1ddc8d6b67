package models

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func intp(v int) *int { return &v }

// answered builds an assessment of the current questionnaire with every question answered by
// pick (nil leaves it unanswered).
func answered(pick func(q Question) *int) *Assessment {
	qn, _ := LookupQuestionnaire(CurrentQuestionnaire)
	a := &Assessment{ID: "asm1", Country: "SN", OrganizationID: "org-sn", Questionnaire: CurrentQuestionnaire, Language: "fr",
		SubmittedBy: "u1", SubmittedAt: time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC)}
	for _, q := range qn.Questions() {
		if v := pick(q); v != nil {
			a.Answers = append(a.Answers, Answer{Question: q.Code, Value: v})
		}
	}
	return a
}

func worst(q Question) *int { lo, _ := q.Scale.Range(); return intp(lo) }
func best(q Question) *int  { _, hi := q.Scale.Range(); return intp(hi) }

// fieldsOf returns each field's problem (code and arguments) of a validation error, after
// problemFields' checks (listed codes, no words, no value echoed in full).
func fieldsOf(t *testing.T, err error) map[string]FieldError {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("want a validation error, got %v", err)
	}
	problemFields(t, err)
	out := map[string]FieldError{}
	for _, f := range de.Fields {
		out[f.Field] = FieldError{Code: f.Code, Args: f.Args}
	}
	return out
}

// problem is a field's expected problem.
func problem(code string, args Args) FieldError { return FieldError{Code: code, Args: args} }

func TestQuestionnaireIsCompleteAndTrilingual(t *testing.T) {
	qn, ok := LookupQuestionnaire(CurrentQuestionnaire)
	if !ok {
		t.Fatal("the current questionnaire is not published")
	}
	groups := map[AreaGroup]int{}
	codes := map[string]bool{}
	covered := map[Capability]bool{}
	norms := 0
	for _, a := range qn.Areas {
		groups[a.Group]++
		for _, l := range SupportedLangs {
			if a.Title(l) == "" || a.Intro(l) == "" {
				t.Errorf("area %s has no title or intro in %s", a.Code, l)
			}
		}
		if a.Title("fr") == a.Title("en") || a.Title("es") == a.Title("en") {
			t.Errorf("area %s is not translated", a.Code)
		}
		if len(a.Questions) == 0 {
			t.Errorf("area %s has no questions", a.Code)
		}
		for _, q := range a.Questions {
			if codes[q.Code] || !ValidID(q.Code) {
				t.Errorf("question code %q is repeated or not an id", q.Code)
			}
			codes[q.Code] = true
			for _, l := range SupportedLangs {
				if q.Text(l) == "" {
					t.Errorf("%s has no text in %s", q.Code, l)
				}
			}
			if q.Text("fr") == q.Text("en") || q.Text("es") == q.Text("en") {
				t.Errorf("%s is not translated", q.Code)
			}
			if !q.Scale.Valid() {
				t.Errorf("%s: unknown scale %q", q.Code, q.Scale)
			}
			if lo, hi := q.Scale.Range(); q.Target <= lo || q.Target > hi {
				t.Errorf("%s: target %d leaves no gap or no way out of one on %s", q.Code, q.Target, q.Scale)
			}
			if q.Capability != "" {
				if !q.Capability.Valid() {
					t.Errorf("%s: unknown capability %q", q.Code, q.Capability)
				}
				if _, ok := proposalTemplates[q.Capability]; !ok {
					t.Errorf("%s: no proposal template for %s", q.Code, q.Capability)
				}
				covered[q.Capability] = true
			}
			if q.Ref == "" {
				t.Errorf("%s cites no source", q.Code)
			}
			if strings.HasPrefix(q.Ref, "A/70/174 §13(") {
				norms++
			}
		}
	}
	if groups[GroupCMM] != 5 {
		t.Errorf("want the five CMM dimensions, got %d areas", groups[GroupCMM])
	}
	for _, code := range []string{"un_norms", "un_cbm", "un_international_law", "un_capacity_building"} {
		found := false
		for _, a := range qn.Areas {
			found = found || (a.Code == code && a.Group == GroupUNSurvey)
		}
		if !found {
			t.Errorf("the UN survey's section %s is missing", code)
		}
	}
	if norms != 11 {
		t.Errorf("want a question per norm (a)–(k), got %d", norms)
	}
	for _, c := range Capabilities {
		if !covered[c] {
			t.Errorf("no question finds a gap in %s", c)
		}
	}
	for code, want := range map[string]Capability{"cert_exists": CapCERTSetup, "cert_sim3": CapCERTMaturity,
		"legal_position": CapLegalPosition, "poc_nomination": CapPoCReadiness, "cybercrime_law": CapCybercrimeLegislation,
		"strategy_adopted": CapNationalStrategy} {
		if q, ok := qn.Question(code); !ok || q.Capability != want {
			t.Errorf("%s should map to %s", code, want)
		}
	}
	if AnswerLabel("es", ScaleCMMStage, 2) != "Formativo" || AnswerLabel("fr", ScaleYesPartialNo, 1) != "En partie" {
		t.Errorf("answer labels: %q %q", AnswerLabel("es", ScaleCMMStage, 2), AnswerLabel("fr", ScaleYesPartialNo, 1))
	}
}

func TestAssessmentValidationReportsEveryProblem(t *testing.T) {
	a := answered(func(q Question) *int {
		switch q.Code {
		case "norm_a_cooperation", "cmm_strategy", "cert_sim3":
			return nil
		case "cert_exists":
			return intp(3)
		case "cmm_mindset":
			return intp(0)
		}
		return best(q)
	})
	a.Answers = append(a.Answers, Answer{Question: "norm_z", Value: intp(1)},
		Answer{Question: "cert_sim3", Comment: "no CERT yet\x00"})
	a.Language = "de"
	a.Normalize()
	got := fieldsOf(t, a.Validate())
	want := map[string]FieldError{
		"answers.norm_a_cooperation": problem(ProblemRequired, nil),
		"answers.cmm_strategy":       problem(ProblemRequired, nil),
		"answers.cert_exists":        problem(ProblemRange, Args{"min": ArgInt(0), "max": ArgInt(2)}),
		"answers.cmm_mindset":        problem(ProblemRange, Args{"min": ArgInt(1), "max": ArgInt(5)}),
		"answers.norm_z":             problem(ProblemUnknownQuestion, Args{"value": ArgText("norm_z")}),
		"language":                   problem(ProblemOneOf, OneOf(SupportedLangs)),
	}
	for f, w := range want {
		if !reflect.DeepEqual(got[f], w) {
			t.Errorf("%s: got %+v, want %+v", f, got[f], w)
		}
	}
	if c := got["comments.cert_sim3"].Code; c != ProblemControlChar {
		t.Errorf("comment: %+v", got["comments.cert_sim3"])
	}
	if len(got) != len(want)+1 {
		t.Errorf("unexpected problems: %v", got)
	}

	ok := answered(best)
	ok.Answers = append(ok.Answers, Answer{Question: "cb_priorities", Comment: "  "}) // nothing: dropped
	ok.Normalize()
	if err := ok.Validate(); err != nil {
		t.Fatalf("a complete assessment: %v", err)
	}
	opt := answered(func(q Question) *int {
		if !q.Required {
			return nil
		}
		return best(q)
	})
	if err := opt.Validate(); err != nil {
		t.Fatalf("optional questions may stay unanswered: %v", err)
	}
	old := answered(best)
	old.Questionnaire = "2019.1"
	if got := fieldsOf(t, old.Validate()); !reflect.DeepEqual(got["questionnaire"],
		problem(ProblemQuestionnaire, Args{"current": ArgText(CurrentQuestionnaire), "value": ArgText("2019.1")})) || CurrentQuestionnaire != "2025.1" {
		t.Errorf("questionnaire: %v", got)
	}
}

func baselineOf(bs []Baseline, c Capability) (Baseline, bool) {
	for _, b := range bs {
		if b.Capability == c {
			return b, true
		}
	}
	return Baseline{}, false
}

func TestResultsFindGapsOnTheRightFramework(t *testing.T) {
	areas, bs := answered(best).Results()
	if len(areas) != 9 {
		t.Fatalf("areas: %d", len(areas))
	}
	for _, r := range areas {
		if r.Score != 1 || r.Answered != r.Questions {
			t.Errorf("%s: %+v", r.Area, r)
		}
	}
	for _, b := range bs {
		if b.Gap || b.Proposes() {
			t.Errorf("no gap expected: %+v", b)
		}
	}

	// A country with no CERT, a strategy in progress at the formative stage, nothing else done.
	a := answered(func(q Question) *int {
		switch q.Code {
		case "cert_exists":
			return intp(0)
		case "cert_sim3":
			return nil
		case "strategy_adopted":
			return intp(1)
		case "cmm_strategy":
			return intp(2)
		case "cb_priorities", "cb_coordination":
			return intp(0)
		}
		return best(q)
	})
	areas, bs = a.Results()
	var gaps []string
	for _, b := range bs {
		if b.Gap {
			gaps = append(gaps, string(b.Capability))
		}
	}
	if fmt.Sprint(gaps) != "[national_strategy cert_setup]" {
		t.Errorf("gaps: %v", gaps)
	}
	cert, _ := baselineOf(bs, CapCERTSetup)
	if cert.Framework != FrameworkSIM3 || cert.Current != 0 || cert.Target != 3 || cert.Priority != PriorityHigh || !cert.Proposes() {
		t.Errorf("cert_setup: %+v", cert)
	}
	strat, _ := baselineOf(bs, CapNationalStrategy)
	if strat.Framework != FrameworkCMM || strat.Current != 2 || strat.Target != 3 || strat.Priority != PriorityHigh {
		t.Errorf("national_strategy: %+v", strat)
	}
	if mat, ok := baselineOf(bs, CapCERTMaturity); !ok || mat.Gap || mat.Current != 4 {
		t.Errorf("cert_maturity (from the CMM incident response stage, placed on SIM3): %+v", mat)
	}
	for _, r := range areas {
		if r.Area == "un_capacity_building" && r.Score != 0 {
			t.Errorf("capacity building: %+v", r)
		}
		if r.Area == "cmm_policy_strategy" && (r.Answered != 6 || r.Score != 0.625) {
			t.Errorf("policy and strategy: %+v", r) // (0 + .5 + .25 + 1 + 1 + 1) / 6
		}
	}
	if _, ok := baselineOf(bs, ""); ok {
		t.Error("questions without a capability have no baseline")
	}

	// A CERT being set up at SIM3 1: its maturity waits for the set-up.
	b := answered(func(q Question) *int {
		switch q.Code {
		case "cert_exists":
			return intp(1)
		case "cert_sim3":
			return intp(1)
		}
		return best(q)
	})
	_, bs = b.Results()
	mat, _ := baselineOf(bs, CapCERTMaturity)
	if !mat.Gap || mat.After != CapCERTSetup || mat.Proposes() || mat.Current != 1 {
		t.Errorf("cert_maturity after cert_setup: %+v", mat)
	}
	set, _ := baselineOf(bs, CapCERTSetup)
	if !set.Proposes() || set.Current != 1 || set.Priority != PriorityMedium {
		t.Errorf("cert_setup: %+v", set)
	}
}

func TestDerivedReadinessFollowsTheAnswers(t *testing.T) {
	cur := Readiness{PoCNominated: true, NationalCERT: true, CERTMaturity: 2, LegalPositionPublished: true}
	a := answered(func(q Question) *int {
		switch q.Code {
		case "cert_exists", "legal_position", "poc_nomination":
			return intp(0)
		case "cert_sim3":
			return nil
		}
		return best(q)
	})
	got := a.DerivedReadiness(cur)
	want := Readiness{PoCNominated: true, NationalStrategy: true}
	if got != want {
		t.Errorf("got %+v, want %+v (poc_nominated is not derived)", got, want)
	}
	b := answered(func(q Question) *int {
		if q.Code == "cert_sim3" {
			return intp(3)
		}
		return best(q)
	})
	if got := b.DerivedReadiness(Readiness{}); got != (Readiness{NationalCERT: true, CERTMaturity: 3, LegalPositionPublished: true, NationalStrategy: true}) {
		t.Errorf("got %+v", got)
	}
	c := answered(func(q Question) *int {
		if q.Code == "cert_sim3" {
			return nil
		}
		return best(q)
	})
	if got := c.DerivedReadiness(Readiness{NationalCERT: true, CERTMaturity: 2}); got.CERTMaturity != 2 {
		t.Errorf("an unanswered SIM3 level keeps the declared one: %+v", got)
	}
}

func TestProposedNeedsAreValidDraftsInTheAssessmentsLanguage(t *testing.T) {
	for _, lang := range SupportedLangs {
		a := answered(worst)
		a.Language = lang
		_, bs := a.Results()
		n := 0
		ids := map[string]bool{}
		for _, b := range bs {
			if !b.Proposes() {
				continue
			}
			n++
			need := a.ProposedNeed(b)
			need.OrganizationID = "org-sn"
			need.Normalize()
			if err := need.Validate(); err != nil {
				t.Errorf("%s %s: %v", lang, b.Capability, err)
			}
			if need.Status != NeedDraft || need.Visibility != VisibilityDonors || need.Proposal == nil || need.Proposal.AssessmentID != "asm1" {
				t.Errorf("%s: %+v", b.Capability, need)
			}
			if need.Maturity.Framework != BaselineFramework(b.Capability) || len(need.Modalities) == 0 || need.Languages[0] != lang {
				t.Errorf("%s: %+v", b.Capability, need)
			}
			if need.Title != Label(lang, KindCapability, string(b.Capability)) || !strings.Contains(need.Description, "2027-03-02") {
				t.Errorf("%s: %q %q", b.Capability, need.Title, need.Description)
			}
			id := ProposalNeedID(a, b.Capability)
			if !ValidID(id) || ids[id] || id != ProposalNeedID(a, b.Capability) || strings.Contains(id, a.ID) {
				t.Errorf("%s: id %q", b.Capability, id)
			}
			ids[id] = true
		}
		if n != len(Capabilities)-1 { // cert_maturity waits for cert_setup
			t.Errorf("%s: %d proposals", lang, n)
		}
	}
	a := answered(worst)
	_, bs := a.Results()
	b, _ := baselineOf(bs, CapCERTSetup)
	if d := a.ProposedNeed(b).Description; !strings.Contains(d, "Votre État dispose-t-il d'un CERT/CSIRT national") || !strings.Contains(d, "réponse : Pas encore") {
		t.Errorf("description: %s", d)
	}
}

func TestCompareAssessmentsListsWhatChanged(t *testing.T) {
	prev := answered(worst)
	cur := answered(func(q Question) *int {
		switch q.Code {
		case "cert_exists":
			return intp(2)
		case "cert_sim3":
			return intp(0)
		}
		return worst(q)
	})
	prev.Answers = prev.Answers[:0:0]
	for _, x := range answered(worst).Answers {
		if x.Question != "cert_sim3" {
			prev.Answers = append(prev.Answers, x)
		}
	}
	answers, areas := CompareAssessments(prev, cur)
	if len(answers) != 2 || answers[0].Question != "cert_exists" || *answers[0].From != 0 || *answers[0].To != 2 ||
		answers[1].Question != "cert_sim3" || answers[1].From != nil || *answers[1].To != 0 {
		t.Fatalf("answers: %+v", answers)
	}
	for _, c := range areas {
		if c.Area == "cmm_policy_strategy" {
			if c.From != 0 || c.To != 0.1429 || c.Delta != 0.1429 { // the CERT now counts 1 of 7 answers
				t.Errorf("%+v", c)
			}
		} else if c.Delta != 0 {
			t.Errorf("%+v", c)
		}
	}
	if a, r := CompareAssessments(nil, cur); a != nil || r != nil {
		t.Error("nothing to compare with")
	}
}

func TestReadinessHistoryRecordsWhatChanged(t *testing.T) {
	p := &CountryProfile{ISO: "SN", Readiness: Readiness{NationalCERT: true, CERTMaturity: 2}}
	if p.RecordReadiness(p.Readiness, ReadinessEvent{Source: ReadinessDeclared}) {
		t.Error("no change, no record")
	}
	before := p.Readiness
	p.Readiness.CERTMaturity, p.Readiness.LegalPositionPublished = 3, true
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	if !p.RecordReadiness(before, ReadinessEvent{At: at, Source: ReadinessAssessment, AssessmentID: "a1", ByUser: "u1", ByOrg: "o1", ByRole: RoleMinistry}) {
		t.Fatal("a change is recorded")
	}
	want := []ReadinessChange{{"cert_maturity", "2", "3"}, {"legal_position_published", "false", "true"}}
	if fmt.Sprint(p.History[0].Changes) != fmt.Sprint(want) || p.History[0].AssessmentID != "a1" || !p.History[0].At.Equal(at) {
		t.Errorf("%+v", p.History)
	}
	for i := 0; i < MaxReadinessHistory+5; i++ {
		before := p.Readiness
		p.Readiness.CERTMaturity = i % 5
		if before.CERTMaturity == p.Readiness.CERTMaturity {
			p.Readiness.CERTMaturity = (i + 1) % 5
		}
		p.RecordReadiness(before, ReadinessEvent{Source: ReadinessDeclared})
	}
	if len(p.History) != MaxReadinessHistory || p.History[0].Source != ReadinessDeclared {
		t.Errorf("history is capped to the newest %d: %d", MaxReadinessHistory, len(p.History))
	}
}

func TestCountrySourceValidation(t *testing.T) {
	ok := CountrySource{Kind: SourceStrategy, Title: " Stratégie nationale de cybersécurité 2022 ", URL: " https://www.example.sn/snc2022.pdf ",
		Date: "2017-11-23", Language: "FR"}
	ok.Normalize()
	if err := ok.Validate(); err != nil || ok.Language != "fr" || ok.Title != "Stratégie nationale de cybersécurité 2022" {
		t.Fatalf("%v %+v", err, ok)
	}
	for _, u := range []string{"javascript:alert(1)", "data:text/html,x", "ftp://example.org/x", "/relative", "https://", "https://user:pw@example.org/",
		"https://exa mple.org", "http://example.org/\x01", "https:example.org", "https://example.org/" + strings.Repeat("a", MaxSourceURL)} {
		if ValidSourceURL(u) {
			t.Errorf("accepted %q", u)
		}
	}
	for _, u := range []string{"http://example.org", "HTTPS://cert.example.gov.sn/en/?q=1#x", "https://[2001:db8::1]/doc"} {
		if !ValidSourceURL(u) {
			t.Errorf("refused %q", u)
		}
	}
	bad := CountrySource{Kind: "blog", URL: "javascript:alert(1)", Date: "2027-02-30", Language: "xx"}
	got := fieldsOf(t, bad.Validate())
	want := map[string]FieldError{"kind": problem(ProblemOneOf, OneOf(SourceKinds)), "title": problem(ProblemRequired, nil),
		"url": problem(ProblemURL, nil), "date": problem(ProblemDateInvalid, Args{"got": ArgText("2027-02-30")}),
		"language": problem(ProblemUnknownLanguage, Args{"value": ArgText("xx")})}
	for f, w := range want {
		if !reflect.DeepEqual(got[f], w) {
			t.Errorf("%s: got %+v, want %+v", f, got[f], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected problems: %v", got)
	}
}

func TestAssessmentPolicy(t *testing.T) {
	sn := &Actor{Role: RoleMinistry, Country: "SN", OrgID: "o-sn"}
	snOther := &Actor{Role: RoleMinistry, Country: "SN", OrgID: "o-sn2"}
	fj := &Actor{Role: RoleMinistry, Country: "FJ", OrgID: "o-fj"}
	donor := &Actor{Role: RoleDonor, OrgID: "o-d"}
	coord := &Actor{Role: RoleCoordinator, OrgID: "o-c"}
	for _, c := range []struct {
		a       *Actor
		read    bool
		propose bool
		sources bool
	}{{nil, false, false, false}, {sn, true, true, true}, {snOther, true, false, true}, {fj, false, false, false},
		{donor, false, false, false}, {coord, true, true, true}} {
		if got := CanSeeAssessments(c.a, "SN"); got != c.read {
			t.Errorf("%+v read: %v", c.a, got)
		}
		if got := AuthorizeAssessments(c.a, ActPropose, "SN", "o-sn") == nil; got != c.propose {
			t.Errorf("%+v propose: %v", c.a, got)
		}
		if got := AuthorizeCountrySources(c.a, "SN") == nil; got != c.sources {
			t.Errorf("%+v sources: %v", c.a, got)
		}
		if err := AuthorizeAssessments(c.a, ActRead, "SN", ""); (err == nil) != c.read || (err != nil && !errors.Is(err, ErrForbidden)) {
			t.Errorf("%+v: %v", c.a, err)
		}
	}
}
