package analytics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
)

func TestCivilDaysAgreesWithTheTimePackage(t *testing.T) {
	epoch := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := time.Date(1999, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2102; d = d.AddDate(0, 0, 1) {
		want := int64(d.Sub(epoch) / (24 * time.Hour))
		if got := analytics.CivilDays(int64(d.Year()), int64(d.Month()), int64(d.Day())); got != want {
			t.Fatalf("%s: %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
}

func TestCohortWeeksStartOnMonday(t *testing.T) {
	// 2026-11-02 is a Monday, 2026-11-08 a Sunday.
	w := analytics.CohortIndex(20261102, false)
	for _, d := range []int64{20261103, 20261108} {
		if analytics.CohortIndex(d, false) != w {
			t.Errorf("%d is not in the week of 2 Nov", d)
		}
	}
	if analytics.CohortIndex(20261101, false) != w-1 || analytics.CohortIndex(20261109, false) != w+1 {
		t.Error("Sunday 1 Nov / Monday 9 Nov are in the same week as 2 Nov")
	}
	// Across a year end: Thursday 31 Dec 2026 and Sunday 3 Jan 2027 share a week.
	if analytics.CohortIndex(20261231, false) != analytics.CohortIndex(20270103, false) {
		t.Error("the week of 28 Dec 2026 is split at the year end")
	}
	if analytics.CohortIndex(20270101, true)-analytics.CohortIndex(20261231, true) != 1 {
		t.Error("January follows December")
	}
}

func TestOrderLinesAreValidated(t *testing.T) {
	ok := analytics.Event{ID: "e", Type: analytics.OrderPlaced, TS: now, CustomerID: "c", OrderID: "o", Amount: 10,
		Lines: []analytics.EventLine{{SKUID: "k", Quantity: 1, Amount: 10}}}
	if r := analytics.Validate(&ok, now, true); r != nil {
		t.Fatalf("valid order event refused: %+v", r)
	}
	many := make([]analytics.EventLine, analytics.MaxLines+1)
	for i := range many {
		many[i] = analytics.EventLine{SKUID: "k", Quantity: 1}
	}
	for _, c := range []struct {
		name string
		mod  func(*analytics.Event)
		code string
	}{
		{"lines on a storefront event", func(e *analytics.Event) { e.Type, e.AnonymousID = analytics.PageView, "a" }, "server_only"},
		{"201 lines", func(e *analytics.Event) { e.Lines = many }, "too_many"},
		{"line without sku", func(e *analytics.Event) { e.Lines = []analytics.EventLine{{Quantity: 1}} }, "invalid_sku_id"},
		{"line sku too long", func(e *analytics.Event) { e.Lines = []analytics.EventLine{{SKUID: strings.Repeat("k", 65)}} }, "invalid_sku_id"},
		{"negative quantity", func(e *analytics.Event) { e.Lines = []analytics.EventLine{{SKUID: "k", Quantity: -1}} }, "negative"},
		{"negative amount", func(e *analytics.Event) { e.Lines = []analytics.EventLine{{SKUID: "k", Amount: -1}} }, "negative"},
	} {
		e := ok
		c.mod(&e)
		server := e.Type != analytics.PageView
		r := analytics.Validate(&e, now, server)
		if r == nil || r.Field != "lines" || r.Code != c.code {
			t.Errorf("%s: %+v, want lines/%s", c.name, r, c.code)
		}
	}
	// Exactly MaxLines is fine.
	e := ok
	e.Lines = many[:analytics.MaxLines]
	if r := analytics.Validate(&e, now, true); r != nil {
		t.Errorf("200 lines refused: %+v", r)
	}
}

func TestSKUDaysCountAnOrderOncePerSKU(t *testing.T) {
	d := analytics.NewDelta()
	ts := time.Date(2026, 11, 10, 16, 30, 0, 0, time.UTC) // 11 Nov 00:30 in Shanghai
	sh, _ := time.LoadLocation("Asia/Shanghai")
	lines := []analytics.EventLine{{SKUID: "a", Quantity: 2, Amount: 300}, {SKUID: "b", Quantity: 1, Amount: 50}, {SKUID: "a", Quantity: 1, Amount: 100}}
	evs := []analytics.Event{
		{Type: analytics.ProductView, TS: ts, AnonymousID: "x", SKUID: "a", UTMSource: "wx"},
		{Type: analytics.AddToCart, TS: ts, AnonymousID: "x", SKUID: "a", UTMSource: "wx"},
		{Type: analytics.OrderPlaced, TS: ts, CustomerID: "c", Amount: 450, UTMSource: "wx", Lines: lines},
		{Type: analytics.OrderPaid, TS: ts, CustomerID: "c", Amount: 450, UTMSource: "wx", Lines: lines},
		{Type: analytics.OrderRefunded, TS: ts, CustomerID: "c", Amount: 50, UTMSource: "wx", Lines: lines[1:2]},
	}
	for i := range evs {
		d.Add("s", sh, &evs[i], int64(i+1))
	}
	a := d.SKUDays[analytics.SKUDayKey{ShopID: "s", Day: 20261111, SKUID: "a", Channel: "wx"}]
	b := d.SKUDays[analytics.SKUDayKey{ShopID: "s", Day: 20261111, SKUID: "b", Channel: "wx"}]
	if len(d.SKUDays) != 2 || a == nil || b == nil {
		t.Fatalf("sku days %v", d.SKUDays)
	}
	if *a != (analytics.SKUDay{ProductViews: 1, Carts: 1, Orders: 1, Units: 3, GMV: 400, PaidUnits: 3, PaidAmount: 400}) {
		t.Errorf("a: %+v", *a)
	}
	if *b != (analytics.SKUDay{Orders: 1, Units: 1, GMV: 50, PaidUnits: 1, PaidAmount: 50}) {
		t.Errorf("b: %+v", *b)
	}
}
