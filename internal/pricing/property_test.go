package pricing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
	"github.com/google/go-cmp/cmp"
)

// randomInput builds a cart with promotions of every kind, some broken on
// purpose (bad status, windows, scopes, limits), from r.
func randomInput(r *rand.Rand) *Input {
	skus := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	cats := []string{"c1", "c2", "c3"}
	price := func() money.Money {
		switch r.IntN(4) {
		case 0:
			return r.Int64N(100)
		case 1:
			return r.Int64N(100_00)
		default:
			return r.Int64N(1000_00)
		}
	}
	in := &Input{Now: now, Customer: Customer{ID: "cus_1", Tier: []string{"", "gold", "silver"}[r.IntN(3)], IsNew: r.IntN(2) == 0, Segments: []string{"vip"}}}
	if r.IntN(4) == 0 {
		in.Customer = Customer{}
	}
	nl := 1 + r.IntN(5)
	for i := 0; i < nl; i++ {
		sku := skus[r.IntN(len(skus))]
		var l Line
		found := false
		for _, x := range in.Lines {
			if x.SKUID == sku {
				l, found = x, true
			}
		}
		if !found {
			l = Line{SKUID: sku, ProductID: "p" + sku, CategoryIDs: []string{cats[r.IntN(3)]}, ListPrice: price(), Cost: r.Int64N(50_00)}
		}
		l.Quantity = 1 + r.Int64N(5)
		l.FlashUnits, l.FlashPrice, l.FlashActivityID = 0, 0, ""
		if r.IntN(5) == 0 {
			l.FlashUnits = r.Int64N(l.Quantity + 1)
			l.FlashPrice, l.FlashActivityID = l.ListPrice/2, "flash_"+sku
			for _, x := range in.Lines {
				if x.SKUID == sku && x.FlashUnits > 0 {
					l.FlashPrice, l.FlashActivityID = x.FlashPrice, x.FlashActivityID
				}
			}
		}
		in.Lines = append(in.Lines, l)
	}
	scope := func() Scope {
		switch r.IntN(5) {
		case 0:
			return Scope{SKUIDs: []string{skus[r.IntN(6)], skus[r.IntN(6)]}}
		case 1:
			return Scope{CategoryIDs: []string{cats[r.IntN(3)]}}
		case 2:
			return Scope{All: true, ExcludeSKUIDs: []string{skus[r.IntN(6)]}}
		default:
			return Scope{All: true}
		}
	}
	rate := func() money.Rate { return 1 + r.Int64N(9999) }
	ascending := func(n int) []money.Money {
		out := make([]money.Money, n)
		var v money.Money
		for i := range out {
			v += 1 + price()
			out[i] = v
		}
		return out
	}
	na := r.IntN(10)
	kinds := []Kind{LimitedTime, MemberPrice, QuantityLadder, ThresholdOff, ThresholdPercent, NthItem, BuyXGetY, Gift, FreeShipping}
	for i := 0; i < na; i++ {
		a := Activity{ID: fmt.Sprintf("act_%02d", i), Kind: kinds[r.IntN(len(kinds))], Status: StatusActive, Scope: scope(), Priority: r.IntN(3), Exclusive: r.IntN(6) == 0}
		switch r.IntN(12) {
		case 0:
			a.Status = StatusPaused
		case 1:
			a.EndsAt = now.Add(-time.Hour)
		case 2:
			a.Audience.NewCustomersOnly = true
		case 3:
			in.Usage = setUsage(in.Usage, a.ID, Usage{Budget: ptr(r.Int64N(5000))})
		case 4:
			in.Usage = setUsage(in.Usage, a.ID, Usage{Uses: ptr(r.Int64N(3))})
		}
		switch a.Kind {
		case LimitedTime:
			if r.IntN(2) == 0 {
				a.Rate = rate()
			} else {
				a.Price = 1 + price()
			}
			a.PerCustomerQtyLimit = r.Int64N(4)
		case MemberPrice:
			a.TierRates = []TierRate{{Tier: "gold", Rate: rate()}, {Tier: "silver", Rate: rate()}}
		case QuantityLadder:
			a.Ladder = []LadderStep{{MinQty: 2, UnitPrice: price()}, {MinQty: 4, UnitPrice: price()}}
		case ThresholdOff:
			if r.IntN(3) == 0 {
				a.Repeat = true
				a.Tiers = []Tier{{Threshold: 1 + price(), Off: 1 + price()/5}}
				a.MaxOff = r.Int64N(3) * price()
			} else {
				th := ascending(1 + r.IntN(3))
				var off money.Money
				for _, t := range th {
					off += 1 + r.Int64N(t/2+1)
					a.Tiers = append(a.Tiers, Tier{Threshold: t - th[0]*int64(r.IntN(2)), Off: off})
				}
			}
		case ThresholdPercent:
			if r.IntN(2) == 0 {
				a.ByItems = true
				for k := 0; k < 1+r.IntN(3); k++ {
					a.Tiers = append(a.Tiers, Tier{MinItems: int64(1 + 2*k + r.IntN(2)), Rate: rate()})
				}
			} else {
				for _, t := range ascending(1 + r.IntN(3)) {
					a.Tiers = append(a.Tiers, Tier{Threshold: t, Rate: rate()})
				}
			}
		case NthItem:
			a.N, a.Rate = 2+r.Int64N(2), r.Int64N(10000)
		case BuyXGetY:
			a.X, a.Y, a.Rate = 1+r.Int64N(3), 1+r.Int64N(2), r.Int64N(2)*rate()
		case Gift:
			for _, t := range ascending(1 + r.IntN(2)) {
				a.Tiers = append(a.Tiers, Tier{Threshold: t, Gifts: []GiftItem{{SKUID: "g1", Quantity: 1}, {SKUID: "g2", Quantity: 1 + r.Int64N(2)}}})
			}
		case FreeShipping:
			a.Threshold = price()
		}
		in.Activities = append(in.Activities, a)
	}
	in.GiftStock = map[string]int64{"g1": r.Int64N(3), "g2": r.Int64N(3)}
	nc := r.IntN(6)
	for i := 0; i < nc; i++ {
		c := Coupon{ID: fmt.Sprintf("cp_%02d", i), Code: fmt.Sprintf("C%02d", i), TemplateID: fmt.Sprintf("tpl_%d", r.IntN(4)),
			Status: CouponAvailable, ValidUntil: now.Add(time.Duration(1+r.IntN(3)) * time.Hour)}
		t := CouponTemplate{ID: c.TemplateID, Scope: scope(), Stackable: r.IntN(3) == 0}
		switch r.IntN(3) {
		case 0:
			t.Kind, t.Threshold, t.Off = ThresholdOff, price()*int64(r.IntN(2)), 1+price()/4
		case 1:
			t.Kind, t.Threshold, t.Rate, t.MaxDiscount = Percent, price()*int64(r.IntN(2)), rate(), price()*int64(r.IntN(2))
		default:
			t.Kind, t.Threshold, t.MaxDiscount = Shipping, price()*int64(r.IntN(2)), r.Int64N(2)*r.Int64N(1500)
		}
		if r.IntN(8) == 0 {
			c.Status = CouponUsed
		}
		c.Template = t
		in.Wallet = append(in.Wallet, c)
	}
	if r.IntN(2) == 0 {
		in.BestCoupons = true
	} else {
		for _, c := range in.Wallet {
			if r.IntN(2) == 0 {
				in.CouponCodes = append(in.CouponCodes, c.Code)
			}
		}
		if r.IntN(4) == 0 {
			in.CouponCodes = append(in.CouponCodes, "NOPE")
		}
	}
	in.PointsBalance = r.Int64N(20000)
	in.Points = r.Int64N(20000)
	return in
}

func setUsage(m map[string]Usage, id string, u Usage) map[string]Usage {
	if m == nil {
		m = map[string]Usage{}
	}
	m[id] = u
	return m
}

// discountValue is what best-coupon selection maximises (points aside).
func discountValue(r *Result) money.Money {
	return r.Totals.OrderDiscount + r.Totals.CouponDiscount + r.Totals.ShippingDiscount
}

func TestRandomCartsKeepEveryInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for i := 0; i < 3000; i++ {
		in := randomInput(r)
		res, err := Quote(in)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkInvariants(t, in, res)
		again, _ := Quote(in)
		if d := cmp.Diff(res, again); d != "" {
			t.Fatalf("case %d: the same input priced differently (-first +second):\n%s", i, d)
		}
		if t.Failed() {
			t.Fatalf("case %d failed; input %+v", i, in)
		}
	}
}

func TestBestCouponsNeverLoseToAnyAllowedCombination(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	for i := 0; i < 600; i++ {
		in := randomInput(r)
		in.Points = 0
		in.BestCoupons, in.CouponCodes = true, nil
		best, err := Quote(in)
		if err != nil {
			t.Fatal(err)
		}
		n := len(in.Wallet)
		for mask := 1; mask < 1<<n; mask++ {
			sub := *in
			sub.BestCoupons, sub.CouponCodes = false, nil
			for k := 0; k < n; k++ {
				if mask&(1<<k) != 0 {
					sub.CouponCodes = append(sub.CouponCodes, in.Wallet[k].Code)
				}
			}
			got, err := Quote(&sub)
			if err != nil {
				t.Fatal(err)
			}
			if discountValue(got) > discountValue(best) {
				t.Fatalf("case %d: coupons %v give %d, best search gave %d (%v)", i, sub.CouponCodes, discountValue(got), discountValue(best), best.Applied)
			}
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1111} {
		f.Add(s, s*7)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		in := randomInput(rand.New(rand.NewPCG(a, b)))
		res, err := Quote(in)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, in, res)
	})
}

func TestScopeBitmasksMatchLineByLineMatching(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 500; i++ {
		in := randomInput(r)
		q := &quoter{in: in}
		if err := q.mergeLines(); err != nil {
			t.Fatal(err)
		}
		q.indexIDs()
		for _, a := range in.Activities {
			fast := q.scopeLines(nil, &a.Scope)
			slow := a.Scope.appendLines(nil, q.lines)
			if !cmp.Equal(fast, slow) {
				t.Fatalf("scope %+v: bitmask lines %v, line-by-line %v", a.Scope, fast, slow)
			}
		}
	}
}

func TestExtremeValuesNeverPanic(t *testing.T) {
	max := money.MaxAmount
	in := &Input{
		Now:      now,
		Customer: Customer{ID: "c", Tier: "gold", IsNew: true},
		Settings: Settings{PointsValueFen: max, PointsMultiple: 1, PointsMaxShare: money.Full, MarginFloor: 10 * money.Full, ShippingFee: ptr(max)},
		Lines: []Line{
			{SKUID: "a", ListPrice: max, Cost: max, Quantity: 1},
			{SKUID: "b", ListPrice: 0, Cost: max, Quantity: MaxQuantity, FlashUnits: MaxQuantity},
		},
		Activities: []Activity{
			act("lt", LimitedTime, func(a *Activity) { a.Rate = 1 }),
			act("mp", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "gold", Rate: money.Full}} }),
			act("ld", QuantityLadder, func(a *Activity) { a.Ladder = []LadderStep{{MinQty: 1, UnitPrice: 0}} }),
			act("rep", ThresholdOff, tiers(1, max), func(a *Activity) { a.Repeat = true }),
			act("off", ThresholdOff, tiers(0, max)),
			act("pct", ThresholdPercent, func(a *Activity) { a.Tiers = []Tier{{Threshold: max, Rate: 1}} }),
			act("items", ThresholdPercent, func(a *Activity) { a.ByItems = true; a.Tiers = []Tier{{MinItems: MaxQuantity, Rate: 1}} }),
			act("nth", NthItem, func(a *Activity) { a.N, a.Rate = MaxQuantity, 0 }),
			act("bxgy", BuyXGetY, func(a *Activity) { a.X, a.Y = 1, MaxQuantity-1 }),
			act("gift", Gift, func(a *Activity) {
				a.Tiers = []Tier{{Threshold: max, Gifts: []GiftItem{{SKUID: "g", Quantity: MaxQuantity}}}}
			}),
			act("free", FreeShipping, func(a *Activity) { a.Threshold = max }),
		},
		Wallet: []Coupon{
			coupon("c1", ThresholdOff, cash(max, max)),
			coupon("c2", Percent, func(c *Coupon) { c.Template.Rate = 1; c.Template.MaxDiscount = max }),
			coupon("c3", Shipping, func(c *Coupon) { c.Template.MaxDiscount = max }),
		},
		BestCoupons:   true,
		Points:        MaxPoints,
		PointsBalance: MaxPoints,
		GiftStock:     map[string]int64{"g": math.MaxInt64},
		Usage:         map[string]Usage{"off": {Budget: ptr(max), DailyBudget: ptr(max), Uses: ptr(int64(math.MaxInt64))}},
	}
	for _, a := range in.Activities {
		if errs := Validate(a); errs != nil {
			t.Fatalf("%s does not validate: %v", a.ID, errs)
		}
	}
	for i := range in.Lines {
		l := in.Lines
		l[i].FlashPrice = 0
		r := mustQuote(t, in)
		if r.Totals.Payable < 0 {
			t.Fatalf("negative payable %d", r.Totals.Payable)
		}
	}
	for _, a := range in.Activities {
		if _, err := WorstCase(SKUInfo{SKUID: "a", ListPrice: max, Cost: max}, []Activity{a}, []CouponTemplate{in.Wallet[0].Template, in.Wallet[1].Template}, in.Settings, now); err != nil {
			t.Fatal(err)
		}
	}
}
