package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
)

// HoldHandler takes, commits and releases one kind of hold inside the
// order's transaction; holdHandler names the one for each kind.
type HoldHandler interface {
	// Take reserves h for order o; commerce.ErrStale (or an
	// OutOfStockError) when it is not available.
	Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error
	// Commit makes a held h final when o is paid.
	Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error
	// Release gives h back when o is cancelled or times out.
	Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error
}

func (s *Store) holdHandler(kind string) (HoldHandler, error) {
	switch kind {
	case peak.HoldGroupOpen, peak.HoldGroupSeat:
		return groupSeats{open: kind == peak.HoldGroupOpen}, nil
	case commerce.HoldStock:
		return stockHolds{}, nil
	case commerce.HoldPoints:
		return pointsHolds{}, nil
	case commerce.HoldPromotion:
		return usageHolds{}, nil
	case commerce.HoldCoupon:
		return couponHolds{}, nil
	case commerce.HoldFlash:
		return flashHolds{}, nil
	case commerce.HoldPresale:
		return presaleHolds{}, nil
	case commerce.HoldPresaleBalance:
		return balanceHolds{}, nil
	}
	return nil, fmt.Errorf("no handler for hold kind %q", kind)
}

type stockHolds struct{}

func (stockHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	n, err := tx.ExecN(ctx, `UPDATE skus SET stock = stock - $1, held = held + $1 WHERE shop_id = $2 AND id = $3 AND stock >= $1`,
		h.Quantity, o.ShopID, h.Ref)
	if err != nil {
		return err
	}
	if n == 0 {
		return &commerce.OutOfStockError{SKUID: h.Ref, Requested: h.Quantity}
	}
	return insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: h.Ref, Reason: commerce.StockHold,
		Delta: -h.Quantity, HeldDelta: h.Quantity, OrderID: o.ID, At: o.CreatedAt})
}

func (stockHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE skus SET held = held - $1, sold = sold + $1 WHERE shop_id = $2 AND id = $3`, h.Quantity, o.ShopID, h.Ref); err != nil {
		return err
	}
	return insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: h.Ref, Reason: commerce.StockSell,
		HeldDelta: -h.Quantity, SoldDelta: h.Quantity, OrderID: o.ID, At: at})
}

func (stockHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE skus SET held = held - $1, stock = stock + $1 WHERE shop_id = $2 AND id = $3`, h.Quantity, o.ShopID, h.Ref); err != nil {
		return err
	}
	return insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: h.Ref, Reason: commerce.StockRelease,
		Delta: h.Quantity, HeldDelta: -h.Quantity, OrderID: o.ID, At: at})
}

type pointsHolds struct{}

func (pointsHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	n, err := tx.ExecN(ctx, `UPDATE customers SET points = points - $1, points_held = points_held + $1 WHERE shop_id = $2 AND id = $3 AND points >= $1`,
		h.Quantity, o.ShopID, h.Ref)
	if err != nil {
		return err
	}
	if n == 0 {
		return commerce.ErrStale
	}
	return nil
}

func (pointsHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE customers SET points_held = points_held - $1 WHERE shop_id = $2 AND id = $3`, h.Quantity, o.ShopID, h.Ref); err != nil {
		return err
	}
	return insertPointsMove(ctx, tx, o.ShopID, commerce.PointsMove{ID: commerce.NewID("pts"), CustomerID: h.Ref, Delta: -h.Quantity, Reason: "order", OrderID: o.ID,
		Actor: "customer:" + h.Ref, At: at})
}

func (pointsHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, _ time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE customers SET points_held = points_held - $1, points = points + $1 WHERE shop_id = $2 AND id = $3`, h.Quantity, o.ShopID, h.Ref)
	return err
}

func (s *Store) PlaceOrder(ctx context.Context, o *commerce.Order, idem *commerce.Idem) (*commerce.Idem, error) {
	// Holds are taken in a fixed order (kind, ref) so two orders touching
	// the same rows can never wait on each other in a cycle.
	order := make([]int, len(o.Holds))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ha, hb := o.Holds[order[a]], o.Holds[order[b]]
		if ha.Kind != hb.Kind {
			return ha.Kind < hb.Kind
		}
		return ha.Ref < hb.Ref
	})
	handlers := make([]HoldHandler, len(o.Holds))
	for i, h := range o.Holds {
		hh, err := s.holdHandler(h.Kind)
		if err != nil {
			return nil, err
		}
		handlers[i] = hh
	}
	var replay *commerce.Idem
	err := s.Write(ctx, func(tx *Tx) error {
		replay = nil
		if idem != nil {
			n, err := tx.ExecN(ctx, `INSERT INTO idempotency (shop_id, scope, idem_key, request_hash, response, created_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shop_id, scope, idem_key) DO NOTHING`,
				o.ShopID, idem.Scope, idem.Key, idem.RequestHash, idem.Response, TS(o.CreatedAt))
			if err != nil {
				return err
			}
			if n == 0 {
				r := commerce.Idem{Key: idem.Key, Scope: idem.Scope}
				if err := tx.QueryRow(ctx, `SELECT request_hash, response FROM idempotency WHERE shop_id = $1 AND scope = $2 AND idem_key = $3`,
					o.ShopID, idem.Scope, idem.Key).Scan(&r.RequestHash, &r.Response); err != nil {
					return err
				}
				replay = &r
				return nil
			}
		}
		if o.MaxUnpaid > 0 {
			if err := s.checkUnpaid(ctx, tx, o); err != nil {
				return err
			}
		}
		if o.PointsAsked > 0 && o.CustomerID != "" {
			if err := checkPointsFree(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, i := range order {
			if err := handlers[i].Take(ctx, tx, o, &o.Holds[i]); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, shop_id, customer_id, status, goods_amount, item_discount, order_discount, coupon_discount,
				points_discount, points_used, shipping, shipping_discount, payable, refunded_amount, channel, created_at, expires_at, pricing, deposit_credit, campaign, requester)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $17, $18, $19, $20)`,
			o.ID, o.ShopID, o.CustomerID, o.Status, o.GoodsAmount, o.ItemDiscount, o.OrderDiscount, o.CouponDiscount,
			o.PointsDiscount, o.PointsUsed, o.Shipping, o.ShippingDiscount, o.Payable, o.Channel, TS(o.CreatedAt), TS(o.ExpiresAt), nullJSON(o.Pricing), o.DepositCredit,
			o.Campaign, o.Requester); err != nil {
			return err
		}
		for _, l := range o.Lines {
			if _, err := tx.Exec(ctx, `INSERT INTO order_lines (order_id, no, shop_id, sku_id, name, quantity, unit_list_price, list_amount,
					item_discount, order_discount, coupon_discount, points_discount, payable, gift, refunded_qty, refunded_amount, deposit_credit)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, 0, $15)`,
				o.ID, l.No, o.ShopID, l.SKUID, l.Name, l.Quantity, l.UnitListPrice, l.ListAmount,
				l.ItemDiscount, l.OrderDiscount, l.CouponDiscount, l.PointsDiscount, l.Payable, b2i(l.Gift), l.DepositCredit); err != nil {
				return err
			}
		}
		for i, h := range o.Holds {
			if _, err := tx.Exec(ctx, `INSERT INTO holds (order_id, seq, shop_id, kind, ref, quantity, amount, day, state, buckets)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, o.ID, i, o.ShopID, h.Kind, h.Ref, h.Quantity, h.Amount, h.Day, h.State, encodeBuckets(h.Buckets)); err != nil {
				return err
			}
		}
		return nil
	})
	return replay, err
}

// checkPointsFree refuses the order with a commerce.PointsShortError when
// its customer has fewer than o.PointsAsked points free. The no-op update
// locks the customer's row (PostgreSQL re-checks the condition on the
// newest row under READ COMMITTED), so the balance cannot drop under what
// was asked before the points hold is taken; it runs after the idempotency
// record, so the retry of a placed order still replays it.
func checkPointsFree(ctx context.Context, tx *Tx, o *commerce.Order) error {
	n, err := tx.ExecN(ctx, `UPDATE customers SET points = points WHERE shop_id = $1 AND id = $2 AND points >= $3`, o.ShopID, o.CustomerID, o.PointsAsked)
	if err != nil || n > 0 {
		return err
	}
	var free int64
	if err := tx.QueryRow(ctx, `SELECT points FROM customers WHERE shop_id = $1 AND id = $2`, o.ShopID, o.CustomerID).Scan(&free); err != nil {
		return err
	}
	return &commerce.PointsShortError{Available: free}
}

// lockCustomerOf locks the row of the order's customer (none for an
// anonymous order) before the transaction touches stock or coupons, and
// raises the customer's change stamp. Placing an order locks the customer
// (points, or a coupon whose trigger raises the stamp) before its stock;
// settling or refunding one in the opposite order could deadlock with it.
func lockCustomerOf(ctx context.Context, tx *Tx, shopID, orderID string) error {
	_, err := tx.Exec(ctx, `UPDATE customers SET rev = rev + 1 WHERE shop_id = $1 AND id = (SELECT customer_id FROM orders WHERE shop_id = $1 AND id = $2)`,
		shopID, orderID)
	return err
}

// unpaidLockClass is the first key of the PostgreSQL advisory locks that
// serialize one caller's placements (the second is a hash of shop and
// caller); 8008135 is the analytics flush lock.
const unpaidLockClass = 8008136

// checkUnpaid refuses the order with commerce.ErrTooManyUnpaid when its
// customer (or, without one, its requester) already holds o.MaxUnpaid − 1
// unpaid orders whose payment timeout has not passed. Two placements by one
// caller must not both count below the cap: SQLite has a single writer, so
// the count and the insert are already serialized; PostgreSQL takes a
// transaction-scoped advisory lock per shop and caller first (a row lock
// would need a row, and an anonymous caller has none), and under READ
// COMMITTED the count that follows sees every order committed by the
// transaction that held the lock before. It is taken before any hold, in
// every placement that checks, so it cannot join a lock cycle.
func (s *Store) checkUnpaid(ctx context.Context, tx *Tx, o *commerce.Order) error {
	col, who := "customer_id", o.CustomerID
	if who == "" {
		col, who = "requester", o.Requester
	}
	if who == "" {
		return nil
	}
	if s.d.Name != "sqlite" {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+strconv.Itoa(unpaidLockClass)+`, hashtext($1))`, o.ShopID+"\x1f"+col+"\x1f"+who); err != nil {
			return fmt.Errorf("unpaid-orders lock: %w", err)
		}
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orders WHERE shop_id = $1 AND `+col+` = $2 AND status = $3 AND expires_at > $4`,
		o.ShopID, who, commerce.OrderPendingPayment, TS(o.CreatedAt)).Scan(&n); err != nil {
		return err
	}
	if n >= o.MaxUnpaid {
		return commerce.ErrTooManyUnpaid
	}
	return nil
}

const orderCols = `id, shop_id, customer_id, status, goods_amount, item_discount, order_discount, coupon_discount, points_discount, points_used,
	shipping, shipping_discount, payable, refunded_amount, channel, created_at, expires_at, paid_at, fulfilled_at, cancelled_at, cancel_reason, pricing,
	deposit_credit, campaign`

func scanOrder(r rowScanner) (commerce.Order, error) {
	var o commerce.Order
	var created, expires int64
	var paid, fulfilled, cancelled sql.NullInt64
	var pricing sql.NullString
	err := r.Scan(&o.ID, &o.ShopID, &o.CustomerID, &o.Status, &o.GoodsAmount, &o.ItemDiscount, &o.OrderDiscount, &o.CouponDiscount,
		&o.PointsDiscount, &o.PointsUsed, &o.Shipping, &o.ShippingDiscount, &o.Payable, &o.RefundedAmount, &o.Channel,
		&created, &expires, &paid, &fulfilled, &cancelled, &o.CancelReason, &pricing, &o.DepositCredit, &o.Campaign)
	o.CreatedAt, o.ExpiresAt = FromTS(created), FromTS(expires)
	o.PaidAt, o.FulfilledAt, o.CancelledAt = FromNullTS(paid), FromNullTS(fulfilled), FromNullTS(cancelled)
	if pricing.Valid {
		o.Pricing = []byte(pricing.String)
	}
	return o, err
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func loadOrder(ctx context.Context, q querier, shopID, id string) (*commerce.Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT no, sku_id, name, quantity, unit_list_price, list_amount, item_discount, order_discount, coupon_discount,
		points_discount, payable, gift, refunded_qty, refunded_amount, deposit_credit FROM order_lines WHERE order_id = $1 ORDER BY no`, id)
	if o.Lines, err = rowsAll(rows, err, func(r *sql.Rows) (commerce.OrderLine, error) {
		var l commerce.OrderLine
		var gift int
		err := r.Scan(&l.No, &l.SKUID, &l.Name, &l.Quantity, &l.UnitListPrice, &l.ListAmount, &l.ItemDiscount, &l.OrderDiscount,
			&l.CouponDiscount, &l.PointsDiscount, &l.Payable, &gift, &l.RefundedQty, &l.RefundedAmount, &l.DepositCredit)
		l.Gift = gift != 0
		return l, err
	}); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT kind, ref, quantity, amount, day, state, buckets FROM holds WHERE order_id = $1 ORDER BY seq`, id)
	if o.Holds, err = rowsAll(rows, err, func(r *sql.Rows) (commerce.Hold, error) {
		var h commerce.Hold
		var buckets string
		if err := r.Scan(&h.Kind, &h.Ref, &h.Quantity, &h.Amount, &h.Day, &h.State, &buckets); err != nil {
			return h, err
		}
		h.Buckets, err = decodeBuckets(buckets)
		return h, err
	}); err != nil {
		return nil, err
	}
	return &o, nil
}

func (s *Store) GetOrder(ctx context.Context, shopID, id string) (*commerce.Order, error) {
	o, err := loadOrder(ctx, readQ{s}, shopID, id)
	if err != nil {
		return nil, err
	}
	if o.Presale, err = s.presaleLink(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

type readQ struct{ s *Store }

func (r readQ) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return r.s.QueryRow(ctx, q, args...)
}
func (r readQ) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.s.Query(ctx, q, args...)
}

func (s *Store) ListOrders(ctx context.Context, shopID string, f commerce.OrderFilter, p commerce.Page) ([]commerce.Order, error) {
	rows, err := s.Query(ctx, `SELECT `+orderCols+` FROM orders WHERE shop_id = $1 AND id > $2
		AND ($3 = '' OR customer_id = $3) AND ($4 = '' OR status = $4) ORDER BY id LIMIT $5`,
		shopID, p.Cursor, f.CustomerID, f.Status, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.Order, error) { return scanOrder(r) })
}

// heldPastPayment is implemented by hold kinds that paying the order does
// not settle: a presale deposit's units stay held until its balance order
// or a forfeit settles them. Paying still calls Commit, and the hold stays
// held.
type heldPastPayment interface{ HeldPastPayment() bool }

// settleHolds commits or releases every held hold of the order in tx.
func (s *Store) settleHolds(ctx context.Context, tx *Tx, shopID, id string, commit bool, at time.Time) error {
	o, err := loadOrder(ctx, tx, shopID, id)
	if err != nil {
		return err
	}
	var kept []string
	state := commerce.HoldReleased
	if commit {
		state = commerce.HoldCommitted
	}
	for i := range o.Holds {
		h := &o.Holds[i]
		if h.State != commerce.HoldHeld {
			continue
		}
		hh, err := s.holdHandler(h.Kind)
		if err != nil {
			return err
		}
		if commit {
			err = hh.Commit(ctx, tx, o, h, at)
		} else {
			err = hh.Release(ctx, tx, o, h, at)
		}
		if err != nil {
			return fmt.Errorf("settle %s hold %s: %w", h.Kind, h.Ref, err)
		}
		if k, ok := hh.(heldPastPayment); ok && commit && k.HeldPastPayment() {
			kept = append(kept, h.Kind)
		}
	}
	if len(kept) == 0 {
		_, err = tx.Exec(ctx, `UPDATE holds SET state = $1 WHERE order_id = $2 AND state = $3`, state, id, commerce.HoldHeld)
		return err
	}
	for i, h := range o.Holds {
		if h.State == commerce.HoldHeld && !slices.Contains(kept, h.Kind) {
			if _, err := tx.Exec(ctx, `UPDATE holds SET state = $1 WHERE order_id = $2 AND seq = $3`, state, id, i); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) PayOrder(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE orders SET status = $1, paid_at = $2, requester = '' WHERE shop_id = $3 AND id = $4 AND status = $5 AND expires_at > $2`,
			commerce.OrderPaid, TS(at), shopID, id, commerce.OrderPendingPayment)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		// Always matched (COALESCE keeps the first payment): the customer's
		// row is locked before any hold is settled, as placing an order locks
		// it before its stock (see lockCustomerOf).
		if _, err := tx.Exec(ctx, `UPDATE customers SET first_paid_at = COALESCE(first_paid_at, $1) WHERE id = (SELECT customer_id FROM orders WHERE id = $2)`,
			TS(at), id); err != nil {
			return err
		}
		if audit != nil {
			if err := InsertAudit(ctx, tx, audit); err != nil {
				return err
			}
		}
		return s.settleHolds(ctx, tx, shopID, id, true, at)
	})
}

func (s *Store) CancelOrder(ctx context.Context, shopID, id, reason string, at time.Time, onlyExpired bool) error {
	return s.Write(ctx, func(tx *Tx) error {
		q := `UPDATE orders SET status = $1, cancelled_at = $2, cancel_reason = $3, requester = '' WHERE shop_id = $4 AND id = $5 AND status = $6`
		if onlyExpired {
			q += ` AND expires_at <= $2`
		}
		n, err := tx.ExecN(ctx, q, commerce.OrderCancelled, TS(at), reason, shopID, id, commerce.OrderPendingPayment)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		if err := lockCustomerOf(ctx, tx, shopID, id); err != nil {
			return err
		}
		return s.settleHolds(ctx, tx, shopID, id, false, at)
	})
}

func (s *Store) FulfilOrder(ctx context.Context, shopID, id string, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE orders SET status = $1, fulfilled_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5`,
			commerce.OrderFulfilled, TS(at), shopID, id, commerce.OrderPaid)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return nil
	})
}

func (s *Store) RefundOrder(ctx context.Context, shopID, id string, r commerce.Refund, at time.Time, audit *commerce.AuditEntry) (*commerce.Order, error) {
	var out *commerce.Order
	err := s.Write(ctx, func(tx *Tx) error {
		if err := lockCustomerOf(ctx, tx, shopID, id); err != nil {
			return err
		}
		o, err := loadOrder(ctx, tx, shopID, id)
		if err != nil {
			return err
		}
		switch {
		case o.Status == commerce.OrderPaid, o.Status == commerce.OrderFulfilled, o.Status == commerce.OrderPartiallyRefunded:
		case o.Status == commerce.OrderRefunded && len(r.Lines) == 0 && r.Shipping > 0:
		default:
			return commerce.ErrStale
		}
		var total int64
		for _, rl := range r.Lines {
			n, err := tx.ExecN(ctx, `UPDATE order_lines SET refunded_qty = refunded_qty + $1, refunded_amount = refunded_amount + $2
				WHERE order_id = $3 AND no = $4 AND refunded_qty + $1 <= quantity AND refunded_amount + $2 <= payable`,
				rl.Quantity, rl.Amount, id, rl.No)
			if err != nil {
				return err
			}
			if n == 0 {
				return commerce.ErrStale
			}
			total += rl.Amount
			line := o.Lines[rl.No-1]
			if r.ReturnStock {
				if _, err := tx.Exec(ctx, `UPDATE skus SET stock = stock + $1, sold = sold - $1 WHERE shop_id = $2 AND id = $3`, rl.Quantity, shopID, line.SKUID); err != nil {
					return err
				}
				if err := insertMove(ctx, tx, shopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: line.SKUID, Reason: commerce.StockReturn,
					Delta: rl.Quantity, SoldDelta: -rl.Quantity, OrderID: id, Note: r.Reason, At: at}); err != nil {
					return err
				}
			}
			if rl.Points > 0 && o.CustomerID != "" {
				if _, err := tx.Exec(ctx, `UPDATE customers SET points = points + $1 WHERE shop_id = $2 AND id = $3`, rl.Points, shopID, o.CustomerID); err != nil {
					return err
				}
				if err := insertPointsMove(ctx, tx, shopID, commerce.PointsMove{ID: commerce.NewID("pts"), CustomerID: o.CustomerID, Delta: rl.Points,
					Reason: "refund", OrderID: id, Actor: r.Actor, At: at}); err != nil {
					return err
				}
			}
		}
		total += r.Shipping
		var left int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(quantity - refunded_qty), 0) FROM order_lines WHERE order_id = $1`, id).Scan(&left); err != nil {
			return err
		}
		status := commerce.OrderPartiallyRefunded
		if left == 0 {
			status = commerce.OrderRefunded
		}
		// Never more than the order's payable in all: a shipping refund
		// raced by another is refused here.
		n, err := tx.ExecN(ctx, `UPDATE orders SET refunded_amount = refunded_amount + $1, status = $2 WHERE id = $3 AND refunded_amount + $1 <= payable`, total, status, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refunds (id, shop_id, order_id, amount, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.ID, shopID, id, total, r.Reason, r.Actor, TS(at)); err != nil {
			return err
		}
		if err := InsertAudit(ctx, tx, audit); err != nil {
			return err
		}
		out, err = loadOrder(ctx, tx, shopID, id)
		return err
	})
	return out, err
}

func (s *Store) DueOrders(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error) {
	rows, err := s.Query(ctx, `SELECT shop_id, id FROM orders WHERE status = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3`,
		commerce.OrderPendingPayment, TS(at), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.OrderRef, error) {
		var o commerce.OrderRef
		return o, r.Scan(&o.ShopID, &o.ID)
	})
}

func encodeBuckets(b []commerce.Bucket) string {
	if len(b) == 0 {
		return ""
	}
	j, _ := json.Marshal(b)
	return string(j)
}

func decodeBuckets(s string) ([]commerce.Bucket, error) {
	if s == "" {
		return nil, nil
	}
	var b []commerce.Bucket
	return b, json.Unmarshal([]byte(s), &b)
}
