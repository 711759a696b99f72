package redis

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// rushTimeout lets the tests' ten thousand simultaneous attempts queue for
// the client's connections on a small shared machine; production keeps
// DefaultTimeout.
const rushTimeout = 30 * time.Second

// redisEngines makes engines for storetest.RunPeak: every engine made in
// one subtest shares that subtest's keys, so a "restarted" node finds what
// the first one left in Redis, as a real restart does.
func redisEngines(t *testing.T) storetest.EngineMaker {
	c := testClient(t)
	clk := newFakeClock() // frozen: the contract never waits for a TTL
	var mu sync.Mutex
	prefixes := map[string]string{}
	return func(st *testing.T) peak.Engine {
		mu.Lock()
		p, ok := prefixes[st.Name()]
		if !ok {
			p = testPrefix(st, c)
			prefixes[st.Name()] = p
		}
		mu.Unlock()
		return NewEngine(c, EngineOptions{Prefix: p, Now: clk.Now, Timeout: rushTimeout})
	}
}

func TestRedisEnginePeakContractOnPostgres(t *testing.T) {
	storetest.RunPeak(t, storetest.OpenPostgres, redisEngines(t))
}

func TestRedisEnginePeakContractOnSQLite(t *testing.T) {
	storetest.RunPeak(t, func(t *testing.T) *sqlstore.Store { return storetest.OpenSQLite(t) }, redisEngines(t))
}

// node is one Carnival process: its own commerce service, engine and
// flash service over the shared database and Redis.
type node struct {
	Svc   *commerce.Service
	Eng   *Engine
	Flash *peak.Flash
}

func newNode(t *testing.T, e *storetest.Env, c goredis.UniversalClient, prefix string) *node {
	t.Helper()
	svc := commerce.NewService(e.Store, commerce.Options{Now: e.Clock.Now})
	promotion.New(e.Store, svc)
	eng := NewEngine(c, EngineOptions{Prefix: prefix, Now: e.Clock.Now, Timeout: rushTimeout})
	f := peak.NewFlash(e.Store, svc, eng, peak.Options{})
	if err := f.Start(ctx); err != nil {
		t.Fatalf("start node: %v", err)
	}
	return &node{Svc: svc, Eng: eng, Flash: f}
}

// liveSale creates a sale of one SKU that is live now: list ¥99, flash ¥9.9.
func liveSale(t *testing.T, e *storetest.Env, f *peak.Flash, allocated, limit int64) (*commerce.SKU, *peak.Sale) {
	t.Helper()
	k := e.SeedSKU(t, fmt.Sprintf("FLASH-%d", time.Now().UnixNano()), 9900, allocated+10)
	s, err := f.CreateSale(ctx, e.Admin, peak.SaleInput{Name: "双11 零点秒杀", StartsAt: e.Clock.Now(), EndsAt: e.Clock.Now().Add(time.Hour),
		Items: []peak.SaleItemInput{{SKUID: k.ID, FlashPrice: 990, Allocated: allocated, PerCustomerLimit: limit}}})
	if err != nil {
		t.Fatalf("create sale: %v", err)
	}
	return k, s
}

func customers(t *testing.T, e *storetest.Env, n int) []commerce.Customer {
	t.Helper()
	var out []commerce.Customer
	for i := 0; i < n; i += 500 {
		var batch []commerce.Customer
		for j := i; j < min(n, i+500); j++ {
			batch = append(batch, commerce.Customer{ExternalID: fmt.Sprintf("buyer-%d", j)})
		}
		got, err := e.Svc.UpsertCustomers(ctx, e.Admin, batch)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	return out
}

// durableItem reads the sale's item from the database and checks that its
// counters balance.
func durableItem(t *testing.T, e *storetest.Env, f *peak.Flash, saleID string) peak.SaleItem {
	t.Helper()
	s, err := f.Sale(ctx, e.Shop.ID, saleID)
	if err != nil {
		t.Fatal(err)
	}
	it := s.Items[0]
	if it.Allocated != it.Remaining+it.Reserved+it.Sold+it.Returned {
		t.Fatalf("allocated %d != remaining %d + reserved %d + sold %d + returned %d", it.Allocated, it.Remaining, it.Reserved, it.Sold, it.Returned)
	}
	return it
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	ce, ok := commerce.AsError(err)
	if !ok || ce.Code != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
}

func bothDatabases(t *testing.T, test func(t *testing.T, open storetest.Opener)) {
	t.Run("PostgreSQL", func(t *testing.T) { test(t, storetest.OpenPostgres) })
	t.Run("SQLite", func(t *testing.T) {
		test(t, func(t *testing.T) *sqlstore.Store { return storetest.OpenSQLite(t) })
	})
}

func TestTwoNodesRacingForAHundredUnitsSellExactlyAHundred(t *testing.T) {
	c := testClient(t)
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		e := storetest.NewEnv(t, open)
		p := testPrefix(t, c)
		n1 := newNode(t, e, c, p)
		k, s := liveSale(t, e, n1.Flash, 100, 2)
		n2 := newNode(t, e, c, p) // starts after the sale exists: primes nothing over it
		nodes := []*node{n1, n2}
		custs := customers(t, e, 2000)
		const attempts = 10_000
		var mu sync.Mutex
		perCustomer := map[string]int64{}
		var perNode [2]atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < attempts; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c := custs[i%len(custs)]
				qty := int64(1 + i%2)
				key := ""
				if i%3 == 0 {
					key = fmt.Sprintf("rush-%d", i)
				}
				o, _, err := nodes[i%2].Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: qty, CustomerID: c.ID}, key)
				if err != nil {
					if ce, ok := commerce.AsError(err); !ok || (ce.Code != "sold_out" && ce.Code != "over_limit") {
						t.Errorf("buy: %v", err)
					}
					return
				}
				if o.Lines[0].Payable != 990*qty {
					t.Errorf("order %s payable %d, want %d", o.ID, o.Lines[0].Payable, 990*qty)
				}
				perNode[i%2].Add(qty)
				mu.Lock()
				perCustomer[c.ID] += qty
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if units := storetest.CheckUnits(t, perCustomer, 2); units != 100 {
			t.Fatalf("sold %d units, want exactly 100 (node 1 %d, node 2 %d)", units, perNode[0].Load(), perNode[1].Load())
		}
		if perNode[0].Load() == 0 || perNode[1].Load() == 0 {
			t.Fatalf("one node sold everything (%d, %d): the nodes did not race", perNode[0].Load(), perNode[1].Load())
		}
		if it := durableItem(t, e, n1.Flash, s.ID); it.Reserved != 100 || it.Remaining != 0 {
			t.Fatalf("database: reserved %d remaining %d, want 100 and 0", it.Reserved, it.Remaining)
		}
		item := peak.ItemKey(s.ID, k.ID)
		if left := remaining(t, n2.Eng, item); left != 0 {
			t.Fatalf("redis has %d units left, want 0", left)
		}
		if n, err := c.XLen(ctx, n1.Eng.keys(item)[4]).Result(); err != nil || n != 0 {
			t.Fatalf("%d admissions left unsettled (%v), want 0", n, err)
		}
	})
}

// lostConfirm is a node that dies after writing the order and before
// telling Redis.
type lostConfirm struct{ *Engine }

func (lostConfirm) Confirm(context.Context, peak.Ticket) error { return nil }

func TestReconcileRepairsACrashBetweenAdmissionAndOrder(t *testing.T) {
	c := testClient(t)
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		e := storetest.NewEnv(t, open)
		p := testPrefix(t, c)
		n := newNode(t, e, c, p)
		k, s := liveSale(t, e, n.Flash, 5, 2)
		item := peak.ItemKey(s.ID, k.ID)
		cs := customers(t, e, 3)
		// Admitted, then the node died before writing the order.
		lost := peak.Attempt{Item: item, Customer: cs[0].ID, Qty: 2, Limit: 2, Key: "lost", OrderID: n.Svc.ID("ord"), Shop: e.Shop.ID}
		if _, err := n.Eng.Admit(ctx, lost); err != nil {
			t.Fatal(err)
		}
		// Admitted and written, then the node died before confirming.
		crashSvc := commerce.NewService(e.Store, commerce.Options{Now: e.Clock.Now})
		promotion.New(e.Store, crashSvc)
		crashing := peak.NewFlash(e.Store, crashSvc, lostConfirm{NewEngine(c, EngineOptions{Prefix: p, Now: e.Clock.Now})}, peak.Options{})
		if err := crashing.Start(ctx); err != nil {
			t.Fatal(err)
		}
		kept, _, err := crashing.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[1].ID}, "kept")
		if err != nil {
			t.Fatal(err)
		}
		if left := remaining(t, n.Eng, item); left != 2 {
			t.Fatalf("redis has %d left, want 2", left)
		}
		// Until settled, the lost admission's key is in progress.
		_, _, err = n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: 2, CustomerID: cs[0].ID}, "lost")
		wantCode(t, err, "request_in_progress")

		lookup := LookupOrders(n.Svc)
		got, err := n.Eng.Reconcile(ctx, lookup)
		if err != nil || got.Waiting != 2 || got.Confirmed+got.Aborted != 0 {
			t.Fatalf("within the grace period: %+v %v, want both waiting", got, err)
		}
		e.Clock.Advance(DefaultGrace)
		got, err = n.Eng.Reconcile(ctx, lookup)
		if err != nil || got.Confirmed != 1 || got.Aborted != 1 || got.Waiting != 0 {
			t.Fatalf("after the grace period: %+v %v, want 1 confirmed and 1 aborted", got, err)
		}
		// Redis agrees with the database again: 4 units, the lost
		// customer's limit and key free, the written order replays.
		if left := remaining(t, n.Eng, item); left != 4 {
			t.Fatalf("redis has %d left after reconciling, want 4", left)
		}
		if it := durableItem(t, e, n.Flash, s.ID); it.Remaining != 4 || it.Reserved != 1 {
			t.Fatalf("database: remaining %d reserved %d, want 4 and 1", it.Remaining, it.Reserved)
		}
		o, replayed, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[1].ID}, "kept")
		if err != nil || !replayed || o.ID != kept.ID {
			t.Fatalf("replay of the written order: %v %v %v, want %s", o, replayed, err, kept.ID)
		}
		if _, _, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: 2, CustomerID: cs[0].ID}, "lost"); err != nil {
			t.Fatalf("the lost admission's customer buys again: %v", err)
		}
		if it := durableItem(t, e, n.Flash, s.ID); it.Remaining != 2 || it.Reserved != 3 {
			t.Fatalf("database: remaining %d reserved %d, want 2 and 3", it.Remaining, it.Reserved)
		}
		if left := remaining(t, n.Eng, item); left != 2 {
			t.Fatalf("redis has %d left, want 2", left)
		}
	})
}

// proxy forwards TCP to Redis until Close, which cuts every connection:
// Redis going down in the middle of a sale.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestBuyFailsClosedWhenRedisGoesDown(t *testing.T) {
	direct := testClient(t)
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		e := storetest.NewEnv(t, open)
		promotion.New(e.Store, e.Svc)
		o := direct.(*goredis.Client).Options()
		px := startProxy(t, o.Addr)
		ro, err := EngineClientOptions(fmt.Sprintf("redis://%s/%d", px.ln.Addr(), o.DB))
		if err != nil {
			t.Fatal(err)
		}
		c := goredis.NewClient(ro)
		defer c.Close()
		eng := NewEngine(c, EngineOptions{Prefix: testPrefix(t, direct), Now: e.Clock.Now})
		f := peak.NewFlash(e.Store, e.Svc, eng, peak.Options{})
		if err := f.Start(ctx); err != nil {
			t.Fatal(err)
		}
		k, s := liveSale(t, e, f, 5, 1)
		cs := customers(t, e, 1)
		px.Close()
		for _, key := range []string{"", "k1"} {
			start := time.Now()
			_, _, err := f.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[0].ID}, key)
			ce, ok := commerce.AsError(err)
			if !ok || ce.Kind != commerce.KindUnavailable || ce.Code != "admission_unavailable" {
				t.Fatalf("buy with Redis down: %v, want a KindUnavailable admission_unavailable error", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("buy took %v to fail", d)
			}
		}
		res, err := e.Store.Reservations(ctx, e.Shop.ID, s.ID)
		if err != nil || len(res) != 0 {
			t.Fatalf("reservations %v (%v), want none", res, err)
		}
		orders, err := e.Svc.ListOrders(ctx, e.Shop.ID, commerce.OrderFilter{}, commerce.Page{})
		if err != nil || len(orders) != 0 {
			t.Fatalf("%d orders (%v), want none", len(orders), err)
		}
		if it := durableItem(t, e, f, s.ID); it.Remaining != 5 || it.Reserved != 0 {
			t.Fatalf("database: remaining %d reserved %d, want 5 and 0", it.Remaining, it.Reserved)
		}
	})
}

func TestRestartAfterRedisLostItsDataPrimesFromTheDatabase(t *testing.T) {
	c := testClient(t)
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		e := storetest.NewEnv(t, open)
		p := testPrefix(t, c)
		n := newNode(t, e, c, p)
		k, s := liveSale(t, e, n.Flash, 5, 2)
		item := peak.ItemKey(s.ID, k.ID)
		cs := customers(t, e, 2)
		var first *commerce.Order
		for i := 0; i < 2; i++ {
			o, _, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[0].ID}, fmt.Sprintf("r-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = o
			}
		}
		dropPrefix(t, c, p) // Redis restarted without AOF
		_, _, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[1].ID}, "")
		wantCode(t, err, "sale_over") // refused, not sold blind
		got, err := n.Eng.Sweep(ctx, LookupOrders(n.Svc), n.Flash.Start)
		if err != nil || len(got.Unprimed) != 1 || got.Unprimed[0] != item {
			t.Fatalf("sweep: %+v %v, want %s unprimed", got, err, item)
		}
		if left := remaining(t, n.Eng, item); left != 3 {
			t.Fatalf("reprimed with %d left, want 3", left)
		}
		_, _, err = n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[0].ID}, "")
		wantCode(t, err, "over_limit")
		o, replayed, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cs[0].ID}, "r-0")
		if err != nil || !replayed || o.ID != first.ID {
			t.Fatalf("replay after reprime: %v %v %v", o, replayed, err)
		}
		if _, _, err := n.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: 2, CustomerID: cs[1].ID}, ""); err != nil {
			t.Fatal(err)
		}
		if it := durableItem(t, e, n.Flash, s.ID); it.Reserved != 4 || it.Remaining != 1 {
			t.Fatalf("database: reserved %d remaining %d, want 4 and 1", it.Reserved, it.Remaining)
		}
	})
}
