package service

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/capmatch/capmatch/models"
)

// SourceInput is the body of POST /countries/{iso}/sources: a document or link about the
// country's cyber policy.
type SourceInput struct {
	Kind     models.SourceKind `json:"kind"`
	Title    string            `json:"title"`
	URL      string            `json:"url"`
	Date     models.Date       `json:"date"`
	Language string            `json:"language"`
}

// SourcePatch is the body of PATCH /countries/{iso}/sources/{id}: only the fields present
// change; version, when given, must be the source's version the client read.
type SourcePatch struct {
	Kind     *models.SourceKind `json:"kind"`
	Title    *string            `json:"title"`
	URL      *string            `json:"url"`
	Date     *models.Date       `json:"date"`
	Language *string            `json:"language"`
	Version  *int64             `json:"version"`
}

// sortSources orders a country's sources as its page shows them: by kind (strategy first), the
// newest document first within a kind, then by title.
func sortSources(items []models.CountrySource) []models.CountrySource {
	out := append([]models.CountrySource{}, items...)
	rank := map[models.SourceKind]int{}
	for i, k := range models.SourceKinds {
		rank[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Date != b.Date {
			return a.Date > b.Date
		}
		return a.Title < b.Title
	})
	return out
}

// sourcesCountry checks the country code and who may keep its sources.
func sourcesCountry(a *models.Actor, iso string) (string, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return "", models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	if err := models.AuthorizeCountrySources(a, iso); err != nil {
		return "", err
	}
	return iso, nil
}

// editSources is the read-modify-write loop of a country's sources: edit changes the list it is
// given (an error stops without writing), which is stored if no one changed the list meanwhile,
// and retried otherwise.
func (s *Countries) editSources(ctx context.Context, iso string, edit func(items []models.CountrySource) ([]models.CountrySource, error)) error {
	for attempt := 0; ; attempt++ {
		items, version, err := s.store.ListCountrySources(ctx, iso)
		if err != nil {
			return err
		}
		next, err := edit(append([]models.CountrySource{}, items...))
		if err != nil {
			return err
		}
		err = s.store.PutCountrySources(ctx, iso, next, version)
		if err == nil || !errors.Is(err, models.ErrConflict) || attempt >= 4 {
			return err
		}
	}
}

// AddSource adds a document or link to a country's profile (its ministries, coordinators).
func (s *Countries) AddSource(ctx context.Context, a *models.Actor, iso string, in SourceInput) (*models.CountrySource, error) {
	iso, err := sourcesCountry(a, iso)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	src := models.CountrySource{ID: models.NewID(now), Kind: in.Kind, Title: in.Title, URL: in.URL, Date: in.Date, Language: in.Language,
		AddedBy: a.UserID, AddedAt: now, UpdatedAt: now, Version: 1}
	src.Normalize()
	if err := src.Validate(); err != nil {
		return nil, err
	}
	err = s.editSources(ctx, iso, func(items []models.CountrySource) ([]models.CountrySource, error) {
		if len(items) >= models.MaxCountrySources {
			return nil, models.Errorf(models.ErrConflict, "a country keeps at most %d sources: delete one first", models.MaxCountrySources)
		}
		return append(items, src), nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, now, a, "create", "country_source", src.ID, nil)
	return &src, nil
}

// Source returns one of a country's sources (to everyone who may see the country).
func (s *Countries) Source(ctx context.Context, iso, id string) (*models.CountrySource, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) || !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "source not found")
	}
	items, _, err := s.store.ListCountrySources(ctx, iso)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].ID == id {
			return &items[i], nil
		}
	}
	return nil, models.Errorf(models.ErrNotFound, "source not found")
}

// PatchSource edits one of a country's sources; a stale version (body or If-Match) is
// ErrConflict.
func (s *Countries) PatchSource(ctx context.Context, a *models.Actor, iso, id string, p SourcePatch, ifMatch *int64) (*models.CountrySource, error) {
	iso, err := sourcesCountry(a, iso)
	if err != nil {
		return nil, err
	}
	want, err := pickVersion(p.Version, ifMatch)
	if err != nil {
		return nil, err
	}
	var out models.CountrySource
	var changed []string
	err = s.editSources(ctx, iso, func(items []models.CountrySource) ([]models.CountrySource, error) {
		i := indexSource(items, id)
		if i < 0 {
			return nil, models.Errorf(models.ErrNotFound, "source not found")
		}
		cur := items[i]
		if want != nil && *want != cur.Version {
			return nil, models.Errorf(models.ErrConflict, "version %d is stale: the source is at version %d; reload it", *want, cur.Version)
		}
		next := cur
		changed = changed[:0]
		set := func(name string, ok bool, apply func()) {
			if ok {
				apply()
				changed = append(changed, name)
			}
		}
		set("kind", p.Kind != nil, func() { next.Kind = *p.Kind })
		set("title", p.Title != nil, func() { next.Title = *p.Title })
		set("url", p.URL != nil, func() { next.URL = *p.URL })
		set("date", p.Date != nil, func() { next.Date = *p.Date })
		set("language", p.Language != nil, func() { next.Language = *p.Language })
		next.Normalize()
		if err := next.Validate(); err != nil {
			return nil, err
		}
		next.UpdatedBy, next.UpdatedAt, next.Version = a.UserID, s.now().UTC().Truncate(time.Millisecond), cur.Version+1
		items[i], out = next, next
		return items, nil
	})
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, s.now(), a, "update", "country_source", id, changed)
	return &out, nil
}

// DeleteSource removes one of a country's sources.
func (s *Countries) DeleteSource(ctx context.Context, a *models.Actor, iso, id string) error {
	iso, err := sourcesCountry(a, iso)
	if err != nil {
		return err
	}
	err = s.editSources(ctx, iso, func(items []models.CountrySource) ([]models.CountrySource, error) {
		i := indexSource(items, id)
		if i < 0 {
			return nil, models.Errorf(models.ErrNotFound, "source not found")
		}
		return append(items[:i], items[i+1:]...), nil
	})
	if err != nil {
		return err
	}
	audit(ctx, s.store, s.log, s.now(), a, "delete", "country_source", id, nil)
	return nil
}

func indexSource(items []models.CountrySource, id string) int {
	for i := range items {
		if items[i].ID == id {
			return i
		}
	}
	return -1
}
