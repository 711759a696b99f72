package httpapi

import (
	"errors"
	"github.com/carnivalhq/carnival/internal/localtime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/i18n"
)

// Problem is an RFC 9457 problem detail with Carnival's stable code and the
// offending field. Every error the API returns has this shape and the
// content type application/problem+json.
type Problem struct {
	Type     string              `json:"type,omitempty" doc:"A URI naming the problem type"`
	Title    string              `json:"title" doc:"Short summary of the status, in the answer's language (Content-Language)"`
	Status   int                 `json:"status" doc:"HTTP status code"`
	Code     string              `json:"code" doc:"Stable, machine-readable error code"`
	Detail   string              `json:"detail,omitempty" doc:"What went wrong, for a human: in the language Accept-Language prefers (zh-CN or en), else the shop's settings.language, else English. Branch on code, never on this text."`
	Field    string              `json:"field,omitempty" doc:"The offending field, e.g. lines[2].quantity"`
	Instance string              `json:"instance,omitempty"`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty" doc:"Every validation error found"`
	Extra    map[string]any      `json:"extra,omitempty" doc:"Context such as the SKU that ran out"`

	// format and args made Detail (a domain error's); fromErrors: Detail
	// is the first validation error's message. localized uses them.
	format     string
	args       []any
	fromErrors bool
}

func (p *Problem) Error() string  { return p.Code + ": " + p.Detail }
func (p *Problem) GetStatus() int { return p.Status }
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// statusOf maps a domain error kind to its status, in one place.
func statusOf(k commerce.Kind) int {
	switch k {
	case commerce.KindInvalid:
		return http.StatusUnprocessableEntity
	case commerce.KindNotFound:
		return http.StatusNotFound
	case commerce.KindConflict:
		return http.StatusConflict
	case commerce.KindUnauthorized:
		return http.StatusUnauthorized
	case commerce.KindForbidden:
		return http.StatusForbidden
	case commerce.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// defaultCode names the code for errors huma raises itself.
func defaultCode(status int, msg string) string {
	switch status {
	case http.StatusBadRequest:
		return "malformed_request"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

func newProblem(status int, msg string, errs ...error) huma.StatusError {
	p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg, Code: defaultCode(status, msg)}
	located := false // a value that does not decode, at its field
	for _, e := range errs {
		if e == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(e, &d) {
			pd := d.ErrorDetail()
			if de, ok := parseDecodeError(pd.Message); ok {
				located = located || !de.Syntax
				pd = de.ErrorDetail()
			}
			p.Errors = append(p.Errors, plainDetail(pd))
		} else {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Message: e.Error()})
		}
	}
	// huma answers 400 when the body does not parse into any; a number no
	// float64 holds parses as JSON all the same: a 422 at its field.
	if status == http.StatusBadRequest && located {
		status = http.StatusUnprocessableEntity
		p.Status, p.Title, p.Code = status, http.StatusText(status), defaultCode(status, msg)
	}
	if len(p.Errors) > 0 {
		p.Field = fieldOf(p.Errors[0].Location)
		if p.Detail == "" || p.Detail == "validation failed" {
			p.Detail, p.fromErrors = p.Errors[0].Message, true
		}
		if strings.Contains(p.Errors[0].Message, "unexpected property") {
			p.Code = "unknown_field"
		}
	}
	if status == http.StatusBadRequest && strings.Contains(strings.ToLower(msg), "body") {
		p.Field = "body"
	}
	return p
}

// plainDetail names the property a "required property" error is about
// (huma locates it at the parent object, often "body").
func plainDetail(d *huma.ErrorDetail) *huma.ErrorDetail {
	if prop, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
		if prop, ok := strings.CutSuffix(prop, " to be present"); ok && d.Location != "" {
			return &huma.ErrorDetail{Location: d.Location + "." + prop, Message: d.Message}
		}
	}
	return d
}

// fieldOf turns huma's "body.lines[0].quantity" into "lines[0].quantity",
// and "path.id" / "query.limit" / "header.Idempotency-Key" into the name.
func fieldOf(loc string) string {
	for _, prefix := range []string{"body.", "path.", "query.", "header."} {
		if strings.HasPrefix(loc, prefix) {
			return loc[len(prefix):]
		}
	}
	if loc == "body" {
		return "body"
	}
	return loc
}

var installErrors sync.Once

// useProblems makes every huma-raised error a Problem. huma exposes this
// hook as a package variable; it is set once, to the same function.
func useProblems() {
	installErrors.Do(func() {
		huma.NewError = newProblem
		plainValidationMessages()
	})
}

// problemFrom converts a domain or store error into the Problem to return.
// Anything not a domain error is a 500 that says nothing about internals.
func problemFrom(err error) huma.StatusError {
	var se huma.StatusError
	if errors.As(err, &se) {
		return se
	}
	if e, ok := commerce.AsError(err); ok {
		st := statusOf(e.Kind)
		return &Problem{Status: st, Title: http.StatusText(st), Code: e.Code, Detail: e.Detail, Field: e.Field, Extra: e.Extra, format: e.Format, args: e.Args}
	}
	return &Problem{Status: http.StatusInternalServerError, Title: "Internal Server Error", Code: "internal", Detail: "an internal error occurred; it has been logged"}
}

// ---- language ----

// localizeProblems is a huma transformer: a problem's title and detail
// are answered in the request's language (localized); every other body
// passes through.
func (s *Server) localizeProblems(ctx huma.Context, _ string, v any) (any, error) {
	p, ok := v.(*Problem)
	if !ok {
		return v, nil
	}
	lang := s.problemLanguage(ctx)
	ctx.SetHeader("Content-Language", lang)
	lp := p.localized(lang)
	// The domain words its refusals in UTC ("starts at …Z"); they read in
	// the shop's offset like the rest of the answer (localtime.go).
	if loc := s.shopLocation(ctx.Context()); loc != nil && lp.Detail != "" {
		lp.Detail = localtime.Text(lp.Detail, loc)
	}
	return lp, nil
}

// problemLanguage is the language a problem is answered in: the one the
// request's Accept-Language prefers among zh-CN and en, else the caller's
// shop's language setting, else (an unknown caller) English.
func (s *Server) problemLanguage(ctx huma.Context) string {
	if l, ok := i18n.FromAcceptLanguage(ctx.Header("Accept-Language")); ok {
		return l
	}
	if c := CallerFrom(ctx.Context()); c.Key != nil && s.cfg.Commerce != nil {
		if sh, err := s.cfg.Commerce.Shop(ctx.Context(), c.Key.ShopID); err == nil {
			return sh.Settings.Effective().Language
		}
	}
	return i18n.En
}

// localized is a copy of p with its title and detail in lang; code, field,
// status and extra are the same in every language. Messages are made in
// English. Elsewhere the detail comes from the catalogue: the domain
// error's own format when the catalogue has it, a validation message
// translated at its field, else the code's message (which may quote the
// English detail, so that no bound or name is lost).
func (p *Problem) localized(lang string) *Problem {
	c := *p
	if lang == i18n.En {
		return &c
	}
	if key := "status." + strconv.Itoa(c.Status); i18n.Has(lang, key) {
		c.Title = i18n.T(lang, key)
	}
	if len(p.Errors) > 0 {
		c.Errors = make([]*huma.ErrorDetail, len(p.Errors))
		for i, e := range p.Errors {
			d := *e
			if m, ok := translateMessage(lang, e.Message); ok {
				d.Message = m
			}
			c.Errors[i] = &d
		}
	}
	switch {
	case c.format != "" && i18n.Has(lang, c.format):
		args := append([]any(nil), c.args...)
		if what, ok := strings.CutSuffix(c.Code, "_not_found"); ok && len(args) > 0 && args[0] == what && i18n.Has(lang, "entity."+what) {
			args[0] = i18n.T(lang, "entity."+what)
		}
		c.Detail = i18n.T(lang, c.format, args...)
	case c.fromErrors:
		if m, ok := translateMessage(lang, p.Detail); ok {
			c.Detail = m
			if c.Field != "" {
				c.Detail = i18n.T(lang, "problem.at_field", c.Field, m)
			}
		} else if i18n.Has(lang, "problem."+c.Code) {
			c.Detail = i18n.T(lang, "problem."+c.Code, c.Field, p.Detail)
		}
	case i18n.Has(lang, "problem."+c.Code):
		c.Detail = i18n.T(lang, "problem."+c.Code, c.Field, p.Detail)
	}
	return &c
}

// messageFormats are the English formats of the validation messages a
// problem may carry (huma's, decode.go's), each with the pattern that
// takes its arguments back out of a message.
var messageFormats = func() []messageFormat {
	formats := []string{
		msgInteger, msgNumber, msgString, msgBool, msgArray, msgObject, msgTime, msgRange, "integer out of range",
		"expected a date such as 2026-11-11", "unknown field %q" + unknownFieldHint,
		validation.MsgUnexpectedProperty, validation.MsgExpectedOneOf,
		validation.MsgExpectedMinimumNumber, validation.MsgExpectedExclusiveMinimumNumber,
		validation.MsgExpectedMaximumNumber, validation.MsgExpectedExclusiveMaximumNumber,
		validation.MsgExpectedMinLength, validation.MsgExpectedMaxLength, validation.MsgExpectedMinItems, validation.MsgExpectedMaxItems,
		validation.MsgExpectedRequiredProperty, validation.MsgExpectedMatchPattern, validation.MsgExpectedArrayItemsUnique,
	}
	out := make([]messageFormat, 0, len(formats))
	for _, f := range formats {
		out = append(out, newMessageFormat(f))
	}
	return out
}()

type messageFormat struct {
	format string
	re     *regexp.Regexp
	verbs  []byte
}

var verbPattern = regexp.MustCompile(`%[vsdq]`)

func newMessageFormat(f string) messageFormat {
	mf := messageFormat{format: f}
	var pat strings.Builder
	pat.WriteString("^")
	last := 0
	for _, m := range verbPattern.FindAllStringIndex(f, -1) {
		pat.WriteString(regexp.QuoteMeta(f[last:m[0]]))
		pat.WriteString("(.*?)")
		mf.verbs = append(mf.verbs, f[m[1]-1])
		last = m[1]
	}
	pat.WriteString(regexp.QuoteMeta(f[last:]) + "$")
	mf.re = regexp.MustCompile(pat.String())
	return mf
}

// translateMessage translates an English validation message into lang
// when it is one of messageFormats and the catalogue has it.
func translateMessage(lang, msg string) (string, bool) {
	for _, mf := range messageFormats {
		m := mf.re.FindStringSubmatch(msg)
		if m == nil || !i18n.Has(lang, mf.format) {
			continue
		}
		args := make([]any, len(mf.verbs))
		for i, v := range mf.verbs {
			args[i] = m[i+1]
			switch v {
			case 'd':
				n, err := strconv.ParseInt(m[i+1], 10, 64)
				if err != nil {
					return "", false
				}
				args[i] = n
			case 'q':
				u, err := strconv.Unquote(m[i+1])
				if err != nil {
					return "", false
				}
				args[i] = u
			}
		}
		return i18n.T(lang, mf.format, args...), true
	}
	return "", false
}
