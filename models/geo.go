package models

import (
	"embed"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
)

//go:embed data/iso3166-m49.csv
var geoFS embed.FS

// CountryInfo is the reference description of an ISO 3166-1 country and where it sits in
// the UN M49 geoscheme, so that offers can be made eligible by region.
type CountryInfo struct {
	ISO                    string `json:"iso"`
	Name                   string `json:"name"`
	Region                 string `json:"region"`
	RegionCode             string `json:"region_code"`
	SubRegion              string `json:"sub_region"`
	SubRegionCode          string `json:"sub_region_code"`
	IntermediateRegion     string `json:"intermediate_region,omitempty"`
	IntermediateRegionCode string `json:"intermediate_region_code,omitempty"`
	UNMember               bool   `json:"un_member"`
	UNObserver             bool   `json:"un_observer"`
}

// M49Region is a UN M49 region, sub-region or intermediate region.
type M49Region struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`            // region, sub_region or intermediate_region
	Parent string `json:"parent,omitempty"` // code of the enclosing region
}

var (
	countries     []CountryInfo
	countryByISO  map[string]int
	regionByCode  map[string]M49Region
	regionMembers map[string]map[string]bool // region code -> set of ISO codes
)

func init() {
	if err := loadGeo(); err != nil {
		panic(fmt.Sprintf("models: embedded country data is broken: %v", err))
	}
}

func loadGeo() error {
	f, err := geoFS.Open("data/iso3166-m49.csv")
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	countryByISO = map[string]int{}
	regionByCode = map[string]M49Region{}
	regionMembers = map[string]map[string]bool{}
	// name,alpha-2,alpha-3,country-code,iso_3166-2,region,sub-region,intermediate-region,region-code,sub-region-code,intermediate-region-code
	for _, r := range rows[1:] {
		if len(r) < 11 {
			return fmt.Errorf("short row %q", r)
		}
		c := CountryInfo{
			ISO: r[1], Name: r[0],
			Region: r[5], RegionCode: r[8],
			SubRegion: r[6], SubRegionCode: r[9],
			IntermediateRegion: r[7], IntermediateRegionCode: r[10],
		}
		c.UNMember = unMembers[c.ISO]
		c.UNObserver = unObservers[c.ISO]
		countryByISO[c.ISO] = len(countries)
		countries = append(countries, c)
		addRegion := func(code, name, level, parent string) {
			if code == "" {
				return
			}
			if _, ok := regionByCode[code]; !ok {
				regionByCode[code] = M49Region{Code: code, Name: name, Level: level, Parent: parent}
			}
			if regionMembers[code] == nil {
				regionMembers[code] = map[string]bool{}
			}
			regionMembers[code][c.ISO] = true
		}
		addRegion(c.RegionCode, c.Region, "region", "001")
		addRegion(c.SubRegionCode, c.SubRegion, "sub_region", c.RegionCode)
		addRegion(c.IntermediateRegionCode, c.IntermediateRegion, "intermediate_region", c.SubRegionCode)
		addRegion("001", "World", "world", "")
	}
	sort.Slice(countries, func(i, j int) bool { return countries[i].ISO < countries[j].ISO })
	for i, c := range countries {
		countryByISO[c.ISO] = i
	}
	return nil
}

// Countries returns every ISO 3166-1 country, sorted by code. The slice must not be modified.
func Countries() []CountryInfo { return countries }

// LookupCountry finds a country by its upper-case ISO 3166-1 alpha-2 code.
func LookupCountry(iso string) (CountryInfo, bool) {
	i, ok := countryByISO[iso]
	if !ok {
		return CountryInfo{}, false
	}
	return countries[i], true
}

// LookupRegion finds a UN M49 region, sub-region or intermediate region by its 3-digit code.
func LookupRegion(code string) (M49Region, bool) {
	r, ok := regionByCode[code]
	return r, ok
}

// Regions returns every M49 region that contains at least one country, sorted by code.
func Regions() []M49Region {
	out := make([]M49Region, 0, len(regionByCode))
	for _, r := range regionByCode {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// CountryInRegion reports whether the country lies in the M49 region, sub-region or
// intermediate region with that code. It is the eligibility test for offers.
func CountryInRegion(iso, regionCode string) bool {
	return regionMembers[regionCode][iso]
}

// CountryRegionCodes lists the M49 codes that contain the country (world, region,
// sub-region, intermediate region), so eligibility indexes can be built per region.
func CountryRegionCodes(iso string) []string {
	c, ok := LookupCountry(iso)
	if !ok {
		return nil
	}
	codes := []string{"001", c.RegionCode, c.SubRegionCode}
	if c.IntermediateRegionCode != "" {
		codes = append(codes, c.IntermediateRegionCode)
	}
	out := codes[:0]
	for _, code := range codes {
		if code != "" {
			out = append(out, code)
		}
	}
	return out
}

// NormalizeISO upper-cases and trims a country code as a user might type it.
func NormalizeISO(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidISO reports whether s is a known upper-case ISO 3166-1 alpha-2 code.
func ValidISO(s string) bool {
	_, ok := countryByISO[s]
	return ok
}
