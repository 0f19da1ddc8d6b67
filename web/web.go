// Package web is capmatch's browser UI, embedded in the binary so that one program serves
// both the API and the pages, with no CDN (users are often on slow, filtered networks).
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static is the file system of the UI's static assets, rooted at the static directory.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}
