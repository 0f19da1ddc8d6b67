package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// ContentSecurityPolicy is the policy of every page: only files the binary serves, no inline
// script or style (not even style attributes), no plugins, no framing, forms post only here.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type pageTemplate = *template.Template

// parseTemplates parses each page with the shared layout and partials, so that every page
// defines its own "content" and the layout wraps it.
func (u *UI) parseTemplates() (map[string]pageTemplate, error) {
	funcs := template.FuncMap{
		"asset":     u.assetURL,
		"dict":      dict,
		"has":       has,
		"add":       func(a, b int) int { return a + b },
		"neg":       func(a int) int { return -a },
		"seq":       seq,
		"pct":       pct,
		"str":       func(v any) string { return fmt.Sprint(v) },
		"query":     func(kv ...string) template.URL { return queryURL(kv...) },
		"local":     local,
		"textattrs": textAttrs,
		"trfield":   trField,
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]pageTemplate{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, f); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[name] = t
	}
	return out, nil
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// has reports whether a list (of strings or string-typed codes) contains v, for checkboxes.
func has(list any, v any) bool {
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice {
		return false
	}
	want := fmt.Sprint(v)
	for i := 0; i < rv.Len(); i++ {
		if fmt.Sprint(rv.Index(i).Interface()) == want {
			return true
		}
	}
	return false
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// pct is v as a whole percentage of max, for bar widths drawn as SVG (no style attributes).
func pct(v, max any) int {
	f := func(x any) float64 {
		switch n := x.(type) {
		case int:
			return float64(n)
		case int64:
			return float64(n)
		case float64:
			return n
		}
		return 0
	}
	m := f(max)
	if m <= 0 {
		return 0
	}
	p := int(math.Round(100 * f(v) / m))
	return min(max0(p), 100)
}

func max0(p int) int {
	if p < 0 {
		return 0
	}
	return p
}

// queryURL builds "?k=v&..." from pairs, skipping empty values, for filter and paging links.
func queryURL(kv ...string) template.URL {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return "?"
	}
	return template.URL("?" + q.Encode())
}

// access says who may open a page.
type access int

const (
	anyone access = iota
	signedIn
	ministryOnly
	donorOnly
	curatorOnly
)

// req is one request as a page handler sees it.
type req struct {
	c    *fiber.Ctx
	ui   *UI
	L    *Localizer
	S    *session
	csrf string
}

// actor is the signed-in actor, or nil for an anonymous visitor.
func (r *req) actor() *models.Actor {
	if r.S == nil {
		return nil
	}
	return &r.S.Actor
}

// Page is what every template receives: the localizer, the viewer, the CSRF token, where the
// page is (for the language switcher and the navigation), a confirmation message and the
// page's own data.
type Page struct {
	L      *Localizer
	Title  string
	Nav    string
	Viewer *viewer
	Path   string
	Flash  string
	Data   any
	// Wide pages (the map) use the full width of the screen.
	Wide bool
	// FlashInline means the page shows the confirmation itself, inside the part of the page
	// that htmx swaps.
	FlashInline bool

	req *req
}

// OrgName is the name of the organization with that id, for saying who is behind a need or
// an offer in lists and pages ("" when unknown).
func (p *Page) OrgName(id string) string {
	r := p.req
	if r == nil || r.ui.app == nil {
		return ""
	}
	return r.ui.orgName(r.c.UserContext(), id)
}

// CSRF is the token the page's forms carry. It is made when a template first asks for it, so
// that a visitor's page without a form sets no cookie.
func (p *Page) CSRF() (string, error) {
	r := p.req
	if r == nil || r.ui.app == nil {
		return "", nil
	}
	if r.csrf == "" {
		tok, err := r.ui.csrfToken(r.c, r.S)
		if err != nil {
			return "", err
		}
		r.csrf = tok
	}
	return r.csrf, nil
}

// handle wraps a page handler: it picks the language, authenticates the session (refreshing
// it when needed), enforces who may open the page, checks the CSRF token of every POST, and
// turns errors into pages in the user's language.
func (u *UI) handle(acc access, h func(*req) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r := &req{c: c, ui: u, L: u.cats.For(u.cats.Negotiate(c.Cookies(langCookie), c.Get(fiber.HeaderAcceptLanguage)))}
		if u.app == nil {
			return u.fail(r, models.Errorf(models.ErrUnavailable, "the web UI has no application"))
		}
		s, err := u.currentSession(c)
		if err != nil {
			return u.fail(r, err)
		}
		r.S = s
		if handled, err := u.gatePassword(r); handled {
			if err != nil {
				return u.fail(r, err)
			}
			return nil
		}
		if acc != anyone && s == nil {
			return r.redirect("/signin?next=" + url.QueryEscape(r.here()))
		}
		if s != nil {
			role := s.Actor.Role
			if (acc == ministryOnly && role != models.RoleMinistry) || (acc == donorOnly && role != models.RoleDonor) ||
				(acc == curatorOnly && !role.Curates()) {
				return u.fail(r, models.Errorf(models.ErrForbidden, "wrong workspace"))
			}
		}
		if c.Method() == fiber.MethodPost {
			if err := u.checkCSRF(c, s); err != nil {
				return u.fail(r, err)
			}
		}
		if err := h(r); err != nil {
			return u.fail(r, err)
		}
		return nil
	}
}

// here is the path and query of the request, for "come back here" links.
func (r *req) here() string {
	return string(r.c.Request().URI().RequestURI())
}

// redirect answers 303 See Other, the redirect after a POST (and after a sign-in check).
func (r *req) redirect(to string) error {
	return r.c.Redirect(to, fiber.StatusSeeOther)
}

// safeNext accepts a "come back to" path only if it stays on this site.
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") {
		return ""
	}
	for _, ch := range next {
		if unicode.IsControl(ch) || ch == '\\' {
			return ""
		}
	}
	return next
}

// flashKeys are the confirmations a redirect may ask the next page to show (?ok=...). Only
// these keys are shown, so the parameter cannot inject text.
var flashKeys = map[string]bool{
	"need_created": true, "need_updated": true, "need_submitted": true, "need_withdrawn": true,
	"need_approved": true, "need_rejected": true, "offer_created": true, "offer_updated": true,
	"offer_published": true, "offer_closed": true, "readiness_saved": true, "signed_out": true, "weights_saved": true,
	"engagement_proposed": true, "engagement_agreed": true, "engagement_declined": true, "engagement_withdrawn": true,
	"engagement_cancelled": true,
	"message_sent":         true, "project_started": true, "transaction_recorded": true, "project_status": true,
	"result_added": true, "document_added": true, "notifications_read": true, "password_changed": true, "password_reset": true,
	"poc_saved": true, "poc_deleted": true, "check_started": true, "check_closed": true,
	"assessment_submitted": true, "proposals_created": true, "source_added": true, "source_updated": true, "source_deleted": true,
}

// render executes a page template in the layout and sends it.
func (r *req) render(status int, name, title, nav string, data any) error {
	return r.renderPage(status, name, &Page{Title: title, Nav: nav, Data: data})
}

func (r *req) renderPage(status int, name string, p *Page) error {
	u := r.ui
	t, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	p.L = r.L
	p.Path = r.here()
	if r.S != nil {
		v := u.viewerOf(r.c.UserContext(), &r.S.Actor)
		p.Viewer = &v
	}
	p.req = r
	if ok := r.c.Query("ok"); flashKeys[ok] && p.Flash == "" {
		p.Flash = r.L.T("flash." + ok)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	r.c.Status(status)
	setPageHeaders(r.c, r.L.Lang, r.S != nil)
	return r.c.Send(buf.Bytes())
}

func setPageHeaders(c *fiber.Ctx, lang string, private bool) {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	c.Set(fiber.HeaderContentLanguage, lang)
	c.Vary(fiber.HeaderCookie, fiber.HeaderAcceptLanguage)
	if private {
		c.Set(fiber.HeaderCacheControl, "no-store")
	} else {
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
	}
}

// retryAfter is the Retry-After value (whole seconds, rounded up) of an error that says how
// long to wait (a sign-in back-off), or of fallback.
func retryAfter(err error, fallback time.Duration) string {
	d := fallback
	var de *models.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		d = de.RetryAfter
	}
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
	Back    string
	SignIn  bool
	ReqID   string
}

// fail renders an error as a page in the user's language. Unexpected errors are logged and
// shown without internals, with the request id to quote to support.
func (u *UI) fail(r *req, err error) error {
	c := r.c
	status, key := 500, "internal"
	var fe *fiber.Error
	switch {
	case errors.Is(err, errCSRF):
		status, key = 403, "csrf"
	case errors.Is(err, models.ErrUnauthorized):
		clearSession(c)
		return r.redirect("/signin?next=" + url.QueryEscape(r.here()))
	case errors.Is(err, models.ErrNotFound):
		status, key = 404, "not_found"
	case errors.Is(err, models.ErrForbidden):
		status, key = 403, "forbidden"
	case errors.Is(err, models.ErrConflict):
		status, key = 409, "conflict"
	case errors.Is(err, models.ErrRateLimited):
		status, key = 429, "rate_limited"
		c.Set(fiber.HeaderRetryAfter, retryAfter(err, time.Minute))
	case errors.Is(err, models.ErrUnavailable):
		status, key = 503, "unavailable"
		c.Set(fiber.HeaderRetryAfter, "5")
	case errors.Is(err, models.ErrInvalid), errors.Is(err, models.ErrMalformed):
		status, key = 422, "invalid"
	case errors.As(err, &fe) && fe.Code < 500:
		status, key = fe.Code, "bad_request"
		if fe.Code == 404 {
			key = "not_found"
		}
	}
	reqID, _ := c.Locals("requestid").(string)
	if status == 500 {
		u.log.ErrorContext(c.UserContext(), "web page failed", "err", err, "path", c.Path(), "request_id", reqID)
	}
	ep := errorPage{Status: status, Heading: r.L.T("error." + key + ".title"), Message: r.L.T("error." + key + ".text"),
		SignIn: r.S == nil && (status == 403 || status == 404), ReqID: reqID}
	if ref := safeNext(refererPath(c)); ref != "" {
		ep.Back = ref
	}
	if rerr := r.renderPage(status, "error", &Page{Title: ep.Heading, Data: ep}); rerr != nil {
		u.log.ErrorContext(c.UserContext(), "error page failed", "err", rerr, "cause", err)
		c.Status(status)
		setPageHeaders(c, r.L.Lang, true)
		return c.SendString(strconv.Itoa(status) + " " + template.HTMLEscapeString(ep.Heading))
	}
	return nil
}

// refererPath is the path of the Referer when it is this site, for a "go back" link.
func refererPath(c *fiber.Ctx) string {
	ref := c.Get(fiber.HeaderReferer)
	if ref == "" {
		return ""
	}
	pu, err := url.Parse(ref)
	if err != nil || pu.Host != c.Hostname() {
		return ""
	}
	return pu.RequestURI()
}

// NotFound renders the "page not found" page for browsers asking for an unknown page. API
// clients (and anything under /api/) keep the problem+json 404 of the API's error handler.
func (u *UI) NotFound() fiber.Handler {
	page := u.handle(anyone, func(r *req) error { return models.Errorf(models.ErrNotFound, "no such page") })
	return func(c *fiber.Ctx) error {
		p := c.Path()
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/docs") || !strings.Contains(c.Get(fiber.HeaderAccept), "text/html") ||
			(c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead) {
			return c.Next()
		}
		return page(c)
	}
}
