package httpapi_test

import (
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// freshQuote is what these tests read of a quote.
type freshQuote struct {
	Totals struct {
		PointsUsed     int64 `json:"points_used"`
		CouponDiscount int64 `json:"coupon_discount"`
	} `json:"totals"`
	Applied []struct {
		Source string `json:"source"`
		ID     string `json:"id"`
	} `json:"applied"`
	NotApplied []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"not_applied"`
	Caps []struct {
		What      string `json:"what"`
		Requested int64  `json:"requested"`
		Allowed   int64  `json:"allowed"`
	} `json:"caps"`
}

func (q freshQuote) applied(id string) bool {
	return slices.ContainsFunc(q.Applied, func(a struct {
		Source string `json:"source"`
		ID     string `json:"id"`
	}) bool {
		return a.ID == id
	})
}

func (q freshQuote) coupons() int {
	n := 0
	for _, a := range q.Applied {
		if a.Source == "coupon" {
			n++
		}
	}
	return n
}

// quoteAt asks base (a node) for a quote of one unit of the env's SKU for
// the env's customer with the given points and the best coupons.
func (e *env) quoteAt(t *testing.T, base string, points int64) freshQuote {
	t.Helper()
	body := `{"customer_id":"` + e.cust.ID + `","lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}],"best_coupons":true,"points":` + itoa(int(points)) + `}`
	r := send(t, e.keys, base, quoteCall{role: commerce.RoleStorefront, body: body})
	if r.status != 200 {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	var q freshQuote
	r.json(t, &q)
	return q
}

// newcomerOffer saves 新人满100减20, for customers without a paid order.
func (e *env) newcomerOffer(t *testing.T) string {
	t.Helper()
	r := e.do(commerce.RoleAdmin, "POST", "/api/v1/promotions", map[string]any{"name": "新人满100减20", "kind": "threshold_off",
		"scope": map[string]any{"all": true}, "audience": map[string]any{"new_customers_only": true},
		"tiers": []map[string]any{{"threshold": 10000, "off": 2000}}, "acknowledge_margin_risk": true})
	if r.status != 201 {
		t.Fatalf("promotion: %d %s", r.status, r.body)
	}
	var p struct{ ID string }
	r.json(t, &p)
	return p.ID
}

func (e *env) mustDo(t *testing.T, want int, method, path string, body any) resp {
	t.Helper()
	r := e.do(commerce.RoleAdmin, method, path, body)
	if r.status != want {
		t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	return r
}

func (e *env) orderWith(t *testing.T, points int64, coupons bool) string {
	t.Helper()
	r := e.mustDo(t, 201, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "points": points, "best_coupons": coupons,
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
	var o struct{ ID string }
	r.json(t, &o)
	return o.ID
}

// TestQuoteSeesTheCustomersOwnChangesAtOnce: every quote here follows the
// customer's own order, payment, cancellation, refund, points move or coupon
// claim within milliseconds, on a node whose caches the previous quote has
// just filled; each must price the customer as they now are.
func TestQuoteSeesTheCustomersOwnChangesAtOnce(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			base := e.srv.URL
			offer := e.newcomerOffer(t)
			q := e.quoteAt(t, base, 1000)
			if !q.applied(offer) || q.Totals.PointsUsed != 0 {
				t.Fatalf("before any points: %+v", q)
			}
			e.mustDo(t, 200, "POST", "/api/v1/customers/"+e.cust.ID+"/points", map[string]any{"delta": 1000, "reason": "签到"})
			if q = e.quoteAt(t, base, 1000); q.Totals.PointsUsed != 1000 {
				t.Fatalf("points credited a moment ago are not offered: %+v", q)
			}
			// The order holds the points: the next quote cannot offer them.
			ord := e.orderWith(t, 1000, false)
			if q = e.quoteAt(t, base, 1000); q.Totals.PointsUsed != 0 {
				t.Fatalf("points held by the unpaid order %s are still offered: %+v", ord, q)
			}
			if !q.applied(offer) {
				t.Fatalf("an unpaid order made the customer not new: %+v", q)
			}
			// The first payment ends the newcomer offer.
			e.mustDo(t, 200, "POST", "/api/v1/orders/"+ord+"/pay", nil)
			if q = e.quoteAt(t, base, 0); q.applied(offer) {
				t.Fatalf("新人满减 still offered right after the first paid order: %+v", q)
			}
			// A refund gives the points back.
			e.mustDo(t, 200, "POST", "/api/v1/orders/"+ord+"/refunds", map[string]any{"lines": []map[string]any{{"no": 1, "quantity": 1}}})
			if q = e.quoteAt(t, base, 1000); q.Totals.PointsUsed != 1000 {
				t.Fatalf("points refunded a moment ago are not offered: %+v", q)
			}
			// A claimed coupon is offered at once; locked by an unpaid
			// order it is not; released by the cancellation it is again.
			tpl := e.fiveYuanTemplate(t)
			if q.coupons() != 0 {
				t.Fatalf("a coupon before any claim: %+v", q)
			}
			if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", map[string]any{"template_id": tpl.ID, "customer_id": e.cust.ID}); r.status != 201 {
				t.Fatalf("claim: %d %s", r.status, r.body)
			}
			if q = e.quoteAt(t, base, 0); q.coupons() != 1 {
				t.Fatalf("a coupon claimed a moment ago is not offered: %+v", q)
			}
			ord = e.orderWith(t, 0, true)
			if q = e.quoteAt(t, base, 0); q.coupons() != 0 {
				t.Fatalf("the coupon locked by unpaid order %s is still offered: %+v", ord, q)
			}
			e.mustDo(t, 200, "POST", "/api/v1/orders/"+ord+"/cancel", nil)
			if q = e.quoteAt(t, base, 0); q.coupons() != 1 {
				t.Fatalf("the coupon released by the cancellation is not offered: %+v", q)
			}
		})
	}
}

// node is a second Carnival node: its own services and caches over the
// same database as e.
func (e *env) node(t *testing.T) string {
	t.Helper()
	st := storetest.SecondNode(t, e.store)
	svc := commerce.NewService(st, commerce.Options{})
	ps := promotion.New(st, svc)
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Commerce: svc, Promotions: ps, Logger: slog.New(slog.NewTextHandler(testLog, nil))}).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestQuoteOnAnotherNodeSeesTheCustomersPaymentAtOnce: two nodes over one
// database; the customer orders and pays on node A and quotes on node B,
// whose caches a quote filled just before.
func TestQuoteOnAnotherNodeSeesTheCustomersPaymentAtOnce(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			b := e.node(t)
			offer := e.newcomerOffer(t)
			e.mustDo(t, 200, "POST", "/api/v1/customers/"+e.cust.ID+"/points", map[string]any{"delta": 1000, "reason": "签到"})
			if q := e.quoteAt(t, b, 1000); !q.applied(offer) || q.Totals.PointsUsed != 1000 {
				t.Fatalf("node B before the order: %+v", q)
			}
			ord := e.orderWith(t, 1000, false) // on node A
			if q := e.quoteAt(t, b, 1000); q.Totals.PointsUsed != 0 {
				t.Fatalf("node B offers the points node A's unpaid order holds: %+v", q)
			}
			e.mustDo(t, 200, "POST", "/api/v1/orders/"+ord+"/pay", nil)
			if q := e.quoteAt(t, b, 0); q.applied(offer) {
				t.Fatalf("node B still offers 新人满减 after node A took the first payment: %+v", q)
			}
		})
	}
}

// TestOrderAskingForMorePointsThanFreeIsRefused: the quote prices with the
// free balance and says so in caps; the order is refused with 409
// points_exceed_balance naming points and the available balance, and writes
// nothing; a retry of a placed order with its key still replays it.
func TestOrderAskingForMorePointsThanFreeIsRefused(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			e.mustDo(t, 200, "POST", "/api/v1/customers/"+e.cust.ID+"/points", map[string]any{"delta": 1200, "reason": "签到"})
			q := e.quoteAt(t, e.srv.URL, 5000)
			i := slices.IndexFunc(q.Caps, func(c struct {
				What      string `json:"what"`
				Requested int64  `json:"requested"`
				Allowed   int64  `json:"allowed"`
			}) bool {
				return c.What == "points_balance"
			})
			if i < 0 || q.Caps[i].Requested != 5000 || q.Caps[i].Allowed != 1200 || q.Totals.PointsUsed != 1200 {
				t.Fatalf("the quote does not say 1200 of the 5000 points are free: %+v", q)
			}
			before := e.counts()
			body := map[string]any{"customer_id": e.cust.ID, "points": 5000, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}
			r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body)
			var p struct {
				Code  string `json:"code"`
				Field string `json:"field"`
				Extra struct {
					Available *int64 `json:"available"`
					Requested int64  `json:"requested"`
				} `json:"extra"`
			}
			r.json(t, &p)
			if r.status != 409 || p.Code != "points_exceed_balance" || p.Field != "points" || p.Extra.Available == nil || *p.Extra.Available != 1200 || p.Extra.Requested != 5000 {
				t.Fatalf("an order asking 5000 points of 1200 free: %d %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if after := e.counts(); after != before {
				t.Fatalf("the refused order wrote:\n%s\n%s", before, after)
			}
			// Exactly the free balance is fine; its retry (same key) replays
			// the order (200, the same body) although the points are now held.
			body["points"] = 1200
			first := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "pts-1")
			again := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "pts-1")
			if first.status != 201 || again.status != 200 || string(first.body) != string(again.body) {
				t.Fatalf("order with the whole balance and its retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
			}
			// Now nothing is free.
			body["points"] = 100
			if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body); r.status != 409 || !strings.Contains(string(r.body), `"available":0`) {
				t.Fatalf("an order asking 100 points of 0 free: %d %s", r.status, r.body)
			}
		})
	}
}
