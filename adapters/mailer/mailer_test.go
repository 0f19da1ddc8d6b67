package mailer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/mailer"
	"github.com/capmatch/capmatch/adapters/mailer/smtptest"
	"github.com/capmatch/capmatch/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	c, err := mailer.ParseURL("smtp://desk%40capmatch.example:p%3Ass@mail.example.org")
	require.NoError(t, err)
	assert.Equal(t, mailer.Config{Host: "mail.example.org", Port: 587, Username: "desk@capmatch.example", Password: "p:ss", StartTLS: "required"}, c)
	c, err = mailer.ParseURL("smtps://mail.example.org")
	require.NoError(t, err)
	assert.Equal(t, mailer.Config{Host: "mail.example.org", Port: 465, SSL: true}, c)
	c, err = mailer.ParseURL("smtp://127.0.0.1:2525?starttls=none")
	require.NoError(t, err)
	assert.Equal(t, 2525, c.Port)
	assert.Equal(t, "none", c.StartTLS)
	for _, bad := range []string{"http://mail.example.org", "smtp://", "smtp://mail.example.org:99999", "smtp://mail.example.org:x",
		"smtp://mail.example.org/path", "smtp://mail.example.org?tls=1", "smtps://mail.example.org?starttls=none",
		"smtp://mail.example.org?starttls=sometimes", "mail.example.org:587", "::"} {
		_, err := mailer.ParseURL(bad)
		assert.Error(t, err, bad)
	}
	_, err = mailer.ParseFrom("capmatch <noreply@capmatch.example.org>")
	assert.NoError(t, err)
	for _, bad := range []string{"", "noreply", "capmatch <noreply@localhost>", "a@b@c"} {
		_, err := mailer.ParseFrom(bad)
		assert.Error(t, err, bad)
	}
}

// TestSMTPDeliversToARealServer sends through the production transport to an SMTP server
// running in the test (go-smtp), and reads what arrived.
func TestSMTPDeliversToARealServer(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := mailer.ParseURL(srv.URL())
	require.NoError(t, err)
	from, err := mailer.ParseFrom("capmatch desk <noreply@capmatch.example.org>")
	require.NoError(t, err)
	tr := mailer.New(cfg, from)
	link := "https://capmatch.example.org/ack/" + strings.Repeat("x", 30) + ".y.1234567890.abcdefghijklmnopqrstuvwx"
	m := &models.MailMessage{ID: "m1", To: "awa.ndiaye@cert.sn.example", ToName: "Awa Ndiaye", Lang: "fr",
		Subject: "Vérification des communications (Senegal)", Text: "Bonjour,\n\n" + link + "\n", Ref: "poc_check:c:p", CreatedAt: time.Now()}
	require.NoError(t, tr.Send(context.Background(), m))
	got := srv.Wait(1, 5*time.Second)
	require.Len(t, got, 1)
	assert.Equal(t, "noreply@capmatch.example.org", got[0].From)
	assert.Equal(t, []string{"awa.ndiaye@cert.sn.example"}, got[0].To)
	assert.Contains(t, got[0].Body, link, "the link arrives whole")
	assert.Equal(t, "auto-generated", got[0].Header.Get("Auto-Submitted"))
	assert.Contains(t, got[0].Header.Get("Subject"), "=?UTF-8?", "the subject is encoded")

	// A final refusal is marked invalid (not retried); a temporary one is not.
	srv.Refuse(550)
	err = tr.Send(context.Background(), m)
	require.Error(t, err)
	assert.True(t, errors.Is(err, models.ErrInvalid), "%v", err)
	srv.Refuse(451)
	err = tr.Send(context.Background(), m)
	require.Error(t, err)
	assert.False(t, errors.Is(err, models.ErrInvalid), "%v", err)
}
