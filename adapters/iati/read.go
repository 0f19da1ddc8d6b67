package iati

import (
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"encoding/xml"

	"github.com/capmatch/capmatch/models"
)

// This file reads IATI activity files (versions 2.01 to 2.03) as a stream: one
// encoding/xml token at a time, one activity at a time, within Limits, so that files of
// hundreds of megabytes are read in bounded memory and hostile ones (DTDs and entities, huge
// text nodes, deep nesting, not IATI at all) are refused with a *models.AidDataError.

// SupportedVersions are the IATI versions Reader accepts on the root element.
var SupportedVersions = []string{"2.01", "2.02", "2.03"}

// Limits bound what reading one file holds in memory at a time.
type Limits struct {
	// MaxTokenBytes bounds one token: a text node, a tag with its attributes, a comment. A
	// larger one stops the read (code token_too_large).
	MaxTokenBytes int
	// MaxDepth bounds element nesting (code too_deep).
	MaxDepth int
	// MaxTextRunes is how much of one narrative is kept (the rest is dropped, with a note).
	MaxTextRunes int
	// MaxNarratives is how many narratives of one element are kept (one per language).
	MaxNarratives int
	// MaxItems is how many of each repeated element (countries, regions, sectors,
	// participants, budgets) of one activity are kept.
	MaxItems int
	// MaxTransactions is how many transactions of one activity are kept; all are counted and
	// summed.
	MaxTransactions int
}

// DefaultLimits suit real publishers' files: IATI nests about eight levels deep, and one
// narrative of more than a megabyte is not a description.
var DefaultLimits = Limits{MaxTokenBytes: 1 << 20, MaxDepth: 32, MaxTextRunes: 4000, MaxNarratives: 12, MaxItems: 200,
	MaxTransactions: 500}

// The codes of refusals (models.AidDataError) and notes (models.AidDataNote), stable for clients and translations.
const (
	CodeEmpty              = "empty"               // no XML at all
	CodeNotXML             = "not_xml"             // not well-formed XML (args: line, reason)
	CodeUnsupportedCharset = "unsupported_charset" // declares an encoding other than UTF-8 (args: charset)
	CodeDTDRefused         = "dtd_refused"         // holds a DOCTYPE (a DTD, entity declarations)
	CodeNotIATI            = "not_iati"            // the root is not iati-activities (args: root)
	CodeUnsupportedVersion = "unsupported_version" // version not 2.01-2.03 (args: version)
	CodeTokenTooLarge      = "token_too_large"     // a text node, tag or comment over MaxTokenBytes (args: limit)
	CodeTooDeep            = "too_deep"            // nesting over MaxDepth (args: limit)
	CodeNoActivities       = "no_activities"       // a well-formed file without iati-activity
	CodeMissingIdentifier  = "missing_identifier"  // an activity without iati-identifier
	CodeBadDate            = "bad_date"            // not an xsd:date (args: element, value)
	CodeBadValue           = "bad_value"           // not a decimal (args: element, value)

	NoteTextTruncated     = "text_truncated"         // a narrative longer than MaxTextRunes (args: element)
	NoteItemsDropped      = "items_dropped"          // more than MaxItems of an element (args: element, kept, dropped)
	NoteTransactionsKept  = "transactions_truncated" // more than MaxTransactions (args: kept, total)
	NoteUnknownStatus     = "unknown_status"         // activity-status not 1-6 (args: code)
	NoteCurrencyMissing   = "currency_missing"       // a value with no currency and no default-currency (args: element)
	NoteValueOutOfRange   = "value_out_of_range"     // a value too large to hold in whole dollars (args: element, value)
	NoteUnknownCountry    = "unknown_country"        // not an ISO 3166-1 alpha-2 code (args: code)
	NotePercentageMissing = "percentage_missing"     // several recipients, some without a percentage
	NoteRegionUnmapped    = "region_unmapped"        // a recipient region with no UN M49 equivalent (args: vocabulary, code)
)

// A file that cannot be imported is a *models.AidDataError with one of the codes above and
// its arguments; what did not stop the import is a models.AidDataNote on the activity.

// Activity is one iati-activity as read, in IATI's terms: codes, and decimals as written.
type Activity struct {
	// Index is the activity's 0-based position in the file.
	Index           int
	Identifier      string
	DefaultCurrency string
	Lang            string
	LastUpdated     string
	ReportingOrg    models.ExternalOrg
	Titles          []models.Narrative
	Descriptions    []models.Narrative
	Participants    []models.ExternalOrg
	// Status is the activity-status code, 0 when absent or unknown.
	Status       models.ActivityStatus
	PlannedStart models.Date
	ActualStart  models.Date
	PlannedEnd   models.Date
	ActualEnd    models.Date
	Countries    []Share
	Regions      []Region
	Sectors      []Sector
	Budgets      []models.ExternalMoney
	Transactions []models.ExternalMoney
	// TransactionCount counts every transaction, kept or not; Sums adds them up by type
	// and currency (TransactionType code → currency → amount).
	TransactionCount int
	Sums             map[string]map[string]float64
	Notes            []models.AidDataNote
}

// Share is a recipient country and its percentage as written ("" when absent).
type Share struct {
	Code, Percentage string
}

// Region is a recipient region with its vocabulary (1 OECD DAC, 2 UN M49; "" means 1).
type Region struct {
	Code, Vocabulary, Percentage string
}

// Sector is a sector with its vocabulary ("" means 1, DAC 5-digit), percentage and, for the
// reporting organisation's own vocabularies, its vocabulary-uri.
type Sector struct {
	Code, Vocabulary, Percentage, VocabularyURI string
}

// errTokenTooLarge is the guard's refusal to feed the decoder more of one token.
var errTokenTooLarge = errors.New("iati: token too large")

// guard feeds the decoder and refuses to let a single token grow past max bytes: mark is
// called after every token with the decoder's offset, and reading more than max bytes past
// it fails. The decoder buffers what it reads (4 KiB at a time), so one token never holds
// more than max plus a buffer in memory.
type guard struct {
	r    io.Reader
	read int64
	mark int64
	max  int64
}

func (g *guard) Read(p []byte) (int, error) {
	if g.read-g.mark > g.max {
		return 0, errTokenTooLarge
	}
	if room := g.max - (g.read - g.mark) + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// bomSkipper drops a UTF-8 byte-order mark at the start of the file, which some publishers
// write and encoding/xml does not accept.
type bomSkipper struct {
	r     io.Reader
	start []byte
	done  bool
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		head := make([]byte, 3)
		n, err := io.ReadFull(b.r, head)
		head = head[:n]
		if n == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF {
			head = nil
		}
		b.start = head
		if len(b.start) == 0 && err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, err
		}
	}
	if len(b.start) > 0 {
		n := copy(p, b.start)
		b.start = b.start[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// Reader reads activities from an IATI activity file, one at a time.
type Reader struct {
	dec     *xml.Decoder
	g       *guard
	lim     Limits
	depth   int
	started bool
	done    bool
	next    int
	// Version is the file's IATI version, known after the first call to Next.
	Version string
}

// NewReader reads an IATI activity file from r within lim (zero fields: DefaultLimits').
func NewReader(r io.Reader, lim Limits) *Reader {
	d := DefaultLimits
	if lim.MaxTokenBytes > 0 {
		d.MaxTokenBytes = lim.MaxTokenBytes
	}
	if lim.MaxDepth > 0 {
		d.MaxDepth = lim.MaxDepth
	}
	if lim.MaxTextRunes > 0 {
		d.MaxTextRunes = lim.MaxTextRunes
	}
	if lim.MaxNarratives > 0 {
		d.MaxNarratives = lim.MaxNarratives
	}
	if lim.MaxItems > 0 {
		d.MaxItems = lim.MaxItems
	}
	if lim.MaxTransactions > 0 {
		d.MaxTransactions = lim.MaxTransactions
	}
	g := &guard{r: &bomSkipper{r: r}, max: int64(d.MaxTokenBytes)}
	dec := xml.NewDecoder(g)
	dec.Strict = true
	// No entities beyond XML's five, no charsets beyond UTF-8: CharsetReader stays nil.
	return &Reader{dec: dec, g: g, lim: d}
}

func (r *Reader) fileErr(kind error, code string, args models.Args) *models.AidDataError {
	return &models.AidDataError{Code: code, Args: args, Activity: -1, Kind: kind}
}

// token returns the next token, refusing directives (DTDs) and nesting beyond the limit,
// and turning decoder failures into refusals (*models.AidDataError). Other errors (the body's reader failing, its
// size limit) are returned as they are.
func (r *Reader) token() (xml.Token, error) {
	tok, err := r.dec.Token()
	r.g.mark = r.dec.InputOffset()
	if err != nil {
		var se *xml.SyntaxError
		switch {
		case errors.Is(err, errTokenTooLarge):
			return nil, r.fileErr(models.ErrTooLarge, CodeTokenTooLarge, models.Args{"limit": models.ArgInt(r.lim.MaxTokenBytes)})
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case errors.As(err, &se):
			if strings.Contains(se.Msg, "unexpected EOF") && !r.started {
				return nil, r.fileErr(models.ErrMalformed, CodeEmpty, nil)
			}
			return nil, r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"line": models.ArgInt(se.Line), "reason": models.ArgText(clip(se.Msg, 120))})
		case strings.Contains(err.Error(), "CharsetReader"):
			cs := ""
			if m := charsetRe.FindStringSubmatch(err.Error()); m != nil {
				cs = m[1]
			}
			return nil, r.fileErr(models.ErrInvalid, CodeUnsupportedCharset, models.Args{"charset": models.ArgText(clip(cs, 40))})
		}
		return nil, err
	}
	switch tok.(type) {
	case xml.Directive:
		return nil, r.fileErr(models.ErrMalformed, CodeDTDRefused, nil)
	case xml.StartElement:
		r.depth++
		if r.depth > r.lim.MaxDepth {
			return nil, r.fileErr(models.ErrInvalid, CodeTooDeep, models.Args{"limit": models.ArgInt(r.lim.MaxDepth)})
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
}

var charsetRe = regexp.MustCompile(`encoding "([^"]*)"`)

// start reads up to the root element and checks that it is an iati-activities file of a
// supported version.
func (r *Reader) start() error {
	r.started = true
	for {
		tok, err := r.token()
		if errors.Is(err, io.EOF) {
			return r.fileErr(models.ErrMalformed, CodeEmpty, nil)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "iati-activities" {
				return r.fileErr(models.ErrInvalid, CodeNotIATI, models.Args{"root": models.ArgText(clip(t.Name.Local, 60))})
			}
			r.Version = strings.TrimSpace(attr(t, "version"))
			for _, v := range SupportedVersions {
				if r.Version == v {
					return nil
				}
			}
			return r.fileErr(models.ErrInvalid, CodeUnsupportedVersion, models.Args{"version": models.ArgText(clip(r.Version, 20))})
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"reason": models.ArgText("text before the root element")})
			}
		}
	}
}

// Next returns the next activity, or io.EOF after the last one. A file with no activity at
// all is a refusal no_activities. After an error the Reader must not be used again.
func (r *Reader) Next() (*Activity, error) {
	if !r.started {
		if err := r.start(); err != nil {
			return nil, err
		}
	}
	for !r.done {
		tok, err := r.token()
		if errors.Is(err, io.EOF) {
			return nil, r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"reason": models.ArgText("the file ends inside iati-activities")})
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if r.depth == 2 && t.Name.Local == "iati-activity" {
				a, err := r.activity(t)
				r.next++
				return a, err
			}
			if err := r.skip(); err != nil {
				return nil, err
			}
		case xml.EndElement:
			if r.depth == 0 {
				r.done = true
			}
		}
	}
	// Only comments, processing instructions and space may follow the root.
	for {
		tok, err := r.token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.StartElement); ok {
			return nil, r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"reason": models.ArgText("a second root element")})
		}
	}
	if r.next == 0 {
		return nil, r.fileErr(models.ErrInvalid, CodeNoActivities, nil)
	}
	return nil, io.EOF
}

// skip reads past the element just started.
func (r *Reader) skip() error {
	end := r.depth - 1
	for r.depth > end {
		if _, err := r.token(); err != nil {
			if errors.Is(err, io.EOF) {
				return r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"reason": models.ArgText("the file ends inside an element")})
			}
			return err
		}
	}
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func langOf(t xml.StartElement) string {
	for _, a := range t.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == "http://www.w3.org/XML/1998/namespace" || a.Name.Space == "xml") {
			return strings.ToLower(strings.TrimSpace(a.Value))
		}
	}
	return ""
}

// activityReader holds the state of reading one activity.
type activityReader struct {
	r        *Reader
	a        *Activity
	path     []string
	text     strings.Builder
	keep     bool // collect the text of the current element
	lang     string
	narr     *[]models.Narrative
	money    *models.ExternalMoney
	txCode   string
	dropped  map[string]int
	descType string
}

func (x *activityReader) fail(code string, args models.Args) *models.AidDataError {
	kind := models.ErrInvalid
	return &models.AidDataError{Code: code, Args: args, Activity: x.a.Index, Identifier: x.a.Identifier, Kind: kind}
}

func (x *activityReader) note(code string, args models.Args) {
	if len(x.a.Notes) < 50 {
		x.a.Notes = append(x.a.Notes, models.AidDataNote{Code: code, Args: args})
	}
}

// date checks an xsd:date attribute (a time zone suffix is dropped); "" is allowed only when
// optional.
func (x *activityReader) date(element, v string, optional bool) (models.Date, error) {
	v = strings.TrimSpace(v)
	if v == "" && optional {
		return "", nil
	}
	d := v
	if len(d) > 10 {
		switch rest := d[10:]; {
		case rest == "Z", len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
			d = d[:10]
		}
	}
	if !models.Date(d).Valid() {
		return "", x.fail(CodeBadDate, models.Args{"element": models.ArgCode(element), "value": models.ArgText(clip(v, 40))})
	}
	return models.Date(d), nil
}

var decimalRe = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)

// decimal checks an xsd:decimal and returns it trimmed.
func (x *activityReader) decimal(element, v string, optional bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && optional {
		return "", nil
	}
	if len(v) > 40 || !decimalRe.MatchString(v) {
		return "", x.fail(CodeBadValue, models.Args{"element": models.ArgCode(element), "value": models.ArgText(clip(v, 40))})
	}
	return v, nil
}

func (x *activityReader) keepItem(element string, n int) bool {
	if n < x.r.lim.MaxItems {
		return true
	}
	x.dropped[element]++
	return false
}

// activity reads one iati-activity whose start tag was just read.
func (r *Reader) activity(start xml.StartElement) (*Activity, error) {
	a := &Activity{Index: r.next, DefaultCurrency: strings.ToUpper(strings.TrimSpace(attr(start, "default-currency"))),
		Lang: langOf(start), LastUpdated: clip(strings.TrimSpace(attr(start, "last-updated-datetime")), 40),
		Sums: map[string]map[string]float64{}}
	x := &activityReader{r: r, a: a, dropped: map[string]int{}}
	base := r.depth
	for {
		tok, err := r.token()
		if errors.Is(err, io.EOF) {
			return nil, r.fileErr(models.ErrMalformed, CodeNotXML, models.Args{"reason": models.ArgText("the file ends inside an activity")})
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			x.path = append(x.path, t.Name.Local)
			if err := x.startElement(t); err != nil {
				return nil, err
			}
		case xml.CharData:
			if x.keep && x.text.Len() < 4*x.r.lim.MaxTextRunes+4 {
				x.text.Write(t)
			}
		case xml.EndElement:
			if r.depth < base {
				return x.finish()
			}
			if err := x.endElement(); err != nil {
				return nil, err
			}
			x.path = x.path[:len(x.path)-1]
		}
	}
}

func (x *activityReader) startElement(t xml.StartElement) error {
	a := x.a
	x.keep = false
	switch p := strings.Join(x.path, "/"); p {
	case "iati-identifier":
		x.keep = true
	case "reporting-org":
		a.ReportingOrg = models.ExternalOrg{Ref: clip(strings.TrimSpace(attr(t, "ref")), 100), Type: clip(strings.TrimSpace(attr(t, "type")), 10),
			SecondaryReporter: strings.TrimSpace(attr(t, "secondary-reporter")) == "1" || strings.EqualFold(strings.TrimSpace(attr(t, "secondary-reporter")), "true")}
	case "title/narrative", "description/narrative", "reporting-org/narrative", "participating-org/narrative":
		x.keep, x.lang = true, langOf(t)
		if x.lang == "" {
			x.lang = a.Lang
		}
	case "description":
		x.descType = strings.TrimSpace(attr(t, "type"))
	case "participating-org":
		if x.keepItem(p, len(a.Participants)) {
			a.Participants = append(a.Participants, models.ExternalOrg{Ref: clip(strings.TrimSpace(attr(t, "ref")), 100),
				Type: clip(strings.TrimSpace(attr(t, "type")), 10), Role: clip(strings.TrimSpace(attr(t, "role")), 10)})
		}
	case "activity-status":
		code := strings.TrimSpace(attr(t, "code"))
		if n, err := strconv.Atoi(code); err == nil && n >= 1 && n <= 6 {
			a.Status = models.ActivityStatus(n)
		} else if code != "" {
			x.note(NoteUnknownStatus, models.Args{"code": models.ArgText(clip(code, 10))})
		}
	case "activity-date":
		d, err := x.date("activity-date[@type="+clip(attr(t, "type"), 5)+"]/@iso-date", attr(t, "iso-date"), false)
		if err != nil {
			return err
		}
		switch strings.TrimSpace(attr(t, "type")) {
		case "1":
			a.PlannedStart = d
		case "2":
			a.ActualStart = d
		case "3":
			a.PlannedEnd = d
		case "4":
			a.ActualEnd = d
		}
	case "recipient-country":
		pc, err := x.decimal("recipient-country/@percentage", attr(t, "percentage"), true)
		if err != nil {
			return err
		}
		if x.keepItem(p, len(a.Countries)) {
			a.Countries = append(a.Countries, Share{Code: strings.ToUpper(clip(strings.TrimSpace(attr(t, "code")), 10)), Percentage: pc})
		}
	case "recipient-region":
		pc, err := x.decimal("recipient-region/@percentage", attr(t, "percentage"), true)
		if err != nil {
			return err
		}
		if x.keepItem(p, len(a.Regions)) {
			a.Regions = append(a.Regions, Region{Code: clip(strings.TrimSpace(attr(t, "code")), 10),
				Vocabulary: clip(strings.TrimSpace(attr(t, "vocabulary")), 10), Percentage: pc})
		}
	case "sector":
		pc, err := x.decimal("sector/@percentage", attr(t, "percentage"), true)
		if err != nil {
			return err
		}
		if x.keepItem(p, len(a.Sectors)) {
			a.Sectors = append(a.Sectors, Sector{Code: clip(strings.TrimSpace(attr(t, "code")), 40),
				Vocabulary: clip(strings.TrimSpace(attr(t, "vocabulary")), 10), Percentage: pc,
				VocabularyURI: clip(strings.TrimSpace(attr(t, "vocabulary-uri")), 300)})
		}
	case "budget":
		x.money = &models.ExternalMoney{Type: clip(strings.TrimSpace(attr(t, "type")), 5), Status: clip(strings.TrimSpace(attr(t, "status")), 5)}
		if x.money.Type == "" {
			x.money.Type = "1"
		}
	case "budget/period-start", "budget/period-end":
		d, err := x.date(p+"/@iso-date", attr(t, "iso-date"), false)
		if err != nil {
			return err
		}
		if x.money != nil {
			if p == "budget/period-start" {
				x.money.PeriodStart = d
			} else {
				x.money.PeriodEnd = d
			}
		}
	case "transaction":
		x.money, x.txCode = &models.ExternalMoney{}, ""
	case "transaction/transaction-type":
		x.txCode = clip(strings.TrimSpace(attr(t, "code")), 5)
	case "transaction/transaction-date":
		d, err := x.date(p+"/@iso-date", attr(t, "iso-date"), false)
		if err != nil {
			return err
		}
		if x.money != nil {
			x.money.Date = d
		}
	case "budget/value", "transaction/value":
		vd, err := x.date(p+"/@value-date", attr(t, "value-date"), true)
		if err != nil {
			return err
		}
		if x.money != nil {
			x.money.Currency = strings.ToUpper(clip(strings.TrimSpace(attr(t, "currency")), 5))
			x.money.ValueDate = vd
		}
		x.keep = true
	}
	if x.keep {
		x.text.Reset()
	}
	return nil
}

func (x *activityReader) endElement() error {
	a := x.a
	p := strings.Join(x.path, "/")
	text := func() string {
		s := strings.TrimSpace(x.text.String())
		x.text.Reset()
		x.keep = false
		return s
	}
	switch p {
	case "iati-identifier":
		a.Identifier = clip(text(), 200)
	case "title/narrative":
		x.addNarrative(&a.Titles, p, text())
	case "description/narrative":
		t := text()
		if x.descType == "" || x.descType == "1" {
			x.addNarrative(&a.Descriptions, p, t)
		}
	case "reporting-org/narrative":
		if t := text(); a.ReportingOrg.Name == "" {
			a.ReportingOrg.Name = x.cut(p, t, 300)
		}
	case "participating-org/narrative":
		if t := text(); len(a.Participants) > 0 && a.Participants[len(a.Participants)-1].Name == "" {
			a.Participants[len(a.Participants)-1].Name = x.cut(p, t, 300)
		}
	case "description":
		x.descType = ""
	case "budget/value", "transaction/value":
		v, err := x.decimal(p, text(), false)
		if err != nil {
			return err
		}
		if x.money != nil {
			x.money.Value = v
			if x.money.Currency == "" {
				x.money.Currency = a.DefaultCurrency
			}
			if x.money.Currency == "" {
				x.note(NoteCurrencyMissing, models.Args{"element": models.ArgCode(p)})
			}
		}
	case "budget":
		if x.money != nil && x.money.Value != "" && x.keepItem(p, len(a.Budgets)) {
			a.Budgets = append(a.Budgets, *x.money)
		}
		x.money = nil
	case "transaction":
		if m := x.money; m != nil && m.Value != "" {
			m.Type = x.txCode
			a.TransactionCount++
			if f, err := strconv.ParseFloat(m.Value, 64); err == nil {
				if a.Sums[m.Type] == nil {
					a.Sums[m.Type] = map[string]float64{}
				}
				a.Sums[m.Type][m.Currency] += f
			}
			if len(a.Transactions) < x.r.lim.MaxTransactions {
				a.Transactions = append(a.Transactions, *m)
			}
		}
		x.money = nil
	}
	x.keep = false
	return nil
}

// cut keeps at most n runes of s, noting the loss.
func (x *activityReader) cut(element, s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	x.note(NoteTextTruncated, models.Args{"element": models.ArgCode(element)})
	return string([]rune(s)[:n])
}

// addNarrative keeps a narrative per language, within the limits.
func (x *activityReader) addNarrative(dst *[]models.Narrative, element, text string) {
	if text == "" {
		return
	}
	text = x.cut(element, text, x.r.lim.MaxTextRunes)
	for i, n := range *dst {
		if n.Lang == x.lang {
			if len(n.Text) < 2*x.r.lim.MaxTextRunes { // several narratives in one language: join them
				(*dst)[i].Text = x.cut(element, n.Text+"\n"+text, x.r.lim.MaxTextRunes)
			}
			return
		}
	}
	if len(*dst) >= x.r.lim.MaxNarratives {
		x.dropped[element]++
		return
	}
	*dst = append(*dst, models.Narrative{Lang: x.lang, Text: text})
}

// finish checks the activity as a whole after its end tag.
func (x *activityReader) finish() (*Activity, error) {
	a := x.a
	if a.Identifier == "" {
		return nil, x.fail(CodeMissingIdentifier, nil)
	}
	for element, n := range x.dropped {
		x.note(NoteItemsDropped, models.Args{"element": models.ArgCode(element), "dropped": models.ArgInt(n)})
	}
	if a.TransactionCount > len(a.Transactions) {
		x.note(NoteTransactionsKept, models.Args{"kept": models.ArgInt(len(a.Transactions)), "total": models.ArgInt(a.TransactionCount)})
	}
	return a, nil
}

// WholeUSD converts a decimal amount in US dollars to whole dollars (rounded half away from
// zero); ok is false when it is not a number or too large for an int64 of dollars.
func WholeUSD(v string) (int64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) >= 9e15 {
		return 0, false
	}
	return int64(math.Round(f)), true
}

// clip shortens s to n runes, for arguments and stored codes that come from a file.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
