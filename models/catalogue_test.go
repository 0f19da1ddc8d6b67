package models

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestVocabValid(t *testing.T) {
	for _, v := range Themes {
		if !v.Valid() {
			t.Errorf("theme %q not valid", v)
		}
	}
	for _, v := range Capabilities {
		if !v.Valid() {
			t.Errorf("capability %q not valid", v)
		}
	}
	for _, v := range Modalities {
		if !v.Valid() {
			t.Errorf("modality %q not valid", v)
		}
	}
	for _, v := range Priorities {
		if !v.Valid() {
			t.Errorf("priority %q not valid", v)
		}
	}
	for _, v := range Visibilities {
		if !v.Valid() {
			t.Errorf("visibility %q not valid", v)
		}
	}
	for _, v := range MaturityFrameworks {
		if !v.Valid() {
			t.Errorf("framework %q not valid", v)
		}
	}
	for _, bad := range []string{"", "bogus", "Cybercrime", " cybercrime", "HIGH", "public ", "CMM"} {
		if Theme(bad).Valid() || Capability(bad).Valid() || Modality(bad).Valid() ||
			Priority(bad).Valid() || Visibility(bad).Valid() || MaturityFramework(bad).Valid() {
			t.Errorf("%q accepted by some vocabulary", bad)
		}
	}
}

func TestCapabilitiesPartitionThemes(t *testing.T) {
	if len(Capabilities) != len(capabilityThemes) {
		t.Fatalf("Capabilities has %d entries, capabilityThemes %d", len(Capabilities), len(capabilityThemes))
	}
	seen := map[Capability]bool{}
	for _, c := range Capabilities {
		if seen[c] {
			t.Errorf("capability %q listed twice", c)
		}
		seen[c] = true
		if _, ok := CapabilityTheme(c); !ok {
			t.Errorf("capability %q has no theme", c)
		}
	}
	total := 0
	for _, th := range Themes {
		cs := ThemeCapabilities(th)
		if len(cs) == 0 {
			t.Errorf("theme %q has no capabilities", th)
		}
		total += len(cs)
	}
	if total != len(Capabilities) {
		t.Errorf("themes hold %d capabilities, want %d", total, len(Capabilities))
	}
	got := ThemeCapabilities(ThemeDiplomacyNorms)
	want := []Capability{CapLegalPosition, CapNormsImplementation, CapCBMImplementation, CapPoCReadiness}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diplomacy_norms capabilities = %v, want %v", got, want)
	}
	if ThemeCapabilities("bogus") != nil {
		t.Error("unknown theme has capabilities")
	}
}

func TestEveryCodeIsTranslated(t *testing.T) {
	type item struct {
		kind, code string
		described  bool
	}
	var items []item
	for _, v := range Themes {
		items = append(items, item{KindTheme, string(v), true})
	}
	for _, v := range Capabilities {
		items = append(items, item{KindCapability, string(v), true})
	}
	for _, v := range Modalities {
		items = append(items, item{KindModality, string(v), true})
	}
	for _, v := range Priorities {
		items = append(items, item{KindPriority, string(v), false})
	}
	for _, v := range Visibilities {
		items = append(items, item{KindVisibility, string(v), true})
	}
	for _, v := range MaturityFrameworks {
		items = append(items, item{KindFramework, string(v), true})
	}
	for _, it := range items {
		e, ok := entryFor(it.kind, it.code)
		if !ok {
			t.Errorf("%s %q has no texts", it.kind, it.code)
			continue
		}
		for _, tx := range []text{e.Label, e.Description} {
			if tx == e.Description && !it.described {
				continue
			}
			if tx.EN == "" || tx.FR == "" || tx.ES == "" {
				t.Errorf("%s %q is missing a translation: %+v", it.kind, it.code, tx)
			}
			if tx.EN != "" && (tx.FR == tx.EN || tx.ES == tx.EN) {
				t.Errorf("%s %q: French or Spanish text copies the English %q", it.kind, it.code, tx.EN)
			}
		}
		for _, lang := range SupportedLangs {
			if l := Label(lang, it.kind, it.code); l == it.code || l == "" {
				t.Errorf("Label(%s, %s, %s) = %q", lang, it.kind, it.code, l)
			}
		}
	}
	if got := Describe("en", KindCapability, string(CapPoCReadiness)); got != "Nominate and exercise diplomatic and technical Points of Contact for the UN directory and regional confidence-building measures." {
		t.Errorf("poc_readiness description = %q", got)
	}
	if got := Describe("en", KindCapability, string(CapLegalPosition)); got != "Draft and publish the national position on how international law applies in cyberspace." {
		t.Errorf("legal_position description = %q", got)
	}
	if got := Describe("fr", KindCapability, string(CapCERTSetup)); !strings.Contains(got, "FIRST") {
		t.Errorf("cert_setup French description does not cite FIRST: %q", got)
	}
}

func TestFrameworkStages(t *testing.T) {
	want := map[MaturityFramework][2]int{FrameworkCMM: {0, 5}, FrameworkSIM3: {0, 4}, FrameworkGCI: {0, 5}, FrameworkNone: {0, 0}}
	for f, w := range want {
		lo, hi := f.StageRange()
		if lo != w[0] || hi != w[1] {
			t.Errorf("%s StageRange = %d..%d, want %d..%d", f, lo, hi, w[0], w[1])
		}
		if n := len(frameworkText[f].Stages); n != hi-lo+1 {
			t.Errorf("%s has %d stage labels, want %d", f, n, hi-lo+1)
		}
		for s := lo; s <= hi; s++ {
			st := frameworkText[f].Stages[s]
			if st.EN == "" || st.FR == "" || st.ES == "" {
				t.Errorf("%s stage %d is missing a translation: %+v", f, s, st)
			}
		}
	}
	if lo, hi := MaturityFramework("bogus").StageRange(); lo != 0 || hi != 0 {
		t.Errorf("unknown framework range = %d..%d", lo, hi)
	}
	checks := []struct {
		lang string
		f    MaturityFramework
		s    int
		want string
	}{
		{"en", FrameworkCMM, 1, "Start-up"},
		{"en", FrameworkCMM, 2, "Formative"},
		{"en", FrameworkCMM, 5, "Dynamic"},
		{"es", FrameworkCMM, 3, "Consolidado"},
		{"en", FrameworkCMM, 0, "Not assessed"},
		{"en", FrameworkGCI, 1, "Tier 5 – Building"},
		{"en", FrameworkGCI, 5, "Tier 1 – Role-modelling"},
		{"en", FrameworkSIM3, 4, "4 – Explicit, actively assessed"},
		{"en", FrameworkCMM, 6, "6"},
		{"en", FrameworkCMM, -1, "-1"},
		{"en", "bogus", 1, "1"},
	}
	for _, c := range checks {
		if got := StageLabel(c.lang, c.f, c.s); got != c.want {
			t.Errorf("StageLabel(%s, %s, %d) = %q, want %q", c.lang, c.f, c.s, got, c.want)
		}
	}
}

func TestLanguages(t *testing.T) {
	if n := len(languageTable); n != 183 {
		t.Errorf("%d ISO 639-1 codes, want 183", n)
	}
	twoLower := regexp.MustCompile(`^[a-z]{2}$`)
	for i, l := range languageTable {
		if !twoLower.MatchString(l.code) {
			t.Errorf("bad code %q", l.code)
		}
		if i > 0 && languageTable[i-1].code >= l.code {
			t.Errorf("table not sorted or repeated at %q", l.code)
		}
		if l.en == "" || l.fr == "" || l.es == "" {
			t.Errorf("%s lacks a name: %+v", l.code, l)
		}
	}
	for _, c := range []string{"en", "fr", "es", "ar", "zh", "ru", "pt", "sw", "ha", "wo", "am", "qu"} {
		if !ValidLanguage(c) {
			t.Errorf("ValidLanguage(%q) = false", c)
		}
	}
	for _, c := range []string{"", "FR", "Fr", "fra", "bh", "xx", "e", "en-GB", " en", "e\x00"} {
		if ValidLanguage(c) {
			t.Errorf("ValidLanguage(%q) = true", c)
		}
	}
	l, ok := LookupLanguage("sw")
	if !ok || l.Name != "Swahili" || l.Native != "Kiswahili" {
		t.Errorf("LookupLanguage(sw) = %+v, %v", l, ok)
	}
	if _, ok := LookupLanguage("zz"); ok {
		t.Error("LookupLanguage(zz) found something")
	}
	all := Languages()
	all[0].Name = "changed"
	if Languages()[0].Name == "changed" {
		t.Error("Languages shares its slice with the table")
	}
}

func TestNormalizeLangAndLabel(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "fr": "fr", "es": "es", "FR": "fr", "fr-SN": "fr", "es_419": "es", " es ": "es", "de": "en", "": "en", "french": "en"} {
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
	cases := []struct{ lang, kind, code, want string }{
		{"en", KindTheme, "cybercrime", "Cybercrime"},
		{"fr", KindTheme, "cybercrime", "Cybercriminalité"},
		{"es", KindTheme, "cybercrime", "Ciberdelincuencia"},
		{"de", KindTheme, "cybercrime", "Cybercrime"},
		{"fr", KindPriority, "high", "Élevée"},
		{"es", KindModality, "study_visit", "Visita de estudio"},
		{"fr", KindLanguage, "en", "Anglais"},
		{"es", KindLanguage, "fr", "Francés"},
		{"en", KindLanguage, "wo", "Wolof"},
		{"fr", KindRegion, "202", "Afrique subsaharienne"},
		{"es", KindRegion, "419", "América Latina y el Caribe"},
		{"en", KindRegion, "011", "Western Africa"},
		{"fr", KindCountry, "SN", "Senegal"},
		{"en", KindTheme, "bogus", "bogus"},
		{"en", "bogus_kind", "cybercrime", "cybercrime"},
		{"en", KindRegion, "999", "999"},
		{"en", KindLanguage, "xx", "xx"},
		{"en", KindCountry, "XX", "XX"},
	}
	for _, c := range cases {
		if got := Label(c.lang, c.kind, c.code); got != c.want {
			t.Errorf("Label(%q, %q, %q) = %q, want %q", c.lang, c.kind, c.code, got, c.want)
		}
	}
	if got := Describe("en", KindPriority, "high"); got != "" {
		t.Errorf("priority description = %q, want none", got)
	}
	if got := Describe("en", KindTheme, "bogus"); got != "" {
		t.Errorf("unknown theme description = %q", got)
	}
}

func TestEveryRegionIsTranslated(t *testing.T) {
	for _, r := range Regions() {
		tx, ok := regionText[r.Code]
		if !ok {
			t.Errorf("region %s %q has no French/Spanish name", r.Code, r.Name)
			continue
		}
		if tx.EN != r.Name {
			t.Errorf("region %s: English name %q differs from the data set's %q", r.Code, tx.EN, r.Name)
		}
	}
}

func TestCatalogue(t *testing.T) {
	for _, lang := range SupportedLangs {
		doc := Catalogue(lang)
		if doc.Lang != lang {
			t.Errorf("Catalogue(%s).Lang = %q", lang, doc.Lang)
		}
		if len(doc.Themes) != len(Themes) || len(doc.Modalities) != len(Modalities) ||
			len(doc.Priorities) != len(Priorities) || len(doc.Visibilities) != len(Visibilities) ||
			len(doc.MaturityFrameworks) != len(MaturityFrameworks) {
			t.Errorf("Catalogue(%s) misses vocabulary entries", lang)
		}
		caps := 0
		for _, th := range doc.Themes {
			if th.Label == "" || th.Label == th.Code {
				t.Errorf("%s theme %s unlabelled", lang, th.Code)
			}
			for _, c := range th.Capabilities {
				caps++
				if got, _ := CapabilityTheme(Capability(c.Code)); string(got) != th.Code {
					t.Errorf("capability %s nested under %s", c.Code, th.Code)
				}
				if c.Label == "" || c.Description == "" {
					t.Errorf("%s capability %s lacks label or description", lang, c.Code)
				}
			}
		}
		if caps != len(Capabilities) {
			t.Errorf("Catalogue(%s) lists %d capabilities, want %d", lang, caps, len(Capabilities))
		}
		for _, f := range doc.MaturityFrameworks {
			if len(f.Stages) != f.MaxStage-f.MinStage+1 {
				t.Errorf("framework %s: %d stages for range %d..%d", f.Code, len(f.Stages), f.MinStage, f.MaxStage)
			}
		}
		if len(doc.Languages) != 183 {
			t.Errorf("Catalogue(%s) lists %d languages", lang, len(doc.Languages))
		}
		if len(doc.Regions) != len(Regions()) || len(doc.Regions) == 0 {
			t.Errorf("Catalogue(%s) lists %d regions, want %d", lang, len(doc.Regions), len(Regions()))
		}
	}
	fr := Catalogue("fr")
	if fr.Themes[2].Code != "cybercrime" || fr.Themes[2].Label != "Cybercriminalité" {
		t.Errorf("French theme 2 = %+v", fr.Themes[2].CatalogueEntry)
	}
	if !reflect.DeepEqual(Catalogue("de"), Catalogue("en")) {
		t.Error("an unsupported language does not fall back to English")
	}
	a := Catalogue("en")
	a.Themes[0].Label = "changed"
	if Catalogue("en").Themes[0].Label == "changed" {
		t.Error("Catalogue shares state between calls")
	}
}

func TestCatalogueJSONIsSnakeCase(t *testing.T) {
	raw, err := json.Marshal(Catalogue("es"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var top []string
	for k := range doc {
		top = append(top, k)
	}
	sort.Strings(top)
	want := []string{"lang", "languages", "maturity_frameworks", "modalities", "priorities", "regions", "themes", "visibilities"}
	if !reflect.DeepEqual(top, want) {
		t.Errorf("top-level keys = %v, want %v", top, want)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				if !snake.MatchString(k) {
					t.Errorf("key %q at %s is not snake_case", k, path)
				}
				walk(path+"."+k, vv)
			}
		case []any:
			for _, vv := range x {
				walk(path+"[]", vv)
			}
		}
	}
	walk("$", doc)
	th := doc["themes"].([]any)[1].(map[string]any)
	if th["code"] != "incident_management" || th["capabilities"] == nil {
		t.Errorf("theme JSON = %v", th)
	}
	fw := doc["maturity_frameworks"].([]any)[0].(map[string]any)
	if fw["code"] != "cmm" || fw["max_stage"] != float64(5) || len(fw["stages"].([]any)) != 6 {
		t.Errorf("framework JSON = %v", fw)
	}
}
