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

// TestRequiredFieldsCannotBeClearedAndNewRecordsNeedThem: a null for a
// field a record cannot be without, or a new record without it, is a 422
// naming the field that writes nothing.
func TestRequiredFieldsCannotBeClearedAndNewRecordsNeedThem(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			sku := e.sku.ID
			for _, c := range []struct{ name, method, path, body, code, field string }{
				{"product name null", "PUT", "/api/v1/products", `{"items":[{"code":"P1","name":null}]}`, "required", "items[0].name"},
				{"product name empty", "PUT", "/api/v1/products", `{"items":[{"code":"P1","name":""}]}`, "validation_failed", "items[0].name"},
				{"skus null", "PUT", "/api/v1/products", `{"items":[{"code":"P1","skus":null}]}`, "required", "items[0].skus"},
				{"sku price null", "PUT", "/api/v1/products", `{"items":[{"code":"P1","skus":[{"code":"S1","price":null}]}]}`, "required", "items[0].skus[0].price"},
				{"sku status null", "PUT", "/api/v1/products", `{"items":[{"code":"P1","skus":[{"code":"S1","status":null}]}]}`, "required", "items[0].skus[0].status"},
				{"new product without name", "PUT", "/api/v1/products", `{"items":[{"code":"NEW","skus":[{"code":"N1","price":100}]}]}`, "required", "items[0].name"},
				{"new product without skus", "PUT", "/api/v1/products", `{"items":[{"code":"NEW","name":"新品"}]}`, "required", "items[0].skus"},
				{"new sku without price", "PUT", "/api/v1/products", `{"items":[{"code":"P1","skus":[{"code":"S1","cost":1},{"code":"N1","name":"新"}]}]}`, "required", "items[0].skus[1].price"},
				{"patch sku price null", "PATCH", "/api/v1/skus/" + sku, `{"price":null}`, "required", "price"},
				{"patch sku stock null", "PATCH", "/api/v1/skus/" + sku, `{"stock":null}`, "required", "stock"},
				{"patch sku negative cost", "PATCH", "/api/v1/skus/" + sku, `{"cost":-1}`, "validation_failed", "cost"},
				{"patch product name null", "PATCH", "/api/v1/products/" + e.sku.ProductID, `{"name":null}`, "required", "name"},
				{"patch product unknown category", "PATCH", "/api/v1/products/" + e.sku.ProductID, `{"category_id":"nope"}`, "unknown_category", "category_id"},
				{"patch customer bad time zone", "PATCH", "/api/v1/customers/" + e.cust.ID, `{"time_zone":"Mars/Olympus"}`, "invalid_time_zone", "time_zone"},
				{"patch customer unknown field", "PATCH", "/api/v1/customers/" + e.cust.ID, `{"external_id":"x"}`, "unknown_field", "external_id"},
			} {
				before := e.counts()
				r := e.do("operator", c.method, c.path, c.body)
				var p struct{ Code, Field string }
				r.json(t, &p)
				if r.status != http.StatusUnprocessableEntity || p.Code != c.code || p.Field != c.field {
					t.Errorf("%s: %d %s; want 422 %s at %s", c.name, r.status, r.body, c.code, c.field)
				}
				if after := e.counts(); after != before {
					t.Errorf("%s wrote: %s → %s", c.name, before, after)
				}
			}
		})
	}
}

// TestPatchChangesOneRecordAndIsAudited: PATCH on a customer, a product
// and a SKU changes only the fields sent, is audited with the caller's
// key, and answers 404 for another shop's record.
func TestPatchChangesOneRecordAndIsAudited(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			r := e.do("operator", http.MethodPatch, "/api/v1/customers/"+e.cust.ID, `{"tags":["recall"],"tier":"gold"}`)
			var c commerce.Customer
			r.json(t, &c)
			if r.status != http.StatusOK || c.Name != "李四" || c.Phone != "13900001111" || c.Tier != "gold" || len(c.Tags) != 1 || c.ExternalID != "u1" {
				t.Fatalf("patch customer: %d %s", r.status, r.body)
			}
			r = e.do("admin", http.MethodPatch, "/api/v1/skus/"+e.sku.ID, `{"safety_stock":7,"cost":null}`)
			var k commerce.SKU
			r.json(t, &k)
			if r.status != http.StatusOK || k.SafetyStock != 7 || k.Cost != 0 || k.Price != e.sku.Price || k.Stock != e.sku.Stock || k.Name != e.sku.Name {
				t.Fatalf("patch sku: %d %s", r.status, r.body)
			}
			r = e.do("operator", http.MethodPatch, "/api/v1/products/"+e.sku.ProductID, `{"status":"inactive"}`)
			var p commerce.Product
			r.json(t, &p)
			if r.status != http.StatusOK || p.Status != "inactive" || p.Name != "商品" {
				t.Fatalf("patch product: %d %s", r.status, r.body)
			}
			if r := e.do("analyst", http.MethodPatch, "/api/v1/skus/"+e.sku.ID, `{"safety_stock":1}`); r.status != http.StatusForbidden {
				t.Fatalf("an analyst patched a SKU: %d", r.status)
			}
			var audit struct {
				Items []commerce.AuditEntry `json:"items"`
			}
			e.do("admin", http.MethodGet, "/api/v1/audit?action=update", nil).json(t, &audit)
			seen := map[string]string{}
			for _, a := range audit.Items {
				seen[a.Entity] = a.Actor
			}
			if seen["customer"] == "" || seen["sku"] == "" || seen["product"] == "" || seen["customer"] == seen["sku"] {
				t.Fatalf("audit of the patches: %+v", audit.Items)
			}
			// Another shop's keys find none of them.
			ctx := t.Context()
			other, err := e.svc.CreateShop(ctx, "Other", "")
			if err != nil {
				t.Fatal(err)
			}
			_, secret, err := e.svc.CreateAPIKey(ctx, other.ID, commerce.RoleAdmin, "other")
			if err != nil {
				t.Fatal(err)
			}
			e.keys["other"] = secret
			before := e.counts()
			for _, path := range []string{"/api/v1/customers/" + e.cust.ID, "/api/v1/skus/" + e.sku.ID, "/api/v1/products/" + e.sku.ProductID, "/api/v1/skus/sku_nope"} {
				if r := e.do("other", http.MethodPatch, path, `{}`); r.status != http.StatusNotFound {
					t.Errorf("PATCH %s from another shop: %d %s", path, r.status, r.body)
				}
			}
			if e.counts() != before {
				t.Fatal("a cross-shop PATCH wrote")
			}
		})
	}
}

// TestContactFieldsByRole: admins and operators see a customer's contact
// fields in full, analysts masked; storefront keys read no customers.
func TestContactFieldsByRole(t *testing.T) {
	e := newEnv(t)
	for role, want := range map[string]string{"admin": "13900001111", "operator": "13900001111", "analyst": "139****1111"} {
		var c commerce.Customer
		r := e.do(role, http.MethodGet, "/api/v1/customers/"+e.cust.ID, nil)
		r.json(t, &c)
		var list struct{ Items []commerce.Customer }
		e.do(role, http.MethodGet, "/api/v1/customers", nil).json(t, &list)
		if c.Phone != want || len(list.Items) != 1 || list.Items[0].Phone != want {
			t.Errorf("%s sees phone %q in get, %+v in list; want %q", role, c.Phone, list.Items, want)
		}
		if role == "analyst" && (c.Name != "李*" || list.Items[0].Name != "李*") {
			t.Errorf("analyst sees name %q", c.Name)
		}
	}
	for _, role := range []string{"storefront", "publishable"} {
		if r := e.do(role, http.MethodGet, "/api/v1/customers/"+e.cust.ID, nil); r.status != http.StatusForbidden {
			t.Errorf("%s read a customer: %d", role, r.status)
		}
	}
}
