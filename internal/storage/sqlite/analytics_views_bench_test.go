package sqlite_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// BenchmarkCohorts measures the cohort retention report over 200 000
// customers whose first paid order fell in June–August 2026 (plus 50 000
// older customers still buying), each with 0–3 later paid days within
// 120 days: weekly cohorts over the quarter followed for 8 weeks, and
// monthly cohorts followed for 6 months. The fixture goes in through
// ApplyDelta, as the ingestor writes it.
func BenchmarkCohorts(b *testing.B) {
	st := storetest.OpenSQLite(b)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, loc)
	rng := rand.New(rand.NewPCG(3, 5))
	const newCustomers, oldCustomers, perDelta = 200_000, 50_000, 25_000
	d := analytics.NewDelta()
	rows := 0
	flush := func() {
		d.Events, d.MaxSeq = 1, 1
		if err := st.ApplyDelta(ctx, d); err != nil {
			b.Fatal(err)
		}
		d = analytics.NewDelta()
	}
	for i := 0; i < newCustomers+oldCustomers; i++ {
		cust := "c" + strconv.Itoa(i)
		first := start.AddDate(0, 0, rng.IntN(92))
		if i >= newCustomers {
			first = start.AddDate(0, 0, -1-rng.IntN(200))
		}
		fd := analytics.DayNum(first)
		d.FirstPaid[[2]string{"shop_co", cust}] = analytics.FirstPaid{Day: fd}
		d.CustomerDays[analytics.CustomerDayKey{ShopID: "shop_co", Day: fd, CustomerID: cust}] = &analytics.CustomerDay{Orders: 1, PaidOrders: 1, PaidAmount: 9900}
		rows++
		for j := rng.IntN(4); j > 0; j-- {
			day := analytics.DayNum(first.AddDate(0, 0, 1+rng.IntN(120)))
			d.CustomerDays[analytics.CustomerDayKey{ShopID: "shop_co", Day: day, CustomerID: cust, Channel: []string{"", "wechat"}[rng.IntN(2)]}] =
				&analytics.CustomerDay{Orders: 1, PaidOrders: 1, PaidAmount: 5900}
			rows++
		}
		if (i+1)%perDelta == 0 {
			flush()
		}
	}
	flush()
	v := analytics.Views{St: st}
	now := time.Date(2026, 12, 31, 0, 0, 0, 0, loc)
	quarter := analytics.Period{From: start, To: start.AddDate(0, 3, 0)}
	b.ReportMetric(float64(rows), "customer-days")
	b.Run("weekly-8", func(b *testing.B) {
		for b.Loop() {
			rs, err := v.Cohorts(ctx, "shop_co", quarter, false, 8, now)
			if err != nil || len(rs) != 14 {
				b.Fatalf("%d cohorts, %v", len(rs), err)
			}
		}
	})
	b.Run("monthly-6", func(b *testing.B) {
		for b.Loop() {
			rs, err := v.Cohorts(ctx, "shop_co", quarter, true, 6, now)
			if err != nil || len(rs) != 3 {
				b.Fatalf("%d cohorts, %v", len(rs), err)
			}
			var size int64
			for _, r := range rs {
				size += r.Size
			}
			if size != newCustomers {
				b.Fatalf("cohorts hold %d customers", size)
			}
		}
	})
}
