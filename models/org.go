package models

import "time"

// OrgType is the kind of organisation an account belongs to; it decides which roles its
// users may have.
type OrgType string

// The organisation types.
const (
	OrgGovernment  OrgType = "government"  // a country's ministry; has a country
	OrgDonor       OrgType = "donor"       // donor government, agency, foundation, company or GFCE partner
	OrgImplementer OrgType = "implementer" // delivers projects
	OrgCoordinator OrgType = "coordinator" // curates the marketplace
)

// OrgTypes lists every organisation type.
var OrgTypes = []OrgType{OrgGovernment, OrgDonor, OrgImplementer, OrgCoordinator}

// Valid reports whether t is a known organisation type.
func (t OrgType) Valid() bool {
	for _, v := range OrgTypes {
		if v == t {
			return true
		}
	}
	return false
}

// Organization is a ministry, donor, implementer or coordinating body.
type Organization struct {
	ID      string  `json:"id" bson:"_id"`
	Name    string  `json:"name" bson:"name"`
	Type    OrgType `json:"type" bson:"type"`
	Country string  `json:"country,omitempty" bson:"country,omitempty"`
	// IATIRef is the organisation's IATI identifier (e.g. GB-GOV-1), used in exports.
	IATIRef string `json:"iati_ref,omitempty" bson:"iati_ref,omitempty"`
	// IATIType is the IATI organisation type code (10 government, 40 multilateral, ...).
	IATIType string `json:"iati_type,omitempty" bson:"iati_type,omitempty"`
	// PublishesIATI says the organisation publishes its own activities to IATI, so that
	// capmatch's export marks itself as a secondary reporter of the projects it funds and
	// aggregators do not count that money twice.
	PublishesIATI bool      `json:"publishes_to_iati,omitempty" bson:"publishes_iati,omitempty"`
	CreatedAt     time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt     time.Time `json:"updated_at" bson:"updated_at"`
	Version       int64     `json:"version" bson:"version"`

	// Webhook is where the organization's notifications are also POSTed, if anywhere. It is
	// never part of the organization's JSON: anyone signed in reads organizations, and the URL
	// may carry a token; only GET .../webhook shows it to those who may manage it.
	Webhook *Webhook `json:"-" bson:"webhook,omitempty"`
}

// Webhook is an organization's outbound notification endpoint. Deliveries are signed with
// Secret (HMAC-SHA256), which never leaves the server in any response.
type Webhook struct {
	URL       string    `json:"url" bson:"url"`
	Secret    string    `json:"-" bson:"secret"`
	UpdatedAt time.Time `json:"updated_at" bson:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty" bson:"updated_by,omitempty"`
}
