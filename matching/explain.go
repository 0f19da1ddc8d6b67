package matching

import (
	"math"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
)

// explain scores a pair that passed the hard constraints and writes the reason for every
// factor. It computes the values with the same function the rankings use, so an explained
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
	fs[fCapability].Reason = capabilityReason(nr, v[fCapability])
	fs[fLanguage].Reason = shareReason(nr.langText, func(i int) bool { return or.langs.has(nr.langs[i]) },
		"need states no language", "delivers in", "does not deliver in", "requested languages")
	fs[fModality].Reason = shareReason(nr.modText, func(i int) bool { return or.mods.has(nr.mods[i]) },
		"need states no modality", "provides", "does not provide", "requested modalities")
	fs[fBudget].Reason = budgetReason(n.BudgetUSD, or.remaining)
	fs[fTiming].Reason = timingReason(nr, or, today, v[fTiming])
	fs[fMaturity].Reason = maturityReason(nr, or)
	fs[fFocus].Reason = focusReason(or.reach)
	fs[fPriority].Reason = priorityReason(n.Priority)
	fs[fDuplication].Reason = duplicationReason(n, d, seen)
	score := unitsToFloat(total)
	return Match{NeedID: n.ID, OfferID: or.o.ID, Score: score, Relevance: v[fCapability], Band: BandOf(score), Factors: fs}
}

func capabilityReason(nr *needRec, v float64) string {
	c := string(nr.n.Capability)
	t := string(nr.n.Theme)
	if th, ok := models.CapabilityTheme(nr.n.Capability); ok {
		t = string(th)
	}
	switch v {
	case 1:
		return "offer covers " + c
	case 0.5:
		return "offer covers the " + t + " theme but not " + c
	default:
		return "offer covers neither " + c + " nor the " + t + " theme"
	}
}

// shareReason explains a "share of what was asked for" factor such as languages.
func shareReason(asked []string, has func(int) bool, none, yes, no, unit string) string {
	if len(asked) == 0 {
		return none
	}
	var got, missing []string
	for i, a := range asked {
		if has(i) {
			got = append(got, a)
		} else {
			missing = append(missing, a)
		}
	}
	counts := " (" + strconv.Itoa(len(got)) + " of " + strconv.Itoa(len(asked)) + " " + unit + ")"
	switch {
	case len(missing) == 0:
		return yes + " " + joinAnd(got) + counts
	case len(got) == 0:
		return no + " " + joinOr(missing) + counts
	default:
		return yes + " " + joinAnd(got) + " but not " + joinOr(missing) + counts
	}
}

func budgetReason(asked, remaining int64) string {
	switch {
	case asked <= 0:
		return "need states no budget"
	case remaining >= asked:
		return "remaining budget " + usd(remaining) + " covers the " + usd(asked) + " requested"
	case remaining <= 0:
		return "no budget remains for the " + usd(asked) + " requested"
	default:
		return "remaining budget " + usd(remaining) + " covers " + percent(float64(remaining)/float64(asked)) +
			" of the " + usd(asked) + " requested"
	}
}

func timingReason(nr *needRec, or *offerRec, today int32, v float64) string {
	s := effStart(nr, today)
	if s == noDay {
		return "need states no start date"
	}
	var win string
	switch {
	case or.from != noDay && or.until != noDay:
		win = "window " + string(dayDate(or.from)) + " to " + string(dayDate(or.until))
	case or.until != noDay:
		win = "window until " + string(dayDate(or.until))
	case or.from != noDay:
		win = "open-ended window from " + string(dayDate(or.from))
	default:
		win = "open-ended window"
	}
	period := plural(nr.months, "month", "months") + " from " + string(dayDate(s))
	if s != nr.start {
		period += " (today)"
	}
	switch {
	case v >= 1:
		return win + " covers all " + period
	case v <= 0:
		return win + " covers none of the " + period
	default:
		return win + " covers " + percent(v) + " of the " + period
	}
}

func maturityReason(nr *needRec, or *offerRec) string {
	if !nr.baseline {
		return "need states no maturity baseline and target (neutral)"
	}
	m := nr.n.Maturity
	gap := m.Target - m.Current
	r := min(gap, 3)
	out := string(m.Framework) + " stage " + strconv.Itoa(m.Current) + " to " + strconv.Itoa(m.Target) +
		": a gap of " + strconv.Itoa(gap) + " calls for " + strconv.Itoa(r) +
		" kinds of sustained support (training, mentoring, expert_deployment); offer provides "
	if r == 1 {
		out = strings.Replace(out, "1 kinds", "1 kind", 1)
	}
	if len(or.deep) == 0 {
		out += "none"
	} else {
		out += strconv.Itoa(len(or.deep)) + " (" + strings.Join(or.deep, ", ") + ")"
	}
	if m.Current <= 0 && or.maturing && nr.incident {
		out += "; it matures existing CSIRTs but the baseline is stage 0"
	}
	return out
}

// focusReason says how widely the offer is open: "offer is open to 58 of 249 countries and
// territories", or "offer is open to every country".
func focusReason(reach int) string {
	all := len(geo().codes)
	if reach >= all {
		return "offer is open to every country"
	}
	return "offer is open to " + strconv.Itoa(reach) + " of " + strconv.Itoa(all) + " countries and territories"
}

func priorityReason(p models.Priority) string {
	switch p {
	case models.PriorityHigh, models.PriorityMedium, models.PriorityLow:
		return string(p) + "-priority need"
	default:
		return "priority not stated; counted as medium"
	}
}

// duplicationReason counts the deliveries the reader may see (seen), never the others: a
// reader who sees none while some exist (the value says so) reads that at least one does.
// When only activities published to IATI by others deliver it, the reason counts them and
// gives the confidence of the surest mapping, which sets the value.
func duplicationReason(n *models.Need, d dupInput, seen int) string {
	where := string(n.Capability) + " in " + n.Country
	overlaps := d.n
	switch {
	case overlaps <= 0 && d.ext.Count > 0:
		acts := "activities published to IATI by others"
		if d.ext.Count == 1 {
			acts = "activity published to IATI by others"
		}
		return "no active project or agreed engagement already delivers " + where + ", but " + strconv.Itoa(d.ext.Count) + " " + acts +
			" may (mapping confidence " + strconv.FormatFloat(min(max(d.ext.Confidence, 0), 1), 'f', -1, 64) + ")"
	case overlaps <= 0:
		return "no active project or agreed engagement already delivers " + where
	case seen <= 0:
		return "at least one active project or agreed engagement already delivers " + where
	case seen == 1:
		return "1 active project or agreed engagement already delivers " + where
	default:
		return strconv.Itoa(seen) + " active projects or agreed engagements already deliver " + where
	}
}

// joinAnd writes "a", "a and b", "a, b and c".
func joinAnd(xs []string) string { return join(xs, " and ") }

// joinOr writes "a", "a or b", "a, b or c".
func joinOr(xs []string) string { return join(xs, " or ") }

func join(xs []string, last string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + last + xs[len(xs)-1]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// percent writes a share below 1 as a whole percentage, rounded down so that a partial
// share never reads as 100%.
func percent(f float64) string {
	return strconv.Itoa(int(math.Floor(f*100))) + "%"
}

// usd writes a whole number of dollars with thousands separators: $1,600,000.
func usd(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('$')
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
