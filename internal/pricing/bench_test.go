package pricing

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// benchInput is PERFORMANCE.md's quote: 10 lines, 50 active promotions of
// mixed kinds (a few exclusive), 5 wallet coupons, best-coupon search on,
// points requested.
func benchInput() *Input {
	in := &Input{Now: now, Customer: Customer{ID: "cus_1", Tier: "gold", Segments: []string{"vip"}}, BestCoupons: true,
		Points: 3000, PointsBalance: 10000, GiftStock: map[string]int64{"g1": 100, "g2": 0}}
	cats := []string{"c_shoes", "c_bags", "c_food", "c_toys"}
	for i := 0; i < 10; i++ {
		in.Lines = append(in.Lines, Line{SKUID: fmt.Sprintf("sku_%02d", i), ProductID: fmt.Sprintf("p_%02d", i),
			CategoryIDs: []string{cats[i%4], "c_root"}, ListPrice: money.Money(2990 + 1500*i), Cost: money.Money(1500 + 700*i), Quantity: int64(1 + i%3)})
	}
	scope := func(i int) Scope {
		switch i % 4 {
		case 0:
			return Scope{All: true}
		case 1:
			return Scope{CategoryIDs: []string{cats[i%4]}}
		case 2:
			return Scope{SKUIDs: []string{fmt.Sprintf("sku_%02d", i%10), fmt.Sprintf("sku_%02d", (i+3)%10)}}
		default:
			return Scope{All: true, ExcludeCategoryIDs: []string{"c_food"}}
		}
	}
	for i := 0; i < 50; i++ {
		a := Activity{ID: fmt.Sprintf("act_%02d", i), Status: StatusActive, Scope: scope(i), Priority: i % 5,
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
		switch i % 10 {
		case 0:
			a.Kind, a.Rate, a.PerCustomerQtyLimit = LimitedTime, money.Rate(8000+i*10), 2
		case 1:
			a.Kind, a.TierRates = MemberPrice, []TierRate{{Tier: "gold", Rate: 7000}, {Tier: "silver", Rate: 9500}}
		case 2:
			a.Kind, a.Ladder = QuantityLadder, []LadderStep{{MinQty: 2, UnitPrice: 3000}, {MinQty: 3, UnitPrice: 2500}}
		case 3:
			a.Kind, a.Tiers = ThresholdOff, []Tier{{Threshold: 10000, Off: 1000}, {Threshold: 30000, Off: 4000}, {Threshold: 60000, Off: 9000}}
			a.Exclusive = i == 13
		case 4:
			a.Kind, a.Tiers = ThresholdPercent, []Tier{{Threshold: 20000, Rate: 9500}, {Threshold: 50000, Rate: 9000}}
		case 5:
			a.Kind, a.N, a.Rate = NthItem, 2, 5000
		case 6:
			a.Kind, a.X, a.Y = BuyXGetY, 2, 1
			a.Exclusive = i == 26
		case 7:
			a.Kind, a.Tiers = Gift, []Tier{{Threshold: 20000, Gifts: []GiftItem{{SKUID: "g1", Quantity: 1}}}, {Threshold: 80000, Gifts: []GiftItem{{SKUID: "g1", Quantity: 1}, {SKUID: "g2", Quantity: 1}}}}
		case 8:
			a.Kind, a.Threshold = FreeShipping, 9900
		case 9:
			a.Kind, a.Tiers, a.Repeat, a.MaxOff = ThresholdOff, []Tier{{Threshold: 20000, Off: 1500}}, true, 6000
		}
		in.Activities = append(in.Activities, a)
	}
	until := now.Add(24 * time.Hour)
	in.Wallet = []Coupon{
		{ID: "cp_1", TemplateID: "t1", Status: CouponAvailable, ValidUntil: until, Template: CouponTemplate{ID: "t1", Kind: ThresholdOff, Threshold: 20000, Off: 2000, Scope: Scope{All: true}}},
		{ID: "cp_2", TemplateID: "t2", Status: CouponAvailable, ValidUntil: until, Template: CouponTemplate{ID: "t2", Kind: Percent, Rate: 9000, MaxDiscount: 5000, Scope: Scope{CategoryIDs: []string{"c_shoes"}}}},
		{ID: "cp_3", TemplateID: "t3", Status: CouponAvailable, ValidUntil: until, Template: CouponTemplate{ID: "t3", Kind: ThresholdOff, Off: 500, Scope: Scope{All: true}, StackGroup: "platform"}},
		{ID: "cp_4", TemplateID: "t4", Status: CouponAvailable, ValidUntil: until, Template: CouponTemplate{ID: "t4", Kind: Shipping, MaxDiscount: 800, Scope: Scope{All: true}}},
		{ID: "cp_5", TemplateID: "t5", Status: CouponAvailable, ValidUntil: until.Add(time.Hour), Template: CouponTemplate{ID: "t5", Kind: ThresholdOff, Threshold: 5000, Off: 800, Scope: Scope{All: true}, Stackable: true, StackGroup: "platform"}},
	}
	return in
}

func BenchmarkQuote(b *testing.B) {
	benchQuotes(b, Quote)
}

// BenchmarkQuoter is BenchmarkQuote with one Quoter reused for every
// quote, as a worker goroutine would.
func BenchmarkQuoter(b *testing.B) {
	var qt Quoter
	benchQuotes(b, qt.Quote)
}

// benchQuotes prices the benchmark cart with quote and reports the 99th
// percentile latency next to the mean.
func benchQuotes(b *testing.B, quote func(*Input) (*Result, error)) {
	in := benchInput()
	if _, err := quote(in); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := quote(in); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}

func TestBenchInputExercisesEveryKind(t *testing.T) {
	in := benchInput()
	r := mustQuote(t, in)
	kinds := map[Kind]bool{}
	for _, a := range r.Applied {
		kinds[a.Kind] = true
	}
	for _, k := range []Kind{LimitedTime, MemberPrice, ThresholdOff, ThresholdPercent, NthItem, Gift, FreeShipping} {
		if !kinds[k] {
			t.Errorf("the benchmark cart applies no %s: %+v", k, r.Applied)
		}
	}
}
