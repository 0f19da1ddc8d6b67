package models

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new object id: 6 bytes of milliseconds since the epoch followed by 9 random
// bytes, in lower-case Crockford-style base32 (24 characters). Ids sort by creation time, are
// safe in URLs, and need no coordination between replicas. Within one millisecond, the ids one
// process makes sort in the order it made them (the random part of the first, then counted up,
// as ULIDs do): times are kept to the millisecond (StoredTime), so lists, which order objects
// created in the same millisecond by id, keep them in creation order.
func NewID(now time.Time) string {
	var b [15]byte
	var ms [8]byte
	t := uint64(now.UnixMilli())
	binary.BigEndian.PutUint64(ms[:], t)
	copy(b[:6], ms[2:])
	idMu.Lock()
	if t == idLastMs && countUp(&idLastRand) {
		copy(b[6:], idLastRand[:])
	} else {
		_, _ = rand.Read(b[6:])
		idLastMs = t
		copy(idLastRand[:], b[6:])
	}
	idMu.Unlock()
	return idEncoding.EncodeToString(b[:])
}

// The last millisecond NewID saw and the random part it used last in it.
var (
	idMu       sync.Mutex
	idLastMs   uint64
	idLastRand [9]byte
)

// countUp counts r up by one (big-endian); false when it overflows, and then a fresh random part
// is drawn (an id may then sort out of order within that millisecond, once in 2^72).
func countUp(r *[9]byte) bool {
	for i := len(r) - 1; i >= 0; i-- {
		r[i]++
		if r[i] != 0 {
			return true
		}
	}
	return false
}

// ValidID reports whether s could be an object id: short, and made of the characters ids use.
// Path parameters are checked with it before any lookup.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0
}
