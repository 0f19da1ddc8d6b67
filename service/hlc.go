package service

import (
	"sync"
)

// HLC is a hybrid logical clock: it moves with wall time but never backwards, and it jumps past
// any value seen in another replica's event. Changes are stamped with it, so "this cached
// ranking includes every change up to stamp s" means the same on every replica.
type HLC struct {
	mu   sync.Mutex
	last int64
	now  Clock
}

// NewHLC returns a clock reading now.
func NewHLC(now Clock) *HLC { return &HLC{now: now} }

// Tick returns a stamp greater than every stamp returned or observed before.
func (c *HLC) Tick() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.now().UnixMicro()
	if g <= c.last {
		g = c.last + 1
	}
	c.last = g
	return g
}

// Observe records a stamp from another replica.
func (c *HLC) Observe(g int64) {
	c.mu.Lock()
	if g > c.last {
		c.last = g
	}
	c.mu.Unlock()
}
