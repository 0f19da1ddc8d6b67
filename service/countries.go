package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// countryStore is the part of the store this use case needs: country profiles, their sources and the audit trail.
type countryStore interface {
	models.CountryStore
	models.AuditStore
	models.SourceStore
}

// Countries is the use cases of country profiles: reference data, the readiness a country's
// ministries keep up to date, and figures counted over what the caller may see.
type Countries struct {
	store countryStore
	model *readmodel.Model
	bus   models.Bus
	now   Clock
	log   *slog.Logger
}

// ProjectFigures are a country's project counts, as the caller may see them.
type ProjectFigures struct {
	Active int
}

// CountryFunding is the money side of a country profile, by the one definition of the
// funding report (fundingBy): over the country's live needs the caller may see, what they
// request, what is committed and disbursed to them, and the sum of their gaps.
type CountryFunding struct {
	Requested int64 `json:"requested"`
	Committed int64 `json:"committed"`
	Disbursed int64 `json:"disbursed"`
	Gap       int64 `json:"gap"`
}

// CountryView is a country profile as the API returns it.
type CountryView struct {
	ISO                string           `json:"iso"`
	Name               string           `json:"name"`
	Region             string           `json:"region"`
	RegionCode         string           `json:"region_code"`
	SubRegion          string           `json:"sub_region"`
	SubRegionCode      string           `json:"sub_region_code"`
	IntermediateRegion string           `json:"intermediate_region,omitempty"`
	UNMember           bool             `json:"un_member"`
	UNObserver         bool             `json:"un_observer"`
	Readiness          models.Readiness `json:"readiness"`
	ReadinessVersion   int64            `json:"readiness_version"`
	ReadinessUpdatedAt *string          `json:"readiness_updated_at,omitempty"`
	OpenNeeds          int              `json:"open_needs"`
	ActiveProjects     int              `json:"active_projects"`
	Funding            CountryFunding   `json:"funding"`
	// Sources are the country's documents and links, on the profile of one country only
	// (Countries.Profile); absent from lists.
	Sources *[]models.CountrySource `json:"sources,omitempty"`
}

func (s *Countries) view(c models.CountryInfo, stats readmodel.CountryStats, pf ProjectFigures, f *fundingGroup) CountryView {
	v := CountryView{ISO: c.ISO, Name: c.Name, Region: c.Region, RegionCode: c.RegionCode, SubRegion: c.SubRegion,
		SubRegionCode: c.SubRegionCode, IntermediateRegion: c.IntermediateRegion, UNMember: c.UNMember, UNObserver: c.UNObserver,
		OpenNeeds: stats.OpenNeeds, ActiveProjects: pf.Active}
	if f != nil {
		v.Funding = CountryFunding{Requested: f.Requested, Committed: f.Committed, Disbursed: f.Disbursed, Gap: f.Gap}
	}
	if p, ok := s.model.Profile(c.ISO); ok {
		v.Readiness, v.ReadinessVersion = p.Readiness, p.Version
		t := p.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
		v.ReadinessUpdatedAt = &t
	}
	return v
}

// projectFigures counts, per country, the active projects the actor may see: the project side
// of country profiles (their money is counted over needs: fundingBy).
func (s *Countries) projectFigures(a *models.Actor) map[string]ProjectFigures {
	out := map[string]ProjectFigures{}
	for _, p := range viewAs(s.model, a).projects(func(p *models.Project) bool { return p.Active() }) {
		f := out[p.Country]
		f.Active++
		out[p.Country] = f
	}
	return out
}

// List returns every country's profile, its figures counted over what a may see. a may be nil
// for anonymous public pages (see models.CanSeeNeed).
func (s *Countries) List(ctx context.Context, a *models.Actor) []CountryView {
	stats := viewAs(s.model, a).needStats(nil)
	pf := s.projectFigures(a)
	funding := fundingBy(s.model, a, byCountry)
	out := make([]CountryView, 0, len(models.Countries()))
	for _, c := range models.Countries() {
		out = append(out, s.view(c, stats[c.ISO], pf[c.ISO], funding[c.ISO]))
	}
	return out
}

// Get returns one country's profile; an unknown code is ErrNotFound.
func (s *Countries) Get(ctx context.Context, a *models.Actor, iso string) (*CountryView, error) {
	c, ok := models.LookupCountry(models.NormalizeISO(iso))
	if !ok {
		return nil, models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	stats := viewAs(s.model, a).needStats(func(n *models.Need) bool { return n.Country == c.ISO })
	funding := fundingBy(s.model, a, byCountry)
	v := s.view(c, stats[c.ISO], s.projectFigures(a)[c.ISO], funding[c.ISO])
	return &v, nil
}

func byCountry(n *models.Need) string { return n.Country }

// ReadinessPatch is the body of PATCH /countries/{iso}/readiness: the self-reported part of the
// readiness. The PoC fields are derived from the Points of Contact directory and its
// communication checks; a body that sends one is refused (422), so that no one declares what the
// directory must show.
type ReadinessPatch struct {
	NationalCERT           *bool  `json:"national_cert"`
	CERTMaturity           *int   `json:"cert_maturity"`
	LegalPositionPublished *bool  `json:"legal_position_published"`
	NationalStrategy       *bool  `json:"national_strategy"`
	Version                *int64 `json:"version"`

	// The derived fields: present only to be refused with a clear message.
	PoCNominated    json.RawMessage `json:"poc_nominated"`
	PoCReachable    json.RawMessage `json:"poc_reachable"`
	PoCLastCheck    json.RawMessage `json:"poc_last_check"`
	PoCMissedChecks json.RawMessage `json:"poc_missed_checks"`
}

// derivedReadiness are the readiness fields no one may set, and where they come from.
var derivedReadiness = []struct{ field, from string }{
	{"poc_nominated", "the country's Points of Contact (/countries/{iso}/pocs): true once one is listed"},
	{"poc_reachable", "the communication checks: true when a Point of Contact acknowledged the latest check"},
	{"poc_last_check", "the communication checks: the day the latest one reached the country"},
	{"poc_missed_checks", "the communication checks: how many in a row were not acknowledged"},
}

// PatchReadiness updates a country's self-reported readiness (its ministries, coordinators).
func (s *Countries) PatchReadiness(ctx context.Context, a *models.Actor, iso string, p ReadinessPatch, ifMatch *int64) (*CountryView, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return nil, models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	if err := models.AuthorizeCountryReadiness(a, iso); err != nil {
		return nil, err
	}
	want, err := pickVersion(p.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	var pr models.Problems
	for i, raw := range []json.RawMessage{p.PoCNominated, p.PoCReachable, p.PoCLastCheck, p.PoCMissedChecks} {
		if raw != nil {
			pr.Add(derivedReadiness[i].field, models.ProblemDerived, models.Args{"from": models.ArgCode(derivedReadiness[i].from)})
		}
	}
	if p.CERTMaturity != nil && (*p.CERTMaturity < 0 || *p.CERTMaturity > 4) {
		pr.Add("cert_maturity", models.ProblemRange, models.Args{"min": models.ArgInt(0), "max": models.ArgInt(4)})
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	var changed []string
	ev := models.ReadinessEvent{Source: models.ReadinessDeclared, ByUser: a.UserID, ByOrg: a.OrgID, ByRole: a.Role}
	err = s.updateProfile(ctx, iso, want, ev, func(next *models.CountryProfile) bool {
		changed = changed[:0]
		setB := func(name string, v *bool, dst *bool) {
			if v != nil {
				*dst = *v
				changed = append(changed, name)
			}
		}
		setB("national_cert", p.NationalCERT, &next.Readiness.NationalCERT)
		setB("legal_position_published", p.LegalPositionPublished, &next.Readiness.LegalPositionPublished)
		setB("national_strategy", p.NationalStrategy, &next.Readiness.NationalStrategy)
		if p.CERTMaturity != nil {
			next.Readiness.CERTMaturity = *p.CERTMaturity
			changed = append(changed, "cert_maturity")
		}
		next.UpdatedBy = a.UserID
		return true
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "update", "country", iso, changed)
	return s.Get(ctx, a, iso)
}

// updateProfile is the profile's read-modify-write loop, the one way a readiness profile is
// written: edit changes a copy of the current profile (and reports whether to store it), the
// change is recorded in the profile's history as ev (when a fact changed), and the profile is
// stored if its version is still the one read (want, when the caller named one), retried on a
// concurrent change otherwise, then applied to the read model and broadcast.
func (s *Countries) updateProfile(ctx context.Context, iso string, want *int64, ev models.ReadinessEvent, edit func(next *models.CountryProfile) bool) error {
	for attempt := 0; ; attempt++ {
		cur, ok := s.model.Profile(iso)
		if !ok {
			cur = &models.CountryProfile{ISO: iso}
		}
		if want != nil && *want != cur.Version {
			return models.Errorf(models.ErrConflict, "version %d is stale: the profile is at version %d; reload it", *want, cur.Version)
		}
		next := *cur
		if !edit(&next) {
			return nil
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.now().UTC()
		ev.At = next.UpdatedAt
		next.RecordReadiness(cur.Readiness, ev)
		err := s.store.PutCountryProfile(ctx, &next, cur.Version)
		if err == nil {
			s.model.PutProfile(&next)
			publish(ctx, s.bus, s.log, models.Event{Type: models.EventCountry, ID: iso, Version: next.Version, At: next.UpdatedAt, Data: mustJSON(&next)})
			return nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 4 {
			return err
		}
		// Someone wrote first: take the store's version (see Needs.update), then answer the 409
		// or try again.
		if fresh, gerr := s.store.GetCountryProfile(ctx, iso); gerr == nil {
			s.model.PutProfile(fresh)
		}
		if want != nil {
			return err
		}
	}
}

// SetPoCReadiness stores the PoC part of a country's readiness as the directory derives it
// (models.PoCDirectory.Readiness), when it differs from what the profile holds. It is the only
// writer of those fields.
func (s *Countries) SetPoCReadiness(ctx context.Context, iso string, r models.PoCReadiness) error {
	var changed []string
	ev := models.ReadinessEvent{Source: models.ReadinessDerived}
	err := s.updateProfile(ctx, iso, nil, ev, func(next *models.CountryProfile) bool {
		cur := next.Readiness
		changed = changed[:0]
		if cur.PoCNominated != r.Nominated {
			changed = append(changed, "poc_nominated")
		}
		if cur.PoCReachable != r.Reachable {
			changed = append(changed, "poc_reachable")
		}
		if (cur.PoCLastCheck == nil) != (r.LastCheck == nil) || (cur.PoCLastCheck != nil && *cur.PoCLastCheck != *r.LastCheck) {
			changed = append(changed, "poc_last_check")
		}
		if cur.PoCMissedChecks != r.Missed {
			changed = append(changed, "poc_missed_checks")
		}
		if len(changed) == 0 {
			return false
		}
		next.Readiness.PoCNominated, next.Readiness.PoCReachable = r.Nominated, r.Reachable
		next.Readiness.PoCLastCheck, next.Readiness.PoCMissedChecks = r.LastCheck, r.Missed
		return true
	})
	if err == nil && len(changed) > 0 {
		audit(ctx, s.store, s.log, s.now(), nil, "derive readiness", "country", iso, changed)
	}
	return err
}
