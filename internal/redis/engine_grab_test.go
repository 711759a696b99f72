package redis

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// flushDB is the Redis database the data-loss tests empty with FLUSHDB,
// as a restart without persistence does: a database of their own, so the
// other tests (which share database 0, each under its own key prefix) are
// not hurt. flushMu keeps the tests that use it from emptying it under
// each other.
const flushDB = 13

var flushMu sync.Mutex

// flushableClient connects to database flushDB of the test Redis, or skips.
func flushableClient(t *testing.T) goredis.UniversalClient {
	t.Helper()
	testClient(t) // skips without Redis
	o, err := EngineClientOptions(os.Getenv(RedisURLEnv))
	if err != nil {
		t.Fatal(err)
	}
	o.DB = flushDB
	o.PoolSize = 64
	o.PoolTimeout = rushTimeout
	o.DialTimeout = 5 * time.Second
	c := goredis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis database %d: %v", flushDB, err)
	}
	flushMu.Lock()
	t.Cleanup(func() { c.FlushDB(ctx); c.Close(); flushMu.Unlock() })
	return c
}

// couponsByCustomer counts the template's coupons per customer in the
// database: the record, whatever Redis says.
func couponsByCustomer(t *testing.T, e *storetest.Env, templateID string) (map[string]int, int) {
	t.Helper()
	rows, err := e.Store.Reader().QueryContext(ctx, e.Store.Q(`SELECT customer_id, COUNT(*) FROM coupons WHERE shop_id = $1 AND template_id = $2 GROUP BY customer_id`),
		e.Shop.ID, templateID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out, total := map[string]int{}, 0
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		out[c] = n
		total += n
	}
	return out, total
}

func TestGrabsComeBackAfterRedisLostItsData(t *testing.T) {
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		c := flushableClient(t)
		e := storetest.NewEnv(t, open)
		ps := promotion.New(e.Store, e.Svc)
		eng := NewEngine(c, EngineOptions{Prefix: "carnival", Now: e.Clock.Now, Timeout: rushTimeout})
		g := peak.NewGrabs(eng, ps, e.Clock.Now)
		const total, perCustomer = 10, 2
		tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 10000, Off: 2000,
			Scope: pricing.Scope{All: true}}, TotalQuantity: total, PerCustomerClaims: perCustomer, ValidDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		cs := customers(t, e, 12)
		grab := func(i int, key string) error {
			_, _, err := g.Grab(ctx, e.Shop.ID, tpl.ID, cs[i].ID, key)
			return err
		}
		for _, k := range []string{"a", "b"} {
			if err := grab(0, k); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, grab(0, "c"), "claim_limit_reached")
		if err := grab(1, ""); err != nil {
			t.Fatal(err)
		}

		if err := c.FlushDB(ctx).Err(); err != nil { // Redis restarted without persistence
			t.Fatal(err)
		}
		if err := grab(2, ""); err != nil {
			t.Fatalf("grab after Redis lost its data: %v", err)
		}
		// Redis forgot customer 0's claims; the database did not.
		wantCode(t, grab(0, "d"), "claim_limit_reached")

		// A rush, with Redis emptied again in the middle of it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		unexpected := []error{}
		for i := 0; i < 60; i++ {
			if i == 30 {
				wg.Wait()
				if err := c.FlushDB(ctx).Err(); err != nil {
					t.Fatal(err)
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := grab(3+i%9, fmt.Sprintf("rush-%d", i))
				if ce, ok := commerce.AsError(err); err == nil || ok && (ce.Code == "coupons_sold_out" || ce.Code == "claim_limit_reached") {
					return
				}
				mu.Lock()
				unexpected = append(unexpected, err)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(unexpected) > 0 {
			t.Fatalf("%d grabs failed otherwise, first: %v", len(unexpected), unexpected[0])
		}
		per, n := couponsByCustomer(t, e, tpl.ID)
		for cust, k := range per {
			if k > perCustomer {
				t.Fatalf("customer %s holds %d coupons, limit %d", cust, k, perCustomer)
			}
		}
		got, err := ps.Template(ctx, e.Shop.ID, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n != total || got.Issued != total {
			t.Fatalf("%d coupons in the database, template issued %d; want exactly %d", n, got.Issued, total)
		}
		wantCode(t, grab(11, ""), "coupons_sold_out")
	})
}

// A grab's admission is settled by its coupon, not looked up as an order:
// a grab that claimed its coupon and lost the confirm keeps its unit, one
// that never claimed gives it back.
func TestReconcileSettlesGrabsByTheirCoupons(t *testing.T) {
	c := testClient(t)
	bothDatabases(t, func(t *testing.T, open storetest.Opener) {
		e := storetest.NewEnv(t, open)
		ps := promotion.New(e.Store, e.Svc)
		eng := NewEngine(c, EngineOptions{Prefix: testPrefix(t, c), Now: e.Clock.Now, Timeout: rushTimeout, Coupons: LookupCoupons(ps)})
		tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 10000, Off: 2000,
			Scope: pricing.Scope{All: true}}, TotalQuantity: 5, PerCustomerClaims: 1, ValidDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		item := "grab:" + tpl.ID
		cs := customers(t, e, 3)
		// Claimed, then the node died before confirming.
		crashing := peak.NewGrabs(lostConfirm{eng}, ps, e.Clock.Now)
		kept, _, err := crashing.Grab(ctx, e.Shop.ID, tpl.ID, cs[0].ID, "kept")
		if err != nil {
			t.Fatal(err)
		}
		// Admitted, then the node died before claiming.
		if _, err := eng.Admit(ctx, peak.Attempt{Item: item, Shop: e.Shop.ID, Customer: cs[1].ID, Qty: 1, Limit: 1, Key: "lost", OrderID: commerce.NewID("cpn")}); err != nil {
			t.Fatal(err)
		}
		if left := remaining(t, eng, item); left != 3 {
			t.Fatalf("redis has %d left, want 3", left)
		}
		e.Clock.Advance(DefaultGrace)
		got, err := eng.Reconcile(ctx, LookupOrders(e.Svc))
		if err != nil || got.Confirmed != 1 || got.Aborted != 1 {
			t.Fatalf("reconciled %+v %v, want the claimed grab confirmed and the lost one aborted", got, err)
		}
		if left := remaining(t, eng, item); left != 4 {
			t.Fatalf("redis has %d left after reconciling, want 4 (5 less the coupon issued)", left)
		}
		g := peak.NewGrabs(eng, ps, e.Clock.Now)
		again, replayed, err := g.Grab(ctx, e.Shop.ID, tpl.ID, cs[0].ID, "kept")
		if err != nil || !replayed || again.ID != kept.ID {
			t.Fatalf("replay of the claimed grab: %+v %v %v", again, replayed, err)
		}
		if _, _, err := g.Grab(ctx, e.Shop.ID, tpl.ID, cs[1].ID, "lost"); err != nil {
			t.Fatalf("the lost grab's customer grabs again: %v", err)
		}
	})
}
