package models

// This file is the authorization policy: the one place that answers "may this actor do this
// action on this object" from the actor's role, organization and country and the object's
// owner and visibility. Handlers and services call it; nothing else decides.
//
// The answer is nil (allowed), ErrNotFound (the actor may not know the object exists: reading
// it or acting on it is a 404, so existence does not leak), or ErrForbidden (the actor can see
// it but may not do this).
//
// A nil actor is an anonymous visitor of the public web pages: it sees the public needs that a
// coordinator approved and the published offers, nothing else, and may do nothing.
//
// The CanSee functions are also the only filter of every view derived from several objects
// (lists, searches, counts, sums, overlaps, duplication reasons, reports, exports, map and
// dashboard figures): service enumerates objects for an actor only through its
// visibility view (service/visibility.go), which asks these functions.

// Action is something an actor does to an object.
type Action string

// The actions the policy knows.
const (
	ActRead     Action = "read"
	ActCreate   Action = "create"
	ActUpdate   Action = "update"
	ActSubmit   Action = "submit"
	ActApprove  Action = "approve"
	ActReject   Action = "reject"
	ActWithdraw Action = "withdraw"
	ActPublish  Action = "publish"
	ActClose    Action = "close"
	ActDisable  Action = "disable"
	ActManage   Action = "manage"
)

func deny(msg string) error    { return Errorf(ErrForbidden, "%s", msg) }
func hidden(kind string) error { return Errorf(ErrNotFound, "%s not found", kind) }

// CanSeeNeed reports whether the actor may know the need exists. Coordinators see every need
// and the owning organization its own. A need that is not published (draft, awaiting
// approval, withdrawn) is seen by no one else. Of published needs, donors see public and
// donors-tier ones, and everyone else (other ministries, including another ministry of the
// same country, and anonymous visitors) public ones: the contract's tiers are "public",
// "donors (donors, coordinators and the owner)" and "restricted (coordinators and the owner
// only)", where the owner is the posting organization.
func CanSeeNeed(a *Actor, n *Need) bool {
	switch {
	case a == nil:
		return n.Published() && n.Visibility == VisibilityPublic
	case a.Role.Curates():
		return true
	case a.OrgID != "" && a.OrgID == n.OrganizationID:
		return true
	case !n.Published():
		return false
	}
	switch n.Visibility {
	case VisibilityPublic:
		return true
	case VisibilityDonors:
		return a.Role == RoleDonor
	}
	return false
}

// AuthorizeNeed decides an action on an existing need.
func AuthorizeNeed(a *Actor, act Action, n *Need) error {
	if !CanSeeNeed(a, n) {
		return hidden("need")
	}
	if a == nil {
		if act == ActRead {
			return nil
		}
		return deny("sign in to " + string(act) + " this need")
	}
	owner := a.OrgID == n.OrganizationID
	switch act {
	case ActRead:
		return nil
	case ActUpdate:
		if a.Role.Curates() || owner {
			return nil // the lifecycle decides whether the owner may edit in this state
		}
	case ActSubmit, ActWithdraw:
		if owner {
			return nil
		}
	case ActApprove, ActReject:
		if a.Role.Curates() {
			return nil
		}
	}
	return deny("you may not " + string(act) + " this need")
}

// AuthorizeNewNeed decides whether the actor may post a need for country on behalf of org. A
// ministry posts only for its own organization and country; coordinators post on a
// government's behalf (bulk import, brokering by hand).
func AuthorizeNewNeed(a *Actor, country string) error {
	switch {
	case a.Role == RoleMinistry:
		if country != a.Country {
			return deny("a ministry posts needs only for its own country")
		}
		return nil
	case a.Role.Curates():
		return nil
	}
	return deny("only ministries and coordinators post needs")
}

// CanSeeOffer reports whether the actor may know the offer exists: published and closed
// offers are visible to everyone (anonymous visitors included), drafts to their organization
// and coordinators.
func CanSeeOffer(a *Actor, o *Offer) bool {
	switch {
	case o.Status != OfferDraft:
		return true
	case a == nil:
		return false
	}
	return a.Role.Curates() || (a.OrgID != "" && a.OrgID == o.OrganizationID)
}

// AuthorizeOffer decides an action on an existing offer.
func AuthorizeOffer(a *Actor, act Action, o *Offer) error {
	if !CanSeeOffer(a, o) {
		return hidden("offer")
	}
	if a == nil {
		if act == ActRead {
			return nil
		}
		return deny("sign in to " + string(act) + " this offer")
	}
	owner := a.OrgID == o.OrganizationID && a.Role == RoleDonor
	switch act {
	case ActRead:
		return nil
	case ActUpdate, ActClose:
		if owner || a.Role.Curates() {
			return nil
		}
	case ActPublish:
		if owner {
			return nil
		}
	}
	return deny("you may not " + string(act) + " this offer")
}

// AuthorizeNewOffer decides whether the actor may post an offer: donors, for their own
// organization.
func AuthorizeNewOffer(a *Actor) error {
	if a.Role == RoleDonor {
		return nil
	}
	return deny("only donors and partners post offers")
}

// AuthorizeAccounts decides account management: coordinators and admins manage organizations
// and ministry and donor users; only admins create or disable coordinators and admins.
func AuthorizeAccounts(a *Actor, act Action, target Role) error {
	if !a.Role.Curates() {
		return deny("only coordinators and admins manage accounts")
	}
	if (target == RoleCoordinator || target == RoleAdmin) && a.Role != RoleAdmin && act != ActRead {
		return deny("only admins manage coordinator and admin accounts")
	}
	return nil
}

// AuthorizeCountryReadiness decides who updates a country's readiness profile: that country's
// ministries and coordinators.
func AuthorizeCountryReadiness(a *Actor, iso string) error {
	if a.Role.Curates() || (a.Role == RoleMinistry && a.Country == iso) {
		return nil
	}
	return deny("only the country's ministries and coordinators update its readiness")
}

// AuthorizeCurator allows coordinator-only views and tools (audit trail, weights, allocation,
// imports, reports of everything).
func AuthorizeCurator(a *Actor) error {
	if a.Role.Curates() {
		return nil
	}
	return deny("only coordinators may do this")
}

// More actions the policy knows, for engagements and projects.
const (
	ActPropose     Action = "propose"
	ActAccept      Action = "accept"
	ActDecline     Action = "decline"
	ActMessage     Action = "message"
	ActCancel      Action = "cancel"
	ActTransaction Action = "add transactions to"
	ActStatus      Action = "change the status of"
)

// EngagementSide says which side of an engagement the actor acts for: the need's ministry,
// the offer's donor, or neither ("").
func EngagementSide(a *Actor, e *Engagement) Side {
	switch {
	case a.Role == RoleMinistry && a.OrgID == e.NeedOrgID:
		return SideNeed
	case a.Role == RoleDonor && a.OrgID == e.OfferOrgID:
		return SideOffer
	}
	return ""
}

// CanSeeEngagement reports whether the actor may know the engagement exists: its two sides
// and coordinators.
func CanSeeEngagement(a *Actor, e *Engagement) bool {
	return a != nil && (a.Role.Curates() || EngagementSide(a, e) != "")
}

// AuthorizeEngagement decides an action on an engagement: the side that did not propose
// accepts or declines, the proposer withdraws, both sides and coordinators write messages and
// cancel an agreement (either side may call off what both agreed; coordinators broker).
func AuthorizeEngagement(a *Actor, act Action, e *Engagement) error {
	if !CanSeeEngagement(a, e) {
		return hidden("engagement")
	}
	side := EngagementSide(a, e)
	switch act {
	case ActRead:
		return nil
	case ActMessage, ActCancel:
		return nil
	case ActAccept, ActDecline:
		if side != "" && side != e.ProposedBy {
			return nil
		}
		if side == e.ProposedBy {
			return deny("the other side of the engagement answers its proposal")
		}
	case ActWithdraw:
		if side == e.ProposedBy {
			return nil
		}
	}
	return deny("you may not " + string(act) + " this engagement")
}

// CanSeeOfferCommitments reports whether the actor may see the offer's committed budget as a
// figure: its own organization and coordinators. Everyone who sees the offer sees what remains
// of it (a proposal needs to know), so the total committed can still be worked out as budget
// less remaining; it is a sum over every agreement, never attributed to a need (SECURITY.md).
func CanSeeOfferCommitments(a *Actor, o *Offer) bool {
	return a != nil && (a.Role.Curates() || (a.OrgID != "" && a.OrgID == o.OrganizationID))
}

// AuthorizeStartProject decides who starts the project of an engagement the actor can see:
// coordinators, and the donor whose offer it uses (the need's ministry follows it, it does not
// run it).
func AuthorizeStartProject(a *Actor, e *Engagement) error {
	if !CanSeeEngagement(a, e) {
		return hidden("engagement")
	}
	if a.Role.Curates() || (a.Role == RoleDonor && a.OrgID == e.OfferOrgID) {
		return nil
	}
	return deny("only coordinators and the engagement's donor start its project")
}

// CanSeeProject reports whether the actor may know the project exists: coordinators, the
// organizations taking part, and whoever may see the need it serves (so that a restricted
// need's project stays hidden too).
func CanSeeProject(a *Actor, p *Project, n *Need) bool {
	switch {
	case a == nil:
		return false
	case a.Role.Curates():
		return true
	case a.OrgID != "" && (a.OrgID == p.DonorOrgID || a.OrgID == p.ImplementerID || a.OrgID == p.NeedOrgID):
		return true
	case n != nil:
		return CanSeeNeed(a, n)
	}
	return false
}

// CanPublishProject reports whether a project is open data (the projects files of /open-data):
// a project whose need an anonymous visitor may see (public and approved), as the IATI
// standard expects aid activities to be published. Open data carries only its public facts
// (title, place, capability, dates, money, funding and implementing organisations), never the
// engagement behind it or who recorded it. The signed-in views keep CanSeeProject.
func CanPublishProject(p *Project, n *Need) bool {
	return p != nil && n != nil && p.NeedID == n.ID && CanSeeNeed(nil, n)
}

// AuthorizeProject decides an action on a project: its donor and coordinators manage it; its
// donor, its implementer and coordinators record money.
func AuthorizeProject(a *Actor, act Action, p *Project, n *Need) error {
	if !CanSeeProject(a, p, n) {
		return hidden("project")
	}
	donor := a.Role == RoleDonor && a.OrgID == p.DonorOrgID
	implementer := a.Role == RoleDonor && a.OrgID == p.ImplementerID
	switch act {
	case ActRead:
		return nil
	case ActUpdate, ActStatus:
		if donor || a.Role.Curates() {
			return nil
		}
	case ActTransaction:
		if donor || implementer || a.Role.Curates() {
			return nil
		}
	}
	return deny("you may not " + string(act) + " this project")
}

// ActDelete removes an object (a Point of Contact).
const ActDelete Action = "delete"

// CanSeePoCs reports whether the actor may read a state's Points of Contact: personal data
// (names, e-mail addresses, phone numbers) of officials, so the circle is small. Coordinators
// see every state's; a ministry sees its own state's; and a nominated PoC of another state
// sees them too, as in the UN directory, where the contacts of the states are there for each
// other. pocOf is the state whose nominated PoC the actor is ("" for none): a ministry account
// becomes one when its state's directory lists a contact with the account's e-mail address
// (models.PoC.UserID), so only a ministry of a state can be one. Donors, anonymous visitors and
// ministries that are not nominated never see them.
func CanSeePoCs(a *Actor, iso, pocOf string) bool {
	switch {
	case a == nil:
		return false
	case a.Role.Curates():
		return true
	case a.Role != RoleMinistry:
		return false
	case a.Country == iso:
		return true
	}
	return pocOf != "" && pocOf == a.Country
}

// AuthorizePoCs decides an action on a state's Points of Contact: the state's ministries and
// coordinators keep them (create, update, delete); those who may not see them get 404 (their
// existence is not disclosed), those who see them but may not change them 403.
func AuthorizePoCs(a *Actor, act Action, iso, pocOf string) error {
	if !CanSeePoCs(a, iso, pocOf) {
		return hidden("points of contact")
	}
	switch act {
	case ActRead:
		return nil
	case ActCreate, ActUpdate, ActDelete:
		if a.Role.Curates() || (a.Role == RoleMinistry && a.Country == iso) {
			return nil
		}
	}
	return deny("only the state's ministries and coordinators keep its Points of Contact")
}

// AuthorizePoCChecks decides who runs communication checks, reads their results and reads the
// outbox of messages they sent (which holds contacts' addresses): coordinators and admins.
func AuthorizePoCChecks(a *Actor) error {
	if a != nil && a.Role.Curates() {
		return nil
	}
	return deny("only coordinators run and read communication checks")
}

// CanSeeExternalActivity reports whether the actor may see activities imported from IATI:
// everyone signed in (they are data their publishers made public, shown on country profiles
// and counted in overlaps and the duplication factor); not anonymous visitors, because an
// import may hold an activity its publisher has not published yet.
func CanSeeExternalActivity(a *Actor) bool { return a != nil }

// AuthorizeIATIImport decides who imports IATI activity files: coordinators and donors (their
// own published activities, or those of partners they report with).
func AuthorizeIATIImport(a *Actor) error {
	switch {
	case a == nil:
		return Errorf(ErrUnauthorized, "sign in to import")
	case a.Role.Curates(), a.Role == RoleDonor:
		return nil
	}
	return deny("only coordinators and donors import IATI activity files")
}

// CanReplaceExternalActivity decides whether an import by actor a may replace an activity
// already imported: coordinators replace any; a donor replaces what its own organization
// imported, and any activity its organization reports (its IATI ref is the reporting
// organisation's), since the publisher is the authority on its own data.
func CanReplaceExternalActivity(a *Actor, orgRef string, cur *ExternalActivity) bool {
	switch {
	case cur == nil, a.Role.Curates():
		return true
	case a.OrgID != "" && a.OrgID == cur.ImportedBy:
		return true
	case orgRef != "" && orgRef == cur.ReportingOrg.Ref:
		return true
	}
	return false
}

// CountryInsider reports whether the actor acts for the country (any of its ministries) or
// curates: the people who keep a country's profile and may read what only the country shares
// (its self-assessments, who in it changed its readiness).
func CountryInsider(a *Actor, iso string) bool {
	return a != nil && (a.Role.Curates() || (a.Role == RoleMinistry && a.Country == iso))
}

// CanSeeAssessments reports whether the actor may read a country's self-assessments (their
// answers, results, gaps and the link from a proposed need back to them): that country's
// ministries and coordinators only. A self-assessment reveals weaknesses, so it is never
// public and never shown to donors or to other countries.
func CanSeeAssessments(a *Actor, iso string) bool { return CountryInsider(a, iso) }

// CanSeeReadinessAuthors reports whether the actor may see which user changed a country's
// readiness (everyone sees the organization and role): the country's ministries and
// coordinators.
func CanSeeReadinessAuthors(a *Actor, iso string) bool { return CountryInsider(a, iso) }

// AuthorizeAssessments decides an action on a country's self-assessments. Reading and
// answering are for the country's ministries and coordinators; proposing needs again from an
// assessment (ActPropose) is for the organization that answered it and coordinators, since the
// needs are its drafts. The answer for anyone else is 403, decided by the country alone, before
// any assessment is looked up: it tells nothing about whether one exists.
func AuthorizeAssessments(a *Actor, act Action, iso string, answeredBy string) error {
	if !CanSeeAssessments(a, iso) {
		return deny("only the country's ministries and coordinators read and answer its self-assessments")
	}
	if act == ActPropose && !a.Role.Curates() && a.OrgID != answeredBy {
		return deny("only the organization that answered the assessment and coordinators propose needs from it")
	}
	return nil
}

// AuthorizeCountrySources decides who keeps a country's sources (documents and links): that
// country's ministries and coordinators, like its readiness. Everyone who may see the country
// profile reads them: they are public information.
func AuthorizeCountrySources(a *Actor, iso string) error {
	if CountryInsider(a, iso) {
		return nil
	}
	return deny("only the country's ministries and coordinators keep its sources")
}
