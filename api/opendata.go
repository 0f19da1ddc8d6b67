package api

import (
	"bytes"
	"encoding/csv"

	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// Open data (issue 18.2): files and a read API for anyone, without signing in, answered as
// the anonymous visitor (a token, if sent, is ignored), limited per client address.

// publicLimit counts the request against the public rate limit of its client address.
func (s *Server) publicLimit(c *fiber.Ctx) error {
	return s.deps.App.OpenData.Allow(c.UserContext(), c.IP())
}

// licenceHeaders names the licence of what the answer carries (RFC 8288 rel="license").
func (s *Server) licenceHeaders(c *fiber.Ctx) service.Licence {
	l := s.deps.App.OpenData.Licence()
	c.Set(fiber.HeaderLink, "<"+l.URL+`>; rel="license"`)
	return l
}

// handleOpenData serves one open dataset (needs, offers, projects, funding) as CSV or JSON.
// The columns are the data dictionary's (service.Datasets, the /open-data page): stable names,
// in order; ?group_by=country|theme|capability groups the funding table (country by default).
func (s *Server) handleOpenData(ds service.Dataset, format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.publicLimit(c); err != nil {
			return err
		}
		items, rows, err := s.deps.App.OpenData.Rows(c.UserContext(), ds.Name, c.Query("group_by", "country"))
		if err != nil {
			return err
		}
		l := s.licenceHeaders(c)
		c.Set(fiber.HeaderCacheControl, "public, max-age=60")
		names := make([]string, len(ds.Columns))
		for i, col := range ds.Columns {
			names[i] = col.Name
		}
		if format == "json" {
			return c.JSON(fiber.Map{"dataset": ds.Name, "licence": l, "dictionary": "/open-data", "columns": names, "items": items})
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(names)
		for _, r := range rows {
			for i := range r {
				r[i] = csvSafe(r[i])
			}
			_ = w.Write(r)
		}
		w.Flush()
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="capmatch-`+ds.Name+`.csv"`)
		return c.Send(buf.Bytes())
	}
}

// handlePublicNeeds lists the public needs an anonymous visitor may see, with the filters and
// paging of GET /needs.
func (s *Server) handlePublicNeeds() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.publicLimit(c); err != nil {
			return err
		}
		limit, err := queryLimit(c, 20, 100)
		if err != nil {
			return err
		}
		items, next, err := s.deps.App.OpenData.Needs(c.UserContext(), service.NeedListParams{
			Country: c.Query("country"), Theme: c.Query("theme"), Capability: c.Query("capability"), Status: c.Query("status"),
			Q: c.Query("q"), Sort: c.Query("sort"), Cursor: c.Query("cursor"), Limit: limit})
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": nonNil(items), "next_cursor": next, "licence": s.licenceHeaders(c)})
	}
}

// handlePublicOffers lists the published offers, with the filters and paging of GET /offers.
func (s *Server) handlePublicOffers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.publicLimit(c); err != nil {
			return err
		}
		limit, err := queryLimit(c, 20, 100)
		if err != nil {
			return err
		}
		items, next, err := s.deps.App.OpenData.Offers(c.UserContext(), service.OfferListParams{
			Country: c.Query("country"), Theme: c.Query("theme"), Capability: c.Query("capability"), Status: c.Query("status"),
			Q: c.Query("q"), Cursor: c.Query("cursor"), Limit: limit})
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": nonNil(items), "next_cursor": next, "licence": s.licenceHeaders(c)})
	}
}

// handlePublicCountries lists every country as the public pages show it.
func (s *Server) handlePublicCountries() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.publicLimit(c); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": s.deps.App.OpenData.Countries(c.UserContext()), "licence": s.licenceHeaders(c)})
	}
}
