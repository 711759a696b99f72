package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// otherShop makes a second shop in e's store with a category, a product
// and a SKU, and returns their ids.
func (e *env) otherShop(t *testing.T) (cat, product, sku string) {
	t.Helper()
	ctx := context.Background()
	other, err := e.svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	a := commerce.Actor{ShopID: other.ID, Role: commerce.RoleAdmin}
	cats, err := e.svc.UpsertCategories(ctx, a, []commerce.Category{{ID: "other-cat", Name: "别家"}})
	if err != nil {
		t.Fatal(err)
	}
	stock := int64(10)
	skus, err := e.svc.UpsertProducts(ctx, a, []commerce.ProductUpsert{{Code: "OP", Name: "别家商品", CategoryID: cats[0].ID,
		SKUs: []commerce.SKUUpsert{{Code: "OS", Price: 1000, Cost: 100, Stock: &stock}}}})
	if err != nil {
		t.Fatal(err)
	}
	return cats[0].ID, skus[0].ProductID, skus[0].ID
}

// TestScopeIDsMustBeTheShops: a promotion's or coupon template's scope
// (and a gift tier's SKU) naming an id that is not the shop's — misspelt,
// or another shop's — is refused with 422 unknown_scope_id at the id's
// index, on create and on replace, and nothing is written; another shop's
// ids get the very answer an id that exists nowhere gets.
func TestScopeIDsMustBeTheShops(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cats, err := e.svc.UpsertCategories(ctx, commerce.Actor{ShopID: e.shop.ID, Role: commerce.RoleAdmin}, []commerce.Category{{ID: "shoes", Name: "鞋"}})
	if err != nil {
		t.Fatal(err)
	}
	ownCat, ownSKU := cats[0].ID, e.sku.ID
	ownProduct := e.sku.ProductID
	oCat, oProduct, oSKU := e.otherShop(t)

	promo := func(scope string) string {
		return `{"name":"p","kind":"threshold_off","scope":` + scope + `,"tiers":[{"threshold":20000,"off":1000}]}`
	}
	tpl := func(scope string) string {
		return `{"name":"t","kind":"threshold_off","off":500,"scope":` + scope + `,"total_quantity":10,"valid_days":7}`
	}
	ok := `{"sku_ids":["` + ownSKU + `"],"product_ids":["` + ownProduct + `"],"category_ids":["` + ownCat + `"]}`
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", promo(ok))
	if r.status != 201 {
		t.Fatalf("own ids: %d %s", r.status, r.body)
	}
	var saved struct{ ID string }
	r.json(t, &saved)
	r = e.do(commerce.RoleOperator, "POST", "/api/v1/coupon-templates", tpl(ok))
	if r.status != 201 {
		t.Fatalf("template with own ids: %d %s", r.status, r.body)
	}
	var savedTpl struct{ ID string }
	r.json(t, &savedTpl)

	type bad struct {
		name, scope, field, missing string
	}
	cases := []bad{
		{"misspelt sku", `{"sku_ids":["` + ownSKU + `","` + ownSKU + `","sku_nope"]}`, "scope.sku_ids[2]", "sku_nope"},
		{"other shop's sku", `{"sku_ids":["` + ownSKU + `","` + ownSKU + `","` + oSKU + `"]}`, "scope.sku_ids[2]", oSKU},
		{"other shop's product", `{"product_ids":["` + oProduct + `"]}`, "scope.product_ids[0]", oProduct},
		{"unknown product", `{"product_ids":["` + ownProduct + `","prd_nope"]}`, "scope.product_ids[1]", "prd_nope"},
		{"other shop's category", `{"category_ids":["` + ownCat + `","` + oCat + `"]}`, "scope.category_ids[1]", oCat},
		{"a SKU id as a category", `{"category_ids":["` + ownSKU + `"]}`, "scope.category_ids[0]", ownSKU},
		{"excluded sku", `{"all":true,"exclude_sku_ids":["` + oSKU + `"]}`, "scope.exclude_sku_ids[0]", oSKU},
		{"excluded category", `{"all":true,"exclude_category_ids":["nope"]}`, "scope.exclude_category_ids[0]", "nope"},
		// The text rule at the boundary answers first: a NUL is never looked up.
		{"NUL in an id", `{"sku_ids":["sku_\u0000x"]}`, "scope.sku_ids[0]", ""},
	}
	answers := map[string]string{}
	for _, c := range cases {
		for _, call := range []struct{ method, path, body string }{
			{"POST", "/api/v1/promotions", promo(c.scope)},
			{"PUT", "/api/v1/promotions/" + saved.ID, promo(c.scope)},
			{"POST", "/api/v1/coupon-templates", tpl(c.scope)},
			{"PUT", "/api/v1/coupon-templates/" + savedTpl.ID, tpl(c.scope)},
		} {
			before := e.counts()
			r := e.do(commerce.RoleOperator, call.method, call.path, call.body)
			var p httpapi.Problem
			r.json(t, &p)
			want := "unknown_scope_id"
			if strings.HasPrefix(c.name, "NUL") {
				want = "invalid_text"
			}
			if r.status != 422 || p.Code != want || p.Field != c.field {
				t.Errorf("%s %s %s: %d %s", c.name, call.method, call.path, r.status, r.body)
				continue
			}
			if after := e.counts(); after != before {
				t.Errorf("%s %s %s wrote:\n%s\n%s", c.name, call.method, call.path, before, after)
			}
			if c.missing != "" {
				// The answer for another shop's id is the answer for an id
				// that exists nowhere, with the id replaced.
				answers[c.name+call.method+call.path] = strings.ReplaceAll(p.Detail, c.missing, "ID")
			}
		}
	}
	for _, m := range []string{"POST/api/v1/promotions", "PUT/api/v1/coupon-templates/" + savedTpl.ID} {
		if a, b := answers["misspelt sku"+m], answers["other shop's sku"+m]; a != b || a == "" {
			t.Errorf("%s: unknown %q, other shop's %q", m, a, b)
		}
		if a, b := answers["unknown product"+m], answers["other shop's product"+m]; a != b || a == "" {
			t.Errorf("%s: unknown %q, other shop's %q", m, a, b)
		}
	}

	// A gift tier's SKU is checked the same way.
	gift := func(sku string) string {
		return `{"name":"g","kind":"gift","scope":{"all":true},"tiers":[{"threshold":20000,"gifts":[{"sku_id":"` + ownSKU + `","quantity":1},{"sku_id":"` + sku + `","quantity":1}]}]}`
	}
	for _, sku := range []string{oSKU, "sku_nope"} {
		r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", gift(sku))
		var p httpapi.Problem
		r.json(t, &p)
		if r.status != 422 || p.Code != "unknown_sku" || p.Field != "tiers[0].gifts[1].sku_id" {
			t.Errorf("gift %s: %d %s", sku, r.status, r.body)
		}
	}
}

// TestPeakItemsRefuseAnotherShopsSKU: flash-sale, presale and group-buy
// items already look their SKU up in the shop: another shop's SKU is
// refused like one that does not exist.
func TestPeakItemsRefuseAnotherShopsSKU(t *testing.T) {
	e := newEnv(t)
	_, _, oSKU := e.otherShop(t)
	now := time.Now().UTC()
	ts := func(d time.Duration) string { b, _ := json.Marshal(now.Add(d)); return string(b) }
	for _, sku := range []string{oSKU, "sku_nope"} {
		for _, c := range []struct{ path, body, field string }{
			{"/api/v1/flash-sales", `{"name":"x","starts_at":` + ts(time.Hour) + `,"ends_at":` + ts(2*time.Hour) + `,"items":[{"sku_id":"` + e.sku.ID + `","flash_price":100,"allocated":5},{"sku_id":"` + sku + `","flash_price":100,"allocated":5}]}`, "items[1].sku_id"},
			{"/api/v1/presales", `{"name":"x","deposit_starts_at":` + ts(time.Hour) + `,"deposit_ends_at":` + ts(48*time.Hour) + `,"balance_starts_at":` + ts(48*time.Hour) + `,"balance_ends_at":` + ts(96*time.Hour) + `,"items":[{"sku_id":"` + sku + `","deposit":1000,"value":2000}]}`, "items[0].sku_id"},
			{"/api/v1/group-buys", `{"name":"x","sku_id":"` + sku + `","group_price":100,"group_size":3,"starts_at":` + ts(time.Hour) + `,"ends_at":` + ts(48*time.Hour) + `}`, "sku_id"},
		} {
			before := e.counts()
			r := e.do(commerce.RoleOperator, "POST", c.path, c.body)
			var p httpapi.Problem
			r.json(t, &p)
			if r.status != 422 || p.Code != "unknown_sku" || p.Field != c.field || strings.Contains(p.Detail, "shop") {
				t.Errorf("%s with %s: %d %s", c.path, sku, r.status, r.body)
			}
			if e.counts() != before {
				t.Errorf("%s with %s wrote", c.path, sku)
			}
		}
	}
}
