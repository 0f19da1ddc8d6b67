package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/redis/go-redis/v9"
)

// Rankings stores computed ranking lists in Redis, shared by every API replica. Entries carry
// their own freshness stamp; readers decide whether an entry is current.
type Rankings struct {
	c   *Client
	ttl time.Duration
}

// NewRankings returns the ranking cache; entries expire after ttl so an abandoned key does not
// live for ever.
func NewRankings(c *Client, ttl time.Duration) *Rankings { return &Rankings{c: c, ttl: ttl} }

// rankWire is a snapshot as Redis holds it: the ranked ids and their scores in two arrays, the
// list's owner once (about 3 kB for a need's 64 offers).
type rankWire struct {
	Owner          string      `json:"o"`
	ByNeed         bool        `json:"n,omitempty"`
	Stamp          int64       `json:"s"`
	Day            models.Date `json:"d"`
	WeightsVersion int64       `json:"w"`
	ComputedAt     time.Time   `json:"t"`
	IDs            []string    `json:"i"`
	Scores         []float64   `json:"v"`
	Complete       bool        `json:"f,omitempty"`
	// Model is the matching.ModelVersion that ranked it (0 from a replica that predates it).
	Model int `json:"m,omitempty"`
}

// encodeSnapshot writes a snapshot in the wire form.
func encodeSnapshot(s *matching.Snapshot) ([]byte, error) {
	w := rankWire{Owner: s.Owner, ByNeed: s.ByNeed, Stamp: s.Stamp, Day: s.Day, WeightsVersion: s.WeightsVersion,
		ComputedAt: s.ComputedAt, IDs: make([]string, len(s.Items)), Scores: make([]float64, len(s.Items)),
		Complete: s.Complete, Model: s.Model}
	for i, x := range s.Items {
		w.IDs[i], w.Scores[i] = x.OfferID, x.Score
		if !s.ByNeed {
			w.IDs[i] = x.NeedID
		}
	}
	return json.Marshal(w)
}

// decodeSnapshot reads the wire form back; an entry written before snapshots named their owner
// is refused (the caller ranks it anew).
func decodeSnapshot(raw []byte) (*matching.Snapshot, error) {
	var w rankWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("cached ranking: %w", err)
	}
	if len(w.IDs) != len(w.Scores) {
		return nil, fmt.Errorf("cached ranking: %d ids and %d scores", len(w.IDs), len(w.Scores))
	}
	if w.Owner == "" {
		return nil, errors.New("cached ranking: no owner (written by an older replica)")
	}
	s := &matching.Snapshot{Owner: w.Owner, ByNeed: w.ByNeed, Stamp: w.Stamp, Day: w.Day, WeightsVersion: w.WeightsVersion,
		ComputedAt: w.ComputedAt, Items: make([]matching.Match, len(w.IDs)), Complete: w.Complete, Model: w.Model}
	for i, id := range w.IDs {
		if w.ByNeed {
			s.Items[i] = matching.Match{NeedID: w.Owner, OfferID: id, Score: w.Scores[i]}
		} else {
			s.Items[i] = matching.Match{NeedID: id, OfferID: w.Owner, Score: w.Scores[i]}
		}
	}
	return s, nil
}

// Get returns a cached snapshot, or nil when there is none. An entry that cannot be read
// counts as none (it is overwritten by the next ranking).
func (r *Rankings) Get(ctx context.Context, key string) (*matching.Snapshot, error) {
	b, err := r.c.rdb.Get(ctx, r.c.Key("rank", key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rankings get: %w", err)
	}
	s, err := decodeSnapshot(b)
	if err != nil {
		return nil, nil
	}
	return s, nil
}

// Set stores snapshots in one pipelined round trip.
func (r *Rankings) Set(ctx context.Context, entries map[string]*matching.Snapshot) error {
	if len(entries) == 0 {
		return nil
	}
	enc := make(map[string][]byte, len(entries))
	for k, s := range entries {
		b, err := encodeSnapshot(s)
		if err != nil {
			return fmt.Errorf("rankings encode %s: %w", k, err)
		}
		enc[k] = b
	}
	_, err := r.c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range enc {
			p.Set(ctx, r.c.Key("rank", k), v, r.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rankings set: %w", err)
	}
	return nil
}
