// Package mailer is capmatch's SMTP adapter: it sends the e-mails of communication checks
// through an SMTP server named by a URL (CAPMATCH_SMTP_URL), with github.com/wneessen/go-mail.
// It implements models.MailTransport; the retrying queue in front of it is the service's
// Mailer.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
	gomail "github.com/wneessen/go-mail"
)

// Config is a parsed SMTP URL.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// SSL: implicit TLS from the first byte (smtps://, usually port 465).
	SSL bool
	// StartTLS is the STARTTLS policy of smtp://: "required" (the default), "opportunistic"
	// or "none" (only for a relay on the same host or a test server).
	StartTLS string
}

// ParseURL reads an SMTP URL: smtp://[user[:password]@]host[:port][?starttls=required|opportunistic|none]
// (default port 587, STARTTLS required) or smtps://[user[:password]@]host[:port] (implicit TLS,
// default port 465). User and password are URL-encoded.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, errors.New("is not a URL (smtp://user:password@host:587 or smtps://user:password@host:465)")
	}
	switch u.Scheme {
	case "smtp":
		c.Port, c.StartTLS = 587, "required"
	case "smtps":
		c.Port, c.SSL = 465, true
	default:
		return c, fmt.Errorf("scheme %q must be smtp or smtps (smtp://user:password@host:587 or smtps://user:password@host:465)", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return c, errors.New("must name a host, e.g. smtp://user:password@mail.example.org:587")
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return c, errors.New("must not have a path or fragment")
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("port %q must be a number from 1 to 65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch {
		case k == "starttls" && !c.SSL && len(v) == 1 && (v[0] == "required" || v[0] == "opportunistic" || v[0] == "none"):
			c.StartTLS = v[0]
		case k == "starttls" && c.SSL:
			return c, errors.New("starttls applies to smtp:// only (smtps:// is TLS from the start)")
		default:
			return c, fmt.Errorf("unknown parameter %q (the only one is starttls=required|opportunistic|none)", k)
		}
	}
	return c, nil
}

// ParseFrom checks a sender address (CAPMATCH_SMTP_FROM): "name@example.org" or
// "capmatch <name@example.org>".
func ParseFrom(raw string) (*mail.Address, error) {
	a, err := mail.ParseAddress(raw)
	if err != nil || !models.IsEmailAddress(a.Address) {
		return nil, errors.New("must be an e-mail address, e.g. capmatch <noreply@capmatch.example.org>")
	}
	return a, nil
}

// SMTP sends messages through one SMTP server, one connection per message: checks send a few
// hundred messages at most, and a fresh connection survives servers that drop idle ones.
type SMTP struct {
	cfg  Config
	from *mail.Address
	// Timeout bounds the connection and each SMTP command.
	Timeout time.Duration
}

// New builds the transport; from is the sender address.
func New(cfg Config, from *mail.Address) *SMTP {
	return &SMTP{cfg: cfg, from: from, Timeout: 20 * time.Second}
}

// Name implements models.MailTransport.
func (s *SMTP) Name() string { return "smtp" }

// Send implements models.MailTransport. A refusal the server says is final (a 5xx answer, e.g.
// an unknown recipient) is wrapped in models.ErrInvalid, so the sender does not retry it.
func (s *SMTP) Send(ctx context.Context, m *models.MailMessage) error {
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return fmt.Errorf("%w: recipient: %w", models.ErrInvalid, err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.SetMessageID()
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("Content-Language", m.Lang)

	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.Timeout), gomail.WithoutNoop()}
	switch {
	case s.cfg.SSL:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.StartTLS == "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case s.cfg.StartTLS == "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return fmt.Errorf("%w: smtp server refused the message: %s", models.ErrInvalid, strings.TrimSpace(err.Error()))
		}
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}
