package campaign

import (
	"fmt"
	"time"
)

// TradeDate is one of the trade's reference dates on the marketing
// calendar: a fixed sale day (618, 双11 …) or a window (年货节).
type TradeDate struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Start Day    `json:"start"`
	End   Day    `json:"end" doc:"Last day, inclusive"`
}

// fixedDates are the sale days on the same date every year.
var fixedDates = []struct {
	code, name string
	month      time.Month
	day        int
}{
	{"38", "女王节 (38)", time.March, 8},
	{"618", "618", time.June, 18},
	{"99", "99 大促", time.September, 9},
	{"1111", "双11", time.November, 11},
	{"1212", "双12", time.December, 12},
}

// springFestival is the first day of the lunar new year (春节) by
// Gregorian year. The date moves each year, so it is a table, not a rule.
// Source: Hong Kong Observatory, Gregorian–Lunar Calendar Conversion
// Table (https://www.hko.gov.hk/en/gts/time/conversion.htm), 2024–2032.
var springFestival = map[int]time.Time{
	2024: date(2024, time.February, 10),
	2025: date(2025, time.January, 29),
	2026: date(2026, time.February, 17),
	2027: date(2027, time.February, 6),
	2028: date(2028, time.January, 26),
	2029: date(2029, time.February, 13),
	2030: date(2030, time.February, 3),
	2031: date(2031, time.January, 23),
	2032: date(2032, time.February, 11),
}

// SpringFestival returns 春节 of year, if the table has it.
func SpringFestival(year int) (Day, bool) {
	t, ok := springFestival[year]
	if !ok {
		return "", false
	}
	return t.Format(dayLayout), true
}

// New Year goods festival (年货节): the platforms run it in the weeks before
// 春节 and stop a few days ahead, when couriers go home. The reference
// window is the 21 days to 5 days before 春节.
const (
	nianhuoFirst = -21
	nianhuoLast  = -5
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TradeDates lists the reference dates that overlap [from, to] (inclusive
// days), in date order.
func TradeDates(from, to Day) []TradeDate {
	f, err1 := time.Parse(dayLayout, from)
	t, err2 := time.Parse(dayLayout, to)
	if err1 != nil || err2 != nil || t.Before(f) {
		return nil
	}
	var out []TradeDate
	for y := f.Year(); y <= t.Year(); y++ {
		// 年货节 and 春节 come first in the year.
		if sf, ok := springFestival[y]; ok {
			s, e := sf.AddDate(0, 0, nianhuoFirst), sf.AddDate(0, 0, nianhuoLast)
			if !e.Before(f) && !s.After(t) {
				out = append(out, TradeDate{Code: fmt.Sprintf("nianhuo-%d", y), Name: "年货节", Start: s.Format(dayLayout), End: e.Format(dayLayout)})
			}
			if !sf.Before(f) && !sf.After(t) {
				out = append(out, TradeDate{Code: fmt.Sprintf("chunjie-%d", y), Name: "春节", Start: sf.Format(dayLayout), End: sf.Format(dayLayout)})
			}
		}
		for _, fd := range fixedDates {
			d := date(y, fd.month, fd.day)
			if !d.Before(f) && !d.After(t) {
				out = append(out, TradeDate{Code: fmt.Sprintf("%s-%d", fd.code, y), Name: fd.name, Start: d.Format(dayLayout), End: d.Format(dayLayout)})
			}
		}
	}
	return out
}
