package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// RunCustomerStamps runs the contract quotes rely on to cache customers and
// wallets across nodes: every change to what a quote reads of a customer
// raises the customer's change stamp in its own transaction; and an order
// asking for more points than are free is refused, writing nothing.
func RunCustomerStamps(t *testing.T, open Opener) {
	t.Run("EveryChangeRaisesTheStamp", func(t *testing.T) { testStampRaised(t, open) })
	t.Run("PointsBeyondTheFreeBalance", func(t *testing.T) { testPointsShort(t, open) })
}

func testStampRaised(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 100)
	cust := e.SeedCustomer(t, "u-1")
	other := e.SeedCustomer(t, "u-2")
	stamp := func() int64 {
		t.Helper()
		n, err := e.Store.CustomerStamp(ctx, e.Shop.ID, cust.ID)
		if err != nil {
			t.Fatal(err)
		}
		c, m, err := e.Store.GetCustomerStamped(ctx, e.Shop.ID, cust.ID)
		if err != nil || m != n || c.ID != cust.ID {
			t.Fatalf("GetCustomerStamped: %v, stamp %d, CustomerStamp %d", err, m, n)
		}
		return n
	}
	last := stamp()
	raised := func(what string) {
		t.Helper()
		if n := stamp(); n <= last {
			t.Fatalf("%s left the stamp at %d", what, n)
		} else {
			last = n
		}
	}
	kept := func(what string) {
		t.Helper()
		if n := stamp(); n != last {
			t.Fatalf("%s, which changes nothing of the customer, moved the stamp %d → %d", what, last, n)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	line := []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}
	placeWith := func(points int64, codes ...string) *commerce.Order {
		t.Helper()
		o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: cust.ID, Lines: line, Points: points, CouponCodes: codes}, "")
		must(err)
		return o
	}

	_, err := e.Svc.AdjustPoints(ctx, e.Admin, cust.ID, 1000, "签到")
	must(err)
	raised("a points credit")
	_, err = e.Svc.AdjustPoints(ctx, e.Admin, other.ID, 1000, "签到")
	must(err)
	kept("another customer's points")
	o := placeWith(1000)
	raised("an order holding points")
	_, err = e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	must(err)
	raised("the first payment")
	_, err = e.Svc.RefundOrder(ctx, e.Admin, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}})
	must(err)
	raised("a refund giving points back")
	o = placeWith(1000)
	raised("a second order holding points")
	_, err = e.Svc.CancelOrder(ctx, e.Shop.ID, o.ID, "")
	must(err)
	raised("a cancellation releasing points")
	o = placeWith(1000)
	raised("a third order holding points")
	e.Clock.Advance(time.Hour)
	n, err := e.Svc.ExpireDue(ctx, 10)
	if err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	raised("the payment timeout releasing points")

	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 3000, Off: 800, Scope: pricing.Scope{All: true}},
		ValidDays: 7, PerCustomerClaims: 5})
	must(err)
	kept("saving a coupon template")
	c, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, cust.ID)
	must(err)
	raised("a coupon claim")
	_, err = ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, other.ID)
	must(err)
	kept("another customer's coupon claim")
	o = placeWith(0, c.Code)
	raised("an order locking a coupon")
	_, err = e.Svc.CancelOrder(ctx, e.Shop.ID, o.ID, "")
	must(err)
	raised("a cancellation releasing a coupon")
	o = placeWith(0, c.Code)
	raised("an order locking the coupon again")
	_, err = e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	must(err)
	raised("a payment using the coupon")

	_, err = e.Svc.UpsertCustomers(ctx, e.Admin, []commerce.Customer{{ExternalID: "u-1", Name: "张三丰", Tier: "platinum"}})
	must(err)
	raised("a tier change")
	must(e.Svc.EraseCustomer(ctx, e.Admin, cust.ID))
	raised("erasure")

	if _, err := e.Store.CustomerStamp(ctx, e.Shop.ID, "cus_nope"); !errors.Is(err, commerce.ErrNotFound) {
		t.Fatalf("stamp of no customer: %v", err)
	}
	if _, _, err := e.Store.GetCustomerStamped(ctx, e.Shop.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	// Another shop's customer is not found by id alone.
	shop2, err := e.Svc.CreateShop(ctx, "Other", "")
	must(err)
	if _, err := e.Store.CustomerStamp(ctx, shop2.ID, other.ID); !errors.Is(err, commerce.ErrNotFound) {
		t.Fatalf("stamp across shops: %v", err)
	}
}

// testPointsShort: asking for more points than are free is refused with
// the free balance, whatever the engine would have used, and writes
// nothing; the free balance excludes points held by unpaid orders.
func testPointsShort(t *testing.T, open Opener) {
	e, _ := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 100)
	cust := e.SeedCustomer(t, "u-1")
	if _, err := e.Svc.AdjustPoints(ctx, e.Admin, cust.ID, 1200, "签到"); err != nil {
		t.Fatal(err)
	}
	req := &commerce.PlaceRequest{CustomerID: cust.ID, Lines: []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}, Points: 1300}
	count := func() (n int64) {
		t.Helper()
		if err := e.Store.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM holds) + (SELECT COUNT(*) FROM idempotency)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	_, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "k-1")
	ce, ok := commerce.AsError(err)
	if !ok || ce.Kind != commerce.KindConflict || ce.Code != "points_exceed_balance" || ce.Field != "points" || ce.Extra["available"] != int64(1200) {
		t.Fatalf("1300 points of 1200: %v (%+v)", err, ce)
	}
	if got, _ := e.Svc.Customer(ctx, e.Shop.ID, cust.ID); got.Points != 1200 || got.PointsHeld != 0 || count() != before {
		t.Fatalf("the refused order wrote: points %d held %d", got.Points, got.PointsHeld)
	}
	// The same key now asking what is free places the order.
	req.Points = 1000
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "k-2"); err != nil {
		t.Fatal(err)
	}
	req.Points = 300
	_, _, err = e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "k-3")
	if ce, ok := commerce.AsError(err); !ok || ce.Code != "points_exceed_balance" || ce.Extra["available"] != int64(200) {
		t.Fatalf("300 points with 1000 of 1200 held: %v", err)
	}
}
