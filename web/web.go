// Package web is capmatch's browser UI: server-rendered pages (html/template) for ministry
// officials, donor programme officers, coordinators and anonymous visitors, in English, French
// and Spanish. It is embedded in the binary so that one program serves both the API and the
// pages, with no CDN: users are often on slow or filtered networks and older laptops.
//
// Every core flow works with JavaScript off. htmx (vendored, pinned) only spares a full page
// load where a form refreshes part of a page. The UI calls the same use cases as the API
// (*service.App), never the API over the network, so the rules (visibility, lifecycles,
// validation) are the same everywhere.
//
// The route table stays in package api (routes.go); this package provides the handlers as
// methods of UI, one per page or form.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

//go:embed static
var static embed.FS

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var i18nFS embed.FS

//go:embed mapdata/world-110m.json
var worldMapJSON []byte

// HTMXVersion is the pinned htmx release vendored in static/vendor by tools/build.mjs.
const HTMXVersion = "2.0.11"

// Static is the file system of the UI's static assets, rooted at the static directory.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// Deps are what the UI needs from the rest of the program.
type Deps struct {
	// App holds the use cases the pages call; the same ones the API calls.
	App *service.App
	Log *slog.Logger
	// Now is the clock (tests may fix it); nil means time.Now.
	Now func() time.Time
}

// UI is the browser UI: templates, message catalogs, the map, and the session and CSRF
// machinery. Build one with New; its methods return the Fiber handlers that api's route
// table mounts.
type UI struct {
	app    *service.App
	log    *slog.Logger
	now    func() time.Time
	pages  map[string]pageTemplate
	cats   *i18n.Catalog
	world  *worldMap
	assets map[string]string // static path → cache-busting version

	refresh refresher
	viewers viewerCache

	csrfMu  sync.Mutex
	csrfKey []byte
}

// New builds the UI. It parses the embedded templates, message catalogs and map data, and
// panics when they are broken: they are compiled into the binary, and tests parse them.
func New(d Deps) *UI {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	u := &UI{app: d.App, log: d.Log, now: d.Now}
	var err error
	if u.cats, err = loadCatalogs(i18nFS); err != nil {
		panic(fmt.Sprintf("web: message catalogs: %v", err))
	}
	if u.assets, err = assetVersions(Static()); err != nil {
		panic(fmt.Sprintf("web: static assets: %v", err))
	}
	if u.pages, err = u.parseTemplates(); err != nil {
		panic(fmt.Sprintf("web: templates: %v", err))
	}
	if u.world, err = loadWorldMap(worldMapJSON); err != nil {
		panic(fmt.Sprintf("web: world map: %v", err))
	}
	u.refresh.grace = refreshGrace
	u.viewers.ttl = time.Minute
	return u
}

// assetVersions fingerprints every static file, so that pages can reference them with a
// version query and browsers may cache them for a year: a change in the binary changes the
// URL.
func assetVersions(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}

// assetURL is the versioned URL of a static file; templates call it as {{asset "css/site.css"}}.
func (u *UI) assetURL(path string) (string, error) {
	v, ok := u.assets[path]
	if !ok {
		return "", fmt.Errorf("no static asset %q", path)
	}
	return "/static/" + path + "?v=" + v, nil
}

// Favicon serves the site icon at /favicon.ico, where browsers (and feed readers, and the API
// docs page) ask for it without being told: a 1 kB ICO with a 16 and a 32 pixel image. Pages
// link the same file under its versioned /static URL.
func (u *UI) Favicon() fiber.Handler {
	ico, err := fs.ReadFile(Static(), "favicon.ico")
	if err != nil {
		panic(fmt.Sprintf("web: favicon: %v", err))
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "image/x-icon")
		c.Set(fiber.HeaderCacheControl, "public, max-age=604800")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(ico)
	}
}

// Assets serves the UI's static files from the binary. URLs carry a content version, so the
// files are cacheable for a year.
func (u *UI) Assets() fiber.Handler {
	fsHandler := filesystem.New(filesystem.Config{Root: http.FS(Static()), MaxAge: 365 * 24 * 3600})
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return fsHandler(c)
	}
}
