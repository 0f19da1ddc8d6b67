package readmodel

import (
	"sort"

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
	m.mu.Lock()
	if m.engagements == nil {
		m.engagements = map[string]*models.Engagement{}
	}
	old, ok := m.engagements[e.ID]
	if ok && old.Version > e.Version {
		m.mu.Unlock()
		return false
	}
	m.engagements[e.ID] = e
	m.gen++
	m.mu.Unlock()
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
	m.mu.RLock()
	out := make([]*models.Engagement, 0)
	for _, e := range m.engagements {
		if keep(e) {
			out = append(out, e)
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}

// PutProject inserts or replaces a project unless a newer version is held.
func (m *Model) PutProject(p *models.Project) bool {
	m.mu.Lock()
	if m.projects == nil {
		m.projects = map[string]*models.Project{}
	}
	old, ok := m.projects[p.ID]
	if ok && old.Version > p.Version {
		m.mu.Unlock()
		return false
	}
	m.projects[p.ID] = p
	m.gen++
	m.mu.Unlock()
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
	m.mu.RLock()
	out := make([]*models.Project, 0)
	for _, p := range m.projects {
		if keep(p) {
			out = append(out, p)
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
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
