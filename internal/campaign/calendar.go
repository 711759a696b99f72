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

// SpringFestival returns 春节 (the first day of the lunar new year), which
// moves each year, computed astronomically (see lunar.go). It answers for
// the years 1901–2199.
func SpringFestival(year int) (Day, bool) {
	sf, ok := springFestivalDate(year)
	if !ok {
		return "", false
	}
	return sf.Format(dayLayout), true
}

func springFestivalDate(year int) (time.Time, bool) {
	if year < lunarFirstYear || year > lunarLastYear {
		return time.Time{}, false
	}
	return springFestivalOf(year), true
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
		if sf, ok := springFestivalDate(y); ok {
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
