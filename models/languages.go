package models

// Language is an ISO 639-1 language, so that needs and offers can say in which languages
// help must be, or can be, delivered, and the UI can show each language by a name its
// speakers recognise.
type Language struct {
	Code   string `json:"code"`
	Name   string `json:"name"`             // English name
	Native string `json:"native,omitempty"` // the language's name for itself, where known
}

// languageEntry holds one ISO 639-1 code with its names in every catalogue language.
type languageEntry struct {
	code, en, fr, es, native string
}

// languageTable lists the 183 current ISO 639-1 two-letter codes, sorted by code. The
// English, French and Spanish names and the native names come from CLDR (the Arabic, Chinese
// and Russian ones too, generated into languages_un.go); "bh" (Bihari), withdrawn from ISO
// 639-1 in 2021, is deliberately absent.
var languageTable = []languageEntry{
	{"aa", "Afar", "Afar", "Afar", "Qafar af"},
	{"ab", "Abkhazian", "Abkhaze", "Abjasio", "аҧсуа бызшәа"},
	{"ae", "Avestan", "Avestique", "Avéstico", ""},
	{"af", "Afrikaans", "Afrikaans", "Afrikáans", "Afrikaans"},
	{"ak", "Akan", "Akan", "Akan", "Akan"},
	{"am", "Amharic", "Amharique", "Amárico", "አማርኛ"},
	{"an", "Aragonese", "Aragonais", "Aragonés", "aragonés"},
	{"ar", "Arabic", "Arabe", "Árabe", "العربية"},
	{"as", "Assamese", "Assamais", "Asamés", "অসমীয়া"},
	{"av", "Avaric", "Avar", "Avar", ""},
	{"ay", "Aymara", "Aymara", "Aimara", "Aymar aru"},
	{"az", "Azerbaijani", "Azéri", "Azerbaiyano", "azərbaycan"},
	{"ba", "Bashkir", "Bachkir", "Baskir", "башҡорт теле"},
	{"be", "Belarusian", "Biélorusse", "Bielorruso", "беларуская"},
	{"bg", "Bulgarian", "Bulgare", "Búlgaro", "български"},
	{"bi", "Bislama", "Bichelamar", "Bislama", "Bislama"},
	{"bm", "Bambara", "Bambara", "Bambara", "bamanakan"},
	{"bn", "Bengali", "Bengali", "Bengalí", "বাংলা"},
	{"bo", "Tibetan", "Tibétain", "Tibetano", "བོད་སྐད་"},
	{"br", "Breton", "Breton", "Bretón", "brezhoneg"},
	{"bs", "Bosnian", "Bosniaque", "Bosnio", "bosanski"},
	{"ca", "Catalan", "Catalan", "Catalán", "català"},
	{"ce", "Chechen", "Tchétchène", "Checheno", "нохчийн"},
	{"ch", "Chamorro", "Chamorro", "Chamorro", "Chamoru"},
	{"co", "Corsican", "Corse", "Corso", "corsu"},
	{"cr", "Cree", "Cree", "Cree", ""},
	{"cs", "Czech", "Tchèque", "Checo", "čeština"},
	{"cu", "Church Slavic", "Slavon d'église", "Eslavo eclesiástico", ""},
	{"cv", "Chuvash", "Tchouvache", "Chuvasio", "чӑваш чӗлхи"},
	{"cy", "Welsh", "Gallois", "Galés", "Cymraeg"},
	{"da", "Danish", "Danois", "Danés", "dansk"},
	{"de", "German", "Allemand", "Alemán", "Deutsch"},
	{"dv", "Divehi", "Maldivien", "Divehi", "ދިވެހި"},
	{"dz", "Dzongkha", "Dzongkha", "Dzongkha", "རྫོང་ཁ"},
	{"ee", "Ewe", "Éwé", "Ewé", "Eʋegbe"},
	{"el", "Greek", "Grec", "Griego", "Ελληνικά"},
	{"en", "English", "Anglais", "Inglés", "English"},
	{"eo", "Esperanto", "Espéranto", "Esperanto", "esperanto"},
	{"es", "Spanish", "Espagnol", "Español", "español"},
	{"et", "Estonian", "Estonien", "Estonio", "eesti"},
	{"eu", "Basque", "Basque", "Euskera", "euskara"},
	{"fa", "Persian", "Persan", "Persa", "فارسی"},
	{"ff", "Fulah", "Peul", "Fula", "Pulaar"},
	{"fi", "Finnish", "Finnois", "Finés", "suomi"},
	{"fj", "Fijian", "Fidjien", "Fiyiano", "Vosa Vakaviti"},
	{"fo", "Faroese", "Féroïen", "Feroés", "føroyskt"},
	{"fr", "French", "Français", "Francés", "français"},
	{"fy", "Western Frisian", "Frison occidental", "Frisón occidental", "Frysk"},
	{"ga", "Irish", "Irlandais", "Irlandés", "Gaeilge"},
	{"gd", "Scottish Gaelic", "Gaélique écossais", "Gaélico escocés", "Gàidhlig"},
	{"gl", "Galician", "Galicien", "Gallego", "galego"},
	{"gn", "Guarani", "Guarani", "Guaraní", "Avañe'ẽ"},
	{"gu", "Gujarati", "Goudjerati", "Guyaratí", "ગુજરાતી"},
	{"gv", "Manx", "Mannois", "Manés", "Gaelg"},
	{"ha", "Hausa", "Haoussa", "Hausa", "Hausa"},
	{"he", "Hebrew", "Hébreu", "Hebreo", "עברית"},
	{"hi", "Hindi", "Hindi", "Hindi", "हिन्दी"},
	{"ho", "Hiri Motu", "Hiri motu", "Hiri motu", "Hiri Motu"},
	{"hr", "Croatian", "Croate", "Croata", "hrvatski"},
	{"ht", "Haitian Creole", "Créole haïtien", "Criollo haitiano", "Kreyòl ayisyen"},
	{"hu", "Hungarian", "Hongrois", "Húngaro", "magyar"},
	{"hy", "Armenian", "Arménien", "Armenio", "հայերեն"},
	{"hz", "Herero", "Héréro", "Herero", "Otjiherero"},
	{"ia", "Interlingua", "Interlingua", "Interlingua", "Interlingua"},
	{"id", "Indonesian", "Indonésien", "Indonesio", "Indonesia"},
	{"ie", "Interlingue", "Interlingue", "Interlingue", "Interlingue"},
	{"ig", "Igbo", "Igbo", "Igbo", "Igbo"},
	{"ii", "Sichuan Yi", "Yi du Sichuan", "Yi de Sichuán", "ꆈꌠꉙ"},
	{"ik", "Inupiaq", "Inupiaq", "Inupiaq", "Iñupiaq"},
	{"io", "Ido", "Ido", "Ido", "Ido"},
	{"is", "Icelandic", "Islandais", "Islandés", "íslenska"},
	{"it", "Italian", "Italien", "Italiano", "italiano"},
	{"iu", "Inuktitut", "Inuktitut", "Inuktitut", "ᐃᓄᒃᑎᑐᑦ"},
	{"ja", "Japanese", "Japonais", "Japonés", "日本語"},
	{"jv", "Javanese", "Javanais", "Javanés", "Basa Jawa"},
	{"ka", "Georgian", "Géorgien", "Georgiano", "ქართული"},
	{"kg", "Kongo", "Kongo", "Kongo", "Kikongo"},
	{"ki", "Kikuyu", "Kikuyu", "Kikuyu", "Gikuyu"},
	{"kj", "Kuanyama", "Kouanyama", "Kuanyama", "Oshikwanyama"},
	{"kk", "Kazakh", "Kazakh", "Kazajo", "қазақ тілі"},
	{"kl", "Kalaallisut", "Groenlandais", "Groenlandés", "kalaallisut"},
	{"km", "Khmer", "Khmer", "Jemer", "ខ្មែរ"},
	{"kn", "Kannada", "Kannada", "Canarés", "ಕನ್ನಡ"},
	{"ko", "Korean", "Coréen", "Coreano", "한국어"},
	{"kr", "Kanuri", "Kanouri", "Kanuri", ""},
	{"ks", "Kashmiri", "Kashmiri", "Cachemiro", "کٲشُر"},
	{"ku", "Kurdish", "Kurde", "Kurdo", "Kurdî"},
	{"kv", "Komi", "Komi", "Komi", "коми кыв"},
	{"kw", "Cornish", "Cornique", "Córnico", "kernewek"},
	{"ky", "Kyrgyz", "Kirghize", "Kirguís", "кыргызча"},
	{"la", "Latin", "Latin", "Latín", "Latina"},
	{"lb", "Luxembourgish", "Luxembourgeois", "Luxemburgués", "Lëtzebuergesch"},
	{"lg", "Ganda", "Ganda", "Ganda", "Luganda"},
	{"li", "Limburgish", "Limbourgeois", "Limburgués", "Limburgs"},
	{"ln", "Lingala", "Lingala", "Lingala", "lingála"},
	{"lo", "Lao", "Lao", "Lao", "ລາວ"},
	{"lt", "Lithuanian", "Lituanien", "Lituano", "lietuvių"},
	{"lu", "Luba-Katanga", "Luba-katanga", "Luba-katanga", "Tshiluba"},
	{"lv", "Latvian", "Letton", "Letón", "latviešu"},
	{"mg", "Malagasy", "Malgache", "Malgache", "Malagasy"},
	{"mh", "Marshallese", "Marshallais", "Marshalés", ""},
	{"mi", "Maori", "Maori", "Maorí", "te reo Māori"},
	{"mk", "Macedonian", "Macédonien", "Macedonio", "македонски"},
	{"ml", "Malayalam", "Malayalam", "Malayalam", "മലയാളം"},
	{"mn", "Mongolian", "Mongol", "Mongol", "монгол"},
	{"mr", "Marathi", "Marathe", "Maratí", "मराठी"},
	{"ms", "Malay", "Malais", "Malayo", "Melayu"},
	{"mt", "Maltese", "Maltais", "Maltés", "Malti"},
	{"my", "Burmese", "Birman", "Birmano", "မြန်မာ"},
	{"na", "Nauru", "Nauruan", "Nauruano", "Dorerin Naoero"},
	{"nb", "Norwegian Bokmål", "Norvégien bokmål", "Noruego bokmal", "norsk bokmål"},
	{"nd", "North Ndebele", "Ndébélé du Nord", "Ndebele septentrional", "isiNdebele"},
	{"ne", "Nepali", "Népalais", "Nepalí", "नेपाली"},
	{"ng", "Ndonga", "Ndonga", "Ndonga", "Oshindonga"},
	{"nl", "Dutch", "Néerlandais", "Neerlandés", "Nederlands"},
	{"nn", "Norwegian Nynorsk", "Norvégien nynorsk", "Noruego nynorsk", "nynorsk"},
	{"no", "Norwegian", "Norvégien", "Noruego", "norsk"},
	{"nr", "South Ndebele", "Ndébélé du Sud", "Ndebele meridional", "isiNdebele"},
	{"nv", "Navajo", "Navaho", "Navajo", "Diné bizaad"},
	{"ny", "Chichewa", "Chichewa", "Chichewa", "Chichewa"},
	{"oc", "Occitan", "Occitan", "Occitano", "occitan"},
	{"oj", "Ojibwa", "Ojibwa", "Ojibwa", ""},
	{"om", "Oromo", "Oromo", "Oromo", "Oromoo"},
	{"or", "Odia", "Oriya", "Oriya", "ଓଡ଼ିଆ"},
	{"os", "Ossetian", "Ossète", "Osético", "ирон"},
	{"pa", "Punjabi", "Pendjabi", "Panyabí", "ਪੰਜਾਬੀ"},
	{"pi", "Pali", "Pali", "Pali", ""},
	{"pl", "Polish", "Polonais", "Polaco", "polski"},
	{"ps", "Pashto", "Pachto", "Pastún", "پښتو"},
	{"pt", "Portuguese", "Portugais", "Portugués", "português"},
	{"qu", "Quechua", "Quechua", "Quechua", "Runasimi"},
	{"rm", "Romansh", "Romanche", "Romanche", "rumantsch"},
	{"rn", "Rundi", "Roundi", "Kirundi", "Ikirundi"},
	{"ro", "Romanian", "Roumain", "Rumano", "română"},
	{"ru", "Russian", "Russe", "Ruso", "русский"},
	{"rw", "Kinyarwanda", "Kinyarwanda", "Kinyarwanda", "Kinyarwanda"},
	{"sa", "Sanskrit", "Sanskrit", "Sánscrito", "संस्कृतम्"},
	{"sc", "Sardinian", "Sarde", "Sardo", "sardu"},
	{"sd", "Sindhi", "Sindhi", "Sindhi", "سنڌي"},
	{"se", "Northern Sami", "Sami du Nord", "Sami septentrional", "davvisámegiella"},
	{"sg", "Sango", "Sangho", "Sango", "Sängö"},
	{"si", "Sinhala", "Cinghalais", "Cingalés", "සිංහල"},
	{"sk", "Slovak", "Slovaque", "Eslovaco", "slovenčina"},
	{"sl", "Slovenian", "Slovène", "Esloveno", "slovenščina"},
	{"sm", "Samoan", "Samoan", "Samoano", "Gagana Samoa"},
	{"sn", "Shona", "Shona", "Shona", "chiShona"},
	{"so", "Somali", "Somali", "Somalí", "Soomaali"},
	{"sq", "Albanian", "Albanais", "Albanés", "shqip"},
	{"sr", "Serbian", "Serbe", "Serbio", "српски"},
	{"ss", "Swati", "Swati", "Suazi", "siSwati"},
	{"st", "Southern Sotho", "Sotho du Sud", "Sesotho meridional", "Sesotho"},
	{"su", "Sundanese", "Soundanais", "Sundanés", "Basa Sunda"},
	{"sv", "Swedish", "Suédois", "Sueco", "svenska"},
	{"sw", "Swahili", "Swahili", "Suajili", "Kiswahili"},
	{"ta", "Tamil", "Tamoul", "Tamil", "தமிழ்"},
	{"te", "Telugu", "Télougou", "Telugu", "తెలుగు"},
	{"tg", "Tajik", "Tadjik", "Tayiko", "тоҷикӣ"},
	{"th", "Thai", "Thaï", "Tailandés", "ไทย"},
	{"ti", "Tigrinya", "Tigrigna", "Tigriña", "ትግርኛ"},
	{"tk", "Turkmen", "Turkmène", "Turcomano", "Türkmen dili"},
	{"tl", "Tagalog", "Tagalog", "Tagalo", "Tagalog"},
	{"tn", "Tswana", "Tswana", "Setsuana", "Setswana"},
	{"to", "Tongan", "Tonguien", "Tongano", "lea fakatonga"},
	{"tr", "Turkish", "Turc", "Turco", "Türkçe"},
	{"ts", "Tsonga", "Tsonga", "Tsonga", "Xitsonga"},
	{"tt", "Tatar", "Tatar", "Tártaro", "татар"},
	{"tw", "Twi", "Twi", "Twi", "Twi"},
	{"ty", "Tahitian", "Tahitien", "Tahitiano", "Reo Tahiti"},
	{"ug", "Uyghur", "Ouïghour", "Uigur", "ئۇيغۇرچە"},
	{"uk", "Ukrainian", "Ukrainien", "Ucraniano", "українська"},
	{"ur", "Urdu", "Ourdou", "Urdu", "اردو"},
	{"uz", "Uzbek", "Ouzbek", "Uzbeko", "o‘zbek"},
	{"ve", "Venda", "Venda", "Venda", "Tshivenḓa"},
	{"vi", "Vietnamese", "Vietnamien", "Vietnamita", "Tiếng Việt"},
	{"vo", "Volapük", "Volapuk", "Volapük", "Volapük"},
	{"wa", "Walloon", "Wallon", "Valón", "walon"},
	{"wo", "Wolof", "Wolof", "Wólof", "Wolof"},
	{"xh", "Xhosa", "Xhosa", "Xhosa", "isiXhosa"},
	{"yi", "Yiddish", "Yiddish", "Yidis", "ייִדיש"},
	{"yo", "Yoruba", "Yoruba", "Yoruba", "Èdè Yorùbá"},
	{"za", "Zhuang", "Zhuang", "Zhuang", ""},
	{"zh", "Chinese", "Chinois", "Chino", "中文"},
	{"zu", "Zulu", "Zoulou", "Zulú", "isiZulu"},
}

var languageIndex = func() map[string]int {
	m := make(map[string]int, len(languageTable))
	for i, l := range languageTable {
		m[l.code] = i
	}
	return m
}()

// ValidLanguage reports whether code is a current ISO 639-1 code. Only the canonical
// lower-case form is accepted, so that stored codes compare equal byte for byte.
func ValidLanguage(code string) bool {
	_, ok := languageIndex[code]
	return ok
}

// LookupLanguage finds an ISO 639-1 language by its lower-case code.
func LookupLanguage(code string) (Language, bool) {
	i, ok := languageIndex[code]
	if !ok {
		return Language{}, false
	}
	l := languageTable[i]
	return Language{Code: l.code, Name: l.en, Native: l.native}, true
}

// Languages returns every ISO 639-1 language sorted by code, as a fresh slice the caller
// may keep or change.
func Languages() []Language {
	out := make([]Language, len(languageTable))
	for i, l := range languageTable {
		out[i] = Language{Code: l.code, Name: l.en, Native: l.native}
	}
	return out
}

// languageName returns the name of the language with that code in the catalogue language
// lang, or "" for an unknown code.
func languageName(lang, code string) string {
	i, ok := languageIndex[code]
	if !ok {
		return ""
	}
	l := languageTable[i]
	switch NormalizeLang(lang) {
	case "ar":
		return unLanguageNames[code][0]
	case "zh":
		return unLanguageNames[code][1]
	case "ru":
		return unLanguageNames[code][2]
	}
	return text{EN: l.en, FR: l.fr, ES: l.es}.in(lang)
}
