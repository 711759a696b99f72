package commerce

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The one text rule of every id, name and free text Carnival stores or
// looks up: valid UTF-8 (never repaired into U+FFFD), no NUL (PostgreSQL
// text cannot hold it; SQLite would), and no control character (C0, DEL,
// C1). Free text (descriptions, notes, reasons, terms) may also hold tab,
// line feed and carriage return. The API applies the same rule to every
// path parameter, query value, header value and JSON string it receives
// (httpapi/textcheck.go); the domain applies it again so that a caller
// that is not the API cannot store what the API refuses.

// TextProblem says what breaks the text rule in v, or "" when nothing
// does. multiline allows tab, line feed and carriage return.
func TextProblem(v string, multiline bool) string {
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x20 && c < 0x7f { // printable ASCII, the common case
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(v[i:])
			if r == utf8.RuneError && size == 1 {
				return "is not valid UTF-8"
			}
		}
		if p := RuneProblem(r, multiline); p != "" {
			return p
		}
		i += size
	}
	return ""
}

// RuneProblem says what breaks the text rule in the character r, or "".
func RuneProblem(r rune, multiline bool) string {
	switch {
	case r == 0:
		return "contains a NUL character"
	case multiline && (r == '\t' || r == '\n' || r == '\r'):
		return ""
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return "contains a control character"
	case r >= 0xd800 && r < 0xe000, r > utf8.MaxRune:
		return "is not valid UTF-8"
	}
	return ""
}

func checkTextRule(field, v string, required bool, max int, multiline bool) error {
	if required && strings.TrimSpace(v) == "" {
		return Invalid(field, "required", "%s is required", field)
	}
	if len(v) > max && utf8.RuneCountInString(v) > max {
		return Invalid(field, "too_long", "%s is longer than %d characters", field, max)
	}
	if p := TextProblem(v, multiline); p != "" {
		return Invalid(field, "invalid_text", "%s %s", field, p)
	}
	return nil
}

// checkText validates a single-line text or id: required, at most max
// characters, the text rule.
func checkText(field, v string, required bool, max int) error {
	return checkTextRule(field, v, required, max, false)
}

// checkFreeText is checkText for free text, which may hold tabs and line
// breaks (notes, reasons, descriptions).
func checkFreeText(field, v string, required bool, max int) error {
	return checkTextRule(field, v, required, max, true)
}

// CheckText validates a single-line text or id the way every commerce
// input is validated: required, at most max characters, the text rule
// (invalid_text).
func CheckText(field, v string, required bool, max int) error {
	return checkText(field, v, required, max)
}

// CheckFreeText is CheckText for free text, which may hold tabs and line
// breaks.
func CheckFreeText(field, v string, required bool, max int) error {
	return checkFreeText(field, v, required, max)
}

// CheckTexts applies CheckText to each item of a list of ids or names,
// naming the item field[i].
func CheckTexts(field string, vs []string, required bool, max int) error {
	for i, v := range vs {
		if err := checkText(field+"["+strconv.Itoa(i)+"]", v, required, max); err != nil {
			return err
		}
	}
	return nil
}
