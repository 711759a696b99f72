package storetest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// RunPromotions runs the promotion-limit contract against open.
func RunPromotions(t *testing.T, open Opener) {
	t.Run("UsesLimitUnderConcurrency", func(t *testing.T) { testUsesLimit(t, open) })
	t.Run("BudgetUnderConcurrency", func(t *testing.T) { testBudget(t, open) })
	t.Run("CouponClaimsUnderConcurrency", func(t *testing.T) { testClaims(t, open) })
	t.Run("CouponClaimsOncePerIdempotencyKey", func(t *testing.T) { testClaimsOnce(t, open) })
	t.Run("CouponHeldByAnOrder", func(t *testing.T) { testCouponHold(t, open) })
	t.Run("ScopeIDsBelongToTheShop", func(t *testing.T) { testScopeIDs(t, open) })
	t.Run("TemplatePauseResumeEnd", func(t *testing.T) { testTemplateStatus(t, open) })
}

// testScopeIDs: ProductsByID finds the shop's products only, in chunks,
// and a scope naming another shop's SKU, product or category is refused
// like one naming nothing.
func testScopeIDs(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	oa := commerce.Actor{ShopID: other.ID, KeyID: "key_other", Role: commerce.RoleAdmin}
	if _, err := e.Svc.UpsertCategories(ctx, oa, []commerce.Category{{ID: "other-cat", Name: "别家"}}); err != nil {
		t.Fatal(err)
	}
	stock := int64(1)
	oskus, err := e.Svc.UpsertProducts(ctx, oa, []commerce.ProductUpsert{{Code: "OP", Name: "别家", SKUs: []commerce.SKUUpsert{{Code: "OS", Price: 100, Stock: &stock}}}})
	if err != nil {
		t.Fatal(err)
	}
	var items []commerce.ProductUpsert
	for i := 0; i < 150; i++ {
		items = append(items, commerce.ProductUpsert{Code: fmt.Sprintf("P%03d", i), Name: "商品", SKUs: []commerce.SKUUpsert{{Code: fmt.Sprintf("S%03d", i), Price: 10000, Cost: 1000, Stock: &stock}}})
	}
	skus, err := e.Svc.UpsertProducts(ctx, e.Admin, items)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{oskus[0].ProductID, "prd_nope"}
	for _, k := range skus {
		ids = append(ids, k.ProductID)
	}
	got, err := e.Store.ProductsByID(ctx, e.Shop.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 || got[oskus[0].ProductID] != nil || got[skus[149].ProductID] == nil || got[skus[149].ProductID].ShopID != e.Shop.ID {
		t.Fatalf("ProductsByID found %d of 150, other shop's %v", len(got), got[oskus[0].ProductID])
	}
	if got, err := e.Store.ProductsByID(ctx, other.ID, ids); err != nil || len(got) != 1 {
		t.Fatalf("other shop: %d, %v", len(got), err)
	}

	scopes := map[string]pricing.Scope{
		"scope.sku_ids[1]":      {SKUIDs: []string{skus[0].ID, oskus[0].ID}},
		"scope.product_ids[0]":  {ProductIDs: []string{oskus[0].ProductID}},
		"scope.category_ids[0]": {CategoryIDs: []string{"other-cat"}},
		// PostgreSQL text holds neither: the domain's text rule refuses
		// them (invalid_text) before any query.
		"scope.exclude_sku_ids[0]": {All: true, ExcludeSKUIDs: []string{"sku_\x00"}},
		"scope.product_ids[1]":     {ProductIDs: []string{skus[0].ProductID, "prd_\xff"}},
	}
	for field, sc := range scopes {
		p := thresholdOff("p", 100, promotion.Limits{})
		p.Scope = sc
		_, _, err := ps.SavePromotion(ctx, e.Admin, p, false)
		want := "unknown_scope_id"
		if field == "scope.exclude_sku_ids[0]" || field == "scope.product_ids[1]" {
			want = "invalid_text"
		}
		if ce, ok := commerce.AsError(err); !ok || ce.Code != want || ce.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	p := thresholdOff("own", 100, promotion.Limits{})
	p.Scope = pricing.Scope{SKUIDs: []string{skus[0].ID}, ProductIDs: []string{skus[1].ProductID}}
	if _, _, err := ps.SavePromotion(ctx, e.Admin, p, false); err != nil {
		t.Fatalf("own ids: %v", err)
	}
}

func promoEnv(t *testing.T, open Opener) (*Env, *promotion.Service) {
	e := NewEnv(t, open)
	return e, promotion.New(e.Store, e.Svc)
}

func thresholdOff(name string, off int64, limits promotion.Limits) *promotion.Promotion {
	return &promotion.Promotion{Activity: pricing.Activity{Name: name, Kind: pricing.ThresholdOff, Scope: pricing.Scope{All: true},
		Tiers: []pricing.Tier{{Threshold: 1000, Off: off}}}, Limits: limits}
}

// race places n orders at once, each from its own customer, and pays every
// order that was placed; it returns the placed orders.
func race(t *testing.T, e *Env, skuID string, n int) []*commerce.Order {
	var custs []commerce.Customer
	for i := 0; i < n; i += 500 {
		var batch []commerce.Customer
		for j := i; j < min(n, i+500); j++ {
			batch = append(batch, commerce.Customer{ExternalID: fmt.Sprintf("racer-%d", j)})
		}
		got, err := e.Svc.UpsertCustomers(ctx, e.Admin, batch)
		if err != nil {
			t.Fatal(err)
		}
		custs = append(custs, got...)
	}
	var mu sync.Mutex
	var placed []*commerce.Order
	var wg sync.WaitGroup
	var unexpected atomic.Int64
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: custs[i].ID, Lines: []commerce.CartLine{{SKUID: skuID, Quantity: 1}}}, "")
			if err != nil {
				// A limit that ran out between pricing and holding is a
				// clean conflict; the customer quotes again.
				if ce, ok := commerce.AsError(err); ok && ce.Code == "hold_failed" {
					return
				}
				unexpected.Add(1)
				t.Errorf("place: %v", err)
				return
			}
			if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
				t.Errorf("pay: %v", err)
				return
			}
			mu.Lock()
			placed = append(placed, o)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return placed
}

func testUsesLimit(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 2000)
	p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff("满10减5, 100 uses", 500, promotion.Limits{TotalUses: 100}), true)
	if err != nil {
		t.Fatal(err)
	}
	placed := race(t, e, sku.ID, 1000)
	discounted := 0
	for _, o := range placed {
		if o.OrderDiscount == 500 {
			discounted++
		} else if o.OrderDiscount != 0 {
			t.Fatalf("order %s has a partial discount %d", o.ID, o.OrderDiscount)
		}
	}
	u, err := e.Store.Usage(ctx, e.Shop.ID, []string{p.ID}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if discounted != 100 || u[p.ID]["t"].Uses != 100 {
		t.Fatalf("%d paid orders got the promotion and the counter says %d; want exactly 100 of 1000", discounted, u[p.ID]["t"].Uses)
	}
}

func testBudget(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 2000)
	// ¥5 off per order with a ¥300 budget: exactly 60 orders, never partial.
	p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff("满10减5, ¥300 budget", 500, promotion.Limits{Budget: 30000}), true)
	if err != nil {
		t.Fatal(err)
	}
	placed := race(t, e, sku.ID, 400)
	var spent int64
	for _, o := range placed {
		if o.OrderDiscount != 0 && o.OrderDiscount != 500 {
			t.Fatalf("order %s has a partial discount %d", o.ID, o.OrderDiscount)
		}
		spent += o.OrderDiscount
	}
	u, _ := e.Store.Usage(ctx, e.Shop.ID, []string{p.ID}, "", "")
	if spent != 30000 || u[p.ID]["t"].Amount != 30000 {
		t.Fatalf("orders spent %d of the budget and the counter says %d; want exactly 30000", spent, u[p.ID]["t"].Amount)
	}
}

func testClaims(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Off: 500, Scope: pricing.Scope{All: true}},
		TotalQuantity: 50, PerCustomerClaims: 2, ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	var batch []commerce.Customer
	for i := 0; i < 40; i++ {
		batch = append(batch, commerce.Customer{ExternalID: fmt.Sprintf("c%d", i)})
	}
	custs, err := e.Svc.UpsertCustomers(ctx, e.Admin, batch)
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int64
	perCust := make([]atomic.Int64, len(custs))
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ { // 5 tries per customer, 200 in all, for 50 coupons
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := i % len(custs)
			if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, custs[c].ID); err == nil {
				ok.Add(1)
				perCust[c].Add(1)
			} else if ce, isCE := commerce.AsError(err); !isCE || (ce.Code != "coupons_sold_out" && ce.Code != "claim_limit_reached") {
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	for i := range perCust {
		if perCust[i].Load() > 2 {
			t.Fatalf("customer %d claimed %d coupons, limit 2", i, perCust[i].Load())
		}
	}
	got, _ := ps.Template(ctx, e.Shop.ID, tpl.ID)
	if ok.Load() != 50 || got.Issued != 50 {
		t.Fatalf("%d claims succeeded, template issued %d; want exactly 50", ok.Load(), got.Issued)
	}
}

// testClaimsOnce: concurrent claims under one Idempotency-Key issue one
// coupon, and every attempt answers it (the losers as replays).
func testClaimsOnce(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Off: 500, Scope: pricing.Scope{All: true}},
		TotalQuantity: 100, PerCustomerClaims: 5, ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	custs, err := e.Svc.UpsertCustomers(ctx, e.Admin, []commerce.Customer{{ExternalID: "once"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	ids := make([]string, n)
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, replayed, err := ps.ClaimCouponOnce(ctx, e.Shop.ID, tpl.ID, custs[0].ID, "claim-key")
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
				return
			}
			if !replayed {
				fresh.Add(1)
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	got, _ := ps.Template(ctx, e.Shop.ID, tpl.ID)
	if fresh.Load() != 1 || got.Issued != 1 {
		t.Fatalf("%d fresh claims, template issued %d; want one", fresh.Load(), got.Issued)
	}
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("attempt %d got coupon %s, attempt 0 %s", i, ids[i], ids[0])
		}
	}
	e.Clock.Advance(time.Minute)
	second, replayed, err := ps.ClaimCouponOnce(ctx, e.Shop.ID, tpl.ID, custs[0].ID, "another-key")
	if err != nil || replayed || second.ID == ids[0] {
		t.Fatalf("a new key: %+v %v %v", second, replayed, err)
	}
	// A keyed claim's id is a hash, not time-ordered: the wallet still
	// lists coupons in the order they were claimed.
	e.Clock.Advance(time.Minute)
	third, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, custs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	fourth, _, err := ps.ClaimCouponOnce(ctx, e.Shop.ID, tpl.ID, custs[0].ID, "a-third-key")
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.Store.Wallet(ctx, e.Shop.ID, custs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range w {
		order = append(order, c.ID)
	}
	if want := []string{ids[0], second.ID, third.ID, fourth.ID}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("wallet order %v; want the order of claiming %v", order, want)
	}
}

func testCouponHold(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 100)
	cust := e.SeedCustomer(t, "u-1")
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 3000, Off: 800, Scope: pricing.Scope{All: true}},
		ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	req := &commerce.PlaceRequest{CustomerID: cust.ID, Lines: []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}, CouponCodes: []string{c.Code}}
	o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.CouponDiscount != 800 || o.Payable != 5000-800+commerce.DefaultShippingFee {
		t.Fatalf("order with coupon: coupon %d payable %d", o.CouponDiscount, o.Payable)
	}
	// The coupon is held: a second order cannot use it.
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, ""); err == nil {
		t.Fatal("a held coupon was used twice")
	}
	w, _ := ps.Wallet(ctx, e.Shop.ID, cust.ID)
	if len(w.Valid) != 0 || len(w.Used) != 1 {
		t.Fatalf("wallet while held: %+v", w)
	}
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, o.ID, ""); err != nil {
		t.Fatal(err)
	}
	w, _ = ps.Wallet(ctx, e.Shop.ID, cust.ID)
	if len(w.Valid) != 1 {
		t.Fatalf("cancelling did not give the coupon back: %+v", w)
	}
	o2, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o2.ID); err != nil {
		t.Fatal(err)
	}
	w, _ = ps.Wallet(ctx, e.Shop.ID, cust.ID)
	if len(w.Used) != 1 || w.Used[0].Status != "used" || w.Used[0].OrderID != o2.ID {
		t.Fatalf("after payment the coupon should be used by %s: %+v", o2.ID, w.Used)
	}
}
