package web

import (
	"fmt"
	"io/fs"

	"github.com/capmatch/capmatch/i18n"
)

// The UI's words come from the one catalog (package i18n): the shared messages (match reasons,
// validation problems, notifications, formats) and the web's own bundle, i18n/<lang>.json
// here, with its pages' messages. The catalog checks that every language defines every key
// and that no key is defined twice.

// Localizer writes messages, labels, dates, numbers and money in one language; every page gets
// one as .L and templates call its methods.
type Localizer = i18n.Localizer

// loadCatalogs builds the catalog from the shared messages and the web's bundle, the
// i18n/<lang>.json files of fsys.
func loadCatalogs(fsys fs.FS) (*i18n.Catalog, error) {
	bundle, err := fs.Sub(fsys, "i18n")
	if err != nil {
		return nil, fmt.Errorf("web messages: %w", err)
	}
	return i18n.New(bundle)
}

// sortByName sorts items by a localized name with the language's collation (É after E, not
// after Z).
func sortByName[T any](l *Localizer, items []T, name func(T) string) { i18n.SortByName(l, items, name) }
