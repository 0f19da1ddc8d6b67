package demo

import (
	"fmt"
	"strings"

	"github.com/capmatch/capmatch/models"
)

// pocNames are fictional names for the demo Points of Contact, drawn in turn so that every
// demo state gets two different people. None is a real official.
var pocGiven = []string{"Aminata", "Kofi", "Leila", "Tomás", "Mere", "Nodir", "Ana", "Tevita", "Olena", "Samuel", "Ines", "Dara"}
var pocFamily = []string{"Sarr", "Mensah", "Benali", "Rojas", "Tuilagi", "Karimov", "Ferreira", "Vuki", "Kovalenko", "Otieno", "Morales", "Chan"}

// pocLanguages are the working languages of a demo state's contacts.
var pocLanguages = map[string][]string{
	"SN": {"fr", "en"}, "CI": {"fr"}, "BJ": {"fr"}, "TN": {"fr", "ar"}, "MA": {"fr", "ar"},
	"DO": {"es", "en"}, "CR": {"es"}, "PY": {"es"}, "EC": {"es"}, "GT": {"es"},
	"MD": {"ro", "en"}, "GE": {"ka", "en"}, "AM": {"hy", "en"}, "UA": {"uk", "en"}, "AL": {"sq", "en"},
	"KH": {"km", "en"}, "LK": {"si", "en"},
}

// demoPoCAccount is the demo ministry account listed as its state's diplomatic Point of
// Contact: the demo's example of a nominated PoC, who may read other states' contacts.
const demoPoCAccount = "ministry.fj@capmatch.example"

// pocs builds the directory entry of every demo state whose readiness says its Points of
// Contact are nominated: a diplomatic and a technical contact each, with fictional names and
// addresses under .example domains, entered by the state's ministry.
func (c clock) pocs() []models.PoCDirectory {
	var out []models.PoCDirectory
	k := 0
	for i, s := range orgTable {
		if s.typ != models.OrgGovernment || !readinessTable[s.country].PoCNominated {
			continue
		}
		at := c.ago(110-i, 11, 0)
		cc := strings.ToLower(s.country)
		langs := pocLanguages[s.country]
		if langs == nil {
			langs = []string{"en"}
		}
		person := func(kind models.PoCKind, role, org, email, phone string) models.PoC {
			name := pocGiven[k%len(pocGiven)] + " " + pocFamily[(k*5+3)%len(pocFamily)]
			k++
			return models.PoC{ID: fmt.Sprintf("poc-%s-%s", cc, kind), Kind: kind, Name: name, Role: role, Organization: org,
				Email: email, Phone: phone, Languages: append([]string(nil), langs...), NominatedBy: s.id,
				CreatedAt: at, UpdatedAt: at, Version: 1}
		}
		diplomatic := person(models.PoCDiplomatic, "Cyber diplomacy focal point", s.name, "poc.diplomatic@mfa."+cc+".example",
			fmt.Sprintf("+1555%07d", 1000+i))
		if s.country == "FJ" {
			diplomatic.Email = demoPoCAccount
		}
		technical := person(models.PoCTechnical, "Head of incident response", "National CERT ("+s.country+")",
			"poc.technical@cert."+cc+".example", fmt.Sprintf("+1555%07d", 2000+i))
		out = append(out, models.PoCDirectory{ISO: s.country, Items: []models.PoC{diplomatic, technical}, Checks: []models.PoCCheckRecord{},
			KeptBy: s.id, UpdatedAt: at, Version: 1})
	}
	return out
}
