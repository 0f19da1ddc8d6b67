package api

import (
	"time"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// NeedMatches is the answer of GET /needs/{id}/matches (openapi.yaml, schema NeedMatches).
type NeedMatches struct {
	NeedID         string       `json:"need_id"`
	ComputedAt     time.Time    `json:"computed_at"`
	Cached         bool         `json:"cached"`
	WeightsVersion int64        `json:"weights_version"`
	Items          []OfferMatch `json:"items"`
}

// OfferMatch is one ranked offer for a need.
type OfferMatch struct {
	Rank           int          `json:"rank"`
	OfferID        string       `json:"offer_id"`
	Score          float64      `json:"score"`
	Band           service.Band `json:"band"`
	Relevance      float64      `json:"relevance"`
	Title          string       `json:"title"`
	OrganizationID string       `json:"organization_id"`
	Factors        []Factor     `json:"factors"`
}

// OfferMatches is the answer of GET /offers/{id}/matches (openapi.yaml, schema OfferMatches).
type OfferMatches struct {
	OfferID        string      `json:"offer_id"`
	ComputedAt     time.Time   `json:"computed_at"`
	Cached         bool        `json:"cached"`
	WeightsVersion int64       `json:"weights_version"`
	Items          []NeedMatch `json:"items"`
}

// NeedMatch is one ranked need for an offer.
type NeedMatch struct {
	Rank           int          `json:"rank"`
	NeedID         string       `json:"need_id"`
	Score          float64      `json:"score"`
	Band           service.Band `json:"band"`
	Relevance      float64      `json:"relevance"`
	Title          string       `json:"title"`
	Country        string       `json:"country"`
	OrganizationID string       `json:"organization_id"`
	Factors        []Factor     `json:"factors"`
}

// Factor is one explained factor of a ranked item (openapi.yaml, schema Factor): its
// contribution is weight × value × the item's relevance; its reason is a stable code with its
// arguments, written in the caller's language in Reason.
type Factor struct {
	Name         string      `json:"name"`
	Weight       float64     `json:"weight"`
	Value        float64     `json:"value"`
	Contribution float64     `json:"contribution"`
	Reason       string      `json:"reason"`
	Code         string      `json:"code"`
	Args         models.Args `json:"args"`
}

// Allocation is the answer of GET /matching/allocation.
type Allocation struct {
	Items          []AllocationPair `json:"items"`
	TotalScore     float64          `json:"total_score"`
	WeightsVersion int64            `json:"weights_version"`
}

// AllocationPair is one suggested pair of an allocation (openapi.yaml, schema Match).
type AllocationPair struct {
	NeedID  string       `json:"need_id"`
	OfferID string       `json:"offer_id"`
	Score   float64      `json:"score"`
	Band    service.Band `json:"band"`
}

// needMatchesOf is the wire form of a need's ranking, its reasons written in lang.
func needMatchesOf(r *service.NeedRanking, lang string) NeedMatches {
	lines := r.Explained() // explained only now: a kept answer never gets here
	out := NeedMatches{NeedID: r.NeedID, ComputedAt: r.ComputedAt, Cached: r.Cached, WeightsVersion: r.WeightsVersion,
		Items: make([]OfferMatch, 0, len(lines))}
	for _, it := range lines {
		out.Items = append(out.Items, OfferMatch{Rank: it.Rank, OfferID: it.OfferID, Score: it.Score, Band: it.Band, Relevance: it.Relevance,
			Title: it.Title, OrganizationID: it.OrganizationID, Factors: factorsOf(it.Factors, lang)})
	}
	return out
}

// offerMatchesOf is the wire form of an offer's ranking, its reasons written in lang.
func offerMatchesOf(r *service.OfferRanking, lang string) OfferMatches {
	lines := r.Explained()
	out := OfferMatches{OfferID: r.OfferID, ComputedAt: r.ComputedAt, Cached: r.Cached, WeightsVersion: r.WeightsVersion,
		Items: make([]NeedMatch, 0, len(lines))}
	for _, it := range lines {
		out.Items = append(out.Items, NeedMatch{Rank: it.Rank, NeedID: it.NeedID, Score: it.Score, Band: it.Band, Relevance: it.Relevance,
			Title: it.Title, Country: it.Country, OrganizationID: it.OrganizationID, Factors: factorsOf(it.Factors, lang)})
	}
	return out
}

// factorsOf is the wire form of explained factors (a fresh slice: the ranking's are shared),
// each reason written in lang from the catalog.
func factorsOf(fs []service.Factor, lang string) []Factor {
	out := make([]Factor, len(fs))
	for i, f := range fs {
		out[i] = Factor{Name: f.Name, Weight: f.Weight, Value: f.Value, Contribution: f.Contribution,
			Reason: texts.Reason(lang, f.Code, f.Args), Code: f.Code, Args: f.Args}
		if out[i].Args == nil {
			out[i].Args = models.Args{} // the document promises an object, never null
		}
	}
	return out
}

// handleNeedMatches returns the offers that fit a need, best first, each score explained: the
// service authorizes the caller and serves the ranking, then the answer is sent rendered as
// kept (sendAnswer), with its ETag, or 304 when the caller has it already.
func (s *Server) handleNeedMatches() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 10, service.MaxRankLimit)
		if err != nil {
			return err
		}
		r, err := s.deps.App.Matching.OffersForNeedUnexplained(c.UserContext(), actor(c), c.Params("id"), limit)
		if err != nil {
			return err
		}
		l := lang(c)
		var buf [256]byte
		return s.sendAnswer(c, appendAnswerKey(buf[:0], "n", r.NeedID, r.Version, r.Variant, r.Cached, l), r.Cached,
			func() any { return needMatchesOf(r, l) })
	}
}

// handleOfferMatches returns the needs an offer fits, best first, listing only needs the
// caller may see; reasons as in handleNeedMatches.
func (s *Server) handleOfferMatches() fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := queryLimit(c, 10, service.MaxRankLimit)
		if err != nil {
			return err
		}
		r, err := s.deps.App.Matching.NeedsForOfferUnexplained(c.UserContext(), actor(c), c.Params("id"), limit)
		if err != nil {
			return err
		}
		l := lang(c)
		var buf [256]byte
		return s.sendAnswer(c, appendAnswerKey(buf[:0], "o", r.OfferID, r.Version, r.Variant, r.Cached, l), r.Cached,
			func() any { return offerMatchesOf(r, l) })
	}
}

// handleGetWeights returns the matching weights in force (any signed-in user: scores are
// explained with them).
func (s *Server) handleGetWeights() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(s.deps.App.Matching.Weights())
	}
}

// handlePutWeights replaces the weights (coordinators); every ranking changes at once.
func (s *Server) handlePutWeights() fiber.Handler {
	return func(c *fiber.Ctx) error {
		var w service.Weights
		if err := decode(c, &w); err != nil {
			return err
		}
		got, err := s.deps.App.Matching.SetWeights(c.UserContext(), actor(c), w)
		if err != nil {
			return err
		}
		return c.JSON(got)
	}
}

// handleAllocation proposes which need each open offer should serve (coordinators).
func (s *Server) handleAllocation() fiber.Handler {
	return func(c *fiber.Ctx) error {
		items, err := s.deps.App.Matching.Allocation(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		out := Allocation{Items: make([]AllocationPair, len(items)), WeightsVersion: s.deps.App.Matching.Weights().Version}
		for i, m := range items {
			out.Items[i] = AllocationPair{NeedID: m.NeedID, OfferID: m.OfferID, Score: m.Score, Band: m.Band}
			out.TotalScore += m.Score
		}
		return c.JSON(out)
	}
}
