package httpapi_test

// TestDocExamplesMatchTheOpenAPIDocument checks every JSON example in
// README.md and docs/*.md against the OpenAPI document the server serves,
// with huma's own validator (the schemas are huma's).
//
// How an example is found and what it is checked against:
//
//  1. A request body: `METHOD /api/v1/path {…}` — on one line, in a code
//     block or an inline code span. In a code block the body may run over
//     the following lines, or stand on lines of its own (indented, or after
//     "or") below its request line: it belongs to the block's last request.
//  2. A response: `→ STATUS {…}` after a request (same line or, in a code
//     block, a line below it), checked against that status's response
//     schema (a 4xx or 5xx: against Problem). The JSON after `GET /path` is
//     that GET's 200 answer (a GET has no body).
//  3. A curl command: `curl … -d '{…}' http://host/api/v1/path`, the
//     method from -X, else POST.
//  4. Anything else — a ```json block, a `{"…` in prose — needs a marker on
//     its line or at most four lines above it (a fence may stand between),
//     an HTML comment the rendered page does not show:
//     <!-- example: schema=NAME -->  checked against the components schema
//     NAME (AlertPayload is the body of an alert webhook);
//     <!-- example: skip REASON -->  not an API body (say why).
//     A marker applies to the next example after it.
//
// Every `{"` in the docs must be one of these: an example the test cannot
// place fails it, so a new example cannot go unchecked.
//
// Partial examples are allowed and checked for what they say: `…` or `...`
// for elided values, members or items (`[…]`, `{…}`, `[…other SKUs]`), a
// string holding `…` ("sku_…"), `<placeholder>` values, members named
// without a value (`{"sku_id","quantity"}`) and optional ones marked `?`
// (`"quantity"?`). Those values are left out; every concrete value is
// validated (type, bounds, enum), every member name must exist in the
// schema, only missing required members and too-short arrays are excused.
// A complete example is validated in full.
//
// Deliberate errors: a request whose answer is shown as a 4xx on the same
// line (`{…} → 422 validation_failed`) demonstrates a refused body: the
// body is not checked against the request schema.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/review"
)

// docExample is one JSON example found in a doc.
type docExample struct {
	file    string
	line    int
	text    string
	method  string // the operation; "" with schema
	path    string
	status  int    // 0: the request body
	schema  string // a components schema, by marker
	skip    string // the reason, by marker
	refused bool   // the request's answer is shown as a 4xx
}

func (x docExample) String() string {
	return fmt.Sprintf("%s:%d", x.file, x.line)
}

var (
	reRequest     = regexp.MustCompile("\\b(GET|POST|PUT|PATCH|DELETE)\\s+(/api/v1/[^\\s`'\"]*)")
	reStatus      = regexp.MustCompile(`→\s*` + "`?" + `(\d{3})\b`)
	reMarker      = regexp.MustCompile(`<!--\s*example:\s*(schema=(\S+)|skip\s+([^>]*?))\s*-->`)
	reCurlURL     = regexp.MustCompile(`https?://[^\s/'"]+(/api/v1/[^\s'"?]*)`)
	reCurlX       = regexp.MustCompile(`-X\s*(GET|POST|PUT|PATCH|DELETE)\b`)
	rePlaceholder = regexp.MustCompile(`<[^<>\n]*>`)
)

// docFiles are the docs whose examples are checked.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	return append(files, "../../README.md")
}

// balanced returns the end (exclusive) of the brace-balanced region of
// s starting at s[i] == '{', skipping braces in JSON strings; -1 if it
// does not close.
func balanced(s string, i int) int {
	depth, inStr := 0, false
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case inStr && c == '\\':
			j++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		case c == '`' && depth > 0 && !inStr:
			return -1 // a code span ended first: not JSON
		}
	}
	return -1
}

// extractExamples finds the examples of one doc.
func extractExamples(t *testing.T, file, src string) []docExample {
	lines := strings.Split(src, "\n")
	starts := make([]int, len(lines)) // offset of each line
	off := 0
	for i, l := range lines {
		starts[i] = off
		off += len(l) + 1
	}
	lineOf := func(pos int) int { return sort.Search(len(starts), func(i int) bool { return starts[i] > pos }) - 1 }

	// Code blocks: the line ranges between fences.
	inCode := make([]bool, len(lines))
	blockStart := make([]int, len(lines))
	open, start := false, 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			open = !open
			start = i
			continue
		}
		inCode[i], blockStart[i] = open, start
	}

	markers := map[int][]int{} // by offset: the marker's submatch indexes
	for _, m := range reMarker.FindAllStringSubmatchIndex(src, -1) {
		markers[m[0]] = m
	}
	var out []docExample
	var marker *docExample // the pending marker
	markerLine := -10
	for i := 0; i < len(src); i++ {
		if m, ok := markers[i]; ok {
			marker = &docExample{}
			if m[4] >= 0 {
				marker.schema = src[m[4]:m[5]]
			}
			if m[6] >= 0 {
				marker.skip = strings.TrimSpace(src[m[6]:m[7]])
			}
			markerLine = lineOf(i)
			i = m[1] - 1
			continue
		}
		if src[i] != '{' {
			continue
		}
		k := i + 1
		for k < len(src) && (src[k] == ' ' || src[k] == '\n') {
			k++
		}
		if k >= len(src) || src[k] != '"' {
			continue
		}
		end := balanced(src, i)
		if end < 0 {
			t.Errorf("%s:%d: a JSON example that does not close", file, lineOf(i)+1)
			continue
		}
		ln := lineOf(i)
		x := docExample{file: filepath.Base(file), line: ln + 1, text: src[i:end]}
		prefix := src[starts[ln]:i]
		switch {
		case marker != nil && ln-markerLine <= 4:
			x.schema, x.skip = marker.schema, marker.skip
		default:
			classify(&x, prefix, lines, ln, inCode, blockStart, src[end:])
		}
		marker = nil
		out = append(out, x)
		i = end - 1
	}
	return out
}

// classify attaches an example to its operation from the text before it:
// prefix on its line, the lines above it in its code block, a curl
// command around it.
func classify(x *docExample, prefix string, lines []string, ln int, inCode []bool, blockStart []int, after string) {
	// curl … -d '{…}' http://host/path
	if strings.HasSuffix(strings.TrimSpace(prefix), "-d '") || strings.HasSuffix(prefix, "-d '") {
		cmd := prefix + x.text + after
		if nl := strings.Index(after, "\n"); nl >= 0 {
			cmd = prefix + x.text + after[:nl]
		}
		// The command's earlier lines (continued with \).
		for j := ln - 1; j >= 0 && strings.HasSuffix(strings.TrimSpace(lines[j]), "\\"); j-- {
			cmd = lines[j] + " " + cmd
		}
		if m := reCurlURL.FindStringSubmatch(rePlaceholder.ReplaceAllString(cmd, "x")); m != nil {
			x.method, x.path = "POST", m[1]
			if mx := reCurlX.FindStringSubmatch(cmd); mx != nil {
				x.method = mx[1]
			}
			return
		}
	}
	// A request on the same line (the last one before the example); in
	// prose, an inline code span may have begun on the line above.
	if !inCode[ln] && ln > 0 && !reRequest.MatchString(prefix) && strings.TrimSpace(strings.Trim(prefix, "`(")) == "" {
		prefix = lines[ln-1] + "\n" + prefix
	}
	reqs := reRequest.FindAllStringSubmatchIndex(prefix, -1)
	var reqAt int
	if len(reqs) > 0 {
		r := reqs[len(reqs)-1]
		x.method, x.path, reqAt = prefix[r[2]:r[3]], prefix[r[4]:r[5]], r[1]
	} else if inCode[ln] {
		for j := ln - 1; j > blockStart[ln]; j-- {
			if r := reRequest.FindStringSubmatch(lines[j]); r != nil {
				x.method, x.path = r[1], r[2]
				break
			}
		}
	}
	if x.method == "" {
		return // unplaced
	}
	if m := reStatus.FindStringSubmatch(prefix[reqAt:]); m != nil {
		x.status, _ = strconv.Atoi(m[1])
	} else if x.method == http.MethodGet {
		x.status = http.StatusOK
	}
	if x.status == 0 {
		rest := after
		if nl := strings.Index(rest, "\n"); nl >= 0 {
			rest = rest[:nl]
		}
		if m := reStatus.FindStringSubmatch(rest); m != nil && m[1][0] == '4' {
			x.refused = true
		}
	}
}

// ---- a lenient reader for partial examples ----

// placeholder is an elided value.
type placeholder struct{}

type lenient struct {
	s       string
	i       int
	partial bool
}

func (p *lenient) ws() {
	for p.i < len(p.s) {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !unicode.IsSpace(r) {
			return
		}
		p.i += n
	}
}

func (p *lenient) fail(what string) error {
	ctx := p.s[p.i:]
	if len(ctx) > 40 {
		ctx = ctx[:40]
	}
	return fmt.Errorf("%s at %q", what, ctx)
}

func (p *lenient) value() (any, error) {
	p.ws()
	if p.i >= len(p.s) {
		return nil, p.fail("value expected")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		str, err := p.str()
		if err != nil {
			return nil, err
		}
		if strings.Contains(str, "…") || strings.Contains(str, "...") {
			p.partial = true
			return placeholder{}, nil
		}
		return str, nil
	case c == '-' || c >= '0' && c <= '9':
		j := p.i + 1
		for j < len(p.s) && strings.IndexByte("0123456789.eE+-", p.s[j]) >= 0 {
			j++
		}
		f, err := strconv.ParseFloat(p.s[p.i:j], 64)
		if err != nil {
			return nil, p.fail("number")
		}
		p.i = j
		return f, nil
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil, nil
	}
	// Anything else is a placeholder up to the next , ] or } of this level.
	depth := 0
	j := p.i
	for ; j < len(p.s); j++ {
		c := p.s[j]
		if c == '[' || c == '{' || c == '<' {
			depth++
		} else if (c == ']' || c == '}' || c == '>') && depth > 0 {
			depth--
		} else if depth == 0 && (c == ',' || c == ']' || c == '}') {
			break
		}
	}
	if j == p.i {
		return nil, p.fail("value expected")
	}
	p.i, p.partial = j, true
	return placeholder{}, nil
}

func (p *lenient) str() (string, error) {
	j := p.i + 1
	for j < len(p.s) && p.s[j] != '"' {
		if p.s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(p.s) {
		return "", p.fail("unterminated string")
	}
	s, err := strconv.Unquote(p.s[p.i : j+1])
	if err != nil {
		return "", p.fail("string")
	}
	p.i = j + 1
	return s, nil
}

// elided reads an elision: "…" or "..." and any words after it up to the
// next , ] or } ("…other SKUs").
func (p *lenient) elided() bool {
	p.ws()
	for _, e := range []string{"…", "..."} {
		if strings.HasPrefix(p.s[p.i:], e) {
			p.i += len(e)
			for p.i < len(p.s) && strings.IndexByte(",]}\n", p.s[p.i]) < 0 {
				p.i++
			}
			p.partial = true
			return true
		}
	}
	return false
}

func (p *lenient) object() (any, error) {
	p.i++ // {
	obj := map[string]any{}
	for {
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		if p.elided() {
			continue
		} else {
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.fail("member name expected")
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == '?' { // an optional member
				p.i++
				p.partial = true
				p.ws()
			}
			var v any = placeholder{}
			if p.i < len(p.s) && p.s[p.i] == ':' {
				p.i++
				if v, err = p.value(); err != nil {
					return nil, err
				}
			} else {
				p.partial = true // a name without a value
			}
			if _, dup := obj[key]; dup {
				return nil, p.fail("duplicate member " + key)
			}
			obj[key] = v
			p.ws()
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			continue
		}
		return nil, p.fail(", or } expected")
	}
}

func (p *lenient) array() (any, error) {
	p.i++ // [
	arr := []any{}
	for {
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		if p.elided() {
			continue // an elided item needs no comma after it
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			continue
		}
		return nil, p.fail(", or ] expected")
	}
}

// concrete drops placeholders: members and items whose value is elided.
func concrete(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if _, ok := e.(placeholder); ok {
				out[k] = placeholder{} // the name stays checked
				continue
			}
			out[k] = concrete(e)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			if _, ok := e.(placeholder); !ok {
				out = append(out, concrete(e))
			}
		}
		return out
	}
	return v
}

// parseExample reads an example, strictly JSON or partial.
func parseExample(text string) (any, bool, error) {
	p := &lenient{s: text}
	v, err := p.value()
	if err != nil {
		return nil, false, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, false, p.fail("trailing text")
	}
	return concrete(v), p.partial, nil
}

// ---- the OpenAPI side ----

// segmentsMatch reports whether a doc path (ids, {names} or … in place of
// parameters) names the spec path.
func segmentsMatch(doc, spec string) bool {
	d, s := strings.Split(strings.Trim(doc, "/"), "/"), strings.Split(strings.Trim(spec, "/"), "/")
	if len(d) != len(s) {
		return false
	}
	for i := range s {
		if strings.HasPrefix(s[i], "{") {
			continue
		}
		if d[i] != s[i] {
			return false
		}
	}
	return true
}

func findOperation(oapi *huma.OpenAPI, method, docPath string) (*huma.Operation, string) {
	docPath = strings.TrimRight(strings.SplitN(docPath, "?", 2)[0], ".,;:)`")
	docPath = strings.NewReplacer("[", "", "]", "").Replace(docPath)
	var exact *huma.Operation
	var name string
	for p, item := range oapi.Paths {
		if !segmentsMatch(docPath, p) {
			continue
		}
		var op *huma.Operation
		switch method {
		case http.MethodGet:
			op = item.Get
		case http.MethodPost:
			op = item.Post
		case http.MethodPut:
			op = item.Put
		case http.MethodPatch:
			op = item.Patch
		case http.MethodDelete:
			op = item.Delete
		}
		if op == nil {
			continue
		}
		// A literal segment beats a parameter (/alerts/{id} vs /alerts/x).
		if exact == nil || strings.Count(p, "{") < strings.Count(name, "{") {
			exact, name = op, p
		}
	}
	return exact, name
}

func jsonSchemaOf(content map[string]*huma.MediaType) *huma.Schema {
	for _, ct := range []string{"application/json", "application/problem+json"} {
		if mt := content[ct]; mt != nil && mt.Schema != nil {
			return mt.Schema
		}
	}
	return nil
}

// validate checks v against s; with partial only what the example says.
func validate(reg huma.Registry, s *huma.Schema, mode huma.ValidateMode, v any, partial bool) []string {
	res := &huma.ValidateResult{}
	huma.Validate(reg, s, huma.NewPathBuffer(make([]byte, 0, 128), 0), mode, v, res)
	var out []string
	for _, e := range res.Errors {
		msg := e.Error()
		if d, ok := e.(*huma.ErrorDetail); ok {
			if _, elided := d.Value.(placeholder); elided && !strings.Contains(d.Message, "unexpected property") {
				continue // an elided value: its name was checked
			}
			if partial && (strings.HasPrefix(d.Message, "expected required property") || strings.HasPrefix(d.Message, "expected array length >=")) {
				continue
			}
			msg = d.Location + ": " + d.Message
		}
		out = append(out, msg)
	}
	return out
}

// fullAPI is the API with every optional service registered.
func fullAPI(t *testing.T) *huma.OpenAPI {
	e, _ := newAlertEnv(t)
	cfg := e.cfg
	cfg.Alerts = alert.New(e.store, e.svc, alert.Options{})
	cfg.Review = review.NewSources(cfg.Campaigns, e.store, e.store)
	return httpapi.OpenAPIOf(httpapi.New(cfg))
}

// TestDocExampleValidationSeesErrors: the check is not vacuous.
func TestDocExampleValidationSeesErrors(t *testing.T) {
	oapi := fullAPI(t)
	op, _ := findOperation(oapi, "POST", "/api/v1/orders")
	if op == nil {
		t.Fatal("no POST /api/v1/orders")
	}
	s := jsonSchemaOf(op.RequestBody.Content)
	for body, want := range map[string]string{
		`{"lines":[{"sku_id":"sku_1","quantity":0}]}`:                  "expected number >= 1",
		`{"lines":[{"sku_id":"sku_1","quantity":1}],"discount":5}`:     "unexpected property",
		`{"lines":[{"sku_id":"sku_…","quantity":"1"}]}`:                "expected an integer",
		`{"customer_id","lines":[{"sku_id","quantity":1}],"coupon":1}`: "unexpected property",
		`{"lines":[{"sku_id":"x","quantity":1}],"points":-1}`:          "expected number >= 0",
	} {
		v, part, err := parseExample(body)
		if err != nil {
			t.Fatal(err)
		}
		errs := validate(oapi.Components.Schemas, s, huma.ModeWriteToServer, v, part)
		if !strings.Contains(strings.Join(errs, "; "), want) {
			t.Errorf("%s: %v, want %q", body, errs, want)
		}
	}
	for _, body := range []string{`{"lines":[{"sku_id":"sku_1","quantity":2}]}`, `{"customer_id","lines":[{"sku_id","quantity"}, …]}`} {
		v, part, _ := parseExample(body)
		if errs := validate(oapi.Components.Schemas, s, huma.ModeWriteToServer, v, part); len(errs) > 0 {
			t.Errorf("%s: %v", body, errs)
		}
	}
}

func TestDocExamplesMatchTheOpenAPIDocument(t *testing.T) {
	oapi := fullAPI(t)
	reg := oapi.Components.Schemas
	// Bodies Carnival sends that are no operation's: named for markers.
	named := map[string]*huma.Schema{"AlertPayload": reg.Schema(reflect.TypeFor[alert.Payload](), true, "AlertPayload")}
	for k, v := range reg.Map() {
		named[k] = v
	}

	checked, partial := 0, 0
	for _, f := range docFiles(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range extractExamples(t, f, string(src)) {
			if x.skip != "" {
				continue
			}
			v, part, err := parseExample(x.text)
			if err != nil {
				t.Errorf("%s: not JSON (nor a partial example): %v\n%s", x, err, x.text)
				continue
			}
			var s *huma.Schema
			mode := huma.ModeReadFromServer
			switch {
			case x.schema != "":
				if s = named[x.schema]; s == nil {
					t.Errorf("%s: marker names no schema %q", x, x.schema)
					continue
				}
			case x.method == "":
				t.Errorf("%s: a JSON example with no operation and no marker (see the top of docs_examples_test.go):\n%s", x, x.text)
				continue
			default:
				op, _ := findOperation(oapi, x.method, x.path)
				if op == nil {
					t.Errorf("%s: %s %s is no operation of the API", x, x.method, x.path)
					continue
				}
				switch {
				case x.status >= 400:
					s = named["Problem"]
				case x.status > 0:
					resp := op.Responses[strconv.Itoa(x.status)]
					if resp == nil {
						t.Errorf("%s: %s %s does not answer %d", x, x.method, x.path, x.status)
						continue
					}
					s = jsonSchemaOf(resp.Content)
				default:
					if x.refused {
						continue
					}
					if op.RequestBody == nil {
						t.Errorf("%s: %s %s takes no body", x, x.method, x.path)
						continue
					}
					s, mode = jsonSchemaOf(op.RequestBody.Content), huma.ModeWriteToServer
				}
				if s == nil {
					t.Errorf("%s: %s %s has no JSON schema there", x, x.method, x.path)
					continue
				}
			}
			checked++
			if part {
				partial++
			}
			for _, msg := range validate(reg, s, mode, v, part) {
				t.Errorf("%s (%s %s %d%s): %s\n%s", x, x.method, x.path, x.status, x.schema, msg, x.text)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d examples checked: the extraction is broken", checked)
	}
	t.Logf("%d examples checked, %d of them partial", checked, partial)
}

// TestDocExampleExtraction pins the conventions the docs test relies on.
func TestDocExampleExtraction(t *testing.T) {
	doc := "```\n" +
		"POST /api/v1/orders   {\"lines\":[{\"sku_id\":\"sku_…\",\"quantity\":1}]} → 201\n" +
		"PUT  /api/v1/guard/policy   replace\n" +
		"     {\"per_ip\":{\"rate\":5,\n" +
		"      \"per_seconds\":1}}\n" +
		"POST /api/v1/coupons/claim  {\"template_id\",\"customer_id\"} → 201 {\"id\":\"x\"}\n" +
		"POST /api/v1/orders  {\"lines\":[]} → 422 validation_failed\n" +
		"```\n" +
		"prose <!-- example: schema=Problem --> `{\"status\":422,\"code\":\"x\"}` and `{\"a\":1}`\n" +
		"  curl -H 'x' \\\n     -d '{\"lines\":[]}' http://127.0.0.1:8080/api/v1/quote\n"
	xs := extractExamples(t, "doc.md", doc)
	want := []docExample{
		{line: 2, method: "POST", path: "/api/v1/orders"},
		{line: 2, method: "POST", path: "/api/v1/orders", status: 201}, // nothing: "→ 201" has no JSON
		{line: 4, method: "PUT", path: "/api/v1/guard/policy"},
		{line: 6, method: "POST", path: "/api/v1/coupons/claim"},
		{line: 6, method: "POST", path: "/api/v1/coupons/claim", status: 201},
		{line: 7, method: "POST", path: "/api/v1/orders", refused: true},
		{line: 9, schema: "Problem"},
		{line: 9},
		{line: 11, method: "POST", path: "/api/v1/quote"},
	}
	want = append(want[:1], want[2:]...)
	if len(xs) != len(want) {
		t.Fatalf("%d examples: %+v", len(xs), xs)
	}
	for i, w := range want {
		x := xs[i]
		if x.line != w.line || x.method != w.method || x.path != w.path || x.status != w.status || x.schema != w.schema || x.refused != w.refused {
			t.Errorf("example %d: %+v, want %+v", i, x, w)
		}
	}
	v, part, err := parseExample(`{"customer_id","lines":[{"sku_id"?,"quantity":2}, …],"x":"a…","n":<fen>}`)
	if err != nil || !part {
		t.Fatalf("partial: %v %v", part, err)
	}
	m := v.(map[string]any)
	if _, ok := m["customer_id"].(placeholder); !ok || m["lines"].([]any)[0].(map[string]any)["quantity"] != 2.0 {
		t.Fatalf("partial read as %#v", v)
	}
	if _, part, err := parseExample(`{"a":[1,2],"b":{"c":"d"}}`); err != nil || part {
		t.Fatalf("strict JSON read as partial: %v", err)
	}
}
