package storetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// RunAudit runs the audit-log contract against open: money and points
// movements name their actor, and the log reads newest first with filters.
func RunAudit(t *testing.T, open Opener) {
	t.Run("MoneyMovesNameTheirActor", func(t *testing.T) { testMoneyMovesNamed(t, open) })
	t.Run("NewestFirstWithFilters", func(t *testing.T) { testAuditListing(t, open) })
}

func auditOf(t *testing.T, e *Env, f commerce.AuditFilter) []commerce.AuditEntry {
	t.Helper()
	list, err := e.Svc.ListAudit(ctx, e.Shop.ID, f, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func testMoneyMovesNamed(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	clerk := commerce.Actor{ShopID: e.Shop.ID, KeyID: "key_clerk", Role: commerce.RoleOperator}
	c := e.SeedCustomer(t, "u-1")
	if _, err := e.Svc.AdjustPoints(ctx, clerk, c.ID, 700, "goodwill"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.AdjustPoints(ctx, e.Admin, c.ID, -200, "correction"); err != nil {
		t.Fatal(err)
	}
	moves, err := e.Svc.PointsMoves(ctx, e.Shop.ID, c.ID, commerce.Page{})
	if err != nil || len(moves) != 2 || moves[0].Actor != "key:key_clerk" || moves[1].Actor != "key:key_test" {
		t.Fatalf("points ledger = %+v, %v; want each move with its key", moves, err)
	}
	pts := auditOf(t, e, commerce.AuditFilter{Action: "adjust_points"})
	if len(pts) != 2 || pts[0].Actor != "key:key_test" || pts[0].Entity != "customer" || pts[0].EntityID != c.ID || pts[1].Actor != "key:key_clerk" {
		t.Fatalf("points audit = %+v", pts)
	}
	var mv commerce.PointsMove
	if err := json.Unmarshal(pts[1].After, &mv); err != nil || mv.Delta != 700 || mv.Reason != "goodwill" {
		t.Fatalf("points audit after = %s", pts[1].After)
	}

	a := e.SeedSKU(t, "A", 3333, 10)
	o := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 3})
	if _, err := e.Svc.PayOrderBy(ctx, clerk, o.ID); err != nil {
		t.Fatal(err)
	}
	// The payment is a money move too: audited with the key that recorded it.
	pay := auditOf(t, e, commerce.AuditFilter{Action: "pay", EntityID: o.ID})
	var paid struct {
		Amount int64 `json:"amount"`
	}
	if len(pay) != 1 || pay[0].Actor != "key:key_clerk" || pay[0].Entity != "order" || json.Unmarshal(pay[0].After, &paid) != nil || paid.Amount != int64(o.Payable) || paid.Amount < 3*3333 {
		t.Fatalf("payment audit = %+v", pay)
	}
	// A payment confirmed by the shop's signed callback names the callback.
	o2 := place(t, e, "", commerce.CartLine{SKUID: a.ID, Quantity: 1})
	if _, err := e.Svc.PayOrderBy(ctx, commerce.Actor{ShopID: e.Shop.ID, Name: commerce.ActorPaymentCallback}, o2.ID); err != nil {
		t.Fatal(err)
	}
	if pay := auditOf(t, e, commerce.AuditFilter{Action: "pay", EntityID: o2.ID}); len(pay) != 1 || pay[0].Actor != commerce.ActorPaymentCallback {
		t.Fatalf("callback payment audit = %+v", pay)
	}
	// A payment that fails writes nothing.
	if _, err := e.Svc.PayOrderBy(ctx, clerk, o.ID); err == nil {
		t.Fatal("paid twice")
	}
	if pay := auditOf(t, e, commerce.AuditFilter{Action: "pay", EntityID: o.ID}); len(pay) != 1 {
		t.Fatalf("a refused payment was audited: %+v", pay)
	}
	since := e.Clock.Now()
	if _, err := e.Svc.RefundOrder(ctx, clerk, o.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}, Reason: "damaged"}); err != nil {
		t.Fatal(err)
	}
	// A refund the server makes on its own (a failed group) says system.
	if _, err := e.Svc.RefundOrder(ctx, commerce.Actor{ShopID: e.Shop.ID}, o.ID, &commerce.RefundRequest{Shipping: true}); err != nil {
		t.Fatal(err)
	}
	rs, err := e.Store.RefundsSince(ctx, since, "", 10)
	if err != nil || len(rs) != 2 || rs[0].Actor != "key:key_clerk" || rs[1].Actor != "system" {
		t.Fatalf("refunds = %+v, %v; want each with its actor", rs, err)
	}
	ref := auditOf(t, e, commerce.AuditFilter{Action: "refund", EntityID: o.ID})
	if len(ref) != 2 || ref[1].Actor != "key:key_clerk" || ref[1].Entity != "order" || ref[0].Actor != "system" {
		t.Fatalf("refund audit = %+v", ref)
	}
	var got struct {
		RefundID string `json:"refund_id"`
		Amount   int64  `json:"amount"`
		Reason   string `json:"reason"`
	}
	if err := json.Unmarshal(ref[1].After, &got); err != nil || got.RefundID != rs[0].ID || got.Amount != 3333 || got.Reason != "damaged" {
		t.Fatalf("refund audit after = %s", ref[1].After)
	}
}

func testAuditListing(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	other := commerce.Actor{ShopID: e.Shop.ID, KeyID: "key_other", Role: commerce.RoleAdmin}
	c := e.SeedCustomer(t, "u-1") // the customer upsert is audited
	e.Clock.Advance(time.Minute)
	start := e.Clock.Now()
	// Seven more entries an hour apart: points by two keys, a product
	// upsert, then stock moves.
	var want []string
	for i := 0; i < 4; i++ {
		by := e.Admin
		if i%2 == 1 {
			by = other
		}
		if _, err := e.Svc.AdjustPoints(ctx, by, c.ID, 10, "n"); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Hour)
	}
	a := e.SeedSKU(t, "A", 100, 5) // the upsert is audited too
	e.Clock.Advance(time.Hour)
	for i := 0; i < 2; i++ {
		if _, err := e.Svc.AdjustStock(ctx, other, a.ID, 1, "restock"); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Hour)
	}
	all := auditOf(t, e, commerce.AuditFilter{})
	if len(all) != 8 {
		t.Fatalf("%d entries, want 8", len(all))
	}
	if up := all[7]; up.Action != "upsert" || up.Entity != "customers" || bytes.Contains(up.After, []byte("13812345678")) ||
		!bytes.Contains(up.After, []byte(`"external_id":"u-1"`)) {
		t.Fatalf("customer upsert audit = %+v %s", up, up.After)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID || all[i].At.After(all[i-1].At) {
			t.Fatalf("not newest first: %s then %s", all[i-1].ID, all[i].ID)
		}
	}
	for _, x := range all {
		want = append(want, x.ID)
	}
	// Pages of 3 with the cursor walk the same list.
	var paged []string
	for p := (commerce.Page{Limit: 3}); ; {
		page, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page {
			paged = append(paged, x.ID)
		}
		if len(page) < p.Limit {
			break
		}
		p.Cursor = page[len(page)-1].ID
	}
	if len(paged) != len(want) {
		t.Fatalf("paged %v, want %v", paged, want)
	}
	for i := range want {
		if paged[i] != want[i] {
			t.Fatalf("paged %v, want %v", paged, want)
		}
	}
	count := func(f commerce.AuditFilter) int { return len(auditOf(t, e, f)) }
	for name, c := range map[string]struct {
		f    commerce.AuditFilter
		want int
	}{
		"actor":          {commerce.AuditFilter{Actor: "key:key_other"}, 4},
		"action":         {commerce.AuditFilter{Action: "adjust_stock"}, 2},
		"entity":         {commerce.AuditFilter{Entity: "customer"}, 4},
		"entity id":      {commerce.AuditFilter{EntityID: a.ID}, 2},
		"entity and id":  {commerce.AuditFilter{Entity: "sku", EntityID: a.ID}, 2},
		"actor + action": {commerce.AuditFilter{Actor: "key:key_test", Action: "adjust_points"}, 2},
		"from":           {commerce.AuditFilter{From: start.Add(4 * time.Hour)}, 3},
		"to":             {commerce.AuditFilter{To: start.Add(2 * time.Hour)}, 3},
		"from to":        {commerce.AuditFilter{From: start.Add(time.Hour), To: start.Add(3 * time.Hour)}, 2},
		"nothing":        {commerce.AuditFilter{Actor: "key:nobody"}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d entries, want %d", name, got, c.want)
		}
	}
	// A filtered list pages too.
	p1, _ := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Actor: "key:key_other"}, commerce.Page{Limit: 3})
	p2, _ := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Actor: "key:key_other"}, commerce.Page{Limit: 3, Cursor: p1[2].ID})
	if len(p1) != 3 || len(p2) != 1 || p2[0].Action != "adjust_points" {
		t.Fatalf("filtered pages %d + %d", len(p1), len(p2))
	}
	_, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{From: start.Add(time.Hour), To: start}, commerce.Page{})
	wantCode(t, err, "out_of_range")
	// Bytes PostgreSQL text cannot hold are refused, naming the filter.
	_, err = e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{Actor: "key:\x00"}, commerce.Page{})
	wantCode(t, err, "invalid_text")
	_, err = e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, commerce.Page{Cursor: "aud_\xff"})
	wantCode(t, err, "invalid_text")
}
