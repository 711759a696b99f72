package analytics

import (
	"context"
	"fmt"
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

// Reader answers metric queries from the rollups.
type Reader struct{ St Store }

// KPIs builds the report for p at granularity Day or Hour.
func (r Reader) KPIs(ctx context.Context, shopID string, p Period, gran string, f Filter, cost int64) (*Report, error) {
	out := &Report{Granularity: map[string]string{Day: "day", Hour: "hour"}[gran]}
	for i, q := range []Period{p, p.Previous(), p.LastYear()} {
		c := cost // what was spent in this period: ROI of the comparisons is not known
		if i > 0 {
			c = 0
		}
		s, err := r.series(ctx, shopID, q, gran, f, c)
		if err != nil {
			return nil, err
		}
		*[]*Series{&out.Current, &out.PreviousPeriod, &out.SamePeriodLastYear}[i] = *s
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
		total.add(b.Counters)
	}
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
	return r.St.Funnel(ctx, shopID, DayNum(p.From), DayNum(p.To), byChannel)
}
