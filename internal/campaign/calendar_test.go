package campaign_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

type fieldCode struct{ field, code string }

func commerceErr(err error) (fieldCode, bool) {
	ce, ok := commerce.AsError(err)
	if !ok {
		return fieldCode{}, false
	}
	return fieldCode{ce.Field, ce.Code}, true
}

func TestTradeDatesOfAYear(t *testing.T) {
	got := campaign.TradeDates("2026-01-01", "2026-12-31")
	want := []campaign.TradeDate{
		{Code: "nianhuo-2026", Name: "年货节", Start: "2026-01-27", End: "2026-02-12"},
		{Code: "chunjie-2026", Name: "春节", Start: "2026-02-17", End: "2026-02-17"},
		{Code: "38-2026", Name: "女王节 (38)", Start: "2026-03-08", End: "2026-03-08"},
		{Code: "618-2026", Name: "618", Start: "2026-06-18", End: "2026-06-18"},
		{Code: "99-2026", Name: "99 大促", Start: "2026-09-09", End: "2026-09-09"},
		{Code: "1111-2026", Name: "双11", Start: "2026-11-11", End: "2026-11-11"},
		{Code: "1212-2026", Name: "双12", Start: "2026-12-12", End: "2026-12-12"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("trade dates (-want +got):\n%s", diff)
	}
}

func TestTradeDatesInARange(t *testing.T) {
	got := campaign.TradeDates("2026-11-01", "2026-11-30")
	if len(got) != 1 || got[0].Name != "双11" {
		t.Fatalf("November has only 双11: %+v", got)
	}
	// A range touching only the end of 年货节 still lists it.
	got = campaign.TradeDates("2027-01-30", "2027-01-31")
	if len(got) != 1 || got[0].Code != "nianhuo-2027" || got[0].End != "2027-02-01" {
		t.Fatalf("late January 2027: %+v", got)
	}
	if got := campaign.TradeDates("2026-12-31", "2026-01-01"); len(got) != 0 {
		t.Fatalf("a reversed range lists %+v", got)
	}
}

// Published dates of 春节. 2024–2032 are the Hong Kong Observatory's
// Gregorian–Lunar Calendar Conversion Table, the range the calendar once
// carried as a hand-typed table; the others are the dates the holiday was
// (or is announced to be) kept. 2034 follows a leap 11th month (闰十一月,
// 2033-12-22), so it is the third new moon after the solstice, not the second.
var publishedSpringFestivals = map[int]string{
	2000: "2000-02-05", 2001: "2001-01-24", 2002: "2002-02-12", 2003: "2003-02-01", 2004: "2004-01-22",
	2005: "2005-02-09", 2006: "2006-01-29", 2007: "2007-02-18", 2008: "2008-02-07", 2009: "2009-01-26",
	2010: "2010-02-14", 2011: "2011-02-03", 2012: "2012-01-23", 2013: "2013-02-10", 2014: "2014-01-31",
	2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16", 2019: "2019-02-05",
	2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
	2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26",
	2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11",
	2033: "2033-01-31", 2034: "2034-02-19", 2035: "2035-02-08", 2050: "2050-01-23",
}

func TestSpringFestivalMatchesPublishedDates(t *testing.T) {
	for y, d := range publishedSpringFestivals {
		got, ok := campaign.SpringFestival(y)
		if !ok || got != d {
			t.Errorf("春节 %d = %q, %v; want %s", y, got, ok, d)
		}
		// 年货节 ends before 春节 and starts three weeks ahead.
		for _, td := range campaign.TradeDates(d[:4]+"-01-01", d[:4]+"-12-31") {
			if td.Name == "年货节" && (td.End >= d || campaign.AddDays(td.Start, 21) != d) {
				t.Errorf("%d: 年货节 %s..%s does not lead up to 春节 %s", y, td.Start, td.End, d)
			}
		}
	}
}

// 春节 never falls before January 21 or after February 20, and the
// calendar lists it (and 年货节) for every year, not only a table's.
func TestCalendarHasSpringFestivalEveryYear(t *testing.T) {
	for y := 1990; y <= 2100; y++ {
		got, ok := campaign.SpringFestival(y)
		lo, hi := fmt.Sprintf("%d-01-21", y), fmt.Sprintf("%d-02-20", y)
		if !ok || got < lo || got > hi {
			t.Errorf("春节 %d = %q, %v; want a day in %s..%s", y, got, ok, lo, hi)
			continue
		}
		var names []string
		for _, td := range campaign.TradeDates(fmt.Sprintf("%d-01-01", y), fmt.Sprintf("%d-03-01", y)) {
			names = append(names, td.Name)
		}
		if len(names) < 2 || names[0] != "年货节" || names[1] != "春节" {
			t.Errorf("%d: calendar lists %v, want 年货节 and 春节 first", y, names)
		}
	}
}

func TestMilestoneStatusFollowsTheClockInTheShopTimeZone(t *testing.T) {
	m := campaign.Milestone{DueOn: "2026-11-04"}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tests := []struct {
		now  string
		loc  *time.Location
		want string
	}{
		{"2026-11-03T12:00:00Z", shanghai, campaign.MilestoneDue},
		{"2026-11-04T15:59:00Z", shanghai, campaign.MilestoneDue},     // 23:59 on the due day in Shanghai
		{"2026-11-04T16:00:00Z", shanghai, campaign.MilestoneOverdue}, // midnight after it
		{"2026-11-04T16:00:00Z", time.UTC, campaign.MilestoneDue},     // still the due day in UTC
		{"2026-11-05T00:00:00Z", time.UTC, campaign.MilestoneOverdue},
	}
	for _, tt := range tests {
		if got := m.StatusAt(at(tt.now), tt.loc); got != tt.want {
			t.Errorf("at %s in %s: %s, want %s", tt.now, tt.loc, got, tt.want)
		}
	}
	done := at("2026-11-06T00:00:00Z")
	m.DoneAt = &done
	if got := m.StatusAt(at("2026-11-07T00:00:00Z"), shanghai); got != campaign.MilestoneDone {
		t.Errorf("an overdue milestone marked done is %s", got)
	}
}

func TestMilestoneInputNeedsOneDueRule(t *testing.T) {
	off := int64(-7)
	tests := []struct {
		in          campaign.MilestoneInput
		field, code string
	}{
		{campaign.MilestoneInput{Name: "x"}, "offset_days", "required"},
		{campaign.MilestoneInput{Name: "x", OffsetDays: &off, DueOn: "2026-11-01"}, "due_on", "ambiguous_due"},
		{campaign.MilestoneInput{Name: "x", DueOn: "11/01"}, "due_on", "invalid_date"},
		{campaign.MilestoneInput{OffsetDays: &off}, "name", "required"},
	}
	for _, tt := range tests {
		got, _ := commerceErr(tt.in.Validate())
		if got != (fieldCode{tt.field, tt.code}) {
			t.Errorf("%+v: got %+v, want %s on %s", tt.in, got, tt.code, tt.field)
		}
	}
	if len(campaign.DefaultMilestones()) != 6 || *campaign.DefaultMilestones()[0].OffsetDays != -30 {
		t.Error("the default template is T-30 … T+1")
	}
}
