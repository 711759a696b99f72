package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// applySKUDays adds a delta's SKU days, inside ApplyDelta's transaction.
func applySKUDays(ctx context.Context, tx *Tx, days map[analytics.SKUDayKey]*analytics.SKUDay) error {
	for k, c := range days {
		if _, err := tx.Exec(ctx, `INSERT INTO analytics_sku_days (shop_id, day, sku_id, channel, campaign, product_views, carts, orders, units, gmv, paid_units, paid_amount)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (shop_id, day, sku_id, channel, campaign) DO UPDATE SET
 product_views = analytics_sku_days.product_views + excluded.product_views, carts = analytics_sku_days.carts + excluded.carts,
 orders = analytics_sku_days.orders + excluded.orders, units = analytics_sku_days.units + excluded.units,
 gmv = analytics_sku_days.gmv + excluded.gmv, paid_units = analytics_sku_days.paid_units + excluded.paid_units,
 paid_amount = analytics_sku_days.paid_amount + excluded.paid_amount`,
			k.ShopID, k.Day, k.SKUID, k.Channel, k.Campaign, c.ProductViews, c.Carts, c.Orders, c.Units, c.GMV, c.PaidUnits, c.PaidAmount); err != nil {
			return fmt.Errorf("sku day: %w", err)
		}
	}
	return nil
}

// ChannelCounters sums the day rollups of [fromDay, toDay) by channel.
func (s *Store) ChannelCounters(ctx context.Context, shopID string, fromDay, toDay int64, campaign *string) (map[string]analytics.Counters, error) {
	on, cp := 0, ""
	if campaign != nil {
		on, cp = 1, *campaign
	}
	rows, err := s.Query(ctx, `SELECT channel, SUM(pv), SUM(product_views), SUM(carts), SUM(checkouts), SUM(searches), SUM(shares), SUM(orders), SUM(gmv),
 SUM(paid_orders), SUM(paid_amount), SUM(refunds), SUM(discount) FROM analytics_rollups
WHERE shop_id = $1 AND grain = 'd' AND bucket >= $2 AND bucket < $3 AND ($4 = 0 OR campaign = $5) GROUP BY channel`, shopID, fromDay, toDay, on, cp)
	if err != nil {
		return nil, fmt.Errorf("channel counters: %w", err)
	}
	defer rows.Close()
	out := map[string]analytics.Counters{}
	for rows.Next() {
		var ch string
		var c analytics.Counters
		if err := rows.Scan(&ch, &c.PV, &c.ProductViews, &c.Carts, &c.Checkouts, &c.Searches, &c.Shares, &c.Orders, &c.GMV, &c.PaidOrders, &c.PaidAmount, &c.Refunds, &c.Discount); err != nil {
			return nil, err
		}
		out[ch] = c
	}
	return out, rows.Err()
}

// ChannelSpend sums the spend entries of the dates [from, to) by the
// utm_source of their campaign channel.
func (s *Store) ChannelSpend(ctx context.Context, shopID, from, to string) (map[string]int64, error) {
	rows, err := s.Query(ctx, `SELECT ch.utm_source, CAST(SUM(sp.amount) AS BIGINT) FROM campaign_spend sp JOIN campaign_channels ch ON ch.id = sp.channel_id
WHERE sp.shop_id = $1 AND sp.day >= $2 AND sp.day < $3 GROUP BY ch.utm_source`, shopID, from, to)
	if err != nil {
		return nil, fmt.Errorf("channel spend: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var src string
		var a int64
		if err := rows.Scan(&src, &a); err != nil {
			return nil, err
		}
		out[src] = a
	}
	return out, rows.Err()
}

// CampaignChannels lists a campaign's channels with their spend entries
// of the dates [from, to).
func (s *Store) CampaignChannels(ctx context.Context, shopID, campaignID, from, to string) ([]analytics.CampaignChannel, error) {
	var one int
	if err := s.QueryRow(ctx, `SELECT 1 FROM campaigns WHERE shop_id = $1 AND id = $2`, shopID, campaignID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return nil, commerce.NotFound("campaign", campaignID)
	} else if err != nil {
		return nil, err
	}
	rows, err := s.Query(ctx, `SELECT ch.utm_source, ch.utm_campaign,
 CAST(COALESCE((SELECT SUM(sp.amount) FROM campaign_spend sp WHERE sp.channel_id = ch.id AND sp.day >= $3 AND sp.day < $4), 0) AS BIGINT)
FROM campaign_channels ch WHERE ch.shop_id = $1 AND ch.campaign_id = $2 ORDER BY ch.created_at, ch.id`, shopID, campaignID, from, to)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.CampaignChannel, error) {
		var c analytics.CampaignChannel
		err := r.Scan(&c.UTMSource, &c.UTMCampaign, &c.Spend)
		return c, err
	})
}

var skuOrder = map[string]string{analytics.BySKUPaidAmount: "paid_amount", analytics.BySKUUnits: "units",
	analytics.BySKUProductViews: "product_views", analytics.BySKUCarts: "carts"}

// TopSKUs sums SKU days by SKU and returns the first limit by the ordering,
// with the SKU's and product's names from the catalog when it is there.
func (s *Store) TopSKUs(ctx context.Context, shopID string, fromDay, toDay int64, f analytics.Filter, by string, limit int) ([]analytics.SKURow, error) {
	col, ok := skuOrder[by]
	if !ok {
		return nil, fmt.Errorf("top skus: unknown ordering %q", by)
	}
	fq, fa := filterSQL("", 4, f)
	args := append([]any{shopID, fromDay, toDay}, fa...)
	args = append(args, limit)
	rows, err := s.Query(ctx, `SELECT t.sku_id, COALESCE(k.product_id, ''), COALESCE(p.name, ''), COALESCE(k.name, ''),
 t.product_views, t.carts, t.orders, t.units, t.gmv, t.paid_units, t.paid_amount
FROM (SELECT sku_id, SUM(product_views) AS product_views, SUM(carts) AS carts, SUM(orders) AS orders, SUM(units) AS units,
  SUM(gmv) AS gmv, SUM(paid_units) AS paid_units, SUM(paid_amount) AS paid_amount
 FROM analytics_sku_days WHERE shop_id = $1 AND day >= $2 AND day < $3`+fq+`
 GROUP BY sku_id ORDER BY `+col+` DESC, sku_id LIMIT $8) t
LEFT JOIN skus k ON k.id = t.sku_id AND k.shop_id = $1
LEFT JOIN products p ON p.id = k.product_id
ORDER BY t.`+col+` DESC, t.sku_id`, args...)
	return rowsAll(rows, err, func(r *sql.Rows) (analytics.SKURow, error) {
		var x analytics.SKURow
		err := r.Scan(&x.SKUID, &x.ProductID, &x.ProductName, &x.SKUName, &x.ProductViews, &x.Carts, &x.Orders, &x.Units, &x.GMV, &x.PaidUnits, &x.PaidAmount)
		return x, err
	})
}

// applyCustomerPeriods records, inside ApplyDelta's transaction and after
// its first paid days are stored, the weeks and months in which the
// delta's customers paid, each with the customer's cohort (the period of
// their stored first paid day). A delta that moves a customer's first
// paid day earlier moves the cohort of all their rows.
func applyCustomerPeriods(ctx context.Context, tx *Tx, d *analytics.Delta) error {
	type cust struct{ shop, id string }
	paid := map[cust][]int64{}
	for k, c := range d.CustomerDays {
		if c.PaidOrders > 0 {
			ck := cust{k.ShopID, k.CustomerID}
			paid[ck] = append(paid[ck], k.Day)
		}
	}
	for k := range d.FirstPaid {
		ck := cust{k[0], k[1]}
		if _, ok := paid[ck]; !ok {
			paid[ck] = nil
		}
	}
	for c, days := range paid {
		var first sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT day FROM analytics_first_paid WHERE shop_id = $1 AND customer_id = $2`, c.shop, c.id).Scan(&first)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("customer periods: %w", err)
		}
		_, moved := d.FirstPaid[[2]string{c.shop, c.id}]
		for _, monthly := range []bool{false, true} {
			kind := cohortKind(monthly)
			var cohort any
			if first.Valid {
				cohort = analytics.CohortIndex(first.Int64, monthly)
			}
			done := map[int64]bool{}
			for _, day := range days {
				p := analytics.CohortIndex(day, monthly)
				if done[p] {
					continue
				}
				done[p] = true
				if _, err := tx.Exec(ctx, `INSERT INTO analytics_customer_periods (shop_id, kind, customer_id, period, cohort) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, kind, customer_id, period) DO NOTHING`, c.shop, kind, c.id, p, cohort); err != nil {
					return fmt.Errorf("customer period: %w", err)
				}
			}
			if moved && cohort != nil {
				if _, err := tx.Exec(ctx, `UPDATE analytics_customer_periods SET cohort = $4
WHERE shop_id = $1 AND kind = $2 AND customer_id = $3 AND (cohort IS NULL OR cohort <> $4)`, c.shop, kind, c.id, cohort); err != nil {
					return fmt.Errorf("customer cohort: %w", err)
				}
			}
		}
	}
	return nil
}

func cohortKind(monthly bool) string {
	if monthly {
		return "m"
	}
	return "w"
}

// Cohorts counts first-paid cohorts and, per cohort and k, the distinct
// cohort customers with an order paid k periods after their cohort's.
// Sizes come from the first paid days of [fromDay, toDay); the retention
// counts are one grouped read of analytics_customer_periods (one row per
// customer per period paid, with the customer's cohort) over its covering
// index on (shop, kind, cohort, period), already in group order. untilDay
// is implied by periods.
func (s *Store) Cohorts(ctx context.Context, shopID string, fromDay, toDay, untilDay int64, monthly bool, periods int) (map[int64]int64, map[[2]int64]int64, error) {
	sizes := map[int64]int64{}
	kept := map[[2]int64]int64{}
	rows, err := s.Query(ctx, `SELECT day, COUNT(*) FROM analytics_first_paid WHERE shop_id = $1 AND day >= $2 AND day < $3 GROUP BY day`, shopID, fromDay, toDay)
	if err != nil {
		return nil, nil, fmt.Errorf("cohort sizes: %w", err)
	}
	for rows.Next() {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		sizes[analytics.CohortIndex(day, monthly)] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	lo, hi := analytics.CohortIndex(fromDay, monthly), analytics.CohortIndex(toDay, monthly)
	rows, err = s.Query(ctx, `SELECT cohort, period, COUNT(*) FROM analytics_customer_periods
WHERE shop_id = $1 AND kind = $2 AND cohort >= $3 AND cohort < $4 AND period >= cohort AND period < cohort + $5 GROUP BY cohort, period`,
		shopID, cohortKind(monthly), lo, hi, periods)
	if err != nil {
		return nil, nil, fmt.Errorf("cohort retention: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c, p, n int64
		if err := rows.Scan(&c, &p, &n); err != nil {
			return nil, nil, err
		}
		kept[[2]int64{c, p - c}] = n
	}
	return sizes, kept, rows.Err()
}

var _ analytics.ViewStore = (*Store)(nil)
