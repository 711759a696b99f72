package pricing

import (
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
	"github.com/google/go-cmp/cmp"
)

func TestThresholdOffTakesTheHighestTierMetAndHintsTheNext(t *testing.T) {
	a := act("mj", ThresholdOff, tiers(10000, 1000, 20000, 3000))
	tests := []struct {
		cart     money.Money
		off      money.Money
		hint     *Hint
		notApply *NotApplied
	}{
		{25000, 3000, nil, nil},
		{20000, 3000, nil, nil},
		{15000, 1000, &Hint{ActivityID: "mj", Kind: ThresholdOff, AddAmount: 5000, SaveMore: 2000}, nil},
		{9000, 0, &Hint{ActivityID: "mj", Kind: ThresholdOff, AddAmount: 1000, SaveMore: 1000},
			&NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, Shortfall: 1000}},
	}
	for _, tt := range tests {
		r := mustQuote(t, &Input{Lines: []Line{line("A", tt.cart, 1)}, Activities: []Activity{a}})
		if r.Totals.OrderDiscount != tt.off {
			t.Errorf("cart %d: off = %d, want %d", tt.cart, r.Totals.OrderDiscount, tt.off)
		}
		var wantHints []Hint
		if tt.hint != nil {
			wantHints = []Hint{*tt.hint}
		}
		if d := cmp.Diff(wantHints, r.Hints, cmpEmpty); d != "" {
			t.Errorf("cart %d: hints (-want +got):\n%s", tt.cart, d)
		}
		if tt.notApply != nil {
			wantReason(t, r, "mj", *tt.notApply)
		}
	}
}

var cmpEmpty = cmp.FilterValues(func(a, b []Hint) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestThresholdOffRepeatStopsAtItsCap(t *testing.T) {
	a := act("every", ThresholdOff, tiers(10000, 1000), func(a *Activity) { a.Repeat, a.MaxOff = true, 2500 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 35000, 1)}, Activities: []Activity{a}})
	if r.Totals.OrderDiscount != 2500 {
		t.Fatalf("每满100减10 cap 25 on 350 = %d, want 2500", r.Totals.OrderDiscount)
	}
	if d := cmp.Diff([]Cap{{Source: SourceActivity, ID: "every", What: "max_off", Requested: 3000, Allowed: 2500}}, r.Caps); d != "" {
		t.Fatalf("caps (-want +got):\n%s", d)
	}
	r = mustQuote(t, &Input{Lines: []Line{line("A", 15000, 1)}, Activities: []Activity{a}})
	if r.Totals.OrderDiscount != 1000 || len(r.Hints) != 1 || r.Hints[0].AddAmount != 5000 || r.Hints[0].SaveMore != 1000 {
		t.Fatalf("每满100减10 on 150: off %d hints %+v, want 1000 and a hint add 5000 save 1000", r.Totals.OrderDiscount, r.Hints)
	}
}

func TestDiscountLargerThanEligibleAmountIsCappedAndReported(t *testing.T) {
	r := mustQuote(t, &Input{Lines: []Line{line("A", 3000, 1)}, Activities: []Activity{act("cash", ThresholdOff, tiers(0, 5000))}})
	if r.Lines[0].Payable != 0 || r.Totals.OrderDiscount != 3000 {
		t.Fatalf("line payable %d, off %d; want 0 and 3000", r.Lines[0].Payable, r.Totals.OrderDiscount)
	}
	if d := cmp.Diff([]Cap{{Source: SourceActivity, ID: "cash", What: "eligible_amount", Requested: 5000, Allowed: 3000}}, r.Caps); d != "" {
		t.Fatalf("caps (-want +got):\n%s", d)
	}
}

func TestThresholdPercentRoundsThePayableHalfUp(t *testing.T) {
	a := act("zhe", ThresholdPercent, func(a *Activity) { a.Tiers = []Tier{{Threshold: 20000, Rate: 9000}} })
	// 333.33 × 0.9 = 299.997 → 300.00 payable, 33.33 off.
	r := mustQuote(t, &Input{Lines: []Line{line("A", 33333, 1)}, Activities: []Activity{a}})
	if r.Totals.OrderDiscount != 3333 {
		t.Fatalf("9折 on 33333 = %d off, want 3333", r.Totals.OrderDiscount)
	}
}

func TestThresholdPercentByItemCount(t *testing.T) {
	a := act("n3", ThresholdPercent, func(a *Activity) {
		a.ByItems = true
		a.Tiers = []Tier{{MinItems: 3, Rate: 9000}, {MinItems: 5, Rate: 8000}}
	})
	r := mustQuote(t, &Input{Lines: []Line{line("A", 1000, 2), line("B", 3000, 1)}, Activities: []Activity{a}})
	if r.Totals.OrderDiscount != 500 {
		t.Fatalf("3 items 9折 on 5000 = %d, want 500", r.Totals.OrderDiscount)
	}
	if len(r.Hints) != 1 || r.Hints[0].AddItems != 2 || r.Hints[0].SaveMore != 500 {
		t.Fatalf("hints = %+v, want add 2 items save 500 more", r.Hints)
	}
	r = mustQuote(t, &Input{Lines: []Line{line("A", 1000, 2)}, Activities: []Activity{a}})
	wantReason(t, r, "n3", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, ShortfallItems: 1})
}

func TestNthItemDiscountsEveryNthUnitOfEachSKU(t *testing.T) {
	half := act("half", NthItem, func(a *Activity) { a.N, a.Rate = 2, 5000 })
	tests := []struct {
		name  string
		lines []Line
		acts  []Activity
		want  []money.Money
	}{
		// 9999 × 0.5 = 4999.5 → pays 5000, 4999 off.
		{"第二件半价 rounds the unit half up", []Line{line("A", 9999, 2)}, nil, []money.Money{4999}},
		{"three units: one discounted", []Line{line("A", 9999, 3)}, nil, []money.Money{4999}},
		{"four units: two", []Line{line("A", 10000, 4)}, nil, []money.Money{10000}},
		{"per SKU, not across SKUs", []Line{line("A", 10000, 1), line("B", 10000, 1)}, nil, []money.Money{0, 0}},
		{"the cheaper unit is the second", []Line{line("A", 10000, 2)},
			[]Activity{act("lt", LimitedTime, func(a *Activity) { a.Price = 8000; a.PerCustomerQtyLimit = 1 })},
			[]money.Money{4000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Lines: tt.lines, Activities: append(tt.acts, half)})
			if d := cmp.Diff(tt.want, amounts(r, func(l LineResult) money.Money { return l.OrderDiscount })); d != "" {
				t.Fatalf("order discounts (-want +got):\n%s", d)
			}
		})
	}
}

func TestBuyXGetYMakesTheCheapestOfEachGroupFree(t *testing.T) {
	b2g1 := act("b2g1", BuyXGetY, func(a *Activity) { a.X, a.Y = 2, 1 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 3000, 1), line("B", 2000, 1), line("C", 1000, 1)}, Activities: []Activity{b2g1}})
	// C (¥10) is free; the ¥10 is apportioned 3000:2000:1000 → 500, 333.33, 166.67 → 500, 333, 167.
	if d := cmp.Diff([]money.Money{500, 333, 167}, amounts(r, func(l LineResult) money.Money { return l.OrderDiscount })); d != "" {
		t.Fatalf("order discounts (-want +got):\n%s", d)
	}
	// Six units ¥60,50,40,30,20,10: groups (60,50,40) (30,20,10) → 40 and 10 free.
	r = mustQuote(t, &Input{Lines: []Line{line("A", 6000, 1), line("B", 5000, 1), line("C", 4000, 1), line("D", 3000, 1), line("E", 2000, 1), line("F", 1000, 1)}, Activities: []Activity{b2g1}})
	if r.Totals.OrderDiscount != 5000 {
		t.Fatalf("买2送1 on six units = %d, want 5000", r.Totals.OrderDiscount)
	}
	// At a rate: the Y unit at 50 %.
	half := act("b1half", BuyXGetY, func(a *Activity) { a.X, a.Y, a.Rate = 1, 1, 5000 })
	r = mustQuote(t, &Input{Lines: []Line{line("A", 3001, 2)}, Activities: []Activity{half}})
	if r.Totals.OrderDiscount != 1500 { // 3001 × 0.5 = 1500.5 → pays 1501
		t.Fatalf("买1第2件半价 on 2 × 3001 = %d, want 1500", r.Totals.OrderDiscount)
	}
	r = mustQuote(t, &Input{Lines: []Line{line("A", 3000, 2)}, Activities: []Activity{b2g1}})
	wantReason(t, r, "b2g1", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, ShortfallItems: 1})
}

func TestGiftTierLeavesOutAGiftOutOfStock(t *testing.T) {
	g := act("gift", Gift, func(a *Activity) {
		a.Tiers = []Tier{
			{Threshold: 10000, Gifts: []GiftItem{{SKUID: "mug", Quantity: 1}}},
			{Threshold: 20000, Gifts: []GiftItem{{SKUID: "mug", Quantity: 1}, {SKUID: "bag", Quantity: 1}}},
		}
	})
	r := mustQuote(t, &Input{Lines: []Line{line("A", 25000, 1)}, Activities: []Activity{g}, GiftStock: map[string]int64{"mug": 5}})
	if len(r.Lines) != 2 || !r.Lines[1].Gift || r.Lines[1].SKUID != "mug" || r.Lines[1].GiftActivityID != "gift" || r.Lines[1].Payable != 0 {
		t.Fatalf("lines = %+v, want A then a free mug from gift", r.Lines)
	}
	wantReason(t, r, "gift", NotApplied{Source: SourceActivity, Reason: ReasonOutOfStock, SKUID: "bag"})
	if a := applied(r, "gift"); a == nil || !cmp.Equal(a.Gifts, []GiftItem{{SKUID: "mug", Quantity: 1}}) {
		t.Fatalf("applied gift = %+v, want the mug to hold", a)
	}
	r = mustQuote(t, &Input{Lines: []Line{line("A", 15000, 1)}, Activities: []Activity{g}})
	if applied(r, "gift") != nil || len(r.Lines) != 1 {
		t.Fatalf("no stock at all: gift applied %+v", r.Applied)
	}
	wantReason(t, r, "gift", NotApplied{Source: SourceActivity, Reason: ReasonOutOfStock, SKUID: "mug"})
}

func TestOrderActivitiesCascadeInPriorityOrderOnCurrentAmounts(t *testing.T) {
	first := act("first", ThresholdOff, tiers(20000, 5000), func(a *Activity) { a.Priority = 10 })
	second := act("second", ThresholdOff, tiers(20000, 2000), func(a *Activity) { a.Priority = 5 })
	r := mustQuote(t, &Input{Lines: []Line{line("A", 22000, 1)}, Activities: []Activity{second, first}})
	if r.Totals.OrderDiscount != 5000 {
		t.Fatalf("off = %d, want only the first (5000)", r.Totals.OrderDiscount)
	}
	wantReason(t, r, "second", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, Shortfall: 3000})
	// And a percent after a threshold-off sees the lowered amount.
	pct := act("pct", ThresholdPercent, func(a *Activity) { a.Tiers = []Tier{{Threshold: 0, Rate: 9000}} })
	r = mustQuote(t, &Input{Lines: []Line{line("A", 22000, 1)}, Activities: []Activity{first, pct}})
	if r.Totals.OrderDiscount != 5000+1700 {
		t.Fatalf("off = %d, want 5000 then 10%% of 17000", r.Totals.OrderDiscount)
	}
}

func TestExclusiveActivityKeepsTheWayWithTheLargerDiscount(t *testing.T) {
	excl := func(off money.Money) Activity {
		return act("excl", ThresholdOff, tiers(10000, off), func(a *Activity) { a.Exclusive = true })
	}
	s1 := act("s1", ThresholdOff, tiers(10000, 1500))
	s2 := act("s2", ThresholdPercent, func(a *Activity) { a.Tiers = []Tier{{Threshold: 0, Rate: 9500}} })
	cart := []Line{line("A", 20000, 1)}
	// stacked: 1500 + 5% of 18500 = 925 → 2425.
	tests := []struct {
		name   string
		off    money.Money
		winner string
		total  money.Money
	}{
		{"stacked larger", 2000, "stacked", 2425},
		{"exclusive larger", 3000, "excl", 3000},
		{"tie goes to the exclusive", 2425, "excl", 2425},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Lines: cart, Activities: []Activity{excl(tt.off), s1, s2}})
			if r.Totals.OrderDiscount != tt.total {
				t.Fatalf("order discount = %d, want %d", r.Totals.OrderDiscount, tt.total)
			}
			if tt.winner == "excl" {
				wantReason(t, r, "s1", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "excl"})
				wantReason(t, r, "s2", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "excl"})
			} else {
				wantReason(t, r, "excl", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "s1"})
			}
		})
	}
}

func TestSeveralExclusivesEachFormTheirOwnWay(t *testing.T) {
	e1 := act("e1", ThresholdOff, tiers(10000, 3000), func(a *Activity) { a.Exclusive, a.Priority = true, 1 })
	e2 := act("e2", ThresholdOff, tiers(10000, 3000), func(a *Activity) { a.Exclusive, a.Priority = true, 2 })
	e3 := act("e3", ThresholdOff, tiers(50000, 9000), func(a *Activity) { a.Exclusive = true })
	s := act("s", ThresholdOff, tiers(10000, 1000))
	r := mustQuote(t, &Input{Lines: []Line{line("A", 20000, 1)}, Activities: []Activity{e1, e2, e3, s}})
	if applied(r, "e2") == nil || r.Totals.OrderDiscount != 3000 {
		t.Fatalf("applied = %+v, want e2 alone (ties: higher priority)", r.Applied)
	}
	wantReason(t, r, "e1", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "e2"})
	wantReason(t, r, "e3", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, Shortfall: 30000})
	wantReason(t, r, "s", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "e2"})
}

func TestEligibilityReasons(t *testing.T) {
	mj := func(mods ...func(*Activity)) Activity {
		return act("x", ThresholdOff, append([]func(*Activity){tiers(100, 10)}, mods...)...)
	}
	tests := []struct {
		name  string
		a     Activity
		cust  Customer
		usage map[string]Usage
		want  NotApplied
	}{
		{"not started", mj(func(a *Activity) { a.StartsAt = now.Add(time.Second) }), Customer{}, nil, NotApplied{Reason: ReasonNotStarted}},
		{"ended at EndsAt (half-open)", mj(func(a *Activity) { a.EndsAt = now }), Customer{}, nil, NotApplied{Reason: ReasonEnded}},
		{"starts exactly now applies", mj(func(a *Activity) { a.StartsAt = now; a.Tiers[0].Threshold = 1e9 }), Customer{}, nil, NotApplied{Reason: ReasonThresholdNotMet, Shortfall: 1e9 - 1000}},
		{"status ended", mj(func(a *Activity) { a.Status = StatusEnded }), Customer{}, nil, NotApplied{Reason: ReasonEnded}},
		{"paused", mj(func(a *Activity) { a.Status = StatusPaused }), Customer{}, nil, NotApplied{Reason: ReasonPaused}},
		{"draft", mj(func(a *Activity) { a.Status = StatusDraft }), Customer{}, nil, NotApplied{Reason: ReasonDraft}},
		{"new customers only, anonymous", mj(func(a *Activity) { a.Audience.NewCustomersOnly = true }), Customer{IsNew: true}, nil, NotApplied{Reason: ReasonAudience}},
		{"new customers only, returning", mj(func(a *Activity) { a.Audience.NewCustomersOnly = true }), Customer{ID: "c"}, nil, NotApplied{Reason: ReasonAudience}},
		{"tier", mj(func(a *Activity) { a.Audience.Tiers = []string{"gold"} }), Customer{ID: "c", Tier: "silver"}, nil, NotApplied{Reason: ReasonAudience}},
		{"segment", mj(func(a *Activity) { a.Audience.Segments = []string{"vip"} }), Customer{ID: "c", Segments: []string{"lapsed"}}, nil, NotApplied{Reason: ReasonAudience}},
		{"scope", mj(func(a *Activity) { a.Scope = Scope{CategoryIDs: []string{"shoes"}} }), Customer{}, nil, NotApplied{Reason: ReasonScope}},
		{"scope exclusion", mj(func(a *Activity) { a.Scope.ExcludeCategoryIDs = []string{"food"} }), Customer{}, nil, NotApplied{Reason: ReasonScope}},
		{"no uses left", mj(), Customer{}, map[string]Usage{"x": {Uses: ptr[int64](0)}}, NotApplied{Reason: ReasonUsageLimit}},
		{"no uses left for the customer", mj(), Customer{}, map[string]Usage{"x": {CustomerUses: ptr[int64](0)}}, NotApplied{Reason: ReasonUsageLimit}},
		{"budget smaller than the discount", mj(), Customer{}, map[string]Usage{"x": {Budget: ptr[int64](9)}}, NotApplied{Reason: ReasonBudgetExhausted}},
		{"daily budget smaller", mj(), Customer{}, map[string]Usage{"x": {Budget: ptr[int64](100), DailyBudget: ptr[int64](9)}}, NotApplied{Reason: ReasonBudgetExhausted}},
		{"invalid configuration", mj(func(a *Activity) { a.Tiers = nil }), Customer{}, nil, NotApplied{Reason: ReasonInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Customer: tt.cust, Lines: []Line{line("A", 1000, 1, "food")}, Activities: []Activity{tt.a}, Usage: tt.usage})
			tt.want.Source = SourceActivity
			wantReason(t, r, "x", tt.want)
			if r.Totals.OrderDiscount != 0 {
				t.Fatalf("order discount = %d, want 0", r.Totals.OrderDiscount)
			}
		})
	}
	// Budget exactly equal to the discount applies.
	r := mustQuote(t, &Input{Lines: []Line{line("A", 1000, 1)}, Activities: []Activity{mj()}, Usage: map[string]Usage{"x": {Budget: ptr[int64](10)}}})
	if r.Totals.OrderDiscount != 10 {
		t.Fatalf("budget = discount: off %d, want 10", r.Totals.OrderDiscount)
	}
}
