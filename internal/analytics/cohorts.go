package analytics

import (
	"context"
	"time"
)

// Cohort periods.
const (
	CohortWeek  = "week"
	CohortMonth = "month"
)

// MaxCohortPeriods bounds the periods followed after a cohort's own.
const MaxCohortPeriods = 24

// CivilDays is the number of days from 1970-01-01 to the date y-m-d
// (proleptic Gregorian, y ≥ 0), in integer arithmetic (H. Hinnant's
// days_from_civil), without building a time.Time per day.
func CivilDays(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CohortIndex is the period index of a local day (YYYYMMDD): ISO weeks
// (Monday first) counted from the week of 1970-01-01, or months y*12+m-1.
func CohortIndex(day int64, monthly bool) int64 {
	y, m, d := day/10000, day/100%100, day%100
	if monthly {
		return y*12 + m - 1
	}
	return (CivilDays(y, m, d) + 3) / 7 // 1970-01-01 was a Thursday
}

// cohortStart is the first local day of period index i.
func cohortStart(i int64, monthly bool, loc *time.Location) time.Time {
	if monthly {
		return time.Date(int(i/12), time.Month(i%12+1), 1, 0, 0, 0, 0, loc)
	}
	u := time.Unix((i*7-3)*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

// CohortPeriod is what became of a cohort k periods after its own.
type CohortPeriod struct {
	K         int    `json:"k" doc:"periods after the cohort's own (0 = the cohort's own period)"`
	Start     string `json:"start" doc:"first local day of the period"`
	Customers int64  `json:"customers" doc:"cohort customers with at least one order paid in the period"`
	ShareBP   *int64 `json:"share_bp,omitempty" doc:"customers / cohort size, bp; absent for an empty cohort"`
	Complete  bool   `json:"complete" doc:"false while the period has not ended"`
}

// CohortRow is one cohort: customers whose first paid order fell in the
// period starting at Start.
type CohortRow struct {
	Start   string         `json:"cohort" doc:"first local day of the cohort's week (a Monday) or month"`
	Size    int64          `json:"size"`
	Periods []CohortPeriod `json:"periods" doc:"k = 0 .. periods-1, only periods that have begun"`
}

// Cohorts builds the retention table of the weeks or months overlapping
// p (p.From rounded down to its period's start), following each cohort for
// periods periods; now (in the shop's zone) says which periods have begun.
func (v Views) Cohorts(ctx context.Context, shopID string, p Period, monthly bool, periods int, now time.Time) ([]CohortRow, error) {
	loc := p.From.Location()
	first := CohortIndex(DayNum(p.From), monthly)
	last := CohortIndex(DayNum(p.To.AddDate(0, 0, -1)), monthly)
	from := cohortStart(first, monthly, loc)
	to := cohortStart(last+1, monthly, loc)
	until := cohortStart(last+int64(periods), monthly, loc)
	sizes, kept, err := v.St.Cohorts(ctx, shopID, DayNum(from), DayNum(to), DayNum(until), monthly, periods)
	if err != nil {
		return nil, err
	}
	now = now.In(loc)
	out := make([]CohortRow, 0, last-first+1)
	for c := first; c <= last; c++ {
		row := CohortRow{Start: dateOf(cohortStart(c, monthly, loc)), Size: sizes[c], Periods: []CohortPeriod{}}
		for k := 0; k < periods; k++ {
			start := cohortStart(c+int64(k), monthly, loc)
			if start.After(now) {
				break
			}
			n := kept[[2]int64{c, int64(k)}]
			row.Periods = append(row.Periods, CohortPeriod{K: k, Start: dateOf(start), Customers: n, ShareBP: Ratio(n, row.Size, 10000),
				Complete: !cohortStart(c+int64(k)+1, monthly, loc).After(now)})
		}
		out = append(out, row)
	}
	return out, nil
}
