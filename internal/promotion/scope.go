package promotion

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
)

// checkScope refuses a scope id that names no SKU, product or category of
// the shop (422 unknown_scope_id at e.g. scope.sku_ids[2]): a misspelt
// scope would silently apply to nothing. Another shop's ids are refused
// exactly like ids that exist nowhere, so nothing tells them apart.
func (s *Service) checkScope(ctx context.Context, shopID string, sc pricing.Scope, field string) error {
	lists := []struct {
		name, what string
		ids        []string
	}{
		{"sku_ids", "SKU", sc.SKUIDs}, {"product_ids", "product", sc.ProductIDs}, {"category_ids", "category", sc.CategoryIDs},
		{"exclude_sku_ids", "SKU", sc.ExcludeSKUIDs}, {"exclude_category_ids", "category", sc.ExcludeCategoryIDs},
	}
	var skuIDs, productIDs []string
	cats := false
	for _, l := range lists {
		for _, id := range l.ids {
			if !storable(id) {
				continue // no row holds it: refused below without asking the store
			}
			switch l.what {
			case "SKU":
				skuIDs = append(skuIDs, id)
			case "product":
				productIDs = append(productIDs, id)
			default:
				cats = true
			}
		}
	}
	known := map[string]map[string]bool{"SKU": {}, "product": {}, "category": {}}
	if len(skuIDs) > 0 {
		skus, err := s.com.SKUs(ctx, shopID, skuIDs, false)
		if err != nil {
			return err
		}
		for id := range skus {
			known["SKU"][id] = true
		}
	}
	if len(productIDs) > 0 {
		ps, err := s.com.ProductsByID(ctx, shopID, productIDs)
		if err != nil {
			return err
		}
		for id := range ps {
			known["product"][id] = true
		}
	}
	if cats {
		cs, err := s.com.ListCategories(ctx, shopID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			known["category"][c.ID] = true
		}
	}
	for _, l := range lists {
		for i, id := range l.ids {
			if !known[l.what][id] {
				return commerce.Invalid(fmt.Sprintf("%s.%s[%d]", field, l.name, i), "unknown_scope_id",
					"no %s of this shop has the id %q", l.what, clip(id))
			}
		}
	}
	return nil
}

// storable says whether id could be a stored id at all (PostgreSQL text
// holds no NUL and only valid UTF-8).
func storable(id string) bool {
	return id != "" && utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

// clip shortens an id quoted back to the client.
func clip(id string) string {
	if !utf8.ValidString(id) {
		id = strings.ToValidUTF8(id, "\uFFFD")
	}
	if r := []rune(id); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return id
}

// checkGifts refuses a gift SKU that is not the shop's (422 unknown_sku at
// tiers[i].gifts[j].sku_id), like a scope id.
func (s *Service) checkGifts(ctx context.Context, shopID string, tiers []pricing.Tier) error {
	var ids []string
	gifts := 0
	for _, t := range tiers {
		for _, g := range t.Gifts {
			gifts++
			if storable(g.SKUID) {
				ids = append(ids, g.SKUID)
			}
		}
	}
	if gifts == 0 {
		return nil
	}
	var skus map[string]*commerce.SKU
	if len(ids) > 0 {
		var err error
		if skus, err = s.com.SKUs(ctx, shopID, ids, false); err != nil {
			return err
		}
	}
	for i, t := range tiers {
		for j, g := range t.Gifts {
			if skus[g.SKUID] == nil {
				return commerce.Invalid(fmt.Sprintf("tiers[%d].gifts[%d].sku_id", i, j), "unknown_sku", "no SKU of this shop has the id %q", clip(g.SKUID))
			}
		}
	}
	return nil
}
