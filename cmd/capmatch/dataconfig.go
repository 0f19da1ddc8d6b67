package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/capmatch/capmatch/adapters/iati"
	"github.com/capmatch/capmatch/service"
)

// dataConfig is the configuration of open data in and out: how IATI exports name their
// publisher, where the deployment is reached, how large an IATI import may be, the licence of
// open data and how often anonymous clients may read it.
type dataConfig struct {
	IATI service.IATIConfig
	// Publisher is the reporting organisation of IATI exports (the export adapter's).
	Publisher iati.Org
	// IATIImportMaxBytes bounds the body of POST /api/v1/import/iati (the only route allowed
	// more than the API's 1 MiB).
	IATIImportMaxBytes int64
	OpenData           service.OpenDataConfig
}

// defaultIATIImportMB is the default size limit of an IATI import in MiB: the largest activity
// files on the IATI Registry are a few hundred MB, most far smaller.
const defaultIATIImportMB = 256

// iatiRef is the shape of an IATI organisation identifier: letters, digits, '.', '_' and '-'
// (e.g. XM-DAC-7, GB-COH-01234567, XI-IATI-EC_INTPA, 44000).
var iatiRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$`)

// loadDataConfig reads CAPMATCH_IATI_PUBLISHER_REF, _NAME and _TYPE, CAPMATCH_PUBLIC_URL,
// CAPMATCH_IATI_IMPORT_MAX_MB, CAPMATCH_OPEN_DATA_LICENSE and CAPMATCH_PUBLIC_RATE_LIMIT;
// the first bad one stops start-up with a configError naming it.
func loadDataConfig(getenv func(string) string) (dataConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var c dataConfig
	ref, name, typ := get("CAPMATCH_IATI_PUBLISHER_REF"), get("CAPMATCH_IATI_PUBLISHER_NAME"), get("CAPMATCH_IATI_PUBLISHER_TYPE")
	if ref != "" && !iatiRef.MatchString(ref) {
		return c, &configError{"CAPMATCH_IATI_PUBLISHER_REF", fmt.Sprintf("%q is not an IATI organisation identifier (e.g. XM-DAC-7, GB-COH-01234567): letters, digits, '.', '_' and '-'", ref)}
	}
	if ref == iati.PlaceholderRef {
		return c, &configError{"CAPMATCH_IATI_PUBLISHER_REF", "is the placeholder " + iati.PlaceholderRef + "; set your registered organisation identifier, or leave it unset"}
	}
	if utf8.RuneCountInString(name) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return c, &configError{"CAPMATCH_IATI_PUBLISHER_NAME", "must be at most 200 characters without control characters"}
	}
	if typ != "" && !iati.InCodelist("OrganisationType", typ) {
		return c, &configError{"CAPMATCH_IATI_PUBLISHER_TYPE", fmt.Sprintf("%q is not an IATI OrganisationType code (10 government, 21 international NGO, 40 multilateral, 80 academic, ...)", typ)}
	}
	if ref == "" && (name != "" || typ != "") {
		return c, &configError{"CAPMATCH_IATI_PUBLISHER_REF", "is required when CAPMATCH_IATI_PUBLISHER_NAME or _TYPE is set"}
	}
	c.Publisher.Ref, c.Publisher.Name, c.Publisher.Type = ref, name, typ

	if pu := get("CAPMATCH_PUBLIC_URL"); pu != "" {
		u, err := parsePublicURL(pu)
		if err != nil {
			return c, err
		}
		c.IATI.PublicURL = u
	}

	c.IATIImportMaxBytes = defaultIATIImportMB << 20
	if v := get("CAPMATCH_IATI_IMPORT_MAX_MB"); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < 2 || mb > 4096 {
			return c, &configError{"CAPMATCH_IATI_IMPORT_MAX_MB", fmt.Sprintf("%q must be a whole number of MiB from 2 to 4096", v)}
		}
		c.IATIImportMaxBytes = int64(mb) << 20
	}

	if v := get("CAPMATCH_OPEN_DATA_LICENSE"); v != "" {
		l, ok := service.LicenceByID(v)
		if !ok {
			return c, &configError{"CAPMATCH_OPEN_DATA_LICENSE", fmt.Sprintf("%q must be one of %s", v, strings.Join(service.LicenceIDs(), ", "))}
		}
		c.OpenData.Licence = l
	}
	if v := get("CAPMATCH_PUBLIC_RATE_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100_000 {
			return c, &configError{"CAPMATCH_PUBLIC_RATE_LIMIT", fmt.Sprintf("%q must be a whole number of requests per minute from 1 to 100000", v)}
		}
		c.OpenData.RatePerMinute = n
	}
	return c, nil
}
