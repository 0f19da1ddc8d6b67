// Package bench_test profiles capmatch's HTTP hot paths without a network: the full Fiber
// application (middleware, token check, handler) serving requests from memory, so that
// `go test -cpuprofile` shows where a request's CPU goes (issue 5):
//
//	go test -run '^$' -bench Handler -cpuprofile /tmp/handler.prof ./bench/
//	go tool pprof -top -cum /tmp/handler.prof
//
// The access log is written as in production (JSON at level info) to a temporary file.
package bench_test

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/capmatch/capmatch/api"
	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/valyala/fasthttp"
)

// handlerWorld is the API on 1,000 synthetic needs × 1,000 offers, with an access token of
// a ministry whose country has needs.
type handlerWorld struct {
	h      fasthttp.RequestHandler
	token  string
	needID string
	// ctx is reused by serve, as fasthttp's server reuses its RequestCtx values.
	ctx   fasthttp.RequestCtx
	ready bool
}

func newHandlerWorld(b *testing.B) *handlerWorld {
	b.Helper()
	logFile, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logFile.Close() })
	log := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	today, _ := synth.Today.Time()
	now := func() time.Time { return today.Add(9 * time.Hour) }
	st := stacktest.New(b, stacktest.Options{Memory: true, Secret: []byte("bench-secret-bench-secret-bench-secret!"), Log: log,
		Adjust: func(d *service.Deps) { d.Now, d.CursorKey = now, []byte("bench") }})
	app, tokens := st.App, st.Access
	needs, offers, _ := synth.Data(42, 1000, 1000)
	var need *models.Need
	for _, o := range offers {
		o.Version, o.OrganizationID = 1, "donor"
	}
	for _, n := range needs {
		n.Version, n.OrganizationID = 1, "gov-"+n.Country
		if need == nil && n.Visibility == models.VisibilityPublic && n.Status == models.NeedOpen {
			need = n
		}
	}
	st.Plant(needs, offers)
	tok, _, _, err := tokens.Issue(models.Actor{UserID: "u1", Role: models.RoleMinistry, OrgID: need.OrganizationID,
		Country: need.Country, TokenID: "t1", FamilyID: "f1"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Deps{Log: log, App: app})
	return &handlerWorld{h: srv.App().Handler(), token: tok, needID: need.ID}
}

// serve runs one GET through the application and fails the benchmark on a status ≠ 200.
// Like fasthttp's server, it reuses one RequestCtx from request to request, reset between
// them (the server keeps a pool of them and resets their request, response and user values),
// so header and body buffers are reused as they are in production rather than allocated
// afresh for every request.
func (w *handlerWorld) serve(b *testing.B, path string, auth bool) int {
	ctx := &w.ctx
	if !w.ready {
		ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
		w.ready = true
	}
	ctx.Request.Reset()
	ctx.Response.Reset()
	ctx.ResetUserValues()
	req := &ctx.Request
	req.Header.SetMethod(fasthttp.MethodGet)
	req.SetRequestURI(path)
	req.Header.SetHost("127.0.0.1")
	if auth {
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+w.token)
	}
	w.h(ctx)
	if c := ctx.Response.StatusCode(); c != fasthttp.StatusOK {
		b.Fatalf("GET %s: %d %s", path, c, ctx.Response.Body())
	}
	return len(ctx.Response.Body())
}

// cpuTime is the CPU time (user and system, every thread) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per operation since start: unlike ns/op it barely
// moves when other processes compete for the cores, and on a CPU-bound server its ratio
// between two endpoints predicts the ratio of their request rates.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N)/1000, "cpu-µs/op")
}

// BenchmarkHandlerHealthz is the floor: the middleware stack and a constant JSON answer.
func BenchmarkHandlerHealthz(b *testing.B) {
	w := newHandlerWorld(b)
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		w.serve(b, "/healthz", false)
	}
	reportCPU(b, start)
}

// BenchmarkHandlerNeedMatchesCached is GET /api/v1/needs/{id}/matches?limit=10 with a
// cached ranking: middleware, token check, visibility check, L1 cache hit.
func BenchmarkHandlerNeedMatchesCached(b *testing.B) {
	w := newHandlerWorld(b)
	path := "/api/v1/needs/" + w.needID + "/matches?limit=10"
	size := w.serve(b, path, true) // computes and caches
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		w.serve(b, path, true)
	}
	reportCPU(b, start)
	b.ReportMetric(float64(size), "body-bytes")
}
