package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// Cookie names. Over HTTPS (and on any host that is not loopback) the session and CSRF
// cookies carry the __Host- prefix, which browsers accept only with Secure, Path=/ and no
// Domain, so a sibling subdomain cannot plant or overwrite them. Plain HTTP is accepted only
// for loopback hosts (development and the browser tests), with unprefixed names.
const (
	sessionCookieSecure = "__Host-capmatch_session"
	sessionCookieLocal  = "capmatch_session"
	csrfCookieSecure    = "__Host-capmatch_csrf"
	csrfCookieLocal     = "capmatch_csrf"
	langCookie          = "capmatch_lang"
)

// refreshGrace is how long the result of a refresh is kept for concurrent requests of the
// same browser that present the same, now retired, refresh token (two tabs, a page and its
// htmx request, sent before the new cookie arrived), so that they get the new pair instead of
// tripping reuse detection and revoking the session. It is kept short (a slow link's round
// trip), and it serves only the browser that refreshed (same client address and User-Agent):
// anyone else presenting the retired token goes to Auth.Refresh, whose reuse detection revokes
// the whole family (issue 13.8: it was 30 s, for anyone).
const refreshGrace = 10 * time.Second

// rememberFor is the lifetime of a "keep me signed in" cookie: the refresh token's.
var rememberFor = models.RefreshTokenTTL

// secureCookies reports whether cookies must be Secure for this request: always, except for
// plain HTTP to a loopback host (localhost, 127.0.0.0/8, ::1), where browsers do not send
// Secure cookies and no network attacker can sit.
func secureCookies(c *fiber.Ctx) bool {
	if c.Protocol() == "https" {
		return true
	}
	host := c.Hostname()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false
	}
	return true
}

func sessionCookieName(c *fiber.Ctx) string {
	if secureCookies(c) {
		return sessionCookieSecure
	}
	return sessionCookieLocal
}

func csrfCookieName(c *fiber.Ctx) string {
	if secureCookies(c) {
		return csrfCookieSecure
	}
	return csrfCookieLocal
}

// tokens is what the session cookie carries: the API's own access and refresh tokens, and
// whether the user asked to stay signed in (so a refreshed cookie keeps the same lifetime).
type tokens struct {
	Access, Refresh string
	Remember        bool
}

// encode writes the cookie value: "r" or "s", then the access token (a JWT: base64url and
// dots) and the opaque base64url refresh token, separated by "~", all valid cookie octets.
func (t tokens) encode() string {
	flag := "s"
	if t.Remember {
		flag = "r"
	}
	return flag + "~" + t.Access + "~" + t.Refresh
}

func decodeTokens(v string) (tokens, bool) {
	parts := strings.Split(v, "~")
	if len(parts) != 3 || (parts[0] != "r" && parts[0] != "s") || parts[1] == "" || parts[2] == "" || len(v) > 3000 {
		return tokens{}, false
	}
	return tokens{Access: parts[1], Refresh: parts[2], Remember: parts[0] == "r"}, true
}

// setSession writes the session cookie: HttpOnly (no script reads the tokens), Secure except
// on loopback, SameSite=Lax (a link from an e-mail keeps the official signed in; every
// state change is a POST guarded by a CSRF token anyway), Path=/.
func setSession(c *fiber.Ctx, t tokens) {
	ck := &fiber.Cookie{Name: sessionCookieName(c), Value: t.encode(), Path: "/", HTTPOnly: true,
		Secure: secureCookies(c), SameSite: fiber.CookieSameSiteLaxMode}
	if t.Remember {
		ck.MaxAge = int(rememberFor.Seconds())
	} else {
		ck.SessionOnly = true
	}
	c.Cookie(ck)
}

func clearSession(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookieName(c), Value: "", Path: "/", HTTPOnly: true,
		Secure: secureCookies(c), SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// session is a signed-in browser: the actor the access token names and the tokens.
type session struct {
	Actor  models.Actor
	tokens tokens
}

// currentSession authenticates the session cookie. An expired access token is refreshed
// transparently through service.Auth.Refresh and the cookie rewritten; a session that cannot
// be refreshed (signed out elsewhere, revoked, expired) is cleared and the visitor is
// anonymous. Only an outage of a backing store is an error.
func (u *UI) currentSession(c *fiber.Ctx) (*session, error) {
	raw := c.Cookies(sessionCookieName(c))
	if raw == "" {
		return nil, nil
	}
	t, ok := decodeTokens(raw)
	if !ok {
		clearSession(c)
		return nil, nil
	}
	ctx := c.UserContext()
	a, err := u.app.Auth.Authenticate(ctx, t.Access)
	if err == nil {
		return &session{Actor: a, tokens: t}, nil
	}
	if !errors.Is(err, models.ErrUnauthorized) {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	pair, err := u.refresh.do(ctx, t.Refresh, browserOf(c), func(ctx context.Context) (*models.TokenPair, error) {
		return u.app.Auth.Refresh(ctx, t.Refresh)
	}, u.now())
	if errors.Is(err, models.ErrUnauthorized) {
		clearSession(c)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("refresh session: %w", err)
	}
	nt := tokens{Access: pair.AccessToken, Refresh: pair.RefreshToken, Remember: t.Remember}
	a, err = u.app.Auth.Authenticate(ctx, nt.Access)
	if errors.Is(err, models.ErrUnauthorized) {
		clearSession(c)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate refreshed session: %w", err)
	}
	setSession(c, nt)
	return &session{Actor: a, tokens: nt}, nil
}

// browserOf identifies the browser a request comes from, as far as the server can tell: its
// client address and User-Agent, hashed. It decides who may share a refresh's result.
func browserOf(c *fiber.Ctx) string {
	sum := sha256.Sum256([]byte(c.IP() + "\x00" + c.Get(fiber.HeaderUserAgent)))
	return string(sum[:])
}

// refresher makes concurrent refreshes of one refresh token by one browser share one call,
// and remembers the result for a grace period (see refreshGrace) for that browser only. A
// request from another browser with the same token calls through, so that reuse detection
// sees it. It works within one replica; across replicas a race is rare (a refresh every 15
// minutes per browser) and ends in a sign-in.
type refresher struct {
	grace time.Duration
	mu    sync.Mutex
	calls map[string]*refreshCall
	// shared counts the requests that waited for another request's call instead of making
	// their own: the synchronization point of the test that many tabs share one refresh.
	shared atomic.Int32
}

type refreshCall struct {
	done    chan struct{}
	browser string
	pair    *models.TokenPair
	err     error
	at      time.Time
}

func (r *refresher) do(ctx context.Context, token, browser string, call func(context.Context) (*models.TokenPair, error), now time.Time) (*models.TokenPair, error) {
	sum := sha256.Sum256([]byte(token))
	key := string(sum[:])
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]*refreshCall{}
	}
	for k, c := range r.calls { // forget finished calls past their grace
		select {
		case <-c.done:
			if now.Sub(c.at) > r.grace {
				delete(r.calls, k)
			}
		default:
		}
	}
	if c, ok := r.calls[key]; ok {
		r.mu.Unlock()
		if c.browser != browser {
			// Another browser with this session's refresh token: not a tab of the one that
			// refreshed. Let the service judge it (a retired token revokes the family).
			return call(ctx)
		}
		r.shared.Add(1)
		select {
		case <-c.done:
			return c.pair, c.err
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for refresh: %w", ctx.Err())
		}
	}
	c := &refreshCall{done: make(chan struct{}), browser: browser, at: now}
	r.calls[key] = c
	r.mu.Unlock()
	c.pair, c.err = call(ctx)
	close(c.done)
	if c.err != nil && !errors.Is(c.err, models.ErrUnauthorized) {
		r.mu.Lock() // an outage is not a result to share: let the next request retry
		delete(r.calls, key)
		r.mu.Unlock()
	}
	return c.pair, c.err
}

// viewer is what the page header shows about the signed-in user.
type viewer struct {
	Name    string
	Role    models.Role
	OrgName string
	Country string
}

// viewerCache keeps users' display names for a minute so that a page view does not cost two
// store reads.
type viewerCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]viewerEntry
}

type viewerEntry struct {
	v   viewer
	exp time.Time
}

func (u *UI) viewerOf(ctx context.Context, a *models.Actor) viewer {
	now := u.now()
	u.viewers.mu.Lock()
	if e, ok := u.viewers.m[a.UserID]; ok && now.Before(e.exp) {
		u.viewers.mu.Unlock()
		return e.v
	}
	u.viewers.mu.Unlock()
	v := viewer{Role: a.Role, Country: a.Country}
	if usr, err := u.app.Accounts.GetUser(ctx, a, a.UserID); err == nil {
		v.Name = usr.Name
	}
	if org, err := u.app.Accounts.GetOrg(ctx, a.OrgID); err == nil {
		v.OrgName = org.Name
	}
	u.viewers.mu.Lock()
	if u.viewers.m == nil || len(u.viewers.m) > 10_000 {
		u.viewers.m = map[string]viewerEntry{}
	}
	u.viewers.m[a.UserID] = viewerEntry{v: v, exp: now.Add(u.viewers.ttl)}
	u.viewers.mu.Unlock()
	return v
}
