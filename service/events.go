package service

import (
	"context"
	"sync"
	"time"

	"github.com/capmatch/capmatch/models"
)

// Events is the in-process dispatcher of the application layer: a use case announces what
// happened, and the use cases that react to it (notifications, cascades, re-ranking) subscribe
// when the application is wired (New). No use case holds another to call it back, and none is
// patched in after construction: a use case depends only on the ones it calls, and on Events.
//
// Handlers run synchronously, in the order they subscribed, in the announcing request's
// context: a reaction that must finish before the request is answered (a cascade, whose result
// the answer carries) writes its result into the event. A reaction that must never fail the
// request (a notification) handles its own errors. Events are not replicated: other replicas
// learn of the changes themselves through the change events of the store's objects.
type Events struct {
	mu                sync.RWMutex
	needChanged       []func(context.Context, *NeedChanged)
	offerChanged      []func(context.Context, *OfferChanged)
	notices           []func(context.Context, Notice)
	deliveriesChanged []func(int64)
	mailResults       []func(context.Context, MailResult)
}

// MailResult says what became of an e-mail: MailSent once the transport took it, MailFailed
// when every try failed or the queue was full. Reaction: the communication checks record it.
type MailResult struct {
	Message *models.MailMessage
	Status  string
	At      time.Time
}

// OnMailResult subscribes to the fate of e-mails.
func (e *Events) OnMailResult(f func(context.Context, MailResult)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mailResults = append(e.mailResults, f)
}

// MailResulted announces what became of an e-mail.
func (e *Events) MailResulted(ctx context.Context, r MailResult) {
	for _, f := range handlers(e, func() []func(context.Context, MailResult) { return e.mailResults }) {
		f(ctx, r)
	}
}

// NeedChanged says that a need moved through its lifecycle (submit, approve, reject,
// withdraw). Reactions: notifications; on withdraw and reject, the cascade on its engagements,
// which it reports in Cascade.
type NeedChanged struct {
	Actor      *models.Actor
	Need       *models.Need
	Transition models.NeedTransition
	Reason     string
	// Cascade is filled by the reaction that ends the need's engagements.
	Cascade *Cascade
}

// OfferChanged says that an offer was published, closed or edited. Reactions: notifications
// (published); on close, the cascade on its engagements (reported in Cascade); after an edit
// or a close, closing an offer left without capacity (reported in Closed).
type OfferChanged struct {
	Actor      *models.Actor
	Offer      *models.Offer
	Transition models.OfferTransition // "" for an edit
	Reason     string
	// Cascade is filled by the reaction that ends the offer's engagements.
	Cascade *Cascade
	// Closed is the offer as it stands when an edit left it without capacity and it closed.
	Closed *models.Offer
}

// Notice is something an organization's people should hear of: written to its feed (and
// delivered to its webhook) by the notifications' reaction.
type Notice struct {
	Feed       string
	Kind       string
	Args       models.Args
	ObjectType string
	ObjectID   string
}

// OnNeedChanged subscribes to need transitions.
func (e *Events) OnNeedChanged(f func(context.Context, *NeedChanged)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.needChanged = append(e.needChanged, f)
}

// OnOfferChanged subscribes to offer transitions and edits.
func (e *Events) OnOfferChanged(f func(context.Context, *OfferChanged)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offerChanged = append(e.offerChanged, f)
}

// OnNotice subscribes to notices.
func (e *Events) OnNotice(f func(context.Context, Notice)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notices = append(e.notices, f)
}

// OnDeliveriesChanged subscribes to changes of the deliveries under way (an engagement agreed
// or ended, a project started or closed), with the change's stamp.
func (e *Events) OnDeliveriesChanged(f func(stamp int64)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliveriesChanged = append(e.deliveriesChanged, f)
}

// NeedChanged announces a need's transition.
func (e *Events) NeedChanged(ctx context.Context, ev *NeedChanged) {
	for _, f := range handlers(e, func() []func(context.Context, *NeedChanged) { return e.needChanged }) {
		f(ctx, ev)
	}
}

// OfferChanged announces an offer's transition or edit.
func (e *Events) OfferChanged(ctx context.Context, ev *OfferChanged) {
	for _, f := range handlers(e, func() []func(context.Context, *OfferChanged) { return e.offerChanged }) {
		f(ctx, ev)
	}
}

// Notify announces a notice.
func (e *Events) Notify(ctx context.Context, n Notice) {
	if n.Feed == "" {
		return
	}
	for _, f := range handlers(e, func() []func(context.Context, Notice) { return e.notices }) {
		f(ctx, n)
	}
}

// DeliveriesChanged announces that the deliveries under way changed at stamp.
func (e *Events) DeliveriesChanged(stamp int64) {
	for _, f := range handlers(e, func() []func(int64) { return e.deliveriesChanged }) {
		f(stamp)
	}
}

// handlers reads a subscriber list under the lock (subscriptions happen at wiring; the lock
// keeps a late subscription safe).
func handlers[F any](e *Events, list func() []F) []F {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return list()
}
