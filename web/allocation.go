package web

import (
	"sort"

	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// allocationRow is one proposed pairing: an open offer and the open need it should serve.
type allocationRow struct {
	OfferID, OfferTitle, OfferOrg string
	NeedID, NeedTitle, Country    string
	Score                         float64
	Band                          service.Band
}

// allocationPage is the data of the allocation proposal.
type allocationPage struct {
	Rows  []allocationRow
	Total float64
	// WeightsVersion is the version of the weights the proposal was scored with.
	WeightsVersion int64
}

// Allocation shows the matching service's allocation proposal (coordinators): which open need
// each open offer should serve, at most one offer per need, within each offer's slots and
// budget, maximising the total score. Best pairings first; each links to its offer and need.
func (u *UI) Allocation() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		ctx := r.c.UserContext()
		items, err := u.app.Matching.Allocation(ctx, r.actor())
		if err != nil {
			return err
		}
		p := &allocationPage{WeightsVersion: u.app.Matching.Weights().Version}
		for _, m := range items {
			row := allocationRow{OfferID: m.OfferID, OfferTitle: m.OfferID, NeedID: m.NeedID, NeedTitle: m.NeedID, Score: m.Score, Band: m.Band}
			if o := u.offerFor(r, m.OfferID); o != nil {
				row.OfferTitle, row.OfferOrg = o.Title, u.orgName(ctx, o.OrganizationID)
			}
			if n := u.needFor(r, m.NeedID); n != nil {
				row.NeedTitle, row.Country = n.Title, n.Country
			}
			p.Rows = append(p.Rows, row)
			p.Total += m.Score
		}
		sort.SliceStable(p.Rows, func(i, j int) bool { return p.Rows[i].Score > p.Rows[j].Score })
		return r.render(200, "allocation", r.L.T("allocation.title"), "allocation", p)
	})
}
