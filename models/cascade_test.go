package models

import (
	"errors"
	"strings"
	"testing"
)

// TestEngagementLifecycleExhaustive checks every transition from every state.
func TestEngagementLifecycleExhaustive(t *testing.T) {
	all := []EngagementStatus{EngagementProposed, EngagementAccepting, EngagementAgreed, EngagementDeclined, EngagementWithdrawn, EngagementCancelled}
	legal := map[EngagementTransition]map[EngagementStatus]EngagementStatus{
		EngAccept:   {EngagementProposed: EngagementAccepting},
		EngAgree:    {EngagementAccepting: EngagementAgreed},
		EngRevert:   {EngagementAccepting: EngagementProposed},
		EngDecline:  {EngagementProposed: EngagementDeclined},
		EngWithdraw: {EngagementProposed: EngagementWithdrawn},
		EngCancel:   {EngagementAgreed: EngagementCancelled},
	}
	for tr, moves := range legal {
		if tr.To() == "" {
			t.Errorf("%s leads nowhere", tr)
		}
		for _, from := range all {
			e := &Engagement{Status: from}
			got, err := e.Next(tr)
			if want, ok := moves[from]; ok {
				if err != nil || got != want {
					t.Errorf("%s from %s: got %q, %v; want %q", tr, from, got, err, want)
				}
			} else if !errors.Is(err, ErrConflict) {
				t.Errorf("%s from %s: want ErrConflict, got %q, %v", tr, from, got, err)
			}
		}
	}
	withProject := &Engagement{Status: EngagementAgreed, ProjectID: "prj1"}
	if _, err := withProject.Next(EngCancel); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "prj1") {
		t.Errorf("cancelling an engagement with a project: %v; want a conflict naming the project", err)
	}
}

// TestFateOf is the cascade table: what the end of a need or an offer does to each engagement.
func TestFateOf(t *testing.T) {
	need := func(st NeedStatus) *Need { return &Need{ID: "n", Status: st} }
	offer := func(st OfferStatus) *Offer { return &Offer{ID: "o", Status: st} }
	eng := func(st EngagementStatus, project string) *Engagement {
		return &Engagement{NeedID: "n", OfferID: "o", Status: st, ProjectID: project}
	}
	tests := []struct {
		name string
		e    *Engagement
		n    *Need
		o    *Offer
		want EngagementFate
	}{
		{"live need, open offer", eng(EngagementProposed, ""), need(NeedOpen), offer(OfferOpen), FateNone},
		{"withdrawn need: proposal withdrawn", eng(EngagementProposed, ""), need(NeedWithdrawn), offer(OfferOpen), FateWithdraw},
		{"withdrawn need: agreement cancelled", eng(EngagementAgreed, ""), need(NeedWithdrawn), offer(OfferOpen), FateCancel},
		{"rejected need (draft): proposal withdrawn", eng(EngagementProposed, ""), need(NeedDraft), nil, FateWithdraw},
		{"withdrawn need: agreement with a project left to the project", eng(EngagementAgreed, "p"), need(NeedWithdrawn), nil, FateNone},
		{"withdrawn need: accept in progress left to the accept", eng(EngagementAccepting, ""), need(NeedWithdrawn), nil, FateNone},
		{"withdrawn need: ended engagement untouched", eng(EngagementDeclined, ""), need(NeedWithdrawn), nil, FateNone},
		{"closed offer: proposal withdrawn", eng(EngagementProposed, ""), need(NeedOpen), offer(OfferClosed), FateWithdraw},
		{"closed offer: agreement kept", eng(EngagementAgreed, ""), need(NeedMatched), offer(OfferClosed), FateKeep},
		{"both ended: the need's end wins", eng(EngagementAgreed, ""), need(NeedWithdrawn), offer(OfferClosed), FateCancel},
		{"fulfilled need keeps its agreement", eng(EngagementAgreed, "p"), need(NeedFulfilled), offer(OfferOpen), FateNone},
		{"unknown need and offer", eng(EngagementProposed, ""), nil, nil, FateNone},
	}
	for _, tt := range tests {
		if got := FateOf(tt.e, tt.n, tt.o); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	p := PlanNeedEnd([]*Engagement{eng(EngagementProposed, ""), {Status: EngagementAgreed, BudgetUSD: 200_000}, eng(EngagementAgreed, "p"), eng(EngagementDeclined, "")})
	if len(p.Withdraw) != 1 || len(p.Cancel) != 1 || len(p.Keep) != 0 || p.ReleasedBudget() != 200_000 {
		t.Errorf("need-end plan: %+v", p)
	}
	p = PlanOfferClose([]*Engagement{eng(EngagementProposed, ""), eng(EngagementAgreed, "")})
	if len(p.Withdraw) != 1 || len(p.Keep) != 1 || len(p.Cancel) != 0 {
		t.Errorf("offer-close plan: %+v", p)
	}
}

func TestCheckNeedEndNamesTheProject(t *testing.T) {
	n := &Need{ID: "n", Status: NeedInProgress}
	running := &Project{ID: "prj-7", NeedID: "n", Title: "CSIRT", Status: StatusImplementation}
	if err := CheckNeedEnd(n, nil, []*Project{running}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "prj-7") {
		t.Errorf("running project: %v", err)
	}
	closed := &Project{ID: "prj-8", NeedID: "n", Status: StatusClosed}
	if err := CheckNeedEnd(n, nil, []*Project{closed}); err != nil {
		t.Errorf("closed project: %v", err)
	}
	starting := &Engagement{ID: "e", NeedID: "n", Status: EngagementAgreed, ProjectID: "prj-9"}
	if err := CheckNeedEnd(n, []*Engagement{starting}, nil); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "prj-9") {
		t.Errorf("starting project: %v", err)
	}
}

// TestTerms: the default amount is the smaller of the need's unfunded remainder and the
// offer's remaining budget; the period is the need's cut to the offer's window; explicit terms
// outside the window or beyond the budget are refused with a reason.
func TestTerms(t *testing.T) {
	n := &Need{BudgetUSD: 650_000, StartBy: "2027-03-01", DurationMonths: 24}
	o := &Offer{BudgetUSD: 1_000_000, BudgetCommitted: 600_000, AvailableFrom: "2027-04-01", AvailableUntil: "2028-06-30"}
	got := DefaultTerms(n, o, 0)
	if got != (Terms{BudgetUSD: 400_000, Start: "2027-04-01", End: "2028-06-30"}) {
		t.Errorf("defaults: %+v", got)
	}
	if got := DefaultTerms(n, o, 500_000); got.BudgetUSD != 150_000 {
		t.Errorf("the need's unfunded remainder caps the amount: %+v", got)
	}
	var p Problems
	CheckTerms(got, o, &p)
	if len(p) != 0 {
		t.Errorf("defaults are valid: %v", p)
	}
	p = nil
	CheckTerms(Terms{BudgetUSD: 400_001, Start: "2027-03-01", End: "2028-07-01"}, o, &p)
	fields := map[string]FieldError{}
	for _, f := range p {
		fields[f.Field] = f
	}
	window := ArgDateRange("2027-04-01", "2028-06-30")
	if b := fields["budget_usd"]; b.Code != ProblemExceedsOffer || b.Args["remaining"] != ArgUSD(400_000) ||
		fields["start_date"].Code != ProblemOutsideWindow || fields["start_date"].Args["window"] != window ||
		fields["end_date"].Code != ProblemOutsideWindow || fields["end_date"].Args["window"] != window {
		t.Errorf("problems: %v", p)
	}

	e := &Engagement{StartDate: "2027-05-01", EndDate: "2027-12-31"}
	p = nil
	CheckProjectDates(&p, "2027-05-01", "2027-12-31", o, e)
	if len(p) != 0 {
		t.Errorf("inside both: %v", p)
	}
	p = nil
	CheckProjectDates(&p, "2027-05-01", "2028-07-31", o, e)
	if len(p) != 1 || p[0].Code != ProblemOutsideWindow || p[0].Args["window"].DateRange().Until != "2028-06-30" {
		t.Errorf("after the offer's window: %v", p)
	}
	p = nil
	CheckProjectDates(&p, "2027-04-15", "2027-12-31", o, e)
	if len(p) != 1 || p[0].Code != ProblemBeforeEngagement || p[0].Args["start"] != ArgDate("2027-05-01") {
		t.Errorf("before the engagement's period: %v", p)
	}
}

// TestFundingOfNeeds is the Senegal shape in domain terms: a need funded short, one
// funded beyond its budget, and open needs without funding. The gaps add up; a surplus never
// offsets a shortfall; cancelled projects commit nothing.
func TestFundingOfNeeds(t *testing.T) {
	funded := &Need{ID: "a", BudgetUSD: 650_000, Status: NeedInProgress}
	over := &Need{ID: "b", BudgetUSD: 100_000, Status: NeedInProgress}
	open1 := &Need{ID: "c", BudgetUSD: 200_000, Status: NeedOpen}
	open2 := &Need{ID: "d", BudgetUSD: 170_000, Status: NeedMatched}
	projects := []*Project{
		{NeedID: "a", Status: StatusImplementation, Transactions: []Transaction{{Type: TxCommitment, AmountUSD: 400_000}, {Type: TxDisbursement, AmountUSD: 50_000}}},
		{NeedID: "b", Status: StatusPipeline, Transactions: []Transaction{{Type: TxCommitment, AmountUSD: 300_000}}},
		{NeedID: "c", Status: StatusCancelled, Transactions: []Transaction{{Type: TxCommitment, AmountUSD: 200_000}}},
	}
	var sum NeedFunding
	for _, n := range []*Need{funded, over, open1, open2} {
		if !n.CountsForFunding() {
			t.Fatalf("%s is live", n.ID)
		}
		sum.Add(FundingOfNeed(n, projects))
	}
	want := NeedFunding{Needs: 4, Requested: 1_120_000, Committed: 700_000, Disbursed: 50_000, Gap: 250_000 + 0 + 200_000 + 170_000}
	if sum != want {
		t.Errorf("got %v, want %v", sum, want)
	}
	for _, st := range []NeedStatus{NeedDraft, NeedSubmitted, NeedFulfilled, NeedWithdrawn} {
		if (&Need{Status: st}).CountsForFunding() {
			t.Errorf("%s needs do not count", st)
		}
	}
}
