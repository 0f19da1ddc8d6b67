package passwords

import (
	"fmt"
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
// the same argon2id computation, with the same parameters, as a wrong password for one that
// does, so response times do not tell which e-mails are registered. The work is counted rather
// than timed, so the test does not depend on the machine's load; the timings are logged.
func TestUnknownAccountCostsTheSame(t *testing.T) {
	h, err := Hash("the real password of someone")
	require.NoError(t, err)
	for name, hash := range map[string]string{"wrong password": h, "unknown account": ""} {
		before := computations.Load()
		start := time.Now()
		assert.ErrorIs(t, Verify(hash, "a wrong guess at it"), ErrMismatch)
		assert.EqualValues(t, 1, computations.Load()-before, name)
		t.Logf("%s: one argon2id computation in %v", name, time.Since(start))
	}
	assert.Equal(t, dummyParams(), Default, "the dummy hash uses the production parameters")
}

// dummyParams reads the parameters the dummy hash was made with.
func dummyParams() Params {
	var p Params
	parts := strings.Split(dummy, "$")
	_, _ = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads)
	return p
}
