package api

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// handleHealthz answers 200 while the process runs (liveness).
func (s *Server) handleHealthz() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	}
}

// handleReadyz answers 200 when every dependency answers, else 503 naming the ones that do not.
// It also answers 503 while the server drains before shutdown.
func (s *Server) handleReadyz() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.draining.Load() {
			c.Set(fiber.HeaderRetryAfter, "5")
			return writeProblem(c, Problem{Type: problemTypes[503], Title: "Service Unavailable", Status: 503,
				Detail: "shutting down", Checks: map[string]string{"server": "draining"}})
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
		defer cancel()
		checks := make(map[string]string, len(s.deps.Checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, ch := range s.deps.Checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				state := "ok"
				if err := ch.Ping.Ping(ctx); err != nil {
					state = "down"
				}
				mu.Lock()
				checks[ch.Name] = state
				mu.Unlock()
			}()
		}
		wg.Wait()
		var down []string
		for _, ch := range s.deps.Checks {
			if checks[ch.Name] != "ok" {
				down = append(down, ch.Name)
			}
		}
		if len(down) > 0 {
			c.Set(fiber.HeaderRetryAfter, "5")
			return writeProblem(c, Problem{Type: problemTypes[503], Title: "Service Unavailable", Status: 503,
				Detail: strings.Join(down, ", ") + " down", Checks: checks})
		}
		return c.JSON(fiber.Map{"status": "ready", "checks": checks})
	}
}
