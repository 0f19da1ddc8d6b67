package matching

import (
	"math"

	"github.com/capmatch/capmatch/models"
)

// lpMax solves max c·x subject to A x ≤ b, x ≥ 0, for b ≥ 0, with a dense tableau simplex
// (Dantzig's entering rule, Bland's rule once pivots stop making progress, so that it cannot
// cycle). It is the test suite's yardstick for allocation: the LP relaxation of an
// allocation instance bounds its optimum from above. ok is false if the LP is unbounded or
// the iteration cap is hit, which for a bounded allocation LP means a bug.
func lpMax(c []float64, A [][]float64, b []float64) (value float64, ok bool) {
	value, _, ok = lpSolve(c, A, b)
	return value, ok
}

// lpSolve is lpMax that also returns an optimal x.
func lpSolve(c []float64, A [][]float64, b []float64) (value float64, x []float64, ok bool) {
	const eps = 1e-9
	m, n := len(A), len(c)
	w := n + m + 1 // structural columns, slacks, right-hand side
	t := make([][]float64, m+1)
	for i := range m {
		t[i] = make([]float64, w)
		copy(t[i], A[i])
		t[i][n+i] = 1
		t[i][w-1] = b[i]
	}
	z := make([]float64, w) // the objective row holds the reduced costs c − c_B B⁻¹ A
	copy(z, c)
	t[m] = z
	basis := make([]int, m)
	for i := range basis {
		basis[i] = n + i
	}
	stall := 0
	for iter := 0; iter < 50*(m+n); iter++ {
		enter := -1
		if stall < 50 {
			best := eps
			for j := 0; j < w-1; j++ {
				if z[j] > best {
					best, enter = z[j], j
				}
			}
		} else {
			for j := 0; j < w-1; j++ {
				if z[j] > eps {
					enter = j
					break
				}
			}
		}
		if enter < 0 {
			x = make([]float64, n)
			for i, j := range basis {
				if j < n {
					x[j] = t[i][w-1]
				}
			}
			return -z[w-1], x, true
		}
		leave := -1
		var ratio float64
		for i := range m {
			if a := t[i][enter]; a > eps {
				r := t[i][w-1] / a
				if leave < 0 || r < ratio-eps || (math.Abs(r-ratio) <= eps && basis[i] < basis[leave]) {
					leave, ratio = i, r
				}
			}
		}
		if leave < 0 {
			return math.Inf(1), nil, false
		}
		if ratio <= eps {
			stall++
		} else {
			stall = 0
		}
		p := t[leave]
		pv := p[enter]
		for j := range p {
			p[j] /= pv
		}
		for i := range t {
			if i == leave {
				continue
			}
			if f := t[i][enter]; f != 0 {
				row := t[i]
				for j := range row {
					row[j] -= f * p[j]
				}
			}
		}
		basis[leave] = enter
	}
	return 0, nil, false
}

// allocLPBound is the optimum of the LP relaxation of an allocation instance, in score
// units: maximise Σ score·x over the candidate pairs Allocate would consider (open needs and
// offers, the need's budget within the offer's remaining budget), x ≥ 0, each need served
// at most once in total, each offer within its slots left and, for the needs' budgets, its
// remaining budget. Every feasible allocation is a 0/1 point of this polytope, so no
// allocation can total more.
func allocLPBound(cands []Match, needs []*models.Need, offers []*models.Offer) (float64, bool) {
	a := newAllocator(cands, needs, offers)
	nn, no := len(a.needIDs), len(a.offerIDs)
	c := make([]float64, len(a.pairs))
	rows := nn + 2*no
	A := make([][]float64, rows)
	for i := range A {
		A[i] = make([]float64, len(a.pairs))
	}
	b := make([]float64, rows)
	// Budgets are scaled to thousands of dollars so that the tableau's numbers stay close.
	for j, p := range a.pairs {
		c[j] = float64(p.score)
		A[p.n][j] = 1
		A[nn+p.o][j] = 1
		A[nn+no+p.o][j] = float64(a.cost[p.n]) / 1000
	}
	for i := range nn {
		b[i] = 1
	}
	for o := range no {
		b[nn+o] = float64(a.slots[o])
		b[nn+no+o] = float64(a.budget[o]) / 1000
	}
	return lpMax(c, A, b)
}
