package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// idMark stands for an event id's per-request prefix in a body template.
const idMark = "\x00"

// eventTemplate is a batch of n storefront events (mostly page views, some
// product views and add-to-carts, 20 000 visitors, 4 channels, 3
// campaigns) whose ids are idMark + index: each request fills in its own
// prefix so every event ever sent is new and must be stored.
func eventTemplate(n int, ts time.Time, skus []commerce.SKU, seed int) []byte {
	evs := make([]map[string]any, n)
	for i := range evs {
		k := seed*n + i
		typ, sku := analytics.PageView, ""
		switch k % 10 {
		case 7, 8:
			typ, sku = analytics.ProductView, skus[k%len(skus)].ID
		case 9:
			typ, sku = analytics.AddToCart, skus[k%len(skus)].ID
		}
		evs[i] = map[string]any{"id": idMark + strconv.Itoa(i), "type": typ, "ts": ts.Format(time.RFC3339Nano),
			"anonymous_id": "anon-" + strconv.Itoa(k*7919%20000), "session_id": "s" + strconv.Itoa(k%5000), "sku_id": sku,
			"utm_source": []string{"", "wechat", "douyin", "baidu"}[k%4], "utm_campaign": []string{"", "d11", "d12"}[k%3],
			"device": "mobile", "url": "https://shop.example/p/" + strconv.Itoa(k%300)}
	}
	b, _ := json.Marshal(map[string]any{"events": evs})
	return bytes.ReplaceAll(b, []byte(`\u0000`), []byte(idMark))
}

func benchEvents(ctx context.Context, st *sqlstore.Store, svc *commerce.Service, shopID, key, hello string, skus []commerce.SKU,
	conc, dur int, batch int, useWrk bool, cpuprofile string, stdout io.Writer) error {
	ing, err := analytics.NewIngestor(ctx, st, analytics.Options{Location: analytics.ShopLocation(svc), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Config{Commerce: svc, Analytics: ing, AnalyticsStore: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: st.Ping})
	url, stop, err := listen(api.Handler())
	if err != nil {
		return err
	}
	defer stop()
	d := time.Duration(dur) * time.Second
	templates := make([][]byte, 16)
	for i := range templates {
		templates[i] = eventTemplate(batch, time.Now(), skus, i)
	}
	fmt.Fprintf(stdout, "events: %d per batch (%d KB), %d clients, %s per run, GOMAXPROCS %d, engine %s, generator %s\n", batch, len(templates[0])/1024, conc, d,
		numProcs(), st.Dialect().Name, map[bool]string{true: "wrk", false: "Go client"}[useWrk])
	run := func(url, key string) (loadResult, error) {
		if useWrk {
			return wrkEvents(ctx, url, key, templates, conc, d)
		}
		var seq atomic.Int64
		r, _ := runLoad(ctx, conc, d, func(c *http.Client, i int) error {
			p := "g" + strconv.FormatInt(seq.Add(1), 36) + "-"
			body := bytes.ReplaceAll(templates[i%len(templates)], []byte(idMark), []byte(p))
			_, err := post(c, url, key, body, false)
			return err
		})
		return r, nil
	}
	base, err := run(hello+"/", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hello-world baseline: %s  = %8.0f events/s\n", base, base.rate*float64(batch))
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
	}
	res, err := run(url+"/api/v1/events", key)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ingest events:        %s  = %8.0f events/s  (%.0f%% of baseline requests)\n", res, res.rate*float64(batch), 100*res.rate/base.rate)
	// Invariants: every acknowledged event is stored once, and after a
	// flush the rollups count exactly the stored events at every grain.
	t0 := time.Now()
	if err := ing.Close(); err != nil {
		return err
	}
	flushed := time.Since(t0)
	stored, err := st.CountEvents(ctx, shopID)
	if err != nil {
		return err
	}
	want := res.ok * int64(batch)
	fmt.Fprintf(stdout, "stored raw events %d, acknowledged %d (final rollup flush %s)\n", stored, want, flushed.Round(time.Millisecond))
	// The Go client counts every answer; wrk stops counting at its
	// deadline, so up to one batch per connection may land uncounted.
	slack := int64(0)
	if useWrk {
		slack = int64(conc * batch)
	}
	if stored < want || stored > want+slack {
		return fmt.Errorf("stored %d events, acknowledged %d", stored, want)
	}
	for _, g := range []string{analytics.Minute, analytics.Hour, analytics.Day} {
		rows, err := st.RollupCounters(ctx, shopID, g, 0, 1<<62, analytics.Filter{})
		if err != nil {
			return err
		}
		var n int64
		for _, r := range rows {
			n += r.PV + r.ProductViews + r.Carts + r.Checkouts + r.Searches + r.Shares
		}
		fmt.Fprintf(stdout, "rollup %s: %d events counted\n", g, n)
		if n != stored {
			return fmt.Errorf("rollup %s counts %d events, %d stored", g, n, stored)
		}
	}
	if res.failed > 0 {
		return fmt.Errorf("%d batches failed", res.failed)
	}
	return nil
}

// wrkEvents drives url with wrk, each request a template with its own id
// prefix (thread and counter), built by table.concat in wrk's LuaJIT.
func wrkEvents(ctx context.Context, url, key string, templates [][]byte, conc int, dur time.Duration) (loadResult, error) {
	var lua strings.Builder
	lua.WriteString("local templates = {\n")
	for _, t := range templates {
		lua.WriteString("  {")
		for i, part := range strings.Split(string(t), idMark) {
			if i > 0 {
				lua.WriteString(", ")
			}
			fmt.Fprintf(&lua, "%q", part)
		}
		lua.WriteString("},\n")
	}
	lua.WriteString(`}
local counter, k, buf = 0, 0, {}
-- setup runs in the main state; thread:set puts tid in each thread's
-- globals (a local here would shadow it and repeat ids across threads).
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
`)
	if key != "" {
		fmt.Fprintf(&lua, "wrk.headers[\"Authorization\"] = %q\n", "Bearer "+key)
	}
	lua.WriteString(`request = function()
  counter = counter + 1
  k = k % #templates + 1
  local parts = templates[k]
  local p = "w" .. tostring(tid or 0) .. "-" .. counter .. "-"
  local n = #parts
  for j = 1, n - 1 do buf[2*j-1] = parts[j]; buf[2*j] = p end
  buf[2*n-1] = parts[n]
  for j = 2*n, #buf do buf[j] = nil end
  return wrk.format(nil, nil, nil, table.concat(buf))
end
`)
	return runWrk(ctx, lua.String(), url, conc, dur)
}
