package mongostore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capmatch/capmatch/adapters/embedded"
	"github.com/capmatch/capmatch/adapters/mongostore"
	"github.com/stretchr/testify/require"
)

// BenchmarkConditionalWrites measures the write proxy's cost on the embedded store, to decide
// whether the single-process default should go through it (docs/operations.md, "FerretDB"):
// versioned offer edits on a collection of `offers` documents, from 8 goroutines, straight to
// FerretDB (in-process locks, writes by _id, which IndexIDs indexes) and through the proxy
// (full filters, which FerretDB answers by scanning, one write per collection at a time).
//
//	go test -run '^$' -bench BenchmarkConditionalWrites -benchtime 400x ./adapters/mongostore/
func BenchmarkConditionalWrites(b *testing.B) {
	for _, offers := range []int{96, 1000} {
		for _, via := range []string{"direct", "proxy"} {
			b.Run(fmt.Sprintf("offers=%d/%s", offers, via), func(b *testing.B) { benchWrites(b, offers, via) })
		}
	}
}

func benchWrites(b *testing.B, offers int, via string) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := embedded.StartFerretDB(ctx, b.TempDir(), quiet)
	require.NoError(b, err)
	b.Cleanup(f.Stop)
	uri := f.URI()
	if via == "proxy" {
		p, err := embedded.StartWriteProxy(ctx, "127.0.0.1:0", f.Addr(), quiet)
		require.NoError(b, err)
		b.Cleanup(p.Stop)
		uri = p.URI()
	}
	s, err := mongostore.Open(ctx, uri, "bench", mongostore.Options{Logger: quiet})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close(ctx) })
	require.NoError(b, s.EnsureCollections(ctx))
	_, err = f.IndexIDs(ctx, "bench") // as the embedded default does
	require.NoError(b, err)
	for i := range offers {
		require.NoError(b, s.CreateOffer(ctx, openOffer(fmt.Sprintf("o%05d", i), 3, 1_000_000)))
	}
	const workers = 8
	var next atomic.Int64
	procs := testingProcs()
	require.Zero(b, workers%procs, "8 workers over GOMAXPROCS")
	b.SetParallelism(workers / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := int(next.Add(1)) - 1
		if w >= workers {
			b.Errorf("more than %d workers", workers)
			return
		}
		versions := map[string]int64{}
		i := 0
		for pb.Next() {
			// Each worker edits its own offers, so every edit's version is known and succeeds.
			id := fmt.Sprintf("o%05d", (w+i*workers)%offers)
			i++
			prev, ok := versions[id]
			if !ok {
				prev = 1
			}
			o := openOffer(id, 3, 1_000_000)
			o.Title = fmt.Sprintf("edit %d", i)
			o.Version = prev + 1
			o.UpdatedAt = time.Now()
			if err := s.ReplaceOffer(ctx, o, prev); err != nil {
				b.Errorf("%s: %v", id, err)
				return
			}
			versions[id] = prev + 1
		}
	})
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
