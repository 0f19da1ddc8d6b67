package models

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzNeedValidate decodes arbitrary JSON into a need and validates it. It must never panic,
// and whatever passes must satisfy the rules the rest of the system relies on.
func FuzzNeedValidate(f *testing.F) {
	f.Add([]byte(`{"title":"Establish a national CSIRT","description":"x","country":"SN","theme":"incident_management","capability":"cert_setup","modalities":["training"],"languages":["fr"],"budget_usd":400000,"start_by":"2027-03-01","duration_months":18,"priority":"high","maturity":{"framework":"sim3","current":1,"target":3},"visibility":"public"}`))
	f.Add([]byte(`{"title":"\u0000","budget_usd":-1,"start_by":"2027-02-30"}`))
	f.Add([]byte(`{"languages":["fr","FR"," fr "],"maturity":{"framework":"gci","current":5,"target":0}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var n Need
		if json.Unmarshal(raw, &n) != nil {
			return
		}
		n.Normalize()
		if err := n.Validate(); err != nil {
			return
		}
		if c := utf8.RuneCountInString(n.Title); c == 0 || c > MaxTitleRunes || !utf8.ValidString(n.Title) {
			t.Fatalf("title passed: %q", n.Title)
		}
		if n.BudgetUSD <= 0 || n.BudgetUSD >= MaxBudgetUSD {
			t.Fatalf("budget passed: %d", n.BudgetUSD)
		}
		if th, ok := CapabilityTheme(n.Capability); !ok || th != n.Theme {
			t.Fatalf("capability %s under theme %s passed", n.Capability, n.Theme)
		}
		if !n.StartBy.Valid() || n.DurationMonths < 1 || n.DurationMonths > MaxDurationMonths {
			t.Fatalf("dates passed: %q %d", n.StartBy, n.DurationMonths)
		}
		lo, hi := n.Maturity.Framework.StageRange()
		if n.Maturity.Current < lo || n.Maturity.Target > hi || n.Maturity.Target < n.Maturity.Current {
			t.Fatalf("maturity passed: %+v", n.Maturity)
		}
		seen := map[string]bool{}
		for _, l := range n.Languages {
			if !ValidLanguage(l) || seen[l] {
				t.Fatalf("languages passed: %v", n.Languages)
			}
			seen[l] = true
		}
		if _, ok := LookupCountry(n.Country); !ok {
			t.Fatalf("country passed: %q", n.Country)
		}
	})
}
