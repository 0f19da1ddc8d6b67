package service

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
)

// MailOptions tunes the e-mail sender.
type MailOptions struct {
	// Transport delivers messages (an SMTP server, adapters/mailer). Nil: the outbox in the
	// store, which coordinators read (the embedded default).
	Transport models.MailTransport
	// Backoff is the wait before each retry; a message is tried len(Backoff)+1 times in all.
	// Default 10 s, 1 min, 5 min, 15 min (five tries over about 21 minutes).
	Backoff []time.Duration
	// Queue is how many messages may wait; beyond it new ones fail at once. Default 2000
	// (every contact of every state, several times over).
	Queue int
	// Workers send concurrently. Default 2: SMTP servers throttle parallel senders.
	Workers int
	// Timeout bounds one try. Default 30 s.
	Timeout time.Duration
}

// OutboxTransport writes messages to the store's outbox instead of sending them: the
// embedded default, with no SMTP server configured. Coordinators read it in the web UI and at
// GET /api/v1/outbox.
type OutboxTransport struct{ Store models.OutboxStore }

// Send implements models.MailTransport.
func (t OutboxTransport) Send(ctx context.Context, m *models.MailMessage) error {
	return t.Store.AppendOutbox(ctx, m)
}

// Name implements models.MailTransport.
func (OutboxTransport) Name() string { return "outbox" }

// Mailer sends e-mails off the request path: a bounded in-memory queue served by a few
// workers, retried with backoff, never blocking (or failing) whoever enqueues. Like the webhook
// dispatcher, what is queued or waiting for a retry is lost when the process stops; the
// communication check records each message's state (queued, sent, failed) so that a
// coordinator sees what did not go out. Log lines name messages by id, never by address.
type Mailer struct {
	opts      MailOptions
	transport models.MailTransport
	queue     chan *mailJob
	log       *slog.Logger

	// events announces each message's fate (MailResult).
	events *Events
	now    Clock

	sent, failed, retried, dropped atomic.Int64
	running                        sync.Mutex
}

type mailJob struct {
	msg     *models.MailMessage
	attempt int
}

// NewMailer builds a sender on the transport (the outbox when opts.Transport is nil); call Run
// to start sending.
func NewMailer(opts MailOptions, outbox models.OutboxStore, now Clock, log *slog.Logger, events *Events) *Mailer {
	if opts.Backoff == nil {
		opts.Backoff = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute}
	}
	if opts.Queue <= 0 {
		opts.Queue = 2000
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	t := opts.Transport
	if t == nil {
		t = OutboxTransport{Store: outbox}
	}
	return &Mailer{opts: opts, transport: t, queue: make(chan *mailJob, opts.Queue), log: log, now: now, events: events}
}

// Mode says where messages go: "smtp" or "outbox".
func (m *Mailer) Mode() string { return m.transport.Name() }

func (m *Mailer) report(ctx context.Context, msg *models.MailMessage, status string) {
	if m.events != nil {
		m.events.MailResulted(ctx, MailResult{Message: msg, Status: status, At: m.now().UTC().Truncate(time.Millisecond)})
	}
}

// Enqueue queues a message without waiting; when the queue is full the message fails at once
// (logged, counted, and reported as failed).
func (m *Mailer) Enqueue(msg *models.MailMessage) {
	m.enqueue(&mailJob{msg: msg})
}

func (m *Mailer) enqueue(j *mailJob) {
	select {
	case m.queue <- j:
	default:
		m.dropped.Add(1)
		m.log.Warn("mail queue full; message not sent", "message", j.msg.ID, "ref", j.msg.Ref, "queue", cap(m.queue))
		m.report(context.Background(), j.msg, models.MailFailed)
	}
}

// Run starts the workers and blocks until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	if !m.running.TryLock() {
		return
	}
	defer m.running.Unlock()
	var wg sync.WaitGroup
	for range m.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-m.queue:
					m.attempt(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(m.queue); n > 0 {
		m.log.Warn("e-mails lost at shutdown (the queue is in memory)", "queued", n)
	}
}

// attempt tries a message once; a failure worth retrying comes back to the queue after its
// backoff without holding a worker.
func (m *Mailer) attempt(ctx context.Context, j *mailJob) {
	j.attempt++
	tctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	err := m.transport.Send(tctx, j.msg)
	cancel()
	switch {
	case err == nil:
		m.sent.Add(1)
		m.report(ctx, j.msg, models.MailSent)
	case !errors.Is(err, models.ErrInvalid) && j.attempt <= len(m.opts.Backoff) && ctx.Err() == nil:
		m.retried.Add(1)
		wait := m.opts.Backoff[j.attempt-1]
		m.log.Info("e-mail not sent; retrying", "err", redactAddresses(err.Error()), "message", j.msg.ID, "attempt", j.attempt, "retry_in", wait.String())
		time.AfterFunc(wait, func() {
			if ctx.Err() == nil {
				m.enqueue(j)
			}
		})
	default:
		m.failed.Add(1)
		m.log.Warn("e-mail not sent", "err", redactAddresses(err.Error()), "message", j.msg.ID, "ref", j.msg.Ref, "attempts", j.attempt)
		m.report(ctx, j.msg, models.MailFailed)
	}
}

// MailerStats counts messages since start.
type MailerStats struct {
	Sent, Failed, Retried, Dropped int64
}

// Stats returns the sender's counters, for /metrics and tests.
func (m *Mailer) Stats() MailerStats {
	return MailerStats{Sent: m.sent.Load(), Failed: m.failed.Load(), Retried: m.retried.Load(), Dropped: m.dropped.Load()}
}

// addressLike matches what looks like an e-mail address in a server's answer ("550 5.1.1
// <name@example.org>: unknown"), so that logs never carry one.
var addressLike = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// redactAddresses replaces e-mail addresses in a message with "[address]".
func redactAddresses(s string) string { return addressLike.ReplaceAllString(s, "[address]") }
