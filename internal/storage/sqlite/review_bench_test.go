package sqlite_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// BenchmarkReviewPromotionUsage measures the review's promotion section
// over a 14-day campaign with 200 000 paid orders, each keeping a pricing
// explanation of the size the engine writes (an activity, a coupon, a
// not-applied candidate and line parts), half of them in the window.
func BenchmarkReviewPromotionUsage(b *testing.B) {
	st := storetest.OpenSQLite(b)
	ctx := context.Background()
	shop, err := commerce.NewService(st, commerce.Options{}).CreateShop(ctx, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	const total = 200_000
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	pricing := `{"applied":[{"source":"activity","id":"prm_1","kind":"threshold_off","amount":500,"lines":[0],"uses":1,"budget":500},` +
		`{"source":"coupon","id":"cpn_X","template_id":"ctp_1","kind":"threshold_off","amount":800,"lines":[0],"uses":1,"budget":800}],` +
		`"not_applied":[{"source":"activity","id":"prm_2","reason":"threshold_not_met"}],` +
		`"line_parts":[[{"source":"activity","id":"prm_1","amount":500},{"source":"coupon","id":"cpn_X","amount":800}]]}`
	err = st.Write(ctx, func(tx *sqlstore.Tx) error {
		for i := 0; i < total; i++ {
			at := sqlstore.TS(start.Add(time.Duration(i) * (28 * 24 * time.Hour / total))) // 28 days: half in the 14-day window
			p := pricing
			if i%3 == 0 {
				p = `{"applied":[],"not_applied":[]}`
			}
			if _, err := tx.Exec(ctx, `INSERT INTO orders (id, shop_id, customer_id, status, goods_amount, item_discount, order_discount, coupon_discount,
				points_discount, points_used, shipping, shipping_discount, payable, refunded_amount, channel, created_at, expires_at, paid_at, pricing)
				VALUES ($1, $2, 'c', 'paid', 10000, 0, 500, 800, 0, 0, 0, 0, 8700, 0, '', $3, $3, $3, $4)`, "ord_"+strconv.Itoa(i), shop.ID, at, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	from, to := start, start.AddDate(0, 0, 14)
	b.ResetTimer()
	for b.Loop() {
		rows, err := st.PromotionUsage(ctx, shop.ID, from, to, []string{"prm_1"}, []string{"ctp_1"})
		if err != nil {
			b.Fatal(err)
		}
		if rows[0].Base != total/2 || rows[0].Orders != rows[1].Orders || rows[0].Orders < total/3 {
			b.Fatalf("rows %+v", rows)
		}
	}
}
