package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// The calendar endpoint lists 春节 and 年货节 in years no table covered.
func TestCalendarListsSpringFestivalAfter2032(t *testing.T) {
	e := newEnv(t)
	for y, year := range map[string]int{"2040": 2040, "2099": 2099} {
		r := e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/calendar?from="+y+"-01-01&to="+y+"-03-01", nil)
		var cal campaign.CalendarView
		r.json(t, &cal)
		if r.status != http.StatusOK {
			t.Fatalf("calendar %s: %d %s", y, r.status, r.body)
		}
		want, ok := campaign.SpringFestival(year)
		seen := map[string]bool{}
		for _, td := range cal.TradeDates {
			seen[td.Code] = true
			if td.Name == "春节" && (!ok || td.Start != want) {
				t.Errorf("%s: 春节 %s, want %s", y, td.Start, want)
			}
		}
		if !seen["nianhuo-"+y] || !seen["chunjie-"+y] {
			t.Errorf("%s: calendar lists %+v, want 年货节 and 春节", y, cal.TradeDates)
		}
	}
}
