package iati

import (
	"encoding/xml"
	"sync"

	"github.com/capmatch/capmatch/adapters/iati/reference"
)

// codelists caches the code lists of reference/ by name: code → English name.
var codelists sync.Map // name → *codelistCache

type codelistCache struct {
	once  sync.Once
	names map[string]string
}

// Codes returns the codes of one IATI 2.03 code list kept in reference/ (e.g.
// "OrganisationType", "Sector", "Currency") with their English names, read once. An unknown
// list is empty.
func Codes(name string) map[string]string {
	v, _ := codelists.LoadOrStore(name, &codelistCache{})
	cl := v.(*codelistCache)
	cl.once.Do(func() {
		cl.names = map[string]string{}
		data, err := reference.Codelist(name)
		if err != nil {
			return
		}
		var doc struct {
			Items []struct {
				Code  string `xml:"code"`
				Names []struct {
					Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
					Text string `xml:",chardata"`
				} `xml:"name>narrative"`
			} `xml:"codelist-items>codelist-item"`
		}
		if xml.Unmarshal(data, &doc) != nil {
			return
		}
		for _, it := range doc.Items {
			name := ""
			for _, n := range it.Names {
				if n.Lang == "" || n.Lang == "en" {
					name = n.Text
					break
				}
			}
			cl.names[it.Code] = name
		}
	})
	return cl.names
}

// InCodelist reports whether code is in the named IATI 2.03 code list.
func InCodelist(name, code string) bool {
	_, ok := Codes(name)[code]
	return ok
}
