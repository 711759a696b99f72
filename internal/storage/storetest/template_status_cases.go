package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// notApplied returns the quote's explanation for the coupon with id, if any.
func notApplied(q *promotion.Quote, id string) *pricing.NotApplied {
	for i := range q.NotApplied {
		if q.NotApplied[i].Source == pricing.SourceCoupon && q.NotApplied[i].ID == id {
			return &q.NotApplied[i]
		}
	}
	return nil
}

func entityActions(t *testing.T, e *Env, entity, id string) []string {
	t.Helper()
	list, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Entity: entity, EntityID: id}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		out = append(out, list[i].Action)
	}
	return out
}

// testTemplateStatus: a paused coupon template issues nothing (claims and
// operator issues answer 409 template_paused, the store refuses a claim
// that raced the pause) and its coupons already in wallets do not apply
// while it is paused (the quote says paused; an order naming one is
// refused); resumed, they apply again. An ended template issues nothing
// (409 template_ended) and cannot be resumed, but the coupons already
// claimed stay redeemable until their own validity ends. Every change is
// audited.
func testTemplateStatus(t *testing.T, open Opener) {
	e, ps := promoEnv(t, open)
	sku := e.SeedSKU(t, "A", 5000, 100)
	cust := e.SeedCustomer(t, "u-1")
	other := e.SeedCustomer(t, "u-2")
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 3000, Off: 800, Scope: pricing.Scope{All: true}},
		TotalQuantity: 10, PerCustomerClaims: 3, ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	quote := func(codes ...string) *promotion.Quote {
		t.Helper()
		req := &commerce.PlaceRequest{CustomerID: cust.ID, Lines: []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}, CouponCodes: codes, BestCoupons: len(codes) == 0}
		q, err := ps.Quote(ctx, e.Shop.ID, req)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	if q := quote(); q.Totals.CouponDiscount != 800 {
		t.Fatalf("active template: coupon discount %d, want 800", q.Totals.CouponDiscount)
	}

	got, err := ps.SetTemplateStatus(ctx, e.Admin, tpl.ID, promotion.TemplatePaused)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != promotion.TemplatePaused || got.Issued != 1 || got.Off != 800 {
		t.Fatalf("paused template = %+v", got)
	}
	if read, _ := ps.Template(ctx, e.Shop.ID, tpl.ID); read.Status != promotion.TemplatePaused || read.TotalQuantity != 10 || read.ValidDays != 7 {
		t.Fatalf("read back %+v", read)
	}
	// Pausing again changes nothing and is not audited again.
	if _, err := ps.SetTemplateStatus(ctx, e.Admin, tpl.ID, promotion.TemplatePaused); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, other.ID); err == nil {
		t.Fatal("a paused template issued a coupon")
	} else {
		wantCode(t, err, "template_paused")
	}
	if _, err := ps.IssueCoupon(ctx, e.Admin, tpl.ID, other.ID); err == nil {
		t.Fatal("an operator issued a coupon of a paused template")
	} else {
		wantCode(t, err, "template_paused")
	}
	// A claim that passed the service's check before the pause is refused
	// by the store for what it is, not as sold out.
	raced := &promotion.Coupon{ID: "cpn_raced", ShopID: e.Shop.ID, TemplateID: tpl.ID, CustomerID: other.ID, Code: "RACEDRACED23",
		Status: string(pricing.CouponAvailable), ValidFrom: e.Clock.Now(), ClaimedAt: e.Clock.Now()}
	if err := e.Store.ClaimCoupon(ctx, raced, 3, nil); !errors.Is(err, promotion.ErrNotActive) {
		t.Fatalf("store claim on a paused template: %v, want ErrNotActive", err)
	}
	if read, _ := ps.Template(ctx, e.Shop.ID, tpl.ID); read.Issued != 1 {
		t.Fatalf("issued %d after refused claims, want 1", read.Issued)
	}
	// Coupons in wallets do not apply while paused, and the quote says why.
	for _, q := range []*promotion.Quote{quote(), quote(c.Code)} {
		if q.Totals.CouponDiscount != 0 {
			t.Fatalf("a paused template's coupon took %d off", q.Totals.CouponDiscount)
		}
		if na := notApplied(q, c.ID); na == nil || na.Reason != pricing.ReasonPaused {
			t.Fatalf("quote explains %+v, want the coupon %s with reason paused", q.NotApplied, c.ID)
		}
	}
	// The margin guard still counts a paused template: it may be resumed.
	// 4.5折 on a 10000 SKU of cost 2000 is 4500, 2250 after the largest
	// points share; with the 800 coupon first, 1850: under the floor.
	stock := int64(10)
	wide, err := e.Svc.UpsertProducts(ctx, e.Admin, []commerce.ProductUpsert{{Code: "P-W", Name: "Wide margin", SKUs: []commerce.SKUUpsert{{Code: "W", Price: 10000, Cost: 2000, Stock: &stock}}}})
	if err != nil {
		t.Fatal(err)
	}
	deep := func() *promotion.Promotion {
		return &promotion.Promotion{Activity: pricing.Activity{Name: "4.5折", Kind: pricing.LimitedTime, Rate: 4500, Scope: pricing.Scope{SKUIDs: []string{wide[0].ID}}}}
	}
	if _, _, err := ps.SavePromotion(ctx, e.Admin, deep(), false); err == nil {
		t.Fatal("the margin guard left out a paused template's coupons")
	} else {
		wantCode(t, err, "below_margin_floor")
	}
	req := &commerce.PlaceRequest{CustomerID: cust.ID, Lines: []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}, CouponCodes: []string{c.Code}}
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, req, ""); err == nil {
		t.Fatal("an order used a paused template's coupon")
	} else {
		wantCode(t, err, "coupon_not_applicable")
		if ce, _ := commerce.AsError(err); ce.Field != "coupon_codes[0]" || ce.Extra["reason"] != pricing.ReasonPaused {
			t.Fatalf("refusal %+v, want coupon_codes[0] and reason paused", ce)
		}
	}

	if _, err := ps.SetTemplateStatus(ctx, e.Admin, tpl.ID, promotion.TemplateActive); err != nil {
		t.Fatal(err)
	}
	if q := quote(c.Code); q.Totals.CouponDiscount != 800 {
		t.Fatalf("resumed template: coupon discount %d, want 800", q.Totals.CouponDiscount)
	}
	if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, other.ID); err != nil {
		t.Fatalf("claim after resume: %v", err)
	}

	ended, err := ps.SetTemplateStatus(ctx, e.Admin, tpl.ID, promotion.TemplateEnded)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status != promotion.TemplateEnded {
		t.Fatalf("ended template = %+v", ended)
	}
	if _, err := ps.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, other.ID); err == nil {
		t.Fatal("an ended template issued a coupon")
	} else {
		wantCode(t, err, "template_ended")
	}
	for _, st := range []string{promotion.TemplateActive, promotion.TemplatePaused} {
		if _, err := ps.SetTemplateStatus(ctx, e.Admin, tpl.ID, st); err == nil {
			t.Fatalf("an ended template was set %s", st)
		} else {
			wantCode(t, err, "illegal_transition")
		}
	}
	// Ending stops issuing; coupons already claimed keep their validity.
	if q := quote(c.Code); q.Totals.CouponDiscount != 800 {
		t.Fatalf("ended template: claimed coupon took %d off, want 800 until it expires", q.Totals.CouponDiscount)
	}
	e.Clock.Advance(8 * 24 * time.Hour)
	if q := quote(); q.Totals.CouponDiscount != 0 {
		t.Fatalf("an expired coupon of an ended template took %d off", q.Totals.CouponDiscount)
	}
	// Once no coupon of the ended template can be valid, the guard forgets it.
	if _, _, err := ps.SavePromotion(ctx, e.Admin, deep(), false); err != nil {
		ce, _ := commerce.AsError(err)
		t.Fatalf("the margin guard counted an ended template whose coupons expired: %v %+v", err, ce.Extra)
	}
	if _, err := ps.SetTemplateStatus(ctx, e.Admin, "tpl_nope", promotion.TemplatePaused); err == nil {
		t.Fatal("an unknown template was paused")
	} else {
		wantCode(t, err, "coupon_template_not_found")
	}
	acts := entityActions(t, e, "coupon_template", tpl.ID)
	want := []string{"create", "pause", "resume", "end"}
	if len(acts) != len(want) {
		t.Fatalf("audit actions %v, want %v", acts, want)
	}
	for i := range want {
		if acts[i] != want[i] {
			t.Fatalf("audit actions %v, want %v", acts, want)
		}
	}
}
