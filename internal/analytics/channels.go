package analytics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// CampaignChannel is one channel of a campaign with what was spent on it
// over a range of days (fen).
type CampaignChannel struct {
	UTMSource, UTMCampaign string
	Spend                  int64
}

// ViewStore is what the analytics views (channel table, top SKUs,
// cohorts, live tiles) need from storage on top of Store.
type ViewStore interface {
	Store
	// ChannelCounters sums the day rollups of [fromDay, toDay) by channel,
	// within one campaign when campaign is not nil.
	ChannelCounters(ctx context.Context, shopID string, fromDay, toDay int64, campaign *string) (map[string]Counters, error)
	// ChannelSpend sums campaign spend entries of the local dates
	// [from, to) (YYYY-MM-DD) by their channel's utm_source.
	ChannelSpend(ctx context.Context, shopID, from, to string) (map[string]int64, error)
	// CampaignChannels lists a campaign's channels with their spend over
	// [from, to); a commerce not-found error when there is no such campaign.
	CampaignChannels(ctx context.Context, shopID, campaignID, from, to string) ([]CampaignChannel, error)
	// TopSKUs sums SKU days of [fromDay, toDay) by SKU and returns the
	// first limit by the ordering by (a BySKU* constant).
	TopSKUs(ctx context.Context, shopID string, fromDay, toDay int64, f Filter, by string, limit int) ([]SKURow, error)
	// Cohorts counts the customers whose first paid day is in [fromDay,
	// toDay) by cohort (CohortIndex of their first paid day), and by
	// cohort and k those with an order paid in the period k after their
	// cohort's, on a day before untilDay, for k < periods.
	Cohorts(ctx context.Context, shopID string, fromDay, toDay, untilDay int64, monthly bool, periods int) (sizes map[int64]int64, kept map[[2]int64]int64, err error)
}

// Views answers the analytics views.
type Views struct{ St ViewStore }

// ChannelRow is one channel's metrics over a period (docs/METRICS.md,
// "Channel table").
type ChannelRow struct {
	Channel         string `json:"channel" doc:"utm_source; \"\" is direct"`
	UTMCampaign     string `json:"utm_campaign,omitempty" doc:"the campaign channel's utm_campaign (with campaign_id)"`
	UV              int64  `json:"uv"`
	Orders          int64  `json:"orders"`
	GMV             int64  `json:"gmv" doc:"fen"`
	PaidOrders      int64  `json:"paid_orders"`
	PaidAmount      int64  `json:"paid_amount" doc:"fen"`
	PayingCustomers int64  `json:"paying_customers"`
	ConversionBP    *int64 `json:"conversion_bp,omitempty" doc:"paying customers / UV; absent without UV"`
	AOV             *int64 `json:"aov,omitempty" doc:"paid amount / paying customers, fen"`
	Spend           int64  `json:"spend" doc:"campaign spend entries of the period's days, fen"`
	ROIBP           *int64 `json:"roi_bp,omitempty" doc:"paid amount / spend, bp; absent without spend"`
}

func dateOf(t time.Time) string { return t.Format(time.DateOnly) }

// Channels is the channel table of p: every channel with traffic, orders
// or spend in p; with campaignID, the campaign's channels only (matched
// by utm_source and utm_campaign) and only its spend.
func (v Views) Channels(ctx context.Context, shopID string, p Period, campaignID string) ([]ChannelRow, error) {
	from, to := DayNum(p.From), DayNum(p.To)
	type key struct{ src, cp string }
	var keys []key
	spend := map[key]int64{}
	counters := map[key]Counters{}
	if campaignID == "" {
		cs, err := v.St.ChannelCounters(ctx, shopID, from, to, nil)
		if err != nil {
			return nil, err
		}
		sp, err := v.St.ChannelSpend(ctx, shopID, dateOf(p.From), dateOf(p.To))
		if err != nil {
			return nil, err
		}
		for ch, c := range cs {
			counters[key{src: ch}] = c
		}
		for ch, a := range sp {
			spend[key{src: ch}] += a
		}
		for k := range counters {
			keys = append(keys, k)
		}
		for k := range spend {
			if _, ok := counters[k]; !ok {
				keys = append(keys, k)
			}
		}
	} else {
		chs, err := v.St.CampaignChannels(ctx, shopID, campaignID, dateOf(p.From), dateOf(p.To))
		if err != nil {
			return nil, err
		}
		byCampaign := map[string]map[string]Counters{}
		for _, ch := range chs {
			k := key{ch.UTMSource, ch.UTMCampaign}
			if _, ok := spend[k]; !ok {
				keys = append(keys, k) // two channels differing by utm_medium only are one row
			}
			spend[k] += ch.Spend
			cs, ok := byCampaign[ch.UTMCampaign]
			if !ok {
				cp := ch.UTMCampaign
				if cs, err = v.St.ChannelCounters(ctx, shopID, from, to, &cp); err != nil {
					return nil, err
				}
				byCampaign[ch.UTMCampaign] = cs
			}
			counters[k] = cs[ch.UTMSource]
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.src, b.src), strings.Compare(a.cp, b.cp)) })
	out := make([]ChannelRow, 0, len(keys))
	for _, k := range keys {
		f := Filter{Channel: &k.src}
		if campaignID != "" {
			f.Campaign = &k.cp
		}
		d, err := Reader{St: v.St}.Distincts(ctx, shopID, from, to, f)
		if err != nil {
			return nil, err
		}
		c := counters[k]
		row := ChannelRow{Channel: k.src, UTMCampaign: k.cp, UV: d.UV, Orders: c.Orders, GMV: c.GMV, PaidOrders: c.PaidOrders, PaidAmount: c.PaidAmount,
			PayingCustomers: d.PayingCustomers, Spend: spend[k]}
		row.ConversionBP = Ratio(d.PayingCustomers, d.UV, 10000)
		row.AOV = Ratio(c.PaidAmount, d.PayingCustomers, 1)
		if row.Spend > 0 {
			row.ROIBP = Ratio(c.PaidAmount, row.Spend, 10000)
		}
		out = append(out, row)
	}
	return out, nil
}
