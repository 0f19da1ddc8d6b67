package models

import "time"

// OfferStatus is where an offer stands in its lifecycle.
type OfferStatus string

// The offer lifecycle: draft → open (published) → closed (by the donor, or automatically when
// its engagements or its budget are used up).
const (
	OfferDraft  OfferStatus = "draft"
	OfferOpen   OfferStatus = "open"
	OfferClosed OfferStatus = "closed"
)

// Offer is a programme a donor or partner runs: what it covers, where, in which languages,
// with how much money and how many engagements.
type Offer struct {
	ID          string `json:"id" bson:"_id"`
	Title       string `json:"title" bson:"title"`
	Description string `json:"description" bson:"description"`
	// Lang is the ISO 639-1 language the title and description are written in ("" when the
	// author did not say); Translations are the author's versions in other languages, keyed by
	// ISO 639-1 code (see In).
	Lang              string                 `json:"lang,omitempty" bson:"lang"`
	Translations      map[string]Translation `json:"translations,omitempty" bson:"translations"`
	Themes            []Theme                `json:"themes" bson:"themes"`
	Capabilities      []Capability           `json:"capabilities" bson:"capabilities"`
	Modalities        []Modality             `json:"modalities" bson:"modalities"`
	Languages         []string               `json:"languages" bson:"languages"`
	EligibleCountries []string               `json:"eligible_countries" bson:"eligible_countries"`
	EligibleRegions   []string               `json:"eligible_regions" bson:"eligible_regions"`
	BudgetUSD         int64                  `json:"budget_usd" bson:"budget_usd"`
	MaxEngagements    int                    `json:"max_engagements" bson:"max_engagements"`
	AvailableFrom     Date                   `json:"available_from" bson:"available_from"`
	AvailableUntil    Date                   `json:"available_until" bson:"available_until"`
	Status            OfferStatus            `json:"status" bson:"status"`
	StatusReason      string                 `json:"status_reason,omitempty" bson:"status_reason,omitempty"`
	// EngagementsUsed counts agreed engagements; it never exceeds MaxEngagements.
	EngagementsUsed int `json:"engagements_used" bson:"engagements_used"`
	// BudgetCommitted is the budget promised to agreed engagements.
	BudgetCommitted int64 `json:"budget_committed_usd" bson:"budget_committed_usd"`
	// ContactName and ContactEmail are the programme's published contact, optional: how a
	// ministry reaches the people behind an offer before (or besides) proposing an
	// engagement. They are for signed-in users; ForVisitors removes them from what anonymous
	// visitors get.
	ContactName    string    `json:"contact_name,omitempty" bson:"contact_name,omitempty"`
	ContactEmail   string    `json:"contact_email,omitempty" bson:"contact_email,omitempty"`
	OrganizationID string    `json:"organization_id" bson:"organization_id"`
	CreatedBy      string    `json:"created_by" bson:"created_by"`
	CreatedAt      time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt      time.Time `json:"updated_at" bson:"updated_at"`
	Version        int64     `json:"version" bson:"version"`
	// Reservations lists the engagements that took a slot, so that taking one is idempotent
	// (a retried accept never books twice). Only ReserveOfferSlot and ReleaseOfferSlot change it.
	Reservations []string `json:"-" bson:"reservations,omitempty"`
	// ImportBatch tags a row of a bulk import until the import commits; tagged objects are
	// invisible.
	ImportBatch string `json:"-" bson:"import_batch,omitempty"`
}

// RemainingBudget is the part of the offer's budget not yet promised to agreed engagements.
func (o *Offer) RemainingBudget() int64 {
	if r := o.BudgetUSD - o.BudgetCommitted; r > 0 {
		return r
	}
	return 0
}

// SlotsLeft is how many more engagements the offer can take.
func (o *Offer) SlotsLeft() int {
	if r := o.MaxEngagements - o.EngagementsUsed; r > 0 {
		return r
	}
	return 0
}

// HasCapacity reports whether the offer can take one more engagement: a slot and some budget
// left. An offer without capacity is not ranked and closes by itself.
func (o *Offer) HasCapacity() bool { return o.SlotsLeft() > 0 && o.RemainingBudget() > 0 }

// ForVisitors is the offer as an anonymous visitor may see it: without the programme's
// contact, which only signed-in users get (an address published to the open web draws spam
// and phishing that name the programme). The offer itself is not changed.
func (o *Offer) ForVisitors() *Offer {
	if o.ContactName == "" && o.ContactEmail == "" {
		return o
	}
	c := *o
	c.ContactName, c.ContactEmail = "", ""
	return &c
}
