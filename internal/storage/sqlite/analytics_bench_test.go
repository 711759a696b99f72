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
		if _, err := st.AppendEvents(ctx, evs); err != nil {
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
	storetest.RunDashboardBench(b, st)
}
