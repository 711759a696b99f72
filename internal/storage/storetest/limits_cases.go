package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// RunOrderLimits runs the order-limit cases: quantity caps and the cap on
// a caller's unpaid orders, which must hold under concurrent placements.
func RunOrderLimits(t *testing.T, open Opener) {
	t.Run("QuantityCaps", func(t *testing.T) { testQuantityCaps(t, open) })
	t.Run("UnpaidOrderCap", func(t *testing.T) { testUnpaidOrderCap(t, open) })
	t.Run("ConcurrentUnpaidOrderCap", func(t *testing.T) { testConcurrentUnpaidOrderCap(t, open) })
	t.Run("SettingsSavedBeforeTheCapsReadAsDefaults", func(t *testing.T) { testSettingsBeforeCaps(t, open) })
}

// A shop saved before the order caps existed has no such keys in its
// stored settings: it reads (and answers GET /api/v1/shop) with the
// defaults, not 0.
func testSettingsBeforeCaps(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	const old = `{"payment_timeout_seconds":600,"shipping_fee":800,"points_value_fen":1,"points_multiple":100,"points_max_share_bp":5000,"margin_floor_bp":10000,"margin_mode":"warn"}`
	if err := e.Store.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE shops SET settings = $1 WHERE id = $2`, old, e.Shop.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sh, err := e.Store.GetShop(ctx, e.Shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := sh.Settings
	if st.ShippingFee != 800 || st.PaymentTimeoutSeconds != 600 {
		t.Fatalf("stored settings not read: %+v", st)
	}
	if st.MaxLineQuantity != commerce.DefaultMaxLineQuantity || st.MaxOrderQuantity != commerce.DefaultMaxOrderQuantity ||
		st.MaxUnpaidOrders != commerce.DefaultMaxUnpaidOrders || st.MaxAnonymousUnpaidOrders != commerce.DefaultMaxAnonymousUnpaidOrders {
		t.Fatalf("caps of an old shop read as %d/%d/%d/%d; want the defaults", st.MaxLineQuantity, st.MaxOrderQuantity, st.MaxUnpaidOrders, st.MaxAnonymousUnpaidOrders)
	}
}

func wantProblem(t *testing.T, err error, kind commerce.Kind, code, field string, extraKey string, extra int64) {
	t.Helper()
	e, ok := commerce.AsError(err)
	if !ok || e.Kind != kind || e.Code != code || e.Field != field {
		t.Fatalf("err = %v, want %s on %q", err, code, field)
	}
	if got, _ := e.Extra[extraKey].(int64); got != extra {
		t.Fatalf("extra = %v, want %s %d", e.Extra, extraKey, extra)
	}
}

func countOrders(t *testing.T, e *Env) int {
	t.Helper()
	os, err := e.Svc.ListOrders(ctx, e.Shop.ID, commerce.OrderFilter{}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(os)
}

func testQuantityCaps(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "CAP-A", 100, 1000)
	b := e.SeedSKU(t, "CAP-B", 100, 1000)
	c := e.SeedSKU(t, "CAP-C", 100, 1000)
	_, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 1}, {SKUID: b.ID, Quantity: 100}}}, "")
	wantProblem(t, err, commerce.KindInvalid, "quantity_over_cap", "lines[1].quantity", "cap", commerce.DefaultMaxLineQuantity)
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 99}, {SKUID: b.ID, Quantity: 99}, {SKUID: c.ID, Quantity: 3}}}, "")
	wantProblem(t, err, commerce.KindInvalid, "quantity_over_cap", "lines", "cap", commerce.DefaultMaxOrderQuantity)
	if n := countOrders(t, e); n != 0 || e.sku(t, b.ID).Stock != 1000 {
		t.Fatalf("a refused order wrote something: %d orders, stock %d", n, e.sku(t, b.ID).Stock)
	}
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 99}, {SKUID: b.ID, Quantity: 99}, {SKUID: c.ID, Quantity: 2}}}, ""); err != nil {
		t.Fatalf("an order at both caps: %v", err)
	}
	// The caps are the shop's settings.
	line, total := int64(500), int64(600)
	if _, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{MaxLineQuantity: &line, MaxOrderQuantity: &total}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: 500}}}, ""); err != nil {
		t.Fatalf("500 units under a cap of 500: %v", err)
	}
	zero := int64(0)
	_, err = e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{MaxUnpaidOrders: &zero})
	wantProblem(t, err, commerce.KindInvalid, "out_of_range", "settings.max_unpaid_orders", "", 0)
	sh, _ := e.Svc.Shop(ctx, e.Shop.ID)
	if st := sh.Settings; st.MaxLineQuantity != 500 || st.MaxOrderQuantity != 600 || st.MaxUnpaidOrders != commerce.DefaultMaxUnpaidOrders {
		t.Fatalf("settings = %+v", st)
	}
}

func testUnpaidOrderCap(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	k := e.SeedSKU(t, "UNPAID", 100, 1000)
	cust := e.SeedCustomer(t, "u-unpaid")
	one := []commerce.CartLine{{SKUID: k.ID, Quantity: 1}}
	placeAs := func(customer, requester, key string) (*commerce.Order, bool, error) {
		return e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: customer, Requester: requester, Lines: one}, key)
	}
	var held []*commerce.Order
	for i := 0; i < commerce.DefaultMaxUnpaidOrders; i++ {
		o, _, err := placeAs(cust.ID, "", fmt.Sprintf("k-%d", i))
		if err != nil {
			t.Fatalf("unpaid order %d: %v", i+1, err)
		}
		held = append(held, o)
	}
	_, _, err := placeAs(cust.ID, "", "")
	wantProblem(t, err, commerce.KindConflict, "too_many_unpaid_orders", "customer_id", "limit", commerce.DefaultMaxUnpaidOrders)
	// A replay is the first answer, not a new order.
	if o, replayed, err := placeAs(cust.ID, "", "k-0"); err != nil || !replayed || o.ID != held[0].ID {
		t.Fatalf("replay at the cap: %v %v %v", o, replayed, err)
	}
	// A peak path has its own limits.
	if _, _, err := e.Svc.PlaceOrderAs(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: cust.ID, Lines: one}, "", ""); err != nil {
		t.Fatalf("peak-path order: %v", err)
	}
	// Paying or cancelling one frees a place.
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, held[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, held[1].ID, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = placeAs(cust.ID, "", "") // 3 left + the peak order = 4
	if err != nil {
		t.Fatalf("after paying and cancelling: %v", err)
	}
	_, _, err = placeAs(cust.ID, "", "")
	wantCode(t, err, "too_many_unpaid_orders")

	// Anonymous callers are capped by who they are; unknown ones are not.
	for i := 0; i < commerce.DefaultMaxAnonymousUnpaidOrders; i++ {
		if _, _, err := placeAs("", "device:d-1", ""); err != nil {
			t.Fatalf("anonymous order %d: %v", i+1, err)
		}
	}
	_, _, err = placeAs("", "device:d-1", "")
	wantProblem(t, err, commerce.KindConflict, "too_many_unpaid_orders", "", "limit", commerce.DefaultMaxAnonymousUnpaidOrders)
	if _, _, err := placeAs("", "device:d-2", ""); err != nil {
		t.Fatalf("another device: %v", err)
	}
	for i := 0; i < commerce.DefaultMaxAnonymousUnpaidOrders+1; i++ {
		if _, _, err := placeAs("", "", ""); err != nil {
			t.Fatalf("order with no requester: %v", err)
		}
	}
	// Who an anonymous caller was (a device id, an IP) is kept only while
	// the order is unpaid.
	paid, _, err := placeAs("", "ip:198.51.100.7", "")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, _, err := placeAs("", "ip:198.51.100.7", "")
	if err != nil {
		t.Fatal(err)
	}
	if requesterOf(t, e, paid.ID) != "ip:198.51.100.7" {
		t.Fatal("the requester of an unpaid order was not stored")
	}
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, paid.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, cancelled.ID, ""); err != nil {
		t.Fatal(err)
	}
	if a, b := requesterOf(t, e, paid.ID), requesterOf(t, e, cancelled.ID); a != "" || b != "" {
		t.Fatalf("requester kept after payment %q and cancellation %q", a, b)
	}
	// Orders past their payment timeout no longer count, swept or not.
	e.Clock.Advance(commerce.DefaultPaymentTimeout + time.Second)
	if _, _, err := placeAs(cust.ID, "", ""); err != nil {
		t.Fatalf("after the timeout: %v", err)
	}
	if _, _, err := placeAs("", "device:d-1", ""); err != nil {
		t.Fatalf("anonymous after the timeout: %v", err)
	}
	// The cap is a shop setting.
	two := int64(2)
	if _, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{MaxUnpaidOrders: &two}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := placeAs(cust.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = placeAs(cust.ID, "", "")
	wantProblem(t, err, commerce.KindConflict, "too_many_unpaid_orders", "customer_id", "limit", 2)
}

// testConcurrentUnpaidOrderCap races placements by one caller one short of
// the cap: exactly one may pass, on both engines.
func testConcurrentUnpaidOrderCap(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	k := e.SeedSKU(t, "RACE-UNPAID", 100, 1000)
	cust := e.SeedCustomer(t, "u-race")
	for _, who := range []commerce.PlaceRequest{{CustomerID: cust.ID}, {Requester: "ip:203.0.113.7"}} {
		one := []commerce.CartLine{{SKUID: k.ID, Quantity: 1}}
		for i := 0; i < commerce.DefaultMaxUnpaidOrders-1; i++ {
			if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: who.CustomerID, Requester: who.Requester, Lines: one}, ""); err != nil {
				t.Fatal(err)
			}
		}
		const racers = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		placed, refused := 0, 0
		start := make(chan struct{})
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: who.CustomerID, Requester: who.Requester, Lines: one}, "")
				mu.Lock()
				defer mu.Unlock()
				if ce, ok := commerce.AsError(err); ok && ce.Code == "too_many_unpaid_orders" {
					refused++
				} else if err != nil {
					t.Errorf("racer: %v", err)
				} else {
					placed++
				}
			}()
		}
		close(start)
		wg.Wait()
		if placed != 1 || refused != racers-1 {
			t.Fatalf("customer %q requester %q: %d placed, %d refused; want exactly 1 past the cap", who.CustomerID, who.Requester, placed, refused)
		}
	}
	f := commerce.OrderFilter{CustomerID: cust.ID, Status: commerce.OrderPendingPayment}
	if os, err := e.Svc.ListOrders(ctx, e.Shop.ID, f, commerce.Page{Limit: 100}); err != nil || len(os) != commerce.DefaultMaxUnpaidOrders {
		t.Fatalf("customer holds %d unpaid orders (%v), want %d", len(os), err, commerce.DefaultMaxUnpaidOrders)
	}
}

func requesterOf(t *testing.T, e *Env, orderID string) string {
	t.Helper()
	var r string
	if err := e.Store.Reader().QueryRowContext(ctx, e.Store.Q(`SELECT requester FROM orders WHERE id = $1`), orderID).Scan(&r); err != nil {
		t.Fatal(err)
	}
	return r
}
