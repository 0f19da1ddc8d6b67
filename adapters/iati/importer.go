package iati

import (
	"io"
	"sort"
	"strconv"

	"github.com/capmatch/capmatch/models"
)

// Importer is the application layer's reader of IATI activity files (models.AidDataReader):
// it reads a file with Reader, within Limits, and maps each activity onto an external activity
// (MapCapabilities, RegionM49, amounts in whole US dollars), noting what did not map.
type Importer struct {
	// Limits bound what reading one file holds in memory (zero fields: DefaultLimits').
	Limits Limits
}

// Open starts reading one IATI activity file from r.
func (im Importer) Open(r io.Reader) models.AidDataFile {
	return &importFile{rd: NewReader(r, im.Limits)}
}

// importFile is one file being read and mapped.
type importFile struct {
	rd *Reader
}

// Next reads and maps the next activity (io.EOF after the last one).
func (f *importFile) Next() (*models.AidDataActivity, error) {
	act, err := f.rd.Next()
	if err != nil {
		return nil, err
	}
	x, notes := externalOf(act)
	return &models.AidDataActivity{Index: act.Index, Activity: x, Notes: append(act.Notes, notes...), CyberTerms: CyberTerms(act)}, nil
}

// Version is the file's IATI version.
func (f *importFile) Version() string { return f.rd.Version }

// externalOf maps a read activity to an external activity, with the notes of what did not map
// (the batch, row, importer and version are the caller's to set).
func externalOf(act *Activity) (*models.ExternalActivity, []models.AidDataNote) {
	var notes []models.AidDataNote
	x := &models.ExternalActivity{Key: models.ExternalKey(act.Identifier), IATIIdentifier: act.Identifier, LastUpdated: act.LastUpdated,
		ReportingOrg: act.ReportingOrg, Titles: nonNil(act.Titles), Descriptions: nonNil(act.Descriptions),
		Status: act.Status, PlannedStart: act.PlannedStart, ActualStart: act.ActualStart, PlannedEnd: act.PlannedEnd, ActualEnd: act.ActualEnd,
		Participants: nonNil(act.Participants), Currency: act.DefaultCurrency, Capabilities: nonNil(MapCapabilities(act)),
		Countries: []models.ExternalCountry{}, Regions: []models.ExternalRegion{}, Sectors: []models.ExternalSector{},
		Budgets: nonNil(act.Budgets), Transactions: nonNil(act.Transactions)}
	x.Title = preferred(act.Titles)
	if x.Title == "" {
		x.Title = act.Identifier
	}
	x.Description = preferred(act.Descriptions)
	pct := func(s string, alone bool) float64 {
		if s == "" {
			if alone {
				return 100
			}
			return 0
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	alone := len(act.Countries)+len(act.Regions) == 1
	missing := false
	for _, c := range act.Countries {
		if _, ok := models.LookupCountry(c.Code); !ok {
			notes = append(notes, models.AidDataNote{Code: NoteUnknownCountry, Args: models.Args{"code": models.ArgText(c.Code)}})
			continue
		}
		missing = missing || (c.Percentage == "" && !alone)
		x.Countries = append(x.Countries, models.ExternalCountry{Code: c.Code, Percentage: pct(c.Percentage, alone)})
	}
	for _, r := range act.Regions {
		voc := r.Vocabulary
		if voc == "" {
			voc = "1"
		}
		m49, ok := RegionM49(voc, r.Code)
		if !ok {
			notes = append(notes, models.AidDataNote{Code: NoteRegionUnmapped,
				Args: models.Args{"vocabulary": models.ArgCode(voc), "code": models.ArgText(r.Code)}})
		}
		missing = missing || (r.Percentage == "" && !alone)
		x.Regions = append(x.Regions, models.ExternalRegion{Vocabulary: voc, Code: r.Code, M49: m49, Percentage: pct(r.Percentage, alone)})
	}
	if missing {
		notes = append(notes, models.AidDataNote{Code: NotePercentageMissing})
	}
	for _, s := range act.Sectors {
		voc := s.Vocabulary
		if voc == "" {
			voc = "1"
		}
		x.Sectors = append(x.Sectors, models.ExternalSector{Vocabulary: voc, Code: s.Code, Percentage: pct(s.Percentage, len(act.Sectors) == 1)})
	}
	// Money: amounts in US dollars are kept in whole dollars too and summed; amounts in other
	// currencies are kept as published and listed as unconverted (no exchange rates).
	unconverted := map[string]bool{}
	usd := func(m *models.ExternalMoney) {
		if m.Currency != "USD" {
			if m.Currency != "" {
				unconverted[m.Currency] = true
			}
			return
		}
		if v, ok := WholeUSD(m.Value); ok {
			m.USD = &v
		} else {
			notes = append(notes, models.AidDataNote{Code: NoteValueOutOfRange, Args: models.Args{"value": models.ArgText(m.Value)}})
		}
	}
	revised := false
	for i := range x.Budgets {
		usd(&x.Budgets[i])
		revised = revised || x.Budgets[i].Type == "2"
	}
	for i := range x.Transactions {
		usd(&x.Transactions[i])
	}
	for _, b := range x.Budgets {
		// Revised budgets replace the original ones when there are any.
		if b.USD != nil && ((revised && b.Type == "2") || (!revised && b.Type != "2")) {
			x.Totals.BudgetUSD += *b.USD
		}
	}
	for typ, byCur := range act.Sums {
		for cur, v := range byCur {
			if cur != "USD" {
				if cur != "" {
					unconverted[cur] = true
				}
				continue
			}
			w, ok := WholeUSD(strconv.FormatFloat(v, 'f', -1, 64))
			if !ok {
				continue
			}
			switch typ {
			case "2": // outgoing commitment
				x.Totals.CommittedUSD += w
			case "3": // disbursement
				x.Totals.DisbursedUSD += w
			}
		}
	}
	x.Totals.Transactions = act.TransactionCount
	x.Totals.Unconverted = []string{}
	for c := range unconverted {
		x.Totals.Unconverted = append(x.Totals.Unconverted, c)
	}
	sort.Strings(x.Totals.Unconverted)
	return x, notes
}

// preferred is the text of the narrative in English, else French, else Spanish, else the
// first one.
func preferred(ns []models.Narrative) string {
	for _, lang := range []string{"en", "fr", "es"} {
		for _, n := range ns {
			if n.Lang == lang {
				return n.Text
			}
		}
	}
	for _, n := range ns {
		if n.Lang == "" {
			return n.Text
		}
	}
	if len(ns) > 0 {
		return ns[0].Text
	}
	return ""
}

// nonNil is s, or an empty slice for nil (so that JSON shows [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
