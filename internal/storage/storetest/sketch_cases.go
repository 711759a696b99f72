package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"
	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// RunShopSketches runs the shop-wide day sketch and sketch cache
// contract: a shop-wide sketch is the merge of its day's detailed ones,
// days without one fall back to the detailed rows and are backfilled, and
// a cached read equals an uncached one while open days stay live.
func RunShopSketches(t *testing.T, open Opener) {
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, shanghai)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, shanghai) }
	setup := func(t *testing.T) (*sqlstore.Store, *analytics.Ingestor) {
		st := open(t)
		clk := clock.At(now)
		in, err := analytics.NewIngestor(ctx, st, analytics.Options{Now: clk.Now, FlushEvery: -1,
			Location: func(context.Context, string) (*time.Location, error) { return shanghai, nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		// 3000 events of 2000 visitors over 8–10 Nov, three channels, two
		// campaigns, one in ten logged in, some paid orders; flushed in
		// three deltas so the sketches are merged into stored ones.
		rng := rand.New(rand.NewPCG(7, 11))
		var evs []analytics.Event
		for i := 0; i < 3000; i++ {
			v := rng.IntN(2000)
			e := analytics.Event{ID: fmt.Sprintf("g%d", i), Type: []string{analytics.PageView, analytics.ProductView, analytics.AddToCart, analytics.CheckoutStart}[rng.IntN(4)],
				TS: time.Date(2026, 11, 8+rng.IntN(3), rng.IntN(24), rng.IntN(60), 0, 0, shanghai), AnonymousID: fmt.Sprintf("a%d", v), SKUID: "s",
				UTMSource: []string{"", "wx", "dy"}[v%3], UTMCampaign: []string{"", "d11"}[v%2]}
			if v%10 == 0 {
				e.CustomerID = fmt.Sprintf("c%d", v/10)
			}
			evs = append(evs, e)
			if e.CustomerID != "" && rng.IntN(3) == 0 {
				o := e
				o.ID, o.Type, o.OrderID, o.Amount = e.ID+"o", analytics.OrderPaid, e.ID, 100
				evs = append(evs, o)
			}
		}
		for lo := 0; lo < len(evs); lo += 1000 {
			if _, _, _, err := in.Ingest(ctx, "shop_w", evs[lo:min(lo+1000, len(evs))], true); err != nil {
				t.Fatal(err)
			}
			if err := in.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return st, in
	}
	kinds := []int{0, 1, 2, 3, 4, analytics.SketchPaying}
	type dk struct {
		day  int64
		kind int
	}
	// merged decodes rows and merges them by day and kind: the estimate
	// of each and how many rows went into it.
	merged := func(t *testing.T, rows []analytics.SketchRow) (map[dk]int64, map[dk]int) {
		t.Helper()
		sks, n := map[dk]*hyperloglog.Sketch{}, map[dk]int{}
		for _, row := range rows {
			sk := analytics.NewSketch()
			if err := sk.UnmarshalBinary(row.Sketch); err != nil {
				t.Fatal(err)
			}
			k := dk{row.Day, row.Kind}
			n[k]++
			if sks[k] == nil {
				sks[k] = sk
			} else if err := sks[k].Merge(sk); err != nil {
				t.Fatal(err)
			}
		}
		est := map[dk]int64{}
		for k, sk := range sks {
			est[k] = int64(sk.Estimate())
		}
		return est, n
	}
	p := analytics.Period{From: day(8), To: day(11)}
	wx := "wx"

	t.Run("the shop-wide sketch of a day is the merge of its detailed sketches; missing ones fall back and are backfilled", func(t *testing.T) {
		st, _ := setup(t)
		detail, err := st.DaySketches(ctx, "shop_w", 20261108, 20261111, analytics.Filter{}, kinds)
		if err != nil {
			t.Fatal(err)
		}
		want, dn := merged(t, detail)
		wide, err := st.ShopDaySketches(ctx, "shop_w", 20261108, 20261111, kinds)
		if err != nil {
			t.Fatal(err)
		}
		got, wn := merged(t, wide)
		// Three days × every kind but 3 (no order_placed events).
		if d := cmp.Diff(want, got); d != "" || len(want) != 3*(len(kinds)-1) {
			t.Errorf("shop-wide estimates (-detailed +shop-wide), %d day × kinds:\n%s", len(want), d)
		}
		for k, n := range wn {
			if n != 1 || dn[k] < 2 {
				t.Errorf("%v: %d shop-wide rows over %d detailed", k, n, dn[k])
			}
		}
		before, err := analytics.Reader{St: st}.KPIs(ctx, "shop_w", p, analytics.Day, analytics.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Data from before shop-wide sketches: 9 Nov has none.
		if err := st.Write(ctx, func(tx *sqlstore.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM analytics_sketches WHERE shop_id = $1 AND day = $2 AND kind >= $3`, "shop_w", 20261109, analytics.SketchShopWide)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		wide, err = st.ShopDaySketches(ctx, "shop_w", 20261108, 20261111, kinds)
		if err != nil {
			t.Fatal(err)
		}
		got, wn = merged(t, wide)
		if d := cmp.Diff(want, got); d != "" || wn[dk{20261109, 0}] != dn[dk{20261109, 0}] || wn[dk{20261108, 0}] != 1 {
			t.Errorf("fallback to detailed rows: rows %v (-want +got):\n%s", wn, d)
		}
		fallback, err := analytics.Reader{St: st}.KPIs(ctx, "shop_w", p, analytics.Day, analytics.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(before, fallback); d != "" {
			t.Errorf("report over the fallback (-shop-wide +fallback):\n%s", d)
		}
		n, err := st.BackfillShopSketches(ctx)
		if err != nil || n != len(kinds)-1 {
			t.Fatalf("backfill wrote %d sketches (%d kinds on 9 Nov), %v", n, len(kinds)-1, err)
		}
		if n, err := st.BackfillShopSketches(ctx); err != nil || n != 0 {
			t.Fatalf("second backfill wrote %d, %v", n, err)
		}
		wide, err = st.ShopDaySketches(ctx, "shop_w", 20261108, 20261111, kinds)
		if err != nil {
			t.Fatal(err)
		}
		got, wn = merged(t, wide)
		if d := cmp.Diff(want, got); d != "" || wn[dk{20261109, 0}] != 1 {
			t.Errorf("after backfill: rows %v (-want +got):\n%s", wn, d)
		}
	})

	t.Run("a cached read equals an uncached one; open days stay live, closed days come from the cache", func(t *testing.T) {
		st, in := setup(t)
		// The dashboard's clock: 18 Nov noon, so 8 and 9 Nov are closed
		// (more than 8 days ago) and 10 Nov is not.
		cache := analytics.NewCache(100, func() time.Time { return time.Date(2026, 11, 18, 12, 0, 0, 0, shanghai) })
		cached, plain := analytics.Reader{St: st, Cache: cache}, analytics.Reader{St: st}
		compare := func(t *testing.T) *analytics.Report {
			t.Helper()
			var last *analytics.Report
			for _, f := range []analytics.Filter{{}, {Channel: &wx}} {
				want, err := plain.KPIs(ctx, "shop_w", p, analytics.Day, f, 0)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 { // filling the cache, then from it
					got, err := cached.KPIs(ctx, "shop_w", p, analytics.Day, f, 0)
					if err != nil {
						t.Fatal(err)
					}
					if d := cmp.Diff(want, got); d != "" {
						t.Errorf("filter %+v (-uncached +cached):\n%s", f, d)
					}
				}
				if f.Channel == nil {
					last = want
				}
			}
			fw, err := plain.Funnel(ctx, "shop_w", p, false)
			if err != nil {
				t.Fatal(err)
			}
			fg, err := cached.Funnel(ctx, "shop_w", p, false)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(fw, fg); d != "" {
				t.Errorf("funnel (-uncached +cached):\n%s", d)
			}
			return last
		}
		before := compare(t)
		// Current period: 2 closed days × UV and paying, per filter, and
		// funnel kinds 1-4 of them; the comparisons are all closed.
		if cache.Len() == 0 {
			t.Fatal("nothing cached")
		}
		// A late visitor on 10 Nov (open) is counted after the flush; one
		// on 9 Nov (closed) is not, which shows 9 Nov came from the cache.
		for i, d := range []int{10, 9} {
			if _, _, _, err := in.Ingest(ctx, "shop_w", []analytics.Event{{ID: fmt.Sprintf("late%d", i), Type: analytics.PageView,
				TS: time.Date(2026, 11, d, 12, 0, 0, 0, shanghai), AnonymousID: fmt.Sprintf("late-visitor-%d", i)}}, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := cached.KPIs(ctx, "shop_w", p, analytics.Day, analytics.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := plain.KPIs(ctx, "shop_w", p, analytics.Day, analytics.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		uv := func(r *analytics.Report, i int) int64 { return *r.Current.Points[i].UV }
		if uv(got, 2) != uv(before, 2)+1 || uv(got, 2) != uv(fresh, 2) {
			t.Errorf("10 Nov UV: before %d, cached after %d, uncached after %d", uv(before, 2), uv(got, 2), uv(fresh, 2))
		}
		if uv(got, 1) != uv(before, 1) || uv(fresh, 1) != uv(before, 1)+1 {
			t.Errorf("9 Nov UV: before %d, cached after %d (closed: unchanged), uncached after %d", uv(before, 1), uv(got, 1), uv(fresh, 1))
		}
	})
}
