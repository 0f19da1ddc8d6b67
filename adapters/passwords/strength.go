package passwords

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
	"github.com/trustelem/zxcvbn"
)

// MaxBytes is the longest password accepted: argon2id's cost does not depend on it, but
// nothing legitimate is longer.
const MaxBytes = models.PasswordMaxBytes

// MinScore is the lowest zxcvbn score accepted: 3, "safely unguessable", about 10^8 guesses
// or more. Scores 0 to 2 cover what is on the lists of leaked passwords zxcvbn embeds, common
// words and names, keyboard walks, repeats, sequences, dates and their l33t variants.
const MinScore = 3

// MaxScoredRunes bounds what is scored: zxcvbn's matching grows steeply with length (a
// 1,024-character password took 29 s), and a passphrase is judged well by its start. What
// follows can only make a password stronger than its score says.
const MaxScoredRunes = 64

// ErrWeak is the kind of every refusal of Check: the domain's models.ErrWeakPassword.
var ErrWeak = models.ErrWeakPassword

// Check refuses a password that is too short, too long, or too easy to guess. zxcvbn
// (github.com/trustelem/zxcvbn, a Go port of Dropbox's estimator, with its frequency lists of
// leaked passwords, English words, names and surnames compiled into the binary, so nothing is
// fetched at run time) estimates the guesses a password takes. The user's own data (e-mail
// address and its parts, name) and the service's name count as known words, so "capmatch2026"
// or a password built from one's own name is refused too. The refusal (a
// *models.WeakPasswordError) says why as a problem code, and never repeats the password.
func Check(password string, userInputs ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinLength:
		return &models.WeakPasswordError{Code: models.ProblemPasswordShort, Args: models.Args{"min": models.ArgInt(MinLength)}}
	case len(password) > MaxBytes:
		return &models.WeakPasswordError{Code: models.ProblemPasswordLong, Args: models.Args{"max": models.ArgInt(MaxBytes)}}
	case !utf8.ValidString(password):
		return &models.WeakPasswordError{Code: models.ProblemInvalidUTF8}
	}
	scored := password
	if n > MaxScoredRunes {
		scored = string([]rune(password)[:MaxScoredRunes])
	}
	words := knownWords(userInputs)
	if zxcvbn.PasswordStrength(scored, words).Score < MinScore {
		return &models.WeakPasswordError{Code: models.ProblemPasswordWeak}
	}
	// zxcvbn credits a known word with little but often fails to split it from what follows
	// ("diallo.amadou1" scored as strong): what is left once the user's own words are taken out
	// must be strong on its own.
	rest := strings.ToLower(scored)
	for _, w := range words { // longest first, so an e-mail goes before its parts
		rest = strings.ReplaceAll(rest, w, " ")
	}
	if rest != strings.ToLower(scored) && zxcvbn.PasswordStrength(rest, words).Score < MinScore {
		return &models.WeakPasswordError{Code: models.ProblemPasswordPersonal}
	}
	return nil
}

// knownWords are the words a guesser would try first for this user: the inputs, their parts
// (an e-mail's local part and domain labels, a name's words) and the service's own name.
func knownWords(inputs []string) []string {
	words := []string{"capmatch", "cyber", "capacity"}
	for _, in := range inputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		words = append(words, in)
		for _, w := range strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if utf8.RuneCountInString(w) >= 3 {
				words = append(words, w)
			}
		}
	}
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) })
	return words
}
