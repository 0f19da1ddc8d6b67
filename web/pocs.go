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

// Points of Contact and communication checks in the browser: the PoC form of a country's
// ministries (and coordinators), the coordinators' checks and outbox, and the acknowledgement
// page a contact opens from the e-mail (no sign-in). The contacts are personal data: the pages
// show them only to those the policy allows (service.PoCs answers 404 to anyone else).

// pocFormPage is the data of the PoC form.
type pocFormPage struct {
	ISO, Label string
	F          *form
	Action     string
	Edit       bool
	ID         string
	Langs      []string
}

func pocLabels(L *Localizer) map[string]string {
	return map[string]string{"kind": L.T("poc.field.kind"), "name": L.T("poc.field.name"), "role": L.T("poc.field.role"),
		"organization": L.T("poc.field.organization"), "email": L.T("poc.field.email"), "phone": L.T("poc.field.phone"),
		"languages": L.T("poc.field.languages")}
}

// pocField maps the domain's field names (languages[1]) to the form's.
func pocField(f string) string {
	if i := strings.IndexByte(f, '['); i > 0 {
		return f[:i]
	}
	return f
}

// keepPoCs checks that the viewer keeps the country's contacts: 404 for whoever may not see
// them, 403 for a PoC of another state (it sees, but does not keep, them).
func (u *UI) keepPoCs(r *req, iso string) (string, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return "", models.Errorf(models.ErrNotFound, "no such country")
	}
	see, keep := u.app.PoCs.Access(r.c.UserContext(), r.actor(), iso)
	switch {
	case !see:
		return "", models.Errorf(models.ErrNotFound, "points of contact not found")
	case !keep:
		return "", models.Errorf(models.ErrForbidden, "only the state's ministries and coordinators keep its Points of Contact")
	}
	return iso, nil
}

func (u *UI) renderPoCForm(r *req, status int, p *pocFormPage) error {
	p.Label, p.Langs = r.L.Country(p.ISO), commonLangs
	title := r.L.T("poc.new_title", p.Label)
	if p.Edit {
		title = r.L.T("poc.edit_title", p.Label)
	}
	return r.render(status, "poc_form", title, "countries", p)
}

// pocValues fills the form from a stored contact.
func pocValues(p *models.PoC) *form {
	f := newForm()
	v := f.Values
	v.Set("kind", string(p.Kind))
	v.Set("name", p.Name)
	v.Set("role", p.Role)
	v.Set("organization", p.Organization)
	v.Set("email", p.Email)
	v.Set("phone", p.Phone)
	var other []string
	for _, l := range p.Languages {
		if has(commonLangs, l) {
			v.Add("languages", l)
		} else {
			other = append(other, l)
		}
	}
	v.Set("languages_other", strings.Join(other, ", "))
	v.Set("version", strconv.FormatInt(p.Version, 10))
	return f
}

func pocInput(f *form) models.PoCInput {
	return models.PoCInput{Kind: models.PoCKind(f.Get("kind")), Name: f.Get("name"), Role: f.Get("role"),
		Organization: f.Get("organization"), Email: f.Get("email"), Phone: f.Get("phone"), Languages: languagesOf(f)}
}

// NewPoC shows the form to add a Point of Contact.
func (u *UI) NewPoC() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := u.keepPoCs(r, r.c.Params("iso"))
		if err != nil {
			return err
		}
		return u.renderPoCForm(r, 200, &pocFormPage{ISO: iso, F: newForm(), Action: "/countries/" + iso + "/pocs"})
	})
}

// CreatePoC adds a Point of Contact and returns to the country's profile.
func (u *UI) CreatePoC() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := u.keepPoCs(r, r.c.Params("iso"))
		if err != nil {
			return err
		}
		f := postedForm(r.c)
		f.labels = pocLabels(r.L)
		_, err = u.app.PoCs.Create(r.c.UserContext(), r.actor(), iso, pocInput(f))
		if f.addDomainErrorsAs(r.L, err, pocField) {
			return u.renderPoCForm(r, 422, &pocFormPage{ISO: iso, F: f, Action: "/countries/" + iso + "/pocs"})
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + iso + "?ok=poc_saved#pocs")
	})
}

// EditPoC shows the form filled with a contact.
func (u *UI) EditPoC() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := u.keepPoCs(r, r.c.Params("iso"))
		if err != nil {
			return err
		}
		p, err := u.app.PoCs.Get(r.c.UserContext(), r.actor(), iso, r.c.Params("id"))
		if err != nil {
			return err
		}
		return u.renderPoCForm(r, 200, &pocFormPage{ISO: iso, F: pocValues(p), Edit: true, ID: p.ID,
			Action: "/countries/" + iso + "/pocs/" + url.PathEscape(p.ID) + "/edit"})
	})
}

// UpdatePoC saves the form, guarded by the version it was read at.
func (u *UI) UpdatePoC() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := u.keepPoCs(r, r.c.Params("iso"))
		if err != nil {
			return err
		}
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = pocLabels(r.L)
		in := pocInput(f)
		patch := service.PoCPatch{Kind: &in.Kind, Name: &in.Name, Role: &in.Role, Organization: &in.Organization, Email: &in.Email,
			Phone: &in.Phone, Languages: &in.Languages}
		if v, err := strconv.ParseInt(f.Get("version"), 10, 64); err == nil {
			patch.Version = &v
		}
		page := &pocFormPage{ISO: iso, F: f, Edit: true, ID: id, Action: "/countries/" + iso + "/pocs/" + url.PathEscape(id) + "/edit"}
		_, err = u.app.PoCs.Update(r.c.UserContext(), r.actor(), iso, id, patch, nil)
		if f.addDomainErrorsAs(r.L, err, pocField) {
			return u.renderPoCForm(r, 422, page)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			if cur, gerr := u.app.PoCs.Get(r.c.UserContext(), r.actor(), iso, id); gerr == nil {
				f.Values.Set("version", strconv.FormatInt(cur.Version, 10))
			}
			return u.renderPoCForm(r, 409, page)
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + iso + "?ok=poc_saved#pocs")
	})
}

// DeletePoC removes a contact.
func (u *UI) DeletePoC() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := u.keepPoCs(r, r.c.Params("iso"))
		if err != nil {
			return err
		}
		if err := u.app.PoCs.Delete(r.c.UserContext(), r.actor(), iso, r.c.Params("id")); err != nil {
			return err
		}
		return r.redirect("/countries/" + iso + "?ok=poc_deleted#pocs")
	})
}

// checksPage is the data of the coordinators' communication checks page.
type checksPage struct {
	Checks    []*service.PoCCheckView
	Regions   []option
	Nominated []option
	F         *form
	Mode      string
}

func (u *UI) renderChecks(r *req, status int, f *form) error {
	ctx := r.c.UserContext()
	checks, err := u.app.PoCChecks.List(ctx, r.actor())
	if err != nil {
		return err
	}
	p := &checksPage{Checks: checks, F: f, Mode: u.app.Mailer.Mode()}
	p.Regions = append(p.Regions, option{Value: "001", Label: r.L.T("checks.world")})
	var regions []option
	for _, reg := range models.Regions() {
		if reg.Level == "region" || reg.Level == "sub_region" {
			regions = append(regions, option{Value: reg.Code, Label: r.L.Label(models.KindRegion, reg.Code)})
		}
	}
	sortByName(r.L, regions, func(o option) string { return o.Label })
	p.Regions = append(p.Regions, regions...)
	var isos []string
	for _, cv := range u.app.Countries.List(ctx, r.actor()) {
		if cv.Readiness.PoCNominated {
			isos = append(isos, cv.ISO)
		}
	}
	p.Nominated = countryOptions(r.L, isos)
	return r.render(status, "poc_checks", r.L.T("checks.title"), "poc_checks", p)
}

// PoCChecks lists the communication checks and offers to run one (coordinators).
func (u *UI) PoCChecks() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		f := newForm()
		f.Values.Set("scope", "region")
		return u.renderChecks(r, 200, f)
	})
}

// RunPoCCheck runs a check on a region or on the ticked countries.
func (u *UI) RunPoCCheck() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		f := postedForm(r.c)
		f.labels = map[string]string{"region": r.L.T("checks.region"), "countries": r.L.T("checks.countries")}
		in := service.PoCCheckInput{}
		if f.Get("scope") == "countries" {
			in.Countries = f.All("countries")
		} else {
			in.Region = f.Get("region")
		}
		v, err := u.app.PoCChecks.Run(r.c.UserContext(), r.actor(), in)
		if f.addDomainErrorsAs(r.L, err, pocField) {
			return u.renderChecks(r, 422, f)
		}
		if err != nil {
			return err
		}
		return r.redirect("/coordinator/poc-checks/" + url.PathEscape(v.ID) + "?ok=check_started")
	})
}

// checkPage is the data of one check's results.
type checkPage struct {
	C *service.PoCCheckView
}

// PoCCheck shows a check's results per country and contact (coordinators).
func (u *UI) PoCCheck() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		v, err := u.app.PoCChecks.Get(r.c.UserContext(), r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		return r.render(200, "poc_check", r.L.T("check.title", r.L.Date(v.CreatedAt)), "poc_checks", &checkPage{C: v})
	})
}

// ClosePoCCheck ends a check now.
func (u *UI) ClosePoCCheck() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		v, err := u.app.PoCChecks.Close(r.c.UserContext(), r.actor(), r.c.Params("id"))
		if err != nil {
			return err
		}
		return r.redirect("/coordinator/poc-checks/" + url.PathEscape(v.ID) + "?ok=check_closed")
	})
}

// Outbox shows the e-mails kept while no SMTP server is configured (coordinators).
func (u *UI) Outbox() fiber.Handler {
	return u.handle(curatorOnly, func(r *req) error {
		v, err := u.app.PoCChecks.Outbox(r.c.UserContext(), r.actor(), 100)
		if err != nil {
			return err
		}
		p := &outboxPage{Mode: v.Mode}
		for _, m := range v.Items {
			row := outboxRow{MailMessage: m}
			if i := strings.Index(m.Text, "/ack/"); i >= 0 {
				row.Link = strings.Fields(m.Text[i:])[0]
			}
			p.Items = append(p.Items, row)
		}
		return r.render(200, "outbox", r.L.T("outbox.title"), "poc_checks", p)
	})
}

// outboxPage is the data of the outbox page: each message with its acknowledgement link as a
// path on this site, so that it opens here whatever CAPMATCH_PUBLIC_URL says.
type outboxPage struct {
	Mode  string
	Items []outboxRow
}

type outboxRow struct {
	*models.MailMessage
	Link string
}

// ackPage is the data of the acknowledgement page.
type ackPage struct {
	Info *service.AckInfo
	Path string
}

func (u *UI) renderAck(r *req, info *service.AckInfo) error {
	// The page's address is a capability: never let it leave in a Referer, never index it.
	r.c.Set("Referrer-Policy", "no-referrer")
	r.c.Set("X-Robots-Tag", "noindex, nofollow")
	return r.render(200, "ack", r.L.T("ack.title"), "", &ackPage{Info: info, Path: "/ack/" + r.c.Params("token")})
}

// AckPage is what the e-mail's link opens: a confirmation page, without sign-in. It changes
// nothing (mail scanners fetch links); its button sends the POST that acknowledges.
func (u *UI) AckPage() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		info, err := u.app.PoCChecks.LinkInfo(r.c.UserContext(), r.c.Params("token"))
		if err != nil {
			return err
		}
		return u.renderAck(r, info)
	})
}

// Acknowledge records the acknowledgement (once) and says so.
func (u *UI) Acknowledge() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		info, err := u.app.PoCChecks.Acknowledge(r.c.UserContext(), r.c.Params("token"))
		if err != nil {
			return err
		}
		return u.renderAck(r, info)
	})
}
