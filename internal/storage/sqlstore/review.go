package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/review"
)

var _ review.Store = (*Store)(nil)

// appliedDoc is the part of an order's pricing explanation (promotion's
// explanation.Applied) the review reads: who gave which discount.
type appliedDoc struct {
	Applied []struct {
		Source     string `json:"source"`
		ID         string `json:"id"`
		TemplateID string `json:"template_id"`
		Amount     int64  `json:"amount"`
	} `json:"applied"`
}

// PromotionUsage reads the orders paid in [from, to) and the pricing each
// kept at placement: an activity applied counts for its promotion, a
// coupon for its template. A template's coupons issued are those claimed
// in [from, to), redeemed those of them used by an order paid in it. The explanation is JSON text on both engines,
// so it is decoded here rather than in SQL.
func (s *Store) PromotionUsage(ctx context.Context, shopID string, from, to time.Time, promotionIDs, templateIDs []string) ([]review.PromotionUse, error) {
	type use struct{ orders, discount int64 }
	promos := make(map[string]*use, len(promotionIDs))
	for _, id := range promotionIDs {
		promos[id] = &use{}
	}
	tpls := make(map[string]*use, len(templateIDs))
	for _, id := range templateIDs {
		tpls[id] = &use{}
	}
	// An explanation that names none of the ids (as JSON strings) is not
	// decoded; ids with characters JSON may escape turn the shortcut off.
	var needles []string
	for _, id := range append(append([]string{}, promotionIDs...), templateIDs...) {
		if !plainID(id) {
			needles = nil
			break
		}
		needles = append(needles, `"`+id+`"`)
	}
	rows, err := s.Query(ctx, `SELECT pricing FROM orders WHERE shop_id = $1 AND paid_at >= $2 AND paid_at < $3`, shopID, TS(from), TS(to))
	if err != nil {
		return nil, err
	}
	var paid int64
	for rows.Next() {
		var pricing sql.NullString
		if err := rows.Scan(&pricing); err != nil {
			rows.Close()
			return nil, err
		}
		paid++
		if !pricing.Valid || pricing.String == "" || (needles != nil && !containsAny(pricing.String, needles)) {
			continue
		}
		var doc appliedDoc
		if err := json.Unmarshal([]byte(pricing.String), &doc); err != nil {
			continue // an explanation this reader does not know gives no use
		}
		seen := map[*use]bool{}
		for _, a := range doc.Applied {
			var u *use
			switch a.Source {
			case "activity":
				u = promos[a.ID]
			case "coupon":
				u = tpls[a.TemplateID]
			}
			if u == nil {
				continue
			}
			u.discount += a.Amount
			if !seen[u] {
				seen[u] = true
				u.orders++
			}
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()

	out := make([]review.PromotionUse, 0, len(promotionIDs)+len(templateIDs))
	for _, id := range promotionIDs {
		row := review.PromotionUse{Kind: review.KindPromotion, ID: id, Orders: promos[id].orders, DiscountCost: promos[id].discount, Base: paid}
		p, err := s.GetPromotion(ctx, shopID, id)
		switch {
		case err == nil:
			row.Name = p.Name
		case !errors.Is(err, commerce.ErrNotFound):
			return nil, err
		}
		row.Redemption = analytics.Ratio(row.Orders, paid, 10000)
		out = append(out, row)
	}
	for _, id := range templateIDs {
		row := review.PromotionUse{Kind: review.KindCouponTemplate, ID: id, Orders: tpls[id].orders, DiscountCost: tpls[id].discount}
		t, err := s.GetTemplate(ctx, shopID, id)
		switch {
		case err == nil:
			row.Name = t.Name
		case !errors.Is(err, commerce.ErrNotFound):
			return nil, err
		}
		var issued, used int64
		// Issued: claimed in the window; redeemed: of those, the ones whose
		// order was paid in the window. A coupon claimed before the window
		// or redeemed after it is not the campaign's.
		if err := s.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.status = 'used' AND o.paid_at >= $3 AND o.paid_at < $4 THEN 1 ELSE 0 END), 0)
			FROM coupons c LEFT JOIN orders o ON o.shop_id = c.shop_id AND o.id = c.order_id AND c.order_id <> ''
			WHERE c.shop_id = $1 AND c.template_id = $2 AND c.claimed_at >= $3 AND c.claimed_at < $4`, shopID, id, TS(from), TS(to)).Scan(&issued, &used); err != nil {
			return nil, err
		}
		row.Issued, row.Redeemed, row.Base = &issued, &used, issued
		row.Redemption = analytics.Ratio(used, issued, 10000)
		out = append(out, row)
	}
	return out, nil
}

// StockOuts replays the stock ledger: a SKU's free stock at from is its
// stock now less every change since, and walking the changes of [from, to)
// in order finds when it first reached zero and whether it was still at
// zero at to.
// Flash-sale items with nothing remaining, of sales overlapping the window,
// are listed too when their last reservation (the one that took the last
// unit) was made in the window.
func (s *Store) StockOuts(ctx context.Context, shopID string, from, to time.Time) ([]review.StockOut, error) {
	rows, err := s.Query(ctx, `SELECT m.sku_id, k.name, k.stock, m.delta, m.at FROM stock_moves m JOIN skus k ON k.id = m.sku_id
		WHERE m.shop_id = $1 AND m.at >= $2 ORDER BY m.sku_id, m.at, m.id`, shopID, TS(from))
	if err != nil {
		return nil, err
	}
	type move struct {
		delta, at int64
	}
	type sku struct {
		id, name string
		stock    int64
		moves    []move
	}
	var skus []*sku
	for rows.Next() {
		var id, name string
		var stock, delta, at int64
		if err := rows.Scan(&id, &name, &stock, &delta, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if len(skus) == 0 || skus[len(skus)-1].id != id {
			skus = append(skus, &sku{id: id, name: name, stock: stock})
		}
		k := skus[len(skus)-1]
		k.moves = append(k.moves, move{delta, at})
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()

	out := []review.StockOut{}
	end := TS(to)
	for _, k := range skus {
		level := k.stock
		for _, m := range k.moves {
			level -= m.delta
		}
		// level is the free stock at from. A SKU runs out when a move
		// takes units and leaves none: one at zero all along (or created
		// in the window) has not run out in it.
		var outAt *int64
		for _, m := range k.moves {
			if m.at >= end {
				break
			}
			level += m.delta
			if m.delta < 0 && level <= 0 && outAt == nil {
				at := m.at
				outAt = &at
			}
		}
		if outAt == nil {
			continue
		}
		t := FromTS(*outAt)
		out = append(out, review.StockOut{SKUID: k.id, Name: k.name, Source: review.OutStock, At: &t, Out: level <= 0})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(*out[j].At) {
			return out[i].At.Before(*out[j].At)
		}
		return out[i].SKUID < out[j].SKUID
	})

	// A sold-out allocation ran out with its last reservation (a released
	// one gives its units back, so the one that took the last unit is the
	// latest): it counts when that happened in the window.
	frows, err := s.Query(ctx, `SELECT i.sku_id, k.name, i.sale_id,
			(SELECT MAX(r.created_at) FROM flash_reservations r WHERE r.sale_id = i.sale_id AND r.sku_id = i.sku_id) AS out_at
		FROM flash_items i JOIN flash_sales f ON f.id = i.sale_id JOIN skus k ON k.id = i.sku_id
		WHERE i.shop_id = $1 AND f.starts_at < $2 AND f.ends_at > $3 AND i.allocated > 0 AND i.remaining = 0 ORDER BY i.sale_id, i.position`,
		shopID, TS(to), TS(from))
	flash, err := rowsAll(frows, err, func(r *sql.Rows) (review.StockOut, error) {
		row := review.StockOut{Source: review.OutFlash, Out: true}
		var at sql.NullInt64
		err := r.Scan(&row.SKUID, &row.Name, &row.SaleID, &at)
		row.At = FromNullTS(at)
		return row, err
	})
	if err != nil {
		return nil, err
	}
	for _, f := range flash {
		if f.At != nil && !f.At.Before(from) && f.At.Before(to) {
			out = append(out, f)
		}
	}
	return out, nil
}

func plainID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return id != ""
}

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}
