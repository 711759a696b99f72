package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/clock"
	"github.com/carnivalhq/carnival/internal/commerce"
)

const shop = "shp_1"

type fixture struct {
	t     *testing.T
	clk   *clock.Settable
	store *memStore
	g     *Guard
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newFixture returns a guard with a settable clock that refreshes and
// writes refusals only when told to.
func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, clk: testClock(), store: newMemStore()}
	f.g = f.open(nil)
	return f
}

// open starts another guard (another instance, or the same after a restart)
// on the fixture's store and clock.
func (f *fixture) open(lim Limiter, opts ...func(*Options)) *Guard {
	f.t.Helper()
	o := Options{Now: f.clk.Now, Logger: quietLog(), Refresh: -1, FlushEvery: -1}
	for _, fn := range opts {
		fn(&o)
	}
	if lim == nil {
		lim = NewMemoryLimiter(f.clk.Now)
	}
	g, err := New(context.Background(), f.store, lim, o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(g.Close)
	return g
}

func refusal(t *testing.T, err error) *Refusal {
	t.Helper()
	r, ok := AsRefusal(err)
	if !ok {
		t.Fatalf("err = %v, want a refusal", err)
	}
	return r
}

func mustAllow(t *testing.T, g *Guard, scope string, s Subject, p Policy) {
	t.Helper()
	if err := g.Check(ctx, shop, scope, s, p); err != nil {
		t.Fatalf("check %+v at %s: %v, want allowed", s, scope, err)
	}
}

func mustBlock(t *testing.T, g *Guard, scope string, s Subject, p Policy, dim string) *Refusal {
	t.Helper()
	r := refusal(t, g.Check(ctx, shop, scope, s, p))
	if r.Rule != RuleBlocked || !r.Blocked || r.Dimension != dim {
		t.Fatalf("refusal = %+v, want blocked on %s", r, dim)
	}
	return r
}

var (
	shopper  = Subject{CustomerID: "cus_1", Device: "dev-1", IP: "203.0.113.7"}
	noLimits = Policy{BlockIPs: true} // rate limits off, failure blocking at the defaults, IPs too
)

func TestARateLimitRefusesWithItsDimensionAndIsRecorded(t *testing.T) {
	f := newFixture(t)
	p := Policy{PerIP: Limit{Rate: 2, Per: time.Second}}
	mustAllow(t, f.g, "flash:s1", shopper, p)
	mustAllow(t, f.g, "flash:s1", Subject{IP: shopper.IP}, p)
	for i := 0; i < 3; i++ {
		r := refusal(t, f.g.Check(ctx, shop, "flash:s1", Subject{CustomerID: fmt.Sprint("other", i), IP: shopper.IP}, p))
		if r.Rule != RuleRateLimit || r.Dimension != DimIP || r.Key != shopper.IP || r.Blocked || r.RetryAfter != 500*time.Millisecond {
			t.Fatalf("refusal = %+v, want rate_limit on ip, retry 500ms", r)
		}
	}
	// Another scope has its own allowance.
	mustAllow(t, f.g, "claim:t1", shopper, p)
	f.g.Flush()
	recs, _ := f.store.ListRefusals(ctx, shop, RefusalFilter{}, commerce.Page{Limit: 10})
	if len(recs) != 1 {
		t.Fatalf("records = %+v, want the 3 refusals folded into one", recs)
	}
	r := recs[0]
	if r.Rule != RuleRateLimit || r.Dimension != DimIP || r.Key != shopper.IP || r.Scope != "flash:s1" || r.Count != 3 || r.ID == "" {
		t.Fatalf("record = %+v", r)
	}
	if m := f.g.Metrics(); m.RateLimited != 3 || m.RecordsDropped != 0 {
		t.Fatalf("metrics = %+v", m)
	}
}

func TestEachDimensionIsLimitedOnItsOwn(t *testing.T) {
	f := newFixture(t)
	p := Policy{PerCustomer: Limit{Rate: 1, Per: time.Minute}, PerDevice: Limit{Rate: 2, Per: time.Minute}, PerIP: Limit{Rate: 100, Per: time.Second}}
	mustAllow(t, f.g, "s", Subject{CustomerID: "c1", Device: "d1", IP: "10.0.0.1"}, p)
	// Same customer from elsewhere: the customer limit refuses.
	if r := refusal(t, f.g.Check(ctx, shop, "s", Subject{CustomerID: "c1", Device: "d2", IP: "10.0.0.2"}, p)); r.Dimension != DimCustomer {
		t.Fatalf("refused on %s, want customer", r.Dimension)
	}
	// Same device, other customers: the device limit (2) refuses the third.
	mustAllow(t, f.g, "s", Subject{CustomerID: "c2", Device: "d1", IP: "10.0.0.3"}, p)
	if r := refusal(t, f.g.Check(ctx, shop, "s", Subject{CustomerID: "c3", Device: "d1", IP: "10.0.0.4"}, p)); r.Dimension != DimDevice {
		t.Fatalf("refused on %s, want device", r.Dimension)
	}
	// Anonymous parts are not limited.
	for i := 0; i < 10; i++ {
		mustAllow(t, f.g, "s", Subject{}, p)
	}
}

func TestTheFifthFailureWithinTheWindowBlocks(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 4; i++ {
		f.g.Fail(ctx, shop, "claim:t1", shopper, noLimits, "invalid_code")
		f.clk.Advance(2 * time.Minute)
		mustAllow(t, f.g, "claim:t1", shopper, noLimits)
	}
	// 4 failures over 8 minutes; the 5th at 8 minutes is within 10.
	f.g.Fail(ctx, shop, "claim:t1", shopper, noLimits, "invalid_code")
	r := mustBlock(t, f.g, "claim:t1", shopper, noLimits, DimIP)
	if r.RetryAfter != time.Hour || r.BlockID == "" {
		t.Fatalf("refusal = %+v, want retry after the 1 h block", r)
	}
	for _, dim := range []struct{ dim, key string }{{DimCustomer, shopper.CustomerID}, {DimDevice, shopper.Device}, {DimIP, shopper.IP}} {
		bs := f.store.blocksOf(dim.dim, dim.key)
		if len(bs) != 1 || bs[0].Rule != RuleFailLimit || bs[0].Reason != "invalid_code" || bs[0].Failures != 5 ||
			bs[0].WindowSeconds != 600 || bs[0].Scope != "claim:t1" || !bs[0].Until.Equal(f.clk.Now().Add(time.Hour)) {
			t.Fatalf("%s blocks = %+v", dim.dim, bs)
		}
	}
	if got := f.store.auditActions(); got != "guard.block,guard.block,guard.block" {
		t.Fatalf("audit = %s, want one guard.block per dimension", got)
	}
	// Each dimension is blocked on its own.
	mustBlock(t, f.g, "claim:t1", Subject{CustomerID: shopper.CustomerID}, noLimits, DimCustomer)
	mustBlock(t, f.g, "claim:t1", Subject{Device: shopper.Device}, noLimits, DimDevice)
	mustAllow(t, f.g, "claim:t1", Subject{CustomerID: "cus_2", Device: "dev-2", IP: "198.51.100.1"}, noLimits)
}

func TestFailuresSpreadOverMoreThanTheWindowDoNotBlock(t *testing.T) {
	f := newFixture(t)
	// Every 2.5 minutes: any five of them span exactly the 10 minute window,
	// so never 5 within it.
	for i := 0; i < 20; i++ {
		f.g.Fail(ctx, shop, "claim:t1", shopper, noLimits, "invalid_code")
		mustAllow(t, f.g, "claim:t1", shopper, noLimits)
		f.clk.Advance(150 * time.Second)
	}
	if len(f.store.blocks) != 0 {
		t.Fatalf("blocks = %+v, want none", f.store.blocks)
	}
}

func TestAPolicyMayChangeTheThresholdOrTurnBlockingOff(t *testing.T) {
	f := newFixture(t)
	strict := Policy{FailLimit: 2, FailWindow: time.Minute, BlockFor: 5 * time.Minute, BlockIPs: true}
	f.g.Fail(ctx, shop, "s", Subject{IP: "1.1.1.1"}, strict, "x")
	f.g.Fail(ctx, shop, "s", Subject{IP: "1.1.1.1"}, strict, "x")
	if r := mustBlock(t, f.g, "s", Subject{IP: "1.1.1.1"}, strict, DimIP); r.RetryAfter != 5*time.Minute {
		t.Fatalf("retry after %s, want the 5 minute block", r.RetryAfter)
	}
	off := Policy{FailLimit: -1}
	for i := 0; i < 50; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: "2.2.2.2"}, off, "x")
	}
	mustAllow(t, f.g, "s", Subject{IP: "2.2.2.2"}, off)
}

func TestABlockEndsWhenItExpires(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", shopper, noLimits, "x")
	}
	f.clk.Advance(time.Hour - time.Second)
	mustBlock(t, f.g, "s", shopper, noLimits, DimIP)
	f.clk.Advance(time.Second)
	mustAllow(t, f.g, "s", shopper, noLimits)
	active, _ := f.g.ListBlocks(ctx, shop, true, commerce.Page{})
	all, _ := f.g.ListBlocks(ctx, shop, false, commerce.Page{})
	if len(active) != 0 || len(all) != 3 || all[0].Active {
		t.Fatalf("after expiry: %d active, %d in all (active %v); want 0 and 3 inactive", len(active), len(all), all[0].Active)
	}
}

func TestABlockAppliesAcrossScopesButFailuresCountPerScope(t *testing.T) {
	f := newFixture(t)
	ip := Subject{IP: "203.0.113.9"}
	for i := 0; i < 3; i++ {
		f.g.Fail(ctx, shop, "claim:a", ip, noLimits, "x")
	}
	for i := 0; i < 2; i++ {
		f.g.Fail(ctx, shop, "claim:b", ip, noLimits, "x")
	}
	mustAllow(t, f.g, "claim:a", ip, noLimits)
	f.g.Fail(ctx, shop, "claim:a", ip, noLimits, "x")
	f.g.Fail(ctx, shop, "claim:a", ip, noLimits, "x")
	mustBlock(t, f.g, "flash:other-sale", ip, noLimits, DimIP)
	if err := f.g.Check(ctx, "shp_other", "claim:a", ip, noLimits); err != nil {
		t.Fatalf("another shop refused the IP: %v", err)
	}
}

func TestLiftingABlockLetsTheKeyThroughAtOnce(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: shopper.IP}, noLimits, "x")
	}
	r := mustBlock(t, f.g, "s", Subject{IP: shopper.IP}, noLimits, DimIP)
	if err := f.g.Lift(ctx, "shp_other", r.BlockID, "key:k1"); !isCode(err, "guard_block_not_found") {
		t.Fatalf("lift from another shop: %v", err)
	}
	if err := f.g.Lift(ctx, shop, r.BlockID, "key:k1"); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, f.g, "s", Subject{IP: shopper.IP}, noLimits)
	if err := f.g.Lift(ctx, shop, r.BlockID, "key:k1"); !isCode(err, "block_already_lifted") {
		t.Fatalf("second lift: %v", err)
	}
	if err := f.g.Lift(ctx, shop, "blk_nope", "key:k1"); !isCode(err, "guard_block_not_found") {
		t.Fatalf("lift unknown: %v", err)
	}
	bs, _ := f.g.ListBlocks(ctx, shop, false, commerce.Page{})
	if len(bs) != 1 || bs[0].Active || bs[0].LiftedBy != "key:k1" || bs[0].LiftedAt == nil {
		t.Fatalf("blocks = %+v", bs)
	}
	if got := f.store.auditActions(); got != "guard.block,guard.lift" {
		t.Fatalf("audit = %s", got)
	}
	// Lifted, the key starts counting from zero.
	for i := 0; i < 4; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: shopper.IP}, noLimits, "x")
	}
	mustAllow(t, f.g, "s", Subject{IP: shopper.IP}, noLimits)
}

func isCode(err error, code string) bool {
	e, ok := commerce.AsError(err)
	return ok && e.Code == code
}

func TestBlocksSurviveARestart(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", shopper, noLimits, "x")
	}
	f.g.Close()
	restarted := f.open(nil)
	mustBlock(t, restarted, "s", shopper, noLimits, DimIP)
	f.clk.Advance(time.Hour)
	mustAllow(t, restarted, "s", shopper, noLimits)
}

func TestInstancesConvergeOnBlocksAndLiftsAtTheirNextRefresh(t *testing.T) {
	f := newFixture(t)
	a, b := f.g, f.open(nil)
	for i := 0; i < 5; i++ {
		a.Fail(ctx, shop, "s", Subject{IP: shopper.IP}, noLimits, "x")
	}
	mustAllow(t, b, "s", Subject{IP: shopper.IP}, noLimits) // b has not looked yet
	f.clk.Advance(2 * time.Second)
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r := mustBlock(t, b, "s", Subject{IP: shopper.IP}, noLimits, DimIP)
	if err := b.Lift(ctx, shop, r.BlockID, "key:k1"); err != nil {
		t.Fatal(err)
	}
	mustBlock(t, a, "s", Subject{IP: shopper.IP}, noLimits, DimIP)
	f.clk.Advance(2 * time.Second)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, a, "s", Subject{IP: shopper.IP}, noLimits)
}

func TestConcurrentFailuresMakeExactlyOneBlockPerKey(t *testing.T) {
	f := newFixture(t)
	const keys, workers, perWorker = 8, 16, 40
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				k := (w + i) % keys
				s := Subject{CustomerID: fmt.Sprint("cus_", k), Device: fmt.Sprint("dev-", k), IP: fmt.Sprint("10.0.0.", k)}
				scope := fmt.Sprint("claim:", i%3) // failures in several scopes race to block the same key
				if err := f.g.Check(ctx, shop, scope, s, noLimits); err != nil {
					if _, ok := AsRefusal(err); !ok {
						t.Error(err)
					}
				}
				f.g.Fail(ctx, shop, scope, s, noLimits, "x")
			}
		}()
	}
	wg.Wait()
	for k := 0; k < keys; k++ {
		for _, d := range []struct{ dim, key string }{{DimCustomer, fmt.Sprint("cus_", k)}, {DimDevice, fmt.Sprint("dev-", k)}, {DimIP, fmt.Sprint("10.0.0.", k)}} {
			if n := len(f.store.blocksOf(d.dim, d.key)); n != 1 {
				t.Errorf("%s %s has %d blocks, want 1", d.dim, d.key, n)
			}
		}
	}
	if m := f.g.Metrics(); m.BlocksMade != keys*3 {
		t.Errorf("blocks made = %d, want %d", m.BlocksMade, keys*3)
	}
}

func TestBlockedRefusalsAreRecordedWithTheBlock(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{Device: "dev-9"}, noLimits, "x")
	}
	r := mustBlock(t, f.g, "flash:s2", Subject{Device: "dev-9"}, noLimits, DimDevice)
	mustBlock(t, f.g, "flash:s2", Subject{Device: "dev-9"}, noLimits, DimDevice)
	f.g.Flush()
	recs, _ := f.g.ListRefusals(ctx, shop, RefusalFilter{Rule: RuleBlocked}, commerce.Page{})
	if len(recs) != 1 || recs[0].BlockID != r.BlockID || recs[0].Count != 2 || recs[0].Scope != "flash:s2" || recs[0].Dimension != DimDevice {
		t.Fatalf("records = %+v", recs)
	}
	if _, err := f.g.ListRefusals(ctx, shop, RefusalFilter{Rule: "nope"}, commerce.Page{}); !isCode(err, "invalid_enum") {
		t.Fatalf("bad rule filter: %v", err)
	}
}

type brokenLimiter struct{ err error }

func (b brokenLimiter) Allow(context.Context, string, Limit) (bool, time.Duration, error) {
	return false, 0, b.err
}

func TestALimiterThatCannotDecideFailsClosed(t *testing.T) {
	f := newFixture(t)
	down := errors.New("redis: connection refused")
	g := f.open(brokenLimiter{down})
	err := g.Check(ctx, shop, "s", shopper, DefaultPolicy())
	if !errors.Is(err, down) {
		t.Fatalf("err = %v, want the limiter's error", err)
	}
	if _, ok := AsRefusal(err); ok {
		t.Fatal("a limiter error came back as a refusal")
	}
}

func TestAFullRecordQueueDropsAndCountsInsteadOfWaiting(t *testing.T) {
	f := newFixture(t)
	f.store.hold = make(chan struct{})
	g := f.open(nil, func(o *Options) { o.QueueSize = 4; o.BatchSize = 1 })
	p := Policy{PerIP: Limit{Rate: 1, Per: time.Hour}}
	mustAllow(t, g, "s", Subject{IP: "9.9.9.9"}, p)
	const refusals = 200
	for i := 0; i < refusals; i++ {
		refusal(t, g.Check(ctx, shop, "s", Subject{IP: "9.9.9.9"}, p))
	}
	dropped := g.Metrics().RecordsDropped
	if dropped < refusals-4-2 {
		t.Fatalf("dropped %d of %d with a queue of 4 and the writer stuck", dropped, refusals)
	}
	close(f.store.hold)
	g.Flush()
	var recorded int64
	for _, r := range f.store.refusals {
		recorded += r.Count
	}
	if recorded+int64(g.Metrics().RecordsDropped) != refusals {
		t.Fatalf("recorded %d + dropped %d != %d refusals", recorded, g.Metrics().RecordsDropped, refusals)
	}
}

func TestOverlongKeysAreHashed(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("d", 10000)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{Device: long}, noLimits, "x")
	}
	r := mustBlock(t, f.g, "s", Subject{Device: long}, noLimits, DimDevice)
	if len(r.Key) > maxKeyLen || !strings.HasPrefix(r.Key, "sha256:") {
		t.Fatalf("key %q…", r.Key[:20])
	}
	mustAllow(t, f.g, "s", Subject{Device: long + "x"}, noLimits)
}

func TestTheShopPolicyDefaultsAndIsSavedAudited(t *testing.T) {
	f := newFixture(t)
	p, err := f.g.ShopPolicy(ctx, shop)
	if err != nil || p != DefaultPolicy() {
		t.Fatalf("policy = %+v, %v; want the default", p, err)
	}
	bad := DefaultPolicy()
	bad.PerIP.Rate = -1
	if err := f.g.SetShopPolicy(ctx, shop, "key:k1", bad); !isCode(err, "out_of_range") {
		t.Fatalf("bad policy: %v", err)
	}
	want := Policy{PerIP: Limit{Rate: 5, Per: time.Second, Burst: 5}, FailLimit: 3}
	if err := f.g.SetShopPolicy(ctx, shop, "key:k1", want); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.g.ShopPolicy(ctx, shop); got != want {
		t.Fatalf("policy = %+v, want %+v", got, want)
	}
	if got, _ := f.open(nil).ShopPolicy(ctx, shop); got != want {
		t.Fatalf("another instance reads %+v", got)
	}
	if a := f.store.auditActions(); a != "guard.policy" {
		t.Fatalf("audit = %s", a)
	}
}

func TestCloseWritesWhatIsQueued(t *testing.T) {
	f := newFixture(t)
	p := Policy{PerCustomer: Limit{Rate: 1, Per: time.Hour}}
	mustAllow(t, f.g, "s", Subject{CustomerID: "c"}, p)
	refusal(t, f.g.Check(ctx, shop, "s", Subject{CustomerID: "c"}, p))
	f.g.Close()
	if len(f.store.refusals) != 1 {
		t.Fatalf("refusals after close = %+v", f.store.refusals)
	}
}

// A block the store refused (PostgreSQL refusing a key, a database down)
// is not kept in memory: no admin could see or lift it.
func TestABlockTheStoreRefusesIsNotKept(t *testing.T) {
	f := newFixture(t)
	f.store.saveErr = errors.New("invalid byte sequence for encoding \"UTF8\"")
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: shopper.IP}, noLimits, "x")
	}
	mustAllow(t, f.g, "s", Subject{IP: shopper.IP}, noLimits)
	if bs, _ := f.g.ListBlocks(ctx, shop, false, commerce.Page{}); len(bs) != 0 {
		t.Fatalf("blocks = %+v", bs)
	}
	// Once the store takes blocks again, the next failures block as usual.
	f.store.saveErr = nil
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: shopper.IP}, noLimits, "x")
	}
	mustBlock(t, f.g, "s", Subject{IP: shopper.IP}, noLimits, DimIP)
}

// A key that breaks the text rule (NUL, control characters, invalid
// UTF-8) is kept hashed, like an overlong one, so the store can hold its
// block and an admin lift it.
func TestKeysThatAreNotTextAreHashed(t *testing.T) {
	for _, k := range []string{"dev\x00ice", "\xff\xfe", "a\x01b", "a\nb"} {
		if got := normKey(k); !strings.HasPrefix(got, "sha256:") {
			t.Errorf("normKey(%q) = %q, want a hash", k, got)
		}
	}
	for _, k := range []string{"203.0.113.7", "dev-1", "顾客"} {
		if got := normKey(k); got != k {
			t.Errorf("normKey(%q) = %q, want it as is", k, got)
		}
	}
}

func TestTheDefaultPolicyBlocksTheShopperButNeverTheIP(t *testing.T) {
	f := newFixture(t)
	p := DefaultPolicy()
	for i := 0; i < 50; i++ {
		f.g.Fail(ctx, shop, "coupon-codes", shopper, p, "invalid_coupon_code")
	}
	mustBlock(t, f.g, "orders", Subject{CustomerID: shopper.CustomerID}, p, DimCustomer)
	mustBlock(t, f.g, "orders", Subject{Device: shopper.Device}, p, DimDevice)
	// Everyone else behind the same office NAT still gets through.
	mustAllow(t, f.g, "orders", Subject{CustomerID: "cus_colleague", Device: "dev-colleague", IP: shopper.IP}, p)
	if bs := f.store.blocksOf(DimIP, shopper.IP); len(bs) != 0 {
		t.Fatalf("ip blocks = %+v, want none under the default policy", bs)
	}
	// A shop that wants IP blocks says so.
	on := p
	on.BlockIPs = true
	other := Subject{IP: "198.51.100.200"}
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "coupon-codes", other, on, "invalid_coupon_code")
	}
	mustBlock(t, f.g, "orders", other, on, DimIP)
}

func TestATrustedProxyIsNeverBlockedNorLimited(t *testing.T) {
	f := newFixture(t)
	proxy := "10.0.0.1"
	g := f.open(nil, func(o *Options) { o.TrustedIP = func(ip string) bool { return ip == proxy } })
	p := Policy{PerIP: Limit{Rate: 1, Per: time.Hour}, BlockIPs: true}
	for i := 0; i < 20; i++ {
		g.Fail(ctx, shop, "s", Subject{IP: proxy}, p, "x")
		mustAllow(t, g, "s", Subject{IP: proxy}, p)
	}
	if bs := f.store.blocksOf(DimIP, proxy); len(bs) != 0 {
		t.Fatalf("blocks of the proxy = %+v, want none", bs)
	}
	// A block of the proxy's address made before it was trusted (another
	// instance, an older configuration) is not enforced either.
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "s", Subject{IP: proxy}, p, "x")
	}
	if bs := f.store.blocksOf(DimIP, proxy); len(bs) != 1 {
		t.Fatalf("untrusting guard made %d blocks, want 1", len(bs))
	}
	if err := g.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustAllow(t, g, "s", Subject{IP: proxy}, p)
	mustAllow(t, f.open(nil, func(o *Options) { o.TrustedIP = func(ip string) bool { return ip == proxy } }), "s", Subject{IP: proxy}, p)
}

func TestLimitAppliesRateLimitsButNotBlocks(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.g.Fail(ctx, shop, "coupon-codes", shopper, noLimits, "invalid_coupon_code")
	}
	mustBlock(t, f.g, "coupon-codes", shopper, noLimits, DimIP)
	p := Policy{PerCustomer: Limit{Rate: 1, Per: time.Hour}}
	if err := f.g.Limit(ctx, shop, "orders", shopper, p); err != nil {
		t.Fatalf("a blocked shopper's first order: %v", err)
	}
	if r := refusal(t, f.g.Limit(ctx, shop, "orders", shopper, p)); r.Rule != RuleRateLimit || r.Dimension != DimCustomer {
		t.Fatalf("refusal = %+v, want the customer's rate limit", r)
	}
}
