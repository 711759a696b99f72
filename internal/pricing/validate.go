package pricing

import (
	"fmt"

	"github.com/carnivalhq/carnival/internal/money"
)

// FieldError names the field of a promotion that is wrong. The HTTP layer
// maps it to a 422 naming Field.
type FieldError struct {
	// Field is a JSON path such as "tiers[1].threshold".
	Field string `json:"field"`
	// Code is stable: required, out_of_range, not_ascending, unknown,
	// conflict, order.
	Code string `json:"code"`
	// Detail is for humans.
	Detail string `json:"detail"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Code + ": " + e.Detail }

// Field error codes.
const (
	CodeRequired     = "required"
	CodeOutOfRange   = "out_of_range"
	CodeNotAscending = "not_ascending"
	CodeUnknown      = "unknown"
	CodeConflict     = "conflict"
	CodeOrder        = "order"
)

type errs []FieldError

// fld is a field name formatted only when an error is reported, so that
// validating a good activity (Quote does it for every candidate) does
// not allocate.
type fld struct {
	format string
	n      int
	i, j   int
}

func fi(format string, i int) fld     { return fld{format: format, n: 1, i: i} }
func fij(format string, i, j int) fld { return fld{format: format, n: 2, i: i, j: j} }

func (f fld) String() string {
	switch f.n {
	case 1:
		return fmt.Sprintf(f.format, f.i)
	case 2:
		return fmt.Sprintf(f.format, f.i, f.j)
	}
	return f.format
}

func (e *errs) add(field any, code, format string, args ...any) {
	var name string
	switch f := field.(type) {
	case string:
		name = f
	case fld:
		name = f.String()
	}
	*e = append(*e, FieldError{Field: name, Code: code, Detail: fmt.Sprintf(format, args...)})
}

func (e *errs) amount(field any, v, lo money.Money) {
	if v < lo || v > money.MaxAmount {
		e.add(field, CodeOutOfRange, "must be within %d..%d fen", lo, money.MaxAmount)
	}
}

func (e *errs) rate(field any, v, lo, hi money.Rate) {
	if v < lo || v > hi {
		e.add(field, CodeOutOfRange, "must be within %d..%d bp", lo, hi)
	}
}

func (e *errs) count(field any, v, lo int64) {
	if v < lo || v > MaxQuantity {
		e.add(field, CodeOutOfRange, "must be within %d..%d", lo, MaxQuantity)
	}
}

// Validate checks an activity's configuration and returns every problem
// with the field it is in; nil means valid. Quote skips (and reports as
// "invalid") any activity that fails it, so a bad row never breaks pricing.
func Validate(a Activity) []FieldError {
	var e errs
	validateActivity(&a, &e)
	return e
}

func validateActivity(a *Activity, e *errs) {
	if a.ID == "" {
		e.add("id", CodeRequired, "an activity needs an id")
	}
	switch a.Status {
	case StatusActive, StatusPaused, StatusEnded, StatusDraft:
	default:
		e.add("status", CodeUnknown, "status %q is not active, paused, ended or draft", a.Status)
	}
	if !a.StartsAt.IsZero() && !a.EndsAt.IsZero() && !a.StartsAt.Before(a.EndsAt) {
		e.add("ends_at", CodeOrder, "ends_at must be after starts_at")
	}
	validateScope(&a.Scope, "scope", e)
	if a.PerCustomerQtyLimit < 0 || a.PerCustomerQtyLimit > MaxQuantity {
		e.add("per_customer_qty_limit", CodeOutOfRange, "must be within 0..%d", MaxQuantity)
	}
	if a.PerCustomerQtyLimit > 0 && !a.Kind.ItemLevel() {
		e.add("per_customer_qty_limit", CodeConflict, "only item-level kinds take a per-customer quantity limit")
	}
	if a.MaxOff != 0 && !(a.Kind == ThresholdOff && a.Repeat) {
		e.add("max_off", CodeConflict, "max_off only caps a repeat threshold_off")
	}
	switch a.Kind {
	case LimitedTime:
		switch {
		case a.Price > 0 && a.Rate > 0:
			e.add("price", CodeConflict, "set either price or rate, not both")
		case a.Price > 0:
			e.amount("price", a.Price, 1)
		default:
			e.rate("rate", a.Rate, 1, money.Full)
		}
	case MemberPrice:
		if len(a.TierRates) == 0 {
			e.add("tier_rates", CodeRequired, "a member price needs a rate for at least one tier")
		}
		for i, tr := range a.TierRates {
			if tr.Tier == "" {
				e.add(fi("tier_rates[%d].tier", i), CodeRequired, "tier name is empty")
			}
			for _, prev := range a.TierRates[:i] {
				if prev.Tier == tr.Tier && tr.Tier != "" {
					e.add(fi("tier_rates[%d].tier", i), CodeConflict, "tier %q is listed twice", tr.Tier)
					break
				}
			}
			e.rate(fi("tier_rates[%d].rate", i), tr.Rate, 1, money.Full)
		}
	case QuantityLadder:
		if len(a.Ladder) == 0 {
			e.add("ladder", CodeRequired, "a quantity ladder needs at least one step")
		}
		for i, s := range a.Ladder {
			e.count(fi("ladder[%d].min_qty", i), s.MinQty, 1)
			e.amount(fi("ladder[%d].unit_price", i), s.UnitPrice, 0)
			if i > 0 && s.MinQty <= a.Ladder[i-1].MinQty {
				e.add(fi("ladder[%d].min_qty", i), CodeNotAscending, "steps must have ascending min_qty")
			}
		}
	case ThresholdOff:
		if a.Repeat {
			if len(a.Tiers) != 1 {
				e.add("tiers", CodeOutOfRange, "a repeat threshold_off has exactly one tier (every X off Y)")
				break
			}
			e.amount("tiers[0].threshold", a.Tiers[0].Threshold, 1)
			e.amount("tiers[0].off", a.Tiers[0].Off, 1)
			e.amount("max_off", a.MaxOff, 0)
			break
		}
		validateAmountTiers(a.Tiers, e)
		for i, t := range a.Tiers {
			f := fi("tiers[%d].off", i)
			e.amount(f, t.Off, 1)
			if i > 0 && t.Off <= a.Tiers[i-1].Off {
				e.add(f, CodeNotAscending, "a higher tier must take off more")
			}
		}
	case ThresholdPercent:
		if a.ByItems {
			if len(a.Tiers) == 0 {
				e.add("tiers", CodeRequired, "at least one tier")
			}
			for i, t := range a.Tiers {
				f := fi("tiers[%d].min_items", i)
				e.count(f, t.MinItems, 1)
				if i > 0 && t.MinItems <= a.Tiers[i-1].MinItems {
					e.add(f, CodeNotAscending, "tiers must have ascending min_items")
				}
			}
		} else {
			validateAmountTiers(a.Tiers, e)
		}
		for i, t := range a.Tiers {
			e.rate(fi("tiers[%d].rate", i), t.Rate, 1, money.Full-1)
		}
	case NthItem:
		e.count("n", a.N, 2)
		e.rate("rate", a.Rate, 0, money.Full-1)
	case BuyXGetY:
		e.count("x", a.X, 1)
		e.count("y", a.Y, 1)
		if a.X+a.Y > MaxQuantity {
			e.add("y", CodeOutOfRange, "x + y must be at most %d", MaxQuantity)
		}
		e.rate("rate", a.Rate, 0, money.Full-1)
	case Gift:
		validateAmountTiers(a.Tiers, e)
		for i, t := range a.Tiers {
			if len(t.Gifts) == 0 {
				e.add(fi("tiers[%d].gifts", i), CodeRequired, "a gift tier gives at least one gift")
			}
			for j, g := range t.Gifts {
				if g.SKUID == "" {
					e.add(fij("tiers[%d].gifts[%d].sku_id", i, j), CodeRequired, "gift SKU is empty")
				}
				e.count(fij("tiers[%d].gifts[%d].quantity", i, j), g.Quantity, 1)
			}
		}
	case FreeShipping:
		e.amount("threshold", a.Threshold, 0)
	default:
		e.add("kind", CodeUnknown, "kind %q is not an activity kind", a.Kind)
	}
}

func validateAmountTiers(tiers []Tier, e *errs) {
	if len(tiers) == 0 {
		e.add("tiers", CodeRequired, "at least one tier")
	}
	for i, t := range tiers {
		f := fi("tiers[%d].threshold", i)
		e.amount(f, t.Threshold, 0)
		if i > 0 && t.Threshold <= tiers[i-1].Threshold {
			e.add(f, CodeNotAscending, "tiers must have ascending thresholds")
		}
	}
}

func validateScope(s *Scope, field string, e *errs) {
	if !s.All && len(s.SKUIDs) == 0 && len(s.ProductIDs) == 0 && len(s.CategoryIDs) == 0 {
		e.add(field, CodeRequired, "scope selects nothing: set all, sku_ids, product_ids or category_ids")
	}
}

// ValidateTemplate checks a coupon template; nil means valid.
func ValidateTemplate(t CouponTemplate) []FieldError {
	var e errs
	validateTemplate(&t, &e)
	return e
}

func validateTemplate(t *CouponTemplate, e *errs) {
	if t.ID == "" {
		e.add("id", CodeRequired, "a template needs an id")
	}
	validateScope(&t.Scope, "scope", e)
	e.amount("threshold", t.Threshold, 0)
	e.amount("max_discount", t.MaxDiscount, 0)
	switch t.Kind {
	case ThresholdOff:
		e.amount("off", t.Off, 1)
	case Percent:
		e.rate("rate", t.Rate, 1, money.Full-1)
	case Shipping:
	default:
		e.add("kind", CodeUnknown, "kind %q is not threshold_off, percent or shipping", t.Kind)
	}
	if t.Kind != ThresholdOff && t.Off != 0 {
		e.add("off", CodeConflict, "only threshold_off coupons take off")
	}
	if t.Kind != Percent && t.Rate != 0 {
		e.add("rate", CodeConflict, "only percent coupons take a rate")
	}
	if t.Kind == ThresholdOff && t.MaxDiscount != 0 {
		e.add("max_discount", CodeConflict, "a threshold_off coupon takes off, not max_discount")
	}
}
