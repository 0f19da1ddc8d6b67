package models

import (
	"testing"
)

// TestCanSeeNeedByStatusAndVisibility is the need visibility rule, case by case: until a
// coordinator approves it (draft, submitted) and once withdrawn, a need is seen by its own
// organization and coordinators only, not by another ministry of its country (issue 13.2); a
// published need is seen by tier; an anonymous visitor (nil actor) sees published public needs.
func TestCanSeeNeedByStatusAndVisibility(t *testing.T) {
	actors := map[string]*Actor{
		"owner":       {Role: RoleMinistry, OrgID: "org-sn", Country: "SN"},
		"sameCountry": {Role: RoleMinistry, OrgID: "org-sn2", Country: "SN"},
		"otherState":  {Role: RoleMinistry, OrgID: "org-fj", Country: "FJ"},
		"donor":       {Role: RoleDonor, OrgID: "org-donor"},
		"coordinator": {Role: RoleCoordinator, OrgID: "org-desk"},
		"admin":       {Role: RoleAdmin, OrgID: "org-desk"},
		"anonymous":   nil,
	}
	unpublished := map[string]bool{"owner": true, "coordinator": true, "admin": true}
	byTier := map[Visibility]map[string]bool{
		VisibilityPublic:     {"owner": true, "sameCountry": true, "otherState": true, "donor": true, "coordinator": true, "admin": true, "anonymous": true},
		VisibilityDonors:     {"owner": true, "sameCountry": true, "donor": true, "coordinator": true, "admin": true},
		VisibilityRestricted: {"owner": true, "sameCountry": true, "coordinator": true, "admin": true},
	}
	for _, st := range []NeedStatus{NeedDraft, NeedSubmitted, NeedOpen, NeedMatched, NeedInProgress, NeedFulfilled, NeedWithdrawn} {
		for _, vis := range []Visibility{VisibilityPublic, VisibilityDonors, VisibilityRestricted} {
			n := &Need{Country: "SN", OrganizationID: "org-sn", Status: st, Visibility: vis}
			want := byTier[vis]
			if !n.Published() {
				want = unpublished
			}
			for name, a := range actors {
				if got := CanSeeNeed(a, n); got != want[name] {
					t.Errorf("%s need, %s: CanSeeNeed(%s) = %v, want %v", st, vis, name, got, want[name])
				}
				// Reading follows seeing; an anonymous visitor may do nothing else.
				err := AuthorizeNeed(a, ActRead, n)
				if (err == nil) != want[name] {
					t.Errorf("%s need, %s: AuthorizeNeed(%s, read) = %v", st, vis, name, err)
				}
				if a == nil {
					if err := AuthorizeNeed(nil, ActUpdate, n); err == nil {
						t.Errorf("%s need, %s: an anonymous visitor may update it", st, vis)
					}
				}
			}
		}
	}
	// An actor without an organization owns nothing.
	if CanSeeNeed(&Actor{Role: RoleDonor}, &Need{Status: NeedDraft, Visibility: VisibilityPublic}) {
		t.Error("an actor without organization sees a draft without organization")
	}
}

// TestCanSeeOfferAnonymously: visitors see published and closed offers, never drafts, and may
// only read them.
func TestCanSeeOfferAnonymously(t *testing.T) {
	for st, want := range map[OfferStatus]bool{OfferDraft: false, OfferOpen: true, OfferClosed: true} {
		o := &Offer{Status: st, OrganizationID: "org-donor"}
		if got := CanSeeOffer(nil, o); got != want {
			t.Errorf("CanSeeOffer(nil, %s) = %v", st, got)
		}
		for _, act := range []Action{ActUpdate, ActPublish, ActClose} {
			if AuthorizeOffer(nil, act, o) == nil {
				t.Errorf("an anonymous visitor may %s a %s offer", act, st)
			}
		}
		if got := AuthorizeOffer(nil, ActRead, o) == nil; got != want {
			t.Errorf("AuthorizeOffer(nil, read, %s) allowed = %v", st, got)
		}
	}
}
