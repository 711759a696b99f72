package httpapi_test

import (
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// badInput is a request an endpoint must refuse: the status, the problem's
// code and (when set) the field it names.
type badInput struct {
	name, method, path string
	body               any
	status             int
	code, field        string
}

// expectRejected sends each request as an admin (headers by case name in
// hdr) and checks the answer is a problem+json naming the code and field,
// and that counts — what a rejected request must leave alone — did not
// change.
func (e *env) expectRejected(t *testing.T, tests []badInput, counts func() string, hdr map[string][]string) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counts()
			body := tt.body
			if s, ok := body.(string); ok && s == "" {
				body = nil
			}
			r := e.do(commerce.RoleAdmin, tt.method, tt.path, body, hdr[tt.name]...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q, want application/problem+json", ct)
			}
			var p httpapi.Problem
			r.json(t, &p)
			if p.Code != tt.code || p.Status != tt.status || p.Detail == "" {
				t.Fatalf("problem = %+v, want code %s", p, tt.code)
			}
			if tt.field != "" && p.Field != tt.field {
				t.Fatalf("field %q, want %q (%s)", p.Field, tt.field, r.body)
			}
			if after := counts(); after != before {
				t.Fatalf("a rejected request wrote:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
