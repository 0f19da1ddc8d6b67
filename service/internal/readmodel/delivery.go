package readmodel

import (
	"sort"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Engagements and projects are few compared with needs and offers (one per agreed match), so
// the model keeps them in maps and sorts on demand.

// PutEngagement inserts or replaces an engagement unless a newer version is held.
func (m *Model) PutEngagement(e *models.Engagement) bool {
	if e.Messages == nil {
		// An engagement stored without a thread (by a version that wrote none as null)
		// reads as one with an empty thread.
		e.Messages = []models.EngagementMessage{}
	}
	if !putNewer(m, &m.engagements, e.ID, e, e.Version, func(old *models.Engagement) int64 { return old.Version }) {
		return false
	}
	m.notify(Change{Kind: models.EventEngagement, Country: e.Country})
	return true
}

// Engagement returns an engagement by id.
func (m *Model) Engagement(id string) (*models.Engagement, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.engagements[id]
	return e, ok
}

// Engagements returns the engagements that keep returns true for, newest first.
func (m *Model) Engagements(keep func(*models.Engagement) bool) []*models.Engagement {
	return newestKept(m, &m.engagements, keep, func(e *models.Engagement) (time.Time, string) { return e.CreatedAt, e.ID })
}

// PutProject inserts or replaces a project unless a newer version is held.
func (m *Model) PutProject(p *models.Project) bool {
	if !putNewer(m, &m.projects, p.ID, p, p.Version, func(old *models.Project) int64 { return old.Version }) {
		return false
	}
	m.notify(Change{Kind: models.EventProject, Country: p.Country})
	return true
}

// Project returns a project by id.
func (m *Model) Project(id string) (*models.Project, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.projects[id]
	return p, ok
}

// Projects returns the projects that keep returns true for, newest first.
func (m *Model) Projects(keep func(*models.Project) bool) []*models.Project {
	return newestKept(m, &m.projects, keep, func(p *models.Project) (time.Time, string) { return p.CreatedAt, p.ID })
}

// putNewer stores v under id in the model's map *items unless a newer version is held there
// (the same rule for engagements and projects), and says whether it stored it.
func putNewer[T any](m *Model, items *map[string]T, id string, v T, version int64, versionOf func(T) int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *items == nil {
		*items = map[string]T{}
	}
	if old, ok := (*items)[id]; ok && versionOf(old) > version {
		return false
	}
	(*items)[id] = v
	m.gen++
	return true
}

// newestKept returns the items of the model's map *items that keep returns true for, newest first (by creation time, then
// id), read under the model's lock and sorted outside it.
func newestKept[T any](m *Model, items *map[string]T, keep func(T) bool, createdOf func(T) (time.Time, string)) []T {
	m.mu.RLock()
	out := make([]T, 0)
	for _, v := range *items {
		if keep(v) {
			out = append(out, v)
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		ti, idi := createdOf(out[i])
		tj, idj := createdOf(out[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return idi > idj
	})
	return out
}

// ReconcileDelivery brings engagements and projects in line with a full load from the store.
func (m *Model) ReconcileDelivery(engagements []*models.Engagement, projects []*models.Project) {
	for _, e := range engagements {
		if cur, ok := m.Engagement(e.ID); !ok || cur.Version < e.Version {
			m.PutEngagement(e)
		}
	}
	for _, p := range projects {
		if cur, ok := m.Project(p.ID); !ok || cur.Version < p.Version {
			m.PutProject(p)
		}
	}
}
