// Package jsonw appends JSON values to byte slices without reflection, for
// hand-written encoders on hot paths. What it writes is byte for byte what
// encoding/json writes for the same value (the tests compare the two), so
// a hand-written encoder built on it can be checked against json.Marshal.
package jsonw

import (
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// plain marks the ASCII bytes a JSON string holds as they are; the others
// are escaped. html additionally escapes <, > and &, as encoding/json does
// unless SetEscapeHTML(false).
var plain, plainHTML = func() (p, h [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		p[b] = b != '"' && b != '\\'
		h[b] = p[b] && b != '<' && b != '>' && b != '&'
	}
	return
}()

// String appends s as a JSON string. Like encoding/json it escapes '"',
// '\\' and control characters (\b \f \n \r \t by name, the rest as \u00XX),
// U+2028 and U+2029 (JavaScript line terminators), replaces each byte of
// invalid UTF-8 with \ufffd, and with html set escapes <, > and & as \u003c,
// \u003e and \u0026.
func String(dst []byte, s string, html bool) []byte {
	safe := &plain
	if html {
		safe = &plainHTML
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Int appends n in decimal, as encoding/json writes every Go integer.
func Int(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// Bool appends true or false.
func Bool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// Key appends a comma unless first, then the object key k, which must need
// no escaping (a Go identifier-like field name), and a colon.
func Key(dst []byte, first bool, k string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"', ':')
}

// Ints appends a JSON array of ints, or null for a nil slice.
func Ints(dst []byte, v []int) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, n := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	return append(dst, ']')
}
