package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTheBodyTextCheckNamesThePathOfTheFirstBadString(t *testing.T) {
	for _, c := range []struct {
		body, path, problem string
	}{
		{`{"name":"ok","lines":[{"sku_id":"a"},{"sku_id":"b\u0000"}]}`, "lines[1].sku_id", "contains a NUL character"},
		{"{\"name\":\"\xff\xfe\"}", "name", "is not valid UTF-8"},
		{`{"name":"\ud800x"}`, "name", "is not valid UTF-8"},
		{`{"name":"\udc00\ud800"}`, "name", "is not valid UTF-8"},
		{`{"name":"a\u0007"}`, "name", "contains a control character"},
		{`{"name":"a\tb"}`, "name", "contains a control character"},
		{"{\"name\":\"a\u0085b\"}", "name", "contains a control character"},
		{"{\"name\":\"a\x7fb\"}", "name", "contains a control character"},
		{`{"note":"a\u0000"}`, "note", "contains a NUL character"},
		{`{"scope":{"sku_ids":["a","b","c\u001f"]}}`, "scope.sku_ids[2]", "contains a control character"},
		{"{\"na\xffme\":1}", "na\ufffdme", "is not valid UTF-8"},
		{`[{"a":[[1,"x\u0000"]]}]`, "[0].a[0][1]", "contains a NUL character"},
		{`"\u0000"`, "", "contains a NUL character"},
	} {
		errs := scanJSONText([]byte(c.body), 1)
		if len(errs) != 1 || errs[0].path != c.path || errs[0].problem != c.problem {
			t.Errorf("%q: %+v, want %s %s", c.body, errs, c.path, c.problem)
		}
	}
	for _, ok := range []string{
		`{"name":"双11 <script>\"终极\"\\/","n":[1.5e3,true,null,{}],"e":[]}`,
		`{"description":"line one\nline two\ttab\r\n","note":"a\nb","reason":"x\ty","terms":"1.\n2."}`,
		`{"name":"\ud83d\ude00 😀","$schema":"https://x/y.json"}`,
		`{"lines": [`, // not JSON: the decoder refuses it
		"",
	} {
		if errs := scanJSONText([]byte(ok), 1); len(errs) != 0 {
			t.Errorf("%q: %+v, want no problem", ok, errs)
		}
	}
}

// FuzzBodyTextCheck: whatever the body, the scan does not panic, and a
// JSON document it passes decodes to strings that keep the text rule.
func FuzzBodyTextCheck(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["\u0000",1]}`, "{\"a\":\"\xff\"}", `[[[]]]`, `{"a\"b":"\ud800\udc00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		errs := scanJSONText(body, 1)
		if len(errs) > 0 || !json.Valid(body) {
			return
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if strings.ContainsRune(v, '\ufffd') && !strings.Contains(string(body), "\ufffd") && !strings.Contains(strings.ToLower(string(body)), `\ufffd`) {
					t.Fatalf("%q passed but decodes to U+FFFD", body)
				}
				if strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("%q passed but holds NUL", body)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			case map[string]any:
				for k, x := range v {
					walk(k)
					walk(x)
				}
			}
		}
		walk(v)
	})
}
