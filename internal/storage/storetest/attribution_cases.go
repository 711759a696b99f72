package storetest

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
)

// RunAttribution runs the order-attribution contract: orders' campaigns and
// cancellations in the rollups, a presale counted as one purchase, order
// events restored after a crash, and campaign actuals (pacing and plan vs
// actual) from the rollups.
func RunAttribution(t *testing.T, open Opener) {
	t.Run("CampaignActualsFromOrdersAndEvents", func(t *testing.T) { testCampaignActuals(t, open) })
	t.Run("PresaleCountsOnePurchase", func(t *testing.T) { testPresaleOnePurchase(t, open) })
	t.Run("ReconcileRestoresLostOrderEvents", func(t *testing.T) { testReconcileOrders(t, open) })
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// ingestorFor starts an ingestor on the env's clock and shop zones,
// flushed only by hand.
func ingestorFor(t *testing.T, e *Env) *analytics.Ingestor {
	t.Helper()
	in, err := analytics.NewIngestor(ctx, e.Store, analytics.Options{Now: e.Clock.Now, Location: analytics.ShopLocation(e.Svc), FlushEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func shanghaiAt(d, h, m, s int) time.Time {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	return time.Date(2026, 11, d, h, m, s, 0, sh)
}

// orderAt places an order of qty units of sku at t (Shanghai clock).
func orderAt(t *testing.T, e *Env, at time.Time, sku, cust string, qty int64, channel, camp string) *commerce.Order {
	t.Helper()
	e.Clock.Set(at)
	o, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{CustomerID: cust, Lines: []commerce.CartLine{{SKUID: sku, Quantity: qty}},
		Channel: channel, Campaign: camp}, "")
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	return o
}

func payAt(t *testing.T, e *Env, at time.Time, id string) {
	t.Helper()
	e.Clock.Set(at)
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, id); err != nil {
		t.Fatalf("pay %s: %v", id, err)
	}
}

func flush(t *testing.T, in *analytics.Ingestor) {
	t.Helper()
	if err := in.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// The fixture of testCampaignActuals, in a Shanghai shop (SKU ¥100,
// shipping ¥10, so one unit's order is payable 11000 and two units' 21000):
//
//	9 Nov 10:00     a1 views a page (wx / d11)
//	10 Nov 12:00    c1 views a page
//	10 Nov 12:05    o1: c1, 1 unit, wx / d11 — paid 12:06
//	10 Nov 23:59    o2: c2, 1 unit, no UTM — paid 11 Nov 00:01 (the next local day)
//	11 Nov 00:00:30 a2 views a page: 10 Nov in UTC, the 11th in Shanghai
//	11 Nov 07:00    o3: c1, 1 unit, wx / d12 — cancelled 07:10
//	11 Nov 07:30    o4: c3, 2 units, wx / d11 — paid 07:31
//	11 Nov 07:40    o5: c2, 1 unit — not paid; the payment timeout cancels it at 07:56
//
// Spend: channel wx/d11 ¥30 on 8 Nov (before the window), ¥50 on the 10th,
// ¥100 on the 11th, ¥70 on the 12th (after "through"); channel dy/d11 ¥10
// on the 11th and no sales.
//
// By local day:
//
//	9:  pv 1, uv 1 (a1); nothing sold
//	10: pv 1, uv 1 (c1); orders o1 o2 → 2, gmv 22000; paid o1 11000; paying and new: c1
//	11: pv 1, uv 1 (a2); orders o3 o4 o5 → 3, gmv 43000; paid o2 + o4 = 32000;
//	    paying and new: c2, c3; aov 16000; conversion 2/1 = 20000 bp;
//	    cancelled o3 + o5: 2 orders, 22000
//
// Campaign 9–11 Nov through the 11th: gmv 65000, paid 43000, orders 5,
// uv 3, paying 3, new 3, aov 43000/3 = 14333, conversion 3/3 = 10000 bp;
// ROI: paid under wx/d11 (o1 11000 + o4 21000) over spend 5000 + 10000 +
// 1000 → 32000/16000 = 20000 bp.
// Preheat 9–10 Nov (through the 11th clips to the 10th): gmv 22000, uv 2,
// conversion 1/2 = 5000, ROI 11000/5000 = 22000 bp.
// Burst 11 Nov: gmv 43000, ROI 21000/11000 = 19091 bp.
func testCampaignActuals(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	in := ingestorFor(t, e)
	analytics.FromOrders(e.Svc, in, quiet)
	cs := campaign.New(e.Store, e.Svc, nil, analytics.CampaignActuals{Reader: analytics.Reader{St: e.Store}, Spend: e.Store})
	sku := e.SeedSKU(t, "S", 10000, 100)
	c1, c2, c3 := e.SeedCustomer(t, "u1"), e.SeedCustomer(t, "u2"), e.SeedCustomer(t, "u3")

	view := func(at time.Time, id, anon, cust, src, camp string) {
		t.Helper()
		e.Clock.Set(at)
		_, _, rej, err := in.Ingest(ctx, e.Shop.ID, []analytics.Event{{ID: id, Type: analytics.PageView, TS: at, AnonymousID: anon, CustomerID: cust,
			UTMSource: src, UTMCampaign: camp}}, false)
		if err != nil || len(rej) > 0 {
			t.Fatalf("ingest %s: %v %+v", id, err, rej)
		}
	}
	view(shanghaiAt(9, 10, 0, 0), "v1", "a1", "", "wx", "d11")
	view(shanghaiAt(10, 12, 0, 0), "v2", "", c1.ID, "", "")
	o1 := orderAt(t, e, shanghaiAt(10, 12, 5, 0), sku.ID, c1.ID, 1, "wx", "d11")
	if o1.Payable != 11000 || o1.Campaign != "d11" || o1.Channel != "wx" {
		t.Fatalf("o1: payable %d, attribution %q/%q", o1.Payable, o1.Channel, o1.Campaign)
	}
	if got, _ := e.Svc.Order(ctx, e.Shop.ID, o1.ID); got.Campaign != "d11" {
		t.Fatalf("stored order's campaign %q", got.Campaign)
	}
	payAt(t, e, shanghaiAt(10, 12, 6, 0), o1.ID)
	o2 := orderAt(t, e, shanghaiAt(10, 23, 59, 0), sku.ID, c2.ID, 1, "", "")
	payAt(t, e, shanghaiAt(11, 0, 1, 0), o2.ID)
	view(shanghaiAt(11, 0, 0, 30), "v3", "a2", "", "", "")
	o3 := orderAt(t, e, shanghaiAt(11, 7, 0, 0), sku.ID, c1.ID, 1, "wx", "d12")
	e.Clock.Set(shanghaiAt(11, 7, 10, 0))
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, o3.ID, ""); err != nil {
		t.Fatal(err)
	}
	o4 := orderAt(t, e, shanghaiAt(11, 7, 30, 0), sku.ID, c3.ID, 2, "wx", "d11")
	if o4.Payable != 21000 {
		t.Fatalf("o4 payable %d", o4.Payable)
	}
	payAt(t, e, shanghaiAt(11, 7, 31, 0), o4.ID)
	orderAt(t, e, shanghaiAt(11, 7, 40, 0), sku.ID, c2.ID, 1, "", "")
	e.Clock.Set(shanghaiAt(11, 7, 56, 0))
	if n, err := e.Svc.ExpireDue(ctx, 10); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	e.Clock.Set(shanghaiAt(11, 8, 0, 0))
	flush(t, in)

	r := analytics.Reader{St: e.Store}
	rep, err := r.KPIs(ctx, e.Shop.ID, analytics.Period{From: shanghaiAt(11, 0, 0, 0), To: shanghaiAt(12, 0, 0, 0)}, analytics.Day, analytics.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k := rep.Current.Totals; k.CancelledOrders != 2 || k.CancelledAmount != 22000 || k.Orders != 3 || k.GMV != 43000 || k.PaidAmount != 32000 {
		t.Fatalf("11 Nov: cancelled %d / %d, orders %d gmv %d paid %d; want 2 / 22000, 3 43000 32000",
			k.CancelledOrders, k.CancelledAmount, k.Orders, k.GMV, k.PaidAmount)
	}
	d11 := "d11"
	byCampaign, err := r.KPIs(ctx, e.Shop.ID, analytics.Period{From: shanghaiAt(9, 0, 0, 0), To: shanghaiAt(12, 0, 0, 0)}, analytics.Day, analytics.Filter{Campaign: &d11}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k := byCampaign.Current.Totals; k.Orders != 2 || k.PaidAmount != 32000 || k.PV != 1 {
		t.Fatalf("campaign d11: orders %d paid %d pv %d; want 2 32000 1", k.Orders, k.PaidAmount, k.PV)
	}

	// The plan: 9–11 Nov, equal days.
	plan := campaign.Input{Name: "双11", StartsAt: shanghaiAt(9, 0, 0, 0), EndsAt: shanghaiAt(12, 0, 0, 0),
		Targets: campaign.Targets{campaign.KPIGMV: 90000, campaign.KPIOrders: 6, campaign.KPIUV: 6, campaign.KPIConversionRate: 8000, campaign.KPIROI: 25000},
		Phases: []campaign.Phase{
			{Kind: campaign.PhasePreheat, StartsAt: shanghaiAt(9, 0, 0, 0), EndsAt: shanghaiAt(11, 0, 0, 0), Targets: campaign.Targets{campaign.KPIGMV: 40000, campaign.KPIUV: 4}},
			{Kind: campaign.PhaseBurst, StartsAt: shanghaiAt(11, 0, 0, 0), EndsAt: shanghaiAt(12, 0, 0, 0), Targets: campaign.Targets{campaign.KPIGMV: 50000, campaign.KPIROI: 20000}},
		}}
	c, err := cs.Create(ctx, e.Admin, plan)
	if err != nil {
		t.Fatal(err)
	}
	wx, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPrivate, Name: "微信", UTMSource: "wx", UTMMedium: "social", UTMCampaign: "d11"})
	if err != nil {
		t.Fatal(err)
	}
	dy, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPaidAds, Name: "抖音", UTMSource: "dy", UTMMedium: "cpc", UTMCampaign: "d11"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []struct {
		ch  *campaign.Channel
		day string
		amt int64
	}{{wx, "2026-11-08", 3000}, {wx, "2026-11-10", 5000}, {wx, "2026-11-11", 10000}, {wx, "2026-11-12", 7000}, {dy, "2026-11-11", 1000}} {
		if _, _, err := cs.AddSpend(ctx, e.Admin, c.ID, sp.ch.ID, campaign.SpendInput{Day: sp.day, Amount: sp.amt}, ""); err != nil {
			t.Fatal(err)
		}
	}

	type pace struct {
		toDate, actual int64
		status         string
	}
	check := func(name string, got []campaign.KPIPace, want map[string]pace) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d KPIs, want %d", name, len(got), len(want))
		}
		for _, k := range got {
			w, ok := want[k.KPI]
			if !ok || k.Actual == nil || k.TargetToDate != w.toDate || *k.Actual != w.actual || k.Status != w.status {
				a := "none"
				if k.Actual != nil {
					a = strconv.FormatInt(*k.Actual, 10)
				}
				t.Errorf("%s %s: to date %d actual %s %s; want %+v", name, k.KPI, k.TargetToDate, a, k.Status, w)
			}
		}
	}
	p, err := cs.Pacing(ctx, e.Shop.ID, c.ID, "2026-11-11")
	if err != nil {
		t.Fatal(err)
	}
	check("campaign", p.KPIs, map[string]pace{
		campaign.KPIGMV:            {90000, 65000, campaign.PaceBehind}, // 72 %
		campaign.KPIOrders:         {6, 5, campaign.PaceBehind},
		campaign.KPIConversionRate: {8000, 10000, campaign.PaceOnTrack},
		campaign.KPIUV:             {6, 3, campaign.PaceAlert}, // 50 % < 60 %
		campaign.KPIROI:            {25000, 20000, campaign.PaceBehind},
	})
	if len(p.Phases) != 2 {
		t.Fatalf("phases %+v", p.Phases)
	}
	check("preheat", p.Phases[0].KPIs, map[string]pace{
		campaign.KPIGMV: {40000, 22000, campaign.PaceAlert}, // 55 %
		campaign.KPIUV:  {4, 2, campaign.PaceAlert},
	})
	check("burst", p.Phases[1].KPIs, map[string]pace{
		campaign.KPIGMV: {50000, 43000, campaign.PaceBehind},
		campaign.KPIROI: {20000, 19091, campaign.PaceBehind},
	})
	// Through the 10th: the burst has not started, so it has no actuals.
	p, err = cs.Pacing(ctx, e.Shop.ID, c.ID, "2026-11-10")
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Phases[1].KPIs[0]; k.Actual != nil || k.TargetToDate != 0 {
		t.Errorf("burst before it starts: %+v", k)
	}
	check("campaign through the 10th", p.KPIs, map[string]pace{
		campaign.KPIGMV:            {60000, 22000, campaign.PaceAlert},
		campaign.KPIOrders:         {4, 2, campaign.PaceAlert},
		campaign.KPIConversionRate: {8000, 5000, campaign.PaceBehind}, // c1 paid / a1, c1 visited: 62.5 %
		campaign.KPIUV:             {4, 2, campaign.PaceAlert},
		campaign.KPIROI:            {25000, 22000, campaign.PaceBehind}, // 11000 / 5000
	})

	pva, err := cs.PlanVsActual(ctx, e.Shop.ID, c.ID, "2026-11-11")
	if err != nil {
		t.Fatal(err)
	}
	i64 := func(v int64) *int64 { return &v }
	rate := func(v int64) *int64 { return &v }
	type day struct {
		target     int64
		actual     *int64
		cumTarget  int64
		cumActual  *int64
		attainment *int64
		status     string
	}
	days := func(k campaign.KPIPlan) []day {
		var out []day
		for _, d := range k.Days {
			var att *int64
			if d.Attainment != nil {
				att = i64(int64(*d.Attainment))
			}
			out = append(out, day{d.Target, d.Actual, d.CumulativeTarget, d.CumulativeActual, att, d.Status})
		}
		return out
	}
	want := map[string][]day{
		campaign.KPIGMV: {
			{30000, i64(0), 30000, i64(0), rate(0), campaign.PaceAlert},
			{30000, i64(22000), 60000, i64(22000), rate(3667), campaign.PaceAlert},
			{30000, i64(43000), 90000, i64(65000), rate(7222), campaign.PaceBehind},
		},
		campaign.KPIOrders: {
			{2, i64(0), 2, i64(0), rate(0), campaign.PaceAlert},
			{2, i64(2), 4, i64(2), rate(5000), campaign.PaceAlert},
			{2, i64(3), 6, i64(5), rate(8333), campaign.PaceBehind},
		},
		// Daily conversion is the day's paying customers over its visitors;
		// to date it is counted over the days so far (c1 / a1, c1 on the 10th).
		campaign.KPIConversionRate: {
			{8000, i64(0), 8000, i64(0), rate(0), campaign.PaceAlert},
			{8000, i64(10000), 8000, i64(5000), rate(6250), campaign.PaceBehind},
			{8000, i64(20000), 8000, i64(10000), rate(12500), campaign.PaceOnTrack},
		},
		campaign.KPIUV: {
			{2, i64(1), 2, i64(1), rate(5000), campaign.PaceAlert},
			{2, i64(1), 4, i64(2), rate(5000), campaign.PaceAlert},
			{2, i64(1), 6, i64(3), rate(5000), campaign.PaceAlert},
		},
		// No spend on the 9th: no ROI that day, nor to date.
		campaign.KPIROI: {
			{25000, nil, 25000, nil, nil, ""},
			{25000, i64(22000), 25000, i64(22000), rate(8800), campaign.PaceBehind},
			{25000, i64(19091), 25000, i64(20000), rate(8000), campaign.PaceBehind},
		},
	}
	if pva.Campaign.From != "2026-11-09" || pva.Campaign.To != "2026-11-11" || len(pva.Campaign.KPIs) != len(want) {
		t.Fatalf("plan vs actual window %s..%s, %d KPIs", pva.Campaign.From, pva.Campaign.To, len(pva.Campaign.KPIs))
	}
	for _, k := range pva.Campaign.KPIs {
		if d := cmp.Diff(want[k.KPI], days(k), cmp.AllowUnexported(day{})); d != "" {
			t.Errorf("plan vs actual %s (-want +got):\n%s", k.KPI, d)
		}
	}
	if len(pva.Phases) != 2 {
		t.Fatalf("plan vs actual phases: %+v", pva.Phases)
	}
	burst := pva.Phases[1]
	if burst.Kind != campaign.PhaseBurst || len(burst.KPIs) != 2 || len(burst.KPIs[0].Days) != 1 {
		t.Fatalf("burst: %+v", burst)
	}
	if d := cmp.Diff([]day{{50000, i64(43000), 50000, i64(43000), rate(8600), campaign.PaceBehind}}, days(burst.KPIs[0]), cmp.AllowUnexported(day{})); d != "" {
		t.Errorf("burst gmv (-want +got):\n%s", d)
	}
	// Through the 9th: one day each for the campaign and the preheat, none for the burst.
	pva, err = cs.PlanVsActual(ctx, e.Shop.ID, c.ID, "2026-11-09")
	if err != nil {
		t.Fatal(err)
	}
	if len(pva.Campaign.KPIs[0].Days) != 1 || len(pva.Phases[0].KPIs[0].Days) != 1 || len(pva.Phases[1].KPIs[0].Days) != 0 {
		t.Errorf("through the 9th: %+v", pva)
	}
	if _, err := cs.PlanVsActual(ctx, e.Shop.ID, c.ID, "11/11"); err == nil {
		t.Error("a bad through was accepted")
	} else if ce, ok := commerce.AsError(err); !ok || ce.Field != "through" {
		t.Errorf("bad through: %v", err)
	}
}

// testPresaleOnePurchase: a deposit of ¥100 worth ¥200 on a ¥1299 phone,
// then its balance of ¥1099: GMV and paid amount are what the customer
// pays in all (10000 + 109900 = 119900), orders and paid orders count the
// purchase once, and the attribution of each order is kept.
func testPresaleOnePurchase(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	in := ingestorFor(t, e.Env)
	analytics.FromOrders(e.Svc, in, quiet)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, k.ID, 0, 1, false, false)
	dep, _, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, CustomerID: c.ID, Channel: "wx", Campaign: "d11"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if dep.Campaign != "d11" {
		t.Fatalf("deposit campaign %q", dep.Campaign)
	}
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, dep.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(e.balanceStart())
	bal, _, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID, Channel: "wx", Campaign: "d11"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, bal.ID); err != nil {
		t.Fatal(err)
	}
	flush(t, in)
	r := analytics.Reader{St: e.Store}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	from := time.Date(2026, 11, 11, 0, 0, 0, 0, loc)
	rep, err := r.KPIs(ctx, e.Shop.ID, analytics.Period{From: from, To: from.AddDate(0, 0, 10)}, analytics.Day, analytics.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Current.Totals
	if got.Orders != 1 || got.PaidOrders != 1 || got.GMV != 119900 || got.PaidAmount != 119900 || got.PayingCustomers == nil || *got.PayingCustomers != 1 ||
		got.AOV == nil || *got.AOV != 119900 {
		t.Fatalf("presale: orders %d paid orders %d gmv %d paid %d, paying %v aov %v; want 1 1 119900 119900 1 119900",
			got.Orders, got.PaidOrders, got.GMV, got.PaidAmount, got.PayingCustomers, got.AOV)
	}
	d11 := "d11"
	byCampaign, err := r.KPIs(ctx, e.Shop.ID, analytics.Period{From: from, To: from.AddDate(0, 0, 10)}, analytics.Day, analytics.Filter{Campaign: &d11}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if byCampaign.Current.Totals.PaidAmount != 119900 {
		t.Fatalf("presale under d11: paid %d", byCampaign.Current.Totals.PaidAmount)
	}
}

// testReconcileOrders: orders placed, paid, refunded and cancelled while
// no listener was registered (their events lost, as in a crash between
// commit and notification) appear in the rollups after ReconcileOrders;
// a second run adds nothing.
func testReconcileOrders(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	sku := e.SeedSKU(t, "S", 10000, 100)
	c1 := e.SeedCustomer(t, "u1")
	start := e.Clock.Now() // 11 Nov 08:00 Shanghai
	old := orderAt(t, e, start.Add(-8*24*time.Hour), sku.ID, c1.ID, 1, "", "")
	payAt(t, e, start.Add(-8*24*time.Hour+time.Minute), old.ID) // older than MaxPast: not replayed
	o1 := orderAt(t, e, start.Add(-2*time.Hour), sku.ID, c1.ID, 2, "wx", "d11")
	payAt(t, e, start.Add(-2*time.Hour+time.Minute), o1.ID)
	e.Clock.Set(start.Add(-time.Hour))
	if _, err := e.Svc.RefundOrder(ctx, e.Admin, o1.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	o2 := orderAt(t, e, start.Add(-30*time.Minute), sku.ID, "", 1, "", "")
	e.Clock.Set(start)
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, o2.ID, ""); err != nil {
		t.Fatal(err)
	}

	in := ingestorFor(t, e)
	analytics.FromOrders(e.Svc, in, quiet)
	// o3 is told as it happens; reconciling must not count it twice.
	o3 := orderAt(t, e, start, sku.ID, c1.ID, 1, "", "")
	counters := func() analytics.Counters {
		t.Helper()
		flush(t, in)
		rows, err := e.Store.RollupCounters(ctx, e.Shop.ID, analytics.Day, 0, 1<<40, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var sum analytics.Counters
		for _, r := range rows {
			sum.Orders += r.Orders
			sum.GMV += r.GMV
			sum.PaidOrders += r.PaidOrders
			sum.PaidAmount += r.PaidAmount
			sum.Refunds += r.Refunds
			sum.CancelledOrders += r.CancelledOrders
			sum.CancelledAmount += r.CancelledAmount
		}
		return sum
	}
	if got := counters(); got.Orders != 1 || got.GMV != o3.Payable {
		t.Fatalf("before reconciling: %+v", got)
	}
	since := e.Clock.Now().Add(-analytics.MaxPast)
	res, err := analytics.ReconcileOrders(ctx, e.Svc, in, since, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// o1: 21000 placed and paid, one unit's 10000 refunded (line payable
	// 20000 × 1/2); o2: 11000 placed and cancelled; o3 placed already.
	want := analytics.Counters{Orders: 3, GMV: 21000 + 11000 + 11000, PaidOrders: 1, PaidAmount: 21000, Refunds: 10000, CancelledOrders: 1, CancelledAmount: 11000}
	if d := cmp.Diff(want, counters()); d != "" {
		t.Fatalf("after reconciling (-want +got):\n%s", d)
	}
	if res.Events != 6 || res.Added != 5 || res.Refused != 0 {
		t.Fatalf("reconciled %+v; want 6 events told, 5 added", res)
	}
	res, err = analytics.ReconcileOrders(ctx, e.Svc, in, since, quiet)
	if err != nil || res.Added != 0 || res.Events != 6 {
		t.Fatalf("second run: %+v %v", res, err)
	}
	if d := cmp.Diff(want, counters()); d != "" {
		t.Fatalf("a second run changed the rollups (-want +got):\n%s", d)
	}
	var guest analytics.Distincts
	if guest, err = e.Store.Distincts(ctx, e.Shop.ID, 0, 1<<40, analytics.Filter{}); err != nil || guest.PayingCustomers != 1 {
		t.Fatalf("distincts %+v %v", guest, err)
	}
}
