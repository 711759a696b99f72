package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/demo"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/simulate"
	"github.com/carnivalhq/carnival/internal/storage/sqlite"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSimulateAgainstTheDemoServer starts `serve --demo` in process (with
// its own demo traffic on) over a small pre-seeded demo shop, runs
// `carnival simulate` at it for 3 s, and checks through the API that the
// events were ingested and the orders placed and paid show in the KPIs,
// with no 5xx, and that the server then stops cleanly.
func TestSimulateAgainstTheDemoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and traffic for several seconds; skipped with -short")
	}
	ctx := context.Background()
	began := time.Now()
	dir := t.TempDir()
	// A small demo shop, seeded the way serve --demo seeds a big one.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "carnival.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	svc := commerce.NewService(st, commerce.Options{})
	res, err := demo.Seed(ctx, st, demo.Options{Seed: 3, SKUs: 40, Customers: 200, Months: 1, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedFlash(ctx, peak.NewFlash(st, svc, peak.NewMemory(), peak.Options{}), promotion.New(st, svc), svc, res.Shop.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Logf("seeded in %v", time.Since(began))

	srvCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	var out, logs syncBuffer
	served := make(chan error, 1)
	go func() {
		served <- run(srvCtx, []string{"serve", "--demo", "--demo-traffic", "5", "--data", dir, "--addr", "127.0.0.1:0", "--sweep", "200ms"}, &out, &logs)
	}()
	base := ""
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-served:
			t.Fatalf("serve stopped: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s\n%s", out.String(), logs.String())
		}
	}

	t.Logf("serving after %v", time.Since(began))
	var simOut, simErr bytes.Buffer
	err = run(ctx, []string{"simulate", "--url", base, "--key", res.StorefrontKey, "--publishable-key", res.PublishableKey, "--admin-key", res.AdminKey, "--duration", "3s",
		"--rate", "40", "--speed", "3600", "--start-hour", "20", "--uplift", "2", "--uplift-at", "1s", "--flash-at", "500ms", "--flash-burst", "20",
		"--flash-repeat", "0", "--campaign", "test", "--think", "100ms", "--pay-after", "300ms", "--refund-after", "300ms", "--drain", "5s", "--report", "1s", "--seed", "5", "--json"}, &simOut, &simErr)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, simErr.String())
	}
	var snap simulate.Snapshot
	if err := json.Unmarshal(simOut.Bytes(), &snap); err != nil {
		t.Fatalf("simulate's report: %v\n%s", err, simOut.String())
	}
	t.Logf("simulated: %s", snap)
	if snap.Elapsed > 9500*time.Millisecond {
		t.Errorf("the run took %v: it did not stop at the end of the drain (3 s + 5 s)", snap.Elapsed)
	}
	if snap.Visitors < 50 || snap.EventsAccepted == 0 || snap.EventsRejected != 0 || snap.EventsLost != 0 {
		t.Errorf("visitors %d, events accepted %d, rejected %d (%v), lost %d", snap.Visitors, snap.EventsAccepted, snap.EventsRejected, snap.Rejections, snap.EventsLost)
	}
	if snap.Placed == 0 || snap.Paid == 0 {
		t.Errorf("orders placed %d, paid %d", snap.Placed, snap.Paid)
	}
	if snap.Flash["bought"] == 0 {
		t.Errorf("the flash burst bought nothing: %v", snap.Flash)
	}
	if snap.ServerErrors() != 0 || snap.Transport != 0 {
		t.Errorf("server errors %d, transport errors %d", snap.ServerErrors(), snap.Transport)
	}
	if !strings.Contains(simErr.String(), "visitors") {
		t.Errorf("no periodic report on stderr:\n%s", simErr.String())
	}

	// The KPIs show the traffic once the rollups are flushed (every second).
	loc, err := time.LoadLocation(res.Shop.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(loc)
	from, to := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
	var rep analytics.Report
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, err := call(http.DefaultClient, "GET", base+"/api/v1/metrics/kpis?from="+from+"&to="+to, res.AnalystKey, nil, &rep)
		if err != nil || status != 200 {
			t.Fatalf("kpis: %d %v", status, err)
		}
		k := rep.Current.Totals
		if k.PV >= snap.Visitors && k.Orders >= snap.Placed && k.PaidOrders >= snap.Paid && k.PaidAmount > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the KPIs %+v do not show the %d visitors, %d orders placed and %d paid", k, snap.Visitors, snap.Placed, snap.Paid)
		}
	}
	if rep.Current.Totals.UV == nil || *rep.Current.Totals.UV == 0 || rep.Current.Totals.ProductViews == 0 {
		t.Errorf("no visitors or product views in %+v", rep.Current.Totals)
	}
	// Orders carry the channel the visitor came from.
	var orders struct {
		Items []commerce.Order `json:"items"`
	}
	if status, err := call(http.DefaultClient, "GET", base+"/api/v1/orders?limit=200", res.AdminKey, nil, &orders); err != nil || status != 200 {
		t.Fatalf("orders: %d %v", status, err)
	}
	channels := map[string]int{}
	for _, o := range orders.Items {
		channels[o.Channel]++
	}
	if channels["wechat"]+channels["douyin"]+channels["baidu"]+channels["sms"] == 0 {
		t.Errorf("no order from a simulated channel: %v", channels)
	}

	// The server, its demo traffic included, stops promptly and quietly.
	stopServer()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of shutdown")
	}
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, "demo traffic") {
			t.Errorf("logged on the way: %s", l)
		}
	}
}
