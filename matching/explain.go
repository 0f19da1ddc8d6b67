package matching

import (
	"math"

	"github.com/capmatch/capmatch/models"
)

// explain scores a pair that passed the hard constraints and gives every factor its reason:
// a code and its arguments (ReasonCodes), which the edges write in the reader's language. It
// computes the values with the same function the rankings use, so an explained
// score always equals the ranked one. Every contribution is weight × value × relevance.
// d counts every delivery of the need's capability in its country (the value); seen counts
// those the reader may see (the reason).
func explain(nr *needRec, or *offerRec, w *[nFactors]int64, today int32, d dupInput, seen int) Match {
	v := values(nr, or, today, d)
	c, total := contributions(w, &v)
	fs := make([]Factor, nFactors)
	for i := range fs {
		fs[i] = Factor{
			Name:         factorNames[i],
			Weight:       unitsToFloat(w[i]),
			Value:        round4(v[i]),
			Contribution: unitsToFloat(c[i]),
		}
	}
	n := nr.n
	fs[fCapability].Code, fs[fCapability].Args = capabilityReason(nr, v[fCapability])
	fs[fLanguage].Code, fs[fLanguage].Args = shareReason(nr.langText, func(i int) bool { return or.langs.has(nr.langs[i]) }, models.KindLanguage, "language.")
	fs[fModality].Code, fs[fModality].Args = shareReason(nr.modText, func(i int) bool { return or.mods.has(nr.mods[i]) }, models.KindModality, "modality.")
	fs[fBudget].Code, fs[fBudget].Args = budgetReason(n.BudgetUSD, or.remaining)
	fs[fTiming].Code, fs[fTiming].Args = timingReason(nr, or, today, v[fTiming])
	fs[fMaturity].Code, fs[fMaturity].Args = maturityReason(nr, or)
	fs[fFocus].Code, fs[fFocus].Args = focusReason(or.reach)
	fs[fPriority].Code, fs[fPriority].Args = priorityReason(n.Priority)
	fs[fDuplication].Code, fs[fDuplication].Args = duplicationReason(n, d, seen)
	score := unitsToFloat(total)
	return Match{NeedID: n.ID, OfferID: or.o.ID, Score: score, Relevance: v[fCapability], Band: BandOf(score), Factors: fs}
}

// The reason codes: every factor's reason is one of these and its arguments (named in the
// comment), which the catalog (package i18n) writes as "reason.<code>" in the reader's
// language. Adding one: a constant here, its entry in ReasonCodes, and its message in every
// i18n/messages/<lang>.json (a test fails until each catalog has it).
const (
	ReasonCapabilityExact = "capability.exact" // capability
	ReasonCapabilityTheme = "capability.theme" // theme, capability: the theme is covered, the capability not
	ReasonCapabilityNone  = "capability.none"  // capability, theme

	ReasonLanguageUnstated = "language.unstated"
	ReasonLanguageAll      = "language.all"  // got (language list), matched, asked (int)
	ReasonLanguageSome     = "language.some" // got, missing (language lists), matched, asked
	ReasonLanguageNone     = "language.none" // missing, matched, asked

	ReasonModalityUnstated = "modality.unstated"
	ReasonModalityAll      = "modality.all"  // got (modality list), matched, asked (int)
	ReasonModalitySome     = "modality.some" // got, missing (modality lists), matched, asked
	ReasonModalityNone     = "modality.none" // missing, matched, asked

	ReasonBudgetUnstated = "budget.unstated"
	ReasonBudgetFull     = "budget.full" // remaining, requested (usd)
	ReasonBudgetNone     = "budget.none" // requested (usd)
	ReasonBudgetPart     = "budget.part" // remaining (usd), share (share, rounded down), requested (usd)

	ReasonTimingUnstated = "timing.unstated"
	ReasonTimingFull     = "timing.full" // window (date_range), period (period)
	ReasonTimingNone     = "timing.none" // window, period
	ReasonTimingPart     = "timing.part" // window, share (share, rounded down), period

	ReasonMaturityUnstated = "maturity.unstated"
	// ReasonMaturityGap: framework, current and target (stages), gap (int), count (int: the
	// kinds of sustained support the gap calls for), provided (modality list, maybe empty).
	ReasonMaturityGap = "maturity.gap"
	// ReasonMaturityGapStage0 is ReasonMaturityGap for an offer that matures existing CSIRTs
	// while the need starts from stage 0.
	ReasonMaturityGapStage0 = "maturity.gap_stage0"

	ReasonFocusAll  = "focus.all"
	ReasonFocusSome = "focus.some" // reach, total (int): countries and territories

	ReasonPriority         = "priority.stated" // priority
	ReasonPriorityUnstated = "priority.unstated"

	ReasonDuplicationNone   = "duplication.none"   // capability, country
	ReasonDuplicationHidden = "duplication.hidden" // capability, country: some, none the reader may see
	ReasonDuplicationSome   = "duplication.some"   // count (int: those the reader may see), capability, country
	// ReasonDuplicationExternal: no delivery on capmatch, but count activities published to IATI
	// by others may deliver it, mapped with confidence (share) at best.
	ReasonDuplicationExternal = "duplication.external" // count, capability, country, confidence
)

// ReasonCodes lists every reason code, so that a test can check each has a message in every
// language.
var ReasonCodes = []string{
	ReasonCapabilityExact, ReasonCapabilityTheme, ReasonCapabilityNone,
	ReasonLanguageUnstated, ReasonLanguageAll, ReasonLanguageSome, ReasonLanguageNone,
	ReasonModalityUnstated, ReasonModalityAll, ReasonModalitySome, ReasonModalityNone,
	ReasonBudgetUnstated, ReasonBudgetFull, ReasonBudgetNone, ReasonBudgetPart,
	ReasonTimingUnstated, ReasonTimingFull, ReasonTimingNone, ReasonTimingPart,
	ReasonMaturityUnstated, ReasonMaturityGap, ReasonMaturityGapStage0,
	ReasonFocusAll, ReasonFocusSome,
	ReasonPriority, ReasonPriorityUnstated,
	ReasonDuplicationNone, ReasonDuplicationHidden, ReasonDuplicationSome, ReasonDuplicationExternal,
}

func capabilityReason(nr *needRec, v float64) (string, models.Args) {
	t := nr.n.Theme
	if th, ok := models.CapabilityTheme(nr.n.Capability); ok {
		t = th
	}
	args := models.Args{"capability": models.ArgOf(models.KindCapability, nr.n.Capability), "theme": models.ArgOf(models.KindTheme, t)}
	switch v {
	case 1:
		delete(args, "theme")
		return ReasonCapabilityExact, args
	case 0.5:
		return ReasonCapabilityTheme, args
	default:
		return ReasonCapabilityNone, args
	}
}

// shareReason explains a "share of what was asked for" factor such as languages: prefix is
// the factor's code prefix ("language."), kind the catalogue kind of the codes asked for.
func shareReason(asked []string, has func(int) bool, kind, prefix string) (string, models.Args) {
	if len(asked) == 0 {
		return prefix + "unstated", nil
	}
	got, missing := []string{}, []string{}
	for i, a := range asked {
		if has(i) {
			got = append(got, a)
		} else {
			missing = append(missing, a)
		}
	}
	args := models.Args{"matched": models.ArgInt(len(got)), "asked": models.ArgInt(len(asked))}
	if len(got) > 0 {
		args["got"] = models.ArgList(kind, got)
	}
	if len(missing) > 0 {
		args["missing"] = models.ArgList(kind, missing)
	}
	switch {
	case len(missing) == 0:
		return prefix + "all", args
	case len(got) == 0:
		return prefix + "none", args
	default:
		return prefix + "some", args
	}
}

func budgetReason(asked, remaining int64) (string, models.Args) {
	switch {
	case asked <= 0:
		return ReasonBudgetUnstated, nil
	case remaining >= asked:
		return ReasonBudgetFull, models.Args{"remaining": models.ArgUSD(remaining), "requested": models.ArgUSD(asked)}
	case remaining <= 0:
		return ReasonBudgetNone, models.Args{"requested": models.ArgUSD(asked)}
	default:
		return ReasonBudgetPart, models.Args{"remaining": models.ArgUSD(remaining), "share": share(float64(remaining) / float64(asked)),
			"requested": models.ArgUSD(asked)}
	}
}

func timingReason(nr *needRec, or *offerRec, today int32, v float64) (string, models.Args) {
	s := effStart(nr, today)
	if s == noDay {
		return ReasonTimingUnstated, nil
	}
	var from, until models.Date
	if or.from != noDay {
		from = dayDate(or.from)
	}
	if or.until != noDay {
		until = dayDate(or.until)
	}
	args := models.Args{"window": models.ArgDateRange(from, until), "period": models.ArgPeriod(nr.months, dayDate(s), s != nr.start)}
	switch {
	case v >= 1:
		return ReasonTimingFull, args
	case v <= 0:
		return ReasonTimingNone, args
	default:
		args["share"] = share(v)
		return ReasonTimingPart, args
	}
}

func maturityReason(nr *needRec, or *offerRec) (string, models.Args) {
	if !nr.baseline {
		return ReasonMaturityUnstated, nil
	}
	m := nr.n.Maturity
	gap := m.Target - m.Current
	args := models.Args{
		"framework": models.ArgOf(models.KindFramework, m.Framework),
		"current":   models.ArgStage(m.Framework, m.Current),
		"target":    models.ArgStage(m.Framework, m.Target),
		"gap":       models.ArgInt(gap),
		"count":     models.ArgInt(min(gap, 3)),
		"provided":  models.ArgList(models.KindModality, or.deep),
	}
	if m.Current <= 0 && or.maturing && nr.incident {
		return ReasonMaturityGapStage0, args
	}
	return ReasonMaturityGap, args
}

// focusReason says how widely the offer is open: to reach of the 249 countries and
// territories, or to every country.
func focusReason(reach int) (string, models.Args) {
	all := len(geo().codes)
	if reach >= all {
		return ReasonFocusAll, nil
	}
	return ReasonFocusSome, models.Args{"reach": models.ArgInt(reach), "total": models.ArgInt(all)}
}

func priorityReason(p models.Priority) (string, models.Args) {
	switch p {
	case models.PriorityHigh, models.PriorityMedium, models.PriorityLow:
		return ReasonPriority, models.Args{"priority": models.ArgOf(models.KindPriority, p)}
	default:
		return ReasonPriorityUnstated, nil
	}
}

// duplicationReason counts the deliveries the reader may see (seen), never the others: a
// reader who sees none while some exist (the value says so) reads that at least one does.
// When only activities published to IATI by others deliver it, the reason counts them and
// gives the confidence of the surest mapping, which sets the value.
func duplicationReason(n *models.Need, d dupInput, seen int) (string, models.Args) {
	args := models.Args{"capability": models.ArgOf(models.KindCapability, n.Capability), "country": models.ArgOf(models.KindCountry, n.Country)}
	overlaps := d.n
	switch {
	case overlaps <= 0 && d.ext.Count > 0:
		args["count"] = models.ArgInt(d.ext.Count)
		args["confidence"] = models.ArgShare(min(max(d.ext.Confidence, 0), 1))
		return ReasonDuplicationExternal, args
	case overlaps <= 0:
		return ReasonDuplicationNone, args
	case seen <= 0:
		return ReasonDuplicationHidden, args
	default:
		args["count"] = models.ArgInt(seen)
		return ReasonDuplicationSome, args
	}
}

// share is a fraction as a reason's argument, rounded down to a tenth of a percent so that a
// partial share never reads as 100%.
func share(f float64) models.Arg {
	return models.ArgShare(math.Floor(f*1000) / 1000)
}
