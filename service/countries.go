package service

import (
	"context"
	"errors"
	"log/slog"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// Countries is the use cases of country profiles: reference data, the readiness a country's
// ministries keep up to date, and figures counted over what the caller may see.
type Countries struct {
	Store models.Store
	Model *readmodel.Model
	Bus   models.Bus
	Now   Clock
	Log   *slog.Logger
	// Projects supplies per-country project figures once projects exist; nil means none.
	Projects func(a *models.Actor) map[string]ProjectFigures
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
}

func (s *Countries) view(c models.CountryInfo, stats readmodel.CountryStats, pf ProjectFigures, f *fundingGroup) CountryView {
	v := CountryView{ISO: c.ISO, Name: c.Name, Region: c.Region, RegionCode: c.RegionCode, SubRegion: c.SubRegion,
		SubRegionCode: c.SubRegionCode, IntermediateRegion: c.IntermediateRegion, UNMember: c.UNMember, UNObserver: c.UNObserver,
		OpenNeeds: stats.OpenNeeds, ActiveProjects: pf.Active}
	if f != nil {
		v.Funding = CountryFunding{Requested: f.Requested, Committed: f.Committed, Disbursed: f.Disbursed, Gap: f.Gap}
	}
	if p, ok := s.Model.Profile(c.ISO); ok {
		v.Readiness, v.ReadinessVersion = p.Readiness, p.Version
		t := p.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z07:00")
		v.ReadinessUpdatedAt = &t
	}
	return v
}

func (s *Countries) projectFigures(a *models.Actor) map[string]ProjectFigures {
	if s.Projects == nil {
		return nil
	}
	return s.Projects(a)
}

// List returns every country's profile, its figures counted over what a may see. a may be nil
// for anonymous public pages (see models.CanSeeNeed).
func (s *Countries) List(ctx context.Context, a *models.Actor) []CountryView {
	stats := viewAs(s.Model, a).needStats(nil)
	pf := s.projectFigures(a)
	funding := fundingBy(s.Model, a, byCountry)
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
	stats := viewAs(s.Model, a).needStats(func(n *models.Need) bool { return n.Country == c.ISO })
	funding := fundingBy(s.Model, a, byCountry)
	v := s.view(c, stats[c.ISO], s.projectFigures(a)[c.ISO], funding[c.ISO])
	return &v, nil
}

func byCountry(n *models.Need) string { return n.Country }

// ReadinessPatch is the body of PATCH /countries/{iso}/readiness.
type ReadinessPatch struct {
	PoCNominated           *bool  `json:"poc_nominated"`
	NationalCERT           *bool  `json:"national_cert"`
	CERTMaturity           *int   `json:"cert_maturity"`
	LegalPositionPublished *bool  `json:"legal_position_published"`
	NationalStrategy       *bool  `json:"national_strategy"`
	Version                *int64 `json:"version"`
}

// PatchReadiness updates a country's readiness (its ministries, coordinators).
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
	if p.CERTMaturity != nil && (*p.CERTMaturity < 0 || *p.CERTMaturity > 4) {
		return nil, fieldErr("cert_maturity", models.ProblemRange, models.Args{"min": models.ArgInt(0), "max": models.ArgInt(4)})
	}
	var changed []string
	for attempt := 0; ; attempt++ {
		cur, ok := s.Model.Profile(iso)
		if !ok {
			cur = &models.CountryProfile{ISO: iso}
		}
		if want != nil && *want != cur.Version {
			return nil, models.Errorf(models.ErrConflict, "version %d is stale: the profile is at version %d; reload it", *want, cur.Version)
		}
		next := *cur
		changed = changed[:0]
		setB := func(name string, v *bool, dst *bool) {
			if v != nil {
				*dst = *v
				changed = append(changed, name)
			}
		}
		setB("poc_nominated", p.PoCNominated, &next.Readiness.PoCNominated)
		setB("national_cert", p.NationalCERT, &next.Readiness.NationalCERT)
		setB("legal_position_published", p.LegalPositionPublished, &next.Readiness.LegalPositionPublished)
		setB("national_strategy", p.NationalStrategy, &next.Readiness.NationalStrategy)
		if p.CERTMaturity != nil {
			next.Readiness.CERTMaturity = *p.CERTMaturity
			changed = append(changed, "cert_maturity")
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.Now().UTC()
		next.UpdatedBy = a.UserID
		err := s.Store.PutCountryProfile(ctx, &next, cur.Version)
		if err == nil {
			s.Model.PutProfile(&next)
			publish(ctx, s.Bus, s.Log, models.Event{Type: models.EventCountry, ID: iso, Version: next.Version, At: next.UpdatedAt, Data: mustJSON(&next)})
			break
		}
		if !errors.Is(err, models.ErrConflict) || want != nil || attempt >= 4 {
			return nil, err
		}
		if fresh, gerr := s.Store.GetCountryProfile(ctx, iso); gerr == nil {
			s.Model.PutProfile(fresh)
		}
	}
	audit(ctx, s.Store, s.Log, s.Now(), a, "update", "country", iso, changed)
	return s.Get(ctx, a, iso)
}
