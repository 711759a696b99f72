package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/carnivalhq/carnival/internal/analytics"
)

// Raw events go in with multi-row INSERTs of eventChunk rows on
// PostgreSQL (5 columns each).
const eventChunk = 500

const eventCols = `shop_id, id, type, ts, body`

// AppendEvents stores events not stored yet and returns their sequences
// (0 for an event whose shop and id were already stored).
func (s *Store) AppendEvents(ctx context.Context, evs []analytics.Stored) ([]int64, error) {
	seqs := make([]int64, len(evs))
	err := s.Write(ctx, func(tx *Tx) error {
		clear(seqs)
		at := make(map[string]int, len(evs))
		for i := range evs {
			at[evs[i].ShopID+"\x00"+evs[i].ID] = i
		}
		scan := func(rows *sql.Rows, err error) error {
			if err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var seq int64
				var shop, id string
				if err := rows.Scan(&seq, &shop, &id); err != nil {
					return err
				}
				seqs[at[shop+"\x00"+id]] = seq
			}
			return rows.Err()
		}
		if s.d.Name == "sqlite" {
			// One prepared single-row INSERT per event. The driver looks
			// every parameter up by name, linearly, so a multi-row VALUES
			// of n parameters costs n² (a 500-row batch spent 90 % of its
			// time there), and unpacking a JSON array with json_each
			// re-parsed each element once per column.
			var buf []byte
			for i := range evs {
				e := &evs[i]
				buf = e.AppendJSON(buf[:0])
				res, err := tx.Exec(ctx, `INSERT INTO analytics_events (`+eventCols+`) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, id) DO NOTHING`, e.ShopID, e.ID, e.Type, TS(e.TS), string(buf))
				if err != nil {
					return fmt.Errorf("append event: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					if seqs[i], err = res.LastInsertId(); err != nil {
						return err
					}
				}
			}
			return nil
		}
		for lo := 0; lo < len(evs); lo += eventChunk {
			hi := min(lo+eventChunk, len(evs))
			var b strings.Builder
			b.WriteString(`INSERT INTO analytics_events (` + eventCols + `) VALUES `)
			args := make([]any, 0, (hi-lo)*5)
			for i := lo; i < hi; i++ {
				e := &evs[i]
				if i > lo {
					b.WriteByte(',')
				}
				b.WriteByte('(')
				for c := 0; c < 5; c++ {
					if c > 0 {
						b.WriteByte(',')
					}
					b.WriteByte('$')
					b.WriteString(strconv.Itoa(len(args) + c + 1))
				}
				b.WriteByte(')')
				args = append(args, e.ShopID, e.ID, e.Type, TS(e.TS), string(e.AppendJSON(nil)))
			}
			b.WriteString(` ON CONFLICT (shop_id, id) DO NOTHING RETURNING seq, shop_id, id`)
			if err := scan(tx.tx.QueryContext(ctx, s.Q(b.String()), args...)); err != nil {
				return err
			}
		}
		return nil
	})
	return seqs, err
}

// ApplyDelta adds a delta to the rollups and moves the watermark.
func (s *Store) ApplyDelta(ctx context.Context, d *analytics.Delta) error {
	return s.Write(ctx, func(tx *Tx) error {
		for k, c := range d.Counters {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_rollups (shop_id, grain, bucket, channel, campaign, pv, product_views, carts, checkouts, searches, shares, orders, gmv, paid_orders, paid_amount, refunds, discount)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (shop_id, grain, bucket, channel, campaign) DO UPDATE SET
 pv = analytics_rollups.pv + excluded.pv, product_views = analytics_rollups.product_views + excluded.product_views,
 carts = analytics_rollups.carts + excluded.carts, checkouts = analytics_rollups.checkouts + excluded.checkouts,
 searches = analytics_rollups.searches + excluded.searches, shares = analytics_rollups.shares + excluded.shares,
 orders = analytics_rollups.orders + excluded.orders, gmv = analytics_rollups.gmv + excluded.gmv,
 paid_orders = analytics_rollups.paid_orders + excluded.paid_orders, paid_amount = analytics_rollups.paid_amount + excluded.paid_amount,
 refunds = analytics_rollups.refunds + excluded.refunds, discount = analytics_rollups.discount + excluded.discount`,
				k.ShopID, k.Grain, k.Bucket, k.Channel, k.Campaign, c.PV, c.ProductViews, c.Carts, c.Checkouts, c.Searches, c.Shares,
				c.Orders, c.GMV, c.PaidOrders, c.PaidAmount, c.Refunds, c.Discount); err != nil {
				return fmt.Errorf("rollup: %w", err)
			}
		}
		for k, steps := range d.VisitorDays {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_visitor_days (shop_id, day, visitor, channel, campaign, steps) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (shop_id, day, visitor, channel, campaign) DO UPDATE SET steps = analytics_visitor_days.steps | excluded.steps`,
				k.ShopID, k.Day, k.Visitor, k.Channel, k.Campaign, steps); err != nil {
				return fmt.Errorf("visitor day: %w", err)
			}
		}
		for k, c := range d.CustomerDays {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_customer_days (shop_id, day, customer_id, channel, campaign, orders, paid_orders, paid_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (shop_id, day, customer_id, channel, campaign) DO UPDATE SET orders = analytics_customer_days.orders + excluded.orders,
 paid_orders = analytics_customer_days.paid_orders + excluded.paid_orders, paid_amount = analytics_customer_days.paid_amount + excluded.paid_amount`,
				k.ShopID, k.Day, k.CustomerID, k.Channel, k.Campaign, c.Orders, c.PaidOrders, c.PaidAmount); err != nil {
				return fmt.Errorf("customer day: %w", err)
			}
		}
		for k, cust := range d.Links {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_identities (shop_id, anon, customer) VALUES ($1, $2, $3) ON CONFLICT (shop_id, anon) DO NOTHING`,
				k.ShopID, k.Anon, cust); err != nil {
				return fmt.Errorf("identity: %w", err)
			}
		}
		for k, f := range d.FirstPaid {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_first_paid (shop_id, customer_id, day, channel, campaign) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, customer_id) DO UPDATE SET day = excluded.day, channel = excluded.channel, campaign = excluded.campaign
WHERE excluded.day < analytics_first_paid.day`, k[0], k[1], f.Day, f.Channel, f.Campaign); err != nil {
				return fmt.Errorf("first paid: %w", err)
			}
		}
		if err := applySKUDays(ctx, tx, d.SKUDays); err != nil { // analytics_views.go
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE analytics_watermark SET seq = $1 WHERE id = 1 AND seq < $1`, d.MaxSeq)
		return err
	})
}

// Watermark is the last event sequence folded into the rollups.
func (s *Store) Watermark(ctx context.Context) (int64, error) {
	var v int64
	err := s.QueryRow(ctx, `SELECT seq FROM analytics_watermark WHERE id = 1`).Scan(&v)
	return v, err
}

// EventsAfter reads stored events after seq, in order.
func (s *Store) EventsAfter(ctx context.Context, seq int64, limit int) ([]analytics.Stored, error) {
	rows, err := s.Query(ctx, `SELECT seq, `+eventCols+` FROM analytics_events WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.Stored, error) {
		var e analytics.Stored
		var ts int64
		var body string
		if err := r.Scan(&e.Seq, &e.ShopID, &e.ID, &e.Type, &ts, &body); err != nil {
			return e, err
		}
		if err := json.Unmarshal([]byte(body), &e.Event); err != nil {
			return e, fmt.Errorf("event %d: %w", e.Seq, err)
		}
		e.TS = FromTS(ts)
		return e, nil
	})
}

// filterArgs renders a channel/campaign filter as four parameters from n.
func filterSQL(alias string, n int, f analytics.Filter) (string, []any) {
	has := func(p *string) (int, string) {
		if p == nil {
			return 0, ""
		}
		return 1, *p
	}
	a, av := has(f.Channel)
	c, cv := has(f.Campaign)
	q := fmt.Sprintf(` AND ($%d = 0 OR %schannel = $%d) AND ($%d = 0 OR %scampaign = $%d)`, n, alias, n+1, n+2, alias, n+3)
	return q, []any{a, av, c, cv}
}

// RollupCounters sums the counters of grain's buckets in [from, to).
func (s *Store) RollupCounters(ctx context.Context, shopID, grain string, from, to int64, f analytics.Filter) ([]analytics.BucketCounters, error) {
	fq, fa := filterSQL("", 5, f)
	rows, err := s.Query(ctx, `SELECT bucket, SUM(pv), SUM(product_views), SUM(carts), SUM(checkouts), SUM(searches), SUM(shares), SUM(orders), SUM(gmv),
 SUM(paid_orders), SUM(paid_amount), SUM(refunds), SUM(discount) FROM analytics_rollups
WHERE shop_id = $1 AND grain = $2 AND bucket >= $3 AND bucket < $4`+fq+` GROUP BY bucket ORDER BY bucket`, append([]any{shopID, grain, from, to}, fa...)...)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.BucketCounters, error) {
		var b analytics.BucketCounters
		c := &b.Counters
		err := r.Scan(&b.Bucket, &c.PV, &c.ProductViews, &c.Carts, &c.Checkouts, &c.Searches, &c.Shares, &c.Orders, &c.GMV, &c.PaidOrders, &c.PaidAmount, &c.Refunds, &c.Discount)
		return b, err
	})
}

// Distincts counts UV, paying customers, repurchasers and new customers
// exactly over the local days [fromDay, toDay).
func (s *Store) Distincts(ctx context.Context, shopID string, fromDay, toDay int64, f analytics.Filter) (analytics.Distincts, error) {
	var d analytics.Distincts
	base := []any{shopID, fromDay, toDay}
	fq, fa := filterSQL("v.", 4, f)
	if err := s.QueryRow(ctx, `SELECT COUNT(DISTINCT COALESCE(i.customer, v.visitor)) FROM analytics_visitor_days v
LEFT JOIN analytics_identities i ON i.shop_id = v.shop_id AND i.anon = v.visitor
WHERE v.shop_id = $1 AND v.day >= $2 AND v.day < $3 AND (v.steps & 1) <> 0`+fq, append(base, fa...)...).Scan(&d.UV); err != nil {
		return d, fmt.Errorf("uv: %w", err)
	}
	fq, fa = filterSQL("", 4, f)
	if err := s.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN p >= 2 THEN 1 ELSE 0 END), 0) FROM
(SELECT customer_id, SUM(paid_orders) AS p FROM analytics_customer_days WHERE shop_id = $1 AND day >= $2 AND day < $3`+fq+`
 GROUP BY customer_id HAVING SUM(paid_orders) > 0) t`, append(base, fa...)...).Scan(&d.PayingCustomers, &d.Repurchasers); err != nil {
		return d, fmt.Errorf("paying customers: %w", err)
	}
	if err := s.QueryRow(ctx, `SELECT COUNT(*) FROM analytics_first_paid WHERE shop_id = $1 AND day >= $2 AND day < $3`+fq,
		append(base, fa...)...).Scan(&d.NewCustomers); err != nil {
		return d, fmt.Errorf("new customers: %w", err)
	}
	return d, nil
}

// Funnel counts distinct merged visitors at each step over [fromDay, toDay).
func (s *Store) Funnel(ctx context.Context, shopID string, fromDay, toDay int64, byChannel bool) ([]analytics.FunnelRow, error) {
	sel, group := `''`, ``
	if byChannel {
		sel, group = `channel`, ` GROUP BY channel ORDER BY channel`
	}
	rows, err := s.Query(ctx, `SELECT `+sel+`,
 COUNT(DISTINCT CASE WHEN (steps & 1) <> 0 THEN vis END), COUNT(DISTINCT CASE WHEN (steps & 2) <> 0 THEN vis END),
 COUNT(DISTINCT CASE WHEN (steps & 4) <> 0 THEN vis END), COUNT(DISTINCT CASE WHEN (steps & 8) <> 0 THEN vis END),
 COUNT(DISTINCT CASE WHEN (steps & 16) <> 0 THEN vis END)
FROM (SELECT v.channel AS channel, v.steps AS steps, COALESCE(i.customer, v.visitor) AS vis FROM analytics_visitor_days v
 LEFT JOIN analytics_identities i ON i.shop_id = v.shop_id AND i.anon = v.visitor
 WHERE v.shop_id = $1 AND v.day >= $2 AND v.day < $3) t`+group, shopID, fromDay, toDay)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.FunnelRow, error) {
		var f analytics.FunnelRow
		err := r.Scan(&f.Channel, &f.Visits, &f.Products, &f.Carts, &f.Orders, &f.Paid)
		return f, err
	})
}

// CountEvents counts the shop's stored raw events.
func (s *Store) CountEvents(ctx context.Context, shopID string) (int64, error) {
	var n int64
	err := s.QueryRow(ctx, `SELECT COUNT(*) FROM analytics_events WHERE shop_id = $1`, shopID).Scan(&n)
	return n, err
}

var _ analytics.Store = (*Store)(nil)
