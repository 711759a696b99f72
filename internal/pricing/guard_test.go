package pricing

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateNamesTheFieldOfEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		a    Activity
		want []string // "field code"
	}{
		{"valid threshold_off", act("a", ThresholdOff, tiers(10000, 1000, 20000, 3000)), nil},
		{"tiers not ascending", act("a", ThresholdOff, tiers(20000, 1000, 10000, 3000)), []string{"tiers[1].threshold not_ascending"}},
		{"off not ascending", act("a", ThresholdOff, tiers(10000, 3000, 20000, 3000)), []string{"tiers[1].off not_ascending"}},
		{"negative off", act("a", ThresholdOff, tiers(10000, -1)), []string{"tiers[0].off out_of_range"}},
		{"amount above MaxAmount", act("a", ThresholdOff, tiers(1e15+1, 1)), []string{"tiers[0].threshold out_of_range"}},
		{"no id, window reversed", act("", LimitedTime, func(a *Activity) { a.Rate = 9000; a.StartsAt = now; a.EndsAt = now }),
			[]string{"id required", "ends_at order"}},
		{"rate above 10000", act("a", LimitedTime, func(a *Activity) { a.Rate = 10001 }), []string{"rate out_of_range"}},
		{"rate zero", act("a", LimitedTime), []string{"rate out_of_range"}},
		{"price and rate", act("a", LimitedTime, func(a *Activity) { a.Rate, a.Price = 9000, 100 }), []string{"price conflict"}},
		{"empty scope", act("a", LimitedTime, func(a *Activity) { a.Rate = 9000; a.Scope = Scope{} }), []string{"scope required"}},
		{"member tiers", act("a", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "g", Rate: 9000}, {Tier: "g", Rate: 0}} }),
			[]string{"tier_rates[1].tier conflict", "tier_rates[1].rate out_of_range"}},
		{"ladder", act("a", QuantityLadder, func(a *Activity) { a.Ladder = []LadderStep{{MinQty: 3, UnitPrice: 1}, {MinQty: 2, UnitPrice: -1}} }),
			[]string{"ladder[1].unit_price out_of_range", "ladder[1].min_qty not_ascending"}},
		{"repeat", act("a", ThresholdOff, tiers(0, 10), func(a *Activity) { a.Repeat = true }), []string{"tiers[0].threshold out_of_range"}},
		{"max_off without repeat", act("a", ThresholdOff, tiers(100, 10), func(a *Activity) { a.MaxOff = 5 }), []string{"max_off conflict"}},
		{"percent by items", act("a", ThresholdPercent, func(a *Activity) { a.ByItems = true; a.Tiers = []Tier{{MinItems: 0, Rate: 9000}} }),
			[]string{"tiers[0].min_items out_of_range"}},
		{"nth", act("a", NthItem, func(a *Activity) { a.N = 1; a.Rate = 10000 }), []string{"n out_of_range", "rate out_of_range"}},
		{"bxgy", act("a", BuyXGetY, func(a *Activity) { a.X = 0; a.Y = 1 }), []string{"x out_of_range"}},
		{"gift", act("a", Gift, func(a *Activity) { a.Tiers = []Tier{{Threshold: 100, Gifts: []GiftItem{{SKUID: "", Quantity: 0}}}} }),
			[]string{"tiers[0].gifts[0].sku_id required", "tiers[0].gifts[0].quantity out_of_range"}},
		{"limit on an order-level kind", act("a", FreeShipping, func(a *Activity) { a.PerCustomerQtyLimit = 1 }), []string{"per_customer_qty_limit conflict"}},
		{"unknown kind", act("a", "bogus"), []string{"kind unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range Validate(tt.a) {
				got = append(got, e.Field+" "+e.Code)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestValidateTemplate(t *testing.T) {
	tests := []struct {
		name string
		t    CouponTemplate
		want []string
	}{
		{"cash", CouponTemplate{ID: "t", Kind: ThresholdOff, Off: 500, Scope: Scope{All: true}}, nil},
		{"percent rate", CouponTemplate{ID: "t", Kind: Percent, Rate: 0, Scope: Scope{All: true}}, []string{"rate out_of_range"}},
		{"shipping with off", CouponTemplate{ID: "t", Kind: Shipping, Off: 5, Scope: Scope{All: true}}, []string{"off conflict"}},
		{"bad kind, no scope", CouponTemplate{ID: "t", Kind: "x"}, []string{"scope required", "kind unknown"}},
		{"negative threshold", CouponTemplate{ID: "t", Kind: ThresholdOff, Off: 1, Threshold: -1, Scope: Scope{All: true}}, []string{"threshold out_of_range"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range ValidateTemplate(tt.t) {
			got = append(got, e.Field+" "+e.Code)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestConflictsNeedSameKindOverlapAndNoWayToOrderThem(t *testing.T) {
	base := act("new", ThresholdOff, tiers(100, 10), func(a *Activity) {
		a.StartsAt, a.EndsAt = now, now.Add(24*time.Hour)
		a.Scope = Scope{CategoryIDs: []string{"shoes"}}
	})
	other := func(id string, mods ...func(*Activity)) Activity {
		a := base
		a.ID = id
		for _, m := range mods {
			m(&a)
		}
		return a
	}
	existing := []Activity{
		other("same"),
		other("other_kind", func(a *Activity) { a.Kind = ThresholdPercent }),
		other("exclusive", func(a *Activity) { a.Exclusive = true }),
		other("priority", func(a *Activity) { a.Priority = 1 }),
		other("later", func(a *Activity) { a.StartsAt, a.EndsAt = now.Add(24*time.Hour), now.Add(48*time.Hour) }),
		other("overlapping", func(a *Activity) { a.StartsAt, a.EndsAt = now.Add(23*time.Hour), time.Time{} }),
		other("other_category", func(a *Activity) { a.Scope = Scope{CategoryIDs: []string{"hats"}} }),
		other("all", func(a *Activity) { a.Scope = Scope{All: true} }),
		other("skus", func(a *Activity) { a.Scope = Scope{SKUIDs: []string{"s_hat"}} }),
		other("ended", func(a *Activity) { a.Status = StatusEnded }),
	}
	want := []string{"same", "overlapping", "all", "skus"}
	if d := cmp.Diff(want, Conflicts(base, existing)); d != "" {
		t.Fatalf("Conflicts (-want +got):\n%s", d)
	}
	catalog := []SKUInfo{{SKUID: "s_shoe", CategoryIDs: []string{"shoes"}}, {SKUID: "s_hat", CategoryIDs: []string{"hats"}}}
	want = []string{"same", "overlapping", "all"}
	if d := cmp.Diff(want, ConflictsInCatalog(base, existing, catalog)); d != "" {
		t.Fatalf("ConflictsInCatalog (-want +got):\n%s", d)
	}
}

func TestWorstCaseStacksBestPriceOrderActivitiesCouponsAndPoints(t *testing.T) {
	sku := SKUInfo{SKUID: "A", CategoryIDs: []string{"c"}, ListPrice: 10000, Cost: 5000}
	acts := []Activity{
		act("lt", LimitedTime, func(a *Activity) { a.Rate = 9000 }),
		act("mp", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "g", Rate: 9500}, {Tier: "d", Rate: 8000}} }),
		act("mj", ThresholdOff, tiers(20000, 2000)), // best share: 2000 of a 20000 order → 10 %
		act("ended", ThresholdOff, tiers(0, 9999), func(a *Activity) { a.EndsAt = now }),
		act("other", ThresholdOff, tiers(0, 9999), func(a *Activity) { a.Scope = Scope{SKUIDs: []string{"B"}} }),
	}
	coupons := []CouponTemplate{
		{ID: "cash5", Kind: ThresholdOff, Off: 500, Scope: Scope{All: true}},
		{ID: "p9", Kind: Percent, Rate: 9000, MaxDiscount: 300, Scope: Scope{All: true}},
	}
	r, err := WorstCase(sku, acts, coupons, Settings{}, now)
	if err != nil {
		t.Fatal(err)
	}
	// 10000 → member 8000 → 满200减20 takes 10 % → 7200 → ¥5 cash → 6700 → 50 % points → 3350.
	want := WorstCaseResult{SKUID: "A", UnitPayable: 3350, FloorUnit: 5000, Below: true, Chain: []WorstStep{
		{Stage: "item", ID: "mp", Kind: MemberPrice, Before: 10000, After: 8000},
		{Stage: "order", ID: "mj", Kind: ThresholdOff, Before: 8000, After: 7200},
		{Stage: "coupon", ID: "cash5", Kind: ThresholdOff, Before: 7200, After: 6700},
		{Stage: "points", Before: 6700, After: 3350},
	}}
	if d := cmp.Diff(want, r); d != "" {
		t.Fatalf("WorstCase (-want +got):\n%s", d)
	}
	// BelowFloor reports only the scoped SKUs under the floor.
	cand := act("new", LimitedTime, func(a *Activity) { a.Rate = 9900; a.Scope = Scope{CategoryIDs: []string{"c"}} })
	skus := []SKUInfo{sku, {SKUID: "B", CategoryIDs: []string{"c"}, ListPrice: 10000, Cost: 0}, {SKUID: "C", ListPrice: 1, Cost: 100}}
	below, err := BelowFloor(cand, skus, acts, coupons, Settings{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(below) != 1 || below[0].SKUID != "A" {
		t.Fatalf("BelowFloor = %+v, want only A", below)
	}
}

func TestWorstCaseIsNeverAboveARealQuote(t *testing.T) {
	// A real cart reaching every promotion at its most generous must not
	// beat the worst case.
	acts := []Activity{
		act("lt", LimitedTime, func(a *Activity) { a.Rate = 9000 }),
		act("mj", ThresholdOff, tiers(20000, 2000)),
		act("n2", NthItem, func(a *Activity) { a.N, a.Rate = 2, 5000 }),
	}
	coupons := []CouponTemplate{{ID: "cash5", Kind: ThresholdOff, Off: 500, Scope: Scope{All: true}}}
	wc, err := WorstCase(SKUInfo{SKUID: "A", ListPrice: 10000}, acts, coupons, Settings{}, now)
	if err != nil {
		t.Fatal(err)
	}
	wallet := []Coupon{coupon("c", ThresholdOff, cash(500, 0))}
	for qty := int64(1); qty <= 6; qty++ {
		r := mustQuote(t, &Input{Lines: []Line{line("A", 10000, qty)}, Activities: acts, Wallet: wallet, BestCoupons: true, Points: 1e9, PointsBalance: 1e9})
		if unit := r.Lines[0].Payable / qty; unit < wc.UnitPayable {
			t.Fatalf("qty %d pays %d a unit, under the worst case %d", qty, unit, wc.UnitPayable)
		}
	}
}
