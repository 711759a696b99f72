package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// TestWritesThatCreateOrdersOrCouponsRequireAnIdempotencyKey: without the
// header each answers 428 idempotency_key_required naming it, and writes
// nothing; the OpenAPI document marks the header required and lists 428.
func TestWritesThatCreateOrdersOrCouponsRequireAnIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	sku, cust := e.sku.ID, e.cust.ID
	calls := []struct{ id, path, body string }{
		{"place-order", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1}]}`},
		{"buy-flash-sale", "/api/v1/flash-sales/fs_x/buy", `{"sku_id":"` + sku + `","customer_id":"` + cust + `"}`},
		{"grab-coupon", "/api/v1/coupon-templates/tpl_x/grab", `{"customer_id":"` + cust + `"}`},
		{"claim-coupon", "/api/v1/coupons/claim", `{"template_id":"tpl_x","customer_id":"` + cust + `"}`},
		{"place-presale-deposit", "/api/v1/presales/pre_x/deposits", `{"sku_id":"` + sku + `","customer_id":"` + cust + `"}`},
		{"place-presale-balance", "/api/v1/presale-deposits/ord_x/balance", `{"customer_id":"` + cust + `"}`},
		{"open-group", "/api/v1/group-buys/gb_x/groups", `{"customer_id":"` + cust + `"}`},
		{"join-group", "/api/v1/groups/grp_x/join", `{"customer_id":"` + cust + `"}`},
	}
	before := e.counts()
	for _, c := range calls {
		for _, v := range []string{"", "   "} {
			r := e.do(commerce.RoleStorefront, "POST", c.path, c.body, "Idempotency-Key", v)
			var p struct{ Code, Field string }
			json.Unmarshal(r.body, &p)
			if r.status != http.StatusPreconditionRequired || p.Code != "idempotency_key_required" || p.Field != "Idempotency-Key" ||
				r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s with Idempotency-Key %q: %d %s; want 428 idempotency_key_required", c.id, v, r.status, r.body)
			}
		}
	}
	if after := e.counts(); after != before {
		t.Fatalf("refused writes wrote:\n%s\n%s", before, after)
	}
	// Authentication comes first: no key, no hint about the header.
	if r := e.do("", "POST", "/api/v1/orders", calls[0].body, "Idempotency-Key", ""); r.status != 401 {
		t.Fatalf("unauthenticated: %d", r.status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name, In string
				Required bool
			}
			Responses map[string]any
		}
	}
	e.do("", "GET", "/api/v1/openapi.json", nil).json(t, &doc)
	need := map[string]bool{}
	for _, c := range calls {
		need[c.id] = true
	}
	for _, ops := range doc.Paths {
		for _, o := range ops {
			required := false
			for _, p := range o.Parameters {
				if p.In == "header" && p.Name == "Idempotency-Key" && p.Required {
					required = true
				}
			}
			if required != need[o.OperationID] || (required && o.Responses["428"] == nil) {
				t.Errorf("%s: Idempotency-Key required %v, 428 documented %v; want required %v", o.OperationID, required, o.Responses["428"] != nil, need[o.OperationID])
			}
			delete(need, o.OperationID)
		}
	}
	if len(need) != 0 {
		t.Errorf("operations not in the document: %v", need)
	}
}

// TestCouponClaimsReplayTheirIdempotencyKey: a retried claim returns the
// first coupon (200) and claims nothing, even when the attempts race; the
// same key for another template is 409.
func TestCouponClaimsReplayTheirIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	tpl := func() string {
		r := e.do(commerce.RoleOperator, "POST", "/api/v1/coupon-templates", map[string]any{"name": "券", "kind": "threshold_off", "off": 500,
			"scope": map[string]any{"all": true}, "total_quantity": 10, "valid_days": 7})
		var t1 promotion.Template
		r.json(t, &t1)
		return t1.ID
	}
	a, b := tpl(), tpl()
	claim := map[string]any{"template_id": a, "customer_id": e.cust.ID}
	var wg sync.WaitGroup
	status := make([]int, 8)
	ids := make([]string, 8)
	for i := range status {
		wg.Go(func() {
			r := e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", claim, "Idempotency-Key", "claim-1")
			var c promotion.Coupon
			json.Unmarshal(r.body, &c)
			status[i], ids[i] = r.status, c.ID
		})
	}
	wg.Wait()
	created := 0
	for i := range status {
		if status[i] == 201 {
			created++
		}
		if (status[i] != 201 && status[i] != 200) || ids[i] != ids[0] {
			t.Fatalf("attempt %d: %d %s; want 201 once, then 200 with coupon %s", i, status[i], ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Fatalf("%d attempts claimed; want one", created)
	}
	var w promotion.WalletView
	e.do(commerce.RoleStorefront, "GET", "/api/v1/customers/"+e.cust.ID+"/coupons", nil).json(t, &w)
	if len(w.Valid) != 1 {
		t.Fatalf("wallet %+v; want one coupon", w)
	}
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", map[string]any{"template_id": b, "customer_id": e.cust.ID}, "Idempotency-Key", "claim-1")
	if r.status != 409 || !json.Valid(r.body) || !contains(r.body, "idempotency_key_reused") {
		t.Fatalf("same key, other template: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", map[string]any{"template_id": b, "customer_id": e.cust.ID}, "Idempotency-Key", "claim-2"); r.status != 201 {
		t.Fatalf("a new key claims: %d %s", r.status, r.body)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
