package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/axiomhq/hyperloglog"

	"github.com/carnivalhq/carnival/internal/analytics"
)

// Raw events go in with multi-row INSERTs of eventChunk rows on
// PostgreSQL (5 columns each).
const eventChunk = 500

const eventCols = `shop_id, id, type, ts, body`

// AppendEvents stores events not stored yet, as stored by node, and
// returns their sequences (0 for an event whose shop and id were already
// stored, by this node or another).
func (s *Store) AppendEvents(ctx context.Context, node string, evs []analytics.Stored) ([]int64, error) {
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
				res, err := tx.Exec(ctx, `INSERT INTO analytics_events (`+eventCols+`, node) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (shop_id, id) DO NOTHING`, e.ShopID, e.ID, e.Type, TS(e.TS), string(buf), node)
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
			// $1 is the node, shared by every row.
			b.WriteString(`INSERT INTO analytics_events (` + eventCols + `, node) VALUES `)
			args := make([]any, 1, 1+(hi-lo)*5)
			args[0] = node
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
				b.WriteString(",$1)")
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

// ApplyDelta adds a delta to the rollups and moves the watermark of the
// delta's node.
func (s *Store) ApplyDelta(ctx context.Context, d *analytics.Delta) error {
	// The sketches are built before the write transaction, off the single
	// writer: only their read-merge-write of a few rows runs inside it.
	sks, err := s.buildSketches(ctx, d)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		if s.d.Name != "sqlite" {
			// Nodes flush one at a time (SQLite has a single writer
			// already). Under READ COMMITTED, two concurrent flushes would
			// each read a sketch or a customer-day's paid orders before the
			// other's commit and write back a merge that drops the other's
			// part (a lost update); the lock covers every read-modify-write
			// below, and the upserts can no longer deadlock on rows taken in
			// different orders. A flush is a few milliseconds a second per
			// node. The lock is held to commit; taking it again in
			// applySketches is a no-op.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(8008135)`); err != nil {
				return fmt.Errorf("flush lock: %w", err)
			}
		}
		for k, c := range d.Counters {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_rollups (shop_id, grain, bucket, channel, campaign, pv, product_views, carts, checkouts, searches, shares, orders, gmv, paid_orders, paid_amount, refunds, discount, cancelled_orders, cancelled_amount)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT (shop_id, grain, bucket, channel, campaign) DO UPDATE SET
 pv = analytics_rollups.pv + excluded.pv, product_views = analytics_rollups.product_views + excluded.product_views,
 carts = analytics_rollups.carts + excluded.carts, checkouts = analytics_rollups.checkouts + excluded.checkouts,
 searches = analytics_rollups.searches + excluded.searches, shares = analytics_rollups.shares + excluded.shares,
 orders = analytics_rollups.orders + excluded.orders, gmv = analytics_rollups.gmv + excluded.gmv,
 paid_orders = analytics_rollups.paid_orders + excluded.paid_orders, paid_amount = analytics_rollups.paid_amount + excluded.paid_amount,
 refunds = analytics_rollups.refunds + excluded.refunds, discount = analytics_rollups.discount + excluded.discount,
 cancelled_orders = analytics_rollups.cancelled_orders + excluded.cancelled_orders, cancelled_amount = analytics_rollups.cancelled_amount + excluded.cancelled_amount`,
				k.ShopID, k.Grain, k.Bucket, k.Channel, k.Campaign, c.PV, c.ProductViews, c.Carts, c.Checkouts, c.Searches, c.Shares,
				c.Orders, c.GMV, c.PaidOrders, c.PaidAmount, c.Refunds, c.Discount, c.CancelledOrders, c.CancelledAmount); err != nil {
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
		oldPaid, err := s.paidBefore(ctx, tx, d)
		if err != nil {
			return err
		}
		for k, c := range d.CustomerDays {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_customer_days (shop_id, day, customer_id, channel, campaign, orders, paid_orders, paid_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (shop_id, day, customer_id, channel, campaign) DO UPDATE SET orders = analytics_customer_days.orders + excluded.orders,
 paid_orders = analytics_customer_days.paid_orders + excluded.paid_orders, paid_amount = analytics_customer_days.paid_amount + excluded.paid_amount`,
				k.ShopID, k.Day, k.CustomerID, k.Channel, k.Campaign, c.Orders, c.PaidOrders, c.PaidAmount); err != nil {
				return fmt.Errorf("customer day: %w", err)
			}
		}
		if err := s.applyRepeatPairs(ctx, tx, d, oldPaid); err != nil {
			return err
		}
		for k, cust := range d.Links {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_identities (shop_id, anon, customer) VALUES ($1, $2, $3) ON CONFLICT (shop_id, anon) DO NOTHING`,
				k.ShopID, k.Anon, cust); err != nil {
				return fmt.Errorf("identity: %w", err)
			}
		}
		// The earliest payment wins (analytics.FirstPaid.Before), in
		// byte order of channel and campaign as in Go.
		bytewise := ""
		if s.d.Name != "sqlite" {
			bytewise = ` COLLATE "C"`
		}
		for k, f := range d.FirstPaid {
			if _, err := tx.Exec(ctx, `INSERT INTO analytics_first_paid (shop_id, customer_id, day, channel, campaign, ts) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (shop_id, customer_id) DO UPDATE SET day = excluded.day, channel = excluded.channel, campaign = excluded.campaign, ts = excluded.ts
WHERE (excluded.day, excluded.ts, excluded.channel`+bytewise+`, excluded.campaign`+bytewise+`)
 < (analytics_first_paid.day, analytics_first_paid.ts, analytics_first_paid.channel`+bytewise+`, analytics_first_paid.campaign`+bytewise+`)`,
				k[0], k[1], f.Day, f.Channel, f.Campaign, f.TS); err != nil {
				return fmt.Errorf("first paid: %w", err)
			}
		}
		if err := s.applySketches(ctx, tx, sks); err != nil {
			return err
		}
		if err := applySKUDays(ctx, tx, d.SKUDays); err != nil { // analytics_views.go
			return err
		}
		if err := applyCustomerPeriods(ctx, tx, d); err != nil { // analytics_views.go
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO analytics_node_watermarks (node, seq) VALUES ($1, $2)
ON CONFLICT (node) DO UPDATE SET seq = excluded.seq WHERE analytics_node_watermarks.seq < excluded.seq`, d.Node, d.MaxSeq)
		return err
	})
}

// buildSketches folds the delta's visitor-days and paying customer-days
// into day sketches. An anonymous visitor counts as its customer when its
// link is stored already or comes with this delta (the stored one wins,
// as in ApplyDelta).
func (s *Store) buildSketches(ctx context.Context, d *analytics.Delta) (map[analytics.SketchKey]*hyperloglog.Sketch, error) {
	if len(d.VisitorDays) == 0 && len(d.CustomerDays) == 0 {
		return nil, nil
	}
	// One query per 1000 anonymous visitors instead of one each (a point
	// lookup per visitor was a third of a flush's time).
	known, err := s.linksOf(ctx, d.VisitorDays)
	if err != nil {
		return nil, err
	}
	resolve := func(shopID, visitor string) (string, error) {
		if c, ok := known[[2]string{shopID, visitor}]; ok {
			return c, nil
		}
		if c, ok := d.Links[analytics.Link{ShopID: shopID, Anon: visitor}]; ok {
			return c, nil
		}
		return visitor, nil
	}
	return analytics.BuildSketches(d.VisitorDays, d.CustomerDays, resolve)
}

// applySketches merges day sketches into the stored ones.
func (s *Store) applySketches(ctx context.Context, tx *Tx, sks map[analytics.SketchKey]*hyperloglog.Sketch) error {
	if len(sks) == 0 {
		return nil
	}
	if s.d.Name != "sqlite" {
		// Read-merge-write of a sketch row: one writer at a time across
		// processes (SQLite has a single writer already).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(8008135)`); err != nil {
			return fmt.Errorf("sketch lock: %w", err)
		}
	}
	for k, sk := range sks {
		var stored []byte
		err := tx.QueryRow(ctx, `SELECT sketch FROM analytics_sketches WHERE shop_id = $1 AND kind = $2 AND day = $3 AND channel = $4 AND campaign = $5`,
			k.ShopID, k.Kind, k.Day, k.Channel, k.Campaign).Scan(&stored)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sketch: %w", err)
		}
		b, err := analytics.MergeStored(stored, sk)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_sketches (shop_id, kind, day, channel, campaign, sketch) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (shop_id, kind, day, channel, campaign) DO UPDATE SET sketch = excluded.sketch`, k.ShopID, k.Kind, k.Day, k.Channel, k.Campaign, b); err != nil {
			return fmt.Errorf("sketch: %w", err)
		}
	}
	return nil
}

// linksOf reads the stored links of the anonymous visitors of vd.
func (s *Store) linksOf(ctx context.Context, vd map[analytics.VisitorDayKey]int64) (map[[2]string]string, error) {
	byShop := map[string]map[string]bool{}
	for k := range vd {
		if strings.HasPrefix(k.Visitor, "a:") {
			if byShop[k.ShopID] == nil {
				byShop[k.ShopID] = map[string]bool{}
			}
			byShop[k.ShopID][k.Visitor] = true
		}
	}
	out := map[[2]string]string{}
	for shop, set := range byShop {
		anons := make([]string, 0, len(set))
		for a := range set {
			anons = append(anons, a)
		}
		for lo := 0; lo < len(anons); lo += 1000 {
			chunk := anons[lo:min(lo+1000, len(anons))]
			var rows *sql.Rows
			var err error
			if s.d.Name == "sqlite" {
				// One JSON parameter: the driver binds n parameters in n² time.
				js, _ := json.Marshal(chunk)
				rows, err = s.Query(ctx, `SELECT anon, customer FROM analytics_identities WHERE shop_id = $1 AND anon IN (SELECT value FROM json_each($2))`, shop, string(js))
			} else {
				rows, err = s.Query(ctx, `SELECT anon, customer FROM analytics_identities WHERE shop_id = $1 AND anon = ANY($2)`, shop, chunk)
			}
			got, err := rowsAll(rows, err, func(r *sql.Rows) ([2]string, error) {
				var x [2]string
				err := r.Scan(&x[0], &x[1])
				return x, err
			})
			if err != nil {
				return nil, fmt.Errorf("identities: %w", err)
			}
			for _, x := range got {
				out[[2]string{shop, x[0]}] = x[1]
			}
		}
	}
	return out, nil
}

// DaySketches reads the day sketches of the given kinds over the local
// days [fromDay, toDay).
func (s *Store) DaySketches(ctx context.Context, shopID string, fromDay, toDay int64, f analytics.Filter, kinds []int) ([]analytics.SketchRow, error) {
	in := make([]string, len(kinds))
	for i, k := range kinds {
		in[i] = strconv.Itoa(k)
	}
	fq, fa := filterSQL("", 4, f)
	rows, err := s.Query(ctx, `SELECT day, channel, campaign, kind, sketch FROM analytics_sketches
WHERE shop_id = $1 AND kind IN (`+strings.Join(in, ", ")+`) AND day >= $2 AND day < $3`+fq, append([]any{shopID, fromDay, toDay}, fa...)...)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.SketchRow, error) {
		var x analytics.SketchRow
		err := r.Scan(&x.Day, &x.Channel, &x.Campaign, &x.Kind, &x.Sketch)
		return x, err
	})
}

// ShopDaySketches reads the shop-wide day sketches of the given kinds
// over the local days [fromDay, toDay) and, for a day and kind without
// one, its detailed sketches (see analytics.Store).
func (s *Store) ShopDaySketches(ctx context.Context, shopID string, fromDay, toDay int64, kinds []int) ([]analytics.SketchRow, error) {
	in, wide := make([]string, len(kinds)), make([]string, len(kinds))
	for i, k := range kinds {
		in[i], wide[i] = strconv.Itoa(k), strconv.Itoa(k+analytics.SketchShopWide)
	}
	rows, err := s.Query(ctx, `SELECT day, channel, campaign, kind - `+strconv.Itoa(analytics.SketchShopWide)+`, sketch FROM analytics_sketches
WHERE shop_id = $1 AND kind IN (`+strings.Join(wide, ", ")+`) AND day >= $2 AND day < $3
UNION ALL
SELECT d.day, d.channel, d.campaign, d.kind, d.sketch FROM analytics_sketches d
WHERE d.shop_id = $1 AND d.kind IN (`+strings.Join(in, ", ")+`) AND d.day >= $2 AND d.day < $3
 AND NOT EXISTS (SELECT 1 FROM analytics_sketches w WHERE w.shop_id = d.shop_id AND w.kind = d.kind + `+strconv.Itoa(analytics.SketchShopWide)+`
  AND w.day = d.day AND w.channel = '' AND w.campaign = '')`, shopID, fromDay, toDay)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.SketchRow, error) {
		var x analytics.SketchRow
		err := r.Scan(&x.Day, &x.Channel, &x.Campaign, &x.Kind, &x.Sketch)
		return x, err
	})
}

// BackfillShopSketches builds the shop-wide day sketches of the days
// whose detailed sketches were written before shop-wide ones existed, by
// merging the detailed ones, and returns how many it wrote. Run it
// before ingestion starts (serve does): a flush that came first would
// create a shop-wide row holding only its own visitors, and the day would
// no longer be found here. Merging is idempotent, so running it again,
// or on a day a flush touches meanwhile, counts nobody twice.
func (s *Store) BackfillShopSketches(ctx context.Context) (int, error) {
	type shopDay struct {
		shop string
		day  int64
	}
	rows, err := s.Query(ctx, `SELECT DISTINCT d.shop_id, d.day FROM analytics_sketches d
WHERE d.kind < `+strconv.Itoa(analytics.SketchShopWide)+` AND NOT EXISTS (SELECT 1 FROM analytics_sketches w
 WHERE w.shop_id = d.shop_id AND w.kind = d.kind + `+strconv.Itoa(analytics.SketchShopWide)+` AND w.day = d.day AND w.channel = '' AND w.campaign = '')`)
	todo, err := rowsAll(rows, err, func(r *sql.Rows) (shopDay, error) {
		var x shopDay
		err := r.Scan(&x.shop, &x.day)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("shop-wide sketches: %w", err)
	}
	n := 0
	for _, sd := range todo {
		kinds := make([]int, analytics.SketchPaying+1)
		for i := range kinds {
			kinds[i] = i
		}
		detail, err := s.DaySketches(ctx, sd.shop, sd.day, sd.day+1, analytics.Filter{}, kinds)
		if err != nil {
			return n, err
		}
		sks := map[analytics.SketchKey]*hyperloglog.Sketch{}
		for _, row := range detail {
			k := analytics.SketchKey{ShopID: sd.shop, Day: row.Day, Kind: row.Kind + analytics.SketchShopWide}
			sk := analytics.NewSketch()
			if err := sk.UnmarshalBinary(row.Sketch); err != nil {
				return n, fmt.Errorf("day sketch: %w", err)
			}
			if sks[k] == nil {
				sks[k] = sk
			} else if err := sks[k].Merge(sk); err != nil {
				return n, err
			}
		}
		if err := s.Write(ctx, func(tx *Tx) error { return s.applySketches(ctx, tx, sks) }); err != nil {
			return n, err
		}
		n += len(sks)
	}
	return n, nil
}

// CustomerDistincts counts repurchasers (from the repeat pairs) and new
// customers exactly for each day of [fromDay, toDay) and for the range;
// UV and paying customers come from the sketches.
func (s *Store) CustomerDistincts(ctx context.Context, shopID string, fromDay, toDay int64, f analytics.Filter) (map[int64]analytics.Distincts, analytics.Distincts, error) {
	days := map[int64]analytics.Distincts{}
	var tot analytics.Distincts
	base := []any{shopID, fromDay, toDay}
	type dayRow struct{ day, n int64 }
	scan := func(r *sql.Rows) (dayRow, error) {
		var x dayRow
		err := r.Scan(&x.day, &x.n)
		return x, err
	}
	// Both rows of a pair pass the filter: the customer paid twice within it.
	pq, pa := pairFilterSQL(4, f)
	rows, err := s.Query(ctx, `SELECT day_a, COUNT(DISTINCT customer_id) FROM analytics_repeat_pairs
WHERE shop_id = $1 AND day_a >= $2 AND day_b < $3 AND day_a = day_b`+pq+` GROUP BY day_a`, append(base, pa...)...)
	got, err := rowsAll(rows, err, scan)
	if err != nil {
		return nil, tot, fmt.Errorf("repurchasers by day: %w", err)
	}
	for _, x := range got {
		days[x.day] = analytics.Distincts{Repurchasers: x.n}
	}
	if err := s.QueryRow(ctx, `SELECT COUNT(DISTINCT customer_id) FROM analytics_repeat_pairs
WHERE shop_id = $1 AND day_a >= $2 AND day_b < $3`+pq, append(base, pa...)...).Scan(&tot.Repurchasers); err != nil {
		return nil, tot, fmt.Errorf("repurchasers: %w", err)
	}
	fq, fa := filterSQL("", 4, f)
	rows, err = s.Query(ctx, `SELECT day, COUNT(*) FROM analytics_first_paid WHERE shop_id = $1 AND day >= $2 AND day < $3`+fq+` GROUP BY day`,
		append(base, fa...)...)
	if got, err = rowsAll(rows, err, scan); err != nil {
		return nil, tot, fmt.Errorf("new customers: %w", err)
	}
	for _, x := range got {
		d := days[x.day]
		d.NewCustomers = x.n
		days[x.day] = d
		tot.NewCustomers += x.n
	}
	return days, tot, nil
}

// pairFilterSQL renders a channel/campaign filter on both rows of a
// repeat pair as four parameters from n.
func pairFilterSQL(n int, f analytics.Filter) (string, []any) {
	_, args := filterSQL("", n, f)
	return fmt.Sprintf(` AND ($%d = 0 OR (channel_a = $%d AND channel_b = $%d)) AND ($%d = 0 OR (campaign_a = $%d AND campaign_b = $%d))`,
		n, n+1, n+1, n+2, n+3, n+3), args
}

// paidBefore reads the stored paid orders of the customer-days the delta
// adds payments to (0 when there is no row yet).
func (s *Store) paidBefore(ctx context.Context, tx *Tx, d *analytics.Delta) (map[analytics.CustomerDayKey]int64, error) {
	old := map[analytics.CustomerDayKey]int64{}
	for k, c := range d.CustomerDays {
		if c.PaidOrders <= 0 {
			continue
		}
		var n int64
		err := tx.QueryRow(ctx, `SELECT paid_orders FROM analytics_customer_days WHERE shop_id = $1 AND day = $2 AND customer_id = $3 AND channel = $4 AND campaign = $5`,
			k.ShopID, k.Day, k.CustomerID, k.Channel, k.Campaign).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("customer day: %w", err)
		}
		old[k] = n
	}
	return old, nil
}

// applyRepeatPairs records, after the delta's customer-days are stored,
// the pairs its payments make: a customer-day row that gets its first
// paid order pairs with every other paid row of the customer, and a row
// reaching two paid orders pairs with itself.
func (s *Store) applyRepeatPairs(ctx context.Context, tx *Tx, d *analytics.Delta, old map[analytics.CustomerDayKey]int64) error {
	type row struct {
		day      int64
		ch, camp string
	}
	less := func(a, b row) bool {
		if a.day != b.day {
			return a.day < b.day
		}
		if a.ch != b.ch {
			return a.ch < b.ch
		}
		return a.camp < b.camp
	}
	insert := func(shop, cust string, a, b row) error {
		if less(b, a) {
			a, b = b, a
		}
		_, err := tx.Exec(ctx, `INSERT INTO analytics_repeat_pairs (shop_id, customer_id, day_a, channel_a, campaign_a, day_b, channel_b, campaign_b)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, shop, cust, a.day, a.ch, a.camp, b.day, b.ch, b.camp)
		if err != nil {
			return fmt.Errorf("repeat pair: %w", err)
		}
		return nil
	}
	for k, was := range old {
		me := row{k.Day, k.Channel, k.Campaign}
		if was < 2 && was+d.CustomerDays[k].PaidOrders >= 2 {
			if err := insert(k.ShopID, k.CustomerID, me, me); err != nil {
				return err
			}
		}
		if was > 0 {
			continue
		}
		rows, err := tx.Query(ctx, `SELECT day, channel, campaign FROM analytics_customer_days WHERE shop_id = $1 AND customer_id = $2 AND paid_orders > 0`, k.ShopID, k.CustomerID)
		others, err := rowsAll(rows, err, func(r *sql.Rows) (row, error) {
			var x row
			err := r.Scan(&x.day, &x.ch, &x.camp)
			return x, err
		})
		if err != nil {
			return fmt.Errorf("paid days: %w", err)
		}
		for _, o := range others {
			if o != me {
				if err := insert(k.ShopID, k.CustomerID, me, o); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Watermark is the last sequence of node's events folded into the rollups
// (0 for a node that never flushed).
func (s *Store) Watermark(ctx context.Context, node string) (int64, error) {
	var v int64
	err := s.QueryRow(ctx, `SELECT seq FROM analytics_node_watermarks WHERE node = $1`, node).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// EventsAfter reads the events node stored after seq, in order. It walks
// the sequence index and skips other nodes' events: the range after a
// live node's watermark is a few seconds of events, and an index on node
// would slow every insert to speed up a restart.
func (s *Store) EventsAfter(ctx context.Context, node string, seq int64, limit int) ([]analytics.Stored, error) {
	rows, err := s.Query(ctx, `SELECT seq, `+eventCols+` FROM analytics_events WHERE seq > $1 AND node = $2 ORDER BY seq LIMIT $3`, seq, node, limit)
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
 SUM(paid_orders), SUM(paid_amount), SUM(refunds), SUM(discount), SUM(cancelled_orders), SUM(cancelled_amount) FROM analytics_rollups
WHERE shop_id = $1 AND grain = $2 AND bucket >= $3 AND bucket < $4`+fq+` GROUP BY bucket ORDER BY bucket`, append([]any{shopID, grain, from, to}, fa...)...)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.BucketCounters, error) {
		var b analytics.BucketCounters
		c := &b.Counters
		err := r.Scan(&b.Bucket, &c.PV, &c.ProductViews, &c.Carts, &c.Checkouts, &c.Searches, &c.Shares, &c.Orders, &c.GMV, &c.PaidOrders, &c.PaidAmount, &c.Refunds, &c.Discount,
			&c.CancelledOrders, &c.CancelledAmount)
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
