package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// Importing what donors already publish to IATI (issue 18.1): an IATI activity file is read
// as a stream, one activity at a time, by the aid-data reader (models.AidDataReader, the IATI
// adapter), which maps it to an external activity; each activity that maps to a
// capability and a recipient country or region is stored as an external activity, keyed by
// its iati-identifier, through the import batch mechanism of the bulk imports (ImportStore):
// all of the file's activities or none, even across a crash.

// iatiImportTimeout bounds an IATI import from its first stored activity to its commit point.
// It stays under importStaleAfter, so that recovery never rolls back an import in flight.
const iatiImportTimeout = 8 * time.Minute

// IATIImportTimeout is how long the HTTP layer lets an IATI import read its body.
const IATIImportTimeout = iatiImportTimeout

// iatiInsertChunk is how many activities are stored per write while a file is read.
const iatiInsertChunk = 200

// maxSummaryItems bounds the per-activity lines of an import summary; counts cover the rest.
const maxSummaryItems = 200

// The codes of an IATI import summary: what happened to each activity, and why it was skipped.
const (
	OutcomeCreated = "created"
	OutcomeUpdated = "updated"
	OutcomeSkipped = "skipped"

	SkipNoCapability = "no_capability"                    // maps to no capability (args: cyber_terms (code list), when the text is about cyber security)
	SkipNoRecipient  = "no_recipient"                     // no recipient country, and no region with a UN M49 equivalent
	SkipDuplicate    = "duplicate_in_file"                // args: first_index (int), the activity it repeats
	SkipNotOwner     = "imported_by_another_organization" // args: reporting_org (text)
)

// IATIImportSummary says what an IATI import read, stored, mapped and skipped, and why, as
// codes and arguments (the web and clients word them).
type IATIImportSummary struct {
	// BatchID is the import batch ("" when nothing was stored).
	BatchID string `json:"batch_id"`
	// Version is the file's IATI version.
	Version  string `json:"iati_version"`
	Read     int    `json:"activities_read"`
	Imported int    `json:"imported"`
	Created  int    `json:"created"`
	Updated  int    `json:"updated"`
	Skipped  int    `json:"skipped"`
	// SkippedBy counts the skipped activities by reason code.
	SkippedBy map[string]int `json:"skipped_by_reason"`
	// Mapped counts the stored activities per capability, confidence, country and region.
	Mapped IATIMappedCounts `json:"mapped"`
	// Notes counts the notes (the reader's codes, models.AidDataNote) over every activity read.
	Notes map[string]int `json:"notes"`
	// Items has one line per activity read, in file order, up to 200; ItemsOmitted counts the
	// others.
	Items        []IATIImportItem `json:"items"`
	ItemsOmitted int              `json:"items_omitted"`
}

// IATIMappedCounts counts stored activities by what they were mapped to.
type IATIMappedCounts struct {
	Capabilities map[models.Capability]int `json:"capabilities"`
	Confidence   map[models.Confidence]int `json:"confidence"`
	Countries    map[string]int            `json:"countries"`
	Regions      map[string]int            `json:"regions"`
	// Unconverted counts the stored activities holding amounts per currency other than US
	// dollars, which are kept as published and not converted.
	Unconverted map[string]int `json:"unconverted_currencies"`
}

// IATIImportItem is what happened to one activity of the file.
type IATIImportItem struct {
	Index          int                      `json:"index"`
	IATIIdentifier string                   `json:"iati_identifier"`
	ID             string                   `json:"id,omitempty"`
	Outcome        string                   `json:"outcome"`
	Code           string                   `json:"code,omitempty"`
	Args           models.Args              `json:"args,omitempty"`
	Capabilities   []models.CapabilityMatch `json:"capabilities,omitempty"`
	Countries      []string                 `json:"countries,omitempty"`
	Regions        []string                 `json:"regions,omitempty"`
	Notes          []models.AidDataNote     `json:"notes,omitempty"`
}

func newSummary() *IATIImportSummary {
	return &IATIImportSummary{SkippedBy: map[string]int{}, Notes: map[string]int{}, Items: []IATIImportItem{},
		Mapped: IATIMappedCounts{Capabilities: map[models.Capability]int{}, Confidence: map[models.Confidence]int{},
			Countries: map[string]int{}, Regions: map[string]int{}, Unconverted: map[string]int{}}}
}

func (s *IATIImportSummary) item(it IATIImportItem) {
	if len(s.Items) < maxSummaryItems {
		s.Items = append(s.Items, it)
		return
	}
	s.ItemsOmitted++
}

// ImportIATI reads an IATI activity file (versions 2.01 to 2.03) from r and stores its
// activities that map to a capability and a place as external activities, for coordinators
// and donors. A re-imported identifier replaces the earlier version (coordinators replace
// any; a donor what its organization imported or reports). The file is read in bounded
// memory; a file that is not XML, holds a DTD, is not an IATI activity file of a supported
// version, has a malformed date or amount, or breaks a reading limit stops the import with a
// 4xx error (models.Error with the reader's code and arguments) and nothing of it is stored.
func (a *App) ImportIATI(ctx context.Context, actor *models.Actor, r io.Reader) (*IATIImportSummary, error) {
	if err := models.AuthorizeIATIImport(actor); err != nil {
		return nil, err
	}
	orgRef := ""
	if actor.OrgID != "" && models.ValidID(actor.OrgID) {
		if org, err := a.store.GetOrg(ctx, actor.OrgID); err == nil {
			orgRef = org.IATIRef
		}
	}
	if a.aidData == nil {
		return nil, models.Errorf(models.ErrUnavailable, "this deployment reads no IATI files")
	}
	rd := a.aidData.Open(r)
	sum := newSummary()
	imp := &iatiImport{app: a, actor: actor, orgRef: orgRef, sum: sum, seen: map[string]int{}, now: a.Needs.now().UTC()}
	defer func() {
		if imp.cancel != nil {
			imp.cancel()
		}
	}()
	for {
		act, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			imp.abort(ctx)
			return nil, readError(err)
		}
		sum.Version = rd.Version()
		sum.Read++
		if err := imp.add(ctx, act); err != nil {
			imp.abort(ctx)
			return nil, err
		}
	}
	sum.Version = rd.Version()
	if err := imp.commit(ctx); err != nil {
		return nil, err
	}
	return sum, nil
}

// readError turns a failure to read the file into a 4xx domain error with the reader's code
// and arguments; errors of the body itself (its size limit, the connection) pass as they are.
func readError(err error) error {
	var re *models.AidDataError
	if !errors.As(err, &re) {
		return err
	}
	field := "file"
	if re.Activity >= 0 {
		field = fmt.Sprintf("activities[%d]", re.Activity)
	}
	args := models.Args{}
	keys := make([]string, 0, len(re.Args))
	for k, v := range re.Args {
		args[k] = v
		keys = append(keys, k)
	}
	if re.Identifier != "" {
		args["iati_identifier"] = models.ArgText(re.Identifier)
	}
	msg := re.Code
	if len(keys) > 0 {
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + re.Args[k].Str()
		}
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	return &models.Error{Kind: re.Kind, Code: re.Code, Args: args,
		Detail: "the file cannot be imported (" + re.Code + "); nothing was imported",
		Fields: []models.FieldError{{Field: field, Code: models.ProblemIATIFile,
			Args: models.Args{"reason": models.ArgCode(re.Code), "detail": models.ArgText(msg)}}}}
}

// iatiImport is one import in progress: its batch, created at the first activity to store,
// and the activities waiting to be written.
type iatiImport struct {
	app     *App
	actor   *models.Actor
	orgRef  string
	sum     *IATIImportSummary
	batch   *models.ImportBatch
	ctx     context.Context
	cancel  context.CancelFunc
	pending []*models.ExternalActivity
	keys    []string
	seen    map[string]int
	now     time.Time
}

// add maps one activity and queues it for storing, or records why it is skipped.
func (imp *iatiImport) add(ctx context.Context, act *models.AidDataActivity) error {
	sum := imp.sum
	x := act.Activity
	it := IATIImportItem{Index: act.Index, IATIIdentifier: x.IATIIdentifier, Notes: act.Notes}
	for _, n := range act.Notes {
		sum.Notes[n.Code]++
	}
	skip := func(code string, args models.Args) {
		it.Outcome, it.Code, it.Args = OutcomeSkipped, code, args
		sum.Skipped++
		sum.SkippedBy[code]++
		sum.item(it)
	}
	it.ID = x.Key
	for _, c := range x.Countries {
		it.Countries = append(it.Countries, c.Code)
	}
	for _, r := range x.Regions {
		if r.M49 != "" {
			it.Regions = append(it.Regions, r.M49)
		}
	}
	it.Capabilities = x.Capabilities
	if len(x.Capabilities) == 0 {
		var args models.Args
		if len(act.CyberTerms) > 0 {
			args = models.Args{"cyber_terms": models.ArgCodes(act.CyberTerms...)}
		}
		it.ID = ""
		skip(SkipNoCapability, args)
		return nil
	}
	if len(it.Countries) == 0 && len(it.Regions) == 0 {
		it.ID = ""
		skip(SkipNoRecipient, nil)
		return nil
	}
	if first, dup := imp.seen[x.Key]; dup {
		skip(SkipDuplicate, models.Args{"first_index": models.ArgInt(first)})
		return nil
	}
	cur, exists := imp.app.model.ExternalActivity(x.Key)
	if exists && !models.CanReplaceExternalActivity(imp.actor, imp.orgRef, cur) {
		skip(SkipNotOwner, models.Args{"reporting_org": models.ArgText(cur.ReportingOrg.Ref)})
		return nil
	}
	imp.seen[x.Key] = act.Index
	if err := imp.start(ctx); err != nil {
		return err
	}
	x.ImportBatch, x.RowID, x.ImportedBy, x.ImportedAt = imp.batch.ID, x.Key+"-"+imp.batch.ID, imp.actor.OrgID, imp.now
	x.Version = sum.Version
	imp.pending = append(imp.pending, x)
	imp.keys = append(imp.keys, x.Key)
	it.Outcome = OutcomeCreated
	if exists {
		it.Outcome = OutcomeUpdated
		sum.Updated++
	} else {
		sum.Created++
	}
	sum.Imported++
	for _, m := range x.Capabilities {
		sum.Mapped.Capabilities[m.Capability]++
		sum.Mapped.Confidence[m.Confidence]++
	}
	for _, c := range it.Countries {
		sum.Mapped.Countries[c]++
	}
	for _, r := range it.Regions {
		sum.Mapped.Regions[r]++
	}
	for _, c := range x.Totals.Unconverted {
		sum.Mapped.Unconverted[c]++
	}
	sum.item(it)
	if len(imp.pending) >= iatiInsertChunk {
		return imp.flush()
	}
	return nil
}

// start records the batch ("inserting") before the first row is written.
func (imp *iatiImport) start(ctx context.Context) error {
	if imp.batch != nil {
		return nil
	}
	imp.ctx, imp.cancel = context.WithTimeout(context.WithoutCancel(ctx), iatiImportTimeout)
	imp.batch = &models.ImportBatch{ID: models.NewID(imp.now), Kind: models.ImportKindExternal, State: ImportInserting,
		RowIDs: []string{}, CreatedBy: imp.actor.UserID, CreatedAt: imp.now}
	if err := imp.app.store.CreateImport(imp.ctx, imp.batch); err != nil {
		imp.batch = nil
		return fmt.Errorf("record IATI import batch: %w", err)
	}
	return nil
}

func (imp *iatiImport) flush() error {
	if len(imp.pending) == 0 {
		return nil
	}
	if err := imp.ctx.Err(); err != nil {
		return models.Errorf(models.ErrUnavailable, "the import took longer than %s; nothing was imported", iatiImportTimeout)
	}
	if err := imp.app.store.InsertExternalActivities(imp.ctx, imp.pending); err != nil {
		return fmt.Errorf("store IATI activities: %w", err)
	}
	imp.pending = imp.pending[:0]
	return nil
}

// abort rolls back what was stored (RecoverImports finishes if this fails).
func (imp *iatiImport) abort(ctx context.Context) {
	if imp.batch == nil {
		return
	}
	if err := imp.app.rollBack(context.WithoutCancel(ctx), imp.batch); err != nil {
		imp.app.Needs.log.ErrorContext(ctx, "IATI import not rolled back; RecoverImports will", "err", err, "batch", imp.batch.ID)
	}
}

// commit writes the last rows and flips the batch to committed (the commit point); then the
// read model takes the activities, other replicas hear of the batch, superseded rows go, and
// the rankings whose duplication factor they change are refreshed.
func (imp *iatiImport) commit(ctx context.Context) error {
	if imp.batch == nil {
		return nil // nothing to store
	}
	a := imp.app
	err := imp.flush()
	if err == nil {
		err = a.store.SetImportState(imp.ctx, imp.batch.ID, ImportCommitted)
	}
	if err != nil {
		imp.abort(ctx)
		return fmt.Errorf("IATI import failed before its commit point: %w", err)
	}
	imp.sum.BatchID = imp.batch.ID
	log := a.Needs.log
	rows, err := a.store.ListExternalActivities(ctx, imp.batch.ID)
	if err != nil {
		log.WarnContext(ctx, "IATI import committed; this replica reloads it at its next reconcile", "err", err, "batch", imp.batch.ID)
	}
	for _, x := range rows {
		a.model.PutExternal(x)
	}
	// The rows are this replica's already (the log's application loads them again, at its
	// position); the rankings they alter are marked after the applied position meanwhile.
	a.Matching.ContextChanged(readmodel.Local)
	publish(ctx, a.Needs.bus, log, models.Event{Type: models.EventExternal, ID: imp.batch.ID, At: imp.now})
	if err := a.store.DeleteExternalRowsBefore(context.WithoutCancel(ctx), imp.keys, imp.batch.ID); err != nil {
		log.WarnContext(ctx, "superseded IATI rows not deleted; newer rows win anyway", "err", err, "batch", imp.batch.ID)
	}
	audit(ctx, a.store, log, imp.now, imp.actor, "import", "iati", imp.batch.ID, []string{strconv.Itoa(imp.sum.Imported)})
	return nil
}

// ExternalActivitiesIn lists the external activities the actor may see that name a country
// as a recipient ("country") or a region that contains it ("region"), best known first:
// "already funded here" on the country's profile.
func (a *App) ExternalActivitiesIn(ctx context.Context, actor *models.Actor, iso string) ([]ExternalInCountry, error) {
	c, ok := models.LookupCountry(models.NormalizeISO(iso))
	if !ok {
		return nil, models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	if actor == nil {
		return nil, models.Errorf(models.ErrUnauthorized, "sign in to see activities imported from IATI")
	}
	out := []ExternalInCountry{}
	for _, x := range viewAs(a.model, actor).externals(func(x *models.ExternalActivity) bool { return inCountryOrRegion(x, c.ISO) != "" }) {
		out = append(out, ExternalInCountry{ExternalActivity: x, Match: inCountryOrRegion(x, c.ISO), Active: x.Active(models.DateOf(a.Needs.now()))})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Match != out[j].Match {
			return out[i].Match == "country"
		}
		return out[i].Active && !out[j].Active
	})
	return out, nil
}

// ExternalInCountry is an external activity as a country's profile lists it: whether it names
// the country itself or a region containing it, and whether it is under way today.
type ExternalInCountry struct {
	*models.ExternalActivity
	Match  string `json:"match"`
	Active bool   `json:"active"`
}

func inCountryOrRegion(x *models.ExternalActivity, iso string) string {
	if x.InCountry(iso) {
		return "country"
	}
	for _, r := range x.Regions {
		if r.M49 != "" && models.CountryInRegion(iso, r.M49) {
			return "region"
		}
	}
	return ""
}

// externalsUnderWay counts, per country and capability, the external activities under way on
// today (everyone signed in sees them anyway) and the confidence of the surest mapping: the
// duplication factor's second input. Only activities that name the country count, not
// regional ones.
func (v view) externalsUnderWay(today models.Date) map[matching.Delivery]matching.External {
	out := map[matching.Delivery]matching.External{}
	for _, x := range v.externals(func(x *models.ExternalActivity) bool { return x.Active(today) }) {
		for _, c := range x.Countries {
			for _, m := range x.Capabilities {
				d := matching.Delivery{Country: c.Code, Capability: m.Capability}
				e := out[d]
				e.Count++
				e.Confidence = max(e.Confidence, m.Confidence.Weight())
				out[d] = e
			}
		}
	}
	return out
}

// loadExternalBatch applies a committed IATI import another replica made.
func (a *App) loadExternalBatch(ctx context.Context, batch string) {
	rows, err := a.store.ListExternalActivities(ctx, batch)
	if err != nil {
		a.Needs.log.WarnContext(ctx, "IATI import not loaded; the next reconcile will", "err", err, "batch", batch)
		return
	}
	for _, x := range rows {
		a.model.PutExternal(x)
	}
}
