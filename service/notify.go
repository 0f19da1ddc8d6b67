package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/capmatch/capmatch/models"
)

// notificationStore is the part of the store this use case needs: the feeds and read states, and organizations (their webhooks).
type notificationStore interface {
	models.NotificationStore
	models.OrgStore
	models.AuditStore
}

// The kinds of notification. A notification is stored as its kind and arguments (named in each
// comment); the catalog (package i18n) has a message "notice.<kind>" for each in every language,
// which the edges render when the notification is read. To add a kind: a constant here, its
// entry in NotificationKinds, its message in every i18n/messages/<lang>.json (a test fails
// until each catalog has it), a heading "notifications.kind.<kind>" in the web catalogs, and a
// call to Notify with the arguments.
//
// Arguments used by several kinds: need and offer (text: titles), reason (text: why, as a
// person wrote it; absent when none was given).
const (
	KindProposal  = "proposal"     // an engagement was proposed to the organization; need, offer
	KindAccepted  = "accepted"     // the organization's proposal was agreed; need, offer
	KindDeclined  = "declined"     // the organization's proposal was declined; need, offer
	KindApproved  = "approved"     // the organization's need was approved (open for offers); need
	KindRejected  = "rejected"     // the organization's need was sent back to draft; need, reason
	KindSubmitted = "submitted"    // coordinators: a need awaits approval; need, country (country)
	KindOverlap   = "overlap"      // coordinators: a new project duplicates another delivery; capability (capability), country (country)
	KindMatch     = "match"        // a new high-scoring match for one of the organization's needs or offers; need, country (country), offer, score (number)
	KindWithdrawn = "withdrawn"    // an engagement proposal ended: withdrawn by its proposer, or because its need or offer ended; need, offer, reason
	KindCancelled = "cancelled"    // an agreed engagement was called off and its offer slot and amount released; need, offer, reason
	KindKept      = "offer_closed" // the offer of an agreed engagement closed to new engagements; the agreement stands; need, offer
	// KindPoCCheck: a communication check reached one of the organization's Points of Contact;
	// check_id (text), country (country), poc_id (text), kind (text: diplomatic or technical),
	// expires_at (date). The web feed shows its acknowledgement link while it works.
	KindPoCCheck = "poc_check"
	// KindNeedProposed: capmatch proposed a draft need to the organization (its country missed
	// communication checks); country (country), missed (int).
	KindNeedProposed = "need_proposed"
)

// NotificationKinds lists every kind, so that a test can check each has a message in every
// language and the web a heading.
var NotificationKinds = []string{KindProposal, KindAccepted, KindDeclined, KindApproved, KindRejected, KindSubmitted,
	KindOverlap, KindMatch, KindWithdrawn, KindCancelled, KindKept, KindPoCCheck, KindNeedProposed}

// noticeArgs builds a notification's arguments: need and offer titles when given ("" leaves
// them out), and a reason when one was given.
func noticeArgs(need, offer, reason string) models.Args {
	args := models.Args{}
	if need != "" {
		args["need"] = models.ArgText(need)
	}
	if offer != "" {
		args["offer"] = models.ArgText(offer)
	}
	if reason != "" {
		args["reason"] = models.ArgText(reason)
	}
	return args
}

// CoordinatorsFeed is the feed every coordinator and admin reads besides their organization's:
// the approvals queue and duplication warnings.
const CoordinatorsFeed = "coordinators"

// Feed limits: a feed keeps its newest FeedSize notifications (older ones fall off); a new
// need or offer notifies at most MatchNotifyTop matches, and only those scoring at least
// MatchNotifyScore, so that a publication costs one ranking and a handful of writes.
const (
	FeedSize         = 200
	MatchNotifyTop   = 5
	MatchNotifyScore = 0.8
)

// Notifications keeps each organization's in-app feed and hands what it writes to the webhook
// dispatcher. Writing a notification never fails the request that caused it: errors are logged.
type Notifications struct {
	store    notificationStore
	matching *Matching
	webhooks models.Webhooks
	texts    models.Texts
	now      Clock
	log      *slog.Logger
	// out queues notifications off the requests that cause them (outbox); nil stores each
	// one in its request.
	out *outbox
}

// Notify writes one notification, its kind and arguments, to a feed (an organization id, or
// CoordinatorsFeed) and queues its webhook delivery. Its signature is the Notify hook of
// Engagements and Projects.
func (s *Notifications) Notify(ctx context.Context, feed, kind string, args models.Args, objectType, objectID string) {
	if s == nil || feed == "" {
		return
	}
	s.post(ctx, feed, []models.Notification{s.item(feed, kind, args, objectType, objectID)})
}

func (s *Notifications) item(feed, kind string, args models.Args, objectType, objectID string) models.Notification {
	// Milliseconds: what the store keeps, so a read-up-to time compares the same in memory.
	now := s.now().UTC().Truncate(time.Millisecond)
	return models.Notification{ID: models.NewID(now), Kind: kind, Args: args, ObjectType: objectType, ObjectID: objectID,
		OrganizationID: feed, CreatedAt: now}
}

// post queues items for a feed in the outbox, which stores them and queues their webhook
// deliveries after the request is answered (write, when there is no outbox).
func (s *Notifications) post(ctx context.Context, feed string, items []models.Notification) {
	if len(items) == 0 {
		return
	}
	if s.out != nil {
		s.out.add(ctx, feed, items)
		return
	}
	s.write(ctx, feed, items)
}

// Flush waits until every notification this replica queued is stored, or ctx ends: a replica
// shutting down calls it after its last request and before it closes the store.
func (s *Notifications) Flush(ctx context.Context) {
	if s != nil && s.out != nil {
		s.out.flush(ctx)
	}
}

// write appends items to a feed and queues their deliveries. It outlives a cancelled request
// (the change it reports has happened) but is bounded in time.
func (s *Notifications) write(ctx context.Context, feed string, items []models.Notification) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
	defer cancel()
	if err := s.store.AppendNotifications(ctx, feed, items, FeedSize); err != nil {
		s.log.WarnContext(ctx, "notification not stored", "err", err, "feed", feed, "kind", items[0].Kind)
	}
	if s.webhooks == nil || feed == CoordinatorsFeed {
		return // the coordinators' feed is in-app only: it belongs to no one organization
	}
	org, err := s.store.GetOrg(ctx, feed)
	if err != nil {
		s.log.WarnContext(ctx, "webhook not queued: organization not loaded", "err", err, "organization", feed)
		return
	}
	if org.Webhook == nil || org.Webhook.URL == "" {
		return
	}
	for _, n := range items {
		if n.CreatedAt.Before(org.Webhook.UpdatedAt.Truncate(time.Millisecond)) {
			// Written before this webhook was set (still queued in the outbox when it was):
			// a webhook receives what happens from the moment it is set, as when the
			// notification was stored inside its request.
			continue
		}
		if s.texts != nil {
			// A receiver has no language of its own: the delivery carries the English text.
			n.Text = s.texts.Notice("en", &n)
		}
		s.webhooks.Enqueue(org.Webhook.URL, org.Webhook.Secret, n)
	}
}

// subscribe makes the notifications react to what the other use cases announce: notices go to
// their feed (and webhook), a need's transitions and an offer's publication tell the right
// people.
func (s *Notifications) subscribe(events *Events) {
	events.OnNotice(func(ctx context.Context, n Notice) {
		s.Notify(ctx, n.Feed, n.Kind, n.Args, n.ObjectType, n.ObjectID)
	})
	events.OnNeedChanged(func(ctx context.Context, ev *NeedChanged) { s.NeedTransitioned(ctx, ev.Transition, ev.Need) })
	events.OnOfferChanged(func(ctx context.Context, ev *OfferChanged) {
		if ev.Transition == models.OfferPublish {
			s.OfferPublished(ctx, ev.Offer)
		}
	})
}

// NeedTransitioned tells the right people about a need's move: coordinators when it awaits
// approval, its owner when it is approved or sent back, and both sides of its best matches
// when it opens. Nil-safe, so Needs works without notifications.
func (s *Notifications) NeedTransitioned(ctx context.Context, t models.NeedTransition, n *models.Need) {
	if s == nil {
		return
	}
	switch t {
	case models.NeedSubmit:
		args := noticeArgs(n.Title, "", "")
		args["country"] = models.ArgOf(models.KindCountry, n.Country)
		s.Notify(ctx, CoordinatorsFeed, KindSubmitted, args, "need", n.ID)
	case models.NeedApprove:
		s.Notify(ctx, n.OrganizationID, KindApproved, noticeArgs(n.Title, "", ""), "need", n.ID)
		s.needMatches(ctx, n)
	case models.NeedReject:
		s.Notify(ctx, n.OrganizationID, KindRejected, noticeArgs(n.Title, "", n.StatusReason), "need", n.ID)
	}
}

// OfferPublished tells the donor and the needs' owners about the new offer's best matches.
func (s *Notifications) OfferPublished(ctx context.Context, o *models.Offer) {
	if s == nil || s.matching == nil {
		return
	}
	// Rank as a donor sees needs, so that the donor is never told about a need it may not see.
	m, err := s.matching.NeedsForOffer(ctx, &models.Actor{Role: models.RoleDonor, OrgID: o.OrganizationID}, o.ID, MatchNotifyTop)
	if err != nil {
		s.log.WarnContext(ctx, "match notifications skipped", "err", err, "offer", o.ID)
		return
	}
	var own []models.Notification
	others := map[string][]models.Notification{}
	for _, it := range m.Items {
		if it.Score < MatchNotifyScore {
			break // best first
		}
		args := matchArgs(it.Title, it.Country, o.Title, it.Score)
		own = append(own, s.item(o.OrganizationID, KindMatch, args, "need", it.NeedID))
		others[it.OrganizationID] = append(others[it.OrganizationID], s.item(it.OrganizationID, KindMatch, args, "offer", o.ID))
	}
	s.post(ctx, o.OrganizationID, own)
	s.postEach(ctx, others)
}

// needMatches tells a newly opened need's owner about its best offers, and each offer's
// donor about the need when the donor may see it.
func (s *Notifications) needMatches(ctx context.Context, n *models.Need) {
	if s.matching == nil {
		return
	}
	m, err := s.matching.OffersForNeed(ctx, &models.Actor{Role: models.RoleCoordinator}, n.ID, MatchNotifyTop)
	if err != nil {
		s.log.WarnContext(ctx, "match notifications skipped", "err", err, "need", n.ID)
		return
	}
	var own []models.Notification
	others := map[string][]models.Notification{}
	for _, it := range m.Items {
		if it.Score < MatchNotifyScore {
			break
		}
		args := matchArgs(n.Title, n.Country, it.Title, it.Score)
		own = append(own, s.item(n.OrganizationID, KindMatch, args, "offer", it.OfferID))
		if models.CanSeeNeed(&models.Actor{Role: models.RoleDonor, OrgID: it.OrganizationID}, n) {
			others[it.OrganizationID] = append(others[it.OrganizationID], s.item(it.OrganizationID, KindMatch, args, "need", n.ID))
		}
	}
	s.post(ctx, n.OrganizationID, own)
	s.postEach(ctx, others)
}

// matchArgs are the arguments of a match notification: the need, its country, the offer and
// the score.
func matchArgs(need, country, offer string, score float64) models.Args {
	args := noticeArgs(need, offer, "")
	args["country"] = models.ArgOf(models.KindCountry, country)
	args["score"] = models.ArgNumber(score)
	return args
}

func (s *Notifications) postEach(ctx context.Context, byFeed map[string][]models.Notification) {
	feeds := make([]string, 0, len(byFeed))
	for f := range byFeed {
		feeds = append(feeds, f)
	}
	sort.Strings(feeds)
	for _, f := range feeds {
		s.post(ctx, f, byFeed[f])
	}
}

// FeedItem is a notification with the caller's read flag.
type FeedItem struct {
	models.Notification
	Read bool `json:"read"`
}

// Feed is the response of GET /notifications: newest first, with how many are unread in all.
type Feed struct {
	Items  []FeedItem `json:"items"`
	Unread int        `json:"unread"`
}

// feedsOf names the feeds an actor reads: its organization's, and the coordinators' for
// coordinators and admins.
func feedsOf(a *models.Actor) []string {
	var out []string
	if a.OrgID != "" {
		out = append(out, a.OrgID)
	}
	if a.Role.Curates() {
		out = append(out, CoordinatorsFeed)
	}
	return out
}

// load reads the actor's feeds (newest first) and read state.
func (s *Notifications) load(ctx context.Context, a *models.Actor) ([]models.Notification, *models.ReadState, error) {
	var all []models.Notification
	for _, f := range feedsOf(a) {
		if s.out != nil {
			s.out.wait(ctx, f) // what this replica queued for the feed is stored first
		}
		items, err := s.store.NotificationFeed(ctx, f)
		if err != nil {
			return nil, nil, fmt.Errorf("load feed: %w", err)
		}
		// A feed is stored oldest first, in the order written; reversed, it is newest first
		// even among notifications of the same millisecond.
		slices.Reverse(items)
		all = append(all, items...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	st, err := s.store.GetReadState(ctx, a.UserID)
	if err != nil {
		return nil, nil, fmt.Errorf("load read state: %w", err)
	}
	return all, st, nil
}

func isRead(st *models.ReadState, n *models.Notification) bool {
	return !n.CreatedAt.After(st.ReadUpTo) || slices.Contains(st.ReadIDs, n.ID)
}

func unread(items []models.Notification, st *models.ReadState) int {
	c := 0
	for i := range items {
		if !isRead(st, &items[i]) {
			c++
		}
	}
	return c
}

// List returns the caller's feed, newest first: at most limit items, only unread ones when
// asked, and the unread count over the whole feed.
func (s *Notifications) List(ctx context.Context, a *models.Actor, unreadOnly bool, limit int) (*Feed, error) {
	items, st, err := s.load(ctx, a)
	if err != nil {
		return nil, err
	}
	out := &Feed{Items: []FeedItem{}, Unread: unread(items, st)}
	for i := range items {
		if len(out.Items) == limit {
			break
		}
		read := isRead(st, &items[i])
		if unreadOnly && read {
			continue
		}
		it := FeedItem{Notification: items[i], Read: read}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// MarkRead marks one notification of the caller's feeds read and returns how many are unread.
// An id that is not in the caller's feeds is ErrNotFound.
func (s *Notifications) MarkRead(ctx context.Context, a *models.Actor, id string) (int, error) {
	return s.updateRead(ctx, a, func(items []models.Notification, st *models.ReadState) error {
		i := slices.IndexFunc(items, func(n models.Notification) bool { return n.ID == id })
		if i < 0 {
			return models.Errorf(models.ErrNotFound, "notification not found")
		}
		if isRead(st, &items[i]) {
			return errUnchanged
		}
		// Keep only ids still in the feeds and not covered by ReadUpTo, so the list stays small.
		kept := []string{id}
		for _, n := range items {
			if n.ID != id && n.CreatedAt.After(st.ReadUpTo) && slices.Contains(st.ReadIDs, n.ID) {
				kept = append(kept, n.ID)
			}
		}
		st.ReadIDs = kept
		return nil
	})
}

// ReadAll marks everything in the caller's feeds read (up to the newest notification loaded,
// so one written meanwhile stays unread) and returns how many are unread.
func (s *Notifications) ReadAll(ctx context.Context, a *models.Actor) (int, error) {
	return s.updateRead(ctx, a, func(items []models.Notification, st *models.ReadState) error {
		if unread(items, st) == 0 {
			return errUnchanged
		}
		if items[0].CreatedAt.After(st.ReadUpTo) {
			st.ReadUpTo = items[0].CreatedAt
		}
		st.ReadIDs = []string{}
		return nil
	})
}

// updateRead is the read state's read-modify-write loop, retried when another request of the
// same user changed it in between.
func (s *Notifications) updateRead(ctx context.Context, a *models.Actor, apply func([]models.Notification, *models.ReadState) error) (int, error) {
	for attempt := 0; ; attempt++ {
		items, st, err := s.load(ctx, a)
		if err != nil {
			return 0, err
		}
		next := *st
		next.UserID = a.UserID
		next.ReadIDs = slices.Clone(st.ReadIDs)
		if err := apply(items, &next); err != nil {
			if errors.Is(err, errUnchanged) {
				return unread(items, st), nil
			}
			return 0, err
		}
		next.Version = st.Version + 1
		err = s.store.PutReadState(ctx, &next, st.Version)
		if err == nil {
			return unread(items, &next), nil
		}
		if !errors.Is(err, models.ErrConflict) || attempt >= 4 {
			return 0, err
		}
	}
}

// WebhookInput is the body of PUT /organizations/{id}/webhook. Secret may be left out to keep
// the one already set.
type WebhookInput struct {
	URL    string  `json:"url"`
	Secret *string `json:"secret"`
}

// WebhookView is an organization's webhook as the API shows it: never the secret, only
// whether one is set.
type WebhookView struct {
	OrganizationID string    `json:"organization_id"`
	URL            string    `json:"url"`
	SecretSet      bool      `json:"secret_set"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// authorizeWebhook decides who manages an organization's webhook: coordinators and admins for
// any organization, everyone else for their own only. (Kept beside the webhooks rather than in
// models/policy.go, whose rules are about marketplace objects.)
func authorizeWebhook(a *models.Actor, orgID string) error {
	if a.Role.Curates() || a.OrgID == orgID {
		return nil
	}
	return models.Errorf(models.ErrForbidden, "only the organization itself and coordinators manage its webhook")
}

func (s *Notifications) webhookOrg(ctx context.Context, a *models.Actor, orgID string) (*models.Organization, error) {
	if !models.ValidID(orgID) {
		return nil, models.Errorf(models.ErrNotFound, "organization not found")
	}
	o, err := s.store.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return o, authorizeWebhook(a, orgID)
}

func webhookView(o *models.Organization) *WebhookView {
	return &WebhookView{OrganizationID: o.ID, URL: o.Webhook.URL, SecretSet: o.Webhook.Secret != "", UpdatedAt: o.Webhook.UpdatedAt}
}

// GetWebhook returns an organization's webhook; ErrNotFound when none is set.
func (s *Notifications) GetWebhook(ctx context.Context, a *models.Actor, orgID string) (*WebhookView, error) {
	o, err := s.webhookOrg(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	if o.Webhook == nil {
		return nil, models.Errorf(models.ErrNotFound, "the organization has no webhook")
	}
	return webhookView(o), nil
}

// SetWebhook sets an organization's webhook after checking the URL against the SSRF policy.
func (s *Notifications) SetWebhook(ctx context.Context, a *models.Actor, orgID string, in WebhookInput) (*WebhookView, error) {
	o, err := s.webhookOrg(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	if s.webhooks == nil {
		return nil, models.Errorf(models.ErrUnavailable, "webhook delivery is not configured")
	}
	var p models.Problems
	var urlErr *models.Error
	if errors.As(s.webhooks.CheckURL(in.URL), &urlErr) {
		p = append(p, urlErr.Fields...)
	}
	secret := ""
	switch {
	case in.Secret != nil && *in.Secret != "":
		secret = *in.Secret
		if len(secret) < 16 || len(secret) > 256 || strings.IndexFunc(secret, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsPrint(r) }) >= 0 {
			p.Add("secret", models.ProblemSecretFormat, secretLength())
		}
	case o.Webhook != nil && o.Webhook.Secret != "":
		secret = o.Webhook.Secret // keep the one set
	default:
		p.Add("secret", models.ProblemSecretRequired, secretLength())
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	o, err = s.store.SetOrgWebhook(ctx, orgID, &models.Webhook{URL: in.URL, Secret: secret, UpdatedAt: now, UpdatedBy: a.UserID}, now)
	if err != nil {
		return nil, err
	}
	audit(ctx, s.store, s.log, now, a, "set webhook", "organization", orgID, []string{"webhook"})
	return webhookView(o), nil
}

// DeleteWebhook removes an organization's webhook; removing none is not an error.
func (s *Notifications) DeleteWebhook(ctx context.Context, a *models.Actor, orgID string) error {
	o, err := s.webhookOrg(ctx, a, orgID)
	if err != nil {
		return err
	}
	if o.Webhook == nil {
		return nil
	}
	now := s.now().UTC()
	if _, err := s.store.SetOrgWebhook(ctx, orgID, nil, now); err != nil {
		return err
	}
	audit(ctx, s.store, s.log, now, a, "delete webhook", "organization", orgID, []string{"webhook"})
	return nil
}

// Run delivers webhooks until ctx ends. Deliveries still queued or waiting for a retry then
// are lost: the queue is in memory.
func (s *Notifications) Run(ctx context.Context) {
	if s != nil && s.webhooks != nil {
		s.webhooks.Run(ctx)
	}
}

// WebhookStats are the webhook deliveries' counters, for /metrics; zero when webhooks are not
// wired.
func (s *Notifications) WebhookStats() models.WebhookStats {
	if s == nil || s.webhooks == nil {
		return models.WebhookStats{}
	}
	return s.webhooks.Stats()
}

// secretLength is the arguments of the webhook secret's problems: 16 to 256 characters.
func secretLength() models.Args {
	return models.Args{"min": models.ArgInt(16), "max": models.ArgInt(256)}
}
