package promotion

import (
	"fmt"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
)

// checkScopeText applies the text rule (commerce.CheckText) to the ids of
// a scope.
func checkScopeText(s pricing.Scope) error {
	for _, l := range []struct {
		field string
		ids   []string
	}{{"scope.sku_ids", s.SKUIDs}, {"scope.product_ids", s.ProductIDs}, {"scope.category_ids", s.CategoryIDs},
		{"scope.exclude_sku_ids", s.ExcludeSKUIDs}, {"scope.exclude_category_ids", s.ExcludeCategoryIDs}} {
		if err := commerce.CheckTexts(l.field, l.ids, false, commerce.MaxCodeLen); err != nil {
			return err
		}
	}
	return nil
}

// checkActivityText applies the text rule to the name and every id a
// promotion stores, so that what the API refuses cannot be stored another
// way (and PostgreSQL never sees a NUL).
func checkActivityText(a *pricing.Activity) error {
	if err := commerce.CheckText("name", a.Name, false, commerce.MaxNameLen); err != nil {
		return err
	}
	if err := checkScopeText(a.Scope); err != nil {
		return err
	}
	if err := commerce.CheckTexts("audience.tiers", a.Audience.Tiers, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	if err := commerce.CheckTexts("audience.segments", a.Audience.Segments, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	for i, tr := range a.TierRates {
		if err := commerce.CheckText(fmt.Sprintf("tier_rates[%d].tier", i), tr.Tier, false, commerce.MaxCodeLen); err != nil {
			return err
		}
	}
	for i, t := range a.Tiers {
		for j, g := range t.Gifts {
			if err := commerce.CheckText(fmt.Sprintf("tiers[%d].gifts[%d].sku_id", i, j), g.SKUID, false, commerce.MaxCodeLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTemplateText applies the text rule to a coupon template's name,
// stack group and scope.
func checkTemplateText(t *pricing.CouponTemplate) error {
	if err := commerce.CheckText("name", t.Name, false, commerce.MaxNameLen); err != nil {
		return err
	}
	if err := commerce.CheckText("stack_group", t.StackGroup, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	return checkScopeText(t.Scope)
}
