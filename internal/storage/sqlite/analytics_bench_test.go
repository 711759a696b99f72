package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/storage/sqlite"
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
		if _, err := st.AppendEvents(ctx, "", evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDashboard measures the dashboard's reads over the data set of
// storetest.BuildDashboard (36 days of 300 000 visitors a day, about 14 M
// events): the 30-day KPI report with both comparisons (all channels and
// one), a one-day "today" report, and the funnel overall and by channel,
// from the sketches and with Exact (the -exact variants take tens of
// seconds an op). The database is built once and kept in os.TempDir()
// (carnival-bench-dashboard-<shape>.db) for later runs; delete it to
// rebuild. Only runs under -bench.
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "carnival-bench-dashboard-"+storetest.DashboardShape+".db")
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		os.Remove(tmp)
		st, err := sqlite.Open(ctx, tmp, sqlite.Options{Synchronous: "NORMAL"})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		n, err := storetest.BuildDashboard(ctx, st.ApplyDelta)
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
		b.Logf("built %d events in %s", n, time.Since(t0).Round(time.Second))
		for _, sfx := range []string{"-wal", "-shm"} {
			os.Remove(tmp + sfx)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// A copy built before shop-wide sketches gets them here (a no-op
	// once they are there).
	if n, err := st.BackfillShopSketches(ctx); err != nil {
		b.Fatal(err)
	} else if n > 0 {
		b.Logf("built %d shop-wide day sketches", n)
	}
	storetest.RunDashboardBench(b, st)
}

// BenchmarkFlush measures one rollup flush (ApplyDelta) of what a busy
// second folds: 10 000 storefront events from 5 000 visitors of a pool of
// 200 000, 4 channels, 3 campaigns, one in 20 logged in.
func BenchmarkFlush(b *testing.B) {
	st := storetest.OpenSQLite(b)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	ts := time.Date(2026, 11, 11, 10, 0, 0, 0, loc)
	types := []string{analytics.PageView, analytics.PageView, analytics.PageView, analytics.ProductView, analytics.AddToCart}
	n := 0
	for b.Loop() {
		b.StopTimer()
		d := analytics.NewDelta()
		for i := 0; i < 10_000; i++ {
			n++
			v := (n/2*7919 + n%2) % 200_000
			e := analytics.Event{Type: types[n%len(types)], TS: ts.Add(time.Duration(n%3600) * time.Second), AnonymousID: "a" + strconv.Itoa(v),
				UTMSource: []string{"", "wechat", "douyin", "baidu"}[v%4], UTMCampaign: []string{"", "d11", "d12"}[v%3]}
			if v%20 == 0 {
				e.CustomerID = "c" + strconv.Itoa(v/20)
			}
			d.Add("shop_flush", loc, &e, int64(n))
		}
		b.StartTimer()
		if err := st.ApplyDelta(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}
