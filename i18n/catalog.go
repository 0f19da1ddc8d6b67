package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed messages/*.json
var messagesFS embed.FS

// Catalog holds every message in every language: the shared messages embedded here (codes and
// formats) and the bundles an edge adds (the web's pages). Build one with New; Default is the
// shared messages alone, for edges with no words of their own (the API, the CLI).
type Catalog struct {
	langs []string // "en" first, then the others in order
	msgs  map[string]map[string]string
	locs  map[string]*Localizer
	// accepted remembers Negotiate's answer for the Accept-Language values seen (at most
	// acceptedMax of them): browsers send a handful of distinct values, and parsing one costs
	// more than the rest of a kept answer's language handling.
	accepted     sync.Map // Accept-Language value → language
	acceptedSize atomic.Int32
}

// acceptedMax bounds Catalog.accepted: values beyond it are parsed on every request, so that
// a client sending random headers cannot grow the memory.
const acceptedMax = 512

// New loads the shared messages and the given bundles. A bundle is a file system whose root
// holds one <lang>.json per language (a JSON object of key → message). The languages are the
// shared messages' files; every bundle must have the same, and every language must define the
// same keys, none empty (a plural form a language alone has is the exception: key.zero, .two,
// .few and .many may stand alone as long as every language has key.other), so that no page or
// response ever shows a key instead of a phrase. A key may be defined by one bundle only: one
// source of truth per message. The placeholders a translation uses must be the English
// message's.
func New(bundles ...fs.FS) (*Catalog, error) {
	shared, err := fs.Sub(messagesFS, "messages")
	if err != nil {
		return nil, err
	}
	return load(append([]fs.FS{shared}, bundles...))
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
)

// Default is the catalog of the shared messages: reasons, problems, notifications and formats.
// It is embedded and checked by the tests, so a failure to load it is a bug: it panics.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := New()
		if err != nil {
			panic(fmt.Sprintf("i18n: shared messages: %v", err))
		}
		defaultCat = c
	})
	return defaultCat
}

func load(bundles []fs.FS) (*Catalog, error) {
	langs, err := langsOf(bundles[0])
	if err != nil {
		return nil, err
	}
	c := &Catalog{langs: langs, msgs: map[string]map[string]string{}, locs: map[string]*Localizer{}}
	owner := map[string]int{} // key → the bundle that defines it
	for _, l := range langs {
		c.msgs[l] = map[string]string{}
	}
	for bi, b := range bundles {
		got, err := langsOf(b)
		if err != nil {
			return nil, err
		}
		if strings.Join(got, ",") != strings.Join(langs, ",") {
			return nil, fmt.Errorf("bundle %d has languages %v, the shared messages %v", bi, got, langs)
		}
		for _, l := range langs {
			raw, err := fs.ReadFile(b, l+".json")
			if err != nil {
				return nil, fmt.Errorf("read %s messages: %w", l, err)
			}
			m := map[string]string{}
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("parse %s messages (bundle %d): %w", l, bi, err)
			}
			for k, v := range m {
				if o, ok := owner[k]; ok && o != bi {
					return nil, fmt.Errorf("%q is defined by two bundles (%d and %d): one source of truth per message", k, o, bi)
				}
				owner[k] = bi
				c.msgs[l][k] = v
			}
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	for _, l := range langs {
		tag := language.Make(l)
		c.locs[l] = &Localizer{Lang: l, msgs: c.msgs[l], fall: c.msgs["en"], printer: message.NewPrinter(tag), tag: tag}
	}
	return c, nil
}

// langsOf lists the languages of a bundle: its <lang>.json files, English first.
func langsOf(b fs.FS) ([]string, error) {
	files, err := fs.Glob(b, "*.json")
	if err != nil {
		return nil, err
	}
	var out []string
	hasEN := false
	for _, f := range files {
		l := strings.TrimSuffix(path.Base(f), ".json")
		if l == "en" {
			hasEN = true
			continue
		}
		out = append(out, l)
	}
	if !hasEN {
		return nil, fmt.Errorf("no en.json: English is the reference and the fallback")
	}
	sort.Strings(out)
	return append([]string{"en"}, out...), nil
}

// placeholder finds the names a message refers to: {name}, {name,or}, {name?...}.
var placeholder = regexp.MustCompile(`\{([A-Za-z0-9_]+)[,?}]`)

// check applies New's rules to the loaded messages.
func (c *Catalog) check() error {
	en := c.msgs["en"]
	for _, lang := range c.langs {
		for k, v := range c.msgs[lang] {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("%s messages: %q is empty", lang, k)
			}
			need := k
			if base, ok := languageOnlyPlural(k); ok {
				need = base + ".other"
			}
			for _, other := range c.langs {
				if _, ok := c.msgs[other][need]; !ok {
					return fmt.Errorf("%s messages have %q, %s messages lack %q", lang, k, other, need)
				}
			}
			if lang == "en" {
				continue
			}
			allowed := placeholders(en, k)
			for _, m := range placeholder.FindAllStringSubmatch(v, -1) {
				if !allowed[m[1]] {
					return fmt.Errorf("%s messages: %q uses {%s}, which the English message does not", lang, k, m[1])
				}
			}
		}
	}
	return nil
}

// placeholders returns the names the English message k uses, with all its plural forms.
func placeholders(en map[string]string, k string) map[string]bool {
	out := map[string]bool{}
	base := k
	for _, f := range pluralForms {
		base = strings.TrimSuffix(base, "."+f)
	}
	for _, key := range []string{k, base} {
		for _, form := range append([]string{""}, pluralForms...) {
			kk := key
			if form != "" {
				kk += "." + form
			}
			for _, m := range placeholder.FindAllStringSubmatch(en[kk], -1) {
				out[m[1]] = true
			}
		}
	}
	return out
}

// languageOnlyPlural reports whether k is a plural form that only some languages have
// (key.zero, .two, .few, .many) and returns the key it is a form of.
func languageOnlyPlural(k string) (string, bool) {
	i := strings.LastIndexByte(k, '.')
	if i < 0 {
		return "", false
	}
	switch k[i+1:] {
	case "zero", "two", "few", "many":
		return k[:i], true
	}
	return "", false
}

// Langs lists the catalog's languages, English first.
func (c *Catalog) Langs() []string { return append([]string(nil), c.langs...) }

// Has reports whether lang (a base language code: "fr") is one of the catalog's.
func (c *Catalog) Has(lang string) bool {
	_, ok := c.locs[lang]
	return ok
}

// Messages returns a copy of the messages of one language, for tests and tools.
func (c *Catalog) Messages(lang string) map[string]string {
	out := make(map[string]string, len(c.msgs[lang]))
	for k, v := range c.msgs[lang] {
		out[k] = v
	}
	return out
}

// For returns the localizer of a language: lang is matched by its base ("fr-SN" is "fr");
// a language the catalog lacks is English.
func (c *Catalog) For(lang string) *Localizer {
	if l, ok := c.locs[c.match(lang)]; ok {
		return l
	}
	return c.locs["en"]
}

// match maps a language tag to one of the catalog's languages by its base, or "".
func (c *Catalog) match(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if l, ok := c.locs[lang]; ok {
		return l.Lang // the catalog's own string, never the caller's (which may be a request buffer)
	}
	return ""
}

// Negotiate picks the language of a response or a page: preferred (a lang query parameter, a
// remembered choice) when the catalog has it, else the first of Accept-Language, in order of
// preference, that it has, else English.
func (c *Catalog) Negotiate(preferred, acceptLanguage string) string {
	if preferred != "" {
		if l := c.match(preferred); l != "" {
			return l
		}
	}
	if acceptLanguage == "" {
		return "en"
	}
	if l, ok := c.accepted.Load(acceptLanguage); ok {
		return l.(string)
	}
	l := c.negotiate(acceptLanguage)
	if c.acceptedSize.Load() < acceptedMax {
		// A copy: the value may point into a request buffer that the next request reuses.
		if _, loaded := c.accepted.LoadOrStore(strings.Clone(acceptLanguage), l); !loaded {
			c.acceptedSize.Add(1)
		}
	}
	return l
}

// negotiate picks the first language of an Accept-Language value the catalog has, else English.
func (c *Catalog) negotiate(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil {
		for _, t := range tags {
			base, _ := t.Base()
			if l := c.match(base.String()); l != "" {
				return l
			}
		}
	}
	return "en"
}
