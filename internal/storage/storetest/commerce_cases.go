package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

var ctx = context.Background()

func testShopsAndKeys(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	k, secret, err := e.Svc.CreateAPIKeyBy(ctx, e.Admin, commerce.RoleStorefront, "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "ck_st_") {
		t.Fatalf("storefront secret %q; want the ck_st_ prefix existing keys have", secret)
	}
	pk, pub, err := e.Svc.CreateAPIKeyBy(ctx, e.Admin, commerce.RolePublishable, "page")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub, "ck_pk_") {
		t.Fatalf("publishable secret %q; want the ck_pk_ prefix", pub)
	}
	if got, err := e.Svc.Authenticate(ctx, pub); err != nil || got.ID != pk.ID || got.Role != commerce.RolePublishable {
		t.Fatalf("Authenticate(publishable) = %+v, %v", got, err)
	}
	got, err := e.Svc.Authenticate(ctx, secret)
	if err != nil || got.ID != k.ID || got.Role != commerce.RoleStorefront || got.ShopID != e.Shop.ID {
		t.Fatalf("Authenticate = %+v, %v; want key %s", got, err, k.ID)
	}
	if _, err := e.Svc.Authenticate(ctx, secret+"x"); err == nil {
		t.Fatal("a wrong secret authenticated")
	}
	if err := e.Svc.RevokeAPIKey(ctx, e.Admin, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Authenticate(ctx, secret); err == nil {
		t.Fatal("a revoked key still authenticates")
	}
	if _, _, err := e.Svc.CreateAPIKey(ctx, e.Shop.ID, "root", ""); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	fee, timeout := int64(0), int64(600)
	if _, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{PaymentTimeoutSeconds: new(int64)}); err == nil {
		t.Fatal("a zero payment timeout was accepted")
	}
	sh, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{ShippingFee: &fee, PaymentTimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.Svc.Shop(ctx, sh.ID)
	if again.Settings.ShippingFee != 0 || again.Settings.PaymentTimeout() != 10*time.Minute || again.Settings.PointsMultiple != 100 {
		t.Fatalf("settings not saved: %+v", again.Settings)
	}
	audit, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, commerce.Page{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range audit {
		count[a.Action+" "+a.Entity]++
		switch {
		case a.Entity == "shop" && (len(a.Before) == 0 || len(a.After) == 0):
			t.Fatalf("shop update audited without before and after: %+v", a)
		case a.Action == "create" && a.Entity == "api_key":
			// Key creation names its actor and the key, never the secret.
			if a.Actor != e.Admin.String() || (a.EntityID != k.ID && a.EntityID != pk.ID) {
				t.Fatalf("key creation audited as %+v; want actor %s and the key's id", a, e.Admin)
			}
			if strings.Contains(string(a.After), secret) || strings.Contains(string(a.After), pub) || strings.Contains(string(a.After), "ck_") ||
				strings.Contains(string(a.After), "hash") || !strings.Contains(string(a.After), `"role"`) {
				t.Fatalf("key creation audit after = %s; want the key without its secret or hash", a.After)
			}
		}
	}
	if len(audit) != 4 || count["create api_key"] != 2 || count["revoke api_key"] != 1 || count["update shop"] != 1 {
		t.Fatalf("audit = %+v; want two key creations, the key revocation and one shop update", count)
	}
}

func testCatalog(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	if _, err := e.Svc.UpsertCategories(ctx, e.Admin, []commerce.Category{{ID: "apparel", Name: "服装"}, {ID: "tops", ParentID: "apparel", Name: "上衣"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.UpsertCategories(ctx, e.Admin, []commerce.Category{{ID: "apparel", ParentID: "tops", Name: "服装"}}); err == nil {
		t.Fatal("a category cycle was accepted")
	}
	anc, err := e.Store.CategoryAncestors(ctx, e.Shop.ID, "tops")
	if err != nil || fmt.Sprint(anc) != "[tops apparel]" {
		t.Fatalf("ancestors = %v, %v", anc, err)
	}
	stock := int64(10)
	skus, err := e.Svc.UpsertProducts(ctx, e.Admin, []commerce.ProductUpsert{{Code: "TEE", Name: "T-shirt", CategoryID: "tops",
		SKUs: []commerce.SKUUpsert{{Code: "TEE-S", Price: 9900, Cost: 4000, Stock: &stock}, {Code: "TEE-M", Price: 9900, Cost: 4000}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(skus) != 2 || skus[0].Stock != 10 || skus[1].Stock != 0 || skus[0].CategoryID != "tops" || skus[0].Name != "T-shirt" {
		t.Fatalf("skus = %+v", skus)
	}
	// Upserting again by code updates in place and records the stock change.
	stock = 25
	again, err := e.Svc.UpsertProducts(ctx, e.Admin, []commerce.ProductUpsert{{Code: "TEE", Name: "T-shirt", CategoryID: "tops",
		SKUs: []commerce.SKUUpsert{{Code: "TEE-S", Price: 8900, Cost: 4000, Stock: &stock}}}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID != skus[0].ID || again[0].Price != 8900 || again[0].Stock != 25 {
		t.Fatalf("re-upsert = %+v, want same id, price 8900, stock 25", again[0])
	}
	if _, err := e.Svc.AdjustStock(ctx, e.Admin, skus[0].ID, -30, "count"); err == nil {
		t.Fatal("stock went below zero")
	}
	k, err := e.Svc.AdjustStock(ctx, e.Admin, skus[0].ID, -5, "damaged")
	if err != nil || k.Stock != 20 {
		t.Fatalf("adjust = %+v, %v", k, err)
	}
	moves, err := e.Svc.StockMoves(ctx, e.Shop.ID, skus[0].ID, commerce.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, m := range moves {
		sum += m.Delta
	}
	if len(moves) != 3 || sum != 20 {
		t.Fatalf("ledger = %+v; want 3 moves summing to the stock 20", moves)
	}
	list, err := e.Svc.ListSKUs(ctx, e.Shop.ID, commerce.SKUFilter{CategoryID: "tops"}, commerce.Page{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatalf("page 1 = %v, %v", list, err)
	}
	next, err := e.Svc.ListSKUs(ctx, e.Shop.ID, commerce.SKUFilter{CategoryID: "tops"}, commerce.Page{Limit: 1, Cursor: list[0].ID})
	if err != nil || len(next) != 1 || next[0].ID == list[0].ID {
		t.Fatalf("page 2 = %v, %v", next, err)
	}
}

func testCustomers(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	c := e.SeedCustomer(t, "u-1")
	if c.ID == "" || c.Tier != "gold" {
		t.Fatalf("customer = %+v", c)
	}
	up, err := e.Svc.UpsertCustomers(ctx, e.Admin, []commerce.Customer{{ExternalID: "u-1", Name: "张三丰", Tier: "platinum", Tags: []string{"vip"}}})
	if err != nil || up[0].ID != c.ID || up[0].Tier != "platinum" || len(up[0].Tags) != 1 {
		t.Fatalf("upsert by external id = %+v, %v", up, err)
	}
	list, err := e.Svc.ListCustomers(ctx, e.Shop.ID, commerce.Page{})
	if err != nil || len(list) != 1 || list[0].Name != "张**" {
		t.Fatalf("list = %+v, %v; want the name masked", list, err)
	}
	if _, err := e.Svc.AdjustPoints(ctx, e.Admin, c.ID, -1, "oops"); err == nil {
		t.Fatal("points went below zero")
	}
	got, err := e.Svc.AdjustPoints(ctx, e.Admin, c.ID, 500, "signup bonus")
	if err != nil || got.Points != 500 {
		t.Fatalf("points = %+v, %v", got, err)
	}
	if err := e.Svc.EraseCustomer(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	er, _ := e.Svc.Customer(ctx, e.Shop.ID, c.ID)
	if er.ErasedAt == nil || er.Name != "" || er.Phone != "" || er.Email != "" || er.ExternalID == "u-1" {
		t.Fatalf("erased customer still holds personal data: %+v", er)
	}
}

func place(t *testing.T, e *Env, cust string, lines ...commerce.CartLine) *commerce.Order {
	t.Helper()
	o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: cust, Lines: lines}, "")
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	return o
}

func testOrderLifecycle(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 25800, 5)
	b := e.SeedSKU(t, "B", 5900, 5)
	c := e.SeedCustomer(t, "u-1")
	o := place(t, e, c.ID, commerce.CartLine{SKUID: a.ID, Quantity: 2}, commerce.CartLine{SKUID: b.ID, Quantity: 1})
	if o.Status != commerce.OrderPendingPayment || o.GoodsAmount != 2*25800+5900 || o.Shipping != commerce.DefaultShippingFee ||
		o.Payable != o.GoodsAmount+o.Shipping || o.Lines[0].Payable != 51600 {
		t.Fatalf("order = %+v", o)
	}
	if k := e.sku(t, a.ID); k.Stock != 3 || k.Held != 2 || k.Sold != 0 {
		t.Fatalf("after placing: stock %d held %d sold %d, want 3/2/0", k.Stock, k.Held, k.Sold)
	}
	if _, err := e.Svc.FulfilOrder(ctx, e.Shop.ID, o.ID); err == nil {
		t.Fatal("an unpaid order was fulfilled")
	} else {
		wantCode(t, err, "illegal_transition")
	}
	paid, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	if err != nil || paid.Status != commerce.OrderPaid || paid.PaidAt == nil {
		t.Fatalf("pay = %+v, %v", paid, err)
	}
	for _, h := range paid.Holds {
		if h.State != commerce.HoldCommitted {
			t.Fatalf("hold %+v not committed after payment", h)
		}
	}
	if k := e.sku(t, a.ID); k.Stock != 3 || k.Held != 0 || k.Sold != 2 {
		t.Fatalf("after paying: stock %d held %d sold %d, want 3/0/2", k.Stock, k.Held, k.Sold)
	}
	cust, _ := e.Svc.Customer(ctx, e.Shop.ID, c.ID)
	if cust.FirstPaidAt == nil {
		t.Fatal("first paid time not recorded")
	}
	_, err = e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	wantCode(t, err, "illegal_transition")
	_, err = e.Svc.CancelOrder(ctx, e.Shop.ID, o.ID, "")
	wantCode(t, err, "illegal_transition")
	if f, err := e.Svc.FulfilOrder(ctx, e.Shop.ID, o.ID); err != nil || f.Status != commerce.OrderFulfilled {
		t.Fatalf("fulfil = %+v, %v", f, err)
	}

	// Cancelling releases every hold.
	o2 := place(t, e, "", commerce.CartLine{SKUID: b.ID, Quantity: 4})
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, o2.ID, "changed mind"); err != nil {
		t.Fatal(err)
	}
	if k := e.sku(t, b.ID); k.Stock != 4 || k.Held != 0 || k.Sold != 1 {
		t.Fatalf("after cancel: stock %d held %d sold %d, want 4/0/1", k.Stock, k.Held, k.Sold)
	}
	// Not enough stock: a conflict naming the line, nothing written.
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: b.ID, Quantity: 1}, {SKUID: a.ID, Quantity: 4}}}, "")
	wantCode(t, err, "out_of_stock")
	if ce, _ := commerce.AsError(err); ce.Field != "lines[1].quantity" {
		t.Fatalf("out of stock names %q, want lines[1].quantity", ce.Field)
	}
	if k := e.sku(t, b.ID); k.Stock != 4 || k.Held != 0 {
		t.Fatalf("a failed order left holds: stock %d held %d", k.Stock, k.Held)
	}
	orders, err := e.Svc.ListOrders(ctx, e.Shop.ID, commerce.OrderFilter{}, commerce.Page{})
	if err != nil || len(orders) != 2 {
		t.Fatalf("orders = %d, %v; want 2", len(orders), err)
	}
	// Unknown SKUs and customers are 4xx naming the field.
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: "sku_nope", Quantity: 1}}}, "")
	wantCode(t, err, "unknown_sku")
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: "cus_nope", Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 1}}}, "")
	wantCode(t, err, "unknown_customer")
}

func testPaymentTimeout(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1000, 3)
	o := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 2})
	if !o.ExpiresAt.Equal(o.CreatedAt.Add(commerce.DefaultPaymentTimeout)) {
		t.Fatalf("expires %v, want created + 15 min", o.ExpiresAt)
	}
	e.Clock.Advance(14 * time.Minute)
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("expired %d early (%v)", n, err)
	}
	e.Clock.Advance(time.Minute)
	// Paying at the deadline fails cleanly and releases the stock at once.
	_, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	wantCode(t, err, "payment_timeout")
	got, _ := e.Svc.Order(ctx, e.Shop.ID, o.ID)
	if got.Status != commerce.OrderCancelled || got.CancelReason != "payment_timeout" {
		t.Fatalf("order after late payment = %s (%s)", got.Status, got.CancelReason)
	}
	if k := e.sku(t, a.ID); k.Stock != 3 || k.Held != 0 {
		t.Fatalf("stock %d held %d after timeout, want 3/0", k.Stock, k.Held)
	}
	// The sweeper cancels what nobody touched.
	o2 := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 1})
	e.Clock.Advance(16 * time.Minute)
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v; want 1", n, err)
	}
	got, _ = e.Svc.Order(ctx, e.Shop.ID, o2.ID)
	if got.Status != commerce.OrderCancelled {
		t.Fatalf("swept order is %s", got.Status)
	}
	if k := e.sku(t, a.ID); k.Stock != 3 || k.Held != 0 {
		t.Fatalf("stock %d held %d after sweep, want 3/0", k.Stock, k.Held)
	}
}

func testRefunds(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 3333, 10)
	o := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 3})
	if _, err := e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}}); err == nil {
		t.Fatal("refunded an unpaid order")
	}
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
		t.Fatal(err)
	}
	r1, err := e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}})
	if err != nil || r1.Status != commerce.OrderPartiallyRefunded || r1.RefundedAmount != 3333 || r1.Lines[0].RefundedQty != 1 {
		t.Fatalf("first refund = %+v, %v", r1, err)
	}
	if _, err := e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 3}}}); err == nil {
		t.Fatal("refunded more units than are left")
	}
	r2, err := e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 2}}})
	if err != nil || r2.Status != commerce.OrderRefunded || r2.RefundedAmount != r2.Lines[0].Payable {
		t.Fatalf("second refund = %+v, %v; want the whole line payable refunded", r2, err)
	}
	if k := e.sku(t, a.ID); k.Stock != 10 || k.Sold != 0 {
		t.Fatalf("stock %d sold %d after full refund, want 10/0", k.Stock, k.Sold)
	}
	// The shipping paid comes back when asked, once, and the order has
	// then refunded exactly what it charged.
	if o.Shipping-o.ShippingDiscount <= 0 {
		t.Fatalf("the order charged no shipping (%d); the test needs some", o.Shipping)
	}
	r3, err := e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Shipping: true})
	if err != nil || r3.RefundedAmount != o.Payable {
		t.Fatalf("shipping refund = %+v, %v; want refunded %d, the whole payable", r3, err, o.Payable)
	}
	_, err = e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Shipping: true})
	wantCode(t, err, "shipping_not_refundable")
}

func testIdempotency(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1000, 10)
	req := &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 2}}}
	first, replayed, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "key-1")
	if err != nil || replayed {
		t.Fatalf("first = %v, replayed %v", err, replayed)
	}
	second, replayed, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "key-1")
	if err != nil || !replayed || second.ID != first.ID || second.Payable != first.Payable {
		t.Fatalf("replay = %+v, replayed %v, %v; want the first order", second, replayed, err)
	}
	if k := e.sku(t, a.ID); k.Stock != 8 || k.Held != 2 {
		t.Fatalf("a replay took stock again: stock %d held %d", k.Stock, k.Held)
	}
	other := &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 3}}}
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, other, "key-1")
	wantCode(t, err, "idempotency_key_reused")
}

func testPointsHolds(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	c := e.SeedCustomer(t, "u-1")
	if _, err := e.Svc.AdjustPoints(ctx, e.Admin, c.ID, 300, "gift"); err != nil {
		t.Fatal(err)
	}
	// The points hold is taken and released through the store directly, as
	// the promotion engine's pricer will do.
	a := e.SeedSKU(t, "A", 1000, 10)
	o := &commerce.Order{ID: commerce.NewID("ord"), ShopID: e.Shop.ID, CustomerID: c.ID, Status: commerce.OrderPendingPayment,
		Lines:     []commerce.OrderLine{{No: 1, SKUID: a.ID, Name: "A", Quantity: 1, UnitListPrice: 1000, ListAmount: 1000, PointsDiscount: 200, Payable: 800}},
		CreatedAt: e.Clock.Now(), ExpiresAt: e.Clock.Now().Add(time.Minute), PointsUsed: 200, PointsDiscount: 200, GoodsAmount: 1000, Payable: 800,
		Holds: []commerce.Hold{{Kind: commerce.HoldPoints, Ref: c.ID, Quantity: 200, State: commerce.HoldHeld}}}
	if _, err := e.Store.PlaceOrder(ctx, o, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := e.Svc.Customer(ctx, e.Shop.ID, c.ID)
	if got.Points != 100 || got.PointsHeld != 200 {
		t.Fatalf("points %d held %d, want 100/200", got.Points, got.PointsHeld)
	}
	o2 := *o
	o2.ID = commerce.NewID("ord")
	if _, err := e.Store.PlaceOrder(ctx, &o2, nil); !errors.Is(err, commerce.ErrStale) {
		t.Fatalf("second hold of 200 with 100 left: err = %v, want ErrStale", err)
	}
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, o.ID, ""); err != nil {
		t.Fatal(err)
	}
	got, _ = e.Svc.Customer(ctx, e.Shop.ID, c.ID)
	if got.Points != 300 || got.PointsHeld != 0 {
		t.Fatalf("after cancel points %d held %d, want 300/0", got.Points, got.PointsHeld)
	}
}

// 200 buyers race for the last 50 units: exactly 50 orders are placed and
// paid, the rest are told it is sold out, and stock never goes negative.
func testConcurrentLastUnits(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "HOT", 19900, 50)
	var ok, soldOut, other atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 1}}}, "")
			if err != nil {
				if ce, isCE := commerce.AsError(err); isCE && ce.Code == "out_of_stock" {
					soldOut.Add(1)
					return
				}
				other.Add(1)
				t.Errorf("place: %v", err)
				return
			}
			if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
				other.Add(1)
				t.Errorf("pay: %v", err)
				return
			}
			ok.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	k := e.sku(t, a.ID)
	if ok.Load() != 50 || soldOut.Load() != 150 || other.Load() != 0 || k.Stock != 0 || k.Held != 0 || k.Sold != 50 {
		t.Fatalf("paid %d, sold out %d, errors %d; stock %d held %d sold %d — want 50/150/0 and 0/0/50",
			ok.Load(), soldOut.Load(), other.Load(), k.Stock, k.Held, k.Sold)
	}
}

// Payment and the timeout race for the same orders at the deadline: each
// order ends either paid or cancelled, never both, and the units add up.
func testPayVersusTimeout(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1000, 40)
	var ids []string
	for i := 0; i < 40; i++ {
		ids = append(ids, place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 1}).ID)
	}
	// Half a tick before the deadline both sides are legal for the store:
	// the payer passes 'at' before expiry, the sweeper after.
	e.Clock.Advance(commerce.DefaultPaymentTimeout - time.Millisecond)
	payAt := e.Clock.Now()
	sweepAt := payAt.Add(2 * time.Millisecond)
	var paid, cancelled atomic.Int64
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := e.Store.PayOrder(ctx, e.Shop.ID, id, payAt, nil); err == nil {
				paid.Add(1)
			} else if !errors.Is(err, commerce.ErrStale) {
				t.Errorf("pay: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := e.Store.CancelOrder(ctx, e.Shop.ID, id, "payment_timeout", sweepAt, true); err == nil {
				cancelled.Add(1)
			} else if !errors.Is(err, commerce.ErrStale) {
				t.Errorf("cancel: %v", err)
			}
		}()
	}
	wg.Wait()
	k := e.sku(t, a.ID)
	if paid.Load()+cancelled.Load() != 40 || k.Sold != paid.Load() || k.Stock != cancelled.Load() || k.Held != 0 {
		t.Fatalf("paid %d + cancelled %d, want 40 winners; stock %d held %d sold %d", paid.Load(), cancelled.Load(), k.Stock, k.Held, k.Sold)
	}
}

func testConcurrentReplays(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1000, 100)
	req := &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 1}}}
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "same-key")
			if err != nil {
				t.Errorf("place: %v", err)
				return
			}
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("replays returned different orders: %v", ids)
		}
	}
	if k := e.sku(t, a.ID); k.Held != 1 {
		t.Fatalf("held %d after 20 replays of one order, want 1", k.Held)
	}
}

func testTenancy(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1000, 10)
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.SKU(ctx, other.ID, a.ID); err == nil {
		t.Fatal("another shop read this shop's SKU")
	}
	_, _, err = e.Svc.PlaceOrder(ctx, other.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 1}}}, "")
	wantCode(t, err, "unknown_sku")
	o := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 1})
	if _, err := e.Svc.Order(ctx, other.ID, o.ID); err == nil {
		t.Fatal("another shop read this shop's order")
	}
	if _, err := e.Svc.PayOrder(ctx, other.ID, o.ID); err == nil {
		t.Fatal("another shop paid this shop's order")
	}
}

// testPaymentCallbackSecrets: a shop's payment-callback secret verifies
// the callbacks it signs and no other shop's; rotating it retires the old
// one; setting it is audited without the secret.
func testPaymentCallbackSecrets(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"order_id":"ord_x","amount":100}`)
	if err := e.Svc.VerifyPaymentCallback(ctx, e.Shop.ID, commerce.SignPaymentCallback("guess", e.Clock.Now(), body), body); err == nil {
		t.Fatal("a shop without a secret verified a callback")
	}
	old, err := e.Svc.RotatePaymentSecret(ctx, e.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.RotatePaymentSecret(ctx, commerce.Actor{ShopID: other.ID, KeyID: "key_other"}); err != nil {
		t.Fatal(err)
	}
	secret, err := e.Svc.RotatePaymentSecret(ctx, e.Admin)
	if err != nil || secret == old {
		t.Fatalf("rotate: %q %v", secret, err)
	}
	sig := commerce.SignPaymentCallback(secret, e.Clock.Now(), body)
	if err := e.Svc.VerifyPaymentCallback(ctx, e.Shop.ID, sig, body); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	for name, c := range map[string]struct {
		shop, sig string
		body      []byte
	}{
		"old secret":   {e.Shop.ID, commerce.SignPaymentCallback(old, e.Clock.Now(), body), body},
		"other shop":   {other.ID, sig, body},
		"changed body": {e.Shop.ID, sig, []byte(`{"order_id":"ord_x","amount":1}`)},
		"expired":      {e.Shop.ID, commerce.SignPaymentCallback(secret, e.Clock.Now().Add(-6*time.Minute), body), body},
		"no v1":        {e.Shop.ID, "t=1", body},
		"NUL shop id":  {"shop\x00", sig, body},
		"bad utf-8 id": {"shop\xff", sig, body},
		"empty":        {e.Shop.ID, "", body},
	} {
		err := e.Svc.VerifyPaymentCallback(ctx, c.shop, c.sig, c.body)
		if ce, ok := commerce.AsError(err); !ok || ce.Kind != commerce.KindUnauthorized {
			t.Errorf("%s: %v; want 401", name, err)
		}
	}
	audit, _ := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, commerce.Page{})
	n := 0
	for _, a := range audit {
		if a.Entity == "payment_callback_secret" {
			n++
			if strings.Contains(string(a.After), secret) || strings.Contains(string(a.After), old) || a.Actor != e.Admin.String() {
				t.Fatalf("audit %+v", a)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d secret rotations audited; want 2", n)
	}
}
