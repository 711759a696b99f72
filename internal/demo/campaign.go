package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// CampaignsResult names the demo's campaign plans.
type CampaignsResult struct {
	Double11 string // ended, reviewable: its window is in the history
	Double12 string // upcoming
}

// demoChannel is a campaign channel: its share of the spend in percent.
type demoChannel struct {
	kind, name, source, medium string
	share                      int64
}

var demoChannels = []demoChannel{
	{campaign.ChannelPaidAds, "微信朋友圈广告 WeChat moments ads", "wechat_mp", "cpc", 35},
	{campaign.ChannelKOL, "抖音达人直播 Douyin KOL lives", "douyin_live", "kol", 30},
	{campaign.ChannelPaidAds, "百度搜索 Baidu search", "baidu", "cpc", 15},
	{campaign.ChannelSMS, "会员短信 member SMS", "sms", "sms", 8},
	{campaign.ChannelPrivate, "私域社群 private groups", "wechat_group", "private", 12},
}

// d11Weight is a day's weight in the 双11 plan: the burst day dominates,
// the first wave (Nov 1–10) and 返场 run above the preheat.
func d11Weight(d time.Time) int64 {
	switch {
	case d.Month() == time.November && d.Day() == 11:
		return 60
	case d.Month() == time.November && d.Day() == 12:
		return 16
	case d.Month() == time.November && d.Day() < 11:
		return 15
	}
	return 10
}

// SeedCampaigns plans the demo's two campaigns through the campaign
// service, as the shop's admin: the 双11 campaign whose window lies in the
// seeded history (ended; its targets are set from the history's actuals so
// that attainment lands between about 85 and 105 %, each phase its own,
// channels with their daily spend, the promotions it ran attached
// (d11Promos: Result.Double11), milestones done), and the
// upcoming 双12 campaign planned from it, milestones done up to now. Call
// it after SeedAnalytics (the targets read the rollups).
func SeedCampaigns(ctx context.Context, cs *campaign.Service, shopID string, loc *time.Location, now time.Time, promos, d11Promos *PromotionsResult) (*CampaignsResult, error) {
	a := commerce.Actor{ShopID: shopID, Role: commerce.RoleAdmin}
	out := &CampaignsResult{}
	var attach, templates []string
	if promos != nil {
		attach, templates = promos.Promotions, promos.Templates
	}
	// 双11 ran its own promotions (seeded with the history); the current
	// ones are 双12's.
	var attach11, templates11 []string
	if d11Promos != nil {
		attach11, templates11 = d11Promos.Promotions, d11Promos.Templates
	}

	// 双11: create with placeholder targets, post the spend, read the
	// actuals, then set the targets from them.
	w := double11(now, loc)
	d11 := campaign.Input{Name: fmt.Sprintf("%d 双11 狂欢节", w.year), StartsAt: w.start, EndsAt: w.end,
		PromotionIDs: attach11, CouponTemplateIDs: templates11, DefaultMilestones: true}
	phases := []struct {
		kind, name string
		from, to   time.Time
	}{
		{campaign.PhasePreheat, "预热 蓄水种草", w.start, time.Date(w.year, time.November, 1, 0, 0, 0, 0, loc)},
		{campaign.PhaseBurst, "爆发 开门红与双11当天", time.Date(w.year, time.November, 1, 0, 0, 0, 0, loc), time.Date(w.year, time.November, 12, 0, 0, 0, 0, loc)},
		{campaign.PhaseTail, "返场", time.Date(w.year, time.November, 12, 0, 0, 0, 0, loc), w.end},
	}
	kpis := []string{campaign.KPIGMV, campaign.KPIPaidAmount, campaign.KPIOrders, campaign.KPIUV, campaign.KPIConversionRate, campaign.KPIROI}
	placeholder := campaign.Targets{}
	for _, k := range kpis {
		placeholder[k] = 1
	}
	weights := func(from, to time.Time) []int64 {
		var ws []int64
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			ws = append(ws, d11Weight(d))
		}
		return ws
	}
	d11.Targets, d11.DayWeights = placeholder, weights(w.start, w.end)
	for _, p := range phases {
		d11.Phases = append(d11.Phases, campaign.Phase{Kind: p.kind, Name: p.name, StartsAt: p.from, EndsAt: p.to,
			Targets: placeholder, DayWeights: weights(p.from, p.to)})
	}
	c, err := cs.Create(ctx, a, d11)
	if err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	out.Double11 = c.ID
	last := w.end.AddDate(0, 0, -1).Format(time.DateOnly)
	pace, err := cs.Pacing(ctx, shopID, c.ID, last)
	if err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	// Spend: 12 % of the window's paid amount, over the channels by share
	// and over the days by the plan's weights.
	spend := actualOf(pace.KPIs, campaign.KPIPaidAmount) * 12 / 100
	ws := d11.DayWeights
	var sumW int64
	for _, x := range ws {
		sumW += x
	}
	for _, ch := range demoChannels {
		total := spend * ch.share / 100
		made, err := cs.AddChannel(ctx, a, c.ID, campaign.ChannelInput{Kind: ch.kind, Name: ch.name, UTMSource: ch.source,
			UTMMedium: ch.medium, UTMCampaign: w.code, Budget: money.Money(total * 110 / 100)})
		if err != nil {
			return nil, fmt.Errorf("demo campaign channel: %w", err)
		}
		var posted int64
		for i, x := range ws {
			amt := total * x / sumW
			if i == len(ws)-1 {
				amt = total - posted
			}
			if amt <= 0 {
				continue
			}
			posted += amt
			day := w.start.AddDate(0, 0, i).Format(time.DateOnly)
			if _, _, err := cs.AddSpend(ctx, a, c.ID, made.ID, campaign.SpendInput{Day: day, Amount: money.Money(amt), Note: "日消耗 daily spend"},
				"demo-spend-"+made.ID+"-"+day); err != nil {
				return nil, fmt.Errorf("demo campaign spend: %w", err)
			}
		}
	}
	if pace, err = cs.Pacing(ctx, shopID, c.ID, last); err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	// Targets a little above or below what happened, KPI by KPI (percent
	// of the actual), so the review shows hits and misses.
	factor := map[string]int64{campaign.KPIGMV: 108, campaign.KPIPaidAmount: 104, campaign.KPIOrders: 97,
		campaign.KPIUV: 112, campaign.KPIConversionRate: 95, campaign.KPIROI: 115}
	targets := func(ps []campaign.KPIPace, phase int64) campaign.Targets {
		t := campaign.Targets{}
		for _, k := range kpis {
			if v := actualOf(ps, k) * factor[k] * phase / 10000; v > 0 {
				t[k] = v
			}
		}
		return t
	}
	d11.Targets = targets(pace.KPIs, 100)
	// Each phase went its own way: the preheat beat its plan, the burst
	// came close, the 返场 fell short.
	phaseFactor := []int64{90, 103, 121}
	for i := range d11.Phases {
		d11.Phases[i].Targets = targets(pace.Phases[i].KPIs, phaseFactor[i%len(phaseFactor)])
	}
	d11.DefaultMilestones = false
	if _, err := cs.Update(ctx, a, c.ID, d11); err != nil {
		return nil, fmt.Errorf("demo campaign targets: %w", err)
	}
	if err := completeDue(ctx, cs, a, c.ID, now, loc); err != nil {
		return nil, err
	}
	if _, err := cs.End(ctx, a, c.ID); err != nil { // over: the review is final
		return nil, fmt.Errorf("demo campaign end: %w", err)
	}

	// 双12: planned at about half of 双11, same channels.
	w12 := double12(now, loc)
	t12 := campaign.Targets{}
	for k, v := range d11.Targets {
		switch k {
		case campaign.KPIConversionRate, campaign.KPIROI:
			t12[k] = v
		default:
			t12[k] = v / 2
		}
	}
	burst := time.Date(w12.year, time.December, 10, 0, 0, 0, 0, loc)
	days12 := int(w12.end.Sub(w12.start).Hours()/24 + 0.5)
	dw := make([]int64, days12)
	for i := range dw {
		dw[i] = 10
	}
	dw[len(dw)-1] = 50 // Dec 12
	d12 := campaign.Input{Name: fmt.Sprintf("%d 双12 年终盛典", w12.year), StartsAt: w12.start, EndsAt: w12.end, Targets: t12, DayWeights: dw,
		PromotionIDs: attach, CouponTemplateIDs: templates, DefaultMilestones: true,
		Phases: []campaign.Phase{
			{Kind: campaign.PhasePreheat, Name: "预热 年终囤货", StartsAt: w12.start, EndsAt: burst},
			{Kind: campaign.PhaseBurst, Name: "爆发 双12", StartsAt: burst, EndsAt: w12.end, DayWeights: []int64{10, 10, 50}},
		}}
	c12, err := cs.Create(ctx, a, d12)
	if err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	out.Double12 = c12.ID
	for _, ch := range demoChannels {
		if _, err := cs.AddChannel(ctx, a, c12.ID, campaign.ChannelInput{Kind: ch.kind, Name: ch.name, UTMSource: ch.source,
			UTMMedium: ch.medium, UTMCampaign: w12.code, Budget: money.Money(spend / 2 * ch.share / 100)}); err != nil {
			return nil, fmt.Errorf("demo campaign channel: %w", err)
		}
	}
	if err := completeDue(ctx, cs, a, c12.ID, now, loc); err != nil {
		return nil, err
	}
	return out, nil
}

func actualOf(ps []campaign.KPIPace, kpi string) int64 {
	for _, p := range ps {
		if p.KPI == kpi && p.Actual != nil {
			return *p.Actual
		}
	}
	return 0
}

// completeDue marks done the campaign's milestones due before today.
func completeDue(ctx context.Context, cs *campaign.Service, a commerce.Actor, id string, now time.Time, loc *time.Location) error {
	c, err := cs.Get(ctx, a.ShopID, id)
	if err != nil {
		return fmt.Errorf("demo campaign: %w", err)
	}
	today := now.In(loc).Format(time.DateOnly)
	for _, m := range c.Milestones {
		if m.DueOn < today && m.DoneAt == nil {
			if _, err := cs.CompleteMilestone(ctx, a, id, m.ID); err != nil {
				return fmt.Errorf("demo milestone: %w", err)
			}
		}
	}
	return nil
}
