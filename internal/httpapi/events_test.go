package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func TestEventsKeepGoodItemsRejectBadOnesAndFeedMetrics(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	ts := e.clock.Now().UTC().Format(time.RFC3339)
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
	if r.status != 200 || out.Accepted != 2 || out.Duplicates != 1 || len(out.Rejected) != 2 || out.Rejected[0].Index != 2 || out.Rejected[1].Code != "server_only" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAnalyst, "POST", "/api/v1/events", map[string]any{"events": []any{}}); r.status != 403 {
		t.Fatalf("analyst may not ingest: %d", r.status)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := e.clock.Now().UTC().Format(time.DateOnly)
	next := e.clock.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/kpis?from="+day+"&to="+next, nil)
	var rep struct {
		Current struct{ Totals struct{ PV, UV int64 } }
	}
	r.json(t, &rep)
	if r.status != 200 || rep.Current.Totals.PV != 1 || rep.Current.Totals.UV != 1 {
		t.Fatalf("%d %s", r.status, r.body)
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
	}, e.counts, nil)
}
