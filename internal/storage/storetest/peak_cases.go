package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// EngineMaker returns a fresh admission engine for one test.
type EngineMaker func(t *testing.T) peak.Engine

// RunPeak runs the flash-sale contract against a store and an engine: the
// same scenarios must hold for the in-process and the Redis engine, on
// SQLite and on PostgreSQL.
func RunPeak(t *testing.T, open Opener, engine EngineMaker) {
	t.Run("TenThousandAttemptsAtAHundredUnits", func(t *testing.T) { testFlashRush(t, open, engine) })
	t.Run("Replays", func(t *testing.T) { testFlashReplays(t, open, engine) })
	t.Run("LifecycleAndRelease", func(t *testing.T) { testFlashLifecycle(t, open, engine) })
	t.Run("RestartPrimesExactly", func(t *testing.T) { testFlashRestart(t, open, engine) })
	t.Run("CouponGrab", func(t *testing.T) { testCouponGrab(t, open, engine) })
	t.Run("RefreshLearnsOtherNodesSales", func(t *testing.T) { testFlashRefresh(t, open, engine) })
}

type flashEnv struct {
	*Env
	Flash *peak.Flash
	Eng   peak.Engine
	Promo *promotion.Service
}

func newFlashEnv(t *testing.T, open Opener, engine EngineMaker) *flashEnv {
	e := NewEnv(t, open)
	ps := promotion.New(e.Store, e.Svc) // orders are priced by the engine
	eng := engine(t)
	f := peak.NewFlash(e.Store, e.Svc, eng, peak.Options{})
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &flashEnv{Env: e, Flash: f, Eng: eng, Promo: ps}
}

// sale creates a live sale of one SKU: list ¥99, flash ¥9.9.
func (e *flashEnv) sale(t *testing.T, stock, allocated, limit int64) (*commerce.SKU, *peak.Sale) {
	t.Helper()
	k := e.SeedSKU(t, fmt.Sprintf("FLASH-%d", time.Now().UnixNano()), 9900, stock)
	s, err := e.Flash.CreateSale(ctx, e.Admin, peak.SaleInput{Name: "10 点秒杀", StartsAt: e.Clock.Now(), EndsAt: e.Clock.Now().Add(time.Hour),
		Items: []peak.SaleItemInput{{SKUID: k.ID, FlashPrice: 990, Allocated: allocated, PerCustomerLimit: limit}}})
	if err != nil {
		t.Fatalf("create sale: %v", err)
	}
	return k, s
}

func (e *flashEnv) customers(t *testing.T, n int) []commerce.Customer {
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

// checkItem asserts the item's durable counters balance, and returns it.
func (e *flashEnv) checkItem(t *testing.T, saleID string) peak.SaleItem {
	t.Helper()
	s, err := e.Flash.Sale(ctx, e.Shop.ID, saleID)
	if err != nil {
		t.Fatal(err)
	}
	it := s.Items[0]
	if it.Allocated != it.Remaining+it.Reserved+it.Sold+it.Returned {
		t.Fatalf("allocated %d != remaining %d + reserved %d + sold %d + returned %d", it.Allocated, it.Remaining, it.Reserved, it.Sold, it.Returned)
	}
	return it
}

func testFlashRush(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	k, s := e.sale(t, 500, 100, 2)
	if got := e.sku(t, k.ID).Stock; got != 400 {
		t.Fatalf("SKU stock after allocating 100 of 500 = %d, want 400", got)
	}
	custs := e.customers(t, 2000)
	const attempts = 10_000
	var ok, soldOut, overLimit atomic.Int64
	var mu sync.Mutex
	perCustomer := map[string]int64{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := custs[i%len(custs)]
			qty := int64(1 + i%2)
			o, _, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: qty, CustomerID: c.ID}, fmt.Sprintf("rush-%d", i))
			if err != nil {
				ce, isDomain := commerce.AsError(err)
				switch {
				case isDomain && ce.Code == "sold_out":
					soldOut.Add(1)
				case isDomain && ce.Code == "over_limit":
					overLimit.Add(1)
				default:
					t.Errorf("buy: %v", err)
				}
				return
			}
			if o.Lines[0].Payable != 990*qty || o.Status != commerce.OrderPendingPayment {
				t.Errorf("order %s: payable %d status %s, want %d pending", o.ID, o.Lines[0].Payable, o.Status, 990*qty)
			}
			ok.Add(1)
			mu.Lock()
			perCustomer[c.ID] += qty
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if units := CheckUnits(t, perCustomer, 2); units != 100 {
		t.Fatalf("admitted %d units, want exactly 100 (orders %d, sold out %d, over limit %d)", units, ok.Load(), soldOut.Load(), overLimit.Load())
	}
	it := e.checkItem(t, s.ID)
	if it.Reserved != 100 || it.Remaining != 0 {
		t.Fatalf("item reserved %d remaining %d, want 100 and 0", it.Reserved, it.Remaining)
	}
	res, err := e.Store.Reservations(ctx, e.Shop.ID, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var recorded int64
	for _, r := range res {
		recorded += r.Quantity
	}
	if recorded != 100 {
		t.Fatalf("reservations record %d units, want 100", recorded)
	}
	if k2 := e.sku(t, k.ID); k2.Stock != 400 || k2.Held != 0 {
		t.Fatalf("SKU stock %d held %d: flash units must not touch free stock", k2.Stock, k2.Held)
	}
}

func testFlashReplays(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	k, s := e.sale(t, 10, 3, 1)
	c := e.customers(t, 3)
	req := peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}
	first, replayed, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, req, "key-1")
	if err != nil || replayed {
		t.Fatalf("first buy: %v replayed=%v", err, replayed)
	}
	// Twenty concurrent replays: the same order, nothing more reserved.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, replayed, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, req, "key-1")
			if err != nil || !replayed || o.ID != first.ID {
				t.Errorf("replay: order %v replayed=%v err=%v, want %s", o, replayed, err, first.ID)
			}
		}()
	}
	wg.Wait()
	if it := e.checkItem(t, s.ID); it.Reserved != 1 {
		t.Fatalf("reserved %d after replays, want 1", it.Reserved)
	}
	// The same key for a different request is refused.
	_, _, err = e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[1].ID}, "key-1")
	wantCode(t, err, "idempotency_key_reused")
	// Sell out, then replay: still the first answer, from memory.
	for i, cust := range c[1:] {
		if _, _, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: cust.ID}, fmt.Sprintf("key-%d", i+2)); err != nil {
			t.Fatal(err)
		}
	}
	if !e.Eng.SoldOut(peak.ItemKey(s.ID, k.ID)) {
		t.Fatal("engine does not know the item sold out")
	}
	o, replayed, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, req, "key-1")
	if err != nil || !replayed || o.ID != first.ID {
		t.Fatalf("replay after sell-out: %v %v %v", o, replayed, err)
	}
	_, _, err = e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, "")
	wantCode(t, err, "sold_out")
}

func testFlashLifecycle(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	k, s := e.sale(t, 20, 4, 1)
	c := e.customers(t, 6)
	buy := func(i int) (*commerce.Order, error) {
		o, _, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[i].ID}, "")
		return o, err
	}
	// Not started yet / over.
	_, err := e.Flash.CreateSale(ctx, e.Admin, peak.SaleInput{Name: "late", StartsAt: e.Clock.Now().Add(time.Hour), EndsAt: e.Clock.Now().Add(2 * time.Hour),
		Items: []peak.SaleItemInput{{SKUID: k.ID, FlashPrice: 9900, Allocated: 1}}})
	wantCode(t, err, "not_below_list")
	_, err = e.Flash.CreateSale(ctx, e.Admin, peak.SaleInput{Name: "too big", StartsAt: e.Clock.Now(), EndsAt: e.Clock.Now().Add(time.Hour),
		Items: []peak.SaleItemInput{{SKUID: k.ID, FlashPrice: 100, Allocated: 17}}})
	wantCode(t, err, "out_of_stock")

	var orders []*commerce.Order
	for i := 0; i < 4; i++ {
		o, err := buy(i)
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	if _, err := buy(4); err == nil {
		t.Fatal("a fifth unit was sold")
	}
	// A second unit for the same customer is over the limit even when
	// units come back.
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, orders[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, orders[1].ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = buy(0)
	wantCode(t, err, "over_limit")
	// The cancelled unit is back for someone else; the customer who
	// cancelled may buy again.
	if _, err := buy(1); err != nil {
		t.Fatalf("buy after cancel: %v", err)
	}
	// The payment timeout releases the rest.
	e.Clock.Advance(16 * time.Minute)
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 3 {
		t.Fatalf("expired %d (%v), want 3", n, err)
	}
	it := e.checkItem(t, s.ID)
	if it.Sold != 1 || it.Reserved != 0 || it.Remaining != 3 {
		t.Fatalf("after timeout: sold %d reserved %d remaining %d, want 1 0 3", it.Sold, it.Reserved, it.Remaining)
	}
	if _, err := buy(5); err != nil {
		t.Fatalf("buy a released unit: %v", err)
	}
	// The window closes: the sweeper ends the sale and the rest returns.
	e.Clock.Advance(time.Hour)
	_, err = buy(2)
	wantCode(t, err, "sale_over")
	if n, err := e.Flash.EndDue(ctx, 10); err != nil || n != 1 {
		t.Fatalf("ended %d (%v), want 1", n, err)
	}
	it = e.checkItem(t, s.ID)
	if it.Returned != 2 || it.Remaining != 0 || it.Reserved != 1 {
		t.Fatalf("after end: %+v", it)
	}
	// A reservation released after the end goes straight to the SKU.
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	it = e.checkItem(t, s.ID)
	if it.Returned != 3 || it.Reserved != 0 {
		t.Fatalf("after late release: %+v", it)
	}
	sk := e.sku(t, k.ID)
	if sk.Stock != 19 || sk.Sold != 1 || sk.Held != 0 {
		t.Fatalf("SKU stock %d sold %d held %d, want 19 1 0", sk.Stock, sk.Sold, sk.Held)
	}
	if _, err := e.Flash.EndSale(ctx, e.Admin, s.ID); err == nil {
		t.Fatal("ended twice")
	}
}

func testFlashRestart(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	k, s := e.sale(t, 10, 5, 2)
	c := e.customers(t, 2)
	for i := 0; i < 2; i++ {
		if _, _, err := e.Flash.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, fmt.Sprintf("r-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A new process over the same database: the engine is primed with 3
	// units left and the customer's 2.
	f2 := peak.NewFlash(e.Store, e.Svc, engine(t), peak.Options{})
	if err := f2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, err := f2.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, "")
	wantCode(t, err, "over_limit")
	o, replayed, err := f2.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, "r-0")
	if err != nil || !replayed {
		t.Fatalf("replay after restart: %v %v", o, err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := f2.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, Quantity: 1, CustomerID: c[1].ID}, ""); err != nil && i < 2 {
			t.Fatal(err)
		} else if i == 2 {
			wantCode(t, err, "over_limit")
		}
	}
	if it := e.checkItem(t, s.ID); it.Reserved != 4 {
		t.Fatalf("reserved %d, want 4", it.Reserved)
	}
}

func testCouponGrab(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	tpl, err := e.Promo.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 10000, Off: 2000, Scope: pricing.Scope{All: true}},
		TotalQuantity: 50, PerCustomerClaims: 1, ValidDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	g := peak.NewGrabs(e.Eng, e.Promo, e.Clock.Now)
	custs := e.customers(t, 200)
	var ok, gone, limit atomic.Int64
	perCust := make([]atomic.Int64, len(custs))
	var wg sync.WaitGroup
	for i := 0; i < 1000; i++ { // 5 tries per customer for 50 coupons
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := i % len(custs)
			cp, _, err := g.Grab(ctx, e.Shop.ID, tpl.ID, custs[c].ID, fmt.Sprintf("grab-%d", i))
			if err != nil {
				ce, isCE := commerce.AsError(err)
				switch {
				case isCE && ce.Code == "coupons_sold_out":
					gone.Add(1)
				case isCE && ce.Code == "claim_limit_reached":
					limit.Add(1)
				default:
					t.Errorf("grab: %v", err)
				}
				return
			}
			if cp.CustomerID != custs[c].ID || len(cp.Code) < 12 {
				t.Errorf("coupon %+v", cp)
			}
			ok.Add(1)
			perCust[c].Add(1)
		}()
	}
	wg.Wait()
	for i := range perCust {
		if perCust[i].Load() > 1 {
			t.Fatalf("customer %d grabbed %d coupons, limit 1", i, perCust[i].Load())
		}
	}
	got, _ := e.Promo.Template(ctx, e.Shop.ID, tpl.ID)
	if ok.Load() != 50 || got.Issued != 50 {
		t.Fatalf("%d grabs succeeded (%d gone, %d over limit), template issued %d; want exactly 50", ok.Load(), gone.Load(), limit.Load(), got.Issued)
	}
	// A winner's coupon is in the wallet at once, and a replay returns it.
	var winner int
	for i := range perCust {
		if perCust[i].Load() == 1 {
			winner = i
			break
		}
	}
	w, err := e.Promo.Wallet(ctx, e.Shop.ID, custs[winner].ID)
	if err != nil || len(w.Valid) != 1 {
		t.Fatalf("wallet %+v %v", w, err)
	}
	_, _, err = g.Grab(ctx, e.Shop.ID, tpl.ID, custs[len(custs)-1].ID, "late-key")
	wantCode(t, err, "coupons_sold_out")
	// A fresh template: grab, then replay the key.
	tpl2, err := e.Promo.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Off: 300, Scope: pricing.Scope{All: true}},
		TotalQuantity: 5, PerCustomerClaims: 1, ValidDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	first, replayed, err := g.Grab(ctx, e.Shop.ID, tpl2.ID, custs[0].ID, "k")
	if err != nil || replayed {
		t.Fatalf("grab: %v %v", err, replayed)
	}
	again, replayed, err := g.Grab(ctx, e.Shop.ID, tpl2.ID, custs[0].ID, "k")
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("replay: %+v %v %v", again, replayed, err)
	}
	if got, _ := e.Promo.Template(ctx, e.Shop.ID, tpl2.ID); got.Issued != 1 {
		t.Fatalf("issued %d after a replay, want 1", got.Issued)
	}
}

func testFlashRefresh(t *testing.T, open Opener, engine EngineMaker) {
	e := newFlashEnv(t, open, engine)
	// A second node over the same database, started before the sale.
	other := peak.NewFlash(e.Store, e.Svc, engine(t), peak.Options{})
	if err := other.Start(ctx); err != nil {
		t.Fatal(err)
	}
	k, s := e.sale(t, 10, 3, 1)
	c := e.customers(t, 2)
	_, _, err := other.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, "")
	wantCode(t, err, "flash_sale_not_found")
	if n, err := other.Refresh(ctx, 0); err != nil || n != 1 {
		t.Fatalf("refresh learned %d (%v), want 1", n, err)
	}
	if _, _, err := other.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[0].ID}, ""); err != nil {
		t.Fatalf("buy on the other node: %v", err)
	}
	if n, err := other.Refresh(ctx, 0); err != nil || n != 0 {
		t.Fatalf("a second refresh changed %d (%v)", n, err)
	}
	if _, err := e.Flash.EndSale(ctx, e.Admin, s.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := other.Refresh(ctx, 0); err != nil || n != 1 {
		t.Fatalf("refresh forgot %d (%v), want the ended sale", n, err)
	}
	_, _, err = other.Buy(ctx, e.Shop.ID, s.ID, peak.BuyRequest{SKUID: k.ID, CustomerID: c[1].ID}, "")
	wantCode(t, err, "flash_sale_not_found")
}

// CheckUnits fails the test for any customer over limit and returns the
// units admitted in all.
func CheckUnits(t *testing.T, perCustomer map[string]int64, limit int64) int64 {
	t.Helper()
	var units int64
	for c, n := range perCustomer {
		units += n
		if n > limit {
			t.Errorf("customer %s holds %d units, limit %d", c, n, limit)
		}
	}
	return units
}
