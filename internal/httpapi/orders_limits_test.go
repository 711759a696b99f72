package httpapi_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

type problemBody struct {
	Code  string         `json:"code"`
	Field string         `json:"field"`
	Extra map[string]any `json:"extra"`
}

func TestOrderQuantityCapsAnswer422NamingTheFieldWithTheCap(t *testing.T) {
	e := newEnv(t)
	before := e.counts()
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 100}}})
	var p problemBody
	r.json(t, &p)
	if r.status != 422 || p.Code != "quantity_over_cap" || p.Field != "lines[0].quantity" || p.Extra["cap"] != float64(99) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if after := e.counts(); after != before {
		t.Fatalf("a refused order wrote:\n%s\n%s", before, after)
	}
	var sh struct {
		Settings commerce.ShopSettings `json:"settings"`
	}
	r = e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", map[string]any{"settings": map[string]any{"max_line_quantity": 100, "max_unpaid_orders": 3}})
	r.json(t, &sh)
	if r.status != 200 || sh.Settings.MaxLineQuantity != 100 || sh.Settings.MaxUnpaidOrders != 3 || sh.Settings.MaxOrderQuantity != 200 {
		t.Fatalf("patch shop: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", map[string]any{"settings": map[string]any{"max_anonymous_unpaid_orders": 0}}); r.status != 422 {
		t.Fatalf("a cap of 0: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 100}}}); r.status != 201 {
		t.Fatalf("100 units under a cap of 100: %d %s", r.status, r.body)
	}
}

func TestAnonymousCallersAreCappedByDeviceElseByForwardedIP(t *testing.T) {
	e := newEnv(t)
	line := map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}
	place := func(hdr ...string) resp { return e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", line, hdr...) }
	// Without a device id or a trusted proxy naming the shopper, the peer is
	// the storefront's server: its address is everyone, and caps no one.
	for i := 0; i < commerce.DefaultMaxAnonymousUnpaidOrders+1; i++ {
		if r := place(); r.status != 201 {
			t.Fatalf("order %d from the storefront server: %d %s", i+1, r.status, r.body)
		}
	}
	// Behind a trusted proxy (here: the storefront server forwarding the
	// shopper's IP) the forwarded IP is who the shopper is.
	cfg := e.cfg
	var err error
	if cfg.TrustedProxies, err = httpapi.ParseTrustedProxies("127.0.0.0/8,::1"); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(httpapi.New(cfg).Handler())
	t.Cleanup(e.srv.Close)
	for i := 0; i < commerce.DefaultMaxAnonymousUnpaidOrders; i++ {
		if r := place("X-Device-Id", "dev-a"); r.status != 201 {
			t.Fatalf("order %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := place("X-Device-Id", "dev-a")
	var p problemBody
	r.json(t, &p)
	if r.status != 409 || p.Code != "too_many_unpaid_orders" || p.Extra["limit"] != float64(commerce.DefaultMaxAnonymousUnpaidOrders) {
		t.Fatalf("order past the cap: %d %s", r.status, r.body)
	}
	// Another device on the same IP is someone else.
	if r := place("X-Device-Id", "dev-b"); r.status != 201 {
		t.Fatalf("another device: %d %s", r.status, r.body)
	}
	// Without a device id the forwarded client IP is who it is.
	for i := 0; i < commerce.DefaultMaxAnonymousUnpaidOrders; i++ {
		if r := place("X-Forwarded-For", "198.51.100.9"); r.status != 201 {
			t.Fatalf("order %d by ip: %d %s", i+1, r.status, r.body)
		}
	}
	if r := place("X-Forwarded-For", "198.51.100.9"); r.status != 409 {
		t.Fatalf("order by ip past the cap: %d %s", r.status, r.body)
	}
	if r := place("X-Forwarded-For", "198.51.100.10"); r.status != 201 {
		t.Fatalf("another shopper's ip: %d %s", r.status, r.body)
	}
	// A customer's own orders count for the customer.
	cust := map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}
	for i := 0; i < commerce.DefaultMaxUnpaidOrders; i++ {
		if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", cust, "X-Device-Id", "dev-a"); r.status != 201 {
			t.Fatalf("customer order %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", cust); r.status != 409 {
		t.Fatalf("customer order past the cap: %d %s", r.status, r.body)
	}
}

func TestOrderPlacementIsRateLimitedByTheGuard(t *testing.T) {
	e := newEnv(t)
	p := guard.DefaultPolicy()
	p.PerDevice = guard.Limit{Rate: 2, Per: time.Hour}
	p.PerIP = guard.Limit{Rate: 1, Per: time.Hour}
	if err := e.guard.SetShopPolicy(context.Background(), e.shop.ID, "test", p); err != nil {
		t.Fatal(err)
	}
	line := map[string]any{"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}
	for i := 0; i < 2; i++ {
		if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", line, "X-Device-Id", "dev-bot", "Idempotency-Key", "k"+strconv.Itoa(i)); r.status != 201 {
			t.Fatalf("order %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", line, "X-Device-Id", "dev-bot", "Idempotency-Key", "k3")
	var pb problemBody
	r.json(t, &pb)
	if r.status != 429 || pb.Code != "rate_limited" || pb.Extra["dimension"] != guard.DimDevice || r.header.Get("Retry-After") == "" {
		t.Fatalf("third order within the hour: %d %s", r.status, r.body)
	}
	// The per-IP limit is not the storefront server's: its address is not
	// a shopper's unless a trusted proxy forwarded one.
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", line, "X-Device-Id", "dev-other"); r.status != 201 {
		t.Fatalf("another device from the same server: %d %s", r.status, r.body)
	}
	e.guard.Flush()
	rs, err := e.guard.ListRefusals(context.Background(), e.shop.ID, guard.RefusalFilter{Scope: "orders"}, commerce.Page{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("refusals at scope orders: %+v %v", rs, err)
	}
}
