package models

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// ReadinessSource says how a change of a readiness profile came about.
type ReadinessSource string

// The ways a readiness profile changes.
const (
	// ReadinessDeclared: a ministry or coordinator set it by hand (PATCH .../readiness).
	ReadinessDeclared ReadinessSource = "declared"
	// ReadinessAssessment: a submitted self-assessment derived it (Assessment.DerivedReadiness).
	ReadinessAssessment ReadinessSource = "assessment"
	// ReadinessDerived: the system derived it from other records (such as communication checks).
	ReadinessDerived ReadinessSource = "derived"
)

// ReadinessChange is one fact of a readiness profile that changed: its JSON name, and its value
// before and after as JSON text ("true", "2"), so that facts of any type keep one shape.
type ReadinessChange struct {
	Field string `json:"field" bson:"field"`
	From  string `json:"from" bson:"from"`
	To    string `json:"to" bson:"to"`
}

// ReadinessEvent is one recorded change of a country's readiness profile: when, who (user,
// organization, role; empty for the system), how, and what changed. Codes and values only, no
// sentences: pages render them in the reader's language.
type ReadinessEvent struct {
	At     time.Time       `json:"at" bson:"at"`
	Source ReadinessSource `json:"source" bson:"source"`
	// AssessmentID names the assessment that derived the change (Source assessment).
	AssessmentID string            `json:"assessment_id,omitempty" bson:"assessment_id,omitempty"`
	ByUser       string            `json:"by_user,omitempty" bson:"by_user,omitempty"`
	ByOrg        string            `json:"by_org,omitempty" bson:"by_org,omitempty"`
	ByRole       Role              `json:"by_role,omitempty" bson:"by_role,omitempty"`
	Changes      []ReadinessChange `json:"changes" bson:"changes"`
}

// MaxReadinessHistory bounds the history kept in a profile: far more changes than a country's
// readiness sees in decades (the audit trail keeps every write regardless).
const MaxReadinessHistory = 1000

// DiffReadiness lists the facts that differ between two readiness profiles, in the order of
// Readiness's fields, named by their JSON names. It reads the fields by reflection, so a fact
// added to Readiness is recorded without a change here.
func DiffReadiness(before, after Readiness) []ReadinessChange {
	var out []ReadinessChange
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	t := bv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		from, _ := json.Marshal(bv.Field(i).Interface())
		to, _ := json.Marshal(av.Field(i).Interface())
		if string(from) != string(to) {
			out = append(out, ReadinessChange{Field: name, From: string(from), To: string(to)})
		}
	}
	return out
}

// RecordReadiness appends e to the profile's history with the changes from before to the
// profile's current readiness; it records nothing (and reports false) when nothing changed.
func (p *CountryProfile) RecordReadiness(before Readiness, e ReadinessEvent) bool {
	e.Changes = DiffReadiness(before, p.Readiness)
	if len(e.Changes) == 0 {
		return false
	}
	h := make([]ReadinessEvent, 0, len(p.History)+1)
	h = append(h, p.History...)
	h = append(h, e)
	if len(h) > MaxReadinessHistory {
		h = h[len(h)-MaxReadinessHistory:]
	}
	p.History = h
	return true
}
