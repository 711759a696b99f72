package analytics

import (
	"context"
	"time"
)

// MinutePoint is one minute of the live series.
type MinutePoint struct {
	Minute     string `json:"minute" doc:"shop-local, YYYY-MM-DDTHH:MM"`
	PaidAmount int64  `json:"paid_amount" doc:"fen"`
	PaidOrders int64  `json:"paid_orders"`
	Orders     int64  `json:"orders"`
}

// Tiles are today's live figures (shop-local day) and the last 60 minutes.
type Tiles struct {
	AsOf            time.Time     `json:"as_of"`
	Day             string        `json:"day" doc:"today, shop-local"`
	GMV             int64         `json:"gmv" doc:"fen"`
	Orders          int64         `json:"orders"`
	PaidAmount      int64         `json:"paid_amount" doc:"fen"`
	PaidOrders      int64         `json:"paid_orders"`
	UV              int64         `json:"uv"`
	PayingCustomers int64         `json:"paying_customers"`
	ConversionBP    *int64        `json:"conversion_bp,omitempty"`
	AOV             *int64        `json:"aov,omitempty" doc:"fen"`
	Refunds         int64         `json:"refunds" doc:"fen"`
	CancelledOrders int64         `json:"cancelled_orders" doc:"orders cancelled unpaid today (a presale balance order adds none)"`
	CancelledAmount int64         `json:"cancelled_amount" doc:"their payable, fen"`
	LastHour        []MinutePoint `json:"last_hour" doc:"the 60 minutes up to and including the current one, oldest first"`
}

// LiveMinutes is the length of the live per-minute series.
const LiveMinutes = 60

// Live reads today's tiles at now in loc.
func (v Views) Live(ctx context.Context, shopID string, now time.Time, loc *time.Location) (*Tiles, error) {
	l := now.In(loc)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	from, to := DayNum(today), DayNum(today.AddDate(0, 0, 1))
	rows, err := v.St.RollupCounters(ctx, shopID, Day, from, to, Filter{})
	if err != nil {
		return nil, err
	}
	var c Counters
	for _, r := range rows {
		c.Add(r.Counters)
	}
	d, err := Reader{St: v.St}.Distincts(ctx, shopID, from, to, Filter{})
	if err != nil {
		return nil, err
	}
	t := &Tiles{AsOf: now.In(loc), Day: dateOf(today), GMV: c.GMV, Orders: c.Orders, PaidAmount: c.PaidAmount, PaidOrders: c.PaidOrders,
		UV: d.UV, PayingCustomers: d.PayingCustomers, Refunds: c.Refunds, CancelledOrders: c.CancelledOrders, CancelledAmount: c.CancelledAmount,
		ConversionBP: Ratio(d.PayingCustomers, d.UV, 10000), AOV: Ratio(c.PaidAmount, d.PayingCustomers, 1)}
	start := l.Truncate(time.Minute).Add(-(LiveMinutes - 1) * time.Minute)
	lo, _, _ := LocalBuckets(start, loc)
	hi, _, _ := LocalBuckets(l, loc)
	ms, err := v.St.RollupCounters(ctx, shopID, Minute, lo, hi+1, Filter{})
	if err != nil {
		return nil, err
	}
	got := make(map[int64]Counters, len(ms))
	for _, m := range ms {
		got[m.Bucket] = m.Counters
	}
	t.LastHour = make([]MinutePoint, 0, LiveMinutes)
	for i := 0; i < LiveMinutes; i++ {
		at := start.Add(time.Duration(i) * time.Minute)
		b, _, _ := LocalBuckets(at, loc)
		m := got[b]
		t.LastHour = append(t.LastHour, MinutePoint{Minute: at.In(loc).Format("2006-01-02T15:04"), PaidAmount: m.PaidAmount, PaidOrders: m.PaidOrders, Orders: m.Orders})
	}
	return t, nil
}
