package review

import (
	"context"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
)

// Store is what the default sources read from storage beyond analytics.
type Store interface {
	// PromotionUsage reports, for each promotion and coupon template id
	// given (in that order), the orders paid in [from, to) that used it
	// with the discount it gave, and for templates the coupons issued
	// (claimed) in [from, to) and, of those, the ones used by an order paid
	// in it; Base is the paid orders in the window for promotions and the
	// coupons issued for templates.
	PromotionUsage(ctx context.Context, shopID string, from, to time.Time, promotionIDs, templateIDs []string) ([]PromotionUse, error)
	// StockOuts lists the SKUs whose free stock reached zero in [from, to)
	// (from the stock ledger) and the flash-sale items whose allocation
	// sold out in it.
	StockOuts(ctx context.Context, shopID string, from, to time.Time) ([]StockOut, error)
}

// Default is the review's sources as they exist today: plan from the
// campaign's pacing, actuals, funnel and customers from the analytics
// rollups (exact distinct counts), promotions and stock-outs from the
// store, channel returns and top SKUs from the analytics views.
type Default struct {
	Campaigns *campaign.Service
	Analytics analytics.ViewStore
	Store     Store
}

// NewSources returns the default sources.
func NewSources(cs *campaign.Service, an analytics.ViewStore, st Store) *Default {
	return &Default{Campaigns: cs, Analytics: an, Store: st}
}

var _ Sources = (*Default)(nil)

// totals are the window's KPIs, shop-wide, with the campaign's channel
// spend as the cost behind ROI.
func (d *Default) totals(ctx context.Context, c *campaign.Campaign, w Window) (analytics.KPIs, error) {
	from, to := analytics.DayNum(w.From), analytics.DayNum(w.To)
	rows, err := d.Analytics.RollupCounters(ctx, c.ShopID, analytics.Day, from, to, analytics.Filter{})
	if err != nil {
		return analytics.KPIs{}, err
	}
	var sum analytics.Counters
	for _, b := range rows {
		sum.Add(b.Counters)
	}
	dd, err := d.Analytics.Distincts(ctx, c.ShopID, from, to, analytics.Filter{})
	if err != nil {
		return analytics.KPIs{}, err
	}
	cost, err := d.spend(ctx, c, w)
	if err != nil {
		return analytics.KPIs{}, err
	}
	return analytics.Compute(sum, &dd, cost), nil
}

// spend is what was posted on the campaign's channels for the window's
// days: spend booked for a day before or after it is not the window's.
func (d *Default) spend(ctx context.Context, c *campaign.Campaign, w Window) (int64, error) {
	var cost int64
	for _, ch := range c.Channels {
		entries, err := d.Campaigns.Spend(ctx, c.ShopID, c.ID, ch.ID)
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			if e.Day >= w.FirstDay && e.Day <= w.LastDay {
				cost += int64(e.Amount)
			}
		}
	}
	return cost, nil
}

// actualOf maps a campaign KPI to its analytics value.
func actualOf(k analytics.KPIs, kpi string) *int64 {
	if v, ok := analytics.CampaignKPIs(k)[kpi]; ok {
		return &v
	}
	if kpi == campaign.KPIROI {
		return k.ROIBP
	}
	return nil
}

// PlanVsActual reads the plan from the campaign's pacing as of the review
// day. Actuals are the pacing's when it has them, else the window's
// shop-wide analytics totals; phases carry the pacing's actuals only.
func (d *Default) PlanVsActual(ctx context.Context, c *campaign.Campaign, w Window) ([]PlanRow, []PhasePlan, error) {
	pr, err := d.Campaigns.Pacing(ctx, c.ShopID, c.ID, w.AsOf)
	if err != nil {
		return nil, nil, err
	}
	tot, err := d.totals(ctx, c, w)
	if err != nil {
		return nil, nil, err
	}
	kpis := PlanRows(pr.KPIs, func(kpi string) *int64 { return actualOf(tot, kpi) }, c.AlertLine, true)
	phases := []PhasePlan{}
	for i, pp := range pr.Phases {
		row := PhasePlan{Kind: pp.Kind, Name: pp.Name, KPIs: PlanRows(pp.KPIs, nil, c.AlertLine, false)}
		if i < len(c.Phases) {
			row.StartsAt, row.EndsAt = c.Phases[i].StartsAt, c.Phases[i].EndsAt
		}
		phases = append(phases, row)
	}
	return kpis, phases, nil
}

// PlanRows turns pacing KPIs into review rows. A pacing actual wins; else
// actual (when not nil) supplies one. With all, every campaign KPI gets a
// row, targeted or not, in report order.
func PlanRows(paces []campaign.KPIPace, actual func(string) *int64, alert int64, all bool) []PlanRow {
	byKPI := map[string]campaign.KPIPace{}
	for _, p := range paces {
		byKPI[p.KPI] = p
	}
	out := []PlanRow{}
	for _, kpi := range campaign.KPIs {
		p, targeted := byKPI[kpi]
		if !targeted && !all {
			continue
		}
		row := PlanRow{KPI: kpi, Unit: UnitOf(kpi)}
		if targeted {
			t, ttd := p.Target, p.TargetToDate
			row.Target, row.TargetToDate = &t, &ttd
		}
		switch {
		case targeted && p.Status == campaign.PaceNotStarted:
			row.Status = campaign.PaceNotStarted
			out = append(out, row)
			continue
		case targeted && p.Actual != nil:
			a := *p.Actual
			row.Actual = &a
		case actual != nil:
			row.Actual = actual(kpi)
		}
		if targeted && row.Actual != nil {
			att := campaign.Attainment(*row.TargetToDate, *row.Actual)
			row.Attainment, row.Status = &att, campaign.PaceStatus(*row.TargetToDate, *row.Actual, alert)
		}
		out = append(out, row)
	}
	return out
}

// Channels is the campaign's channel table over the window: its channels
// (matched by utm_source and utm_campaign) with the spend posted on them
// and the ROI of what they brought.
func (d *Default) Channels(ctx context.Context, c *campaign.Campaign, w Window) ([]ChannelReturn, error) {
	rows, err := analytics.Views{St: d.Analytics}.Channels(ctx, c.ShopID, analytics.Period{From: w.From, To: w.To}, c.ID)
	if err != nil {
		return nil, err
	}
	planned := make(map[[2]string]campaign.Channel, len(c.Channels))
	for _, ch := range c.Channels {
		planned[[2]string{ch.UTMSource, ch.UTMCampaign}] = ch
	}
	out := make([]ChannelReturn, 0, len(rows))
	for _, r := range rows {
		ch, ok := planned[[2]string{r.Channel, r.UTMCampaign}]
		name := ch.Name
		if !ok {
			name = r.Channel
		}
		out = append(out, ChannelReturn{Channel: name, Kind: ch.Kind, UTMSource: r.Channel, UTMMedium: ch.UTMMedium, UTMCampaign: r.UTMCampaign,
			Budget: int64(ch.Budget), Spend: r.Spend, UV: r.UV, Orders: r.Orders, PaidAmount: r.PaidAmount, ROI: r.ROIBP})
	}
	return out, nil
}

// TopSKUs are the window's best sellers by paid amount, shop-wide.
func (d *Default) TopSKUs(ctx context.Context, c *campaign.Campaign, w Window, limit int) ([]TopSKU, error) {
	rows, err := analytics.Views{St: d.Analytics}.TopSKUs(ctx, c.ShopID, analytics.Period{From: w.From, To: w.To}, analytics.Filter{}, analytics.BySKUPaidAmount, limit)
	if err != nil {
		return nil, err
	}
	out := make([]TopSKU, 0, len(rows))
	for _, r := range rows {
		name := strings.TrimSpace(r.ProductName + " " + r.SKUName)
		if name == "" {
			name = r.SKUID
		}
		out = append(out, TopSKU{SKUID: r.SKUID, Name: name, Units: r.PaidUnits, PaidAmount: r.PaidAmount, ProductViews: r.ProductViews, Conversion: r.ViewToPaidBP})
	}
	return out, nil
}

// Promotions reads the attached promotions' and templates' use.
func (d *Default) Promotions(ctx context.Context, c *campaign.Campaign, w Window) ([]PromotionUse, error) {
	if len(c.PromotionIDs) == 0 && len(c.CouponTemplateIDs) == 0 {
		return []PromotionUse{}, nil
	}
	return d.Store.PromotionUsage(ctx, c.ShopID, w.From, w.To, c.PromotionIDs, c.CouponTemplateIDs)
}

// Funnel is the window's shop-wide funnel.
func (d *Default) Funnel(ctx context.Context, c *campaign.Campaign, w Window) ([]FunnelStage, error) {
	rows, err := analytics.Reader{St: d.Analytics, Exact: true}.Funnel(ctx, c.ShopID, analytics.Period{From: w.From, To: w.To}, false)
	if err != nil {
		return nil, err
	}
	var f analytics.FunnelRow
	for _, r := range rows {
		f.Visits += r.Visits
		f.Products += r.Products
		f.Carts += r.Carts
		f.Orders += r.Orders
		f.Paid += r.Paid
	}
	return FunnelOf([]int64{f.Visits, f.Products, f.Carts, f.Orders, f.Paid}), nil
}

// CustomerMix splits the window's paying customers into new and returning.
func (d *Default) Customers(ctx context.Context, c *campaign.Campaign, w Window) (*CustomerMix, error) {
	dd, err := d.Analytics.Distincts(ctx, c.ShopID, analytics.DayNum(w.From), analytics.DayNum(w.To), analytics.Filter{})
	if err != nil {
		return nil, err
	}
	return CustomersOf(dd.PayingCustomers, dd.NewCustomers), nil
}

// StockOuts reads the stock ledger and flash sales.
func (d *Default) StockOuts(ctx context.Context, c *campaign.Campaign, w Window) ([]StockOut, error) {
	return d.Store.StockOuts(ctx, c.ShopID, w.From, w.To)
}
