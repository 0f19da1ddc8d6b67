// Package models holds capmatch's domain: the types that describe countries' cyber
// capacity-building needs, donors' offers, engagements and projects, the vocabularies they
// draw on, the rules that keep them valid, the sentinel errors every layer speaks, and the
// store interfaces that adapters implement. It imports only the standard library so that the
// domain can be read, tested and reasoned about without any database or network in mind.
package models
