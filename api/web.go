package api

import (
	"github.com/capmatch/capmatch/web"
)

// webUI builds the browser UI on the same use cases the API serves (s.deps.App), so pages and
// API apply one set of rules. The UI's own pages set a stricter Content-Security-Policy than
// the API's default (no inline styles); /docs keeps the default because Swagger UI needs them.
func (s *Server) webUI() *web.UI {
	return web.New(web.Deps{App: s.deps.App, Log: s.deps.Log})
}
