package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// The 双11 campaign of the history ran its own promotions: created two
// days before its window, each live inside it, ended the day after. The
// orders placed in the window are priced by the promotion engine, so they
// carry the discounts in their pricing and the campaign's review shows what
// each promotion brought and cost.

// d11CouponMin is the list amount of an order that may use the 双11 coupon:
// twice its threshold, so the activities' discounts never take it under.
const d11CouponMin = 20000

// d11Promos is the history's 双11 promotions and coupon template.
type d11Promos struct {
	w               window
	createAt, endAt time.Time
	ps              *promotion.Service
	res             *PromotionsResult
}

// planDouble11 returns the 双11 plan when its window lies inside the
// history with room for the promotions before and after it; nil otherwise.
func planDouble11(w window, start, now time.Time) *d11Promos {
	p := &d11Promos{w: w, createAt: w.start.AddDate(0, 0, -2).Add(10 * time.Hour), endAt: w.end.AddDate(0, 0, 1).Add(10 * time.Hour)}
	if !p.createAt.After(start) || !p.endAt.Before(now) {
		return nil
	}
	return p
}

// at is hour o'clock, shop time, on day d of month m of the campaign's year.
func (p *d11Promos) at(m time.Month, d, hour int) time.Time {
	loc := p.w.start.Location()
	return time.Date(p.w.year, m, d, hour, 0, 0, 0, loc)
}

// promotions are the 双11 activities: a shop-wide 满减 over the whole
// window from its first evening, a 开门红 beauty discount from the evening
// of 31 Oct, and 返场 第二件半价 on snacks in the tail.
func (p *d11Promos) promotions() []promotion.Promotion {
	all := pricing.Scope{All: true}
	return []promotion.Promotion{
		{Activity: pricing.Activity{Name: "双11 全场满300减50", Kind: pricing.ThresholdOff, Scope: all, Priority: 20,
			Tiers: []pricing.Tier{{Threshold: 30000, Off: 5000}, {Threshold: 60000, Off: 11000}}, StartsAt: p.w.start.Add(20 * time.Hour), EndsAt: p.w.end}},
		{Activity: pricing.Activity{Name: "开门红 美妆限时9折", Kind: pricing.LimitedTime, Scope: pricing.Scope{CategoryIDs: []string{"cat-beauty"}}, Rate: 9000,
			Priority: 20, StartsAt: p.at(time.October, 31, 20), EndsAt: p.at(time.November, 12, 0)}},
		{Activity: pricing.Activity{Name: "返场 零食第二件半价", Kind: pricing.NthItem, Scope: pricing.Scope{CategoryIDs: []string{"cat-food-snacks"}}, N: 2, Rate: 5000,
			Priority: 20, StartsAt: p.at(time.November, 12, 10), EndsAt: p.w.end}},
	}
}

// couponFrom is when the 双11 coupon can be claimed and used: the window's
// second day.
func (p *d11Promos) couponFrom() time.Time { return p.w.start.AddDate(0, 0, 1) }

// planDouble11Coupons marks the orders of the window that use a 双11
// coupon (every third order big enough, from the window's second day) and
// those whose customer claims one and does not use it (every fourth of the
// rest), without randomness. Orders in the window are priced by the
// promotion engine.
func planDouble11Coupons(p *d11Promos, orders []orderPlan, cat *catalogPlan) {
	if p == nil {
		return
	}
	n := 0
	for i := range orders {
		o := &orders[i]
		if o.at.Before(p.w.start) || !o.at.Before(p.w.end) {
			continue
		}
		o.promoted = true
		if o.at.Before(p.couponFrom()) {
			continue
		}
		var list int64
		for _, l := range o.lines {
			list += cat.skus[l.sku].price * l.qty
		}
		n++
		switch {
		case list >= d11CouponMin && n%3 == 0:
			o.d11Coupon = couponUse
		case n%4 == 0 && o.at.Add(time.Minute).Before(p.w.end):
			o.d11Coupon = couponClaimOnly
		}
	}
}

// What an order does with the 双11 coupon.
const (
	couponNone = iota
	couponUse
	couponClaimOnly
)

// double11Events are the promotions' creation and end, and the coupon
// claims: just before the order that uses it, or just after the order of
// a customer who keeps it.
func double11Events(p *d11Promos, orders []orderPlan) []event {
	if p == nil {
		return nil
	}
	evs := []event{{at: p.createAt, kind: evPromos}, {at: p.endAt, kind: evEndPromos}}
	for i, o := range orders {
		switch o.d11Coupon {
		case couponUse:
			evs = append(evs, event{at: o.at.Add(-time.Second), kind: evClaim, ref: i})
		case couponClaimOnly:
			evs = append(evs, event{at: o.at.Add(time.Minute), kind: evClaim, ref: i})
		}
	}
	return evs
}

// createDouble11 saves the promotions and the coupon template as the
// shop's admin would, acknowledging the margin guard's worst case.
func (sd *seeder) createDouble11(ctx context.Context) error {
	p := sd.d11
	a := commerce.Actor{ShopID: sd.shop.ID, KeyID: "demo", Role: commerce.RoleAdmin}
	p.res = &PromotionsResult{}
	for _, pr := range p.promotions() {
		saved, _, err := p.ps.SavePromotion(ctx, a, &pr, true)
		if err != nil {
			return fmt.Errorf("双11 promotion %q: %w", pr.Name, err)
		}
		p.res.Promotions = append(p.res.Promotions, saved.ID)
	}
	t, err := p.ps.SaveTemplate(ctx, a, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: "双11 店铺券 满100减15", Kind: pricing.ThresholdOff,
		Threshold: 10000, Off: 1500, Scope: pricing.Scope{All: true}}, PerCustomerClaims: 20, ValidFrom: p.w.start, ValidUntil: p.w.end})
	if err != nil {
		return fmt.Errorf("双11 coupon template: %w", err)
	}
	p.res.Templates = []string{t.ID}
	return nil
}

// endDouble11 ends the promotions the day after the window, as an
// operator tidies up after a sale.
func (sd *seeder) endDouble11(ctx context.Context) error {
	a := commerce.Actor{ShopID: sd.shop.ID, KeyID: "demo", Role: commerce.RoleAdmin}
	for _, id := range sd.d11.res.Promotions {
		if _, err := sd.d11.ps.SetStatus(ctx, a, id, pricing.StatusEnded); err != nil {
			return fmt.Errorf("end 双11 promotion %s: %w", id, err)
		}
	}
	return nil
}

// claimDouble11 puts a 双11 coupon in the order's customer's wallet; the
// order placed next uses it when it is planned to.
func (sd *seeder) claimDouble11(ctx context.Context, i int) error {
	o := &sd.orders[i]
	c, err := sd.d11.ps.ClaimCoupon(ctx, sd.shop.ID, sd.d11.res.Templates[0], sd.cs[o.customer].id)
	if err != nil {
		return fmt.Errorf("claim the 双11 coupon: %w", err)
	}
	if o.d11Coupon == couponUse {
		o.couponCode = c.Code
	}
	return nil
}
