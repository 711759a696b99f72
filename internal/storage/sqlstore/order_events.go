package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// OrdersSince pages by id through the orders of every shop placed, paid
// or cancelled at or after since (without lines; Holds carry only a
// balance order's claim on its deposit).
func (s *Store) OrdersSince(ctx context.Context, since time.Time, after string, limit int) ([]commerce.Order, error) {
	rows, err := s.Query(ctx, `SELECT `+orderCols+`,
 COALESCE((SELECT MIN(h.ref) FROM holds h WHERE h.order_id = orders.id AND h.kind = $1), '')
FROM orders WHERE id > $2 AND (created_at >= $3 OR paid_at >= $3 OR cancelled_at >= $3) ORDER BY id LIMIT $4`,
		commerce.HoldPresaleBalance, after, TS(since), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Order, error) {
		var balanceOf string
		o, err := scanOrder(extraScan{r, &balanceOf})
		if err == nil && balanceOf != "" {
			o.Holds = []commerce.Hold{{Kind: commerce.HoldPresaleBalance, Ref: balanceOf}}
		}
		return o, err
	})
}

// extraScan scans an order row followed by more columns.
type extraScan struct {
	r    *sql.Rows
	more *string
}

func (e extraScan) Scan(dest ...any) error { return e.r.Scan(append(dest, e.more)...) }

// RefundsSince pages by id through the refunds made at or after since,
// with their order's customer and attribution.
func (s *Store) RefundsSince(ctx context.Context, since time.Time, after string, limit int) ([]commerce.RefundRecord, error) {
	rows, err := s.Query(ctx, `SELECT r.id, r.shop_id, r.order_id, r.actor, o.customer_id, o.channel, o.campaign, r.amount, r.at
FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id > $1 AND r.at >= $2 ORDER BY r.id LIMIT $3`, after, TS(since), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.RefundRecord, error) {
		var f commerce.RefundRecord
		var at int64
		err := r.Scan(&f.ID, &f.ShopID, &f.OrderID, &f.Actor, &f.CustomerID, &f.Channel, &f.Campaign, &f.Amount, &at)
		f.At = FromTS(at)
		return f, err
	})
}
