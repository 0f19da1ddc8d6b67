package passwords

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"))
	assert.NotContains(t, h, "correct horse")
	require.NoError(t, Verify(h, "correct horse battery staple"))
	assert.ErrorIs(t, Verify(h, "correct horse battery stapl"), ErrMismatch)

	h2, err := Hash("correct horse battery staple")
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "salted")
}

func TestUnknownAccountAlwaysFails(t *testing.T) {
	assert.ErrorIs(t, Verify("", ""), ErrMismatch)
	assert.ErrorIs(t, Verify("", "anything at all"), ErrMismatch)
}

func TestMalformedHash(t *testing.T) {
	for _, h := range []string{"plain", "$bcrypt$x$y$z$w", "$argon2id$v=18$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		err := Verify(h, "x")
		assert.Error(t, err, h)
		assert.NotErrorIs(t, err, nil)
	}
}

// TestUnknownAccountCostsTheSame: checking a password for an account that does not exist runs
// the same argon2id work as a wrong password for one that does, so response times do not tell
// which e-mails are registered. Medians of several runs must be within a factor of two (the
// work is identical; the bound only absorbs scheduling noise).
func TestUnknownAccountCostsTheSame(t *testing.T) {
	h, err := Hash("the real password of someone")
	require.NoError(t, err)
	median := func(f func()) time.Duration {
		var d []time.Duration
		for i := 0; i < 7; i++ {
			start := time.Now()
			f()
			d = append(d, time.Since(start))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	wrong := median(func() { _ = Verify(h, "a wrong guess at it") })
	unknown := median(func() { _ = Verify("", "a wrong guess at it") })
	t.Logf("wrong password %v, unknown account %v", wrong, unknown)
	ratio := float64(unknown) / float64(wrong)
	assert.Greater(t, ratio, 0.5)
	assert.Less(t, ratio, 2.0)
}
