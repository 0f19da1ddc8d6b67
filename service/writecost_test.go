package service_test

import (
	"context"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/capmatch/capmatch/internal/stacktest"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
)

// commandCounter counts the commands the store's driver sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { c.n.Add(1) }}
}

// writeCost is what one write use case cost: the store commands sent before it returned (what
// its request waits for), those sent after it (the notification outbox), and its wall time.
type writeCost struct {
	op           string
	inCall, tail int64
	took         time.Duration
}

// writeOps runs each write a user makes in the mixed load once, on w (whose store is counted by
// c), and returns what each cost. A fresh need and proposal are set up for each; only the write
// itself is counted and timed.
func writeOps(w *world, c *commandCounter) []writeCost {
	w.t.Helper()
	var out []writeCost
	measure := func(op string, f func() error) {
		w.t.Helper()
		w.app.Notifications.Flush(w.ctx)
		before := c.n.Load()
		start := time.Now()
		err := f()
		took := time.Since(start)
		in := c.n.Load()
		require.NoError(w.t, err, op)
		w.app.Notifications.Flush(w.ctx)
		out = append(out, writeCost{op: op, inCall: in - before, tail: c.n.Load() - in, took: took})
	}
	offer := w.openOffer(w.donor, "Francophone CSIRT mentoring")
	title := "Mentoring for the CSIRT"
	measure("create need", func() error {
		_, err := w.app.Needs.Create(w.ctx, w.sn, needInput("Set up a national CSIRT"))
		return err
	})
	measure("edit offer", func() error {
		_, err := w.app.Offers.Patch(w.ctx, w.donor, offer.ID, service.OfferPatch{Title: &title}, nil)
		return err
	})
	need := w.openNeed("National CSIRT, first year")
	var e *models.Engagement
	measure("propose", func() (err error) {
		e, _, err = w.app.Engagements.Propose(w.ctx, w.sn, service.EngagementInput{NeedID: need.ID, OfferID: offer.ID})
		return err
	})
	measure("message", func() error {
		_, err := w.app.Engagements.Message(w.ctx, w.donor, e.ID, "We can start in March.")
		return err
	})
	measure("accept", func() error {
		_, err := w.app.Engagements.Accept(w.ctx, w.donor, e.ID)
		return err
	})
	need = w.openNeed("National CSIRT, second team")
	e = w.propose(w.sn, need.ID, offer.ID)
	measure("decline", func() error {
		_, err := w.app.Engagements.Decline(w.ctx, w.donor, e.ID, "no expert free this year")
		return err
	})
	need = w.openNeed("National CSIRT, third team")
	e = w.propose(w.sn, need.ID, offer.ID)
	measure("withdraw", func() error {
		_, err := w.app.Engagements.Withdraw(w.ctx, w.sn, e.ID, "funded elsewhere")
		return err
	})
	return out
}

// TestWriteRoundTrips: the store round trips a user's write waits for, per use case, on the
// embedded store (issue 16, target 4: on FerretDB each is 0.5–3 ms, and they run one after the
// other). The notification of the other side is stored after the answer (the outbox), not
// inside it; the bounds are today's counts, so a change that adds a round trip to a write
// fails here and says which.
func TestWriteRoundTrips(t *testing.T) {
	c := &commandCounter{}
	w := newWorldOn(t, stacktest.Options{StoreMonitor: c.monitor()})
	got := writeOps(w, c)
	// The counts on FerretDB reached directly (serial): a conditional write reads the version
	// first unless this process wrote that version itself (mongostore's knownVersions), as it
	// did here for every document it changes.
	bounds := map[string]int64{"create need": 2, "edit offer": 2, "propose": 5, "message": 3, "accept": 7, "decline": 2, "withdraw": 2}
	notifies := map[string]bool{"propose": true, "accept": true, "decline": true, "withdraw": true}
	require.Len(t, got, len(bounds))
	for _, g := range got {
		t.Logf("%-12s %2d store commands in the call, %d after it (notifications), %v", g.op, g.inCall, g.tail, g.took)
		assert.LessOrEqual(t, g.inCall, bounds[g.op], "%s: store commands its caller waits for", g.op)
		if notifies[g.op] {
			assert.Positive(t, g.tail, "%s: the other side's notification is stored after the answer", g.op)
		}
	}
}

// BenchmarkWriteOps times each write a user makes in the mixed load, in process on the
// embedded store, one after the other (no concurrency): ns/op is the median of the writes of
// that kind, cmds/op the store commands each waited for, tail/op those stored after it.
func BenchmarkWriteOps(b *testing.B) {
	c := &commandCounter{}
	w := newWorldOn(b, stacktest.Options{StoreMonitor: c.monitor()})
	byOp := map[string][]writeCost{}
	var order []string
	for i := 0; i < b.N; i++ {
		for _, g := range writeOps(w, c) {
			if _, ok := byOp[g.op]; !ok {
				order = append(order, g.op)
			}
			byOp[g.op] = append(byOp[g.op], g)
		}
	}
	b.StopTimer()
	for _, op := range order {
		costs := byOp[op]
		sort.Slice(costs, func(i, j int) bool { return costs[i].took < costs[j].took })
		m := costs[len(costs)/2]
		b.Logf("%-12s median %v (of %d), %d store commands in the call, %d after", op, m.took, len(costs), m.inCall, m.tail)
		unit := strings.ReplaceAll(op, " ", "_")
		b.ReportMetric(float64(m.took.Microseconds())/1000, "ms-"+unit)
		b.ReportMetric(float64(m.inCall), "cmds-"+unit)
	}
}
