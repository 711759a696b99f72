package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/redis"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// bench runs a load generator against a server it starts on loopback, and
// the same generator against a hello-world Go server in the same run, so
// the figure always comes with its baseline.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "orders" && args[0] != "quote" && args[0] != "flash" && args[0] != "events") {
		return errors.New("usage: carnival bench orders|quote|flash|events [--db postgres://…] [--duration 10s] [--concurrency 64] [--skus 200]")
	}
	what := args[0]
	tuneGC()
	fs := flag.NewFlagSet("carnival bench "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &Config{}
	flagsStore(fs, cfg)
	dur := fs.Duration("duration", 10*time.Second, "how long each measurement runs")
	conc := fs.Int("concurrency", 64, "concurrent clients")
	nSKU := fs.Int("skus", 200, "SKUs the orders spread over")
	pay := fs.Bool("pay", false, "pay each order after placing it (two requests per order)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the order run to this file")
	fs.StringVar(&cfg.Redis, "redis", "", "flash: admit in Redis at this URL (the scale-out engine) instead of in process")
	units := fs.Int64("units", 200, "flash: units allocated to each of the sale's 5 SKUs")
	customers := fs.Int("customers", 20000, "flash: customers the attempts come from")
	useWrk := fs.Bool("wrk", false, "drive the load with wrk (apt install wrk) instead of the Go client; both runs use the same generator")
	batch := fs.Int("batch", 100, "events: events per batch (at most 1000)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "carnival-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := commerce.NewService(st, commerce.Options{})
	shop, err := svc.CreateShop(ctx, "Bench", "")
	if err != nil {
		return err
	}
	_, key, err := svc.CreateAPIKey(ctx, shop.ID, commerce.RoleStorefront, "bench")
	if err != nil {
		return err
	}
	admin := commerce.Actor{ShopID: shop.ID}
	stock := int64(10_000_000)
	var items []commerce.ProductUpsert
	for i := 0; i < *nSKU; i++ {
		items = append(items, commerce.ProductUpsert{Code: fmt.Sprintf("P%04d", i), Name: fmt.Sprintf("商品 %d", i),
			SKUs: []commerce.SKUUpsert{{Code: fmt.Sprintf("S%04d", i), Price: int64(990 + 100*i), Cost: 500, Stock: &stock}}})
	}
	skus, err := svc.UpsertProducts(ctx, admin, items)
	if err != nil {
		return err
	}
	ps := promotion.New(st, svc)
	var eng peak.Engine = peak.NewMemory()
	if cfg.Redis != "" {
		rc, err := redis.Connect(ctx, cfg.Redis)
		if err != nil {
			return err
		}
		defer rc.Close()
		eng = redis.NewEngine(rc, redis.EngineOptions{Prefix: "carnival-bench-" + shop.ID})
	}
	flash := peak.NewFlash(st, svc, eng, peak.Options{})
	// The guard runs as in production: every buy is checked against the
	// sale's rate limits and the block list.
	gd, err := guard.New(ctx, st, guard.NewMemoryLimiter(nil), guard.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer gd.Close()
	api := httpapi.New(httpapi.Config{Commerce: svc, Promotions: ps, Flash: flash, Guard: gd, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: st.Ping})
	url, stopAPI, err := listen(api.Handler())
	if err != nil {
		return err
	}
	defer stopAPI()
	hello, stopHello, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	if err != nil {
		return err
	}
	defer stopHello()
	if what == "quote" && *nSKU < 20 {
		return errors.New("bench quote needs at least 20 SKUs")
	}

	if what == "events" {
		return benchEvents(ctx, st, svc, shop.ID, key, hello, skus, *conc, int(*dur/time.Second), *batch, *useWrk, *cpuprofile, stdout)
	}
	if what == "flash" {
		fb := &flashBench{reg: api.Registry(), st: st, svc: svc, flash: flash, shopID: shop.ID, key: key, skus: skus, seeded: stock, hello: hello, url: url,
			conc: *conc, dur: *dur, useWrk: *useWrk, profile: *cpuprofile, customer: *customers}
		if err := fb.setup(ctx, *units); err != nil {
			return err
		}
		return fb.run(ctx, stdout)
	}
	if what == "quote" {
		return benchQuote(ctx, svc, ps, shop.ID, skus, url, key, hello, *conc, *dur, *cpuprofile, *useWrk, stdout)
	}
	bodies := make([][]byte, 64)
	for i := range bodies {
		req := map[string]any{"lines": []map[string]any{
			{"sku_id": skus[(i*7)%len(skus)].ID, "quantity": 1 + i%3},
			{"sku_id": skus[(i*13+1)%len(skus)].ID, "quantity": 1},
		}}
		bodies[i], _ = json.Marshal(req)
	}
	fmt.Fprintf(stdout, "engine %s, %d clients, %s per run, GOMAXPROCS %d\n", st.Dialect().Name, *conc, *dur, numProcs())
	if *useWrk && *pay {
		return errors.New("--wrk places orders only; drop --pay")
	}
	run := func(url, key string) (loadResult, error) {
		return drive(ctx, *useWrk, url, key, bodies, *conc, *dur, *pay)
	}
	base, err := run(hello+"/", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hello-world baseline: %s\n", base)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	res, err := run(url+"/api/v1/orders", key)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "place order%s:        %s  (%.0f%% of baseline)\n", map[bool]string{true: "+pay", false: ""}[*pay], res, 100*res.rate/base.rate)
	return checkConservation(ctx, st, shop.ID, skus, stock, res.ok, stdout)
}

type loadResult struct {
	ok, failed int64
	rate       float64
	p50, p99   time.Duration
	// non2xx and answered (every response, per second) are wrk's view,
	// for runs where a 4xx is a correct answer.
	non2xx   int64
	answered float64
}

// counting4xx treats wrk's non-2xx responses as answers: for buy attempts a
// 409 sold-out is the right answer. The caller checks for 5xx itself.
func (r loadResult) counting4xx() loadResult {
	r.ok += r.non2xx
	r.failed -= r.non2xx
	r.non2xx = 0
	r.rate = r.answered
	return r
}

func (r loadResult) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %-9s p99 %-9s ok %d, errors %d", r.rate, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.ok, r.failed)
}

// drive loads url with wrk or with the Go client.
func drive(ctx context.Context, useWrk bool, url, key string, bodies [][]byte, conc int, dur time.Duration, pay bool) (loadResult, error) {
	if useWrk {
		return wrkLoad(ctx, url, key, bodies, conc, dur)
	}
	return load(ctx, url, key, bodies, conc, dur, pay), nil
}

func load(ctx context.Context, url, key string, bodies [][]byte, conc int, dur time.Duration, pay bool) loadResult {
	r, _ := runLoad(ctx, conc, dur, func(c *http.Client, i int) error {
		id, err := post(c, url, key, bodies[i%len(bodies)], pay)
		if err == nil && pay {
			_, err = post(c, url+"/"+id+"/pay", key, nil, false)
		}
		return err
	})
	return r
}

// runLoad runs conc workers for dur, each calling one with its own running
// number (workers start far apart in it); an error from one counts as a
// failure, and the status of a *statusError is counted by status too. It
// returns throughput and latency over the calls that did not fail, and
// those answers by status.
func runLoad(ctx context.Context, conc int, dur time.Duration, one func(c *http.Client, i int) error) (loadResult, map[int]int64) {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	codes := map[int]int64{}
	var ok, failed atomic.Int64
	lat := make([][]time.Duration, conc)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[int]int64{}
			for i := w * 61; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := one(client, i)
				var a answer
				if errors.As(err, &a) {
					local[int(a)]++
					err = nil
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				ok.Add(1)
			}
			mu.Lock()
			for c, n := range local {
				codes[c] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := loadResult{ok: ok.Load(), failed: failed.Load(), rate: float64(ok.Load()) / elapsed.Seconds()}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r, codes
}

// statusError is an answer post did not count as a success.
type statusError struct {
	status int
	body   []byte
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// answer, returned by a runLoad call, is a correct answer with its status
// (for buy attempts a 201 or a 409 alike).
type answer int

func (a answer) Error() string { return fmt.Sprintf("answered %d", int(a)) }

// idemRun and idemSeq make an Idempotency-Key unique to each request a
// load generator of this process sends: order placement and flash buys
// require one (operations that take none ignore it).
var (
	idemRun = strconv.FormatInt(time.Now().UnixNano(), 36)
	idemSeq atomic.Int64
)

func nextIdem() string { return "load-" + idemRun + "-" + strconv.FormatInt(idemSeq.Add(1), 36) }

func post(c *http.Client, url, key string, body []byte, needID bool) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", nextIdem())
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 && !needID {
		// Discard without keeping: growing a buffer for every 20 KB quote
		// was an eighth of the run's CPU, taken from the server it measures.
		_, err := io.Copy(io.Discard, resp.Body)
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return "", &statusError{status: resp.StatusCode, body: b}
	}
	if !needID {
		return "", nil
	}
	var out struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &out)
	return out.ID, nil
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// checkConservation verifies no unit was created or lost: for every SKU,
// stock + held + sold is what it was seeded with.
func checkConservation(ctx context.Context, st *sqlstore.Store, shopID string, skus []commerce.SKU, seeded, placed int64, stdout io.Writer) error {
	ids := make([]string, len(skus))
	for i, k := range skus {
		ids[i] = k.ID
	}
	now, err := st.SKUsByID(ctx, shopID, ids)
	if err != nil {
		return err
	}
	var held, sold int64
	for _, k := range now {
		if k.Stock+k.Held+k.Sold != seeded || k.Stock < 0 {
			return fmt.Errorf("SKU %s: stock %d + held %d + sold %d != %d", k.ID, k.Stock, k.Held, k.Sold, seeded)
		}
		held += k.Held
		sold += k.Sold
	}
	fmt.Fprintf(stdout, "invariant: stock + held + sold = seeded for all %d SKUs (held %d, sold %d units over %d orders)\n", len(now), held, sold, placed)
	return nil
}
