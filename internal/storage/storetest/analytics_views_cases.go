package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// RunAnalyticsViews runs the contract of the analytics views: top SKUs,
// the channel table with spend and ROI, cohort retention and live tiles,
// each on a fixture computed by hand.
func RunAnalyticsViews(t *testing.T, open Opener) {
	t.Run("TopSKUs", func(t *testing.T) { testTopSKUs(t, open) })
	t.Run("ChannelTable", func(t *testing.T) { testChannelTable(t, open) })
	t.Run("Cohorts", func(t *testing.T) { testCohorts(t, open) })
	t.Run("LiveTiles", func(t *testing.T) { testLiveTiles(t, open) })
}

var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

func sh(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, shanghai) }

func viewsIngestor(t *testing.T, st analytics.Store, now time.Time) *analytics.Ingestor {
	t.Helper()
	in, err := analytics.NewIngestor(context.Background(), st, analytics.Options{Now: clock.At(now).Now, FlushEvery: -1,
		Location: func(context.Context, string) (*time.Location, error) { return shanghai, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func ingestFlush(t *testing.T, in *analytics.Ingestor, shop string, evs []analytics.Event) {
	t.Helper()
	_, _, rej, err := in.Ingest(context.Background(), shop, append([]analytics.Event(nil), evs...), true)
	if err != nil || len(rej) > 0 {
		t.Fatalf("ingest: %v, rejected %+v", err, rej)
	}
	if err := in.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func p64(v int64) *int64 { return &v }

func testTopSKUs(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a := e.SeedSKU(t, "A", 1500, 100)
	catalogA := e.sku(t, a.ID)
	b := "sku_gone" // not in the catalog: no names
	evs := []analytics.Event{
		{ID: "v1", Type: analytics.ProductView, TS: sh(11, 10, 0), AnonymousID: "a1", SKUID: a.ID, UTMSource: "wx"},
		{ID: "v2", Type: analytics.ProductView, TS: sh(11, 10, 1), AnonymousID: "a2", SKUID: a.ID},
		{ID: "v3", Type: analytics.ProductView, TS: sh(11, 10, 2), AnonymousID: "a3", SKUID: a.ID, UTMSource: "wx"},
		{ID: "v4", Type: analytics.ProductView, TS: sh(11, 10, 3), AnonymousID: "a1", SKUID: b, UTMSource: "wx"},
		{ID: "c1", Type: analytics.AddToCart, TS: sh(11, 10, 4), AnonymousID: "a1", SKUID: a.ID, UTMSource: "wx"},
		// One order holding A on two lines is one order of A: 3 units, 4500.
		{ID: "o1p", Type: analytics.OrderPlaced, TS: sh(11, 10, 5), CustomerID: "cu1", OrderID: "o1", Amount: 5500, UTMSource: "wx",
			Lines: []analytics.EventLine{{SKUID: a.ID, Quantity: 2, Amount: 3000}, {SKUID: b, Quantity: 1, Amount: 1000}, {SKUID: a.ID, Quantity: 1, Amount: 1500}}},
		{ID: "o1$", Type: analytics.OrderPaid, TS: sh(11, 10, 6), CustomerID: "cu1", OrderID: "o1", Amount: 5500, UTMSource: "wx",
			Lines: []analytics.EventLine{{SKUID: a.ID, Quantity: 2, Amount: 3000}, {SKUID: b, Quantity: 1, Amount: 1000}, {SKUID: a.ID, Quantity: 1, Amount: 1500}}},
		{ID: "o2p", Type: analytics.OrderPlaced, TS: sh(11, 11, 0), CustomerID: "cu2", OrderID: "o2", Amount: 5000,
			Lines: []analytics.EventLine{{SKUID: b, Quantity: 5, Amount: 5000}}},
		// The day before: outside [11, 12).
		{ID: "o3p", Type: analytics.OrderPlaced, TS: sh(10, 23, 59), CustomerID: "cu3", OrderID: "o3", Amount: 999,
			Lines: []analytics.EventLine{{SKUID: a.ID, Quantity: 1, Amount: 999}}},
		{ID: "o3$", Type: analytics.OrderPaid, TS: sh(10, 23, 59), CustomerID: "cu3", OrderID: "o3", Amount: 999,
			Lines: []analytics.EventLine{{SKUID: a.ID, Quantity: 1, Amount: 999}}},
	}
	in := viewsIngestor(t, e.Store, sh(12, 0, 0))
	ingestFlush(t, in, e.Shop.ID, evs)
	v := analytics.Views{St: e.Store}
	day11 := analytics.Period{From: sh(11, 0, 0), To: sh(12, 0, 0)}
	rowA := analytics.SKURow{SKUID: a.ID, ProductID: catalogA.ProductID, ProductName: "Product A", SKUName: catalogA.Name,
		ProductViews: 3, Carts: 1, Orders: 1, Units: 3, GMV: 4500, PaidUnits: 3, PaidAmount: 4500, ViewToCartBP: p64(3333), ViewToPaidBP: p64(10000)}
	rowB := analytics.SKURow{SKUID: b, ProductViews: 1, Orders: 2, Units: 6, GMV: 6000, PaidUnits: 1, PaidAmount: 1000, ViewToCartBP: p64(0), ViewToPaidBP: p64(10000)}
	for _, c := range []struct {
		by    string
		limit int
		f     analytics.Filter
		want  []analytics.SKURow
	}{
		{analytics.BySKUPaidAmount, 20, analytics.Filter{}, []analytics.SKURow{rowA, rowB}},
		{analytics.BySKUUnits, 20, analytics.Filter{}, []analytics.SKURow{rowB, rowA}},
		{analytics.BySKUUnits, 1, analytics.Filter{}, []analytics.SKURow{rowB}},
		{analytics.BySKUProductViews, 20, analytics.Filter{}, []analytics.SKURow{rowA, rowB}},
		{analytics.BySKUCarts, 20, analytics.Filter{}, []analytics.SKURow{rowA, rowB}},
		// Channel wx only: A loses the direct view; B keeps o1's line only.
		{analytics.BySKUUnits, 20, analytics.Filter{Channel: p("wx")}, []analytics.SKURow{
			{SKUID: a.ID, ProductID: catalogA.ProductID, ProductName: "Product A", SKUName: catalogA.Name,
				ProductViews: 2, Carts: 1, Orders: 1, Units: 3, GMV: 4500, PaidUnits: 3, PaidAmount: 4500, ViewToCartBP: p64(5000), ViewToPaidBP: p64(15000)},
			{SKUID: b, ProductViews: 1, Orders: 1, Units: 1, GMV: 1000, PaidUnits: 1, PaidAmount: 1000, ViewToCartBP: p64(0), ViewToPaidBP: p64(10000)}}},
		{analytics.BySKUUnits, 20, analytics.Filter{Campaign: p("none")}, []analytics.SKURow{}},
	} {
		got, err := v.TopSKUs(ctx, e.Shop.ID, day11, c.f, c.by, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Fatalf("by %s limit %d: (-want +got)\n%s", c.by, c.limit, d)
		}
	}
	// Two days take in o3 (10 Nov, 23:59 Shanghai).
	got, err := v.TopSKUs(ctx, e.Shop.ID, analytics.Period{From: sh(10, 0, 0), To: sh(12, 0, 0)}, analytics.Filter{}, analytics.BySKUPaidAmount, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Orders != 2 || got[0].Units != 4 || got[0].GMV != 5499 || got[0].PaidAmount != 5499 {
		t.Fatalf("two days: %+v", got)
	}

	// A crash before the flush: the lines are re-read from the stored
	// events and fold into the same SKU days.
	late := []analytics.Event{{ID: "o4p", Type: analytics.OrderPlaced, TS: sh(11, 12, 0), CustomerID: "cu4", OrderID: "o4", Amount: 700,
		Lines: []analytics.EventLine{{SKUID: b, Quantity: 7, Amount: 700}}}}
	if _, _, _, err := in.Ingest(context.Background(), e.Shop.ID, late, true); err != nil {
		t.Fatal(err)
	}
	in2 := viewsIngestor(t, e.Store, sh(12, 0, 0))
	defer in2.Close()
	got, err = v.TopSKUs(ctx, e.Shop.ID, day11, analytics.Filter{}, analytics.BySKUUnits, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SKUID != b || got[0].Units != 13 || got[0].Orders != 3 || got[0].GMV != 6700 {
		t.Fatalf("after rebuild: %+v", got)
	}
}

func p(s string) *string { return &s }

func testChannelTable(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	cs := campaign.New(e.Store, e.Svc, promotion.New(e.Store, e.Svc), nil)
	d11, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	other, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	addCh := func(c *campaign.Campaign, src, medium, cp string) *campaign.Channel {
		ch, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPaidAds, Name: src, UTMSource: src, UTMMedium: medium, UTMCampaign: cp, Budget: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	spend := func(c *campaign.Campaign, ch *campaign.Channel, day string, amount int64) {
		if _, _, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, campaign.SpendInput{Day: day, Amount: amount}, ""); err != nil {
			t.Fatal(err)
		}
	}
	dy := addCh(d11, "douyin", "kol", "d11")
	addCh(d11, "wx", "sms", "d11")
	dyOther := addCh(other, "douyin", "ads", "other")
	bd := addCh(other, "baidu", "ads", "other")
	spend(d11, dy, "2026-11-11", 50_000)
	spend(d11, dy, "2026-11-10", 10_000)
	spend(other, dyOther, "2026-11-11", 20_000)
	spend(other, bd, "2026-11-11", 8_000)
	spend(other, bd, "2026-11-12", 1_000) // after the period

	evs := []analytics.Event{
		{ID: "p1", Type: analytics.PageView, TS: sh(11, 9, 0), AnonymousID: "a1", UTMSource: "douyin", UTMCampaign: "d11"},
		{ID: "p2", Type: analytics.PageView, TS: sh(11, 9, 1), AnonymousID: "a2", UTMSource: "douyin", UTMCampaign: "d11"},
		{ID: "p3", Type: analytics.PageView, TS: sh(11, 9, 2), CustomerID: "cu1", UTMSource: "douyin", UTMCampaign: "d11"},
		{ID: "p4", Type: analytics.PageView, TS: sh(11, 9, 3), AnonymousID: "a3", UTMSource: "wx", UTMCampaign: "d11"},
		{ID: "p5", Type: analytics.PageView, TS: sh(11, 9, 4), AnonymousID: "a4"},
		{ID: "p6", Type: analytics.PageView, TS: sh(10, 9, 4), AnonymousID: "a9", UTMSource: "douyin", UTMCampaign: "d11"}, // 10 Nov
		{ID: "o1p", Type: analytics.OrderPlaced, TS: sh(11, 10, 0), CustomerID: "cu1", OrderID: "o1", Amount: 30_000, UTMSource: "douyin", UTMCampaign: "d11"},
		{ID: "o1$", Type: analytics.OrderPaid, TS: sh(11, 10, 1), CustomerID: "cu1", OrderID: "o1", Amount: 30_000, UTMSource: "douyin", UTMCampaign: "d11"},
		{ID: "o2p", Type: analytics.OrderPlaced, TS: sh(11, 11, 0), CustomerID: "cu2", OrderID: "o2", Amount: 10_000, UTMSource: "douyin"},
		{ID: "o2$", Type: analytics.OrderPaid, TS: sh(11, 11, 1), CustomerID: "cu2", OrderID: "o2", Amount: 10_000, UTMSource: "douyin"},
		{ID: "o3p", Type: analytics.OrderPlaced, TS: sh(11, 12, 0), CustomerID: "cu3", OrderID: "o3", Amount: 5_000},
	}
	in := viewsIngestor(t, e.Store, sh(12, 0, 0))
	defer in.Close()
	ingestFlush(t, in, e.Shop.ID, evs)
	v := analytics.Views{St: e.Store}
	day11 := analytics.Period{From: sh(11, 0, 0), To: sh(12, 0, 0)}

	got, err := v.Channels(ctx, e.Shop.ID, day11, "")
	if err != nil {
		t.Fatal(err)
	}
	// douyin: UV a1, a2, cu1; cu1 and cu2 paid 40 000; spend 50 000 (d11)
	// + 20 000 (other) on 11 Nov → ROI 40 000 / 70 000 = 5714 bp.
	// baidu: spend only. wx: a visit, no spend → no ROI.
	want := []analytics.ChannelRow{
		{Channel: "", UV: 1, Orders: 1, GMV: 5_000, ConversionBP: p64(0)},
		{Channel: "baidu", Spend: 8_000, ROIBP: p64(0)},
		{Channel: "douyin", UV: 3, Orders: 2, GMV: 40_000, PaidOrders: 2, PaidAmount: 40_000, PayingCustomers: 2, ConversionBP: p64(6667), AOV: p64(20_000),
			Spend: 70_000, ROIBP: p64(5714)},
		{Channel: "wx", UV: 1, ConversionBP: p64(0)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("all channels (-want +got):\n%s", d)
	}

	got, err = v.Channels(ctx, e.Shop.ID, day11, d11.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The campaign's channels only, with its spend only: douyin/d11 has
	// cu1's order (cu2's carries no campaign), 30 000 / 50 000 = 6000 bp.
	want = []analytics.ChannelRow{
		{Channel: "douyin", UTMCampaign: "d11", UV: 3, Orders: 1, GMV: 30_000, PaidOrders: 1, PaidAmount: 30_000, PayingCustomers: 1, ConversionBP: p64(3333),
			AOV: p64(30_000), Spend: 50_000, ROIBP: p64(6000)},
		{Channel: "wx", UTMCampaign: "d11", UV: 1, ConversionBP: p64(0)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("campaign d11 (-want +got):\n%s", d)
	}
	two, err := v.Channels(ctx, e.Shop.ID, analytics.Period{From: sh(10, 0, 0), To: sh(12, 0, 0)}, d11.ID)
	if err != nil {
		t.Fatal(err)
	}
	if two[0].Spend != 60_000 || two[0].UV != 4 || *two[0].ROIBP != 5000 {
		t.Fatalf("two days, douyin/d11: %+v", two[0])
	}
	_, err = v.Channels(ctx, e.Shop.ID, day11, "cmp_missing")
	wantCode(t, err, "campaign_not_found")
	// Another shop's campaign is not found either.
	shop2, err := e.Svc.CreateShop(ctx, "Other shop", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Channels(ctx, shop2.ID, day11, d11.ID)
	wantCode(t, err, "campaign_not_found")
}

func testCohorts(t *testing.T, open Opener) {
	st := open(t)
	const shop = "shop_c"
	d := analytics.NewDelta()
	paid := func(cust string, day int64) {
		d.CustomerDays[analytics.CustomerDayKey{ShopID: shop, Day: day, CustomerID: cust, Channel: "wx"}] = &analytics.CustomerDay{Orders: 1, PaidOrders: 1, PaidAmount: 100}
	}
	first := func(cust string, day int64) {
		d.FirstPaid[[2]string{shop, cust}] = analytics.FirstPaid{Day: day}
		paid(cust, day)
	}
	// Weeks (Monday first): W0 = 2 Nov, W1 = 9 Nov, W2 = 16, W3 = 23.
	first("c1", 20261103) // Tue of W0
	paid("c1", 20261105)  // W0 again: one customer, once
	paid("c1", 20261110)  // W1
	paid("c1", 20261124)  // W3
	d.CustomerDays[analytics.CustomerDayKey{ShopID: shop, Day: 20261124, CustomerID: "c1", Channel: "dy"}] = &analytics.CustomerDay{PaidOrders: 1}
	first("c2", 20261108)                                                                                                       // Sunday: still W0
	paid("c2", 20261109)                                                                                                        // Monday: W1
	paid("c2", 20261202)                                                                                                        // December
	first("c3", 20261109)                                                                                                       // W1
	paid("c3", 20261116)                                                                                                        // W2
	d.CustomerDays[analytics.CustomerDayKey{ShopID: shop, Day: 20261123, CustomerID: "c3"}] = &analytics.CustomerDay{Orders: 1} // placed, not paid
	first("c4", 20261030)                                                                                                       // October
	paid("c4", 20261110)
	first("x1", 20261103)                                                                                                               // another shop's customer
	d.FirstPaid[[2]string{"shop_x", "x1"}] = analytics.FirstPaid{Day: 20261103}                                                         // ...
	d.CustomerDays[analytics.CustomerDayKey{ShopID: "shop_x", Day: 20261103, CustomerID: "x1"}] = &analytics.CustomerDay{PaidOrders: 1} // ...
	delete(d.FirstPaid, [2]string{shop, "x1"})
	delete(d.CustomerDays, analytics.CustomerDayKey{ShopID: shop, Day: 20261103, CustomerID: "x1", Channel: "wx"})
	d.Events, d.MaxSeq = 1, 1
	if err := st.ApplyDelta(ctx, d); err != nil {
		t.Fatal(err)
	}
	v := analytics.Views{St: st}
	day := func(m, dd int) time.Time { return time.Date(2026, time.Month(m), dd, 0, 0, 0, 0, shanghai) }
	cp := func(k int, start string, n int64, share *int64, complete bool) analytics.CohortPeriod {
		return analytics.CohortPeriod{K: k, Start: start, Customers: n, ShareBP: share, Complete: complete}
	}
	// From Wednesday 4 Nov to 10 Nov: weeks W0 and W1; now Wednesday 25 Nov.
	got, err := v.Cohorts(ctx, shop, analytics.Period{From: day(11, 4), To: day(11, 11)}, false, 4, day(11, 25).Add(10*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []analytics.CohortRow{
		{Start: "2026-11-02", Size: 2, Periods: []analytics.CohortPeriod{cp(0, "2026-11-02", 2, p64(10000), true), cp(1, "2026-11-09", 2, p64(10000), true),
			cp(2, "2026-11-16", 0, p64(0), true), cp(3, "2026-11-23", 1, p64(5000), false)}},
		{Start: "2026-11-09", Size: 1, Periods: []analytics.CohortPeriod{cp(0, "2026-11-09", 1, p64(10000), true), cp(1, "2026-11-16", 1, p64(10000), true),
			cp(2, "2026-11-23", 0, p64(0), false)}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("weekly (-want +got):\n%s", d)
	}
	// Months: October (c4) and November (c1, c2, c3); now 15 Dec.
	got, err = v.Cohorts(ctx, shop, analytics.Period{From: day(10, 1), To: day(12, 1)}, true, 3, day(12, 15))
	if err != nil {
		t.Fatal(err)
	}
	want = []analytics.CohortRow{
		{Start: "2026-10-01", Size: 1, Periods: []analytics.CohortPeriod{cp(0, "2026-10-01", 1, p64(10000), true), cp(1, "2026-11-01", 1, p64(10000), true),
			cp(2, "2026-12-01", 0, p64(0), false)}},
		{Start: "2026-11-01", Size: 3, Periods: []analytics.CohortPeriod{cp(0, "2026-11-01", 3, p64(10000), true), cp(1, "2026-12-01", 1, p64(3333), false)}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("monthly (-want +got):\n%s", d)
	}
	// A week without first payments is an empty cohort, shares absent.
	got, err = v.Cohorts(ctx, shop, analytics.Period{From: day(11, 16), To: day(11, 17)}, false, 2, day(11, 30))
	if err != nil {
		t.Fatal(err)
	}
	want = []analytics.CohortRow{{Start: "2026-11-16", Periods: []analytics.CohortPeriod{cp(0, "2026-11-16", 0, nil, true), cp(1, "2026-11-23", 0, nil, true)}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("empty week (-want +got):\n%s", d)
	}
}

func testLiveTiles(t *testing.T, open Opener) {
	st := open(t)
	now := sh(11, 10, 30).Add(20 * time.Second)
	in := viewsIngestor(t, st, now)
	defer in.Close()
	ingestFlush(t, in, "shop_l", []analytics.Event{
		{ID: "y1", Type: analytics.OrderPaid, TS: sh(10, 23, 59), CustomerID: "c9", OrderID: "o9", Amount: 777}, // yesterday
		{ID: "p1", Type: analytics.PageView, TS: sh(11, 8, 0), AnonymousID: "a1"},
		{ID: "p2", Type: analytics.PageView, TS: sh(11, 9, 0), CustomerID: "c1"},
		{ID: "o1p", Type: analytics.OrderPlaced, TS: sh(11, 9, 20), CustomerID: "c1", OrderID: "o1", Amount: 8000},  // before the last hour
		{ID: "o1$", Type: analytics.OrderPaid, TS: sh(11, 9, 31), CustomerID: "c1", OrderID: "o1", Amount: 8000},    // first minute of the hour
		{ID: "o2p", Type: analytics.OrderPlaced, TS: sh(11, 10, 30), CustomerID: "c2", OrderID: "o2", Amount: 2000}, // this minute
		{ID: "o2$", Type: analytics.OrderPaid, TS: sh(11, 10, 30).Add(5 * time.Second), CustomerID: "c2", OrderID: "o2", Amount: 2000},
		{ID: "r1", Type: analytics.OrderRefunded, TS: sh(11, 10, 0), CustomerID: "c1", OrderID: "o1", Amount: 500},
	})
	tl, err := analytics.Views{St: st}.Live(ctx, "shop_l", now, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	// UV: a1, c1 (c2 only ordered); paying c1, c2; conversion 2/2; AOV 10 000/2.
	if tl.Day != "2026-11-11" || tl.GMV != 10_000 || tl.Orders != 2 || tl.PaidAmount != 10_000 || tl.PaidOrders != 2 || tl.UV != 2 ||
		tl.PayingCustomers != 2 || *tl.ConversionBP != 10000 || *tl.AOV != 5000 || tl.Refunds != 500 || !tl.AsOf.Equal(now) {
		t.Fatalf("tiles: %+v", tl)
	}
	if len(tl.LastHour) != 60 {
		t.Fatalf("%d minutes", len(tl.LastHour))
	}
	first, last := tl.LastHour[0], tl.LastHour[59]
	if first != (analytics.MinutePoint{Minute: "2026-11-11T09:31", PaidAmount: 8000, PaidOrders: 1}) ||
		last != (analytics.MinutePoint{Minute: "2026-11-11T10:30", PaidAmount: 2000, PaidOrders: 1, Orders: 1}) {
		t.Fatalf("first %+v last %+v", first, last)
	}
	var sum int64
	for _, m := range tl.LastHour {
		sum += m.PaidAmount
	}
	if sum != 10_000 {
		t.Fatalf("last hour paid %d, want 10 000", sum)
	}
}
