package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// TestCustomerUpsertChangesOnlyTheFieldsSent: writing a tag back to a
// customer keeps every field the body leaves out; null and "" clear.
func TestCustomerUpsertChangesOnlyTheFieldsSent(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			r := e.do("operator", http.MethodPut, "/api/v1/customers", `{"items":[{"external_id":"r1","name":"王小明","phone":"13800138000",
				"email":"wang@example.com","tier":"gold","growth_value":1200,"tags":["a"],"marketing_consent":true,"time_zone":"Asia/Shanghai"}]}`)
			if r.status != http.StatusOK {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			r = e.do("operator", http.MethodPut, "/api/v1/customers", `{"items":[{"external_id":"r1","tags":["a","recall"]}]}`)
			if r.status != http.StatusOK {
				t.Fatalf("tag write-back: %d %s", r.status, r.body)
			}
			var out struct{ Items []commerce.Customer }
			r.json(t, &out)
			c := out.Items[0]
			if c.Name != "王小明" || c.Phone != "13800138000" || c.Email != "wang@example.com" || c.Tier != "gold" ||
				c.GrowthValue != 1200 || !c.MarketingConsent || c.TimeZone != "Asia/Shanghai" || len(c.Tags) != 2 {
				t.Fatalf("after writing tags back: %+v; want every other field kept", c)
			}
			// null and "" clear what may be cleared.
			r = e.do("operator", http.MethodPut, "/api/v1/customers", `{"items":[{"external_id":"r1","email":null,"tier":"","tags":null,"growth_value":null}]}`)
			if r.status != http.StatusOK {
				t.Fatalf("clear: %d %s", r.status, r.body)
			}
			r.json(t, &out)
			c = out.Items[0]
			if c.Email != "" || c.Tier != "" || len(c.Tags) != 0 || c.GrowthValue != 0 || c.Name != "王小明" || c.Phone != "13800138000" {
				t.Fatalf("after clearing email, tier, tags, growth: %+v", c)
			}
		})
	}
}

// TestProductUpsertChangesOnlyTheFieldsSent: setting a SKU's safety stock
// keeps its cost, price, name and the product's category.
func TestProductUpsertChangesOnlyTheFieldsSent(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			if r := e.do("operator", http.MethodPut, "/api/v1/categories", `{"items":[{"id":"tops","name":"上衣"}]}`); r.status != http.StatusOK {
				t.Fatalf("category: %d %s", r.status, r.body)
			}
			r := e.do("operator", http.MethodPut, "/api/v1/products", `{"items":[{"code":"TEE","name":"T恤","category_id":"tops","skus":[
				{"code":"TEE-S","name":"T恤 S","price":9900,"cost":4000,"stock":10,"safety_stock":2}]}]}`)
			if r.status != http.StatusOK {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			r = e.do("operator", http.MethodPut, "/api/v1/products", `{"items":[{"code":"TEE","skus":[{"code":"TEE-S","safety_stock":5}]}]}`)
			if r.status != http.StatusOK {
				t.Fatalf("safety stock: %d %s", r.status, r.body)
			}
			var out struct{ Items []commerce.SKU }
			r.json(t, &out)
			k := out.Items[0]
			if k.SafetyStock != 5 || k.Cost != 4000 || k.Price != 9900 || k.CategoryID != "tops" || k.Name != "T恤 S" || k.Stock != 10 || k.Status != "active" {
				t.Fatalf("after setting safety stock: %+v; want every other field kept", k)
			}
			r = e.do("operator", http.MethodGet, "/api/v1/products/"+k.ProductID, nil)
			var p commerce.Product
			r.json(t, &p)
			if p.Name != "T恤" || p.CategoryID != "tops" {
				t.Fatalf("product after a SKU-only upsert: %+v", p)
			}
		})
	}
}
