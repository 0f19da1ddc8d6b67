package service

import (
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
)

// TestLocalLimiterBacksOffLikeRedis: while Redis is down the in-process counter applies the
// same back-off: free failures, then waits that double, failures forgotten after Memory, and
// a success (clear) lifts everything.
func TestLocalLimiterBacksOffLikeRedis(t *testing.T) {
	var l localLimiter
	b := models.Backoff{Free: 2, Base: time.Second, Max: 4 * time.Second, Memory: time.Minute}
	now := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	var waits []time.Duration
	for range 6 {
		l.fail(now, "k", b)
		waits = append(waits, l.wait(now, "other", "k"))
	}
	assert.Equal(t, []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, waits)
	assert.Equal(t, 3*time.Second, l.wait(now.Add(time.Second), "k"), "the wait runs down")
	assert.Zero(t, l.wait(now.Add(5*time.Second), "k"), "and ends")
	l.fail(now.Add(2*time.Minute), "k", b)
	assert.Zero(t, l.wait(now.Add(2*time.Minute), "k"), "failures are forgotten after Memory: this one is free")
	l.fail(now.Add(2*time.Minute), "k", b)
	l.fail(now.Add(2*time.Minute), "k", b)
	assert.Equal(t, time.Second, l.wait(now.Add(2*time.Minute), "k"))
	l.clear("k")
	assert.Zero(t, l.wait(now.Add(2*time.Minute), "k"), "a success lifts the wait")
}

// TestLoginKeys: IPv6 clients are counted by /64, IPv4 (also when mapped) by address, and the
// account key hides the e-mail address.
func TestLoginKeys(t *testing.T) {
	assert.Equal(t, loginAddressKey("2001:db8:1:2:aaaa::1"), loginAddressKey("2001:db8:1:2:bbbb::2"))
	assert.NotEqual(t, loginAddressKey("2001:db8:1:2::1"), loginAddressKey("2001:db8:1:3::1"))
	assert.Equal(t, "login:addr:192.0.2.7", loginAddressKey("::ffff:192.0.2.7"))
	assert.NotEqual(t, loginAddressKey("192.0.2.7"), loginAddressKey("192.0.2.8"))
	k := loginAccountKey("admin@capmatch.example", "192.0.2.7")
	assert.NotContains(t, k, "admin")
	assert.NotEqual(t, k, loginAccountKey("admin@capmatch.example", "192.0.2.8"))
	assert.Equal(t, loginAccountKey("a@b.example", "2001:db8::1"), loginAccountKey("a@b.example", "2001:db8::2"))
}
