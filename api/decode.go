package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/capmatch/capmatch/models"
	"github.com/gofiber/fiber/v2"
)

// decode reads a JSON body into v strictly: unknown fields, wrong JSON types, trailing data
// and bodies not labelled as JSON are rejected with a 400 (415 for the content type) naming
// the problem. A body without a Content-Type is not taken for JSON: that is how a page on
// another site could send a "simple" cross-origin request (issue 13.8). The target is always a
// typed struct, so nothing from a body can become a query operator.
func decode(c *fiber.Ctx, v any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != fiber.MIMEApplicationJSON && !strings.HasSuffix(ct, "+json") && (ct != "" || len(c.Request().Body()) > 0) { // the raw body: Body() would inflate it
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the body as application/json")
	}
	// Fiber inflates compressed bodies in Body() with no size limit, which would let a small
	// gzip bomb past the 1 MiB body limit: accept only uncompressed bodies.
	if ce := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); ce != "" && !strings.EqualFold(ce, "identity") {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the body uncompressed (no Content-Encoding)")
	}
	body := c.Body()
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return malformed("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return malformed("the request body is not valid UTF-8")
	}
	if bytes.Equal(trimmed, []byte("null")) {
		return malformed("the body must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return malformed("the body has data after the JSON object")
	}
	return nil
}

func malformed(msg string, fields ...models.FieldError) error {
	return &models.Error{Kind: models.ErrMalformed, Detail: msg, Fields: fields}
}

// decodeError explains a JSON decoding failure in terms of the client's body.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return malformed(fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return malformed("the body must be a JSON object")
		}
		return malformed(fmt.Sprintf("field %s must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value),
			models.FieldError{Field: field, Code: models.ProblemJSONType, Args: models.Args{"expected": models.ArgCode(jsonType(typ.Type.Kind().String()))}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return malformed(fmt.Sprintf("unknown field %q", name), models.FieldError{Field: name, Code: models.ProblemUnknownField})
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return malformed("the JSON body ends too early")
	}
	return malformed("malformed JSON body")
}

// jsonType names the JSON type a Go kind decodes from, for the json_type problem.
func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "value"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "another type"
}
