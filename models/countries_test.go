package models

import (
	"reflect"
	"testing"
)

func TestUNMembership(t *testing.T) {
	if n := len(unMembers); n != 193 {
		t.Errorf("%d UN members, want 193", n)
	}
	if n := len(unObservers); n != 2 {
		t.Errorf("%d UN observers, want 2", n)
	}
	for iso := range unMembers {
		c, ok := LookupCountry(iso)
		if !ok {
			t.Errorf("member %s not in the country data", iso)
			continue
		}
		if !c.UNMember || c.UNObserver {
			t.Errorf("%s: UNMember=%v UNObserver=%v", iso, c.UNMember, c.UNObserver)
		}
		if unObservers[iso] {
			t.Errorf("%s is both member and observer", iso)
		}
	}
	for iso := range unObservers {
		c, ok := LookupCountry(iso)
		if !ok {
			t.Errorf("observer %s not in the country data", iso)
			continue
		}
		if c.UNMember || !c.UNObserver {
			t.Errorf("%s: UNMember=%v UNObserver=%v", iso, c.UNMember, c.UNObserver)
		}
	}
	members := 0
	for _, c := range Countries() {
		if c.UNMember {
			members++
		}
	}
	if members != 193 {
		t.Errorf("Countries() flags %d members, want 193", members)
	}
}

func TestUNMembershipSpotChecks(t *testing.T) {
	for _, iso := range []string{"SS", "SN", "KP", "KR", "CD", "CG", "ME", "RS", "TL", "MK", "SZ", "FM", "TV", "US", "CN", "CH", "PW"} {
		if !unMembers[iso] {
			t.Errorf("%s should be a UN member", iso)
		}
	}
	// Taiwan, Kosovo, Western Sahara, the Cook Islands, Niue, territories and the two
	// observers are not members.
	for _, iso := range []string{"TW", "XK", "EH", "CK", "NU", "VA", "PS", "HK", "PR", "GL", "AQ", "AX"} {
		if unMembers[iso] {
			t.Errorf("%s should not be a UN member", iso)
		}
		if c, ok := LookupCountry(iso); ok && c.UNMember {
			t.Errorf("LookupCountry(%s).UNMember = true", iso)
		}
	}
}

func TestCountryInRegion(t *testing.T) {
	cases := []struct {
		iso, region string
		want        bool
	}{
		{"SN", "001", true},
		{"SN", "002", true},
		{"SN", "202", true},
		{"SN", "011", true},
		{"SN", "015", false},
		{"SN", "419", false},
		{"BR", "419", true},
		{"BR", "005", true},
		{"BR", "019", true},
		{"BR", "013", false},
		{"FR", "002", false},
		{"FR", "150", true},
		{"FR", "155", true},
		{"EG", "015", true},
		{"EG", "202", false},
		{"XX", "002", false},
		{"SN", "999", false},
		{"sn", "002", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got := CountryInRegion(c.iso, c.region); got != c.want {
			t.Errorf("CountryInRegion(%q, %q) = %v, want %v", c.iso, c.region, got, c.want)
		}
	}
}

func TestCountryRegionCodes(t *testing.T) {
	cases := map[string][]string{
		"SN": {"001", "002", "202", "011"},
		"BR": {"001", "019", "419", "005"},
		"FR": {"001", "150", "155"},
		"JP": {"001", "142", "030"},
		"XX": nil,
		"":   nil,
	}
	for iso, want := range cases {
		got := CountryRegionCodes(iso)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CountryRegionCodes(%q) = %v, want %v", iso, got, want)
		}
		for _, code := range got {
			if !CountryInRegion(iso, code) {
				t.Errorf("%s listed in %s but CountryInRegion disagrees", iso, code)
			}
		}
	}
}
