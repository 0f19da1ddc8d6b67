package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/capmatch/capmatch/models"
)

// ReadinessHistory is a country's readiness history as the API returns it, newest first.
type ReadinessHistory struct {
	ISO   string                `json:"iso"`
	Items []ReadinessChangeView `json:"items"`
}

// ReadinessChangeView is one recorded change of a readiness profile: when, how, who and what.
// Who is the organization and role for every reader; the user only for coordinators and the
// country's ministries; the assessment that derived it only for those who may read the
// country's assessments.
type ReadinessChangeView struct {
	At           time.Time              `json:"at"`
	Source       models.ReadinessSource `json:"source"`
	AssessmentID string                 `json:"assessment_id,omitempty"`
	By           ReadinessAuthor        `json:"by"`
	Changes      []ReadinessFactChange  `json:"changes"`
}

// ReadinessAuthor is who made a change; all empty for the system.
type ReadinessAuthor struct {
	OrganizationID string      `json:"organization_id,omitempty"`
	Role           models.Role `json:"role,omitempty"`
	UserID         string      `json:"user_id,omitempty"`
}

// ReadinessFactChange is one fact before and after, as JSON values (false, 2).
type ReadinessFactChange struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from"`
	To    json.RawMessage `json:"to"`
}

// ReadinessHistory returns every recorded change of a country's readiness, newest first, to
// whoever may see the country's profile (a nil actor is an anonymous visitor of the public
// country page): the readiness is public, and so is how it changed.
func (s *Countries) ReadinessHistory(ctx context.Context, a *models.Actor, iso string) (*ReadinessHistory, error) {
	c, ok := models.LookupCountry(models.NormalizeISO(iso))
	if !ok {
		return nil, models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	out := &ReadinessHistory{ISO: c.ISO, Items: []ReadinessChangeView{}}
	p, ok := s.model.Profile(c.ISO)
	if !ok {
		return out, nil
	}
	for i := len(p.History) - 1; i >= 0; i-- {
		e := p.History[i]
		v := ReadinessChangeView{At: e.At, Source: e.Source, By: ReadinessAuthor{OrganizationID: e.ByOrg, Role: e.ByRole},
			Changes: make([]ReadinessFactChange, 0, len(e.Changes))}
		if models.CanSeeReadinessAuthors(a, c.ISO) {
			v.By.UserID = e.ByUser
		}
		if models.CanSeeAssessments(a, c.ISO) {
			v.AssessmentID = e.AssessmentID
		}
		for _, ch := range e.Changes {
			v.Changes = append(v.Changes, ReadinessFactChange{Field: ch.Field, From: json.RawMessage(ch.From), To: json.RawMessage(ch.To)})
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// Profile is one country's profile with its sources (documents and links), as GET
// /countries/{iso} and the country page show it. The sources are public information: everyone
// who may see the profile reads them.
func (s *Countries) Profile(ctx context.Context, a *models.Actor, iso string) (*CountryView, error) {
	v, err := s.Get(ctx, a, iso)
	if err != nil {
		return nil, err
	}
	items, _, err := s.store.ListCountrySources(ctx, v.ISO)
	if err != nil {
		return nil, err
	}
	sorted := sortSources(items)
	v.Sources = &sorted
	return v, nil
}

// applyAssessment sets the readiness facts a submitted assessment derives (see
// models.Assessment.DerivedReadiness), recorded in the history as coming from it. Nothing is
// written when no fact changes.
func (s *Countries) applyAssessment(ctx context.Context, a *models.Actor, asm *models.Assessment) ([]models.ReadinessChange, error) {
	var changes []models.ReadinessChange
	ev := models.ReadinessEvent{Source: models.ReadinessAssessment, AssessmentID: asm.ID, ByUser: a.UserID, ByOrg: a.OrgID, ByRole: a.Role}
	err := s.updateProfile(ctx, asm.Country, nil, ev, func(next *models.CountryProfile) bool {
		derived := asm.DerivedReadiness(next.Readiness)
		changes = models.DiffReadiness(next.Readiness, derived)
		if len(changes) == 0 {
			return false
		}
		next.Readiness = derived
		next.UpdatedBy = a.UserID
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		fields := make([]string, len(changes))
		for i, c := range changes {
			fields[i] = c.Field
		}
		audit(ctx, s.store, s.log, s.now(), a, "derive readiness", "country", asm.Country, fields)
	}
	return changes, nil
}
