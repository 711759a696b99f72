package sqlite_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// BenchmarkAppendEvents measures the raw-event writer alone: batches of
// 1000 storefront events in one group-commit transaction each.
func BenchmarkAppendEvents(b *testing.B) {
	st := storetest.OpenSQLite(b)
	ctx := context.Background()
	ts := time.Now()
	evs := make([]analytics.Stored, 1000)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range evs {
			n++
			evs[i] = analytics.Stored{ShopID: "shop_bench", Event: analytics.Event{ID: "e" + strconv.Itoa(n), Type: analytics.PageView, TS: ts,
				AnonymousID: "anon-" + strconv.Itoa(n%20000), SessionID: "s", UTMSource: "wechat", UTMCampaign: "d11", Device: "mobile", URL: "https://shop.example/p/1"}}
		}
		if _, err := st.AppendEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDashboard measures the dashboard's reads over 30 days of
// rollups built from 1 M events (20 000 visitors a day, 4 channels):
// a 30-day KPI report with both comparisons, and the funnel by channel.
func BenchmarkDashboard(b *testing.B) {
	st := storetest.OpenSQLite(b)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	const total, perBatch = 1_000_000, 5000
	types := []string{analytics.PageView, analytics.PageView, analytics.PageView, analytics.ProductView, analytics.AddToCart}
	for lo := 0; lo < total; lo += perBatch {
		evs := make([]analytics.Stored, perBatch)
		d := analytics.NewDelta()
		for i := range evs {
			k := lo + i
			e := analytics.Event{ID: "e" + strconv.Itoa(k), Type: types[k%len(types)], TS: start.Add(time.Duration(k) * 30 * 24 * time.Hour / total),
				AnonymousID: "a" + strconv.Itoa(k*7919%600000), SKUID: "s", UTMSource: []string{"", "wechat", "douyin", "baidu"}[k%4]}
			if k%50 == 0 {
				e.Type, e.CustomerID, e.Amount = analytics.OrderPaid, "c"+strconv.Itoa(k%30000), 9900
			}
			evs[i] = analytics.Stored{ShopID: "shop_dash", Event: e}
		}
		seqs, err := st.AppendEvents(ctx, evs)
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			d.Add("shop_dash", loc, &evs[i].Event, seqs[i])
		}
		if err := st.ApplyDelta(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	r := analytics.Reader{St: st}
	p := analytics.Period{From: start, To: start.AddDate(0, 0, 30)}
	b.Run("kpis-30-days", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.KPIs(ctx, "shop_dash", p, analytics.Day, analytics.Filter{}, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("funnel-by-channel-30-days", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Funnel(ctx, "shop_dash", p, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}
