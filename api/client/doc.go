// Package client is a Go client for the capmatch API, generated from api/openapi.yaml by
// oapi-codegen, so that the document is proved usable by a typed client: it compiles, and an
// end-to-end test of package api signs in, posts a need and reads its matches through it.
// Every operation has a method (e.g. CreateNeed, NeedMatches) and a ...WithResponse variant
// that decodes the answer by status (JSON200, JSON201, ..., JSONDefault for a problem).
//
// Regenerate after changing the document: go generate ./api/client (client.gen.go is
// committed; a test fails when it is stale).
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
