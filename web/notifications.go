package web

import (
	"net/url"

	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// notificationKinds are the kinds of notification the feed shows with a heading of their
// own; any other kind shows under a generic one.
var notificationKinds = service.NotificationKinds

// feedPageSize is how many notifications the page shows: the newest, as a feed keeps at most
// service.FeedSize per organization.
const feedPageSize = 100

// notificationRow is one notification as the page shows it.
type notificationRow struct {
	service.FeedItem
	// Kind is the catalog key of its heading; Href the page of what it is about ("" when
	// there is none).
	Kind, Href string
	// Text is what happened, in the viewer's language; TextLang is "en" for a notification
	// stored with an English text before notifications carried arguments, "" otherwise.
	Text, TextLang string
}

// notificationsPage is the data of the notifications page.
type notificationsPage struct {
	Rows   []notificationRow
	Unread int
}

// objectPages are the UI's page of each kind of object a notification may be about.
var objectPages = map[string]string{"need": "/needs/", "offer": "/offers/", "engagement": "/engagements/", "project": "/projects/"}

// Notifications lists the viewer's notifications, newest first: their organization's feed,
// and the coordinators' for coordinators and admins. Unread ones are marked; each links to
// what it is about. Headings and texts are in the viewer's language, written from each
// notification's kind and arguments.
func (u *UI) Notifications() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		feed, err := u.app.Notifications.List(r.c.UserContext(), r.actor(), false, feedPageSize)
		if err != nil {
			return err
		}
		p := &notificationsPage{Unread: feed.Unread}
		for _, it := range feed.Items {
			row := notificationRow{FeedItem: it, Kind: "notifications.kind.other", Text: r.L.Notice(&it.Notification)}
			if len(it.Args) == 0 && it.Notification.Text != "" && r.L.Lang != "en" {
				row.TextLang = "en"
			}
			for _, k := range notificationKinds {
				if it.Kind == k {
					row.Kind = "notifications.kind." + k
				}
			}
			if base, ok := objectPages[it.ObjectType]; ok && it.ObjectID != "" {
				row.Href = base + url.PathEscape(it.ObjectID)
			}
			switch it.Kind {
			case service.KindPoCCheck:
				// The acknowledgement page, while the link works; the notice is for the contact's
				// organization, which reads its feed.
				row.Href = u.app.PoCChecks.NoticeLink(r.c.UserContext(), it.Args["check_id"].Str(), it.Args["poc_id"].Str())
				if it.Args["kind"].Str() == string(models.PoCDiplomatic) {
					row.Text = r.L.T("notifications.text.poc_check_diplomatic", r.L.Country(it.Args["country"].Str()))
				} else {
					row.Text = r.L.T("notifications.text.poc_check_technical", r.L.Country(it.Args["country"].Str()))
				}
				if row.Href == "" {
					row.Text += " " + r.L.T("notifications.text.poc_check_over")
				}
			}
			p.Rows = append(p.Rows, row)
		}
		return r.render(200, "notifications", r.L.T("notifications.title"), "notifications", p)
	})
}

// ReadAllNotifications marks every notification of the viewer's feeds read.
func (u *UI) ReadAllNotifications() fiber.Handler {
	return u.handle(signedIn, func(r *req) error {
		if _, err := u.app.Notifications.ReadAll(r.c.UserContext(), r.actor()); err != nil {
			return err
		}
		return r.redirect("/notifications?ok=notifications_read")
	})
}
