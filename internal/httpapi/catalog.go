package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

type categoryIn struct {
	ID       string `json:"id,omitempty" maxLength:"64" doc:"Your id for the category; generated when empty"`
	ParentID string `json:"parent_id,omitempty" maxLength:"64"`
	Name     string `json:"name" minLength:"1" maxLength:"200"`
}

// SKUPatch holds a SKU's writable fields, each optional: an upsert or
// PATCH changes only the fields sent. cost and safety_stock clear to 0 on
// null; name, price, stock and status cannot be cleared.
type SKUPatch struct {
	Name        Optional[string] `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"A new SKU takes the product's name when this is left out"`
	Price       Optional[int64]  `json:"price,omitempty" minimum:"0" maximum:"1000000000000000" doc:"List price, fen; required for a new SKU"`
	Cost        Optional[int64]  `json:"cost,omitempty" minimum:"0" maximum:"1000000000000000" nullable:"true" doc:"Unit cost, fen (for the margin guard); null clears it to 0"`
	Stock       Optional[int64]  `json:"stock,omitempty" minimum:"0" maximum:"1000000000" doc:"Units free to sell (the change is in the stock ledger); left out, stock stays as it is"`
	SafetyStock Optional[int64]  `json:"safety_stock,omitempty" minimum:"0" maximum:"1000000000" nullable:"true" doc:"null clears it to 0"`
	Status      Optional[string] `json:"status,omitempty" enum:"active,inactive" doc:"A new SKU is active unless this says otherwise"`
}

func (f SKUPatch) patch(code, prefix string) (commerce.SKUPatch, error) {
	k := commerce.SKUPatch{Code: code, Cost: clearable(f.Cost), SafetyStock: clearable(f.SafetyStock)}
	var err error
	if k.Name, err = required(f.Name, prefix+"name"); err != nil {
		return k, err
	}
	if k.Price, err = required(f.Price, prefix+"price"); err != nil {
		return k, err
	}
	if k.Stock, err = required(f.Stock, prefix+"stock"); err != nil {
		return k, err
	}
	k.Status, err = required(f.Status, prefix+"status")
	return k, err
}

type skuIn struct {
	Code string `json:"code" minLength:"1" maxLength:"64" doc:"Your SKU code, unique in the shop"`
	SKUPatch
}

// ProductPatch holds a product's own writable fields, each optional.
// category_id clears on null or ""; name and status cannot be cleared.
type ProductPatch struct {
	Name       Optional[string] `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"Required for a new product"`
	CategoryID Optional[string] `json:"category_id,omitempty" maxLength:"64" nullable:"true" doc:"The product's category, which its SKUs share; null or \"\" clears it"`
	Status     Optional[string] `json:"status,omitempty" enum:"active,inactive" doc:"A new product is active unless this says otherwise"`
}

func (f ProductPatch) patch(code, prefix string) (commerce.ProductPatch, error) {
	p := commerce.ProductPatch{Code: code, CategoryID: clearable(f.CategoryID)}
	var err error
	if p.Name, err = required(f.Name, prefix+"name"); err != nil {
		return p, err
	}
	p.Status, err = required(f.Status, prefix+"status")
	return p, err
}

type productIn struct {
	Code string `json:"code" minLength:"1" maxLength:"64" doc:"Your product code, unique in the shop"`
	ProductPatch
	SKUs Optional[[]skuIn] `json:"skus,omitempty" nullable:"false" minItems:"1" maxItems:"100" doc:"SKUs to create or change, by code (required for a new product); SKUs left out stay as they are"`
}

const catalogWriteDoc = "Changes only the fields sent: a field left out keeps its value; `null` (or `\"\"` for category_id) " +
	"clears a field that may be empty (category_id, cost, safety_stock); name, price, stock and status cannot be cleared (422 required)."

func (s *Server) registerCatalog() {
	type upsertCategories struct {
		Body struct {
			Items []categoryIn `json:"items" minItems:"1" maxItems:"1000"`
		}
	}
	huma.Register(s.api, op("upsert-categories", http.MethodPut, "/api/v1/categories", "Create or update categories by id (bulk)", "Catalog", rolesWrite),
		func(ctx context.Context, in *upsertCategories) (*struct{ Body List[commerce.Category] }, error) {
			cats := make([]commerce.Category, len(in.Body.Items))
			for i, c := range in.Body.Items {
				cats[i] = commerce.Category{ID: c.ID, ParentID: c.ParentID, Name: c.Name}
			}
			out, err := s.cfg.Commerce.UpsertCategories(ctx, CallerFrom(ctx).Actor(), cats)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[commerce.Category] }{Body: List[commerce.Category]{Items: out}}, nil
		})
	huma.Register(s.api, op("list-categories", http.MethodGet, "/api/v1/categories", "The category tree, flat", "Catalog", rolesRead),
		func(ctx context.Context, _ *struct{}) (*struct{ Body List[commerce.Category] }, error) {
			out, err := s.cfg.Commerce.ListCategories(ctx, CallerFrom(ctx).ShopID())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[commerce.Category] }{Body: List[commerce.Category]{Items: out}}, nil
		})

	type upsertProducts struct {
		Body struct {
			Items []productIn `json:"items" minItems:"1" maxItems:"1000"`
		}
	}
	up := op("upsert-products", http.MethodPut, "/api/v1/products", "Create or update products and their SKUs by code (bulk; only the fields sent change)", "Catalog", rolesWrite)
	up.Description = "A new product needs name and skus, a new SKU a price (422 required naming them); a SKU always has its product's category. " + catalogWriteDoc
	huma.Register(s.api, up,
		func(ctx context.Context, in *upsertProducts) (*struct{ Body List[commerce.SKU] }, error) {
			items := make([]commerce.ProductPatch, len(in.Body.Items))
			for i, p := range in.Body.Items {
				f := fmt.Sprintf("items[%d].", i)
				pp, err := p.patch(p.Code, f)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				if p.SKUs.Sent && p.SKUs.Null {
					return nil, s.fail(ctx, fieldRequired(f+"skus"))
				}
				if p.SKUs.Sent {
					pp.SKUs = []commerce.SKUPatch{}
				}
				for j, k := range p.SKUs.Value {
					kp, err := k.patch(k.Code, fmt.Sprintf("%sskus[%d].", f, j))
					if err != nil {
						return nil, s.fail(ctx, err)
					}
					pp.SKUs = append(pp.SKUs, kp)
				}
				items[i] = pp
			}
			out, err := s.cfg.Commerce.MergeProducts(ctx, CallerFrom(ctx).Actor(), items)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[commerce.SKU] }{Body: List[commerce.SKU]{Items: out}}, nil
		})
	type patchProduct struct {
		ID   string `path:"id" maxLength:"64"`
		Body ProductPatch
	}
	pp := op("patch-product", http.MethodPatch, "/api/v1/products/{id}", "Change some fields of a product (audited)", "Catalog", rolesWrite)
	pp.Description = catalogWriteDoc + " A new category moves the product's SKUs with it. The code and SKUs do not change here (PATCH /api/v1/skus/{id})."
	huma.Register(s.api, pp,
		func(ctx context.Context, in *patchProduct) (*struct{ Body *commerce.Product }, error) {
			p, err := in.Body.patch("", "")
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out, err := s.cfg.Commerce.PatchProduct(ctx, CallerFrom(ctx).Actor(), in.ID, p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.Product }{Body: out}, nil
		})
	type patchSKU struct {
		ID   string `path:"id" maxLength:"64"`
		Body SKUPatch
	}
	ps := op("patch-sku", http.MethodPatch, "/api/v1/skus/{id}", "Change some fields of a SKU (audited)", "Catalog", rolesWrite)
	ps.Description = catalogWriteDoc + " A stock sent sets the free stock, recorded in the stock ledger. The code, product and category do not change here."
	huma.Register(s.api, ps,
		func(ctx context.Context, in *patchSKU) (*struct{ Body *commerce.SKU }, error) {
			k, err := in.Body.patch("", "")
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out, err := s.cfg.Commerce.PatchSKU(ctx, CallerFrom(ctx).Actor(), in.ID, k)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.SKU }{Body: out}, nil
		})
	huma.Register(s.api, op("list-products", http.MethodGet, "/api/v1/products", "List products", "Catalog", rolesRead),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[commerce.Product] }, error) {
			out, err := s.cfg.Commerce.ListProducts(ctx, CallerFrom(ctx).ShopID(), commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(p commerce.Product) string { return p.ID }), nil
		})
	huma.Register(s.api, op("get-product", http.MethodGet, "/api/v1/products/{id}", "Get a product", "Catalog", rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body *commerce.Product }, error) {
			p, err := s.cfg.Commerce.Product(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.Product }{Body: p}, nil
		})

	type listSKUs struct {
		Cursor     string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit      int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
		ProductID  string `query:"product_id" maxLength:"64"`
		CategoryID string `query:"category_id" maxLength:"64"`
		Status     string `query:"status" enum:"active,inactive,"`
	}
	huma.Register(s.api, op("list-skus", http.MethodGet, "/api/v1/skus", "List SKUs with stock", "Catalog", rolesRead),
		func(ctx context.Context, in *listSKUs) (*struct{ Body List[commerce.SKU] }, error) {
			out, err := s.cfg.Commerce.ListSKUs(ctx, CallerFrom(ctx).ShopID(), commerce.SKUFilter{ProductID: in.ProductID, CategoryID: in.CategoryID, Status: in.Status}, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(k commerce.SKU) string { return k.ID }), nil
		})
	huma.Register(s.api, op("get-sku", http.MethodGet, "/api/v1/skus/{id}", "Get a SKU with its stock", "Catalog", rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body *commerce.SKU }, error) {
			k, err := s.cfg.Commerce.SKU(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.SKU }{Body: k}, nil
		})
	type adjust struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Delta int64  `json:"delta" minimum:"-1000000000" maximum:"1000000000" doc:"Units to add (negative to remove)"`
			Note  string `json:"note,omitempty" maxLength:"200"`
		}
	}
	huma.Register(s.api, op("adjust-stock", http.MethodPost, "/api/v1/skus/{id}/stock-adjustments", "Add or remove free stock (recorded in the ledger)", "Catalog", rolesWrite),
		func(ctx context.Context, in *adjust) (*struct{ Body *commerce.SKU }, error) {
			k, err := s.cfg.Commerce.AdjustStock(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body.Delta, in.Body.Note)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *commerce.SKU }{Body: k}, nil
		})
	type movesIn struct {
		ID     string `path:"id" maxLength:"64"`
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-stock-moves", http.MethodGet, "/api/v1/skus/{id}/stock-moves", "The SKU's stock ledger", "Catalog", rolesRead),
		func(ctx context.Context, in *movesIn) (*struct{ Body List[commerce.StockMove] }, error) {
			out, err := s.cfg.Commerce.StockMoves(ctx, CallerFrom(ctx).ShopID(), in.ID, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(m commerce.StockMove) string { return m.ID }), nil
		})
}
