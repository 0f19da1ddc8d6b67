package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// An op is one kind of request in a workload: how to build the next request, and, for a
// write, what an acknowledged response promises and how to check afterwards that the promise
// held. The engagement steps (engage.go) are ops too: a step that needs an earlier step's
// result (accept needs a proposal) draws from a pool that the earlier op's ack fills.
type op struct {
	name string
	// target fills in the n-th request of this op; it must be safe for concurrent use.
	target func(n uint64, t *vegeta.Target) error
	// ack records what a successful response of a write promised; nil for reads.
	ack func(r *vegeta.Result) error
	// verify reads back every acknowledged write once the load has stopped and returns how
	// many objects it read and what did not hold; nil for reads.
	verify func(ctx context.Context, a *api) (checked int, failures []string)
}

// world is what ops aim at: signed-in accounts and the needs and offers they may use.
type world struct {
	base        string
	gzip        bool
	runID       string
	ministries  []*session
	donors      []*session
	coordinator *session
	needIDs     []string // needs the first ministry may see, for rankings and reads
	offerIDs    []string // offers every donor may see, for offer rankings
	ownOffers   []ownOffer
	eng         *engageState // the engagement ops' pools; nil until one is built
}

// ownOffer is an offer a donor may edit.
type ownOffer struct {
	id    string
	donor *session
}

// header authenticates a request as s; reads ask for gzip only with -gzip, so that by default
// the load measures uncompressed answers like wrk.
func (w *world) header(s *session, read bool) http.Header {
	h := http.Header{"Authorization": {"Bearer " + s.Token}}
	if read && w.gzip {
		h.Set("Accept-Encoding", "gzip")
	}
	return h
}

// getOp is a read of one of paths (cycled), as the sessions (cycled).
func (w *world) getOp(name string, sessions []*session, paths []string) *op {
	return &op{name: name, target: func(n uint64, t *vegeta.Target) error {
		if len(paths) == 0 || len(sessions) == 0 {
			return fmt.Errorf("%s: nothing to request", name)
		}
		t.Method = http.MethodGet
		t.URL = w.base + paths[n%uint64(len(paths))]
		t.Header = w.header(sessions[n%uint64(len(sessions))], true)
		return nil
	}}
}

// needMatchesOp reads the cached rankings of offers for the known needs.
func (w *world) needMatchesOp(limit int) *op {
	paths := make([]string, len(w.needIDs))
	for i, id := range w.needIDs {
		paths[i] = "/api/v1/needs/" + url.PathEscape(id) + "/matches?limit=" + strconv.Itoa(limit)
	}
	return w.getOp("need_matches", w.ministries[:1], paths)
}

// needPageOp reads need pages (GET /api/v1/needs/{id}, what a need's page shows) for the
// known needs, as the first ministry, who listed them (some are its own and visible to it
// alone).
func (w *world) needPageOp() *op {
	paths := make([]string, len(w.needIDs))
	for i, id := range w.needIDs {
		paths[i] = "/api/v1/needs/" + url.PathEscape(id)
	}
	return w.getOp("need_page", w.ministries[:1], paths)
}

// healthzOp reads GET /healthz, the server's most trivial answer: run alone, it measures
// the generator's own ceiling on this machine (bench/mixed.sh).
func (w *world) healthzOp() *op {
	return w.getOp("healthz", w.ministries[:1], []string{"/healthz"})
}

// offerMatchesOp reads rankings of needs for offers, as donors (one audience per role).
func (w *world) offerMatchesOp() *op {
	paths := make([]string, len(w.offerIDs))
	for i, id := range w.offerIDs {
		paths[i] = "/api/v1/offers/" + url.PathEscape(id) + "/matches?limit=10"
	}
	return w.getOp("offer_matches", w.donors, paths)
}

// listOp reads first pages of needs and offers, newest and by priority.
func (w *world) listOp() *op {
	return w.getOp("list", append(slices.Clone(w.ministries), w.donors...), []string{
		"/api/v1/needs?limit=20", "/api/v1/offers?limit=20", "/api/v1/needs?sort=priority&limit=20",
		"/api/v1/needs?status=open&theme=incident_management", "/api/v1/offers?theme=cybercrime",
	})
}

// searchOp runs free-text and filtered searches, including one that matches nothing.
func (w *world) searchOp() *op {
	return w.getOp("search", append(slices.Clone(w.ministries), w.donors...), []string{
		"/api/v1/needs?q=csirt", "/api/v1/needs?q=national", "/api/v1/needs?country=SN&q=cert",
		"/api/v1/offers?q=training", "/api/v1/needs?q=quantum+blockchain", "/api/v1/offers?country=KE",
	})
}

// createNeedOp posts draft needs as the ministries (each for its own country) and checks
// afterwards that every need acknowledged with 201 can be read with what was sent.
func (w *world) createNeedOp() *op {
	type created struct{ id, title string }
	var mu sync.Mutex
	var acked []created
	start := time.Now().UTC().AddDate(0, 4, 0).Format("2006-01-02")
	return &op{
		name: "create_need",
		target: func(n uint64, t *vegeta.Target) error {
			s := w.ministries[n%uint64(len(w.ministries))]
			body, err := json.Marshal(map[string]any{
				"title":       fmt.Sprintf("Load test %s need %d", w.runID, n),
				"description": "Created by capmatch-load to measure writes; safe to delete.",
				"theme":       "incident_management", "capability": "cert_setup",
				"modalities": []string{"training"}, "languages": []string{"en"},
				"budget_usd": 250000, "start_by": start, "duration_months": 12, "priority": "medium",
				"visibility": "public",
			})
			if err != nil {
				return err
			}
			t.Method, t.URL, t.Body = http.MethodPost, w.base+"/api/v1/needs", body
			t.Header = w.header(s, false)
			t.Header.Set("Content-Type", "application/json")
			return nil
		},
		ack: func(r *vegeta.Result) error {
			var n item
			if err := json.Unmarshal(r.Body, &n); err != nil || n.ID == "" {
				return fmt.Errorf("create_need: 201 without a need: %.100s", r.Body)
			}
			mu.Lock()
			acked = append(acked, created{n.ID, n.Title})
			mu.Unlock()
			return nil
		},
		verify: func(ctx context.Context, a *api) (int, []string) {
			mu.Lock()
			todo := slices.Clone(acked)
			mu.Unlock()
			return checkAll(ctx, len(todo), func(i int) string {
				var got item
				if err := a.do(ctx, http.MethodGet, "/api/v1/needs/"+url.PathEscape(todo[i].id), w.coordinator.Token, nil, &got); err != nil {
					return fmt.Sprintf("need %s acknowledged but not readable: %v", todo[i].id, err)
				}
				if got.Title != todo[i].title {
					return fmt.Sprintf("need %s reads title %q, acknowledged %q", todo[i].id, got.Title, todo[i].title)
				}
				return ""
			})
		},
	}
}

// patchOfferOp edits the description of the donors' own open offers (no version sent: last
// writer wins) and checks afterwards, per offer, that no acknowledged edit was lost: the
// offer is at least at the highest acknowledged version, and at that version it reads the
// description that edit wrote.
func (w *world) patchOfferOp() *op {
	type last struct {
		version int64
		desc    string
	}
	var mu sync.Mutex
	acked := map[string]*last{}
	return &op{
		name: "patch_offer",
		target: func(n uint64, t *vegeta.Target) error {
			if len(w.ownOffers) == 0 {
				return fmt.Errorf("patch_offer: the donors have no open offer to edit")
			}
			o := w.ownOffers[n%uint64(len(w.ownOffers))]
			body, err := json.Marshal(map[string]any{"description": fmt.Sprintf("Edited by capmatch-load run %s, edit %d.", w.runID, n)})
			if err != nil {
				return err
			}
			t.Method, t.URL, t.Body = http.MethodPatch, w.base+"/api/v1/offers/"+url.PathEscape(o.id), body
			t.Header = w.header(o.donor, false)
			t.Header.Set("Content-Type", "application/json")
			return nil
		},
		ack: func(r *vegeta.Result) error {
			var o item
			if err := json.Unmarshal(r.Body, &o); err != nil || o.ID == "" {
				return fmt.Errorf("patch_offer: 200 without an offer: %.100s", r.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			l := acked[o.ID]
			if l == nil {
				l = &last{}
				acked[o.ID] = l
			}
			if o.Version > l.version {
				l.version, l.desc = o.Version, o.Description
			}
			return nil
		},
		verify: func(ctx context.Context, a *api) (int, []string) {
			mu.Lock()
			ids := make([]string, 0, len(acked))
			want := map[string]last{}
			for id, l := range acked {
				ids = append(ids, id)
				want[id] = *l
			}
			mu.Unlock()
			sort.Strings(ids)
			return checkAll(ctx, len(ids), func(i int) string {
				id, l := ids[i], want[ids[i]]
				var got item
				if err := a.do(ctx, http.MethodGet, "/api/v1/offers/"+url.PathEscape(id), w.coordinator.Token, nil, &got); err != nil {
					return fmt.Sprintf("offer %s edited but not readable: %v", id, err)
				}
				switch {
				case got.Version < l.version:
					return fmt.Sprintf("offer %s reads version %d, but version %d was acknowledged", id, got.Version, l.version)
				case got.Version == l.version && got.Description != l.desc:
					return fmt.Sprintf("offer %s at version %d reads %q, acknowledged %q", id, got.Version, got.Description, l.desc)
				}
				return ""
			})
		},
	}
}

// checkAll runs n checks on 8 goroutines; a check returns "" when it holds.
func checkAll(ctx context.Context, n int, check func(i int) string) (int, []string) {
	var next atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range min(8, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if f := check(i); f != "" {
					mu.Lock()
					failures = append(failures, f)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	sort.Strings(failures)
	return n, failures
}

// weighted is an op with its share of the load.
type weighted struct {
	op     *op
	weight int
}

// parseMix reads "name=weight,..." and builds the ops named with a positive weight.
func parseMix(s string, ops map[string]func() *op) ([]weighted, error) {
	var out []weighted
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, ws, ok := strings.Cut(part, "=")
		w, err := strconv.Atoi(strings.TrimSpace(ws))
		if !ok || err != nil || w < 0 || w > 1000 {
			return nil, fmt.Errorf("-mix: %q is not name=weight with a weight in 0..1000", part)
		}
		name = strings.TrimSpace(name)
		build, ok := ops[name]
		if !ok {
			names := make([]string, 0, len(ops))
			for n := range ops {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("-mix: unknown op %q (ops: %s)", name, strings.Join(names, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("-mix: %s named twice", name)
		}
		seen[name] = true
		if w > 0 {
			out = append(out, weighted{build(), w})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-mix: no op with a positive weight")
	}
	return out, nil
}
