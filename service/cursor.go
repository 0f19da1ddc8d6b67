package service

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// Cursors encodes list positions as opaque, tamper-proof strings: the position and a digest of
// the query it belongs to, signed with HMAC-SHA256. A cursor cannot be forged, edited or used
// with other filters than the ones that produced it.
type Cursors struct {
	key []byte
}

// NewCursors returns a codec keyed by key (shared by every replica).
func NewCursors(key []byte) *Cursors {
	k := sha256.Sum256(append([]byte("capmatch-cursor:"), key...))
	return &Cursors{key: k[:]}
}

type cursorBody struct {
	K readmodel.Key `json:"k"`
	Q string        `json:"q"`
}

// Encode makes a cursor for the position k in the list answered for query (a canonical string
// of the filters and order).
func (c *Cursors) Encode(k *readmodel.Key, query string) string {
	if k == nil {
		return ""
	}
	b, _ := json.Marshal(cursorBody{K: *k, Q: digest(query)})
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + base64.RawURLEncoding.EncodeToString(c.sign(body))
}

// Decode checks a cursor and returns its position; a bad, forged or foreign cursor is a 422 on
// the cursor field.
func (c *Cursors) Decode(s, query string) (*readmodel.Key, error) {
	if s == "" {
		return nil, nil
	}
	bad := &models.Error{Kind: models.ErrInvalid, Detail: "invalid cursor",
		Fields: []models.FieldError{{Field: "cursor", Code: models.ProblemCursor}}}
	body, sig, ok := strings.Cut(s, ".")
	if !ok || len(s) > 512 {
		return nil, bad
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, c.sign(body)) {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, bad
	}
	var cb cursorBody
	if err := json.Unmarshal(raw, &cb); err != nil || cb.Q != digest(query) {
		return nil, bad
	}
	return &cb.K, nil
}

func (c *Cursors) sign(body string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(body))
	return m.Sum(nil)[:16]
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}
