package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// ---- promotions ----

func (s *Store) SavePromotion(ctx context.Context, p *promotion.Promotion, create bool, audit *commerce.AuditEntry) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if create {
			_, err := tx.Exec(ctx, `INSERT INTO promotions (id, shop_id, kind, status, starts_at, ends_at, body, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ID, p.ShopID, string(p.Kind), string(p.Status),
				TS(p.StartsAt), endTS(p.EndsAt), string(body), TS(p.CreatedAt), TS(p.UpdatedAt))
			if err != nil {
				return err
			}
		} else {
			n, err := tx.ExecN(ctx, `UPDATE promotions SET kind = $1, status = $2, starts_at = $3, ends_at = $4, body = $5, updated_at = $6
				WHERE shop_id = $7 AND id = $8`, string(p.Kind), string(p.Status), TS(p.StartsAt), endTS(p.EndsAt), string(body), TS(p.UpdatedAt), p.ShopID, p.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return commerce.ErrNotFound
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// endTS stores an open end as the largest time, so range queries stay simple.
func endTS(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	return TS(t)
}

func (s *Store) GetPromotion(ctx context.Context, shopID, id string) (*promotion.Promotion, error) {
	var body string
	err := s.QueryRow(ctx, `SELECT body FROM promotions WHERE shop_id = $1 AND id = $2`, shopID, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var p promotion.Promotion
	return &p, json.Unmarshal([]byte(body), &p)
}

func (s *Store) ListPromotions(ctx context.Context, shopID string, endedAfter time.Time) ([]promotion.Promotion, error) {
	rows, err := s.Query(ctx, `SELECT body FROM promotions WHERE shop_id = $1 AND ends_at > $2 ORDER BY id`, shopID, TS(endedAfter))
	return rowsAll(rows, err, func(r *sql.Rows) (promotion.Promotion, error) {
		var body string
		var p promotion.Promotion
		if err := r.Scan(&body); err != nil {
			return p, err
		}
		return p, json.Unmarshal([]byte(body), &p)
	})
}

// ---- coupon templates and coupons ----

func (s *Store) SaveTemplate(ctx context.Context, t *promotion.Template, create bool, audit *commerce.AuditEntry) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if create {
			if _, err := tx.Exec(ctx, `INSERT INTO coupon_templates (id, shop_id, status, total_quantity, issued, body, created_at, updated_at)
				VALUES ($1, $2, $3, $4, 0, $5, $6, $7)`, t.ID, t.ShopID, t.Status, t.TotalQuantity, string(body), TS(t.CreatedAt), TS(t.UpdatedAt)); err != nil {
				return err
			}
		} else {
			n, err := tx.ExecN(ctx, `UPDATE coupon_templates SET status = $1, total_quantity = $2, body = $3, updated_at = $4 WHERE shop_id = $5 AND id = $6`,
				t.Status, t.TotalQuantity, string(body), TS(t.UpdatedAt), t.ShopID, t.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return commerce.ErrNotFound
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// SetTemplateStatus stores t with its new status if the stored status is
// still from: a pause, resume or end decided on what it read never undoes
// another made meanwhile (ErrStale).
func (s *Store) SetTemplateStatus(ctx context.Context, t *promotion.Template, from string, audit *commerce.AuditEntry) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE coupon_templates SET status = $1, body = $2, updated_at = $3 WHERE shop_id = $4 AND id = $5 AND status = $6`,
			t.Status, string(body), TS(t.UpdatedAt), t.ShopID, t.ID, from)
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM coupon_templates WHERE shop_id = $1 AND id = $2`, t.ShopID, t.ID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return commerce.ErrNotFound
			}
			if err != nil {
				return err
			}
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

func scanTemplate(r rowScanner) (promotion.Template, error) {
	var t promotion.Template
	var body string
	var issued int64
	if err := r.Scan(&body, &issued); err != nil {
		return t, err
	}
	err := json.Unmarshal([]byte(body), &t)
	t.Issued = issued
	return t, err
}

func (s *Store) GetTemplate(ctx context.Context, shopID, id string) (*promotion.Template, error) {
	t, err := scanTemplate(s.QueryRow(ctx, `SELECT body, issued FROM coupon_templates WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Store) ListTemplates(ctx context.Context, shopID string) ([]promotion.Template, error) {
	rows, err := s.Query(ctx, `SELECT body, issued FROM coupon_templates WHERE shop_id = $1 ORDER BY id`, shopID)
	return rowsAll(rows, err, func(r *sql.Rows) (promotion.Template, error) { return scanTemplate(r) })
}

// ClaimCoupon issues c from its template if the template has coupons left
// and the customer is under the per-customer claim limit; both are
// conditional updates in one transaction, so no concurrency exceeds them.
func (s *Store) ClaimCoupon(ctx context.Context, c *promotion.Coupon, perCustomer int64, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE coupon_templates SET issued = issued + 1
			WHERE shop_id = $1 AND id = $2 AND status = 'active' AND (total_quantity = 0 OR issued < total_quantity)`, c.ShopID, c.TemplateID)
		if err != nil {
			return err
		}
		if n == 0 {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM coupon_templates WHERE shop_id = $1 AND id = $2`, c.ShopID, c.TemplateID).Scan(&status); err == nil && status != promotion.TemplateActive {
				return promotion.ErrNotActive
			}
			return promotion.ErrSoldOut
		}
		if perCustomer > 0 {
			ok, err := bump(ctx, tx, c.ShopID, c.TemplateID, "claim:"+c.CustomerID, 1, 0, perCustomer, 0)
			if err != nil {
				return err
			}
			if !ok {
				return promotion.ErrClaimLimit
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO coupons (id, shop_id, template_id, customer_id, code, status, valid_from, valid_until, claimed_at, order_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '')`, c.ID, c.ShopID, c.TemplateID, c.CustomerID, c.Code, c.Status,
			TS(c.ValidFrom), endTS(c.ValidUntil), TS(c.ClaimedAt))
		if s.d.IsUnique != nil && s.d.IsUnique(err) {
			return fmt.Errorf("coupon code collision: %w", commerce.ErrDuplicate)
		}
		if err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const couponCols = `id, shop_id, template_id, customer_id, code, status, valid_from, valid_until, claimed_at, order_id`

func scanCoupon(r rowScanner) (promotion.Coupon, error) {
	var c promotion.Coupon
	var from, until, claimed int64
	err := r.Scan(&c.ID, &c.ShopID, &c.TemplateID, &c.CustomerID, &c.Code, &c.Status, &from, &until, &claimed, &c.OrderID)
	c.ValidFrom, c.ClaimedAt = FromTS(from), FromTS(claimed)
	if until != math.MaxInt64 {
		c.ValidUntil = FromTS(until)
	}
	return c, err
}

func (s *Store) Wallet(ctx context.Context, shopID, customerID string) ([]promotion.Coupon, error) {
	rows, err := s.Query(ctx, `SELECT `+couponCols+` FROM coupons WHERE shop_id = $1 AND customer_id = $2 ORDER BY claimed_at, id`, shopID, customerID)
	return rowsAll(rows, err, func(r *sql.Rows) (promotion.Coupon, error) { return scanCoupon(r) })
}

// Usage returns the counters of refs: total, this customer's (all time and
// on day) and the day's.
func (s *Store) Usage(ctx context.Context, shopID string, refs []string, customerID, day string) (map[string]map[string]promotion.Counter, error) {
	out := map[string]map[string]promotion.Counter{}
	if len(refs) == 0 {
		return out, nil
	}
	args := []any{shopID, "t", "c:" + customerID, "c:" + customerID + ":" + day, "d:" + day}
	for _, r := range refs {
		args = append(args, r)
	}
	rows, err := s.Query(ctx, `SELECT ref, bucket, uses, amount FROM usage_counters WHERE shop_id = $1 AND bucket IN ($2, $3, $4, $5)
		AND ref IN (`+placeholders(6, len(refs))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ref, bucket string
		var c promotion.Counter
		if err := rows.Scan(&ref, &bucket, &c.Uses, &c.Amount); err != nil {
			return nil, err
		}
		if out[ref] == nil {
			out[ref] = map[string]promotion.Counter{}
		}
		out[ref][bucket] = c
	}
	return out, rows.Err()
}

// bump adds uses and amount to a counter unless that would pass maxUses or
// maxAmount (0 = no limit); it reports whether it did.
func bump(ctx context.Context, tx *Tx, shopID, ref, bucket string, uses, amount, maxUses, maxAmount int64) (bool, error) {
	if maxUses <= 0 {
		maxUses = math.MaxInt64 / 2
	}
	if maxAmount <= 0 {
		maxAmount = math.MaxInt64 / 2
	}
	if uses > maxUses || amount > maxAmount {
		return false, nil
	}
	n, err := tx.ExecN(ctx, `INSERT INTO usage_counters (shop_id, ref, bucket, uses, amount) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (shop_id, ref, bucket) DO UPDATE SET uses = usage_counters.uses + excluded.uses, amount = usage_counters.amount + excluded.amount
		WHERE usage_counters.uses + excluded.uses <= $6 AND usage_counters.amount + excluded.amount <= $7`,
		shopID, ref, bucket, uses, amount, maxUses, maxAmount)
	return n == 1, err
}

type usageHolds struct{}

func (usageHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	for _, b := range h.Buckets {
		ok, err := bump(ctx, tx, o.ShopID, h.Ref, b.Bucket, h.Quantity, h.Amount, b.MaxUses, b.MaxAmount)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s %s bucket %s: %w", h.Kind, h.Ref, b.Bucket, commerce.ErrStale)
		}
	}
	return nil
}

func (usageHolds) Commit(context.Context, *Tx, *commerce.Order, *commerce.Hold, time.Time) error {
	return nil // held uses already count; paying keeps them
}

func (usageHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, _ time.Time) error {
	for _, b := range h.Buckets {
		if _, err := tx.Exec(ctx, `UPDATE usage_counters SET uses = uses - $1, amount = amount - $2 WHERE shop_id = $3 AND ref = $4 AND bucket = $5`,
			h.Quantity, h.Amount, o.ShopID, h.Ref, b.Bucket); err != nil {
			return err
		}
	}
	return nil
}

type couponHolds struct{}

func (couponHolds) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	n, err := tx.ExecN(ctx, `UPDATE coupons SET status = 'locked', order_id = $1 WHERE shop_id = $2 AND id = $3 AND customer_id = $4 AND status = 'available'`,
		o.ID, o.ShopID, h.Ref, o.CustomerID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("coupon %s: %w", h.Ref, commerce.ErrStale)
	}
	return nil
}

func (couponHolds) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, _ time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE coupons SET status = 'used' WHERE shop_id = $1 AND id = $2 AND order_id = $3`, o.ShopID, h.Ref, o.ID)
	return err
}

func (couponHolds) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, _ time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE coupons SET status = 'available', order_id = '' WHERE shop_id = $1 AND id = $2 AND order_id = $3`, o.ShopID, h.Ref, o.ID)
	return err
}
