package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestResultsRoundTripAndTable: what -results writes, -plot reads back unchanged, and the
// table shows each phase once: "first reads" is what served adds after ready and the
// change log's consumer following the log, never below zero when the figures were rounded.
func TestResultsRoundTripAndTable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "results.jsonl")
	want := []result{
		{N: 10000, Needs: 10000, Offers: 10000, ReadyS: 9.19, ReadyCPUS: 0.97, ConnectS: 8.24, ServedS: 17.43, CPUS: 1.19,
			StoreS: 7.66, HWMMiB: 132, RSSMiB: 132, HeapMiB: 51, Load1Start: 5.4, Load1: 5.7, Reloads: 1},
		{N: 25000, Needs: 25000, Offers: 25000, ReadyS: 26.78, ReadyCPUS: 2.29, ConnectS: 26.27, ServedS: 53.05, CPUS: 2.78,
			StoreS: 30.34, HWMMiB: 277, RSSMiB: 277, HeapMiB: 122, GoMemLimit: "768MiB", Load1Start: 5.7, Load1: 7.4, FileRead: true},
	}
	for _, r := range want {
		require.NoError(t, appendResult(file, r))
	}
	got, err := readResults(file)
	require.NoError(t, err)
	require.Equal(t, want, got)

	tab := table(got, 60)
	require.Contains(t, tab, "load average during the runs: 5.4–7.4")
	require.Contains(t, tab, "| 10,000 + 10,000 | through FerretDB | 9.2 s | 1.0 s | 8.2 s (1) | 0.0 s | 1.2 s | 7.7 s | 132 MiB | 132 MiB | 51 MiB | none | 5.4 → 5.7 |")
	require.Contains(t, tab, "| 25,000 + 25,000 | FerretDB's file | 26.8 s | 2.3 s | 26.3 s (0) | 0.0 s |")
	require.NotContains(t, tab, "-0.0 s")
	require.Contains(t, tab, "| 768MiB |")

	svg := chart(got)
	require.True(t, strings.HasPrefix(svg, "<svg"), svg)
	require.Contains(t, svg, "the replica&#39;s CPU until ready")
}
