package storetest

import (
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/review"
)

// RunReview runs the campaign review's queries against open.
func RunReview(t *testing.T, open Opener) {
	t.Run("PromotionUsage", func(t *testing.T) { testReviewPromotionUsage(t, open) })
	t.Run("StockOuts", func(t *testing.T) { testReviewStockOuts(t, open) })
	t.Run("FlashSoldOut", func(t *testing.T) { testReviewFlashSoldOut(t, open) })
}

func testReviewPromotionUsage(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	t0 := e.Clock.Now()
	a := e.SeedSKU(t, "A", 5000, 100)
	u1, u2, u3 := e.SeedCustomer(t, "u-1"), e.SeedCustomer(t, "u-2"), e.SeedCustomer(t, "u-3")
	// 满90减5: orders of two units (¥100) get it, one unit (¥50) does not.
	p, _, err := ps.SavePromotion(ctx, e.Admin, &promotion.Promotion{Activity: pricing.Activity{Name: "满90减5", Kind: pricing.ThresholdOff, Scope: pricing.Scope{All: true},
		Tiers: []pricing.Tier{{Threshold: 9000, Off: 500}}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: "满30减8", Kind: pricing.ThresholdOff, Threshold: 3000, Off: 800,
		Scope: pricing.Scope{All: true}}, ValidDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: "不相关", Kind: pricing.ThresholdOff, Threshold: 3000, Off: 100,
		Scope: pricing.Scope{All: true}}, ValidDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, u1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, u2.ID); err != nil {
		t.Fatal(err)
	}
	c3, err := ps.ClaimCoupon(ctx, e.Shop.ID, other.ID, u3.ID)
	if err != nil {
		t.Fatal(err)
	}
	from, to := t0.Add(30*time.Minute), t0.Add(2*time.Hour)
	pay := func(o *commerce.Order) {
		t.Helper()
		if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	placeWith := func(cust string, qty int64, codes ...string) *commerce.Order {
		t.Helper()
		o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: cust, Lines: []commerce.CartLine{{SKUID: a.ID, Quantity: qty}}, CouponCodes: codes}, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}

	// Before the window: a paid order with the promotion does not count.
	pay(placeWith(u3.ID, 2))
	e.Clock.Set(t0.Add(time.Hour))
	o1 := placeWith(u1.ID, 2, c1.Code) // promotion 500 + coupon 800 (claimed before the window)
	if o1.OrderDiscount != 500 || o1.CouponDiscount != 800 {
		t.Fatalf("setup: order discount %d, coupon %d; want 500 and 800", o1.OrderDiscount, o1.CouponDiscount)
	}
	pay(o1)
	// Claimed in the window: u4's is used in it, u5's only after it.
	u4, u5 := e.SeedCustomer(t, "u-4"), e.SeedCustomer(t, "u-5")
	c4, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, u4.ID)
	if err != nil {
		t.Fatal(err)
	}
	c5, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, u5.ID)
	if err != nil {
		t.Fatal(err)
	}
	pay(placeWith(u4.ID, 1, c4.Code))  // coupon 800 only
	pay(placeWith(u2.ID, 1))           // neither
	placeWith(u2.ID, 2)                // promotion, never paid
	pay(placeWith(u3.ID, 1, c3.Code))  // another template's coupon
	e.Clock.Set(t0.Add(3 * time.Hour)) // after the window
	pay(placeWith(u1.ID, 2))           // promotion, paid too late
	pay(placeWith(u5.ID, 1, c5.Code))  // a coupon of the window, redeemed too late
	u6 := e.SeedCustomer(t, "u-6")
	if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, u6.ID); err != nil { // issued too late
		t.Fatal(err)
	}

	rows, err := e.Store.PromotionUsage(ctx, e.Shop.ID, from, to, []string{p.ID}, []string{tpl.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	// Paid in the window: o1, u4's, the one-unit order, the other coupon's order.
	pr := rows[0]
	if pr.Kind != review.KindPromotion || pr.ID != p.ID || pr.Name != "满90减5" || pr.Orders != 1 || pr.DiscountCost != 500 || pr.Base != 4 ||
		pr.Redemption == nil || *pr.Redemption != 2500 || pr.Issued != nil {
		t.Fatalf("promotion row %+v", pr)
	}
	// The template: orders paid in the window with its coupons (o1, u4's);
	// issued in the window: u4's and u5's; of those, redeemed in it: u4's.
	// Neither u1's coupon (claimed before) nor u6's (after) is issued in
	// the window, and u5's redemption after it does not count.
	tr := rows[1]
	if tr.Kind != review.KindCouponTemplate || tr.ID != tpl.ID || tr.Name != "满30减8" || tr.Orders != 2 || tr.DiscountCost != 1600 ||
		*tr.Issued != 2 || *tr.Redeemed != 1 || tr.Base != 2 || *tr.Redemption != 5000 {
		t.Fatalf("template row %+v", tr)
	}
	// An id the shop does not know reads as unused, not as an error.
	rows, err = e.Store.PromotionUsage(ctx, e.Shop.ID, from, to, []string{"prm_gone"}, nil)
	if err != nil || len(rows) != 1 || rows[0].Orders != 0 || rows[0].Name != "" || *rows[0].Redemption != 0 {
		t.Fatalf("unknown id: %+v %v", rows, err)
	}
	// Another shop sees none of it.
	rows, err = e.Store.PromotionUsage(ctx, "shop_other", from, to, []string{p.ID}, []string{tpl.ID})
	if err != nil || rows[0].Base != 0 || rows[0].Redemption != nil || *rows[1].Issued != 0 {
		t.Fatalf("other shop: %+v %v", rows, err)
	}
}

func testReviewStockOuts(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	t0 := e.Clock.Now()
	a := e.SeedSKU(t, "A", 5000, 100) // sells, never runs out
	b := e.SeedSKU(t, "B", 5000, 2)   // sold out in the window, restocked after it
	c := e.SeedSKU(t, "C", 5000, 1)   // held to zero, released
	d := e.SeedSKU(t, "D", 5000, 1)   // sold out before the window
	u := e.SeedCustomer(t, "u-1")
	o := place(t, e, u.ID, commerce.CartLine{SKUID: d.ID, Quantity: 1})
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
		t.Fatal(err)
	}
	from, to := t0.Add(30*time.Minute), t0.Add(2*time.Hour)

	e.Clock.Set(t0.Add(time.Hour))
	place(t, e, u.ID, commerce.CartLine{SKUID: a.ID, Quantity: 3})
	bAt := e.Clock.Now()
	ob := place(t, e, u.ID, commerce.CartLine{SKUID: b.ID, Quantity: 2})
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, ob.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	cAt := e.Clock.Now()
	oc := place(t, e, u.ID, commerce.CartLine{SKUID: c.ID, Quantity: 1})
	e.Clock.Advance(time.Minute)
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, oc.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(t0.Add(3 * time.Hour))
	e.SeedSKU(t, "B", 5000, 5) // restocked after the window

	outs, err := e.Store.StockOuts(ctx, e.Shop.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 {
		t.Fatalf("stock-outs %+v", outs)
	}
	if o := outs[0]; o.SKUID != b.ID || o.Source != review.OutStock || !o.At.Equal(bAt) || !o.Out || o.Name == "" {
		t.Fatalf("B: %+v (want out at %v, still out at the window's end)", o, bAt)
	}
	if o := outs[1]; o.SKUID != c.ID || !o.At.Equal(cAt) || o.Out {
		t.Fatalf("C: %+v (want out at %v, back in stock)", o, cAt)
	}
	// A window around the seeding: only D ran out (created, then sold);
	// being created is not running out.
	outs, err = e.Store.StockOuts(ctx, e.Shop.ID, t0.Add(-time.Hour), t0.Add(10*time.Minute))
	if err != nil || len(outs) != 1 || outs[0].SKUID != d.ID || !outs[0].Out {
		t.Fatalf("early window: %+v %v", outs, err)
	}
}

func testReviewFlashSoldOut(t *testing.T, open Opener) {
	e := newFlashEnv(t, open, func(*testing.T) peak.Engine { return peak.NewMemory() })
	t0 := e.Clock.Now()
	gone, sale := e.sale(t, 10, 2, 2)  // 2 of 10 units allocated, both bought
	left, other := e.sale(t, 10, 5, 1) // 1 of 5 bought
	c := e.customers(t, 1)[0]
	e.Clock.Advance(30 * time.Minute)
	outAt := e.Clock.Now()
	if _, _, err := e.Flash.Buy(ctx, e.Shop.ID, sale.ID, peak.BuyRequest{SKUID: gone.ID, Quantity: 2, CustomerID: c.ID}, "b-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Flash.Buy(ctx, e.Shop.ID, other.ID, peak.BuyRequest{SKUID: left.ID, Quantity: 1, CustomerID: c.ID}, "b-2"); err != nil {
		t.Fatal(err)
	}
	outs, err := e.Store.StockOuts(ctx, e.Shop.ID, t0.Add(-time.Minute), t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The SKU keeps 8 free units: only the sale's allocation ran out.
	if len(outs) != 1 || outs[0].SKUID != gone.ID || outs[0].Source != review.OutFlash || outs[0].SaleID != sale.ID || !outs[0].Out ||
		outs[0].At == nil || !outs[0].At.Equal(outAt) {
		t.Fatalf("flash stock-outs %+v (want out at %v)", outs, outAt)
	}
	// The sale overlaps both windows, but sold out after the first and
	// before the second: neither saw it run out.
	for _, w := range [][2]time.Time{{t0.Add(-time.Minute), t0.Add(20 * time.Minute)}, {t0.Add(40 * time.Minute), t0.Add(2 * time.Hour)}} {
		outs, err := e.Store.StockOuts(ctx, e.Shop.ID, w[0], w[1])
		if err != nil || len(outs) != 0 {
			t.Fatalf("window %v – %v: %+v %v", w[0], w[1], outs, err)
		}
	}
	// A window after the sale ended does not list it.
	outs, err = e.Store.StockOuts(ctx, e.Shop.ID, t0.Add(2*time.Hour), t0.Add(3*time.Hour))
	if err != nil || len(outs) != 0 {
		t.Fatalf("later window: %+v %v", outs, err)
	}
}
