// Command chart measures the matching core at several marketplace sizes and draws the result
// as a plain SVG chart, so that BENCHMARKS.md can show how ranking time grows with needs ×
// offers (issue 5). For each size n it builds n needs and n offers with bench/synth (seed
// 42: at 10,000 the data of the matching benchmarks), then times:
//
//   - TopOffersForNeed: the top 20 offers of one need, over -queries needs in turn (mean
//     and 99th percentile per call);
//   - RebuildAll: the top 20 of every need and every offer on GOMAXPROCS workers, -reps
//     times (median and fastest).
//
// It prints a Markdown table on stdout and writes the chart to -out:
//
//	go run ./bench/chart -out bench/rebuild.svg
//
// Timings depend on what else the machine runs; the table says the load average seen.
package main

import (
	"flag"
	"fmt"
	"html"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/bench/synth"
	"github.com/capmatch/capmatch/matching"
)

// point is the measurement at one size.
type point struct {
	Needs, Offers int
	TopMean       time.Duration // TopOffersForNeed, mean per call
	TopP99        time.Duration
	RebuildMedian time.Duration // RebuildAll, median of the repetitions
	RebuildMin    time.Duration
}

// pairs is the size on the chart's x axis.
func (p point) pairs() float64 { return float64(p.Needs) * float64(p.Offers) }

func main() {
	out := flag.String("out", "bench/rebuild.svg", "where to write the SVG chart")
	sizesFlag := flag.String("sizes", "1000,2500,5000,10000", "comma-separated sizes n (n needs × n offers)")
	reps := flag.Int("reps", 5, "RebuildAll repetitions per size (1..50)")
	queries := flag.Int("queries", 2000, "TopOffersForNeed calls per size (1..100000)")
	flag.Parse()
	if *reps < 1 || *reps > 50 || *queries < 1 || *queries > 100_000 {
		fail("-reps must be in 1..50 and -queries in 1..100000")
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 || n > 50_000 {
			fail("-sizes: %q is not a size in 10..50000", s)
		}
		sizes = append(sizes, n)
	}

	var pts []point
	for _, n := range sizes {
		p := measure(n, *reps, *queries)
		pts = append(pts, p)
		fmt.Fprintf(os.Stderr, "%d × %d: TopOffersForNeed %s mean, RebuildAll %s median\n",
			n, n, p.TopMean, p.RebuildMedian)
	}
	fmt.Print(table(pts, *reps, *queries))
	if err := os.WriteFile(*out, []byte(svg(pts)), 0o644); err != nil {
		fail("write %s: %v", *out, err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "chart: "+format+"\n", args...)
	os.Exit(2)
}

// measure times the core at n needs × n offers.
func measure(n, reps, queries int) point {
	needs, offers, ctx := synth.Data(42, n, n)
	ix := matching.NewIndex(needs, offers)
	w := matching.DefaultWeights()
	p := point{Needs: n, Offers: n}

	ix.RebuildAll(20, w, ctx, 0) // warm up caches and the heap
	runtime.GC()
	var rebuild []time.Duration
	for range reps {
		t0 := time.Now()
		ix.RebuildAll(20, w, ctx, runtime.GOMAXPROCS(0))
		rebuild = append(rebuild, time.Since(t0))
		runtime.GC() // keep one repetition's garbage out of the next one's time
	}
	slices.Sort(rebuild)
	p.RebuildMin, p.RebuildMedian = rebuild[0], rebuild[len(rebuild)/2]

	calls := make([]time.Duration, queries)
	var total time.Duration
	for i := range calls {
		id := needs[(i*7919)%len(needs)].ID
		t0 := time.Now()
		ix.TopOffersForNeed(id, 20, w, ctx)
		calls[i] = time.Since(t0)
		total += calls[i]
	}
	slices.Sort(calls)
	p.TopMean = total / time.Duration(queries)
	p.TopP99 = calls[min(len(calls)-1, int(math.Ceil(0.99*float64(len(calls))))-1)]
	return p
}

// table renders the measurements as Markdown.
func table(pts []point, reps, queries int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d cores (GOMAXPROCS %d), load average at the end: %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg())
	fmt.Fprintf(&b, "| needs × offers | pairs | TopOffersForNeed mean (p99), %d calls | RebuildAll median (fastest), %d runs |\n", queries, reps)
	b.WriteString("|---|---|---|---|\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "| %s × %s | %s | %s (%s) | %s (%s) |\n", thousands(p.Needs), thousands(p.Offers),
			pairsLabel(p.pairs()), dur(p.TopMean), dur(p.TopP99), dur(p.RebuildMedian), dur(p.RebuildMin))
	}
	return b.String()
}

// loadavg returns the 1-minute load average, or "?" where /proc is missing.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func pairsLabel(x float64) string {
	if x >= 1e6 {
		return strconv.FormatFloat(x/1e6, 'f', -1, 64) + "M"
	}
	return strconv.FormatFloat(x/1e3, 'f', -1, 64) + "k"
}

// dur prints a duration with three significant digits in the unit that suits it.
func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(float64(d.Nanoseconds())/1000, 'f', 0, 64) + " µs"
}

// Chart geometry: two log-log panels side by side.
const (
	width, height = 900, 420
	panelW        = 360
	panelH        = 260
	top           = 80
)

// panel is one log-log plot: x is needs × offers, y a time in seconds.
type panel struct {
	left                   float64
	title, series          string
	xMin, xMax, yMin, yMax float64 // log10 bounds
	ys, lows               []float64
	target                 float64
	targetLabel            string
}

func (p panel) x(v float64) float64 {
	return p.left + (math.Log10(v)-p.xMin)/(p.xMax-p.xMin)*panelW
}

func (p panel) y(v float64) float64 {
	return top + panelH - (math.Log10(v)-p.yMin)/(p.yMax-p.yMin)*panelH
}

// svg draws RebuildAll on the left and TopOffersForNeed on the right, each against needs ×
// offers on log scales, with the target as a dashed line.
func svg(pts []point) string {
	var xs, rebuild, rebuildMin, topMean, topP99 []float64
	for _, p := range pts {
		xs = append(xs, p.pairs())
		rebuild = append(rebuild, p.RebuildMedian.Seconds())
		rebuildMin = append(rebuildMin, p.RebuildMin.Seconds())
		topMean = append(topMean, p.TopMean.Seconds())
		topP99 = append(topP99, p.TopP99.Seconds())
	}
	xMin, xMax := decades(xs, 0)
	left := panel{left: 70, title: "RebuildAll: top 20 of every need and offer", series: "median of runs (dot: fastest)",
		xMin: xMin, xMax: xMax, ys: rebuild, lows: rebuildMin, target: 1, targetLabel: "target 1 s at 10k × 10k"}
	left.yMin, left.yMax = decades(append(slices.Clone(rebuild), rebuildMin...), 1)
	right := panel{left: 70 + panelW + 90, title: "TopOffersForNeed: one need, top 20", series: "mean per call (dot: p99)",
		xMin: xMin, xMax: xMax, ys: topMean, lows: topP99, target: 0.002, targetLabel: "target 2 ms at 10k offers"}
	right.yMin, right.yMax = decades(append(slices.Clone(topMean), topP99...), 0.002)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">capmatch matching core: time against needs × offers (log–log, %d cores)</text>`+"\n", 20, runtime.NumCPU())
	for _, p := range []panel{left, right} {
		drawPanel(&b, p, xs)
	}
	fmt.Fprintf(&b, `<text x="20" y="%d" font-size="11" fill="#555">go run ./bench/chart (bench/synth data, seed 42) · load average when it finished: %s</text>`+"\n",
		height-8, html.EscapeString(loadavg()))
	b.WriteString("</svg>\n")
	return b.String()
}

// decades returns log10 bounds on whole decades that hold every value and extra (when > 0).
func decades(vs []float64, extra float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	if extra > 0 {
		vs = append(slices.Clone(vs), extra)
	}
	for _, v := range vs {
		if v > 0 {
			lo, hi = min(lo, math.Log10(v)), max(hi, math.Log10(v))
		}
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

func drawPanel(b *strings.Builder, p panel, xs []float64) {
	esc := html.EscapeString
	fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", p.left, top-28, esc(p.title))
	fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#555">%s</text>`+"\n", p.left, top-12, esc(p.series))
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", p.left, top, panelW, panelH)
	// Grid and labels: every decade on both axes, plus 2× and 5× ticks on x.
	for e := p.yMin; e <= p.yMax; e++ {
		y := p.y(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", p.left, y, p.left+panelW, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", p.left-6, y, secondsLabel(math.Pow(10, e)))
	}
	for e := p.xMin; e <= p.xMax; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if math.Log10(v) > p.xMax+1e-9 {
				continue
			}
			x := p.x(v)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, top, x, top+panelH)
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, top+panelH+16, pairsLabel(v))
		}
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">needs × offers (pairs)</text>`+"\n", p.left+panelW/2, top+panelH+36)
	// Target.
	if ty := p.y(p.target); ty >= top && ty <= top+panelH {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c0392b" stroke-dasharray="6 4"/>`+"\n", p.left, ty, p.left+panelW, ty)
		ly := ty - 5
		if ty < top+20 {
			ly = ty + 15 // keep the label inside the panel when the target is its top line
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#c0392b">%s</text>`+"\n", p.left+6, ly, esc(p.targetLabel))
	}
	// Series: a line through the main values, a dot for each secondary value.
	var pts []string
	for i, x := range xs {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.x(x), p.y(p.ys[i])))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="#2c6fbb" stroke-width="2"/>`+"\n", strings.Join(pts, " "))
	for i, x := range xs {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#2c6fbb"/>`+"\n", p.x(x), p.y(p.ys[i]))
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="none" stroke="#2c6fbb"/>`+"\n", p.x(x), p.y(p.lows[i]))
		lx, anchor := p.x(x)+6, "start"
		if i == len(xs)-1 { // the last point sits on the right edge: label it on its left
			lx, anchor = p.x(x)-6, "end"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" fill="#2c6fbb" text-anchor="%s">%s</text>`+"\n", lx, p.y(p.ys[i])-6,
			anchor, esc(dur(time.Duration(p.ys[i]*float64(time.Second)))))
	}
}

// secondsLabel labels a decade of seconds: 1 µs, 10 ms, 1 s, ...
func secondsLabel(s float64) string {
	switch {
	case s >= 1:
		return strconv.FormatFloat(s, 'f', -1, 64) + " s"
	case s >= 1e-3:
		return strconv.FormatFloat(s*1e3, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(s*1e6, 'f', -1, 64) + " µs"
}
