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

// commonLangs are the languages offered as checkboxes on the need and offer forms: the UN's
// six official languages and Portuguese, which cover most requests; others are typed as
// ISO 639-1 codes.
var commonLangs = []string{"en", "fr", "es", "ar", "pt", "ru", "zh"}

// ministryPage is the data of the ministry workspace.
type ministryPage struct {
	Country   string
	Status    string
	Statuses  []statusTab
	Items     []*models.Need
	Next      string
	Readiness *service.CountryView
}

// statusTab is one status filter with its count.
type statusTab struct {
	Status string
	Count  int
}

// MinistryHome is the ministry workspace: the country's needs with their status, the actions
// each allows, and the country's readiness at a glance.
func (u *UI) MinistryHome() fiber.Handler {
	return u.handle(ministryOnly, func(r *req) error {
		a := r.actor()
		ctx := r.c.UserContext()
		p := &ministryPage{Country: a.Country, Status: r.c.Query("status")}
		if !validNeedStatus(p.Status) {
			p.Status = ""
		}
		counts := u.app.Needs.StatusCounts(ctx, a, a.Country)
		total := 0
		for _, c := range counts {
			total += c
		}
		p.Statuses = append(p.Statuses, statusTab{Status: "", Count: total})
		for _, st := range needStatuses {
			if counts[st] > 0 || string(st) == p.Status {
				p.Statuses = append(p.Statuses, statusTab{Status: string(st), Count: counts[st]})
			}
		}
		items, next, err := u.app.Needs.List(ctx, a, service.NeedListParams{Country: a.Country, Status: p.Status,
			Cursor: r.c.Query("cursor"), Limit: listLimit})
		if err != nil {
			return err
		}
		p.Items = items
		if next != "" {
			p.Next = string(queryURL("status", p.Status, "cursor", next))
		}
		if cv, err := u.app.Countries.Get(ctx, a, a.Country); err == nil {
			p.Readiness = cv
		}
		return r.render(200, "ministry", r.L.T("ministry.title", r.L.Country(a.Country)), "ministry", p)
	})
}

// needFormPage is the data of the guided need form.
type needFormPage struct {
	F       *form
	Action  string
	Edit    bool
	Country string
	// Step is how far the guide has got: 1 theme, 2 capability, 3 the rest.
	Step         int
	Themes       []models.Theme
	Capabilities []models.Capability
	Frameworks   []models.MaturityFramework
	Stages       []int
	Modalities   []models.Modality
	Priorities   []models.Priority
	Visibilities []models.Visibility
	Langs        []string
	// TextLangs are the languages the text may be translated into (the six UN languages).
	TextLangs []string
	// DefaultOp is what pressing Enter in a field does: continue the guide, or save.
	DefaultOp string
}

func (u *UI) needFormPage(r *req, f *form, action string, edit bool) *needFormPage {
	p := &needFormPage{F: f, Action: action, Edit: edit, Country: r.actor().Country, Step: 1, Themes: models.Themes,
		Frameworks: models.MaturityFrameworks, Modalities: models.Modalities, Priorities: models.Priorities,
		Visibilities: models.Visibilities, Langs: commonLangs, TextLangs: models.SupportedLangs, DefaultOp: "refresh"}
	defaultTextLang(r, f)
	theme := models.Theme(f.Get("theme"))
	if theme.Valid() {
		p.Step = 2
		p.Capabilities = models.ThemeCapabilities(theme)
		if t, ok := models.CapabilityTheme(models.Capability(f.Get("capability"))); ok && t == theme {
			p.Step = 3
			p.DefaultOp = "save"
		} else {
			f.Values.Del("capability")
		}
	} else {
		f.Values.Del("theme")
		f.Values.Del("capability")
	}
	if p.Step == 3 && f.Get("maturity.framework") == "" {
		fw := models.FrameworkCMM
		if c := f.Get("capability"); c == string(models.CapCERTSetup) || c == string(models.CapCERTMaturity) {
			fw = models.FrameworkSIM3
		}
		f.Values.Set("maturity.framework", string(fw))
	}
	fw := models.MaturityFramework(f.Get("maturity.framework"))
	lo, hi := fw.StageRange()
	p.Stages = seq(lo, hi)
	if f.Get("visibility") == "" && p.Step == 3 {
		f.Values.Set("visibility", string(models.DefaultVisibility(models.Capability(f.Get("capability")))))
	}
	if f.Get("priority") == "" {
		f.Values.Set("priority", string(models.PriorityMedium))
	}
	return p
}

// needLabels names the need form's fields for the error summary.
func needLabels(L *Localizer) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"title", "description", "theme", "capability", "modalities", "languages", "budget_usd",
		"start_by", "duration_months", "priority", "maturity.framework", "maturity.current", "maturity.target", "visibility", "country"} {
		m[k] = L.T("need.field." + strings.ReplaceAll(k, ".", "_"))
	}
	return m
}

// parseNeedForm turns the posted form into the service's input, recording what cannot even be
// parsed (a budget that is not a number) next to its field.
func parseNeedForm(L *Localizer, f *form) service.NeedInput {
	in := service.NeedInput{
		Title: f.Get("title"), Description: f.Get("description"),
		Theme: models.Theme(f.Get("theme")), Capability: models.Capability(f.Get("capability")),
		Priority: models.Priority(f.Get("priority")), Visibility: models.Visibility(f.Get("visibility")),
	}
	for _, m := range f.All("modalities") {
		in.Modalities = append(in.Modalities, models.Modality(m))
	}
	in.Languages = languagesOf(f)
	in.Lang, in.Translations, _ = translationsOf(f)
	in.BudgetUSD = f.intField(L, "budget_usd", true)
	in.StartBy = f.dateField(L, "start_by", true)
	in.DurationMonths = int(f.intField(L, "duration_months", true))
	m := &models.Maturity{Framework: models.MaturityFramework(f.Get("maturity.framework"))}
	m.Current = int(f.intField(L, "maturity.current", false))
	m.Target = int(f.intField(L, "maturity.target", false))
	in.Maturity = m
	return in
}

// checkNeed runs the domain's validation on what could be parsed, so that a form with a typo
// in one field still reports the problems of all the others at once.
func checkNeed(in service.NeedInput, country string) error {
	n := &models.Need{Title: in.Title, Description: in.Description, Lang: in.Lang, Translations: in.Translations, Country: country, Theme: in.Theme, Capability: in.Capability,
		Modalities: in.Modalities, Languages: append([]string(nil), in.Languages...), BudgetUSD: in.BudgetUSD, StartBy: in.StartBy,
		DurationMonths: in.DurationMonths, Priority: in.Priority, Visibility: in.Visibility}
	if in.Maturity != nil {
		n.Maturity = *in.Maturity
	}
	n.Normalize()
	return n.Validate()
}

// languagesOf merges the ticked languages and the typed codes, without repeats.
func languagesOf(f *form) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range append(f.All("languages"), splitCodes(f.Get("languages_other"))...) {
		l = strings.ToLower(strings.TrimSpace(l))
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// NewNeed shows the guided form to post a need.
func (u *UI) NewNeed() fiber.Handler {
	return u.handle(ministryOnly, func(r *req) error {
		f := newForm()
		if t := r.c.Query("theme"); t != "" {
			f.Values.Set("theme", t)
		}
		return r.render(200, "need_form", r.L.T("needform.title"), "post_need", u.needFormPage(r, f, "/ministry/needs", false))
	})
}

// CreateNeed handles the guided form: "continue" re-renders it one step further (the path
// without JavaScript; with it, htmx does the same in place), "save" stores a draft and
// "submit" stores it and submits it for review.
func (u *UI) CreateNeed() fiber.Handler {
	return u.handle(ministryOnly, func(r *req) error {
		f := postedForm(r.c)
		f.labels = addTranslationLabels(r.L, needLabels(r.L))
		p := u.needFormPage(r, f, "/ministry/needs", false)
		op := f.Get("op")
		if op != "save" && op != "submit" {
			return r.render(200, "need_form", r.L.T("needform.title"), "post_need", p)
		}
		in := parseNeedForm(r.L, f)
		if !f.OK() {
			f.addDomainErrors(r.L, checkNeed(in, r.actor().Country))
			return r.render(422, "need_form", r.L.T("needform.title"), "post_need", p)
		}
		ctx := r.c.UserContext()
		n, err := u.app.Needs.Create(ctx, r.actor(), in)
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "need_form", r.L.T("needform.title"), "post_need", p)
		}
		if err != nil {
			return err
		}
		flash := "need_created"
		if op == "submit" {
			if _, err := u.app.Needs.Transition(ctx, r.actor(), n.ID, models.NeedSubmit, ""); err != nil {
				return err
			}
			flash = "need_submitted"
		}
		return r.redirect("/ministry?" + url.Values{"ok": {flash}}.Encode() + "#need-" + n.ID)
	})
}

// needValues fills a form from a stored need, for editing.
func needValues(n *models.Need) *form {
	f := newForm()
	v := f.Values
	v.Set("title", n.Title)
	v.Set("description", n.Description)
	v.Set("theme", string(n.Theme))
	v.Set("capability", string(n.Capability))
	for _, m := range n.Modalities {
		v.Add("modalities", string(m))
	}
	var other []string
	for _, l := range n.Languages {
		if has(commonLangs, l) {
			v.Add("languages", l)
		} else {
			other = append(other, l)
		}
	}
	v.Set("languages_other", strings.Join(other, ", "))
	v.Set("budget_usd", strconv.FormatInt(n.BudgetUSD, 10))
	v.Set("start_by", string(n.StartBy))
	v.Set("duration_months", strconv.Itoa(n.DurationMonths))
	v.Set("priority", string(n.Priority))
	v.Set("maturity.framework", string(n.Maturity.Framework))
	v.Set("maturity.current", strconv.Itoa(n.Maturity.Current))
	v.Set("maturity.target", strconv.Itoa(n.Maturity.Target))
	v.Set("visibility", string(n.Visibility))
	v.Set("version", strconv.FormatInt(n.Version, 10))
	setTranslationValues(f, n.Lang, n.Translations)
	return f
}

// EditNeed shows the form filled with a draft need (a need returned by a coordinator comes
// back as a draft with the reason, to be fixed and submitted again).
func (u *UI) EditNeed() fiber.Handler {
	return u.handle(ministryOnly, func(r *req) error {
		n, err := u.editableNeed(r, r.c.Params("id"))
		if err != nil {
			return err
		}
		p := u.needFormPage(r, needValues(n), "/ministry/needs/"+n.ID+"/edit", true)
		return r.render(200, "need_form", r.L.T("needform.edit_title"), "ministry", p)
	})
}

// editableNeed loads a need the viewer may edit now: one they may see (else 404), may update
// (else 403) and that is still a draft for its owner (else 409). The edit form and its POST
// check it before anything else.
func (u *UI) editableNeed(r *req, id string) (*models.Need, error) {
	n, err := u.app.Needs.Get(r.c.UserContext(), r.actor(), id)
	if err != nil {
		return nil, err
	}
	if err := models.AuthorizeNeed(r.actor(), models.ActUpdate, n); err != nil {
		return nil, err
	}
	if err := n.Editable(r.actor()); err != nil {
		return nil, err
	}
	return n, nil
}

// UpdateNeed saves an edited draft (only the fields of the form; the version read guards
// against overwriting someone else's change).
func (u *UI) UpdateNeed() fiber.Handler {
	return u.handle(ministryOnly, func(r *req) error {
		id := r.c.Params("id")
		if _, err := u.editableNeed(r, id); err != nil {
			return err // another ministry is refused whatever the form holds, even "continue"
		}
		f := postedForm(r.c)
		f.labels = addTranslationLabels(r.L, needLabels(r.L))
		p := u.needFormPage(r, f, "/ministry/needs/"+id+"/edit", true)
		op := f.Get("op")
		if op != "save" && op != "submit" {
			return r.render(200, "need_form", r.L.T("needform.edit_title"), "ministry", p)
		}
		in := parseNeedForm(r.L, f)
		version, verr := strconv.ParseInt(f.Get("version"), 10, 64)
		if !f.OK() {
			f.addDomainErrors(r.L, checkNeed(in, r.actor().Country))
			return r.render(422, "need_form", r.L.T("needform.edit_title"), "ministry", p)
		}
		patch := service.NeedPatch{Title: &in.Title, Description: &in.Description, Theme: &in.Theme, Capability: &in.Capability,
			Modalities: &in.Modalities, Languages: &in.Languages, BudgetUSD: &in.BudgetUSD, StartBy: &in.StartBy,
			DurationMonths: &in.DurationMonths, Priority: &in.Priority, Maturity: in.Maturity, Visibility: &in.Visibility}
		_, _, trPatch := translationsOf(f)
		patch.Lang, patch.Translations = &in.Lang, trPatch
		if verr == nil {
			patch.Version = &version
		}
		ctx := r.c.UserContext()
		n, err := u.app.Needs.Patch(ctx, r.actor(), id, patch, nil)
		if f.addDomainErrors(r.L, err) {
			return r.render(422, "need_form", r.L.T("needform.edit_title"), "ministry", p)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			return r.render(409, "need_form", r.L.T("needform.edit_title"), "ministry", p)
		}
		if err != nil {
			return err
		}
		flash := "need_updated"
		if op == "submit" {
			if _, err := u.app.Needs.Transition(ctx, r.actor(), n.ID, models.NeedSubmit, ""); err != nil {
				return err
			}
			flash = "need_submitted"
		}
		return r.redirect("/needs/" + n.ID + "?" + url.Values{"ok": {flash}}.Encode())
	})
}

// needTransitions are the lifecycle steps a form may ask for, with the confirmation shown.
var needTransitions = map[string]struct {
	t     models.NeedTransition
	flash string
}{
	"submit":   {models.NeedSubmit, "need_submitted"},
	"withdraw": {models.NeedWithdraw, "need_withdrawn"},
	"approve":  {models.NeedApprove, "need_approved"},
	"reject":   {models.NeedReject, "need_rejected"},
}

// NeedTransition moves a need through its lifecycle from a button (submit, withdraw, approve,
// reject with a reason); the service decides who may. It returns to the page the button was
// on. A rejection without a reason shows the form again with the error next to the field.
func (u *UI) NeedTransition() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		tr, ok := needTransitions[r.c.Params("action")]
		if !ok {
			return models.Errorf(models.ErrNotFound, "no such action")
		}
		id := r.c.Params("id")
		f := postedForm(r.c)
		next := safeNext(f.Get("next"))
		if tr.t == models.NeedWithdraw && !confirmed(f) {
			return u.showConfirm(r, "need", id, 200, f)
		}
		if tr.t == models.NeedWithdraw {
			if done, err := u.missingReason(r, "need", id, f); done {
				return err
			}
		}
		_, err := u.app.Needs.Transition(r.c.UserContext(), r.actor(), id, tr.t, f.Get("reason"))
		if tr.t == models.NeedWithdraw && err != nil {
			return u.confirmFailed(r, "need", id, f, err)
		}
		if errors.Is(err, models.ErrInvalid) {
			f.labels = map[string]string{"reason": r.L.T("review.reason")}
			f.addDomainErrors(r.L, err)
			if strings.HasPrefix(next, "/coordinator") {
				return u.renderQueue(r, 422, map[string]*form{id: f})
			}
			n, gerr := u.getNeed(r, id)
			if gerr != nil {
				return gerr
			}
			return r.render(422, "need", n.Title, "needs", u.needActions(r, n, f))
		}
		if err != nil {
			return err
		}
		if next == "" {
			next = "/needs/" + id
		}
		return r.redirect(withFlash(next, tr.flash))
	})
}

// withFlash adds ?ok=<key> to a local path, keeping its query and fragment.
func withFlash(next, key string) string {
	frag := ""
	if i := strings.IndexByte(next, '#'); i >= 0 {
		next, frag = next[:i], next[i:]
	}
	pu, err := url.Parse(next)
	if err != nil {
		return "/"
	}
	q := pu.Query()
	q.Set("ok", key)
	pu.RawQuery = q.Encode()
	return pu.RequestURI() + frag
}

// readinessPage is the data of the readiness form.
type readinessPage struct {
	C     *service.CountryView
	Label string
	F     *form
	Saved bool
}

func readinessValues(cv *service.CountryView) *form {
	f := newForm()
	set := func(k string, b bool) {
		if b {
			f.Values.Set(k, "1")
		}
	}
	set("national_cert", cv.Readiness.NationalCERT)
	set("legal_position_published", cv.Readiness.LegalPositionPublished)
	set("national_strategy", cv.Readiness.NationalStrategy)
	f.Values.Set("cert_maturity", strconv.Itoa(cv.Readiness.CERTMaturity))
	f.Values.Set("version", strconv.FormatInt(cv.ReadinessVersion, 10))
	return f
}

// ReadinessForm shows a country's readiness profile for its ministries and coordinators to
// keep up to date.
func (u *UI) ReadinessForm() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a := r.actor()
		cv, err := u.app.Countries.Get(r.c.UserContext(), a, r.c.Params("iso"))
		if err != nil {
			return err
		}
		if err := models.AuthorizeCountryReadiness(a, cv.ISO); err != nil {
			return err
		}
		p := &readinessPage{C: cv, Label: r.L.Country(cv.ISO), F: readinessValues(cv)}
		return r.render(200, "readiness", r.L.T("readiness.title", p.Label), "readiness", p)
	})
}

// SaveReadiness stores the readiness profile, guarded by the version the form was read at.
func (u *UI) SaveReadiness() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		a := r.actor()
		ctx := r.c.UserContext()
		iso := r.c.Params("iso")
		cv, err := u.app.Countries.Get(ctx, a, iso)
		if err != nil {
			return err
		}
		if err := models.AuthorizeCountryReadiness(a, cv.ISO); err != nil {
			return err // refused whatever the form holds
		}
		f := postedForm(r.c)
		f.labels = map[string]string{"cert_maturity": r.L.T("readiness.cert_maturity")}
		b := func(k string) *bool { v := f.Get(k) == "1"; return &v }
		level := int(f.intField(r.L, "cert_maturity", false))
		patch := service.ReadinessPatch{NationalCERT: b("national_cert"), CERTMaturity: &level,
			LegalPositionPublished: b("legal_position_published"), NationalStrategy: b("national_strategy")}
		if v, err := strconv.ParseInt(f.Get("version"), 10, 64); err == nil {
			patch.Version = &v
		}
		render := func(status int) error {
			cv, err := u.app.Countries.Get(ctx, a, iso)
			if err != nil {
				return err
			}
			return r.render(status, "readiness", r.L.T("readiness.title", r.L.Country(cv.ISO)), "readiness",
				&readinessPage{C: cv, Label: r.L.Country(cv.ISO), F: f})
		}
		if !f.OK() {
			return render(422)
		}
		_, err = u.app.Countries.PatchReadiness(ctx, a, iso, patch, nil)
		if f.addDomainErrors(r.L, err) {
			return render(422)
		}
		if errors.Is(err, models.ErrConflict) {
			f.Add("", r.L.T("err.stale"))
			cv, gerr := u.app.Countries.Get(ctx, a, iso)
			if gerr != nil {
				return gerr
			}
			f.Values.Set("version", strconv.FormatInt(cv.ReadinessVersion, 10))
			return render(409)
		}
		if err != nil {
			return err
		}
		return r.redirect("/countries/" + url.PathEscape(models.NormalizeISO(iso)) + "?ok=readiness_saved")
	})
}
