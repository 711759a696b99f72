package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// today returns the shop-local day and the next, as the API takes them.
func (e *env) today(t *testing.T) (string, string) {
	shop, err := e.svc.Shop(context.Background(), e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(shop.TimeZone)
	now := e.svc.Now().In(loc)
	return now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
}

func TestAnOrdersLinesFeedTopSKUsChannelsAndCohorts(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	ts := e.svc.Now().UTC().Format(time.RFC3339)
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/events", map[string]any{"events": []any{
		map[string]any{"id": "v1", "type": "product_view", "ts": ts, "anonymous_id": "a1", "sku_id": e.sku.ID},
		map[string]any{"id": "v2", "type": "product_view", "ts": ts, "anonymous_id": "a2", "sku_id": e.sku.ID},
		map[string]any{"id": "v3", "type": "page_view", "ts": ts, "anonymous_id": "a3", "utm_source": "wx"},
		map[string]any{"id": "l1", "type": "page_view", "ts": ts, "anonymous_id": "a1", "lines": []any{map[string]any{"sku_id": "x", "quantity": 1, "amount": 1}}},
	}})
	var ing struct {
		Accepted int
		Rejected []struct {
			Index       int
			Field, Code string
		}
	}
	r.json(t, &ing)
	if ing.Accepted != 3 || len(ing.Rejected) != 1 || ing.Rejected[0].Field != "lines" || ing.Rejected[0].Code != "server_only" {
		t.Fatalf("a storefront may not send lines: %s", r.body)
	}
	var o commerce.Order
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 3}}}, "Idempotency-Key", "k1")
	r.json(t, &o)
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	day, next := e.today(t)

	var skus struct {
		SKUs []analytics.SKURow `json:"skus"`
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/top-skus?from="+day+"&to="+next+"&by=units", nil)
	r.json(t, &skus)
	// 3 units of one SKU paid, 2 product views: view→paid 3/2 = 15 000 bp.
	if r.status != 200 || len(skus.SKUs) != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	k := skus.SKUs[0]
	if k.SKUID != e.sku.ID || k.ProductName != "商品" || k.ProductViews != 2 || k.Orders != 1 || k.Units != 3 || k.GMV != int64(o.Lines[0].Payable) ||
		k.PaidUnits != 3 || k.PaidAmount != int64(o.Lines[0].Payable) || k.ViewToCartBP == nil || *k.ViewToCartBP != 0 || *k.ViewToPaidBP != 15000 || o.Lines[0].Payable != o.Payable-o.Shipping {
		t.Fatalf("top sku %+v, order %+v", k, o)
	}

	var ch struct {
		Channels []analytics.ChannelRow `json:"channels"`
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/channels?from="+day+"&to="+next, nil)
	r.json(t, &ch)
	// Direct: a1, a2 (the customer ordered without a tracked visit); wx: a3.
	if r.status != 200 || len(ch.Channels) != 2 || ch.Channels[0].Channel != "" || ch.Channels[0].UV != 2 || ch.Channels[0].PaidAmount != int64(o.Payable) ||
		ch.Channels[0].PayingCustomers != 1 || *ch.Channels[0].ConversionBP != 5000 || ch.Channels[0].ROIBP != nil || ch.Channels[1].Channel != "wx" || ch.Channels[1].UV != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}

	var co struct {
		Cohorts []analytics.CohortRow `json:"cohorts"`
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/metrics/cohorts?from="+day+"&to="+next+"&period=month&periods=3", nil)
	r.json(t, &co)
	if r.status != 200 || len(co.Cohorts) != 1 || co.Cohorts[0].Size != 1 || len(co.Cohorts[0].Periods) != 1 || co.Cohorts[0].Periods[0].Customers != 1 ||
		*co.Cohorts[0].Periods[0].ShareBP != 10000 || co.Cohorts[0].Start != day[:8]+"01" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "GET", "/api/v1/metrics/cohorts?from="+day+"&to="+next, nil); r.status != 403 {
		t.Fatalf("storefront may not read cohorts: %d", r.status)
	}
}

func TestAnalyticsViewsBadInput(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	q := "?from=2026-11-01&to=2026-11-08"
	e.expectRejected(t, []badInput{
		{name: "channels bad from", method: "GET", path: "/api/v1/metrics/channels?from=11/01&to=2026-11-08", status: 422, code: "invalid_date", field: "from"},
		{name: "channels no to", method: "GET", path: "/api/v1/metrics/channels?from=2026-11-01", status: 422, code: "validation_failed", field: "to"},
		{name: "channels unknown campaign", method: "GET", path: "/api/v1/metrics/channels" + q + "&campaign_id=cmp_nope", status: 404, code: "campaign_not_found"},
		{name: "channels campaign too long", method: "GET", path: "/api/v1/metrics/channels" + q + "&campaign_id=" + strings.Repeat("c", 65), status: 422, code: "validation_failed", field: "campaign_id"},
		{name: "top skus bad by", method: "GET", path: "/api/v1/metrics/top-skus" + q + "&by=gmv", status: 422, code: "validation_failed", field: "by"},
		{name: "top skus limit 0", method: "GET", path: "/api/v1/metrics/top-skus" + q + "&limit=0", status: 422, code: "validation_failed", field: "limit"},
		{name: "top skus limit 101", method: "GET", path: "/api/v1/metrics/top-skus" + q + "&limit=101", status: 422, code: "validation_failed", field: "limit"},
		{name: "top skus limit text", method: "GET", path: "/api/v1/metrics/top-skus" + q + "&limit=ten", status: 422, code: "validation_failed", field: "limit"},
		{name: "top skus reversed", method: "GET", path: "/api/v1/metrics/top-skus?from=2026-11-08&to=2026-11-01", status: 422, code: "invalid_range", field: "to"},
		{name: "cohorts bad period", method: "GET", path: "/api/v1/metrics/cohorts" + q + "&period=day", status: 422, code: "validation_failed", field: "period"},
		{name: "cohorts 25 periods", method: "GET", path: "/api/v1/metrics/cohorts" + q + "&periods=25", status: 422, code: "validation_failed", field: "periods"},
		{name: "cohorts 0 periods", method: "GET", path: "/api/v1/metrics/cohorts" + q + "&periods=0", status: 422, code: "validation_failed", field: "periods"},
		{name: "cohorts over a year", method: "GET", path: "/api/v1/metrics/cohorts?from=2025-01-01&to=2026-11-08", status: 422, code: "invalid_range", field: "to"},
		{name: "live interval 0", method: "GET", path: "/api/v1/metrics/live?interval=0", status: 422, code: "out_of_range", field: "interval"},
		{name: "live interval 61", method: "GET", path: "/api/v1/metrics/live?interval=61", status: 422, code: "out_of_range", field: "interval"},
		{name: "live interval text", method: "GET", path: "/api/v1/metrics/live?interval=5s", status: 422, code: "out_of_range", field: "interval"},
	}, e.counts, nil)
	for _, role := range []string{commerce.RoleStorefront, ""} {
		r := e.do(role, "GET", "/api/v1/metrics/live", nil)
		if r.status != 403 && r.status != 401 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("live as %q: %d %s", role, r.status, r.body)
		}
	}
}

// sseEvent reads one event (up to its blank line) from a stream.
func sseEvent(t *testing.T, rd *bufio.Reader) (string, analytics.Tiles) {
	t.Helper()
	var name string
	var tl analytics.Tiles
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			return name, tl
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[len("data: "):]), &tl); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		}
	}
}

func TestLiveTilesStreamChangesAndEndAtShutdown(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	api := httpapi.New(e.cfg)
	srv := httptest.NewUnstartedServer(api.Handler())
	// A write timeout shorter than the stream: the stream lifts it.
	srv.Config.WriteTimeout = 1500 * time.Millisecond
	srv.Config.RegisterOnShutdown(api.StopStreams)
	srv.Start()
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/metrics/live?interval=1", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys[commerce.RoleAnalyst])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(res.Body)
	name, first := sseEvent(t, rd)
	day, _ := e.today(t)
	if name != "tiles" || first.UV != 0 || first.PaidAmount != 0 || first.Day != day || len(first.LastHour) != 60 || first.AsOf.IsZero() {
		t.Fatalf("first event %q %+v", name, first)
	}
	// as_of is in the shop's offset and names the stream's last minute.
	if _, off := first.AsOf.Zone(); off != 8*3600 || first.AsOf.Format("2006-01-02T15:04") != first.LastHour[59].Minute {
		t.Fatalf("as_of %s, last minute %s: want the same shop-local minute at +08:00", first.AsOf.Format(time.RFC3339), first.LastHour[59].Minute)
	}
	var o commerce.Order
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}, "Idempotency-Key", "k1")
	r.json(t, &o)
	e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil)
	ts := e.svc.Now().UTC().Format(time.RFC3339)
	e.do(commerce.RoleStorefront, "POST", "/api/v1/events", map[string]any{"events": []any{map[string]any{"id": "v1", "type": "page_view", "ts": ts, "customer_id": e.cust.ID}}})
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Events keep coming past the 1.5 s write timeout; one shows the order.
	var got analytics.Tiles
	for i := 0; i < 4; i++ {
		_, got = sseEvent(t, rd)
		if got.PaidAmount != 0 {
			break
		}
	}
	last := got.LastHour[len(got.LastHour)-1]
	if got.PaidAmount != int64(o.Payable) || got.PaidOrders != 1 || got.Orders != 1 || got.UV != 1 || got.PayingCustomers != 1 ||
		*got.ConversionBP != 10000 || *got.AOV != int64(o.Payable) || !got.AsOf.After(first.AsOf) {
		t.Fatalf("after an order: %+v", got)
	}
	if last.PaidAmount+got.LastHour[len(got.LastHour)-2].PaidAmount != int64(o.Payable) { // this minute, or the one before if it just turned
		t.Fatalf("last minutes: %+v", got.LastHour[len(got.LastHour)-2:])
	}
	time.Sleep(1600 * time.Millisecond) // past the write timeout
	if _, more := sseEvent(t, rd); more.AsOf.IsZero() {
		t.Fatal("no event after the write timeout")
	}

	// Shutdown ends the stream instead of waiting for it.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Config.Shutdown(ctx)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("shutdown waits on the live stream")
	}
	for {
		if _, err := rd.ReadString('\n'); err != nil {
			break // the stream ended
		}
	}
}
