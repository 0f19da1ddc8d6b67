package web

import (
	"errors"
	"net/url"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// Withdrawing a need, closing an offer and cancelling an engagement end other people's
// engagements, so the UI asks first: a confirmation page (it works without JavaScript) says
// what will be withdrawn, cancelled, kept and released, and asks for a reason, which the other
// sides read. The plan comes from the service (models.PlanNeedEnd, models.PlanOfferClose): the
// page shows exactly what the action will do. A form posted without the confirmation shows
// the page instead of acting.

// confirmRow is one engagement the action touches.
type confirmRow struct {
	ID, Label string
	BudgetUSD int64
}

// confirmPage is the data of a confirmation page.
type confirmPage struct {
	Heading, Title, Submit string
	// Action is where the confirmed form posts; Back where "keep it" goes; Next where the
	// action returns to.
	Action, Back, Next      string
	Withdraw, Cancel, Keep  []confirmRow
	Released                string
	NeedOpens, ReasonNeeded bool
	F                       *form
}

// Nothing reports whether the action touches no engagement.
func (p *confirmPage) Nothing() bool { return len(p.Withdraw)+len(p.Cancel)+len(p.Keep) == 0 }

// rows describes engagements by what the viewer may know of them: the offer's title (offers
// are public) or the need's country and capability (the need may be hidden from the viewer).
func (u *UI) confirmRows(r *req, list []*models.Engagement, byOffer bool) []confirmRow {
	out := make([]confirmRow, 0, len(list))
	for _, e := range list {
		row := confirmRow{ID: e.ID, BudgetUSD: e.BudgetUSD,
			Label: r.L.Country(e.Country) + " · " + r.L.Label(models.KindCapability, e.Capability)}
		if o := u.offerFor(r, e.OfferID); o != nil && byOffer {
			row.Label = o.Title
		}
		out = append(out, row)
	}
	return out
}

func (u *UI) planPage(r *req, plan models.CascadePlan, byOffer bool, f *form) *confirmPage {
	p := &confirmPage{Withdraw: u.confirmRows(r, plan.Withdraw, byOffer), Cancel: u.confirmRows(r, plan.Cancel, byOffer),
		Keep: u.confirmRows(r, plan.Keep, byOffer), F: f, ReasonNeeded: len(plan.Withdraw)+len(plan.Cancel) > 0}
	if len(plan.Cancel) > 0 {
		p.Released = r.L.T("confirm.released", r.L.Money(plan.ReleasedBudget()), r.L.N("confirm.slots", len(plan.Cancel)))
	}
	f.labels = map[string]string{"reason": r.L.T("confirm.reason")}
	return p
}

// confirmNeedWithdraw builds the confirmation of a need's withdrawal.
func (u *UI) confirmNeedWithdraw(r *req, id string, f *form) (*confirmPage, error) {
	n, plan, err := u.app.Needs.PlanEnd(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil, err
	}
	p := u.planPage(r, plan, true, f)
	p.Heading, p.Title, p.Submit = r.L.T("confirm.withdraw_need"), n.Title, r.L.T("confirm.go_withdraw")
	p.Action, p.Back = "/needs/"+url.PathEscape(n.ID)+"/withdraw", "/needs/"+url.PathEscape(n.ID)
	return p, nil
}

// confirmOfferClose builds the confirmation of an offer's closing.
func (u *UI) confirmOfferClose(r *req, id string, f *form) (*confirmPage, error) {
	o, plan, err := u.app.Offers.PlanClose(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil, err
	}
	p := u.planPage(r, plan, false, f)
	p.Heading, p.Title, p.Submit = r.L.T("confirm.close_offer"), o.Title, r.L.T("confirm.go_close")
	p.Action, p.Back = "/offers/"+url.PathEscape(o.ID)+"/close", "/offers/"+url.PathEscape(o.ID)
	return p, nil
}

// confirmEngagementCancel builds the confirmation of an agreed engagement's cancellation.
func (u *UI) confirmEngagementCancel(r *req, id string, f *form) (*confirmPage, error) {
	e, err := u.app.Engagements.PlanCancel(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil, err
	}
	p := u.planPage(r, models.CascadePlan{Cancel: []*models.Engagement{e}}, true, f)
	p.Heading, p.Submit, p.NeedOpens = r.L.T("confirm.cancel_engagement"), r.L.T("confirm.go_cancel"), true
	p.Title = p.Cancel[0].Label
	p.Action, p.Back = "/engagements/"+url.PathEscape(e.ID)+"/cancel", "/engagements/"+url.PathEscape(e.ID)
	return p, nil
}

// confirmations are the actions that ask first, by their path: the page that describes them.
var confirmations = map[string]func(u *UI, r *req, id string, f *form) (*confirmPage, error){
	"need":       (*UI).confirmNeedWithdraw,
	"offer":      (*UI).confirmOfferClose,
	"engagement": (*UI).confirmEngagementCancel,
}

// showConfirm renders the confirmation page of kind for the object id.
func (u *UI) showConfirm(r *req, kind, id string, status int, f *form) error {
	p, err := confirmations[kind](u, r, id, f)
	if err != nil {
		return err
	}
	p.Next = safeNext(f.Get("next"))
	return r.render(status, "confirm", p.Heading, map[string]string{"need": "needs", "offer": "offers", "engagement": "engagements"}[kind], p)
}

// ConfirmWithdrawNeed asks before withdrawing a need (GET /needs/:id/withdraw).
func (u *UI) ConfirmWithdrawNeed() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		return u.showConfirm(r, "need", r.c.Params("id"), 200, queryForm(r))
	})
}

// ConfirmCloseOffer asks before closing an offer (GET /offers/:id/close).
func (u *UI) ConfirmCloseOffer() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		return u.showConfirm(r, "offer", r.c.Params("id"), 200, queryForm(r))
	})
}

// ConfirmCancelEngagement asks before cancelling an agreed engagement (GET
// /engagements/:id/cancel).
func (u *UI) ConfirmCancelEngagement() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		return u.showConfirm(r, "engagement", r.c.Params("id"), 200, queryForm(r))
	})
}

// queryForm carries the page's "next" from the query string into the confirmation form.
func queryForm(r *req) *form {
	f := newForm()
	if next := safeNext(r.c.Query("next")); next != "" {
		f.Values.Set("next", next)
	}
	return f
}

// confirmed reports whether a posted form is the confirmation page's. A form without it (an
// old page, a hand-made request) gets the confirmation page instead of the action.
func confirmed(f *form) bool { return f.Get("confirm") == "yes" }

// missingReason re-shows the confirmation page with "required" next to the reason when the
// action ends other parties' engagements and no reason was given: the web asks for one, so that
// the other sides are told why (the API takes the reason as optional, as its contract's bare
// transitions always did). It reports whether it answered.
func (u *UI) missingReason(r *req, kind, id string, f *form) (bool, error) {
	if strings.TrimSpace(f.Get("reason")) != "" {
		return false, nil
	}
	p, err := confirmations[kind](u, r, id, f)
	if err != nil {
		return true, err
	}
	if !p.ReasonNeeded {
		return false, nil
	}
	f.Add("reason", r.L.Problem(models.ProblemRequired, nil))
	p.Next = safeNext(f.Get("next"))
	return true, r.render(422, "confirm", p.Heading, "", p)
}

// confirmFailed shows the confirmation page again with a validation error (a missing reason)
// next to its field; other errors go to the error page.
func (u *UI) confirmFailed(r *req, kind, id string, f *form, err error) error {
	if errors.Is(err, models.ErrInvalid) {
		p, perr := confirmations[kind](u, r, id, f)
		if perr != nil {
			return perr
		}
		f.addDomainErrors(r.L, err)
		p.Next = safeNext(f.Get("next"))
		return r.render(422, "confirm", p.Heading, "", p)
	}
	return err
}
