package models

import (
	"errors"
	"testing"
)

// TestNeedLifecycleExhaustive checks every transition from every state against the contract's
// lifecycle: draft → submitted → open → matched → in_progress → fulfilled; reject back to
// draft; withdrawn from any state before in_progress.
func TestNeedLifecycleExhaustive(t *testing.T) {
	all := []NeedStatus{NeedDraft, NeedSubmitted, NeedOpen, NeedMatched, NeedInProgress, NeedFulfilled, NeedWithdrawn}
	legal := map[NeedTransition]map[NeedStatus]NeedStatus{
		NeedSubmit:   {NeedDraft: NeedSubmitted},
		NeedApprove:  {NeedSubmitted: NeedOpen},
		NeedReject:   {NeedSubmitted: NeedDraft},
		NeedWithdraw: {NeedDraft: NeedWithdrawn, NeedSubmitted: NeedWithdrawn, NeedOpen: NeedWithdrawn, NeedMatched: NeedWithdrawn},
		NeedMatch:    {NeedOpen: NeedMatched},
		NeedStart:    {NeedMatched: NeedInProgress},
		NeedFulfil:   {NeedInProgress: NeedFulfilled},
		NeedUnmatch:  {NeedMatched: NeedOpen},
	}
	for tr, moves := range legal {
		for _, from := range all {
			n := &Need{Status: from}
			got, err := n.Next(tr)
			if want, ok := moves[from]; ok {
				if err != nil || got != want {
					t.Errorf("%s from %s: got %q, %v; want %q", tr, from, got, err, want)
				}
			} else if !errors.Is(err, ErrConflict) {
				t.Errorf("%s from %s: want ErrConflict, got %q, %v", tr, from, got, err)
			}
		}
	}
	if _, err := (&Need{Status: NeedDraft}).Next("explode"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown transition: %v", err)
	}
}

func TestOfferLifecycleExhaustive(t *testing.T) {
	cases := []struct {
		from OfferStatus
		tr   OfferTransition
		want OfferStatus // "" = conflict
	}{
		{OfferDraft, OfferPublish, OfferOpen}, {OfferOpen, OfferPublish, ""}, {OfferClosed, OfferPublish, ""},
		{OfferDraft, OfferClose, ""}, {OfferOpen, OfferClose, OfferClosed}, {OfferClosed, OfferClose, ""},
	}
	for _, c := range cases {
		got, err := (&Offer{Status: c.from}).Next(c.tr)
		if c.want == "" {
			if !errors.Is(err, ErrConflict) {
				t.Errorf("%s from %s: want conflict, got %q %v", c.tr, c.from, got, err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%s from %s: got %q %v want %q", c.tr, c.from, got, err, c.want)
		}
	}
}

func TestEditable(t *testing.T) {
	owner := &Actor{Role: RoleMinistry}
	coord := &Actor{Role: RoleCoordinator}
	for _, st := range []NeedStatus{NeedDraft, NeedSubmitted, NeedOpen, NeedMatched, NeedInProgress, NeedFulfilled, NeedWithdrawn} {
		n := &Need{Status: st}
		if err := n.Editable(owner); (err == nil) != (st == NeedDraft) {
			t.Errorf("owner edit in %s: %v", st, err)
		}
		if err := n.Editable(coord); (err == nil) != (st != NeedFulfilled && st != NeedWithdrawn) {
			t.Errorf("coordinator edit in %s: %v", st, err)
		}
	}
}
