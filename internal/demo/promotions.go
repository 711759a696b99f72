package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// PromotionsResult lists what SeedPromotions made.
type PromotionsResult struct {
	Promotions []string
	Templates  []string
	Coupons    int
}

// SeedPromotions configures the demo shop's running promotions and coupons
// the way an operations team would for a big sale: a 满减 ladder across the
// shop, member prices on beauty, 第二件半价 on snacks, a gift ladder on
// skincare, free shipping over ¥99, a limited-time discount that starts
// tomorrow at 20:00 in the shop's time zone, and three coupon templates,
// some already in customers' wallets.
// It goes through promotion.Service, so every rule is validated and checked
// for conflicts; the margin guard's worst cases are acknowledged, as an
// admin would for a demo.
func SeedPromotions(ctx context.Context, ps *promotion.Service, com *commerce.Service, shopID string, now time.Time) (*PromotionsResult, error) {
	admin := commerce.Actor{ShopID: shopID, KeyID: "demo", Role: commerce.RoleAdmin}
	day, err := shopDay(ctx, com, shopID, now)
	if err != nil {
		return nil, err
	}
	cat := func(ids ...string) pricing.Scope { return pricing.Scope{CategoryIDs: ids} }
	all := pricing.Scope{All: true}
	promos := []promotion.Promotion{
		{Activity: pricing.Activity{Name: "全场满300减40，满500减80", Kind: pricing.ThresholdOff, Scope: all, Priority: 10,
			Tiers: []pricing.Tier{{Threshold: 30000, Off: 4000}, {Threshold: 50000, Off: 8000}}, EndsAt: day.AddDate(0, 0, 14)},
			Limits: promotion.Limits{Budget: 50_000_00, DailyBudget: 5_000_00}},
		{Activity: pricing.Activity{Name: "美妆会员价：金卡95折，白金卡9折", Kind: pricing.MemberPrice, Scope: cat("cat-beauty"),
			TierRates: []pricing.TierRate{{Tier: TierGold, Rate: 9500}, {Tier: TierPlatinum, Rate: 9000}}}},
		{Activity: pricing.Activity{Name: "零食第二件半价", Kind: pricing.NthItem, Scope: cat("cat-food-snacks"), N: 2, Rate: 5000, Priority: 5}},
		{Activity: pricing.Activity{Name: "护肤满399赠旅行装", Kind: pricing.Gift, Scope: cat("cat-beauty-skincare"), Priority: 3,
			Tiers: []pricing.Tier{{Threshold: 39900}}}},
		{Activity: pricing.Activity{Name: "满99包邮", Kind: pricing.FreeShipping, Scope: all, Threshold: 9900}},
		{Activity: pricing.Activity{Name: "女装限时88折（明日开抢）", Kind: pricing.LimitedTime, Scope: cat("cat-apparel-women"), Rate: 8800,
			StartsAt: localAt(day, 1, 20), EndsAt: day.AddDate(0, 0, 3)}, Limits: promotion.Limits{PerCustomerUses: 5}},
	}
	// The gift is the cheapest active skincare SKU: a 旅行装 stand-in.
	skus, err := com.ListSKUs(ctx, shopID, commerce.SKUFilter{CategoryID: "cat-beauty-skincare", Status: commerce.SKUActive}, commerce.Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	if len(skus) > 0 {
		gift := skus[0]
		for _, k := range skus {
			if k.Price < gift.Price && k.Stock > 0 {
				gift = k
			}
		}
		promos[3].Tiers[0].Gifts = []pricing.GiftItem{{SKUID: gift.ID, Quantity: 1}}
	} else {
		promos = append(promos[:3], promos[4:]...)
	}
	out := &PromotionsResult{}
	for i := range promos {
		p, _, err := ps.SavePromotion(ctx, admin, &promos[i], true)
		if err != nil {
			return nil, fmt.Errorf("demo promotion %q: %w", promos[i].Name, err)
		}
		out.Promotions = append(out.Promotions, p.ID)
	}
	templates := []promotion.Template{
		{CouponTemplate: pricing.CouponTemplate{Name: "无门槛5元券", Kind: pricing.ThresholdOff, Off: 500, Scope: all}, TotalQuantity: 10000, PerCustomerClaims: 1, ValidDays: 7},
		{CouponTemplate: pricing.CouponTemplate{Name: "店铺券 满200减20", Kind: pricing.ThresholdOff, Threshold: 20000, Off: 2000, Scope: all, Stackable: false},
			TotalQuantity: 5000, PerCustomerClaims: 2, ValidDays: 14, Limits: promotion.Limits{Budget: 30_000_00}},
		{CouponTemplate: pricing.CouponTemplate{Name: "运费券", Kind: pricing.Shipping, Scope: all}, TotalQuantity: 0, PerCustomerClaims: 1, ValidDays: 30},
	}
	for i := range templates {
		t, err := ps.SaveTemplate(ctx, admin, &templates[i])
		if err != nil {
			return nil, fmt.Errorf("demo coupon template %q: %w", templates[i].Name, err)
		}
		out.Templates = append(out.Templates, t.ID)
	}
	// Put coupons in the first customers' wallets.
	custs, err := com.ListCustomers(ctx, shopID, commerce.Page{Limit: 60})
	if err != nil {
		return nil, err
	}
	for i, c := range custs {
		for j, t := range out.Templates {
			if (i+j)%2 == 0 {
				if _, err := ps.ClaimCoupon(ctx, shopID, t, c.ID); err != nil {
					return nil, fmt.Errorf("demo coupon for %s: %w", c.ID, err)
				}
				out.Coupons++
			}
		}
	}
	return out, nil
}

// shopDay is the midnight starting now's day in the shop's time zone: demo
// schedules ("明晚 20:00") are the shop's wall clock, whatever the
// server's zone.
func shopDay(ctx context.Context, com *commerce.Service, shopID string, now time.Time) (time.Time, error) {
	sh, err := com.Shop(ctx, shopID)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(sh.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("demo: shop time zone: %w", err)
	}
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc), nil
}

// localAt is hour o'clock, shop time, days after the shop-local midnight day.
func localAt(day time.Time, days, hour int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day()+days, hour, 0, 0, 0, day.Location())
}
