package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// RunAnalyticsViews runs the contract of the analytics views: top SKUs,
// the channel table with spend and ROI, cohort retention and live tiles,
// each on a fixture computed by hand.
func RunAnalyticsViews(t *testing.T, open Opener) {
	t.Run("TopSKUs", func(t *testing.T) { testTopSKUs(t, open) })
	t.Run("ChannelTable", func(t *testing.T) { testChannelTable(t, open) })
	t.Run("Cohorts", func(t *testing.T) { testCohorts(t, open) })
	t.Run("CohortsBruteForce", func(t *testing.T) { testCohortsBrute(t, open) })
	t.Run("CohortBackfill", func(t *testing.T) { testCohortBackfill(t, open) })
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
		// Cancelled unpaid: o3 today, o4 yesterday (not today's), o5 a
		// presale balance (its amount, no order).
		{ID: "o3p", Type: analytics.OrderPlaced, TS: sh(11, 9, 40), CustomerID: "c3", OrderID: "o3", Amount: 3000},
		{ID: "o3x", Type: analytics.OrderCancelled, TS: sh(11, 10, 10), CustomerID: "c3", OrderID: "o3", Amount: 3000},
		{ID: "o4x", Type: analytics.OrderCancelled, TS: sh(10, 22, 0), CustomerID: "c4", OrderID: "o4", Amount: 4444},
		{ID: "o5x", Type: analytics.OrderCancelled, TS: sh(11, 10, 20), CustomerID: "c5", OrderID: "o5", BalanceOf: "o5d", Amount: 600},
	})
	tl, err := analytics.Views{St: st}.Live(ctx, "shop_l", now, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	// UV: a1, c1 (c2, c3 only ordered); paying c1, c2; conversion 2/2; AOV 10 000/2;
	// GMV and orders keep the cancelled o3; cancelled: o3 (3000) and o5's 600.
	if tl.CancelledOrders != 1 || tl.CancelledAmount != 3600 {
		t.Fatalf("cancelled %d orders, %d fen; want 1, 3600", tl.CancelledOrders, tl.CancelledAmount)
	}
	if tl.Day != "2026-11-11" || tl.GMV != 13_000 || tl.Orders != 3 || tl.PaidAmount != 10_000 || tl.PaidOrders != 2 || tl.UV != 2 ||
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

// cohortFixture is random paying history written through ApplyDelta in
// several deltas, the way the ingestor folds events: each delta's first
// paid day is the earliest of its own payments, so a later delta can move
// a customer's first paid day earlier. Some customers' earliest payment is
// a presale balance (a first paid day with no paid order that day), and
// some customer-days only placed orders. It returns, for the brute force,
// each customer's first paid day and the days they had a paid order.
func cohortFixture(t *testing.T, st interface {
	ApplyDelta(context.Context, *analytics.Delta) error
}, seed uint64) (first map[string]time.Time, paid map[string][]time.Time) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	first, paid = map[string]time.Time{}, map[string][]time.Time{}
	const deltas = 4
	ds := make([]*analytics.Delta, deltas)
	for i := range ds {
		ds[i] = analytics.NewDelta()
	}
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, shanghai)
	for shop, n := range map[string]int{"shop_r": 400, "shop_o": 50} {
		for i := 0; i < n; i++ {
			cust := "c" + strconv.Itoa(i)
			for j := 1 + rng.IntN(5); j > 0; j-- {
				day := start.AddDate(0, 0, rng.IntN(200))
				d := ds[rng.IntN(deltas)]
				k := analytics.CustomerDayKey{ShopID: shop, Day: analytics.DayNum(day), CustomerID: cust, Channel: []string{"", "wx", "dy"}[rng.IntN(3)]}
				cd := d.CustomerDays[k]
				if cd == nil {
					cd = &analytics.CustomerDay{}
					d.CustomerDays[k] = cd
				}
				switch r := rng.IntN(10); {
				case r == 0: // placed only
					cd.Orders++
					continue
				case r == 1: // a balance payment: first paid, no paid order
				default:
					cd.PaidOrders++
					cd.PaidAmount += 100
					if shop == "shop_r" {
						paid[cust] = append(paid[cust], day)
					}
				}
				fk := [2]string{shop, cust}
				if f, ok := d.FirstPaid[fk]; !ok || k.Day < f.Day {
					d.FirstPaid[fk] = analytics.FirstPaid{Day: k.Day, Channel: k.Channel}
				}
				if f, ok := first[cust]; shop == "shop_r" && (!ok || day.Before(f)) {
					first[cust] = day
				}
			}
		}
	}
	for i, d := range ds {
		d.Events, d.MaxSeq = 1, int64(i+1)
		if err := st.ApplyDelta(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return first, paid
}

// bruteCohorts computes the cohort table of [from, to) from the history,
// by the definition in docs/METRICS.md, with every period begun and ended.
func bruteCohorts(first map[string]time.Time, paid map[string][]time.Time, from, to time.Time, monthly bool, periods int) []analytics.CohortRow {
	startOf := func(d time.Time) time.Time {
		if monthly {
			return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location())
		}
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // back to Monday
	}
	next := func(d time.Time, k int) time.Time {
		if monthly {
			return d.AddDate(0, k, 0)
		}
		return d.AddDate(0, 0, 7*k)
	}
	var out []analytics.CohortRow
	for c := startOf(from); c.Before(to); c = next(c, 1) {
		row := analytics.CohortRow{Start: c.Format(time.DateOnly), Periods: []analytics.CohortPeriod{}}
		kept := make([]int64, periods)
		for cust, f := range first {
			if !startOf(f).Equal(c) {
				continue
			}
			row.Size++
			for k := 0; k < periods; k++ {
				for _, d := range paid[cust] {
					if startOf(d).Equal(next(c, k)) {
						kept[k]++
						break
					}
				}
			}
		}
		for k := 0; k < periods; k++ {
			row.Periods = append(row.Periods, analytics.CohortPeriod{K: k, Start: next(c, k).Format(time.DateOnly), Customers: kept[k],
				ShareBP: analytics.Ratio(kept[k], row.Size, 10000), Complete: true})
		}
		out = append(out, row)
	}
	return out
}

// testCohortsBrute compares the cohort report with a brute-force count
// over random history, weekly and monthly, over several ranges.
func testCohortsBrute(t *testing.T, open Opener) {
	st := open(t)
	first, paid := cohortFixture(t, st, 11)
	checkCohortsBrute(t, analytics.Views{St: st}, first, paid)
}

func checkCohortsBrute(t *testing.T, v analytics.Views, first map[string]time.Time, paid map[string][]time.Time) {
	t.Helper()
	now := time.Date(2028, 1, 1, 0, 0, 0, 0, shanghai)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, shanghai) }
	for _, tc := range []struct {
		from, to time.Time
		monthly  bool
		periods  int
	}{
		{day(2025, 12, 3), day(2026, 3, 1), false, 8},
		{day(2026, 1, 1), day(2026, 7, 1), false, 24},
		{day(2026, 5, 10), day(2026, 5, 11), false, 1},
		{day(2025, 12, 1), day(2026, 7, 1), true, 6},
		{day(2026, 2, 14), day(2026, 4, 1), true, 3},
	} {
		got, err := v.Cohorts(ctx, "shop_r", analytics.Period{From: tc.from, To: tc.to}, tc.monthly, tc.periods, now)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteCohorts(first, paid, tc.from, tc.to, tc.monthly, tc.periods)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s..%s monthly=%v periods=%d (-want +got):\n%s", tc.from.Format(time.DateOnly), tc.to.Format(time.DateOnly), tc.monthly, tc.periods, d)
		}
	}
}

// testCohortBackfill checks that migration 00015's backfill, run over
// customer days and first paid days stored before the table existed,
// gives the rows ApplyDelta keeps, and so the same report.
func testCohortBackfill(t *testing.T, open Opener) {
	st := open(t)
	first, paid := cohortFixture(t, st, 23)
	dump := func() []string {
		rows, err := st.Query(ctx, `SELECT shop_id, kind, customer_id, period, COALESCE(cohort, -1) FROM analytics_customer_periods ORDER BY shop_id, kind, customer_id, period`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var shop, kind, cust string
			var p, c int64
			if err := rows.Scan(&shop, &kind, &cust, &p, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s %d %d", shop, kind, cust, p, c))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept := dump()
	if len(kept) < 500 {
		t.Fatalf("only %d customer periods", len(kept))
	}
	_, self, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", st.Dialect().Name, "migrations", "00015_customer_periods.sql"))
	if err != nil {
		t.Fatal(err)
	}
	up := strings.SplitN(strings.SplitN(string(src), "-- +goose Down", 2)[0], "-- +goose Up", 2)[1]
	var backfill []string
	for _, stmt := range strings.Split(up, ";") {
		if i := strings.Index(stmt, "INSERT INTO"); i >= 0 {
			backfill = append(backfill, stmt[i:])
		}
	}
	if len(backfill) != 2 {
		t.Fatalf("%d backfill statements in the migration", len(backfill))
	}
	if err := st.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM analytics_customer_periods`); err != nil {
			return err
		}
		for _, q := range backfill {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(kept, dump()); d != "" {
		t.Fatalf("backfill (-kept +backfilled):\n%s", d)
	}
	checkCohortsBrute(t, analytics.Views{St: st}, first, paid)
}
