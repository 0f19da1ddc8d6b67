// Package capmatch is the root of a marketplace that matches the cyber capacity-building needs
// of states with the programmes donors offer, and tracks the projects that result.
//
// The layers, from the centre out (layers_test.go enforces the imports):
//
//	models/    the domain: types, vocabularies, policy, lifecycles and cascades, validation,
//	           errors, and the ports the application needs (standard library only)
//	matching/  the pure scoring, ranking and allocation engine (models only, no I/O)
//	service/   the application layer: the use cases api/ and web/ call, and nothing else;
//	           its read model is internal (service/internal/readmodel)
//	adapters/  one package per dependency, each implementing ports of models/
//	api/, web/ the edges: HTTP and the browser UI, calling service/ with models/ types
//	cmd/       the programs; the only place adapters are wired in
//
// This file holds no code: the package exists for the layering test beside it.
package capmatch
