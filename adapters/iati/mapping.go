package iati

import (
	"sort"
	"strings"

	"github.com/capmatch/capmatch/models"
)

// This file maps what donors publish to IATI onto capmatch's vocabulary: sectors and words to
// capabilities (with a confidence), recipient regions to UN M49. The tables are documented in
// README.md ("Import: mapping"); the tests check every code against the code lists.

// Phrases are matched on folded text: lower case, accents removed, anything but letters
// and digits turned into single spaces, so "CSIRT's", "csirt" and "CSIRT," all read "csirt".
// A phrase ending in "*" matches any word starting with it ("forensic*": forensic,
// forensics). The lists cover English, French and Spanish.

// genericCyber are the words that say an activity is about cyber security at all; the
// contextual phrases of a capability count only in an activity that has one.
var genericCyber = []string{"cyber*", "ciber*", "information security", "securite de l information", "securite des systemes d information",
	"seguridad de la informacion", "securite informatique", "seguridad informatica", "ict security", "digital security",
	"securite numerique", "seguridad digital", "csirt*", "cert"}

// capabilityPhrases are, per capability, the phrases that name it on their own (specific)
// and those that do only in an activity about cyber security (contextual).
var capabilityPhrases = map[models.Capability]struct{ specific, contextual []string }{
	models.CapNationalStrategy: {
		specific: []string{"cybersecurity strategy", "cyber security strategy", "national cyber strategy", "cyber strategy",
			"strategie nationale de cybersecurite", "strategie de cybersecurite", "strategie nationale cyber",
			"estrategia nacional de ciberseguridad", "estrategia de ciberseguridad", "cybersecurity policy", "politique de cybersecurite",
			"politica de ciberseguridad"},
		contextual: []string{"national strategy", "strategie nationale", "estrategia nacional", "policy framework"},
	},
	models.CapNormsImplementation: {
		specific: []string{"cyber norms", "norms of responsible state behaviour", "norms of responsible state behavior",
			"responsible state behaviour in cyberspace", "responsible state behavior in cyberspace", "open ended working group",
			"oewg", "normes de comportement responsable des etats", "normas de comportamiento responsable de los estados"},
		contextual: []string{"un gge", "group of governmental experts", "cyber diplomacy", "cyberdiplomatie", "ciberdiplomacia"},
	},
	models.CapCBMImplementation: {
		specific:   []string{"cyber confidence building", "ict confidence building", "confidence building measures in cyberspace"},
		contextual: []string{"confidence building measure*", "cbms", "mesures de confiance", "medidas de fomento de la confianza"},
	},
	models.CapPoCReadiness: {
		specific:   []string{"points of contact directory", "poc directory", "global poc", "cyber points of contact"},
		contextual: []string{"point of contact", "points of contact", "point de contact", "points de contact", "punto de contacto", "puntos de contacto"},
	},
	models.CapLegalPosition: {
		specific: []string{"international law in cyberspace", "international law applies in cyberspace", "international law to cyberspace",
			"droit international dans le cyberespace", "droit international au cyberespace", "derecho internacional en el ciberespacio",
			"derecho internacional al ciberespacio"},
		contextual: []string{"national position", "position nationale", "posicion nacional", "international law", "droit international", "derecho internacional"},
	},
	models.CapCERTSetup: {
		specific: []string{"csirt*", "computer emergency response team*", "computer security incident response", "incident response team*",
			"equipe d intervention en cas d urgence informatique", "centre de reponse aux incidents", "equipo de respuesta a incidentes",
			"equipos de respuesta a incidentes", "centro de respuesta a incidentes"},
		contextual: []string{"cert", "certs", "incident response", "reponse aux incidents", "respuesta a incidentes"},
	},
	models.CapCERTMaturity: {
		specific:   []string{"sim3", "csirt maturity", "cert maturity", "maturite du csirt", "madurez del csirt", "trusted introducer"},
		contextual: []string{"first membership", "maturity model", "modele de maturite", "modelo de madurez"},
	},
	models.CapCIIP: {
		specific: []string{"critical information infrastructure*", "critical infrastructure protection", "ciip",
			"infrastructures critiques d information", "protection des infrastructures critiques", "infraestructuras criticas de informacion",
			"proteccion de infraestructuras criticas"},
		contextual: []string{"critical infrastructure*", "infrastructures critiques", "infraestructuras criticas", "infraestructura critica"},
	},
	models.CapCyberExercises: {
		specific: []string{"cyber exercise*", "cyber drill*", "cyber range*", "cyberexercise*", "cyber exercice*", "exercice de cybersecurite",
			"exercices de cybersecurite", "ejercicio de ciberseguridad", "ejercicios de ciberseguridad", "ciberejercicio*"},
		contextual: []string{"tabletop exercise*", "simulation exercise*", "exercice de simulation", "ejercicio de simulacion"},
	},
	models.CapCybercrimeLegislation: {
		specific: []string{"cybercrime law*", "cybercrime legislation", "cybercrime bill", "budapest convention", "convention on cybercrime",
			"loi sur la cybercriminalite", "legislation sur la cybercriminalite", "convention de budapest", "ley de ciberdelito*",
			"ley sobre ciberdelito*", "legislacion sobre ciberdelincuencia", "legislacion en materia de ciberdelito*", "convenio de budapest",
			"ley de delitos informaticos"},
		contextual: []string{"legislation", "legislacion", "legal framework", "cadre juridique", "marco juridico", "marco legal", "draft law", "projet de loi", "proyecto de ley"},
	},
	models.CapDigitalForensics: {
		specific: []string{"digital forensic*", "computer forensic*", "cyber forensic*", "electronic evidence", "e evidence", "digital evidence",
			"criminalistique numerique", "informatique legale", "preuve electronique", "preuves electroniques", "preuve numerique",
			"preuves numeriques", "informatica forense",
			"forense digital", "evidencia digital", "prueba electronica", "evidencia electronica"},
		contextual: []string{"forensic*", "forense*", "criminalistique"},
	},
	models.CapLawEnforcementTraining: {
		specific: []string{"cybercrime investigat*", "cybercrime unit*", "investigation of cybercrime", "cyber police", "police cyber",
			"unite de lutte contre la cybercriminalite", "enquete sur la cybercriminalite", "enquetes sur la cybercriminalite",
			"unidad de ciberdelito*", "policia cibernetica",
			"investigacion de ciberdelito*", "brigade numerique"},
		contextual: []string{"law enforcement", "police", "policia", "prosecutor*", "procureur*", "fiscal*", "judges", "magistrat*", "jueces", "gendarmerie"},
	},
	models.CapAwareness: {
		specific: []string{"cyber awareness", "cybersecurity awareness", "cyber security awareness", "cyber hygiene", "online safety",
			"sensibilisation a la cybersecurite", "sensibilisation cyber", "sensibilizacion en ciberseguridad", "concientizacion en ciberseguridad",
			"ciberhigiene", "hygiene numerique"},
		contextual: []string{"awareness", "sensibilisation", "sensibilizacion", "concientizacion", "campaign*", "campagne*", "campana*"},
	},
	models.CapWorkforceEducation: {
		specific: []string{"cyber skills", "cybersecurity skills", "cyber security skills", "cyber workforce", "cybersecurity workforce",
			"cybersecurity curriculum", "cybersecurity education", "cybersecurity training", "competences en cybersecurite",
			"formation en cybersecurite", "formation a la cybersecurite", "formacion en ciberseguridad", "talento en ciberseguridad",
			"capacitacion en ciberseguridad"},
		contextual: []string{"skills", "curriculum", "university", "universite", "universidad", "scholarship*", "bourses", "becas", "workforce"},
	},
	models.CapStandardsAdoption: {
		specific:   []string{"iso 27001", "iso iec 27001", "iso 27002", "cybersecurity standard*", "normes de cybersecurite", "normas de ciberseguridad", "nist cybersecurity framework"},
		contextual: []string{"standard*", "norme*", "normas", "certification", "certificacion"},
	},
}

// capabilitySectors are, per capability, the DAC 5-digit sectors its work is reported under
// (DACCode's first, then neighbours publishers use): a mapping found in the text is
// more certain when the activity is also reported under one of them, or under its DAC
// 3-digit category.
var capabilitySectors = map[models.Capability][]string{
	models.CapNationalStrategy:       {"15110", "15210", "22010", "22040"},
	models.CapNormsImplementation:    {"15110", "15210", "15220", "22010"},
	models.CapCBMImplementation:      {"15110", "15210", "15220"},
	models.CapPoCReadiness:           {"15110", "15210", "22010", "22040"},
	models.CapLegalPosition:          {"15130", "15110", "15210"},
	models.CapCybercrimeLegislation:  {"15130", "15210", "22010"},
	models.CapDigitalForensics:       {"15130", "15210", "22040"},
	models.CapLawEnforcementTraining: {"15130", "15210"},
	models.CapCERTSetup:              {"22040", "15210", "15110", "22010"},
	models.CapCERTMaturity:           {"22040", "15210", "15110", "22010"},
	models.CapCIIP:                   {"22040", "15210", "22010", "22020"},
	models.CapCyberExercises:         {"22040", "15210", "22010"},
	models.CapAwareness:              {"22040", "15153", "22010"},
	models.CapWorkforceEducation:     {"22040", "11330", "11420", "11430"},
	models.CapStandardsAdoption:      {"22010", "22040", "25010"},
}

// foldText lowers, strips accents and keeps letters and digits separated by single spaces,
// padded with a space on each side.
func foldText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if f, ok := accents[r]; ok {
			r = f
		}
		if r == 'œ' {
			b.WriteString("oe")
			space = false
			continue
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r > 0x24F {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// accents folds the accented Latin letters of French, Spanish and Portuguese text.
var accents = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y',
}

// has reports whether folded text holds phrase (see the phrase rules above).
func has(folded, phrase string) bool {
	if strings.HasSuffix(phrase, "*") {
		return strings.Contains(folded, " "+strings.TrimSuffix(phrase, "*"))
	}
	return strings.Contains(folded, " "+phrase+" ")
}

// firstHit returns the first phrase folded text holds, "" when none.
func firstHit(folded string, phrases []string) string {
	for _, p := range phrases {
		if has(folded, p) {
			return p
		}
	}
	return ""
}

// MapCapabilities maps an activity to capmatch capabilities, each with a confidence and its
// evidence, best first:
//
//   - high: the activity names the capability in capmatch's own vocabulary (a vocabulary 98
//     or 99 sector whose code is a capability and whose vocabulary-uri is a capmatch
//     catalogue, as capmatch's export writes it); or a phrase that names the capability is
//     in its title and it is reported under a sector that work is reported under;
//   - medium: such a phrase in the title without such a sector, or in the description with
//     one;
//   - low: such a phrase in the description only.
//
// A contextual phrase ("legislation", "police") counts like a naming one, but only in an
// activity whose text is about cyber security (genericCyber). A sector alone maps nothing:
// the DAC list has no cyber code. Evidence codes: "vocabulary-99:cert_setup",
// "title:csirt", "description:budapest convention", "sector:1:22040", "sector:2:220".
func MapCapabilities(a *Activity) []models.CapabilityMatch {
	var title, desc strings.Builder
	for _, n := range a.Titles {
		title.WriteString(n.Text + " ")
	}
	for _, n := range a.Descriptions {
		desc.WriteString(n.Text + " ")
	}
	ft, fd := foldText(title.String()), foldText(desc.String())
	cyber := firstHit(ft, genericCyber) != "" || firstHit(fd, genericCyber) != ""

	explicit := map[models.Capability]string{}
	dac5, dac3 := map[string]bool{}, map[string]bool{}
	for _, s := range a.Sectors {
		switch s.Vocabulary {
		case "", "1":
			dac5[s.Code] = true
		case "2":
			dac3[s.Code] = true
		case "98", "99":
			c := models.Capability(strings.TrimSpace(s.Code))
			if c.Valid() && strings.Contains(s.VocabularyURI, CataloguePath) {
				explicit[c] = "vocabulary-" + s.Vocabulary + ":" + string(c)
			}
		}
	}
	var out []models.CapabilityMatch
	for _, c := range models.Capabilities {
		ph := capabilityPhrases[c]
		var evidence []string
		level := 0 // 0 none, 1 low, 2 medium, 3 high
		if e, ok := explicit[c]; ok {
			evidence = append(evidence, e)
			level = 3
		}
		inTitle := firstHit(ft, ph.specific)
		inDesc := firstHit(fd, ph.specific)
		if cyber {
			if inTitle == "" {
				inTitle = firstHit(ft, ph.contextual)
			}
			if inDesc == "" {
				inDesc = firstHit(fd, ph.contextual)
			}
		}
		text := 0
		switch {
		case inTitle != "":
			evidence = append(evidence, "title:"+strings.TrimSuffix(inTitle, "*"))
			text = 2
		case inDesc != "":
			evidence = append(evidence, "description:"+strings.TrimSuffix(inDesc, "*"))
			text = 1
		}
		if text > 0 {
			if s := compatibleSector(c, dac5, dac3); s != "" {
				evidence = append(evidence, s)
				text++
			}
		}
		level = max(level, text)
		if level == 0 {
			continue
		}
		out = append(out, models.CapabilityMatch{Capability: c, Confidence: []models.Confidence{"", models.ConfidenceLow,
			models.ConfidenceMedium, models.ConfidenceHigh}[level], Evidence: evidence})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Confidence.Weight() > out[j].Confidence.Weight() })
	return out
}

// CyberTerms lists the generic cyber words an activity's text holds, for the summary of an
// activity that mapped to no capability.
func CyberTerms(a *Activity) []string {
	var all strings.Builder
	for _, n := range append(append([]models.Narrative(nil), a.Titles...), a.Descriptions...) {
		all.WriteString(n.Text + " ")
	}
	f := foldText(all.String())
	var out []string
	for _, p := range genericCyber {
		if has(f, p) {
			out = append(out, strings.TrimSuffix(p, "*"))
		}
	}
	return out
}

// compatibleSector returns the evidence code of a sector of the activity that capability c's
// work is reported under, "" when there is none.
func compatibleSector(c models.Capability, dac5, dac3 map[string]bool) string {
	for _, code := range capabilitySectors[c] {
		if dac5[code] {
			return "sector:1:" + code
		}
	}
	for _, code := range capabilitySectors[c] {
		if dac3[code[:3]] {
			return "sector:2:" + code[:3]
		}
	}
	return ""
}

// dacRegionM49 maps the OECD DAC recipient regions (IATI Region code list, vocabulary 1) to
// the UN M49 region that covers the same countries. Regions without such an equivalent
// ("Caribbean & Central America", "Middle East", "South & Central Asia", "Far East Asia",
// "Developing countries, unspecified", "States Ex-Yugoslavia") are not mapped.
var dacRegionM49 = map[string]string{
	"89":   "150", // Europe, regional → Europe
	"189":  "015", // North of Sahara → Northern Africa
	"289":  "202", // South of Sahara → Sub-Saharan Africa
	"298":  "002", // Africa, regional → Africa
	"380":  "029", // West Indies → Caribbean
	"489":  "005", // South America → South America
	"498":  "019", // America, regional → Americas
	"619":  "143", // Central Asia → Central Asia
	"679":  "034", // South Asia → Southern Asia
	"798":  "142", // Asia, regional → Asia
	"889":  "009", // Oceania → Oceania
	"1027": "014", // Eastern Africa → Eastern Africa
	"1028": "017", // Middle Africa → Middle Africa
	"1029": "018", // Southern Africa → Southern Africa
	"1030": "011", // Western Africa → Western Africa
	"1031": "029", // Caribbean → Caribbean
	"1032": "013", // Central America → Central America
	"1033": "054", // Melanesia → Melanesia
	"1034": "057", // Micronesia → Micronesia
	"1035": "061", // Polynesia → Polynesia
}

// RegionM49 returns the UN M49 code of a recipient region: the code itself for vocabulary 2
// (UN M49) when capmatch knows it, the DAC table's for vocabulary 1 (or none); ok is false
// when there is no equivalent.
func RegionM49(vocabulary, code string) (string, bool) {
	code = strings.TrimSpace(code)
	switch strings.TrimSpace(vocabulary) {
	case "", "1":
		m, ok := dacRegionM49[code]
		return m, ok
	case "2":
		if len(code) < 3 {
			code = strings.Repeat("0", 3-len(code)) + code
		}
		if _, ok := models.LookupRegion(code); ok {
			return code, true
		}
	}
	return "", false
}
