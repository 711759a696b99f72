package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// ---- flash sales ----

func (s *Store) CreateSale(ctx context.Context, sale *peak.Sale, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		var policy string
		if sale.Guard != nil {
			b, err := json.Marshal(sale.Guard)
			if err != nil {
				return err
			}
			policy = string(b)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO flash_sales (id, shop_id, name, status, starts_at, ends_at, payment_timeout_s, guard, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, sale.ID, sale.ShopID, sale.Name, sale.Status, TS(sale.StartsAt), TS(sale.EndsAt),
			sale.PaymentTimeoutSeconds, policy, TS(sale.CreatedAt), TS(sale.UpdatedAt)); err != nil {
			return err
		}
		for i, it := range sale.Items {
			n, err := tx.ExecN(ctx, `UPDATE skus SET stock = stock - $1 WHERE shop_id = $2 AND id = $3 AND stock >= $1`, it.Allocated, sale.ShopID, it.SKUID)
			if err != nil {
				return err
			}
			if n == 0 {
				return &commerce.OutOfStockError{SKUID: it.SKUID, Requested: it.Allocated}
			}
			if err := insertMove(ctx, tx, sale.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: it.SKUID, Reason: commerce.StockFlash,
				Delta: -it.Allocated, Note: "allocated to flash sale " + sale.ID, At: sale.CreatedAt}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO flash_items (sale_id, sku_id, shop_id, position, flash_price, per_customer_limit, allocated, remaining, reserved, sold, returned)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0)`, sale.ID, it.SKUID, sale.ShopID, i, it.FlashPrice, it.PerCustomerLimit, it.Allocated, it.Allocated); err != nil {
				return err
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const saleCols = `id, shop_id, name, status, starts_at, ends_at, payment_timeout_s, guard, created_at, updated_at, ended_at`

func scanSale(r rowScanner) (peak.Sale, error) {
	var s peak.Sale
	var starts, ends, created, updated int64
	var ended sql.NullInt64
	var policy string
	err := r.Scan(&s.ID, &s.ShopID, &s.Name, &s.Status, &starts, &ends, &s.PaymentTimeoutSeconds, &policy, &created, &updated, &ended)
	s.StartsAt, s.EndsAt, s.CreatedAt, s.UpdatedAt, s.EndedAt = FromTS(starts), FromTS(ends), FromTS(created), FromTS(updated), FromNullTS(ended)
	if err == nil && policy != "" {
		s.Guard = &guard.PolicySpec{}
		err = json.Unmarshal([]byte(policy), s.Guard)
	}
	return s, err
}

// withItems loads the items of the sales.
func (s *Store) withItems(ctx context.Context, sales []peak.Sale) ([]peak.Sale, error) {
	for i := range sales {
		rows, err := s.Query(ctx, `SELECT sku_id, flash_price, per_customer_limit, allocated, remaining, reserved, sold, returned
			FROM flash_items WHERE sale_id = $1 ORDER BY position`, sales[i].ID)
		items, err := rowsAll(rows, err, func(r *sql.Rows) (peak.SaleItem, error) {
			var it peak.SaleItem
			err := r.Scan(&it.SKUID, &it.FlashPrice, &it.PerCustomerLimit, &it.Allocated, &it.Remaining, &it.Reserved, &it.Sold, &it.Returned)
			return it, err
		})
		if err != nil {
			return nil, err
		}
		sales[i].Items = items
	}
	return sales, nil
}

func (s *Store) GetSale(ctx context.Context, shopID, id string) (*peak.Sale, error) {
	return getByID(ctx, s, "flash_sales", saleCols, shopID, id, scanSale, s.withItems)
}

func (s *Store) ListSales(ctx context.Context, shopID string, p commerce.Page) ([]peak.Sale, error) {
	return listPage(ctx, s, "flash_sales", saleCols, shopID, p, scanSale, s.withItems)
}

func (s *Store) LiveSales(ctx context.Context) ([]peak.Sale, error) {
	rows, err := s.Query(ctx, `SELECT `+saleCols+` FROM flash_sales WHERE status = $1 ORDER BY id`, peak.SaleScheduled)
	sales, err := rowsAll(rows, err, func(r *sql.Rows) (peak.Sale, error) { return scanSale(r) })
	if err != nil {
		return nil, err
	}
	return s.withItems(ctx, sales)
}

func (s *Store) EndSale(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE flash_sales SET status = $1, ended_at = $2, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5`,
			peak.SaleEnded, TS(at), shopID, id, peak.SaleScheduled)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		type left struct {
			sku string
			n   int64
		}
		rows, err := tx.Query(ctx, `SELECT sku_id, remaining FROM flash_items WHERE sale_id = $1 AND remaining > 0 ORDER BY sku_id`, id)
		items, err := rowsAll(rows, err,
			func(r *sql.Rows) (left, error) {
				var l left
				return l, r.Scan(&l.sku, &l.n)
			})
		if err != nil {
			return err
		}
		for _, l := range items {
			if err := returnFlashUnits(ctx, tx, shopID, id, l.sku, l.n, "", at); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE flash_items SET remaining = remaining - $1, returned = returned + $1 WHERE sale_id = $2 AND sku_id = $3`, l.n, id, l.sku); err != nil {
				return err
			}
		}
		if audit != nil {
			audit.At = at
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// returnFlashUnits gives n units of a sale back to the SKU's free stock.
func returnFlashUnits(ctx context.Context, tx *Tx, shopID, saleID, skuID string, n int64, orderID string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE skus SET stock = stock + $1 WHERE shop_id = $2 AND id = $3`, n, shopID, skuID); err != nil {
		return err
	}
	return insertMove(ctx, tx, shopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: skuID, Reason: commerce.StockFlash,
		Delta: n, OrderID: orderID, Note: "returned from flash sale " + saleID, At: at})
}

func (s *Store) DueSales(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error) {
	rows, err := s.Query(ctx, `SELECT shop_id, id FROM flash_sales WHERE status = $1 AND ends_at <= $2 ORDER BY ends_at LIMIT $3`, peak.SaleScheduled, TS(at), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.OrderRef, error) {
		var ref commerce.OrderRef
		return ref, r.Scan(&ref.ShopID, &ref.ID)
	})
}

func (s *Store) Reservations(ctx context.Context, shopID, saleID string) ([]peak.Reservation, error) {
	rows, err := s.Query(ctx, `SELECT sale_id, sku_id, order_id, customer_id, quantity, idem_key, state, created_at
		FROM flash_reservations WHERE shop_id = $1 AND sale_id = $2 ORDER BY order_id`, shopID, saleID)
	return rowsAll(rows, err, func(r *sql.Rows) (peak.Reservation, error) {
		var v peak.Reservation
		var at int64
		err := r.Scan(&v.SaleID, &v.SKUID, &v.OrderID, &v.CustomerID, &v.Quantity, &v.IdemKey, &v.State, &at)
		v.CreatedAt = FromTS(at)
		return v, err
	})
}

func (s *Store) AddReminder(ctx context.Context, shopID string, r peak.Reminder) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO flash_reminders (sale_id, customer_id, shop_id, remind_at, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (sale_id, customer_id) DO UPDATE SET remind_at = excluded.remind_at`,
			r.SaleID, r.CustomerID, shopID, TS(r.RemindAt), TS(r.CreatedAt))
		return err
	})
}

func (s *Store) ListReminders(ctx context.Context, shopID, saleID string, p commerce.Page) ([]peak.Reminder, error) {
	rows, err := s.Query(ctx, `SELECT sale_id, customer_id, remind_at, created_at FROM flash_reminders
		WHERE shop_id = $1 AND sale_id = $2 AND customer_id > $3 ORDER BY customer_id LIMIT $4`, shopID, saleID, p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (peak.Reminder, error) {
		var v peak.Reminder
		var at, created int64
		err := r.Scan(&v.SaleID, &v.CustomerID, &at, &created)
		v.RemindAt, v.CreatedAt = FromTS(at), FromTS(created)
		return v, err
	})
}

// flashHolds reserve units from a sale's allocation (Ref is
// peak.ItemKey), within the per-customer limit in the hold's bucket.
type flashHolds struct{}

func splitItem(ref string) (sale, sku string, err error) {
	sale, sku, ok := strings.Cut(ref, "/")
	if !ok {
		return "", "", fmt.Errorf("flash hold ref %q is not sale/sku", ref)
	}
	return sale, sku, nil
}

func (flashHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	sale, sku, err := splitItem(h.Ref)
	if err != nil {
		return err
	}
	n, err := tx.ExecN(ctx, `UPDATE flash_items SET remaining = remaining - $1, reserved = reserved + $1 WHERE sale_id = $2 AND sku_id = $3 AND shop_id = $4 AND remaining >= $1`,
		h.Quantity, sale, sku, o.ShopID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("flash item %s: %w", h.Ref, commerce.ErrStale)
	}
	if err := (usageHolds{}).Take(ctx, tx, o, h); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO flash_reservations (order_id, shop_id, sale_id, sku_id, customer_id, quantity, idem_key, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, o.ID, o.ShopID, sale, sku, o.CustomerID, h.Quantity, h.Key, commerce.HoldHeld, TS(o.CreatedAt))
	return err
}

func (flashHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	sale, sku, err := splitItem(h.Ref)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE flash_items SET reserved = reserved - $1, sold = sold + $1 WHERE sale_id = $2 AND sku_id = $3`, h.Quantity, sale, sku); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE skus SET sold = sold + $1 WHERE shop_id = $2 AND id = $3`, h.Quantity, o.ShopID, sku); err != nil {
		return err
	}
	if err := insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: sku, Reason: commerce.StockSell,
		SoldDelta: h.Quantity, OrderID: o.ID, Note: "flash sale " + sale, At: at}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE flash_reservations SET state = $1 WHERE order_id = $2`, commerce.HoldCommitted, o.ID)
	return err
}

func (flashHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	sale, sku, err := splitItem(h.Ref)
	if err != nil {
		return err
	}
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM flash_sales WHERE id = $1`, sale).Scan(&status); err != nil {
		return err
	}
	if status == peak.SaleEnded {
		// The sale is over: the units go straight back to the SKU.
		if _, err := tx.Exec(ctx, `UPDATE flash_items SET reserved = reserved - $1, returned = returned + $1 WHERE sale_id = $2 AND sku_id = $3`, h.Quantity, sale, sku); err != nil {
			return err
		}
		if err := returnFlashUnits(ctx, tx, o.ShopID, sale, sku, h.Quantity, o.ID, at); err != nil {
			return err
		}
	} else if _, err := tx.Exec(ctx, `UPDATE flash_items SET reserved = reserved - $1, remaining = remaining + $1 WHERE sale_id = $2 AND sku_id = $3`, h.Quantity, sale, sku); err != nil {
		return err
	}
	if err := (usageHolds{}).Release(ctx, tx, o, h, at); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE flash_reservations SET state = $1 WHERE order_id = $2`, commerce.HoldReleased, o.ID)
	return err
}
