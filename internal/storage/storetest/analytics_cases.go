package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/clock"
)

// RunAnalytics runs the analytics contract: hand-computed metric fixtures,
// shop-local day boundaries, idempotent ingestion and rollups equal to a
// recomputation from raw events, across a crash.
func RunAnalytics(t *testing.T, open Opener) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// Now is 2026-11-12 00:00 in Shanghai.
	now := time.Date(2026, 11, 12, 0, 0, 0, 0, shanghai)
	newIngestor := func(t *testing.T, st analytics.Store, loc *time.Location) *analytics.Ingestor {
		clk := clock.At(now)
		in, err := analytics.NewIngestor(context.Background(), st, analytics.Options{Now: clk.Now, FlushEvery: -1,
			Location: func(context.Context, string) (*time.Location, error) { return loc, nil }})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, shanghai) }
	fixture := []analytics.Event{
		{ID: "e1", Type: analytics.PageView, TS: at(10, 23, 30), AnonymousID: "a1", UTMSource: "wx", UTMCampaign: "d11"},
		{ID: "e2", Type: analytics.PageView, TS: at(11, 0, 10), AnonymousID: "a1", UTMSource: "wx", UTMCampaign: "d11"}, // 10 Nov in UTC
		{ID: "e3", Type: analytics.PageView, TS: at(10, 10, 0), AnonymousID: "a2"},
		{ID: "e4", Type: analytics.ProductView, TS: at(11, 9, 0), AnonymousID: "a2", CustomerID: "c1", SKUID: "s1"}, // links a2 → c1
		{ID: "e5", Type: analytics.AddToCart, TS: at(11, 9, 5), CustomerID: "c1", SKUID: "s1"},
		{ID: "o1p", Type: analytics.OrderPlaced, TS: at(11, 9, 10), CustomerID: "c1", OrderID: "o1", Amount: 10000},
		{ID: "o1$", Type: analytics.OrderPaid, TS: at(11, 9, 11), CustomerID: "c1", OrderID: "o1", Amount: 10000, Discount: 500},
		{ID: "o2p", Type: analytics.OrderPlaced, TS: at(11, 12, 0), CustomerID: "c1", OrderID: "o2", Amount: 5000},
		{ID: "o2$", Type: analytics.OrderPaid, TS: at(11, 12, 1), CustomerID: "c1", OrderID: "o2", Amount: 5000},
		{ID: "o3p", Type: analytics.OrderPlaced, TS: at(10, 12, 0), CustomerID: "c2", OrderID: "o3", Amount: 3000},
		{ID: "e6", Type: analytics.PageView, TS: at(10, 20, 0), CustomerID: "c3"},
		{ID: "o4p", Type: analytics.OrderPlaced, TS: at(10, 20, 5), CustomerID: "c3", OrderID: "o4", Amount: 6000},
		{ID: "o4$", Type: analytics.OrderPaid, TS: at(10, 20, 6), CustomerID: "c3", OrderID: "o4", Amount: 6000},
		{ID: "o4r", Type: analytics.OrderRefunded, TS: at(11, 10, 0), CustomerID: "c3", OrderID: "o4", Amount: 1000},
	}
	ingest := func(t *testing.T, in *analytics.Ingestor, shop string, evs []analytics.Event) (int, int, []analytics.Rejection) {
		t.Helper()
		a, d, r, err := in.Ingest(context.Background(), shop, append([]analytics.Event(nil), evs...), true)
		if err != nil {
			t.Fatal(err)
		}
		return a, d, r
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, shanghai) }
	i64 := func(v int64) *int64 { return &v }

	t.Run("metrics over two Shanghai days match the hand-computed fixture", func(t *testing.T) {
		st := open(t)
		in := newIngestor(t, st, shanghai)
		defer in.Close()
		ingest(t, in, "shop_a", fixture)
		if err := in.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := analytics.Reader{St: st}
		rep, err := r.KPIs(context.Background(), "shop_a", analytics.Period{From: day(10), To: day(12)}, analytics.Day, analytics.Filter{}, 7000)
		if err != nil {
			t.Fatal(err)
		}
		// UV over the range is 3 (a1; a2 merged into c1; c3), not the
		// daily 3 + 2; conversion 2/3, AOV 21000/2, UV value 21000/3,
		// repurchase 1/2 (c1 paid twice), refund rate 1000/21000 → 476 bp,
		// ROI 21000/7000.
		want := analytics.KPIs{GMV: 24000, Orders: 4, PaidAmount: 21000, PaidOrders: 3, Refunds: 1000, NetSales: 20000, DiscountCost: 500,
			PV: 4, ProductViews: 1, Carts: 1, UV: i64(3), PayingCustomers: i64(2), NewCustomers: i64(2), ConversionBP: i64(6667),
			AOV: i64(10500), UVValue: i64(7000), RepurchaseBP: i64(5000), RefundRateBP: i64(476), ROIBP: i64(30000)}
		if d := cmp.Diff(want, rep.Current.Totals); d != "" {
			t.Errorf("totals (-want +got):\n%s", d)
		}
		// The exact row counts give the whole report, day points included.
		exact, err := analytics.Reader{St: st, Exact: true}.KPIs(context.Background(), "shop_a", analytics.Period{From: day(10), To: day(12)}, analytics.Day, analytics.Filter{}, 7000)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(exact, rep); d != "" {
			t.Errorf("sketch report differs from the exact one (-exact +sketch):\n%s", d)
		}
		if len(rep.Current.Points) != 2 {
			t.Fatalf("points = %+v", rep.Current.Points)
		}
		d10, d11 := rep.Current.Points[0], rep.Current.Points[1]
		// 11 Nov 00:10 Shanghai is 10 Nov in UTC: it counts on the 11th.
		if d10.Bucket != "2026-11-10" || d10.PV != 3 || *d10.UV != 3 || d11.PV != 1 || *d11.UV != 2 {
			t.Errorf("days: %s pv %d uv %d; %s pv %d uv %d", d10.Bucket, d10.PV, *d10.UV, d11.Bucket, d11.PV, *d11.UV)
		}
		if *d11.PayingCustomers != 1 || *d11.AOV != 15000 || *d11.ConversionBP != 5000 || *d11.NewCustomers != 1 {
			t.Errorf("11 Nov: %+v", d11.KPIs)
		}
		if rep.PreviousPeriod.From != "2026-11-08" || rep.SamePeriodLastYear.From != "2025-11-10" || rep.PreviousPeriod.Totals.GMV != 0 ||
			len(rep.PreviousPeriod.Points) != 2 || rep.PreviousPeriod.Totals.ROIBP != nil {
			t.Errorf("comparisons: %+v %+v", rep.PreviousPeriod, rep.SamePeriodLastYear)
		}
		ch := "wx"
		wx, err := r.KPIs(context.Background(), "shop_a", analytics.Period{From: day(10), To: day(12)}, analytics.Day, analytics.Filter{Channel: &ch}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if *wx.Current.Totals.UV != 1 || wx.Current.Totals.PV != 2 || wx.Current.Totals.GMV != 0 {
			t.Errorf("channel wx: %+v", wx.Current.Totals)
		}
		hours, err := r.KPIs(context.Background(), "shop_a", analytics.Period{From: day(11), To: day(12)}, analytics.Hour, analytics.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// 00:10 Shanghai is the first hour of the 11th; o1 was paid at 09:11.
		if pts := hours.Current.Points; len(pts) != 24 || pts[0].Bucket != "2026-11-11T00" || pts[0].PV != 1 || pts[9].PaidAmount != 10000 || pts[0].UV != nil {
			t.Errorf("hours: %d points, first %+v", len(pts), pts[0])
		}
		f, err := r.Funnel(context.Background(), "shop_a", analytics.Period{From: day(10), To: day(12)}, false)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]analytics.FunnelRow{{Visits: 3, Products: 1, Carts: 1, Orders: 3, Paid: 2}}, f); d != "" {
			t.Errorf("funnel (-want +got):\n%s", d)
		}
		fc, err := r.Funnel(context.Background(), "shop_a", analytics.Period{From: day(10), To: day(12)}, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(fc) != 2 || fc[1].Channel != "wx" || fc[1].Visits != 1 || fc[0].Visits != 2 {
			t.Errorf("funnel by channel: %+v", fc)
		}
	})

	t.Run("the same events in a UTC shop fall on UTC days", func(t *testing.T) {
		st := open(t)
		in := newIngestor(t, st, time.UTC)
		defer in.Close()
		ingest(t, in, "shop_u", fixture[:2])
		in.Flush(context.Background())
		rows, err := st.RollupCounters(context.Background(), "shop_u", analytics.Day, 20261101, 20261201, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Bucket != 20261110 || rows[0].PV != 2 {
			t.Errorf("UTC days: %+v", rows)
		}
	})

	t.Run("duplicate event ids count once and bad items are refused alone", func(t *testing.T) {
		st := open(t)
		in := newIngestor(t, st, shanghai)
		defer in.Close()
		batch := []analytics.Event{fixture[0], {ID: "x", Type: "click", TS: at(11, 1, 0), AnonymousID: "a"}, fixture[0],
			{ID: "y", Type: analytics.PageView, TS: now.Add(6 * time.Minute), AnonymousID: "a"}}
		a, d, rej := ingest(t, in, "shop_d", batch)
		if a != 2 || d != 1 || len(rej) != 2 || rej[0].Index != 1 || rej[0].Code != "unknown_type" || rej[1].Field != "ts" {
			t.Fatalf("accepted %d dups %d rejected %+v", a, d, rej)
		}
		a, d, _ = ingest(t, in, "shop_d", fixture[:1])
		if a != 1 || d != 1 {
			t.Fatalf("replay: accepted %d dups %d", a, d)
		}
		in.Flush(context.Background())
		n, _ := st.CountEvents(context.Background(), "shop_d")
		rows, _ := st.RollupCounters(context.Background(), "shop_d", analytics.Day, 0, 1<<40, analytics.Filter{})
		if n != 1 || len(rows) != 1 || rows[0].PV != 1 {
			t.Fatalf("stored %d, rollups %+v", n, rows)
		}
	})

	t.Run("sketch counts are within the stated error of exact counts, customers exact", func(t *testing.T) {
		st := open(t)
		in := newIngestor(t, st, shanghai)
		defer in.Close()
		rng := rand.New(rand.NewPCG(3, 5))
		// 6000 events of 4000 visitors over three days and three channels;
		// one in ten logged in; some payments. (The sketch error of large
		// sets is measured in internal/analytics: at this size the sketches
		// are still sparse and near exact; this checks the whole path.)
		var evs []analytics.Event
		for i := 0; i < 6000; i++ {
			v := rng.IntN(4000)
			e := analytics.Event{ID: fmt.Sprintf("g%d", i), Type: []string{analytics.PageView, analytics.ProductView, analytics.AddToCart}[rng.IntN(3)],
				TS: at(8+rng.IntN(3), rng.IntN(24), rng.IntN(60)), AnonymousID: fmt.Sprintf("a%d", v), SKUID: "s", UTMSource: []string{"", "wx", "dy"}[v%3]}
			if v%10 == 0 {
				e.CustomerID = fmt.Sprintf("c%d", v/10)
			}
			evs = append(evs, e)
			if e.CustomerID != "" && rng.IntN(4) == 0 {
				o := e
				o.ID, o.Type, o.OrderID, o.Amount = e.ID+"o", analytics.OrderPaid, e.ID, 100
				evs = append(evs, o)
			}
		}
		for lo := 0; lo < len(evs); lo += 1000 {
			ingest(t, in, "shop_s", evs[lo:min(lo+1000, len(evs))])
			if lo%5000 == 0 {
				if err := in.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := in.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		p := analytics.Period{From: day(8), To: day(11)}
		for _, f := range []analytics.Filter{{}, {Channel: func() *string { s := "wx"; return &s }()}} {
			sk, err := analytics.Reader{St: st}.KPIs(context.Background(), "shop_s", p, analytics.Day, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := analytics.Reader{St: st, Exact: true}.KPIs(context.Background(), "shop_s", p, analytics.Day, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			near := func(what string, got, want int64) {
				if want < 300 || float64(got-want) > 0.025*float64(want) || float64(want-got) > 0.025*float64(want) {
					t.Errorf("%s: sketch %d, exact %d", what, got, want)
				}
			}
			near("uv", *sk.Current.Totals.UV, *ex.Current.Totals.UV)
			for i := range ex.Current.Points {
				s, e := sk.Current.Points[i], ex.Current.Points[i]
				near("uv of "+e.Bucket, *s.UV, *e.UV)
				if *s.PayingCustomers != *e.PayingCustomers || *s.NewCustomers != *e.NewCustomers || s.PaidAmount != e.PaidAmount || s.PV != e.PV {
					t.Errorf("%s: customers and counters must be exact: sketch %+v exact %+v", e.Bucket, s.KPIs, e.KPIs)
				}
			}
			a, b := sk.Current.Totals, ex.Current.Totals
			if *a.PayingCustomers != *b.PayingCustomers || *a.RepurchaseBP != *b.RepurchaseBP || *a.NewCustomers != *b.NewCustomers || *b.PayingCustomers == 0 {
				t.Errorf("customers must be exact: sketch %+v exact %+v", a, b)
			}
		}
		fs, err := analytics.Reader{St: st}.Funnel(context.Background(), "shop_s", p, true)
		if err != nil {
			t.Fatal(err)
		}
		fe, err := analytics.Reader{St: st, Exact: true}.Funnel(context.Background(), "shop_s", p, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 3 || len(fe) != 3 {
			t.Fatalf("funnel rows: sketch %+v exact %+v", fs, fe)
		}
		for i := range fe {
			s, e := fs[i], fe[i]
			for j, pair := range [][2]int64{{s.Visits, e.Visits}, {s.Products, e.Products}, {s.Carts, e.Carts}, {s.Paid, e.Paid}} {
				// Steps under 1000 visitors are counted exactly (sparse sketches).
				if d := pair[0] - pair[1]; s.Channel != e.Channel || (pair[1] <= 1000 && d != 0) || float64(max(d, -d)) > 0.025*float64(pair[1]) {
					t.Errorf("funnel %q step %d: sketch %d exact %d", e.Channel, j, pair[0], pair[1])
				}
			}
		}
	})

	t.Run("an anonymous visitor whose link is already known counts as the customer", func(t *testing.T) {
		st := open(t)
		in := newIngestor(t, st, shanghai)
		defer in.Close()
		flushed := func(evs ...analytics.Event) {
			ingest(t, in, "shop_l", evs)
			if err := in.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		flushed(analytics.Event{ID: "l1", Type: analytics.PageView, TS: at(10, 9, 0), AnonymousID: "x", CustomerID: "c9"})
		// Later flushes, other days and channels: the anonymous id alone.
		flushed(analytics.Event{ID: "l2", Type: analytics.ProductView, TS: at(11, 9, 0), AnonymousID: "x", SKUID: "s"})
		flushed(analytics.Event{ID: "l3", Type: analytics.PageView, TS: at(11, 10, 0), AnonymousID: "x", UTMSource: "wx"},
			analytics.Event{ID: "l4", Type: analytics.PageView, TS: at(11, 10, 0), AnonymousID: "y"})
		for _, exact := range []bool{false, true} {
			rep, err := analytics.Reader{St: st, Exact: exact}.KPIs(context.Background(), "shop_l", analytics.Period{From: day(10), To: day(12)}, analytics.Day, analytics.Filter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if *rep.Current.Totals.UV != 2 || *rep.Current.Points[1].UV != 2 {
				t.Errorf("exact=%v: uv %d, on the 11th %d; want 2 (c9 and y) and 2", exact, *rep.Current.Totals.UV, *rep.Current.Points[1].UV)
			}
			f, err := analytics.Reader{St: st, Exact: exact}.Funnel(context.Background(), "shop_l", analytics.Period{From: day(10), To: day(12)}, false)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]analytics.FunnelRow{{Visits: 2, Products: 1}}, f); d != "" {
				t.Errorf("exact=%v funnel (-want +got):\n%s", exact, d)
			}
		}
	})

	t.Run("rollups equal a recomputation from raw events, across a crash", func(t *testing.T) {
		st := open(t)
		rng := rand.New(rand.NewPCG(7, 11))
		types := []string{analytics.PageView, analytics.ProductView, analytics.AddToCart, analytics.Search, analytics.OrderPlaced, analytics.OrderPaid, analytics.OrderRefunded}
		var all []analytics.Event
		for i := 0; i < 600; i++ {
			e := analytics.Event{ID: fmt.Sprintf("r%d", rng.IntN(500)), Type: types[rng.IntN(len(types))],
				TS: now.Add(-time.Duration(rng.IntN(6*24*60)) * time.Minute), AnonymousID: fmt.Sprintf("a%d", rng.IntN(30)), SKUID: "s",
				UTMSource: []string{"", "wx", "dy"}[rng.IntN(3)], UTMCampaign: []string{"", "d11"}[rng.IntN(2)], Amount: int64(rng.IntN(9999))}
			if rng.IntN(3) == 0 {
				e.CustomerID = fmt.Sprintf("c%d", rng.IntN(10))
			}
			all = append(all, e)
		}
		in := newIngestor(t, st, shanghai)
		for lo := 0; lo < len(all); {
			hi := min(len(all), lo+1+rng.IntN(80))
			ingest(t, in, "shop_p", all[lo:hi])
			if rng.IntN(3) == 0 {
				if err := in.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			lo = hi
		}
		// A crash: the last unflushed events are only in raw storage; a
		// new ingestor folds them in from the watermark.
		in2 := newIngestor(t, st, shanghai)
		defer in2.Close()
		raw, err := st.EventsAfter(context.Background(), "", 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		want := analytics.NewDelta()
		for i := range raw {
			want.Add(raw[i].ShopID, shanghai, &raw[i].Event, raw[i].Seq)
		}
		for _, g := range []string{analytics.Minute, analytics.Hour, analytics.Day} {
			got, err := st.RollupCounters(context.Background(), "shop_p", g, 0, 1<<50, analytics.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			sum := map[int64]analytics.Counters{}
			for k, c := range want.Counters {
				if k.Grain == g {
					s := sum[k.Bucket]
					s.PV += c.PV
					s.ProductViews += c.ProductViews
					s.Carts += c.Carts
					s.Searches += c.Searches
					s.Orders += c.Orders
					s.GMV += c.GMV
					s.PaidOrders += c.PaidOrders
					s.PaidAmount += c.PaidAmount
					s.Refunds += c.Refunds
					sum[k.Bucket] = s
				}
			}
			gotm := map[int64]analytics.Counters{}
			for _, b := range got {
				gotm[b.Bucket] = b.Counters
			}
			if d := cmp.Diff(sum, gotm); d != "" {
				t.Fatalf("grain %s: rollups differ from raw (-raw +rollups):\n%s", g, d)
			}
		}
		gotD, _ := st.Distincts(context.Background(), "shop_p", 0, 1<<40, analytics.Filter{})
		if gotD.UV == 0 || int(in2Events(t, st)) != len(raw) {
			t.Fatalf("distincts %+v", gotD)
		}
		// Flushed in random slices and across the crash, the sketches and
		// repeat pairs still give the exact customer counts of these few
		// customers, for the whole range and one channel.
		wx := "wx"
		for _, f := range []analytics.Filter{{}, {Channel: &wx}} {
			p := analytics.Period{From: day(5), To: day(13)}
			sk, err := analytics.Reader{St: st}.KPIs(context.Background(), "shop_p", p, analytics.Day, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := analytics.Reader{St: st, Exact: true}.KPIs(context.Background(), "shop_p", p, analytics.Day, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			// (UV may differ: links arrive in later flushes here, the case
			// docs/METRICS.md says the sketches count twice.)
			cust := func(r *analytics.Report) [][4]any {
				out := [][4]any{{*r.Current.Totals.PayingCustomers, *r.Current.Totals.RepurchaseBP, *r.Current.Totals.NewCustomers, r.Current.Totals.PaidAmount}}
				for _, pt := range r.Current.Points {
					out = append(out, [4]any{*pt.PayingCustomers, pt.RepurchaseBP, *pt.NewCustomers, pt.PaidAmount})
				}
				return out
			}
			if d := cmp.Diff(cust(ex), cust(sk)); d != "" || *ex.Current.Totals.RepurchaseBP == 0 {
				t.Errorf("filter %+v: customer counts differ from exact (-exact +sketch):\n%s", f, d)
			}
		}
	})
}

func in2Events(t *testing.T, st analytics.Store) int64 {
	n, err := st.CountEvents(context.Background(), "shop_p")
	if err != nil {
		t.Fatal(err)
	}
	return n
}
