package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// MaxImportRows bounds one bulk import: large enough for a country's whole needs assessment
// or a donor's portfolio, small enough that one request validates and inserts in seconds.
const MaxImportRows = 1000

// The states of an import batch (models.ImportBatch.State) and its kinds.
const (
	ImportInserting = "inserting"
	ImportCommitted = "committed"
	ImportAborted   = "aborted"

	importKindNeeds  = "needs"
	importKindOffers = "offers"
)

// importInsertTimeout bounds the phase before the commit point (record the batch, insert the
// rows, commit), so that a batch still "inserting" after importStaleAfter can only belong to a
// process that died; recovery rolls back only such batches and never an import in flight on
// another replica.
const importInsertTimeout = 2 * time.Minute

// importStaleAfter is how old a batch still "inserting" must be before RecoverImports rolls it
// back. It is far above importInsertTimeout to leave room for clock skew between replicas.
const importStaleAfter = 10 * time.Minute

// NeedImportRow is one row of a needs import: the fields of POST /needs, with organization_id
// (the government organization the need is for) required on every row.
type NeedImportRow struct {
	NeedInput
	// Problems are what went wrong reading the row before validation (a CSV cell that is not a
	// number); they are reported with the row's validation problems, under its index.
	Problems models.Problems `json:"-"`
}

// OfferImportRow is one row of an offers import: the fields of POST /offers plus the donor or
// implementer organization that runs the offer, which a coordinator must name.
type OfferImportRow struct {
	OfferInput
	OrganizationID string `json:"organization_id"`
	// Problems are what went wrong reading the row before validation (see NeedImportRow).
	Problems models.Problems `json:"-"`
}

// ImportResult is the answer to a bulk import that stored its rows: the batch, for the audit
// trail, and the new ids in row order, so that a client can map its rows to objects.
type ImportResult struct {
	BatchID  string   `json:"batch_id"`
	Imported int      `json:"imported"`
	Status   string   `json:"status"`
	IDs      []string `json:"ids"`
}

// rowTime is the creation time of row i of n imported at now: distinct and increasing in row
// order, one store tick (a millisecond) apart, the last row at now.
func rowTime(now time.Time, i, n int) time.Time {
	return now.Add(time.Duration(i-n+1) * models.TimePrecision)
}

// CheckImportSize reports an import with no rows or more than MaxImportRows rows as a
// validation problem of field "rows". The HTTP layer calls it too, to stop reading a body as
// soon as it holds too many rows.
func CheckImportSize(n int) error {
	switch {
	case n == 0:
		e := models.Invalid("rows", models.ProblemImportEmpty, nil)
		e.Detail = "the import holds no rows; send at least one"
		return e
	case n > MaxImportRows:
		e := models.Invalid("rows", models.ProblemImportLarge, models.Args{"max": models.ArgInt(MaxImportRows)})
		e.Detail = fmt.Sprintf("an import holds at most %d rows; split the file", MaxImportRows)
		return e
	}
	return nil
}

// ImportNeeds stores needs in bulk for a coordinator: every row is validated like POST /needs
// (plus its organization), all problems are reported at once with the row's index
// ("rows[3].budget_usd"), and either every row is stored or none is (see importBatch).
func (a *App) ImportNeeds(ctx context.Context, actor *models.Actor, rows []NeedImportRow, status models.NeedStatus) (*ImportResult, error) {
	if err := authorizeImport(actor); err != nil {
		return nil, err
	}
	switch status {
	case "":
		status = models.NeedDraft
	case models.NeedDraft, models.NeedSubmitted, models.NeedOpen:
	default:
		return nil, fieldErr("status", models.ProblemOneOf, models.OneOf([]models.NeedStatus{models.NeedDraft, models.NeedSubmitted, models.NeedOpen}))
	}
	if err := CheckImportSize(len(rows)); err != nil {
		return nil, err
	}
	now := a.Needs.now().UTC()
	orgs := a.importOrgs(importKindNeeds)
	needs := make([]*models.Need, len(rows))
	var probs models.Problems
	for i := range rows {
		n, rowProbs, err := a.importNeed(ctx, orgs, &rows[i], actor, status, rowTime(now, i, len(rows)))
		if err != nil {
			return nil, err
		}
		needs[i] = n
		probs = append(probs, prefixRow(i, rowProbs)...)
	}
	if err := rowsErr(probs); err != nil {
		return nil, err
	}
	ids := make([]string, len(needs))
	for i, n := range needs {
		ids[i] = n.ID
	}
	batch := newBatch(importKindNeeds, ids, actor, now)
	for _, n := range needs {
		n.ImportBatch = batch.ID
	}
	err := a.importBatch(ctx, batch, func(ctx context.Context) error { return a.store.InsertNeeds(ctx, needs) })
	if err != nil {
		return nil, err
	}
	commit(ctx, a.Needs.bus, a.Needs.log, models.Event{Type: models.EventImport, ID: batch.ID, At: now, Data: mustJSON(importedRows{Needs: needs})},
		func() {
			for _, n := range needs {
				a.model.PutNeed(n)
			}
		})
	audit(ctx, a.store, a.Needs.log, now, actor, "import", "import", batch.ID, ids)
	return &ImportResult{BatchID: batch.ID, Imported: len(ids), Status: string(status), IDs: ids}, nil
}

// importNeed builds and checks one row the way Needs.Create does for a coordinator. It returns
// the row's problems with unprefixed field names; err is only for a failing store.
func (a *App) importNeed(ctx context.Context, orgs *importOrgs, row *NeedImportRow, actor *models.Actor,
	status models.NeedStatus, at time.Time) (*models.Need, models.Problems, error) {
	probs := append(models.Problems(nil), row.Problems...)
	skip := problemFields(row.Problems)
	country := models.NormalizeISO(row.Country)
	org, problem, err := orgs.get(ctx, row.OrganizationID)
	switch {
	case err != nil:
		return nil, nil, err
	case problem != "":
		probs.Add("organization_id", problem, nil)
		if country == "" {
			skip["country"] = true // the organization would have given it
		}
	default:
		if country == "" {
			country = org.Country
		}
		if country != org.Country {
			probs.Add("country", models.ProblemOrgCountry, orgCountry(org))
			skip["country"] = true
		}
	}
	n := &models.Need{
		ID: models.NewID(at), Title: row.Title, Description: row.Description, Country: country,
		Theme: row.Theme, Capability: row.Capability, Modalities: row.Modalities, Languages: row.Languages,
		BudgetUSD: row.BudgetUSD, StartBy: row.StartBy, DurationMonths: row.DurationMonths, Priority: row.Priority,
		Visibility: row.Visibility, Status: status, OrganizationID: row.OrganizationID, CreatedBy: actor.UserID,
		CreatedAt: at, UpdatedAt: at, Version: 1,
	}
	if row.Maturity != nil {
		n.Maturity = *row.Maturity
	} else {
		n.Maturity = models.Maturity{Framework: models.FrameworkNone}
	}
	n.Normalize()
	probs = append(probs, validationProblems(n.Validate(), skip)...)
	return n, probs, nil
}

// ImportOffers stores offers in bulk for a coordinator, on behalf of the donor or implementer
// organization each row names; like ImportNeeds, all rows or none.
func (a *App) ImportOffers(ctx context.Context, actor *models.Actor, rows []OfferImportRow, status models.OfferStatus) (*ImportResult, error) {
	if err := authorizeImport(actor); err != nil {
		return nil, err
	}
	switch status {
	case "":
		status = models.OfferDraft
	case models.OfferDraft, models.OfferOpen:
	default:
		return nil, fieldErr("status", models.ProblemOneOf, models.OneOf([]models.OfferStatus{models.OfferDraft, models.OfferOpen}))
	}
	if err := CheckImportSize(len(rows)); err != nil {
		return nil, err
	}
	now := a.Offers.now().UTC()
	orgs := a.importOrgs(importKindOffers)
	offers := make([]*models.Offer, len(rows))
	var probs models.Problems
	for i := range rows {
		o, rowProbs, err := a.importOffer(ctx, orgs, &rows[i], actor, status, rowTime(now, i, len(rows)))
		if err != nil {
			return nil, err
		}
		offers[i] = o
		probs = append(probs, prefixRow(i, rowProbs)...)
	}
	if err := rowsErr(probs); err != nil {
		return nil, err
	}
	ids := make([]string, len(offers))
	for i, o := range offers {
		ids[i] = o.ID
	}
	batch := newBatch(importKindOffers, ids, actor, now)
	for _, o := range offers {
		o.ImportBatch = batch.ID
	}
	err := a.importBatch(ctx, batch, func(ctx context.Context) error { return a.store.InsertOffers(ctx, offers) })
	if err != nil {
		return nil, err
	}
	commit(ctx, a.Offers.bus, a.Offers.log, models.Event{Type: models.EventImport, ID: batch.ID, At: now, Data: mustJSON(importedRows{Offers: offers})},
		func() {
			for _, o := range offers {
				a.model.PutOffer(o)
			}
		})
	audit(ctx, a.store, a.Offers.log, now, actor, "import", "import", batch.ID, ids)
	return &ImportResult{BatchID: batch.ID, Imported: len(ids), Status: string(status), IDs: ids}, nil
}

// importOffer builds and checks one row the way Offers.Create does, for the row's organization.
func (a *App) importOffer(ctx context.Context, orgs *importOrgs, row *OfferImportRow, actor *models.Actor,
	status models.OfferStatus, at time.Time) (*models.Offer, models.Problems, error) {
	probs := append(models.Problems(nil), row.Problems...)
	if _, problem, err := orgs.get(ctx, row.OrganizationID); err != nil {
		return nil, nil, err
	} else if problem != "" {
		probs.Add("organization_id", problem, nil)
	}
	o := &models.Offer{
		ID: models.NewID(at), Title: row.Title, Description: row.Description, Themes: row.Themes, Capabilities: row.Capabilities,
		Modalities: row.Modalities, Languages: row.Languages, EligibleCountries: row.EligibleCountries, EligibleRegions: row.EligibleRegions,
		BudgetUSD: row.BudgetUSD, MaxEngagements: row.MaxEngagements, AvailableFrom: row.AvailableFrom, AvailableUntil: row.AvailableUntil,
		ContactName: row.ContactName, ContactEmail: row.ContactEmail,
		Status: status, OrganizationID: row.OrganizationID, CreatedBy: actor.UserID, CreatedAt: at, UpdatedAt: at, Version: 1,
	}
	fillEmpty(o)
	o.Normalize()
	probs = append(probs, validationProblems(o.Validate(), problemFields(row.Problems))...)
	return o, probs, nil
}

// authorizeImport lets coordinators and admins import; a missing actor is unauthenticated.
func authorizeImport(actor *models.Actor) error {
	if actor == nil {
		return models.Errorf(models.ErrUnauthorized, "sign in to import")
	}
	return models.AuthorizeCurator(actor)
}

func newBatch(kind string, ids []string, actor *models.Actor, now time.Time) *models.ImportBatch {
	return &models.ImportBatch{ID: models.NewID(now), Kind: kind, State: ImportInserting, RowIDs: ids,
		CreatedBy: actor.UserID, CreatedAt: now}
}

// importedRows is the payload of the one event that tells other replicas about an import.
type importedRows struct {
	Needs  []*models.Need  `json:"needs,omitempty"`
	Offers []*models.Offer `json:"offers,omitempty"`
}

// importBatch stores a validated batch all or nothing without multi-document transactions: it
// records the batch ("inserting"), inserts the rows tagged with it, and flips the batch to
// "committed" in one single-document write, the commit point. A failure before that point
// deletes the rows and marks the batch aborted (what cannot be undone now, RecoverImports
// undoes later) and is returned. Rows stay tagged: a tagged row is visible exactly when its
// batch is committed (the read model's reload checks), so nothing has to touch the rows again
// (clearing 1,000 tags took about 12 s on FerretDB).
func (a *App) importBatch(ctx context.Context, b *models.ImportBatch, insert func(context.Context) error) error {
	log := a.Needs.log
	ictx, cancel := context.WithTimeout(ctx, importInsertTimeout)
	defer cancel()
	if err := a.store.CreateImport(ictx, b); err != nil {
		return fmt.Errorf("record import batch: %w", err)
	}
	err := insert(ictx)
	if err == nil {
		err = a.store.SetImportState(ictx, b.ID, ImportCommitted)
	}
	if err != nil {
		if rerr := a.rollBack(context.WithoutCancel(ctx), b); rerr != nil {
			log.ErrorContext(ctx, "import not rolled back; RecoverImports will", "err", rerr, "batch", b.ID)
		}
		return fmt.Errorf("import of %s failed before its commit point: %w", b.Kind, err)
	}
	return nil
}

// rollBack deletes the rows of a batch that did not commit and then marks it aborted. The
// batch stays "inserting" when the rows could not be deleted, so that recovery tries again.
func (a *App) rollBack(ctx context.Context, b *models.ImportBatch) error {
	if err := a.store.DeleteImported(ctx, b); err != nil {
		return fmt.Errorf("delete rows of import %s: %w", b.ID, err)
	}
	if err := a.store.SetImportState(ctx, b.ID, ImportAborted); err != nil {
		return fmt.Errorf("mark import %s aborted: %w", b.ID, err)
	}
	return nil
}

// RecoverImports finishes what a crash interrupted: batches still "inserting" are rolled back
// (their rows deleted, the batch aborted). Committed batches need nothing: their rows are
// visible from the read model's next reload.
// Only batches "inserting" for longer than importStaleAfter are rolled back, so that calling it
// while another replica imports (a rolling restart) never undoes an import in flight; a younger
// one is left, invisible, for a later call. It is idempotent and safe to call periodically.
func (a *App) RecoverImports(ctx context.Context) error {
	var errs []error
	inserting, err := a.store.ListImports(ctx, ImportInserting)
	if err != nil {
		return fmt.Errorf("list unfinished imports: %w", err)
	}
	staleBefore := a.Needs.now().Add(-importStaleAfter)
	for _, b := range inserting {
		if !b.CreatedAt.Before(staleBefore) {
			continue
		}
		if err := a.rollBack(ctx, b); err != nil {
			errs = append(errs, err)
			continue
		}
		a.Needs.log.InfoContext(ctx, "rolled back an interrupted import", "batch", b.ID, "kind", b.Kind, "rows", len(b.RowIDs))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover imports: %w", err)
	}
	return nil
}

// importOrgs looks up and checks the organizations rows name, each once per import.
type importOrgs struct {
	app  *App
	kind string
	seen map[string]importOrg
}

type importOrg struct {
	org     *models.Organization
	problem string // a problem code (models.Problem*)
}

func (a *App) importOrgs(kind string) *importOrgs {
	return &importOrgs{app: a, kind: kind, seen: map[string]importOrg{}}
}

// get returns the organization with id, or the code of a problem with it (unknown, or of the
// wrong type for the import's kind); err is only for a failing store.
func (o *importOrgs) get(ctx context.Context, id string) (*models.Organization, string, error) {
	if r, ok := o.seen[id]; ok {
		return r.org, r.problem, nil
	}
	r := importOrg{}
	switch {
	case id == "" && o.kind == importKindNeeds:
		r.problem = models.ProblemOrgRequired
	case id == "":
		r.problem = models.ProblemOfferOrgRequired
	case !models.ValidID(id):
		r.problem = models.ProblemUnknownOrg
	default:
		org, err := o.app.store.GetOrg(ctx, id)
		switch {
		case errors.Is(err, models.ErrNotFound):
			r.problem = models.ProblemUnknownOrg
		case err != nil:
			return nil, "", fmt.Errorf("look up organization of an imported row: %w", err)
		case o.kind == importKindNeeds && org.Type != models.OrgGovernment:
			r.problem = models.ProblemOrgNotGovernment
		case o.kind == importKindOffers && org.Type != models.OrgDonor && org.Type != models.OrgImplementer:
			r.problem = models.ProblemOrgNotImplementer
		default:
			r.org = org
		}
	}
	o.seen[id] = r
	return r.org, r.problem, nil
}

// validationProblems extracts the field problems of a Validate error, leaving out fields
// already reported for the row (a cell that did not parse is not also "required").
func validationProblems(err error, skip map[string]bool) models.Problems {
	var de *models.Error
	if !errors.As(err, &de) {
		return nil
	}
	var out models.Problems
	for _, f := range de.Fields {
		if skip[f.Field] || skip[strings.SplitN(strings.SplitN(f.Field, "[", 2)[0], ".", 2)[0]] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// problemFields is the set of fields a row's reading problems name.
func problemFields(p models.Problems) map[string]bool {
	m := make(map[string]bool, len(p))
	for _, f := range p {
		m[f.Field] = true
	}
	return m
}

// prefixRow names a row's problems by the row's 0-based index: "rows[3].budget_usd".
func prefixRow(i int, p models.Problems) models.Problems {
	out := make(models.Problems, len(p))
	for j, f := range p {
		f.Field = fmt.Sprintf("rows[%d].%s", i, f.Field)
		out[j] = f
	}
	return out
}

// rowsErr is the 422 of an import with problems, counting the rows that have them.
func rowsErr(p models.Problems) error {
	if len(p) == 0 {
		return nil
	}
	rows := map[string]bool{}
	for _, f := range p {
		rows[strings.SplitN(f.Field, ".", 2)[0]] = true
	}
	return &models.Error{Kind: models.ErrInvalid, Fields: p,
		Detail: fmt.Sprintf("%d row(s) failed validation; nothing was imported", len(rows))}
}
