package analytics_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/analytics"
)

var now = time.Date(2026, 11, 11, 12, 0, 0, 0, time.UTC)

func TestValidateNamesTheFieldAndCodeOfEachBadEvent(t *testing.T) {
	ok := analytics.Event{ID: "e", Type: analytics.PageView, TS: now, AnonymousID: "a"}
	tests := []struct {
		name        string
		mod         func(*analytics.Event)
		server      bool
		field, code string
	}{
		{"unknown type", func(e *analytics.Event) { e.Type = "click" }, false, "type", "unknown_type"},
		{"order event from a storefront", func(e *analytics.Event) { e.Type = analytics.OrderPaid }, false, "type", "server_only"},
		{"missing id", func(e *analytics.Event) { e.ID = "" }, false, "id", "invalid_id"},
		{"id too long", func(e *analytics.Event) { e.ID = strings.Repeat("x", 65) }, false, "id", "invalid_id"},
		{"no ts", func(e *analytics.Event) { e.TS = time.Time{} }, false, "ts", "required"},
		{"ts 5m01s ahead", func(e *analytics.Event) { e.TS = now.Add(5*time.Minute + time.Second) }, false, "ts", "in_future"},
		{"ts 7 days and a second old", func(e *analytics.Event) { e.TS = now.Add(-7*24*time.Hour - time.Second) }, false, "ts", "too_old"},
		{"no visitor", func(e *analytics.Event) { e.AnonymousID = "" }, false, "anonymous_id", "required"},
		{"utm 129 chars", func(e *analytics.Event) { e.UTMCampaign = strings.Repeat("活", 129) }, false, "utm_campaign", "too_long"},
		{"negative amount", func(e *analytics.Event) { e.Amount = -1 }, false, "amount", "negative"},
		{"NUL in a UTM code", func(e *analytics.Event) { e.UTMSource = "wx\x00" }, false, "utm_source", "invalid_text"},
		{"invalid UTF-8 in a URL", func(e *analytics.Event) { e.URL = "https://shop.example/\xff" }, false, "url", "invalid_text"},
		{"a control character in a session id", func(e *analytics.Event) { e.SessionID = "s\x1b[31m" }, false, "session_id", "invalid_text"},
		{"NUL in the id", func(e *analytics.Event) { e.ID = "e\x00" }, false, "id", "invalid_id"},
		{"balance_of too long", func(e *analytics.Event) { e.Type, e.BalanceOf = analytics.OrderPaid, strings.Repeat("o", 65) }, true, "balance_of", "too_long"},
		{"product view without sku", func(e *analytics.Event) { e.Type = analytics.ProductView }, false, "sku_id", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.mod(&e)
			r := analytics.Validate(&e, now, tt.server)
			if r == nil || r.Field != tt.field || r.Code != tt.code || r.Detail == "" {
				t.Fatalf("got %+v, want %s/%s", r, tt.field, tt.code)
			}
		})
	}
	edge := ok
	edge.TS = now.Add(5 * time.Minute)
	edge.UTMCampaign = strings.Repeat("活", 128)
	if r := analytics.Validate(&edge, now, false); r != nil {
		t.Fatalf("limits themselves are allowed: %+v", r)
	}
	srv := ok
	srv.Type = analytics.OrderPaid
	if r := analytics.Validate(&srv, now, true); r != nil {
		t.Fatalf("the order flow may send order_paid: %+v", r)
	}
}

func TestRatesRoundHalfAwayFromZeroAndAreAbsentOnZeroDenominators(t *testing.T) {
	for _, tt := range []struct{ num, den, scale, want int64 }{
		{2, 3, 10000, 6667}, {1, 3, 10000, 3333}, {1, 2, 1, 1}, {21000, 2, 1, 10500}, {1000, 21000, 10000, 476}, {1, 20000, 10000, 1}, {1, 20001, 10000, 0},
	} {
		if got := analytics.Ratio(tt.num, tt.den, tt.scale); got == nil || *got != tt.want {
			t.Errorf("Ratio(%d, %d, %d) = %v, want %d", tt.num, tt.den, tt.scale, got, tt.want)
		}
	}
	if analytics.Ratio(5, 0, 10000) != nil {
		t.Error("a zero denominator must give no rate")
	}
	k := analytics.Compute(analytics.Counters{PaidAmount: 500}, &analytics.Distincts{}, 0)
	if k.ConversionBP != nil || k.AOV != nil || k.UVValue != nil || k.RepurchaseBP != nil || k.ROIBP != nil {
		t.Errorf("no visitors, no customers, no cost: %+v", k)
	}
}

func TestDaysEndAtMidnightInTheShopsTimeZone(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 10, 16, 10, 0, 0, time.UTC) // 00:10 on the 11th in Shanghai
	_, h, d := analytics.LocalBuckets(at, sh)
	if d != 20261111 || h != 2026111100 {
		t.Errorf("Shanghai: day %d hour %d", d, h)
	}
	m, h, d := analytics.LocalBuckets(at, time.UTC)
	if d != 20261110 || h != 2026111016 || m != 202611101610 {
		t.Errorf("UTC: day %d hour %d minute %d", d, h, m)
	}
	before := time.Date(2026, 11, 10, 15, 59, 59, 0, time.UTC) // 23:59:59 on the 10th in Shanghai
	if _, _, d := analytics.LocalBuckets(before, sh); d != 20261110 {
		t.Errorf("one second before Shanghai midnight: %d", d)
	}
}

func TestComparisonPeriods(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	p := analytics.Period{From: time.Date(2028, 2, 28, 0, 0, 0, 0, sh), To: time.Date(2028, 3, 1, 0, 0, 0, 0, sh)}
	if p.Days() != 2 {
		t.Fatalf("days %d", p.Days())
	}
	prev, ly := p.Previous(), p.LastYear()
	if analytics.DayNum(prev.From) != 20280226 || analytics.DayNum(prev.To) != 20280228 {
		t.Errorf("previous %v", prev)
	}
	if analytics.DayNum(ly.From) != 20270228 || analytics.DayNum(ly.To) != 20270301 {
		t.Errorf("last year %v", ly)
	}
	leap := analytics.Period{From: time.Date(2028, 2, 29, 0, 0, 0, 0, sh), To: time.Date(2028, 3, 1, 0, 0, 0, 0, sh)}.LastYear()
	if analytics.DayNum(leap.From) != 20270228 {
		t.Errorf("29 Feb last year: %v", leap.From)
	}
}

// Rollups are merged as they are flushed: whatever the grouping of events
// into deltas, merging them gives the delta of all events at once.
func TestDeltasMergeToTheSameRollupsWhateverTheGrouping(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := []string{analytics.PageView, analytics.ProductView, analytics.AddToCart, analytics.OrderPlaced, analytics.OrderPaid, analytics.OrderRefunded}
	var evs []analytics.Event
	for i := 0; i < 400; i++ {
		e := analytics.Event{ID: "x", Type: types[rng.IntN(len(types))], TS: now.Add(-time.Duration(rng.IntN(5000)) * time.Minute),
			AnonymousID: string(rune('a' + rng.IntN(8))), UTMSource: []string{"", "wx"}[rng.IntN(2)], Amount: int64(rng.IntN(1000))}
		if rng.IntN(2) == 0 {
			e.CustomerID = string(rune('p' + rng.IntN(5)))
		}
		e.SKUID = string(rune('k' + rng.IntN(3)))
		if e.Type == analytics.OrderPlaced || e.Type == analytics.OrderPaid {
			e.Lines = []analytics.EventLine{{SKUID: e.SKUID, Quantity: int64(1 + rng.IntN(3)), Amount: e.Amount}}
		}
		evs = append(evs, e)
	}
	whole := analytics.NewDelta()
	for i := range evs {
		whole.Add("s", time.UTC, &evs[i], int64(i+1))
	}
	merged := analytics.NewDelta()
	part := analytics.NewDelta()
	for i := range evs {
		part.Add("s", time.UTC, &evs[i], int64(i+1))
		if rng.IntN(10) == 0 {
			merged.Merge(part)
			part = analytics.NewDelta()
		}
	}
	merged.Merge(part)
	if d := cmp.Diff(whole.Counters, merged.Counters); d != "" {
		t.Fatalf("counters:\n%s", d)
	}
	if d := cmp.Diff(whole.SKUDays, merged.SKUDays); d != "" || len(whole.SKUDays) == 0 {
		t.Fatalf("sku days:\n%s", d)
	}
	if d := cmp.Diff(whole.VisitorDays, merged.VisitorDays); d != "" {
		t.Fatalf("visitor days:\n%s", d)
	}
	if d := cmp.Diff(whole.CustomerDays, merged.CustomerDays); d != "" || whole.MaxSeq != merged.MaxSeq || len(whole.FirstPaid) != len(merged.FirstPaid) {
		t.Fatalf("customer days:\n%s", d)
	}
}

func TestAnEventsJSONReadsBackAsTheSameEvent(t *testing.T) {
	e := analytics.Event{ID: "e\"1", Type: analytics.AddToCart, TS: now.Add(123456 * time.Microsecond), AnonymousID: "a", CustomerID: "c", SessionID: "s",
		SKUID: "k", OrderID: "o", Amount: 5, Discount: 2, UTMSource: "微信", UTMMedium: "m", UTMCampaign: "双11", UTMContent: "x", UTMTerm: "y", Device: "d", URL: "https://e/?a=1&b=<2>",
		Lines: []analytics.EventLine{{SKUID: "sku\"1", Quantity: 2, Amount: 1990}, {SKUID: "规格", Quantity: 1, Amount: 0}}}
	var back analytics.Event
	if err := json.Unmarshal(e.AppendJSON(nil), &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, back); d != "" {
		t.Fatalf("(-sent +read):\n%s", d)
	}
}
