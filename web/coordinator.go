package web

import (
	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// queuePage is the data of the coordinator workspace.
type queuePage struct {
	Items []*models.Need
	// Forms holds the reject form of a need whose rejection failed validation.
	Forms map[string]*form
	// Counts of needs and offers per status across the marketplace.
	NeedCounts  []statusTab
	OfferCounts []statusTab
	// Export is true when there are projects for the IATI download link (an IATI file needs
	// at least one activity).
	Export bool
}

// queueLimit bounds the approval queue shown at once; the needs waiting longest come first.
const queueLimit = 100

// CoordinatorHome is the coordinator workspace: the approval queue of submitted needs, each
// with approve and reject (with a reason) buttons, and the marketplace's figures by status.
func (u *UI) CoordinatorHome() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		return u.renderQueue(r, 200, nil)
	})
}

// FormFor returns the reject form of a need (with its error), or an empty one.
func (p *queuePage) FormFor(id string) *form {
	if f, ok := p.Forms[id]; ok {
		return f
	}
	return newForm()
}

func (u *UI) renderQueue(r *req, status int, forms map[string]*form) error {
	a := r.actor()
	if err := models.AuthorizeCurator(a); err != nil {
		return err
	}
	items, err := u.app.Needs.Queue(r.c.UserContext(), a, queueLimit)
	if err != nil {
		return err
	}
	p := &queuePage{Items: items, Forms: forms, Export: len(u.app.Projects.Visible(a, "", "", 0)) > 0}
	needs := u.app.Needs.StatusCounts(r.c.UserContext(), a, "")
	for _, st := range needStatuses {
		p.NeedCounts = append(p.NeedCounts, statusTab{Status: string(st), Count: needs[st]})
	}
	offers := u.app.Offers.StatusCounts(r.c.UserContext(), a)
	for _, st := range []models.OfferStatus{models.OfferDraft, models.OfferOpen, models.OfferClosed} {
		p.OfferCounts = append(p.OfferCounts, statusTab{Status: string(st), Count: offers[st]})
	}
	return r.renderPage(status, "coordinator", &Page{Title: r.L.T("queue.title"), Nav: "coordinator", Data: p, FlashInline: true})
}
