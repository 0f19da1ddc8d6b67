package web

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFallbackRoutesMatchTheirPathsOnly(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		ok            bool
		id            string
	}{
		{"/projects/:id/results", "/projects/prj-1/results", true, "prj-1"},
		{"/projects/:id/results", "/projects/prj-1/results/", true, "prj-1"},
		{"/projects/:id/results", "/projects//results", false, ""},
		{"/projects/:id/results", "/projects/prj-1/documents", false, ""},
		{"/projects/:id/results", "/projects/prj-1/results/x", false, ""},
		{"/notifications", "/notifications", true, ""},
		{"/notifications", "/Notifications", true, ""},
		{"/notifications", "/notifications/read-all", false, ""},
		{"/notifications", "/", false, ""},
	} {
		params, ok := match(tc.pattern, tc.path)
		assert.Equal(t, tc.ok, ok, "%s %s", tc.pattern, tc.path)
		assert.Equal(t, tc.id, params["id"], "%s %s", tc.pattern, tc.path)
	}
}
