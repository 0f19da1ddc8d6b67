package demo

import "github.com/capmatch/capmatch/models"

// Organisation IDs that accounts, needs and offers refer to, named so that a reader of a
// stored document sees at once whose it is.
const (
	// OrgCoordinationDesk is the coordinating body that curates the demo marketplace.
	OrgCoordinationDesk = "org-coordination-desk"

	orgSN = "org-sn-mfa"
	orgCI = "org-ci-digital"
	orgGH = "org-gh-comms"
	orgNG = "org-ng-onsa"
	orgKE = "org-ke-ict"
	orgRW = "org-rw-ict"
	orgGM = "org-gm-comms"
	orgSL = "org-sl-comms"
	orgTN = "org-tn-tech"
	orgMA = "org-ma-digital"
	orgBJ = "org-bj-digital"
	orgZM = "org-zm-tech"
	orgFJ = "org-fj-mfa"
	orgPG = "org-pg-dict"
	orgVU = "org-vu-ogcio"
	orgTO = "org-to-meidecc"
	orgWS = "org-ws-mcit"
	orgKH = "org-kh-mpt"
	orgLA = "org-la-mtc"
	orgLK = "org-lk-mfa"
	orgDO = "org-do-mfa"
	orgJM = "org-jm-mset"
	orgCR = "org-cr-micitt"
	orgPY = "org-py-mitic"
	orgEC = "org-ec-mintel"
	orgGT = "org-gt-interior"
	orgHN = "org-hn-conatel"
	orgMD = "org-md-mfa"
	orgGE = "org-ge-dga"
	orgAM = "org-am-hti"
	orgUA = "org-ua-sssci"
	orgAL = "org-al-aksk"

	orgNL       = "org-nl-mfa"
	orgEU       = "org-eu-cybernet"
	orgWB       = "org-wb-cyber-fund"
	orgOAS      = "org-oas-cicte"
	orgAUC      = "org-auc-cyber"
	orgOSCE     = "org-osce-tntd"
	orgAUS      = "org-aus-dfat"
	orgEF       = "org-fr-expertise"
	orgCoE      = "org-coe-cproc"
	orgEE       = "org-ee-estdev"
	orgCloud    = "org-cloud-skills"
	orgFound    = "org-digital-safety-fdn"
	orgGFCE     = "org-gfce-lawnet"
	orgMentors  = "org-impl-csirt-mentors"
	orgPeerCERT = "org-impl-peer-cert"
)

// orgSpec is one row of the organisation table.
type orgSpec struct {
	id, name string
	typ      models.OrgType
	country  string
	iatiRef  string
	iatiType string // IATI OrganisationType: 10 government, 21 international NGO, 40 multilateral, 60 foundation, 70 private sector
}

// orgTable lists every demo organisation: one government body per country (the ministry or
// agency that would post that country's requests), the donors, two implementers and the
// coordination desk.
var orgTable = []orgSpec{
	// Africa
	{orgSN, "Ministry of Foreign Affairs of Senegal", models.OrgGovernment, "SN", "", "10"},
	{orgCI, "Ministry of Digital Transition and Digitalisation of Côte d'Ivoire", models.OrgGovernment, "CI", "", "10"},
	{orgGH, "Ministry of Communication, Digital Technology and Innovations of Ghana", models.OrgGovernment, "GH", "", "10"},
	{orgNG, "Office of the National Security Adviser of Nigeria", models.OrgGovernment, "NG", "", "10"},
	{orgKE, "Ministry of Information, Communications and the Digital Economy of Kenya", models.OrgGovernment, "KE", "", "10"},
	{orgRW, "Ministry of ICT and Innovation of Rwanda", models.OrgGovernment, "RW", "", "10"},
	{orgGM, "Ministry of Communications and Digital Economy of The Gambia", models.OrgGovernment, "GM", "", "10"},
	{orgSL, "Ministry of Communication, Technology and Innovation of Sierra Leone", models.OrgGovernment, "SL", "", "10"},
	{orgTN, "Ministry of Communication Technologies of Tunisia", models.OrgGovernment, "TN", "", "10"},
	{orgMA, "Ministry of Digital Transition and Administrative Reform of Morocco", models.OrgGovernment, "MA", "", "10"},
	{orgBJ, "Ministry of Digital Affairs and Digitalisation of Benin", models.OrgGovernment, "BJ", "", "10"},
	{orgZM, "Ministry of Technology and Science of Zambia", models.OrgGovernment, "ZM", "", "10"},
	// Asia-Pacific
	{orgFJ, "Ministry of Foreign Affairs of Fiji", models.OrgGovernment, "FJ", "", "10"},
	{orgPG, "Department of Information and Communications Technology of Papua New Guinea", models.OrgGovernment, "PG", "", "10"},
	{orgVU, "Office of the Government Chief Information Officer of Vanuatu", models.OrgGovernment, "VU", "", "10"},
	{orgTO, "Ministry of Meteorology, Energy, Information, Disaster Management, Environment, Climate Change and Communications of Tonga", models.OrgGovernment, "TO", "", "10"},
	{orgWS, "Ministry of Communications and Information Technology of Samoa", models.OrgGovernment, "WS", "", "10"},
	{orgKH, "Ministry of Post and Telecommunications of Cambodia", models.OrgGovernment, "KH", "", "10"},
	{orgLA, "Ministry of Technology and Communications of the Lao PDR", models.OrgGovernment, "LA", "", "10"},
	{orgLK, "Ministry of Foreign Affairs of Sri Lanka", models.OrgGovernment, "LK", "", "10"},
	// Latin America and the Caribbean
	{orgDO, "Ministry of Foreign Affairs of the Dominican Republic", models.OrgGovernment, "DO", "", "10"},
	{orgJM, "Ministry of Science, Energy, Telecommunications and Transport of Jamaica", models.OrgGovernment, "JM", "", "10"},
	{orgCR, "Ministry of Science, Innovation, Technology and Telecommunications of Costa Rica (MICITT)", models.OrgGovernment, "CR", "", "10"},
	{orgPY, "Ministry of Information and Communication Technologies of Paraguay (MITIC)", models.OrgGovernment, "PY", "", "10"},
	{orgEC, "Ministry of Telecommunications and Information Society of Ecuador (MINTEL)", models.OrgGovernment, "EC", "", "10"},
	{orgGT, "Ministry of the Interior of Guatemala", models.OrgGovernment, "GT", "", "10"},
	{orgHN, "National Telecommunications Commission of Honduras (CONATEL)", models.OrgGovernment, "HN", "", "10"},
	// Eastern Europe and the South Caucasus
	{orgMD, "Ministry of Foreign Affairs of the Republic of Moldova", models.OrgGovernment, "MD", "", "10"},
	{orgGE, "Digital Governance Agency, Ministry of Justice of Georgia", models.OrgGovernment, "GE", "", "10"},
	{orgAM, "Ministry of High-Tech Industry of Armenia", models.OrgGovernment, "AM", "", "10"},
	{orgUA, "State Service of Special Communications and Information Protection of Ukraine", models.OrgGovernment, "UA", "", "10"},
	{orgAL, "National Cyber Security Authority of Albania", models.OrgGovernment, "AL", "", "10"},

	// Donors
	{orgNL, "Netherlands Ministry of Foreign Affairs", models.OrgDonor, "NL", "XM-DAC-7", "10"},
	{orgEU, "EU CyberNet", models.OrgDonor, "", "XI-IATI-EC_INTPA", "40"},
	{orgWB, "Cybersecurity Multi-Donor Trust Fund (World Bank)", models.OrgDonor, "", "44000", "40"},
	{orgOAS, "OAS CICTE Cyber Security Program", models.OrgDonor, "", "", "40"},
	{orgAUC, "African Union Commission, Cyber Security Programme", models.OrgDonor, "", "", "40"},
	{orgOSCE, "OSCE Transnational Threats Department, Cyber/ICT Security Unit", models.OrgDonor, "", "", "40"},
	{orgAUS, "Australian Department of Foreign Affairs and Trade, Cyber and Critical Tech Cooperation", models.OrgDonor, "AU", "AU-5", "10"},
	{orgEF, "Expertise France", models.OrgDonor, "FR", "", "10"},
	{orgCoE, "Council of Europe Cybercrime Programme Office (C-PROC)", models.OrgDonor, "", "", "40"},
	{orgEE, "Estonian Centre for International Development (ESTDEV)", models.OrgDonor, "EE", "", "10"},
	{orgCloud, "A cloud provider's cyber skills initiative (illustrative)", models.OrgDonor, "", "", "70"},
	{orgFound, "Open Digital Safety Foundation (illustrative)", models.OrgDonor, "", "", "60"},
	{orgGFCE, "GFCE Clearing House partner: Cyber Law and Diplomacy Network (illustrative)", models.OrgDonor, "", "", "21"},

	// Implementers
	{orgMentors, "FIRST-affiliated CSIRT mentoring network (illustrative)", models.OrgImplementer, "", "", "21"},
	{orgPeerCERT, "Partner national CERT, international cooperation team (illustrative)", models.OrgImplementer, "", "", "10"},

	// Coordination
	{OrgCoordinationDesk, "capmatch coordination desk (GFCE-style Clearing House)", models.OrgCoordinator, "", "", ""},
}

// iatiPublishers are the demo donors that publish their own activities to IATI under the
// refs above (the Netherlands MFA, the European Commission, the World Bank, Australia's
// DFAT), so that capmatch's export reports their projects as a secondary reporter.
var iatiPublishers = map[string]bool{orgNL: true, orgEU: true, orgWB: true, orgAUS: true}

// orgs builds the organisations, all created on the same day some months ago: the demo
// marketplace was set up before anyone posted in it.
func (c clock) orgs() []models.Organization {
	created := c.ago(150, 9, 0)
	out := make([]models.Organization, 0, len(orgTable))
	for _, s := range orgTable {
		out = append(out, models.Organization{
			ID: s.id, Name: s.name, Type: s.typ, Country: s.country,
			IATIRef: s.iatiRef, IATIType: s.iatiType, PublishesIATI: iatiPublishers[s.id],
			CreatedAt: created, UpdatedAt: created, Version: 1,
		})
	}
	return out
}

// accountTable lists the demo logins: an admin and a coordinator for the desk, six
// ministries (one per region at least, and the countries with the richest demo needs),
// four donors and one implementer. The passwords are deliberately readable: they are
// printed at start-up and must never be used outside a demo.
var accountTable = []Account{
	{"admin@capmatch.example", "demo-admin-desk!", "Demo administrator, coordination desk", models.RoleAdmin, OrgCoordinationDesk},
	{"coordinator@capmatch.example", "demo-coordinator-desk!", "Demo coordinator, coordination desk", models.RoleCoordinator, OrgCoordinationDesk},

	{"ministry.sn@capmatch.example", "demo-ministry-sn!", "Cyber diplomacy desk officer, Senegal (demo)", models.RoleMinistry, orgSN},
	{"ministry.gm@capmatch.example", "demo-ministry-gm!", "ICT policy officer, The Gambia (demo)", models.RoleMinistry, orgGM},
	{"ministry.ke@capmatch.example", "demo-ministry-ke!", "Cybersecurity officer, Kenya (demo)", models.RoleMinistry, orgKE},
	{"ministry.fj@capmatch.example", "demo-ministry-fj!", "International law adviser, Fiji (demo)", models.RoleMinistry, orgFJ},
	{"ministry.do@capmatch.example", "demo-ministry-do!", "Cyber diplomacy officer, Dominican Republic (demo)", models.RoleMinistry, orgDO},
	{"ministry.md@capmatch.example", "demo-ministry-md!", "Cyber diplomacy officer, Moldova (demo)", models.RoleMinistry, orgMD},

	{"donor.nl@capmatch.example", "demo-donor-nl-mfa!", "Cyber capacity-building programme manager, Netherlands (demo)", models.RoleDonor, orgNL},
	{"donor.eu@capmatch.example", "demo-donor-eu-cybernet!", "Expert facility coordinator, EU CyberNet (demo)", models.RoleDonor, orgEU},
	{"donor.oas@capmatch.example", "demo-donor-oas-cicte!", "Programme officer, OAS CICTE (demo)", models.RoleDonor, orgOAS},
	{"donor.cloud@capmatch.example", "demo-donor-cloud-skills!", "Skills programme lead, cloud provider initiative (demo)", models.RoleDonor, orgCloud},
	{"implementer.csirt@capmatch.example", "demo-implementer-csirt!", "Mentoring coordinator, CSIRT mentoring network (demo)", models.RoleDonor, orgMentors},
}

// accounts returns a copy of the account table.
func accounts() []Account {
	out := make([]Account, len(accountTable))
	copy(out, accountTable)
	return out
}

// readinessTable is each demo country's self-reported readiness. It agrees with the
// country's needs: a country asking to set up a CERT has none (and so maturity 0), one
// asking to mature its CERT reports the SIM3 level its need starts from, one asking for
// help with its legal position has not published it, one asking for a strategy has none.
var readinessTable = map[string]models.Readiness{
	"SN": {PoCNominated: true, NationalCERT: true, CERTMaturity: 1, NationalStrategy: true},
	"CI": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"GH": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"NG": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"KE": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, LegalPositionPublished: true, NationalStrategy: true},
	"RW": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"GM": {NationalStrategy: true},
	"SL": {},
	"TN": {PoCNominated: true, NationalCERT: true, CERTMaturity: 3},
	"MA": {PoCNominated: true, NationalCERT: true, CERTMaturity: 3, NationalStrategy: true},
	"BJ": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"ZM": {NationalCERT: true, CERTMaturity: 1, NationalStrategy: true},

	"FJ": {PoCNominated: true},
	"PG": {},
	"VU": {NationalStrategy: true},
	"TO": {NationalCERT: true, CERTMaturity: 1},
	"WS": {NationalStrategy: true},
	"KH": {PoCNominated: true, NationalCERT: true, CERTMaturity: 1},
	"LA": {NationalCERT: true, CERTMaturity: 1},
	"LK": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},

	"DO": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"JM": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"CR": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, LegalPositionPublished: true, NationalStrategy: true},
	"PY": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"EC": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"GT": {PoCNominated: true, NationalStrategy: true},
	"HN": {},

	"MD": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
	"GE": {PoCNominated: true, NationalCERT: true, CERTMaturity: 3, NationalStrategy: true},
	"AM": {PoCNominated: true},
	"UA": {PoCNominated: true, NationalCERT: true, CERTMaturity: 3, NationalStrategy: true},
	"AL": {PoCNominated: true, NationalCERT: true, CERTMaturity: 2, NationalStrategy: true},
}

// readiness builds a profile for every government organisation's country, in the order of
// the organisation table, last updated a few months ago when the ministries first filled
// them in.
func (c clock) readiness() []models.CountryProfile {
	var out []models.CountryProfile
	for i, s := range orgTable {
		if s.typ != models.OrgGovernment {
			continue
		}
		out = append(out, models.CountryProfile{
			ISO:       s.country,
			Readiness: readinessTable[s.country],
			UpdatedAt: c.ago(120-i, 10, 0),
			Version:   1,
		})
	}
	return out
}
