// Command capmatch-startup measures how capmatch's start-up grows with the size of the
// marketplace (issue 16): for each size N it fills a store with N needs and N offers, then
// starts the real service on it in a fresh process and reports the time until it serves, the
// process's peak and current resident memory (VmHWM, VmRSS from /proc/self/status) and the Go
// heap, as a Markdown table on stdout and an SVG chart.
//
//	go run ./cmd/capmatch-startup -sizes 10000,20000,40000,70000,100000 -out bench/startup.svg
//
// The store is the embedded FerretDB (SQLite), run by this program in its own process next
// to the measured one, one database per size under -dir; a database filled by an earlier run
// with the same size, seed and description length is reused (filling 100,000 + 100,000
// documents takes minutes). Needs and offers are bench/synth's synthetic marketplace (seed
// -seed) with ids, organizations, creation times and a description of -desc-words words, and
// N/20 agreed engagements, inserted through the store adapter in batches (InsertNeeds,
// InsertOffers), not through the API.
//
// The measured process (this program with -measure) does what cmd/capmatch does before it
// listens: service.New on adapters/mongostore and Redis (the in-process miniredis), import
// and engagement recovery, App.Start (the full load of the read model and the matching index)
// and the derivation of the PoC readiness ("ready": the listener would open now). It then runs the reload the event bus's
// connection triggers right after (the change log's first reload, Sync.Reload at the head: "bus-connect reconcile") and serves a
// list page, a search and both directions of ranking through the service ("served"). Memory
// is read at the end: VmHWM is the peak of the whole run. -gomemlimit sets the measured
// process's GOMEMLIMIT (the Kubernetes manifest's value is what a pod runs with).
//
// -results keeps each measurement (a JSON line), and -plot draws the table and the chart again
// from such a file without measuring.
//
// -fill only fills the databases of -sizes (so that filling does not weigh on a measurement
// that follows it), and measures nothing.
//
// Timings depend on what else the machine runs; the table says the load average seen.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/capmatch/capmatch/adapters/rediscache"
	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/i18n"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Bounds on what the tool does.
const (
	maxSize   = 200_000
	maxWords  = 2_000
	batchSize = 1_000
)

// result is one measurement, as the measured process reports it on stdout (one JSON line).
type result struct {
	N          int     `json:"n"`
	Needs      int     `json:"needs"`
	Offers     int     `json:"offers"`
	ReadyS     float64 `json:"ready_s"`     // service.New + recovery + Start: the listener would open
	ConnectS   float64 `json:"connect_s"`   // the bus-connect reconcile after it
	ServedS    float64 `json:"served_s"`    // first list, search and rankings served
	HWMMiB     float64 `json:"hwm_mib"`     // VmHWM: peak RSS of the run
	RSSMiB     float64 `json:"rss_mib"`     // VmRSS at the end
	HeapMiB    float64 `json:"heap_mib"`    // live heap after a GC at the end
	HeapSysMiB float64 `json:"heapsys_mib"` // heap obtained from the OS
	CPUS       float64 `json:"cpu_s"`       // user + system CPU of the measured process (the store's is not in it)
	ReadyCPUS  float64 `json:"ready_cpu_s"` // the same, until ready
	StoreS     float64 `json:"store_s"`     // the store alone: one raw read of both collections, before the run
	FileRead   bool    `json:"file_read"`   // the start-up read needs and offers from FerretDB's file (embedded.MarketReader)
	Reloads    int     `json:"reloads"`     // full loads the change log's consumer ran when it connected
	GoMemLimit string  `json:"gomemlimit"`
	Load1Start float64 `json:"load1_start"` // 1-minute load average when the run began
	Load1      float64 `json:"load1"`       // 1-minute load average when the run ended
}

func main() {
	ctx := context.Background()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "capmatch-startup:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("capmatch-startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizesFlag := fs.String("sizes", "10000,20000,40000,70000,100000", "comma-separated sizes N (N needs and N offers)")
	dir := fs.String("dir", filepath.Join(os.TempDir(), "capmatch-startup"), "directory of the store's SQLite files (kept between runs)")
	out := fs.String("out", "bench/startup.svg", "where to write the SVG chart (empty: none)")
	seed := fs.Uint64("seed", 42, "seed of the synthetic marketplace")
	words := fs.Int("desc-words", 60, "words per description")
	limit := fs.String("gomemlimit", "", "GOMEMLIMIT of the measured process (empty: this process's environment)")
	reps := fs.Int("reps", 1, "measurements per size (1..5)")
	measure := fs.Bool("measure", false, "internal: measure one start-up on -mongo and -db")
	mongo := fs.String("mongo", "", "internal: the store's URI, for -measure")
	db := fs.String("db", "", "internal: the database, for -measure")
	n := fs.Int("n", 0, "internal: the size, for -measure")
	fileDir := fs.String("file-dir", "", "internal: FerretDB's directory, for -measure: read needs and offers from its file as cmd/capmatch does")
	viaFerret := fs.Bool("through-ferretdb", false, "read needs and offers through FerretDB at start-up, not from its file (the path before issue 16's change)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of each measured start-up to this file (the size is appended)")
	memProfile := fs.String("memprofile", "", "write a heap profile of each measured process at its end to this file (the size is appended)")
	noScan := fs.Bool("no-store-scan", false, "skip the raw read of the store alone before each measurement")
	fillOnly := fs.Bool("fill", false, "only fill the databases of -sizes; measure nothing")
	resultsFile := fs.String("results", "", "also write each measurement to this file, one JSON object a line")
	plot := fs.String("plot", "", "measure nothing: write the table and the chart of the measurements in this file (written by -results)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *measure {
		if *profile != "" {
			f, err := os.Create(*profile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		r, err := measureStartup(ctx, *mongo, *db, *n, *fileDir, stderr)
		if err != nil {
			return err
		}
		if *memProfile != "" {
			f, err := os.Create(*memProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				return err
			}
		}
		return json.NewEncoder(stdout).Encode(r)
	}
	if *plot != "" {
		results, err := readResults(*plot)
		if err != nil {
			return err
		}
		return report(results, *words, *out, stdout, stderr)
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 10 || v > maxSize {
			return fmt.Errorf("-sizes: %q is not a size in 10..%d", s, maxSize)
		}
		sizes = append(sizes, v)
	}
	if *words < 0 || *words > maxWords {
		return fmt.Errorf("-desc-words must be in 0..%d", maxWords)
	}
	if *reps < 1 || *reps > 5 {
		return errors.New("-reps must be in 1..5")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ferret, err := embedded.StartFerretDB(ctx, *dir, log)
	if err != nil {
		return err
	}
	defer ferret.Stop()
	var results []result
	for _, size := range sizes {
		name := fmt.Sprintf("startup_%d_%d_%d", size, *seed, *words)
		if err := seedStore(ctx, ferret, name, size, *seed, *words, stderr); err != nil {
			return fmt.Errorf("fill %s: %w", name, err)
		}
		if *fillOnly {
			continue
		}
		for range *reps {
			var scan time.Duration
			if !*noScan {
				if scan, err = scanStore(ctx, ferret.URI(), name); err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
			}
			prof, mprof := "", ""
			if *profile != "" {
				prof = *profile + "." + strconv.Itoa(size)
			}
			if *memProfile != "" {
				mprof = *memProfile + "." + strconv.Itoa(size)
			}
			fdir := ferret.Dir()
			if *viaFerret {
				fdir = ""
			}
			r, err := measureChild(ctx, ferret.URI(), name, size, *limit, prof, mprof, fdir, stderr)
			if err != nil {
				return fmt.Errorf("measure %d: %w", size, err)
			}
			fmt.Fprintf(stderr, "N=%d: ready %.2f s (CPU %.2f s, from the file: %v), change log followed %.2f s later (%d full reloads), served %.2f s, CPU %.2f s, store alone %.2f s, VmHWM %.0f MiB, VmRSS %.0f MiB, live heap %.0f MiB (load %.1f → %.1f)\n",
				size, r.ReadyS, r.ReadyCPUS, r.FileRead, r.ConnectS, r.Reloads, r.ServedS, r.CPUS, scan.Seconds(), r.HWMMiB, r.RSSMiB, r.HeapMiB, r.Load1Start, r.Load1)
			r.StoreS = scan.Seconds()
			results = append(results, r)
			if *resultsFile != "" {
				if err := appendResult(*resultsFile, r); err != nil {
					return err
				}
			}
		}
	}
	if *fillOnly {
		return nil
	}
	return report(results, *words, *out, stdout, stderr)
}

// report writes the Markdown table on stdout and the SVG chart to out (unless empty).
func report(results []result, words int, out string, stdout, stderr io.Writer) error {
	fmt.Fprint(stdout, table(results, words))
	if out != "" {
		if err := os.WriteFile(out, []byte(chart(results)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", out)
	}
	return nil
}

// appendResult adds one measurement to a file of JSON lines.
func appendResult(name string, r result) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(f).Encode(r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readResults reads the measurements appendResult wrote.
func readResults(name string) ([]result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	dec := json.NewDecoder(f)
	for dec.More() {
		var r result
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%s holds no measurement", name)
	}
	return rs, nil
}

// measureChild runs this program with -measure in a fresh process, so that its peak RSS is
// the start-up's alone, and returns what it reports.
func measureChild(ctx context.Context, uri, db string, n int, limit, profile, memProfile, fileDir string, stderr io.Writer) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-measure", "-mongo", uri, "-db", db, "-n", strconv.Itoa(n), "-cpuprofile", profile, "-memprofile", memProfile, "-file-dir", fileDir)
	cmd.Env = os.Environ()
	if limit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+limit)
	}
	cmd.Stderr = stderr
	raw, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(raw, &r); err != nil {
		return result{}, fmt.Errorf("decode %q: %w", raw, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPUS = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
	}
	return r, nil
}

// scanStore reads every need and offer of db without decoding them: what the store alone
// takes to serve a full load.
func scanStore(ctx context.Context, uri, db string) (time.Duration, error) {
	st, err := mongostore.Open(ctx, uri, db, mongostore.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	t0 := time.Now()
	for _, coll := range []string{"needs", "offers"} {
		cur, err := st.Database().Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			return 0, err
		}
		for cur.Next(ctx) {
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// seedMark is the setting that records what a database was filled with.
const seedMark = "capmatch_startup_seed"

// seedStore fills database db with n needs, n offers and n/20 agreed engagements, unless an
// earlier run did.
func seedStore(ctx context.Context, ferret *embedded.FerretDB, db string, n int, seed uint64, words int, stderr io.Writer) error {
	st, err := mongostore.Open(ctx, ferret.URI(), db, mongostore.Options{})
	if err != nil {
		return err
	}
	defer st.Close(context.WithoutCancel(ctx))
	if err := st.EnsureCollections(ctx); err != nil {
		return err
	}
	if _, err := ferret.IndexIDs(ctx, db); err != nil {
		return err
	}
	want := fmt.Sprintf(`{"n":%d,"seed":%d,"words":%d}`, n, seed, words)
	got, err := st.GetOrCreateSetting(ctx, seedMark+"_done", []byte("no"))
	if err != nil {
		return err
	}
	if string(got) == want {
		return nil
	}
	if string(got) != "no" {
		return fmt.Errorf("database %s holds another data set (%s): remove %s", db, got, ferret.URI())
	}
	started := time.Now()
	g := synth.New(seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	created := func(i int) time.Time { return base.Add(time.Duration(i) * 7 * time.Minute) }
	needs := make([]*models.Need, 0, batchSize)
	matched := make([]*models.Need, 0, n/20)
	for i := range n {
		x := g.Need(i)
		at := created(i)
		x.ID, x.CreatedAt, x.UpdatedAt, x.Version = models.NewID(at), at, at, 1
		x.OrganizationID, x.CreatedBy = "gov-"+strings.ToLower(x.Country), "user-"+strings.ToLower(x.Country)
		x.Description = description(rng, words)
		if x.Status == models.NeedMatched && len(matched) < n/20 {
			matched = append(matched, x)
		}
		needs = append(needs, x)
		if len(needs) == batchSize || i == n-1 {
			if err := st.InsertNeeds(ctx, needs); err != nil {
				return err
			}
			needs = needs[:0]
		}
	}
	offers := make([]*models.Offer, 0, batchSize)
	var offerIDs []string
	for i := range n {
		x := g.Offer(i)
		at := created(i).Add(3 * time.Minute)
		x.ID, x.CreatedAt, x.UpdatedAt, x.Version = models.NewID(at), at, at, 1
		x.OrganizationID, x.CreatedBy = fmt.Sprintf("donor-%03d", i%400), fmt.Sprintf("donor-user-%03d", i%400)
		x.Description = description(rng, words)
		offerIDs = append(offerIDs, x.ID)
		offers = append(offers, x)
		if len(offers) == batchSize || i == n-1 {
			if err := st.InsertOffers(ctx, offers); err != nil {
				return err
			}
			offers = offers[:0]
		}
	}
	for i, x := range matched {
		at := x.CreatedAt.Add(24 * time.Hour)
		e := &models.Engagement{ID: models.NewID(at), NeedID: x.ID, OfferID: offerIDs[i%len(offerIDs)], NeedOrgID: x.OrganizationID,
			OfferOrgID: "donor-000", Country: x.Country, Capability: x.Capability, ProposedBy: models.SideNeed,
			Status: models.EngagementAgreed, Message: "Proposed by the synthetic marketplace.", BudgetUSD: x.BudgetUSD / 2,
			StartDate: x.StartBy, EndDate: x.StartBy, CreatedBy: x.CreatedBy, CreatedAt: at, UpdatedAt: at, Version: 2}
		if err := st.CreateEngagement(ctx, e); err != nil {
			return err
		}
	}
	ok, err := st.SwapSetting(ctx, seedMark+"_done", []byte("no"), []byte(want))
	if err != nil || !ok {
		return fmt.Errorf("mark %s filled: %v", db, err)
	}
	fmt.Fprintf(stderr, "filled %s: %d needs, %d offers, %d engagements in %s\n", db, n, n, len(matched), time.Since(started).Round(time.Second))
	return nil
}

// vocabulary is what descriptions are drawn from: the domain's words, some with accents,
// so that folding for search has work to do.
var vocabulary = strings.Fields("national CSIRT incident response strategy cybercrime legislation forensics training " +
	"prosecutors points of contact confidence-building measures position international law awareness workforce " +
	"exercise critical infrastructure standards maturity sovereignty due diligence Côte d'Ivoire sécurité " +
	"réseau équipe nationale capacités ciberseguridad formación técnica the of and for to in with a programme " +
	"ministry partners regional support mentoring deployment assessment roadmap governance")

// description draws a text of the given number of words.
func description(rng *rand.Rand, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[rng.IntN(len(vocabulary))])
	}
	return b.String()
}

// measureStartup starts the service on database db as cmd/capmatch does before it listens
// (reading needs and offers from FerretDB's file in fileDir unless it is empty, starting at
// the change log's head), then starts the change log's consumer as serve does and waits until
// it follows the log, serves a few reads, and reports the times and the memory.
func measureStartup(ctx context.Context, uri, db string, n int, fileDir string, stderr io.Writer) (result, error) {
	if uri == "" || db == "" {
		return result{}, errors.New("-measure needs -mongo and -db")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	warn := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	loadStart := loadAverage()
	t0 := time.Now()
	st, err := mongostore.Open(ctx, uri, db, mongostore.Options{Logger: quiet})
	if err != nil {
		return result{}, err
	}
	defer st.Close(context.WithoutCancel(ctx))
	red, err := embedded.StartRedis()
	if err != nil {
		return result{}, err
	}
	defer red.Stop()
	cache, err := rediscache.Open(red.URL(), "startup:")
	if err != nil {
		return result{}, err
	}
	defer cache.Close()
	changes := rediscache.NewLog(cache, "startup", quiet)
	var market service.MarketScanner
	if fileDir != "" {
		market = embedded.NewMarketReader(fileDir, db, st, warn)
	}
	app := service.New(service.Deps{Store: st, Bus: changes, Log: quiet, BulkMarket: market,
		CursorKey: []byte("startup"), Rankings: rediscache.NewRankings(cache, time.Hour), Texts: i18n.Default()})
	if err := app.RecoverImports(ctx); err != nil {
		return result{}, err
	}
	head, epoch, err := changes.Head(ctx)
	if err != nil {
		return result{}, err
	}
	if err := app.StartAt(ctx, head); err != nil {
		return result{}, err
	}
	changes.Resume(head, epoch)
	if err := app.Engagements.Recover(ctx); err != nil {
		return result{}, err
	}
	if err := app.PoCs.Rederive(ctx); err != nil {
		return result{}, err
	}
	ready := time.Since(t0)
	readyCPU := cpuTime()
	t1 := time.Now()
	// The change log's consumer, as serve runs it: until it follows the log (a full reload
	// first, if it could not resume).
	w := &watcher{Sync: app.Sync, live: make(chan struct{})}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { changes.Run(runCtx, w, time.Second); close(runDone) }()
	defer func() { stopRun(); <-runDone }()
	select {
	case <-w.live:
	case <-time.After(10 * time.Minute):
		return result{}, errors.New("the change log's consumer did not follow the log within 10 minutes")
	}
	connect := time.Since(t1)
	needs, offers := app.Loaded()
	if needs != n || offers != n {
		return result{}, fmt.Errorf("loaded %d needs and %d offers, want %d of each", needs, offers, n)
	}
	coord := &models.Actor{UserID: "startup", Role: models.RoleCoordinator, OrgID: "coordinators"}
	page, _, err := app.Needs.List(ctx, coord, service.NeedListParams{Limit: 20})
	if err != nil || len(page) == 0 {
		return result{}, fmt.Errorf("list needs: %d items, %v", len(page), err)
	}
	if _, _, err := app.Needs.List(ctx, coord, service.NeedListParams{Q: "cote d'ivoire", Limit: 20}); err != nil {
		return result{}, fmt.Errorf("search needs: %w", err)
	}
	open, _, err := app.Needs.List(ctx, coord, service.NeedListParams{Status: string(models.NeedOpen), Limit: 1})
	if err != nil || len(open) == 0 {
		return result{}, fmt.Errorf("list open needs: %v", err)
	}
	if _, err := app.Matching.OffersForNeed(ctx, coord, open[0].ID, 20); err != nil {
		return result{}, fmt.Errorf("rank offers: %w", err)
	}
	oo, _, err := app.Offers.List(ctx, coord, service.OfferListParams{Status: string(models.OfferOpen), Limit: 1})
	if err != nil || len(oo) == 0 {
		return result{}, fmt.Errorf("list open offers: %v", err)
	}
	if _, err := app.Matching.NeedsForOffer(ctx, coord, oo[0].ID, 20); err != nil {
		return result{}, fmt.Errorf("rank needs: %w", err)
	}
	served := time.Since(t0)
	r := result{N: n, Needs: needs, Offers: offers, ReadyS: ready.Seconds(), ConnectS: connect.Seconds(), ServedS: served.Seconds(),
		FileRead: fileDir != "", Reloads: int(w.reloads.Load()),
		ReadyCPUS: readyCPU.Seconds(), GoMemLimit: os.Getenv("GOMEMLIMIT"), Load1Start: loadStart}
	r.HWMMiB, r.RSSMiB = procStatus("VmHWM"), procStatus("VmRSS")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapMiB, r.HeapSysMiB = float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapSys)/(1<<20)
	r.Load1 = loadAverage()
	runtime.KeepAlive(app)
	return r, nil
}

// watcher is the replica's Sync as the change log's follower, telling when it first follows
// the log and counting the full reloads.
type watcher struct {
	*service.Sync
	live    chan struct{}
	once    sync.Once
	reloads atomic.Int32
}

// Reload counts, then reloads.
func (w *watcher) Reload(ctx context.Context, head int64) error {
	w.reloads.Add(1)
	return w.Sync.Reload(ctx, head)
}

// Live passes on, and tells the first time the replica follows the log.
func (w *watcher) Live(live bool) {
	w.Sync.Live(live)
	if live {
		w.once.Do(func() { close(w.live) })
	}
}

// cpuTime is the user and system CPU this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

// procStatus reads a kB field of /proc/self/status, in MiB.
func procStatus(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// loadAverage is the 1-minute load average.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	return v
}
