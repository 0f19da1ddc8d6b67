package api

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// handleImportNeeds stores a coordinator's JSON or CSV file of needs, all rows or none.
func (s *Server) handleImportNeeds() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := models.AuthorizeCurator(actor(c)); err != nil {
			return err // before reading the body: a caller who may not import learns nothing about it
		}
		rows, err := decodeRows(c, needRows)
		if err != nil {
			return err
		}
		res, err := s.deps.App.ImportNeeds(c.UserContext(), actor(c), rows, models.NeedStatus(c.Query("status")))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(res)
	}
}

// handleImportOffers stores a coordinator's JSON or CSV file of offers, all rows or none.
func (s *Server) handleImportOffers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := models.AuthorizeCurator(actor(c)); err != nil {
			return err
		}
		rows, err := decodeRows(c, offerRows)
		if err != nil {
			return err
		}
		res, err := s.deps.App.ImportOffers(c.UserContext(), actor(c), rows, models.OfferStatus(c.Query("status")))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(res)
	}
}

// rowSchema says how CSV columns fill an import row: one setter per column name (the row's
// JSON field names, "maturity.current" for a nested one), and where a row keeps the problems
// of cells that did not parse, so that they are reported with its validation problems.
type rowSchema[T any] struct {
	columns  map[string]func(r *T, cell string) error
	problems func(r *T) *models.Problems
}

// decodeRows reads an import body: a JSON array of row objects or a CSV file with a header row.
// A body that cannot be read at all, or a row that is not an object of the row's fields, is a
// 400 naming the row; other content types, and compressed bodies (which could expand far
// beyond the body limit), are a 415.
func decodeRows[T any](c *fiber.Ctx, schema rowSchema[T]) ([]T, error) {
	if enc := strings.TrimSpace(string(c.Request().Header.ContentEncoding())); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, "send the rows uncompressed (no Content-Encoding)")
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	isCSV := ct == "text/csv"
	if !isCSV && ct != fiber.MIMEApplicationJSON && !strings.HasSuffix(ct, "+json") {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType,
			"send the rows as application/json (an array of objects) or text/csv (a header row, then one line per row)")
	}
	body := c.BodyRaw()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, service.CheckImportSize(0)
	}
	if isCSV {
		return decodeCSVRows(body, schema)
	}
	return decodeJSONRows[T](body)
}

var errNotObject = errors.New("not a JSON object")

// decodeJSONRows decodes a JSON array strictly, row by row, so that every unreadable row is
// named ("rows[2].foo": unknown field) in one answer.
func decodeJSONRows[T any](body []byte) ([]T, error) {
	var raws []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raws); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, malformed("the body must be a JSON array of row objects")
		}
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("the body has data after the JSON array")
	}
	if len(raws) > service.MaxImportRows {
		return nil, service.CheckImportSize(len(raws))
	}
	rows := make([]T, len(raws))
	var probs []models.FieldError
	for i, raw := range raws {
		if err := decodeRow(raw, &rows[i]); err != nil {
			probs = append(probs, rowDecodeProblem(i, err))
		}
	}
	if len(probs) > 0 {
		return nil, malformed(fmt.Sprintf("%d row(s) could not be read; nothing was imported", len(probs)), probs...)
	}
	return rows, nil
}

// decodeRow decodes one row object, refusing unknown fields and anything but an object.
func decodeRow(raw json.RawMessage, v any) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// rowDecodeProblem names a row's decoding failure under the row's index.
func rowDecodeProblem(i int, err error) models.FieldError {
	prefix := fmt.Sprintf("rows[%d]", i)
	if errors.Is(err, errNotObject) {
		return models.FieldError{Field: prefix, Code: models.ProblemJSONType, Args: models.Args{"expected": models.ArgCode("object")}}
	}
	var de *models.Error
	if !errors.As(decodeError(err), &de) {
		return models.FieldError{Field: prefix, Code: models.ProblemUnreadable}
	}
	if len(de.Fields) > 0 {
		f := de.Fields[0]
		f.Field = prefix + "." + clip(jsonPath(f.Field))
		return f
	}
	return models.FieldError{Field: prefix, Code: models.ProblemUnreadable}
}

// jsonPath drops the Go names of embedded structs (service.NeedInput in NeedImportRow) from
// the path encoding/json reports for a value of the wrong type ("NeedInput.budget_usd"), so
// that the client sees its own field name. JSON names here are snake_case, Go type names are
// capitalised, and the path never holds client input.
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	out := parts[:0]
	for _, s := range parts {
		if r, _ := utf8.DecodeRuneInString(s); !unicode.IsUpper(r) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ".")
}

// decodeCSVRows reads a CSV file whose header names the columns. A cell that does not parse
// (a number) is a problem of its row, reported with validation; an unknown or repeated
// column, or a line that is not CSV or has the wrong number of cells, is a 400.
func decodeCSVRows[T any](body []byte, schema rowSchema[T]) ([]T, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))) // spreadsheets write a BOM
	header, err := r.Read()
	if err != nil {
		return nil, malformed("the CSV header cannot be read: " + err.Error())
	}
	names := make([]string, len(header))
	setters := make([]func(*T, string) error, len(header))
	var probs []models.FieldError
	seen := map[string]bool{}
	for j, h := range header {
		names[j] = strings.ToLower(strings.TrimSpace(h))
		setters[j] = schema.columns[names[j]]
		switch {
		case setters[j] == nil:
			probs = append(probs, models.FieldError{Field: fmt.Sprintf("columns[%d]", j),
				Code: models.ProblemUnknownColumn, Args: models.Args{"name": models.ArgText(clip(h))}})
		case seen[names[j]]:
			probs = append(probs, models.FieldError{Field: fmt.Sprintf("columns[%d]", j),
				Code: models.ProblemRepeatedColumn, Args: models.Args{"name": models.ArgText(clip(names[j]))}})
		}
		seen[names[j]] = true
	}
	if len(probs) > 0 {
		return nil, malformed("the CSV header names unknown or repeated columns; use the JSON field names", probs...)
	}
	var rows []T
	for i := 0; ; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, csv.ErrFieldCount) {
			probs = append(probs, models.FieldError{Field: fmt.Sprintf("rows[%d]", i),
				Code: models.ProblemCellCount, Args: models.Args{"got": models.ArgInt(len(rec)), "want": models.ArgInt(len(header))}})
			continue
		}
		if err != nil {
			return nil, malformed("malformed CSV", models.FieldError{Field: fmt.Sprintf("rows[%d]", i),
				Code: models.ProblemCSVLine, Args: models.Args{"detail": models.ArgText(clip(err.Error()))}})
		}
		if i >= service.MaxImportRows {
			return nil, service.CheckImportSize(i + 1)
		}
		var row T
		for j, cell := range rec {
			if err := setters[j](&row, cell); err != nil {
				schema.problems(&row).Add(names[j], models.ProblemWholeNumber, nil)
			}
		}
		rows = append(rows, row)
	}
	if len(probs) > 0 {
		return nil, malformed(fmt.Sprintf("%d CSV line(s) could not be read; nothing was imported", len(probs)), probs...)
	}
	return rows, nil
}

type (
	needRow  = service.NeedImportRow
	offerRow = service.OfferImportRow
)

// needRows maps the CSV columns of a needs import to service.NeedImportRow.
var needRows = rowSchema[needRow]{
	problems: func(r *needRow) *models.Problems { return &r.Problems },
	columns: map[string]func(*needRow, string) error{
		"title":           func(r *needRow, v string) error { r.Title = v; return nil },
		"description":     func(r *needRow, v string) error { r.Description = v; return nil },
		"country":         func(r *needRow, v string) error { r.Country = v; return nil },
		"theme":           func(r *needRow, v string) error { r.Theme = models.Theme(v); return nil },
		"capability":      func(r *needRow, v string) error { r.Capability = models.Capability(v); return nil },
		"modalities":      func(r *needRow, v string) error { r.Modalities = cellList[models.Modality](v); return nil },
		"languages":       func(r *needRow, v string) error { r.Languages = cellList[string](v); return nil },
		"budget_usd":      func(r *needRow, v string) error { return cellInt(v, &r.BudgetUSD) },
		"start_by":        func(r *needRow, v string) error { r.StartBy = models.Date(strings.TrimSpace(v)); return nil },
		"duration_months": func(r *needRow, v string) error { return cellInt(v, &r.DurationMonths) },
		"priority":        func(r *needRow, v string) error { r.Priority = models.Priority(strings.TrimSpace(v)); return nil },
		"visibility":      func(r *needRow, v string) error { r.Visibility = models.Visibility(strings.TrimSpace(v)); return nil },
		"organization_id": func(r *needRow, v string) error { r.OrganizationID = strings.TrimSpace(v); return nil },
		"maturity.framework": func(r *needRow, v string) error {
			if v = strings.TrimSpace(v); v != "" {
				maturityOf(r).Framework = models.MaturityFramework(v)
			}
			return nil
		},
		"maturity.current": func(r *needRow, v string) error {
			if strings.TrimSpace(v) == "" {
				return nil
			}
			return cellInt(v, &maturityOf(r).Current)
		},
		"maturity.target": func(r *needRow, v string) error {
			if strings.TrimSpace(v) == "" {
				return nil
			}
			return cellInt(v, &maturityOf(r).Target)
		},
	},
}

// offerRows maps the CSV columns of an offers import to service.OfferImportRow.
var offerRows = rowSchema[offerRow]{
	problems: func(r *offerRow) *models.Problems { return &r.Problems },
	columns: map[string]func(*offerRow, string) error{
		"title":              func(r *offerRow, v string) error { r.Title = v; return nil },
		"description":        func(r *offerRow, v string) error { r.Description = v; return nil },
		"themes":             func(r *offerRow, v string) error { r.Themes = cellList[models.Theme](v); return nil },
		"capabilities":       func(r *offerRow, v string) error { r.Capabilities = cellList[models.Capability](v); return nil },
		"modalities":         func(r *offerRow, v string) error { r.Modalities = cellList[models.Modality](v); return nil },
		"languages":          func(r *offerRow, v string) error { r.Languages = cellList[string](v); return nil },
		"eligible_countries": func(r *offerRow, v string) error { r.EligibleCountries = cellList[string](v); return nil },
		"eligible_regions":   func(r *offerRow, v string) error { r.EligibleRegions = cellList[string](v); return nil },
		"budget_usd":         func(r *offerRow, v string) error { return cellInt(v, &r.BudgetUSD) },
		"max_engagements":    func(r *offerRow, v string) error { return cellInt(v, &r.MaxEngagements) },
		"available_from":     func(r *offerRow, v string) error { r.AvailableFrom = models.Date(strings.TrimSpace(v)); return nil },
		"available_until":    func(r *offerRow, v string) error { r.AvailableUntil = models.Date(strings.TrimSpace(v)); return nil },
		"organization_id":    func(r *offerRow, v string) error { r.OrganizationID = strings.TrimSpace(v); return nil },
		"contact_name":       func(r *offerRow, v string) error { r.ContactName = v; return nil },
		"contact_email":      func(r *offerRow, v string) error { r.ContactEmail = v; return nil },
	},
}

func maturityOf(r *needRow) *models.Maturity {
	if r.Maturity == nil {
		r.Maturity = &models.Maturity{}
	}
	return r.Maturity
}

// cellList splits a list cell at ";", trimming entries and dropping empty ones, so that an
// empty cell is an empty list.
func cellList[T ~string](cell string) []T {
	var out []T
	for _, p := range strings.Split(cell, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, T(p))
		}
	}
	return out
}

// cellInt parses a whole-number cell; an empty cell leaves the zero value, like a missing JSON
// field, for validation to judge.
func cellInt[T int | int64](cell string, dst *T) error {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return nil
	}
	v, err := strconv.ParseInt(cell, 10, 64)
	if err != nil || int64(T(v)) != v {
		return errors.New("must be a whole number")
	}
	*dst = T(v)
	return nil
}

// clip shortens a client-supplied name for an error message, so that a hostile one cannot
// blow up the response.
func clip(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// iatiImportPath is the route of the IATI activity file import, which streams its body.
const iatiImportPath = "/api/v1/import/iati"

// handleImportIATI reads an IATI activity file (2.01-2.03) into external activities
// (coordinators and donors), streaming the body within Deps.IATIImportMaxBytes: the only
// route allowed more than BodyLimit (see isStreamedRoute). The body may be gzip-compressed
// (Content-Encoding: gzip); the limit then bounds the file once decompressed as well.
func (s *Server) handleImportIATI() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := models.AuthorizeIATIImport(actor(c)); err != nil {
			return err // before reading the body: a caller who may not import learns nothing about it
		}
		ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
		if ct != "application/xml" && ct != "text/xml" && !strings.HasSuffix(ct, "+xml") {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the IATI activity file as application/xml")
		}
		max := s.deps.IATIImportMaxBytes
		tooLarge := &models.Error{Kind: models.ErrTooLarge, Code: "file_too_large", Args: models.Args{"limit_bytes": models.ArgInt(max)},
			Detail: fmt.Sprintf("the file exceeds the IATI import limit of %d MiB (CAPMATCH_IATI_IMPORT_MAX_MB); nothing was imported", max>>20)}
		if int64(c.Request().Header.ContentLength()) > max {
			return tooLarge
		}
		var body io.Reader = c.Context().RequestBodyStream()
		if body == nil {
			body = bytes.NewReader(c.Body())
		}
		// A large file takes longer to arrive than the server's read timeout allows a request.
		deadline := time.Now().Add(service.IATIImportTimeout)
		_ = c.Context().SetReadDeadline(deadline)
		_ = c.Context().SetWriteDeadline(deadline.Add(30 * time.Second))
		body = &limitedBody{r: body, left: max, tooLarge: tooLarge}
		switch enc := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentEncoding))); enc {
		case "", "identity":
		case "gzip":
			zr, err := gzip.NewReader(body)
			if err != nil {
				var de *models.Error
				if errors.As(err, &de) {
					return err
				}
				return malformed("the body is not gzip data")
			}
			body = &limitedBody{r: zr, left: max, tooLarge: tooLarge}
		default:
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the file uncompressed or with Content-Encoding: gzip")
		}
		sum, err := s.deps.App.ImportIATI(c.UserContext(), actor(c), body)
		if err != nil {
			return err
		}
		status := fiber.StatusOK
		if sum.Imported > 0 {
			status = fiber.StatusCreated
		}
		return c.Status(status).JSON(sum)
	}
}

// limitedBody reads at most left bytes of a request body and fails with tooLarge (413) past
// them; a body that breaks off (the client went away, a broken chunk) is a 400, not a bug.
type limitedBody struct {
	r        io.Reader
	left     int64
	tooLarge error
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.tooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, l.tooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var de *models.Error
		if errors.As(err, &de) {
			return n, err
		}
		return n, &models.Error{Kind: models.ErrMalformed, Code: "upload_interrupted", Detail: "the file could not be read to its end; nothing was imported"}
	}
	return n, err
}
