package jsonw

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdString is what encoding/json writes for s, with or without HTML
// escaping.
func stdString(t testing.TB, s string, html bool) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

var nasty = []string{
	"", "plain", `quote " and backslash \`, "tab\tnew\nline\rcr", "\b\f\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "商品 满300减40", "emoji 🎉", "\u2028\u2029 separators", "bad \xff utf8 \xc3",
	"truncated \xe2\x82", "\xed\xa0\x80 surrogate half", "mixed \x00<\u2028\xff>", strings.Repeat("长", 100),
}

func TestStringWritesWhatEncodingJSONWrites(t *testing.T) {
	var all []string
	all = append(all, nasty...)
	for b := 0; b < 256; b++ {
		all = append(all, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	for r := rune(0x80); r < 0x3000; r += 7 {
		all = append(all, string(r))
	}
	for _, s := range all {
		for _, html := range []bool{false, true} {
			if got, want := string(String(nil, s, html)), stdString(t, s, html); got != want {
				t.Errorf("String(%q, html=%v) = %s, encoding/json writes %s", s, html, got, want)
			}
		}
	}
}

func FuzzStringMatchesEncodingJSON(f *testing.F) {
	for _, s := range nasty {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		got := String([]byte("x"), s, html)
		if want := "x" + stdString(t, s, html); string(got) != want {
			t.Fatalf("String(%q, html=%v) = %s, want %s", s, html, got, want)
		}
		// Whatever the input, the output is valid JSON that decodes to
		// s with invalid bytes replaced, as encoding/json decodes it.
		var back string
		if err := json.Unmarshal(got[1:], &back); err != nil {
			t.Fatalf("%s is not valid JSON: %v", got[1:], err)
		}
		if want := replaceEach(s); back != want {
			t.Fatalf("decodes to %q, want %q", back, want)
		}
	})
}

// replaceEach replaces every invalid byte (not every run) with U+FFFD.
func replaceEach(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(c)
		i += n
	}
	return b.String()
}

func TestNumbersBoolsAndArrays(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 9223372036854775807, -9223372036854775808, 25800} {
		want, _ := json.Marshal(n)
		if got := Int(nil, n); string(got) != string(want) {
			t.Errorf("Int(%d) = %s", n, got)
		}
	}
	if got := string(Bool(Bool(nil, true), false)); got != "truefalse" {
		t.Errorf("Bool = %s", got)
	}
	for _, v := range [][]int{nil, {}, {0}, {3, 1, 2}} {
		want, _ := json.Marshal(v)
		if got := Ints(nil, v); string(got) != string(want) {
			t.Errorf("Ints(%v) = %s, want %s", v, got, want)
		}
	}
	if got := string(Key(Key([]byte("{"), true, "a"), false, "b")); got != `{"a":,"b":` {
		t.Errorf("Key = %s", got)
	}
}
