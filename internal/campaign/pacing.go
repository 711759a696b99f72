package campaign

import (
	"math/bits"
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// KPIs a campaign or a phase can target. Additive KPIs are spread over the
// days; ratio KPIs (AOV, conversion rate, ROI) are not sums, so their
// target applies as-is to every day.
const (
	KPIGMV             = "gmv"              // 下单金额, fen
	KPIPaidAmount      = "paid_amount"      // 支付金额, fen
	KPIOrders          = "orders"           // count
	KPIPayingCustomers = "paying_customers" // count
	KPINewCustomers    = "new_customers"    // count
	KPIAOV             = "aov"              // 客单价, fen (ratio)
	KPIConversionRate  = "conversion_rate"  // bp (ratio)
	KPIUV              = "uv"               // count
	KPIROI             = "roi"              // bp (ratio): 25000 = ROI 2.5
)

// KPIs lists every KPI in report order.
var KPIs = []string{KPIGMV, KPIPaidAmount, KPIOrders, KPIPayingCustomers, KPINewCustomers, KPIAOV, KPIConversionRate, KPIUV, KPIROI}

// IsRatio reports whether kpi is a ratio (its target is not spread over days).
func IsRatio(kpi string) bool {
	return kpi == KPIAOV || kpi == KPIConversionRate || kpi == KPIROI
}

func knownKPI(kpi string) bool {
	for _, k := range KPIs {
		if k == kpi {
			return true
		}
	}
	return false
}

// Pacing statuses of an actual-to-date against the target-to-date.
const (
	PaceOnTrack = "on_track" // at or above the target-to-date
	PaceBehind  = "behind"   // below 100 % of it
	PaceAlert   = "alert"    // below the alert line
	// PaceNotStarted is a window not started on the day asked, or a day
	// that has not come yet: there is no actual to judge, so no actual
	// and no judgement (never an alert on zeros).
	PaceNotStarted = "not_started"
)

// DefaultAlertLine is the alert line when a campaign sets none: an actual
// below 60 % of the target-to-date is an alert.
const DefaultAlertLine money.Rate = 6000

// Day is a calendar date in the shop's time zone, "2006-01-02".
type Day = string

const dayLayout = "2006-01-02"

// DayOf is the shop-local date of t.
func DayOf(t time.Time, loc *time.Location) Day { return t.In(loc).Format(dayLayout) }

// Days lists the shop-local dates a window [start, end) touches: from
// start's date to the date of the window's last instant.
func Days(start, end time.Time, loc *time.Location) []Day {
	if !end.After(start) {
		return nil
	}
	first := dateUTC(start.In(loc))
	last := dateUTC(end.Add(-time.Microsecond).In(loc))
	var out []Day
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(dayLayout))
	}
	return out
}

// dateUTC is t's wall-clock date as midnight UTC, for date arithmetic free
// of daylight-saving shifts.
func dateUTC(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AddDays returns day moved by n days.
func AddDays(day Day, n int) Day {
	t, err := time.Parse(dayLayout, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(dayLayout)
}

// ParseDay checks a date string.
func ParseDay(s string) (Day, bool) {
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		return "", false
	}
	return t.Format(dayLayout), true
}

// DailyTargets spreads target over n days by weights (nil: equal weights)
// by the largest-remainder method, so the days sum exactly to target.
// Weights must be non-negative, not all zero, and n long when given.
func DailyTargets(target int64, n int, weights []int64) []int64 {
	if weights == nil {
		weights = make([]int64, n)
		for i := range weights {
			weights[i] = 1
		}
	}
	return money.Allocate(target, weights)
}

// Series is one window's target of one KPI, by day.
type Series struct {
	KPI    string  `json:"kpi"`
	Target int64   `json:"target"`
	Ratio  bool    `json:"ratio,omitempty" doc:"A ratio KPI: the target applies to every day as-is"`
	Days   []Day   `json:"days"`
	Daily  []int64 `json:"daily"`
}

// NewSeries spreads target over days by weights; a ratio KPI's target is
// every day's.
func NewSeries(kpi string, target int64, days []Day, weights []int64) Series {
	s := Series{KPI: kpi, Target: target, Ratio: IsRatio(kpi), Days: days}
	if s.Ratio {
		s.Daily = make([]int64, len(days))
		for i := range s.Daily {
			s.Daily[i] = target
		}
		return s
	}
	s.Daily = DailyTargets(target, len(days), weights)
	return s
}

// ToDate is the target through the end of day: the sum of the days up to
// and including it for an additive KPI (0 before the window, the whole
// target after it); the target itself for a ratio KPI.
func (s Series) ToDate(day Day) int64 {
	if s.Ratio {
		return s.Target
	}
	var sum int64
	for i, d := range s.Days {
		if d > day {
			break
		}
		sum += s.Daily[i]
	}
	return sum
}

// On is the target of day alone (0 outside the window).
func (s Series) On(day Day) int64 {
	for i, d := range s.Days {
		if d == day {
			return s.Daily[i]
		}
	}
	return 0
}

// PaceStatus compares an actual-to-date with the target-to-date: on_track
// at or above it, alert below alertLine (bp) of it, behind in between. A
// zero target is always on track.
func PaceStatus(targetToDate, actual int64, alertLine money.Rate) string {
	if targetToDate <= 0 || actual >= targetToDate {
		return PaceOnTrack
	}
	if actual < 0 || less128(actual, money.Full, targetToDate, alertLine) {
		return PaceAlert
	}
	return PaceBehind
}

// Attainment is actual / target in bp, rounded half up (0 when the target is 0).
func Attainment(targetToDate, actual int64) money.Rate {
	if targetToDate <= 0 || actual <= 0 {
		return 0
	}
	return money.MulDiv(actual, money.Full, targetToDate)
}

// less128 reports a×b < c×d for non-negative operands, in 128 bits.
func less128(a, b, c, d int64) bool {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	return h1 < h2 || (h1 == h2 && l1 < l2)
}
