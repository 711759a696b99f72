package i18n

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// verbRE finds printf verbs, positional or not (%% is not one).
var verbRE = regexp.MustCompile(`%(?:\[(\d+)\])?[+\-# 0]*(?:\d+)?(?:\.\d+)?(?:\[(\d+)\])?([a-zA-Z%])`)

// verbs lists a message's arguments as "index:verb-letter", positional or
// not, so that "%s %d" and "%[2]d … %[1]s" compare equal.
func verbs(msg string) []string {
	var out []string
	next := 1
	for _, m := range verbRE.FindAllStringSubmatch(msg, -1) {
		if m[3] == "%" {
			continue
		}
		idx := m[1]
		if idx == "" {
			idx = m[2]
		}
		n := next
		if idx != "" {
			n = 0
			for _, c := range idx {
				n = n*10 + int(c-'0')
			}
		}
		next = n + 1
		v := m[3]
		if v == "q" || v == "v" {
			v = "s" // %q, %v and %s all print a string argument
		}
		out = append(out, string(rune('0'+n))+":"+v)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// TestEveryMessageInEveryLanguage fails when a message exists in one
// language and not another, or when two languages disagree on the
// arguments it takes (a translation that drops or mistypes a value).
func TestEveryMessageInEveryLanguage(t *testing.T) {
	for _, a := range Languages {
		for _, b := range Languages {
			if a == b {
				continue
			}
			for _, k := range Keys(a) {
				if !Has(b, k) {
					t.Errorf("%q is in %s but not in %s", k, a, b)
				}
			}
		}
	}
	for _, k := range Keys(En) {
		if !Has(ZhCN, k) {
			continue
		}
		en, zh := messages[En][k], messages[ZhCN][k]
		if ve, vz := verbs(en), verbs(zh); !slices.Equal(ve, vz) {
			t.Errorf("%q: en takes %v, zh-CN takes %v", k, ve, vz)
		}
		if strings.TrimSpace(zh) == "" || strings.TrimSpace(en) == "" {
			t.Errorf("%q: empty message", k)
		}
		// A key that is an English format string takes the same arguments.
		if strings.Contains(k, "%") {
			if vk := verbs(k); !slices.Equal(vk, verbs(en)) {
				t.Errorf("format key %q takes %v, its message %v", k, vk, verbs(en))
			}
		}
	}
}

func TestVerbsSeesMissingArgument(t *testing.T) {
	if slices.Equal(verbs("%[1]s was %[2]d"), verbs("%[1]s 为")) {
		t.Fatal("a dropped argument went unnoticed")
	}
	if !slices.Equal(verbs("%s was %d"), verbs("%[2]d 的 %[1]s")) {
		t.Fatal("reordered arguments are the same arguments")
	}
}

func TestT(t *testing.T) {
	if got := T(ZhCN, "alert.stock", "A1", "杯子", 3, 10); got != "SKU A1 杯子 库存 3，低于或等于安全库存 10" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := T(En, "alert.stock", "A1", "mug", 1200, 10); got != "SKU A1 mug has 1,200 in stock, safety stock 10" {
		t.Errorf("en: %q", got)
	}
	if got := T("fr", "review.title"); got != T(Default, "review.title") {
		t.Errorf("an unsupported language is the default: %q", got)
	}
	if got := T(ZhCN, "no such key %d", 5); got != "no such key 5" {
		t.Errorf("a missing key formats as it is: %q", got)
	}
	if got := T(ZhCN, "%s %q does not exist", "活动", "cmp_1"); got != `活动 "cmp_1" 不存在` {
		t.Errorf("format key: %q", got)
	}
}

func TestNormalizeAndAcceptLanguage(t *testing.T) {
	for in, want := range map[string]string{"zh-CN": ZhCN, "zh-cn": ZhCN, "zh": ZhCN, "zh-Hans": ZhCN, "en": En, "EN": En, "en-US": En, "en-GB": En} {
		if got, ok := Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "fr", "zh-TW", "xx-!!", "ja"} {
		if got, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) = %q, want none", in, got)
		}
	}
	for in, want := range map[string]string{"zh-CN,zh;q=0.9,en;q=0.8": ZhCN, "en-US,en;q=0.9": En, "fr-FR, en;q=0.5": En,
		"en;q=0.4, zh;q=0.8": ZhCN, "fr, de": "", "": "", "*": "", "zh-CN;q=0, en": En} {
		got, ok := FromAcceptLanguage(in)
		if got != want || ok != (want != "") {
			t.Errorf("FromAcceptLanguage(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}
