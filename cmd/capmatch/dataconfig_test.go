package main

import (
	"errors"
	"testing"

	"github.com/capmatch/capmatch/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDataConfig(t *testing.T) {
	c, err := loadDataConfig(env(nil))
	require.NoError(t, err)
	assert.Empty(t, c.Publisher.Ref, "unset: the service's documented placeholder")
	assert.Equal(t, int64(256<<20), c.IATIImportMaxBytes)
	assert.Zero(t, c.OpenData.RatePerMinute)

	c, err = loadDataConfig(env(map[string]string{"CAPMATCH_IATI_PUBLISHER_REF": "XI-IATI-CAPMATCHDESK", "CAPMATCH_IATI_PUBLISHER_NAME": "Desk",
		"CAPMATCH_IATI_PUBLISHER_TYPE": "40", "CAPMATCH_PUBLIC_URL": "https://capmatch.example.org/", "CAPMATCH_IATI_IMPORT_MAX_MB": "512",
		"CAPMATCH_OPEN_DATA_LICENSE": "cc0-1.0", "CAPMATCH_PUBLIC_RATE_LIMIT": "30"}))
	require.NoError(t, err)
	assert.Equal(t, "XI-IATI-CAPMATCHDESK", c.Publisher.Ref)
	assert.Equal(t, "Desk", c.Publisher.Name)
	assert.Equal(t, "40", c.Publisher.Type)
	assert.Equal(t, "https://capmatch.example.org", c.IATI.PublicURL)
	assert.Equal(t, int64(512<<20), c.IATIImportMaxBytes)
	assert.Equal(t, "CC0-1.0", c.OpenData.Licence.ID)
	assert.Equal(t, 30, c.OpenData.RatePerMinute)

	for name, tc := range map[string]struct {
		env     map[string]string
		wantVar string
	}{
		"ref with a slash":     {map[string]string{"CAPMATCH_IATI_PUBLISHER_REF": "XM/DAC"}, "CAPMATCH_IATI_PUBLISHER_REF"},
		"ref the placeholder":  {map[string]string{"CAPMATCH_IATI_PUBLISHER_REF": "XM-CAPMATCH"}, "CAPMATCH_IATI_PUBLISHER_REF"},
		"name without ref":     {map[string]string{"CAPMATCH_IATI_PUBLISHER_NAME": "Desk"}, "CAPMATCH_IATI_PUBLISHER_REF"},
		"type not in the list": {map[string]string{"CAPMATCH_IATI_PUBLISHER_REF": "XM-DAC-7", "CAPMATCH_IATI_PUBLISHER_TYPE": "99"}, "CAPMATCH_IATI_PUBLISHER_TYPE"},
		"name with a newline":  {map[string]string{"CAPMATCH_IATI_PUBLISHER_REF": "XM-DAC-7", "CAPMATCH_IATI_PUBLISHER_NAME": "a\nb"}, "CAPMATCH_IATI_PUBLISHER_NAME"},
		"relative public url":  {map[string]string{"CAPMATCH_PUBLIC_URL": "/capmatch"}, "CAPMATCH_PUBLIC_URL"},
		"public url query":     {map[string]string{"CAPMATCH_PUBLIC_URL": "https://x.example/?a=1"}, "CAPMATCH_PUBLIC_URL"},
		"import size":          {map[string]string{"CAPMATCH_IATI_IMPORT_MAX_MB": "1"}, "CAPMATCH_IATI_IMPORT_MAX_MB"},
		"import size word":     {map[string]string{"CAPMATCH_IATI_IMPORT_MAX_MB": "lots"}, "CAPMATCH_IATI_IMPORT_MAX_MB"},
		"licence":              {map[string]string{"CAPMATCH_OPEN_DATA_LICENSE": "MIT"}, "CAPMATCH_OPEN_DATA_LICENSE"},
		"rate":                 {map[string]string{"CAPMATCH_PUBLIC_RATE_LIMIT": "0"}, "CAPMATCH_PUBLIC_RATE_LIMIT"},
	} {
		_, err := loadDataConfig(env(tc.env))
		var ce *configError
		if assert.True(t, errors.As(err, &ce), "%s: %v", name, err) {
			assert.Equal(t, tc.wantVar, ce.Var, name)
		}
	}
	assert.Equal(t, "CC-BY-4.0", service.LicenceIDs()[0], "the default licence comes first")
}
