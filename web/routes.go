package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Route is one page or form of the UI as a route table mounts it (Fiber path syntax).
type Route struct {
	Method  string
	Path    string
	Handler fiber.Handler
}

// Routes are the UI's pages and forms that the "Web UI" block of api/routes.go does not list
// yet: the project results and documents forms, the allocation proposal, the IATI download
// and the notifications feed. routes.go may mount them like any other
// (app.Add(r.Method, r.Path, r.Handler)); until it does, NotFound, which it mounts last,
// serves them, so that they work without a change to package api.
func (u *UI) Routes() []Route {
	return []Route{
		{fiber.MethodPost, "/projects/:id/results", u.AddResult()},
		{fiber.MethodPost, "/projects/:id/documents", u.AddDocument()},
		{fiber.MethodGet, "/coordinator/allocation", u.Allocation()},
		{fiber.MethodGet, "/export/iati.xml", u.IATIExport()},
		{fiber.MethodGet, "/notifications", u.Notifications()},
		{fiber.MethodPost, "/notifications/read-all", u.ReadAllNotifications()},
	}
}

// fallbackParams is the Locals key of the path parameters a fallback route bound, read by
// req.param where Fiber's own Params are empty.
type fallbackParams struct{}

// match reports whether a request path fits a route path, binding its ":name" segments.
func match(pattern, path string) (map[string]string, bool) {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range ps {
		switch {
		case strings.HasPrefix(p, ":"):
			if xs[i] == "" {
				return nil, false
			}
			params[p[1:]] = xs[i]
		case !strings.EqualFold(p, xs[i]):
			return nil, false
		}
	}
	return params, true
}

// fallback finds the route of Routes that answers a request nothing else matched; nil when
// none does. A HEAD is answered as its GET.
func fallback(routes []Route, c *fiber.Ctx) fiber.Handler {
	method := c.Method()
	if method == fiber.MethodHead {
		method = fiber.MethodGet
	}
	for _, rt := range routes {
		if rt.Method != method {
			continue
		}
		if params, ok := match(rt.Path, c.Path()); ok {
			c.Locals(fallbackParams{}, params)
			return rt.Handler
		}
	}
	return nil
}

// param is a path parameter, whether the route table or the fallback bound it.
func (r *req) param(name string) string {
	if v := r.c.Params(name); v != "" {
		return v
	}
	m, _ := r.c.Locals(fallbackParams{}).(map[string]string)
	return m[name]
}
