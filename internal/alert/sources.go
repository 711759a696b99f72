package alert

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/i18n"
	"github.com/carnivalhq/carnival/internal/money"
)

// LastCompleteHour is the start of the last complete shop-local hour
// before now.
func LastCompleteHour(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc).Add(-time.Hour)
}

// LastCompleteDay is the midnight starting the last complete shop-local day.
func LastCompleteDay(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
}

// HourBucket is an hourly rollup bucket, YYYYMMDDHH of local time.
func HourBucket(t time.Time) int64 { return analytics.DayNum(t)*100 + int64(t.Hour()) }

func filterOf(r *Rule) analytics.Filter {
	var f analytics.Filter
	if r.Channel != "" {
		ch := r.Channel
		f.Channel = &ch
	}
	if r.Campaign != "" {
		c := r.Campaign
		f.Campaign = &c
	}
	return f
}

// KPIValue reads a threshold KPI from computed KPIs; false when it is not
// known (a ratio over zero, a distinct count on an hourly bucket).
func KPIValue(k analytics.KPIs, kpi string) (int64, bool) {
	ptr := func(p *int64) (int64, bool) {
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	switch kpi {
	case "gmv":
		return k.GMV, true
	case "paid_amount":
		return k.PaidAmount, true
	case "orders":
		return k.Orders, true
	case "paid_orders":
		return k.PaidOrders, true
	case "refunds":
		return k.Refunds, true
	case "net_sales":
		return k.NetSales, true
	case "discount_cost":
		return k.DiscountCost, true
	case "pv":
		return k.PV, true
	case "product_views":
		return k.ProductViews, true
	case "add_to_carts":
		return k.Carts, true
	case "refund_rate_bp":
		return ptr(k.RefundRateBP)
	case "uv":
		return ptr(k.UV)
	case "paying_customers":
		return ptr(k.PayingCustomers)
	case "new_customers":
		return ptr(k.NewCustomers)
	case "conversion_bp":
		return ptr(k.ConversionBP)
	case "aov":
		return ptr(k.AOV)
	case "uv_value":
		return ptr(k.UVValue)
	}
	return 0, false
}

// CounterValue reads an anomaly KPI from hourly counters.
func CounterValue(c analytics.Counters, kpi string) int64 {
	switch kpi {
	case "pv":
		return c.PV
	case "orders":
		return c.Orders
	case "gmv":
		return c.GMV
	case "paid_amount":
		return c.PaidAmount
	case "paid_orders":
		return c.PaidOrders
	case "product_views":
		return c.ProductViews
	case "add_to_carts":
		return c.Carts
	}
	return 0
}

// threshold compares the KPI of the last complete hour or day with the
// rule's value. A complete period is judged, not the one under way: a
// "gmv < X today" rule would otherwise fire every morning.
func (s *Service) threshold(ctx context.Context, r *Rule, loc *time.Location, now time.Time) ([]Finding, error) {
	f := filterOf(r)
	var k analytics.KPIs
	var label string
	if r.Window == WindowHour {
		h := LastCompleteHour(now, loc)
		b := HourBucket(h)
		rows, err := s.opts.Metrics.RollupCounters(ctx, r.ShopID, analytics.Hour, b, b+1, f)
		if err != nil {
			return nil, err
		}
		var c analytics.Counters
		if len(rows) == 1 {
			c = rows[0].Counters
		}
		k, label = analytics.Compute(c, nil, 0), h.Format("2006-01-02 15:00")
	} else {
		d := LastCompleteDay(now, loc)
		from, to := analytics.DayNum(d), analytics.DayNum(d.AddDate(0, 0, 1))
		rows, err := s.opts.Metrics.RollupCounters(ctx, r.ShopID, analytics.Day, from, to, f)
		if err != nil {
			return nil, err
		}
		var c analytics.Counters
		if len(rows) == 1 {
			c = rows[0].Counters
		}
		dd, err := s.opts.Metrics.Distincts(ctx, r.ShopID, from, to, f)
		if err != nil {
			return nil, err
		}
		k, label = analytics.Compute(c, &dd, 0), d.Format(time.DateOnly)
	}
	v, ok := KPIValue(k, r.KPI)
	if !ok || !Compare(r.Op, v, *r.Value) {
		return nil, nil
	}
	limit := *r.Value
	return []Finding{{Subject: r.KPI, Severity: r.Severity, Value: v, Expected: &limit,
		MessageKey: "alert.threshold", MessageArgs: []any{kpiName(r.KPI), label, v, r.Op, limit}}}, nil
}

// anomaly scores the last Persistence complete hours against the same
// local hour of the week over the past Weeks weeks. A past week counts as
// a baseline point (0 when it has no rollup row) only from the first hour
// the window has data for, so a new shop is not compared with weeks before
// it existed; at least MinWeeks points are needed.
func (s *Service) anomaly(ctx context.Context, r *Rule, loc *time.Location, now time.Time) ([]Finding, error) {
	last := LastCompleteHour(now, loc)
	hours := make([]time.Time, r.Persistence)
	for i := range hours {
		hours[i] = last.Add(-time.Duration(r.Persistence-1-i) * time.Hour)
	}
	from := HourBucket(hours[0].AddDate(0, 0, -7*r.Weeks))
	rows, err := s.opts.Metrics.RollupCounters(ctx, r.ShopID, analytics.Hour, from, HourBucket(last)+1, filterOf(r))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	start := rows[0].Bucket // rows come ordered by bucket
	val := make(map[int64]int64, len(rows))
	for _, b := range rows {
		val[b.Bucket] = CounterValue(b.Counters, r.KPI)
	}
	scores := make([]HourScore, len(hours))
	for i, h := range hours {
		var base []float64
		for w := 1; w <= r.Weeks; w++ {
			b := HourBucket(h.AddDate(0, 0, -7*w))
			if b >= start {
				base = append(base, float64(val[b]))
			}
		}
		scores[i] = Score(val[HourBucket(h)], base, MinWeeks, r.MinVolume)
	}
	sev := Persistent(scores)
	if sev == "" {
		return nil, nil
	}
	cur := scores[len(scores)-1]
	med := int64(math.Round(cur.Median))
	key := "alert.anomaly.above"
	if cur.Z < 0 {
		key = "alert.anomaly.below"
	}
	return []Finding{{Subject: r.KPI, Severity: sev, Value: cur.Value, Expected: &med,
		MessageKey: key, MessageArgs: []any{kpiName(r.KPI), last.Format("2006-01-02 15:00"), cur.Value, med, cur.Z, len(scores)}}}, nil
}

// pacing judges the campaign's last complete local day: a day's target to
// date includes the whole day, so the day under way would always look
// behind in the morning. Pacing alerts are warnings, urgent when the
// attainment is below half the alert line.
func (s *Service) pacing(ctx context.Context, r *Rule, loc *time.Location, now time.Time) ([]Finding, error) {
	c, err := s.opts.Campaigns.Get(ctx, r.ShopID, r.CampaignID)
	if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	day := LastCompleteDay(now, loc)
	d := day.Format(time.DateOnly)
	if c.Status == campaign.StatusEnded || d < campaign.DayOf(c.StartsAt, loc) || d > campaign.DayOf(c.EndsAt.Add(-time.Nanosecond), loc) {
		return nil, nil
	}
	rep, err := s.opts.Campaigns.Pacing(ctx, r.ShopID, r.CampaignID, d)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, k := range rep.KPIs {
		if len(r.KPIs) > 0 && !slices.Contains(r.KPIs, k.KPI) {
			continue
		}
		if k.Status != campaign.PaceAlert || k.Actual == nil {
			continue
		}
		var att money.Rate
		if k.Attainment != nil {
			att = *k.Attainment
		}
		out = append(out, Finding{Subject: r.CampaignID + "/" + k.KPI, Severity: PacingSeverity(att, rep.AlertLine), Value: *k.Actual, Expected: &k.TargetToDate,
			MessageKey: "alert.pacing", MessageArgs: []any{kpiName(k.KPI), c.Name, d, *k.Actual, bp(att), k.TargetToDate, bp(rep.AlertLine)}})
	}
	return out, nil
}

// PacingSeverity is warning below the alert line, urgent below half of it.
func PacingSeverity(attainment, alertLine money.Rate) string {
	if 2*attainment < alertLine {
		return SevUrgent
	}
	return SevWarning
}

// kpiName is a KPI code in a message's arguments: it is shown by its name
// in the shop's language.
type kpiName string

// localize renders the message of each finding that has a catalogue key,
// in lang.
func localize(fs []Finding, lang string) {
	for i := range fs {
		f := &fs[i]
		if f.MessageKey == "" {
			continue
		}
		args := make([]any, len(f.MessageArgs))
		for j, a := range f.MessageArgs {
			if k, ok := a.(kpiName); ok {
				a = string(k)
				if key := "kpi." + string(k); i18n.Has(lang, key) {
					a = i18n.T(lang, key)
				}
			}
			args[j] = a
		}
		f.Message = i18n.T(lang, f.MessageKey, args...)
	}
}

func bp(v int64) string { return fmt.Sprintf("%d.%02d%%", v/100, v%100) }

// stock raises one alert per SKU at or below its safety stock: urgent
// when sold out, warning at or below half the safety stock, else reminder.
func (s *Service) stock(ctx context.Context, r *Rule) ([]Finding, error) {
	low, err := s.st.LowStock(ctx, r.ShopID, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(low))
	for _, k := range low {
		sev := SevReminder
		switch {
		case k.Stock <= 0:
			sev = SevUrgent
		case 2*k.Stock <= k.SafetyStock:
			sev = SevWarning
		}
		safety := k.SafetyStock
		out = append(out, Finding{Subject: k.SKUID, Severity: sev, Value: k.Stock, Expected: &safety,
			MessageKey: "alert.stock", MessageArgs: []any{k.Code, k.Name, k.Stock, k.SafetyStock}})
	}
	return out, nil
}

// atLeast reports used/budget ≥ thresholdBP/10000, exactly.
func atLeast(used, budget, thresholdBP int64) bool {
	h1, l1 := bits.Mul64(uint64(max(used, 0)), uint64(money.Full))
	h2, l2 := bits.Mul64(uint64(budget), uint64(thresholdBP))
	return h1 > h2 || (h1 == h2 && l1 >= l2)
}

// budgets raises one alert per promotion whose used budget reached the
// rule's share: warning, urgent once the budget is used up.
func (s *Service) budgets(ctx context.Context, r *Rule, now time.Time) ([]Finding, error) {
	uses, err := s.st.PromotionBudgets(ctx, r.ShopID, now)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, u := range uses {
		if u.Budget <= 0 || !atLeast(u.Used, u.Budget, r.ThresholdBP) {
			continue
		}
		sev := SevWarning
		if u.Used >= u.Budget {
			sev = SevUrgent
		}
		budget := u.Budget
		out = append(out, Finding{Subject: u.PromotionID, Severity: sev, Value: u.Used, Expected: &budget,
			MessageKey: "alert.promotion_budget", MessageArgs: []any{u.PromotionID, u.Name, u.Used, u.Budget,
				bp(money.MulDiv(max(u.Used, 0), money.Full, u.Budget))}})
	}
	return out, nil
}
