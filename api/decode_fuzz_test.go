package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// FuzzDecode sends arbitrary bodies through the strict request decoder behind the real error
// handler: every answer is 200 (decoded) or a 4xx problem+json, never a 5xx, and a decoded body
// round-trips through the typed input without unknown fields.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"title":"CSIRT","budget_usd":5}`), "application/json")
	f.Add([]byte(`{"title":{"$gt":""}}`), "application/json")
	f.Add([]byte(`null`), "application/json")
	f.Add([]byte("{\"title\":\"\xff\"}"), "application/json")
	f.Add([]byte(`{"maturity":{"framework":"sim3","x":1}}`), "")
	f.Add([]byte(`{} {}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"budget_usd":1e400}`), "text/plain")
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(discardLogger()), BodyLimit: BodyLimit})
	app.Post("/", func(c *fiber.Ctx) error {
		var in service.NeedInput
		if err := decode(c, &in); err != nil {
			return err
		}
		return c.JSON(in)
	})
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			return // a request the HTTP layer itself rejects (bad header) never reaches us
		}
		out, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode == 200:
			var in service.NeedInput
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				t.Fatalf("decoded body does not round-trip: %v", err)
			}
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			if resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("4xx without problem+json: %s", out)
			}
		default:
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, out)
		}
	})
}
