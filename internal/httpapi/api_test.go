package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

type env struct {
	t      testing.TB
	srv    *httptest.Server
	store  *sqlstore.Store
	svc    *commerce.Service
	shop   *commerce.Shop
	keys   map[string]string // role → secret
	sku    *commerce.SKU
	cust   *commerce.Customer
	flash  *peak.Flash
	cfg    httpapi.Config
	ingest *analytics.Ingestor
	clock  *clock.Settable
	guard  *guard.Guard
}

func newEnv(t testing.TB) *env { return newEnvAt(t, nil, 25800) }

// newEnvAt is newEnv with the services on clk (nil: the real clock; the
// guard always runs on a settable one) and the SKU at price.
func newEnvAt(t testing.TB, clk *clock.Settable, price int64) *env {
	t.Helper()
	return newEnvOn(t, engineSQLite, clk, price)
}

// The engines an env runs on.
const (
	engineSQLite   = "sqlite"
	enginePostgres = "postgres"
)

// engines are the engines a test runs on as sub-tests; on PostgreSQL the
// sub-test skips, saying so, when CARNIVAL_TEST_POSTGRES_URL is not set.
var engines = []string{engineSQLite, enginePostgres}

// newEnvOn is newEnvAt on the given engine.
func newEnvOn(t testing.TB, engine string, clk *clock.Settable, price int64) *env {
	t.Helper()
	ctx := context.Background()
	var st *sqlstore.Store
	switch engine {
	case engineSQLite:
		st = storetest.OpenSQLite(t)
	case enginePostgres:
		tt, ok := t.(*testing.T)
		if !ok {
			t.Skip("the PostgreSQL env runs in tests only")
		}
		st = storetest.OpenPostgres(tt)
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	opts := commerce.Options{}
	if clk != nil {
		opts.Now = clk.Now
	}
	svc := commerce.NewService(st, opts)
	shop, err := svc.CreateShop(ctx, "Test", "")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, svc: svc, shop: shop, keys: map[string]string{}}
	for _, r := range commerce.Roles {
		_, secret, err := svc.CreateAPIKey(ctx, shop.ID, r, r)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r] = secret
	}
	stock := int64(100)
	skus, err := svc.UpsertProducts(ctx, commerce.Actor{ShopID: shop.ID}, []commerce.ProductUpsert{{Code: "P1", Name: "商品",
		SKUs: []commerce.SKUUpsert{{Code: "S1", Price: price, Cost: price * 4 / 10, Stock: &stock}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.sku = &skus[0]
	cs, err := svc.UpsertCustomers(ctx, commerce.Actor{ShopID: shop.ID}, []commerce.Customer{{ExternalID: "u1", Name: "李四", Phone: "13900001111"}})
	if err != nil {
		t.Fatal(err)
	}
	e.cust = &cs[0]
	ps := promotion.New(st, svc)
	e.flash = peak.NewFlash(st, svc, peak.NewMemory(), peak.Options{})
	e.clock = clk
	if clk == nil {
		e.clock = storetest.NewClock()
	}
	e.guard, err = guard.New(ctx, st, guard.NewMemoryLimiter(e.clock.Now), guard.Options{Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(testLog, nil)), Refresh: -1, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.guard.Close)
	ing, err := analytics.NewIngestor(ctx, st, analytics.Options{Now: svc.Now, Location: analytics.ShopLocation(svc), FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ing.Close() })
	analytics.FromOrders(svc, ing, slog.New(slog.NewTextHandler(testLog, nil)))
	e.ingest = ing
	e.cfg = httpapi.Config{Analytics: ing, AnalyticsStore: st, AnalyticsCache: analytics.NewCache(256, svc.Now), Commerce: svc, Promotions: ps, Flash: e.flash, Grabs: peak.NewGrabs(peak.NewMemory(), ps, nil), Guard: e.guard,
		Presales: peak.NewPresales(st, svc, peak.Options{}), Groups: peak.NewGroups(st, svc, peak.Options{}), Campaigns: campaign.New(st, svc, ps, analytics.CampaignActuals{Reader: analytics.Reader{St: st}, Spend: st}), Logger: slog.New(slog.NewTextHandler(testLog, nil))}
	api := httpapi.New(e.cfg)
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (e *env) do(role, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	// Writes that require an Idempotency-Key get a fresh one unless the
	// test names the header itself (an empty value sends none).
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", "test-"+commerce.NewID("k"))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Idempotency-Key" && hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// counts is what a rejected request must leave unchanged.
func (e *env) counts() string {
	var out []string
	for _, table := range []string{"orders", "order_lines", "holds", "skus", "products", "categories", "customers", "stock_moves", "points_moves", "audit_log", "idempotency", "api_keys", "promotions", "coupon_templates", "coupons", "usage_counters", "guard_blocks", "guard_refusals", "guard_policies"} {
		var n int
		if err := e.store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, table+"="+itoa(n))
	}
	var stock, held int64
	e.store.Reader().QueryRow("SELECT SUM(stock), SUM(held) FROM skus").Scan(&stock, &held)
	var pts int64
	e.store.Reader().QueryRow("SELECT SUM(points) FROM customers").Scan(&pts)
	return strings.Join(out, " ") + " stock=" + itoa(int(stock)) + " held=" + itoa(int(held)) + " points=" + itoa(int(pts))
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestBadInputIsRejectedWithAProblemNamingTheFieldAndWritesNothing runs
// every mutating endpoint with input it must refuse.
func TestBadInputIsRejectedWithAProblemNamingTheFieldAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	sku, cust := e.sku.ID, e.cust.ID
	big := `{"lines":[{"sku_id":"` + sku + `","quantity":1}],"channel":"` + strings.Repeat("x", httpapi.MaxBody) + `"}`
	tests := []badInput{
		// orders
		{"malformed json", "POST", "/api/v1/orders", `{"lines": [`, 400, "malformed_request", ""},
		{"not an object", "POST", "/api/v1/orders", `[1,2]`, 422, "validation_failed", ""},
		{"unknown field", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1}],"discount":100}`, 422, "unknown_field", ""},
		{"unknown nested field", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1,"price":1}]}`, 422, "unknown_field", ""},
		{"quantity wrong type", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":"2"}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"quantity zero", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":0}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"quantity negative", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":-3}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"quantity fractional", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1.5}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"quantity overflows int64", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":99999999999999999999999}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"no lines", "POST", "/api/v1/orders", `{"lines":[]}`, 422, "validation_failed", "lines"},
		{"lines missing", "POST", "/api/v1/orders", `{}`, 422, "validation_failed", ""},
		{"unknown sku", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"sku_nope","quantity":1}]}`, 422, "unknown_sku", "lines[0].sku_id"},
		{"duplicate sku line", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1},{"sku_id":"` + sku + `","quantity":2}]}`, 422, "duplicate_line", "lines[1].sku_id"},
		{"unknown customer", "POST", "/api/v1/orders", `{"customer_id":"cus_x","lines":[{"sku_id":"` + sku + `","quantity":1}]}`, 422, "unknown_customer", "customer_id"},
		{"negative points", "POST", "/api/v1/orders", `{"customer_id":"` + cust + `","points":-100,"lines":[{"sku_id":"` + sku + `","quantity":1}]}`, 422, "validation_failed", "points"},
		{"campaign too long", "POST", "/api/v1/orders", `{"campaign":"` + strings.Repeat("c", 65) + `","lines":[{"sku_id":"` + sku + `","quantity":1}]}`, 422, "validation_failed", "campaign"},
		{"campaign with a control character", "POST", "/api/v1/orders", `{"campaign":"d11\u0000","lines":[{"sku_id":"` + sku + `","quantity":1}]}`, 422, "invalid_text", "campaign"},
		// The shop's line cap (99 by default) comes before the stock.
		{"more than in stock", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":101}]}`, 422, "quantity_over_cap", "lines[0].quantity"},
		{"amount overflow", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1000000}]}`, 422, "quantity_over_cap", "lines[0].quantity"},
		{"oversize body", "POST", "/api/v1/orders", big, 413, "body_too_large", ""},
		{"overlong idempotency key", "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1}]}`, 422, "validation_failed", "Idempotency-Key"},
		{"pay unknown order", "POST", "/api/v1/orders/ord_nope/pay", nil, 404, "order_not_found", ""},
		{"bad id", "POST", "/api/v1/orders/" + strings.Repeat("z", 80) + "/pay", nil, 422, "validation_failed", "id"},
		{"cancel unknown order", "POST", "/api/v1/orders/ord_nope/cancel", nil, 404, "order_not_found", ""},
		// catalog
		{"negative price", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[{"code":"S","price":-1}]}]}`, 422, "validation_failed", "items[0].skus[0].price"},
		{"price overflow", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[{"code":"S","price":9223372036854775807}]}]}`, 422, "validation_failed", "items[0].skus[0].price"},
		{"product without skus", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[]}]}`, 422, "validation_failed", "items[0].skus"},
		{"unknown category", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","category_id":"nope","skus":[{"code":"S","price":1}]}]}`, 422, "unknown_category", "items[0].category_id"},
		{"duplicate sku codes", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[{"code":"S","price":1},{"code":"S","price":2}]}]}`, 422, "duplicate", "items[0].skus[1].code"},
		{"bad status", "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[{"code":"S","price":1,"status":"gone"}]}]}`, 422, "validation_failed", "items[0].skus[0].status"},
		{"category cycle", "PUT", "/api/v1/categories", `{"items":[{"id":"a","parent_id":"b","name":"A"},{"id":"b","parent_id":"a","name":"B"}]}`, 422, "category_cycle", "items[0].parent_id"},
		{"category without name", "PUT", "/api/v1/categories", `{"items":[{"id":"a"}]}`, 422, "validation_failed", ""},
		{"stock below zero", "POST", "/api/v1/skus/" + sku + "/stock-adjustments", `{"delta":-101}`, 422, "stock_below_zero", "delta"},
		{"stock delta zero", "POST", "/api/v1/skus/" + sku + "/stock-adjustments", `{"delta":0}`, 422, "out_of_range", "delta"},
		{"stock unknown sku", "POST", "/api/v1/skus/sku_nope/stock-adjustments", `{"delta":5}`, 404, "sku_not_found", ""},
		// customers
		{"customer without external id", "PUT", "/api/v1/customers", `{"items":[{"name":"x"}]}`, 422, "validation_failed", ""},
		{"customer bad time zone", "PUT", "/api/v1/customers", `{"items":[{"external_id":"u9","time_zone":"Mars/Olympus"}]}`, 422, "invalid_time_zone", "items[0].time_zone"},
		{"points below zero", "POST", "/api/v1/customers/" + cust + "/points", `{"delta":-1,"reason":"x"}`, 422, "points_below_zero", "delta"},
		{"points without reason", "POST", "/api/v1/customers/" + cust + "/points", `{"delta":5}`, 422, "validation_failed", ""},
		{"erase unknown customer", "POST", "/api/v1/customers/cus_nope/erase", nil, 404, "customer_not_found", ""},
		// shop and keys
		{"bad margin mode", "PATCH", "/api/v1/shop", `{"settings":{"margin_mode":"maybe"}}`, 422, "invalid_enum", "settings.margin_mode"},
		{"negative shipping", "PATCH", "/api/v1/shop", `{"settings":{"shipping_fee":-1}}`, 422, "out_of_range", "settings.shipping_fee"},
		{"bad time zone", "PATCH", "/api/v1/shop", `{"time_zone":"Nowhere"}`, 422, "invalid_time_zone", "time_zone"},
		{"bad role", "POST", "/api/v1/keys", `{"role":"root"}`, 422, "validation_failed", "role"},
		{"revoke unknown key", "DELETE", "/api/v1/keys/key_nope", nil, 404, "api_key_not_found", ""},
		{"refund unknown order", "POST", "/api/v1/orders/ord_nope/refunds", `{"lines":[{"no":1,"quantity":1}]}`, 404, "order_not_found", ""},
		{"refund zero units", "POST", "/api/v1/orders/ord_nope/refunds", `{"lines":[{"no":1,"quantity":0}]}`, 422, "validation_failed", "lines[0].quantity"},
		// guard
		{"guard negative rate", "PUT", "/api/v1/guard/policy", `{"per_ip":{"rate":-1,"per_seconds":1}}`, 422, "validation_failed", "per_ip.rate"},
		{"guard rate as a string", "PUT", "/api/v1/guard/policy", `{"per_device":{"rate":"10","per_seconds":1}}`, 422, "validation_failed", "per_device.rate"},
		{"guard rate without period", "PUT", "/api/v1/guard/policy", `{"per_ip":{"rate":10}}`, 422, "out_of_range", "per_ip.per_seconds"},
		{"guard burst without rate", "PUT", "/api/v1/guard/policy", `{"per_customer":{"rate":0,"burst":5}}`, 422, "required", "per_customer.rate"},
		{"guard limit without rate", "PUT", "/api/v1/guard/policy", `{"per_customer":{"per_seconds":1}}`, 422, "validation_failed", ""},
		{"guard period over a day", "PUT", "/api/v1/guard/policy", `{"per_ip":{"rate":1,"per_seconds":90000}}`, 422, "validation_failed", "per_ip.per_seconds"},
		{"guard fail limit below -1", "PUT", "/api/v1/guard/policy", `{"fail_limit":-2}`, 422, "validation_failed", "fail_limit"},
		{"guard window too long", "PUT", "/api/v1/guard/policy", `{"fail_window_seconds":999999999}`, 422, "validation_failed", "fail_window_seconds"},
		{"guard negative block", "PUT", "/api/v1/guard/policy", `{"block_seconds":-1}`, 422, "validation_failed", "block_seconds"},
		{"guard unknown field", "PUT", "/api/v1/guard/policy", `{"per_ip":{"rate":1,"per_seconds":1},"captcha":true}`, 422, "unknown_field", ""},
		{"guard malformed policy", "PUT", "/api/v1/guard/policy", `{"per_ip":`, 400, "malformed_request", ""},
		{"lift unknown block", "DELETE", "/api/v1/guard/blocks/blk_nope", nil, 404, "guard_block_not_found", ""},
		{"lift overlong id", "DELETE", "/api/v1/guard/blocks/" + strings.Repeat("b", 80), nil, 422, "validation_failed", "id"},
		{"refusals by unknown rule", "GET", "/api/v1/guard/refusals?rule=captcha", nil, 422, "validation_failed", "rule"},
		{"refusals page too big", "GET", "/api/v1/guard/refusals?limit=501", nil, 422, "validation_failed", "limit"},
		{"blocks active not a bool", "GET", "/api/v1/guard/blocks?active=maybe", nil, 422, "validation_failed", "active"},
	}
	e.expectRejected(t, tests, e.counts, map[string][]string{"overlong idempotency key": {"Idempotency-Key", strings.Repeat("k", 300)}})
}

func TestRolesLimitWhatAKeyReaches(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		role, method, path string
		body               any
		status             int
	}{
		{"", "GET", "/api/v1/skus", nil, 401},
		{commerce.RoleStorefront, "GET", "/api/v1/skus", nil, 403},
		{commerce.RoleStorefront, "PUT", "/api/v1/products", `{"items":[{"code":"P","name":"n","skus":[{"code":"S","price":1}]}]}`, 403},
		{commerce.RoleStorefront, "GET", "/api/v1/customers", nil, 403},
		{commerce.RoleStorefront, "GET", "/api/v1/audit", nil, 403},
		{commerce.RoleAnalyst, "PUT", "/api/v1/customers", `{"items":[{"external_id":"x"}]}`, 403},
		{commerce.RoleAnalyst, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}]}`, 403},
		{commerce.RoleOperator, "POST", "/api/v1/keys", `{"role":"admin"}`, 403},
		{commerce.RoleOperator, "PATCH", "/api/v1/shop", `{"name":"x"}`, 403},
		{commerce.RoleAnalyst, "GET", "/api/v1/skus", nil, 200},
		{commerce.RoleStorefront, "GET", "/api/v1/guard/blocks", nil, 403},
		{commerce.RoleStorefront, "GET", "/api/v1/guard/refusals", nil, 403},
		{commerce.RoleAnalyst, "DELETE", "/api/v1/guard/blocks/blk_x", nil, 403},
		{commerce.RoleAnalyst, "PUT", "/api/v1/guard/policy", `{}`, 403},
		{commerce.RoleOperator, "DELETE", "/api/v1/guard/blocks/blk_x", nil, 404},
		{commerce.RoleAnalyst, "GET", "/api/v1/guard/refusals", nil, 200},
		{commerce.RoleAnalyst, "GET", "/api/v1/guard/policy", nil, 200},
		{commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}]}`, 201},
	}
	for _, tt := range tests {
		r := e.do(tt.role, tt.method, tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s %s %s: status %d, want %d (%s)", tt.role, tt.method, tt.path, r.status, tt.status, r.body)
		}
		if tt.status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: content type %q", tt.method, tt.path, r.header.Get("Content-Type"))
		}
	}
	r := e.do("", "GET", "/api/v1/skus", nil, "Authorization", "Bearer ck_ad_wrong")
	if r.status != 401 {
		t.Errorf("a wrong key got %d", r.status)
	}
}

func TestAnOrderGoesFromPlacedToRefundedOverHTTP(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 2}}}
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "k1")
	if r.status != 201 {
		t.Fatalf("place: %d %s", r.status, r.body)
	}
	var o commerce.Order
	r.json(t, &o)
	if o.Payable != 2*25800+commerce.DefaultShippingFee || o.Status != commerce.OrderPendingPayment {
		t.Fatalf("order = %+v", o)
	}
	again := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "k1")
	var o2 commerce.Order
	again.json(t, &o2)
	if again.status != 200 || o2.ID != o.ID {
		t.Fatalf("replay: %d, id %s want %s", again.status, o2.ID, o.ID)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/cancel", nil); r.status != 409 {
		t.Fatalf("cancel after pay: %d, want 409", r.status)
	}
	r = e.do(commerce.RoleOperator, "POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"no": 1, "quantity": 1}}})
	if r.status != 200 {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	r.json(t, &o)
	if o.Status != commerce.OrderPartiallyRefunded || o.RefundedAmount != 25800 {
		t.Fatalf("after refund: %s %d", o.Status, o.RefundedAmount)
	}
	var sku commerce.SKU
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/skus/"+e.sku.ID, nil).json(t, &sku)
	if sku.Stock != 99 || sku.Sold != 1 || sku.Held != 0 {
		t.Fatalf("sku after refund: stock %d sold %d held %d", sku.Stock, sku.Sold, sku.Held)
	}
	var cust commerce.Customer
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/customers/"+e.cust.ID, nil).json(t, &cust)
	if cust.Name != "李*" || cust.Phone != "139****1111" {
		t.Fatalf("an analyst sees %q %q, want them masked", cust.Name, cust.Phone)
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"shipping_fee":0}}`)
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit", nil).json(t, &audit)
	if len(audit.Items) == 0 || audit.Items[0].Actor == "system" { // newest first
		t.Fatalf("audit = %+v; want the settings change by the admin key", audit.Items)
	}
}

func TestServiceEndpointsAnswer(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, want string }{{"/healthz", "ok"}, {"/readyz", "ready"}, {"/api/v1/openapi.json", `"openapi":"3.1`},
		{"/docs", "place-order"}, {"/metrics", `carnival_http_requests_total{operation="GET /healthz",status="200"} 1`}} {
		path, want := c.path, c.want
		r := e.do("", "GET", path, nil)
		if r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, r.status, want)
		}
	}
	if r := e.do("", "GET", "/healthz", nil); r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on responses")
	}
}

// FuzzPlaceOrder feeds arbitrary bodies to the order endpoint: whatever
// arrives, the answer is never a 5xx.
func FuzzPlaceOrder(f *testing.F) {
	e := newEnv(f)
	for _, s := range []string{`{"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}]}`, `{}`, `[]`, `null`, `{"lines":null}`,
		`{"lines":[{"sku_id":"","quantity":9223372036854775807}]}`, `{"customer_id":"` + e.cust.ID + `","points":100,"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}]}`,
		`{"lines":[{"sku_id":"\u0000","quantity":1}],"coupon_codes":["x"]}`, "\xff\xfe", `{"lines":[{"sku_id":"a","quantity":1e400}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body)
		if r.status >= 500 {
			t.Fatalf("status %d for %q: %s", r.status, body, r.body)
		}
	})
}

// testLog discards server logs unless CARNIVAL_TEST_LOG is set.
var testLog io.Writer = func() io.Writer {
	if os.Getenv("CARNIVAL_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()

func TestListsPageWithCursors(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
		if r.status != 201 {
			t.Fatalf("place: %d %s", r.status, r.body)
		}
	}
	for _, path := range []string{"/api/v1/orders?limit=2", "/api/v1/orders?status=pending_payment&limit=2"} {
		var page httpapi.List[commerce.Order]
		e.do(commerce.RoleAnalyst, "GET", path, nil).json(t, &page)
		if len(page.Items) != 2 || page.NextCursor != page.Items[1].ID {
			t.Fatalf("%s: %d items, next %q; want 2 and the last id", path, len(page.Items), page.NextCursor)
		}
		var rest httpapi.List[commerce.Order]
		e.do(commerce.RoleAnalyst, "GET", path+"&cursor="+page.NextCursor, nil).json(t, &rest)
		if len(rest.Items) != 1 || rest.NextCursor != "" || rest.Items[0].ID <= page.Items[1].ID {
			t.Fatalf("%s page 2: %+v", path, rest)
		}
	}
	var moves httpapi.List[commerce.StockMove]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/skus/"+e.sku.ID+"/stock-moves?limit=1", nil).json(t, &moves)
	if len(moves.Items) != 1 || moves.NextCursor == "" {
		t.Fatalf("stock moves page: %+v", moves)
	}
}
