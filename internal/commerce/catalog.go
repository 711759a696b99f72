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

// UpsertProducts creates or updates products with SKUs by code, writing
// every field of each (an empty category clears it; an empty SKU name is
// the product's; an empty status is active; a nil Stock leaves stock as it
// is). MergeProducts writes only the fields a caller sent.
func (s *Service) UpsertProducts(ctx context.Context, a Actor, items []ProductUpsert) ([]SKU, error) {
	ps := make([]ProductPatch, len(items))
	for i, p := range items {
		pp := ProductPatch{Code: p.Code, Name: &p.Name, CategoryID: &p.CategoryID, Status: orActive(p.Status)}
		if p.SKUs == nil {
			pp.SKUs = []SKUPatch{}
		}
		for _, k := range p.SKUs {
			name := k.Name
			if name == "" {
				name = p.Name
			}
			pp.SKUs = append(pp.SKUs, SKUPatch{Code: k.Code, Name: &name, Price: &k.Price, Cost: &k.Cost, Stock: k.Stock,
				SafetyStock: &k.SafetyStock, Status: orActive(k.Status)})
		}
		ps[i] = pp
	}
	return s.MergeProducts(ctx, a, ps)
}

func orActive(status string) *string {
	if status == "" {
		status = SKUActive
	}
	return &status
}

// MergeProducts validates and applies a bulk upsert of products with SKUs,
// keyed by code, changing only the fields each patch sets. A new product
// needs a name and SKUs, a new SKU a price (422 required naming them).
func (s *Service) MergeProducts(ctx context.Context, a Actor, items []ProductPatch) ([]SKU, error) {
	if len(items) == 0 || len(items) > MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send 1 to %d products", MaxBulkItems)
	}
	known, err := s.categoryIDs(ctx, a.ShopID)
	if err != nil {
		return nil, err
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
		if err := p.check(f+".", known); err != nil {
			return nil, err
		}
		if p.SKUs != nil && len(p.SKUs) == 0 {
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
			if err := k.check(g + "."); err != nil {
				return nil, err
			}
			nSKU++
		}
	}
	if nSKU > 5*MaxBulkItems {
		return nil, Invalid("items", "bad_count", "send at most %d SKUs at once", 5*MaxBulkItems)
	}
	skus, err := s.store.UpsertProducts(ctx, a.ShopID, items, s.newID, s.now().UTC(), s.Audit(a, "upsert", "products", "", nil, items))
	s.skus.clear()
	var me *MissingError
	if errors.As(err, &me) {
		return nil, me.invalid()
	}
	if err != nil {
		return nil, fmt.Errorf("upsert products: %w", err)
	}
	return skus, nil
}

func (s *Service) categoryIDs(ctx context.Context, shopID string) (map[string]bool, error) {
	cats, err := s.store.ListCategories(ctx, shopID)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(cats))
	for _, c := range cats {
		known[c.ID] = true
	}
	return known, nil
}

// PatchProduct changes the name, category or status of the shop's product
// id, as p sets them (p's code and SKUs are ignored); its SKUs follow a
// new category. Audited with before and after.
func (s *Service) PatchProduct(ctx context.Context, a Actor, id string, p ProductPatch) (*Product, error) {
	p.Code, p.SKUs = "", nil
	known, err := s.categoryIDs(ctx, a.ShopID)
	if err != nil {
		return nil, err
	}
	if err := p.check("", known); err != nil {
		return nil, err
	}
	before, err := s.Product(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.store.PatchProduct(ctx, a.ShopID, id, p, s.now().UTC(), s.Audit(a, "update", "product", id, before, p))
	s.skus.clear()
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("product", id)
	}
	return out, err
}

// PatchSKU changes the fields p sets of the shop's SKU id (p's code is
// ignored); a stock it sets is recorded in the ledger. Audited with before
// and after.
func (s *Service) PatchSKU(ctx context.Context, a Actor, id string, p SKUPatch) (*SKU, error) {
	p.Code = ""
	if err := p.check(""); err != nil {
		return nil, err
	}
	before, err := s.SKU(ctx, a.ShopID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.store.PatchSKU(ctx, a.ShopID, id, p, s.newID("stk"), s.now().UTC(), s.Audit(a, "update", "sku", id, before, p))
	s.skus.drop(a.ShopID + "/" + id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound("sku", id)
	}
	return out, err
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
