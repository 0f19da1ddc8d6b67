package web

import (
	"github.com/capmatch/capmatch/service"
	"github.com/gofiber/fiber/v2"
)

// openDataPage is the data dictionary of the open datasets (issue 18.2).
type openDataPage struct {
	Licence  service.Licence
	Rate     int
	Datasets []openDataset
}

// openDataset is one dataset with its files and columns described in the reader's language.
type openDataset struct {
	Name    string
	Columns []openColumn
}

// openColumn is one column: its stable name, type and description.
type openColumn struct {
	Name, Type, Desc string
}

// columnKey is the catalog key that describes a column of a dataset: the dataset's own
// (opendata.col.<dataset>.<column>) where the meaning differs between datasets (status,
// budget_usd, ...), else the one shared by every dataset (opendata.col.<column>).
func columnKey(L *Localizer, dataset, column string) string {
	if k := "opendata.col." + dataset + "." + column; L.Has(k) {
		return k
	}
	return "opendata.col." + column
}

// OpenData is the data dictionary: what each open dataset holds, column by column, with its
// files (CSV, JSON), the licence and the public read API. Anyone may read it.
func (u *UI) OpenData() fiber.Handler {
	return u.handle(anyone, func(r *req) error {
		p := &openDataPage{Licence: u.app.OpenData.Licence(), Rate: u.app.OpenData.RatePerMinute()}
		for _, ds := range service.Datasets {
			od := openDataset{Name: ds.Name}
			for _, c := range ds.Columns {
				od.Columns = append(od.Columns, openColumn{Name: c.Name, Type: c.Type, Desc: r.L.T(columnKey(r.L, ds.Name, c.Name))})
			}
			p.Datasets = append(p.Datasets, od)
		}
		return r.render(200, "opendata", r.L.T("opendata.title"), "opendata", p)
	})
}
