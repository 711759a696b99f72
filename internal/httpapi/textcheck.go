package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/queryparam"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// The input text rule at the boundary: every path parameter, query value,
// header parameter (Idempotency-Key, X-Device-Id) and JSON string of a
// request body — keys included — must be valid UTF-8 without NUL or control
// characters (commerce.TextProblem); free-text fields (multilineFields) may
// also hold tabs and line breaks. A request that breaks it is refused with
// 422 invalid_text naming the parameter or the JSON path (lines[0].sku_id)
// before anything reads it, so both engines see the same input and invalid
// UTF-8 is never stored repaired as U+FFFD (encoding/json replaces it
// silently, which is why the raw body is checked).

// multilineFields are the JSON keys whose strings are free text.
var multilineFields = map[string]bool{"description": true, "note": true, "reason": true, "terms": true}

// checkInput is the huma middleware applying the text rule, after
// authentication. It reads the body once and gives huma the same bytes.
func (s *Server) checkInput(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	r, _ := humago.Unwrap(ctx)
	if err := checkParams(op, r); err != nil {
		s.writeProblem(ctx, problemFrom(err))
		return
	}
	if op.RequestBody != nil && r.Body != nil && r.Body != http.NoBody {
		if op.BodyReadTimeout > 0 {
			_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
		}
		limit := int(op.MaxBodyBytes)
		if limit <= 0 {
			limit = MaxBody
		}
		body, rerr := readBody(r.Body, nil, limit)
		if rerr != nil {
			// Too large or not read: give huma what was read and the rest,
			// so it answers as it always did.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next(ctx)
			return
		}
		if err := checkBodyText(body); err != nil {
			s.writeProblem(ctx, problemFrom(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	next(ctx)
}

// paramText applies the rule to one parameter value (no line breaks).
func paramText(name, v string) error {
	if p := commerce.TextProblem(v, false); p != "" {
		return commerce.Invalid(name, "invalid_text", "%s %s", name, p)
	}
	return nil
}

// checkParams applies the text rule to the path, query and header
// parameters op declares, as the handler will read them.
func checkParams(op *huma.Operation, r *http.Request) error {
	var q url.Values
	for _, p := range op.Parameters {
		if p == nil {
			continue
		}
		switch p.In {
		case "path":
			if err := paramText(p.Name, r.PathValue(p.Name)); err != nil {
				return err
			}
		case "query":
			if r.URL.RawQuery == "" {
				continue
			}
			if q == nil {
				q, _ = url.ParseQuery(r.URL.RawQuery)
			}
			for _, v := range q[p.Name] {
				if err := paramText(p.Name, v); err != nil {
					return err
				}
			}
			if err := paramText(p.Name, queryparam.Get(r.URL.RawQuery, p.Name)); err != nil {
				return err
			}
		case "header":
			for _, v := range r.Header.Values(p.Name) {
				if err := paramText(p.Name, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkBodyText applies the text rule to every string of a JSON body and
// returns the first breach as a 422 invalid_text naming its path. A body
// that is not JSON passes: the decoder refuses it in its own words.
func checkBodyText(body []byte) error {
	if errs := scanJSONText(body, 1); len(errs) > 0 {
		return errs[0].err()
	}
	return nil
}

// textError is one JSON string that breaks the rule.
type textError struct {
	path    string // e.g. lines[0].sku_id; "" for the document itself
	problem string // e.g. "is not valid UTF-8"
}

func (e textError) err() error {
	f := e.path
	if f == "" {
		f = "body"
	}
	return commerce.Invalid(f, "invalid_text", "%s %s", f, e.problem)
}

// scanJSONText returns up to max strings of body that break the text rule,
// in document order; nil when body is not valid JSON.
func scanJSONText(body []byte, max int) []textError {
	if len(body) == 0 || !json.Valid(body) {
		return nil
	}
	s := textScanner{b: body, max: max}
	s.value("")
	return s.errs
}

// textScanner walks a document json.Valid accepted, so it checks no
// syntax, and keeps the JSON path of the value it is in.
type textScanner struct {
	b    []byte
	i    int
	path []byte
	errs []textError
	max  int
}

func (s *textScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *textScanner) report(problem string) {
	if len(s.errs) < s.max {
		s.errs = append(s.errs, textError{path: string(s.path), problem: problem})
	}
}

func (s *textScanner) full() bool { return len(s.errs) >= s.max }

// value scans one value; key is the object key it belongs to (for an
// array, the array's key), which decides whether a string is free text.
func (s *textScanner) value(key string) {
	s.ws()
	switch s.b[s.i] {
	case '{':
		s.i++
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			return
		}
		for !s.full() {
			s.ws()
			n := len(s.path)
			raw, esc, problem := s.str(false)
			k := strings.ToValidUTF8(string(raw), "\ufffd") // the path names it readably
			if esc {
				_ = json.Unmarshal(s.b[s.i-len(raw)-2:s.i], &k)
			}
			if n > 0 {
				s.path = append(s.path, '.')
			}
			s.path = append(s.path, k...)
			if problem != "" {
				s.report(problem)
			}
			s.ws()
			s.i++ // ':'
			s.value(k)
			s.path = s.path[:n]
			if s.full() {
				return
			}
			s.ws()
			s.i++ // ',' or '}'
			if s.b[s.i-1] == '}' {
				return
			}
		}
	case '[':
		s.i++
		s.ws()
		if s.b[s.i] == ']' {
			s.i++
			return
		}
		for idx := 0; !s.full(); idx++ {
			n := len(s.path)
			s.path = append(s.path, '[')
			s.path = strconv.AppendInt(s.path, int64(idx), 10)
			s.path = append(s.path, ']')
			s.value(key)
			s.path = s.path[:n]
			if s.full() {
				return
			}
			s.ws()
			s.i++ // ',' or ']'
			if s.b[s.i-1] == ']' {
				return
			}
		}
	case '"':
		if _, _, problem := s.str(multilineFields[key]); problem != "" {
			s.report(problem)
		}
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// str scans a string at s.i: its raw bytes between the quotes, whether it
// holds escapes, and the first problem with the text it stands for.
func (s *textScanner) str(multiline bool) (raw []byte, esc bool, problem string) {
	s.i++ // '"'
	start := s.i
	note := func(p string) {
		if problem == "" {
			problem = p
		}
	}
	for {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, esc, problem
		case c == '\\':
			esc = true
			e := s.b[s.i+1]
			if e != 'u' {
				s.i += 2
				if r, ok := shortEscapes[e]; ok {
					note(commerce.RuneProblem(r, multiline))
				}
				continue
			}
			r := hex4(s.b[s.i+2 : s.i+6])
			s.i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xdc00 && s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					if lo := hex4(s.b[s.i+2 : s.i+6]); lo >= 0xdc00 && lo < 0xe000 {
						s.i += 6
						continue
					}
				}
				note("is not valid UTF-8") // a lone surrogate: decoders make it U+FFFD
				continue
			}
			note(commerce.RuneProblem(r, multiline))
		case c < utf8.RuneSelf:
			if c == 0x7f {
				note(commerce.RuneProblem(rune(c), multiline))
			}
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				note("is not valid UTF-8")
			} else {
				note(commerce.RuneProblem(r, multiline))
			}
			s.i += size
		}
	}
}

// shortEscapes are the one-letter escapes that stand for a control
// character (the others are \", \\ and \/).
var shortEscapes = map[byte]rune{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// eventTextRejections applies the text rule to an events batch item by
// item: an item with a bad string is rejected alone (the batch's contract),
// keyed by its index; a bad string outside the items fails the batch.
func eventTextRejections(body []byte) (map[int]textError, error) {
	errs := scanJSONText(body, len(body))
	if len(errs) == 0 {
		return nil, nil
	}
	out := map[int]textError{}
	for _, e := range errs {
		rest, ok := strings.CutPrefix(e.path, "events[")
		end := strings.IndexByte(rest, ']')
		if !ok || end < 0 {
			return nil, e.err()
		}
		i, err := strconv.Atoi(rest[:end])
		if err != nil {
			return nil, e.err()
		}
		if _, seen := out[i]; !seen {
			out[i] = textError{path: strings.TrimPrefix(rest[end+1:], "."), problem: e.problem}
		}
	}
	return out, nil
}

// dropBadText takes the items named in bad out of a decoded batch (evs at
// the batch indexes idx, or 0.. when idx is nil) and rejects them.
func dropBadText(evs []analytics.Event, idx []int, rejected []analytics.Rejection, bad map[int]textError) ([]analytics.Event, []int, []analytics.Rejection) {
	for i, r := range rejected { // an item that did not decode: say why first
		if t, ok := bad[r.Index]; ok {
			rejected[i] = analytics.Rejection{Index: r.Index, Field: t.path, Code: "invalid_text", Detail: strings.TrimSpace(t.path + " " + t.problem)}
		}
	}
	keep := make([]analytics.Event, 0, len(evs))
	keepIdx := make([]int, 0, len(evs))
	for i, e := range evs {
		at := i
		if idx != nil {
			at = idx[i]
		}
		if t, ok := bad[at]; ok {
			rejected = append(rejected, analytics.Rejection{Index: at, Field: t.path, Code: "invalid_text", Detail: strings.TrimSpace(t.path + " " + t.problem)})
			continue
		}
		keep = append(keep, e)
		keepIdx = append(keepIdx, at)
	}
	return keep, keepIdx, rejected
}
