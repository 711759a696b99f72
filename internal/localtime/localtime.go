// Package localtime answers times in a shop's zone. Carnival stores and
// computes times in UTC; what it answers (API bodies, webhooks, exports)
// carries the shop's offset, "2026-11-11T20:00:00+08:00" for an
// Asia/Shanghai shop: the same instant as "2026-11-11T12:00:00Z", written
// the way its operators read it.
package localtime

import (
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"
)

// snapshotTime matches a time member of a record snapshot as
// encoding/json wrote it (no spaces): the members Carnival's records name
// times with (…_at, at, until, valid_from, valid_until, ts, first_seen,
// last_seen). A quote inside a string is escaped, so text cannot match.
var snapshotTime = regexp.MustCompile(`"([a-z_]*_at|at|until|valid_from|valid_until|ts|first_seen|last_seen)":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2}))"`)

// Snapshot answers the times of a stored JSON record (an audit entry's
// before/after snapshot, a raw event) in loc, like every other time in a response. The snapshot is
// kept as written; only what is answered changes.
func Snapshot(raw json.RawMessage, loc *time.Location) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	return snapshotTime.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := snapshotTime.FindSubmatch(m)
		at, err := time.Parse(time.RFC3339Nano, string(sub[2]))
		if err != nil {
			return m
		}
		out := append([]byte(`"`), sub[1]...)
		out = append(out, `":"`...)
		out = at.In(loc).AppendFormat(out, time.RFC3339Nano)
		return append(out, '"')
	})
}

// utcTime matches an RFC 3339 time in UTC as time.Format writes it.
var utcTime = regexp.MustCompile(`\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z\b`)

// Text answers the UTC times written into a message ("starts at
// 2026-11-11T12:00:00Z") in loc.
func Text(s string, loc *time.Location) string {
	if !strings.Contains(s, "Z") {
		return s
	}
	return utcTime.ReplaceAllStringFunc(s, func(m string) string {
		at, err := time.Parse(time.RFC3339Nano, m)
		if err != nil {
			return m
		}
		return at.In(loc).Format(time.RFC3339Nano)
	})
}

// HoldsTimes reports whether v's type can hold a time encoding/json
// writes; In returns v itself when it cannot.
func HoldsTimes(v any) bool { return v != nil && mayHoldTime(reflect.TypeOf(v)) }

// In returns v with every time.Time it holds (through exported fields,
// pointers, slices, arrays, maps and interfaces, as encoding/json would
// see them) moved to loc. It copies what it changes and never writes to v:
// a body may be a cached value other requests share. Zero times stay as
// they are.
func In(v any, loc *time.Location) any {
	rv := reflect.ValueOf(v)
	if !mayHoldTime(rv.Type()) {
		return v
	}
	return convertZone(rv, loc).Interface()
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	holdsTime         sync.Map // reflect.Type → bool
)

// mayHoldTime reports whether a value of type t can hold a time.Time that
// encoding/json would write: a time itself, or a struct, pointer, slice,
// array or map leading to one through what encoding/json walks. Interfaces
// may hold anything and are looked into at run time. Types that marshal
// themselves are opaque.
func mayHoldTime(t reflect.Type) bool {
	if v, ok := holdsTime.Load(t); ok {
		return v.(bool)
	}
	return walkType(t, map[reflect.Type]bool{})
}

func walkType(t reflect.Type, seen map[reflect.Type]bool) bool {
	if v, ok := holdsTime.Load(t); ok {
		return v.(bool)
	}
	if seen[t] {
		return false // a recursive type: its answer is what the rest of it says
	}
	seen[t] = true
	var has bool
	switch {
	case t == timeType:
		has = true
	case t.Kind() == reflect.Interface:
		has = true
	case t.Kind() == reflect.Pointer:
		has = walkType(t.Elem(), seen)
	case t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		has = false
	default:
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			has = walkType(t.Elem(), seen)
		case reflect.Map:
			has = walkType(t.Elem(), seen)
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				if writesField(f) && walkType(f.Type, seen) {
					has = true
					break
				}
			}
		}
	}
	delete(seen, t)
	if len(seen) == 0 {
		// Only a complete answer is kept: one found while a recursive
		// type was open may have assumed false for it.
		holdsTime.Store(t, has)
	}
	return has
}

// convertZone returns a copy of v, of v's type, with its times in loc.
func convertZone(v reflect.Value, loc *time.Location) reflect.Value {
	t := v.Type()
	if t == timeType {
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return v
		}
		return reflect.ValueOf(tm.In(loc))
	}
	if !mayHoldTime(t) {
		return v
	}
	switch t.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		inner := convertZone(v.Elem(), loc)
		out := reflect.New(t).Elem()
		out.Set(inner)
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(t.Elem())
		out.Elem().Set(convertZone(v.Elem(), loc))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(convertZone(v.Index(i), loc))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(convertZone(v.Index(i), loc))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(it.Key(), convertZone(it.Value(), loc))
		}
		return out
	case reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		fieldsInZone(out, v, loc)
		return out
	}
	return v
}

// fieldsInZone sets the fields of dst, a settable copy of src, that
// encoding/json writes and that may hold a time. The exported fields of an
// embedded struct of an unexported type are written by encoding/json too
// and stay settable through it.
func fieldsInZone(dst, src reflect.Value, loc *time.Location) {
	t := src.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !writesField(sf) || !mayHoldTime(sf.Type) {
			continue
		}
		switch f := dst.Field(i); {
		case f.CanSet():
			f.Set(convertZone(src.Field(i), loc))
		case sf.Anonymous && sf.Type.Kind() == reflect.Struct:
			fieldsInZone(f, src.Field(i), loc)
		}
	}
}

// writesField reports whether encoding/json writes the struct field (or, for
// an embedded struct, the fields it promotes).
func writesField(f reflect.StructField) bool {
	return (f.IsExported() || f.Anonymous) && f.Tag.Get("json") != "-"
}
