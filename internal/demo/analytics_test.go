package demo

import (
	"context"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/review"
)

// TestDemoAnalyticsHistoryAndCampaigns seeds the small shop's analytics
// history and campaigns and checks them against the seeded orders.
func TestDemoAnalyticsHistoryAndCampaigns(t *testing.T) {
	s := seedSmall(t)
	ctx := context.Background()
	shopID := s.res.Shop.ID
	in, err := analytics.NewIngestor(ctx, s.st, analytics.Options{Now: func() time.Time { return testNow },
		Location: analytics.ShopLocation(s.svc), FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	// The live path refuses a month-old event; Backfill takes it.
	old := analytics.Event{ID: "probe", Type: analytics.PageView, TS: testNow.AddDate(0, -1, 0), AnonymousID: "probe"}
	if _, _, rej, err := in.Ingest(ctx, shopID, []analytics.Event{old}, true); err != nil || len(rej) != 1 || rej[0].Code != "too_old" {
		t.Fatalf("Ingest of a month-old event: rejected %+v, %v; want too_old", rej, err)
	}
	bad := analytics.Event{ID: "bad", Type: analytics.PageView, TS: testNow.AddDate(0, -1, 0)}
	if acc, rej, err := in.Backfill(ctx, shopID, []analytics.Event{old, bad}); err != nil || acc != 1 || len(rej) != 1 || rej[0].Index != 1 {
		t.Fatalf("Backfill = %d, %+v, %v; want the old event accepted and the one without a visitor refused", acc, rej, err)
	}

	t0 := time.Now()
	res, err := SeedAnalytics(ctx, s.svc, in, shopID, s.res.Shop.CreatedAt, testNow, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("analytics history: %d order events, %d storefront events, %d visitors in %s", res.OrderEvents, res.StorefrontEvents, res.Visitors, time.Since(t0))

	// October (Shanghai days), far older than MaxPast: GMV and orders are
	// exactly those of the seeded orders placed then.
	loc, _ := time.LoadLocation(s.res.Shop.TimeZone)
	oct := analytics.Period{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var gmv, orders int64
	for _, o := range s.orders {
		if l := o.CreatedAt.In(loc); !l.Before(time.Date(2026, 10, 1, 0, 0, 0, 0, loc)) && l.Before(time.Date(2026, 11, 1, 0, 0, 0, 0, loc)) {
			gmv += int64(o.Payable)
			orders++
		}
	}
	rep, err := analytics.Reader{St: s.st, Exact: true}.KPIs(ctx, shopID, oct, analytics.Day, analytics.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Current.Totals
	if orders == 0 || tot.Orders != orders || tot.GMV != gmv {
		t.Fatalf("October rollups: %d orders, GMV %d; the seeded orders: %d, %d", tot.Orders, tot.GMV, orders, gmv)
	}
	if tot.UV == nil || *tot.UV < 15*orders || *tot.UV > 60*orders {
		t.Fatalf("October UV %v for %d orders; want 15 to 60 visitors an order", tot.UV, orders)
	}
	if tot.ProductViews == 0 || tot.Carts == 0 {
		t.Fatalf("October funnel empty: %+v", tot)
	}

	// Campaigns: the 双11 plan is over, with actuals near its targets.
	cs := campaign.New(s.st, s.svc, promotion.New(s.st, s.svc), analytics.CampaignActuals{Reader: analytics.Reader{St: s.st}, Spend: s.st})
	cps, err := SeedCampaigns(ctx, cs, shopID, loc, testNow, nil, s.res.Double11)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Get(ctx, shopID, cps.Double11)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != campaign.StatusEnded || !c.EndsAt.Before(testNow) || len(c.Phases) != 3 || len(c.Channels) != len(demoChannels) {
		t.Fatalf("双11 campaign %s – %s, %d phases, %d channels", c.StartsAt, c.EndsAt, len(c.Phases), len(c.Channels))
	}
	for _, m := range c.Milestones {
		if m.DueOn < "2026-11-20" && m.DoneAt == nil {
			t.Fatalf("past milestone %s not done", m.Name)
		}
	}
	pace, err := cs.Pacing(ctx, shopID, c.ID, "2026-11-13")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pace.KPIs {
		if k.Actual == nil || *k.Actual <= 0 || k.Attainment == nil || *k.Attainment < 8000 || *k.Attainment > 11000 {
			t.Fatalf("双11 %s: actual %v, attainment %v; want 80–110 %%", k.KPI, k.Actual, k.Attainment)
		}
	}
	if len(pace.KPIs) != 6 {
		t.Fatalf("双11 pacing has %d KPIs, want 6", len(pace.KPIs))
	}
	pva, err := cs.PlanVsActual(ctx, shopID, c.ID, "2026-11-13")
	if err != nil {
		t.Fatal(err)
	}
	if len(pva.Phases) != 3 || len(pva.Campaign.KPIs) == 0 {
		t.Fatalf("plan vs actual: %+v", pva)
	}
	testDouble11Review(t, s, cs, c, loc)
	c12, err := cs.Get(ctx, shopID, cps.Double12)
	if err != nil {
		t.Fatal(err)
	}
	if !c12.StartsAt.After(testNow) || c12.Targets[campaign.KPIGMV] <= 0 {
		t.Fatalf("双12 campaign starts %s with targets %v; want upcoming with targets", c12.StartsAt, c12.Targets)
	}
}

// testDouble11Review: the ended 双11 campaign's promotions were created
// before it with windows inside it, and ran: its review shows orders and
// costs for each, coupons issued and redeemed, and phases whose
// attainments differ.
func testDouble11Review(t *testing.T, s *seeded, cs *campaign.Service, c *campaign.Campaign, loc *time.Location) {
	t.Helper()
	ctx := context.Background()
	if s.res.Double11 == nil || len(c.PromotionIDs) < 3 || len(c.CouponTemplateIDs) < 1 {
		t.Fatalf("双11 attachments: promotions %v, templates %v", c.PromotionIDs, c.CouponTemplateIDs)
	}
	// Campaign and phase boundaries are shop-local midnights.
	for _, at := range []time.Time{c.StartsAt, c.EndsAt} {
		if l := at.In(loc); l.Hour() != 0 || l.Minute() != 0 {
			t.Errorf("campaign boundary at %s shop time", l.Format("2006-01-02 15:04"))
		}
	}
	ps := promotion.New(s.st, s.svc)
	for _, id := range c.PromotionIDs {
		p, err := ps.Promotion(ctx, c.ShopID, id)
		if err != nil {
			t.Fatal(err)
		}
		if !p.CreatedAt.Before(c.StartsAt) || p.StartsAt.Before(c.StartsAt) || p.EndsAt.IsZero() || p.EndsAt.After(c.EndsAt) {
			t.Errorf("promotion %q created %s, runs %s – %s: not before and inside the campaign %s – %s", p.Name, p.CreatedAt, p.StartsAt, p.EndsAt, c.StartsAt, c.EndsAt)
		}
		if l := p.StartsAt.In(loc); l.Hour() < 8 && !(l.Hour() == 0 && l.Minute() == 0) {
			t.Errorf("promotion %q starts at %s shop time", p.Name, l.Format("15:04"))
		}
	}
	rep, err := review.Build(ctx, review.NewSources(cs, s.st, s.st), c, loc, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Provisional || len(rep.Promotions) != len(c.PromotionIDs)+len(c.CouponTemplateIDs) {
		t.Fatalf("review: provisional %v, promotions %+v", rep.Provisional, rep.Promotions)
	}
	for _, pu := range rep.Promotions {
		t.Logf("双11 review: %s %q: %d orders, cost %d, issued %v redeemed %v, redemption %v", pu.Kind, pu.Name, pu.Orders, pu.DiscountCost, pu.Issued, pu.Redeemed, pu.Redemption)
		if pu.Orders == 0 || pu.DiscountCost <= 0 || pu.Redemption == nil || *pu.Redemption <= 0 {
			t.Errorf("双11 review: %s %q has %d orders, ¥%d cost", pu.Kind, pu.Name, pu.Orders, pu.DiscountCost)
		}
		if pu.Kind == review.KindCouponTemplate && (pu.Issued == nil || pu.Redeemed == nil || *pu.Redeemed == 0 || *pu.Issued <= *pu.Redeemed) {
			t.Errorf("双11 coupon %q: issued %v, redeemed %v", pu.Name, pu.Issued, pu.Redeemed)
		}
	}
	// Each phase's attainment is its own: not the same number three times.
	atts := map[string]map[int64]bool{}
	for _, ph := range rep.Phases {
		for _, k := range ph.KPIs {
			if k.Attainment == nil {
				t.Fatalf("phase %s %s has no attainment", ph.Kind, k.KPI)
			}
			if atts[k.KPI] == nil {
				atts[k.KPI] = map[int64]bool{}
			}
			atts[k.KPI][*k.Attainment] = true
			t.Logf("双11 phase %s %s: attainment %d bp", ph.Kind, k.KPI, *k.Attainment)
		}
	}
	if len(rep.Phases) != 3 || len(atts) == 0 {
		t.Fatalf("phases %+v", rep.Phases)
	}
	for kpi, seen := range atts {
		if len(seen) != len(rep.Phases) {
			t.Errorf("phase attainments of %s: %v; want one per phase, all different", kpi, seen)
		}
	}
}
