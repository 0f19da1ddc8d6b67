package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// table renders the measurements as Markdown.
func table(rs []result, words int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d cores (GOMAXPROCS %d); descriptions of %d words; 1-minute load average during the runs: %s\n\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), words, loadRange(rs))
	b.WriteString("| needs + offers | read | ready (load, index) | its CPU | + change log followed (full reloads) | + first reads | CPU in all | the store alone | VmHWM (peak RSS) | VmRSS at the end | live heap | GOMEMLIMIT | load average (start → end) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		limit := r.GoMemLimit
		if limit == "" {
			limit = "none"
		}
		read := "through FerretDB"
		if r.FileRead {
			read = "FerretDB's file"
		}
		fmt.Fprintf(&b, "| %s + %s | %s | %.1f s | %.1f s | %.1f s (%d) | %.1f s | %.1f s | %.1f s | %.0f MiB | %.0f MiB | %.0f MiB | %s | %.1f → %.1f |\n",
			thousands(r.Needs), thousands(r.Offers), read, r.ReadyS, r.ReadyCPUS, r.ConnectS, r.Reloads, max(0, r.ServedS-r.ReadyS-r.ConnectS), r.CPUS, r.StoreS,
			r.HWMMiB, r.RSSMiB, r.HeapMiB, limit, r.Load1Start, r.Load1)
	}
	return b.String()
}

// loadRange is the lowest and highest 1-minute load average the runs saw.
func loadRange(rs []result) string {
	if len(rs) == 0 {
		return "?"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		lo, hi = min(lo, r.Load1Start, r.Load1), max(hi, r.Load1Start, r.Load1)
	}
	return fmt.Sprintf("%.1f–%.1f", lo, hi)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Chart geometry: two linear panels side by side.
const (
	width, height = 900, 460
	panelW        = 340
	panelH        = 260
	top           = 130
)

// series is one line of a panel.
type series struct {
	name  string
	color string
	ys    []float64
}

// panel is one plot against N, on linear axes (a linear start-up is a straight line).
type panel struct {
	left        float64
	title, unit string
	xMax, yMax  float64
	lines       []series
	target      float64
	targetLabel string
}

func (p panel) x(v float64) float64 { return p.left + v/p.xMax*panelW }
func (p panel) y(v float64) float64 { return top + panelH - v/p.yMax*panelH }

// chart draws start-up time (left) and memory (right) against N, with the targets.
func chart(rs []result) string {
	var xs, ready, served, cpu, store, hwm, heap []float64
	for _, r := range rs {
		xs = append(xs, float64(r.N))
		ready = append(ready, r.ReadyS)
		served = append(served, r.ServedS) // ServedS counts from the start: it includes ConnectS
		cpu = append(cpu, r.ReadyCPUS)
		store = append(store, r.StoreS)
		hwm = append(hwm, r.HWMMiB)
		heap = append(heap, r.HeapMiB)
	}
	xMax := niceCeil(maxOf(xs))
	left := panel{left: 70, title: "Start-up time", unit: "s", xMax: xMax,
		lines: []series{{"ready (load + index)", "#2c6fbb", ready}, {"+ change log followed and first reads", "#7fb3e6", served},
			{"a raw read of both collections through FerretDB", "#999999", store}, {"the replica's CPU until ready", "#27ae60", cpu}},
		target: 30, targetLabel: "target 30 s at 100k + 100k"}
	left.yMax = niceCeil(max(maxOf(ready), maxOf(served), maxOf(store), left.target))
	right := panel{left: 70 + panelW + 110, title: "Memory", unit: "MiB", xMax: xMax,
		lines:  []series{{"VmHWM (peak RSS)", "#c0392b", hwm}, {"live heap after GC", "#e8a09a", heap}},
		target: 1024, targetLabel: "target 1 GiB at 100k + 100k"}
	right.yMax = niceCeil(max(maxOf(hwm), right.target))

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	how := "read through FerretDB"
	if len(rs) > 0 && rs[0].FileRead {
		how = "read from FerretDB's file"
	}
	fmt.Fprintf(&b, `<text x="20" y="24" font-size="15" font-weight="bold">capmatch start-up against N needs + N offers (embedded FerretDB, %s, %d cores)</text>`+"\n", how, runtime.NumCPU())
	for _, p := range []panel{left, right} {
		drawPanel(&b, p, xs)
	}
	fmt.Fprintf(&b, `<text x="20" y="%d" font-size="11" fill="#555">go run ./cmd/capmatch-startup (bench/synth data, seed 42) · 1-minute load average during the runs: %s</text>`+"\n",
		height-8, html.EscapeString(loadRange(rs)))
	b.WriteString("</svg>\n")
	return b.String()
}

func maxOf(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func drawPanel(b *strings.Builder, p panel, xs []float64) {
	esc := html.EscapeString
	legend := top - 10 - 14*len(p.lines) // the first legend line's baseline
	fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", p.left, legend-16, esc(p.title))
	for i, s := range p.lines {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s">%s %s</text>`+"\n", p.left, legend+14*i, s.color, "—", esc(s.name))
	}
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", p.left, top, panelW, panelH)
	for i := 0; i <= 5; i++ {
		v := p.yMax * float64(i) / 5
		y := p.y(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", p.left, y, p.left+panelW, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s %s</text>`+"\n", p.left-6, y, strconv.FormatFloat(v, 'f', -1, 64), p.unit)
	}
	for i := 0; i <= 5; i++ {
		v := p.xMax * float64(i) / 5
		x := p.x(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, top, x, top+panelH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, top+panelH+16, esc(thousands(int(v))))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">N (needs, and as many offers)</text>`+"\n", p.left+panelW/2, top+panelH+36)
	if ty := p.y(p.target); ty >= top && ty <= top+panelH {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="6 4"/>`+"\n", p.left, ty, p.left+panelW, ty)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", p.left+6, ty-5, esc(p.targetLabel))
	}
	for _, s := range p.lines {
		var pts []string
		for i, x := range xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.x(x), p.y(s.ys[i])))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), s.color)
		for i, x := range xs {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", p.x(x), p.y(s.ys[i]), s.color)
		}
	}
	// Label the points of the first series and, when there are more, of the last.
	labelled := p.lines
	if len(labelled) > 2 {
		labelled = []series{p.lines[0], p.lines[len(p.lines)-1]}
	}
	for _, s := range labelled {
		for i, x := range xs {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" fill="%s" text-anchor="end">%s</text>`+"\n", p.x(x)-5, p.y(s.ys[i])-7,
				s.color, strconv.FormatFloat(s.ys[i], 'f', 1, 64))
		}
	}
}

// readFile returns a file's content, or "" when it cannot be read.
func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}
