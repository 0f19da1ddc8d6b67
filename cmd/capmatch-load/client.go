package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loopbackBase checks that raw is an http(s) URL of a loopback address and returns it
// without a trailing slash. "localhost" becomes 127.0.0.1 so that no name is resolved; any
// other host name, or an address that is not loopback, is refused: this tool must never put
// load on a machine other than the one it runs on.
func loopbackBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("-target %q: the scheme must be http or https", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("-target %q: give only scheme, host and port, e.g. http://127.0.0.1:8080", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("-target %q: only loopback addresses (127.0.0.0/8, ::1, localhost) may be load tested", raw)
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		hostport += ":" + p
	}
	return u.Scheme + "://" + hostport, nil
}

// errNotLoopback is what the dialer answers for any address that is not loopback.
var errNotLoopback = errors.New("refusing to connect to a non-loopback address")

// newHTTPClient returns the client every request of the tool goes through, set-up and load
// alike. Its dialer connects only to loopback addresses and it never follows redirects, so
// that nothing a server answers can send the load elsewhere.
func newHTTPClient(timeout time.Duration, maxConns int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil, // never through a proxy: the target is this machine
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("%w: %s", errNotLoopback, addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // measure what a client that asks for no compression gets
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is answered as is, never followed
		},
	}
}

// api is the small client the tool uses outside the measured load: to sign in, to find
// needs and offers to aim at, and to read back what the load wrote.
type api struct {
	base string
	http *http.Client
}

// apiError is a response outside 2xx.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

// Error names the request and quotes the start of the answer, for set-up and read-back errors.
func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// do sends one request and decodes a JSON answer into out (when not nil).
func (a *api) do(ctx context.Context, method, path, token string, body, out any) error {
	_, err := a.send(ctx, method, path, token, body, out)
	return err
}

// send is do that also returns the status code, for the set-up steps that must tell a 201
// (created) from a 200 (an existing object returned again).
func (a *api) send(ctx context.Context, method, path, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, &apiError{Method: method, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(raw[:min(len(raw), 300)]))}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// account is a demo user the tool signs in as.
type account struct {
	Email, Password string
}

// session is a signed-in account.
type session struct {
	account
	Token   string
	Role    string
	OrgID   string
	Country string
}

// login signs in (POST /api/v1/auth/login) and reads the account's role and organization.
func (a *api) login(ctx context.Context, acc account) (*session, error) {
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.do(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": acc.Email, "password": acc.Password}, &pair); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", acc.Email, err)
	}
	var me struct {
		Role           string `json:"role"`
		OrganizationID string `json:"organization_id"`
		Country        string `json:"country"`
	}
	if err := a.do(ctx, http.MethodGet, "/api/v1/me", pair.AccessToken, nil, &me); err != nil {
		return nil, err
	}
	return &session{account: acc, Token: pair.AccessToken, Role: me.Role, OrgID: me.OrganizationID, Country: me.Country}, nil
}

// item is the part of a need or an offer the tool uses.
type item struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Version     int64  `json:"version"`
}

// list pages through a list endpoint (path with its query) and returns up to max items.
func (a *api) list(ctx context.Context, path, token string, max int) ([]item, error) {
	var out []item
	cursor := ""
	for page := 0; page < 100 && len(out) < max; page++ { // bounded: at most 100 pages
		p := path
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "limit=100"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var res struct {
			Items      []item  `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := a.do(ctx, http.MethodGet, p, token, nil, &res); err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if res.NextCursor == nil || *res.NextCursor == "" {
			break
		}
		cursor = *res.NextCursor
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}
