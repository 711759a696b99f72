package campaign_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/campaign"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

func TestDailyTargetsSumExactlyAndFollowWeights(t *testing.T) {
	tests := []struct {
		name    string
		target  int64
		n       int
		weights []int64
		want    []int64
	}{
		{"equal split without remainder", 300, 3, nil, []int64{100, 100, 100}},
		{"remainder goes to the earliest days on ties", 100, 3, nil, []int64{34, 33, 33}},
		{"双11 burst day carries the weight", 1000, 4, []int64{1, 1, 6, 2}, []int64{100, 100, 600, 200}},
		{"largest remainder wins the odd fen", 10, 3, []int64{1, 2, 4}, []int64{1, 3, 6}},
		{"a zero-weight day gets nothing", 7, 3, []int64{0, 1, 1}, []int64{0, 4, 3}},
		{"zero target is all zeros", 0, 2, nil, []int64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := campaign.DailyTargets(tt.target, tt.n, tt.weights)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("daily targets (-want +got):\n%s", diff)
			}
			if sum(got) != tt.target {
				t.Fatalf("days sum to %d, want %d", sum(got), tt.target)
			}
		})
	}
}

// For any weights and target, the days sum to the target exactly and each
// day is within one unit of its exact proportional share.
func TestDailyTargetsPropertyRandomWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 11))
	for i := 0; i < 2000; i++ {
		n := 1 + r.IntN(40)
		w := make([]int64, n)
		var ws int64
		for ws == 0 {
			ws = 0
			for j := range w {
				if r.IntN(4) > 0 {
					w[j] = r.Int64N(1_000_000)
				} else {
					w[j] = 0
				}
				ws += w[j]
			}
		}
		target := r.Int64N(1_000_000_000_000_000)
		got := campaign.DailyTargets(target, n, w)
		if sum(got) != target {
			t.Fatalf("weights %v target %d: sum %d", w, target, sum(got))
		}
		for j := range got {
			if w[j] == 0 && got[j] != 0 {
				t.Fatalf("day %d has weight 0 but target %d", j, got[j])
			}
			// exact share = target*w/ws; got must be floor or floor+1
			exact := float64(target) * float64(w[j]) / float64(ws)
			if d := float64(got[j]) - exact; d < -1.5 || d > 1.5 {
				t.Fatalf("day %d: %d is far from its share %.1f", j, got[j], exact)
			}
		}
	}
}

func window(start, end string) (time.Time, time.Time) {
	s, _ := time.ParseInLocation("2006-01-02 15:04", start, shanghai)
	e, _ := time.ParseInLocation("2006-01-02 15:04", end, shanghai)
	return s, e
}

func TestTargetToDateAccumulatesAdditiveKPIsAndHoldsRatios(t *testing.T) {
	s, e := window("2026-11-10 00:00", "2026-11-14 00:00") // 4 days
	c := &campaign.Campaign{StartsAt: s, EndsAt: e, DayWeights: []int64{1, 6, 2, 1},
		Targets: campaign.Targets{campaign.KPIGMV: 1_000_000, campaign.KPIConversionRate: 350, campaign.KPIAOV: 19900}}
	tests := []struct {
		kpi, day string
		want     int64
	}{
		{campaign.KPIGMV, "2026-11-09", 0},
		{campaign.KPIGMV, "2026-11-10", 100_000},
		{campaign.KPIGMV, "2026-11-11", 700_000},
		{campaign.KPIGMV, "2026-11-13", 1_000_000},
		{campaign.KPIGMV, "2026-12-01", 1_000_000},
		{campaign.KPIConversionRate, "2026-11-10", 350},
		{campaign.KPIConversionRate, "2026-11-13", 350},
		{campaign.KPIAOV, "2026-11-11", 19900},
	}
	for _, tt := range tests {
		got, ok := c.TargetToDate(shanghai, tt.kpi, tt.day)
		if !ok || got != tt.want {
			t.Errorf("%s to %s = %d, %v; want %d", tt.kpi, tt.day, got, ok, tt.want)
		}
	}
	if _, ok := c.TargetToDate(shanghai, campaign.KPIUV, "2026-11-11"); ok {
		t.Error("an untargeted KPI has a target-to-date")
	}
	for _, sr := range c.Series(shanghai) {
		if sr.KPI == campaign.KPIConversionRate && (sum(sr.Daily) == sr.Target || sr.Daily[0] != 350) {
			t.Errorf("a ratio KPI was spread over days: %v", sr.Daily)
		}
	}
}

func TestDaysFollowTheShopTimeZone(t *testing.T) {
	// 16:00 UTC on 10 Nov is midnight 11 Nov in Shanghai.
	start := time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 12, 16, 0, 0, 0, time.UTC)
	if got, want := campaign.Days(start, end, shanghai), []string{"2026-11-11", "2026-11-12"}; !cmp.Equal(got, want) {
		t.Errorf("Shanghai days = %v, want %v", got, want)
	}
	if got, want := campaign.Days(start, end, time.UTC), []string{"2026-11-10", "2026-11-11", "2026-11-12"}; !cmp.Equal(got, want) {
		t.Errorf("UTC days = %v, want %v", got, want)
	}
	// 23:59 UTC on 10 Nov is already 11 Nov in Shanghai.
	late := time.Date(2026, 11, 10, 23, 59, 0, 0, time.UTC)
	if campaign.DayOf(late, shanghai) != "2026-11-11" || campaign.DayOf(late, time.UTC) != "2026-11-10" {
		t.Errorf("DayOf around midnight: %s / %s", campaign.DayOf(late, shanghai), campaign.DayOf(late, time.UTC))
	}
	c := &campaign.Campaign{StartsAt: start, EndsAt: end, Targets: campaign.Targets{campaign.KPIOrders: 100}}
	if got, _ := c.TargetToDate(shanghai, campaign.KPIOrders, "2026-11-11"); got != 50 {
		t.Errorf("Shanghai: orders to 11 Nov = %d, want 50 (2 days)", got)
	}
	if got, _ := c.TargetToDate(time.UTC, campaign.KPIOrders, "2026-11-11"); got != 67 {
		t.Errorf("UTC: orders to 11 Nov = %d, want 67 (3 days 34+33)", got)
	}
}

func TestPaceStatusAgainstTheAlertLine(t *testing.T) {
	tests := []struct {
		target, actual, line int64
		want                 string
	}{
		{1000, 1000, 6000, campaign.PaceOnTrack},
		{1000, 1500, 6000, campaign.PaceOnTrack},
		{1000, 999, 6000, campaign.PaceBehind},
		{1000, 600, 6000, campaign.PaceBehind}, // exactly on the line is not below it
		{1000, 599, 6000, campaign.PaceAlert},
		{1000, 0, 6000, campaign.PaceAlert},
		{1000, 799, 8000, campaign.PaceAlert},
		{0, 0, 6000, campaign.PaceOnTrack},
		{1_000_000_000_000_000, 599_999_999_999_999, 6000, campaign.PaceAlert}, // no overflow at the bounds
		{1_000_000_000_000_000, 600_000_000_000_000, 6000, campaign.PaceBehind},
	}
	for _, tt := range tests {
		if got := campaign.PaceStatus(tt.target, tt.actual, tt.line); got != tt.want {
			t.Errorf("PaceStatus(target %d, actual %d, line %d) = %s, want %s", tt.target, tt.actual, tt.line, got, tt.want)
		}
	}
	if got := campaign.Attainment(2000, 1500); got != 7500 {
		t.Errorf("attainment = %d, want 7500", got)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	s, e := window("2026-11-01 00:00", "2026-11-15 00:00")
	ok := func() campaign.Input {
		return campaign.Input{Name: "双11", StartsAt: s, EndsAt: e, Phases: []campaign.Phase{
			{Kind: campaign.PhaseBurst, StartsAt: s.Add(10 * 24 * time.Hour), EndsAt: s.Add(11 * 24 * time.Hour)},
			{Kind: campaign.PhasePreheat, StartsAt: s, EndsAt: s.Add(10 * 24 * time.Hour)},
		}}
	}
	in := ok()
	if err := in.Validate(shanghai); err != nil {
		t.Fatal(err)
	}
	if in.AlertLine != campaign.DefaultAlertLine || in.Phases[0].Kind != campaign.PhasePreheat {
		t.Fatalf("defaults not filled or phases not ordered: %+v", in)
	}
	tests := []struct {
		name  string
		mut   func(*campaign.Input)
		field string
		code  string
	}{
		{"window reversed", func(in *campaign.Input) { in.EndsAt = in.StartsAt }, "ends_at", "window_order"},
		{"phase before the campaign", func(in *campaign.Input) { in.Phases[1].StartsAt = s.Add(-time.Hour) }, "phases[1].starts_at", "outside_campaign"},
		{"phase after the campaign", func(in *campaign.Input) { in.Phases[0].EndsAt = e.Add(time.Hour) }, "phases[0].ends_at", "outside_campaign"},
		{"phases overlap", func(in *campaign.Input) { in.Phases[0].StartsAt = s.Add(9 * 24 * time.Hour) }, "phases[0].starts_at", "phases_overlap"},
		{"unknown phase kind", func(in *campaign.Input) { in.Phases[0].Kind = "party" }, "phases[0].kind", "invalid_enum"},
		{"negative target", func(in *campaign.Input) { in.Targets = campaign.Targets{"gmv": -1} }, "targets.gmv", "out_of_range"},
		{"conversion rate above 100 %", func(in *campaign.Input) { in.Targets = campaign.Targets{"conversion_rate": 10001} }, "targets.conversion_rate", "out_of_range"},
		{"unknown KPI", func(in *campaign.Input) { in.Targets = campaign.Targets{"likes": 1} }, "targets.likes", "unknown_kpi"},
		{"weights all zero", func(in *campaign.Input) { in.DayWeights = make([]int64, 14) }, "day_weights", "all_zero"},
		{"weights wrong length", func(in *campaign.Input) { in.DayWeights = []int64{1} }, "day_weights", "wrong_length"},
		{"negative weight", func(in *campaign.Input) { in.DayWeights = make([]int64, 14); in.DayWeights[3] = -1 }, "day_weights[3]", "out_of_range"},
		{"phase weights all zero", func(in *campaign.Input) { in.Phases[0].DayWeights = []int64{0} }, "phases[0].day_weights", "all_zero"},
		{"alert line above 100 %", func(in *campaign.Input) { in.AlertLine = 10001 }, "alert_line_bp", "out_of_range"},
		{"duplicate promotion", func(in *campaign.Input) { in.PromotionIDs = []string{"prm_1", "prm_1"} }, "promotion_ids[1]", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok()
			tt.mut(&in)
			err := in.Validate(shanghai)
			ce, isCE := commerceErr(err)
			if !isCE || ce.field != tt.field || ce.code != tt.code {
				t.Fatalf("err = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}
