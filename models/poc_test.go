package models

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestPoCVisibilityAndKeeping is the PoC rule case by case: coordinators and the state's
// ministries see and keep its contacts; a nominated PoC of another state sees them but may not
// change them; donors, anonymous visitors, other ministries and a "PoC" of another state that
// is not a ministry see nothing (404, not 403).
func TestPoCVisibilityAndKeeping(t *testing.T) {
	type actor struct {
		a     *Actor
		pocOf string
	}
	actors := map[string]actor{
		"ministry of SN":      {&Actor{Role: RoleMinistry, OrgID: "org-sn", Country: "SN"}, ""},
		"PoC of SN":           {&Actor{Role: RoleMinistry, OrgID: "org-sn", Country: "SN"}, "SN"},
		"ministry of FJ":      {&Actor{Role: RoleMinistry, OrgID: "org-fj", Country: "FJ"}, ""},
		"PoC of FJ":           {&Actor{Role: RoleMinistry, OrgID: "org-fj", Country: "FJ"}, "FJ"},
		"stale link of FJ":    {&Actor{Role: RoleMinistry, OrgID: "org-fj", Country: "FJ"}, "KE"},
		"donor":               {&Actor{Role: RoleDonor, OrgID: "org-donor"}, ""},
		"donor claiming PoC":  {&Actor{Role: RoleDonor, OrgID: "org-donor"}, "FJ"},
		"coordinator":         {&Actor{Role: RoleCoordinator, OrgID: "org-desk"}, ""},
		"admin":               {&Actor{Role: RoleAdmin, OrgID: "org-desk"}, ""},
		"anonymous":           {nil, ""},
		"anonymous PoC claim": {nil, "SN"},
	}
	sees := map[string]bool{"ministry of SN": true, "PoC of SN": true, "PoC of FJ": true, "coordinator": true, "admin": true}
	keeps := map[string]bool{"ministry of SN": true, "PoC of SN": true, "coordinator": true, "admin": true}
	for name, x := range actors {
		if got := CanSeePoCs(x.a, "SN", x.pocOf); got != sees[name] {
			t.Errorf("CanSeePoCs(%s) = %v, want %v", name, got, sees[name])
		}
		err := AuthorizePoCs(x.a, ActRead, "SN", x.pocOf)
		if (err == nil) != sees[name] || (err != nil && !errors.Is(err, ErrNotFound)) {
			t.Errorf("read as %s: %v", name, err)
		}
		for _, act := range []Action{ActCreate, ActUpdate, ActDelete} {
			err := AuthorizePoCs(x.a, act, "SN", x.pocOf)
			switch {
			case keeps[name]:
				if err != nil {
					t.Errorf("%s as %s: %v", act, name, err)
				}
			case sees[name]:
				if !errors.Is(err, ErrForbidden) {
					t.Errorf("%s as %s: %v, want forbidden", act, name, err)
				}
			default:
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("%s as %s: %v, want not found", act, name, err)
				}
			}
		}
	}
	if AuthorizePoCChecks(actors["ministry of SN"].a) == nil || AuthorizePoCChecks(nil) == nil || AuthorizePoCChecks(actors["donor"].a) == nil {
		t.Error("only coordinators run checks")
	}
	if AuthorizePoCChecks(actors["coordinator"].a) != nil || AuthorizePoCChecks(actors["admin"].a) != nil {
		t.Error("coordinators run checks")
	}
}

func TestPoCValidation(t *testing.T) {
	valid := func() PoC {
		return PoC{Kind: PoCTechnical, Name: " Awa Ndiaye ", Role: "Head of CERT", Organization: "CSIRT-SN",
			Email: " awa.ndiaye@cert.gouv.sn.example ", Phone: "+221 (33) 889-13.00", Languages: []string{"FR", "en"}}
	}
	p := valid()
	p.Normalize()
	if err := p.Validate(); err != nil {
		t.Fatalf("valid contact refused: %v", err)
	}
	if p.Phone != "+221338891300" || p.Name != "Awa Ndiaye" || p.Email != "awa.ndiaye@cert.gouv.sn.example" || p.Languages[0] != "fr" {
		t.Errorf("normalized: %+v", p)
	}
	cases := map[string]struct {
		edit  func(p *PoC)
		field string
	}{
		"no kind":             {func(p *PoC) { p.Kind = "" }, "kind"},
		"bad kind":            {func(p *PoC) { p.Kind = "political" }, "kind"},
		"no name":             {func(p *PoC) { p.Name = "  " }, "name"},
		"long name":           {func(p *PoC) { p.Name = strings.Repeat("n", MaxTitleRunes+1) }, "name"},
		"control in role":     {func(p *PoC) { p.Role = "Head\x07" }, "role"},
		"no email":            {func(p *PoC) { p.Email = "" }, "email"},
		"display name":        {func(p *PoC) { p.Email = "Awa <awa@cert.sn.example>" }, "email"},
		"no at":               {func(p *PoC) { p.Email = "awa.cert.sn.example" }, "email"},
		"dotless domain":      {func(p *PoC) { p.Email = "awa@localhost" }, "email"},
		"space in email":      {func(p *PoC) { p.Email = "awa ndiaye@cert.sn.example" }, "email"},
		"phone without plus":  {func(p *PoC) { p.Phone = "00221338891300" }, "phone"},
		"phone with letters":  {func(p *PoC) { p.Phone = "+221 33 CALL ME" }, "phone"},
		"phone too long":      {func(p *PoC) { p.Phone = "+2213388913001234" }, "phone"},
		"phone too short":     {func(p *PoC) { p.Phone = "+22133" }, "phone"},
		"phone country 0":     {func(p *PoC) { p.Phone = "+0221338891300" }, "phone"},
		"no languages":        {func(p *PoC) { p.Languages = nil }, "languages"},
		"unknown language":    {func(p *PoC) { p.Languages = []string{"fr", "xx"} }, "languages[1]"},
		"three-letter code":   {func(p *PoC) { p.Languages = []string{"fra"} }, "languages[0]"},
		"repeated language":   {func(p *PoC) { p.Languages = []string{"fr", "fr"} }, "languages[1]"},
		"too many languages":  {func(p *PoC) { p.Languages = strings.Split("fr,en,es,ar,ru,zh,pt,de,it,nl,sw", ",") }, "languages"},
		"address over 254":    {func(p *PoC) { p.Email = strings.Repeat("a", 250) + "@x.example" }, "email"},
		"invalid UTF-8 name":  {func(p *PoC) { p.Name = "A\xffB" }, "name"},
		"multi-line org name": {func(p *PoC) { p.Organization = "Ministry\nof Foreign Affairs" }, "organization"},
	}
	for name, tc := range cases {
		p := valid()
		tc.edit(&p)
		p.Normalize()
		err := p.Validate()
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want a validation error", name, err)
			continue
		}
		found := false
		for _, f := range e.Fields {
			found = found || f.Field == tc.field
		}
		if !found {
			t.Errorf("%s: problems %+v do not name %s", name, e.Fields, tc.field)
		}
	}
	// An empty phone is allowed (not every PoC has a direct line).
	p = valid()
	p.Phone = ""
	p.Normalize()
	if err := p.Validate(); err != nil {
		t.Errorf("no phone: %v", err)
	}
}

// TestPoCReadinessIsDerivedFromChecks: nominated from the list, reachable from the latest
// check with an outcome (a running one counts once acknowledged), missed checks counted in a
// row.
func TestPoCReadinessIsDerivedFromChecks(t *testing.T) {
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(d int) *time.Time { x := t0.AddDate(0, 0, d); return &x }
	rec := func(sent int, ack *time.Time, closed bool) PoCCheckRecord {
		return PoCCheckRecord{CheckID: "c", SentAt: t0.AddDate(0, 0, sent), ExpiresAt: t0.AddDate(0, 0, sent).Add(PoCCheckTTL), AcknowledgedAt: ack, Closed: closed}
	}
	now := t0.AddDate(0, 0, 100)
	cases := []struct {
		name   string
		d      PoCDirectory
		want   PoCReadiness
		lastAt int
	}{
		{"nothing", PoCDirectory{}, PoCReadiness{}, -1},
		{"nominated, never checked", PoCDirectory{Items: []PoC{{ID: "p"}}}, PoCReadiness{Nominated: true}, -1},
		{"acknowledged", PoCDirectory{Items: []PoC{{ID: "p"}}, Checks: []PoCCheckRecord{rec(0, at(1), true)}},
			PoCReadiness{Nominated: true, Reachable: true}, 0},
		{"missed after acknowledged", PoCDirectory{Items: []PoC{{ID: "p"}}, Checks: []PoCCheckRecord{rec(0, at(1), true), rec(30, nil, true)}},
			PoCReadiness{Nominated: true, Missed: 1}, 30},
		{"two missed", PoCDirectory{Items: []PoC{{ID: "p"}}, Checks: []PoCCheckRecord{rec(0, at(1), true), rec(30, nil, true), rec(60, nil, false)}},
			PoCReadiness{Nominated: true, Missed: 2}, 60},
		{"running check not yet answered keeps the last outcome", PoCDirectory{Items: []PoC{{ID: "p"}},
			Checks: []PoCCheckRecord{rec(0, at(1), true), rec(95, nil, false)}}, PoCReadiness{Nominated: true, Reachable: true}, 95},
		{"running check answered", PoCDirectory{Items: []PoC{{ID: "p"}},
			Checks: []PoCCheckRecord{rec(30, nil, true), rec(95, at(96), false)}}, PoCReadiness{Nominated: true, Reachable: true}, 95},
		{"misses stop at an acknowledgement", PoCDirectory{Items: []PoC{{ID: "p"}},
			Checks: []PoCCheckRecord{rec(0, nil, true), rec(20, at(21), true), rec(40, nil, true), rec(95, nil, false)}},
			PoCReadiness{Nominated: true, Missed: 1}, 95},
	}
	for _, tc := range cases {
		got := tc.d.Readiness(now)
		want := tc.want
		if tc.lastAt >= 0 {
			d := DateOf(t0.AddDate(0, 0, tc.lastAt))
			want.LastCheck = &d
		}
		if got.Nominated != want.Nominated || got.Reachable != want.Reachable || got.Missed != want.Missed ||
			(got.LastCheck == nil) != (want.LastCheck == nil) || (got.LastCheck != nil && *got.LastCheck != *want.LastCheck) {
			t.Errorf("%s: got %+v (last %v), want %+v (last %v)", tc.name, got, got.LastCheck, want, want.LastCheck)
		}
	}
}
