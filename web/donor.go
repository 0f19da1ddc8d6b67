package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// donorPage is the data of the donor workspace.
type donorPage struct {
	Items []*models.Offer
	Next  string
	// Counts per status, for the summary line.
	Draft, Open, Closed int
}

// DonorHome is the donor workspace: the organization's offers with their status, the slots
// and budget left, and the buttons to publish or close them.
func (u *UI) DonorHome() fiber.Handler {
	return u.handle(donorOnly, func(r *req) error {
		a := r.actor()
		items, next, err := u.app.Offers.List(r.c.UserContext(), a, service.OfferListParams{OrgID: a.OrgID,
			Cursor: r.c.Query("cursor"), Limit: listLimit})
		if err != nil {
			return err
		}
		p := &donorPage{Items: items}
		for _, o := range items {
			switch o.Status {
			case models.OfferDraft:
				p.Draft++
			case models.OfferOpen:
				p.Open++
			case models.OfferClosed:
				p.Closed++
			}
		}
		if next != "" {
			p.Next = string(queryURL("cursor", next))
		}
		return r.render(200, "donor", r.L.T("donor.title"), "donor", p)
	})
}

// offerFormPage is the data of the offer form.
type offerFormPage struct {
	F          *form
	Action     string
	Edit       bool
	Themes     []models.Theme
	Groups     []capGroup
	Modalities []models.Modality
	Langs      []string
	// TextLangs are the languages the text may be translated into (the six UN languages).
	TextLangs []string
	Regions   []*regionNode
}

func (u *UI) offerFormPage(r *req, f *form, action string, edit bool) *offerFormPage {
	defaultTextLang(r, f)
	return &offerFormPage{F: f, Action: action, Edit: edit, Themes: models.Themes, Groups: capGroups(),
		Modalities: models.Modalities, Langs: commonLangs, TextLangs: models.SupportedLangs, Regions: regionTree(r.L)}
}

// offerLabels names the offer form's fields for the error summary.
func offerLabels(L *Localizer) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"title", "description", "themes", "capabilities", "modalities", "languages", "eligible_regions",
		"eligible_countries", "budget_usd", "max_engagements", "available_from", "available_until", "contact_name", "contact_email"} {
		m[k] = L.T("offer.field." + k)
	}
	return m
}

// parseOfferForm turns the posted offer form into the service's input.
func parseOfferForm(L *Localizer, f *form) service.OfferInput {
	in := service.OfferInput{Title: f.Get("title"), Description: f.Get("description")}
	in.Lang, in.Translations, _ = translationsOf(f)
	for _, t := range f.All("themes") {
		in.Themes = append(in.Themes, models.Theme(t))
	}
	for _, c := range f.All("capabilities") {
		in.Capabilities = append(in.Capabilities, models.Capability(c))
	}
	for _, m := range f.All("modalities") {
		in.Modalities = append(in.Modalities, models.Modality(m))
	}
	in.Languages = languagesOf(f)
	in.EligibleRegions = dedupe(f.All("eligible_regions"))
	for _, c := range splitCodes(f.Get("eligible_countries")) {
		in.EligibleCountries = append(in.EligibleCountries, models.NormalizeISO(c))
	}
	in.EligibleCountries = dedupe(in.EligibleCountries)
	in.BudgetUSD = f.intField(L, "budget_usd", true)
	in.MaxEngagements = int(f.intField(L, "max_engagements", true))
	in.AvailableFrom = f.dateField(L, "available_from", true)
	in.AvailableUntil = f.dateField(L, "available_until", true)
	in.ContactName, in.ContactEmail = f.Get("contact_name"), f.Get("contact_email")
	return in
}

// checkOffer runs the domain's validation on what could be parsed (see checkNeed).
func checkOffer(in service.OfferInput) error {
	o := &models.Offer{Title: in.Title, Description: in.Description, Lang: in.Lang, Translations: in.Translations, Themes: in.Themes, Capabilities: in.Capabilities,
		Modalities: in.Modalities, Languages: append([]string(nil), in.Languages...),
		EligibleCountries: append([]string(nil), in.EligibleCountries...), EligibleRegions: append([]string(nil), in.EligibleRegions...),
		BudgetUSD: in.BudgetUSD, MaxEngagements: in.MaxEngagements, AvailableFrom: in.AvailableFrom, AvailableUntil: in.AvailableUntil,
		ContactName: in.ContactName, ContactEmail: in.ContactEmail}
	o.Normalize()
	return o.Validate()
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// NewOffer shows the form to post an offer.
func (u *UI) NewOffer() fiber.Handler {
	return u.handle(donorOnly, func(r *req) error {
		f := newForm()
		f.Values.Set("max_engagements", "1")
		return r.render(200, "offer_form", r.L.T("offerform.title"), "post_offer", u.offerFormPage(r, f, "/donor/offers", false))
	})
}

// CreateOffer stores a new offer as a draft, or publishes it at once ("publish").
func (u *UI) CreateOffer() fiber.Handler {
	return u.handle(donorOnly, func(r *req) error {
		f := postedForm(r.c)
		f.labels = addTranslationLabels(r.L, offerLabels(r.L))
		p := u.offerFormPage(r, f, "/donor/offers", false)
		in := parseOfferForm(r.L, f)
		if !f.OK() {
			f.addDomainErrors(r.L, checkOffer(in))
			return r.render(422, "offer_form", r.L.T("offerform.title"), "post_offer", p)
		}
		ctx := r.c.UserContext()
		o, err := u.app.Offers.Create(ctx, r.actor(), in)
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "offer_form", r.L.T("offerform.title"), "post_offer", p)
		}
		if err != nil {
			return err
		}
		flash := "offer_created"
		if f.Get("op") == "publish" {
			if _, err := u.app.Offers.Transition(ctx, r.actor(), o.ID, models.OfferPublish, ""); err != nil {
				return err
			}
			flash = "offer_published"
		}
		return r.redirect("/donor?" + url.Values{"ok": {flash}}.Encode() + "#offer-" + o.ID)
	})
}

// offerValues fills the form from a stored offer, for editing.
func offerValues(o *models.Offer) *form {
	f := newForm()
	v := f.Values
	v.Set("title", o.Title)
	v.Set("description", o.Description)
	for _, t := range o.Themes {
		v.Add("themes", string(t))
	}
	for _, c := range o.Capabilities {
		v.Add("capabilities", string(c))
	}
	for _, m := range o.Modalities {
		v.Add("modalities", string(m))
	}
	var other []string
	for _, l := range o.Languages {
		if has(commonLangs, l) {
			v.Add("languages", l)
		} else {
			other = append(other, l)
		}
	}
	v.Set("languages_other", strings.Join(other, ", "))
	for _, rg := range o.EligibleRegions {
		v.Add("eligible_regions", rg)
	}
	v.Set("eligible_countries", strings.Join(o.EligibleCountries, ", "))
	v.Set("budget_usd", strconv.FormatInt(o.BudgetUSD, 10))
	v.Set("max_engagements", strconv.Itoa(o.MaxEngagements))
	v.Set("available_from", string(o.AvailableFrom))
	v.Set("available_until", string(o.AvailableUntil))
	v.Set("contact_name", o.ContactName)
	v.Set("contact_email", o.ContactEmail)
	v.Set("version", strconv.FormatInt(o.Version, 10))
	setTranslationValues(f, o.Lang, o.Translations)
	return f
}

// EditOffer shows the form filled with an offer of the donor's organization.
func (u *UI) EditOffer() fiber.Handler {
	return u.handle(donorOnly, func(r *req) error {
		o, err := u.editableOffer(r, r.c.Params("id"))
		if err != nil {
			return err
		}
		p := u.offerFormPage(r, offerValues(o), "/donor/offers/"+o.ID+"/edit", true)
		return r.render(200, "offer_form", r.L.T("offerform.edit_title"), "donor", p)
	})
}

// editableOffer loads an offer the viewer may edit now: one they may see (else 404), may
// update (else 403) and that is not closed (else 409). The edit form and its POST check it
// before anything else.
func (u *UI) editableOffer(r *req, id string) (*models.Offer, error) {
	o, err := u.app.Offers.Get(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeOffer(r.actor(), models.ActUpdate, o); err != nil {
		return nil, err
	}
	if err := o.Editable(r.actor()); err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateOffer saves an edited offer, guarded by the version it was read at.
func (u *UI) UpdateOffer() fiber.Handler {
	return u.handle(donorOnly, func(r *req) error {
		id := r.c.Params("id")
		if _, err := u.editableOffer(r, id); err != nil {
			return err // another donor is refused whatever the form holds
		}
		f := postedForm(r.c)
		f.labels = addTranslationLabels(r.L, offerLabels(r.L))
		p := u.offerFormPage(r, f, "/donor/offers/"+id+"/edit", true)
		in := parseOfferForm(r.L, f)
		if !f.OK() {
			f.addDomainErrors(r.L, checkOffer(in))
			return r.render(422, "offer_form", r.L.T("offerform.edit_title"), "donor", p)
		}
		patch := service.OfferPatch{Title: &in.Title, Description: &in.Description, Themes: &in.Themes, Capabilities: &in.Capabilities,
			Modalities: &in.Modalities, Languages: &in.Languages, EligibleCountries: &in.EligibleCountries,
			EligibleRegions: &in.EligibleRegions, BudgetUSD: &in.BudgetUSD, MaxEngagements: &in.MaxEngagements,
			AvailableFrom: &in.AvailableFrom, AvailableUntil: &in.AvailableUntil, ContactName: &in.ContactName, ContactEmail: &in.ContactEmail}
		_, _, trPatch := translationsOf(f)
		patch.Lang, patch.Translations = &in.Lang, trPatch
		if v, err := strconv.ParseInt(f.Get("version"), 10, 64); err == nil {
			patch.Version = &v
		}
		_, err := u.app.Offers.Patch(r.c.UserContext(), r.actor(), id, patch, nil)
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "offer_form", r.L.T("offerform.edit_title"), "donor", p)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			return r.render(409, "offer_form", r.L.T("offerform.edit_title"), "donor", p)
		}
		if err != nil {
			return err
		}
		return r.redirect("/offers/" + id + "?ok=offer_updated")
	})
}

// offerTransitions are the lifecycle steps an offer's buttons may ask for.
var offerTransitions = map[string]struct {
	t     models.OfferTransition
	flash string
}{
	"publish": {models.OfferPublish, "offer_published"},
	"close":   {models.OfferClose, "offer_closed"},
}

// OfferTransition publishes or closes an offer from a button and returns to the page.
func (u *UI) OfferTransition() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		tr, ok := offerTransitions[r.c.Params("action")]
		if !ok {
			return models.Errorf(models.ErrNotFound, "no such action")
		}
		id := r.c.Params("id")
		f := postedForm(r.c)
		if tr.t == models.OfferClose && !confirmed(f) {
			return u.showConfirm(r, "offer", id, 200, f)
		}
		if tr.t == models.OfferClose {
			if done, err := u.missingReason(r, "offer", id, f); done {
				return err
			}
		}
		if _, err := u.app.Offers.Transition(r.c.UserContext(), r.actor(), id, tr.t, f.Get("reason")); err != nil {
			if tr.t == models.OfferClose {
				return u.confirmFailed(r, "offer", id, f, err)
			}
			return err
		}
		next := safeNext(f.Get("next"))
		if next == "" {
			next = "/offers/" + id
		}
		return r.redirect(withFlash(next, tr.flash))
	})
}
