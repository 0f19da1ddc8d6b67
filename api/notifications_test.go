package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedItem is one notification as GET /notifications returns it.
type feedItem struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Text           string    `json:"text"`
	ObjectType     string    `json:"object_type"`
	ObjectID       string    `json:"object_id"`
	OrganizationID string    `json:"organization_id"`
	CreatedAt      time.Time `json:"created_at"`
	Read           bool      `json:"read"`
}

type feedResp struct {
	Items  []feedItem `json:"items"`
	Unread int        `json:"unread"`
}

func (n *node) feed(t *testing.T, token, query string) feedResp {
	t.Helper()
	r := n.call("GET", "/api/v1/notifications"+query, token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	var f feedResp
	require.NoError(t, json.Unmarshal(r.Body, &f), string(r.Body))
	return f
}

// find returns the first item of the feed of that kind about that object.
func (f feedResp) find(kind, objectID string) (feedItem, bool) {
	for _, it := range f.Items {
		if it.Kind == kind && it.ObjectID == objectID {
			return it, true
		}
	}
	return feedItem{}, false
}

func (f feedResp) has(kind, objectID string) bool {
	_, ok := f.find(kind, objectID)
	return ok
}

func TestNotificationsReachTheRightFeeds(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()

	// A submitted need waits in the coordinators' feed, nowhere else.
	offer := n.newOffer(t, "open")
	need := n.newNeed(t, "submitted", "public")
	for _, tok := range []string{f.coord.Token, f.admin.Token} {
		it, ok := n.feed(t, tok, "").find("submitted", need)
		require.True(t, ok, "coordinators are told a need awaits approval")
		assert.Equal(t, "coordinators", it.OrganizationID)
		assert.Equal(t, "need", it.ObjectType)
		assert.False(t, it.Read)
	}
	for _, tok := range []string{f.ministry.Token, f.donor.Token, f.ministry2.Token} {
		assert.False(t, n.feed(t, tok, "").has("submitted", need))
	}

	// Approval tells the owner; a rejection too, with the reason.
	assert.False(t, n.feed(t, f.ministry.Token, "").has("match", offer), "no match is announced before the need opens")
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+need+"/approve", f.coord.Token, nil).Status)
	it, ok := n.feed(t, f.ministry.Token, "").find("approved", need)
	require.True(t, ok, "the owner is told its need was approved")
	assert.Equal(t, f.snOrg, it.OrganizationID)
	other := n.newNeed(t, "submitted", "public")
	require.Equal(t, 200, n.call("POST", "/api/v1/needs/"+other+"/reject", f.coord.Token, map[string]string{"reason": "State the SIM3 level"}).Status)
	it, ok = n.feed(t, f.ministry.Token, "").find("rejected", other)
	require.True(t, ok)
	assert.Contains(t, it.Text, "State the SIM3 level")

	// The approval found the open offer as a strong match: both sides hear of it.
	m := n.call("GET", "/api/v1/needs/"+need+"/matches", f.coord.Token, nil).json(t)["items"].([]any)
	require.NotEmpty(t, m)
	top := m[0].(map[string]any)
	require.Equal(t, offer, top["offer_id"])
	require.GreaterOrEqual(t, top["score"].(float64), 0.8, "the fixture's need and offer fit well")
	assert.True(t, n.feed(t, f.ministry.Token, "").has("match", offer), "the need's owner hears of the matching offer")
	assert.True(t, n.feed(t, f.donor.Token, "").has("match", need), "the offer's donor hears of the matching need")
	assert.False(t, n.feed(t, f.donor2.Token, "").has("match", need))

	// Publishing an offer tells its donor about open needs it fits, and their owners.
	offer2 := n.newOffer(t, "open")
	assert.True(t, n.feed(t, f.ministry.Token, "").has("match", offer2))

	// A proposal tells the other side; the acceptance tells the proposer.
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": need, "offer_id": offer, "message": "Shall we?"})
	require.Equal(t, 201, r.Status, string(r.Body))
	eng := r.json(t)["id"].(string)
	assert.True(t, n.feed(t, f.donor.Token, "").has("proposal", eng), "the donor is told of the proposal")
	assert.False(t, n.feed(t, f.ministry.Token, "").has("proposal", eng), "not the proposer")
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+eng+"/accept", f.donor.Token, nil).Status)
	assert.True(t, n.feed(t, f.ministry.Token, "").has("accepted", eng), "the proposer is told of the acceptance")

	// A declined proposal tells the proposer.
	need3 := n.newNeed(t, "open", "public")
	r = n.call("POST", "/api/v1/engagements", f.donor.Token, map[string]any{"need_id": need3, "offer_id": offer2})
	require.Equal(t, 201, r.Status, string(r.Body))
	eng3 := r.json(t)["id"].(string)
	assert.True(t, n.feed(t, f.ministry.Token, "").has("proposal", eng3))
	require.Equal(t, 200, n.call("POST", "/api/v1/engagements/"+eng3+"/decline", f.ministry.Token, map[string]string{"reason": "Covered"}).Status)
	assert.True(t, n.feed(t, f.donor.Token, "").has("declined", eng3))

	// A project that duplicates another delivery warns the coordinators.
	n.newProject(t)
	second := n.newProject(t)
	coord := n.feed(t, f.coord.Token, "")
	it, ok = coord.find("overlap", second)
	require.True(t, ok, "coordinators are warned of the overlap")
	assert.Equal(t, "project", it.ObjectType)
	assert.False(t, n.feed(t, f.donor.Token, "").has("overlap", second))

	// Another organization never sees any of it, and cannot mark it read.
	for _, tok := range []string{f.ministry2.Token, f.donor2.Token} {
		for _, it := range n.feed(t, tok, "?limit=200").Items {
			assert.NotEqual(t, f.snOrg, it.OrganizationID)
			assert.NotEqual(t, f.donorOrg, it.OrganizationID)
			assert.NotEqual(t, "coordinators", it.OrganizationID)
		}
	}
	mine := n.feed(t, f.ministry.Token, "")
	r = n.call("POST", "/api/v1/notifications/"+mine.Items[0].ID+"/read", f.ministry2.Token, nil)
	assert.Equal(t, 404, r.Status)
	r.problem(t)

	// Newest first.
	for i := 1; i < len(mine.Items); i++ {
		assert.False(t, mine.Items[i].CreatedAt.After(mine.Items[i-1].CreatedAt), "newest first")
	}
}

func TestNotificationsMarkRead(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	a := n.newNeed(t, "submitted", "public")
	b := n.newNeed(t, "submitted", "public")
	c := n.newNeed(t, "submitted", "public")

	fd := n.feed(t, f.coord.Token, "")
	require.Equal(t, 3, fd.Unread)
	require.Len(t, fd.Items, 3)
	assert.Equal(t, c, fd.Items[0].ObjectID, "newest first")
	itB, _ := fd.find("submitted", b)

	r := n.call("POST", "/api/v1/notifications/"+itB.ID+"/read", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.EqualValues(t, 2, r.json(t)["unread"])
	assert.Equal(t, 200, n.call("POST", "/api/v1/notifications/"+itB.ID+"/read", f.coord.Token, nil).Status, "marking twice is harmless")
	fd = n.feed(t, f.coord.Token, "")
	assert.Equal(t, 2, fd.Unread)
	got, _ := fd.find("submitted", b)
	assert.True(t, got.Read)
	unread := n.feed(t, f.coord.Token, "?unread=true")
	assert.Len(t, unread.Items, 2)
	assert.False(t, unread.has("submitted", b), "unread=true leaves read ones out")
	assert.Len(t, n.feed(t, f.coord.Token, "?limit=1").Items, 1)
	assert.Equal(t, 422, n.call("GET", "/api/v1/notifications?unread=maybe", f.coord.Token, nil).Status)
	assert.Equal(t, 422, n.call("GET", "/api/v1/notifications?limit=0", f.coord.Token, nil).Status)
	assert.Equal(t, 404, n.call("POST", "/api/v1/notifications/nosuchnotification/read", f.coord.Token, nil).Status)

	// Read flags are per user: the admin reads the same coordinators' feed, all still unread.
	assert.Equal(t, 3, n.feed(t, f.admin.Token, "").Unread)

	r = n.call("POST", "/api/v1/notifications/read-all", f.coord.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	assert.EqualValues(t, 0, r.json(t)["unread"])
	fd = n.feed(t, f.coord.Token, "")
	assert.Equal(t, 0, fd.Unread)
	for _, it := range fd.Items {
		assert.True(t, it.Read)
	}
	assert.Empty(t, n.feed(t, f.coord.Token, "?unread=true").Items)

	// What arrives after read-all is unread.
	d := n.newNeed(t, "submitted", "public")
	fd = n.feed(t, f.coord.Token, "")
	assert.Equal(t, 1, fd.Unread)
	it, _ := fd.find("submitted", d)
	assert.False(t, it.Read)
	_ = a
}

func TestNotificationFeedKeepsTheNewest(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	ctx := t.Context()
	var items []models.Notification
	start := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 205 {
		items = append(items, models.Notification{ID: fmt.Sprintf("n%03d", i), Kind: "proposal", Text: fmt.Sprintf("note %d", i),
			ObjectType: "engagement", ObjectID: fmt.Sprintf("eng-%d", i), OrganizationID: f.donorOrg, CreatedAt: start.Add(time.Duration(i) * time.Millisecond)})
	}
	// A first write that fits, then one that pushes the oldest out (one write each: the feed is
	// one document).
	require.NoError(t, n.store.AppendNotifications(ctx, f.donorOrg, items[:150], service.FeedSize))
	require.NoError(t, n.store.AppendNotifications(ctx, f.donorOrg, items[150:], service.FeedSize))
	n.app.Notifications.Notify(ctx, f.donor2Org, "proposal", nil, "engagement", "eng-x")
	fd := n.feed(t, f.donor.Token, "?limit=200")
	require.Len(t, fd.Items, 200)
	assert.Equal(t, 200, fd.Unread, "older notifications fall off the feed")
	assert.Equal(t, "note 204", fd.Items[0].Text)
	assert.Equal(t, "note 5", fd.Items[199].Text)
}

// hookServer is a webhook receiver that records every request and answers from a script.
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	got     []hookRequest
	answers []int         // status per request; the last one repeats
	hold    chan struct{} // when set, requests wait until it is closed
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookServer(t *testing.T, answers ...int) *hookServer {
	h := &hookServer{answers: answers}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{header: r.Header.Clone(), body: body})
		status := 200
		if len(h.answers) > 0 {
			status = h.answers[min(len(h.got), len(h.answers))-1]
		}
		hold := h.hold
		h.mu.Unlock()
		if hold != nil {
			<-hold
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

const hookSecret = "whsec-0123456789abcdef-do-not-leak"

// setHook points the donor organization's webhook at url.
func setHook(t *testing.T, n *node, url string) {
	t.Helper()
	f := &n.env.fx
	r := n.call("PUT", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, map[string]string{"url": url, "secret": hookSecret})
	require.Equal(t, 200, r.Status, string(r.Body))
}

// pair is an open need and an open offer that fit each other. Creating them notifies both
// sides of the match, so webhook tests create them before setting the webhook.
type pair struct{ need, offer string }

func newPair(t *testing.T, n *node) pair {
	t.Helper()
	return pair{need: n.newNeed(t, "open", "public"), offer: n.newOffer(t, "open")}
}

// propose has the ministry propose an engagement to the donor, which notifies the donor.
func (p pair) propose(t *testing.T, n *node) string {
	t.Helper()
	r := n.call("POST", "/api/v1/engagements", n.env.fx.ministry.Token, map[string]any{"need_id": p.need, "offer_id": p.offer})
	require.Equal(t, 201, r.Status, string(r.Body))
	return r.json(t)["id"].(string)
}

func TestWebhookDeliveryIsSigned(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	hook := newHookServer(t)
	p1, p2 := newPair(t, n), newPair(t, n)

	// Configuration: the secret is never shown, only whether one is set.
	r := n.call("PUT", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, map[string]string{"url": hook.URL + "/capmatch?token=x", "secret": hookSecret})
	require.Equal(t, 200, r.Status, string(r.Body))
	v := r.json(t)
	assert.Equal(t, true, v["secret_set"])
	assert.Equal(t, hook.URL+"/capmatch?token=x", v["url"])
	assert.NotContains(t, v, "secret")
	got := n.call("GET", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.coord.Token, nil).json(t)
	assert.Equal(t, true, got["secret_set"])
	org := n.call("GET", "/api/v1/organizations/"+f.donorOrg, f.ministry.Token, nil)
	assert.NotContains(t, string(org.Body), "webhook", "the organization itself never shows the webhook")
	// A new URL without a secret keeps the secret.
	r = n.call("PUT", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, map[string]string{"url": hook.URL + "/capmatch"})
	require.Equal(t, 200, r.Status, string(r.Body))

	eng := p1.propose(t, n)
	require.Eventually(t, func() bool { return len(hook.requests()) == 1 }, 5*time.Second, 10*time.Millisecond)
	req := hook.requests()[0]
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(req.body)
	assert.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), req.header.Get("X-Capmatch-Signature"), "HMAC-SHA256 of the body")
	assert.Equal(t, "application/json", req.header.Get("Content-Type"))
	assert.NotEmpty(t, req.header.Get("X-Capmatch-Timestamp"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(req.body, &body))
	assert.Equal(t, "proposal", body["kind"])
	assert.Equal(t, "engagement", body["object_type"])
	assert.Equal(t, eng, body["object_id"])
	assert.Equal(t, f.donorOrg, body["organization_id"])
	assert.True(t, strings.HasPrefix(body["text"].(string), "New engagement proposal: the need “"), "a delivery's text is in English: %v", body["text"])
	assert.NotEmpty(t, body["args"], "with the arguments it is written from")
	assert.NotEmpty(t, body["created_at"])
	it, ok := n.feed(t, f.donor.Token, "").find("proposal", eng)
	require.True(t, ok)
	assert.Equal(t, it.ID, body["id"])
	assert.Equal(t, it.ID, req.header.Get("X-Capmatch-Delivery"), "the delivery id is the notification id")

	// Removal stops deliveries.
	assert.Equal(t, 204, n.call("DELETE", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, nil).Status)
	assert.Equal(t, 404, n.call("GET", "/api/v1/organizations/"+f.donorOrg+"/webhook", f.donor.Token, nil).Status)
	// The outbox stores the proposal's notification after the request and decides then whether
	// to queue a delivery, so once it is flushed, the counters say whether one was queued.
	before := n.app.Notifications.WebhookStats()
	p2.propose(t, n)
	n.app.Notifications.Flush(context.Background())
	after := n.app.Notifications.WebhookStats()
	assert.Equal(t, before.Queued, after.Queued, "no delivery is queued once the webhook is removed")
	assert.EqualValues(t, 1, after.Queued, "the first proposal's delivery was queued")
	assert.Len(t, hook.requests(), 1)

	for _, b := range e.seen {
		assert.NotContains(t, b, hookSecret, "no response shows the webhook secret")
	}
}

func TestWebhookRetriesServerErrors(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	n.seed()
	hook := newHookServer(t, 500, 503, 200)
	p := newPair(t, n)
	setHook(t, n, hook.URL)
	p.propose(t, n)
	// Delivered is counted after the last try's answer, and a delivered job is never tried again:
	// once it is 1, the requests the hook saw are all there will be.
	require.Eventually(t, func() bool { return n.app.Notifications.WebhookStats().Delivered == 1 }, 5*time.Second, 10*time.Millisecond, "retried after 500 and 503, then delivered")
	reqs := hook.requests()
	require.Len(t, reqs, 3, "no more tries after the 200")
	for i, r := range reqs {
		assert.Equal(t, reqs[0].header.Get("X-Capmatch-Delivery"), r.header.Get("X-Capmatch-Delivery"), "the same delivery")
		assert.Equal(t, fmt.Sprint(i+1), r.header.Get("X-Capmatch-Attempt"))
		assert.Equal(t, reqs[0].body, r.body)
	}
	st := n.app.Notifications.WebhookStats()
	assert.EqualValues(t, 1, st.Delivered)
	assert.EqualValues(t, 2, st.Retried)
	metrics := n.call("GET", "/metrics", "", nil)
	assert.Contains(t, string(metrics.Body), "capmatch_webhook_deliveries_total 1")
}

func TestWebhookGivesUpOnClientErrors(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	n.seed()
	hook := newHookServer(t, 400)
	p := newPair(t, n)
	setHook(t, n, hook.URL)
	p.propose(t, n)
	// Failed is counted once the delivery is given up: from then on no try can follow.
	require.Eventually(t, func() bool { return n.app.Notifications.WebhookStats().Failed == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Len(t, hook.requests(), 1, "a 400 is final")
	assert.Zero(t, n.app.Notifications.WebhookStats().Retried)
}

func TestWebhookNeverSlowsTheRequest(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	hook := newHookServer(t)
	release := make(chan struct{})
	hook.mu.Lock()
	hook.hold = release
	hook.mu.Unlock()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the server closes (cleanups run last first)
	p := newPair(t, n)
	setHook(t, n, hook.URL)

	start := time.Now()
	r := n.call("POST", "/api/v1/engagements", f.ministry.Token, map[string]any{"need_id": p.need, "offer_id": p.offer})
	took := time.Since(start)
	require.Equal(t, 201, r.Status, string(r.Body))
	assert.Less(t, took, 2*time.Second)
	// The receiver got the delivery and has not answered: the request returned before it did.
	require.Eventually(t, func() bool { return len(hook.requests()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 0, n.app.Notifications.WebhookStats().Delivered, "the receiver has not answered yet")
	// More requests while the receiver hangs are not slowed either.
	r = n.call("POST", "/api/v1/engagements/"+r.json(t)["id"].(string)+"/accept", f.donor.Token, nil)
	require.Equal(t, 200, r.Status, string(r.Body))
	unblock()
	require.Eventually(t, func() bool { return n.app.Notifications.WebhookStats().Delivered == 1 }, 5*time.Second, 10*time.Millisecond)
}

func TestWebhookConfiguration(t *testing.T) {
	e := newEnv(t)
	n := e.node()
	f := n.seed()
	put := func(token, org string, body any) resp {
		return n.call("PUT", "/api/v1/organizations/"+org+"/webhook", token, body)
	}
	ok := map[string]string{"url": "https://hooks.example.org/capmatch", "secret": hookSecret}
	assert.Equal(t, 403, put(f.donor2.Token, f.donorOrg, ok).Status, "not another organization's")
	assert.Equal(t, 403, put(f.ministry.Token, f.donorOrg, ok).Status)
	assert.Equal(t, 200, put(f.ministry.Token, f.snOrg, ok).Status, "a ministry manages its own organization's")
	assert.Equal(t, 200, put(f.coord.Token, f.donor2Org, ok).Status, "coordinators manage any")
	assert.Equal(t, 404, put(f.coord.Token, "nosuchorg", ok).Status)

	bad := func(body map[string]string, field string) {
		t.Helper()
		r := put(f.donor.Token, f.donorOrg, body)
		require.Equal(t, 422, r.Status, string(r.Body))
		assert.Contains(t, string(r.Body), `"field":"`+field+`"`)
	}
	bad(map[string]string{"url": "ftp://hooks.example.org/x", "secret": hookSecret}, "url")
	bad(map[string]string{"url": "hooks.example.org/x", "secret": hookSecret}, "url")
	bad(map[string]string{"url": "https://user:pass@hooks.example.org/x", "secret": hookSecret}, "url")
	bad(map[string]string{"url": "https://hooks.example.org/x"}, "secret")
	bad(map[string]string{"url": "https://hooks.example.org/x", "secret": "short"}, "secret")
	assert.Equal(t, 400, put(f.donor.Token, f.donorOrg, map[string]string{"url": "https://hooks.example.org/x", "secret": hookSecret, "extra": "x"}).Status)
	for _, b := range e.seen {
		assert.False(t, strings.Contains(b, hookSecret), "no response shows the webhook secret")
	}
}
