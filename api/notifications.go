package api

import (
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// handleListNotifications returns the caller's feed (its organization's, plus the
// coordinators' for coordinators and admins), newest first, with read flags and the unread
// count; each notification's text is written in the caller's language.
func (s *Server) handleListNotifications() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 50, service.FeedSize)
		if err != nil {
			return err
		}
		unreadOnly := false
		switch c.Query("unread") {
		case "", "false":
		case "true":
			unreadOnly = true
		default:
			e := models.Invalid("unread", models.ProblemOneOf, models.OneOf([]string{"true", "false"}))
			e.Detail = "bad unread"
			return e
		}
		feed, err := s.deps.App.Notifications.List(c.UserContext(), actor(c), unreadOnly, limit)
		if err != nil {
			return err
		}
		L := localizer(c)
		for i := range feed.Items {
			feed.Items[i].Text = L.Notice(&feed.Items[i].Notification)
		}
		return c.JSON(feed)
	}
}

// handleReadNotification marks one notification read for the caller.
func (s *Server) handleReadNotification() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Params("id")
		n, err := s.deps.App.Notifications.MarkRead(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"id": id, "read": true, "unread": n})
	}
}

// handleReadAllNotifications marks the caller's whole feed read.
func (s *Server) handleReadAllNotifications() fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := s.deps.App.Notifications.ReadAll(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"unread": n})
	}
}

// handleGetWebhook shows an organization's webhook (never its secret) to those who manage it.
func (s *Server) handleGetWebhook() fiber.Handler {
	return func(c *fiber.Ctx) error {
		w, err := s.deps.App.Notifications.GetWebhook(c.UserContext(), actor(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(w)
	}
}

// handlePutWebhook sets an organization's webhook (coordinators and admins for any
// organization, others for their own).
func (s *Server) handlePutWebhook() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in service.WebhookInput
		if err := decode(c, &in); err != nil {
			return err
		}
		w, err := s.deps.App.Notifications.SetWebhook(c.UserContext(), actor(c), c.Params("id"), in)
		if err != nil {
			return err
		}
		return c.JSON(w)
	}
}

// handleDeleteWebhook removes an organization's webhook.
func (s *Server) handleDeleteWebhook() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.deps.App.Notifications.DeleteWebhook(c.UserContext(), actor(c), c.Params("id")); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// RegisterNotificationMetrics exports the webhook dispatcher's counters on /metrics, so that
// dropped and failed deliveries (which never fail a request) are visible to operators.
func (s *Server) RegisterNotificationMetrics() error {
	stats := s.deps.App.Notifications.WebhookStats
	counter := func(name, help string, get func(models.WebhookStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(get(stats())) })
	}
	for _, c := range []prometheus.Collector{
		counter("capmatch_webhook_queued_total", "Notifications handed to webhook delivery.",
			func(st models.WebhookStats) int64 { return st.Queued }),
		counter("capmatch_webhook_deliveries_total", "Webhook deliveries answered 2xx.",
			func(st models.WebhookStats) int64 { return st.Delivered }),
		counter("capmatch_webhook_failures_total", "Webhook deliveries given up (final answer or tries exhausted).",
			func(st models.WebhookStats) int64 { return st.Failed }),
		counter("capmatch_webhook_retries_total", "Webhook tries that failed and were scheduled again.",
			func(st models.WebhookStats) int64 { return st.Retried }),
		counter("capmatch_webhook_dropped_total", "Webhook deliveries dropped because the queue was full.",
			func(st models.WebhookStats) int64 { return st.Dropped }),
	} {
		if err := s.metrics.reg.Register(c); err != nil {
			return err
		}
	}
	// The e-mails of communication checks, sent the same way (off the request path, retried).
	m := s.deps.App.Mailer
	mail := func(name, help string, get func(service.MailerStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(get(m.Stats())) })
	}
	for _, c := range []prometheus.Collector{
		mail("capmatch_mail_sent_total", "E-mails handed to the SMTP server or written to the outbox.",
			func(st service.MailerStats) int64 { return st.Sent }),
		mail("capmatch_mail_failures_total", "E-mails given up (refused for good or tries exhausted).",
			func(st service.MailerStats) int64 { return st.Failed }),
		mail("capmatch_mail_retries_total", "E-mail tries that failed and were scheduled again.",
			func(st service.MailerStats) int64 { return st.Retried }),
		mail("capmatch_mail_dropped_total", "E-mails not sent because the queue was full.",
			func(st service.MailerStats) int64 { return st.Dropped }),
	} {
		if err := s.metrics.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
