package models

// This file holds the lifecycles of needs and offers: which transitions exist and from which
// states. Who may ask for a transition is the policy's business (policy.go); whether the
// object is in a state that allows it is decided here. An illegal transition is ErrConflict.

// NeedTransition is a named step in a need's lifecycle.
type NeedTransition string

// The need transitions.
const (
	NeedSubmit   NeedTransition = "submit"   // owner: draft → submitted
	NeedApprove  NeedTransition = "approve"  // coordinator: submitted → open
	NeedReject   NeedTransition = "reject"   // coordinator: submitted → draft, with a reason
	NeedWithdraw NeedTransition = "withdraw" // owner: any state before in_progress → withdrawn
	NeedMatch    NeedTransition = "match"    // system: open → matched when an engagement is agreed
	NeedStart    NeedTransition = "start"    // system: matched → in_progress when a project starts
	NeedFulfil   NeedTransition = "fulfil"   // system: in_progress → fulfilled when the project closes with results
	NeedUnmatch  NeedTransition = "unmatch"  // system: matched → open when an accept cannot complete
)

var needMoves = map[NeedTransition]struct {
	from []NeedStatus
	to   NeedStatus
}{
	NeedSubmit:   {[]NeedStatus{NeedDraft}, NeedSubmitted},
	NeedApprove:  {[]NeedStatus{NeedSubmitted}, NeedOpen},
	NeedReject:   {[]NeedStatus{NeedSubmitted}, NeedDraft},
	NeedWithdraw: {[]NeedStatus{NeedDraft, NeedSubmitted, NeedOpen, NeedMatched}, NeedWithdrawn},
	NeedMatch:    {[]NeedStatus{NeedOpen}, NeedMatched},
	NeedStart:    {[]NeedStatus{NeedMatched}, NeedInProgress},
	NeedFulfil:   {[]NeedStatus{NeedInProgress}, NeedFulfilled},
	NeedUnmatch:  {[]NeedStatus{NeedMatched}, NeedOpen},
}

// Next returns the state the transition leads to from the need's current state, or
// ErrConflict when the transition is not allowed from there.
func (n *Need) Next(t NeedTransition) (NeedStatus, error) {
	m, ok := needMoves[t]
	if !ok {
		return "", Errorf(ErrNotFound, "no such transition %q", t)
	}
	for _, f := range m.from {
		if n.Status == f {
			return m.to, nil
		}
	}
	return "", Errorf(ErrConflict, "a %s need cannot %s", n.Status, t)
}

// Editable reports whether the need's content may still change: the owner edits drafts only;
// coordinators may correct any need that is not finished.
func (n *Need) Editable(a *Actor) error {
	if a.Role.Curates() {
		if n.Status == NeedFulfilled || n.Status == NeedWithdrawn {
			return Errorf(ErrConflict, "a %s need can no longer be edited", n.Status)
		}
		return nil
	}
	if n.Status != NeedDraft {
		return Errorf(ErrConflict, "a %s need can no longer be edited by its owner; withdraw it or ask a coordinator", n.Status)
	}
	return nil
}

// OfferTransition is a named step in an offer's lifecycle.
type OfferTransition string

// The offer transitions.
const (
	OfferPublish OfferTransition = "publish" // owner: draft → open
	OfferClose   OfferTransition = "close"   // owner or coordinator (or automatically when full): open → closed
)

// Next returns the state the transition leads to, or ErrConflict.
func (o *Offer) Next(t OfferTransition) (OfferStatus, error) {
	switch {
	case t == OfferPublish && o.Status == OfferDraft:
		return OfferOpen, nil
	case t == OfferClose && o.Status == OfferOpen:
		return OfferClosed, nil
	case t != OfferPublish && t != OfferClose:
		return "", Errorf(ErrNotFound, "no such transition %q", t)
	}
	return "", Errorf(ErrConflict, "a %s offer cannot %s", o.Status, t)
}

// Editable reports whether the offer's content may change: owners edit drafts and open offers
// (a changed budget or window re-ranks at once); nobody edits a closed offer.
func (o *Offer) Editable(a *Actor) error {
	if o.Status == OfferClosed {
		return Errorf(ErrConflict, "a closed offer can no longer be edited")
	}
	return nil
}

// Published reports whether a need is on the market: a coordinator approved it and its owner
// has not withdrawn it. Drafts, needs awaiting approval (submitted) and withdrawn needs are
// their organization's and the coordinators' business only.
func (n *Need) Published() bool {
	switch n.Status {
	case NeedDraft, NeedSubmitted, NeedWithdrawn:
		return false
	}
	return true
}
