package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
)

// The dashboard benchmark's data set. Bump DashboardShape when the shape
// or the stored format changes: cached copies are keyed by it.
const (
	DashboardShape     = "v3"
	DashboardDays      = 36
	DashboardPerDay    = 300_000 // visitors a day
	DashboardShop      = "shop_dash"
	dashboardAnonPool  = 3_000_000
	dashboardCustPool  = 400_000
	dashboardLoggedIn  = 20 // one visitor in 20 is logged in (links anon → customer)
	dashboardPaidEvery = 50 // 2 % of visitors pay
)

// DashboardLoc and DashboardStart place the data set: 36 Shanghai days
// from 1 October 2026.
var (
	DashboardLoc, _ = time.LoadLocation("Asia/Shanghai")
	DashboardStart  = time.Date(2026, 10, 1, 0, 0, 0, 0, DashboardLoc)
)

// BuildDashboard folds the data set day by day into deltas and applies
// them: raw events are not stored (the dashboard never reads them, and
// writing 14 M raw rows would take far longer than the rollups). Each
// day: 300 000 distinct visitors out of a pool of 3 M anonymous ids (so
// the 30-day UV is about 2.9 M), five channels and three campaigns, one
// page view each, 30 % a product view, 8 % an add-to-cart, 2.5 % an order,
// 2 % a payment; 5 % are logged in. About 14 M events in all.
func BuildDashboard(ctx context.Context, apply func(context.Context, *analytics.Delta) error) (events int, err error) {
	channels := []string{"", "wechat", "wechat", "douyin", "baidu", "xhs"}
	campaigns := []string{"", "", "d11", "d12"}
	seq := int64(0)
	for day := 0; day < DashboardDays; day++ {
		d := analytics.NewDelta()
		base := DashboardStart.AddDate(0, 0, day)
		for i := 0; i < DashboardPerDay; i++ {
			k := day*DashboardPerDay + i
			// A permutation of the pool per day: distinct within a day,
			// returning across days.
			anon := (k*7919 + day*104729) % dashboardAnonPool
			h := uint64(anon)*0x9E3779B97F4A7C15 + uint64(day)*0xBF58476D1CE4E5B9
			h ^= h >> 31
			ts := base.Add(time.Duration(h%86400) * time.Second)
			e := analytics.Event{Type: analytics.PageView, TS: ts, AnonymousID: "a" + strconv.Itoa(anon),
				UTMSource: channels[h>>8%uint64(len(channels))], UTMCampaign: campaigns[h>>16%uint64(len(campaigns))]}
			if anon%dashboardLoggedIn == 0 {
				e.CustomerID = "c" + strconv.Itoa(anon/dashboardLoggedIn%dashboardCustPool)
			}
			add := func(typ string, amount int64) {
				seq++
				x := e
				x.Type, x.Amount = typ, amount
				x.TS = ts.Add(time.Duration(seq%60) * time.Second)
				d.Add(DashboardShop, DashboardLoc, &x, seq)
				events++
			}
			add(analytics.PageView, 0)
			r := h >> 24 % 1000
			if r < 300 {
				add(analytics.ProductView, 0)
			}
			if r < 80 {
				add(analytics.AddToCart, 0)
			}
			if r < 25 {
				if e.CustomerID == "" {
					// Buying needs an account: the visitor logs in.
					e.CustomerID = "c" + strconv.Itoa(int(h>>40)%dashboardCustPool)
				}
				amount := int64(1000 + h>>48%20000)
				add(analytics.OrderPlaced, amount)
				if r < 1000/dashboardPaidEvery {
					add(analytics.OrderPaid, amount)
				}
			}
		}
		if err := apply(ctx, d); err != nil {
			return events, err
		}
	}
	return events, nil
}

// RunDashboardBench times the dashboard's reads over the data set built
// by BuildDashboard in st, each op timed alone; reports p50 and p95.
func RunDashboardBench(b *testing.B, st analytics.Store) {
	ctx := context.Background()
	last := DashboardStart.AddDate(0, 0, DashboardDays)
	month := analytics.Period{From: last.AddDate(0, 0, -30), To: last}
	today := analytics.Period{From: last.AddDate(0, 0, -1), To: last}
	ch := "wechat"
	timed := func(b *testing.B, op func() error) {
		var ds []time.Duration
		for b.Loop() {
			t0 := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.95), "p95-ms")
	}
	// Modes: sketches read from the store every time, sketches with a
	// warm cache of closed days (the clock at the end of the data set, so
	// 22 of the current 30 days and both comparisons are closed), exact.
	for _, mode := range []string{"", "-cached", "-exact"} {
		r := analytics.Reader{St: st, Exact: mode == "-exact"}
		if mode == "-cached" {
			r.Cache = analytics.NewCache(4096, func() time.Time { return last.Add(12 * time.Hour) })
		}
		sfx := mode
		run := func(name string, op func() error) {
			b.Run(name+sfx, func(b *testing.B) {
				if r.Cache != nil {
					if err := op(); err != nil { // warms the cache
						b.Fatal(err)
					}
				}
				timed(b, op)
			})
		}
		run("kpis-30-days", func() error {
			_, err := r.KPIs(ctx, DashboardShop, month, analytics.Day, analytics.Filter{}, 0)
			return err
		})
		run("kpis-30-days-channel", func() error {
			_, err := r.KPIs(ctx, DashboardShop, month, analytics.Day, analytics.Filter{Channel: &ch}, 0)
			return err
		})
		run("kpis-today", func() error {
			_, err := r.KPIs(ctx, DashboardShop, today, analytics.Day, analytics.Filter{}, 0)
			return err
		})
		run("funnel-30-days", func() error { _, err := r.Funnel(ctx, DashboardShop, month, false); return err })
		run("funnel-by-channel-30-days", func() error { _, err := r.Funnel(ctx, DashboardShop, month, true); return err })
	}
}
