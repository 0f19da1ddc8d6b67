package models

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

func validNeed() Need {
	return Need{
		Title:          "Establish a national CSIRT",
		Description:    "Senegal wants a national CSIRT.\nFirst year:\n\t- staff\r\n\t- services",
		Country:        "SN",
		Theme:          ThemeIncidentManagement,
		Capability:     CapCERTSetup,
		Modalities:     []Modality{ModExpertDeployment, ModTraining},
		Languages:      []string{"fr"},
		BudgetUSD:      400000,
		StartBy:        "2027-03-01",
		DurationMonths: 18,
		Priority:       PriorityHigh,
		Maturity:       Maturity{Framework: FrameworkSIM3, Current: 1, Target: 3},
		Visibility:     VisibilityPublic,
	}
}

func validOffer() Offer {
	return Offer{
		Title:             "Francophone CSIRT establishment programme",
		Description:       "Two years of mentoring.",
		Themes:            []Theme{ThemeIncidentManagement},
		Capabilities:      []Capability{CapCERTSetup, CapCERTMaturity},
		Modalities:        []Modality{ModExpertDeployment, ModTraining, ModMentoring},
		Languages:         []string{"fr", "en"},
		EligibleCountries: []string{},
		EligibleRegions:   []string{"002"},
		BudgetUSD:         2000000,
		MaxEngagements:    4,
		AvailableFrom:     "2027-01-01",
		AvailableUntil:    "2028-12-31",
	}
}

// problemFields returns the sorted field names of a validation error, failing the test if
// err is not an ErrInvalid *Error.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v is not ErrInvalid", err)
	}
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *models.Error", err)
	}
	var out []string
	for _, f := range de.Fields {
		if !slices.Contains(ProblemCodes, f.Code) {
			t.Errorf("field %s has problem code %q, which ProblemCodes does not list", f.Field, f.Code)
		}
		if f.Message != "" {
			t.Errorf("field %s has a message %q: the domain gives codes, the edges write words", f.Field, f.Message)
		}
		for name, a := range f.Args {
			if s, ok := a.Value.(string); ok && utf8.RuneCountInString(s) > 41 {
				t.Errorf("field %s argument %s is %d runes long: a value was echoed in full", f.Field, name, utf8.RuneCountInString(s))
			}
		}
		out = append(out, f.Field)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestNeedValidate(t *testing.T) {
	many := make([]string, 1_000_000)
	for i := range many {
		many[i] = "zz"
	}
	cases := []struct {
		name   string
		mutate func(n *Need)
		want   []string
	}{
		{"valid", func(n *Need) {}, nil},
		{"title of exactly 200 multibyte runes", func(n *Need) { n.Title = strings.Repeat("é", 200) }, nil},
		{"title padded with spaces beyond 200", func(n *Need) { n.Title = "  " + strings.Repeat("a", 200) + "  " }, nil},
		{"empty title", func(n *Need) { n.Title = "" }, sorted("title")},
		{"blank title", func(n *Need) { n.Title = " \u00a0 " }, sorted("title")},
		{"title of 201 runes", func(n *Need) { n.Title = strings.Repeat("é", 201) }, sorted("title")},
		{"giant title", func(n *Need) { n.Title = strings.Repeat("A", 10<<20) }, sorted("title")},
		{"title with newline", func(n *Need) { n.Title = "two\nlines" }, sorted("title")},
		{"title with tab", func(n *Need) { n.Title = "a\tb" }, sorted("title")},
		{"title with NUL", func(n *Need) { n.Title = "CSIRT\x00" }, sorted("title")},
		{"title with invalid UTF-8", func(n *Need) { n.Title = "CSIRT \xff\xfe" }, sorted("title")},
		{"title with C1 control", func(n *Need) { n.Title = "CSIRT \u0085" }, sorted("title")},
		{"title with escape", func(n *Need) { n.Title = "\x1b[31mred" }, sorted("title")},
		{"title with DEL", func(n *Need) { n.Title = "a\x7fb" }, sorted("title")},
		{"empty description", func(n *Need) { n.Description = "" }, nil},
		{"description of 20000 runes", func(n *Need) { n.Description = strings.Repeat("ñ", 20000) }, nil},
		{"description of 20001 runes", func(n *Need) { n.Description = strings.Repeat("ñ", 20001) }, sorted("description")},
		{"description with NUL", func(n *Need) { n.Description = "a\x00b" }, sorted("description")},
		{"description with lone CR", func(n *Need) { n.Description = "a\rb" }, sorted("description")},
		{"description ending in CR", func(n *Need) { n.Description = "a\r" }, sorted("description")},
		{"description with vertical tab", func(n *Need) { n.Description = "a\vb" }, sorted("description")},
		{"description with invalid UTF-8", func(n *Need) { n.Description = "caf\xe9" }, sorted("description")},
		{"giant invalid description", func(n *Need) { n.Description = strings.Repeat("\xff", 1<<20) }, sorted("description")},
		{"missing country", func(n *Need) { n.Country = "" }, sorted("country")},
		{"lower-case country", func(n *Need) { n.Country = "sn" }, sorted("country")},
		{"unknown country", func(n *Need) { n.Country = "XX" }, sorted("country")},
		{"alpha-3 country", func(n *Need) { n.Country = "SEN" }, sorted("country")},
		{"Kosovo user-assigned code", func(n *Need) { n.Country = "XK" }, sorted("country")},
		{"missing theme", func(n *Need) { n.Theme = "" }, sorted("theme")},
		{"unknown theme", func(n *Need) { n.Theme = "hacking" }, sorted("theme")},
		{"capability from another theme", func(n *Need) { n.Theme = ThemeCybercrime }, sorted("capability")},
		{"diplomacy capability under policy theme", func(n *Need) {
			n.Theme, n.Capability = ThemePolicyStrategy, CapPoCReadiness
		}, sorted("capability")},
		{"right diplomacy pair", func(n *Need) { n.Theme, n.Capability = ThemeDiplomacyNorms, CapLegalPosition }, nil},
		{"unknown capability", func(n *Need) { n.Capability = "cert_setup " }, sorted("capability")},
		{"missing capability", func(n *Need) { n.Capability = "" }, sorted("capability")},
		{"unknown theme and capability", func(n *Need) { n.Theme, n.Capability = "x", "y" }, sorted("theme", "capability")},
		{"no modalities", func(n *Need) { n.Modalities = nil }, sorted("modalities")},
		{"duplicate modality", func(n *Need) { n.Modalities = []Modality{ModTraining, ModFunding, ModTraining} }, sorted("modalities[2]")},
		{"unknown modality", func(n *Need) { n.Modalities = []Modality{ModTraining, "consulting"} }, sorted("modalities[1]")},
		{"too many modalities", func(n *Need) {
			n.Modalities = append(append([]Modality{}, Modalities...), ModTraining)
		}, sorted("modalities")},
		{"no languages", func(n *Need) { n.Languages = []string{} }, sorted("languages")},
		{"upper-case language", func(n *Need) { n.Languages = []string{"FR"} }, sorted("languages[0]")},
		{"alpha-3 language", func(n *Need) { n.Languages = []string{"fr", "fra"} }, sorted("languages[1]")},
		{"duplicate language", func(n *Need) { n.Languages = []string{"fr", "en", "fr"} }, sorted("languages[2]")},
		{"duplicate and unknown languages", func(n *Need) { n.Languages = []string{"xx", "en", "xx", "en"} },
			sorted("languages[0]", "languages[2]", "languages[3]")},
		{"a million languages", func(n *Need) { n.Languages = many }, sorted("languages")},
		{"zero budget", func(n *Need) { n.BudgetUSD = 0 }, sorted("budget_usd")},
		{"negative budget", func(n *Need) { n.BudgetUSD = -400000 }, sorted("budget_usd")},
		{"min int64 budget", func(n *Need) { n.BudgetUSD = math.MinInt64 }, sorted("budget_usd")},
		{"budget of ten billion", func(n *Need) { n.BudgetUSD = 10_000_000_000 }, sorted("budget_usd")},
		{"max int64 budget", func(n *Need) { n.BudgetUSD = math.MaxInt64 }, sorted("budget_usd")},
		{"budget just under ten billion", func(n *Need) { n.BudgetUSD = 9_999_999_999 }, nil},
		{"impossible date", func(n *Need) { n.StartBy = "2027-02-30" }, sorted("start_by")},
		{"non-leap 29 February", func(n *Need) { n.StartBy = "2027-02-29" }, sorted("start_by")},
		{"leap 29 February", func(n *Need) { n.StartBy = "2028-02-29" }, nil},
		{"unpadded date", func(n *Need) { n.StartBy = "2027-3-1" }, sorted("start_by")},
		{"timestamp instead of date", func(n *Need) { n.StartBy = "2027-03-01T00:00:00Z" }, sorted("start_by")},
		{"missing date", func(n *Need) { n.StartBy = "" }, sorted("start_by")},
		{"zero duration", func(n *Need) { n.DurationMonths = 0 }, sorted("duration_months")},
		{"negative duration", func(n *Need) { n.DurationMonths = -3 }, sorted("duration_months")},
		{"duration of 121 months", func(n *Need) { n.DurationMonths = 121 }, sorted("duration_months")},
		{"duration of 120 months", func(n *Need) { n.DurationMonths = 120 }, nil},
		{"missing priority", func(n *Need) { n.Priority = "" }, sorted("priority")},
		{"unknown priority", func(n *Need) { n.Priority = "urgent" }, sorted("priority")},
		{"missing framework", func(n *Need) { n.Maturity = Maturity{} }, sorted("maturity.framework")},
		{"unknown framework", func(n *Need) { n.Maturity.Framework = "nist" }, sorted("maturity.framework")},
		{"SIM3 target above 4", func(n *Need) { n.Maturity.Target = 5 }, sorted("maturity.target")},
		{"CMM target 5", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkCMM, Current: 1, Target: 5} }, nil},
		{"CMM negative current", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkCMM, Current: -1, Target: 2} }, sorted("maturity.current")},
		{"CMM both out of range", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkCMM, Current: 9, Target: 7} },
			sorted("maturity.current", "maturity.target")},
		{"target below current", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkGCI, Current: 4, Target: 2} }, sorted("maturity.target")},
		{"target equal to current", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkGCI, Current: 3, Target: 3} }, nil},
		{"no framework, no stages", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkNone} }, nil},
		{"no framework but a target", func(n *Need) { n.Maturity = Maturity{Framework: FrameworkNone, Target: 1} }, sorted("maturity.target")},
		{"missing visibility", func(n *Need) { n.Visibility = "" }, sorted("visibility")},
		{"unknown visibility", func(n *Need) { n.Visibility = "secret" }, sorted("visibility")},
		{"everything wrong", func(n *Need) { *n = Need{Modalities: []Modality{"x", "x"}, Languages: []string{"EN"}} },
			sorted("title", "country", "theme", "capability", "modalities[0]", "modalities[1]", "languages[0]",
				"budget_usd", "start_by", "duration_months", "priority", "maturity.framework", "visibility")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := validNeed()
			c.mutate(&n)
			got := problemFields(t, n.Validate())
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields = %v, want %v", got, c.want)
			}
		})
	}
}

func TestOfferValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(o *Offer)
		want   []string
	}{
		{"valid", func(o *Offer) {}, nil},
		{"eligible everywhere", func(o *Offer) { o.EligibleCountries, o.EligibleRegions = nil, nil }, nil},
		{"eligible world and countries", func(o *Offer) { o.EligibleCountries, o.EligibleRegions = []string{"SN", "GM"}, []string{"001", "419"} }, nil},
		{"no capabilities", func(o *Offer) { o.Capabilities = nil }, nil},
		{"empty title", func(o *Offer) { o.Title = "\t" }, sorted("title")},
		{"giant title", func(o *Offer) { o.Title = strings.Repeat("漢", 1<<20) }, sorted("title")},
		{"title with NUL", func(o *Offer) { o.Title = "\x00" }, sorted("title")},
		{"description with NUL and too long", func(o *Offer) { o.Description = strings.Repeat("a", 20001) + "\x00" },
			sorted("description", "description")},
		{"no themes", func(o *Offer) { o.Themes = nil }, sorted("themes", "capabilities[0]", "capabilities[1]")},
		{"no themes no capabilities", func(o *Offer) { o.Themes, o.Capabilities = nil, nil }, sorted("themes")},
		{"unknown theme", func(o *Offer) { o.Themes = append(o.Themes, "quantum") }, sorted("themes[1]")},
		{"duplicate theme", func(o *Offer) { o.Themes = []Theme{ThemeIncidentManagement, ThemeIncidentManagement} }, sorted("themes[1]")},
		{"capability outside themes", func(o *Offer) { o.Capabilities = []Capability{CapCERTSetup, CapDigitalForensics} }, sorted("capabilities[1]")},
		{"capability theme added", func(o *Offer) {
			o.Themes = []Theme{ThemeIncidentManagement, ThemeCybercrime}
			o.Capabilities = []Capability{CapCERTSetup, CapDigitalForensics}
		}, nil},
		{"unknown capability", func(o *Offer) { o.Capabilities = []Capability{"cert"} }, sorted("capabilities[0]")},
		{"duplicate capability", func(o *Offer) { o.Capabilities = []Capability{CapCERTSetup, CapCERTSetup} }, sorted("capabilities[1]")},
		{"duplicate capability outside themes", func(o *Offer) { o.Capabilities = []Capability{CapAwareness, CapAwareness} },
			sorted("capabilities[0]", "capabilities[1]")},
		{"no modalities", func(o *Offer) { o.Modalities = nil }, sorted("modalities")},
		{"duplicate modality", func(o *Offer) { o.Modalities = []Modality{ModMentoring, ModMentoring} }, sorted("modalities[1]")},
		{"no languages", func(o *Offer) { o.Languages = nil }, sorted("languages")},
		{"duplicate language", func(o *Offer) { o.Languages = []string{"fr", "en", "fr"} }, sorted("languages[2]")},
		{"language with NUL", func(o *Offer) { o.Languages = []string{"f\x00"} }, sorted("languages[0]")},
		{"unknown country", func(o *Offer) { o.EligibleCountries = []string{"SN", "XX"} }, sorted("eligible_countries[1]")},
		{"lower-case country", func(o *Offer) { o.EligibleCountries = []string{"sn"} }, sorted("eligible_countries[0]")},
		{"duplicate country", func(o *Offer) { o.EligibleCountries = []string{"SN", "GM", "SN"} }, sorted("eligible_countries[2]")},
		{"unknown region", func(o *Offer) { o.EligibleRegions = []string{"002", "999"} }, sorted("eligible_regions[1]")},
		{"unpadded region", func(o *Offer) { o.EligibleRegions = []string{"2"} }, sorted("eligible_regions[0]")},
		{"country code as region", func(o *Offer) { o.EligibleRegions = []string{"686"} }, sorted("eligible_regions[0]")},
		{"duplicate region", func(o *Offer) { o.EligibleRegions = []string{"002", "002"} }, sorted("eligible_regions[1]")},
		{"too many regions", func(o *Offer) { o.EligibleRegions = make([]string, 10000) }, sorted("eligible_regions")},
		{"negative budget", func(o *Offer) { o.BudgetUSD = -1 }, sorted("budget_usd")},
		{"huge budget", func(o *Offer) { o.BudgetUSD = 1e12 }, sorted("budget_usd")},
		{"zero engagements", func(o *Offer) { o.MaxEngagements = 0 }, sorted("max_engagements")},
		{"too many engagements", func(o *Offer) { o.MaxEngagements = 1001 }, sorted("max_engagements")},
		{"1000 engagements", func(o *Offer) { o.MaxEngagements = 1000 }, nil},
		{"impossible from date", func(o *Offer) { o.AvailableFrom = "2027-02-30" }, sorted("available_from")},
		{"impossible until date", func(o *Offer) { o.AvailableUntil = "2028-13-01" }, sorted("available_until")},
		{"missing dates", func(o *Offer) { o.AvailableFrom, o.AvailableUntil = "", "" }, sorted("available_from", "available_until")},
		{"until before from", func(o *Offer) { o.AvailableFrom, o.AvailableUntil = "2028-01-01", "2027-12-31" }, sorted("available_until")},
		{"one-day window", func(o *Offer) { o.AvailableFrom, o.AvailableUntil = "2027-06-01", "2027-06-01" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := validOffer()
			c.mutate(&o)
			got := problemFields(t, o.Validate())
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields = %v, want %v", got, c.want)
			}
		})
	}
}

func TestValidateDoesNotChangeInput(t *testing.T) {
	n := validNeed()
	n.Title = "  padded  "
	before := n
	_ = n.Validate()
	if !reflect.DeepEqual(n, before) {
		t.Error("Need.Validate changed the need")
	}
}

func TestNormalize(t *testing.T) {
	n := validNeed()
	n.Title, n.Description, n.Country, n.Languages = "  Establish a CSIRT \n", "\n text \n", " sn ", []string{" FR", "En"}
	n.Normalize()
	if n.Title != "Establish a CSIRT" || n.Description != "text" || n.Country != "SN" ||
		!reflect.DeepEqual(n.Languages, []string{"fr", "en"}) {
		t.Errorf("normalized need = %q %q %q %v", n.Title, n.Description, n.Country, n.Languages)
	}
	if err := n.Validate(); err != nil {
		t.Errorf("normalized need invalid: %v", err)
	}

	o := validOffer()
	o.Languages, o.EligibleCountries, o.EligibleRegions = []string{"FR", "fr"}, []string{" gm"}, []string{" 011 "}
	o.Normalize()
	if !reflect.DeepEqual(o.EligibleCountries, []string{"GM"}) || !reflect.DeepEqual(o.EligibleRegions, []string{"011"}) {
		t.Errorf("normalized offer = %v %v", o.EligibleCountries, o.EligibleRegions)
	}
	// Normalizing must not hide the duplicate it created.
	if got := problemFields(t, o.Validate()); !reflect.DeepEqual(got, []string{"languages[1]"}) {
		t.Errorf("fields = %v, want [languages[1]]", got)
	}
}

func TestValidText(t *testing.T) {
	var p Problems
	if !ValidText("name", "Ministère de l'Économie numérique", 100, false, &p) || len(p) != 0 {
		t.Errorf("plain name rejected: %v", p)
	}
	if !ValidText("bio", "", 100, true, &p) || len(p) != 0 {
		t.Errorf("empty optional text rejected: %v", p)
	}
	if ValidText("name", "a\nb", 100, false, &p) {
		t.Error("newline accepted in single-line text")
	}
	if !ValidText("bio", "a\r\nb\tc", 100, true, &p) {
		t.Error("CR LF and tab rejected in multiline text")
	}
	if ValidText("name", "abcdef", 5, false, &p) {
		t.Error("over-long text accepted")
	}
	if RequiredText("name", "   ", 5, false, &p) {
		t.Error("blank required text accepted")
	}
	var fields []string
	for _, f := range p {
		fields = append(fields, f.Field)
	}
	if want := []string{"name", "name", "name"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("problems on %v, want %v", fields, want)
	}
	if got := CleanText("\t Dakar \n"); got != "Dakar" {
		t.Errorf("CleanText = %q", got)
	}
	if p.Err() == nil || !errors.Is(p.Err(), ErrInvalid) {
		t.Error("problems do not make an ErrInvalid error")
	}
}
