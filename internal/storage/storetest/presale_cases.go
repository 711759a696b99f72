package storetest

import (
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

// RunPresales runs the presale (定金膨胀) contract against open.
func RunPresales(t *testing.T, open Opener) {
	t.Run("WorkedExampleHoldsThenSells", func(t *testing.T) { testPresaleWorkedExample(t, open) })
	t.Run("BalanceCombinesWithThresholdOffAndCouponOnlyIfAllowed", func(t *testing.T) { testPresaleCombines(t, open) })
	t.Run("CreditSplitsOverLinesAndRefundsExactly", func(t *testing.T) { testPresaleCreditLines(t, open) })
	t.Run("MissedBalanceWindowForfeits", func(t *testing.T) { testPresaleForfeit(t, open) })
	t.Run("WindowsAreEnforced", func(t *testing.T) { testPresaleWindows(t, open) })
	t.Run("CapOf50Against300Buyers", func(t *testing.T) { testPresaleCap(t, open) })
	t.Run("PerCustomerLimit", func(t *testing.T) { testPresaleLimit(t, open) })
	t.Run("Replays", func(t *testing.T) { testPresaleReplays(t, open) })
	t.Run("UnpaidReleasedPaidCancelForfeits", func(t *testing.T) { testPresaleCancel(t, open) })
}

type presaleEnv struct {
	*Env
	Pre   *peak.Presales
	Promo *promotion.Service
	t0    time.Time
}

// Windows of every test presale: deposits for 7 days from t0, balances
// for 2 days after that.
const (
	depositDays = 7 * 24 * time.Hour
	balanceDays = 2 * 24 * time.Hour
)

func newPresaleEnv(t *testing.T, open Opener) *presaleEnv {
	e := NewEnv(t, open)
	promo := promotion.New(e.Store, e.Svc) // balance orders are priced by the engine
	zero := int64(0)                       // no shipping, so payables read as goods
	if _, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{ShippingFee: &zero}); err != nil {
		t.Fatal(err)
	}
	return &presaleEnv{Env: e, Pre: peak.NewPresales(e.Store, e.Svc, peak.Options{}), Promo: promo, t0: e.Clock.Now()}
}

func (e *presaleEnv) balanceStart() time.Time { return e.t0.Add(depositDays) }
func (e *presaleEnv) balanceEnd() time.Time   { return e.t0.Add(depositDays + balanceDays) }

// presale creates a presale of one SKU: deposit ¥100 worth ¥200.
func (e *presaleEnv) presale(t *testing.T, skuID string, cap, limit int64, acts, coupons bool) *peak.Presale {
	t.Helper()
	p, err := e.Pre.CreatePresale(ctx, e.Admin, peak.PresaleInput{Name: "双11 预售", DepositStartsAt: e.t0, DepositEndsAt: e.t0.Add(depositDays),
		BalanceStartsAt: e.balanceStart(), BalanceEndsAt: e.balanceEnd(), QuantityCap: cap, PerCustomerLimit: limit,
		AllowOrderActivities: acts, AllowCoupons: coupons, Items: []peak.PresaleItemInput{{SKUID: skuID, Deposit: 10000, Value: 20000}}})
	if err != nil {
		t.Fatalf("create presale: %v", err)
	}
	return p
}

func (e *presaleEnv) deposit(t *testing.T, p *peak.Presale, skuID, custID string, q int64) *commerce.Order {
	t.Helper()
	o, _, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: skuID, Quantity: q, CustomerID: custID}, "")
	if err != nil {
		t.Fatalf("place deposit: %v", err)
	}
	return o
}

func (e *presaleEnv) paidDeposit(t *testing.T, p *peak.Presale, skuID, custID string, q int64) *commerce.Order {
	t.Helper()
	o := e.deposit(t, p, skuID, custID, q)
	paid, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID)
	if err != nil {
		t.Fatalf("pay deposit: %v", err)
	}
	return paid
}

func (e *presaleEnv) order(t *testing.T, id string) *commerce.Order {
	t.Helper()
	o, err := e.Svc.Order(ctx, e.Shop.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// stockIs checks a SKU's free, held and sold units and that they add up to
// total: only adjustments may change the sum.
func (e *presaleEnv) stockIs(t *testing.T, skuID string, stock, held, sold, total int64) {
	t.Helper()
	k := e.sku(t, skuID)
	if k.Stock != stock || k.Held != held || k.Sold != sold {
		t.Fatalf("SKU stock/held/sold = %d/%d/%d, want %d/%d/%d", k.Stock, k.Held, k.Sold, stock, held, sold)
	}
	if k.Stock+k.Held+k.Sold != total {
		t.Fatalf("stock %d + held %d + sold %d = %d, want %d", k.Stock, k.Held, k.Sold, k.Stock+k.Held+k.Sold, total)
	}
}

func holdState(o *commerce.Order, kind string) string {
	for _, h := range o.Holds {
		if h.Kind == kind {
			return h.State
		}
	}
	return ""
}

func lineOf(t *testing.T, o *commerce.Order, skuID string) commerce.OrderLine {
	t.Helper()
	for _, l := range o.Lines {
		if l.SKUID == skuID {
			return l
		}
	}
	t.Fatalf("order %s has no line of %s", o.ID, skuID)
	return commerce.OrderLine{}
}

// The worked example: a ¥100 deposit worth ¥200 on a ¥1 299 SKU leaves a
// ¥1 099 balance; the unit is held (not sold) after the deposit and sold
// once the balance is paid.
func testPresaleWorkedExample(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, k.ID, 0, 1, false, false)
	if p.Phase != peak.PresaleDeposit || p.Terms == "" {
		t.Fatalf("new presale: phase %s, terms %q", p.Phase, p.Terms)
	}

	dep := e.deposit(t, p, k.ID, c.ID, 1)
	if dep.Payable != 10000 || dep.Shipping != 0 || dep.Status != commerce.OrderPendingPayment {
		t.Fatalf("deposit order: payable %d shipping %d status %s, want 10000 0 pending", dep.Payable, dep.Shipping, dep.Status)
	}
	if dep.Presale == nil || dep.Presale.Role != "deposit" || dep.Presale.State != commerce.DepositPending || dep.Presale.CreditTotal != 20000 {
		t.Fatalf("deposit presale link: %+v", dep.Presale)
	}
	e.stockIs(t, k.ID, 9, 1, 0, 10)
	if !dep.ExpiresAt.After(e.Clock.Now()) || dep.ExpiresAt.After(e.balanceStart()) {
		t.Fatalf("deposit expires at %s, want within the payment timeout and before the balance window", dep.ExpiresAt)
	}

	dep, err := e.Svc.PayOrder(ctx, e.Shop.ID, dep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dep.Status != commerce.OrderDepositPaid || dep.Presale.State != commerce.DepositPaid || dep.Presale.PaidAt == nil {
		t.Fatalf("paid deposit: status %s, link %+v", dep.Status, dep.Presale)
	}
	if holdState(dep, commerce.HoldPresale) != commerce.HoldHeld {
		t.Fatalf("paying the deposit settled its hold: %+v", dep.Holds)
	}
	e.stockIs(t, k.ID, 9, 1, 0, 10) // held, not sold
	if _, err := e.Svc.RefundOrder(ctx, e.Admin, dep.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: 1, Quantity: 1}}}); err == nil {
		t.Fatal("a paid deposit was refunded as a line: the terms keep it")
	}

	e.Clock.Set(e.balanceStart())
	bal, replayed, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID}, "")
	if err != nil || replayed {
		t.Fatalf("place balance: %v (replayed %v)", err, replayed)
	}
	l := lineOf(t, bal, k.ID)
	if bal.Payable != 109900 || bal.DepositCredit != 20000 || l.DepositCredit != 20000 || l.Payable != 109900 || l.UnitListPrice != 129900 {
		t.Fatalf("balance: payable %d credit %d, line credit %d payable %d; want 109900 20000 20000 109900", bal.Payable, bal.DepositCredit, l.DepositCredit, l.Payable)
	}
	if l.ListAmount-l.ItemDiscount-l.OrderDiscount-l.CouponDiscount-l.PointsDiscount-l.DepositCredit != l.Payable {
		t.Fatalf("line payable does not equal list minus every discount: %+v", l)
	}
	if bal.Presale == nil || bal.Presale.Role != "balance" || bal.Presale.DepositOrderID != dep.ID {
		t.Fatalf("balance order does not link its deposit: %+v", bal.Presale)
	}
	if bal.ExpiresAt.After(e.balanceEnd()) {
		t.Fatalf("balance order may be paid until %s, after the window ends %s", bal.ExpiresAt, e.balanceEnd())
	}
	dep = e.order(t, dep.ID)
	if dep.Presale.State != commerce.DepositBalancePlaced || dep.Presale.BalanceOrderID != bal.ID || dep.Presale.BalanceStatus != commerce.OrderPendingPayment {
		t.Fatalf("deposit after the balance is placed: %+v", dep.Presale)
	}
	e.stockIs(t, k.ID, 9, 1, 0, 10) // the balance order holds nothing more

	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, bal.ID); err != nil {
		t.Fatal(err)
	}
	e.stockIs(t, k.ID, 9, 0, 1, 10) // sold
	dep = e.order(t, dep.ID)
	if dep.Status != commerce.OrderDepositSettled || dep.Presale.State != commerce.DepositSettled || dep.Presale.BalanceStatus != commerce.OrderPaid ||
		holdState(dep, commerce.HoldPresale) != commerce.HoldCommitted {
		t.Fatalf("deposit after the balance is paid: status %s, link %+v, holds %+v", dep.Status, dep.Presale, dep.Holds)
	}
	got, err := e.Pre.Presale(ctx, e.Shop.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Taken != 1 || got.Items[0].Held != 0 || got.Items[0].Sold != 1 {
		t.Fatalf("presale counters: taken %d, item %+v", got.Taken, got.Items[0])
	}
}

func testPresaleCombines(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	if _, _, err := e.Promo.SavePromotion(ctx, e.Admin, &promotion.Promotion{Activity: pricing.Activity{Name: "满1000减100", Kind: pricing.ThresholdOff,
		Scope: pricing.Scope{All: true}, Tiers: []pricing.Tier{{Threshold: 100000, Off: 10000}}}}, true); err != nil {
		t.Fatal(err)
	}
	tpl, err := e.Promo.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Kind: pricing.ThresholdOff, Threshold: 50000, Off: 5000,
		Scope: pricing.Scope{All: true}}, ValidDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := e.Promo.ClaimCoupon(ctx, e.Shop.ID, tpl.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	allowed := e.presale(t, k.ID, 0, 1, true, true)
	strict := e.presale(t, k.ID, 0, 1, false, false)
	depA := e.paidDeposit(t, allowed, k.ID, c.ID, 1)
	depS := e.paidDeposit(t, strict, k.ID, c.ID, 1)
	e.Clock.Set(e.balanceStart())

	// 1299 − 满减 100 − coupon 50 − deposit value 200 = 949.
	bal, _, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, depA.ID, peak.BalanceRequest{CustomerID: c.ID, CouponCodes: []string{cp.Code}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if bal.OrderDiscount != 10000 || bal.CouponDiscount != 5000 || bal.DepositCredit != 20000 || bal.Payable != 94900 {
		t.Fatalf("balance with 满减 and coupon: order %d coupon %d credit %d payable %d; want 10000 5000 20000 94900",
			bal.OrderDiscount, bal.CouponDiscount, bal.DepositCredit, bal.Payable)
	}

	// The strict presale refuses coupons and leaves the 满减 out.
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, depS.ID, peak.BalanceRequest{CustomerID: c.ID, BestCoupons: true}, "")
	wantCode(t, err, "coupons_not_allowed")
	bal2, _, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, depS.ID, peak.BalanceRequest{CustomerID: c.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if bal2.OrderDiscount != 0 || bal2.Payable != 109900 {
		t.Fatalf("balance of a presale without activities: order discount %d payable %d; want 0 109900", bal2.OrderDiscount, bal2.Payable)
	}
}

// The credit is split over the order's lines by largest remainder: on
// ¥1 299 and 2 × ¥59 (¥1 417 in all) ¥200 splits 18 334.51 → 18 335 and
// 1 665.49 → 1 665 fen; refunding the lines returns exactly what they paid.
func testPresaleCreditLines(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	a := e.SeedSKU(t, "PHONE", 129900, 10)
	b := e.SeedSKU(t, "CASE", 5900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, a.ID, 0, 1, false, false)
	dep := e.paidDeposit(t, p, a.ID, c.ID, 1)
	e.Clock.Set(e.balanceStart().Add(time.Hour))
	bal, _, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID, Lines: []commerce.CartLine{{SKUID: b.ID, Quantity: 2}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	la, lb := lineOf(t, bal, a.ID), lineOf(t, bal, b.ID)
	if la.DepositCredit != 18335 || lb.DepositCredit != 1665 || la.DepositCredit+lb.DepositCredit != bal.DepositCredit || bal.DepositCredit != 20000 {
		t.Fatalf("credit split %d + %d = %d, want 18335 + 1665 = 20000", la.DepositCredit, lb.DepositCredit, bal.DepositCredit)
	}
	if la.Payable != 111565 || lb.Payable != 10135 || bal.Payable != 121700 {
		t.Fatalf("payables %d, %d, total %d; want 111565, 10135, 121700", la.Payable, lb.Payable, bal.Payable)
	}
	e.stockIs(t, b.ID, 8, 2, 0, 10)
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, bal.ID); err != nil {
		t.Fatal(err)
	}
	e.stockIs(t, a.ID, 9, 0, 1, 10)
	e.stockIs(t, b.ID, 8, 0, 2, 10)
	refund := func(no int, q int64) *commerce.Order {
		t.Helper()
		o, err := e.Svc.RefundOrder(ctx, e.Admin, bal.ID, &commerce.RefundRequest{Lines: []commerce.RefundRequestLine{{No: no, Quantity: q}}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := refund(lb.No, 1)
	if o.RefundedAmount != 5067 {
		t.Fatalf("refunding 1 of 2 cases returned %d, want 5067", o.RefundedAmount)
	}
	o = refund(lb.No, 1)
	o = refund(la.No, 1)
	if o.RefundedAmount != bal.Payable || o.Status != commerce.OrderRefunded {
		t.Fatalf("refunded %d (%s), want exactly the payable %d", o.RefundedAmount, o.Status, bal.Payable)
	}
	e.stockIs(t, a.ID, 10, 0, 0, 10)
	e.stockIs(t, b.ID, 10, 0, 0, 10)
}

func testPresaleForfeit(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c1, c2 := e.SeedCustomer(t, "u-1"), e.SeedCustomer(t, "u-2")
	p := e.presale(t, k.ID, 0, 2, false, false)
	dep1 := e.paidDeposit(t, p, k.ID, c1.ID, 2)
	dep2 := e.paidDeposit(t, p, k.ID, c2.ID, 1)
	e.stockIs(t, k.ID, 7, 3, 0, 10)

	// c2 places a balance near the end of the window and never pays it.
	e.Clock.Set(e.balanceEnd().Add(-5 * time.Minute))
	bal2, _, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, dep2.ID, peak.BalanceRequest{CustomerID: c2.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bal2.ExpiresAt.Equal(e.balanceEnd()) {
		t.Fatalf("a balance placed 5 minutes before the window closes expires at %s, want %s", bal2.ExpiresAt, e.balanceEnd())
	}
	if n, err := e.Pre.ForfeitDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("forfeit inside the window: %d, %v", n, err)
	}

	e.Clock.Set(e.balanceEnd())
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, bal2.ID); err == nil {
		t.Fatal("a balance order was paid after the balance window closed")
	}
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n > 1 {
		t.Fatalf("expire: %d, %v", n, err) // PayOrder may have released it already
	}
	if n, err := e.Pre.ForfeitDue(ctx, 100); err != nil || n != 2 {
		t.Fatalf("forfeit after the window: %d, %v; want 2", n, err)
	}
	if n, _ := e.Pre.ForfeitDue(ctx, 100); n != 0 {
		t.Fatalf("a second sweep forfeited %d more", n)
	}
	for _, d := range []*commerce.Order{dep1, dep2} {
		o := e.order(t, d.ID)
		if o.Status != commerce.OrderDepositForfeited || o.Presale.State != commerce.DepositForfeited || o.Presale.ForfeitedAt == nil ||
			!o.Presale.ForfeitedAt.Equal(e.balanceEnd()) || o.Presale.ForfeitReason != peak.ForfeitBalanceNotPaid {
			t.Fatalf("forfeited deposit: status %s, link %+v", o.Status, o.Presale)
		}
		if o.Payable != d.Payable || o.RefundedAmount != 0 || o.PaidAt == nil {
			t.Fatalf("the forfeited deposit was not kept: payable %d refunded %d", o.Payable, o.RefundedAmount)
		}
		if holdState(o, commerce.HoldPresale) != commerce.HoldReleased {
			t.Fatalf("forfeited deposit's hold: %+v", o.Holds)
		}
	}
	e.stockIs(t, k.ID, 10, 0, 0, 10)
	moves, err := e.Svc.StockMoves(ctx, e.Shop.ID, k.ID, commerce.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range moves {
		if m.OrderID == dep1.ID && m.Reason == commerce.StockRelease && m.Delta == 2 && m.HeldDelta == -2 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no release move for the forfeited deposit: %+v", moves)
	}
	got, _ := e.Pre.Presale(ctx, e.Shop.ID, p.ID)
	if got.Taken != 0 || got.Items[0].Forfeited != 3 || got.Items[0].Held != 0 {
		t.Fatalf("presale after forfeits: taken %d item %+v", got.Taken, got.Items[0])
	}
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, dep1.ID, peak.BalanceRequest{CustomerID: c1.ID}, "")
	wantCode(t, err, "deposit_not_awaiting_balance")
}

func testPresaleWindows(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	p, err := e.Pre.CreatePresale(ctx, e.Admin, peak.PresaleInput{Name: "later", DepositStartsAt: e.t0.Add(time.Hour), DepositEndsAt: e.t0.Add(depositDays),
		BalanceStartsAt: e.balanceStart(), BalanceEndsAt: e.balanceEnd(), Items: []peak.PresaleItemInput{{SKUID: k.ID, Deposit: 10000, Value: 20000}}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, CustomerID: c.ID}, "")
	wantCode(t, err, "deposit_window_not_open")
	e.Clock.Set(e.t0.Add(time.Hour))
	dep := e.paidDeposit(t, p, k.ID, c.ID, 1)

	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID}, "")
	wantCode(t, err, "balance_window_not_open")
	e.Clock.Set(e.balanceStart().Add(-time.Microsecond))
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID}, "")
	wantCode(t, err, "balance_window_not_open")
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: e.SeedCustomer(t, "u-3").ID}, "")
	wantCode(t, err, "not_deposit_customer")

	e.Clock.Set(e.balanceEnd())
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, dep.ID, peak.BalanceRequest{CustomerID: c.ID}, "")
	wantCode(t, err, "balance_window_closed")
	_, _, err = e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, CustomerID: e.SeedCustomer(t, "u-2").ID}, "")
	wantCode(t, err, "deposit_window_closed")
	if o := e.order(t, dep.ID); o.Presale.State != commerce.DepositPaid || o.Presale.BalanceOrderID != "" {
		t.Fatalf("a refused balance changed the deposit: %+v", o.Presale)
	}
	e.stockIs(t, k.ID, 9, 1, 0, 10)
	list, err := e.Svc.ListOrders(ctx, e.Shop.ID, commerce.OrderFilter{}, commerce.Page{})
	if err != nil || len(list) != 1 {
		t.Fatalf("refused requests wrote orders: %d, %v", len(list), err)
	}
}

func testPresaleCap(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 1000)
	p := e.presale(t, k.ID, 50, 1, false, false)
	var custs []commerce.Customer
	for i := 0; i < 300; i++ {
		custs = append(custs, commerce.Customer{ExternalID: fmt.Sprintf("buyer-%d", i)})
	}
	custs, err := e.Svc.UpsertCustomers(ctx, e.Admin, custs)
	if err != nil {
		t.Fatal(err)
	}
	var ok, soldOut atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range custs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o, _, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, CustomerID: custs[i].ID}, fmt.Sprintf("dep-%d", i))
			if ce, isDomain := commerce.AsError(err); isDomain && ce.Code == "sold_out" {
				soldOut.Add(1)
				return
			}
			if err != nil {
				t.Errorf("deposit: %v", err)
				return
			}
			if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, o.ID); err != nil {
				t.Errorf("pay deposit: %v", err)
				return
			}
			ok.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 50 || soldOut.Load() != 250 {
		t.Fatalf("%d deposits placed and %d sold out; want exactly 50 and 250", ok.Load(), soldOut.Load())
	}
	e.stockIs(t, k.ID, 950, 50, 0, 1000)
	got, _ := e.Pre.Presale(ctx, e.Shop.ID, p.ID)
	if got.Taken != 50 || got.Items[0].Held != 50 {
		t.Fatalf("presale counters: taken %d held %d, want 50 50", got.Taken, got.Items[0].Held)
	}
}

func testPresaleLimit(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, k.ID, 0, 2, false, false)
	_, _, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, Quantity: 3, CustomerID: c.ID}, "")
	wantCode(t, err, "out_of_range")
	first := e.deposit(t, p, k.ID, c.ID, 2)
	_, _, err = e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, Quantity: 1, CustomerID: c.ID}, "")
	wantCode(t, err, "over_limit")
	if _, err := e.Svc.CancelOrder(ctx, e.Shop.ID, first.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.deposit(t, p, k.ID, c.ID, 1) // a released deposit no longer counts
	e.stockIs(t, k.ID, 9, 1, 0, 10)

	// One customer racing 20 deposits at a limit of 2 gets exactly 2.
	c2 := e.SeedCustomer(t, "u-2")
	var ok, over atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, CustomerID: c2.ID}, "")
			if ce, isDomain := commerce.AsError(err); isDomain && ce.Code == "over_limit" {
				over.Add(1)
			} else if err != nil {
				t.Errorf("deposit: %v", err)
			} else {
				ok.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 2 || over.Load() != 18 {
		t.Fatalf("one customer placed %d deposits (%d over the limit); want exactly 2 of 20", ok.Load(), over.Load())
	}
	e.stockIs(t, k.ID, 7, 3, 0, 10)
}

func testPresaleReplays(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	b := e.SeedSKU(t, "CASE", 5900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, k.ID, 0, 2, false, false)
	req := peak.DepositRequest{SKUID: k.ID, Quantity: 1, CustomerID: c.ID}
	d1, replayed, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, req, "dep-key")
	if err != nil || replayed {
		t.Fatalf("first deposit: %v %v", err, replayed)
	}
	d2, replayed, err := e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, req, "dep-key")
	if err != nil || !replayed || d2.ID != d1.ID || d2.Payable != d1.Payable {
		t.Fatalf("replayed deposit: %v replayed=%v id %s vs %s", err, replayed, d2.ID, d1.ID)
	}
	e.stockIs(t, k.ID, 9, 1, 0, 10)
	_, _, err = e.Pre.PlaceDeposit(ctx, e.Shop.ID, p.ID, peak.DepositRequest{SKUID: k.ID, Quantity: 2, CustomerID: c.ID}, "dep-key")
	wantCode(t, err, "idempotency_key_reused")
	if _, err := e.Svc.PayOrder(ctx, e.Shop.ID, d1.ID); err != nil {
		t.Fatal(err)
	}

	e.Clock.Set(e.balanceStart())
	breq := peak.BalanceRequest{CustomerID: c.ID}
	b1, replayed, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, d1.ID, breq, "bal-key")
	if err != nil || replayed {
		t.Fatalf("first balance: %v %v", err, replayed)
	}
	b2, replayed, err := e.Pre.PlaceBalance(ctx, e.Shop.ID, d1.ID, breq, "bal-key")
	if err != nil || !replayed || b2.ID != b1.ID || b2.Payable != 109900 {
		t.Fatalf("replayed balance: %v replayed=%v id %s vs %s payable %d", err, replayed, b2.ID, b1.ID, b2.Payable)
	}
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, d1.ID, peak.BalanceRequest{CustomerID: c.ID, Lines: []commerce.CartLine{{SKUID: b.ID, Quantity: 1}}}, "bal-key")
	wantCode(t, err, "idempotency_key_reused")
	_, _, err = e.Pre.PlaceBalance(ctx, e.Shop.ID, d1.ID, breq, "another-key")
	wantCode(t, err, "deposit_not_awaiting_balance")
	e.stockIs(t, k.ID, 9, 1, 0, 10)
	e.stockIs(t, b.ID, 10, 0, 0, 10)
	list, _ := e.Svc.ListOrders(ctx, e.Shop.ID, commerce.OrderFilter{}, commerce.Page{})
	if len(list) != 2 {
		t.Fatalf("%d orders after replays, want 2 (one deposit, one balance)", len(list))
	}
}

func testPresaleCancel(t *testing.T, open Opener) {
	e := newPresaleEnv(t, open)
	k := e.SeedSKU(t, "PHONE", 129900, 10)
	c := e.SeedCustomer(t, "u-1")
	p := e.presale(t, k.ID, 0, 5, false, false)

	unpaid := e.deposit(t, p, k.ID, c.ID, 1)
	e.Clock.Advance(commerce.DefaultPaymentTimeout)
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("expire unpaid deposit: %d, %v", n, err)
	}
	o := e.order(t, unpaid.ID)
	if o.Status != commerce.OrderCancelled || o.Presale.State != commerce.DepositReleased {
		t.Fatalf("unpaid deposit after the timeout: %s, %+v", o.Status, o.Presale)
	}
	e.stockIs(t, k.ID, 10, 0, 0, 10)

	pending := e.deposit(t, p, k.ID, c.ID, 1)
	if o, err := e.Pre.CancelDeposit(ctx, e.Shop.ID, pending.ID); err != nil || o.Status != commerce.OrderCancelled {
		t.Fatalf("cancel an unpaid deposit: %v", err)
	}

	paid := e.paidDeposit(t, p, k.ID, c.ID, 2)
	e.stockIs(t, k.ID, 8, 2, 0, 10)
	o, err := e.Pre.CancelDeposit(ctx, e.Shop.ID, paid.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != commerce.OrderDepositForfeited || o.Presale.ForfeitReason != peak.ForfeitCancelledByCustomer || o.RefundedAmount != 0 || o.Payable != 20000 {
		t.Fatalf("cancelled paid deposit: status %s link %+v refunded %d", o.Status, o.Presale, o.RefundedAmount)
	}
	e.stockIs(t, k.ID, 10, 0, 0, 10)
	_, err = e.Pre.CancelDeposit(ctx, e.Shop.ID, paid.ID)
	wantCode(t, err, "illegal_transition")
	got, _ := e.Pre.Presale(ctx, e.Shop.ID, p.ID)
	if got.Taken != 0 {
		t.Fatalf("presale taken %d after every deposit was released or forfeited", got.Taken)
	}
}
