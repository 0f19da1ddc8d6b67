package service

import (
	"sort"

	"github.com/capmatch/capmatch/matching"
	"github.com/capmatch/capmatch/models"
	"github.com/capmatch/capmatch/service/internal/readmodel"
)

// view is one actor's window on the read model, and the one way the use cases enumerate
// objects for an actor. Every view derived from several objects (lists, searches, counts,
// sums, overlaps, duplication reasons, funding reports, exports, country, map and dashboard
// figures) gets its objects from a view, so none can include an object that the policy
// (models/policy.go) hides from that actor, nor a number, date or amount computed from one.
// TestOnlyTheVisibilityViewEnumeratesTheModel keeps the other use cases from enumerating the
// read model themselves.
//
// A nil actor is an anonymous visitor of the public pages (see models.CanSeeNeed). The
// system view (systemView) sees everything: it is for inputs that are not shown to anyone as
// such, like the duplication factor's value, and for coordinator-only tools.
type view struct {
	a      *models.Actor
	m      *readmodel.Model
	system bool
}

// viewAs is what actor a may see of model m.
func viewAs(m *readmodel.Model, a *models.Actor) view { return view{a: a, m: m} }

// systemView sees every object of model m.
func systemView(m *readmodel.Model) view { return view{m: m, system: true} }

// all reports whether the view sees everything (the system, coordinators and admins), so that
// callers can skip per-object checks.
func (v view) all() bool { return v.system || (v.a != nil && v.a.Role.Curates()) }

// need, offer, engagement and project report whether the view sees one object.
func (v view) need(n *models.Need) bool { return v.system || models.CanSeeNeed(v.a, n) }

func (v view) offer(o *models.Offer) bool { return v.system || models.CanSeeOffer(v.a, o) }

func (v view) engagement(e *models.Engagement) bool {
	return v.system || models.CanSeeEngagement(v.a, e)
}

func (v view) project(p *models.Project) bool {
	if v.system {
		return true
	}
	n, _ := v.m.Need(p.NeedID)
	return models.CanSeeProject(v.a, p, n)
}

// needs pages the visible needs that match q.
func (v view) needs(q readmodel.NeedQuery) readmodel.Page[*models.Need] {
	return v.m.Needs(q, v.need)
}

// offers pages the visible offers that match q.
func (v view) offers(q readmodel.OfferQuery) readmodel.Page[*models.Offer] {
	return v.m.Offers(q, v.offer)
}

// allNeeds lists the visible needs that keep accepts (nil: all), newest first.
func (v view) allNeeds(keep func(*models.Need) bool) []*models.Need {
	var out []*models.Need
	for _, n := range v.m.AllNeeds() {
		if (keep == nil || keep(n)) && v.need(n) {
			out = append(out, n)
		}
	}
	return out
}

// allOffers lists the visible offers that keep accepts (nil: all), newest first.
func (v view) allOffers(keep func(*models.Offer) bool) []*models.Offer {
	var out []*models.Offer
	for _, o := range v.m.AllOffers() {
		if (keep == nil || keep(o)) && v.offer(o) {
			out = append(out, o)
		}
	}
	return out
}

// needStats counts, per country, the visible open needs that keep accepts (nil: all) and the
// money they request.
func (v view) needStats(keep func(*models.Need) bool) map[string]readmodel.CountryStats {
	return v.m.NeedStats(func(n *models.Need) bool { return (keep == nil || keep(n)) && v.need(n) })
}

// The keep functions of projects, engagements and deliveries run under the model's read lock:
// they must not call the model (a nested read lock deadlocks when a writer is waiting), so
// visibility, which looks up a project's need, is checked after the model returns.

// projects lists the visible projects that keep accepts (nil: all), newest first.
func (v view) projects(keep func(*models.Project) bool) []*models.Project {
	ps := v.m.Projects(func(p *models.Project) bool { return keep == nil || keep(p) })
	out := ps[:0]
	for _, p := range ps {
		if v.project(p) {
			out = append(out, p)
		}
	}
	return out
}

// externals lists the activities imported from IATI that the view sees and keep accepts
// (nil: all), by title: every signed-in actor sees them (models.CanSeeExternalActivity).
func (v view) externals(keep func(*models.ExternalActivity) bool) []*models.ExternalActivity {
	if !v.system && !models.CanSeeExternalActivity(v.a) {
		return nil
	}
	return v.m.ExternalActivities(keep)
}

// externalDeliveries lists, as deliveries, the activities published to IATI by others that
// the view sees, in a status that may deliver (not closed, cancelled or suspended), one per
// recipient country and mapped capability, that keep accepts (nil: all). Each carries its
// reason: the mapping's confidence and evidence, and its weight (matching.ExternalWeight ×
// the confidence's weight).
func (v view) externalDeliveries(keep func(Overlap) bool) []Overlap {
	var out []Overlap
	for _, x := range v.externals(func(x *models.ExternalActivity) bool { return x.Active("") }) {
		for _, c := range x.Countries {
			for _, m := range x.Capabilities {
				o := Overlap{Kind: "external_activity", ID: x.Key, Title: x.Title, Country: c.Code, Capability: m.Capability,
					StartDate: x.Start(), EndDate: x.End(), IATIIdentifier: x.IATIIdentifier, Publisher: x.ReportingOrg.Ref,
					Reason: &OverlapReason{Code: "external_activity", Weight: matching.ExternalWeight * m.Confidence.Weight(),
						Args: map[string]any{"confidence": string(m.Confidence), "evidence": m.Evidence, "percentage": c.Percentage}}}
				if keep == nil || keep(o) {
					out = append(out, o)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Country+string(out[i].Capability) < out[j].Country+string(out[j].Capability)
	})
	return out
}

// publishedProjects lists the projects that are open data (models.CanPublishProject), newest
// first: what /open-data publishes of projects, whoever asks.
func publishedProjects(m *readmodel.Model) []*models.Project {
	ps := m.Projects(func(*models.Project) bool { return true })
	out := ps[:0]
	for _, p := range ps {
		if n, ok := m.Need(p.NeedID); ok && models.CanPublishProject(p, n) {
			out = append(out, p)
		}
	}
	return out
}

// engagements lists the visible engagements that keep accepts (nil: all), newest first.
func (v view) engagements(keep func(*models.Engagement) bool) []*models.Engagement {
	es := v.m.Engagements(func(e *models.Engagement) bool { return keep == nil || keep(e) })
	out := es[:0]
	for _, e := range es {
		if v.engagement(e) {
			out = append(out, e)
		}
	}
	return out
}

// deliveries lists the visible deliveries under way that keep accepts (nil: all): the active
// projects, and the agreed engagements that have no project (an engagement with a project is
// counted as its project, and only while that project is active). This is the one definition of a delivery: the
// duplication factor counts them (through the system view), overlaps and the overlaps report
// list them, duplication reasons count them.
func (v view) deliveries(keep func(Overlap) bool) []Overlap {
	var out []Overlap
	withProject := map[string]bool{}
	projectOverlap := func(p *models.Project) Overlap {
		return Overlap{Kind: "project", ID: p.ID, Title: p.Title, Country: p.Country, Capability: p.Capability,
			StartDate: p.PlannedStart, EndDate: p.PlannedEnd}
	}
	for _, p := range v.projects(func(p *models.Project) bool {
		withProject[p.EngagementID] = true
		return p.Active() && (keep == nil || keep(projectOverlap(p)))
	}) {
		out = append(out, projectOverlap(p))
	}
	engagementOverlap := func(e *models.Engagement) Overlap {
		return Overlap{Kind: "engagement", ID: e.ID, Country: e.Country, Capability: e.Capability, StartDate: e.StartDate, EndDate: e.EndDate}
	}
	for _, e := range v.engagements(func(e *models.Engagement) bool {
		return e.Status == models.EngagementAgreed && e.ProjectID == "" && !withProject[e.ID] && (keep == nil || keep(engagementOverlap(e)))
	}) {
		out = append(out, engagementOverlap(e))
	}
	return out
}

// deliveryCounts counts the visible deliveries per country and capability, only for the
// keys that want accepts (nil: all).
func (v view) deliveryCounts(want func(matching.Delivery) bool) map[matching.Delivery]int {
	out := map[matching.Delivery]int{}
	for _, d := range v.deliveries(func(d Overlap) bool {
		return want == nil || want(matching.Delivery{Country: d.Country, Capability: d.Capability})
	}) {
		out[matching.Delivery{Country: d.Country, Capability: d.Capability}]++
	}
	return out
}

// redactNeed returns n as the view may read it: the engagement that matched it is named only
// to those who may see that engagement (its two sides and coordinators), and the self-assessment
// that proposed it only to those who may read the country's assessments.
func (v view) redactNeed(n *models.Need) *models.Need {
	if v.all() {
		return n
	}
	hideEngagement := false
	if n.EngagementID != "" {
		e, ok := v.m.Engagement(n.EngagementID)
		hideEngagement = !ok || !v.engagement(e)
	}
	// A self-assessment's proposal names the assessment; a proposal from communication checks
	// names nothing private and stays.
	hideProposal := n.Proposal != nil && n.Proposal.AssessmentID != "" && !models.CanSeeAssessments(v.a, n.Country)
	if !hideEngagement && !hideProposal {
		return n
	}
	c := *n
	if hideEngagement {
		c.EngagementID = ""
	}
	if hideProposal {
		c.Proposal = nil
	}
	return &c
}
