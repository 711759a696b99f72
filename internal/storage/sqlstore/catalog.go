package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func (s *Store) UpsertCategories(ctx context.Context, shopID string, cats []commerce.Category, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		for _, c := range cats {
			if _, err := tx.Exec(ctx, `INSERT INTO categories (shop_id, id, parent_id, name) VALUES ($1, $2, $3, $4)
				ON CONFLICT (shop_id, id) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name`,
				shopID, c.ID, c.ParentID, c.Name); err != nil {
				return err
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func (s *Store) ListCategories(ctx context.Context, shopID string) ([]commerce.Category, error) {
	rows, err := s.Query(ctx, `SELECT id, parent_id, name FROM categories WHERE shop_id = $1 ORDER BY id`, shopID)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Category, error) {
		c := commerce.Category{ShopID: shopID}
		return c, r.Scan(&c.ID, &c.ParentID, &c.Name)
	})
}

func (s *Store) CategoryAncestors(ctx context.Context, shopID, categoryID string) ([]string, error) {
	cats, err := s.ListCategories(ctx, shopID)
	if err != nil {
		return nil, err
	}
	parent := make(map[string]string, len(cats))
	for _, c := range cats {
		parent[c.ID] = c.ParentID
	}
	var out []string
	for id := categoryID; id != "" && len(out) < len(cats)+1; id = parent[id] {
		out = append(out, id)
	}
	return out, nil
}

func (s *Store) UpsertProducts(ctx context.Context, shopID string, items []commerce.ProductPatch, newID func(string) string, at time.Time, audit *commerce.AuditEntry) ([]commerce.SKU, error) {
	var out []commerce.SKU
	err := s.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		ts := TS(at)
		for i, p := range items {
			productID, name, category, err := upsertProduct(ctx, tx, shopID, i, p, newID, ts)
			if err != nil {
				return err
			}
			for j, k := range p.SKUs {
				sku, err := upsertSKU(ctx, tx, shopID, productID, name, category, k, newID, at)
				if errors.Is(err, errMissingPrice) {
					return &commerce.MissingError{Item: i, SKU: j, Fields: []string{"price"}}
				}
				if err != nil {
					return err
				}
				out = append(out, sku)
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
	return out, err
}

// productSets adds the columns p sets to l.
func productSets(l *setList, p commerce.ProductPatch) {
	if p.Name != nil {
		l.add("name", *p.Name)
	}
	if p.CategoryID != nil {
		l.add("category_id", *p.CategoryID)
	}
	if p.Status != nil {
		l.add("status", *p.Status)
	}
}

// upsertProduct writes the product fields p sets, creating the product
// when its code is new, and moves its SKUs to a category p sets. It
// returns the product's id, name and category as they now are.
func upsertProduct(ctx context.Context, tx *Tx, shopID string, i int, p commerce.ProductPatch, newID func(string) string, ts int64) (id, name, category string, err error) {
	for attempt := 0; attempt < 2; attempt++ {
		var l setList
		productSets(&l, p)
		l.add("updated_at", ts)
		q := `UPDATE products SET ` + l.sql() + ` WHERE shop_id = ` + l.arg(shopID) + ` AND code = ` + l.arg(p.Code) + ` RETURNING id, name, category_id`
		err = tx.QueryRow(ctx, q, l.args...).Scan(&id, &name, &category)
		if err == nil {
			if p.CategoryID != nil {
				_, err = tx.Exec(ctx, `UPDATE skus SET category_id = $1 WHERE shop_id = $2 AND product_id = $3`, category, shopID, id)
			}
			return id, name, category, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", "", err
		}
		var missing []string
		if p.Name == nil {
			missing = append(missing, "name")
		}
		if len(p.SKUs) == 0 {
			missing = append(missing, "skus")
		}
		if missing != nil {
			return "", "", "", &commerce.MissingError{Item: i, SKU: -1, Fields: missing}
		}
		status := commerce.SKUActive
		if p.Status != nil {
			status = *p.Status
		}
		id, name, category = newID("prd"), *p.Name, deref(p.CategoryID)
		n, err := tx.ExecN(ctx, `INSERT INTO products (id, shop_id, code, name, category_id, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (shop_id, code) DO NOTHING`, id, shopID, p.Code, name, category, status, ts)
		if err != nil || n == 1 {
			return id, name, category, err
		}
		// Another writer created the code meanwhile: update it instead.
	}
	return "", "", "", fmt.Errorf("product %q: %w", p.Code, commerce.ErrStale)
}

// errMissingPrice: a new SKU was sent without a price.
var errMissingPrice = errors.New("a new SKU needs a price")

// skuSets adds the columns k sets, but stock, to l.
func skuSets(l *setList, k commerce.SKUPatch) {
	if k.Name != nil {
		l.add("name", *k.Name)
	}
	if k.Price != nil {
		l.add("price", *k.Price)
	}
	if k.Cost != nil {
		l.add("cost", *k.Cost)
	}
	if k.SafetyStock != nil {
		l.add("safety_stock", *k.SafetyStock)
	}
	if k.Status != nil {
		l.add("status", *k.Status)
	}
}

// upsertSKU writes the fields k sets of the SKU with k's code, creating it
// under the product when the code is new (named after the product unless k
// names it); the SKU takes the product and its category either way.
func upsertSKU(ctx context.Context, tx *Tx, shopID, productID, productName, category string, k commerce.SKUPatch, newID func(string) string, at time.Time) (commerce.SKU, error) {
	ts := TS(at)
	var id string
	for attempt := 0; id == "" && attempt < 2; attempt++ {
		var l setList
		l.add("product_id", productID)
		l.add("category_id", category)
		skuSets(&l, k)
		l.add("updated_at", ts)
		q := `UPDATE skus SET ` + l.sql() + ` WHERE shop_id = ` + l.arg(shopID) + ` AND code = ` + l.arg(k.Code) + ` RETURNING id`
		err := tx.QueryRow(ctx, q, l.args...).Scan(&id)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return commerce.SKU{}, err
		}
		if k.Price == nil {
			return commerce.SKU{}, errMissingPrice
		}
		name, status := productName, commerce.SKUActive
		if k.Name != nil {
			name = *k.Name
		}
		if k.Status != nil {
			status = *k.Status
		}
		newSKU := newID("sku")
		n, err := tx.ExecN(ctx, `INSERT INTO skus (id, shop_id, product_id, code, name, category_id, price, cost, stock, held, sold, safety_stock, status, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, $9, $10, $11) ON CONFLICT (shop_id, code) DO NOTHING`,
			newSKU, shopID, productID, k.Code, name, category, *k.Price, deref(k.Cost), deref(k.SafetyStock), status, ts)
		if err != nil {
			return commerce.SKU{}, err
		}
		if n == 1 {
			id = newSKU
		}
	}
	if id == "" {
		return commerce.SKU{}, fmt.Errorf("sku %q: %w", k.Code, commerce.ErrStale)
	}
	if k.Stock != nil {
		if err := setStock(ctx, tx, shopID, id, *k.Stock, newID("stk"), "catalog upsert", at); err != nil {
			return commerce.SKU{}, err
		}
	}
	return scanSKU(tx.QueryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE id = $1`, id))
}

// setStock sets SKU id's free stock to v, recording the change in the
// ledger. An earlier update in tx has locked the row.
func setStock(ctx context.Context, tx *Tx, shopID, id string, v int64, moveID, note string, at time.Time) error {
	var old int64
	if err := tx.QueryRow(ctx, `SELECT stock FROM skus WHERE id = $1`, id).Scan(&old); err != nil {
		return err
	}
	if v == old {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE skus SET stock = $1 WHERE id = $2`, v, id); err != nil {
		return err
	}
	return insertMove(ctx, tx, shopID, commerce.StockMove{ID: moveID, SKUID: id, Reason: commerce.StockAdjust, Delta: v - old, Note: note, At: at})
}

func (s *Store) PatchProduct(ctx context.Context, shopID, id string, p commerce.ProductPatch, at time.Time, audit *commerce.AuditEntry) (*commerce.Product, error) {
	var out commerce.Product
	err := s.Write(ctx, func(tx *Tx) error {
		var l setList
		productSets(&l, p)
		l.add("updated_at", TS(at))
		q := `UPDATE products SET ` + l.sql() + ` WHERE shop_id = ` + l.arg(shopID) + ` AND id = ` + l.arg(id)
		n, err := tx.ExecN(ctx, q, l.args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		if p.CategoryID != nil {
			if _, err := tx.Exec(ctx, `UPDATE skus SET category_id = $1 WHERE shop_id = $2 AND product_id = $3`, *p.CategoryID, shopID, id); err != nil {
				return err
			}
		}
		if out, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productCols+` FROM products WHERE id = $1`, id)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) PatchSKU(ctx context.Context, shopID, id string, p commerce.SKUPatch, moveID string, at time.Time, audit *commerce.AuditEntry) (*commerce.SKU, error) {
	var out commerce.SKU
	err := s.Write(ctx, func(tx *Tx) error {
		var l setList
		skuSets(&l, p)
		l.add("updated_at", TS(at))
		q := `UPDATE skus SET ` + l.sql() + ` WHERE shop_id = ` + l.arg(shopID) + ` AND id = ` + l.arg(id)
		n, err := tx.ExecN(ctx, q, l.args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrNotFound
		}
		if p.Stock != nil {
			if err := setStock(ctx, tx, shopID, id, *p.Stock, moveID, "sku patch", at); err != nil {
				return err
			}
		}
		if out, err = scanSKU(tx.QueryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE id = $1`, id)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func insertMove(ctx context.Context, tx *Tx, shopID string, m commerce.StockMove) error {
	_, err := tx.Exec(ctx, `INSERT INTO stock_moves (id, shop_id, sku_id, reason, delta, held_delta, sold_delta, order_id, note, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, shopID, m.SKUID, m.Reason, m.Delta, m.HeldDelta, m.SoldDelta, m.OrderID, m.Note, TS(m.At))
	return err
}

const skuCols = `id, product_id, code, name, category_id, price, cost, stock, held, sold, safety_stock, status, updated_at, shop_id`

func scanSKU(r rowScanner) (commerce.SKU, error) {
	var k commerce.SKU
	var upd int64
	err := r.Scan(&k.ID, &k.ProductID, &k.Code, &k.Name, &k.CategoryID, &k.Price, &k.Cost, &k.Stock, &k.Held, &k.Sold, &k.SafetyStock, &k.Status, &upd, &k.ShopID)
	k.UpdatedAt = FromTS(upd)
	return k, err
}

const productCols = `id, code, name, category_id, status, created_at, updated_at, shop_id`

func scanProduct(r rowScanner) (commerce.Product, error) {
	var p commerce.Product
	var c, u int64
	err := r.Scan(&p.ID, &p.Code, &p.Name, &p.CategoryID, &p.Status, &c, &u, &p.ShopID)
	p.CreatedAt, p.UpdatedAt = FromTS(c), FromTS(u)
	return p, err
}

func (s *Store) GetProduct(ctx context.Context, shopID, id string) (*commerce.Product, error) {
	p, err := scanProduct(s.QueryRow(ctx, `SELECT `+productCols+` FROM products WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	return &p, err
}

func (s *Store) ListProducts(ctx context.Context, shopID string, p commerce.Page) ([]commerce.Product, error) {
	rows, err := s.Query(ctx, `SELECT `+productCols+` FROM products WHERE shop_id = $1 AND id > $2 ORDER BY id LIMIT $3`, shopID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Product, error) { return scanProduct(r) })
}

func (s *Store) ProductsByID(ctx context.Context, shopID string, ids []string) (map[string]*commerce.Product, error) {
	out := make(map[string]*commerce.Product, len(ids))
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, shopID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.Query(ctx, `SELECT `+productCols+` FROM products WHERE shop_id = $1 AND id IN (`+placeholders(2, len(chunk))+`)`, args...)
		ps, err := rowsAll(rows, err, func(r *sql.Rows) (commerce.Product, error) { return scanProduct(r) })
		if err != nil {
			return nil, err
		}
		for i := range ps {
			out[ps[i].ID] = &ps[i]
		}
	}
	return out, nil
}

func (s *Store) GetSKU(ctx context.Context, shopID, id string) (*commerce.SKU, error) {
	k, err := scanSKU(s.QueryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	return &k, err
}

func (s *Store) SKUsByID(ctx context.Context, shopID string, ids []string) (map[string]*commerce.SKU, error) {
	out := make(map[string]*commerce.SKU, len(ids))
	// One statement per chunk keeps the parameter count portable.
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		q := `SELECT ` + skuCols + ` FROM skus WHERE shop_id = $1 AND id IN (` + placeholders(2, len(chunk)) + `)`
		args := make([]any, 0, len(chunk)+1)
		args = append(args, shopID)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.Query(ctx, q, args...)
		skus, err := rowsAll(rows, err, func(r *sql.Rows) (commerce.SKU, error) { return scanSKU(r) })
		if err != nil {
			return nil, err
		}
		for i := range skus {
			out[skus[i].ID] = &skus[i]
		}
	}
	return out, nil
}

// placeholders renders "$from, $from+1, …" n times.
func placeholders(from, n int) string {
	b := make([]byte, 0, n*5)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = appendInt(b, from+i)
	}
	return string(b)
}

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

func (s *Store) ListSKUs(ctx context.Context, shopID string, f commerce.SKUFilter, p commerce.Page) ([]commerce.SKU, error) {
	rows, err := s.Query(ctx, `SELECT `+skuCols+` FROM skus WHERE shop_id = $1 AND id > $2
		AND ($3 = '' OR product_id = $3) AND ($4 = '' OR category_id = $4) AND ($5 = '' OR status = $5)
		ORDER BY id LIMIT $6`, shopID, p.Cursor, f.ProductID, f.CategoryID, f.Status, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.SKU, error) { return scanSKU(r) })
}

func (s *Store) AdjustStock(ctx context.Context, shopID, skuID string, delta int64, note, moveID string, at time.Time, audit *commerce.AuditEntry) (*commerce.SKU, error) {
	var out commerce.SKU
	err := s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE skus SET stock = stock + $1, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND stock + $1 >= 0`,
			delta, TS(at), shopID, skuID)
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM skus WHERE shop_id = $1 AND id = $2`, shopID, skuID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return commerce.ErrNotFound
			}
			return commerce.ErrOutOfStock
		}
		if err := insertMove(ctx, tx, shopID, commerce.StockMove{ID: moveID, SKUID: skuID, Reason: commerce.StockAdjust, Delta: delta, Note: note, At: at}); err != nil {
			return err
		}
		if out, err = scanSKU(tx.QueryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE id = $1`, skuID)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) ListStockMoves(ctx context.Context, shopID, skuID string, p commerce.Page) ([]commerce.StockMove, error) {
	rows, err := s.Query(ctx, `SELECT id, sku_id, reason, delta, held_delta, sold_delta, order_id, note, at FROM stock_moves
		WHERE shop_id = $1 AND sku_id = $2 AND id > $3 ORDER BY id LIMIT $4`, shopID, skuID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.StockMove, error) {
		var m commerce.StockMove
		var at int64
		err := r.Scan(&m.ID, &m.SKUID, &m.Reason, &m.Delta, &m.HeldDelta, &m.SoldDelta, &m.OrderID, &m.Note, &at)
		m.At = FromTS(at)
		return m, err
	})
}
