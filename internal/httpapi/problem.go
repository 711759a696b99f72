package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Problem is an RFC 9457 problem detail with Carnival's stable code and the
// offending field. Every error the API returns has this shape and the
// content type application/problem+json.
type Problem struct {
	Type     string              `json:"type,omitempty" doc:"A URI naming the problem type"`
	Title    string              `json:"title" doc:"Short summary of the status"`
	Status   int                 `json:"status" doc:"HTTP status code"`
	Code     string              `json:"code" doc:"Stable, machine-readable error code"`
	Detail   string              `json:"detail,omitempty" doc:"What went wrong, for a human"`
	Field    string              `json:"field,omitempty" doc:"The offending field, e.g. lines[2].quantity"`
	Instance string              `json:"instance,omitempty"`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty" doc:"Every validation error found"`
	Extra    map[string]any      `json:"extra,omitempty" doc:"Context such as the SKU that ran out"`
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
			p.Detail = p.Errors[0].Message
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
		return &Problem{Status: st, Title: http.StatusText(st), Code: e.Code, Detail: e.Detail, Field: e.Field, Extra: e.Extra}
	}
	return &Problem{Status: http.StatusInternalServerError, Title: "Internal Server Error", Code: "internal", Detail: "an internal error occurred; it has been logged"}
}
