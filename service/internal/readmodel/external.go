package readmodel

import (
	"sort"

	"github.com/capmatch/capmatch/models"
)

// External activities (imported from IATI files) are kept by key. Of the rows of one key,
// the model keeps the one of the newest import batch it was given: batch ids sort by
// creation, so every replica keeps the same one whatever order it hears of them in.

// PutExternal keeps an activity unless the model holds its key from a newer batch.
func (m *Model) PutExternal(a *models.ExternalActivity) bool {
	m.mu.Lock()
	if m.external == nil {
		m.external = map[string]*models.ExternalActivity{}
	}
	if cur, ok := m.external[a.Key]; ok && cur.ImportBatch > a.ImportBatch {
		m.mu.Unlock()
		return false
	}
	m.external[a.Key] = a
	m.gen++
	m.mu.Unlock()
	return true
}

// ExternalActivity returns an external activity by key.
func (m *Model) ExternalActivity(key string) (*models.ExternalActivity, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.external[key]
	return a, ok
}

// ExternalActivities returns the external activities keep returns true for, by title then
// key. keep runs under the model's read lock and must not call the model.
func (m *Model) ExternalActivities(keep func(*models.ExternalActivity) bool) []*models.ExternalActivity {
	m.mu.RLock()
	out := make([]*models.ExternalActivity, 0)
	for _, a := range m.external {
		if keep == nil || keep(a) {
			out = append(out, a)
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Title != out[j].Title {
			return out[i].Title < out[j].Title
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// ReconcileExternal brings the external activities in line with the rows of the committed
// imports (of each key, the newest batch's row wins).
func (m *Model) ReconcileExternal(rows []*models.ExternalActivity, committed map[string]bool) {
	latest := map[string]*models.ExternalActivity{}
	for _, r := range rows {
		if !committed[r.ImportBatch] {
			continue
		}
		if cur, ok := latest[r.Key]; !ok || r.ImportBatch > cur.ImportBatch {
			latest[r.Key] = r
		}
	}
	m.mu.Lock()
	if m.external == nil {
		m.external = map[string]*models.ExternalActivity{}
	}
	for k, r := range latest {
		if cur, ok := m.external[k]; !ok || cur.ImportBatch <= r.ImportBatch {
			m.external[k] = r
		}
	}
	m.gen++
	m.mu.Unlock()
}
