package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// load says how hard and how long to push.
type load struct {
	// Rate is the total requests per second across ops, shared by weight; 0 means closed
	// loop: Workers requests in flight at all times, as fast as the server answers.
	Rate       float64
	Duration   time.Duration
	Workers    int // initial workers per op (closed loop: in total)
	MaxWorkers int // cap on workers per op in open loop
}

// opResult is what one op did during a run.
type opResult struct {
	name      string
	m         vegeta.Metrics
	acked     int // successful writes recorded
	ackErrors []string
}

// runResult is one run: per op, reads and writes apart (the targets differ: p99 ≤ 50 ms is
// asked of reads), and in total.
type runResult struct {
	ops           []*opResult
	reads, writes vegeta.Metrics
	total         vegeta.Metrics
	took          time.Duration
	asked         float64 // the rate asked for; 0 in closed loop
}

// opFreq is an op's rate in requests per 10 s (tenths of a request per second, so that a
// small share keeps its rate). The engagement plan uses it too, to bound how many requests
// each op can send.
func opFreq(rate, share float64) int {
	return max(1, int(math.Round(rate*share*10)))
}

// run puts the mix under load: each op on its own attacker with its share of the rate, all
// at once, for l.Duration. Results are folded into metrics as they arrive; write ops record
// what was acknowledged. It stops early when ctx ends.
func run(ctx context.Context, client *http.Client, mix []weighted, l load) *runResult {
	totalWeight := 0
	for _, w := range mix {
		totalWeight += w.weight
	}
	res := &runResult{asked: l.Rate}
	var totalMu sync.Mutex
	var wg sync.WaitGroup
	var attackers []*vegeta.Attacker
	start := time.Now()
	for _, w := range mix {
		share := float64(w.weight) / float64(totalWeight)
		opts := []func(*vegeta.Attacker){vegeta.Client(client)}
		var pacer vegeta.Pacer
		if l.Rate == 0 {
			n := max(1, int(math.Round(float64(l.Workers)*share)))
			pacer = vegeta.Rate{Freq: 0, Per: time.Second}
			opts = append(opts, vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)))
		} else {
			freq := opFreq(l.Rate, share)
			pacer = vegeta.Rate{Freq: freq, Per: 10 * time.Second}
			opts = append(opts, vegeta.Workers(uint64(max(1, l.Workers))), vegeta.MaxWorkers(uint64(max(l.Workers, l.MaxWorkers))))
		}
		if w.op.ack == nil {
			opts = append(opts, vegeta.MaxBody(0)) // reads: status and latency are enough
		}
		atk := vegeta.NewAttacker(opts...)
		attackers = append(attackers, atk)
		var seq atomic.Uint64
		o := w.op
		targeter := func(t *vegeta.Target) error { return o.target(seq.Add(1)-1, t) }
		results := atk.Attack(targeter, pacer, l.Duration, o.name)
		or := &opResult{name: o.name}
		res.ops = append(res.ops, or)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range results {
				if o.ack != nil && r.Code >= 200 && r.Code < 300 {
					if err := o.ack(r); err != nil {
						or.ackErrors = append(or.ackErrors, err.Error())
					} else {
						or.acked++
					}
				}
				r.Body = nil
				or.m.Add(r)
				totalMu.Lock()
				res.total.Add(r)
				if o.ack == nil {
					res.reads.Add(r)
				} else {
					res.writes.Add(r)
				}
				totalMu.Unlock()
			}
			or.m.Close()
		}()
	}
	stop := context.AfterFunc(ctx, func() {
		for _, a := range attackers {
			a.Stop()
		}
	})
	wg.Wait()
	stop()
	res.total.Close()
	res.reads.Close()
	res.writes.Close()
	res.took = time.Since(start)
	return res
}

// ms prints a latency in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
}

// print writes one run as a table: per op, then, when the mix has both, all reads and all
// writes (so that the read target, p99 ≤ 50 ms, is read off one line), then all ops together.
func (r *runResult) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\trequests\tsent/s\tok/s\tsuccess\tp50\tp95\tp99\tmax\tstatus codes\t")
	line := func(name string, m *vegeta.Metrics) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f%%\t%s\t%s\t%s\t%s\t%s\t\n", name, m.Requests, m.Rate, m.Throughput,
			m.Success*100, ms(m.Latencies.P50), ms(m.Latencies.P95), ms(m.Latencies.P99), ms(m.Latencies.Max), codes(m.StatusCodes))
	}
	for _, o := range r.ops {
		line(o.name, &o.m)
	}
	if r.reads.Requests > 0 && r.writes.Requests > 0 {
		line("reads", &r.reads)
		line("writes", &r.writes)
	}
	if len(r.ops) > 1 {
		line("all", &r.total)
	}
	tw.Flush()
	if r.asked > 0 && r.total.Rate < 0.95*r.asked {
		fmt.Fprintf(w, "the generator fell behind: it sent %.0f of the %.0f req/s asked (workers all busy, or no CPU left for it);"+
			" the latencies above do not include the time requests waited to be sent\n", r.total.Rate, r.asked)
	}
	if errs := r.total.Errors; len(errs) > 0 {
		fmt.Fprintf(w, "errors (%d distinct", len(errs))
		if len(errs) > 5 {
			fmt.Fprint(w, ", first 5")
			errs = errs[:5]
		}
		fmt.Fprintln(w, "):")
		for _, e := range errs {
			fmt.Fprintln(w, "  "+e)
		}
	}
	for _, o := range r.ops {
		if len(o.ackErrors) > 0 {
			fmt.Fprintf(w, "%s: %d successful responses did not hold what a write returns, e.g. %s\n", o.name, len(o.ackErrors), o.ackErrors[0])
		}
	}
}

// codes prints a status code histogram: "200:1200 503:3".
func codes(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, c[k])
	}
	return strings.Join(parts, " ")
}

// verifyWrites reads back what every write op acknowledged and reports it; it returns
// false when an acknowledged write was lost or unreadable.
func verifyWrites(ctx context.Context, w io.Writer, a *api, mix []weighted, r *runResult) bool {
	ok := true
	for i, x := range mix {
		if x.op.verify == nil {
			continue
		}
		checked, failures := x.op.verify(ctx, a)
		fmt.Fprintf(w, "%s: %d acknowledged, %d read back after the run, %d lost or unreadable\n",
			x.op.name, r.ops[i].acked, checked, len(failures))
		for j, f := range failures {
			if j == 5 {
				fmt.Fprintf(w, "  ... and %d more\n", len(failures)-5)
				break
			}
			fmt.Fprintln(w, "  "+f)
		}
		if len(failures) > 0 || len(r.ops[i].ackErrors) > 0 {
			ok = false
		}
	}
	return ok
}
