package pricing

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func notApplied(r *Result, id string) []NotApplied {
	var out []NotApplied
	for _, n := range r.NotApplied {
		if n.ID == id {
			out = append(out, n)
		}
	}
	return out
}

func applied(r *Result, id string) *Applied {
	for i := range r.Applied {
		if r.Applied[i].ID == id {
			return &r.Applied[i]
		}
	}
	return nil
}

func wantReason(t *testing.T, r *Result, id string, want NotApplied) {
	t.Helper()
	got := notApplied(r, id)
	if len(got) != 1 {
		t.Fatalf("%s: not_applied entries = %+v, want exactly %+v", id, got, want)
	}
	want.ID = id
	got[0].Kind, want.Kind = "", ""
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Fatalf("%s: not_applied (-want +got):\n%s", id, d)
	}
}

func TestStage1LowestUnitPriceWins(t *testing.T) {
	in := &Input{
		Customer: Customer{ID: "c", Tier: "gold"},
		Lines:    []Line{line("A", 10000, 2)},
		Activities: []Activity{
			act("lt", LimitedTime, func(a *Activity) { a.Rate = 8000 }),
			act("mp", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "gold", Rate: 8500}} }),
			act("ld", QuantityLadder, func(a *Activity) { a.Ladder = []LadderStep{{MinQty: 2, UnitPrice: 7900}, {MinQty: 5, UnitPrice: 7000}} }),
		},
	}
	r := mustQuote(t, in)
	want := []Segment{{UnitPrice: 7900, Quantity: 2, Source: QuantityLadder, ActivityID: "ld"}}
	if d := cmp.Diff(want, r.Lines[0].Segments); d != "" {
		t.Fatalf("segments (-want +got):\n%s", d)
	}
	if r.Lines[0].ItemDiscount != 4200 {
		t.Fatalf("item discount = %d, want 4200", r.Lines[0].ItemDiscount)
	}
	wantReason(t, r, "lt", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "ld"})
	wantReason(t, r, "mp", NotApplied{Source: SourceActivity, Reason: ReasonStacking, Winner: "ld"})
}

func TestStage1PriceTiesGoToHigherPriorityThenLowerID(t *testing.T) {
	tests := []struct {
		name string
		acts []Activity
		want string
	}{
		{"higher priority wins", []Activity{
			act("a_low", LimitedTime, func(a *Activity) { a.Price = 8000; a.Priority = 1 }),
			act("b_high", LimitedTime, func(a *Activity) { a.Price = 8000; a.Priority = 2 }),
		}, "b_high"},
		{"equal priority: lower id wins", []Activity{
			act("z", LimitedTime, func(a *Activity) { a.Price = 8000 }),
			act("m", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "gold", Rate: 8000}} }),
		}, "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustQuote(t, &Input{Customer: Customer{ID: "c", Tier: "gold"}, Lines: []Line{line("A", 10000, 1)}, Activities: tt.acts})
			if got := r.Lines[0].Segments[0].ActivityID; got != tt.want {
				t.Fatalf("winner = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStage1RatesRoundHalfUp(t *testing.T) {
	tests := []struct {
		list, rate, want int64
	}{
		{999, 8500, 849}, // 849.15
		{3, 5000, 2},     // 1.5 → 2
		{25800, 9500, 24510},
		{1999, 7500, 1499}, // 1499.25
		{1990, 8850, 1761}, // 1761.15
		{5, 9000, 5},       // 4.5 → 5 = list: no discount
	}
	for _, tt := range tests {
		r := mustQuote(t, &Input{Lines: []Line{line("A", tt.list, 1)}, Activities: []Activity{act("lt", LimitedTime, func(a *Activity) { a.Rate = tt.rate })}})
		if got := r.Lines[0].Segments[0].UnitPrice; got != tt.want {
			t.Errorf("%d at %d bp = %d, want %d", tt.list, tt.rate, got, tt.want)
		}
	}
}

func TestStage1PerCustomerLimitSplitsTheLineIntoSegments(t *testing.T) {
	in := &Input{
		Customer: Customer{ID: "c", Tier: "gold"},
		Lines:    []Line{line("A", 10000, 3), line("B", 5000, 2)},
		Activities: []Activity{
			act("lt", LimitedTime, func(a *Activity) { a.Price = 7000; a.PerCustomerQtyLimit = 2; a.Scope = Scope{SKUIDs: []string{"A"}} }),
			act("mp", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "gold", Rate: 9000}} }),
			act("lt2", LimitedTime, func(a *Activity) { a.Rate = 5000; a.PerCustomerQtyLimit = 5; a.Scope = Scope{SKUIDs: []string{"B"}} }),
		},
		// The customer already bought 4 of lt2's 5: 1 left.
		Usage: map[string]Usage{"lt2": {CustomerUses: ptr[int64](1)}},
	}
	r := mustQuote(t, in)
	wantA := []Segment{
		{UnitPrice: 7000, Quantity: 2, Source: LimitedTime, ActivityID: "lt"},
		{UnitPrice: 9000, Quantity: 1, Source: MemberPrice, ActivityID: "mp"},
	}
	wantB := []Segment{
		{UnitPrice: 2500, Quantity: 1, Source: LimitedTime, ActivityID: "lt2"},
		{UnitPrice: 4500, Quantity: 1, Source: MemberPrice, ActivityID: "mp"},
	}
	if d := cmp.Diff(wantA, r.Lines[0].Segments); d != "" {
		t.Errorf("line A segments (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantB, r.Lines[1].Segments); d != "" {
		t.Errorf("line B segments (-want +got):\n%s", d)
	}
	if a := applied(r, "lt"); a == nil || a.Uses != 2 || a.Amount != 6000 {
		t.Errorf("lt applied = %+v, want 2 uses, 6000 off", a)
	}
	if a := applied(r, "mp"); a == nil || a.Uses != 2 || a.Amount != 1000+500 || !cmp.Equal(a.Lines, []int{0, 1}) {
		t.Errorf("mp applied = %+v, want 2 uses on both lines, 1500 off", a)
	}
}

func TestStage1FlashUnitsTakeTheFlashPriceOthersTheNextBest(t *testing.T) {
	l := line("A", 10000, 3)
	l.FlashUnits, l.FlashPrice, l.FlashActivityID = 1, 5000, "fs_1"
	r := mustQuote(t, &Input{Lines: []Line{l}, Activities: []Activity{act("lt", LimitedTime, func(a *Activity) { a.Rate = 8000 })}})
	want := []Segment{
		{UnitPrice: 5000, Quantity: 1, Source: Flash, ActivityID: "fs_1"},
		{UnitPrice: 8000, Quantity: 2, Source: LimitedTime, ActivityID: "lt"},
	}
	if d := cmp.Diff(want, r.Lines[0].Segments); d != "" {
		t.Fatalf("segments (-want +got):\n%s", d)
	}
}

func TestStage1BudgetSmallerThanDiscountDropsThePromotionWhole(t *testing.T) {
	r := mustQuote(t, &Input{
		Lines:      []Line{line("A", 10000, 2)},
		Activities: []Activity{act("lt", LimitedTime, func(a *Activity) { a.Rate = 8000 })},
		Usage:      map[string]Usage{"lt": {Budget: ptr[int64](3999)}},
	})
	if r.Lines[0].ItemDiscount != 0 {
		t.Fatalf("item discount = %d, want 0 (never partial)", r.Lines[0].ItemDiscount)
	}
	wantReason(t, r, "lt", NotApplied{Source: SourceActivity, Reason: ReasonBudgetExhausted})
}

func TestStage1LadderBelowFirstStepReportsTheItemsShort(t *testing.T) {
	r := mustQuote(t, &Input{
		Lines:      []Line{line("A", 10000, 1)},
		Activities: []Activity{act("ld", QuantityLadder, func(a *Activity) { a.Ladder = []LadderStep{{MinQty: 3, UnitPrice: 9000}} })},
	})
	wantReason(t, r, "ld", NotApplied{Source: SourceActivity, Reason: ReasonThresholdNotMet, ShortfallItems: 2})
}

func TestStage1MemberPriceNeedsATierWithARate(t *testing.T) {
	r := mustQuote(t, &Input{
		Customer:   Customer{ID: "c", Tier: "silver"},
		Lines:      []Line{line("A", 10000, 1)},
		Activities: []Activity{act("mp", MemberPrice, func(a *Activity) { a.TierRates = []TierRate{{Tier: "gold", Rate: 9000}} })},
	})
	wantReason(t, r, "mp", NotApplied{Source: SourceActivity, Reason: ReasonAudience})
}

func TestDuplicateSKULinesMergeIntoOneResultLine(t *testing.T) {
	r := mustQuote(t, &Input{
		Lines:      []Line{line("A", 10000, 1), line("B", 500, 1), line("A", 10000, 1)},
		Activities: []Activity{act("n2", NthItem, func(a *Activity) { a.N, a.Rate = 2, 5000 })},
	})
	if len(r.Lines) != 2 || r.Lines[0].Quantity != 2 || !cmp.Equal(r.Lines[0].InputLines, []int{0, 2}) {
		t.Fatalf("lines = %+v, want A×2 from input lines 0 and 2, then B", r.Lines)
	}
	if r.Lines[0].OrderDiscount != 5000 {
		t.Fatalf("第二件半价 over merged lines = %d, want 5000", r.Lines[0].OrderDiscount)
	}
}

func TestQuoteRejectsInputItCannotPrice(t *testing.T) {
	base := func() *Input { return &Input{Now: now, Lines: []Line{line("A", 100, 1)}} }
	tests := []struct {
		name  string
		mod   func(*Input)
		field string
	}{
		{"no lines", func(in *Input) { in.Lines = nil }, "lines"},
		{"zero quantity", func(in *Input) { in.Lines[0].Quantity = 0 }, "lines[0].quantity"},
		{"negative quantity", func(in *Input) { in.Lines[0].Quantity = -1 }, "lines[0].quantity"},
		{"quantity above a million", func(in *Input) { in.Lines[0].Quantity = MaxQuantity + 1 }, "lines[0].quantity"},
		{"negative price", func(in *Input) { in.Lines[0].ListPrice = -1 }, "lines[0].list_price"},
		{"price above MaxAmount", func(in *Input) { in.Lines[0].ListPrice = 1e15 + 1 }, "lines[0].list_price"},
		{"line amount above MaxAmount", func(in *Input) { in.Lines[0].ListPrice, in.Lines[0].Quantity = 1e12, 1001 }, "lines[0].quantity"},
		{"negative cost", func(in *Input) { in.Lines[0].Cost = -5 }, "lines[0].cost"},
		{"flash units above quantity", func(in *Input) { in.Lines[0].FlashUnits = 2 }, "lines[0].flash_units"},
		{"no sku", func(in *Input) { in.Lines[0].SKUID = "" }, "lines[0].sku_id"},
		{"same sku, other price", func(in *Input) { in.Lines = append(in.Lines, line("A", 200, 1)) }, "lines[1].list_price"},
		{"negative points", func(in *Input) { in.Points = -1 }, "points"},
		{"bad margin mode", func(in *Input) { in.Settings.MarginMode = "maybe" }, "settings.margin_mode"},
		{"negative shipping fee", func(in *Input) { in.Settings.ShippingFee = ptr[int64](-1) }, "settings.shipping_fee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.mod(in)
			_, err := Quote(in)
			ie, ok := err.(*InputError)
			if !ok || ie.Field != tt.field {
				t.Fatalf("err = %v, want an InputError on %s", err, tt.field)
			}
		})
	}
	if _, err := Quote(nil); err == nil {
		t.Fatal("Quote(nil) succeeded")
	}
}
