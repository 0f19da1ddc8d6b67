package iati

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capmatch/capmatch/models"
)

var _ models.AidDataReader = Importer{}

// openAll reads every activity of a file through the application layer's port.
func openAll(t *testing.T, r io.Reader) ([]*models.AidDataActivity, string, error) {
	t.Helper()
	f := Importer{}.Open(r)
	var out []*models.AidDataActivity
	for {
		a, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out, f.Version(), nil
		}
		if err != nil {
			return out, f.Version(), err
		}
		out = append(out, a)
	}
}

// TestImporterMapsActivitiesToExternalActivities: the port hands the import use case activities
// already in capmatch's terms: key, narratives, recipients with percentages and UN M49 regions,
// capabilities, money in whole US dollars or listed as unconverted, notes and cyber terms.
func TestImporterMapsActivitiesToExternalActivities(t *testing.T) {
	acts, version, err := openAll(t, bytes.NewReader(fixture(t, "nl-mfa-2.03.xml")))
	require.NoError(t, err)
	assert.Equal(t, "2.03", version)
	require.Len(t, acts, 3)
	x := acts[0].Activity
	assert.Equal(t, 0, acts[0].Index)
	assert.Equal(t, models.ExternalKey("XM-DAC-7-PPR-4000012345"), x.Key)
	assert.Equal(t, "XM-DAC-7-PPR-4000012345", x.IATIIdentifier)
	assert.Equal(t, "National CSIRT establishment in West Africa", x.Title, "English first")
	assert.Equal(t, []models.ExternalCountry{{Code: "SN", Percentage: 60}, {Code: "GH", Percentage: 40}}, x.Countries)
	require.Len(t, x.Capabilities, 1)
	assert.Equal(t, models.CapCERTSetup, x.Capabilities[0].Capability)
	assert.Equal(t, []string{"EUR"}, x.Totals.Unconverted)
	assert.Nil(t, x.Budgets[0].USD, "EUR is kept as published")
	assert.Equal(t, []models.ExternalRegion{{Vocabulary: "1", Code: "1030", M49: "011", Percentage: 100}}, acts[1].Activity.Regions)
	assert.Empty(t, acts[2].Activity.Capabilities, "water and sanitation")
	assert.Empty(t, acts[2].CyberTerms)

	doc := `<iati-activities version="2.03"><iati-activity default-currency="USD"><iati-identifier>XM-T-1</iati-identifier>` +
		`<title><narrative>Cyber resilience of hospitals</narrative></title>` +
		`<recipient-country code="SN"/><recipient-country code="ZZ" percentage="10"/><recipient-region code="9999" vocabulary="1"/>` +
		`<budget type="1"><period-start iso-date="2025-01-01"/><period-end iso-date="2025-12-31"/><value value-date="2025-01-01">1000.5</value></budget>` +
		`</iati-activity></iati-activities>`
	acts, _, err = openAll(t, strings.NewReader(doc))
	require.NoError(t, err)
	require.Len(t, acts, 1)
	a := acts[0]
	assert.Equal(t, "Cyber resilience of hospitals", a.Activity.Title)
	assert.Equal(t, []string{"cyber"}, a.CyberTerms)
	assert.Equal(t, int64(1001), a.Activity.Totals.BudgetUSD, "whole dollars, half away from zero")
	assert.Equal(t, []models.AidDataNote{
		{Code: NoteUnknownCountry, Args: models.Args{"code": models.ArgText("ZZ")}},
		{Code: NoteRegionUnmapped, Args: models.Args{"vocabulary": models.ArgCode("1"), "code": models.ArgText("9999")}},
		{Code: NotePercentageMissing},
	}, a.Notes)
}

// TestImporterRefusalsAreTyped: a file that cannot be imported is a *models.AidDataError with
// the reader's code, typed arguments and a kind errors.Is maps to a status.
func TestImporterRefusalsAreTyped(t *testing.T) {
	_, _, err := openAll(t, strings.NewReader(`<iati-activities version="1.05"><iati-activity/></iati-activities>`))
	var re *models.AidDataError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodeUnsupportedVersion, re.Code)
	assert.Equal(t, models.Args{"version": models.ArgText("1.05")}, re.Args)
	assert.Equal(t, -1, re.Activity)
	assert.ErrorIs(t, err, models.ErrInvalid)

	_, _, err = openAll(t, strings.NewReader(`<iati-activities version="2.03"><iati-activity><iati-identifier>X-1</iati-identifier>`+
		`<activity-date type="1" iso-date="2024-13-45"/></iati-activity></iati-activities>`))
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodeBadDate, re.Code)
	assert.Equal(t, 0, re.Activity)
	assert.Equal(t, "X-1", re.Identifier)
	assert.Equal(t, models.Args{"element": models.ArgCode("activity-date[@type=1]/@iso-date"), "value": models.ArgText("2024-13-45")}, re.Args)
	assert.Contains(t, err.Error(), "bad_date (element=activity-date[@type=1]/@iso-date, value=2024-13-45)")
}
