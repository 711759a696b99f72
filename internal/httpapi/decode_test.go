package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// goWords are what a problem's detail must never say: Go types, struct
// and function names of the decoder.
var goWords = []string{"of type", "UnmarshalJSON", "json:", "Go struct", "Go value", "struct", "int64", "int32", "float64",
	"string field", "time.Time", "RuleInput", "cartLineIn", "Event.", "2006-01-02T15:04:05Z07:00", "parsing time"}

func leaksGo(s string) string {
	for _, w := range goWords {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

// TestDecodeErrorsNameTheFieldInPlainWords sends wrong-typed values and
// bad times to several endpoints: each answer names the field as a JSON
// path and says what was expected, never a Go type or function.
func TestDecodeErrorsNameTheFieldInPlainWords(t *testing.T) {
	e, _ := newAlertEnv(t)
	sku := e.sku.ID
	rule := func(v string) string { return `{"name":"x","kind":"stock","cooldown_seconds":` + v + `}` }
	promo := func(starts string) string {
		return `{"name":"p","kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":20000,"off":1000}],"starts_at":` + starts + `}`
	}
	order := func(q string) string { return `{"lines":[{"sku_id":"` + sku + `","quantity":` + q + `}]}` }
	tests := []struct {
		name, path, body string
		status           int
		field, detail    string
	}{
		{"integral float", "/api/v1/alert-rules", rule("1.0"), 422, "cooldown_seconds", "expected an integer"},
		{"exponent", "/api/v1/alert-rules", rule("1e2"), 422, "cooldown_seconds", "expected an integer"},
		{"beyond int64", "/api/v1/alert-rules", rule("99999999999999999999"), 422, "cooldown_seconds", "integer out of range"},
		{"beyond float64", "/api/v1/alert-rules", rule("1e400"), 422, "cooldown_seconds", "number out of range"},
		{"string", "/api/v1/alert-rules", rule(`"600"`), 422, "cooldown_seconds", "expected an integer"},
		{"first of two keys", "/api/v1/alert-rules", `{"name":"x","kind":"stock","cooldown_seconds":"a","cooldown_seconds":5}`, 422, "cooldown_seconds", "expected an integer"},
		{"missing required", "/api/v1/alert-rules", `{"name":"x"}`, 422, "kind", "kind"},
		{"order line quantity", "/api/v1/orders", order("1.0"), 422, "lines[0].quantity", "expected an integer"},
		{"quote line quantity", "/api/v1/quote", order("2e0"), 422, "lines[0].quantity", "expected an integer"},
		{"quote beyond float64", "/api/v1/quote", order("-1e999"), 422, "lines[0].quantity", "number out of range"},
		{"time not a string", "/api/v1/promotions", promo("5"), 422, "starts_at", "expected a string"},
		{"time not RFC 3339", "/api/v1/promotions", promo(`"2026-11-11 20:00:00"`), 422, "starts_at", "RFC 3339 time such as 2026-11-11T20:00:00+08:00"},
		// Schema validation sees the last of two keys, the decoder each.
		{"first of two times", "/api/v1/promotions", promo(`5,"starts_at":"2026-11-11T20:00:00+08:00"`), 422, "starts_at", "RFC 3339 time such as 2026-11-11T20:00:00+08:00"},
		{"first of two times not RFC 3339", "/api/v1/promotions", promo(`"11/11","starts_at":"2026-11-11T20:00:00+08:00"`), 422, "starts_at", "RFC 3339 time such as 2026-11-11T20:00:00+08:00"},
		{"not JSON", "/api/v1/orders", `{"lines":[`, 400, "body", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts() + e.alertCounts()
			r := e.do(commerce.RoleAdmin, "POST", tt.path, tt.body, "Accept-Language", "en") // the English words
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			var p httpapi.Problem
			r.json(t, &p)
			if p.Field != tt.field || !strings.Contains(p.Detail, tt.detail) {
				t.Fatalf("field %q detail %q, want %q and %q: %s", p.Field, p.Detail, tt.field, tt.detail, r.body)
			}
			if w := leaksGo(p.Detail); w != "" {
				t.Fatalf("detail says %q: %s", w, r.body)
			}
			for _, d := range p.Errors {
				if w := leaksGo(d.Message); w != "" || d.Location == "body" && tt.field != "body" {
					t.Fatalf("error %+v says %q: %s", d, w, r.body)
				}
			}
			if after := e.counts() + e.alertCounts(); after != before {
				t.Fatalf("a refused request wrote:\n%s\n%s", before, after)
			}
		})
	}
}

// TestEventItemsThatDoNotDecodeAreRefusedAtTheirField: an item of a batch
// with a value of the wrong type or a bad ts is refused alone, naming the
// field in plain words; the others are stored.
func TestEventItemsThatDoNotDecodeAreRefusedAtTheirField(t *testing.T) {
	e := newEnv(t)
	ts := time.Now().UTC().Format(time.RFC3339)
	ev := func(id, extra string) string {
		return `{"id":"` + id + `","type":"page_view","ts":"` + ts + `","anonymous_id":"a1"` + extra + `}`
	}
	body := `{"events":[` + strings.Join([]string{
		ev("e0", ""),
		`{"id":"e1","type":"page_view","ts":"nope","anonymous_id":"a1"}`,
		`{"id":"e2","type":"page_view","ts":5,"anonymous_id":"a1"}`,
		ev("e3", `,"amount":"5"`),
		ev("e4", `,"amount":1.5`),
		ev("e5", `,"lines":[{"sku_id":"s","quantity":"2","amount":1}]`),
		`7`,
		ev("e7", `,"amount":99999999999999999999`),
	}, ",") + `]}`
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/events", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out struct {
		Accepted int                   `json:"accepted"`
		Rejected []analytics.Rejection `json:"rejected"`
	}
	r.json(t, &out)
	want := []analytics.Rejection{
		{Index: 1, Field: "ts", Code: "malformed_event", Detail: "RFC 3339 time such as 2026-11-11T20:00:00+08:00"},
		{Index: 2, Field: "ts", Code: "malformed_event", Detail: "RFC 3339 time"},
		{Index: 3, Field: "amount", Code: "malformed_event", Detail: "expected an integer"},
		{Index: 4, Field: "amount", Code: "malformed_event", Detail: "expected an integer"},
		{Index: 5, Field: "lines[0].quantity", Code: "malformed_event", Detail: "expected an integer"},
		{Index: 6, Field: "", Code: "malformed_event", Detail: "expected an object"},
		{Index: 7, Field: "amount", Code: "malformed_event", Detail: "integer out of range"},
	}
	if out.Accepted != 1 || len(out.Rejected) != len(want) {
		t.Fatalf("accepted %d, rejected %+v", out.Accepted, out.Rejected)
	}
	for i, w := range want {
		g := out.Rejected[i]
		if g.Index != w.Index || g.Field != w.Field || g.Code != w.Code || !strings.Contains(g.Detail, w.Detail) || leaksGo(g.Detail) != "" {
			t.Errorf("rejected[%d] = %+v, want %+v", i, g, w)
		}
	}
}

// TestEventItemsWithUnknownFieldsAreRefused: the schema of an event says
// additionalProperties: false, so an item with another field is refused
// alone, naming it; a batch with another top-level field is refused whole.
func TestEventItemsWithUnknownFieldsAreRefused(t *testing.T) {
	e := newEnv(t)
	ts := time.Now().UTC().Format(time.RFC3339)
	ev := func(id, extra string) string {
		return `{"id":"` + id + `","type":"page_view","ts":"` + ts + `","anonymous_id":"a1"` + extra + `}`
	}
	body := `{"events":[` + ev("e0", "") + `,` + ev("e1", `,"utm_sourc":"wx"`) + `,` + ev("e2", "") + `,` +
		`{"id":"e3","type":"order_paid","ts":"` + ts + `","anonymous_id":"a1","lines":[{"sku_id":"s","quantity":1,"amount":1,"price":9}]}` + `]}`
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/events", body)
	var out struct {
		Accepted int                   `json:"accepted"`
		Rejected []analytics.Rejection `json:"rejected"`
	}
	r.json(t, &out)
	if r.status != 200 || out.Accepted != 2 || len(out.Rejected) != 2 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for i, w := range []analytics.Rejection{{Index: 1, Field: "utm_sourc", Code: "unknown_field"}, {Index: 3, Field: "lines[0].price", Code: "unknown_field"}} {
		g := out.Rejected[i]
		if g.Index != w.Index || g.Field != w.Field || g.Code != w.Code || !strings.Contains(g.Detail, `"`+w.Field[strings.LastIndex(w.Field, ".")+1:]+`"`) {
			t.Errorf("rejected[%d] = %+v, want %+v", i, g, w)
		}
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/events", `{"events":[`+ev("e9", "")+`],"sent_at":1}`)
	var p httpapi.Problem
	r.json(t, &p)
	if r.status != 422 || p.Code != "unknown_field" || p.Field != "sent_at" {
		t.Fatalf("top-level unknown field: %d %s", r.status, r.body)
	}
}

// TestEveryRequestBodyRefusesUnknownFields: huma refuses a field its
// schema does not name on every operation (additionalProperties: false on
// every object of every request body), shown over the document and over
// HTTP on endpoints of several areas, nested objects included.
func TestEveryRequestBodyRefusesUnknownFields(t *testing.T) {
	e, _ := newAlertEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			RequestBody *struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	e.do("", "GET", "/api/v1/openapi.json", nil).json(t, &doc)
	seen := map[string]bool{}
	var check func(where string, s map[string]any)
	check = func(where string, s map[string]any) {
		if ref, ok := s["$ref"].(string); ok {
			name := ref[strings.LastIndex(ref, "/")+1:]
			if !seen[name] {
				seen[name] = true
				check(name, doc.Components.Schemas[name])
			}
			return
		}
		if s["type"] == "object" {
			if _, isMap := s["additionalProperties"].(map[string]any); !isMap && s["additionalProperties"] != false {
				t.Errorf("%s: an object that allows unknown fields", where)
			}
		}
		for _, k := range []string{"items", "additionalProperties"} {
			if sub, ok := s[k].(map[string]any); ok {
				check(where+"."+k, sub)
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for name, p := range props {
				if sub, ok := p.(map[string]any); ok {
					check(where+"."+name, sub)
				}
			}
		}
	}
	bodies := 0
	for _, item := range doc.Paths {
		for _, o := range item {
			if o.RequestBody == nil {
				continue
			}
			bodies++
			check(o.OperationID, o.RequestBody.Content["application/json"].Schema)
		}
	}
	if bodies < 20 {
		t.Fatalf("only %d request bodies in the document", bodies)
	}
	for _, tt := range []struct{ method, path, body, field string }{
		{"POST", "/api/v1/alert-rules", `{"name":"x","kind":"stock","cooldown":5}`, "cooldown"},
		{"POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true,"skus":["a"]},"tiers":[{"threshold":20000,"off":1000}]}`, "scope.skus"},
		{"POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":20000,"off":1000,"cap":1}]}`, "tiers[0].cap"},
		{"POST", "/api/v1/coupon-templates", `{"name":"c","kind":"threshold_off","off":500,"scope":{"all":true},"total_quantity":10,"valid_days":7,"colour":"red"}`, "colour"},
		{"PUT", "/api/v1/customers", `{"items":[{"external_id":"u9","nick":"x"}]}`, "items[0].nick"},
	} {
		before := e.counts()
		r := e.do(commerce.RoleAdmin, tt.method, tt.path, tt.body)
		var p httpapi.Problem
		r.json(t, &p)
		if r.status != 422 || p.Code != "unknown_field" || p.Field != tt.field || e.counts() != before {
			t.Errorf("%s %s: %d %s", tt.path, tt.body, r.status, r.body)
		}
	}
}

// TestUnknownKPIListsTheAcceptedOnes: a 422 unknown_kpi says which KPIs
// the field accepts, for campaign targets (whole campaign and phase) and
// every kind of alert rule.
func TestUnknownKPIListsTheAcceptedOnes(t *testing.T) {
	e, _ := newAlertEnv(t)
	d11 := func(targets, phaseTargets string) string {
		return `{"name":"双11","starts_at":"2026-11-01T00:00:00+08:00","ends_at":"2026-11-12T00:00:00+08:00","targets":` + targets +
			`,"phases":[{"kind":"preheat","starts_at":"2026-11-01T00:00:00+08:00","ends_at":"2026-11-11T00:00:00+08:00","targets":` + phaseTargets + `}]}`
	}
	campaignKPIs := []string{"gmv", "paid_amount", "orders", "paying_customers", "new_customers", "aov", "conversion_rate", "uv", "roi"}
	for _, tt := range []struct {
		path, body, field string
		accepted          []string
	}{
		{"/api/v1/campaigns", d11(`{"likes":1}`, `{}`), "targets.likes", campaignKPIs},
		{"/api/v1/campaigns", d11(`{"gmv":1}`, `{"likes":1}`), "phases[0].targets.likes", campaignKPIs},
		{"/api/v1/alert-rules", `{"name":"x","kind":"pacing","campaign_id":"cmp_x","kpis":["gmv","likes"]}`, "kpis[1]", campaignKPIs},
		{"/api/v1/alert-rules", `{"name":"x","kind":"threshold","kpi":"likes","window":"day","op":"<","value":1}`, "kpi", []string{"gmv", "refund_rate_bp", "uv_value"}},
		{"/api/v1/alert-rules", `{"name":"x","kind":"anomaly","kpi":"likes"}`, "kpi", []string{"pv", "orders", "add_to_carts"}},
	} {
		r := e.do(commerce.RoleAdmin, "POST", tt.path, tt.body)
		var p httpapi.Problem
		r.json(t, &p)
		if r.status != 422 || p.Code != "unknown_kpi" || p.Field != tt.field {
			t.Errorf("%s %s: %d %s", tt.path, tt.body, r.status, r.body)
			continue
		}
		for _, k := range tt.accepted {
			if !strings.Contains(p.Detail, k) {
				t.Errorf("%s: detail %q does not list %s", tt.field, p.Detail, k)
			}
		}
	}
}
