package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWebhooks is the webhook port without a network: it records what the use case enqueues
// and refuses URLs that contain "refused" as the SSRF policy would.
type fakeWebhooks struct {
	mu   sync.Mutex
	sent []sentHook
}

type sentHook struct {
	url, secret string
	n           models.Notification
}

func (f *fakeWebhooks) Enqueue(url, secret string, n models.Notification) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentHook{url, secret, n})
}

func (f *fakeWebhooks) CheckURL(raw string) error {
	if strings.Contains(raw, "refused") {
		return models.Invalid("url", models.ProblemURLInternal, nil)
	}
	return nil
}

func (f *fakeWebhooks) Stats() models.WebhookStats { return models.WebhookStats{Queued: 7, Dropped: 1} }

func (f *fakeWebhooks) Run(context.Context) {}

func (f *fakeWebhooks) deliveries() []sentHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentHook(nil), f.sent...)
}

// TestNotificationsDeliverThroughTheWebhooksPort: the notifications use case checks a webhook
// URL with the port's SSRF policy (a refusal is a problem on field "url" and stores nothing),
// hands each notification of an organization with a webhook to the port with the URL, the
// secret and the text in English, and reports the port's counters.
func TestNotificationsDeliverThroughTheWebhooksPort(t *testing.T) {
	hooks := &fakeWebhooks{}
	w := newWorldWith(t, func(d *service.Deps) { d.Webhooks = hooks })
	secret := "a long random shared secret"
	_, err := w.app.Notifications.SetWebhook(w.ctx, w.sn, w.sn.OrgID, service.WebhookInput{URL: "https://refused.example/x", Secret: &secret})
	var me *models.Error
	require.True(t, errors.As(err, &me), "%v", err)
	assert.ErrorIs(t, err, models.ErrInvalid)
	require.Len(t, me.Fields, 1)
	assert.Equal(t, "url", me.Fields[0].Field)
	assert.Equal(t, models.ProblemURLInternal, me.Fields[0].Code)
	_, err = w.app.Notifications.GetWebhook(w.ctx, w.sn, w.sn.OrgID)
	assert.ErrorIs(t, err, models.ErrNotFound, "a refused URL is not stored")

	_, err = w.app.Notifications.SetWebhook(w.ctx, w.sn, w.sn.OrgID, service.WebhookInput{URL: "https://hooks.example.org/in", Secret: &secret})
	require.NoError(t, err)
	n := w.openNeed("Répondre aux incidents") // submitted (the coordinators' feed: no webhook), then approved
	// The outbox stores a notification and hands it to the port after the request; Flush
	// waits for it, as a replica shutting down does.
	w.app.Notifications.Flush(w.ctx)
	got := hooks.deliveries()
	require.Len(t, got, 1, "only the approval reaches the ministry's webhook: %+v", got)
	assert.Equal(t, "https://hooks.example.org/in", got[0].url)
	assert.Equal(t, secret, got[0].secret)
	assert.Equal(t, service.KindApproved, got[0].n.Kind)
	assert.Equal(t, n.ID, got[0].n.ObjectID)
	assert.Equal(t, "Your need “Répondre aux incidents” was approved and is open for offers", got[0].n.Text,
		"a receiver has no language: the text is English")

	assert.Equal(t, models.WebhookStats{Queued: 7, Dropped: 1}, w.app.Notifications.WebhookStats())
}

// TestNoWebhooksPortRefusesWebhooksAsUnavailable: without the adapter, setting a webhook is
// refused as unavailable (nothing could deliver it) and the counters are zero.
func TestNoWebhooksPortRefusesWebhooksAsUnavailable(t *testing.T) {
	s := stacktest.New(t, stacktest.Options{Adjust: func(d *service.Deps) { d.Webhooks = nil }})
	ctx := context.Background()
	o, err := s.App.Accounts.CreateOrgDirect(ctx, service.OrgInput{Name: "Pacific Cyber Fund", Type: models.OrgDonor})
	require.NoError(t, err)
	coord := &models.Actor{UserID: models.NewID(s.Deps.Now()), Role: models.RoleCoordinator}
	secret := "a long random shared secret"
	_, err = s.App.Notifications.SetWebhook(ctx, coord, o.ID, service.WebhookInput{URL: "https://hooks.example.org/in", Secret: &secret})
	assert.ErrorIs(t, err, models.ErrUnavailable)
	assert.Equal(t, models.WebhookStats{}, s.App.Notifications.WebhookStats())
}
