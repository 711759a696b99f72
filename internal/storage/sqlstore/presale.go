package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
)

// ---- presales (预售) ----
//
// Stock: a deposit moves its units from the SKU's free stock into Held (a
// "hold" move); paying the deposit changes nothing on the SKU; the paid
// balance order moves them from Held to Sold (a "sell" move); a forfeit
// moves them back to free stock (a "release" move). Stock + Held + Sold
// never changes.

func (s *Store) CreatePresale(ctx context.Context, p *peak.Presale, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO presales (id, shop_id, name, status, deposit_starts_at, deposit_ends_at, balance_starts_at, balance_ends_at,
				quantity_cap, taken, per_customer_limit, allow_order_activities, allow_coupons, terms, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $15)`,
			p.ID, p.ShopID, p.Name, p.Status, TS(p.DepositStartsAt), TS(p.DepositEndsAt), TS(p.BalanceStartsAt), TS(p.BalanceEndsAt),
			p.QuantityCap, p.PerCustomerLimit, b2i(p.AllowOrderActivities), b2i(p.AllowCoupons), p.Terms, TS(p.CreatedAt), TS(p.UpdatedAt)); err != nil {
			return err
		}
		for i, it := range p.Items {
			if _, err := tx.Exec(ctx, `INSERT INTO presale_items (presale_id, sku_id, shop_id, position, deposit, value, held, sold, forfeited)
				VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0)`, p.ID, it.SKUID, p.ShopID, i, it.Deposit, it.Value); err != nil {
				return err
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const presaleCols = `id, shop_id, name, status, deposit_starts_at, deposit_ends_at, balance_starts_at, balance_ends_at, quantity_cap, taken,
	per_customer_limit, allow_order_activities, allow_coupons, terms, created_at, updated_at, ended_at`

func scanPresale(r rowScanner) (peak.Presale, error) {
	var p peak.Presale
	var ds, de, bs, be, created, updated int64
	var acts, coupons int
	var ended sql.NullInt64
	err := r.Scan(&p.ID, &p.ShopID, &p.Name, &p.Status, &ds, &de, &bs, &be, &p.QuantityCap, &p.Taken, &p.PerCustomerLimit, &acts, &coupons,
		&p.Terms, &created, &updated, &ended)
	p.DepositStartsAt, p.DepositEndsAt, p.BalanceStartsAt, p.BalanceEndsAt = FromTS(ds), FromTS(de), FromTS(bs), FromTS(be)
	p.CreatedAt, p.UpdatedAt, p.EndedAt = FromTS(created), FromTS(updated), FromNullTS(ended)
	p.AllowOrderActivities, p.AllowCoupons = acts != 0, coupons != 0
	return p, err
}

func (s *Store) withPresaleItems(ctx context.Context, ps []peak.Presale) ([]peak.Presale, error) {
	for i := range ps {
		rows, err := s.Query(ctx, `SELECT sku_id, deposit, value, held, sold, forfeited FROM presale_items WHERE presale_id = $1 ORDER BY position`, ps[i].ID)
		items, err := rowsAll(rows, err, func(r *sql.Rows) (peak.PresaleItem, error) {
			var it peak.PresaleItem
			return it, r.Scan(&it.SKUID, &it.Deposit, &it.Value, &it.Held, &it.Sold, &it.Forfeited)
		})
		if err != nil {
			return nil, err
		}
		ps[i].Items = items
	}
	return ps, nil
}

func (s *Store) GetPresale(ctx context.Context, shopID, id string) (*peak.Presale, error) {
	return getByID(ctx, s, "presales", presaleCols, shopID, id, scanPresale, s.withPresaleItems)
}

func (s *Store) ListPresales(ctx context.Context, shopID string, p commerce.Page) ([]peak.Presale, error) {
	return listPage(ctx, s, "presales", presaleCols, shopID, p, scanPresale, s.withPresaleItems)
}

func (s *Store) EndPresale(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE presales SET status = $1, ended_at = $2, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5`,
			peak.PresaleEnded, TS(at), shopID, id, peak.PresaleScheduled)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const depositLinkQuery = `SELECT d.order_id, d.presale_id, d.sku_id, d.quantity, d.deposit, d.value, d.balance_starts_at, d.balance_ends_at,
	d.state, d.balance_order_id, d.paid_at, d.settled_at, d.forfeited_at, d.forfeit_reason, p.terms, COALESCE(b.status, '')
	FROM presale_deposits d JOIN presales p ON p.id = d.presale_id LEFT JOIN orders b ON b.id = d.balance_order_id
	WHERE d.shop_id = $1 AND d.order_id = $2`

func (s *Store) PresaleDeposit(ctx context.Context, shopID, orderID string) (*commerce.PresaleLink, error) {
	var l commerce.PresaleLink
	var bs, be int64
	var paid, settled, forfeited sql.NullInt64
	err := s.QueryRow(ctx, depositLinkQuery, shopID, orderID).Scan(&l.DepositOrderID, &l.PresaleID, &l.SKUID, &l.Quantity, &l.Deposit, &l.Value,
		&bs, &be, &l.State, &l.BalanceOrderID, &paid, &settled, &forfeited, &l.ForfeitReason, &l.Terms, &l.BalanceStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	l.Role = "deposit"
	l.BalanceStartsAt, l.BalanceEndsAt = FromTS(bs), FromTS(be)
	l.PaidAt, l.SettledAt, l.ForfeitedAt = FromNullTS(paid), FromNullTS(settled), FromNullTS(forfeited)
	l.DepositTotal, l.CreditTotal = l.Deposit*l.Quantity, l.Value*l.Quantity
	return &l, nil
}

// presaleLink reads what a deposit or balance order shows of its presale;
// nil for any other order (known from its holds, so ordinary orders cost
// no query).
func (s *Store) presaleLink(ctx context.Context, o *commerce.Order) (*commerce.PresaleLink, error) {
	for _, h := range o.Holds {
		switch h.Kind {
		case commerce.HoldPresale:
			return s.PresaleDeposit(ctx, o.ShopID, o.ID)
		case commerce.HoldPresaleBalance:
			l, err := s.PresaleDeposit(ctx, o.ShopID, h.Ref)
			if err != nil {
				return nil, err
			}
			l.Role, l.BalanceOrderID, l.BalanceStatus = "balance", o.ID, o.Status
			return l, nil
		}
	}
	return nil, nil
}

func (s *Store) ForfeitDeposit(ctx context.Context, shopID, orderID, reason string, at time.Time, onlyDue bool) error {
	return s.Write(ctx, func(tx *Tx) error {
		q := `UPDATE presale_deposits SET state = $1, forfeited_at = $2, forfeit_reason = $3 WHERE shop_id = $4 AND order_id = $5 AND state = $6`
		if onlyDue {
			q += ` AND balance_ends_at <= $2`
		}
		n, err := tx.ExecN(ctx, q, commerce.DepositForfeited, TS(at), reason, shopID, orderID, commerce.DepositPaid)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		var presaleID, skuID string
		var qty int64
		if err := tx.QueryRow(ctx, `SELECT presale_id, sku_id, quantity FROM presale_deposits WHERE order_id = $1`, orderID).Scan(&presaleID, &skuID, &qty); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE skus SET held = held - $1, stock = stock + $1 WHERE shop_id = $2 AND id = $3`, qty, shopID, skuID); err != nil {
			return err
		}
		if err := insertMove(ctx, tx, shopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: skuID, Reason: commerce.StockRelease,
			Delta: qty, HeldDelta: -qty, OrderID: orderID, Note: "presale deposit forfeited (" + reason + ")", At: at}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE presales SET taken = taken - $1 WHERE id = $2`, qty, presaleID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE presale_items SET held = held - $1, forfeited = forfeited + $1 WHERE presale_id = $2 AND sku_id = $3`,
			qty, presaleID, skuID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET status = $1 WHERE shop_id = $2 AND id = $3 AND status = $4`,
			commerce.OrderDepositForfeited, shopID, orderID, commerce.OrderDepositPaid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE holds SET state = $1 WHERE order_id = $2 AND kind = $3 AND state = $4`,
			commerce.HoldReleased, orderID, commerce.HoldPresale, commerce.HoldHeld)
		return err
	})
}

func (s *Store) DueDeposits(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error) {
	rows, err := s.Query(ctx, `SELECT shop_id, order_id FROM presale_deposits WHERE state = $1 AND balance_ends_at <= $2 ORDER BY balance_ends_at LIMIT $3`,
		commerce.DepositPaid, TS(at), limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.OrderRef, error) {
		var ref commerce.OrderRef
		return ref, r.Scan(&ref.ShopID, &ref.ID)
	})
}

// presaleHolds are a deposit order's units (Ref is peak.PresaleRef). Taking
// one checks, in the order's transaction, the presale's deposit window,
// its quantity cap and the customer's limit; the update of the presale's
// row comes first, so concurrent deposits of one presale queue on it and
// each sees the deposits committed before it.
type presaleHolds struct{}

func (presaleHolds) HeldPastPayment() bool { return true }

func splitPresaleRef(ref string) (presaleID, skuID string, err error) {
	presaleID, skuID, ok := strings.Cut(ref, "/")
	if !ok {
		return "", "", fmt.Errorf("presale hold ref %q is not presale/sku", ref)
	}
	return presaleID, skuID, nil
}

// liveDepositStates count against the cap and the customer's limit.
var liveDepositStates = []any{commerce.DepositPending, commerce.DepositPaid, commerce.DepositBalancePlaced, commerce.DepositSettled}

func (presaleHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	presaleID, skuID, err := splitPresaleRef(h.Ref)
	if err != nil {
		return err
	}
	at := TS(o.CreatedAt)
	n, err := tx.ExecN(ctx, `UPDATE presales SET taken = taken + $1 WHERE shop_id = $2 AND id = $3 AND status = $4
		AND deposit_starts_at <= $5 AND deposit_ends_at > $5 AND (quantity_cap = 0 OR taken + $1 <= quantity_cap)`,
		h.Quantity, o.ShopID, presaleID, peak.PresaleScheduled, at)
	if err != nil {
		return err
	}
	if n == 0 {
		var status string
		var ds, de int64
		if err := tx.QueryRow(ctx, `SELECT status, deposit_starts_at, deposit_ends_at FROM presales WHERE shop_id = $1 AND id = $2`,
			o.ShopID, presaleID).Scan(&status, &ds, &de); err != nil {
			return err
		}
		switch {
		case status != peak.PresaleScheduled || at >= de:
			return fmt.Errorf("presale %s: %w", presaleID, peak.ErrPresaleClosed)
		case at < ds:
			return fmt.Errorf("presale %s: %w", presaleID, peak.ErrPresaleNotOpen)
		}
		return fmt.Errorf("presale %s: %w", presaleID, peak.ErrSoldOut)
	}
	var limit, have, deposit, value, bs, be int64
	if err := tx.QueryRow(ctx, `SELECT p.per_customer_limit, p.balance_starts_at, p.balance_ends_at, i.deposit, i.value
		FROM presales p JOIN presale_items i ON i.presale_id = p.id WHERE p.id = $1 AND i.sku_id = $2`, presaleID, skuID).Scan(&limit, &bs, &be, &deposit, &value); err != nil {
		return fmt.Errorf("presale item %s: %w", h.Ref, err)
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(quantity), 0) FROM presale_deposits WHERE presale_id = $1 AND customer_id = $2 AND state IN ($3, $4, $5, $6)`,
		append([]any{presaleID, o.CustomerID}, liveDepositStates...)...).Scan(&have); err != nil {
		return err
	}
	if have+h.Quantity > limit {
		return fmt.Errorf("presale %s, customer %s has %d: %w", presaleID, o.CustomerID, have, peak.ErrOverLimit)
	}
	if n, err = tx.ExecN(ctx, `UPDATE skus SET stock = stock - $1, held = held + $1 WHERE shop_id = $2 AND id = $3 AND stock >= $1`,
		h.Quantity, o.ShopID, skuID); err != nil {
		return err
	}
	if n == 0 {
		return &commerce.OutOfStockError{SKUID: skuID, Requested: h.Quantity}
	}
	if err := insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: skuID, Reason: commerce.StockHold,
		Delta: -h.Quantity, HeldDelta: h.Quantity, OrderID: o.ID, Note: "presale deposit " + presaleID, At: o.CreatedAt}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE presale_items SET held = held + $1 WHERE presale_id = $2 AND sku_id = $3`, h.Quantity, presaleID, skuID); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO presale_deposits (order_id, shop_id, presale_id, sku_id, customer_id, quantity, deposit, value,
			balance_starts_at, balance_ends_at, state, balance_order_id, created_at, forfeit_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '', $12, '')`,
		o.ID, o.ShopID, presaleID, skuID, o.CustomerID, h.Quantity, deposit, value, bs, be, commerce.DepositPending, at)
	return err
}

// Commit records the paid deposit. The units stay held: they are sold only
// when the balance order is paid.
func (presaleHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE presale_deposits SET state = $1, paid_at = $2 WHERE order_id = $3 AND state = $4`,
		commerce.DepositPaid, TS(at), o.ID, commerce.DepositPending); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE orders SET status = $1 WHERE id = $2 AND status = $3`, commerce.OrderDepositPaid, o.ID, commerce.OrderPaid)
	return err
}

// Release frees the units of a deposit that was never paid.
func (presaleHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	presaleID, skuID, err := splitPresaleRef(h.Ref)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE presale_deposits SET state = $1 WHERE order_id = $2 AND state = $3`,
		commerce.DepositReleased, o.ID, commerce.DepositPending); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE presales SET taken = taken - $1 WHERE id = $2`, h.Quantity, presaleID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE presale_items SET held = held - $1 WHERE presale_id = $2 AND sku_id = $3`, h.Quantity, presaleID, skuID); err != nil {
		return err
	}
	return stockHolds{}.Release(ctx, tx, o, &commerce.Hold{Kind: commerce.HoldStock, Ref: skuID, Quantity: h.Quantity}, at)
}

// balanceHolds are a balance order's claim on its deposit (Ref is the
// deposit order's id). Taking one checks the balance window and that the
// deposit is paid with no other balance order placed, so a balance and
// the forfeit sweep can never both win.
type balanceHolds struct{}

func (balanceHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	at := TS(o.CreatedAt)
	n, err := tx.ExecN(ctx, `UPDATE presale_deposits SET state = $1, balance_order_id = $2 WHERE shop_id = $3 AND order_id = $4
		AND customer_id = $5 AND quantity = $6 AND state = $7 AND balance_starts_at <= $8 AND balance_ends_at > $8`,
		commerce.DepositBalancePlaced, o.ID, o.ShopID, h.Ref, o.CustomerID, h.Quantity, commerce.DepositPaid, at)
	if err != nil {
		return err
	}
	if n == 0 {
		var state string
		var bs, be int64
		err := tx.QueryRow(ctx, `SELECT state, balance_starts_at, balance_ends_at FROM presale_deposits WHERE shop_id = $1 AND order_id = $2`,
			o.ShopID, h.Ref).Scan(&state, &bs, &be)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("deposit %s: %w", h.Ref, peak.ErrDepositNotReady)
		case err != nil:
			return err
		case state != commerce.DepositPaid:
			return fmt.Errorf("deposit %s is %s: %w", h.Ref, state, peak.ErrDepositNotReady)
		case at < bs:
			return fmt.Errorf("deposit %s: %w", h.Ref, peak.ErrBalanceNotOpen)
		case at >= be:
			return fmt.Errorf("deposit %s: %w", h.Ref, peak.ErrBalanceClosed)
		}
		return fmt.Errorf("deposit %s: %w", h.Ref, peak.ErrDepositNotReady)
	}
	return nil
}

// Commit sells the deposit's held units and settles the deposit.
func (balanceHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	var presaleID, skuID string
	var qty int64
	if err := tx.QueryRow(ctx, `SELECT presale_id, sku_id, quantity FROM presale_deposits WHERE order_id = $1`, h.Ref).Scan(&presaleID, &skuID, &qty); err != nil {
		return err
	}
	n, err := tx.ExecN(ctx, `UPDATE presale_deposits SET state = $1, settled_at = $2 WHERE order_id = $3 AND balance_order_id = $4 AND state = $5`,
		commerce.DepositSettled, TS(at), h.Ref, o.ID, commerce.DepositBalancePlaced)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("deposit %s is not awaiting balance order %s: %w", h.Ref, o.ID, commerce.ErrStale)
	}
	if _, err := tx.Exec(ctx, `UPDATE skus SET held = held - $1, sold = sold + $1 WHERE shop_id = $2 AND id = $3`, qty, o.ShopID, skuID); err != nil {
		return err
	}
	if err := insertMove(ctx, tx, o.ShopID, commerce.StockMove{ID: commerce.NewID("stk"), SKUID: skuID, Reason: commerce.StockSell,
		HeldDelta: -qty, SoldDelta: qty, OrderID: o.ID, Note: "presale balance for deposit " + h.Ref, At: at}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE presale_items SET held = held - $1, sold = sold + $1 WHERE presale_id = $2 AND sku_id = $3`, qty, presaleID, skuID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET status = $1 WHERE shop_id = $2 AND id = $3 AND status = $4`,
		commerce.OrderDepositSettled, o.ShopID, h.Ref, commerce.OrderDepositPaid); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE holds SET state = $1 WHERE order_id = $2 AND kind = $3 AND state = $4`,
		commerce.HoldCommitted, h.Ref, commerce.HoldPresale, commerce.HoldHeld)
	return err
}

// Release gives the deposit back to the customer to place its balance
// again while the window is open; once it has closed, the forfeit sweep
// takes it.
func (balanceHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, _ time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE presale_deposits SET state = $1, balance_order_id = '' WHERE order_id = $2 AND balance_order_id = $3 AND state = $4`,
		commerce.DepositPaid, h.Ref, o.ID, commerce.DepositBalancePlaced)
	return err
}
