package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// FlashResult names what SeedFlash created.
type FlashResult struct {
	Live, Upcoming string // sale ids
	GrabTemplate   string // a limited coupon template for 抢券
}

// SeedFlash puts the peak paths in the demo: a flash sale live now, one
// tomorrow at 20:00 in the shop's time zone, and a limited coupon to grab.
func SeedFlash(ctx context.Context, fl *peak.Flash, ps *promotion.Service, com *commerce.Service, shopID string, now time.Time) (*FlashResult, error) {
	admin := commerce.Actor{ShopID: shopID, KeyID: "demo", Role: commerce.RoleAdmin}
	pick := func(category string, n int) ([]commerce.SKU, error) {
		skus, err := com.ListSKUs(ctx, shopID, commerce.SKUFilter{CategoryID: category, Status: commerce.SKUActive}, commerce.Page{Limit: 50})
		if err != nil {
			return nil, err
		}
		var out []commerce.SKU
		for _, k := range skus {
			if k.Stock >= 300 && k.Price >= 2000 && len(out) < n {
				out = append(out, k)
			}
		}
		return out, nil
	}
	items := func(skus []commerce.SKU, units int64) []peak.SaleItemInput {
		var out []peak.SaleItemInput
		for _, k := range skus {
			// About half price, ending in 9.9 the way flash prices do.
			price := max(990, (k.Price/2)/1000*1000-10)
			out = append(out, peak.SaleItemInput{SKUID: k.ID, FlashPrice: price, Allocated: units, PerCustomerLimit: 1})
		}
		return out
	}
	var live []commerce.SKU
	for _, cat := range []string{"cat-beauty-skincare", "cat-food-snacks", "cat-digital-earphones"} {
		got, err := pick(cat, 1)
		if err != nil {
			return nil, err
		}
		live = append(live, got...)
	}
	if len(live) == 0 {
		return nil, fmt.Errorf("demo flash sale: no SKU with stock to allocate")
	}
	out := &FlashResult{}
	day, err := shopDay(ctx, com, shopID, now)
	if err != nil {
		return nil, err
	}
	s, err := fl.CreateSale(ctx, admin, peak.SaleInput{Name: "限时秒杀 · 爆款直降", StartsAt: liveStart(day, now), EndsAt: now.Add(3 * time.Hour), Items: items(live, 100)})
	if err != nil {
		return nil, fmt.Errorf("demo flash sale: %w", err)
	}
	out.Live = s.ID
	later, err := pick("cat-apparel-women", 2)
	if err != nil {
		return nil, err
	}
	if len(later) > 0 {
		s, err := fl.CreateSale(ctx, admin, peak.SaleInput{Name: "明晚 20:00 女装秒杀", StartsAt: localAt(day, 1, 20),
			EndsAt: localAt(day, 1, 22), Items: items(later, 200)})
		if err != nil {
			return nil, fmt.Errorf("demo upcoming flash sale: %w", err)
		}
		out.Upcoming = s.ID
	}
	t, err := ps.SaveTemplate(ctx, admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: "整点抢 满200减50",
		Kind: pricing.ThresholdOff, Threshold: 20000, Off: 5000, Scope: pricing.Scope{All: true}}, TotalQuantity: 200, PerCustomerClaims: 1, ValidDays: 3})
	if err != nil {
		return nil, fmt.Errorf("demo grab template: %w", err)
	}
	out.GrabTemplate = t.ID
	return out, nil
}

// liveStart is when the sale live at now began: the latest of the shop's
// usual flash hours (10:00, 14:00, 20:00 local) at least ten minutes
// before now, so a demo seeded in the small hours has not opened a sale
// at 03:00. day is the shop-local midnight of now.
func liveStart(day, now time.Time) time.Time {
	cut := now.Add(-10 * time.Minute)
	for _, d := range []time.Time{day, day.AddDate(0, 0, -1)} {
		for _, h := range []int{20, 14, 10} {
			if t := localAt(d, 0, h); !t.After(cut) {
				return t
			}
		}
	}
	return cut
}
