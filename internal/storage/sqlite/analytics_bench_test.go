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
