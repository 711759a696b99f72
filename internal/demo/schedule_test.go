package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// TestDemoSchedulesAreInShopTime seeds the demo's promotions and flash
// sales at several moments of the day (the server's clock in UTC) and
// checks every start in the shop's time zone: nothing goes on sale between
// midnight and 08:00 there, and what a name promises ("明晚 20:00",
// "明日开抢" for tomorrow evening) is the shop's local tomorrow at 20:00.
func TestDemoSchedulesAreInShopTime(t *testing.T) {
	ctx := context.Background()
	loc, err := time.LoadLocation(commerce.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{
		time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC),  // 09:30 in Shanghai
		time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC),  // 20:00
		time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC),  // 03:00 the next day
		time.Date(2026, 11, 20, 16, 10, 0, 0, time.UTC), // 00:10 the next day
	} {
		t.Run(now.In(loc).Format("15:04"), func(t *testing.T) {
			s := seedTiny(t) // a shop each: the promotions would overlap
			clk := func() time.Time { return now }
			com := commerce.NewService(s.st, commerce.Options{Now: clk})
			ps := promotion.New(s.st, com)
			fl := peak.NewFlash(s.st, com, peak.NewMemory(), peak.Options{})
			promos, err := SeedPromotions(ctx, ps, com, s.res.Shop.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			flash, err := SeedFlash(ctx, fl, ps, com, s.res.Shop.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			local := now.In(loc)
			tomorrow := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc).Format(time.DateOnly)
			check := func(what, name string, start time.Time) {
				t.Helper()
				l := start.In(loc)
				if l.Hour() < 8 {
					t.Errorf("%s %q starts at %s shop time, in the small hours", what, name, l.Format("2006-01-02 15:04"))
				}
				if strings.Contains(name, "明晚") || strings.Contains(name, "明日") {
					if l.Format(time.DateOnly) != tomorrow || l.Hour() != 20 || l.Minute() != 0 {
						t.Errorf("%s %q starts at %s shop time; its name says tomorrow (%s) 20:00", what, name, l.Format("2006-01-02 15:04"), tomorrow)
					}
				}
				if strings.Contains(name, "20:00") && (l.Hour() != 20 || l.Minute() != 0) {
					t.Errorf("%s %q starts at %s shop time, not 20:00", what, name, l.Format("15:04"))
				}
			}
			for _, id := range []string{flash.Live, flash.Upcoming} {
				sale, err := fl.Sale(ctx, s.res.Shop.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				check("flash sale", sale.Name, sale.StartsAt)
				if !sale.EndsAt.After(now) {
					t.Errorf("flash sale %q is over at seeding", sale.Name)
				}
				// A reminder five minutes ahead is due at 19:55 local, not 03:55.
				if id == flash.Upcoming {
					c := s.cs[0]
					r, err := fl.Remind(ctx, s.res.Shop.ID, id, c.ID, 5)
					if err != nil {
						t.Fatal(err)
					}
					if l := r.RemindAt.In(loc); l.Hour() != 19 || l.Minute() != 55 {
						t.Errorf("reminder for %q due at %s shop time", sale.Name, l.Format("15:04"))
					}
				}
			}
			if live, _ := fl.Sale(ctx, s.res.Shop.ID, flash.Live); live.Phase != peak.PhaseLive {
				t.Errorf("the live sale is %s at seeding", live.Phase)
			}
			all, err := ps.Promotions(ctx, s.res.Shop.ID)
			if err != nil {
				t.Fatal(err)
			}
			mine := map[string]bool{}
			for _, id := range promos.Promotions {
				mine[id] = true
			}
			for _, p := range all {
				if mine[p.ID] && !p.StartsAt.IsZero() {
					check("promotion", p.Name, p.StartsAt)
				}
			}
		})
	}
}

// seedTiny seeds a demo shop with a short history: enough catalog and
// customers for the promotions and flash sales, quick under -race.
func seedTiny(t *testing.T) *seeded {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	res, err := Seed(ctx, st, Options{Seed: 7, SKUs: 40, Customers: 60, Months: 1, Now: testNow})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	s := &seeded{st: st, svc: commerce.NewService(st, commerce.Options{}), res: res}
	if s.cs, err = st.ListCustomers(ctx, res.Shop.ID, commerce.Page{Limit: 10}); err != nil || len(s.cs) == 0 {
		t.Fatalf("customers %v, %v", s.cs, err)
	}
	return s
}
