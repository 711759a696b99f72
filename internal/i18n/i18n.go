// Package i18n is Carnival's message catalogue: every human text the API,
// the alerts and the review show, in each supported language, behind
// golang.org/x/text/message. Codes a client branches on (error codes,
// alert kinds, KPI names) are never translated; only the words around them.
//
// The messages live in locales/<language>.json, one flat object per
// language from key to message, embedded in the binary (a web console can
// load the same files). A key is either a dotted name ("alert.stock") or,
// as golang.org/x/text does it, the English format string itself ("expected
// number >= %v"), so that a message made in English elsewhere can be looked
// up as it is. Arguments are printf verbs, positional ones (%[2]s) where a
// language needs another order. Every key exists in every language, with the
// same verbs (i18n_test.go).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Languages a shop or a request may choose.
const (
	ZhCN = "zh-CN" // Simplified Chinese, the default
	En   = "en"
)

// Default is a shop's language until it sets one.
const Default = ZhCN

// Languages lists the supported languages, the default first.
var Languages = []string{ZhCN, En}

var tags = map[string]language.Tag{ZhCN: language.MustParse(ZhCN), En: language.English}

//go:embed locales/*.json
var files embed.FS

// messages holds each language's messages by key, as loaded.
var messages = map[string]map[string]string{}

var printers = map[string]*message.Printer{}

func init() {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for _, lang := range Languages {
		raw, err := files.ReadFile(path.Join("locales", lang+".json"))
		if err != nil {
			panic(fmt.Sprintf("i18n: no catalogue for %s: %v", lang, err))
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(fmt.Sprintf("i18n: catalogue %s: %v", lang, err))
		}
		for k, v := range m {
			if err := b.SetString(tags[lang], k, v); err != nil {
				panic(fmt.Sprintf("i18n: catalogue %s, key %q: %v", lang, k, err))
			}
		}
		messages[lang] = m
	}
	for _, lang := range Languages {
		printers[lang] = message.NewPrinter(tags[lang], message.Catalog(b))
	}
}

// Normalize returns the supported language s names ("zh", "zh-cn",
// "zh-Hans", "en-US" ...), and false when it names none.
func Normalize(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	for _, l := range Languages {
		if strings.EqualFold(s, l) {
			return l, true
		}
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	return match(t)
}

var matcher = language.NewMatcher([]language.Tag{tags[ZhCN], tags[En]})

func match(t ...language.Tag) (string, bool) {
	_, i, conf := matcher.Match(t...)
	if conf < language.High {
		// zh-TW (Traditional) is not zh-CN, nor fr English.
		return "", false
	}
	return Languages[i], true
}

// FromAcceptLanguage picks the supported language an Accept-Language
// header prefers (q-values respected); false when it names none of them.
func FromAcceptLanguage(header string) (string, bool) {
	if strings.TrimSpace(header) == "" || len(header) > 1000 {
		return "", false
	}
	ts, qs, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return "", false
	}
	// ParseAcceptLanguage sorts by q; match the first supported one.
	for i, t := range ts {
		if qs[i] <= 0 {
			continue
		}
		if l, ok := match(t); ok {
			return l, true
		}
	}
	return "", false
}

// Or is lang when it is supported, else the default.
func Or(lang string) string {
	if l, ok := Normalize(lang); ok {
		return l
	}
	return Default
}

// Has reports whether the catalogue has key in lang.
func Has(lang, key string) bool {
	_, ok := messages[Or(lang)][key]
	return ok
}

// T formats the message key in lang (the default when lang is not
// supported) with args. A key the catalogue lacks is formatted as it is:
// callers use English format strings or check Has.
func T(lang, key string, args ...any) string {
	return printers[Or(lang)].Sprintf(key, args...)
}

// Keys lists lang's keys, sorted (for tests and tools).
func Keys(lang string) []string {
	m := messages[Or(lang)]
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
