package pricing

import (
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
	"github.com/google/go-cmp/cmp"
)

func cash(off, threshold money.Money) func(*Coupon) {
	return func(c *Coupon) { c.Template.Threshold, c.Template.Off = threshold, off }
}

func TestNamedCouponsAreValidatedAndEachRejectionExplained(t *testing.T) {
	tests := []struct {
		name  string
		c     Coupon
		usage map[string]Usage
		want  NotApplied
	}{
		{"expired", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.ValidUntil = now }), nil, NotApplied{Reason: ReasonExpired}},
		{"not started", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.ValidFrom = now.Add(time.Minute) }), nil, NotApplied{Reason: ReasonNotStarted}},
		{"used", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.Status = CouponUsed }), nil, NotApplied{Reason: ReasonUsed}},
		{"held by another order", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.Status = CouponLocked }), nil, NotApplied{Reason: ReasonUsed}},
		{"void", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.Status = CouponVoid }), nil, NotApplied{Reason: ReasonUnavailable}},
		{"threshold", coupon("c", ThresholdOff, cash(100, 20000)), nil, NotApplied{Reason: ReasonThresholdNotMet, Shortfall: 10000}},
		{"scope", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.Template.Scope = Scope{SKUIDs: []string{"Z"}} }), nil, NotApplied{Reason: ReasonScope}},
		{"template uses", coupon("c", ThresholdOff, cash(100, 0)), map[string]Usage{"tpl_c": {Uses: ptr[int64](0)}}, NotApplied{Reason: ReasonUsageLimit}},
		{"template budget", coupon("c", ThresholdOff, cash(100, 0)), map[string]Usage{"tpl_c": {Budget: ptr[int64](99)}}, NotApplied{Reason: ReasonBudgetExhausted}},
		{"broken template", coupon("c", Percent), nil, NotApplied{Reason: ReasonInvalid}},
		{"template paused", coupon("c", ThresholdOff, cash(100, 0), func(c *Coupon) { c.Paused = true }), nil, NotApplied{Reason: ReasonPaused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Lines: []Line{line("A", 10000, 1)}, Wallet: []Coupon{tt.c}, CouponCodes: []string{"CODE_c"}, Usage: tt.usage})
			tt.want.Source = SourceCoupon
			wantReason(t, r, "c", tt.want)
			if r.Totals.CouponDiscount != 0 {
				t.Fatalf("coupon discount = %d, want 0", r.Totals.CouponDiscount)
			}
		})
	}
	r := mustQuote(t, &Input{Lines: []Line{line("A", 10000, 1)}, CouponCodes: []string{"NOPE", "NOPE"}})
	if d := cmp.Diff([]NotApplied{{Source: SourceCoupon, ID: "NOPE", Reason: ReasonInvalidCode}}, r.NotApplied); d != "" {
		t.Fatalf("not applied (-want +got):\n%s", d)
	}
}

func TestOneCouponPerStackGroupUnlessStackable(t *testing.T) {
	cart := []Line{line("A", 10000, 1)}
	r := mustQuote(t, &Input{Lines: cart, Wallet: []Coupon{coupon("small", ThresholdOff, cash(500, 0)), coupon("big", ThresholdOff, cash(1000, 0))},
		CouponCodes: []string{"CODE_small", "CODE_big"}})
	if r.Totals.CouponDiscount != 1000 {
		t.Fatalf("coupon discount = %d, want the bigger one only", r.Totals.CouponDiscount)
	}
	wantReason(t, r, "small", NotApplied{Source: SourceCoupon, Reason: ReasonStacking, Winner: "big"})

	stack := func(c *Coupon) { c.Template.Stackable = true }
	r = mustQuote(t, &Input{Lines: cart, Wallet: []Coupon{coupon("a", ThresholdOff, cash(500, 0), stack), coupon("b", ThresholdOff, cash(1000, 0), stack)},
		CouponCodes: []string{"CODE_a", "CODE_b"}})
	if r.Totals.CouponDiscount != 1500 {
		t.Fatalf("stackable coupons = %d, want 1500", r.Totals.CouponDiscount)
	}
	// Different groups combine.
	r = mustQuote(t, &Input{Lines: cart, Wallet: []Coupon{coupon("store", ThresholdOff, cash(500, 0)),
		coupon("plat", ThresholdOff, cash(1000, 0), func(c *Coupon) { c.Template.StackGroup = "platform" })},
		CouponCodes: []string{"CODE_store", "CODE_plat"}})
	if r.Totals.CouponDiscount != 1500 {
		t.Fatalf("coupons of two groups = %d, want 1500", r.Totals.CouponDiscount)
	}
}

func TestPercentCouponIsCappedAtItsMaximum(t *testing.T) {
	c := coupon("p", Percent, func(c *Coupon) { c.Template.Rate, c.Template.MaxDiscount = 8000, 1500 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 10000, 1)}, Wallet: []Coupon{c}, CouponCodes: []string{"CODE_p"}})
	if r.Totals.CouponDiscount != 1500 {
		t.Fatalf("8折 max 15 on 100 = %d, want 1500", r.Totals.CouponDiscount)
	}
	if d := cmp.Diff([]Cap{{Source: SourceCoupon, ID: "p", What: "max_discount", Requested: 2000, Allowed: 1500}}, r.Caps); d != "" {
		t.Fatalf("caps (-want +got):\n%s", d)
	}
}

func TestCouponThresholdSeesAmountsAfterOrderActivities(t *testing.T) {
	r := mustQuote(t, &Input{Lines: []Line{line("A", 10500, 1)}, Activities: []Activity{act("mj", ThresholdOff, tiers(10000, 1000))},
		Wallet: []Coupon{coupon("c", ThresholdOff, cash(500, 10000))}, CouponCodes: []string{"CODE_c"}})
	wantReason(t, r, "c", NotApplied{Source: SourceCoupon, Reason: ReasonThresholdNotMet, Shortfall: 500})
}

func TestShippingCouponCoversTheFeeUpToItsValue(t *testing.T) {
	c := coupon("ship", Shipping, func(c *Coupon) { c.Template.MaxDiscount = 600 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 5000, 1)}, Wallet: []Coupon{c}, CouponCodes: []string{"CODE_ship"}})
	if r.Totals.Shipping != 1000 || r.Totals.ShippingDiscount != 600 || r.Totals.Payable != 5400 {
		t.Fatalf("totals = %+v, want fee 1000, 600 covered, payable 5400", r.Totals)
	}
	// A shipping coupon is useless when free shipping already applies.
	r = mustQuote(t, &Input{Lines: []Line{line("A", 5000, 1)}, Wallet: []Coupon{c}, CouponCodes: []string{"CODE_ship"},
		Activities: []Activity{act("free", FreeShipping)}})
	if r.Totals.ShippingDiscount != 1000 || applied(r, "free") == nil || applied(r, "ship") != nil {
		t.Fatalf("applied = %+v, want free shipping and the coupon kept", r.Applied)
	}
	wantReason(t, r, "ship", NotApplied{Source: SourceCoupon, Reason: ReasonNotCombinable})
}

func TestBestCouponsPicksTheLargestCombination(t *testing.T) {
	wallet := []Coupon{
		coupon("m100_20", ThresholdOff, cash(2000, 10000)),
		coupon("z9", Percent, func(c *Coupon) { c.Template.Rate = 8500 }), // 15 % of 15000 = 2250
		coupon("m200_30", ThresholdOff, cash(3000, 20000)),
		coupon("ship5", Shipping, func(c *Coupon) { c.Template.MaxDiscount = 500 }),
	}
	r := mustQuote(t, &Input{Lines: []Line{line("A", 15000, 1)}, Wallet: wallet, BestCoupons: true})
	if applied(r, "z9") == nil || applied(r, "ship5") == nil || r.Totals.CouponDiscount != 2250 || r.Totals.ShippingDiscount != 500 {
		t.Fatalf("applied %+v totals %+v; want z9 (2250) + ship5 (500)", r.Applied, r.Totals)
	}
	wantReason(t, r, "m100_20", NotApplied{Source: SourceCoupon, Reason: ReasonStacking, Winner: "z9"})
	wantReason(t, r, "m200_30", NotApplied{Source: SourceCoupon, Reason: ReasonThresholdNotMet, Shortfall: 5000})
}

func TestBestCouponTiesGoToTheCouponExpiringFirstThenLowerID(t *testing.T) {
	late := coupon("a_late", ThresholdOff, cash(1000, 0), func(c *Coupon) { c.ValidUntil = now.Add(48 * time.Hour) })
	soon := coupon("z_soon", ThresholdOff, cash(1000, 0), func(c *Coupon) { c.ValidUntil = now.Add(time.Hour) })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 5000, 1)}, Wallet: []Coupon{late, soon}, BestCoupons: true})
	if applied(r, "z_soon") == nil {
		t.Fatalf("applied = %+v, want the coupon expiring first", r.Applied)
	}
	b := coupon("b", ThresholdOff, cash(1000, 0))
	a := coupon("a", ThresholdOff, cash(1000, 0))
	r = mustQuote(t, &Input{Lines: []Line{line("A", 5000, 1)}, Wallet: []Coupon{b, a}, BestCoupons: true})
	if applied(r, "a") == nil {
		t.Fatalf("applied = %+v, want the lower id on equal expiry", r.Applied)
	}
}

func TestBestCouponsCountsTheFreeShippingAGoodsCouponWouldLose(t *testing.T) {
	free := act("free99", FreeShipping, func(a *Activity) { a.Threshold = 10000 })
	cart := []Line{line("A", 10500, 1)}
	// ¥10 off drops goods to ¥95: shipping ¥10 is charged again. Same total:
	// keep the coupon for later.
	r := mustQuote(t, &Input{Lines: cart, Activities: []Activity{free}, Wallet: []Coupon{coupon("c10", ThresholdOff, cash(1000, 0))}, BestCoupons: true})
	if applied(r, "c10") != nil || r.Totals.ShippingDiscount != 1000 || r.Totals.Payable != 10500 {
		t.Fatalf("applied %+v totals %+v; want free shipping and no coupon", r.Applied, r.Totals)
	}
	// ¥11 off beats ¥10 of shipping.
	r = mustQuote(t, &Input{Lines: cart, Activities: []Activity{free}, Wallet: []Coupon{coupon("c11", ThresholdOff, cash(1100, 0))}, BestCoupons: true})
	if applied(r, "c11") == nil || r.Totals.ShippingDiscount != 0 || r.Totals.Payable != 10500-1100+1000 {
		t.Fatalf("applied %+v totals %+v; want the coupon and shipping charged", r.Applied, r.Totals)
	}
	wantReason(t, r, "free99", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, Shortfall: 600})
}

func TestBestCouponSearchIsExactWhereGreedyFails(t *testing.T) {
	// Greedy (biggest first) takes the ¥30 coupon on the whole cart and
	// then nothing fits; the best is a stackable pair worth ¥35.
	stack := func(c *Coupon) { c.Template.Stackable = true; c.Template.StackGroup = "s" }
	wallet := []Coupon{
		coupon("big", ThresholdOff, cash(3000, 0), func(c *Coupon) { c.Template.StackGroup = "s" }),
		coupon("p1", ThresholdOff, cash(2000, 0), stack),
		coupon("p2", ThresholdOff, cash(1500, 0), stack),
	}
	r := mustQuote(t, &Input{Lines: []Line{line("A", 10000, 1)}, Wallet: wallet, BestCoupons: true})
	if r.Totals.CouponDiscount != 3500 {
		t.Fatalf("coupon discount = %d (%+v), want 3500 from p1 + p2", r.Totals.CouponDiscount, r.Applied)
	}
}

func TestBestCouponSearchTakesAllTwentyStackableCoupons(t *testing.T) {
	// 2^20 subsets: only pruning makes this quick (BenchmarkQuote times it).
	var wallet []Coupon
	for i := 0; i < 20; i++ {
		wallet = append(wallet, coupon(string(rune('a'+i)), ThresholdOff, cash(money.Money(100+i), 0), func(c *Coupon) { c.Template.Stackable = true }))
	}
	r := mustQuote(t, &Input{Lines: []Line{line("A", 100000, 1)}, Wallet: wallet, BestCoupons: true})
	if len(r.Applied) != 20 {
		t.Fatalf("applied %d coupons, want all 20", len(r.Applied))
	}
}

func TestPointsFollowValueMultipleShareAndBalance(t *testing.T) {
	tests := []struct {
		name            string
		set             Settings
		points, balance int64
		used            int64
		disc            money.Money
		caps            []string
	}{
		{"plain", Settings{}, 1200, 5000, 1200, 1200, nil},
		{"multiple of 100", Settings{}, 1250, 5000, 1200, 1200, []string{"points_multiple"}},
		{"balance", Settings{}, 3000, 1000, 1000, 1000, []string{"points_balance"}},
		{"half of goods", Settings{}, 9000, 9000, 5000, 5000, []string{"points_share"}},
		{"shop settings", Settings{PointsValueFen: 2, PointsMultiple: 10, PointsMaxShare: 2000}, 1500, 9000, 1000, 2000, []string{"points_share"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Settings: tt.set, Lines: []Line{line("A", 7000, 1), line("B", 3000, 1)}, Points: tt.points, PointsBalance: tt.balance})
			if r.Totals.PointsUsed != tt.used || r.Totals.PointsDiscount != tt.disc {
				t.Fatalf("points used %d disc %d, want %d and %d", r.Totals.PointsUsed, r.Totals.PointsDiscount, tt.used, tt.disc)
			}
			var caps []string
			for _, c := range r.Caps {
				caps = append(caps, c.What)
			}
			if !cmp.Equal(caps, tt.caps) {
				t.Fatalf("caps = %v, want %v", caps, tt.caps)
			}
		})
	}
	// Points are apportioned over the lines and never pay shipping.
	r := mustQuote(t, &Input{Lines: []Line{line("A", 7000, 1), line("B", 3000, 1)}, Points: 5000, PointsBalance: 5000})
	if r.Lines[0].PointsDiscount != 3500 || r.Lines[1].PointsDiscount != 1500 || r.Totals.Payable != 5000+1000 {
		t.Fatalf("lines %+v totals %+v", r.Lines, r.Totals)
	}
}

func TestFreeShippingThresholdUsesGoodsAfterCouponsBeforePoints(t *testing.T) {
	free := act("free", FreeShipping, func(a *Activity) { a.Threshold = 9900 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 9900, 1)}, Activities: []Activity{free}, Points: 4900, PointsBalance: 9900})
	if r.Totals.ShippingDiscount != 1000 || r.Totals.PointsDiscount != 4900 {
		t.Fatalf("totals = %+v, want shipping waived though points bring goods under 99", r.Totals)
	}
	r = mustQuote(t, &Input{Lines: []Line{line("A", 9800, 1)}, Activities: []Activity{free}})
	if r.Totals.ShippingDiscount != 0 {
		t.Fatalf("totals = %+v, want shipping charged", r.Totals)
	}
	wantReason(t, r, "free", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, Shortfall: 100})
	if d := cmp.Diff([]Hint{{ActivityID: "free", Kind: FreeShipping, AddAmount: 100, SaveMore: 1000, FreeShipping: true}}, r.Hints); d != "" {
		t.Fatalf("hints (-want +got):\n%s", d)
	}
	r = mustQuote(t, &Input{Settings: Settings{ShippingFee: ptr[int64](0)}, Lines: []Line{line("A", 9800, 1)}})
	if r.Totals.Shipping != 0 || r.Totals.Payable != 9800 {
		t.Fatalf("a shop without shipping fee: totals %+v", r.Totals)
	}
}

func TestMarginGuardFlagsLinesUnderTheFloor(t *testing.T) {
	l := line("A", 10000, 2)
	l.Cost = 8000
	mj := act("mj", ThresholdOff, tiers(0, 6000)) // pays 14000 for 2: 7000 a unit
	tests := []struct {
		name    string
		set     Settings
		flagged bool
		blocked bool
	}{
		{"default floor is cost", Settings{}, true, false},
		{"block mode blocks", Settings{MarginMode: MarginBlock}, true, true},
		{"floor at 90 % still under", Settings{MarginFloor: 9000}, true, false},
		{"floor at 85 % clears", Settings{MarginFloor: 8750}, false, false},
		{"off", Settings{MarginMode: MarginOff}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Settings: tt.set, Lines: []Line{l}, Activities: []Activity{mj}})
			if (len(r.Margin) > 0) != tt.flagged || r.Blocked != tt.blocked {
				t.Fatalf("margin %+v blocked %v, want flagged %v blocked %v", r.Margin, r.Blocked, tt.flagged, tt.blocked)
			}
			if tt.flagged && r.Margin[0].UnitPayable != 7000 {
				t.Fatalf("unit payable = %d, want 7000", r.Margin[0].UnitPayable)
			}
		})
	}
}
