package promotion

import (
	"slices"

	"github.com/carnivalhq/carnival/internal/jsonw"
	"github.com/carnivalhq/carnival/internal/pricing"
)

// AppendJSON appends q as encoding/json marshals it (see
// pricing.AppendJSON); the quote endpoint writes it on every request.
func (q *Quote) AppendJSON(b []byte, html bool) []byte {
	b = append(b, '{')
	b = q.AppendJSONFields(b, html)
	return append(b, '}')
}

// AppendJSONFields appends q's fields without the enclosing braces, for a
// writer that puts a field of its own first.
func (q *Quote) AppendJSONFields(b []byte, html bool) []byte {
	if q.Result != nil { // encoding/json leaves out a nil embedded struct's fields
		b = pricing.AppendJSONFields(b, q.Result, html)
		b = append(b, ',')
	}
	b = append(b, `"names":`...)
	if q.Names == nil {
		return append(b, "null"...)
	}
	// encoding/json writes map keys sorted.
	keys := make([]string, 0, 32)
	for k := range q.Names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.String(b, k, html)
		b = append(b, ':')
		b = jsonw.String(b, q.Names[k], html)
	}
	return append(b, '}')
}
