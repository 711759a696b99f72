package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
)

// SpendStore lists the spend posted on a campaign channel.
type SpendStore interface {
	ListSpend(ctx context.Context, shopID, channelID string) ([]campaign.Spend, error)
}

// CampaignActuals implements campaign.Actuals over the rollups
// (docs/METRICS.md, "Campaign plan vs actual"): a campaign's or phase's
// KPIs are the shop's over the local days of its window, except ROI,
// which is the paid amount attributed to the campaign's channels (utm_source
// and utm_campaign both match one of them) over the spend posted on those
// channels in the same days.
type CampaignActuals struct {
	Reader Reader
	Spend  SpendStore
}

var _ campaign.Actuals = CampaignActuals{}

// period turns inclusive local dates into a half-open Period. Dates are
// carried as UTC midnights: only their calendar fields are read.
func period(from, through campaign.Day) (Period, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Period{}, fmt.Errorf("from %q: %w", from, err)
	}
	t, err := time.Parse(time.DateOnly, through)
	if err != nil {
		return Period{}, fmt.Errorf("through %q: %w", through, err)
	}
	if t.Before(f) {
		return Period{}, fmt.Errorf("through %s is before from %s", through, from)
	}
	return Period{From: f, To: t.AddDate(0, 0, 1)}, nil
}

// CampaignKPIs maps metrics to the campaign KPIs they give (ROI aside:
// a campaign's ROI is attributed, not the shop's); a metric without a
// value (no denominator) is left out.
func CampaignKPIs(k KPIs) map[string]int64 {
	m := map[string]int64{campaign.KPIGMV: k.GMV, campaign.KPIPaidAmount: k.PaidAmount, campaign.KPIOrders: k.Orders}
	for name, p := range map[string]*int64{campaign.KPIPayingCustomers: k.PayingCustomers, campaign.KPINewCustomers: k.NewCustomers,
		campaign.KPIAOV: k.AOV, campaign.KPIConversionRate: k.ConversionBP, campaign.KPIUV: k.UV} {
		if p != nil {
			m[name] = *p
		}
	}
	return m
}

// attributed is, per local day (YYYYMMDD), the paid amount attributed to
// the campaign's channels and the spend posted on them, over p.
type attributed struct {
	paid, spend map[int64]int64
}

func (a CampaignActuals) attributed(ctx context.Context, c *campaign.Campaign, p Period) (*attributed, error) {
	out := &attributed{paid: map[int64]int64{}, spend: map[int64]int64{}}
	from, to := DayNum(p.From), DayNum(p.To)
	seen := map[[2]string]bool{}
	for _, ch := range c.Channels {
		pair := [2]string{ch.UTMSource, ch.UTMCampaign}
		if !seen[pair] { // two channels told apart by utm_medium share these rollups
			seen[pair] = true
			src, cmp := ch.UTMSource, ch.UTMCampaign
			rows, err := a.Reader.St.RollupCounters(ctx, c.ShopID, Day, from, to, Filter{Channel: &src, Campaign: &cmp})
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				out.paid[r.Bucket] += r.PaidAmount
			}
		}
		if a.Spend == nil {
			continue
		}
		sp, err := a.Spend.ListSpend(ctx, c.ShopID, ch.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range sp {
			d, err := time.Parse(time.DateOnly, e.Day)
			if err != nil {
				continue
			}
			if n := DayNum(d); n >= from && n < to {
				out.spend[n] += int64(e.Amount)
			}
		}
	}
	return out, nil
}

func roi(paid, spend int64, m map[string]int64) {
	if r := Ratio(paid, spend, 10000); r != nil {
		m[campaign.KPIROI] = *r
	}
}

// Actuals are the KPIs over the days from through through, inclusive.
func (a CampaignActuals) Actuals(ctx context.Context, c *campaign.Campaign, from, through campaign.Day) (map[string]int64, error) {
	p, err := period(from, through)
	if err != nil {
		return nil, err
	}
	from0, to := DayNum(p.From), DayNum(p.To)
	rows, err := a.Reader.St.RollupCounters(ctx, c.ShopID, Day, from0, to, Filter{})
	if err != nil {
		return nil, err
	}
	var total Counters
	for _, r := range rows {
		total.Add(r.Counters)
	}
	d, err := a.Reader.Distincts(ctx, c.ShopID, from0, to, Filter{})
	if err != nil {
		return nil, err
	}
	m := CampaignKPIs(Compute(total, &d, 0))
	at, err := a.attributed(ctx, c, p)
	if err != nil {
		return nil, err
	}
	var paid, spend int64
	for _, v := range at.paid {
		paid += v
	}
	for _, v := range at.spend {
		spend += v
	}
	roi(paid, spend, m)
	return m, nil
}

// ActualsByDay gives each day's own KPIs (from the day points of one
// report over the window) and the KPIs from 'from' through that day:
// additive counters summed, distinct counts (UV, paying customers) counted
// over the days so far (Reader.DistinctsByDay), ratios computed from those.
func (a CampaignActuals) ActualsByDay(ctx context.Context, c *campaign.Campaign, from, through campaign.Day) ([]campaign.DayActuals, error) {
	p, err := period(from, through)
	if err != nil {
		return nil, err
	}
	rows, err := a.Reader.St.RollupCounters(ctx, c.ShopID, Day, DayNum(p.From), DayNum(p.To), Filter{})
	if err != nil {
		return nil, err
	}
	counters := make(map[int64]Counters, len(rows))
	for _, r := range rows {
		counters[r.Bucket] = r.Counters
	}
	at, err := a.attributed(ctx, c, p)
	if err != nil {
		return nil, err
	}
	var out []campaign.DayActuals
	var cum Counters
	var paid, spend int64
	days, toDate, err := a.Reader.DistinctsByDay(ctx, c.ShopID, p, Filter{})
	if err != nil {
		return nil, err
	}
	for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
		dn := DayNum(day)
		dd, sd := days[dn], toDate[dn]
		cum.Add(counters[dn])
		paid += at.paid[dn]
		spend += at.spend[dn]
		onDay, toDate := CampaignKPIs(Compute(counters[dn], &dd, 0)), CampaignKPIs(Compute(cum, &sd, 0))
		roi(at.paid[dn], at.spend[dn], onDay)
		roi(paid, spend, toDate)
		out = append(out, campaign.DayActuals{Day: day.Format(time.DateOnly), OnDay: onDay, ToDate: toDate})
	}
	return out, nil
}
