package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
)

func (e *env) flashCounts() string {
	var out []string
	for _, table := range []string{"flash_sales", "flash_items", "flash_reservations", "flash_reminders"} {
		var n int
		if err := e.store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, table+"="+itoa(n))
	}
	var rem, res int64
	e.store.Reader().QueryRow("SELECT COALESCE(SUM(remaining), 0), COALESCE(SUM(reserved), 0) FROM flash_items").Scan(&rem, &res)
	return e.counts() + " " + strings.Join(out, " ") + fmt.Sprintf(" remaining=%d reserved=%d", rem, res)
}

// liveSale creates a sale of the env's SKU (list ¥258) at ¥99, 10 units,
// 2 per customer, live now; guard is the sale's own policy, if any.
func (e *env) liveSale(t *testing.T, guard ...map[string]any) peak.Sale {
	t.Helper()
	now := time.Now().UTC()
	body := map[string]any{"name": "20 点秒杀", "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour),
		"items": []map[string]any{{"sku_id": e.sku.ID, "flash_price": 9900, "allocated": 10, "per_customer_limit": 2}}}
	if len(guard) > 0 {
		body["guard"] = guard[0]
	}
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/flash-sales", body)
	if r.status != http.StatusCreated {
		t.Fatalf("create sale: %d %s", r.status, r.body)
	}
	var s peak.Sale
	r.json(t, &s)
	return s
}

func TestFlashSaleOverHTTP(t *testing.T) {
	e := newEnv(t)
	s := e.liveSale(t)
	if s.Phase != peak.PhaseLive || s.Items[0].Remaining != 10 {
		t.Fatalf("sale = %+v", s)
	}
	buy := func(key string, qty int) resp {
		return e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/buy",
			map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID, "quantity": qty}, "Idempotency-Key", key)
	}
	r := buy("k1", 2)
	if r.status != http.StatusCreated {
		t.Fatalf("buy: %d %s", r.status, r.body)
	}
	var o commerce.Order
	r.json(t, &o)
	if o.Payable != 2*9900+o.Shipping-o.ShippingDiscount || o.Lines[0].ItemDiscount != 2*(25800-9900) {
		t.Fatalf("order priced %+v", o)
	}
	// A replay answers 200 with the same order.
	r = buy("k1", 2)
	var again commerce.Order
	r.json(t, &again)
	if r.status != http.StatusOK || again.ID != o.ID {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	// Over the customer's limit.
	r = buy("k2", 1)
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"over_limit"`) {
		t.Fatalf("over limit: %d %s", r.status, r.body)
	}
	got := e.do(commerce.RoleAnalyst, "GET", "/api/v1/flash-sales/"+s.ID, nil)
	var live peak.Sale
	got.json(t, &live)
	if live.Items[0].Reserved != 2 || live.Items[0].Remaining != 8 {
		t.Fatalf("counters %+v", live.Items[0])
	}
	// Reminders only before the start.
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/reminders", map[string]any{"customer_id": e.cust.ID})
	if r.status != http.StatusConflict {
		t.Fatalf("reminder for a live sale: %d %s", r.status, r.body)
	}
	// End: the 8 unsold units go back to the SKU.
	r = e.do(commerce.RoleOperator, "POST", "/api/v1/flash-sales/"+s.ID+"/end", nil)
	if r.status != http.StatusOK {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	r.json(t, &live)
	if live.Phase != peak.PhaseEnded || live.Items[0].Returned != 8 {
		t.Fatalf("ended sale %+v", live)
	}
	r = buy("k3", 1)
	if r.status != http.StatusNotFound && r.status != http.StatusConflict {
		t.Fatalf("buy after end: %d %s", r.status, r.body)
	}
	if k, _ := e.svc.SKU(t.Context(), e.shop.ID, e.sku.ID); k.Stock != 98 {
		t.Fatalf("SKU stock %d, want 98", k.Stock)
	}
}

func TestFlashBuyersRaceOverHTTP(t *testing.T) {
	e := newEnv(t)
	// All 200 attempts come from one test client: no per-IP limit here.
	s := e.liveSale(t, map[string]any{})
	var custs []commerce.Customer
	for i := 0; i < 40; i++ {
		custs = append(custs, commerce.Customer{ExternalID: fmt.Sprintf("c%d", i)})
	}
	cs, err := e.svc.UpsertCustomers(t.Context(), commerce.Actor{ShopID: e.shop.ID}, custs)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/buy", map[string]any{"sku_id": e.sku.ID, "customer_id": cs[i%len(cs)].ID})
			mu.Lock()
			codes[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusCreated] != 10 || codes[http.StatusConflict] != 190 {
		t.Fatalf("answers %v, want 10 created and 190 conflicts", codes)
	}
}

func TestFlashBadInputWritesNothing(t *testing.T) {
	e := newEnv(t)
	s := e.liveSale(t)
	now := time.Now().UTC()
	sale := func(item string) string {
		return fmt.Sprintf(`{"name":"x","starts_at":%q,"ends_at":%q,"items":[%s]}`, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339), item)
	}
	item := func(extra string) string {
		return `{"sku_id":"` + e.sku.ID + `","flash_price":100,"allocated":5` + extra + `}`
	}
	buyURL := "/api/v1/flash-sales/" + s.ID + "/buy"
	tests := []badInput{
		{"no items", "POST", "/api/v1/flash-sales", sale(""), 422, "required", "items"},
		{"window backwards", "POST", "/api/v1/flash-sales", fmt.Sprintf(`{"name":"x","starts_at":%q,"ends_at":%q,"items":[%s]}`, now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339), item("")), 422, "window_order", "ends_at"},
		{"no name", "POST", "/api/v1/flash-sales", strings.Replace(sale(item("")), `"name":"x"`, `"name":""`, 1), 422, "required", "name"},
		{"price zero", "POST", "/api/v1/flash-sales", sale(`{"sku_id":"` + e.sku.ID + `","flash_price":0,"allocated":5}`), 422, "out_of_range", "items[0].flash_price"},
		{"price not below list", "POST", "/api/v1/flash-sales", sale(`{"sku_id":"` + e.sku.ID + `","flash_price":25800,"allocated":5}`), 422, "not_below_list", "items[0].flash_price"},
		{"price wrong type", "POST", "/api/v1/flash-sales", sale(`{"sku_id":"` + e.sku.ID + `","flash_price":"1","allocated":5}`), 422, "validation_failed", "items[0].flash_price"},
		{"allocation zero", "POST", "/api/v1/flash-sales", sale(`{"sku_id":"` + e.sku.ID + `","flash_price":100,"allocated":0}`), 422, "out_of_range", "items[0].allocated"},
		{"allocation over stock", "POST", "/api/v1/flash-sales", sale(item("")[:len(item(""))-2] + `500}`), 409, "out_of_stock", "items[0].allocated"},
		{"negative limit", "POST", "/api/v1/flash-sales", sale(item(`,"per_customer_limit":-1`)), 422, "out_of_range", "items[0].per_customer_limit"},
		{"unknown sku", "POST", "/api/v1/flash-sales", sale(`{"sku_id":"sku_nope","flash_price":100,"allocated":5}`), 422, "unknown_sku", "items[0].sku_id"},
		{"sku twice", "POST", "/api/v1/flash-sales", sale(item("") + "," + item("")), 422, "duplicate", "items[1].sku_id"},
		{"guard rate negative", "POST", "/api/v1/flash-sales", strings.Replace(sale(item("")), `"name":"x"`, `"name":"x","guard":{"per_ip":{"rate":-1,"per_seconds":1}}`, 1), 422, "validation_failed", "guard.per_ip.rate"},
		{"guard rate without period", "POST", "/api/v1/flash-sales", strings.Replace(sale(item("")), `"name":"x"`, `"name":"x","guard":{"per_customer":{"rate":5}}`, 1), 422, "out_of_range", "guard.per_customer.per_seconds"},
		{"long timeout", "POST", "/api/v1/flash-sales", strings.Replace(sale(item("")), `"name":"x"`, `"name":"x","payment_timeout_seconds":999999`, 1), 422, "out_of_range", "payment_timeout_seconds"},
		{"buy unknown sale", "POST", "/api/v1/flash-sales/fls_nope/buy", `{"sku_id":"` + e.sku.ID + `","customer_id":"` + e.cust.ID + `"}`, 404, "flash_sale_not_found", ""},
		{"buy sku not in sale", "POST", buyURL, `{"sku_id":"sku_nope","customer_id":"` + e.cust.ID + `"}`, 422, "not_in_sale", "sku_id"},
		{"buy without customer", "POST", buyURL, `{"sku_id":"` + e.sku.ID + `"}`, 422, "validation_failed", ""},
		{"buy over the per-customer limit at once", "POST", buyURL, `{"sku_id":"` + e.sku.ID + `","customer_id":"` + e.cust.ID + `","quantity":3}`, 422, "out_of_range", "quantity"},
		{"buy quantity wrong type", "POST", buyURL, `{"sku_id":"` + e.sku.ID + `","customer_id":"` + e.cust.ID + `","quantity":"1"}`, 422, "validation_failed", "quantity"},
		{"buy unknown customer", "POST", buyURL, `{"sku_id":"` + e.sku.ID + `","customer_id":"cus_nope"}`, 422, "unknown_customer", "customer_id"},
		{"buy malformed", "POST", buyURL, `{"sku_id":`, 400, "malformed_request", ""},
		{"remind unknown sale", "POST", "/api/v1/flash-sales/fls_nope/reminders", `{"customer_id":"` + e.cust.ID + `"}`, 404, "flash_sale_not_found", ""},
		{"end unknown sale", "POST", "/api/v1/flash-sales/fls_nope/end", "", 404, "flash_sale_not_found", ""},
	}
	e.expectRejected(t, tests, e.flashCounts, nil)
}

func TestFlashRoles(t *testing.T) {
	e := newEnv(t)
	s := e.liveSale(t)
	tests := []struct {
		role, method, path string
		status             int
	}{
		{commerce.RoleStorefront, "POST", "/api/v1/flash-sales", 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/flash-sales", 403},
		{commerce.RoleStorefront, "POST", "/api/v1/flash-sales/" + s.ID + "/end", 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/flash-sales/" + s.ID + "/buy", 403},
		{"", "POST", "/api/v1/flash-sales/" + s.ID + "/buy", 401},
		{commerce.RoleStorefront, "GET", "/api/v1/flash-sales/" + s.ID + "/reminders", 403},
	}
	for _, tt := range tests {
		r := e.do(tt.role, tt.method, tt.path, `{}`)
		if r.status != tt.status {
			t.Errorf("%s %s %s: %d, want %d", tt.role, tt.method, tt.path, r.status, tt.status)
		}
	}
}

func TestFlashBuysAreRateLimitedAndRepeatedFailuresBlock(t *testing.T) {
	e := newEnv(t)
	// Per device: 2 at once, then 1 a minute. Failures: the default 5.
	s := e.liveSale(t, map[string]any{"per_device": map[string]any{"rate": 1, "per_seconds": 60, "burst": 2}})
	if s.Guard == nil || s.Guard.PerDevice.Burst != 2 {
		t.Fatalf("sale policy not kept: %+v", s.Guard)
	}
	buy := func(cust, device string) resp {
		return e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/buy", map[string]any{"sku_id": e.sku.ID, "customer_id": cust}, "X-Device-Id", device)
	}
	for i := 0; i < 2; i++ {
		if r := buy(e.cust.ID, "phone-1"); r.status != http.StatusCreated {
			t.Fatalf("buy %d: %d %s", i, r.status, r.body)
		}
	}
	r := buy(e.cust.ID, "phone-1")
	var p httpapi.Problem
	r.json(t, &p)
	if r.status != http.StatusTooManyRequests || p.Code != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("third attempt from the device: %d %s", r.status, r.body)
	}
	// The customer is at the limit: every further attempt (from fresh
	// devices) fails with over_limit, and the fifth failure blocks.
	for i := 0; i < 5; i++ {
		r := buy(e.cust.ID, fmt.Sprintf("tablet-%d", i))
		if r.status != http.StatusConflict {
			t.Fatalf("attempt %d over the limit: %d %s", i, r.status, r.body)
		}
	}
	r = buy(e.cust.ID, "tablet-new")
	r.json(t, &p)
	if r.status != http.StatusForbidden || p.Code != "blocked" {
		t.Fatalf("after five failures: %d %s", r.status, r.body)
	}
	var blocks httpapi.List[struct {
		ID        string `json:"id"`
		Dimension string `json:"dimension"`
		Key       string `json:"key"`
	}]
	e.do(commerce.RoleOperator, "GET", "/api/v1/guard/blocks?active=true", nil).json(t, &blocks)
	var custBlock string
	for _, b := range blocks.Items {
		if b.Dimension == "customer" && b.Key == e.cust.ID {
			custBlock = b.ID
		}
	}
	if custBlock == "" {
		t.Fatalf("no block on the customer: %+v", blocks.Items)
	}
	// Lifting every block lets the customer in again (to a plain over_limit).
	for _, b := range blocks.Items {
		if r := e.do(commerce.RoleOperator, "DELETE", "/api/v1/guard/blocks/"+b.ID, nil); r.status >= 300 {
			t.Fatalf("lift: %d %s", r.status, r.body)
		}
	}
	if r := buy(e.cust.ID, "tablet-after"); r.status != http.StatusConflict {
		t.Fatalf("after lifting: %d %s", r.status, r.body)
	}
}

func TestGuessingCouponCodesBlocks(t *testing.T) {
	e := newEnv(t)
	order := func(code string) resp {
		return e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{code},
			"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}, "X-Device-Id", "script-1")
	}
	for i := 0; i < 5; i++ {
		if r := order(fmt.Sprintf("GUESS%07d", i)); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "invalid_coupon_code") {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	r := order("GUESS9999999")
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"blocked"`) {
		t.Fatalf("sixth guess: %d %s", r.status, r.body)
	}
	// An order without codes is not guarded by code guessing.
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID,
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}); r.status != http.StatusCreated {
		t.Fatalf("an order without codes: %d %s", r.status, r.body)
	}
}

// Buys come from the storefront's servers: without a trusted proxy the
// peer is that server, which stands for every shopper, so a per-IP limit
// does not count it; with the server trusted, the shopper's forwarded IP
// is limited.
func TestPerIPLimitsCountTheShopperNotTheStorefrontServer(t *testing.T) {
	e := newEnv(t)
	s := e.liveSale(t, map[string]any{"per_ip": map[string]any{"rate": 1, "per_seconds": 3600, "burst": 1}})
	buy := func(device string) resp {
		return e.do(commerce.RoleStorefront, "POST", "/api/v1/flash-sales/"+s.ID+"/buy", map[string]any{"sku_id": e.sku.ID, "customer_id": e.cust.ID},
			"X-Device-Id", device, "X-Forwarded-For", "198.51.100.23")
	}
	for i := 0; i < 2; i++ {
		if r := buy(fmt.Sprintf("phone-%d", i)); r.status != http.StatusCreated {
			t.Fatalf("buy %d through an untrusted peer: %d %s", i, r.status, r.body)
		}
	}
	tp, err := httpapi.ParseTrustedProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.TrustedProxies = tp
	e.srv = httptest.NewServer(httpapi.New(e.cfg).Handler())
	t.Cleanup(e.srv.Close)
	s = e.liveSale(t, map[string]any{"per_ip": map[string]any{"rate": 1, "per_seconds": 3600, "burst": 1}})
	if r := buy("phone-a"); r.status != http.StatusCreated {
		t.Fatalf("first buy from the forwarded IP: %d %s", r.status, r.body)
	}
	r := buy("phone-b")
	var p httpapi.Problem
	r.json(t, &p)
	if r.status != http.StatusTooManyRequests || p.Code != "rate_limited" || p.Extra["dimension"] != "ip" {
		t.Fatalf("second buy from the forwarded IP: %d %s", r.status, r.body)
	}
}
