package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// RunCampaigns runs the campaign-plan contract against open.
func RunCampaigns(t *testing.T, open Opener) {
	t.Run("PlanRoundTripAndAudit", func(t *testing.T) { testCampaignPlan(t, open) })
	t.Run("ChannelsAndIdempotentSpend", func(t *testing.T) { testCampaignSpend(t, open) })
	t.Run("MilestonesAndCalendar", func(t *testing.T) { testCampaignMilestones(t, open) })
	t.Run("MilestoneAnchors", func(t *testing.T) { testCampaignMilestoneAnchors(t, open) })
	t.Run("PacingWithActuals", func(t *testing.T) { testCampaignPacingWithActuals(t, open) })
	t.Run("AttachAndDetach", func(t *testing.T) { testCampaignAttachments(t, open) })
	t.Run("ChannelEdits", func(t *testing.T) { testCampaignChannelEdits(t, open) })
	t.Run("MilestoneEdits", func(t *testing.T) { testCampaignMilestoneEdits(t, open) })
	t.Run("DeleteWhileUnreferenced", func(t *testing.T) { testCampaignDelete(t, open) })
}

func campaignEnv(t *testing.T, open Opener) (*Env, *promotion.Service, *campaign.Service) {
	e := NewEnv(t, open)
	ps := promotion.New(e.Store, e.Svc)
	return e, ps, campaign.New(e.Store, e.Svc, ps, nil)
}

// double11 is a plan for 1–14 November 2026 in Shanghai: preheat, burst on
// the 11th, tail.
func double11() campaign.Input {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	d := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, sh) }
	w := make([]int64, 14)
	for i := range w {
		w[i] = 1
	}
	w[10] = 10
	return campaign.Input{Name: "双11 大促", StartsAt: d(1, 0), EndsAt: d(15, 0), DayWeights: w,
		Targets: campaign.Targets{campaign.KPIGMV: 100_000_000_00, campaign.KPIConversionRate: 320},
		Phases: []campaign.Phase{
			{Kind: campaign.PhasePreheat, Name: "预热", StartsAt: d(1, 0), EndsAt: d(11, 0), Targets: campaign.Targets{campaign.KPIUV: 1000}},
			{Kind: campaign.PhaseBurst, Name: "爆发", StartsAt: d(11, 0), EndsAt: d(12, 0), Targets: campaign.Targets{campaign.KPIGMV: 60_000_000_00}},
			{Kind: campaign.PhaseTail, Name: "返场", StartsAt: d(12, 0), EndsAt: d(15, 0)},
		}}
}

func auditCount(t *testing.T, e *Env, entity string) int {
	t.Helper()
	list, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range list {
		if a.Entity == entity {
			n++
		}
	}
	return n
}

func testCampaignPlan(t *testing.T, open Opener) {
	e, ps, cs := campaignEnv(t, open)
	p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff("满300减50", 5000, promotion.Limits{}), true)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Off: 500, Scope: pricing.Scope{All: true}},
		TotalQuantity: 50, PerCustomerClaims: 1, ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	in := double11()
	in.PromotionIDs, in.CouponTemplateIDs = []string{p.ID}, []string{tpl.ID}
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cs.Get(ctx, e.Shop.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("the plan did not round-trip:\nsaved %s\nread  %s", a, b)
	}
	if got.AlertLine != campaign.DefaultAlertLine || len(got.Phases) != 3 || got.PromotionIDs[0] != p.ID || got.CouponTemplateIDs[0] != tpl.ID {
		t.Fatalf("read back %+v", got)
	}
	// The burst day carries 10 of 23 weights. Floors: 434782608 a plain day
	// (remainder 16), 4347826086 the burst day (remainder 22); the 10 fen
	// left go to the burst day, then to 1–9 Nov. Through 11 Nov:
	// 10×434782608 + 9 + 4347826087.
	if v, _ := got.TargetToDate(time.FixedZone("CST", 8*3600), campaign.KPIGMV, "2026-11-11"); v != 8_695_652_176 {
		t.Errorf("GMV target to 11 Nov = %d", v)
	}

	// An unknown attachment is refused and writes nothing.
	bad := double11()
	bad.PromotionIDs = []string{"prm_missing"}
	if _, err := cs.Create(ctx, e.Admin, bad); err == nil {
		t.Fatal("an unknown promotion was attached")
	} else {
		wantCode(t, err, "unknown_promotion")
	}
	if list, _ := cs.List(ctx, e.Shop.ID, commerce.Page{}); len(list) != 1 {
		t.Fatalf("%d campaigns after a refused create", len(list))
	}

	up := double11()
	up.Name = "双11 大促 (改)"
	up.AlertLine = 7000
	if _, err := cs.Update(ctx, e.Admin, c.ID, up); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.End(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = cs.Update(ctx, e.Admin, c.ID, up)
	wantCode(t, err, "campaign_ended")
	_, err = cs.End(ctx, e.Admin, c.ID)
	wantCode(t, err, "campaign_ended")
	got, _ = cs.Get(ctx, e.Shop.ID, c.ID)
	if got.Status != campaign.StatusEnded || got.EndedAt == nil || got.Name != up.Name || got.AlertLine != 7000 {
		t.Fatalf("after update and end: %+v", got)
	}
	if n := auditCount(t, e, "campaign"); n != 3 {
		t.Fatalf("%d campaign audit entries, want 3 (create, update, end)", n)
	}

	// Another shop sees none of it.
	other, err := e.Svc.CreateShop(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.Get(ctx, other.ID, c.ID)
	wantCode(t, err, "campaign_not_found")
}

func testCampaignSpend(t *testing.T, open Opener) {
	e, _, cs := campaignEnv(t, open)
	c, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelKOL, Name: "达人直播", UTMSource: "douyin", UTMMedium: "kol",
		UTMCampaign: "d11", Budget: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPaidAds, Name: "again", UTMSource: "douyin", UTMMedium: "kol",
		UTMCampaign: "d11", Budget: 1})
	wantCode(t, err, "utm_taken")

	in := campaign.SpendInput{Day: "2026-11-02", Amount: 50_000, Note: "首日"}
	first, replayed, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, in, "k1")
	if err != nil || replayed {
		t.Fatalf("first spend: %v, replayed %v", err, replayed)
	}
	again, replayed, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, in, "k1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("replay: %+v, %v, %v", again, replayed, err)
	}
	changed := in
	changed.Amount = 1
	_, _, err = cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, changed, "k1")
	wantCode(t, err, "idempotency_mismatch")
	if _, _, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, campaign.SpendInput{Day: "2026-11-03", Amount: 25_000}, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := cs.Get(ctx, e.Shop.ID, c.ID)
	if len(got.Channels) != 1 || got.Channels[0].Spent != 75_000 || got.Channels[0].BudgetUsed != 3750 { // 75 000 of 200 000
		t.Fatalf("channel after spend: %+v", got.Channels)
	}
	// Concurrent replays of one key record one entry between them.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp, _, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, campaign.SpendInput{Day: "2026-11-04", Amount: 100}, "burst-key")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = sp.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent replays answered different entries: %v", ids)
		}
	}
	list, err := cs.Spend(ctx, e.Shop.ID, c.ID, ch.ID)
	if err != nil || len(list) != 3 {
		t.Fatalf("spend entries %+v, %v", list, err)
	}
	if n := auditCount(t, e, "campaign_spend"); n != 3 {
		t.Fatalf("%d spend audit entries, want 3 (a replay writes none)", n)
	}
	_, _, err = cs.AddSpend(ctx, e.Admin, c.ID, "chn_missing", in, "")
	wantCode(t, err, "channel_not_found")
}

func testCampaignMilestones(t *testing.T, open Opener) {
	e, _, cs := campaignEnv(t, open)
	in := double11()
	in.DefaultMilestones = true
	// Clock: 11 Nov 2026 00:00 UTC = 08:00 in Shanghai.
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Milestones) != 6 {
		t.Fatalf("%d default milestones", len(c.Milestones))
	}
	first := c.Milestones[0] // T-30 from 1 Nov
	if first.DueOn != "2026-10-02" || first.Status != campaign.MilestoneOverdue {
		t.Fatalf("T-30 milestone: %+v", first)
	}
	last := c.Milestones[5] // T+1 after the end
	if last.Name != "复盘 review" || last.DueOn != "2026-11-15" || last.Status != campaign.MilestoneDue {
		t.Fatalf("复盘 milestone: %+v", last)
	}
	m, err := cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "发货复盘", DueOn: "2026-11-11", Owner: "王五"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != campaign.MilestoneDue {
		t.Fatalf("due today: %s", m.Status)
	}
	e.Clock.Advance(16 * time.Hour) // midnight in Shanghai: the due day is over
	if m, _ = cs.Milestone(ctx, e.Shop.ID, c.ID, m.ID); m.Status != campaign.MilestoneOverdue {
		t.Fatalf("after the due day: %s", m.Status)
	}
	if m, err = cs.CompleteMilestone(ctx, e.Admin, c.ID, m.ID); err != nil || m.Status != campaign.MilestoneDone || m.DoneAt == nil {
		t.Fatalf("done: %+v, %v", m, err)
	}
	_, err = cs.CompleteMilestone(ctx, e.Admin, c.ID, m.ID)
	wantCode(t, err, "milestone_done")
	_, err = cs.CompleteMilestone(ctx, e.Admin, c.ID, "cms_missing")
	wantCode(t, err, "milestone_not_found")
	if n := auditCount(t, e, "campaign_milestone"); n != 2 {
		t.Fatalf("%d milestone audit entries, want 2 (add, done)", n)
	}

	// Moving the start moves the relative milestones with it.
	moved := double11()
	moved.StartsAt = moved.StartsAt.AddDate(0, 0, -1)
	moved.DayWeights = append([]int64{1}, moved.DayWeights...) // one weight a day, still
	if _, err := cs.Update(ctx, e.Admin, c.ID, moved); err != nil {
		t.Fatal(err)
	}
	got, _ := cs.Get(ctx, e.Shop.ID, c.ID)
	if got.Milestones[0].DueOn != "2026-10-01" {
		t.Fatalf("T-30 after moving the start a day earlier: %s", got.Milestones[0].DueOn)
	}

	// Calendar: November overlaps it; December does not.
	cal, err := cs.Calendar(ctx, e.Shop.ID, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Campaigns) != 1 || cal.Campaigns[0].ID != c.ID || len(cal.TradeDates) != 1 || cal.TradeDates[0].Name != "双11" {
		t.Fatalf("November calendar: %+v", cal)
	}
	cal, err = cs.Calendar(ctx, e.Shop.ID, "2026-11-15", "2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Campaigns) != 0 || len(cal.TradeDates) != 1 {
		t.Fatalf("from 15 November (campaign ends at midnight before it): %+v", cal)
	}
}

// testCampaignMilestoneAnchors: the default 预热 milestone follows the
// plan's preheat phase (T-7 without one) and 复盘 is the day after the
// window's last shop-local day; both move with the plan.
func testCampaignMilestoneAnchors(t *testing.T, open Opener) {
	e, _, cs := campaignEnv(t, open)
	byName := func(ms []campaign.Milestone) map[string]campaign.Milestone {
		out := map[string]campaign.Milestone{}
		for _, m := range ms {
			out[m.Name] = m
		}
		return out
	}
	in := double11() // 1–14 Nov, preheat phase from 1 Nov
	in.DefaultMilestones = true
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	ms := byName(c.Milestones)
	if m := ms["预热 preheat starts"]; m.DueOn != "2026-11-01" || m.Anchor != campaign.AnchorPreheat {
		t.Fatalf("预热 with a preheat phase from 1 Nov: %+v", m)
	}
	if m := ms["复盘 review"]; m.DueOn != "2026-11-15" || m.Anchor != campaign.AnchorEnd || m.OffsetDays == nil || *m.OffsetDays != 1 {
		t.Fatalf("复盘: %+v", m)
	}
	if m := ms["立项 kick-off"]; m.DueOn != "2026-10-02" || m.Anchor != campaign.AnchorStart {
		t.Fatalf("立项: %+v", m)
	}

	// A preheat phase from 20 Oct 20:00 Shanghai (12:00 UTC) is due that
	// shop-local day; the campaign ending at 20:00 on 13 Nov is reviewed on
	// the 14th.
	sh, _ := time.LoadLocation("Asia/Shanghai")
	early := double11()
	early.Name, early.DefaultMilestones, early.DayWeights = "双11 早预热", true, nil
	early.StartsAt = time.Date(2026, 10, 20, 20, 0, 0, 0, sh)
	early.EndsAt = time.Date(2026, 11, 13, 20, 0, 0, 0, sh)
	early.Phases = []campaign.Phase{{Kind: campaign.PhasePreheat, StartsAt: time.Date(2026, 10, 24, 20, 0, 0, 0, sh), EndsAt: time.Date(2026, 11, 1, 0, 0, 0, 0, sh)}}
	ec, err := cs.Create(ctx, e.Admin, early)
	if err != nil {
		t.Fatal(err)
	}
	ms = byName(ec.Milestones)
	if m := ms["预热 preheat starts"]; m.DueOn != "2026-10-24" {
		t.Fatalf("预热 with a preheat phase from 24 Oct 20:00: %+v", m)
	}
	if m := ms["复盘 review"]; m.DueOn != "2026-11-14" {
		t.Fatalf("复盘 of a campaign ending 13 Nov 20:00: %+v", m)
	}

	// Without a preheat phase 预热 is T-7.
	flat := double11()
	flat.Name, flat.Phases, flat.DefaultMilestones = "双11 无阶段", nil, true
	fc, err := cs.Create(ctx, e.Admin, flat)
	if err != nil {
		t.Fatal(err)
	}
	if m := byName(fc.Milestones)["预热 preheat starts"]; m.DueOn != "2026-10-25" {
		t.Fatalf("预热 without a preheat phase: %+v, want T-7 2026-10-25", m)
	}

	// Moving the end moves 复盘; adding a preheat phase moves 预热.
	longer := flat
	longer.EndsAt = longer.EndsAt.AddDate(0, 0, 2)
	longer.DayWeights = append(append([]int64{}, flat.DayWeights...), 1, 1)
	longer.Phases = []campaign.Phase{{Kind: campaign.PhasePreheat, StartsAt: time.Date(2026, 11, 3, 0, 0, 0, 0, sh), EndsAt: time.Date(2026, 11, 5, 0, 0, 0, 0, sh)}}
	if _, err := cs.Update(ctx, e.Admin, fc.ID, longer); err != nil {
		t.Fatal(err)
	}
	got, err := cs.Get(ctx, e.Shop.ID, fc.ID)
	if err != nil {
		t.Fatal(err)
	}
	ms = byName(got.Milestones)
	if ms["复盘 review"].DueOn != "2026-11-17" || ms["预热 preheat starts"].DueOn != "2026-11-03" {
		t.Fatalf("after moving the end and adding a preheat phase: %+v", got.Milestones)
	}

	// A milestone of its own may count from the end; anchor needs an offset.
	three := int64(3)
	m, err := cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "结算对账", OffsetDays: &three, Anchor: campaign.AnchorEnd})
	if err != nil || m.DueOn != "2026-11-17" || m.Anchor != campaign.AnchorEnd {
		t.Fatalf("T+3 after the end: %+v, %v", m, err)
	}
	_, err = cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "x", DueOn: "2026-11-11", Anchor: campaign.AnchorEnd})
	if ce, ok := commerce.AsError(err); !ok || ce.Field != "anchor" || ce.Code != "anchor_without_offset" {
		t.Fatalf("anchor with due_on: %v", err)
	}
	_, err = cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "x", OffsetDays: &three, Anchor: "middle"})
	if ce, ok := commerce.AsError(err); !ok || ce.Field != "anchor" || ce.Code != "invalid_enum" {
		t.Fatalf("unknown anchor: %v", err)
	}
}

// fixedActuals stands in for analytics: the same actuals whatever the
// window, recording the last window asked for.
type fixedActuals struct {
	got           map[string]int64
	from, through campaign.Day
}

func (f *fixedActuals) Actuals(_ context.Context, _ *campaign.Campaign, from, through campaign.Day) (map[string]int64, error) {
	f.from, f.through = from, through
	return f.got, nil
}

func (f *fixedActuals) ActualsByDay(_ context.Context, _ *campaign.Campaign, from, through campaign.Day) ([]campaign.DayActuals, error) {
	f.from, f.through = from, through
	var out []campaign.DayActuals
	for d := from; d <= through; d = campaign.AddDays(d, 1) {
		out = append(out, campaign.DayActuals{Day: d, OnDay: f.got, ToDate: f.got})
	}
	return out, nil
}

func testCampaignPacingWithActuals(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	act := &fixedActuals{got: map[string]int64{campaign.KPIGMV: 5_000_000_00, campaign.KPIConversionRate: 320}}
	cs := campaign.New(e.Store, e.Svc, nil, act)
	in := double11()
	in.DayWeights = nil // 14 equal days
	in.Targets = campaign.Targets{campaign.KPIGMV: 14_000_000_00, campaign.KPIConversionRate: 400, campaign.KPIOrders: 1400}
	in.Phases[2].Targets = campaign.Targets{campaign.KPIOrders: 300}
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	// The clock shows 11 Nov 08:00 in Shanghai: today is the 11th.
	r, err := cs.Pacing(ctx, e.Shop.ID, c.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	// The phases ask last: the tail (12–14 Nov) has not started, so the
	// burst (11 Nov alone) was the last window asked for.
	if r.Day != "2026-11-11" || act.from != "2026-11-11" || act.through != "2026-11-11" {
		t.Fatalf("pacing day %s, actuals asked for %s..%s", r.Day, act.from, act.through)
	}
	want := map[string]struct {
		toDate int64
		status string
	}{
		campaign.KPIGMV:            {11_000_000_00, campaign.PaceAlert}, // 5亿/11亿 = 45 % < 60 %
		campaign.KPIConversionRate: {400, campaign.PaceBehind},          // 320/400 = 80 %
		campaign.KPIOrders:         {1100, ""},                          // no actual yet
	}
	for _, k := range r.KPIs {
		w := want[k.KPI]
		if k.TargetToDate != w.toDate || k.Status != w.status {
			t.Errorf("%s: to date %d status %q, want %d %q", k.KPI, k.TargetToDate, k.Status, w.toDate, w.status)
		}
	}
	if len(r.KPIs) != 3 {
		t.Fatalf("%d KPIs", len(r.KPIs))
	}
	// The tail (12–14 Nov) has not started: no actual, not_started.
	tail := r.Phases[2]
	if len(tail.KPIs) != 1 || tail.KPIs[0].Status != campaign.PaceNotStarted || tail.KPIs[0].Actual != nil || tail.KPIs[0].Attainment != nil {
		t.Fatalf("tail phase before it starts: %+v", tail.KPIs)
	}

	// A day that has not come (the 13th, asked on the 11th) is not judged
	// on zeros: not_started, no actual, the target to date still shown.
	act.from, act.through = "", ""
	r, err = cs.Pacing(ctx, e.Shop.ID, c.ID, "2026-11-13")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(append([]campaign.KPIPace{}, r.KPIs...), r.Phases[2].KPIs...) {
		if k.Status != campaign.PaceNotStarted || k.Actual != nil || k.Attainment != nil {
			t.Errorf("%s on a day to come: status %q actual %v", k.KPI, k.Status, k.Actual)
		}
	}
	if r.KPIs[0].TargetToDate != 13_000_000_00 {
		t.Errorf("target to the 13th: %d", r.KPIs[0].TargetToDate)
	}
	if act.through > "2026-11-11" {
		t.Errorf("actuals asked through %s, a day that has not come", act.through)
	}

	// Plan vs actual through the 13th: the 12th and 13th have no actual.
	pva, err := cs.PlanVsActual(ctx, e.Shop.ID, c.ID, "2026-11-13")
	if err != nil {
		t.Fatal(err)
	}
	if act.through != "2026-11-11" {
		t.Errorf("plan vs actual asked actuals through %s, want today 2026-11-11", act.through)
	}
	gmv := pva.Campaign.KPIs[0]
	if gmv.KPI != campaign.KPIGMV || len(gmv.Days) != 13 {
		t.Fatalf("gmv plan: %+v", gmv)
	}
	for _, d := range gmv.Days {
		future := d.Day > "2026-11-11"
		switch {
		case future && (d.Status != campaign.PaceNotStarted || d.Actual != nil || d.CumulativeActual != nil || d.Attainment != nil):
			t.Errorf("%s (to come): %+v", d.Day, d)
		case !future && (d.Actual == nil || d.Status == campaign.PaceNotStarted || d.Status == ""):
			t.Errorf("%s (past or today): %+v", d.Day, d)
		}
	}

	// A campaign that has not started: every KPI not_started, today and
	// on its own days.
	dec := double11()
	dec.Name, dec.DayWeights = "双12", nil
	shift := func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	dec.StartsAt, dec.EndsAt = shift(dec.StartsAt), shift(dec.EndsAt)
	for i := range dec.Phases {
		dec.Phases[i].StartsAt, dec.Phases[i].EndsAt = shift(dec.Phases[i].StartsAt), shift(dec.Phases[i].EndsAt)
	}
	d12, err := cs.Create(ctx, e.Admin, dec)
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"", "2026-12-01", "2026-12-12"} {
		r, err := cs.Pacing(ctx, e.Shop.ID, d12.ID, day)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range r.KPIs {
			if k.Status != campaign.PaceNotStarted || k.Actual != nil {
				t.Errorf("campaign not started, day %q: %s status %q actual %v", day, k.KPI, k.Status, k.Actual)
			}
		}
	}
	pva, err = cs.PlanVsActual(ctx, e.Shop.ID, d12.ID, "2026-12-03")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pva.Campaign.KPIs {
		for _, d := range k.Days {
			if d.Status != campaign.PaceNotStarted || d.Actual != nil || d.CumulativeActual != nil {
				t.Errorf("campaign not started, %s %s: %+v", k.KPI, d.Day, d)
			}
		}
	}
}
