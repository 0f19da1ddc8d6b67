package mongostore

import (
	"context"
	"sync"

	"github.com/capmatch/capmatch/models"
)

// maxAuditBatch bounds how many audit entries one insert carries.
const maxAuditBatch = 128

// auditBatcher is group commit for the audit trail on the embedded store: audit entries
// appended while an insert of entries is in flight wait and go together in the next insert,
// one command, one SQLite transaction and one disk sync for all of them. Every API write
// appends one entry after its own write, and on the embedded store write commands queue at
// the gate (writeGate), so under load entries wait behind each other; batching them shortens
// that queue. Each caller still returns only once the insert that carried its entry was
// acknowledged, with that insert's error: a failed insert fails every entry in it, and no
// entry is reported stored before it is.
type auditBatcher struct {
	insert func(ctx context.Context, entries []*models.AuditEntry) error

	mu      sync.Mutex
	pending []*auditWaiter
	running bool
}

type auditWaiter struct {
	e    *models.AuditEntry
	done chan error
}

// add appends e with the next insert and waits for that insert's result.
func (b *auditBatcher) add(ctx context.Context, e *models.AuditEntry) error {
	w := &auditWaiter{e: e, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, w)
	if !b.running {
		b.running = true
		// The inserts are the batcher's, not one caller's: a caller whose context ends does
		// not fail the others' entries (the client's timeout still bounds each insert).
		go b.run(context.WithoutCancel(ctx))
	}
	b.mu.Unlock()
	return <-w.done
}

// run inserts the pending entries, a batch at a time, until none are left.
func (b *auditBatcher) run(ctx context.Context) {
	b.mu.Lock()
	for len(b.pending) > 0 {
		n := min(len(b.pending), maxAuditBatch)
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		entries := make([]*models.AuditEntry, len(batch))
		for i, w := range batch {
			entries[i] = w.e
		}
		err := b.insert(ctx, entries)
		for _, w := range batch {
			w.done <- err
		}
		b.mu.Lock()
	}
	b.pending = nil
	b.running = false
	b.mu.Unlock()
}
