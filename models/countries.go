package models

// unMembers holds the ISO codes of the 193 UN member states. The CSV does not carry
// membership, so it is kept here, grouped by the first letter of the UN's English short
// name (so "KP" sits under D for "Democratic People's Republic of Korea").
var unMembers = map[string]bool{
	// A
	"AF": true, "AL": true, "DZ": true, "AD": true, "AO": true, "AG": true, "AR": true,
	"AM": true, "AU": true, "AT": true, "AZ": true,
	// B
	"BS": true, "BH": true, "BD": true, "BB": true, "BY": true, "BE": true, "BZ": true,
	"BJ": true, "BT": true, "BO": true, "BA": true, "BW": true, "BR": true, "BN": true,
	"BG": true, "BF": true, "BI": true,
	// C
	"CV": true, "KH": true, "CM": true, "CA": true, "CF": true, "TD": true, "CL": true,
	"CN": true, "CO": true, "KM": true, "CG": true, "CR": true, "CI": true, "HR": true,
	"CU": true, "CY": true, "CZ": true,
	// D
	"KP": true, "CD": true, "DK": true, "DJ": true, "DM": true, "DO": true,
	// E
	"EC": true, "EG": true, "SV": true, "GQ": true, "ER": true, "EE": true, "SZ": true,
	"ET": true,
	// F
	"FJ": true, "FI": true, "FR": true,
	// G
	"GA": true, "GM": true, "GE": true, "DE": true, "GH": true, "GR": true, "GD": true,
	"GT": true, "GN": true, "GW": true, "GY": true,
	// H
	"HT": true, "HN": true, "HU": true,
	// I
	"IS": true, "IN": true, "ID": true, "IR": true, "IQ": true, "IE": true, "IL": true,
	"IT": true,
	// J
	"JM": true, "JP": true, "JO": true,
	// K
	"KZ": true, "KE": true, "KI": true, "KW": true, "KG": true,
	// L
	"LA": true, "LV": true, "LB": true, "LS": true, "LR": true, "LY": true, "LI": true,
	"LT": true, "LU": true,
	// M
	"MG": true, "MW": true, "MY": true, "MV": true, "ML": true, "MT": true, "MH": true,
	"MR": true, "MU": true, "MX": true, "FM": true, "MC": true, "MN": true, "ME": true,
	"MA": true, "MZ": true, "MM": true,
	// N
	"NA": true, "NR": true, "NP": true, "NL": true, "NZ": true, "NI": true, "NE": true,
	"NG": true, "MK": true, "NO": true,
	// O
	"OM": true,
	// P
	"PK": true, "PW": true, "PA": true, "PG": true, "PY": true, "PE": true, "PH": true,
	"PL": true, "PT": true,
	// Q
	"QA": true,
	// R
	"KR": true, "MD": true, "RO": true, "RU": true, "RW": true,
	// S
	"KN": true, "LC": true, "VC": true, "WS": true, "SM": true, "ST": true, "SA": true,
	"SN": true, "RS": true, "SC": true, "SL": true, "SG": true, "SK": true, "SI": true,
	"SB": true, "SO": true, "ZA": true, "SS": true, "ES": true, "LK": true, "SD": true,
	"SR": true, "SE": true, "CH": true, "SY": true,
	// T
	"TJ": true, "TH": true, "TL": true, "TG": true, "TO": true, "TT": true, "TN": true,
	"TR": true, "TM": true, "TV": true,
	// U
	"UG": true, "UA": true, "AE": true, "GB": true, "TZ": true, "US": true, "UY": true,
	"UZ": true,
	// V
	"VU": true, "VE": true, "VN": true,
	// Y
	"YE": true,
	// Z
	"ZM": true, "ZW": true,
}

// unObservers holds the ISO codes of the two UN non-member observer states.
var unObservers = map[string]bool{"VA": true, "PS": true}
