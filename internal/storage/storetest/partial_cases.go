package storetest

import (
	"encoding/json"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func ptr[T any](v T) *T { return &v }

// testPartialCustomerWrites: an upsert or PATCH writes only the fields it
// sets; an empty value clears; another shop's customer is not found.
func testPartialCustomerWrites(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	c := e.SeedCustomer(t, "u-1")
	got, err := e.Svc.MergeCustomers(ctx, e.Admin, []commerce.CustomerPatch{{ExternalID: "u-1", Tags: &[]string{"recall"}, GrowthValue: ptr(int64(300))}})
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if g.ID != c.ID || g.Name != "张三丰" || g.Phone != "13812345678" || g.Email != "zhang@example.com" || g.Tier != "gold" ||
		g.GrowthValue != 300 || len(g.Tags) != 1 || g.Tags[0] != "recall" {
		t.Fatalf("after merging tags and growth: %+v", g)
	}
	// A new customer takes the empty value of every field left out.
	got, err = e.Svc.MergeCustomers(ctx, e.Admin, []commerce.CustomerPatch{{ExternalID: "u-2", Tier: ptr("silver")}})
	if err != nil || got[0].Tier != "silver" || got[0].Name != "" || got[0].Tags == nil || len(got[0].Tags) != 0 {
		t.Fatalf("new customer = %+v, %v", got, err)
	}
	p, err := e.Svc.PatchCustomer(ctx, e.Admin, c.ID, commerce.CustomerPatch{Email: ptr(""), MarketingConsent: ptr(true), TimeZone: ptr("Asia/Shanghai")})
	if err != nil || p.Email != "" || !p.MarketingConsent || p.TimeZone != "Asia/Shanghai" || p.Name != "张三丰" || p.Tier != "gold" || p.GrowthValue != 300 || p.ExternalID != "u-1" {
		t.Fatalf("patch = %+v, %v", p, err)
	}
	_, err = e.Svc.PatchCustomer(ctx, e.Admin, c.ID, commerce.CustomerPatch{TimeZone: ptr("Mars/Olympus")})
	wantCode(t, err, "invalid_time_zone")
	// The audit entry names the fields changed, without contact values.
	au, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Entity: "customer", EntityID: c.ID}, commerce.Page{})
	if err != nil || len(au) != 1 || au[0].Action != "update" || au[0].Actor != e.Admin.String() {
		t.Fatalf("audit = %+v, %v", au, err)
	}
	var after map[string]any
	_ = json.Unmarshal(au[0].After, &after)
	if _, leaked := after["email"]; leaked || after["time_zone"] != "Asia/Shanghai" || len(after["changed"].([]any)) != 3 {
		t.Fatalf("audit after = %s", au[0].After)
	}
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.PatchCustomer(ctx, commerce.Actor{ShopID: other.ID, Role: commerce.RoleAdmin}, c.ID, commerce.CustomerPatch{Tier: ptr("x")})
	wantCode(t, err, "customer_not_found")
	if err := e.Svc.EraseCustomer(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.PatchCustomer(ctx, e.Admin, c.ID, commerce.CustomerPatch{Name: ptr("张三丰")})
	wantCode(t, err, "customer_erased")
	if er, _ := e.Svc.Customer(ctx, e.Shop.ID, c.ID); er.Name != "" {
		t.Fatalf("an erased customer got a name back: %+v", er)
	}
}

// testPartialCatalogWrites: a SKU-only upsert keeps the product and the
// SKU's other fields; a new record needs its required fields; PATCH
// changes what it sets and a new category moves the SKUs.
func testPartialCatalogWrites(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	if _, err := e.Svc.UpsertCategories(ctx, e.Admin, []commerce.Category{{ID: "tops", Name: "上衣"}, {ID: "sale", Name: "特价"}}); err != nil {
		t.Fatal(err)
	}
	stock := int64(10)
	skus, err := e.Svc.UpsertProducts(ctx, e.Admin, []commerce.ProductUpsert{{Code: "TEE", Name: "T恤", CategoryID: "tops",
		SKUs: []commerce.SKUUpsert{{Code: "TEE-S", Name: "T恤 S", Price: 9900, Cost: 4000, Stock: &stock, SafetyStock: 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	k := skus[0]
	got, err := e.Svc.MergeProducts(ctx, e.Admin, []commerce.ProductPatch{{Code: "TEE", SKUs: []commerce.SKUPatch{{Code: "TEE-S", SafetyStock: ptr(int64(5))}}}})
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if g.ID != k.ID || g.SafetyStock != 5 || g.Cost != 4000 || g.Price != 9900 || g.CategoryID != "tops" || g.Name != "T恤 S" || g.Stock != 10 || g.Status != commerce.SKUActive {
		t.Fatalf("after a safety-stock upsert: %+v", g)
	}
	if p, _ := e.Svc.Product(ctx, e.Shop.ID, k.ProductID); p.Name != "T恤" || p.CategoryID != "tops" {
		t.Fatalf("product after a SKU-only upsert: %+v", p)
	}
	// A new SKU of an existing product takes the product's name and category.
	got, err = e.Svc.MergeProducts(ctx, e.Admin, []commerce.ProductPatch{{Code: "TEE", SKUs: []commerce.SKUPatch{{Code: "TEE-M", Price: ptr(int64(9900))}}}})
	if err != nil || got[0].Name != "T恤" || got[0].CategoryID != "tops" || got[0].ProductID != k.ProductID {
		t.Fatalf("new SKU = %+v, %v", got, err)
	}
	before := countRows(t, e, "skus") + countRows(t, e, "products")
	// A new product needs a name and SKUs; a new SKU a price.
	_, err = e.Svc.MergeProducts(ctx, e.Admin, []commerce.ProductPatch{{Code: "NEW"}})
	wantField(t, err, "required", "items[0].name")
	_, err = e.Svc.MergeProducts(ctx, e.Admin, []commerce.ProductPatch{{Code: "TEE", Name: ptr("改名")}, {Code: "TEE2", Name: ptr("x"), SKUs: []commerce.SKUPatch{{Code: "X1", Cost: ptr(int64(1))}}}})
	wantField(t, err, "required", "items[1].skus[0].price")
	if p, _ := e.Svc.Product(ctx, e.Shop.ID, k.ProductID); p.Name != "T恤" || before != countRows(t, e, "skus")+countRows(t, e, "products") {
		t.Fatalf("a refused upsert wrote: %+v", p)
	}
	// PATCH: a new category moves every SKU of the product.
	p, err := e.Svc.PatchProduct(ctx, e.Admin, k.ProductID, commerce.ProductPatch{CategoryID: ptr("sale")})
	if err != nil || p.CategoryID != "sale" || p.Name != "T恤" {
		t.Fatalf("patch product = %+v, %v", p, err)
	}
	list, _ := e.Svc.ListSKUs(ctx, e.Shop.ID, commerce.SKUFilter{CategoryID: "sale"}, commerce.Page{})
	if len(list) != 2 {
		t.Fatalf("SKUs in the new category = %+v", list)
	}
	_, err = e.Svc.PatchProduct(ctx, e.Admin, k.ProductID, commerce.ProductPatch{CategoryID: ptr("nope")})
	wantCode(t, err, "unknown_category")
	ks, err := e.Svc.PatchSKU(ctx, e.Admin, k.ID, commerce.SKUPatch{Price: ptr(int64(8900)), Stock: ptr(int64(4)), Cost: ptr(int64(0))})
	if err != nil || ks.Price != 8900 || ks.Stock != 4 || ks.Cost != 0 || ks.SafetyStock != 5 || ks.Name != "T恤 S" || ks.CategoryID != "sale" {
		t.Fatalf("patch sku = %+v, %v", ks, err)
	}
	moves, _ := e.Svc.StockMoves(ctx, e.Shop.ID, k.ID, commerce.Page{})
	var sum int64
	for _, m := range moves {
		sum += m.Delta
	}
	if sum != 4 || moves[len(moves)-1].Delta != -6 {
		t.Fatalf("ledger after patching stock to 4 = %+v", moves)
	}
	au, _ := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Entity: "sku", EntityID: k.ID}, commerce.Page{})
	if len(au) != 1 || au[0].Action != "update" || len(au[0].Before) == 0 {
		t.Fatalf("sku audit = %+v", au)
	}
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	oa := commerce.Actor{ShopID: other.ID, Role: commerce.RoleAdmin}
	_, err = e.Svc.PatchSKU(ctx, oa, k.ID, commerce.SKUPatch{Price: ptr(int64(1))})
	wantCode(t, err, "sku_not_found")
	_, err = e.Svc.PatchProduct(ctx, oa, k.ProductID, commerce.ProductPatch{Name: ptr("别家")})
	wantCode(t, err, "product_not_found")
	if kk := e.sku(t, k.ID); kk.Price != 8900 {
		t.Fatalf("another shop's patch changed the SKU: %+v", kk)
	}
}

func countRows(t *testing.T, e *Env, table string) int {
	t.Helper()
	var n int
	if err := e.Store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantField(t *testing.T, err error, code, field string) {
	t.Helper()
	e, ok := commerce.AsError(err)
	if !ok || e.Code != code || e.Field != field {
		t.Fatalf("err = %v (%+v), want %s at %s", err, e, code, field)
	}
}
