package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func TestEventsKeepGoodItemsRejectBadOnesAndFeedMetrics(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	ts := e.svc.Now().UTC().Format(time.RFC3339)
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/events", map[string]any{"events": []any{
		map[string]any{"id": "e1", "type": "page_view", "ts": ts, "anonymous_id": "a1"},
		map[string]any{"id": "e2", "type": "order_paid", "ts": ts, "anonymous_id": "a1"},
		map[string]any{"id": "e3", "type": "page_view", "ts": ts, "anonymous_id": "a1", "amount": "x"},
		map[string]any{"id": "e1", "type": "page_view", "ts": ts, "anonymous_id": "a1"},
	}})
	var out struct {
		Accepted, Duplicates int
		Rejected             []struct {
			Index       int
			Field, Code string
		}
	}
	r.json(t, &out)
	if r.status != 200 || out.Accepted != 2 || out.Duplicates != 1 || len(out.Rejected) != 2 || out.Rejected[0].Index != 1 || out.Rejected[0].Code != "server_only" || out.Rejected[1].Index != 2 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAnalyst, "POST", "/api/v1/events", map[string]any{"events": []any{}}); r.status != 403 {
		t.Fatalf("analyst may not ingest: %d", r.status)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := e.svc.Now().UTC().Format(time.DateOnly)
	next := e.svc.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/kpis?from="+day+"&to="+next, nil)
	var rep struct {
		Current struct{ Totals struct{ PV, UV int64 } }
	}
	r.json(t, &rep)
	if r.status != 200 || rep.Current.Totals.PV != 1 || rep.Current.Totals.UV != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// The exact row count gives the same answer as the sketches here.
	for _, q := range []string{"kpis?", "funnel?by=channel&"} {
		sk := e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/"+q+"from="+day+"&to="+next, nil)
		ex := e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/"+q+"exact=true&from="+day+"&to="+next, nil)
		if sk.status != 200 || ex.status != 200 || string(sk.body) != string(ex.body) {
			t.Fatalf("%s sketch %d %s, exact %d %s", q, sk.status, sk.body, ex.status, ex.body)
		}
	}
	if r := e.do(commerce.RoleStorefront, "GET", "/api/v1/metrics/funnel?from="+day+"&to="+next, nil); r.status != 403 {
		t.Fatalf("storefront may not read metrics: %d", r.status)
	}
}

func TestEventsBadInput(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]any{}
	}
	e.expectRejected(t, []badInput{
		{name: "not json", method: "POST", path: "/api/v1/events", body: "{", status: 422, code: "malformed_body", field: "events"},
		{name: "too many", method: "POST", path: "/api/v1/events", body: map[string]any{"events": many}, status: 422, code: "too_many", field: "events"},
		{name: "bad date", method: "GET", path: "/api/v1/metrics/kpis?from=x&to=2026-01-01", status: 422, code: "invalid_date", field: "from"},
		{name: "reversed", method: "GET", path: "/api/v1/metrics/funnel?from=2026-01-02&to=2026-01-01", status: 422, code: "invalid_range", field: "to"},
		{name: "exact not a bool", method: "GET", path: "/api/v1/metrics/kpis?from=2026-01-01&to=2026-01-02&exact=maybe", status: 422, code: "validation_failed", field: "exact"},
	}, e.counts, nil)
}

func TestOrdersPaymentsAndRefundsFeedTheKPIs(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 2}}}
	var o commerce.Order
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "k1")
	r.json(t, &o)
	e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", body, "Idempotency-Key", "k1") // a replay is not a second order
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"no": 1, "quantity": 1}}}); r.status != 200 {
		t.Fatalf("refund: %d %s", r.status, r.body)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	shop, _ := e.svc.Shop(context.Background(), e.shop.ID)
	loc, _ := time.LoadLocation(shop.TimeZone)
	now := e.svc.Now().In(loc)
	day := now.Format(time.DateOnly)
	next := now.AddDate(0, 0, 1).Format(time.DateOnly)
	var rep struct {
		Current struct {
			Totals struct {
				GMV             int64 `json:"gmv"`
				Orders          int64 `json:"orders"`
				PaidAmount      int64 `json:"paid_amount"`
				PaidOrders      int64 `json:"paid_orders"`
				Refunds         int64 `json:"refunds"`
				NetSales        int64 `json:"net_sales"`
				PayingCustomers int64 `json:"paying_customers"`
				NewCustomers    int64 `json:"new_customers"`
				AOV             int64 `json:"aov"`
			}
		}
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/kpis?from="+day+"&to="+next, nil)
	r.json(t, &rep)
	got := rep.Current.Totals
	if got.GMV != int64(o.Payable) || got.Orders != 1 || got.PaidAmount != int64(o.Payable) || got.PaidOrders != 1 || got.Refunds != 25800 ||
		got.NetSales != int64(o.Payable)-25800 || got.PayingCustomers != 1 || got.NewCustomers != 1 || got.AOV != int64(o.Payable) {
		t.Fatalf("kpis %+v from %s", got, r.body)
	}
}

func TestTheTrackerIsSmallCachedAndSendsToTheEventsAPI(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	r := e.do(commerce.RoleAdmin, "GET", "/t.js", nil)
	if r.status != 200 || len(r.body) >= 3072 || r.header.Get("Cache-Control") != "public, max-age=86400" ||
		!strings.Contains(string(r.body), "/api/v1/events") || !strings.Contains(string(r.body), "keepalive") {
		t.Fatalf("%d, %d bytes, cache %q", r.status, len(r.body), r.header.Get("Cache-Control"))
	}
	if r := e.do(commerce.RoleAdmin, "OPTIONS", "/api/v1/events", nil); r.status != 204 || r.header.Get("Access-Control-Allow-Headers") == "" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
}
