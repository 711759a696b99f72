package analytics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// DayNum is a local date as YYYYMMDD.
func DayNum(t time.Time) int64 {
	return int64(t.Year())*10000 + int64(t.Month())*100 + int64(t.Day())
}

// Period is a half-open range of local days [From, To).
type Period struct {
	From, To time.Time // midnight, shop-local
}

// Days is the period's length in days.
func (p Period) Days() int {
	return int(p.To.Sub(p.From).Round(time.Hour) / (24 * time.Hour))
}

// Previous is the period of the same length ending where p starts.
func (p Period) Previous() Period { n := p.Days(); return Period{p.From.AddDate(0, 0, -n), p.From} }

// LastYear is the same local dates one year earlier (29 Feb → 28 Feb).
func (p Period) LastYear() Period { return Period{lastYear(p.From), lastYear(p.To)} }

func lastYear(t time.Time) time.Time {
	if t.Month() == time.February && t.Day() == 29 {
		return time.Date(t.Year()-1, time.February, 28, 0, 0, 0, 0, t.Location())
	}
	return t.AddDate(-1, 0, 0)
}

// Point is one bucket of a series.
type Point struct {
	Bucket string `json:"bucket" doc:"YYYY-MM-DD or YYYY-MM-DDTHH (shop-local)"`
	KPIs
}

// Series is a period's totals and buckets.
type Series struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Totals KPIs    `json:"totals"`
	Points []Point `json:"points"`
}

// Report is a KPI series with its comparisons.
type Report struct {
	Granularity        string `json:"granularity"`
	Current            Series `json:"current"`
	PreviousPeriod     Series `json:"previous_period"`
	SamePeriodLastYear Series `json:"same_period_last_year"`
}

// Reader answers metric queries from the rollups. By default UV, paying
// customers and the funnel come from the day sketches (see
// docs/METRICS.md for their error); repurchasers and new customers are
// exact. Exact counts every distinct over the visitor-day and
// customer-day rows instead, which costs a scan of every visitor-day of
// the period.
//
// Unfiltered reads merge the shop-wide day sketches (one per day and
// kind). With a Cache, the merged sketches of closed days are kept across
// requests (see Cache).
type Reader struct {
	St    Store
	Exact bool
	Cache *Cache
}

// KPIs builds the report for p at granularity Day or Hour.
func (r Reader) KPIs(ctx context.Context, shopID string, p Period, gran string, f Filter, cost int64) (*Report, error) {
	out := &Report{Granularity: map[string]string{Day: "day", Hour: "hour"}[gran]}
	// The three periods are independent reads: run them together.
	dst := []*Series{&out.Current, &out.PreviousPeriod, &out.SamePeriodLastYear}
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, q := range []Period{p, p.Previous(), p.LastYear()} {
		c := cost // what was spent in this period: ROI of the comparisons is not known
		if i > 0 {
			c = 0
		}
		wg.Go(func() {
			s, err := r.series(ctx, shopID, q, gran, f, c)
			if err != nil {
				errs[i] = err
				return
			}
			*dst[i] = *s
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (r Reader) series(ctx context.Context, shopID string, p Period, gran string, f Filter, cost int64) (*Series, error) {
	from, to := DayNum(p.From), DayNum(p.To)
	s := &Series{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), Points: []Point{}}
	lo, hi := from, to
	if gran == Hour {
		lo, hi = from*100, to*100
	}
	rows, err := r.St.RollupCounters(ctx, shopID, gran, lo, hi, f)
	if err != nil {
		return nil, err
	}
	got := make(map[int64]Counters, len(rows))
	var total Counters
	for _, b := range rows {
		got[b.Bucket] = b.Counters
		total.Add(b.Counters)
	}
	if r.Exact {
		return r.exactSeries(ctx, shopID, p, gran, f, cost, s, got, total)
	}
	var days map[int64]Distincts
	if gran == Day {
		// One read of the period's sketches and one of its customer
		// counts give every day's distincts and the totals.
		var tot Distincts
		if days, tot, err = r.distincts(ctx, shopID, from, to, p.From.Location(), f); err != nil {
			return nil, err
		}
		s.Totals = Compute(total, &tot, cost)
	}
	for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
		dn := DayNum(day)
		if gran == Day {
			dd := days[dn]
			s.Points = append(s.Points, Point{Bucket: day.Format(time.DateOnly), KPIs: Compute(got[dn], &dd, 0)})
			continue
		}
		for h := int64(0); h < 24; h++ {
			s.Points = append(s.Points, Point{Bucket: fmt.Sprintf("%sT%02d", day.Format(time.DateOnly), h), KPIs: Compute(got[dn*100+h], nil, 0)})
		}
	}
	if gran != Day {
		_, tot, err := r.distincts(ctx, shopID, from, to, p.From.Location(), f)
		if err != nil {
			return nil, err
		}
		s.Totals = Compute(total, &tot, cost)
	}
	return s, nil
}

// StepKindVisit is the sketch kind of visits (UV).
const StepKindVisit = 0

// distincts are the distinct counts of each day of [from, to) and of the
// whole range: UV and paying customers from the sketches, repurchasers
// and new customers exactly.
func (r Reader) distincts(ctx context.Context, shopID string, from, to int64, loc *time.Location, f Filter) (map[int64]Distincts, Distincts, error) {
	perDay, err := r.daySketches(ctx, shopID, from, to, loc, f, []int{StepKindVisit, SketchPaying})
	if err != nil {
		return nil, Distincts{}, err
	}
	all := sketchSet[int]{}
	for k, ds := range perDay {
		if err := all.merge(k.kind, ds.sk); err != nil {
			return nil, Distincts{}, err
		}
	}
	days, tot, err := r.customerDistincts(ctx, shopID, from, to, loc, f)
	if err != nil {
		return nil, Distincts{}, err
	}
	if days == nil {
		days = map[int64]Distincts{}
	}
	for k := range perDay {
		dd := days[k.day]
		dd.UV = perDay[dayKind{k.day, StepKindVisit}].est
		dd.PayingCustomers = perDay[dayKind{k.day, SketchPaying}].est
		days[k.day] = dd
	}
	tot.UV = all.estimate(StepKindVisit)
	tot.PayingCustomers = all.estimate(SketchPaying)
	// A sketch estimate of a large set may come out a little under the
	// exact repurchaser count; a rate above 100 % would be absurd.
	tot.Repurchasers = min(tot.Repurchasers, tot.PayingCustomers)
	for d, dd := range days {
		dd.Repurchasers = min(dd.Repurchasers, dd.PayingCustomers)
		days[d] = dd
	}
	return days, tot, nil
}

// exactSeries fills s from exact COUNT(DISTINCT) queries, one per day.
func (r Reader) exactSeries(ctx context.Context, shopID string, p Period, gran string, f Filter, cost int64, s *Series, got map[int64]Counters, total Counters) (*Series, error) {
	from, to := DayNum(p.From), DayNum(p.To)
	// Every bucket of the period is in the series, zeros included.
	for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
		dn := DayNum(day)
		if gran == Day {
			dd, err := r.St.Distincts(ctx, shopID, dn, DayNum(day.AddDate(0, 0, 1)), f)
			if err != nil {
				return nil, err
			}
			s.Points = append(s.Points, Point{Bucket: day.Format(time.DateOnly), KPIs: Compute(got[dn], &dd, 0)})
			continue
		}
		for h := int64(0); h < 24; h++ {
			s.Points = append(s.Points, Point{Bucket: fmt.Sprintf("%sT%02d", day.Format(time.DateOnly), h), KPIs: Compute(got[dn*100+h], nil, 0)})
		}
	}
	d, err := r.St.Distincts(ctx, shopID, from, to, f)
	if err != nil {
		return nil, err
	}
	s.Totals = Compute(total, &d, cost)
	return s, nil
}

// Funnel is visit → product view → cart → order → paid in p.
func (r Reader) Funnel(ctx context.Context, shopID string, p Period, byChannel bool) ([]FunnelRow, error) {
	if r.Exact {
		return r.St.Funnel(ctx, shopID, DayNum(p.From), DayNum(p.To), byChannel)
	}
	if !byChannel {
		perDay, err := r.daySketches(ctx, shopID, DayNum(p.From), DayNum(p.To), p.From.Location(), Filter{}, []int{0, 1, 2, 3, 4})
		if err != nil {
			return nil, err
		}
		set := sketchSet[int]{}
		for k, ds := range perDay {
			if err := set.merge(k.kind, ds.sk); err != nil {
				return nil, err
			}
		}
		return []FunnelRow{{Visits: set.estimate(0), Products: set.estimate(1), Carts: set.estimate(2), Orders: set.estimate(3), Paid: set.estimate(4)}}, nil
	}
	rows, err := r.St.DaySketches(ctx, shopID, DayNum(p.From), DayNum(p.To), Filter{}, []int{0, 1, 2, 3, 4})
	if err != nil {
		return nil, err
	}
	type key struct {
		channel string
		kind    int
	}
	set := sketchSet[key]{}
	channels := map[string]bool{}
	for _, row := range rows {
		sk, err := decodeSketch(row.Sketch)
		if err != nil {
			return nil, err
		}
		ch := ""
		if byChannel {
			ch = row.Channel
		}
		channels[ch] = true
		if err := set.merge(key{ch, row.Kind}, sk); err != nil {
			return nil, err
		}
	}
	if !byChannel {
		channels[""] = true // the overall funnel is one row, zeros included
	}
	out := make([]FunnelRow, 0, len(channels))
	for _, ch := range slices.Sorted(maps.Keys(channels)) {
		out = append(out, FunnelRow{Channel: ch, Visits: set.estimate(key{ch, 0}), Products: set.estimate(key{ch, 1}),
			Carts: set.estimate(key{ch, 2}), Orders: set.estimate(key{ch, 3}), Paid: set.estimate(key{ch, 4})})
	}
	return out, nil
}

// Distincts counts the distinct facts of the local days [fromDay, toDay):
// UV and paying customers from the day sketches, repurchasers and new
// customers exactly; everything exactly when r.Exact.
func (r Reader) Distincts(ctx context.Context, shopID string, fromDay, toDay int64, f Filter) (Distincts, error) {
	if r.Exact {
		return r.St.Distincts(ctx, shopID, fromDay, toDay, f)
	}
	_, tot, err := r.distincts(ctx, shopID, fromDay, toDay, nil, f)
	return tot, err
}

// DistinctsByDay gives the distinct counts of each day of p (onDay) and of
// the days of p from its first through each day (toDate). To date, UV and
// paying customers are counted over the days so far and new customers
// summed (a customer's first paid day is one day); repurchasers are left
// out of toDate. One read of the sketches serves the whole period.
func (r Reader) DistinctsByDay(ctx context.Context, shopID string, p Period, f Filter) (onDay, toDate map[int64]Distincts, err error) {
	onDay, toDate = map[int64]Distincts{}, map[int64]Distincts{}
	from := DayNum(p.From)
	if r.Exact {
		for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
			dn, next := DayNum(day), DayNum(day.AddDate(0, 0, 1))
			if onDay[dn], err = r.St.Distincts(ctx, shopID, dn, next, f); err != nil {
				return nil, nil, err
			}
			if toDate[dn], err = r.St.Distincts(ctx, shopID, from, next, f); err != nil {
				return nil, nil, err
			}
		}
		return onDay, toDate, nil
	}
	perDay, err := r.daySketches(ctx, shopID, from, DayNum(p.To), p.From.Location(), f, []int{StepKindVisit, SketchPaying})
	if err != nil {
		return nil, nil, err
	}
	cust, _, err := r.St.CustomerDistincts(ctx, shopID, from, DayNum(p.To), f)
	if err != nil {
		return nil, nil, err
	}
	running := sketchSet[int]{}
	var newSoFar int64
	for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
		dn := DayNum(day)
		dd := cust[dn]
		dd.UV, dd.PayingCustomers = perDay[dayKind{dn, StepKindVisit}].est, perDay[dayKind{dn, SketchPaying}].est
		dd.Repurchasers = min(dd.Repurchasers, dd.PayingCustomers)
		onDay[dn] = dd
		for _, kind := range []int{StepKindVisit, SketchPaying} {
			if ds, ok := perDay[dayKind{dn, kind}]; ok {
				if err := running.merge(kind, ds.sk); err != nil {
					return nil, nil, err
				}
			}
		}
		newSoFar += dd.NewCustomers
		toDate[dn] = Distincts{UV: running.estimate(StepKindVisit), PayingCustomers: running.estimate(SketchPaying), NewCustomers: newSoFar}
	}
	return onDay, toDate, nil
}

type dayKind struct {
	day  int64
	kind int
}

// daySketches gives the merged sketch of each day of [from, to) and kind
// that has any (f applied): unfiltered from the shop-wide rows. With a
// cache and the shop's zone, closed days come from the cache when all
// their kinds are in it, and are put in it when read.
func (r Reader) daySketches(ctx context.Context, shopID string, from, to int64, loc *time.Location, f Filter, kinds []int) (map[dayKind]daySketch, error) {
	out := map[dayKind]daySketch{}
	closed := r.Cache.closedBefore(loc)
	lo := from // the store is read from lo on
	if closed > from {
		for day := dayTime(from, loc); ; day = day.AddDate(0, 0, 1) {
			dn := DayNum(day)
			if dn >= min(to, closed) {
				lo = dn
				break
			}
			hit := make([]daySketch, len(kinds))
			ok := true
			for i, kind := range kinds {
				if hit[i], ok = r.Cache.get(r.Cache.key(shopID, f, dn, kind)); !ok {
					break
				}
			}
			if !ok {
				lo = dn
				break
			}
			for i, kind := range kinds {
				if hit[i].est > 0 {
					out[dayKind{dn, kind}] = hit[i]
				}
			}
		}
	}
	if lo >= to {
		return out, nil
	}
	var rows []SketchRow
	var err error
	if f.Channel == nil && f.Campaign == nil {
		rows, err = r.St.ShopDaySketches(ctx, shopID, lo, to, kinds)
	} else {
		rows, err = r.St.DaySketches(ctx, shopID, lo, to, f, kinds)
	}
	if err != nil {
		return nil, err
	}
	set := sketchSet[dayKind]{}
	for _, row := range rows {
		sk, err := decodeSketch(row.Sketch)
		if err != nil {
			return nil, err
		}
		k := dayKind{row.Day, row.Kind}
		if set[k] == nil {
			set[k] = sk // decoded for this read alone: merged into, not shared yet
			continue
		}
		if err := set[k].Merge(sk); err != nil {
			return nil, err
		}
	}
	for k, sk := range set {
		out[k] = daySketch{sk: sk, est: int64(sk.Estimate())}
	}
	if closed > lo {
		// Every kind of every closed day read is cached, empty ones too,
		// so that a day without data is not read again.
		for day := dayTime(lo, loc); DayNum(day) < min(to, closed); day = day.AddDate(0, 0, 1) {
			dn := DayNum(day)
			for _, kind := range kinds {
				ds, ok := out[dayKind{dn, kind}]
				if !ok {
					ds = daySketch{sk: NewSketch()}
				}
				r.Cache.add(r.Cache.key(shopID, f, dn, kind), ds)
			}
		}
	}
	return out, nil
}

// dayTime is the local midnight of a YYYYMMDD day.
func dayTime(dn int64, loc *time.Location) time.Time {
	return time.Date(int(dn/10000), time.Month(dn/100%100), int(dn%100), 0, 0, 0, 0, loc)
}
