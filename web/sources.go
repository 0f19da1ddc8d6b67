package web

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// The forms that keep a country's sources (documents and links): add, edit, delete, for the
// country's ministries and coordinators. The sources themselves are shown on the country page.

// sourceFormPage is the data of the source form.
type sourceFormPage struct {
	ISO, Label string
	F          *form
	Action     string
	Edit       bool
	Kinds      []models.SourceKind
	Langs      []string
}

func sourceLabels(L *Localizer) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"kind", "title", "url", "date", "language"} {
		m[k] = L.T("source.field." + k)
	}
	return m
}

func (u *UI) sourceFormPage(r *req, iso string, f *form, action string, edit bool) *sourceFormPage {
	if f.Get("language") == "" {
		f.Values.Set("language", r.L.Lang)
	}
	return &sourceFormPage{ISO: iso, Label: r.L.Country(iso), F: f, Action: action, Edit: edit, Kinds: models.SourceKinds, Langs: commonLangs}
}

// sourceCountry checks the country and that the viewer may keep its sources.
func sourceCountry(r *req) (string, error) {
	iso := models.NormalizeISO(r.c.Params("iso"))
	if !models.ValidISO(iso) {
		return "", models.Errorf(models.ErrNotFound, "no such country")
	}
	return iso, models.AuthorizeCountrySources(r.actor(), iso)
}

// NewSource shows the empty source form.
func (u *UI) NewSource() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := sourceCountry(r)
		if err != nil {
			return err
		}
		p := u.sourceFormPage(r, iso, newForm(), "/countries/"+iso+"/sources", false)
		return r.render(200, "source_form", r.L.T("sourceform.title_new", p.Label), "countries", p)
	})
}

func sourceInputOf(f *form) service.SourceInput {
	return service.SourceInput{Kind: models.SourceKind(f.Get("kind")), Title: f.Get("title"), URL: f.Get("url"),
		Date: models.Date(f.Get("date")), Language: f.Get("language")}
}

// CreateSource adds a source and goes back to the country page.
func (u *UI) CreateSource() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := sourceCountry(r)
		if err != nil {
			return err
		}
		f := postedForm(r.c)
		f.labels = sourceLabels(r.L)
		_, err = u.app.Countries.AddSource(r.c.UserContext(), r.actor(), iso, sourceInputOf(f))
		if f.addDomainErrors(r.L, err) {
			p := u.sourceFormPage(r, iso, f, "/countries/"+iso+"/sources", false)
			return r.render(422, "source_form", r.L.T("sourceform.title_new", p.Label), "countries", p)
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + url.PathEscape(iso) + "?ok=source_added#sources")
	})
}

// EditSource shows the form filled with a source.
func (u *UI) EditSource() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := sourceCountry(r)
		if err != nil {
			return err
		}
		s, err := u.app.Countries.Source(r.c.UserContext(), iso, r.c.Params("id"))
		if err != nil {
			return err
		}
		f := newForm()
		f.Values.Set("kind", string(s.Kind))
		f.Values.Set("title", s.Title)
		f.Values.Set("url", s.URL)
		f.Values.Set("date", string(s.Date))
		f.Values.Set("language", s.Language)
		f.Values.Set("version", strconv.FormatInt(s.Version, 10))
		p := u.sourceFormPage(r, iso, f, "/countries/"+iso+"/sources/"+s.ID+"/edit", true)
		return r.render(200, "source_form", r.L.T("sourceform.title_edit", p.Label), "countries", p)
	})
}

// UpdateSource saves an edited source, guarded by the version the form was read at.
func (u *UI) UpdateSource() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := sourceCountry(r)
		if err != nil {
			return err
		}
		id := r.c.Params("id")
		f := postedForm(r.c)
		f.labels = sourceLabels(r.L)
		in := sourceInputOf(f)
		patch := service.SourcePatch{Kind: &in.Kind, Title: &in.Title, URL: &in.URL, Date: &in.Date, Language: &in.Language}
		if v, err := strconv.ParseInt(f.Get("version"), 10, 64); err == nil {
			patch.Version = &v
		}
		render := func(status int) error {
			p := u.sourceFormPage(r, iso, f, "/countries/"+iso+"/sources/"+url.PathEscape(id)+"/edit", true)
			return r.render(status, "source_form", r.L.T("sourceform.title_edit", p.Label), "countries", p)
		}
		_, err = u.app.Countries.PatchSource(r.c.UserContext(), r.actor(), iso, id, patch, nil)
		if f.addDomainErrors(r.L, err) {
			return render(422)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			if s, gerr := u.app.Countries.Source(r.c.UserContext(), iso, id); gerr == nil {
				f.Values.Set("version", strconv.FormatInt(s.Version, 10))
			}
			return render(409)
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + url.PathEscape(iso) + "?ok=source_updated#sources")
	})
}

// DeleteSource removes a source.
func (u *UI) DeleteSource() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		iso, err := sourceCountry(r)
		if err != nil {
			return err
		}
		if err := u.app.Countries.DeleteSource(r.c.UserContext(), r.actor(), iso, r.c.Params("id")); err != nil {
			return err
		}
		return r.redirect("/countries/" + url.PathEscape(iso) + "?ok=source_deleted#sources")
	})
}
