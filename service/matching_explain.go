package service

import (
	"hash/maphash"
	"sync"
)

// DefaultExplainedLines bounds the explained lines (RankedOffer or RankedNeed, each with its
// factors and their arguments) a replica keeps for reuse, all rankings together. An explained
// line takes ~5 kB (a Factor per factor, each with an Args map), about 50 times the ranked pair
// it explains, so the cache of rankings keeps pairs only and the explanations of the rankings
// being read are kept here: 16,384 lines are ~1,600 rankings read at the API's default limit (10),
// ~90 MB at most (Deps.ExplainedLines, CAPMATCH_EXPLAINED_LINES, says otherwise). The API asks
// for the lines only when it has no rendered answer for the ranking's version and variant
// (api/answers.go, OffersForNeedUnexplained), and web pages when they show them; a ranking whose
// lines are not kept is explained again when asked: ~0.15 ms for 20 lines (BENCHMARKS.md, issue
// 16 target 3).
const DefaultExplainedLines = 16_384

// minExplainedCost is the least a kept variant counts for in the bound (see explained).
const minExplainedCost = 8

// explainShards splits the explanation cache so that concurrent readers rarely wait on one lock.
const explainShards = 16

// explainCache keeps explained lines by ranking entry and explanation key (the limit and what
// the caller's visibility makes of the duplication reasons, see serve), at most about max lines
// in all. When full, a shard forgets entries at random (Go's map order): no bookkeeping on the
// read path. The lines are shared by every reader and never modified.
//
// Keeping one answer per entry and key while it is kept is what lets the API name an answer by
// the entry's version (rankEntry.version): an entry is replaced, never changed, when a change
// alters its ranking, and it is served only while current, so explaining it again after it was
// forgotten gives the same lines.
type explainCache struct {
	seed   maphash.Seed
	max    int // lines per shard
	shards [explainShards]explainShard
}

type explainShard struct {
	mu    sync.Mutex
	m     map[explainKey]explainedLines
	lines int
}

type explainKey struct {
	e   *rankEntry
	key string
}

type explainedLines struct {
	lines any // []RankedOffer or []RankedNeed
	n     int
}

func newExplainCache(maxLines int) *explainCache {
	c := &explainCache{seed: maphash.MakeSeed(), max: max(1, maxLines/explainShards)}
	for i := range c.shards {
		c.shards[i].m = map[explainKey]explainedLines{}
	}
	return c
}

func (c *explainCache) shard(k explainKey) *explainShard {
	h := maphash.String(c.seed, k.key) ^ k.e.serialNumber()
	return &c.shards[h%explainShards]
}

// len is how many explained lines are kept (tests).
func (c *explainCache) len() (rankings, lines int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		rankings += len(s.m)
		lines += s.lines
		s.mu.Unlock()
	}
	return rankings, lines
}

// explained returns the explained lines of entry e for key, explaining them when they are not
// kept, and keeping them. When two readers explain the same lines at once, both get the first
// kept.
func explained[L any](c *explainCache, e *rankEntry, key string, explain func() []L) []L {
	if c == nil {
		return explain()
	}
	k := explainKey{e, key}
	s := c.shard(k)
	s.mu.Lock()
	got, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return got.lines.([]L)
	}
	lines := explain()
	// A kept variant counts as at least minExplainedCost lines: it also keeps its entry
	// (ids and scores, a few kB) from being collected, which bounds those to max/8 entries.
	n := max(minExplainedCost, len(lines))
	s.mu.Lock()
	defer s.mu.Unlock()
	if got, ok := s.m[k]; ok {
		return got.lines.([]L)
	}
	for id, x := range s.m {
		if s.lines+n <= c.max {
			break
		}
		delete(s.m, id)
		s.lines -= x.n
	}
	s.m[k] = explainedLines{lines, n}
	s.lines += n
	return lines
}
