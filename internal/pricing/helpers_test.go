package pricing

import (
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

var now = time.Date(2025, 11, 11, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func ptr[T any](v T) *T { return &v }

func line(sku string, price money.Money, qty int64, cats ...string) Line {
	return Line{SKUID: sku, ProductID: "p_" + sku, CategoryIDs: cats, ListPrice: price, Quantity: qty}
}

func act(id string, kind Kind, mods ...func(*Activity)) Activity {
	a := Activity{ID: id, Name: id, Kind: kind, Status: StatusActive, Scope: Scope{All: true}}
	for _, m := range mods {
		m(&a)
	}
	return a
}

func tiers(pairs ...money.Money) func(*Activity) {
	return func(a *Activity) {
		for i := 0; i+1 < len(pairs); i += 2 {
			a.Tiers = append(a.Tiers, Tier{Threshold: pairs[i], Off: pairs[i+1]})
		}
	}
}

func coupon(id string, kind Kind, mods ...func(*Coupon)) Coupon {
	c := Coupon{ID: id, Code: "CODE_" + id, TemplateID: "tpl_" + id, Status: CouponAvailable,
		ValidUntil: now.Add(72 * time.Hour),
		Template:   CouponTemplate{ID: "tpl_" + id, Kind: kind, Scope: Scope{All: true}}}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func mustQuote(t *testing.T, in *Input) *Result {
	t.Helper()
	if in.Now.IsZero() {
		in.Now = now
	}
	r, err := Quote(in)
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	checkInvariants(t, in, r)
	return r
}

// checkInvariants holds for every quote: parts sum to line discounts, lines
// to totals, applied amounts to their parts; nothing negative; payable ≤ list.
func checkInvariants(t testing.TB, in *Input, r *Result) {
	t.Helper()
	var tot Totals
	byID := map[string]money.Money{}
	for i, l := range r.Lines {
		if l.Gift {
			if l.Payable != 0 || l.ListAmount != 0 {
				t.Errorf("gift line %d has amounts: %+v", i, l)
			}
			continue
		}
		var ord, cou, pts money.Money
		for _, p := range l.Parts {
			if p.Amount <= 0 {
				t.Errorf("line %d part %+v is not positive", i, p)
			}
			switch p.Stage {
			case StageOrder:
				ord += p.Amount
			case StageCoupon:
				cou += p.Amount
			case StagePoints:
				pts += p.Amount
			}
			byID[string(p.Stage)+"/"+p.ID] += p.Amount
		}
		if ord != l.OrderDiscount || cou != l.CouponDiscount || pts != l.PointsDiscount {
			t.Errorf("line %d parts %d/%d/%d do not sum to discounts %d/%d/%d", i, ord, cou, pts, l.OrderDiscount, l.CouponDiscount, l.PointsDiscount)
		}
		var segAmt money.Money
		var segQty int64
		for _, s := range l.Segments {
			segAmt += s.UnitPrice * s.Quantity
			segQty += s.Quantity
			if s.UnitPrice < 0 || s.UnitPrice > l.UnitListPrice {
				t.Errorf("line %d segment %+v outside 0..list", i, s)
			}
		}
		if segQty != l.Quantity || l.ListAmount-segAmt != l.ItemDiscount {
			t.Errorf("line %d segments %+v do not match quantity %d / item discount %d", i, l.Segments, l.Quantity, l.ItemDiscount)
		}
		for _, v := range []money.Money{l.ItemDiscount, l.OrderDiscount, l.CouponDiscount, l.PointsDiscount, l.Payable} {
			if v < 0 {
				t.Errorf("line %d has a negative amount: %+v", i, l)
			}
		}
		if l.Payable != l.ListAmount-l.ItemDiscount-l.OrderDiscount-l.CouponDiscount-l.PointsDiscount {
			t.Errorf("line %d payable %d does not add up", i, l.Payable)
		}
		if l.Payable > l.ListAmount {
			t.Errorf("line %d payable %d above list %d", i, l.Payable, l.ListAmount)
		}
		tot.GoodsAmount += l.ListAmount
		tot.ItemDiscount += l.ItemDiscount
		tot.OrderDiscount += l.OrderDiscount
		tot.CouponDiscount += l.CouponDiscount
		tot.PointsDiscount += l.PointsDiscount
		tot.Payable += l.Payable
	}
	T := r.Totals
	tot.Payable += T.Shipping - T.ShippingDiscount
	tot.PointsUsed, tot.Shipping, tot.ShippingDiscount = T.PointsUsed, T.Shipping, T.ShippingDiscount
	if tot != T {
		t.Errorf("line sums %+v != totals %+v", tot, T)
	}
	if T.ShippingDiscount < 0 || T.ShippingDiscount > T.Shipping {
		t.Errorf("shipping discount %d outside 0..%d", T.ShippingDiscount, T.Shipping)
	}
	if T.Payable < 0 || T.Payable > T.GoodsAmount+T.Shipping {
		t.Errorf("payable %d outside 0..list+shipping", T.Payable)
	}
	if T.PointsUsed > in.Points || T.PointsUsed > in.PointsBalance {
		t.Errorf("points used %d beyond request %d / balance %d", T.PointsUsed, in.Points, in.PointsBalance)
	}
	for _, a := range r.Applied {
		if a.Amount < 0 {
			t.Errorf("applied %s has negative amount", a.ID)
		}
		switch {
		case a.Kind == FreeShipping || a.Kind == Shipping || a.Kind == Gift:
		case a.Source == SourceCoupon:
			if got := byID["coupon/"+a.ID]; got != a.Amount {
				t.Errorf("coupon %s parts sum to %d, applied %d", a.ID, got, a.Amount)
			}
		case a.Kind.OrderLevel():
			if got := byID["order/"+a.ID]; got != a.Amount {
				t.Errorf("activity %s parts sum to %d, applied %d", a.ID, got, a.Amount)
			}
		}
	}
}
