package passwords

import (
	"strings"
	"testing"

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
