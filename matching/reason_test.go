package matching

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/capmatch/capmatch/models"
)

// reasonOf writes a factor's reason code and arguments in one line the tests can compare:
// the code, then each argument as name=value in name order. Lists are [a b], date ranges
// from..until, periods months@start (+today), stages stage/framework, shares and numbers as
// decimals, amounts $n.
func reasonOf(f Factor) string {
	names := make([]string, 0, len(f.Args))
	for k := range f.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := []string{f.Code}
	for _, k := range names {
		parts = append(parts, k+"="+argString(f.Args[k]))
	}
	return strings.Join(parts, " ")
}

func argString(a models.Arg) string {
	switch {
	case a.IsList():
		return "[" + strings.Join(a.List(), " ") + "]"
	case a.Kind == models.ArgKindDateRange:
		r := a.DateRange()
		return string(r.From) + ".." + string(r.Until)
	case a.Kind == models.ArgKindPeriod:
		p := a.Period()
		s := strconv.Itoa(p.Months) + "m@" + string(p.Start)
		if p.FromToday {
			s += "(today)"
		}
		return s
	case a.Kind == models.ArgKindStage:
		return fmt.Sprintf("%d/%s", a.Int(), a.Of)
	case a.Kind == models.ArgKindUSD:
		return "$" + strconv.FormatInt(a.Int(), 10)
	case a.Kind == models.ArgKindShare, a.Kind == models.ArgKindNumber:
		return strconv.FormatFloat(a.Float(), 'f', -1, 64)
	}
	return a.Str()
}
