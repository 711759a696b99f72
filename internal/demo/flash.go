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
// tomorrow at 20:00, and a limited coupon to grab.
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
	s, err := fl.CreateSale(ctx, admin, peak.SaleInput{Name: "限时秒杀 · 爆款直降", StartsAt: now.Add(-10 * time.Minute), EndsAt: now.Add(3 * time.Hour), Items: items(live, 100)})
	if err != nil {
		return nil, fmt.Errorf("demo flash sale: %w", err)
	}
	out.Live = s.ID
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	later, err := pick("cat-apparel-women", 2)
	if err != nil {
		return nil, err
	}
	if len(later) > 0 {
		s, err := fl.CreateSale(ctx, admin, peak.SaleInput{Name: "明晚 20:00 女装秒杀", StartsAt: day.AddDate(0, 0, 1).Add(20 * time.Hour),
			EndsAt: day.AddDate(0, 0, 1).Add(22 * time.Hour), Items: items(later, 200)})
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
