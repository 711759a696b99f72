package commerce

import (
	"context"
	"errors"
	"fmt"

	"github.com/carnivalhq/carnival/internal/money"
)

// Input bounds shared by the catalog, customers and orders.
const (
	MaxCodeLen     = 64
	MaxNameLen     = 200
	MaxQuantity    = 1_000_000
	MaxStock       = 1_000_000_000
	MaxBulkItems   = 1000
	MaxOrderLines  = 200
	MaxTags        = 50
	MaxPointsDelta = 1_000_000_000
)

func checkAmount(field string, v int64) error {
	if v < 0 || v > money.MaxAmount {
		return Invalid(field, "out_of_range", "%s must be 0 to %d fen", field, money.MaxAmount)
	}
	return nil
}

// UpsertCategories creates or replaces categories by id; parents must exist
// in the shop or in the same request, and the tree has no cycles.
func (s *Service) UpsertCategories(ctx context.Context, a Actor, cats []Category) ([]Category, error) {
	if len(cats) == 0 || len(cats) > MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send 1 to %d categories", MaxBulkItems)
	}
	existing, err := s.store.ListCategories(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	parent := map[string]string{}
	for _, c := range existing {
		parent[c.ID] = c.ParentID
	}
	for i := range cats {
		c := &cats[i]
		f := fmt.Sprintf("items[%d]", i)
		if c.ID == "" {
			c.ID = s.newID("cat")
		} else if err := checkText(f+".id", c.ID, true, MaxCodeLen); err != nil {
			return nil, err
		}
		if err := checkText(f+".name", c.Name, true, MaxNameLen); err != nil {
			return nil, err
		}
		c.ShopID = a.ShopID
		parent[c.ID] = c.ParentID
	}
	for i, c := range cats {
		if c.ParentID == "" {
			continue
		}
		if _, ok := parent[c.ParentID]; !ok {
			return nil, Invalid(fmt.Sprintf("items[%d].parent_id", i), "unknown_category", "parent category %q does not exist", c.ParentID)
		}
		seen := map[string]bool{c.ID: true}
		for p := c.ParentID; p != ""; p = parent[p] {
			if seen[p] {
				return nil, Invalid(fmt.Sprintf("items[%d].parent_id", i), "category_cycle", "category %q would be its own ancestor", c.ID)
			}
			seen[p] = true
		}
	}
	if err := s.store.UpsertCategories(ctx, a.ShopID, cats, s.Audit(a, "upsert", "categories", "", nil, cats)); err != nil {
		return nil, fmt.Errorf("upsert categories: %w", err)
	}
	return cats, nil
}

// ListCategories returns the shop's categories.
func (s *Service) ListCategories(ctx context.Context, shopID string) ([]Category, error) {
	return s.store.ListCategories(ctx, shopID)
}

// UpsertProducts validates and applies a bulk upsert of products with SKUs.
func (s *Service) UpsertProducts(ctx context.Context, a Actor, items []ProductUpsert) ([]SKU, error) {
	if len(items) == 0 || len(items) > MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send 1 to %d products", MaxBulkItems)
	}
	cats, err := s.store.ListCategories(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(cats))
	for _, c := range cats {
		known[c.ID] = true
	}
	productCodes := map[string]bool{}
	skuCodes := map[string]bool{}
	nSKU := 0
	for i := range items {
		p := &items[i]
		f := fmt.Sprintf("items[%d]", i)
		if err := checkText(f+".code", p.Code, true, MaxCodeLen); err != nil {
			return nil, err
		}
		if productCodes[p.Code] {
			return nil, Invalid(f+".code", "duplicate", "product code %q appears twice", p.Code)
		}
		productCodes[p.Code] = true
		if err := checkText(f+".name", p.Name, true, MaxNameLen); err != nil {
			return nil, err
		}
		if p.CategoryID != "" && !known[p.CategoryID] {
			return nil, Invalid(f+".category_id", "unknown_category", "category %q does not exist", p.CategoryID)
		}
		if p.Status == "" {
			p.Status = SKUActive
		}
		if p.Status != SKUActive && p.Status != SKUInactive {
			return nil, Invalid(f+".status", "invalid_enum", "status is active or inactive")
		}
		if len(p.SKUs) == 0 {
			return nil, Invalid(f+".skus", "required", "a product needs at least one SKU")
		}
		for j := range p.SKUs {
			k := &p.SKUs[j]
			g := fmt.Sprintf("%s.skus[%d]", f, j)
			if err := checkText(g+".code", k.Code, true, MaxCodeLen); err != nil {
				return nil, err
			}
			if skuCodes[k.Code] {
				return nil, Invalid(g+".code", "duplicate", "SKU code %q appears twice", k.Code)
			}
			skuCodes[k.Code] = true
			if k.Name == "" {
				k.Name = p.Name
			}
			if err := checkText(g+".name", k.Name, true, MaxNameLen); err != nil {
				return nil, err
			}
			if err := checkAmount(g+".price", k.Price); err != nil {
				return nil, err
			}
			if err := checkAmount(g+".cost", k.Cost); err != nil {
				return nil, err
			}
			if k.Stock != nil && (*k.Stock < 0 || *k.Stock > MaxStock) {
				return nil, Invalid(g+".stock", "out_of_range", "stock must be 0 to %d", MaxStock)
			}
			if k.SafetyStock < 0 || k.SafetyStock > MaxStock {
				return nil, Invalid(g+".safety_stock", "out_of_range", "safety stock must be 0 to %d", MaxStock)
			}
			if k.Status == "" {
				k.Status = SKUActive
			}
			if k.Status != SKUActive && k.Status != SKUInactive {
				return nil, Invalid(g+".status", "invalid_enum", "status is active or inactive")
			}
			nSKU++
		}
	}
	if nSKU > 5*MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send at most %d SKUs at once", 5*MaxBulkItems)
	}
	skus, err := s.store.UpsertProducts(ctx, a.ShopID, items, s.newID, s.now().UTC(), s.Audit(a, "upsert", "products", "", nil, items))
	s.skus.clear()
	if err != nil {
		return nil, fmt.Errorf("upsert products: %w", err)
	}
	return skus, nil
}

// Product returns a product.
func (s *Service) Product(ctx context.Context, shopID, id string) (*Product, error) {
	p, err := s.store.GetProduct(ctx, shopID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("product", id)
	}
	return p, err
}

// ProductsByID returns the shop's products found among ids.
func (s *Service) ProductsByID(ctx context.Context, shopID string, ids []string) (map[string]*Product, error) {
	return s.store.ProductsByID(ctx, shopID, ids)
}

// ListProducts pages through products.
func (s *Service) ListProducts(ctx context.Context, shopID string, p Page) ([]Product, error) {
	return s.store.ListProducts(ctx, shopID, p.Normalized())
}

// SKU returns a SKU.
func (s *Service) SKU(ctx context.Context, shopID, id string) (*SKU, error) {
	k, err := s.store.GetSKU(ctx, shopID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("sku", id)
	}
	return k, err
}

// ListSKUs pages through SKUs.
func (s *Service) ListSKUs(ctx context.Context, shopID string, f SKUFilter, p Page) ([]SKU, error) {
	return s.store.ListSKUs(ctx, shopID, f, p.Normalized())
}

// AdjustStock adds delta (may be negative) to a SKU's free stock.
func (s *Service) AdjustStock(ctx context.Context, a Actor, skuID string, delta int64, note string) (*SKU, error) {
	if delta == 0 || delta > MaxStock || delta < -MaxStock {
		return nil, Invalid("delta", "out_of_range", "delta must be non-zero and within ±%d", MaxStock)
	}
	if err := checkFreeText("note", note, false, MaxNameLen); err != nil {
		return nil, err
	}
	before, err := s.SKU(ctx, a.ShopID, skuID)
	if err != nil {
		return nil, err
	}
	after, err := s.store.AdjustStock(ctx, a.ShopID, skuID, delta, note, s.newID("stk"), s.now().UTC(),
		s.Audit(a, "adjust_stock", "sku", skuID, map[string]int64{"stock": before.Stock}, map[string]int64{"delta": delta}))
	switch {
	case errors.Is(err, ErrOutOfStock):
		return nil, Invalid("delta", "stock_below_zero", "stock %d cannot go down by %d", before.Stock, -delta)
	case errors.Is(err, ErrNotFound):
		return nil, NotFound("sku", skuID)
	}
	return after, err
}

// StockMoves pages through a SKU's stock ledger.
func (s *Service) StockMoves(ctx context.Context, shopID, skuID string, p Page) ([]StockMove, error) {
	if _, err := s.SKU(ctx, shopID, skuID); err != nil {
		return nil, err
	}
	return s.store.ListStockMoves(ctx, shopID, skuID, p.Normalized())
}
