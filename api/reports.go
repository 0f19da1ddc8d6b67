package api

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleFundingReport returns requested vs committed vs disbursed money grouped by country,
// theme or capability, as JSON or, with ?format=csv or Accept: text/csv, as CSV.
func (s *Server) handleFundingReport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		groupBy := c.Query("group_by", "country")
		rows, err := s.deps.App.FundingReport(c.UserContext(), actor(c), groupBy)
		if err != nil {
			return err
		}
		format := c.Query("format")
		if format == "" && strings.Contains(c.Get(fiber.HeaderAccept), "text/csv") {
			format = "csv"
		}
		switch format {
		case "", "json":
			return c.JSON(fiber.Map{"group_by": groupBy, "items": rows})
		case "csv":
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			_ = w.Write([]string{groupBy, "label", "open_needs", "requested_usd", "projects", "committed_usd", "disbursed_usd", "gap_usd"})
			for _, r := range rows {
				_ = w.Write([]string{r.Key, csvSafe(r.Label), strconv.Itoa(r.OpenNeeds), strconv.FormatInt(r.Requested, 10), strconv.Itoa(r.Projects),
					strconv.FormatInt(r.Committed, 10), strconv.FormatInt(r.Disbursed, 10), strconv.FormatInt(r.Gap, 10)})
			}
			w.Flush()
			c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="funding-by-`+groupBy+`.csv"`)
			return c.Send(buf.Bytes())
		}
		e := models.Invalid("format", models.ProblemOneOf, models.OneOf([]string{"json", "csv"}))
		e.Detail = "bad format"
		return e
	}
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// handleOverlaps lists pairs of deliveries of the same capability to the same country with
// overlapping dates (duplicated effort).
func (s *Server) handleOverlaps() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"items": s.deps.App.Projects.Overlaps(c.UserContext(), actor(c))})
	}
}

// handleIATIExport writes the visible projects as an IATI 2.03 activities file.
func (s *Server) handleIATIExport() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.deps.App.ExportIATI(c.UserContext(), actor(c), service.IATIExport{Country: c.Query("country"),
			From: models.Date(c.Query("from")), To: models.Date(c.Query("to")), BaseURL: c.BaseURL()})
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="capmatch-iati-activities.xml"`)
		return c.Send(b)
	}
}
