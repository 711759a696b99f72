package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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

func (s *Store) UpsertProducts(ctx context.Context, shopID string, items []commerce.ProductUpsert, newID func(string) string, at time.Time, audit *commerce.AuditEntry) ([]commerce.SKU, error) {
	var out []commerce.SKU
	err := s.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		ts := TS(at)
		for _, p := range items {
			var productID string
			if err := tx.QueryRow(ctx, `INSERT INTO products (id, shop_id, code, name, category_id, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
				ON CONFLICT (shop_id, code) DO UPDATE SET name = excluded.name, category_id = excluded.category_id,
					status = excluded.status, updated_at = excluded.updated_at
				RETURNING id`, newID("prd"), shopID, p.Code, p.Name, p.CategoryID, p.Status, ts).Scan(&productID); err != nil {
				return err
			}
			for _, k := range p.SKUs {
				var id string
				var old int64
				err := tx.QueryRow(ctx, `SELECT id, stock FROM skus WHERE shop_id = $1 AND code = $2`, shopID, k.Code).Scan(&id, &old)
				isNew := errors.Is(err, sql.ErrNoRows)
				if err != nil && !isNew {
					return err
				}
				stock := old
				if k.Stock != nil {
					stock = *k.Stock
				}
				if isNew {
					id = newID("sku")
					_, err = tx.Exec(ctx, `INSERT INTO skus (id, shop_id, product_id, code, name, category_id, price, cost, stock, held, sold, safety_stock, status, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10, $11, $12)`,
						id, shopID, productID, k.Code, k.Name, p.CategoryID, k.Price, k.Cost, stock, k.SafetyStock, k.Status, ts)
				} else {
					_, err = tx.Exec(ctx, `UPDATE skus SET product_id = $1, name = $2, category_id = $3, price = $4, cost = $5,
						stock = $6, safety_stock = $7, status = $8, updated_at = $9 WHERE id = $10`,
						productID, k.Name, p.CategoryID, k.Price, k.Cost, stock, k.SafetyStock, k.Status, ts, id)
				}
				if err != nil {
					return err
				}
				if stock != old {
					if err := insertMove(ctx, tx, shopID, commerce.StockMove{ID: newID("stk"), SKUID: id, Reason: commerce.StockAdjust,
						Delta: stock - old, Note: "catalog upsert", At: at}); err != nil {
						return err
					}
				}
				sku, err := scanSKU(tx.QueryRow(ctx, `SELECT `+skuCols+` FROM skus WHERE id = $1`, id))
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
