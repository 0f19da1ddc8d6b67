package models

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// SourceKind is what a country source documents, as the UNIDIR Cyber Policy Portal's country
// profiles group them.
type SourceKind string

// The kinds of country source.
const (
	SourceStrategy      SourceKind = "strategy"       // national cybersecurity strategy
	SourceCybercrimeLaw SourceKind = "cybercrime_law" // cybercrime legislation
	SourceLegalPosition SourceKind = "legal_position" // national position on international law in cyberspace
	SourceCERTWebsite   SourceKind = "cert_website"   // the national CERT/CSIRT's website
	SourcePoCNomination SourceKind = "poc_nomination" // the nomination of Points of Contact
	SourceOther         SourceKind = "other"          // any other official document or link
)

// SourceKinds lists every kind, in the order a country page shows them.
var SourceKinds = []SourceKind{SourceStrategy, SourceCybercrimeLaw, SourceLegalPosition, SourceCERTWebsite, SourcePoCNomination, SourceOther}

// Valid reports whether k is one of the kinds.
func (k SourceKind) Valid() bool {
	for _, v := range SourceKinds {
		if v == k {
			return true
		}
	}
	return false
}

var sourceKindText = map[SourceKind]text{
	SourceStrategy:      {"National cybersecurity strategy", "Stratégie nationale de cybersécurité", "Estrategia nacional de ciberseguridad"},
	SourceCybercrimeLaw: {"Cybercrime legislation", "Législation sur la cybercriminalité", "Legislación sobre ciberdelincuencia"},
	SourceLegalPosition: {
		"National position on international law in cyberspace",
		"Position nationale sur le droit international dans le cyberespace",
		"Posición nacional sobre el derecho internacional en el ciberespacio",
	},
	SourceCERTWebsite:   {"National CERT/CSIRT website", "Site du CERT/CSIRT national", "Sitio del CERT/CSIRT nacional"},
	SourcePoCNomination: {"Points of Contact nomination", "Désignation des points de contact", "Designación de los puntos de contacto"},
	SourceOther:         {"Other document", "Autre document", "Otro documento"},
}

// SourceKindLabel names a kind in lang.
func SourceKindLabel(lang string, k SourceKind) string {
	if t, ok := sourceKindText[k]; ok {
		return t.in(lang)
	}
	return string(k)
}

// CountrySource is one official document or link about a country's cyber policy (its strategy,
// cybercrime law, national position on international law, CERT website, PoC nomination): public
// information, shown on the country's profile to everyone who may see the profile, and kept by
// the country's ministries and coordinators.
type CountrySource struct {
	ID    string     `json:"id" bson:"id"`
	Kind  SourceKind `json:"kind" bson:"kind"`
	Title string     `json:"title" bson:"title"`
	// URL is where the document is published: an absolute http or https URL.
	URL string `json:"url" bson:"url"`
	// Date is the document's date (adoption, publication), when it has one.
	Date Date `json:"date,omitempty" bson:"date,omitempty"`
	// Language is the document's ISO 639-1 language.
	Language  string    `json:"language" bson:"language"`
	AddedBy   string    `json:"added_by" bson:"added_by"`
	AddedAt   time.Time `json:"added_at" bson:"added_at"`
	UpdatedBy string    `json:"updated_by,omitempty" bson:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at" bson:"updated_at"`
	Version   int64     `json:"version" bson:"version"`
}

// MaxCountrySources bounds how many sources one country keeps.
const MaxCountrySources = 100

// MaxSourceURL bounds a source's URL.
const MaxSourceURL = 2000

// SourceStore keeps each country's sources as one document read by _id (the ISO code),
// replaced conditionally on its version.
type SourceStore interface {
	// ListCountrySources returns a country's sources and the list's version (0 when none).
	ListCountrySources(ctx context.Context, iso string) ([]CountrySource, int64, error)
	// PutCountrySources stores a country's sources if the list is still at version prev;
	// ErrConflict otherwise.
	PutCountrySources(ctx context.Context, iso string, items []CountrySource, prev int64) error
}

// Normalize trims what a user typed.
func (s *CountrySource) Normalize() {
	s.Title = CleanText(s.Title)
	s.URL = strings.TrimSpace(s.URL)
	s.Language = strings.ToLower(strings.TrimSpace(s.Language))
	s.Date = Date(strings.TrimSpace(string(s.Date)))
}

// Validate checks a source and reports every problem at once: a known kind, a title, an
// absolute http(s) URL without credentials, a real date when one is given, an ISO 639-1
// language.
func (s *CountrySource) Validate() error {
	var p Problems
	if !s.Kind.Valid() {
		if s.Kind == "" {
			p.Add("kind", ProblemRequired, nil)
		} else {
			p.Add("kind", ProblemOneOf, OneOf(SourceKinds))
		}
	}
	RequiredText("title", s.Title, MaxTitleRunes, false, &p)
	if s.URL == "" {
		p.Add("url", ProblemRequired, nil)
	} else if !ValidSourceURL(s.URL) {
		p.Add("url", ProblemURL, nil)
	}
	if s.Date != "" && !s.Date.Valid() {
		p.Add("date", ProblemDateInvalid, Args{"got": ArgSent(string(s.Date))})
	}
	switch {
	case s.Language == "":
		p.Add("language", ProblemRequired, nil)
	case !ValidLanguage(s.Language):
		p.Add("language", ProblemUnknownLanguage, Args{"value": ArgSent(s.Language)})
	}
	return p.Err()
}

// ValidSourceURL accepts an absolute http or https URL with a host, no user name or password,
// no control characters or spaces, at most MaxSourceURL bytes: a link that is safe to put in an
// href (no javascript: or data: URL) and that names where the document is.
func ValidSourceURL(raw string) bool {
	if len(raw) > MaxSourceURL || strings.ContainsAny(raw, " \t\r\n\\") {
		return false
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return false
	}
	return u.Hostname() != ""
}
