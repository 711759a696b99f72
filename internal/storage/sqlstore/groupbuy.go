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

// ---- group buys (拼团) ----

func (s *Store) CreateGroupCampaign(ctx context.Context, c *peak.GroupCampaign, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO group_buy_campaigns (id, shop_id, name, sku_id, list_price, group_price, group_size, starts_at, ends_at,
				group_window_s, per_customer_limit, payment_timeout_s, status, groups_opened, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15)`,
			c.ID, c.ShopID, c.Name, c.SKUID, c.ListPrice, c.GroupPrice, c.GroupSize, TS(c.StartsAt), TS(c.EndsAt),
			c.GroupWindowSeconds, c.PerCustomerLimit, c.PaymentTimeoutSeconds, c.Status, TS(c.CreatedAt), TS(c.UpdatedAt)); err != nil {
			return err
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const campaignCols = `id, shop_id, name, sku_id, list_price, group_price, group_size, starts_at, ends_at, group_window_s, per_customer_limit,
	payment_timeout_s, status, groups_opened, created_at, updated_at, ended_at`

func scanCampaign(r rowScanner) (peak.GroupCampaign, error) {
	var c peak.GroupCampaign
	var starts, ends, created, updated int64
	var ended sql.NullInt64
	err := r.Scan(&c.ID, &c.ShopID, &c.Name, &c.SKUID, &c.ListPrice, &c.GroupPrice, &c.GroupSize, &starts, &ends, &c.GroupWindowSeconds,
		&c.PerCustomerLimit, &c.PaymentTimeoutSeconds, &c.Status, &c.GroupsOpened, &created, &updated, &ended)
	c.StartsAt, c.EndsAt, c.CreatedAt, c.UpdatedAt, c.EndedAt = FromTS(starts), FromTS(ends), FromTS(created), FromTS(updated), FromNullTS(ended)
	return c, err
}

func (s *Store) GetGroupCampaign(ctx context.Context, shopID, id string) (*peak.GroupCampaign, error) {
	return getByID(ctx, s, "group_buy_campaigns", campaignCols, shopID, id, scanCampaign, nil)
}

func (s *Store) ListGroupCampaigns(ctx context.Context, shopID string, p commerce.Page) ([]peak.GroupCampaign, error) {
	return listPage(ctx, s, "group_buy_campaigns", campaignCols, shopID, p, scanCampaign, nil)
}

func (s *Store) EndGroupCampaign(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE group_buy_campaigns SET status = $1, ended_at = $2, updated_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5`,
			peak.CampaignEnded, TS(at), shopID, id, peak.CampaignActive)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return InsertAudit(ctx, tx, audit)
	})
}

const groupCols = `id, shop_id, campaign_id, sku_id, size, members, paid, status, opened_at, expires_at, completed_at, failed_at, settled_at`

func scanGroup(r rowScanner) (peak.Group, error) {
	var g peak.Group
	var opened, expires int64
	var completed, failed, settled sql.NullInt64
	err := r.Scan(&g.ID, &g.ShopID, &g.CampaignID, &g.SKUID, &g.Size, &g.Members, &g.Paid, &g.Status, &opened, &expires, &completed, &failed, &settled)
	g.OpenedAt, g.ExpiresAt = FromTS(opened), FromTS(expires)
	g.CompletedAt, g.FailedAt, g.SettledAt = FromNullTS(completed), FromNullTS(failed), FromNullTS(settled)
	if g.Status == peak.GroupOpen {
		g.SeatsLeft = g.Size - g.Members
	}
	return g, err
}

func (s *Store) GetGroup(ctx context.Context, shopID, id string) (*peak.Group, error) {
	g, err := scanGroup(s.QueryRow(ctx, `SELECT `+groupCols+` FROM group_buy_groups WHERE shop_id = $1 AND id = $2`, shopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.Query(ctx, `SELECT m.order_id, m.customer_id, COALESCE(c.name, ''), m.leader, m.state, m.reason, m.joined_at, m.paid_at
		FROM group_buy_members m LEFT JOIN customers c ON c.id = m.customer_id
		WHERE m.group_id = $1 ORDER BY m.joined_at, m.order_id`, id)
	g.MemberList, err = rowsAll(rows, err, func(r *sql.Rows) (peak.GroupMember, error) {
		var m peak.GroupMember
		var leader int
		var joined int64
		var paid sql.NullInt64
		err := r.Scan(&m.OrderID, &m.CustomerID, &m.Name, &leader, &m.State, &m.Reason, &joined, &paid)
		m.Leader, m.JoinedAt, m.PaidAt = leader != 0, FromTS(joined), FromNullTS(paid)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

func (s *Store) OpenGroups(ctx context.Context, shopID, campaignID string, at time.Time, p commerce.Page) ([]peak.Group, error) {
	rows, err := s.Query(ctx, `SELECT `+groupCols+` FROM group_buy_groups WHERE shop_id = $1 AND campaign_id = $2 AND status = $3
		AND expires_at > $4 AND members < size AND id > $5 ORDER BY id LIMIT $6`, shopID, campaignID, peak.GroupOpen, TS(at), p.Cursor, p.Limit)
	return rowsAll(rows, err, func(r *sql.Rows) (peak.Group, error) { return scanGroup(r) })
}

func (s *Store) DueGroups(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error) {
	rows, err := s.Query(ctx, `SELECT shop_id, id FROM group_buy_groups
		WHERE (status = $1 AND expires_at <= $2) OR (status = $3 AND settled_at IS NULL) ORDER BY expires_at, id LIMIT $4`,
		peak.GroupOpen, TS(at), peak.GroupFailed, limit)
	return rowsAll(rows, err, func(r *sql.Rows) (commerce.OrderRef, error) {
		var ref commerce.OrderRef
		return ref, r.Scan(&ref.ShopID, &ref.ID)
	})
}

func (s *Store) FailGroup(ctx context.Context, shopID, id string, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		n, err := tx.ExecN(ctx, `UPDATE group_buy_groups SET status = $1, failed_at = $2 WHERE shop_id = $3 AND id = $4 AND status = $5 AND expires_at <= $2`,
			peak.GroupFailed, TS(at), shopID, id, peak.GroupOpen)
		if err != nil {
			return err
		}
		if n == 0 {
			return commerce.ErrStale
		}
		return nil
	})
}

func (s *Store) MemberRefunded(ctx context.Context, shopID, orderID string, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		var groupID, campaignID, customerID string
		err := tx.QueryRow(ctx, `SELECT group_id, campaign_id, customer_id FROM group_buy_members WHERE shop_id = $1 AND order_id = $2 AND state = $3`,
			shopID, orderID, peak.MemberPaid).Scan(&groupID, &campaignID, &customerID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE group_buy_members SET state = $1, reason = $2 WHERE order_id = $3`, peak.MemberRefunded, peak.ReasonGroupFailed, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE group_buy_groups SET members = members - 1, paid = paid - 1 WHERE id = $1`, groupID); err != nil {
			return err
		}
		return freeCustomerSeat(ctx, tx, shopID, campaignID, customerID)
	})
}

func (s *Store) SettleGroup(ctx context.Context, shopID, id string, at time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE group_buy_groups SET settled_at = $1 WHERE shop_id = $2 AND id = $3 AND status = $4`, TS(at), shopID, id, peak.GroupFailed)
		return err
	})
}

// freeCustomerSeat lowers the customer's seat count in the campaign.
func freeCustomerSeat(ctx context.Context, tx *Tx, shopID, campaignID, customerID string) error {
	_, err := tx.Exec(ctx, `UPDATE usage_counters SET uses = uses - 1 WHERE shop_id = $1 AND ref = $2 AND bucket = $3 AND uses > 0`,
		shopID, campaignID, "c:"+customerID)
	return err
}

// groupSeats hold one seat of a group and one unit of the SKU's free stock
// for a member's order. open is the opener's kind: it creates the group.
type groupSeats struct{ open bool }

// ids returns the campaign and group of a hold.
func (gs groupSeats) ids(o *commerce.Order, h *commerce.Hold) (campaignID, groupID string, err error) {
	if gs.open {
		return h.Ref, peak.GroupIDFor(o.ID), nil
	}
	c, g, ok := strings.Cut(h.Ref, "/")
	if !ok {
		return "", "", fmt.Errorf("group seat ref %q is not campaign/group", h.Ref)
	}
	return c, g, nil
}

func seatRefused(code string) error { return &peak.SeatError{Code: code} }

func (gs groupSeats) Take(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold) error {
	campaignID, groupID, err := gs.ids(o, h)
	if err != nil {
		return err
	}
	now := TS(o.CreatedAt)
	var skuID string
	if gs.open {
		// The conditional update orders opens against ending the campaign.
		n, err := tx.ExecN(ctx, `UPDATE group_buy_campaigns SET groups_opened = groups_opened + 1
			WHERE shop_id = $1 AND id = $2 AND status = $3 AND starts_at <= $4 AND ends_at > $4`, o.ShopID, campaignID, peak.CampaignActive, now)
		if err != nil {
			return err
		}
		if n == 0 {
			return seatRefused("campaign_closed")
		}
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM group_buy_campaigns WHERE id = $1`, campaignID))
		if err != nil {
			return err
		}
		skuID = c.SKUID
		if _, err := tx.Exec(ctx, `INSERT INTO group_buy_groups (id, shop_id, campaign_id, sku_id, size, members, paid, status, leader_customer_id, opened_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7, $8, $9)`, groupID, o.ShopID, campaignID, c.SKUID, c.GroupSize, peak.GroupOpen, o.CustomerID,
			now, TS(c.GroupExpiry(o.CreatedAt))); err != nil {
			return err
		}
	} else {
		// The seat: one conditional update of the group's row. Concurrent
		// joins queue on the row, and the last seat goes to exactly one.
		n, err := tx.ExecN(ctx, `UPDATE group_buy_groups SET members = members + 1
			WHERE shop_id = $1 AND id = $2 AND campaign_id = $3 AND status = $4 AND members < size AND expires_at > $5`,
			o.ShopID, groupID, campaignID, peak.GroupOpen, now)
		if err != nil {
			return err
		}
		var status string
		var members, size, expires int64
		if err := tx.QueryRow(ctx, `SELECT sku_id, status, members, size, expires_at FROM group_buy_groups WHERE id = $1`, groupID).
			Scan(&skuID, &status, &members, &size, &expires); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return seatRefused("group_closed")
			}
			return err
		}
		if n == 0 {
			if status != peak.GroupOpen || expires <= now {
				return seatRefused("group_closed")
			}
			return seatRefused("group_full")
		}
		// Read after taking the row's lock: every earlier seat of this
		// group is visible, so the check is exact.
		var mine int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM group_buy_members WHERE group_id = $1 AND customer_id = $2 AND state IN ($3, $4)`,
			groupID, o.CustomerID, peak.MemberHeld, peak.MemberPaid).Scan(&mine); err != nil {
			return err
		}
		if mine > 0 {
			return seatRefused("already_member")
		}
	}
	for _, b := range h.Buckets {
		ok, err := bump(ctx, tx, o.ShopID, campaignID, b.Bucket, h.Quantity, 0, b.MaxUses, 0)
		if err != nil {
			return err
		}
		if !ok {
			return seatRefused("over_limit")
		}
	}
	// Group units come from the SKU's free stock, as an ordinary order's.
	if err := (stockHolds{}).Take(ctx, tx, o, &commerce.Hold{Kind: commerce.HoldStock, Ref: skuID, Quantity: h.Quantity}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO group_buy_members (order_id, shop_id, group_id, campaign_id, customer_id, leader, state, idem_key, joined_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, o.ID, o.ShopID, groupID, campaignID, o.CustomerID, b2i(gs.open), peak.MemberHeld, h.Key, now)
	return err
}

func (gs groupSeats) Commit(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	_, groupID, err := gs.ids(o, h)
	if err != nil {
		return err
	}
	n, err := tx.ExecN(ctx, `UPDATE group_buy_groups SET paid = paid + 1 WHERE shop_id = $1 AND id = $2 AND status = $3 AND expires_at > $4`,
		o.ShopID, groupID, peak.GroupOpen, TS(at))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("group %s is not open: %w", groupID, commerce.ErrStale)
	}
	var skuID string
	if err := tx.QueryRow(ctx, `SELECT sku_id FROM group_buy_groups WHERE id = $1`, groupID).Scan(&skuID); err != nil {
		return err
	}
	if err := (stockHolds{}).Commit(ctx, tx, o, &commerce.Hold{Kind: commerce.HoldStock, Ref: skuID, Quantity: h.Quantity}, at); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE group_buy_members SET state = $1, paid_at = $2 WHERE order_id = $3 AND state = $4`,
		peak.MemberPaid, TS(at), o.ID, peak.MemberHeld); err != nil {
		return err
	}
	// The Nth payment completes the group in the same transaction.
	_, err = tx.Exec(ctx, `UPDATE group_buy_groups SET status = $1, completed_at = $2 WHERE id = $3 AND status = $4 AND paid >= size`,
		peak.GroupComplete, TS(at), groupID, peak.GroupOpen)
	return err
}

func (gs groupSeats) Release(ctx context.Context, tx *Tx, o *commerce.Order, h *commerce.Hold, at time.Time) error {
	campaignID, groupID, err := gs.ids(o, h)
	if err != nil {
		return err
	}
	reason := o.CancelReason
	n, err := tx.ExecN(ctx, `UPDATE group_buy_members SET state = $1, reason = $2 WHERE order_id = $3 AND state = $4`,
		peak.MemberReleased, reason, o.ID, peak.MemberHeld)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("group seat of order %s is not held: %w", o.ID, commerce.ErrStale)
	}
	if _, err := tx.Exec(ctx, `UPDATE group_buy_groups SET members = members - 1 WHERE id = $1`, groupID); err != nil {
		return err
	}
	// Rows in the order Take locks them (group, counter, SKU), so a release
	// and a join never wait on each other in a cycle.
	if err := freeCustomerSeat(ctx, tx, o.ShopID, campaignID, o.CustomerID); err != nil {
		return err
	}
	var skuID string
	if err := tx.QueryRow(ctx, `SELECT sku_id FROM group_buy_groups WHERE id = $1`, groupID).Scan(&skuID); err != nil {
		return err
	}
	return (stockHolds{}).Release(ctx, tx, o, &commerce.Hold{Kind: commerce.HoldStock, Ref: skuID, Quantity: h.Quantity}, at)
}
