package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/peak"
)

// RedisURLEnv names the variable that enables the Redis tests.
const RedisURLEnv = "CARNIVAL_TEST_REDIS_URL"

var ctx = context.Background()

// testClient connects to the Redis named by CARNIVAL_TEST_REDIS_URL, or
// skips the test saying so.
func testClient(tb testing.TB) goredis.UniversalClient {
	tb.Helper()
	url := os.Getenv(RedisURLEnv)
	if url == "" {
		tb.Skipf("Redis engine not tested: set %s (e.g. redis://127.0.0.1:6379/0)", RedisURLEnv)
	}
	o, err := EngineClientOptions(url)
	if err != nil {
		tb.Fatal(err)
	}
	o.PoolSize = 64
	// Ten thousand simultaneous attempts queue for connections, and the
	// pool dials 64 at once on a shared machine: the tests that need fail
	// fast build their own client.
	o.PoolTimeout = rushTimeout
	o.DialTimeout = 5 * time.Second
	o.DialerRetries = 3
	c := goredis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("redis at %s: %v", url, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for one test, whose keys are
// deleted when it ends.
func testPrefix(tb testing.TB, c goredis.UniversalClient) string {
	p := "carnival-test-" + strings.ToLower(ulid.Make().String())
	tb.Cleanup(func() { dropPrefix(tb, c, p) })
	return p
}

func dropPrefix(tb testing.TB, c goredis.UniversalClient, prefix string) {
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan %s: %v", prefix, err)
	}
	for _, k := range keys {
		c.Del(ctx, k)
	}
}

// fakeClock is a settable clock for the engine.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 11, 11, 20, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestEngine(t *testing.T) (*Engine, *fakeClock, goredis.UniversalClient, string) {
	c := testClient(t)
	p := testPrefix(t, c)
	clk := newFakeClock()
	return NewEngine(c, EngineOptions{Prefix: p, Now: clk.Now}), clk, c, p
}

func remaining(t *testing.T, e *Engine, item string) int64 {
	t.Helper()
	n, ok, err := e.Remaining(ctx, item)
	if err != nil || !ok {
		t.Fatalf("remaining of %s: %d %v %v", item, n, ok, err)
	}
	return n
}

func attempt(customer string, qty int64, key, order string) peak.Attempt {
	return peak.Attempt{Item: "fls_1/sku_1", Customer: customer, Qty: qty, Limit: 2, Key: key, OrderID: order, Shop: "shp_1"}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
}

func TestAdmitTakesStockWithinTheCustomerLimit(t *testing.T) {
	e, _, _, _ := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 3, map[string]int64{"alice": 1}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.Admit(ctx, attempt("alice", 2, "", "ord_a"))
	wantErr(t, err, peak.ErrOverLimit)
	if _, err := e.Admit(ctx, attempt("alice", 1, "", "ord_b")); err != nil {
		t.Fatal(err)
	}
	_, err = e.Admit(ctx, attempt("bob", 3, "", "ord_c"))
	wantErr(t, err, peak.ErrSoldOut) // 2 left: no partial admission
	if e.SoldOut(item) {
		t.Fatal("sold out with 2 units left")
	}
	if _, err := e.Admit(ctx, attempt("bob", 2, "", "ord_d")); err != nil {
		t.Fatal(err)
	}
	if n := remaining(t, e, item); n != 0 {
		t.Fatalf("remaining %d, want 0", n)
	}
	if !e.SoldOut(item) {
		t.Fatal("the admission that took the last unit did not mark the item sold out")
	}
	_, err = e.Admit(ctx, attempt("carol", 1, "", "ord_e"))
	wantErr(t, err, peak.ErrSoldOut)
	_, err = e.Admit(ctx, peak.Attempt{Item: "fls_1/nope", Customer: "carol", Qty: 1, Limit: 1, OrderID: "ord_f"})
	wantErr(t, err, peak.ErrUnknownItem)
}

func TestIdempotencyKeysArePendingThenReplayTheFirstOrder(t *testing.T) {
	e, _, _, _ := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 5, nil, map[string]string{"old": "ord_old"}); err != nil {
		t.Fatal(err)
	}
	tk, err := e.Admit(ctx, attempt("alice", 1, "k1", "ord_1"))
	if err != nil || tk.Replay {
		t.Fatalf("first admission: %+v %v", tk, err)
	}
	_, err = e.Admit(ctx, attempt("alice", 1, "k1", "ord_2"))
	wantErr(t, err, peak.ErrInProgress)
	if err := e.Confirm(ctx, tk); err != nil {
		t.Fatal(err)
	}
	r, err := e.Admit(ctx, attempt("alice", 1, "k1", "ord_3"))
	if err != nil || !r.Replay || r.OrderID != "ord_1" {
		t.Fatalf("replay: %+v %v, want ord_1", r, err)
	}
	r, err = e.Admit(ctx, attempt("bob", 1, "old", "ord_4"))
	if err != nil || !r.Replay || r.OrderID != "ord_old" {
		t.Fatalf("replay of a primed key: %+v %v, want ord_old", r, err)
	}
	if n := remaining(t, e, item); n != 4 {
		t.Fatalf("remaining %d after replays, want 4", n)
	}
	// Aborting a replay or an unknown order gives nothing back.
	if err := e.Abort(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := e.Abort(ctx, peak.Ticket{Attempt: attempt("bob", 1, "", "ord_never")}); err != nil {
		t.Fatal(err)
	}
	if n := remaining(t, e, item); n != 4 {
		t.Fatalf("remaining %d after aborting nothing, want 4", n)
	}
}

func TestAbortGivesBackOnceAndFreesTheKey(t *testing.T) {
	e, _, _, _ := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 2, nil, nil); err != nil {
		t.Fatal(err)
	}
	tk, err := e.Admit(ctx, attempt("alice", 2, "k1", "ord_1"))
	if err != nil {
		t.Fatal(err)
	}
	// A client retry of the same order (its reply was lost) takes nothing.
	if _, err := e.Admit(ctx, attempt("alice", 2, "k1", "ord_1")); err != nil {
		t.Fatalf("retried admission: %v", err)
	}
	if n := remaining(t, e, item); n != 0 {
		t.Fatalf("remaining %d, want 0", n)
	}
	for i := 0; i < 3; i++ {
		if err := e.Abort(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if n := remaining(t, e, item); n != 2 {
		t.Fatalf("remaining %d after aborting three times, want 2", n)
	}
	if e.SoldOut(item) {
		t.Fatal("still sold out after the units came back")
	}
	// The key and the customer's limit are free again.
	if _, err := e.Admit(ctx, attempt("alice", 2, "k1", "ord_2")); err != nil {
		t.Fatalf("admission after abort: %v", err)
	}
	// A confirmed admission is not given back by a late abort.
	t2 := peak.Ticket{Attempt: attempt("alice", 2, "k1", "ord_2")}
	if err := e.Confirm(ctx, t2); err != nil {
		t.Fatal(err)
	}
	if err := e.Abort(ctx, t2); err != nil {
		t.Fatal(err)
	}
	if n := remaining(t, e, item); n != 0 {
		t.Fatalf("remaining %d after aborting a confirmed admission, want 0", n)
	}
	r, err := e.Admit(ctx, attempt("alice", 1, "k1", "ord_3"))
	if err != nil || !r.Replay || r.OrderID != "ord_2" {
		t.Fatalf("replay: %+v %v", r, err)
	}
}

func TestReturnGivesUnitsAndLimitBack(t *testing.T) {
	e, _, _, _ := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 0, map[string]int64{"alice": 2}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.Admit(ctx, attempt("bob", 1, "", "ord_1"))
	wantErr(t, err, peak.ErrSoldOut)
	if !e.SoldOut(item) {
		t.Fatal("not sold out")
	}
	if err := e.Return(ctx, item, "alice", 1); err != nil {
		t.Fatal(err)
	}
	if e.SoldOut(item) {
		t.Fatal("a return in this process did not clear the sold-out flag")
	}
	if _, err := e.Admit(ctx, attempt("alice", 1, "", "ord_2")); err != nil {
		t.Fatalf("alice within her limit again: %v", err)
	}
	// A return for an item Redis does not hold is ignored, not created.
	if err := e.Return(ctx, "fls_1/gone", "alice", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.Remaining(ctx, "fls_1/gone"); ok {
		t.Fatal("a return created an item")
	}
}

func TestPrimeLeavesAnItemAnotherNodeUsesAlone(t *testing.T) {
	e, _, c, p := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 10, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Admit(ctx, attempt("alice", 2, "k1", "ord_1")); err != nil {
		t.Fatal(err)
	}
	// A second node starts from a database that does not have ord_1 yet.
	node2 := NewEngine(c, EngineOptions{Prefix: p})
	if err := node2.Prime(ctx, item, 10, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := remaining(t, node2, item); n != 8 {
		t.Fatalf("second node's prime reset the item: remaining %d, want 8", n)
	}
	_, err := node2.Admit(ctx, attempt("alice", 1, "", "ord_2"))
	wantErr(t, err, peak.ErrOverLimit)
	_, err = node2.Admit(ctx, attempt("alice", 1, "k1", "ord_3"))
	wantErr(t, err, peak.ErrInProgress)
	// Reset replaces the state and drops pending admissions: the late
	// abort of ord_1 gives nothing back twice.
	if err := node2.Reset(ctx, item, 9, map[string]int64{"bob": 1}, map[string]string{"kb": "ord_b"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Abort(ctx, peak.Ticket{Attempt: attempt("alice", 2, "k1", "ord_1")}); err != nil {
		t.Fatal(err)
	}
	if n := remaining(t, e, item); n != 9 {
		t.Fatalf("remaining %d after reset and a stale abort, want 9", n)
	}
	if _, err := e.Admit(ctx, attempt("alice", 2, "", "ord_4")); err != nil {
		t.Fatalf("alice after reset: %v", err)
	}
	r, err := e.Admit(ctx, attempt("bob", 1, "kb", "ord_5"))
	if err != nil || !r.Replay || r.OrderID != "ord_b" {
		t.Fatalf("replay of a reset key: %+v %v", r, err)
	}
	// Forget drops every key of the item.
	if err := e.Forget(ctx, item); err != nil {
		t.Fatal(err)
	}
	n, err := c.Exists(ctx, e.keys(item)...).Result()
	if err != nil || n != 0 {
		t.Fatalf("%d keys left after forget (%v)", n, err)
	}
}

func TestSoldOutIsLocalAndTrustedForItsTTL(t *testing.T) {
	e, clk, c, p := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	clk2 := newFakeClock()
	node2 := NewEngine(c, EngineOptions{Prefix: p, Now: clk2.Now})
	t2, err := node2.Admit(ctx, attempt("alice", 1, "", "ord_1"))
	if err != nil {
		t.Fatal(err)
	}
	if e.SoldOut(item) {
		t.Fatal("node 1 says sold out without having seen it")
	}
	_, err = e.Admit(ctx, attempt("bob", 1, "", "ord_2"))
	wantErr(t, err, peak.ErrSoldOut)
	if !e.SoldOut(item) {
		t.Fatal("node 1 does not remember the sell-out")
	}
	// Node 2 gives the unit back: node 1 may keep saying sold out, but
	// only for its TTL.
	if err := node2.Abort(ctx, t2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultSoldOutTTL - time.Millisecond)
	if !e.SoldOut(item) {
		t.Fatal("flag dropped before its TTL")
	}
	clk.Advance(time.Millisecond)
	if e.SoldOut(item) {
		t.Fatalf("node 1 still says sold out %v after node 2 gave a unit back", DefaultSoldOutTTL)
	}
	if _, err := e.Admit(ctx, attempt("bob", 1, "", "ord_3")); err != nil {
		t.Fatal(err)
	}
}

func TestReconcileSettlesStaleAdmissionsByTheirOrders(t *testing.T) {
	e, clk, c, p := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 10, nil, nil); err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{"ord_written": true}
	var lookups []string
	var mu sync.Mutex
	lookup := func(_ context.Context, shop, order string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		lookups = append(lookups, shop+"/"+order)
		if order == "ord_flaky" {
			return false, errors.New("database down")
		}
		return written[order], nil
	}
	for _, a := range []peak.Attempt{attempt("alice", 2, "ka", "ord_lost"), attempt("bob", 1, "kb", "ord_written"), attempt("carol", 1, "", "ord_flaky")} {
		if _, err := e.Admit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(DefaultGrace - time.Second)
	if _, err := e.Admit(ctx, attempt("dave", 1, "", "ord_young")); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Reconcile(ctx, lookup); err != nil || got.Waiting != 4 || got.Confirmed+got.Aborted != 0 || len(lookups) != 0 {
		t.Fatalf("before the grace period: %+v %v, lookups %v", got, err, lookups)
	}
	clk.Advance(time.Second)
	// Another node reconciles: it knows the item from the shared registry.
	node2 := NewEngine(c, EngineOptions{Prefix: p, Now: clk.Now})
	got, err := node2.Reconcile(ctx, lookup)
	if err == nil || !strings.Contains(err.Error(), "database down") {
		t.Fatalf("a failed lookup was not reported: %v", err)
	}
	if got.Confirmed != 1 || got.Aborted != 1 || got.Waiting != 1 {
		t.Fatalf("reconciled %+v, want 1 confirmed, 1 aborted, 1 waiting", got)
	}
	if lookups[0] != "shp_1/ord_lost" {
		t.Fatalf("looked up %v: the shop and order come from the admission", lookups)
	}
	// ord_lost's 2 units are back; ord_written's and the others' are not.
	if n := remaining(t, e, item); n != 10-1-1-1 {
		t.Fatalf("remaining %d, want 7", n)
	}
	if _, err := e.Admit(ctx, attempt("alice", 2, "ka", "ord_again")); err != nil {
		t.Fatalf("alice's key and limit after her lost admission: %v", err)
	}
	r, err := e.Admit(ctx, attempt("bob", 1, "kb", "ord_other"))
	if err != nil || !r.Replay || r.OrderID != "ord_written" {
		t.Fatalf("key of the confirmed admission: %+v %v", r, err)
	}
	// The buy that was still running confirms late: nothing changes.
	if err := e.Confirm(ctx, peak.Ticket{Attempt: attempt("bob", 1, "kb", "ord_written")}); err != nil {
		t.Fatal(err)
	}
	// The flaky one settles when the database answers again.
	written["ord_flaky"] = true
	lookups = nil
	got, err = e.Reconcile(ctx, func(_ context.Context, shop, order string) (bool, error) { return written[order], nil })
	if err != nil || got.Confirmed != 1 || got.Aborted != 0 {
		t.Fatalf("second pass: %+v %v", got, err)
	}
	if n, _ := c.XLen(ctx, e.keys(item)[4]).Result(); n != 2 {
		t.Fatalf("%d admissions in the stream, want ord_young and ord_again", n)
	}
}

func TestReconcileReportsItemsRedisLost(t *testing.T) {
	e, _, c, p := newTestEngine(t)
	if err := e.Prime(ctx, "fls_1/sku_1", 10, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Prime(ctx, "fls_1/sku_2", 10, nil, nil); err != nil {
		t.Fatal(err)
	}
	dropPrefix(t, c, p) // Redis restarted without its data
	got, err := e.Reconcile(ctx, func(context.Context, string, string) (bool, error) { return false, nil })
	if err != nil || len(got.Unprimed) != 2 {
		t.Fatalf("reconciled %+v %v, want both items unprimed", got, err)
	}
	_, err = e.Admit(ctx, attempt("alice", 1, "", "ord_1"))
	wantErr(t, err, peak.ErrUnknownItem)
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestAdmitFailsClosedWhenRedisIsUnreachable(t *testing.T) {
	o, err := EngineClientOptions("redis://" + closedAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	defer c.Close()
	e := NewEngine(c, EngineOptions{})
	for _, err := range []error{
		func() error { _, err := e.Admit(ctx, attempt("alice", 1, "", "ord_1")); return err }(),
		e.Prime(ctx, "fls_1/sku_1", 1, nil, nil),
	} {
		if err == nil {
			t.Fatal("no error from an unreachable Redis")
		}
		for _, pe := range []error{peak.ErrSoldOut, peak.ErrOverLimit, peak.ErrInProgress, peak.ErrUnknownItem} {
			if errors.Is(err, pe) {
				t.Fatalf("unreachable Redis reported as %v", pe)
			}
		}
	}
	if e.SoldOut("fls_1/sku_1") {
		t.Fatal("sold out without an answer")
	}
}

func TestConcurrentAdmissionsNeverExceedStockOrLimit(t *testing.T) {
	e, _, c, p := newTestEngine(t)
	const item = "fls_1/sku_1"
	if err := e.Prime(ctx, item, 50, nil, nil); err != nil {
		t.Fatal(err)
	}
	nodes := []*Engine{e, NewEngine(c, EngineOptions{Prefix: p}), NewEngine(c, EngineOptions{Prefix: p})}
	var mu sync.Mutex
	per := map[string]int64{}
	var total int64
	var wg sync.WaitGroup
	for i := 0; i < 600; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := peak.Attempt{Item: item, Customer: fmt.Sprintf("c%d", i%40), Qty: int64(1 + i%3), Limit: 3, OrderID: fmt.Sprintf("ord_%d", i)}
			_, err := nodes[i%3].Admit(ctx, a)
			if err != nil && !errors.Is(err, peak.ErrSoldOut) && !errors.Is(err, peak.ErrOverLimit) {
				t.Errorf("admit: %v", err)
				return
			}
			if err == nil {
				mu.Lock()
				per[a.Customer] += a.Qty
				total += a.Qty
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for cust, n := range per {
		if n > 3 {
			t.Errorf("customer %s admitted %d units, limit 3", cust, n)
		}
	}
	if left := remaining(t, e, item); total+left != 50 || left < 0 {
		t.Fatalf("admitted %d with %d left, want a total of 50", total, left)
	}
}
