package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// benchQuote loads the quote endpoint with the scenario of PERFORMANCE.md:
// 10-line carts, 50 active promotions of mixed kinds, a customer with 5
// coupons in the wallet, best-coupon search on.
func benchQuote(ctx context.Context, svc *commerce.Service, ps *promotion.Service, shopID string, skus []commerce.SKU, url, key, hello string,
	conc int, dur time.Duration, cpuprofile string, useWrk bool, stdout io.Writer) error {
	admin := commerce.Actor{ShopID: shopID, KeyID: "bench", Role: commerce.RoleAdmin}
	ids := func(from, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, skus[(from+i)%len(skus)].ID)
		}
		return out
	}
	var promos []*promotion.Promotion
	for i := 0; i < 50; i++ {
		a := pricing.Activity{Name: fmt.Sprintf("活动 %d", i), Priority: i, Scope: pricing.Scope{SKUIDs: ids(i*3, 40)}}
		switch i % 10 {
		case 0:
			a.Kind, a.Tiers = pricing.ThresholdOff, []pricing.Tier{{Threshold: 20000, Off: 2000}, {Threshold: 50000, Off: 6000}}
		case 1:
			a.Kind, a.Tiers = pricing.ThresholdPercent, []pricing.Tier{{Threshold: 30000, Rate: 9500}}
		case 2:
			a.Kind, a.N, a.Rate = pricing.NthItem, 2, 5000
		case 3:
			a.Kind, a.X, a.Y = pricing.BuyXGetY, 2, 1
		case 4:
			a.Kind, a.Rate = pricing.LimitedTime, 9000
		case 5:
			a.Kind, a.TierRates = pricing.MemberPrice, []pricing.TierRate{{Tier: "gold", Rate: 9200}}
		case 6:
			a.Kind, a.Ladder = pricing.QuantityLadder, []pricing.LadderStep{{MinQty: 2, UnitPrice: 900}}
		case 7:
			a.Kind, a.Tiers = pricing.Gift, []pricing.Tier{{Threshold: 10000, Gifts: []pricing.GiftItem{{SKUID: skus[0].ID, Quantity: 1}}}}
		case 8:
			a.Kind, a.Threshold = pricing.FreeShipping, 9900
		case 9:
			a.Kind, a.Tiers, a.Repeat, a.MaxOff = pricing.ThresholdOff, []pricing.Tier{{Threshold: 10000, Off: 500}}, true, 3000
		}
		p, _, err := ps.SavePromotion(ctx, admin, &promotion.Promotion{Activity: a}, true)
		if err != nil {
			return fmt.Errorf("promotion %d: %w", i, err)
		}
		promos = append(promos, p)
	}
	cust, err := svc.UpsertCustomers(ctx, admin, []commerce.Customer{{ExternalID: "bench-gold", Tier: "gold"}})
	if err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		t := &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: int64(10000 * (i + 1)), Off: int64(1000 * (i + 1)),
			Scope: pricing.Scope{All: true}, Stackable: i%2 == 0}, ValidDays: 30}
		if i == 4 {
			t.CouponTemplate = pricing.CouponTemplate{Kind: pricing.Percent, Rate: 9000, MaxDiscount: 5000, Scope: pricing.Scope{All: true}}
		}
		if t, err = ps.SaveTemplate(ctx, admin, t); err != nil {
			return err
		}
		if _, err := ps.ClaimCoupon(ctx, shopID, t.ID, cust[0].ID); err != nil {
			return err
		}
	}
	bodies := make([][]byte, 32)
	for i := range bodies {
		var lines []map[string]any
		for j := 0; j < 10; j++ {
			lines = append(lines, map[string]any{"sku_id": skus[(i*11+j*7)%len(skus)].ID, "quantity": 1 + (i+j)%3})
		}
		bodies[i], _ = json.Marshal(map[string]any{"customer_id": cust[0].ID, "best_coupons": true, "points": 0, "lines": lines})
	}
	fmt.Fprintf(stdout, "quote: 10 lines, %d active promotions, 5 wallet coupons, best-coupon search; %d clients, %s per run, GOMAXPROCS %d\n",
		len(promos), conc, dur, numProcs())
	run := func(url, key string) (loadResult, error) {
		return drive(ctx, useWrk, url, key, bodies, conc, dur, false)
	}
	base, err := run(hello+"/", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hello-world baseline: %s\n", base)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := run(url+"/api/v1/quote", key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "quote:                %s  (%.0f%% of baseline)\n", res, 100*res.rate/base.rate)
	if res.failed > 0 {
		return fmt.Errorf("%d quotes failed", res.failed)
	}
	return nil
}
