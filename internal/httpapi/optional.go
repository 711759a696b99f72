package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Optional is a request-body field whose absence differs from null and
// from an empty value, for partial writes (upserts and PATCH): Sent says
// the field was in the body, Null that it was null. Its schema is T's, so
// the OpenAPI document shows the field's real type, and the field's tags
// (maxLength, minimum, enum, doc…) and huma's validation apply to T as
// they would to a plain field; tag the field `omitempty` so it is not
// required, and `nullable:"true"` where null is accepted (it clears the
// field). A null a field does not accept is refused by the handler with
// 422 naming the field.
type Optional[T any] struct {
	Sent  bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was sent, and whether as null.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Sent = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Schema is T's schema.
func (o Optional[T]) Schema(r huma.Registry) *huma.Schema {
	return r.Schema(reflect.TypeFor[T](), true, "")
}

// clearable is the write of a field that null or an empty value clears:
// nil when the field was not sent, else a pointer to its value (the zero
// value for null).
func clearable[T any](o Optional[T]) *T {
	if !o.Sent {
		return nil
	}
	v := o.Value
	return &v
}

// required is the write of a field a record cannot be without: nil when
// not sent; null is refused naming field.
func required[T any](o Optional[T], field string) (*T, error) {
	if !o.Sent {
		return nil, nil
	}
	if o.Null {
		return nil, fieldRequired(field)
	}
	v := o.Value
	return &v, nil
}

// fieldRequired refuses a null for a field that cannot be cleared.
func fieldRequired(field string) error {
	return commerce.Invalid(field, "required", "%s is required and cannot be cleared", field)
}
