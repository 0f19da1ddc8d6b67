package models

// The problem codes a FieldError carries: what is wrong with a field, stable for clients and
// translations. The catalog (package i18n) has a message "problem.<code>" for each in every
// language, which names its arguments as {name}; the comment of each code lists them.
//
// To add one: a constant here (grouped by kind), its entry in ProblemCodes, and its message in
// every i18n/messages/<lang>.json (a test fails until each catalog has it); then
// p.Add(field, ProblemX, Args{...}) or Invalid(field, ProblemX, ...) where the rule lives.
const (
	// Presence.

	ProblemRequired         = "required"               // the field is missing or empty
	ProblemDateRequired     = "date_required"          // a required date is missing
	ProblemListRequired     = "list_required"          // a list needs at least one entry
	ProblemOrgRequired      = "org_required"           // a coordinator's need names no government organization
	ProblemOfferOrgRequired = "offer_org_required"     // an imported offer names no donor or implementer organization
	ProblemContactEmail     = "contact_email_required" // a contact name is given without an address

	// Text.

	ProblemInvalidUTF8     = "invalid_utf8"      // the text is not valid UTF-8
	ProblemControlChar     = "control_char"      // char (text): a control character in multiline text
	ProblemControlCharLine = "control_char_line" // char (text): a control character in one-line text
	ProblemTooLong         = "too_long"          // max, got (int): characters
	ProblemEmail           = "email"             // not one plain e-mail address
	ProblemURL             = "url"               // not an absolute http(s) URL
	ProblemWholeNumber     = "whole_number"      // a cell or field that is not a whole number
	ProblemJSONType        = "json_type"         // expected (code: string, integer, number, boolean, array, object)
	ProblemUnknownField    = "unknown_field"     // not a field of this object
	ProblemUnreadable      = "unreadable"        // the value could not be read
	ProblemUnknownColumn   = "unknown_column"    // name (text): a CSV column that is no field
	ProblemRepeatedColumn  = "repeated_column"   // name (text): a CSV column named twice
	ProblemCellCount       = "cell_count"        // got, want (int): cells in a CSV line against the header's columns
	ProblemCSVLine         = "csv_line"          // detail (text): a CSV line that cannot be read
	ProblemInvalidID       = "invalid_id"        // not an object id
	ProblemVersionFormat   = "version_format"    // If-Match is not a version number
	ProblemVersionMismatch = "version_mismatch"  // the body's version differs from If-Match
	ProblemCursor          = "cursor_invalid"    // a list cursor from another list or forged
	ProblemPhone           = "phone"             // value (text): not an international number in E.164 form

	// Lists.

	ProblemListTooLong = "list_too_long"    // max, got (int): entries
	ProblemRepeated    = "repeated"         // first (code: the field path of the first one), value (text)
	ProblemImportEmpty = "import_empty"     // an import with no rows
	ProblemImportLarge = "import_too_large" // max (int): rows

	// Vocabularies: value (text) is what was sent.

	ProblemUnknownCountry    = "unknown_country"
	ProblemUnknownRegion     = "unknown_region"
	ProblemUnknownTheme      = "unknown_theme"
	ProblemUnknownCapability = "unknown_capability"
	ProblemUnknownModality   = "unknown_modality"
	ProblemUnknownLanguage   = "unknown_language"
	ProblemUnknownFramework  = "unknown_framework"
	ProblemOneOf             = "one_of" // allowed (code list): the values accepted
	// ProblemTranslationOwnLang: lang (language): a translation into the language the original is written in.
	ProblemTranslationOwnLang = "translation_own_language"

	// Self-assessments.

	ProblemQuestionnaire   = "questionnaire"    // current, value (text): answers to another version of the questionnaire
	ProblemUnknownQuestion = "unknown_question" // value (text): no such question in the questionnaire
	ProblemRepeatedAnswer  = "repeated_answer"  // a second answer to the same question

	// Numbers. min and max are of the kind of the field (int, usd, share, number).

	ProblemRange         = "range"           // min, max: the value is outside [min, max]
	ProblemNotFinite     = "not_finite"      // a number that is NaN or infinite
	ProblemStageRange    = "stage_range"     // min, max (int), framework (maturity_framework)
	ProblemMaturityOrder = "maturity_order"  // current (int): the target is below the current stage
	ProblemDecimals      = "weight_decimals" // places (int): a weight with too many decimals
	ProblemWeightSum     = "weight_sum"      // sum (share): weights that do not add up to 1

	// Dates.

	ProblemDateInvalid      = "date_invalid"      // got (text): not a real date written YYYY-MM-DD
	ProblemDateOrder        = "date_order"        // start (date): the end is before the start
	ProblemOutsideWindow    = "outside_window"    // window (date_range): the offer's availability
	ProblemBeforeEngagement = "before_engagement" // start (date): the engagement's period starts later
	ProblemAfterEngagement  = "after_engagement"  // end (date): the engagement's period ends earlier

	// Marketplace rules.

	ProblemCapabilityTheme   = "capability_theme"    // capability, theme (its theme), chosen (theme)
	ProblemCapabilityNoTheme = "capability_no_theme" // capability, theme: the offer lacks the capability's theme
	ProblemExceedsOffer      = "exceeds_offer"       // remaining (usd): what remains of the offer
	ProblemBelowUsed         = "below_used"          // count (int): engagements already agreed
	ProblemBelowCommitted    = "below_committed"     // committed (usd): already committed
	ProblemOrgCountry        = "org_country"         // organization (text), country (country)
	ProblemUnknownOrg        = "unknown_organization"
	ProblemOrgNotGovernment  = "org_not_government"
	ProblemOrgNotImplementer = "org_not_implementer" // neither an implementer nor a donor
	ProblemRoleOrg           = "role_org"            // role (code), org_type (code): a role the organization's type cannot hold

	// Accounts and secrets.

	ProblemEmailTaken       = "email_taken"
	ProblemPasswordLength   = "password_length"   // min (int): characters, max (int): bytes
	ProblemPasswordShort    = "password_short"    // min (int): characters
	ProblemPasswordLong     = "password_long"     // max (int): bytes
	ProblemPasswordWeak     = "password_weak"     // too common or too easy to guess
	ProblemPasswordPersonal = "password_personal" // built on the user's name, e-mail or the service's name
	ProblemPasswordSame     = "password_same"     // the new password is the current one
	ProblemPasswordWrong    = "password_wrong"    // not the current password
	ProblemTokenInvalid     = "token_invalid"     // a reset link that is not valid or has expired
	ProblemSecretFormat     = "secret_format"     // min, max (int): printable ASCII characters
	ProblemSecretRequired   = "secret_required"   // min, max (int)
	ProblemURLHTTPS         = "url_https"         // a webhook URL that is not absolute https
	ProblemURLCredentials   = "url_credentials"   // a webhook URL with a user name or password
	ProblemURLFragment      = "url_fragment"      // a webhook URL with a fragment
	ProblemURLInternal      = "url_internal"      // a webhook URL naming a local, internal or reserved host

	// Open aid data (IATI).

	ProblemIATIRef     = "iati_ref"      // not an IATI organisation identifier such as XM-DAC-7
	ProblemIATIOrgType = "iati_org_type" // not a code of the IATI OrganisationType list
	ProblemIATIFile    = "iati_file"     // reason (code: the reader's refusal), detail (text): a file that cannot be imported

	// Readiness, Points of Contact and projects.

	ProblemDerived           = "derived"             // from (code: poc_directory or poc_checks): a fact derived, not declared
	ProblemCountriesOrRegion = "countries_or_region" // give countries or a region, and not both
	ProblemNoContacts        = "no_contacts"         // none of the countries named has a Point of Contact
	ProblemFutureDate        = "future_date"         // today (date): a date that records what happened, after today
	ProblemPipelineActual    = "pipeline_actual"     // an actual date on a project still in pipeline
)

// ProblemCodes lists every problem code, so that a test can check each has a message in every
// language.
var ProblemCodes = []string{
	ProblemRequired, ProblemDateRequired, ProblemListRequired, ProblemOrgRequired, ProblemOfferOrgRequired, ProblemContactEmail,
	ProblemInvalidUTF8, ProblemControlChar, ProblemControlCharLine, ProblemTooLong, ProblemEmail, ProblemURL,
	ProblemWholeNumber, ProblemJSONType, ProblemUnknownField, ProblemUnreadable, ProblemUnknownColumn, ProblemRepeatedColumn,
	ProblemCellCount, ProblemCSVLine, ProblemInvalidID, ProblemVersionFormat, ProblemVersionMismatch, ProblemCursor, ProblemPhone,
	ProblemListTooLong, ProblemRepeated, ProblemImportEmpty, ProblemImportLarge,
	ProblemUnknownCountry, ProblemUnknownRegion, ProblemUnknownTheme, ProblemUnknownCapability, ProblemUnknownModality,
	ProblemUnknownLanguage, ProblemUnknownFramework, ProblemOneOf, ProblemTranslationOwnLang,
	ProblemQuestionnaire, ProblemUnknownQuestion, ProblemRepeatedAnswer,
	ProblemRange, ProblemNotFinite, ProblemStageRange, ProblemMaturityOrder, ProblemDecimals, ProblemWeightSum,
	ProblemDateInvalid, ProblemDateOrder, ProblemOutsideWindow, ProblemBeforeEngagement, ProblemAfterEngagement,
	ProblemCapabilityTheme, ProblemCapabilityNoTheme, ProblemExceedsOffer, ProblemBelowUsed, ProblemBelowCommitted,
	ProblemOrgCountry, ProblemUnknownOrg, ProblemOrgNotGovernment, ProblemOrgNotImplementer, ProblemRoleOrg,
	ProblemEmailTaken, ProblemPasswordLength, ProblemPasswordShort, ProblemPasswordLong, ProblemPasswordWeak,
	ProblemPasswordPersonal, ProblemPasswordSame, ProblemPasswordWrong, ProblemTokenInvalid, ProblemSecretFormat,
	ProblemSecretRequired, ProblemURLHTTPS, ProblemURLCredentials, ProblemURLFragment, ProblemURLInternal,
	ProblemIATIRef, ProblemIATIOrgType, ProblemIATIFile,
	ProblemDerived, ProblemCountriesOrRegion, ProblemNoContacts, ProblemFutureDate, ProblemPipelineActual,
}

// ArgSent is a value a client sent, as a problem's argument: text cut short, so that a hostile
// value cannot blow up the response.
func ArgSent(s string) Arg { return ArgText(clipValue(s)) }

// OneOf is the arguments of a one_of problem: the values a field accepts.
func OneOf[T ~string](allowed []T) Args {
	return Args{"allowed": ArgCodes(codes(allowed)...)}
}
