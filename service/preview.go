package service

import (
	"context"
	"sort"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// The weights preview's size: how many open needs it shows in detail, how many offers of each,
// and how many needs it checks for a changed best offer.
const (
	PreviewNeeds = 6
	PreviewTop   = 3
	PreviewScan  = 2000
)

// WeightsPreview shows how rankings would change under proposed weights: a few needs in detail
// and, over the open needs scanned, how many would get a different best offer.
type WeightsPreview struct {
	Rows       []PreviewRow
	Scanned    int
	TopChanged int
}

// PreviewRow is one need's top offers under the weights in force and the proposed ones.
type PreviewRow struct {
	Need          *models.Need
	Before, After []PreviewItem
}

// PreviewItem is one offer of a top list; Move is how many places it rose (negative: fell) and
// New marks an offer that was not in the top list before.
type PreviewItem struct {
	Rank  int
	ID    string
	Title string
	Score float64
	Band  Band
	Move  int
	New   bool
}

// PreviewWeights ranks open needs' offers under the weights in force and under proposed ones
// (coordinators), highest priority and newest needs first. Nothing is cached or saved: it is
// read-only, with the same deliveries under way as the live rankings.
func (m *Matching) PreviewWeights(ctx context.Context, a *models.Actor, proposed Weights) (*WeightsPreview, error) {
	if err := models.AuthorizeCurator(a); err != nil {
		return nil, err
	}
	if err := proposed.Validate(); err != nil {
		return nil, err
	}
	cur := m.Weights()
	c := m.context(models.DateOf(m.now()))
	open := systemView(m.model).allNeeds(func(n *models.Need) bool { return n.Status == models.NeedOpen })
	sort.SliceStable(open, func(i, j int) bool {
		pi, pj := readmodel.PriorityRank(open[i].Priority), readmodel.PriorityRank(open[j].Priority)
		if pi != pj {
			return pi < pj
		}
		return open[i].CreatedAt.After(open[j].CreatedAt)
	})
	title := func(id string) string {
		if o, ok := m.model.Offer(id); ok {
			return o.Title
		}
		return id
	}
	item := func(k int, x matching.Match) PreviewItem {
		return PreviewItem{Rank: k + 1, ID: x.OfferID, Title: title(x.OfferID), Score: x.Score, Band: x.Band}
	}
	pv := &WeightsPreview{}
	for i, n := range open {
		if i >= PreviewScan {
			break
		}
		before := m.ix.TopOffersForNeed(n.ID, PreviewTop, cur, c)
		after := m.ix.TopOffersForNeed(n.ID, PreviewTop, proposed, c)
		pv.Scanned++
		if len(before) > 0 && len(after) > 0 && before[0].OfferID != after[0].OfferID {
			pv.TopChanged++
		}
		if len(pv.Rows) >= PreviewNeeds || len(before)+len(after) == 0 {
			continue
		}
		row := PreviewRow{Need: n}
		oldRank := map[string]int{}
		for k, x := range before {
			oldRank[x.OfferID] = k + 1
			row.Before = append(row.Before, item(k, x))
		}
		for k, x := range after {
			it := item(k, x)
			if old, ok := oldRank[x.OfferID]; ok {
				it.Move = old - (k + 1)
			} else {
				it.New = true
			}
			row.After = append(row.After, it)
		}
		pv.Rows = append(pv.Rows, row)
	}
	return pv, nil
}
