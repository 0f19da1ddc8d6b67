// Package reference embeds the IATI 2.03 schema and code lists that capmatch writes against,
// so that the product and its tests need nothing outside the repository (a clone has no
// reference material beside it). See README.md in this folder for provenance and licence.
package reference

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FS holds the schema files at its root and the code lists under codelists/.
//
//go:embed *.xsd codelists/*.xml
var FS embed.FS

// SchemaFiles are the files of the 2.03 activity schema; they refer to one another by
// relative name and must sit in one folder.
var SchemaFiles = []string{"iati-activities-schema.xsd", "iati-common.xsd", "xml.xsd"}

// WriteSchema writes the activity schema into dir and returns the path of its main file,
// for validators such as xmllint that read files.
func WriteSchema(dir string) (string, error) {
	for _, name := range SchemaFiles {
		data, err := FS.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("reference: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", fmt.Errorf("reference: write %s: %w", name, err)
		}
	}
	return filepath.Join(dir, SchemaFiles[0]), nil
}

// Codelist returns the raw XML of one code list by name (e.g. "Sector").
func Codelist(name string) ([]byte, error) {
	data, err := fs.ReadFile(FS, "codelists/"+name+".xml")
	if err != nil {
		return nil, fmt.Errorf("reference: code list %s: %w", name, err)
	}
	return data, nil
}
