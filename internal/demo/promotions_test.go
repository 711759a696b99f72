package demo

import (
	"context"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

func TestDemoPromotionsPriceRealCarts(t *testing.T) {
	s := seedSmall(t)
	ctx := context.Background()
	ps := promotion.New(s.st, s.svc)
	res, err := SeedPromotions(ctx, ps, s.svc, s.res.Shop.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Promotions) < 5 || len(res.Templates) != 3 || res.Coupons == 0 {
		t.Fatalf("seeded %+v", res)
	}
	// Two units of a snack get 第二件半价; a cart over ¥300 gets 满减.
	var snack, big *commerce.SKU
	for i := range s.skus {
		k := &s.skus[i]
		if k.Status != commerce.SKUActive || k.Stock < 5 {
			continue
		}
		if k.CategoryID == "cat-food-snacks" && snack == nil {
			snack = k
		}
		if k.Price >= 30000 && big == nil {
			big = k
		}
	}
	if snack == nil || big == nil {
		t.Skip("the small demo catalog has no suitable snack or large item")
	}
	q, err := ps.Quote(ctx, s.res.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: snack.ID, Quantity: 2}, {SKUID: big.ID, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[pricing.Kind]bool{}
	for _, a := range q.Applied {
		kinds[a.Kind] = true
	}
	if !kinds[pricing.NthItem] || !kinds[pricing.ThresholdOff] || !kinds[pricing.FreeShipping] {
		t.Fatalf("applied kinds %v; want 第二件半价, 满减 and 包邮 on this cart", kinds)
	}
	if q.Totals.Payable >= q.Totals.GoodsAmount {
		t.Fatalf("payable %d not below goods %d", q.Totals.Payable, q.Totals.GoodsAmount)
	}
}
