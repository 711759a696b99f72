package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func TestRawEventsExportByShopLocalDays(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 1000) // 11 Nov 2026 08:00 in Shanghai
	// 23:59:59 on the 10th, 00:00 on the 11th and 08:00 on the 11th, Shanghai time.
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/events", map[string]any{"events": []any{
		map[string]any{"id": "late-10th", "type": "page_view", "ts": "2026-11-10T15:59:59Z", "anonymous_id": "a1"},
		map[string]any{"id": "midnight", "type": "product_view", "ts": "2026-11-10T16:00:00Z", "anonymous_id": "a1", "sku_id": "s1", "utm_source": "wechat"},
		map[string]any{"id": "morning", "type": "page_view", "ts": "2026-11-11T00:00:00Z", "customer_id": "c1", "url": "https://shop.example/p?q=\"x\""},
	}})
	if r.status != 200 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, page := range []int{5000, 1} { // one read, and one read per event
		restore := httpapi.SetExportPage(page)
		r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/events/export?from=2026-11-11&to=2026-11-12", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("page %d: %d %s %s", page, r.status, r.header.Get("Content-Type"), r.body)
		}
		var got []analytics.Event
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		for sc.Scan() {
			var ev analytics.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			got = append(got, ev)
		}
		if len(got) != 2 || got[0].ID != "midnight" || got[0].SKUID != "s1" || got[0].UTMSource != "wechat" ||
			got[1].ID != "morning" || got[1].CustomerID != "c1" || got[1].URL != `https://shop.example/p?q="x"` {
			t.Fatalf("page %d: exported %+v", page, got)
		}
		// Events answer in the shop's offset, as every time does.
		if !bytes.Contains(r.body, []byte(`"ts":"2026-11-11T00:00:00+08:00"`)) || !bytes.Contains(r.body, []byte(`"ts":"2026-11-11T08:00:00+08:00"`)) {
			t.Fatalf("page %d: times not in the shop's offset: %s", page, r.body)
		}
		restore()
	}
	if r := e.do(commerce.RoleAnalyst, "GET", "/api/v1/events/export?from=2026-11-10&to=2026-11-11", nil); r.status != 200 || bytes.Count(r.body, []byte("\n")) != 1 {
		t.Fatalf("the 10th: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "GET", "/api/v1/events/export?from=2026-11-11&to=2026-11-12", nil); r.status != 403 {
		t.Fatalf("a storefront key may not export: %d", r.status)
	}
	e.expectRejected(t, []badInput{
		{"no from", "GET", "/api/v1/events/export?to=2026-11-12", nil, 422, "invalid_date", "from"},
		{"from not a date", "GET", "/api/v1/events/export?from=11/11/2026&to=2026-11-12", nil, 422, "invalid_date", "from"},
		{"to before from", "GET", "/api/v1/events/export?from=2026-11-12&to=2026-11-11", nil, 422, "invalid_range", "to"},
	}, func() string { return "" }, nil)
}
