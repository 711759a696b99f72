package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
)

// Messages of a value that does not decode, in words a client understands:
// never a Go type or function name.
const (
	msgInteger = "expected an integer"
	msgNumber  = "expected a number"
	msgString  = "expected a string"
	msgBool    = "expected true or false"
	msgArray   = "expected an array"
	msgObject  = "expected an object"
	msgTime    = "expected an RFC 3339 time such as 2026-11-11T20:00:00+08:00"
	msgRange   = "number out of range"
)

// plainValidationMessages makes huma's schema messages say the same as
// the decoder's (huma exposes them as package variables for this).
func plainValidationMessages() {
	validation.MsgExpectedInteger = msgInteger
	validation.MsgExpectedNumber = msgNumber
	validation.MsgExpectedString = msgString
	validation.MsgExpectedBoolean = msgBool
	validation.MsgExpectedArray = msgArray
	validation.MsgExpectedObject = msgObject
	validation.MsgExpectedRFC3339DateTime = msgTime
	validation.MsgExpectedRFC3339Date = "expected a date such as 2026-11-11"
}

// decodeError is a body that does not decode: Loc is the offending value
// in huma's notation (body.lines[2].quantity), Msg says what was expected.
// Syntax is set when the body is not JSON at all (a 400, not a 422).
type decodeError struct {
	Loc    string
	Msg    string
	Value  any
	Syntax bool
}

// decodeSep separates the parts of a decodeError's text: huma turns the
// error of its body decoder into an ErrorDetail at "body" with Error() as
// the message, and newProblem splits them again. Neither a message nor a
// huma location contains it.
const decodeSep = "\x1f"

func (e *decodeError) Error() string {
	v, _ := json.Marshal(e.Value)
	syn := ""
	if e.Syntax {
		syn = "s"
	}
	return e.Msg + decodeSep + e.Loc + decodeSep + syn + decodeSep + string(v)
}

func (e *decodeError) ErrorDetail() *huma.ErrorDetail {
	return &huma.ErrorDetail{Location: e.Loc, Message: e.Msg, Value: e.Value}
}

// parseDecodeError undoes decodeError.Error (from huma's ErrorDetail).
func parseDecodeError(msg string) (*decodeError, bool) {
	parts := strings.SplitN(msg, decodeSep, 4)
	if len(parts) != 4 {
		return nil, false
	}
	e := &decodeError{Msg: parts[0], Loc: parts[1], Syntax: parts[2] == "s"}
	if parts[3] != "" && parts[3] != "null" {
		d := json.NewDecoder(strings.NewReader(parts[3]))
		d.UseNumber()
		_ = d.Decode(&e.Value)
	}
	return e, true
}

// jsonFormat is huma's JSON format with a decoder whose errors name the
// offending field and say what was expected (encoding/json names Go types
// and struct fields: "cannot unmarshal number 1.0 into Go struct field
// RuleInput.cooldown_seconds of type int64").
var jsonFormat = huma.Format{Marshal: huma.DefaultJSONFormat.Marshal, Unmarshal: unmarshalJSON}

func jsonFormats() map[string]huma.Format {
	return map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
}

// unmarshalJSON is json.Unmarshal with errors a client can act on.
func unmarshalJSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	return explainDecode(data, reflect.TypeOf(v), err, "body", false)
}

// explainDecode turns err, from decoding data into a value of type t,
// into a decodeError located under root. With strict, an object key that
// names no field is an error too (encoding/json ignores it).
func explainDecode(data []byte, t reflect.Type, err error, root string, strict bool) *decodeError {
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		msg := "the body is not valid JSON"
		if se != nil {
			msg += " (at byte " + strconv.FormatInt(se.Offset, 10) + "): " + se.Error()
		}
		return &decodeError{Loc: root, Msg: msg, Syntax: true}
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return &decodeError{Loc: root, Msg: "the body does not match the schema"}
	}
	if d := locate(data, t, root, strict, 0); d != nil {
		return d
	}
	return &decodeError{Loc: root, Msg: "the body does not match the schema"}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// maxLocateDepth bounds how deep locate looks: each level reads its
// value again, and a body nested deeper than this is no API's shape.
const maxLocateDepth = 32

// locate walks the JSON value raw against type t the way encoding/json
// decodes it and returns the first value that does not fit, at its path
// below loc; nil when every value fits (or it is nested deeper than
// maxLocateDepth).
func locate(raw []byte, t reflect.Type, loc string, strict bool, depth int) *decodeError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || depth > maxLocateDepth {
		return nil
	}
	depth++
	if string(raw) == "null" {
		return nil // encoding/json leaves the value alone
	}
	if t.Kind() == reflect.Pointer {
		return locate(raw, t.Elem(), loc, strict, depth-1)
	}
	if t == timeType {
		if err := json.Unmarshal(raw, new(time.Time)); err != nil {
			return &decodeError{Loc: loc, Msg: msgTime, Value: scalar(raw)}
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return &decodeError{Loc: loc, Msg: "invalid value", Value: scalar(raw)}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Interface:
		return locateAny(raw, loc, depth)
	case reflect.Struct:
		if raw[0] != '{' {
			return &decodeError{Loc: loc, Msg: msgObject, Value: scalar(raw)}
		}
		fields := jsonFields(t)
		var bad *decodeError
		eachMember(raw, func(key string, v []byte) bool {
			f, ok := fields[key]
			if !ok {
				for name, g := range fields { // encoding/json matches case-insensitively
					if strings.EqualFold(name, key) {
						f, ok = g, true
						break
					}
				}
			}
			if !ok {
				if strict {
					bad = &decodeError{Loc: member(loc, key), Msg: "unknown field " + strconv.Quote(key) + unknownFieldHint}
				}
				return bad == nil
			}
			bad = locate(v, f.typ, member(loc, key), strict, depth)
			return bad == nil
		})
		return bad
	case reflect.Map:
		if raw[0] != '{' {
			return &decodeError{Loc: loc, Msg: msgObject, Value: scalar(raw)}
		}
		var bad *decodeError
		eachMember(raw, func(key string, v []byte) bool {
			bad = locate(v, t.Elem(), member(loc, key), strict, depth)
			return bad == nil
		})
		return bad
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
				return &decodeError{Loc: loc, Msg: "expected a base64 string", Value: scalar(raw)}
			}
			return nil
		}
		if raw[0] != '[' {
			return &decodeError{Loc: loc, Msg: msgArray, Value: scalar(raw)}
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			if d := locate(it, t.Elem(), loc+"["+strconv.Itoa(i)+"]", strict, depth); d != nil {
				return d
			}
		}
		return nil
	}
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return nil
	}
	d := &decodeError{Loc: loc, Value: scalar(raw)}
	num := raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.Msg = msgInteger
		if f, err := strconv.ParseFloat(string(raw), 64); num && err == nil && f == math.Trunc(f) && !bytes.ContainsAny(raw, ".eE") {
			d.Msg = "integer out of range"
		} else if num && err != nil {
			d.Msg, d.Value = msgRange, string(raw)
		}
	case reflect.Float32, reflect.Float64:
		d.Msg = msgNumber
		if num {
			d.Msg, d.Value = msgRange, string(raw)
		}
	case reflect.String:
		d.Msg = msgString
	case reflect.Bool:
		d.Msg = msgBool
	default:
		d.Msg = "invalid value"
	}
	return d
}

// locateAny finds a number no float64 can hold (encoding/json's only
// failure decoding valid JSON into any).
func locateAny(raw []byte, loc string, depth int) *decodeError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || depth > maxLocateDepth {
		return nil
	}
	depth++
	switch raw[0] {
	case '{':
		var bad *decodeError
		eachMember(raw, func(key string, v []byte) bool {
			bad = locateAny(v, member(loc, key), depth)
			return bad == nil
		})
		return bad
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			if d := locateAny(it, loc+"["+strconv.Itoa(i)+"]", depth); d != nil {
				return d
			}
		}
	case '"', 't', 'f', 'n':
	default:
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return &decodeError{Loc: loc, Msg: msgRange, Value: string(raw)}
		}
	}
	return nil
}

// member is the location of key in the object at loc ("" is the root).
func member(loc, key string) string {
	if loc == "" {
		return key
	}
	return loc + "." + key
}

// unknownFieldHint ends the message of an unknown field.
const unknownFieldHint = ": the schema allows no other fields"

// eachMember calls f with every member of the JSON object raw, in order,
// duplicates included (encoding/json decodes each), until f returns false.
func eachMember(raw []byte, f func(key string, v []byte) bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return
		}
		if !f(key, v) {
			return
		}
	}
}

// scalar is the JSON scalar raw as a problem's value (objects and arrays
// are left out: the location names them).
func scalar(raw []byte) any {
	if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields are the fields encoding/json decodes into a struct of type
// t, by JSON name (promoted fields of embedded structs included).
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for _, f := range reflect.VisibleFields(t) {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && (f.Type.Kind() == reflect.Struct || f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct) {
			continue // its fields are promoted
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(tag, ",string") {
			continue
		}
		if _, dup := out[name]; dup && len(f.Index) > 1 {
			continue // a shallower field wins
		}
		out[name] = jsonField{name: name, typ: f.Type}
	}
	return out
}
