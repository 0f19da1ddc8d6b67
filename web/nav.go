package web

import "github.com/capmatch/capmatch/models"

// navItem is one entry of the main navigation: a link, or a group of links shown as a
// disclosure menu (<details>, so it opens and closes without JavaScript).
type navItem struct {
	// Key matches Page.Nav on the page the link leads to (aria-current="page").
	Key, Href, Text string
	// Items are the links of a group; a group has no Href of its own, and an ID for its menu.
	Items []navItem
	ID    string
}

// Current reports whether the item is, or a group holds, the page being shown, so that a
// closed menu still says where the reader is.
func (n navItem) Current(nav string) bool {
	if n.Key != "" && n.Key == nav {
		return true
	}
	for _, it := range n.Items {
		if it.Current(nav) {
			return true
		}
	}
	return false
}

// Menu is the main navigation for the viewer: a few top-level entries per role that fit on
// one line, with the browsing pages (needs, offers, map, countries) and the coordinators'
// delivery tools (and the Points of Contact's communication checks) grouped in menus.
// Visitors get the browsing pages as plain links.
func (p *Page) Menu() []navItem {
	L := p.L
	link := func(key, href, text string) navItem { return navItem{Key: key, Href: href, Text: text} }
	browse := []navItem{
		link("needs", "/needs", L.T("nav.needs")),
		link("offers", "/offers", L.T("nav.offers")),
		link("map", "/map", L.T("nav.map")),
		link("countries", "/countries", L.T("nav.countries")),
	}
	v := p.Viewer
	if v == nil {
		return browse
	}
	group := func(id, text string, items ...navItem) navItem { return navItem{ID: id, Text: text, Items: items} }
	notifications := link("notifications", "/notifications", L.T("nav.notifications"))
	browseMenu := group("menu-browse", L.T("nav.browse"), browse...)
	switch {
	case v.Role == models.RoleMinistry:
		return []navItem{
			link("ministry", "/ministry", L.T("nav.my_needs")),
			link("post_need", "/ministry/needs/new", L.T("nav.post_need")),
			link("engagements", "/engagements", L.T("nav.engagements")),
			link("projects", "/projects", L.T("nav.projects")),
			link("readiness", "/countries/"+v.Country+"/readiness", L.T("nav.readiness")),
			browseMenu,
			notifications,
		}
	case v.Role == models.RoleDonor:
		return []navItem{
			link("donor", "/donor", L.T("nav.my_offers")),
			link("post_offer", "/donor/offers/new", L.T("nav.post_offer")),
			link("engagements", "/engagements", L.T("nav.engagements")),
			link("projects", "/projects", L.T("nav.projects")),
			browseMenu,
			notifications,
		}
	}
	return []navItem{
		link("coordinator", "/coordinator", L.T("nav.queue")),
		group("menu-delivery", L.T("nav.delivery"),
			link("engagements", "/engagements", L.T("nav.pipeline")),
			link("projects", "/projects", L.T("nav.projects")),
			link("funding", "/coordinator/funding", L.T("nav.funding")),
			link("allocation", "/coordinator/allocation", L.T("nav.allocation")),
			link("poc_checks", "/coordinator/poc-checks", L.T("nav.poc_checks")),
		),
		browseMenu,
		link("weights", "/coordinator/weights", L.T("nav.weights")),
		notifications,
	}
}
