package models

import "fmt"

// This file holds the engagement lifecycle and the cascades between lifecycles: what the end
// of a need or an offer does to its engagements, what an engagement reserves of an offer, and
// how a need's funding gap is counted. The service layer applies these rules; it does not
// restate them. Every rule here is a pure function of the objects as they stand, so that a
// retry or the start-up recovery can apply it again and reach the same state.

// EngagementTransition is a named step in an engagement's lifecycle.
type EngagementTransition string

// The engagement transitions. Accept, decline, withdraw and cancel are asked for by people
// (policy.go says who); agree and revert are the accept protocol's own steps.
const (
	EngAccept   EngagementTransition = "accept"   // the side that did not propose: proposed → accepting
	EngAgree    EngagementTransition = "agree"    // system: accepting → agreed, once the need is matched and the slot reserved
	EngRevert   EngagementTransition = "revert"   // system: accepting → proposed, when an accept cannot complete
	EngDecline  EngagementTransition = "decline"  // the side that did not propose: proposed → declined
	EngWithdraw EngagementTransition = "withdraw" // the proposer (or a cascade): proposed → withdrawn
	EngCancel   EngagementTransition = "cancel"   // either side, coordinators (or a cascade): agreed, without a project → cancelled
)

var engagementMoves = map[EngagementTransition]struct {
	from EngagementStatus
	to   EngagementStatus
}{
	EngAccept:   {EngagementProposed, EngagementAccepting},
	EngAgree:    {EngagementAccepting, EngagementAgreed},
	EngRevert:   {EngagementAccepting, EngagementProposed},
	EngDecline:  {EngagementProposed, EngagementDeclined},
	EngWithdraw: {EngagementProposed, EngagementWithdrawn},
	EngCancel:   {EngagementAgreed, EngagementCancelled},
}

// To is the state the transition leads to.
func (t EngagementTransition) To() EngagementStatus { return engagementMoves[t].to }

// Next returns the state the transition leads to, or ErrConflict when the engagement is not in
// the state it starts from. An agreed engagement with a project is not cancelled: the project
// ends through its own lifecycle.
func (e *Engagement) Next(t EngagementTransition) (EngagementStatus, error) {
	m, ok := engagementMoves[t]
	if !ok {
		return "", Errorf(ErrNotFound, "no such transition %q", t)
	}
	if e.Status != m.from {
		return "", Errorf(ErrConflict, "a %s engagement cannot %s", e.Status, t)
	}
	if t == EngCancel && e.ProjectID != "" {
		return "", Errorf(ErrConflict, "the engagement has project %s; close the project through its own lifecycle instead", e.ProjectID)
	}
	return m.to, nil
}

// Live reports whether the engagement still stands: proposed, being accepted, or agreed.
func (e *Engagement) Live() bool {
	switch e.Status {
	case EngagementProposed, EngagementAccepting, EngagementAgreed:
		return true
	}
	return false
}

// TakesEngagements reports whether a need in its current state may hold live engagements:
// once approved, until it ends. Drafts (also a rejected need, back in draft), submitted and
// withdrawn needs hold none.
func (n *Need) TakesEngagements() bool {
	switch n.Status {
	case NeedOpen, NeedMatched, NeedInProgress, NeedFulfilled:
		return true
	}
	return false
}

// EngagementFate is what the end of a need or of an offer does to one of its engagements.
type EngagementFate string

// The fates.
const (
	FateNone     EngagementFate = ""         // nothing to do: it ended already, or nothing ended
	FateWithdraw EngagementFate = "withdraw" // a proposal is withdrawn (it held nothing)
	FateCancel   EngagementFate = "cancel"   // an agreement is cancelled and its slot and amount released
	FateKeep     EngagementFate = "keep"     // an agreement stays (its offer closed to new engagements): said so
)

// needEndFates is what a need that no longer takes engagements (withdrawn, or rejected back
// to draft) does to each of them, by status. An engagement being accepted is left to the
// accept protocol, which settles it against this table once it completes or reverts.
var needEndFates = map[EngagementStatus]EngagementFate{
	EngagementProposed: FateWithdraw,
	EngagementAgreed:   FateCancel,
}

// offerCloseFates is what a closed offer does to each of its engagements, by status: the
// proposals end, the agreements stand (their slot and amount stay taken).
var offerCloseFates = map[EngagementStatus]EngagementFate{
	EngagementProposed: FateWithdraw,
	EngagementAgreed:   FateKeep,
}

// FateOf decides what the engagement must become given its need and offer as they stand now
// (nil when unknown): the one rule that the cascades, their retries and the start-up recovery
// all apply. The need's end comes first: an agreement whose need was withdrawn is cancelled
// even if its offer closed too. An agreement with a project is never cancelled here.
func FateOf(e *Engagement, n *Need, o *Offer) EngagementFate {
	if n != nil && !n.TakesEngagements() {
		f := needEndFates[e.Status]
		if f == FateCancel && e.ProjectID != "" {
			return FateNone
		}
		return f
	}
	if o != nil && o.Status == OfferClosed {
		return offerCloseFates[e.Status]
	}
	return FateNone
}

// CascadePlan is what ending a need or an offer will do (or did) to its engagements, in
// words the person ending it is shown before confirming.
type CascadePlan struct {
	Withdraw []*Engagement
	Cancel   []*Engagement
	Keep     []*Engagement
}

// ReleasedBudget is the amount the cancellations give back to their offers.
func (p CascadePlan) ReleasedBudget() int64 {
	var sum int64
	for _, e := range p.Cancel {
		sum += e.BudgetUSD
	}
	return sum
}

// Empty reports whether the end touches no engagement.
func (p CascadePlan) Empty() bool { return len(p.Withdraw)+len(p.Cancel)+len(p.Keep) == 0 }

// PlanNeedEnd lists what withdrawing (or rejecting) the need does to its engagements.
func PlanNeedEnd(engagements []*Engagement) CascadePlan {
	return plan(engagements, needEndFates)
}

// PlanOfferClose lists what closing the offer does to its engagements.
func PlanOfferClose(engagements []*Engagement) CascadePlan {
	return plan(engagements, offerCloseFates)
}

func plan(engagements []*Engagement, fates map[EngagementStatus]EngagementFate) CascadePlan {
	var p CascadePlan
	for _, e := range engagements {
		switch fates[e.Status] {
		case FateWithdraw:
			p.Withdraw = append(p.Withdraw, e)
		case FateCancel:
			if e.ProjectID == "" {
				p.Cancel = append(p.Cancel, e)
			}
		case FateKeep:
			p.Keep = append(p.Keep, e)
		}
	}
	return p
}

// CheckNeedEnd refuses to withdraw a need that has a running project (or one being started
// from its engagement): the project ends through its own lifecycle, which then settles the
// need. The error names the project.
func CheckNeedEnd(n *Need, engagements []*Engagement, projects []*Project) error {
	for _, p := range projects {
		if p.NeedID == n.ID && p.Active() {
			return Errorf(ErrConflict, "the need has a running project %s (%q); it cannot be withdrawn: the project ends through its own lifecycle (closing it fulfils the need)", p.ID, p.Title)
		}
	}
	for _, e := range engagements {
		if e.NeedID == n.ID && e.Live() && e.ProjectID != "" {
			return Errorf(ErrConflict, "the need has a project %s starting from engagement %s; it cannot be withdrawn: the project ends through its own lifecycle", e.ProjectID, e.ID)
		}
	}
	return nil
}

// Terms are what an engagement reserves of its offer once agreed: an amount and a period.
type Terms struct {
	BudgetUSD int64
	Start     Date
	End       Date
}

// DefaultTerms proposes the amount and period of an engagement: the smaller of the need's
// unfunded remainder (its budget less what is committed to it) and the offer's remaining
// budget, over the need's period cut to the offer's window.
func DefaultTerms(n *Need, o *Offer, committedToNeed int64) Terms {
	t := Terms{BudgetUSD: min(Gap(n.BudgetUSD, committedToNeed), o.RemainingBudget()),
		Start: n.StartBy, End: n.StartBy.AddMonths(n.DurationMonths)}
	if o.AvailableFrom.Valid() && t.Start < o.AvailableFrom {
		t.Start = o.AvailableFrom
	}
	if o.AvailableUntil.Valid() && t.End > o.AvailableUntil {
		t.End = o.AvailableUntil
	}
	return t
}

// CheckTerms reports every problem of an engagement's terms against its offer: an amount from
// 1 to what remains of the offer, and a real period, in order, inside the offer's window.
func CheckTerms(t Terms, o *Offer, p *Problems) {
	if left := o.RemainingBudget(); t.BudgetUSD < 1 || t.BudgetUSD > left {
		p.Add("budget_usd", ProblemExceedsOffer, Args{"remaining": ArgUSD(left)})
	}
	CheckPeriod(p, "start_date", t.Start, "end_date", t.End)
	inWindow(p, "start_date", t.Start, "end_date", t.End, o)
}

// CheckProjectDates reports project dates outside the offer's window or the engagement's
// period: a project cannot run where the money was not agreed.
func CheckProjectDates(p *Problems, start, end Date, o *Offer, e *Engagement) {
	before := len(*p)
	if o != nil {
		inWindow(p, "start_date", start, "end_date", end, o)
	}
	if e == nil || len(*p) > before {
		return
	}
	if e.StartDate.Valid() && start.Valid() && start < e.StartDate {
		p.Add("start_date", ProblemBeforeEngagement, Args{"start": ArgDate(e.StartDate)})
	}
	if e.EndDate.Valid() && end.Valid() && end > e.EndDate {
		p.Add("end_date", ProblemAfterEngagement, Args{"end": ArgDate(e.EndDate)})
	}
}

// CheckPeriod reports a period's dates that are not real dates, or an end before the start.
func CheckPeriod(p *Problems, fromName string, from Date, toName string, to Date) {
	if !from.Valid() {
		p.Add(fromName, ProblemDateInvalid, Args{"got": ArgSent(string(from))})
	}
	if !to.Valid() {
		p.Add(toName, ProblemDateInvalid, Args{"got": ArgSent(string(to))})
	}
	if from.Valid() && to.Valid() && to < from {
		p.Add(toName, ProblemDateOrder, Args{"start": ArgDate(from)})
	}
}

func inWindow(p *Problems, fromName string, from Date, toName string, to Date, o *Offer) {
	window := Args{"window": ArgDateRange(o.AvailableFrom, o.AvailableUntil)}
	if o.AvailableFrom.Valid() && from.Valid() && from < o.AvailableFrom {
		p.Add(fromName, ProblemOutsideWindow, window)
	}
	if o.AvailableUntil.Valid() && to.Valid() && to > o.AvailableUntil {
		p.Add(toName, ProblemOutsideWindow, window)
	}
}

// Gap is what a budget still lacks after commitments: budget − committed, never below 0.
func Gap(budget, committed int64) int64 {
	if g := budget - committed; g > 0 {
		return g
	}
	return 0
}

// CountsForFunding reports whether the need counts in funding figures: live needs, that is
// open, matched or in progress. Drafts, needs awaiting approval, fulfilled and withdrawn
// needs ask for nothing more.
func (n *Need) CountsForFunding() bool {
	switch n.Status {
	case NeedOpen, NeedMatched, NeedInProgress:
		return true
	}
	return false
}

// NeedFunding is the money of one need, or the sum over several: what it requests (its
// budget), what is committed and disbursed to it (transactions on its projects that were not
// cancelled), and its gap. A need's gap is max(0, budget − committed); a sum's gap is the sum
// of its needs' gaps, so that a need funded beyond its budget never hides another's shortfall.
type NeedFunding struct {
	Needs     int   `json:"needs"`
	Requested int64 `json:"requested"`
	Committed int64 `json:"committed"`
	Disbursed int64 `json:"disbursed"`
	Gap       int64 `json:"gap"`
}

// FundingOfNeed computes one need's funding from the projects (any may be passed; only the
// need's own count).
func FundingOfNeed(n *Need, projects []*Project) NeedFunding {
	f := NeedFunding{Needs: 1, Requested: n.BudgetUSD}
	for _, p := range projects {
		if p.NeedID != n.ID || p.Status == StatusCancelled {
			continue
		}
		pf := p.Funding()
		f.Committed += pf.Committed
		f.Disbursed += pf.Disbursed
	}
	f.Gap = Gap(f.Requested, f.Committed)
	return f
}

// Add sums another need's (or group's) figures into f.
func (f *NeedFunding) Add(g NeedFunding) {
	f.Needs += g.Needs
	f.Requested += g.Requested
	f.Committed += g.Committed
	f.Disbursed += g.Disbursed
	f.Gap += g.Gap
}

// String is for logs and test failures.
func (f NeedFunding) String() string {
	return fmt.Sprintf("%d needs: requested %d, committed %d, disbursed %d, gap %d", f.Needs, f.Requested, f.Committed, f.Disbursed, f.Gap)
}
