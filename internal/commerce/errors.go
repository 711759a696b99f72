package commerce

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error; httpapi maps each kind to one HTTP status
// in one place.
type Kind int

const (
	KindInvalid      Kind = iota + 1 // 422: the request breaks a rule
	KindNotFound                     // 404
	KindConflict                     // 409: the state does not allow it (illegal transition, sold out, replay mismatch)
	KindUnauthorized                 // 401
	KindForbidden                    // 403
	KindUnavailable                  // 503: a dependency is down; retry later
)

// Error is a domain error with a stable code a client can branch on, the
// field it concerns (JSON path, e.g. "lines[2].quantity") and a human detail.
type Error struct {
	Kind   Kind
	Code   string
	Field  string
	Detail string
	// Extra carries machine-readable context, e.g. the SKU that ran out.
	Extra map[string]any
	// Format and Args made Detail (in English): the API looks Format up in
	// the message catalogue (internal/i18n) to answer in the caller's
	// language.
	Format string
	Args   []any
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Detail)
}

// Invalid returns a KindInvalid error for field.
func Invalid(field, code, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Detail: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// With sets key of e's Extra to v and returns e.
func (e *Error) With(key string, v any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = v
	return e
}

// NotFound returns a KindNotFound error for a missing thing.
func NotFound(what, id string) *Error {
	const format = "%s %q does not exist"
	return &Error{Kind: KindNotFound, Code: what + "_not_found", Detail: fmt.Sprintf(format, what, id), Format: format, Args: []any{what, id}}
}

// Conflict returns a KindConflict error.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Detail: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// AsError unwraps err to a domain *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Sentinel conditions stores report; the service turns them into *Error
// with context.
var (
	ErrNotFound   = errors.New("not found")
	ErrDuplicate  = errors.New("duplicate")
	ErrOutOfStock = errors.New("out of stock")
	ErrStale      = errors.New("state changed") // conditional update matched no row
	// ErrTooManyUnpaid: the caller already holds Order.MaxUnpaid unpaid orders.
	ErrTooManyUnpaid = errors.New("too many unpaid orders")
)

// OutOfStockError says which SKU ran out during a hold.
type OutOfStockError struct {
	SKUID     string
	Requested int64
}

func (e *OutOfStockError) Error() string {
	return fmt.Sprintf("sku %s: not enough stock for %d", e.SKUID, e.Requested)
}

func (e *OutOfStockError) Unwrap() error { return ErrOutOfStock }

// PointsShortError says an order asked for more points than its customer
// has free (not held by unpaid orders); Available is what they have.
type PointsShortError struct {
	Available int64
}

func (e *PointsShortError) Error() string {
	return fmt.Sprintf("only %d points free", e.Available)
}
