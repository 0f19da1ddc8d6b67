package i18n

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNegotiateRemembersABoundedNumberOfHeaders: remembered answers are the answers, and a client sending endless
// distinct headers does not grow the memory past acceptedMax.
func TestNegotiateRemembersABoundedNumberOfHeaders(t *testing.T) {
	c := Default()
	for _, tc := range []struct{ pref, accept, want string }{
		{"", "", "en"},
		{"", "fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"", "fr-CH, fr;q=0.9, en;q=0.8", "fr"}, // remembered
		{"es", "fr-CH, fr;q=0.9", "es"},
		{"xx", "ar", "ar"},
		{"", "de-DE, *;q=0.1", "en"},
		{"", ";;;garbage", "en"},
	} {
		assert.Equal(t, tc.want, c.Negotiate(tc.pref, tc.accept), "%q %q", tc.pref, tc.accept)
	}
	for i := range 3 * acceptedMax {
		c.Negotiate("", fmt.Sprintf("x-%d, es;q=0.5", i))
	}
	assert.LessOrEqual(t, int(c.acceptedSize.Load()), acceptedMax)
	assert.Equal(t, "es", c.Negotiate("", "x-99999, es;q=0.5"), "past the bound, headers are still negotiated")
}
