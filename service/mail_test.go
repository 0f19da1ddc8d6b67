package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
)

// flakyTransport fails the first tries of each message, or refuses some for good.
type flakyTransport struct {
	mu       sync.Mutex
	failures int // temporary failures before success, per message
	refuse   string
	tries    map[string]int
	sent     []string
}

func (f *flakyTransport) Name() string { return "smtp" }

func (f *flakyTransport) Send(_ context.Context, m *models.MailMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[m.ID]++
	if m.To == f.refuse {
		return errors.Join(models.ErrInvalid, errors.New("550 5.1.1 <"+m.To+">: no such user"))
	}
	if f.tries[m.ID] <= f.failures {
		return errors.New("451 4.3.0 try again later")
	}
	f.sent = append(f.sent, m.ID)
	return nil
}

// TestMailerRetriesAndReportsEachMessage: temporary failures are retried with backoff, a final
// refusal is not, a full queue fails at once; every message's fate is reported, and no log line
// carries an address.
func TestMailerRetriesAndReportsEachMessage(t *testing.T) {
	var logs strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	tr := &flakyTransport{failures: 2, refuse: "gone@mfa.example", tries: map[string]int{}}
	events := &Events{}
	m := NewMailer(MailOptions{Transport: tr, Backoff: []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
		Queue: 2, Workers: 1}, nil, time.Now, log, events)
	type result struct{ id, status string }
	results := make(chan result, 10)
	events.OnMailResult(func(_ context.Context, r MailResult) {
		results <- result{r.Message.ID, r.Status}
	})

	// Before the workers run, the queue holds two: the third fails at once.
	m.Enqueue(&models.MailMessage{ID: "a", To: "awa@cert.sn.example"})
	m.Enqueue(&models.MailMessage{ID: "b", To: "gone@mfa.example"})
	m.Enqueue(&models.MailMessage{ID: "c", To: "third@cert.sn.example"})
	if r := <-results; r != (result{"c", models.MailFailed}) {
		t.Fatalf("full queue: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	got := map[string]string{}
	for len(got) < 2 {
		select {
		case r := <-results:
			got[r.id] = r.status
		case <-time.After(5 * time.Second):
			t.Fatalf("results so far: %v", got)
		}
	}
	cancel()
	<-done
	if got["a"] != models.MailSent || got["b"] != models.MailFailed {
		t.Errorf("results: %v", got)
	}
	if tr.tries["a"] != 3 || tr.tries["b"] != 1 {
		t.Errorf("tries: %v (a: two temporary failures then sent; b: refused for good, never retried)", tr.tries)
	}
	if st := m.Stats(); st.Sent != 1 || st.Failed != 1 || st.Retried != 2 || st.Dropped != 1 {
		t.Errorf("stats: %+v", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "@") {
		t.Errorf("a log line carries an address:\n%s", logs.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
