package api

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// setHeader sets a response header on the hot paths (kept answers, the language of every
// answer). key must be in canonical form (as the fiber.Header* constants are) and value free of
// line breaks (constants, entity tags, language codes): fasthttp's Set would otherwise copy and
// normalise the key and scan the value on every request, which showed as a tenth of a kept
// ranking's CPU (BENCHMARKS.md, issue 16 target 1). fasthttp copies both into the response.
func setHeader(c *fiber.Ctx, key, value string) {
	c.Response().Header.SetCanonical(utils.UnsafeBytes(key), utils.UnsafeBytes(value))
}

// vary adds field to the response's Vary header unless it is listed already. Our own fields
// only (canonical names, compared as written), so that no parsing is needed; fiber's Vary
// splits and rebuilds the whole header on every call.
func vary(c *fiber.Ctx, field string) {
	h := &c.Response().Header
	cur := h.Peek(fiber.HeaderVary)
	if len(cur) == 0 {
		setHeader(c, fiber.HeaderVary, field)
		return
	}
	if listed(cur, field) {
		return
	}
	v := make([]byte, 0, len(cur)+2+len(field))
	v = append(append(append(v, cur...), ", "...), field...)
	h.SetCanonical(utils.UnsafeBytes(fiber.HeaderVary), v)
}

// listed reports whether a comma-separated header value names field (ASCII case-insensitive).
func listed(value []byte, field string) bool {
	for len(value) > 0 {
		var item []byte
		item, value, _ = bytes.Cut(value, []byte{','})
		if bytes.EqualFold(bytes.TrimSpace(item), utils.UnsafeBytes(field)) {
			return true
		}
	}
	return false
}
