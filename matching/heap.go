package matching

import "sort"

// entry is a ranked candidate: its score in units, its slot in the index and its id for the
// tie-break.
type entry struct {
	score int64
	slot  int32
	id    string
}

// before is the ranking order: higher score first, then id ascending. It is a total order
// on distinct ids, which is what makes every ranking deterministic.
func before(a, b *entry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

// topHeap keeps the k best entries seen so far in a min-heap whose root is the worst kept
// entry, so that a candidate is compared with one entry and most are rejected at once.
type topHeap struct {
	k int
	e []entry
}

func (h *topHeap) reset(k int) {
	h.k = k
	h.e = h.e[:0]
}

func (h *topHeap) full() bool { return len(h.e) >= h.k }

// accepts reports whether a candidate with this score and id would enter the heap.
func (h *topHeap) accepts(score int64, id string) bool {
	if h.k <= 0 {
		return false
	}
	if len(h.e) < h.k {
		return true
	}
	r := &h.e[0]
	return score > r.score || (score == r.score && id < r.id)
}

// floor is the score a candidate must at least reach to have a chance of entering: the
// worst kept score when the heap is full, else -1 (every score is at least 0).
func (h *topHeap) floor() int64 {
	if h.k > 0 && len(h.e) >= h.k {
		return h.e[0].score
	}
	return -1
}

// prunes reports whether no candidate scoring at most ub can enter: the heap is full and
// its worst entry already scores more than ub.
func (h *topHeap) prunes(ub int64) bool {
	return h.k <= 0 || (len(h.e) >= h.k && h.e[0].score > ub)
}

// push adds a candidate that accepts approved.
func (h *topHeap) push(x entry) {
	if len(h.e) < h.k {
		h.e = append(h.e, x)
		h.up(len(h.e) - 1)
		return
	}
	h.e[0] = x
	h.down(0)
}

// worse is the heap order: the root is the entry every other entry ranks before.
func (h *topHeap) worse(i, j int) bool { return before(&h.e[j], &h.e[i]) }

func (h *topHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.worse(i, p) {
			return
		}
		h.e[i], h.e[p] = h.e[p], h.e[i]
		i = p
	}
}

func (h *topHeap) down(i int) {
	n := len(h.e)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.worse(r, l) {
			m = r
		}
		if !h.worse(m, i) {
			return
		}
		h.e[i], h.e[m] = h.e[m], h.e[i]
		i = m
	}
}

// sorted returns the kept entries best first, in a new slice.
func (h *topHeap) sorted() []entry {
	out := append([]entry(nil), h.e...)
	sort.Slice(out, func(i, j int) bool { return before(&out[i], &out[j]) })
	return out
}
