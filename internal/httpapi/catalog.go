package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

type categoryIn struct {
	ID       string `json:"id,omitempty" maxLength:"64" doc:"Your id for the category; generated when empty"`
	ParentID string `json:"parent_id,omitempty" maxLength:"64"`
	Name     string `json:"name" minLength:"1" maxLength:"200"`
}

type skuIn struct {
	Code        string `json:"code" minLength:"1" maxLength:"64" doc:"Your SKU code, unique in the shop"`
	Name        string `json:"name,omitempty" maxLength:"200" doc:"Defaults to the product name"`
	Price       int64  `json:"price" minimum:"0" maximum:"1000000000000000" doc:"List price, fen"`
	Cost        int64  `json:"cost,omitempty" minimum:"0" maximum:"1000000000000000" doc:"Unit cost, fen (for the margin guard)"`
	Stock       *int64 `json:"stock,omitempty" minimum:"0" maximum:"1000000000" doc:"Units free to sell; omitted leaves stock as it is"`
	SafetyStock int64  `json:"safety_stock,omitempty" minimum:"0" maximum:"1000000000"`
	Status      string `json:"status,omitempty" enum:"active,inactive"`
}

type productIn struct {
	Code       string  `json:"code" minLength:"1" maxLength:"64" doc:"Your product code, unique in the shop"`
	Name       string  `json:"name" minLength:"1" maxLength:"200"`
	CategoryID string  `json:"category_id,omitempty" maxLength:"64"`
	Status     string  `json:"status,omitempty" enum:"active,inactive"`
	SKUs       []skuIn `json:"skus" minItems:"1" maxItems:"100"`
}

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
	huma.Register(s.api, op("upsert-products", http.MethodPut, "/api/v1/products", "Create or update products and their SKUs by code (bulk)", "Catalog", rolesWrite),
		func(ctx context.Context, in *upsertProducts) (*struct{ Body List[commerce.SKU] }, error) {
			items := make([]commerce.ProductUpsert, len(in.Body.Items))
			for i, p := range in.Body.Items {
				items[i] = commerce.ProductUpsert{Code: p.Code, Name: p.Name, CategoryID: p.CategoryID, Status: p.Status}
				for _, k := range p.SKUs {
					items[i].SKUs = append(items[i].SKUs, commerce.SKUUpsert{Code: k.Code, Name: k.Name, Price: k.Price, Cost: k.Cost,
						Stock: k.Stock, SafetyStock: k.SafetyStock, Status: k.Status})
				}
			}
			out, err := s.cfg.Commerce.UpsertProducts(ctx, CallerFrom(ctx).Actor(), items)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body List[commerce.SKU] }{Body: List[commerce.SKU]{Items: out}}, nil
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
