//go:build unix

package reliability

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// storeDoc is what the tests read of a need or an offer straight from the store.
type storeDoc struct {
	ID      string `bson:"_id"`
	Title   string `bson:"title"`
	Status  string `bson:"status"`
	Version int64  `bson:"version"`
}

// storeDocs reads every document of a collection straight from the store, bypassing the API.
func storeDocs(t *testing.T, uri, coll string) map[string]storeDoc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("connect to the store: %v", err)
	}
	defer func() { _ = cl.Disconnect(context.Background()) }()
	cur, err := cl.Database("capmatch").Collection(coll).Find(ctx, bson.D{},
		options.Find().SetProjection(bson.D{{Key: "title", Value: 1}, {Key: "status", Value: 1}, {Key: "version", Value: 1}}))
	if err != nil {
		t.Fatalf("read %s from the store: %v", coll, err)
	}
	var docs []storeDoc
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("read %s from the store: %v", coll, err)
	}
	m := make(map[string]storeDoc, len(docs))
	for _, d := range docs {
		m[d.ID] = d
	}
	return m
}

// TestStoreUnreachable kills the store process (SIGKILL) under read load. Writes must answer
// 503 with Retry-After and change nothing, neither in the store nor in the API's in-memory
// model; reads of lists, needs and rankings keep working from memory; /readyz says 503 naming
// the store. After the store restarts on the same files and port, the writes that failed left
// nothing behind and every write acknowledged before the outage is there.
func TestStoreUnreachable(t *testing.T) {
	slow(t)
	rd := startRedis(t)
	st := startStore(t)
	api := startAPI(t, "api", apiEnv(t, "REDIS_URL", rd.URL(), "MONGO_URI", st.URI(), "CAPMATCH_DEMO", "true"))
	c := newClient(api)
	f := demoLogins(t, c)
	c.waitCached(t, f.ministry, demoNeed, time.Now(), 5*time.Second)

	// Acknowledged before the outage.
	var acked []string
	for i := range 4 {
		m := c.must(t, 201, "POST", "/api/v1/needs", f.ministry, needBody(fmt.Sprintf("Acknowledged before the store died %d", i)))
		acked = append(acked, m["id"].(string))
	}
	ackedOffer := c.must(t, 201, "POST", "/api/v1/offers", f.donor, offerBody("Offer acknowledged before the store died"))["id"].(string)
	rankBefore, _ := c.ranking(f.ministry, demoNeed)
	offerTitle := rankBefore.title(demoOffer)

	// Reads run through the outage, from the in-memory model. GET /me reads the account from
	// the store by design, so it is not among them.
	var ops []op
	for _, o := range readOps(f) {
		if o.kind != "me" {
			ops = append(ops, o)
		}
	}
	ops = append(ops, op{kind: "get-need", method: "GET", path: "/api/v1/needs/" + acked[0], token: f.ministry, want: 200})
	ws := make([]worker, 4)
	for i := range ws {
		ws[i] = worker{ops: ops, pause: 5 * time.Millisecond}
	}

	killAt := time.Now()
	st.Kill()
	l := startLoad(c, ws, 100000, loadLimit)
	to503 := c.waitReady(t, 503, "store", killAt, 10*time.Second)
	if _, checks, _ := c.readyz(); checks["cache"] != "ok" {
		t.Errorf("/readyz with the store dead: cache should be ok, checks: %v", checks)
	}

	// Writes of every shape, concurrently: all must be refused with 503 and Retry-After.
	type write struct {
		name, method, path, token string
		body                      any
	}
	lost := "Lost while the store was down"
	ws2 := []write{
		{"create need 1", "POST", "/api/v1/needs", f.ministry, needBody(lost + " 1")},
		{"create need 2", "POST", "/api/v1/needs", f.ministry, needBody(lost + " 2")},
		{"create need 3", "POST", "/api/v1/needs", f.ministry, needBody(lost + " 3")},
		{"create offer", "POST", "/api/v1/offers", f.donor, offerBody("Offer " + strings.ToLower(lost))},
		{"patch need", "PATCH", "/api/v1/needs/" + acked[0], f.ministry, map[string]string{"title": "Patched while the store was down"}},
		{"submit need", "POST", "/api/v1/needs/" + acked[1] + "/submit", f.ministry, nil},
		{"patch offer", "PATCH", "/api/v1/offers/" + demoOffer, f.donor, map[string]string{"title": "Offer patched while the store was down"}},
		{"publish offer", "POST", "/api/v1/offers/" + ackedOffer + "/publish", f.donor, nil},
	}
	got := make([]resp, len(ws2))
	var wg sync.WaitGroup
	for i, w := range ws2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = c.do(w.method, w.path, w.token, w.body)
		}()
	}
	wg.Wait()
	var worstWrite time.Duration
	for i, w := range ws2 {
		r := got[i]
		worstWrite = max(worstWrite, r.dur)
		if r.err != nil || r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s with the store down: want 503 with Retry-After, got %s (Retry-After %q)", w.name, truncate(r.String(), 300), r.header.Get("Retry-After"))
		}
	}

	// The in-memory model did not take the failed writes either.
	if ids := c.listIDs(t, "/api/v1/needs?q=lost+while+the+store", f.ministry); len(ids) != 0 {
		t.Errorf("needs whose creation failed are listed: %v", ids)
	}
	n0 := c.must(t, 200, "GET", "/api/v1/needs/"+acked[0], f.ministry, nil)
	n1 := c.must(t, 200, "GET", "/api/v1/needs/"+acked[1], f.ministry, nil)
	if n0["title"] != "Acknowledged before the store died 0" || n1["status"] != "draft" {
		t.Errorf("failed writes changed the model: need 0 title %q, need 1 status %q", n0["title"], n1["status"])
	}
	if rk, _ := c.ranking(f.ministry, demoNeed); rk.title(demoOffer) != offerTitle {
		t.Errorf("a failed offer patch shows in the ranking: %q, want %q", rk.title(demoOffer), offerTitle)
	}
	time.Sleep(phase(time.Second)) // more reads with the store down

	restartAt := time.Now()
	st.Restart()
	to200 := c.waitReady(t, 200, "", restartAt, 20*time.Second)
	storeDown := restartAt.Add(to200)
	after := c.must(t, 201, "POST", "/api/v1/needs", f.ministry, needBody("Written after the store came back"))["id"].(string)
	toWrite := time.Since(restartAt)
	time.Sleep(500 * time.Millisecond)
	rs := l.stop()

	logSummaries(t, "store-down", rs, l.wants, killAt, storeDown)
	t.Logf("FIGURE store-down kill → /readyz 503 naming store: %s; %d writes, all 503 with Retry-After, worst %s", ms(to503), len(ws2), ms(worstWrite))
	t.Logf("FIGURE store-down restart → /readyz 200: %s; restart → first write acknowledged: %s", ms(to200), ms(toWrite))
	noFailures(t, "reads while the store was down", summarize(rs, l.wants, killAt, storeDown, nil))

	// In the store itself: no trace of the failed writes, every acknowledged write present.
	needs := storeDocs(t, st.URI(), "needs")
	offers := storeDocs(t, st.URI(), "offers")
	for _, d := range needs {
		if strings.Contains(d.Title, lost) || strings.Contains(d.Title, "Patched while") {
			t.Errorf("a failed write left need %s (%q) in the store", d.ID, d.Title)
		}
	}
	for _, d := range offers {
		if strings.Contains(d.Title, "store was down") {
			t.Errorf("a failed write left offer %s (%q) in the store", d.ID, d.Title)
		}
	}
	for _, id := range append(acked, after) {
		if _, ok := needs[id]; !ok {
			t.Errorf("acknowledged need %s is missing from the store", id)
		}
	}
	if needs[acked[1]].Status != "draft" || needs[acked[0]].Version != 1 {
		t.Errorf("failed writes changed stored needs: %+v %+v", needs[acked[0]], needs[acked[1]])
	}
	if o := offers[ackedOffer]; o.Status != "draft" {
		t.Errorf("acknowledged offer %s: %+v, want a draft (its publish failed)", ackedOffer, o)
	}
	if o := offers[demoOffer]; o.Title != offerTitle {
		t.Errorf("offer %s title %q in the store, want %q (its patch failed)", demoOffer, o.Title, offerTitle)
	}
	t.Logf("FIGURE store-down after restart: %d acknowledged writes present, 0 of %d failed writes left anything", len(acked)+2, len(ws2))
}
