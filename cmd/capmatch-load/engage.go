package main

// The engagement steps of the mixed workload (issue 8): propose, accept, decline, withdraw
// and message, on needs and offers the tool provisions for the run.
//
// Why provisioning: an accept marks its need matched and uses one of its offer's
// max_engagements for good, so a few minutes at a few hundred requests/s would use up the demo
// data (60 needs, 25 offers), and from then on every proposal would be a 409. Before the timed
// run the tool works out from the rate, the duration and the weights (vegeta's constant pacer
// sends at most ⌊freq·duration⌋+1 requests per op) how many open needs, offer slots and
// pending proposals the run can use, and creates them: load offers by each donor (POST
// /api/v1/offers, then /publish), open needs for the signed-in ministries (one coordinator
// bulk import per 500, with status=open: the coordinator's approval, in one request instead of
// create, submit and approve per need), proposals for the answers to start on, and answered
// engagements for the messages.
//
// Why no step can conflict with another: every engagement, and every need while it has a live
// proposal, is held by one step at a time. propose takes a need from the pool of needs without
// a live proposal and an offer the tool still counts a free slot on; its acknowledgement queues
// the engagement; accept, decline and withdraw each take one engagement off that queue (so no
// engagement is answered twice), and a decline or withdraw gives the need and the offer's slot
// back; answered engagements go to a pool that message takes one from and puts it back into
// when its message is acknowledged (so no two messages race on one engagement). A pool that
// is empty (the plan was short, or the steps that fill it failed) makes its op wait up to
// poolWait, which shows in its latencies and in the pool report, then stop with an error:
// never a silent skip.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
)

// The engagement ops, by their -mix names.
const (
	opPropose  = "propose"
	opAccept   = "accept"
	opDecline  = "decline"
	opWithdraw = "withdraw"
	opMessage  = "message"
)

// Bounds and constants of the engagement material.
const (
	// offerSlots is the max_engagements of a load offer: the server's largest (MaxEngagements).
	offerSlots = 1000
	// maxEngNeeds bounds the needs one run provisions (about 5 minutes at 5,000 req/s with the
	// default mix); a bigger plan is refused rather than flooding the store.
	maxEngNeeds = 100_000
	// importRows is the rows per import request (the server takes 1000 rows and 1 MiB).
	importRows = 500
	// inFlight is how long an op's requests are assumed to stay unanswered, to size the
	// pools for the requests in flight: longer than any p99 the tool reports as passing.
	inFlight = 3 * time.Second
	// poolWait is how long a step waits for its pool before it stops with an error.
	poolWait = 2 * time.Second
	// needBudget and offerBudget keep the budget far from the limit: an engagement asks for its
	// need's budget, and a load offer can pay all of its slots.
	needBudget  = 10_000
	offerBudget = 50_000_000
)

// isEngOp reports whether an op of the mix is an engagement step (and needs provisioning).
func isEngOp(name string) bool {
	switch name {
	case opPropose, opAccept, opDecline, opWithdraw, opMessage:
		return true
	}
	return false
}

// answerStatus is the status an acknowledged answer leaves an engagement in.
var answerStatus = map[string]string{opAccept: "agreed", opDecline: "declined", opWithdraw: "withdrawn"}

// loadNeed is an open need the tool provisioned; while a proposal on it is live, one step
// holds it (it is out of the pool).
type loadNeed struct {
	id    string
	owner *session
	idx   int
	uses  int // proposals made on it; only its holder touches it
}

// loadOffer is an offer the tool provisioned. held counts, by the tool's own accounting, the
// live proposals and agreed engagements on it, kept at most offerSlots so that no accept can
// find the offer full.
type loadOffer struct {
	id    string
	donor *session
	held  atomic.Int64
}

// engagement is what the tool knows of one engagement it proposed. The mutable fields are
// guarded by engageState.mu.
type engagement struct {
	id         string
	need       *loadNeed
	offer      *loadOffer
	proposedBy string // "need" (the ministry proposed) or "offer" (the donor)
	// answer is the op that took it off the proposal queue ("" while proposed); answered says
	// that op's request was acknowledged. An answer sent but not acknowledged may or may not
	// have happened, and the read-back allows both.
	answer   string
	answered bool
	messages []ackedMessage
}

// ackedMessage is a message the server acknowledged, read back by its id.
type ackedMessage struct{ id, body string }

// proposer is the session of the side that proposed: it alone may withdraw.
func (e *engagement) proposer() *session {
	if e.proposedBy == "need" {
		return e.need.owner
	}
	return e.offer.donor
}

// other is the session of the side that did not propose: it alone may accept or decline.
func (e *engagement) other() *session {
	if e.proposedBy == "need" {
		return e.offer.donor
	}
	return e.need.owner
}

// engPlan is how much material the engagement ops need for the loads they will run.
type engPlan struct {
	needs          int // open needs to provision
	pending        int // proposals to make before the run, for the answers to start on
	seeds          int // answered engagements to make before the run, for messages
	queue          int // capacity of the proposal queue
	settledCap     int // capacity of the answered pool
	offersPerDonor int
	hi             map[string]int // most requests each engagement op can send
}

// planEngagements works out the material for running mix under loads (all of them, one after
// the other: the peak search's steps share the pools). It returns a zero plan when the mix has
// no engagement op.
func planEngagements(mix []weighted, loads []load, donors int) (engPlan, error) {
	p := engPlan{hi: map[string]int{}}
	used, total := false, 0
	for _, x := range mix {
		used = used || isEngOp(x.op.name)
		total += x.weight
	}
	if !used {
		return p, nil
	}
	if donors == 0 {
		return p, errors.New("engagement ops need at least one donor account (-donors)")
	}
	lo := map[string]int{}
	var ansRate, propRate, msgRate float64 // requests/s of the fastest load
	for _, l := range loads {
		if l.Rate <= 0 {
			return p, errors.New("engagement ops need an open-loop -rate: their needs, offers and proposals are provisioned for it (use -rate, or drop them from -mix)")
		}
		var ar, pr, mr float64
		for _, x := range mix {
			if !isEngOp(x.op.name) {
				continue
			}
			freq := opFreq(l.Rate, float64(x.weight)/float64(total))
			n := float64(freq) * l.Duration.Seconds() / 10
			p.hi[x.op.name] += int(n) + 1 // vegeta sends at t = 0 too
			lo[x.op.name] += int(n)
			r := float64(freq) / 10
			switch x.op.name {
			case opPropose:
				pr += r
			case opMessage:
				mr += r
			default:
				ar += r
			}
		}
		ansRate, propRate, msgRate = max(ansRate, ar), max(propRate, pr), max(msgRate, mr)
	}
	ceil := func(f float64) int { return int(math.Ceil(f)) }
	inflight := inFlight.Seconds()
	ansHi := p.hi[opAccept] + p.hi[opDecline] + p.hi[opWithdraw]
	ansLo := lo[opAccept] + lo[opDecline] + lo[opWithdraw]
	if ansHi > 0 {
		// Answers may outrun acknowledged proposals: by their difference in counts, and by the
		// proposals still in flight.
		p.pending = max(0, ansHi-lo[opPropose]) + ceil(ansRate*inflight) + 4
	}
	maxQueue := p.pending + max(0, p.hi[opPropose]-ansLo)
	p.queue = p.pending + p.hi[opPropose] + 16
	if p.hi[opMessage] > 0 {
		p.seeds = max(4, ceil(msgRate*inflight))
	}
	p.settledCap = p.seeds + ansHi + 16
	// A need is out of the pool while it is agreed, has a queued proposal, or has a proposal or
	// an answer in flight.
	p.needs = p.hi[opAccept] + maxQueue + ceil((propRate+ansRate)*inflight) + p.seeds + 16
	if p.needs > maxEngNeeds {
		return p, fmt.Errorf("the engagement ops would need %d open needs (at most %d): lower -rate, -duration or their weights", p.needs, maxEngNeeds)
	}
	offers := (p.needs + offerSlots - 1) / offerSlots // every held slot holds a distinct need
	p.offersPerDonor = max(1, (offers+donors-1)/donors)
	return p, nil
}

// engageState is the engagement ops' shared state: the pools, every engagement proposed, and
// what each op acknowledged.
type engageState struct {
	w         *world
	plan      engPlan
	needs     chan *loadNeed   // open needs without a live proposal
	proposed  chan *engagement // acknowledged proposals nobody answers yet
	settled   chan *engagement // answered engagements no message is being written to
	allNeeds  []*loadNeed
	offers    []*loadOffer
	needByID  map[string]*loadNeed
	offerByID map[string]*loadOffer
	took      time.Duration

	mu    sync.Mutex
	byID  map[string]*engagement
	acked map[string][]*engagement // per op, the engagements of its acknowledged requests (messages: one entry per message)

	// waits counts steps that found their pool empty and waited; dry, those that gave up.
	waits, dry [3]atomic.Int64
	fetched    sync.Map // engagement id → *engView, during the read-back
}

// The pools, for waits and dry.
const (
	poolNeeds = iota
	poolProposed
	poolSettled
)

// poolNames name the pools in the report and in a dry pool's error.
var poolNames = [3]string{"open needs", "proposals", "answered engagements"}

// engagements returns the shared state, creating it on first use.
func (w *world) engagements() *engageState {
	if w.eng == nil {
		w.eng = &engageState{w: w, byID: map[string]*engagement{}, acked: map[string][]*engagement{}}
	}
	return w.eng
}

// take draws from a pool, waiting up to poolWait when it is empty.
func take[T any](s *engageState, ch <-chan T, pool int) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	default:
	}
	s.waits[pool].Add(1)
	t := time.NewTimer(poolWait)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, nil
	case <-t.C:
		s.dry[pool].Add(1)
		var zero T
		return zero, fmt.Errorf("no %s within %s: the engagement plan fell short, or the steps that fill the pool failed", poolNames[pool], poolWait)
	}
}

// put returns to a pool; the pools are sized by the plan so that this never blocks, and a
// full pool is reported as an acknowledgement error rather than stalling the results.
func put[T any](ch chan<- T, v T, what string) error {
	select {
	case ch <- v:
		return nil
	default:
		return fmt.Errorf("the pool of %s is full (plan too small)", what)
	}
}

// pickOffer chooses an offer for a proposal on need: each new proposal on a need goes to the
// next offer (so that a pair comes back only after every offer was tried), skipping offers
// whose slots the tool counts as all held.
func (s *engageState) pickOffer(n *loadNeed) (*loadOffer, error) {
	start := n.idx + n.uses
	n.uses++
	for i := range s.offers {
		o := s.offers[(start+i)%len(s.offers)]
		if o.held.Add(1) <= offerSlots {
			return o, nil
		}
		o.held.Add(-1)
	}
	return nil, errors.New("every load offer's slots are held (plan too small)")
}

// proposeBody is the body of POST /api/v1/engagements.
func proposeBody(n *loadNeed, o *loadOffer, text string) ([]byte, error) {
	return json.Marshal(map[string]string{"need_id": n.id, "offer_id": o.id, "message": text})
}

// engView is the part of an engagement the tool reads.
type engView struct {
	ID         string `json:"id"`
	NeedID     string `json:"need_id"`
	OfferID    string `json:"offer_id"`
	ProposedBy string `json:"proposed_by"`
	Status     string `json:"status"`
	Messages   []struct {
		ID   string `json:"id"`
		Body string `json:"body"`
	} `json:"messages"`
}

// record registers an acknowledged proposal.
func (s *engageState) record(v *engView) (*engagement, error) {
	n, o := s.needByID[v.NeedID], s.offerByID[v.OfferID]
	if v.ID == "" || n == nil || o == nil || v.Status != "proposed" || (v.ProposedBy != "need" && v.ProposedBy != "offer") {
		return nil, fmt.Errorf("not a proposal of the tool's needs and offers: id %q need %q offer %q status %q proposed_by %q",
			v.ID, v.NeedID, v.OfferID, v.Status, v.ProposedBy)
	}
	e := &engagement{id: v.ID, need: n, offer: o, proposedBy: v.ProposedBy}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.byID[v.ID]; dup {
		return nil, fmt.Errorf("engagement %s acknowledged as new twice", v.ID)
	}
	s.byID[v.ID] = e
	return e, nil
}

// release gives a closed proposal's need and offer slot back.
func (s *engageState) release(e *engagement) error {
	e.offer.held.Add(-1)
	return put(s.needs, e.need, "open needs")
}

// proposeOp proposes an engagement for a need of the pool and an offer with a free slot, as
// the ministry (even requests) or the donor (odd ones); an acknowledged (201) proposal joins
// the queue the answers draw from.
func (w *world) proposeOp() *op {
	s := w.engagements()
	return &op{
		name: opPropose,
		target: func(n uint64, t *vegeta.Target) error {
			need, err := take(s, s.needs, poolNeeds)
			if err != nil {
				return err
			}
			offer, err := s.pickOffer(need)
			if err != nil {
				return err
			}
			actor := need.owner
			if n%2 == 1 {
				actor = offer.donor
			}
			body, err := proposeBody(need, offer, fmt.Sprintf("capmatch-load %s proposal %d", w.runID, n))
			if err != nil {
				return err
			}
			t.Method, t.URL, t.Body = http.MethodPost, w.base+"/api/v1/engagements", body
			t.Header = w.header(actor, false)
			t.Header.Set("Content-Type", "application/json")
			return nil
		},
		ack: func(r *vegeta.Result) error {
			if r.Code != http.StatusCreated {
				return fmt.Errorf("propose: %d, not 201: the server returned an engagement that existed already", r.Code)
			}
			var v engView
			if err := json.Unmarshal(r.Body, &v); err != nil {
				return fmt.Errorf("propose: 201 without an engagement: %.100s", r.Body)
			}
			e, err := s.record(&v)
			if err != nil {
				return fmt.Errorf("propose: %w", err)
			}
			s.mu.Lock()
			s.acked[opPropose] = append(s.acked[opPropose], e)
			s.mu.Unlock()
			return put(s.proposed, e, "proposals")
		},
		verify: s.verifyProposals,
	}
}

// answerOp takes a proposal off the queue and answers it: accept and decline as the side that
// did not propose, withdraw as the proposer. A declined or withdrawn proposal gives its need
// and slot back; every answered engagement goes to the pool messages draw from.
func (w *world) answerOp(name string) *op {
	s := w.engagements()
	want := answerStatus[name]
	return &op{
		name: name,
		target: func(n uint64, t *vegeta.Target) error {
			e, err := take(s, s.proposed, poolProposed)
			if err != nil {
				return err
			}
			s.mu.Lock()
			e.answer = name
			s.mu.Unlock()
			actor := e.other()
			if name == opWithdraw {
				actor = e.proposer()
			}
			t.Method, t.URL = http.MethodPost, w.base+"/api/v1/engagements/"+url.PathEscape(e.id)+"/"+name
			t.Header = w.header(actor, false)
			if name != opAccept {
				t.Body = []byte(fmt.Sprintf(`{"reason":"capmatch-load %s %s %d"}`, w.runID, name, n))
				t.Header.Set("Content-Type", "application/json")
			}
			return nil
		},
		ack: func(r *vegeta.Result) error {
			var v engView
			if err := json.Unmarshal(r.Body, &v); err != nil {
				return fmt.Errorf("%s: %d without an engagement: %.100s", name, r.Code, r.Body)
			}
			s.mu.Lock()
			e := s.byID[v.ID]
			ok := e != nil && e.answer == name && v.Status == want
			if ok {
				e.answered = true
				s.acked[name] = append(s.acked[name], e)
			}
			s.mu.Unlock()
			if !ok {
				return fmt.Errorf("%s: answered %d with engagement %q in status %q, not one of the tool's in %q", name, r.Code, v.ID, v.Status, want)
			}
			if name != opAccept {
				if err := s.release(e); err != nil {
					return err
				}
			}
			return put(s.settled, e, "answered engagements")
		},
		verify: func(ctx context.Context, a *api) (int, []string) { return s.verifyAnswers(ctx, a, name) },
	}
}

// messageOp writes a message to an answered engagement, as either side in turn; the
// engagement goes back to the pool once the message is acknowledged (201).
func (w *world) messageOp() *op {
	s := w.engagements()
	return &op{
		name: opMessage,
		target: func(n uint64, t *vegeta.Target) error {
			e, err := take(s, s.settled, poolSettled)
			if err != nil {
				return err
			}
			actor := e.need.owner
			if n%2 == 1 {
				actor = e.offer.donor
			}
			body, err := json.Marshal(map[string]string{"body": fmt.Sprintf("capmatch-load %s message %d", w.runID, n)})
			if err != nil {
				return err
			}
			t.Method, t.URL, t.Body = http.MethodPost, w.base+"/api/v1/engagements/"+url.PathEscape(e.id)+"/messages", body
			t.Header = w.header(actor, false)
			t.Header.Set("Content-Type", "application/json")
			return nil
		},
		ack: func(r *vegeta.Result) error {
			var v engView
			if err := json.Unmarshal(r.Body, &v); err != nil || r.Code != http.StatusCreated {
				return fmt.Errorf("message: %d, not 201 with an engagement: %.100s", r.Code, r.Body)
			}
			s.mu.Lock()
			e := s.byID[v.ID]
			if e == nil || len(v.Messages) == 0 {
				s.mu.Unlock()
				return fmt.Errorf("message: engagement %q is not the tool's, or has no message", v.ID)
			}
			// Only this op's holder writes to e, so the newest message is the one acknowledged.
			last := v.Messages[len(v.Messages)-1]
			e.messages = append(e.messages, ackedMessage{last.ID, last.Body})
			s.acked[opMessage] = append(s.acked[opMessage], e)
			s.mu.Unlock()
			return put(s.settled, e, "answered engagements")
		},
		verify: s.verifyMessages,
	}
}

// provision creates the material the mix's engagement ops need for loads (see
// planEngagements) and fills the pools. It does nothing for a mix without engagement ops.
func (w *world) provision(ctx context.Context, out io.Writer, a *api, mix []weighted, loads []load) error {
	p, err := planEngagements(mix, loads, len(w.donors))
	if err != nil || p.needs == 0 {
		return err
	}
	if len(w.ministries) == 0 || w.coordinator == nil {
		return errors.New("engagement ops need ministry accounts and a coordinator")
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	s := w.engagements()
	s.plan = p
	s.needs = make(chan *loadNeed, p.needs)
	s.proposed = make(chan *engagement, p.queue)
	s.settled = make(chan *engagement, p.settledCap)
	s.needByID = map[string]*loadNeed{}
	s.offerByID = map[string]*loadOffer{}

	// Offers: each donor's, eligible for the ministries' countries (all countries if one is
	// unknown), open from today for three years.
	countries := []string{}
	for _, m := range w.ministries {
		if m.Country == "" {
			countries = nil
			break
		}
		if !slices.Contains(countries, m.Country) {
			countries = append(countries, m.Country)
		}
	}
	if countries == nil {
		countries = []string{}
	}
	today := time.Now().UTC()
	for _, d := range w.donors {
		for k := range p.offersPerDonor {
			var o item
			err := a.do(ctx, http.MethodPost, "/api/v1/offers", d.Token, map[string]any{
				"title":       fmt.Sprintf("Load test %s engagement offer %d", w.runID, len(s.offers)),
				"description": "Created by capmatch-load for engagement steps; closed after the run.",
				"themes":      []string{"incident_management"}, "capabilities": []string{"cert_setup"},
				"modalities": []string{"training"}, "languages": []string{"en"},
				"eligible_countries": countries, "eligible_regions": []string{},
				"budget_usd": offerBudget, "max_engagements": offerSlots,
				"available_from": today.Format("2006-01-02"), "available_until": today.AddDate(3, 0, 0).Format("2006-01-02"),
			}, &o)
			if err != nil {
				return fmt.Errorf("create load offer %d of %s: %w", k, d.Email, err)
			}
			if err := a.do(ctx, http.MethodPost, "/api/v1/offers/"+url.PathEscape(o.ID)+"/publish", d.Token, nil, &o); err != nil {
				return fmt.Errorf("publish load offer: %w", err)
			}
			if o.Status != "open" {
				return fmt.Errorf("load offer %s is %q after publish", o.ID, o.Status)
			}
			lo := &loadOffer{id: o.ID, donor: d}
			s.offers = append(s.offers, lo)
			s.offerByID[o.ID] = lo
		}
	}

	// Needs: one row per need, the ministries in turn, imported open by the coordinator.
	start := today.AddDate(0, 4, 0).Format("2006-01-02")
	s.allNeeds = make([]*loadNeed, p.needs)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for from := 0; from < p.needs; from += importRows {
		to := min(from+importRows, p.needs)
		rows := make([]map[string]any, 0, to-from)
		for i := from; i < to; i++ {
			m := w.ministries[i%len(w.ministries)]
			rows = append(rows, map[string]any{
				"title":       fmt.Sprintf("Load test %s engagement need %d", w.runID, i),
				"description": "Created by capmatch-load for engagement steps; withdrawn after the run unless matched.",
				"theme":       "incident_management", "capability": "cert_setup",
				"modalities": []string{"training"}, "languages": []string{"en"},
				"budget_usd": needBudget, "start_by": start, "duration_months": 12, "priority": "low",
				"visibility": "public", "organization_id": m.OrgID,
			})
		}
		g.Go(func() error {
			var res struct {
				IDs    []string `json:"ids"`
				Status string   `json:"status"`
			}
			if err := a.do(gctx, http.MethodPost, "/api/v1/import/needs?status=open", w.coordinator.Token, rows, &res); err != nil {
				return fmt.Errorf("import load needs: %w", err)
			}
			if len(res.IDs) != len(rows) || res.Status != "open" {
				return fmt.Errorf("import load needs: %d ids in status %q for %d rows", len(res.IDs), res.Status, len(rows))
			}
			for j, id := range res.IDs {
				s.allNeeds[from+j] = &loadNeed{id: id, owner: w.ministries[(from+j)%len(w.ministries)], idx: from + j}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, n := range s.allNeeds {
		s.needByID[n.id] = n
		s.needs <- n
	}

	// Proposals for the answers to start on, and answered engagements for the messages.
	propose := func(ctx context.Context, i int) (*engagement, error) {
		n := <-s.needs // the plan holds more needs than these steps take
		o, err := s.pickOffer(n)
		if err != nil {
			return nil, err
		}
		actor := n.owner
		if i%2 == 1 {
			actor = o.donor
		}
		var v engView
		code, err := a.send(ctx, http.MethodPost, "/api/v1/engagements", actor.Token, map[string]string{
			"need_id": n.id, "offer_id": o.id, "message": fmt.Sprintf("capmatch-load %s set-up proposal %d", w.runID, i)}, &v)
		if err != nil {
			return nil, fmt.Errorf("set-up proposal: %w", err)
		}
		if code != http.StatusCreated {
			return nil, fmt.Errorf("set-up proposal: %d, not 201", code)
		}
		return s.record(&v)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range p.pending {
		g.Go(func() error {
			e, err := propose(gctx, i)
			if err == nil {
				err = put(s.proposed, e, "proposals")
			}
			return err
		})
	}
	for i := range p.seeds {
		g.Go(func() error {
			e, err := propose(gctx, p.pending+i)
			if err != nil {
				return err
			}
			var v engView
			if err := a.do(gctx, http.MethodPost, "/api/v1/engagements/"+url.PathEscape(e.id)+"/decline", e.other().Token,
				map[string]string{"reason": "capmatch-load set-up"}, &v); err != nil {
				return fmt.Errorf("set-up decline: %w", err)
			}
			if v.Status != "declined" {
				return fmt.Errorf("set-up decline: engagement %s is %q", e.id, v.Status)
			}
			s.mu.Lock()
			e.answer, e.answered = opDecline, true
			s.mu.Unlock()
			if err := s.release(e); err != nil {
				return err
			}
			return put(s.settled, e, "answered engagements")
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.took = time.Since(begin)
	fmt.Fprintf(out, "engagements: provisioned in %s: %d open needs (coordinator import), %d offers of %d slots (%d per donor), %d pending proposals, %d answered engagements for messages\n",
		s.took.Round(time.Millisecond), len(s.allNeeds), len(s.offers), offerSlots, p.offersPerDonor, p.pending, p.seeds)
	return nil
}

// report says how the pools fared during the run: a step that waited shows in its op's
// latencies, one that ran dry stopped its op with an error.
func (s *engageState) report(out io.Writer) {
	if s == nil || s.needs == nil {
		return
	}
	fmt.Fprintf(out, "engagement pools: %d of %d open needs left, %d proposals queued, %d answered engagements idle; empty pool waits:",
		len(s.needs), len(s.allNeeds), len(s.proposed), len(s.settled))
	for i, name := range poolNames {
		fmt.Fprintf(out, " %s %d (ran dry %d)", name, s.waits[i].Load(), s.dry[i].Load())
		if i < len(poolNames)-1 {
			fmt.Fprint(out, ",")
		}
	}
	fmt.Fprintln(out)
}

// ackedList copies what op acknowledged.
func (s *engageState) ackedList(op string) []*engagement {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acked[op])
}

// snapshot copies an engagement's mutable fields.
func (s *engageState) snapshot(e *engagement) (answer string, answered bool, msgs []ackedMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.answer, e.answered, slices.Clone(e.messages)
}

// fetch reads an engagement as the coordinator, once per read-back (nothing changes it after
// the run).
func (s *engageState) fetch(ctx context.Context, a *api, id string) (*engView, error) {
	if v, ok := s.fetched.Load(id); ok {
		return v.(*engView), nil
	}
	var v engView
	if err := a.do(ctx, http.MethodGet, "/api/v1/engagements/"+url.PathEscape(id), s.w.coordinator.Token, nil, &v); err != nil {
		return nil, err
	}
	s.fetched.Store(id, &v)
	return &v, nil
}

// verifyProposals reads back every proposal acknowledged during the run: it exists with its
// need, offer and side, and its status is "proposed" unless an answer was sent (then the
// answer's status when that answer was acknowledged, either when it was not).
func (s *engageState) verifyProposals(ctx context.Context, a *api) (int, []string) {
	todo := s.ackedList(opPropose)
	return checkAll(ctx, len(todo), func(i int) string {
		e := todo[i]
		v, err := s.fetch(ctx, a, e.id)
		if err != nil {
			return fmt.Sprintf("engagement %s proposed but not readable: %v", e.id, err)
		}
		if v.NeedID != e.need.id || v.OfferID != e.offer.id || v.ProposedBy != e.proposedBy {
			return fmt.Sprintf("engagement %s reads need %s offer %s proposed by %s; proposed %s, %s by %s",
				e.id, v.NeedID, v.OfferID, v.ProposedBy, e.need.id, e.offer.id, e.proposedBy)
		}
		answer, answered, _ := s.snapshot(e)
		allowed := []string{"proposed"}
		switch {
		case answered:
			allowed = []string{answerStatus[answer]}
		case answer != "":
			allowed = append(allowed, answerStatus[answer])
		}
		if !slices.Contains(allowed, v.Status) {
			return fmt.Sprintf("engagement %s is %s; the tool expected %v", e.id, v.Status, allowed)
		}
		return ""
	})
}

// needView is the part of a need the accept read-back uses.
type needView struct {
	Status       string `json:"status"`
	EngagementID string `json:"engagement_id"`
}

// offerView is the part of an offer the accept read-back uses.
type offerView struct {
	Status          string `json:"status"`
	EngagementsUsed int    `json:"engagements_used"`
}

// verifyAnswers reads back every answer of one kind acknowledged during the run: the
// engagement is in the answer's status; for accepts, the need is matched to that engagement,
// and every load offer has used as many engagements as were acknowledged agreed on it (plus,
// at most, the accepts sent but not acknowledged).
func (s *engageState) verifyAnswers(ctx context.Context, a *api, op string) (int, []string) {
	todo := s.ackedList(op)
	want := answerStatus[op]
	n, failures := checkAll(ctx, len(todo), func(i int) string {
		e := todo[i]
		v, err := s.fetch(ctx, a, e.id)
		if err != nil {
			return fmt.Sprintf("engagement %s %s but not readable: %v", e.id, want, err)
		}
		if v.Status != want {
			return fmt.Sprintf("engagement %s reads %s, but %s was acknowledged", e.id, v.Status, op)
		}
		if op != opAccept {
			return ""
		}
		var nv needView
		if err := a.do(ctx, http.MethodGet, "/api/v1/needs/"+url.PathEscape(e.need.id), s.w.coordinator.Token, nil, &nv); err != nil {
			return fmt.Sprintf("need %s of agreed engagement %s not readable: %v", e.need.id, e.id, err)
		}
		if nv.Status != "matched" || nv.EngagementID != e.id {
			return fmt.Sprintf("need %s reads %s (engagement %q) after engagement %s was agreed", e.need.id, nv.Status, nv.EngagementID, e.id)
		}
		return ""
	})
	if op != opAccept {
		return n, failures
	}
	agreed, unsure := map[*loadOffer]int{}, map[*loadOffer]int{}
	for _, e := range todo {
		agreed[e.offer]++
	}
	s.mu.Lock()
	for _, e := range s.byID {
		if e.answer == opAccept && !e.answered {
			unsure[e.offer]++
		}
	}
	s.mu.Unlock()
	_, more := checkAll(ctx, len(s.offers), func(i int) string {
		o := s.offers[i]
		var ov offerView
		if err := a.do(ctx, http.MethodGet, "/api/v1/offers/"+url.PathEscape(o.id), s.w.coordinator.Token, nil, &ov); err != nil {
			return fmt.Sprintf("load offer %s not readable: %v", o.id, err)
		}
		if ov.EngagementsUsed < agreed[o] || ov.EngagementsUsed > agreed[o]+unsure[o] {
			return fmt.Sprintf("load offer %s has used %d engagements; %d accepts were acknowledged on it and %d sent without an answer",
				o.id, ov.EngagementsUsed, agreed[o], unsure[o])
		}
		return ""
	})
	failures = append(failures, more...)
	sort.Strings(failures)
	return n, failures
}

// verifyMessages reads back every message acknowledged during the run, by its id and text.
func (s *engageState) verifyMessages(ctx context.Context, a *api) (int, []string) {
	todo := s.ackedList(opMessage) // one entry per message; an engagement is read once
	seen := map[*engagement]bool{}
	var es []*engagement
	for _, e := range todo {
		if !seen[e] {
			seen[e] = true
			es = append(es, e)
		}
	}
	checked := 0
	var failures []string
	var mu sync.Mutex
	checkAll(ctx, len(es), func(i int) string {
		e := es[i]
		_, _, msgs := s.snapshot(e)
		mu.Lock()
		checked += len(msgs)
		mu.Unlock()
		v, err := s.fetch(ctx, a, e.id)
		if err != nil {
			return fmt.Sprintf("engagement %s with %d acknowledged messages not readable: %v", e.id, len(msgs), err)
		}
		have := map[string]string{}
		for _, m := range v.Messages {
			have[m.ID] = m.Body
		}
		lost := 0
		for _, m := range msgs {
			if body, ok := have[m.id]; !ok || body != m.body {
				lost++
			}
		}
		if lost > 0 {
			mu.Lock()
			failures = append(failures, fmt.Sprintf("engagement %s lacks %d of its %d acknowledged messages", e.id, lost, len(msgs)))
			mu.Unlock()
		}
		return ""
	})
	sort.Strings(failures)
	return checked, failures
}

// cleanup takes the run's material off the market once it has been read back, so that later
// runs and the demo rankings do not carry it: proposals still open (or whose answer was not
// acknowledged) are withdrawn, needs not agreed are withdrawn, load offers are closed. A step
// that fails is counted, not fatal: the read-back has already decided the exit status.
func (s *engageState) cleanup(ctx context.Context, out io.Writer, a *api) {
	if s == nil || s.needs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var open []*engagement
	matched := map[*loadNeed]bool{}
	s.mu.Lock()
	for _, e := range s.byID {
		if !e.answered {
			open = append(open, e)
		} else if e.answer == opAccept {
			matched[e.need] = true
		}
	}
	s.mu.Unlock()
	var needs []*loadNeed
	for _, n := range s.allNeeds {
		if n != nil && !matched[n] { // nil: its import failed
			needs = append(needs, n)
		}
	}
	reason := map[string]string{"reason": "capmatch-load run " + s.w.runID + " ended"}
	failed := 0
	var mu sync.Mutex
	count := func(f string) string {
		if f != "" {
			mu.Lock()
			failed++
			mu.Unlock()
		}
		return "" // counted, not reported one by one
	}
	checkAll(ctx, len(open), func(i int) string {
		e := open[i]
		err := a.do(ctx, http.MethodPost, "/api/v1/engagements/"+url.PathEscape(e.id)+"/withdraw", e.proposer().Token, reason, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return "" // its unacknowledged answer did happen
		}
		return count(errString(err))
	})
	checkAll(ctx, len(needs), func(i int) string {
		n := needs[i]
		return count(errString(a.do(ctx, http.MethodPost, "/api/v1/needs/"+url.PathEscape(n.id)+"/withdraw", n.owner.Token, reason, nil)))
	})
	checkAll(ctx, len(s.offers), func(i int) string {
		o := s.offers[i]
		return count(errString(a.do(ctx, http.MethodPost, "/api/v1/offers/"+url.PathEscape(o.id)+"/close", o.donor.Token, reason, nil)))
	})
	fmt.Fprintf(out, "cleanup: withdrew %d open proposals and %d needs not agreed, closed %d load offers; %d of these steps failed\n",
		len(open), len(needs), len(s.offers), failed)
}

// errString is err's text, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
