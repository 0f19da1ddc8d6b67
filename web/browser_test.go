package web_test

// Browser tests: Debian's Chromium, headless, driven with chromedp through the flows of
// issue 7 against a real server on a loopback port, with the demo data set loaded. They
// save screenshots (see screenshotDir) and fail, rather than skip, when Chromium is missing.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath finds the browser: $CAPMATCH_CHROMIUM, else Debian's chromium.
func chromiumPath() (string, error) {
	if p := os.Getenv("CAPMATCH_CHROMIUM"); p != "" {
		if found, err := exec.LookPath(p); err == nil {
			return found, nil
		}
		return "", fmt.Errorf("CAPMATCH_CHROMIUM=%s is not an executable Chromium or Chrome", p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the browser tests need Chromium: install Debian's package (apt-get install chromium; .ci/run does) " +
		"or set CAPMATCH_CHROMIUM to a Chromium or Chrome binary")
}

// screenshotDir is where screenshots go: $CAPMATCH_SCREENSHOTS (docs/web.md says how to
// refresh docs/screenshots with it), else a directory under the system's temp directory,
// so that a test run never changes the working tree.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CAPMATCH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "capmatch-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// serve starts the stack's server on a loopback port and returns its base URL.
func (s *stack) serve() string {
	t := s.t
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.srv.App().ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// cspWatch records, in every page, the Content-Security-Policy violations and the dialogs
// scripts open; DevTools runs it before the page's own scripts, outside the page's CSP.
const cspWatch = `window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});`

// tab is one browser tab in its own browser context (its own cookies).
type tab struct {
	t       *testing.T
	ctx     context.Context
	base    string
	dialogs *atomic.Int32
	shots   string
}

func (b *browserRun) newTab(t *testing.T) *tab {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, base: b.base, dialogs: &atomic.Int32{}, shots: b.shots}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1200, 820)))
	_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
	require.NoError(t, err)
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			tb.dialogs.Add(1)
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return tb
}

// do runs steps and fails the test on error, naming the step.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(typeof htmx) + " " + (window.__violations||[]).join(";") + " " + location.href + "\n" + (document.querySelector("main")||document.body).outerHTML.slice(0, 3000)`))
		tb.t.Fatalf("%s: %v\npage: %s", what, err, html)
	}
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path), chromedp.WaitReady(chromedp.CSS("footer.site")), tb.ready())
	tb.assertClean(path)
}

// ready waits until the page's scripts ran (htmx processes the page on DOMContentLoaded), as
// a person would before clicking.
func (tb *tab) ready() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](`document.readyState === "complete" && !!window.htmx`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// shown waits until the element with the id is in the page, displayed and live: htmx has
// processed the part of the form that holds it (the closest element with hx-trigger) and no
// htmx request, swap or settle is under way. It polls from the page's own JavaScript. An htmx
// swap replaces the form's nodes and htmx attaches its listeners to the new ones only as it
// settles, so a click sent as soon as the new radio is visible can land before the listener:
// the change is then lost and the form never moves on (seen on a loaded CI machine and then
// locally, once the pages got faster).
func shown(id string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`(function () {
			var e = document.getElementById(%q);
			if (!e || e.offsetParent === null) return false;
			if (document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")) return false;
			var live = e.closest("[hx-trigger]");
			return !live || !!(live["htmx-internal-data"] && live["htmx-internal-data"].initHash);
		})()`, id))(ctx, t)
		return chromedp.Void{}, err
	}
}

// gone waits until the element is no longer rendered. A closed <details> keeps the layout its
// content last had, which offsetWidth (and so WaitNotVisible) still reports: checkVisibility
// says whether it is drawn.
func gone(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`(function () {
			var e = document.querySelector(%q);
			return !!e && !e.checkVisibility();
		})()`, sel))(ctx, t)
		return chromedp.Void{}, err
	}
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(tb.t, err, sel)
	return s
}

func (tb *tab) eval(expr string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr))
	require.NoError(tb.t, err, expr)
	return s
}

func (tb *tab) location() string {
	tb.t.Helper()
	l, err := chromedp.Run(tb.ctx, chromedp.Location())
	require.NoError(tb.t, err)
	return strings.TrimPrefix(l, tb.base)
}

// assertClean checks that the page broke no CSP rule and opened no dialog.
func (tb *tab) assertClean(where string) {
	tb.t.Helper()
	assert.Equal(tb.t, "", tb.eval(`(window.__violations || []).join("; ")`), "CSP violations on %s", where)
	assert.Zero(tb.t, tb.dialogs.Load(), "no dialog may open (%s)", where)
}

func (tb *tab) signIn(email, password string) {
	tb.t.Helper()
	tb.open("/signin")
	tb.do("sign in",
		chromedp.SendKeys(chromedp.ID("f-email"), email),
		chromedp.SendKeys(chromedp.ID("f-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("form.signout")),
	)
}

// screenshot saves the viewport as a small PNG.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	require.NoError(tb.t, err)
	small, err := shrinkPNG(buf)
	require.NoError(tb.t, err)
	path := filepath.Join(tb.shots, name)
	require.NoError(tb.t, os.WriteFile(path, small, 0o644))
	tb.t.Logf("screenshot %s (%d kB)", path, len(small)/1024)
}

// browserRun is one Chromium for all the scenarios.
type browserRun struct {
	ctx   context.Context
	base  string
	shots string
}

func TestBrowserFlows(t *testing.T) {
	start := time.Now()
	chromium, err := chromiumPath()
	require.NoError(t, err)

	s := newStack(t)
	ctx := context.Background()
	accounts, loaded, err := s.app.LoadDemo(ctx, models.DateOf(time.Now()))
	require.NoError(t, err)
	require.True(t, loaded)
	pass := map[string]string{}
	for _, a := range accounts {
		pass[a.Email] = a.Password
	}
	base := s.serve()
	t.Logf("demo data loaded and server up in %s", time.Since(start).Round(time.Millisecond))

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 820),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	runCtx, cancelRun := context.WithTimeout(browserCtx, 300*time.Second)
	defer cancelRun()
	require.NoError(t, chromedp.Do(runCtx), "start Chromium (%s)", chromium)
	b := &browserRun{ctx: runCtx, base: base, shots: screenshotDir(t)}

	const needTitle = "National CSIRT operations centre for Senegal"
	var needID, projectPath string

	t.Run("ministry posts a need with the guided form and sees explained matches", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn("ministry.sn@capmatch.example", pass["ministry.sn@capmatch.example"])
		assert.Equal(t, "/ministry", tb.location())
		assert.Equal(t, "1", tb.eval(navLines), "the ministry's navigation fits one line at 1200 px")
		tb.screenshot("ministry-workspace.png")

		tb.open("/ministry/needs/new")
		// The guide: choosing a theme brings its capabilities (htmx swaps the form in
		// place), choosing a capability brings the rest.
		tb.do("choose theme and capability",
			chromedp.Click(chromedp.ID("theme-incident_management")),
			shown("cap-cert_setup"),
			chromedp.Click(chromedp.ID("cap-cert_setup")),
			shown("f-title"),
		)
		assert.Contains(t, tb.text("#cap-cert_setup-d"), "FIRST", "capabilities come with the catalogue's descriptions")
		tb.do("fill the details",
			chromedp.SendKeys(chromedp.ID("f-title"), needTitle),
			chromedp.SendKeys(chromedp.ID("f-description"), "Stand up the national CSIRT's operations centre and its first services."),
			chromedp.Click(chromedp.ID("mod-expert_deployment")),
			chromedp.Click(chromedp.ID("mod-mentoring")),
			chromedp.Click(chromedp.ID("lang-fr")),
			chromedp.SendKeys(chromedp.ID("f-budget-usd"), "650000"),
			chromedp.SetValue(chromedp.ID("f-start-by"), string(models.DateOf(time.Now().AddDate(0, 4, 0)))),
			chromedp.SendKeys(chromedp.ID("f-duration-months"), "24"),
			chromedp.Click(chromedp.ID("prio-high")),
			chromedp.SetValue(chromedp.ID("f-maturity-current"), "1"),
			chromedp.SetValue(chromedp.ID("f-maturity-target"), "3"),
			chromedp.Click(chromedp.ID("vis-public")),
		)
		tb.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.getElementById("step-capability").offsetTop - 20)`))
		tb.screenshot("ministry-need-form.png")
		tb.do("save and submit",
			chromedp.Click(chromedp.CSS(`button[name=op][value=submit]:not(.default-submit)`)),
			chromedp.WaitVisible(chromedp.ID("my-needs")),
		)
		assert.True(t, strings.HasPrefix(tb.location(), "/ministry?ok=need_submitted"), tb.location())
		assert.Contains(t, tb.text("#my-needs"), needTitle)
		tb.assertClean("ministry workspace")
		needID = strings.TrimPrefix(tb.eval(`(function(){var a=[...document.querySelectorAll("#my-needs h3 a")].find(function(x){return x.textContent==`+
			fmt.Sprintf("%q", needTitle)+`});return a?a.getAttribute("href"):""})()`), "/needs/")
		require.NotEmpty(t, needID)

		tb.open("/needs/" + needID)
		tb.do("matches", chromedp.WaitVisible(chromedp.CSS("#matches .match")))
		n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#matches .match").length`))
		require.NoError(t, err)
		assert.Greater(t, n, 1, "ranked offers")
		bars, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#matches .match:first-child .factor meter").length`))
		require.NoError(t, err)
		assert.Equal(t, 9, bars, "a bar per factor")
		assert.Contains(t, []string{"Strong match", "Possible match", "Weak match"}, tb.text("#matches .match:first-child .band"), "the band is named")
		assert.Contains(t, tb.text("#matches .match:first-child .f-capability .f-reason"), "CERT/CSIRT")
		tb.do("scroll to the matches", chromedp.Evaluate[chromedp.Void](`document.getElementById("matches").scrollIntoView({block: "start"})`))
		tb.screenshot("ministry-matches.png")
	})

	t.Run("coordinator approves from the queue and opens the map", func(t *testing.T) {
		require.NotEmpty(t, needID)
		tb := b.newTab(t)
		tb.signIn("coordinator@capmatch.example", pass["coordinator@capmatch.example"])
		assert.Equal(t, "/coordinator", tb.location())
		assert.Contains(t, tb.text("#queue"), needTitle)
		tb.screenshot("coordinator-queue.png")
		tb.do("approve",
			chromedp.Click(chromedp.CSS(`#need-`+needID+` form[action$="/approve"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#queue .flash")),
		)
		assert.NotContains(t, tb.text("#queue"), needTitle)
		assert.Equal(t, "/coordinator", tb.location(), "htmx swapped the queue in place")
		got, err := s.app.Needs.Get(ctx, s.actorByEmail("coordinator@capmatch.example", pass), needID)
		require.NoError(t, err)
		assert.Equal(t, models.NeedOpen, got.Status)

		// The navigation fits one line; its menus open on a click, close on Escape and on a
		// click elsewhere, one at a time.
		assert.Equal(t, "1", tb.eval(navLines), "the coordinator's navigation fits one line at 1200 px")
		assert.Equal(t, "false", tb.eval(`String(document.querySelector('#menu-browse a[href="/map"]').checkVisibility())`))
		tb.do("open the browse menu", chromedp.Click(chromedp.CSS(`#menu-browse summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#menu-browse a[href="/map"]`)))
		tb.screenshot("coordinator-menu.png")
		tb.do("the delivery menu closes the browse menu", chromedp.Click(chromedp.CSS(`#menu-delivery summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#menu-delivery a[href="/coordinator/funding"]`)), gone(`#menu-browse a[href="/map"]`))
		tb.do("Escape closes it", chromedp.KeyEvent("\x1b"), gone(`#menu-delivery a[href="/coordinator/funding"]`))
		assert.Equal(t, "menu-delivery", tb.eval(`document.activeElement.closest("li").id`), "the focus goes back to the menu's button")
		tb.do("a click elsewhere closes it", chromedp.Click(chromedp.CSS(`#menu-browse summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#menu-browse a[href="/map"]`)), chromedp.Click(chromedp.CSS("h1")),
			gone(`#menu-browse a[href="/map"]`))
		tb.do("open the map", chromedp.Click(chromedp.CSS(`#menu-browse summary`)), chromedp.Click(chromedp.CSS(`#menu-browse a[href="/map"]`)),
			chromedp.WaitVisible(chromedp.CSS("svg.world")))
		paths, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.world path").length`))
		require.NoError(t, err)
		assert.Greater(t, paths, 150)
		assert.Contains(t, tb.eval(`document.querySelector('svg.world a[href="/countries/SN"]').getAttribute("aria-label")`), "open need")
		tb.screenshot("coordinator-map.png")
		tb.assertClean("map")
		tb.do("a country links to its profile",
			chromedp.Evaluate[chromedp.Void](`document.querySelector('svg.world a[href="/countries/KE"]').dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}))`),
			chromedp.WaitVisible(chromedp.CSS("#readiness-h")),
		)
		assert.Equal(t, "/countries/KE", tb.location())
	})

	t.Run("a title with a script renders as text", func(t *testing.T) {
		const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
		m := s.actorByEmail("ministry.sn@capmatch.example", pass)
		in := needInput(evil)
		n, err := s.app.Needs.Create(ctx, m, in)
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, m, n.ID, models.NeedSubmit, "")
		require.NoError(t, err)
		_, err = s.app.Needs.Transition(ctx, s.actorByEmail("coordinator@capmatch.example", pass), n.ID, models.NeedApprove, "")
		require.NoError(t, err)

		tb := b.newTab(t)
		tb.open("/needs/" + n.ID)
		assert.Equal(t, evil, tb.text("h1"), "the title is shown as text")
		tb.open("/needs?q=" + "script")
		assert.Contains(t, tb.text("#results"), evil)
		injected, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main script, main img").length`))
		require.NoError(t, err)
		assert.Zero(t, injected, "no element was injected")
		// An injected <script> would run while the page parses and an <img onerror> before the
		// load event; a dialog blocks the page until the listener dismisses it. So once the page
		// reports its load event from a later task, every dialog it could open has been counted.
		loaded, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`new Promise(r => {
			const done = () => setTimeout(() => r(true), 0);
			document.readyState === "complete" ? done() : addEventListener("load", done);
		})`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		require.True(t, loaded)
		assert.Zero(t, tb.dialogs.Load(), "no alert fired")
	})

	t.Run("the language switch turns the page French and remembers it", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/needs")
		assert.Equal(t, "en", tb.eval(`document.documentElement.lang`))
		tb.do("switch to French",
			chromedp.Click(chromedp.CSS(`.langs a[hreflang="fr"]`)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] .langs a[aria-current="true"][hreflang="fr"]`)),
		)
		assert.Equal(t, "/needs", tb.location())
		assert.Equal(t, "Besoins", tb.text("h1"))
		assert.Contains(t, tb.text("#results"), "$ US", "money in French")
		tb.screenshot("needs-fr.png")
		// Filter choices are not cut: each select is as wide as its longest choice needs.
		for _, path := range []string{"/needs", "/offers", "/countries"} {
			tb.open(path)
			assert.Equal(t, "", tb.eval(cutSelects), "%s: French filter labels cut", path)
		}
		tb.open("/map")
		assert.Equal(t, "Carte du monde", tb.text("h1"), "the choice is remembered")
		assert.Equal(t, "fr", tb.eval(`document.documentElement.lang`))
	})

	t.Run("Arabic pages run right to left", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/needs")
		tb.do("switch to Arabic",
			chromedp.Click(chromedp.CSS(`.langs a[hreflang="ar"]`)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="ar"][dir="rtl"] .langs a[aria-current="true"][hreflang="ar"]`)),
		)
		assert.Equal(t, "الاحتياجات", tb.text("h1"))
		assert.Equal(t, "rtl", tb.eval(`getComputedStyle(document.body).direction`))
		// The layout mirrors: the brand starts at the right edge, the headings and lists align right.
		assert.Equal(t, "right", tb.eval(`document.querySelector('.brand').getBoundingClientRect().left > innerWidth / 2 ? "right" : "left"`))
		assert.Equal(t, "right", tb.eval(`document.querySelector('h1').getBoundingClientRect().right > innerWidth / 2 ? "right" : "left"`))
		assert.Equal(t, "fits", tb.eval(`document.documentElement.scrollWidth <= innerWidth ? "fits" : "overflows " + document.documentElement.scrollWidth`))
		tb.screenshot("needs-ar.png")
		tb.open("/map")
		assert.Equal(t, "ar", tb.eval(`document.documentElement.lang`), "the choice is remembered")
		assert.Equal(t, "fits", tb.eval(`document.documentElement.scrollWidth <= innerWidth ? "fits" : "overflows " + document.documentElement.scrollWidth`))
		tb.assertClean("Arabic pages")
	})

	t.Run("donor posts an offer and sees the needs it fits", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn("donor.nl@capmatch.example", pass["donor.nl@capmatch.example"])
		assert.Equal(t, "/donor", tb.location())
		assert.Equal(t, "1", tb.eval(navLines), "the donor's navigation fits one line at 1200 px")
		tb.open("/donor/offers/new")
		tb.do("fill the offer",
			chromedp.SendKeys(chromedp.ID("f-title"), "West African CSIRT mentoring"),
			chromedp.Click(chromedp.ID("theme-incident_management")),
			chromedp.Click(chromedp.ID("cap-cert_setup")),
			chromedp.Click(chromedp.ID("cap-cert_maturity")),
			chromedp.Click(chromedp.ID("mod-mentoring")),
			chromedp.Click(chromedp.ID("mod-expert_deployment")),
			chromedp.Click(chromedp.ID("lang-fr")),
			chromedp.Click(chromedp.ID("lang-en")),
			chromedp.Click(chromedp.ID("reg-011")),
			chromedp.SendKeys(chromedp.ID("f-budget-usd"), "1500000"),
			chromedp.SetValue(chromedp.ID("f-max-engagements"), "3"),
			chromedp.SetValue(chromedp.ID("f-available-from"), string(models.DateOf(time.Now()))),
			chromedp.SetValue(chromedp.ID("f-available-until"), string(models.DateOf(time.Now().AddDate(3, 0, 0)))),
		)
		hidden, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-theme-group="cybercrime"]').offsetParent === null`))
		require.NoError(t, err)
		assert.True(t, hidden, "with JavaScript, only the ticked themes' capabilities show")
		tb.do("publish",
			chromedp.Click(chromedp.CSS(`button[name=op][value=publish]`)),
			chromedp.WaitVisible(chromedp.ID("my-offers")),
		)
		assert.Contains(t, tb.text("#my-offers"), "West African CSIRT mentoring")
		tb.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		tb.screenshot("donor-workspace.png")
		tb.do("open the offer", chromedp.Click(chromedp.CSS(`#my-offers h3 a`)), chromedp.WaitVisible(chromedp.CSS("#matches")))
		assert.Contains(t, tb.text("#matches"), needTitle, "the new open need ranks for the new offer")
		tb.do("scroll", chromedp.Evaluate[chromedp.Void](`document.getElementById("matches").scrollIntoView({block: "start"})`))
		tb.screenshot("donor-offer-matches.png")
		tb.assertClean("offer page")
		offerID := strings.TrimPrefix(tb.location(), "/offers/")

		// The ministry proposes an engagement on its need; the donor accepts it and starts
		// the project.
		e, _, err := s.app.Engagements.Propose(ctx, s.actorByEmail("ministry.sn@capmatch.example", pass),
			service.EngagementInput{NeedID: needID, OfferID: offerID, Message: "Could the mentoring start with the SOC team in March?"})
		require.NoError(t, err)
		tb.open("/engagements")
		assert.Contains(t, tb.text("#eng-"+e.ID), "Your answer is awaited")
		tb.do("open the proposal", chromedp.Click(chromedp.CSS(`#eng-`+e.ID+` h3 a`)), chromedp.WaitVisible(chromedp.ID("accept")))
		tb.do("accept", chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(chromedp.ID("project-h")))
		assert.Contains(t, tb.text("main"), "The engagement is agreed")
		tb.screenshot("donor-engagement-agreed.png")
		tb.do("start the project",
			chromedp.Click(chromedp.CSS(`form[action="/projects"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("transactions")),
		)
		tb.do("record a commitment",
			chromedp.SetValue(chromedp.ID("f-type"), "commitment"),
			chromedp.SendKeys(chromedp.ID("f-amount-usd"), "400000"),
			chromedp.Click(chromedp.CSS(`form.tx-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#transactions table`)),
		)
		assert.Contains(t, tb.text("#funding-h + .funding"), "US$400,000")
		tb.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		tb.screenshot("donor-project.png")
		tb.assertClean("project page")

		// Through implementation and finalisation; closing is refused until a result is
		// recorded, then goes through.
		projectPath = strings.SplitN(tb.location(), "?", 2)[0]
		tb.do("start and finalise", moveProject(tb, "2", "h1 + .iati-2"), moveProject(tb, "3", "h1 + .iati-3"))
		tb.do("close without results", moveProject(tb, "4", "#f-status-err"))
		assert.Contains(t, tb.text("#f-status-err"), "record its results first")
		assert.Contains(t, tb.text("#error-summary"), "record its results first")
		assert.Equal(t, "error-summary", tb.eval(`document.activeElement.id`), "the refusal has the focus")
		tb.screenshot("donor-project-close-refused.png")
		tb.do("record a result",
			chromedp.Click(chromedp.ID("rt-outcome")),
			chromedp.SendKeys(chromedp.ID("f-result-title"), "SOC team runs its first incident-handling services"),
			chromedp.SendKeys(chromedp.ID("f-result-baseline"), "1"),
			chromedp.SendKeys(chromedp.ID("f-result-target"), "3"),
			chromedp.SendKeys(chromedp.ID("f-result-achieved"), "2"),
			chromedp.Click(chromedp.CSS(`form.result-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#results table`)),
		)
		assert.Contains(t, tb.text("#results table"), "SOC team runs its first incident-handling services")
		tb.do("scroll to the results", chromedp.Evaluate[chromedp.Void](`document.getElementById("results").scrollIntoView({block: "start"})`))
		tb.screenshot("donor-project-results.png")
		tb.assertClean("project results")
	})

	t.Run("a proposal carries its amount; withdrawing the need asks first and releases it", func(t *testing.T) {
		const need, offer = "need-sn-legal-position", "offer-nl-legal-positions"
		item, amount := "#match-"+offer, "amt-"+need+"-"+offer
		tb := b.newTab(t)
		tb.signIn("ministry.sn@capmatch.example", pass["ministry.sn@capmatch.example"])
		tb.open("/needs/" + need)
		tb.do("open the proposal form", chromedp.WaitVisible(chromedp.CSS(item)),
			chromedp.Click(chromedp.CSS(item+" details.propose summary")), shown(amount))
		assert.NotEmpty(t, tb.eval(`document.getElementById("`+amount+`").value`), "the amount comes filled in")
		assert.Contains(t, tb.text(item+" details.propose"), "at most what remains of the offer")
		tb.do("propose US$200,000",
			chromedp.Evaluate[chromedp.Void](`document.getElementById("`+amount+`").value = ""`),
			chromedp.SendKeys(chromedp.ID(amount), "200,000"),
			chromedp.Click(chromedp.CSS(item+` form[action="/engagements"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("thread-h")),
		)
		assert.Contains(t, tb.text("main .facts"), "US$200,000")
		engID := strings.TrimPrefix(strings.SplitN(tb.location(), "?", 2)[0], "/engagements/")

		// The donor is told what accepting reserves, and accepts.
		dt := b.newTab(t)
		dt.signIn("donor.nl@capmatch.example", pass["donor.nl@capmatch.example"])
		dt.open("/engagements/" + engID)
		assert.Contains(t, dt.text("#accept-reserves"), "Accepting reserves US$200,000")
		dt.do("accept", chromedp.Click(chromedp.ID("accept")), chromedp.WaitVisible(chromedp.ID("project-h")))
		coord := s.actorByEmail("coordinator@capmatch.example", pass)
		before, err := s.app.Offers.Get(ctx, coord, offer)
		require.NoError(t, err)
		assert.Equal(t, int64(200_000), before.BudgetCommitted)

		// Withdrawing the need asks first, says what is released, and wants a reason.
		tb.open("/needs/" + need)
		tb.do("withdraw", chromedp.Click(chromedp.ID("withdraw")), chromedp.WaitVisible(chromedp.ID("effects")), tb.ready())
		assert.Contains(t, tb.text("#effects"), "1 agreed engagement will be cancelled")
		assert.Contains(t, tb.text("#released"), "US$200,000 and 1 engagement slot go back to the offers.")
		tb.screenshot("ministry-withdraw-confirm.png")
		tb.assertClean("withdrawal confirmation")
		tb.do("confirm without a reason", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("f-reason-err")), tb.ready())
		tb.do("confirm with a reason",
			chromedp.SendKeys(chromedp.ID("f-reason"), "The national budget funds it"),
			chromedp.Click(chromedp.ID("confirm")),
			chromedp.WaitVisible(chromedp.CSS("p.flash")),
		)
		assert.Contains(t, tb.text("p.flash"), "The need was withdrawn")
		e, err := s.app.Engagements.Get(ctx, coord, engID)
		require.NoError(t, err)
		assert.Equal(t, models.EngagementCancelled, e.Status)
		after, err := s.app.Offers.Get(ctx, coord, offer)
		require.NoError(t, err)
		assert.Zero(t, after.BudgetCommitted, "the amount went back to the offer")
		assert.Zero(t, after.EngagementsUsed, "and the slot")
	})

	t.Run("coordinator sees the pipeline and the funding gaps", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn("coordinator@capmatch.example", pass["coordinator@capmatch.example"])
		tb.open("/engagements")
		assert.Contains(t, tb.text("#engagement-list"), needTitle)
		tb.open("/coordinator/funding")
		rows, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart .chart-row svg.fbar").length`))
		require.NoError(t, err)
		assert.Greater(t, rows, 10, "a bar per country")
		assert.Contains(t, tb.text("#chart"), "Senegal")
		tb.screenshot("coordinator-funding.png")
		tb.assertClean("funding chart")
		tb.do("open the allocation proposal", chromedp.Click(chromedp.CSS(`#menu-delivery summary`)),
			chromedp.Click(chromedp.CSS(`#menu-delivery a[href="/coordinator/allocation"]`)), chromedp.WaitVisible(chromedp.ID("allocation")))
		pairs, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#allocation tbody tr").length`))
		require.NoError(t, err)
		assert.Greater(t, pairs, 3, "open offers paired with open needs")
		tb.screenshot("coordinator-allocation.png")
		tb.assertClean("allocation proposal")
		tb.open("/map?metric=projects")
		assert.Contains(t, tb.eval(`document.querySelector('svg.world a[href="/countries/SN"]').getAttribute("aria-label")`), "1 active project")

		// The donor recorded the project's result: the coordinator closes it, which fulfils
		// the need.
		require.NotEmpty(t, projectPath)
		tb.open(projectPath)
		tb.do("close", moveProject(tb, "4", "h1 + .iati-4"))
		assert.Contains(t, tb.text("#status"), "no longer changes")
		tb.assertClean("closed project")
		got, err := s.app.Needs.Get(ctx, s.actorByEmail("coordinator@capmatch.example", pass), needID)
		require.NoError(t, err)
		assert.Equal(t, models.NeedFulfilled, got.Status, "closing the project fulfilled the need")
	})

	t.Run("coordinator runs a communication check and a PoC acknowledges through the link", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn("coordinator@capmatch.example", pass["coordinator@capmatch.example"])
		tb.open("/coordinator/poc-checks")
		tb.do("run a check on Senegal",
			chromedp.Click(chromedp.ID("scope-countries")),
			chromedp.Click(chromedp.ID("cc-SN")),
			chromedp.Click(chromedp.CSS(`#run-check button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("check-results")),
		)
		assert.True(t, strings.HasPrefix(tb.location(), "/coordinator/poc-checks/"), tb.location())
		checkPath := strings.SplitN(tb.location(), "?", 2)[0]
		assert.Contains(t, tb.text("#check-results"), "Awaited")
		tb.screenshot("coordinator-poc-check.png")
		tb.assertClean("check results")

		// The e-mails go out in the background, to the outbox (no SMTP server here).
		var link string
		deadline := time.Now().Add(20 * time.Second)
		for link == "" && time.Now().Before(deadline) {
			tb.open("/coordinator/outbox")
			link = tb.eval(`(function(){var a=document.querySelector("#outbox a.ack-link");return a?a.getAttribute("href"):""})()`)
		}
		require.NotEmpty(t, link, "the outbox shows the check's e-mail with its link")
		tb.screenshot("coordinator-outbox.png")

		// The contact opens the link without signing in: a confirmation page; the button
		// acknowledges.
		contact := b.newTab(t)
		contact.open(link)
		assert.Contains(t, contact.text("main"), "Senegal")
		v, err := s.app.PoCChecks.Get(ctx, s.actorByEmail("coordinator@capmatch.example", pass), strings.TrimPrefix(checkPath, "/coordinator/poc-checks/"))
		require.NoError(t, err)
		assert.Zero(t, v.Summary.Acknowledged, "opening the link acknowledges nothing")
		contact.screenshot("poc-acknowledge.png")
		contact.do("acknowledge", chromedp.Click(chromedp.ID("acknowledge")), chromedp.WaitVisible(chromedp.ID("ack-done")))
		contact.assertClean("acknowledgement")

		tb.open(checkPath)
		assert.Contains(t, tb.text("#check-summary"), "1 Acknowledged")
		tb.open("/map?metric=pocs")
		assert.Contains(t, tb.eval(`document.querySelector('svg.world a[href="/countries/SN"]').getAttribute("aria-label")`), "Acknowledged the last check")
		tb.open("/countries/SN")
		assert.Contains(t, tb.text("#poc-reachable"), "Yes")
		assert.Contains(t, tb.text("#pocs"), "Head of incident response", "coordinators see the contacts")
	})

	t.Run("with JavaScript off the guided form still works", func(t *testing.T) {
		tb := b.newTab(t)
		_, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		require.NoError(t, err)
		submit := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
		tb.do("sign in without scripts",
			chromedp.Navigate(tb.base+"/signin"),
			chromedp.WaitVisible(chromedp.ID("f-email")),
			chromedp.SendKeys(chromedp.ID("f-email"), "ministry.gm@capmatch.example"),
			chromedp.SendKeys(chromedp.ID("f-password"), pass["ministry.gm@capmatch.example"]),
			submit(`form[action="/signin"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS("form.signout")),
			chromedp.Navigate(tb.base+"/ministry/needs/new"),
			chromedp.WaitVisible(chromedp.ID("theme-cybercrime")),
			chromedp.Click(chromedp.ID("theme-cybercrime")),
			submit(`#step-theme button[value=refresh]`),
			chromedp.WaitVisible(chromedp.ID("cap-cybercrime_legislation")),
			chromedp.Click(chromedp.ID("cap-cybercrime_legislation")),
			submit(`#step-capability button[value=refresh]`),
			chromedp.WaitVisible(chromedp.ID("f-title")),
			chromedp.SendKeys(chromedp.ID("f-title"), "Cybercrime bill drafting support (no script)"),
			chromedp.Click(chromedp.ID("mod-policy_advice")),
			chromedp.Click(chromedp.ID("lang-en")),
			chromedp.SendKeys(chromedp.ID("f-budget-usd"), "150000"),
			chromedp.SetValue(chromedp.ID("f-start-by"), string(models.DateOf(time.Now().AddDate(0, 2, 0)))),
			chromedp.SendKeys(chromedp.ID("f-duration-months"), "12"),
			submit(`.submit-row button[value=save]`),
			chromedp.WaitVisible(chromedp.ID("my-needs")),
		)
		assert.Contains(t, tb.text("#my-needs"), "Cybercrime bill drafting support (no script)")
		tb.do("the menus open without scripts", chromedp.Click(chromedp.CSS(`#menu-browse summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#menu-browse a[href="/map"]`)), chromedp.Click(chromedp.CSS(`#menu-browse a[href="/map"]`)),
			chromedp.WaitVisible(chromedp.CSS("svg.world")))
		assert.Equal(t, "false", tb.eval(`String(document.documentElement.classList.contains("js"))`), "no script ran")
	})

	var assessmentPath string
	t.Run("ministry completes a self-assessment and submits one proposed need", func(t *testing.T) {
		tb := b.newTab(t)
		tb.signIn("ministry.sn@capmatch.example", pass["ministry.sn@capmatch.example"])
		tb.open("/countries/SN")
		tb.do("open the self-assessments",
			chromedp.Click(chromedp.ID("assessments-link")),
			chromedp.WaitVisible(chromedp.ID("new-assessment")),
			chromedp.Click(chromedp.ID("new-assessment")),
			chromedp.WaitVisible(chromedp.ID("assessment-form")),
			tb.ready(),
		)
		tb.assertClean("questionnaire")
		// Most of Senegal's answers are at the top of their scales (a script ticks them, as a
		// person would one by one); awareness is where it stands low, and the CERT's SIM3 level
		// is the one the profile states.
		tb.do("answer", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("fieldset.question").forEach(function (q) {
			var r = q.querySelectorAll('input[type=radio]:not([value=""])'); r[r.length - 1].checked = true; })`))
		tb.do("the answers that matter here",
			chromedp.Click(chromedp.ID("f-answers-cmm-mindset-2")),
			chromedp.Click(chromedp.ID("f-answers-cmm-awareness-programmes-1")),
			chromedp.Click(chromedp.ID("f-answers-cert-sim3-1")),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-answers-cmm-mindset details.comment").open = true`),
			chromedp.SendKeys(chromedp.ID("f-comments-cmm-mindset"), "Awareness is limited outside Dakar."),
		)
		tb.do("scroll to the culture questions", chromedp.Evaluate[chromedp.Void](`document.getElementById("area-cmm_culture_society").scrollIntoView({block: "start"})`))
		tb.screenshot("ministry-self-assessment.png")
		tb.do("submit the self-assessment",
			chromedp.Click(chromedp.ID("submit-assessment")),
			chromedp.WaitVisible(chromedp.ID("proposal-list")),
		)
		assessmentPath = strings.SplitN(tb.location(), "?", 2)[0]
		assert.Regexp(t, `^/countries/SN/assessments/[0-9a-z]+$`, assessmentPath)
		tb.assertClean("results")
		bars, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#bars-summary svg.bar").length`))
		require.NoError(t, err)
		assert.Equal(t, 9, bars, "a bar per area")
		assert.Contains(t, tb.text("#proposal-awareness"), "Review and edit")
		tb.do("top of the results", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		tb.screenshot("ministry-assessment-results.png")

		tb.do("review and edit the proposed awareness need",
			chromedp.Click(chromedp.CSS("#proposal-awareness a.review")),
			chromedp.WaitVisible(chromedp.ID("f-budget-usd")),
			tb.ready(),
		)
		assert.Regexp(t, `^/ministry/needs/[0-9a-z]+/edit$`, tb.location())
		needPath := strings.TrimSuffix(strings.Replace(tb.location(), "/ministry/needs/", "/needs/", 1), "/edit")
		tb.do("edit and submit",
			chromedp.SetValue(chromedp.ID("f-budget-usd"), "180000"),
			chromedp.Click(chromedp.CSS(`button[name=op][value=submit]:not(.default-submit)`)),
			chromedp.WaitVisible(chromedp.CSS(".flash")),
		)
		assert.True(t, strings.HasPrefix(tb.location(), needPath+"?ok=need_submitted"), tb.location())
		got, err := s.app.Needs.Get(ctx, s.actorByEmail("ministry.sn@capmatch.example", pass), strings.TrimPrefix(needPath, "/needs/"))
		require.NoError(t, err)
		assert.Equal(t, models.NeedSubmitted, got.Status)
		assert.Equal(t, models.CapAwareness, got.Capability)
		assert.Equal(t, int64(180000), got.BudgetUSD)
		assert.Equal(t, models.VisibilityDonors, got.Visibility)
		require.NotNil(t, got.Proposal)
		tb.assertClean("submitted need")
	})

	t.Run("pages fit a 360 px screen", func(t *testing.T) {
		tb := b.newTab(t)
		tb.do("narrow", chromedp.EmulateViewport(360, 740))
		for _, path := range []string{"/", "/needs", "/offers", "/countries", "/countries/SN", "/map", "/signin", "/needs/" + needID} {
			tb.open(path)
			w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			require.NoError(t, err)
			assert.LessOrEqual(t, w, 360, "%s scrolls sideways at 360 px", path)
		}
		tb.signIn("ministry.sn@capmatch.example", pass["ministry.sn@capmatch.example"])
		// The ranked matches come right after the title and a summary line, on the first
		// screen, not below the whole description (they were ~1,900 px down).
		long := longestOpenNeed(s, "SN")
		tb.open("/needs/" + long.ID)
		tb.do("matches", chromedp.WaitVisible(chromedp.CSS("#matches .match")))
		top, err := chromedp.Run(tb.ctx, chromedp.Evaluate[float64](`document.getElementById("matches-h").getBoundingClientRect().top + window.scrollY`))
		require.NoError(t, err)
		assert.Less(t, top, 740.0, "the matches' heading is on the first screen of a 360×740 phone")
		first, err := chromedp.Run(tb.ctx, chromedp.Evaluate[float64](`document.querySelector("#matches .match").getBoundingClientRect().top + window.scrollY`))
		require.NoError(t, err)
		assert.Less(t, first, 1000.0, "the best match starts within a screen and a half")
		tb.screenshot("ministry-matches-360px.png")
		// Menus stay in the flow of the page on a phone.
		tb.do("open the browse menu", chromedp.Click(chromedp.CSS(`#menu-browse summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#menu-browse a[href="/map"]`)))
		w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		assert.LessOrEqual(t, w, 360, "an open menu does not make the page scroll sideways")
		paths := []string{"/ministry", "/ministry/needs/new?theme=cybercrime", "/countries/SN/readiness", "/countries/SN/assessments/new"}
		if assessmentPath != "" {
			paths = append(paths, assessmentPath)
		}
		for _, path := range paths {
			tb.open(path)
			w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			require.NoError(t, err)
			assert.LessOrEqual(t, w, 360, "%s scrolls sideways at 360 px", path)
		}
		tb.open("/ministry")
		tb.screenshot("ministry-360px.png")
	})

	t.Logf("browser flows took %s", time.Since(start).Round(time.Millisecond))
}

// longestOpenNeed is the open need of the country with the longest description: the page
// where the matches were pushed furthest down.
func longestOpenNeed(s *stack, iso string) *models.Need {
	var best *models.Need
	for _, n := range s.h.Needs() {
		if n.Country == iso && n.Status == models.NeedOpen && (best == nil || len(n.Description) > len(best.Description)) {
			best = n
		}
	}
	require.NotNil(s.t, best, "an open need of %s", iso)
	return best
}

// navLines counts the lines the main navigation's top-level entries take.
const navLines = `String(new Set([...document.querySelectorAll(".main-nav > ul > li")].map(function (li) { return li.offsetTop; })).size)`

// cutSelects lists the filter selects narrower than their longest choice: each is measured
// against a hidden copy laid out at its natural width.
const cutSelects = `[...document.querySelectorAll(".filters select")].filter(function (s) {
	var c = s.cloneNode(true);
	c.style.width = "auto"; c.style.maxWidth = "none"; c.style.position = "absolute"; c.style.visibility = "hidden";
	document.body.appendChild(c);
	var need = c.getBoundingClientRect().width;
	c.remove();
	return s.getBoundingClientRect().width + 0.5 < need;
}).map(function (s) { return s.id; }).join(" ")`

// moveProject changes the status of the project open in the tab with its status form and
// waits for sel on the page that comes back, and for its scripts.
func moveProject(tb *tab, to, sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("f-status"), to),
			chromedp.Click(chromedp.CSS(`#status button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(sel)), tb.ready())
	}
}

// actorByEmail signs a demo account in through the service.
func (s *stack) actorByEmail(email string, pass map[string]string) *models.Actor {
	s.t.Helper()
	pair, err := s.app.Auth.Login(context.Background(), email, pass[email], "10.8.8.8")
	require.NoError(s.t, err)
	a, err := s.app.Auth.Authenticate(context.Background(), pair.AccessToken)
	require.NoError(s.t, err)
	return &a
}

// shrinkPNG re-encodes a screenshot with at most 256 colours, which keeps text and flat UI
// colours intact and makes the committed images several times smaller.
func shrinkPNG(in []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	bnds := img.Bounds()
	key := func(c color.Color) uint32 {
		r, g, b, _ := c.RGBA()
		return (r>>11)<<10 | (g>>11)<<5 | b>>11
	}
	type acc struct{ n, r, g, b uint64 }
	hist := map[uint32]*acc{}
	for y := bnds.Min.Y; y < bnds.Max.Y; y++ {
		for x := bnds.Min.X; x < bnds.Max.X; x++ {
			c := img.At(x, y)
			r, g, b, _ := c.RGBA()
			k := key(c)
			a := hist[k]
			if a == nil {
				a = &acc{}
				hist[k] = a
			}
			a.n++
			a.r += uint64(r >> 8)
			a.g += uint64(g >> 8)
			a.b += uint64(b >> 8)
		}
	}
	keys := make([]uint32, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return hist[keys[i]].n > hist[keys[j]].n })
	if len(keys) > 256 {
		keys = keys[:256]
	}
	pal := make(color.Palette, 0, len(keys))
	for _, k := range keys {
		a := hist[k]
		pal = append(pal, color.RGBA{uint8(a.r / a.n), uint8(a.g / a.n), uint8(a.b / a.n), 255})
	}
	out := image.NewPaletted(bnds, pal)
	memo := map[uint32]uint8{}
	for y := bnds.Min.Y; y < bnds.Max.Y; y++ {
		for x := bnds.Min.X; x < bnds.Max.X; x++ {
			c := img.At(x, y)
			k := key(c)
			i, ok := memo[k]
			if !ok {
				i = uint8(pal.Index(c))
				memo[k] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
