package pricing

import (
	"cmp"
	"slices"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// SKUInfo is what the margin guard needs to know about a SKU.
type SKUInfo struct {
	SKUID       string      `json:"sku_id"`
	ProductID   string      `json:"product_id,omitempty"`
	CategoryIDs []string    `json:"category_ids,omitempty"`
	ListPrice   money.Money `json:"list_price"`
	Cost        money.Money `json:"cost"`
}

// WorstStep is one link of the worst-case reason chain.
type WorstStep struct {
	// Stage is "item", "order", "coupon" or "points".
	Stage string `json:"stage"`
	// ID is the activity or coupon template id ("" for points).
	ID     string      `json:"id,omitempty"`
	Kind   Kind        `json:"kind,omitempty"`
	Before money.Money `json:"before"`
	After  money.Money `json:"after"`
}

// WorstCaseResult is the lowest payable unit amount a SKU can reach.
type WorstCaseResult struct {
	SKUID       string      `json:"sku_id"`
	UnitPayable money.Money `json:"unit_payable"`
	// FloorUnit is cost × MarginFloor, half up; Below is UnitPayable < FloorUnit.
	FloorUnit money.Money `json:"floor_unit"`
	Below     bool        `json:"below"`
	Chain     []WorstStep `json:"chain"`
}

// liveAt reports whether a could still apply at or after now: not ended,
// not past its end. Drafts and paused activities count: they may go live.
func liveAt(a *Activity, now time.Time) bool {
	if a.Status == StatusEnded || (!a.EndsAt.IsZero() && !now.Before(a.EndsAt)) {
		return false
	}
	var e errs
	validateActivity(a, &e)
	return len(e) == 0
}

// ceilMulDiv is ⌈a × b / d⌉ for non-negative a, b and positive d.
func ceilMulDiv(a, b, d int64) int64 {
	q, r := money.MulDivFloor(a, b, d)
	if r > 0 {
		q++
	}
	return q
}

// thresholdShare is the most a threshold-off of off at threshold can take
// from one unit worth u: the smallest order that holds the unit and meets
// the threshold is max(threshold, u).
func thresholdShare(u, threshold, off money.Money) money.Money {
	return min(u, ceilMulDiv(u, off, max(threshold, u, 1)))
}

// WorstCase computes the lowest payable unit amount of sku under every
// promotion that could still apply at now, for any customer: the best
// stage-1 price, then every order-level activity it can stack with (or the
// exclusive one that takes more), then the best coupons (one per stack group
// or every stackable one), then the maximum points share. Each order-level
// and coupon rule is taken at its most generous for this unit (a threshold
// met by the smallest order holding it, 第N件 averaged over N units), and
// reductions round up, so the result is a floor the real quotes never go
// under. Gifts and shipping do not lower the goods price and are ignored.
func WorstCase(sku SKUInfo, all []Activity, coupons []CouponTemplate, s Settings, now time.Time) (WorstCaseResult, error) {
	set, err := resolveSettings(s)
	if err != nil {
		return WorstCaseResult{}, err
	}
	res := WorstCaseResult{SKUID: sku.SKUID, FloorUnit: money.MulRate(sku.Cost, set.floor)}
	u := sku.ListPrice
	step := func(stage string, id string, k Kind, after money.Money) {
		res.Chain = append(res.Chain, WorstStep{Stage: stage, ID: id, Kind: k, Before: u, After: after})
		u = after
	}
	inScope := func(sc *Scope) bool { return sc.matches(sku.SKUID, sku.ProductID, sku.CategoryIDs) }

	// Stage 1: the lowest price any item-level activity offers.
	bestPrice, bestAct := u, -1
	var order []int
	for i := range all {
		a := &all[i]
		if !liveAt(a, now) || !inScope(&a.Scope) {
			continue
		}
		if a.Kind.OrderLevel() {
			order = append(order, i)
			continue
		}
		p := money.Money(-1)
		switch a.Kind {
		case LimitedTime:
			p = a.Price
			if p == 0 {
				p = money.MulRate(sku.ListPrice, a.Rate)
			}
		case MemberPrice:
			for _, tr := range a.TierRates {
				if q := money.MulRate(sku.ListPrice, tr.Rate); p < 0 || q < p {
					p = q
				}
			}
		case QuantityLadder:
			for _, st := range a.Ladder {
				if p < 0 || st.UnitPrice < p {
					p = st.UnitPrice
				}
			}
		}
		if p >= 0 && p < bestPrice {
			bestPrice, bestAct = p, i
		}
	}
	if bestAct >= 0 {
		step("item", all[bestAct].ID, all[bestAct].Kind, bestPrice)
	}

	// Stage 2: the stacked way or one exclusive activity, whichever goes lower.
	slices.SortStableFunc(order, func(x, y int) int {
		if c := cmp.Compare(all[y].Priority, all[x].Priority); c != 0 {
			return c
		}
		return cmp.Compare(all[x].ID, all[y].ID)
	})
	reduce := func(a *Activity, u money.Money) money.Money {
		switch a.Kind {
		case ThresholdOff:
			if a.Repeat {
				d := u
				if t := a.Tiers[0]; t.Off < t.Threshold {
					d = ceilMulDiv(u, t.Off, t.Threshold)
				}
				if a.MaxOff > 0 {
					d = min(d, a.MaxOff)
				}
				return d
			}
			var d money.Money
			for _, t := range a.Tiers {
				d = max(d, thresholdShare(u, t.Threshold, t.Off))
			}
			return d
		case ThresholdPercent:
			var d money.Money
			for _, t := range a.Tiers {
				d = max(d, rateDiscount(u, t.Rate))
			}
			return d
		case NthItem:
			return ceilMulDiv(u, money.Full-a.Rate, a.N*money.Full)
		case BuyXGetY:
			return ceilMulDiv(u, a.Y*(money.Full-a.Rate), (a.X+a.Y)*money.Full)
		}
		return 0
	}
	wayResult := func(ids []int) (money.Money, []WorstStep) {
		v := u
		var chain []WorstStep
		for _, i := range ids {
			if d := reduce(&all[i], v); d > 0 {
				chain = append(chain, WorstStep{Stage: "order", ID: all[i].ID, Kind: all[i].Kind, Before: v, After: v - d})
				v -= d
			}
		}
		return v, chain
	}
	var stacked []int
	for _, i := range order {
		if !all[i].Exclusive {
			stacked = append(stacked, i)
		}
	}
	bestU, bestChain := wayResult(stacked)
	for _, i := range order {
		if all[i].Exclusive {
			if v, ch := wayResult([]int{i}); v < bestU {
				bestU, bestChain = v, ch
			}
		}
	}
	res.Chain = append(res.Chain, bestChain...)
	u = bestU

	// Stage 3: per stack group, the best single coupon or all stackable ones.
	var groups []string
	for i := range coupons {
		t := &coupons[i]
		var e errs
		if validateTemplate(t, &e); len(e) > 0 || t.Kind == Shipping || !inScope(&t.Scope) {
			continue
		}
		if g := cmp.Or(t.StackGroup, GroupGoods); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	couponCut := func(t *CouponTemplate, u money.Money) money.Money {
		if t.Kind == Percent {
			return min(rateDiscount(u, t.Rate), capOr(t.MaxDiscount))
		}
		return thresholdShare(u, t.Threshold, t.Off)
	}
	for _, g := range groups {
		var single, singleAt = money.Money(0), -1
		v := u
		var stackChain []WorstStep
		for i := range coupons {
			t := &coupons[i]
			var e errs
			if validateTemplate(t, &e); len(e) > 0 || t.Kind == Shipping || !inScope(&t.Scope) || cmp.Or(t.StackGroup, GroupGoods) != g {
				continue
			}
			if d := couponCut(t, u); d > single {
				single, singleAt = d, i
			}
			if t.Stackable {
				if d := couponCut(t, v); d > 0 {
					stackChain = append(stackChain, WorstStep{Stage: "coupon", ID: t.ID, Kind: t.Kind, Before: v, After: v - d})
					v -= d
				}
			}
		}
		if u-v > single {
			res.Chain = append(res.Chain, stackChain...)
			u = v
		} else if singleAt >= 0 {
			step("coupon", coupons[singleAt].ID, coupons[singleAt].Kind, u-single)
		}
	}

	// Stage 4: the largest points share.
	if d := money.MulRate(u, set.pointShare); d > 0 {
		step("points", "", "", u-d)
	}
	res.UnitPayable = u
	res.Below = sku.Cost > 0 && u < res.FloorUnit
	return res, nil
}

// BelowFloor runs WorstCase for every SKU in candidate's scope, with
// candidate added to (or replacing its old version in) all, and returns
// the ones under the margin floor, in the order of skus. A save that gets
// a non-empty answer needs an admin's acknowledgement.
func BelowFloor(candidate Activity, skus []SKUInfo, all []Activity, coupons []CouponTemplate, s Settings, now time.Time) ([]WorstCaseResult, error) {
	acts := make([]Activity, 0, len(all)+1)
	for _, a := range all {
		if a.ID != candidate.ID {
			acts = append(acts, a)
		}
	}
	acts = append(acts, candidate)
	var out []WorstCaseResult
	for _, sku := range skus {
		if !candidate.Scope.matches(sku.SKUID, sku.ProductID, sku.CategoryIDs) {
			continue
		}
		r, err := WorstCase(sku, acts, coupons, s, now)
		if err != nil {
			return nil, err
		}
		if r.Below {
			out = append(out, r)
		}
	}
	return out, nil
}

// Conflicts returns the ids of existing activities that conflict with
// candidate: same kind, not ended, overlapping schedules, overlapping
// scopes, neither exclusive and the same priority. Without the catalog a
// SKU-listed scope and a category-listed scope might overlap, so they
// count as overlapping (use ConflictsInCatalog for the exact answer);
// exclusions are likewise not trusted to separate two scopes.
func Conflicts(candidate Activity, existing []Activity) []string {
	return conflicts(&candidate, existing, func(a, b *Scope) bool { return scopesMayOverlap(a, b) })
}

// ConflictsInCatalog is Conflicts deciding scope overlap exactly: two
// scopes overlap when some SKU of catalog is in both.
func ConflictsInCatalog(candidate Activity, existing []Activity, catalog []SKUInfo) []string {
	return conflicts(&candidate, existing, func(a, b *Scope) bool {
		for _, s := range catalog {
			if a.matches(s.SKUID, s.ProductID, s.CategoryIDs) && b.matches(s.SKUID, s.ProductID, s.CategoryIDs) {
				return true
			}
		}
		return false
	})
}

func conflicts(c *Activity, existing []Activity, overlap func(a, b *Scope) bool) []string {
	var ids []string
	for i := range existing {
		e := &existing[i]
		if e.ID == c.ID || e.Kind != c.Kind || e.Status == StatusEnded || c.Status == StatusEnded {
			continue
		}
		if c.Exclusive || e.Exclusive || c.Priority != e.Priority {
			continue
		}
		if !windowsOverlap(c.StartsAt, c.EndsAt, e.StartsAt, e.EndsAt) || !overlap(&c.Scope, &e.Scope) {
			continue
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// windowsOverlap: half-open windows, zero bounds unbounded.
func windowsOverlap(s1, e1, s2, e2 time.Time) bool {
	if !e1.IsZero() && !s2.IsZero() && !s2.Before(e1) {
		return false
	}
	if !e2.IsZero() && !s1.IsZero() && !s1.Before(e2) {
		return false
	}
	return true
}

func scopesMayOverlap(a, b *Scope) bool {
	if a.All || b.All {
		return true
	}
	if intersects(a.SKUIDs, b.SKUIDs) || intersects(a.ProductIDs, b.ProductIDs) || intersects(a.CategoryIDs, b.CategoryIDs) {
		return true
	}
	// Different kinds of lists: only the catalog could tell.
	kinds := func(s *Scope) (sku, prod, cat bool) {
		return len(s.SKUIDs) > 0, len(s.ProductIDs) > 0, len(s.CategoryIDs) > 0
	}
	as, ap, ac := kinds(a)
	bs, bp, bc := kinds(b)
	return (as && (bp || bc)) || (ap && (bs || bc)) || (ac && (bs || bp))
}
