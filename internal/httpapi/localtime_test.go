package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// rfc3339Strings collects every string of a JSON document that reads as
// an RFC 3339 time, with its path.
func rfc3339Strings(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(path+"["+itoa(i)+"]", e)
			}
		case string:
			if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
				out[path] = x
			}
		}
	}
	walk("", v)
	return out
}

// Times are answered in the shop's offset and taken in any offset: a
// promotion saved with a Tokyo start and a UTC end reads back in Shanghai
// time, every time in the reads an operator makes carries +08:00, and a
// shop that moves to New York reads the same instants at -05:00.
func TestTimesAnswerInTheShopsOffset(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newFullEnv(t, engine)
			r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", map[string]any{"name": "双12", "kind": "threshold_off",
				"scope": map[string]any{"all": true}, "tiers": []map[string]any{{"threshold": 30000, "off": 4000}},
				"starts_at": "2026-12-20T21:00:00+09:00", "ends_at": "2026-12-21T03:00:00Z"})
			if r.status != 201 {
				t.Fatalf("create promotion: %d %s", r.status, r.body)
			}
			var p struct {
				ID       string `json:"id"`
				StartsAt string `json:"starts_at"`
				EndsAt   string `json:"ends_at"`
			}
			r.json(t, &p)
			if p.StartsAt != "2026-12-20T20:00:00+08:00" || p.EndsAt != "2026-12-21T11:00:00+08:00" {
				t.Errorf("created: starts_at %s, ends_at %s; want 2026-12-20T20:00:00+08:00 and 2026-12-21T11:00:00+08:00", p.StartsAt, p.EndsAt)
			}
			e.placeOrder(commerce.RoleStorefront)

			reads := []string{"/api/v1/shop", "/api/v1/promotions", "/api/v1/promotions/" + p.ID, "/api/v1/skus", "/api/v1/customers/" + e.cust.ID,
				"/api/v1/orders", "/api/v1/audit"}
			seen := 0
			for _, path := range reads {
				r := e.do(commerce.RoleAdmin, "GET", path, nil)
				if r.status != 200 {
					t.Fatalf("GET %s: %d %s", path, r.status, r.body)
				}
				for field, v := range rfc3339Strings(t, r.body) {
					seen++
					if !strings.HasSuffix(v, "+08:00") {
						t.Errorf("GET %s: %s = %s, want the shop's +08:00", path, field, v)
					}
				}
			}
			if seen < 10 {
				t.Errorf("only %d times read across %v", seen, reads)
			}

			if r := e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", map[string]any{"time_zone": "America/New_York"}); r.status != 200 {
				t.Fatalf("move the shop: %d %s", r.status, r.body)
			}
			r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/promotions/"+p.ID, nil)
			r.json(t, &p)
			if p.StartsAt != "2026-12-20T07:00:00-05:00" || p.EndsAt != "2026-12-20T22:00:00-05:00" {
				t.Errorf("after the move: starts_at %s, ends_at %s; want the same instants at -05:00", p.StartsAt, p.EndsAt)
			}
		})
	}
}

// A refusal that names a time names it in the shop's offset too, in its
// words and in its members.
func TestRefusalsNameTimesInTheShopsOffset(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/flash-sales", map[string]any{"name": "明晚 20 点", "starts_at": start, "ends_at": start.Add(time.Hour),
		"items": []map[string]any{{"sku_id": e.sku.ID, "flash_price": 9900, "allocated": 10, "per_customer_limit": 2}}})
	if r.status != 201 {
		t.Fatalf("create sale: %d %s", r.status, r.body)
	}
	var s struct{ ID string }
	r.json(t, &s)
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/buy", map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID, "quantity": 1})
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Extra  struct {
			StartsAt string `json:"starts_at"`
		} `json:"extra"`
	}
	r.json(t, &p)
	want := start.In(time.FixedZone("", 8*3600)).Format(time.RFC3339)
	if r.status != 409 || p.Code != "sale_not_started" || p.Extra.StartsAt != want || !strings.Contains(p.Detail, want) {
		t.Fatalf("%d %s: want starts_at and the detail at %s", r.status, r.body, want)
	}
}
