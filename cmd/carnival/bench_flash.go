package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// flashBench is one flash-sale run: a live sale of a few SKUs, many
// customers, and a load of buy attempts far beyond the units, as at 20:00
// on 双11.
type flashBench struct {
	reg      *prometheus.Registry
	st       *sqlstore.Store
	svc      *commerce.Service
	flash    *peak.Flash
	shopID   string
	key      string
	skus     []commerce.SKU
	seeded   int64
	sale     *peak.Sale
	bodies   [][]byte
	hello    string
	url      string
	conc     int
	dur      time.Duration
	useWrk   bool
	profile  string
	customer int
}

func (b *flashBench) setup(ctx context.Context, units int64) error {
	admin := commerce.Actor{ShopID: b.shopID}
	var cs []commerce.Customer
	for i := 0; i < b.customer; i++ {
		cs = append(cs, commerce.Customer{ExternalID: fmt.Sprintf("fan-%06d", i)})
	}
	var ids []string
	for i := 0; i < len(cs); i += 1000 {
		got, err := b.svc.UpsertCustomers(ctx, admin, cs[i:min(len(cs), i+1000)])
		if err != nil {
			return err
		}
		for _, c := range got {
			ids = append(ids, c.ID)
		}
	}
	// The load comes from one address and carries no device ids, as from
	// behind a gateway: the sale limits each customer, 5 attempts a second
	// with bursts of 10. Failure blocking is off: the generator replays its
	// customers, whose over-limit attempts would soon block the one address
	// every attempt comes from.
	in := peak.SaleInput{Name: "20:00 秒杀", StartsAt: time.Now().Add(-time.Second), EndsAt: time.Now().Add(time.Hour),
		Guard: &guard.PolicySpec{PerCustomer: guard.LimitSpec{Rate: 5, PerSeconds: 1, Burst: 10}, FailLimit: -1}}
	for _, k := range b.skus[:5] {
		in.Items = append(in.Items, peak.SaleItemInput{SKUID: k.ID, FlashPrice: k.Price / 10, Allocated: units, PerCustomerLimit: 1})
	}
	sale, err := b.flash.CreateSale(ctx, admin, in)
	if err != nil {
		return err
	}
	b.sale = sale
	b.bodies = make([][]byte, 4096)
	for i := range b.bodies {
		b.bodies[i], _ = json.Marshal(map[string]any{"sku_id": in.Items[i%len(in.Items)].SKUID, "customer_id": ids[(i*7919)%len(ids)]})
	}
	return nil
}

func (b *flashBench) run(ctx context.Context, stdout io.Writer) error {
	admission := "in process"
	if _, ok := b.flash.Engine().(*peak.Memory); !ok {
		admission = "redis"
	}
	fmt.Fprintf(stdout, "engine %s, admission %s, %d clients, %s per run, GOMAXPROCS %d; sale of %d SKUs × %d units, %d customers\n",
		b.st.Dialect().Name, admission, b.conc, b.dur, numProcs(), len(b.sale.Items), b.sale.Items[0].Allocated, b.customer)
	var base loadResult
	var err error
	if b.useWrk {
		base, err = wrkLoad(ctx, b.hello+"/", "", b.bodies, b.conc, b.dur)
	} else {
		base, _ = attempts(ctx, b.hello+"/", "", b.bodies, b.conc, b.dur)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hello-world baseline: %s\n", base)
	if b.profile != "" {
		f, err := os.Create(b.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	url := b.url + "/api/v1/flash-sales/" + b.sale.ID + "/buy"
	var res loadResult
	var codes map[int]int64
	if b.useWrk {
		res, err = wrkLoad(ctx, url, b.key, b.bodies, b.conc, b.dur)
		res = res.counting4xx()
		if err == nil {
			codes, err = b.statuses()
		}
	} else {
		res, codes = attempts(ctx, url, b.key, b.bodies, b.conc, b.dur)
	}
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "buy attempts:         %s  (%.0f%% of baseline)\n", res, 100*res.rate/base.rate)
	if codes != nil {
		fmt.Fprintf(stdout, "answers by status:    %v\n", codes)
	}
	return b.check(ctx, codes, stdout)
}

// statuses reads the server's own count of buy answers by status, so a
// wrk run knows its 201s and that no answer was a 5xx.
func (b *flashBench) statuses() (map[int]int64, error) {
	mfs, err := b.reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, mf := range mfs {
		if mf.GetName() != "carnival_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var op, status string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "operation":
					op = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			if op == "POST /api/v1/flash-sales/{id}/buy" {
				code, _ := strconv.Atoi(status)
				out[code] += int64(m.GetCounter().GetValue())
			}
		}
	}
	for code, n := range out {
		if code >= 500 && n > 0 {
			return out, fmt.Errorf("%d buy attempts were answered %d", n, code)
		}
	}
	return out, nil
}

// check verifies the run oversold nothing: each item's counters balance,
// the reservations match the 201 answers, no customer is over the limit,
// and every SKU still accounts for all its units.
func (b *flashBench) check(ctx context.Context, codes map[int]int64, stdout io.Writer) error {
	s, err := b.flash.Sale(ctx, b.shopID, b.sale.ID)
	if err != nil {
		return err
	}
	var reserved int64
	for _, it := range s.Items {
		if it.Allocated != it.Remaining+it.Reserved+it.Sold+it.Returned || it.Remaining < 0 {
			return fmt.Errorf("item %s: allocated %d != remaining %d + reserved %d + sold %d + returned %d", it.SKUID, it.Allocated, it.Remaining, it.Reserved, it.Sold, it.Returned)
		}
		reserved += it.Reserved
	}
	res, err := b.st.Reservations(ctx, b.shopID, b.sale.ID)
	if err != nil {
		return err
	}
	per := map[string]int64{}
	for _, r := range res {
		per[r.SKUID+"/"+r.CustomerID] += r.Quantity
		if per[r.SKUID+"/"+r.CustomerID] > 1 {
			return fmt.Errorf("customer %s holds more than 1 unit of %s", r.CustomerID, r.SKUID)
		}
	}
	if int64(len(res)) != reserved {
		return fmt.Errorf("%d reservations recorded, items say %d reserved", len(res), reserved)
	}
	if codes != nil && codes[http.StatusCreated] != reserved {
		return fmt.Errorf("%d buys answered 201 but %d units are reserved", codes[http.StatusCreated], reserved)
	}
	ids := make([]string, len(b.skus))
	for i, k := range b.skus {
		ids[i] = k.ID
	}
	now, err := b.st.SKUsByID(ctx, b.shopID, ids)
	if err != nil {
		return err
	}
	for _, k := range now {
		// Units allocated to the sale left the SKU's stock until they are
		// sold or returned.
		var out int64
		if it, ok := s.Item(k.ID); ok {
			out = it.Remaining + it.Reserved
		}
		if k.Stock+k.Held+k.Sold+out != b.seeded || k.Stock < 0 {
			return fmt.Errorf("SKU %s: stock %d + held %d + sold %d + in the sale %d != %d", k.ID, k.Stock, k.Held, k.Sold, out, b.seeded)
		}
	}
	fmt.Fprintf(stdout, "invariants: allocated = remaining + reserved + sold + returned for every item; %d reservations = %d units, none over the limit; every SKU conserved\n", len(res), reserved)
	return nil
}

// attempts loads url with the Go client and counts answers by status: a
// 409 sold-out is a correct answer to a buy attempt, not a failure; a 5xx
// or a transport error is.
func attempts(ctx context.Context, url, key string, bodies [][]byte, conc int, dur time.Duration) (loadResult, map[int]int64) {
	return runLoad(ctx, conc, dur, func(c *http.Client, i int) error {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", nextIdem())
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return &statusError{status: resp.StatusCode}
		}
		return answer(resp.StatusCode)
	})
}
