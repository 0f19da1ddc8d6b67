// Package ruletest checks an IATI activity file against the IATI Validator's rules that
// go beyond the schema (the IATI Standard Ruleset for 2.03 and its guidance), for the tests
// of capmatch's export: the schema (xmllint) says a file is well formed, these rules say an
// aggregator can trust it. The rules are written here from their public descriptions (no
// file of the IATI-Rulesets repository is copied); each finding names the rule id the IATI
// Validator reports, or the ruleset's check type where the id is not known here.
//
// It walks the decoded document with a small XPath-like query (Node.All): element steps,
// "@attr" for an attribute, and [@attr='v'] predicates. It is test support code: it never
// runs in the product.
package ruletest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Node is one element of a decoded document.
type Node struct {
	Name     string
	Attrs    map[string]string
	Children []*Node
	Text     string
}

// Parse decodes a document into a tree of Nodes (the root element).
func Parse(doc []byte) (*Node, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*Node
	var root *Node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ruletest: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: t.Name.Local, Attrs: map[string]string{}}
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space == "http://www.w3.org/XML/1998/namespace" || a.Name.Space == "xml" {
					name = "xml:" + name
				}
				n.Attrs[name] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("ruletest: no root element")
	}
	return root, nil
}

var stepRe = regexp.MustCompile(`^([\w-]+|\*)(?:\[@([\w:-]+)\s*=\s*'([^']*)'\])?$`)

// All returns the nodes a relative path reaches: "budget/period-start" are element steps,
// each optionally with one [@attr='value'] predicate.
func (n *Node) All(path string) []*Node {
	cur := []*Node{n}
	for _, step := range strings.Split(path, "/") {
		m := stepRe.FindStringSubmatch(step)
		if m == nil {
			panic("ruletest: bad step " + step)
		}
		var next []*Node
		for _, c := range cur {
			for _, ch := range c.Children {
				if (m[1] == "*" || ch.Name == m[1]) && (m[2] == "" || ch.Attrs[m[2]] == m[3]) {
					next = append(next, ch)
				}
			}
		}
		cur = next
	}
	return cur
}

// Values returns the values a path reaches: a path ending in "/@attr" (or "@attr" alone)
// gives attribute values where present, any other the elements' trimmed text.
func (n *Node) Values(path string) []string {
	elems, attr := path, ""
	if i := strings.LastIndex(path, "@"); i >= 0 {
		elems, attr = strings.TrimSuffix(path[:i], "/"), path[i+1:]
	}
	nodes := []*Node{n}
	if elems != "" {
		nodes = n.All(elems)
	}
	var out []string
	for _, x := range nodes {
		if attr == "" {
			out = append(out, strings.TrimSpace(x.Text))
		} else if v, ok := x.Attrs[attr]; ok {
			out = append(out, v)
		}
	}
	return out
}

// First returns the first value of a path, "" when there is none.
func (n *Node) First(path string) string {
	if v := n.Values(path); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Severity is how the IATI Validator reports a failed rule.
type Severity string

// The severities.
const (
	Error    Severity = "error"
	Warning  Severity = "warning"
	Guidance Severity = "guidance"
)

// Finding is one failed rule in one activity.
type Finding struct {
	Rule       string
	Severity   Severity
	Identifier string
	Message    string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s [%s]: %s", f.Severity, f.Rule, f.Identifier, f.Message)
}

// Config is what the rules compare with.
type Config struct {
	// Now is the present for the rules about the future (the IATI Validator's NOW).
	Now time.Time
	// ReportingRef is the publisher's registered organisation identifier, which every
	// activity's reporting-org/@ref must be; empty skips the check.
	ReportingRef string
	// Placeholders are reporting-org refs that are not registered (rule 1.14.8).
	Placeholders []string
	// Publishers are the refs of organisations that publish their own IATI data: an activity
	// they fund must be reported with secondary-reporter="1".
	Publishers map[string]bool
}

// Check runs every rule on every activity of doc.
func Check(doc []byte, cfg Config) ([]Finding, error) {
	root, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	if root.Name != "iati-activities" {
		return nil, fmt.Errorf("ruletest: root is %q, not iati-activities", root.Name)
	}
	var out []Finding
	for _, a := range root.All("iati-activity") {
		out = append(out, CheckActivity(a, cfg)...)
	}
	return out, nil
}

// Rule ids the IATI Validator reports for the rules capmatch was found to break; the other
// rules are named by the ruleset's check type and the paths they read.
const (
	RuleBudgetTimeLimit       = "7.5.3"  // budget period must not be longer than one year
	RuleTransactionDateFuture = "11.2.1" // transaction-date must not be in the future
	RuleValueDateFuture       = "11.2.2" // transaction value/@value-date must not be in the future
	RuleActualStartFuture     = "11.1.4" // actual start date must not be in the future
	RuleReportingOrgRef       = "1.14.8" // reporting-org/@ref should be a registered identifier
)

// CheckActivity runs every rule on one iati-activity node.
func CheckActivity(a *Node, cfg Config) []Finding {
	id := a.First("iati-identifier")
	var out []Finding
	add := func(rule string, sev Severity, format string, args ...any) {
		out = append(out, Finding{Rule: rule, Severity: sev, Identifier: id, Message: fmt.Sprintf(format, args...)})
	}
	now := ""
	if !cfg.Now.IsZero() {
		now = cfg.Now.UTC().Format("2006-01-02")
	}
	date := func(s string) (time.Time, bool) {
		t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		return t, err == nil
	}

	// 7.5.3 (time_limit on budget/period-start, budget/period-end): at most one year; and
	// date_order within each budget; budgets of one type must not overlap.
	type period struct{ start, end time.Time }
	byType := map[string][]period{}
	for i, b := range a.All("budget") {
		s, ok1 := date(b.First("period-start/@iso-date"))
		e, ok2 := date(b.First("period-end/@iso-date"))
		if !ok1 || !ok2 {
			add("date_order budget", Error, "budget %d has no valid period", i)
			continue
		}
		if e.Before(s) {
			add("date_order budget", Error, "budget %d ends %s before it starts %s", i, e.Format("2006-01-02"), s.Format("2006-01-02"))
		}
		if !e.Before(s.AddDate(1, 0, 0)) {
			add(RuleBudgetTimeLimit, Error, "budget %d covers %s to %s, more than a year", i, s.Format("2006-01-02"), e.Format("2006-01-02"))
		}
		vd, ok := date(b.First("value/@value-date"))
		if ok && (vd.Before(s) || vd.After(e)) {
			add("between_dates budget value-date", Warning, "budget %d value-date %s is outside its period", i, vd.Format("2006-01-02"))
		}
		t := b.Attrs["type"]
		for _, p := range byType[t] {
			if !s.After(p.end) && !p.start.After(e) {
				add("overlap budget", Error, "budget %d (type %s) overlaps another budget of its type", i, t)
			}
		}
		byType[t] = append(byType[t], period{s, e})
	}

	// 11.2.1 and 11.2.2 (date_order transaction-date, value-date < NOW).
	for i, tx := range a.All("transaction") {
		if d := tx.First("transaction-date/@iso-date"); now != "" && d > now {
			add(RuleTransactionDateFuture, Error, "transaction %d is dated %s, after %s", i, d, now)
		}
		if d := tx.First("value/@value-date"); now != "" && d > now {
			add(RuleValueDateFuture, Error, "transaction %d has value-date %s, after %s", i, d, now)
		}
	}

	// Activity dates (date_order): actual dates not in the future (11.1.4 for the actual
	// start), planned start before planned end, actual start before actual end.
	planStart, actStart := a.First("activity-date[@type='1']/@iso-date"), a.First("activity-date[@type='2']/@iso-date")
	planEnd, actEnd := a.First("activity-date[@type='3']/@iso-date"), a.First("activity-date[@type='4']/@iso-date")
	if now != "" && actStart > now {
		add(RuleActualStartFuture, Error, "actual start %s is after %s", actStart, now)
	}
	if now != "" && actEnd > now {
		add("date_order activity-date type 4 < NOW", Error, "actual end %s is after %s", actEnd, now)
	}
	if planStart != "" && planEnd != "" && planEnd < planStart {
		add("date_order activity-date type 1 < type 3", Error, "planned end %s before planned start %s", planEnd, planStart)
	}
	if actStart != "" && actEnd != "" && actEnd < actStart {
		add("date_order activity-date type 2 < type 4", Error, "actual end %s before actual start %s", actEnd, actStart)
	}
	if planStart == "" && actStart == "" {
		add("atleast_one activity-date type 1 or 2", Error, "no start date")
	}

	// 1.14.8 and the identifier: the registered publisher, its prefix on the identifier.
	ref := a.First("reporting-org/@ref")
	for _, ph := range cfg.Placeholders {
		if ref == ph {
			add(RuleReportingOrgRef, Warning, "reporting-org/@ref %q is a placeholder, not a registered organisation identifier", ref)
		}
	}
	if cfg.ReportingRef != "" && ref != cfg.ReportingRef {
		add(RuleReportingOrgRef, Warning, "reporting-org/@ref is %q, not the publisher's %q", ref, cfg.ReportingRef)
	}
	secondary := a.First("reporting-org/@secondary-reporter") == "1"
	if !secondary && ref != "" && !strings.HasPrefix(id, ref+"-") {
		add("identifier prefix", Error, "iati-identifier %q does not start with reporting-org/@ref %q", id, ref)
	}
	refOK := regexp.MustCompile(`^[^/&|?]+$`)
	for _, p := range []string{"reporting-org/@ref", "iati-identifier", "participating-org/@ref"} {
		for _, v := range a.Values(p) {
			if !refOK.MatchString(v) {
				add("regex_matches "+p, Error, "%q holds a character /, &, | or ?", v)
			}
		}
	}

	// Guidance: a funder that publishes its own data makes this a secondary report.
	for _, fref := range a.Values("participating-org[@role='1']/@ref") {
		if cfg.Publishers[fref] && !secondary {
			add("secondary-reporter", Guidance, "funder %s publishes its own IATI data, but the activity is not marked secondary-reporter=\"1\"", fref)
		}
	}

	// sum: recipient-country and recipient-region percentages make 100.
	places := append(a.Values("recipient-country/@percentage"), a.Values("recipient-region/@percentage")...)
	if len(places) > 0 {
		if s, ok := sum(places); !ok || math.Abs(s-100) > 1e-6 {
			add("sum recipient-country/region percentage", Error, "percentages sum to %v, not 100", s)
		}
	}
	// strict_sum: sector percentages make 100 within each vocabulary; 98 and 99 have a
	// narrative and (guidance) an absolute vocabulary-uri.
	vocab := map[string][]string{}
	for _, s := range a.All("sector") {
		v := s.Attrs["vocabulary"]
		if v == "" {
			v = "1"
		}
		if p, ok := s.Attrs["percentage"]; ok {
			vocab[v] = append(vocab[v], p)
		}
		if v == "98" || v == "99" {
			if strings.TrimSpace(s.First("narrative")) == "" {
				add("if_then sector vocabulary 98/99 narrative", Error, "sector %s of vocabulary %s has no narrative", s.Attrs["code"], v)
			}
			u, err := url.Parse(s.Attrs["vocabulary-uri"])
			if err != nil || !u.IsAbs() || u.Host == "" {
				add("sector vocabulary-uri", Guidance, "sector %s of vocabulary %s has vocabulary-uri %q, not an absolute URL", s.Attrs["code"], v, s.Attrs["vocabulary-uri"])
			}
		}
	}
	for v, ps := range vocab {
		if s, ok := sum(ps); !ok || math.Abs(s-100) > 1e-6 {
			add("strict_sum sector percentage vocabulary "+v, Error, "percentages sum to %v, not 100", s)
		}
	}
	return out
}

func sum(ps []string) (float64, bool) {
	var s float64
	for _, p := range ps {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 {
			return s, false
		}
		s += f
	}
	return s, true
}

// Only keeps the findings of the given rules.
func Only(fs []Finding, rules ...string) []Finding {
	var out []Finding
	for _, f := range fs {
		for _, r := range rules {
			if f.Rule == r {
				out = append(out, f)
			}
		}
	}
	return out
}
