package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/capmatch/capmatch/models"
)

// pocCheckStore is the part of the store this use case needs: communication checks, the directories and outbox, accounts and organizations.
type pocCheckStore interface {
	models.PoCStore
	models.OutboxStore
	models.UserStore
	models.OrgStore
	models.AuditStore
}

// PoCChecks is the use cases of communication checks ("ping tests"): a coordinator runs one
// for some states or a region; every nominated contact gets an e-mail and an in-app notice with
// a one-click acknowledgement link; the time each state takes to acknowledge is recorded; the
// outcomes feed the country's derived readiness, and a state that misses two checks in a row
// gets a proposed (draft) PoC-readiness need for its ministry to review.
//
// Acknowledgement links are capabilities, not sessions: /ack/<token>, where the token names the
// check, the contact and an expiry and is signed with an HMAC under a server key (LinkKey). It
// works without signing in, once (the check records the acknowledgement; a second use changes
// nothing), and only until the check is over (TTL, or closed by a coordinator). Opening the link
// shows a confirmation page; only the POST its button sends acknowledges, so that mail scanners
// that fetch links do not acknowledge for the person.
type PoCChecks struct {
	store     pocCheckStore
	pocs      *PoCs
	countries *Countries
	needs     *Needs
	notices   *Notifications
	mail      *Mailer
	// LinkKey signs acknowledgement links; every replica must use the same key.
	linkKey []byte
	// PublicURL is the site's absolute base URL, for the links in e-mails.
	publicURL string
	// TTL is how long a check takes acknowledgements (models.PoCCheckTTL by default).
	ttl time.Duration
	now Clock
	log *slog.Logger
}

// PoCCheckInput is the body of POST /poc-checks: either countries or a UN M49 region (001 is
// the world).
type PoCCheckInput struct {
	Countries []string `json:"countries"`
	Region    string   `json:"region"`
}

// PoCCheckSummary counts a check's outcomes.
type PoCCheckSummary struct {
	Countries        int `json:"countries"`
	Acknowledged     int `json:"acknowledged"`
	Pending          int `json:"pending"`
	Missed           int `json:"missed"`
	NoPoC            int `json:"no_poc"`
	PoCs             int `json:"pocs"`
	PoCsAcknowledged int `json:"pocs_acknowledged"`
	MailsSent        int `json:"mails_sent"`
	MailsFailed      int `json:"mails_failed"`
}

// PoCCheckContactView is one contact's result.
type PoCCheckContactView struct {
	PoCID string         `json:"poc_id"`
	Kind  models.PoCKind `json:"kind"`
	Name  string         `json:"name"`
	// Sent: the e-mail went out (to the SMTP server or the outbox); Mail says more (queued,
	// sent, failed).
	Sent           bool       `json:"sent"`
	Mail           string     `json:"mail"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	Notified       bool       `json:"notified"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	// ResponseSeconds is the time from the check's start to the acknowledgement.
	ResponseSeconds *int64 `json:"response_seconds"`
}

// PoCCheckCountryView is one state's result.
type PoCCheckCountryView struct {
	ISO             string                `json:"iso"`
	Name            string                `json:"name"`
	Outcome         string                `json:"outcome"`
	AcknowledgedAt  *time.Time            `json:"acknowledged_at"`
	ResponseSeconds *int64                `json:"response_seconds"`
	ProposedNeedID  string                `json:"proposed_need_id,omitempty"`
	PoCs            []PoCCheckContactView `json:"pocs"`
}

// PoCCheckView is a check as GET /poc-checks/{id} returns it; lists leave Results out.
type PoCCheckView struct {
	ID        string                `json:"id"`
	Status    string                `json:"status"` // open or closed
	Region    string                `json:"region,omitempty"`
	Scope     []string              `json:"scope,omitempty"`
	CreatedAt time.Time             `json:"created_at"`
	CreatedBy string                `json:"created_by"`
	ExpiresAt time.Time             `json:"expires_at"`
	ClosedAt  *time.Time            `json:"closed_at,omitempty"`
	Summary   PoCCheckSummary       `json:"summary"`
	Results   []PoCCheckCountryView `json:"countries,omitempty"`
}

func seconds(from time.Time, at *time.Time) *int64 {
	if at == nil {
		return nil
	}
	s := int64(at.Sub(from).Round(time.Second) / time.Second)
	return &s
}

func (s *PoCChecks) view(c *models.PoCCheck, full bool) *PoCCheckView {
	now := s.now()
	v := &PoCCheckView{ID: c.ID, Status: "open", Region: c.Region, Scope: c.Countries, CreatedAt: c.CreatedAt,
		CreatedBy: c.CreatedBy, ExpiresAt: c.ExpiresAt, ClosedAt: c.ClosedAt}
	if c.Over(now) {
		v.Status = "closed"
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		out := t.Outcome(c, now)
		v.Summary.Countries++
		switch out {
		case models.PoCAcknowledged:
			v.Summary.Acknowledged++
		case models.PoCPending:
			v.Summary.Pending++
		case models.PoCMissed:
			v.Summary.Missed++
		case models.PoCNoContact:
			v.Summary.NoPoC++
		}
		cv := PoCCheckCountryView{ISO: t.ISO, Outcome: out, AcknowledgedAt: t.FirstAck(), ProposedNeedID: t.ProposedNeed,
			PoCs: []PoCCheckContactView{}}
		if info, ok := models.LookupCountry(t.ISO); ok {
			cv.Name = info.Name
		}
		cv.ResponseSeconds = seconds(c.CreatedAt, cv.AcknowledgedAt)
		for _, k := range t.Contacts {
			v.Summary.PoCs++
			if k.AcknowledgedAt != nil {
				v.Summary.PoCsAcknowledged++
			}
			switch k.Mail {
			case models.MailSent:
				v.Summary.MailsSent++
			case models.MailFailed:
				v.Summary.MailsFailed++
			}
			cv.PoCs = append(cv.PoCs, PoCCheckContactView{PoCID: k.PoCID, Kind: k.Kind, Name: k.Name, Sent: k.Mail == models.MailSent,
				Mail: k.Mail, SentAt: k.SentAt, Notified: k.Feed != "", AcknowledgedAt: k.AcknowledgedAt,
				ResponseSeconds: seconds(c.CreatedAt, k.AcknowledgedAt)})
		}
		if full {
			v.Results = append(v.Results, cv)
		}
	}
	if full && v.Results == nil {
		v.Results = []PoCCheckCountryView{}
	}
	return v
}

// scope resolves and checks what a check covers, reporting every problem at once.
func scope(in PoCCheckInput) ([]string, error) {
	var p models.Problems
	region := strings.TrimSpace(in.Region)
	switch {
	case len(in.Countries) > 0 && region != "":
		p.Add("region", models.ProblemCountriesOrRegion, nil)
	case len(in.Countries) == 0 && region == "":
		p.Add("countries", models.ProblemCountriesOrRegion, nil)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	var out []string
	if region != "" {
		if _, ok := models.LookupRegion(region); !ok {
			p.Add("region", models.ProblemUnknownRegion, models.Args{"value": models.ArgSent(region)})
			return nil, p.Err()
		}
		for _, c := range models.Countries() {
			if models.CountryInRegion(c.ISO, region) {
				out = append(out, c.ISO)
			}
		}
		return out, nil
	}
	if len(in.Countries) > len(models.Countries()) {
		p.Add("countries", models.ProblemListTooLong, models.Args{"max": models.ArgInt(len(models.Countries())), "got": models.ArgInt(len(in.Countries))})
		return nil, p.Err()
	}
	seen := map[string]bool{}
	for i, raw := range in.Countries {
		iso := models.NormalizeISO(raw)
		switch {
		case !models.ValidISO(iso):
			p.Add(fmt.Sprintf("countries[%d]", i), models.ProblemUnknownCountry, models.Args{"value": models.ArgSent(raw)})
		case seen[iso]:
			p.Add(fmt.Sprintf("countries[%d]", i), models.ProblemRepeated, models.Args{"first": models.ArgCode("countries"), "value": models.ArgSent(iso)})
		default:
			seen[iso] = true
			out = append(out, iso)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// noticeFeed is where a contact's in-app notice goes: the organization of its linked account,
// else the ministry that nominated it, else the one that keeps the state's directory.
func (s *PoCChecks) noticeFeed(ctx context.Context, d *models.PoCDirectory, p *models.PoC) string {
	if p.UserID != "" {
		if u, err := s.store.GetUser(ctx, p.UserID); err == nil && !u.Disabled {
			return u.OrganizationID
		}
	}
	if p.NominatedBy != "" {
		return p.NominatedBy
	}
	return d.KeptBy
}

// Run starts a communication check (coordinators): it records the check, tells each state's
// directory, and queues an e-mail and posts an in-app notice for every contact. Sending happens
// off the request path and never fails it.
func (s *PoCChecks) Run(ctx context.Context, a *models.Actor, in PoCCheckInput) (*PoCCheckView, error) {
	if err := models.AuthorizePoCChecks(a); err != nil {
		return nil, err
	}
	isos, err := scope(in)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	ttl := s.ttl
	if ttl <= 0 {
		ttl = models.PoCCheckTTL
	}
	c := &models.PoCCheck{ID: models.NewID(now), CreatedAt: now, CreatedBy: a.UserID, ExpiresAt: now.Add(ttl), Version: 1,
		Targets: make([]models.PoCCheckTarget, 0, len(isos))}
	if in.Region != "" {
		c.Region = strings.TrimSpace(in.Region)
	} else {
		c.Countries = isos
	}
	dirs := map[string]*models.PoCDirectory{}
	contacts := 0
	for _, iso := range isos {
		d, err := s.store.GetPoCDirectory(ctx, iso)
		if err != nil {
			return nil, err
		}
		dirs[iso] = d
		t := models.PoCCheckTarget{ISO: iso, Contacts: []models.PoCCheckContact{}}
		for i := range d.Items {
			p := &d.Items[i]
			t.Contacts = append(t.Contacts, models.PoCCheckContact{PoCID: p.ID, Kind: p.Kind, Name: p.Name, Mail: models.MailQueued,
				Feed: s.noticeFeed(ctx, d, p)})
			contacts++
		}
		c.Targets = append(c.Targets, t)
	}
	if contacts == 0 {
		return nil, fieldErr(map[bool]string{true: "region", false: "countries"}[c.Region != ""], models.ProblemNoContacts, nil)
	}
	if err := s.store.CreatePoCCheck(ctx, c); err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, now, a, "run", "poc_check", c.ID, isos)

	// Tell each state's directory (its readiness shows the check), then reach the contacts.
	for i := range c.Targets {
		t := &c.Targets[i]
		if len(t.Contacts) == 0 {
			continue
		}
		if err := s.recordInDirectory(ctx, t.ISO, c); err != nil {
			s.log.WarnContext(ctx, "check not recorded in the directory", "err", err, "country", t.ISO, "check", c.ID)
		}
	}
	byFeed := map[string][]models.Notification{}
	for i := range c.Targets {
		t := &c.Targets[i]
		for _, k := range t.Contacts {
			p, ok := dirs[t.ISO].PoC(k.PoCID)
			if !ok {
				continue
			}
			s.mail.Enqueue(s.message(c, t.ISO, p))
			if k.Feed != "" && s.notices != nil {
				byFeed[k.Feed] = append(byFeed[k.Feed], s.notices.item(k.Feed, KindPoCCheck,
					models.Args{"check_id": models.ArgText(c.ID), "country": models.ArgOf(models.KindCountry, t.ISO), "poc_id": models.ArgText(p.ID),
						"kind": models.ArgCode(string(p.Kind)), "expires_at": models.ArgDate(models.DateOf(c.ExpiresAt))}, "poc_check", c.ID))
			}
		}
	}
	if s.notices != nil {
		s.notices.postEach(ctx, byFeed)
	}
	return s.view(c, true), nil
}

// recordInDirectory adds the check to the state's record and derives its readiness again.
func (s *PoCChecks) recordInDirectory(ctx context.Context, iso string, c *models.PoCCheck) error {
	d, err := s.pocs.modify(ctx, iso, func(d *models.PoCDirectory) (bool, error) {
		if _, ok := d.Record(c.ID); ok {
			return false, nil
		}
		d.Checks = append(d.Checks, models.PoCCheckRecord{CheckID: c.ID, SentAt: c.CreatedAt, ExpiresAt: c.ExpiresAt})
		sort.SliceStable(d.Checks, func(i, j int) bool { return d.Checks[i].SentAt.Before(d.Checks[j].SentAt) })
		if n := len(d.Checks); n > models.PoCCheckHistory {
			d.Checks = d.Checks[n-models.PoCCheckHistory:]
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	s.pocs.derive(ctx, d)
	return nil
}

// modifyCheck is the check's read-modify-write loop; edit reports whether it changed anything.
func (s *PoCChecks) modifyCheck(ctx context.Context, id string, edit func(c *models.PoCCheck) (bool, error)) (*models.PoCCheck, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetPoCCheck(ctx, id)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.Targets = slices.Clone(cur.Targets)
		for i := range next.Targets {
			next.Targets[i].Contacts = slices.Clone(next.Targets[i].Contacts)
		}
		ok, err := edit(&next)
		if err != nil {
			return nil, err
		}
		if !ok {
			return cur, nil
		}
		next.Version = cur.Version + 1
		err = s.store.ReplacePoCCheck(ctx, &next, cur.Version)
		if err == nil {
			return &next, nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 20 {
			return nil, fmt.Errorf("store check %s: %w", id, err)
		}
	}
}

// mailResult records what became of a check's e-mail to a contact (a MailResult event).
func (s *PoCChecks) mailResult(ctx context.Context, m *models.MailMessage, status string, at time.Time) {
	parts := strings.Split(m.Ref, ":")
	if len(parts) != 3 || parts[0] != "poc_check" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.modifyCheck(ctx, parts[1], func(c *models.PoCCheck) (bool, error) {
		_, k, ok := c.Contact(parts[2])
		if !ok || k.Mail == models.MailSent {
			return false, nil
		}
		k.Mail = status
		if status == models.MailSent {
			k.SentAt = &at
		}
		return true, nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "mail outcome not recorded", "err", err, "check", parts[1], "message", m.ID)
	}
}

// Get returns a check with its results per state and contact (coordinators).
func (s *PoCChecks) Get(ctx context.Context, a *models.Actor, id string) (*PoCCheckView, error) {
	if err := models.AuthorizePoCChecks(a); err != nil {
		return nil, err
	}
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "check not found")
	}
	c, err := s.store.GetPoCCheck(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(c, true), nil
}

// List returns every check, newest first, with its summary (coordinators).
func (s *PoCChecks) List(ctx context.Context, a *models.Actor) ([]*PoCCheckView, error) {
	if err := models.AuthorizePoCChecks(a); err != nil {
		return nil, err
	}
	all, err := s.store.ListPoCChecks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*PoCCheckView, 0, len(all))
	for _, c := range all {
		out = append(out, s.view(c, false))
	}
	return out, nil
}

// Close ends a check now (coordinators): its links stop working, states that did not
// acknowledge missed it, and its consequences follow (see settle). Closing a closed check
// changes nothing.
func (s *PoCChecks) Close(ctx context.Context, a *models.Actor, id string) (*PoCCheckView, error) {
	if err := models.AuthorizePoCChecks(a); err != nil {
		return nil, err
	}
	if !models.ValidID(id) {
		return nil, models.Errorf(models.ErrNotFound, "check not found")
	}
	c, err := s.closeCheck(ctx, id, a.UserID)
	if err != nil {
		return nil, err
	}
	if c.ClosedBy == a.UserID {
		audit(ctx, s.store, s.log, s.now(), a, "close", "poc_check", id, nil)
	}
	return s.view(c, true), nil
}

// closeCheck marks a check closed (if it is not) and settles it.
func (s *PoCChecks) closeCheck(ctx context.Context, id, by string) (*models.PoCCheck, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	c, err := s.modifyCheck(ctx, id, func(c *models.PoCCheck) (bool, error) {
		if c.ClosedAt != nil {
			return false, nil
		}
		at := now
		if c.ExpiresAt.Before(at) {
			at = c.ExpiresAt // it ended when its links expired
		}
		c.ClosedAt, c.ClosedBy = &at, by
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return s.settle(ctx, c)
}

// settle carries a closed check's consequences into each state's directory: the record is
// closed (so the state's readiness shows a miss), and a state that has now missed
// PoCMissesForProposal checks in a row, with no proposal since its streak began, gets a
// proposed PoC-readiness draft need and its ministry a notification. Every step is idempotent,
// so a settle interrupted (a crash, a lost race between replicas) is completed by the next
// sweep: the check is marked settled last.
func (s *PoCChecks) settle(ctx context.Context, c *models.PoCCheck) (*models.PoCCheck, error) {
	if c.Settled {
		return c, nil
	}
	now := s.now()
	proposed := map[string]string{}
	for i := range c.Targets {
		t := &c.Targets[i]
		if len(t.Contacts) == 0 {
			continue
		}
		var propose *models.PoCProposal
		d, err := s.pocs.modify(ctx, t.ISO, func(d *models.PoCDirectory) (bool, error) {
			rec, ok := d.Record(c.ID)
			if !ok {
				// The directory never heard of the check (its write failed): add it now.
				d.Checks = append(d.Checks, models.PoCCheckRecord{CheckID: c.ID, SentAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
					AcknowledgedAt: t.FirstAck()})
				sort.SliceStable(d.Checks, func(i, j int) bool { return d.Checks[i].SentAt.Before(d.Checks[j].SentAt) })
				rec, _ = d.Record(c.ID)
			}
			changed := !rec.Closed
			rec.Closed = true
			if rec.AcknowledgedAt == nil && t.FirstAck() != nil {
				rec.AcknowledgedAt, changed = t.FirstAck(), true
			}
			if d.Proposal != nil && d.Proposal.CheckID == c.ID {
				propose = d.Proposal // decided by an earlier, interrupted settle
				return changed, nil
			}
			r := d.Readiness(now)
			if rec.Outcome(now) == models.PoCMissed && r.Missed >= models.PoCMissesForProposal && !d.ProposedInStreak(now) {
				owner := d.KeptBy
				if owner == "" {
					owner = s.governmentOf(ctx, t.ISO)
				}
				if owner != "" {
					d.Proposal = &models.PoCProposal{CheckID: c.ID, NeedID: proposedNeedID(c.ID, t.ISO), OrganizationID: owner, At: now.UTC()}
					propose, changed = d.Proposal, true
				} else {
					s.log.WarnContext(ctx, "no ministry to propose a PoC-readiness need to", "country", t.ISO, "check", c.ID)
				}
			}
			return changed, nil
		})
		if err != nil {
			return nil, err
		}
		s.pocs.derive(ctx, d)
		if propose != nil {
			if err := s.proposeNeed(ctx, t.ISO, d, propose); err != nil {
				return nil, err
			}
			proposed[t.ISO] = propose.NeedID
		}
	}
	return s.modifyCheck(ctx, c.ID, func(c *models.PoCCheck) (bool, error) {
		for i := range c.Targets {
			if id, ok := proposed[c.Targets[i].ISO]; ok {
				c.Targets[i].ProposedNeed = id
			}
		}
		c.Settled = true
		return true, nil
	})
}

// proposedNeedID is the id of the need proposed to a state after a check: deterministic, so
// that settling twice never proposes twice.
func proposedNeedID(checkID, iso string) string {
	return "pocr-" + checkID + "-" + strings.ToLower(iso)
}

// governmentOf finds a government organization of the country to own a proposal when no
// ministry has kept the directory: the first by name.
func (s *PoCChecks) governmentOf(ctx context.Context, iso string) string {
	orgs, err := s.store.ListOrgs(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "organizations not loaded", "err", err)
		return ""
	}
	for _, o := range orgs {
		if o.Type == models.OrgGovernment && o.Country == iso {
			return o.ID
		}
	}
	return ""
}

// proposeNeed creates the proposed draft need (once) and tells its ministry.
func (s *PoCChecks) proposeNeed(ctx context.Context, iso string, d *models.PoCDirectory, p *models.PoCProposal) error {
	var refs []string
	for _, r := range d.Checks {
		if r.Outcome(s.now()) == models.PoCMissed {
			refs = append(refs, r.CheckID)
		} else {
			refs = refs[:0]
		}
	}
	lang := "en"
	var langs []string
	for _, it := range d.Items {
		for _, l := range it.Languages {
			if !slices.Contains(langs, l) {
				langs = append(langs, l)
			}
		}
		for _, l := range it.Languages {
			if _, ok := proposalTexts[l]; ok && l != "en" && lang == "en" {
				lang = l
			}
		}
	}
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	title, desc := proposalText(lang, iso)
	start := models.DateOf(s.now().AddDate(0, 3, 0))
	n := &models.Need{ID: p.NeedID, Title: title, Description: desc, Lang: lang, Country: iso, Theme: models.ThemeDiplomacyNorms,
		Capability: models.CapPoCReadiness, Modalities: []models.Modality{models.ModTraining, models.ModMentoring},
		Languages: langs, BudgetUSD: 50_000, StartBy: start, DurationMonths: 6, Priority: models.PriorityMedium,
		Maturity: models.Maturity{Framework: models.FrameworkNone}, Visibility: models.VisibilityDonors,
		OrganizationID: p.OrganizationID, Proposal: &models.NeedProposal{Source: models.ProposalPoCChecks, Reason: models.ReasonMissedPoCChecks,
			Refs: refs, ProposedAt: p.At}}
	created, err := s.needs.Propose(ctx, n)
	if err != nil {
		return fmt.Errorf("propose need for %s: %w", iso, err)
	}
	if created && s.notices != nil {
		s.notices.Notify(ctx, p.OrganizationID, KindNeedProposed,
			models.Args{"country": models.ArgOf(models.KindCountry, iso), "missed": models.ArgInt(len(refs))}, "need", n.ID)
	}
	return nil
}

// Sweep closes and settles every check that is over (expired) but not settled yet. Every
// replica runs it now and then; the conditional writes make concurrent sweeps safe.
func (s *PoCChecks) Sweep(ctx context.Context) (int, error) {
	all, err := s.store.ListPoCChecks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range all {
		if c.Settled || !c.Over(s.now()) {
			continue
		}
		if _, err := s.closeCheck(ctx, c.ID, ""); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunSweeper sweeps every interval until ctx ends.
func (s *PoCChecks) RunSweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Sweep(ctx); err != nil {
				s.log.WarnContext(ctx, "check sweep incomplete; it runs again", "err", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "communication checks closed", "closed", n)
			}
		}
	}
}

// Acknowledgement links.

const ackPrefix = "capmatch-poc-ack:v1:"

func (s *PoCChecks) mac(checkID, pocID string, exp int64) string {
	m := hmac.New(sha256.New, s.linkKey)
	m.Write([]byte(ackPrefix + checkID + ":" + pocID + ":" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Token returns the acknowledgement token of a contact in a check.
func (s *PoCChecks) Token(c *models.PoCCheck, pocID string) string {
	exp := c.ExpiresAt.Unix()
	return c.ID + "." + pocID + "." + strconv.FormatInt(exp, 10) + "." + s.mac(c.ID, pocID, exp)
}

// AckPath is the site path of a contact's acknowledgement page.
func (s *PoCChecks) AckPath(c *models.PoCCheck, pocID string) string {
	return "/ack/" + s.Token(c, pocID)
}

// parseToken checks a token's signature and returns what it names; ErrNotFound for anything
// forged, truncated or malformed (no detail is given).
func (s *PoCChecks) parseToken(tok string) (checkID, pocID string, exp time.Time, err error) {
	bad := models.Errorf(models.ErrNotFound, "this acknowledgement link is not valid")
	if len(tok) > 200 {
		return "", "", time.Time{}, bad
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 4 || !models.ValidID(parts[0]) || !models.ValidID(parts[1]) {
		return "", "", time.Time{}, bad
	}
	e, perr := strconv.ParseInt(parts[2], 10, 64)
	if perr != nil || e <= 0 {
		return "", "", time.Time{}, bad
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.mac(parts[0], parts[1], e))) {
		return "", "", time.Time{}, bad
	}
	return parts[0], parts[1], time.Unix(e, 0).UTC(), nil
}

// The states of an acknowledgement link.
const (
	AckReady   = "ready"        // the link works: the page asks to confirm
	AckDone    = "acknowledged" // this request acknowledged
	AckAlready = "already"      // acknowledged before (single use)
	AckExpired = "expired"      // the check is over
)

// AckInfo is what an acknowledgement page shows: no personal data, only the state, the kind of
// contact, the check's dates and where the link stands.
type AckInfo struct {
	State           string         `json:"state"`
	CheckID         string         `json:"check_id"`
	Country         string         `json:"country"`
	Kind            models.PoCKind `json:"kind"`
	SentAt          time.Time      `json:"sent_at"`
	ExpiresAt       time.Time      `json:"expires_at"`
	AcknowledgedAt  *time.Time     `json:"acknowledged_at,omitempty"`
	ResponseSeconds *int64         `json:"response_seconds,omitempty"`
}

// LinkInfo reads an acknowledgement link without using it (the confirmation page's GET).
func (s *PoCChecks) LinkInfo(ctx context.Context, tok string) (*AckInfo, error) {
	checkID, pocID, exp, err := s.parseToken(tok)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetPoCCheck(ctx, checkID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Errorf(models.ErrNotFound, "this acknowledgement link is not valid")
	}
	if err != nil {
		return nil, err
	}
	t, k, ok := c.Contact(pocID)
	if !ok {
		return nil, models.Errorf(models.ErrNotFound, "this acknowledgement link is not valid")
	}
	info := &AckInfo{State: AckReady, CheckID: c.ID, Country: t.ISO, Kind: k.Kind, SentAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		AcknowledgedAt: k.AcknowledgedAt, ResponseSeconds: seconds(c.CreatedAt, k.AcknowledgedAt)}
	switch {
	case k.AcknowledgedAt != nil:
		info.State = AckAlready
	case c.Over(s.now()) || !s.now().Before(exp):
		info.State = AckExpired
	}
	return info, nil
}

// Acknowledge uses an acknowledgement link (no sign-in: the signed token is the credential):
// the contact's acknowledgement time is recorded once, the state's record and readiness
// follow. A link used before answers AckAlready and changes nothing; one whose check is over,
// AckExpired.
func (s *PoCChecks) Acknowledge(ctx context.Context, tok string) (*AckInfo, error) {
	info, err := s.LinkInfo(ctx, tok)
	if err != nil || info.State != AckReady {
		return info, err
	}
	_, pocID, exp, _ := s.parseToken(tok)
	now := s.now().UTC().Truncate(time.Millisecond)
	state := AckDone
	c, err := s.modifyCheck(ctx, info.CheckID, func(c *models.PoCCheck) (bool, error) {
		_, k, ok := c.Contact(pocID)
		switch {
		case !ok:
			return false, models.Errorf(models.ErrNotFound, "this acknowledgement link is not valid")
		case k.AcknowledgedAt != nil:
			state = AckAlready
			return false, nil
		case c.Over(now) || !now.Before(exp):
			state = AckExpired
			return false, nil
		}
		k.AcknowledgedAt = &now
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	t, k, _ := c.Contact(pocID)
	info = &AckInfo{State: state, CheckID: c.ID, Country: t.ISO, Kind: k.Kind, SentAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
		AcknowledgedAt: k.AcknowledgedAt, ResponseSeconds: seconds(c.CreatedAt, k.AcknowledgedAt)}
	if state != AckDone {
		return info, nil
	}
	audit(ctx, s.store, s.log, now, nil, "acknowledge", "poc_check", c.ID, []string{t.ISO + ":" + pocID})
	d, err := s.pocs.modify(ctx, t.ISO, func(d *models.PoCDirectory) (bool, error) {
		rec, ok := d.Record(c.ID)
		if !ok || rec.AcknowledgedAt != nil {
			return false, nil
		}
		rec.AcknowledgedAt = &now
		return true, nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "acknowledgement not recorded in the directory; closing the check records it", "err", err, "country", t.ISO)
		return info, nil
	}
	s.pocs.derive(ctx, d)
	return info, nil
}

// NoticeLink is the acknowledgement page of an in-app notice (kind poc_check) for whoever
// reads the notice in its organization's feed: "" once the contact acknowledged or the check is
// over.
func (s *PoCChecks) NoticeLink(ctx context.Context, checkID, pocID string) string {
	if !models.ValidID(checkID) || !models.ValidID(pocID) {
		return ""
	}
	c, err := s.store.GetPoCCheck(ctx, checkID)
	if err != nil {
		return ""
	}
	_, k, ok := c.Contact(pocID)
	if !ok || k.AcknowledgedAt != nil || c.Over(s.now()) {
		return ""
	}
	return s.AckPath(c, pocID)
}

// CountryCheck is one check as a country's profile shows it: the outcome for everyone who sees
// the readiness; the per-contact results only for those who may see the contacts.
type CountryCheck struct {
	CheckID         string                `json:"check_id"`
	SentAt          time.Time             `json:"sent_at"`
	Outcome         string                `json:"outcome"`
	AcknowledgedAt  *time.Time            `json:"acknowledged_at,omitempty"`
	ResponseSeconds *int64                `json:"response_seconds,omitempty"`
	PoCs            []PoCCheckContactView `json:"pocs,omitempty"`
}

// CountryChecks returns the country's recent checks, newest first: outcomes for anyone (the
// readiness they derive is public), each contact's result only when the actor may see the
// state's contacts.
func (s *PoCChecks) CountryChecks(ctx context.Context, a *models.Actor, iso string) ([]CountryCheck, error) {
	iso = models.NormalizeISO(iso)
	if !models.ValidISO(iso) {
		return nil, models.Errorf(models.ErrNotFound, "no country with code %q", iso)
	}
	d, err := s.store.GetPoCDirectory(ctx, iso)
	if err != nil {
		return nil, err
	}
	see, _ := s.pocs.Access(ctx, a, iso)
	now := s.now()
	out := make([]CountryCheck, 0, len(d.Checks))
	for i := len(d.Checks) - 1; i >= 0; i-- {
		r := d.Checks[i]
		cc := CountryCheck{CheckID: r.CheckID, SentAt: r.SentAt, Outcome: r.Outcome(now), AcknowledgedAt: r.AcknowledgedAt,
			ResponseSeconds: seconds(r.SentAt, r.AcknowledgedAt)}
		if see && i >= len(d.Checks)-3 { // the contacts' results of the latest three checks
			if c, err := s.store.GetPoCCheck(ctx, r.CheckID); err == nil {
				if t, ok := c.Target(iso); ok {
					v := s.view(&models.PoCCheck{ID: c.ID, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, ClosedAt: c.ClosedAt,
						Targets: []models.PoCCheckTarget{*t}}, true)
					cc.PoCs = v.Results[0].PoCs
				}
			}
		}
		out = append(out, cc)
	}
	return out, nil
}

// OutboxView is the outbox as coordinators read it.
type OutboxView struct {
	// Mode is where e-mails go: "outbox" (kept here) or "smtp" (sent; nothing is kept).
	Mode  string                `json:"mode"`
	Items []*models.MailMessage `json:"items"`
}

// Outbox returns the newest messages of the outbox (coordinators): what capmatch would have
// sent, with no SMTP server configured.
func (s *PoCChecks) Outbox(ctx context.Context, a *models.Actor, limit int) (*OutboxView, error) {
	if err := models.AuthorizePoCChecks(a); err != nil {
		return nil, err
	}
	v := &OutboxView{Mode: s.mail.Mode(), Items: []*models.MailMessage{}}
	items, err := s.store.ListOutbox(ctx, limit)
	if err != nil {
		return nil, err
	}
	if items != nil {
		v.Items = items
	}
	return v, nil
}
