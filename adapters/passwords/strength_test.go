package passwords

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWeakPasswordsAreRefused (issue 13.6): length was the only rule, so "aaaaaaaaaaaa" and
// "password1234" were accepted. Check refuses common, breached, patterned and personal
// passwords by zxcvbn's estimate of how many guesses they take.
func TestWeakPasswordsAreRefused(t *testing.T) {
	for _, weak := range []string{
		"aaaaaaaaaaaa", "password1234", "Password1234!", "qwertyuiop123", "iloveyou12345", "123456789012",
		"P@ssw0rd2024!", "abcdefghijklmnop", "letmeinletmein", "trustno1trustno1", "monkey1234567",
		"capmatch2026", "diallo.amadou1", // built from the service name or the user's own name and e-mail
		strings.Repeat("password", 128), // over the scored prefix, a repeated word is still weak
	} {
		assert.Error(t, Check(weak, "amadou.diallo@mfa.sn.example", "Amadou Diallo"), weak)
	}
	refusal := func(err error) *models.WeakPasswordError {
		t.Helper()
		var w *models.WeakPasswordError
		require.ErrorAs(t, err, &w)
		assert.ErrorIs(t, err, models.ErrWeakPassword)
		return w
	}
	for _, short := range []string{"", "Tr0ub4dor&3", "ñandú-7kçx"} {
		w := refusal(Check(short))
		assert.Equal(t, models.ProblemPasswordShort, w.Code, short)
		assert.Equal(t, models.ArgInt(12), w.Args["min"])
	}
	w := refusal(Check(strings.Repeat("x9!", 400)))
	assert.Equal(t, models.ProblemPasswordLong, w.Code)
	assert.Equal(t, models.ArgInt(1024), w.Args["max"])
	assert.Equal(t, models.ProblemPasswordWeak, refusal(Check("password1234")).Code)
	assert.Equal(t, models.ProblemPasswordPersonal, refusal(Check("diallo.amadou1", "amadou.diallo@mfa.sn.example", "Amadou Diallo")).Code)
	for _, strong := range []string{
		"correct horse battery staple", "demo-ministry-sn!", "Kigali rain on tin roofs at dusk",
		"mango-otter-quilt-91", "ǂHoan Ju|'hoan dialogue 2031", "les cerfs-volants de Dakar",
	} {
		assert.NoError(t, Check(strong, "amadou.diallo@mfa.sn.example", "Amadou Diallo"), strong)
	}
}

// TestCheckIsBoundedInTime: zxcvbn's matching grows quickly with length (a 1,024-character
// password took 29 s); only the first MaxScoredRunes are scored.
func TestCheckIsBoundedInTime(t *testing.T) {
	for _, p := range []string{strings.Repeat("ab1!", 256), strings.Repeat("aA1!zZ9@", 128), strings.Repeat("é", 500)} {
		start := time.Now()
		_ = Check(p)
		assert.Less(t, time.Since(start), 2*time.Second, "%d runes", utf8.RuneCountInString(p))
	}
}
