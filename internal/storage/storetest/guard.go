package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// RunGuard runs the anti-abuse guard's storage contract against open.
func RunGuard(t *testing.T, open Opener) {
	t.Run("BlocksPersistAndSurviveARestart", func(t *testing.T) { testGuardBlocksPersist(t, open) })
	t.Run("LiftIsAuditedAndSeenByOtherInstances", func(t *testing.T) { testGuardLift(t, open) })
	t.Run("BlockListsPageNewestFirst", func(t *testing.T) { testGuardBlockPages(t, open) })
	t.Run("RefusalsAreWrittenInBatchesAndFiltered", func(t *testing.T) { testGuardRefusals(t, open) })
	t.Run("ShopPolicyIsSavedAndAudited", func(t *testing.T) { testGuardPolicy(t, open) })
	t.Run("AKeyWithInvalidBytesIsBlockedWhereAnAdminCanLiftIt", func(t *testing.T) { testGuardBadKeys(t, open) })
}

// openGuard starts a guard over e's store and clock that refreshes and
// writes refusals only when told to.
func openGuard(t *testing.T, e *Env) *guard.Guard {
	t.Helper()
	g, err := guard.New(context.Background(), e.Store, guard.NewMemoryLimiter(e.Clock.Now),
		guard.Options{Now: e.Clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Refresh: -1, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

func failTimes(g *guard.Guard, shopID string, s guard.Subject, n int) {
	for i := 0; i < n; i++ {
		g.Fail(ctx, shopID, "claim:tpl_1", s, guard.Policy{BlockIPs: true}, "invalid_code")
	}
}

func wantBlocked(t *testing.T, g *guard.Guard, shopID string, s guard.Subject) *guard.Refusal {
	t.Helper()
	r, ok := guard.AsRefusal(g.Check(ctx, shopID, "flash:s1", s, guard.Policy{}))
	if !ok || r.Rule != guard.RuleBlocked {
		t.Fatalf("check %+v: %v, want blocked", s, r)
	}
	return r
}

func wantAllowed(t *testing.T, g *guard.Guard, shopID string, s guard.Subject) {
	t.Helper()
	if err := g.Check(ctx, shopID, "flash:s1", s, guard.Policy{}); err != nil {
		t.Fatalf("check %+v: %v, want allowed", s, err)
	}
}

func auditActions(t *testing.T, e *Env) map[string]int {
	t.Helper()
	entries, err := e.Svc.ListAudit(ctx, e.Shop.ID, commerce.AuditFilter{}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range entries {
		out[a.Action]++
	}
	return out
}

func testGuardBlocksPersist(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	g := openGuard(t, e)
	ip := guard.Subject{IP: "203.0.113.7"}
	failTimes(g, e.Shop.ID, ip, 5)
	r := wantBlocked(t, g, e.Shop.ID, ip)
	g.Close()

	restarted := openGuard(t, e)
	if again := wantBlocked(t, restarted, e.Shop.ID, ip); again.BlockID != r.BlockID || again.RetryAfter != time.Hour {
		t.Fatalf("after restart: %+v, want block %s for 1h", again, r.BlockID)
	}
	bs, err := restarted.ListBlocks(ctx, e.Shop.ID, true, commerce.Page{})
	if err != nil {
		t.Fatal(err)
	}
	want := guard.Block{ID: r.BlockID, ShopID: e.Shop.ID, Dimension: guard.DimIP, Key: ip.IP, Scope: "claim:tpl_1", Rule: guard.RuleFailLimit,
		Reason: "invalid_code", Failures: 5, WindowSeconds: 600, CreatedAt: e.Clock.Now(), Until: e.Clock.Now().Add(time.Hour),
		UpdatedAt: e.Clock.Now(), Active: true}
	if len(bs) != 1 || bs[0] != want {
		t.Fatalf("blocks = %+v\nwant [%+v]", bs, want)
	}
	if n := auditActions(t, e)["guard.block"]; n != 1 {
		t.Fatalf("%d guard.block audit entries, want 1", n)
	}
	e.Clock.Advance(time.Hour)
	wantAllowed(t, restarted, e.Shop.ID, ip)
	if bs, _ := restarted.ListBlocks(ctx, e.Shop.ID, true, commerce.Page{}); len(bs) != 0 {
		t.Fatalf("expired block still listed active: %+v", bs)
	}
	if err := openGuard(t, e).Check(ctx, e.Shop.ID, "s", ip, guard.Policy{}); err != nil {
		t.Fatalf("a guard started after expiry loaded the expired block: %v", err)
	}
}

func testGuardLift(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a, b := openGuard(t, e), openGuard(t, e)
	dev := guard.Subject{Device: "dev-abcdef"}
	failTimes(a, e.Shop.ID, dev, 5)
	wantAllowed(t, b, e.Shop.ID, dev)
	e.Clock.Advance(2 * time.Second)
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r := wantBlocked(t, b, e.Shop.ID, dev)

	other, err := e.Svc.CreateShop(ctx, "Other shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Lift(ctx, other.ID, r.BlockID, "key:k2"); !hasCode(err, "guard_block_not_found") {
		t.Fatalf("lift from another shop: %v", err)
	}
	if err := b.Lift(ctx, e.Shop.ID, r.BlockID, "key:k1"); err != nil {
		t.Fatal(err)
	}
	wantAllowed(t, b, e.Shop.ID, dev)
	if err := b.Lift(ctx, e.Shop.ID, r.BlockID, "key:k1"); !hasCode(err, "block_already_lifted") {
		t.Fatalf("second lift: %v", err)
	}
	wantBlocked(t, a, e.Shop.ID, dev) // a has not looked yet
	e.Clock.Advance(2 * time.Second)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	wantAllowed(t, a, e.Shop.ID, dev)
	bs, _ := a.ListBlocks(ctx, e.Shop.ID, false, commerce.Page{})
	if len(bs) != 1 || bs[0].Active || bs[0].LiftedBy != "key:k1" || bs[0].LiftedAt == nil || !bs[0].LiftedAt.Equal(e.Clock.Now().Add(-2*time.Second)) {
		t.Fatalf("blocks = %+v", bs)
	}
	if n := auditActions(t, e)["guard.lift"]; n != 1 {
		t.Fatalf("%d guard.lift audit entries, want 1", n)
	}
}

func hasCode(err error, code string) bool {
	e, ok := commerce.AsError(err)
	return ok && e.Code == code
}

func testGuardBlockPages(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	g := openGuard(t, e)
	for i := 0; i < 3; i++ {
		failTimes(g, e.Shop.ID, guard.Subject{IP: fmt.Sprint("10.0.0.", i)}, 5)
		e.Clock.Advance(time.Millisecond)
	}
	page, err := g.ListBlocks(ctx, e.Shop.ID, false, commerce.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Key != "10.0.0.2" || page[1].Key != "10.0.0.1" {
		t.Fatalf("first page = %+v, want the two newest", page)
	}
	rest, _ := g.ListBlocks(ctx, e.Shop.ID, false, commerce.Page{Limit: 2, Cursor: page[1].ID})
	if len(rest) != 1 || rest[0].Key != "10.0.0.0" {
		t.Fatalf("second page = %+v", rest)
	}
	if err := g.Lift(ctx, e.Shop.ID, page[0].ID, "key:k1"); err != nil {
		t.Fatal(err)
	}
	active, _ := g.ListBlocks(ctx, e.Shop.ID, true, commerce.Page{})
	if len(active) != 2 || active[0].Key != "10.0.0.1" {
		t.Fatalf("active = %+v", active)
	}
}

func testGuardRefusals(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	g := openGuard(t, e)
	p := guard.Policy{PerIP: guard.Limit{Rate: 1, Per: time.Hour}}
	// 250 IPs over their limit: more records than one INSERT carries.
	for i := 0; i < 250; i++ {
		ip := guard.Subject{IP: fmt.Sprint("10.1.", i/100, ".", i%100)}
		for j := 0; j < 3; j++ {
			_ = g.Check(ctx, e.Shop.ID, "flash:s1", ip, p)
		}
	}
	failTimes(g, e.Shop.ID, guard.Subject{CustomerID: "cus_x"}, 5)
	_ = g.Check(ctx, e.Shop.ID, "claim:tpl_2", guard.Subject{CustomerID: "cus_x"}, p)
	g.Flush()

	all, err := g.ListRefusals(ctx, e.Shop.ID, guard.RefusalFilter{}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 251 {
		t.Fatalf("%d records, want 250 rate-limit ones and 1 blocked", len(all))
	}
	limited, _ := g.ListRefusals(ctx, e.Shop.ID, guard.RefusalFilter{Scope: "flash:s1", Rule: guard.RuleRateLimit}, commerce.Page{Limit: 500})
	if len(limited) != 250 {
		t.Fatalf("%d rate-limit records at flash:s1, want 250", len(limited))
	}
	for _, r := range limited {
		if r.Count != 2 || r.Dimension != guard.DimIP || r.FirstAt != e.Clock.Now() || r.LastAt != e.Clock.Now() {
			t.Fatalf("record = %+v, want 2 refusals of an ip", r)
		}
	}
	blocked, _ := g.ListRefusals(ctx, e.Shop.ID, guard.RefusalFilter{Rule: guard.RuleBlocked}, commerce.Page{})
	if len(blocked) != 1 || blocked[0].Scope != "claim:tpl_2" || blocked[0].Key != "cus_x" || blocked[0].BlockID == "" || blocked[0].Count != 1 {
		t.Fatalf("blocked records = %+v", blocked)
	}
	page, _ := g.ListRefusals(ctx, e.Shop.ID, guard.RefusalFilter{}, commerce.Page{Limit: 100})
	next, _ := g.ListRefusals(ctx, e.Shop.ID, guard.RefusalFilter{}, commerce.Page{Limit: 100, Cursor: page[99].ID})
	if len(page) != 100 || len(next) != 100 || next[0].ID >= page[99].ID {
		t.Fatalf("pages of %d and %d, not following each other", len(page), len(next))
	}
	other, _ := e.Svc.CreateShop(ctx, "Other shop", "")
	if theirs, _ := g.ListRefusals(ctx, other.ID, guard.RefusalFilter{}, commerce.Page{}); len(theirs) != 0 {
		t.Fatalf("another shop sees %d records", len(theirs))
	}
}

func testGuardPolicy(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	g := openGuard(t, e)
	if p, err := g.ShopPolicy(ctx, e.Shop.ID); err != nil || p != guard.DefaultPolicy() {
		t.Fatalf("policy = %+v, %v; want the default", p, err)
	}
	for _, want := range []guard.Policy{
		{PerIP: guard.Limit{Rate: 20, Per: time.Second, Burst: 40}, FailLimit: 3, FailWindow: time.Minute, BlockFor: 30 * time.Minute},
		{PerCustomer: guard.Limit{Rate: 1, Per: 500 * time.Millisecond}, FailLimit: -1},
	} {
		if err := g.SetShopPolicy(ctx, e.Shop.ID, "key:k1", want); err != nil {
			t.Fatal(err)
		}
		if got, _ := openGuard(t, e).ShopPolicy(ctx, e.Shop.ID); got != want {
			t.Fatalf("a new guard reads %+v, want %+v", got, want)
		}
	}
	if n := auditActions(t, e)["guard.policy"]; n != 2 {
		t.Fatalf("%d guard.policy audit entries, want 2", n)
	}
}

// A device or customer key with NUL, control characters or invalid UTF-8
// (which PostgreSQL text refuses) is blocked under a hash, so the block is
// stored, listed, survives a restart and can be lifted, on both engines.
func testGuardBadKeys(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	g := openGuard(t, e)
	for _, s := range []guard.Subject{{Device: "dev\x00\xff"}, {CustomerID: "cus\x01\xfe"}} {
		failTimes(g, e.Shop.ID, s, 5)
		r := wantBlocked(t, g, e.Shop.ID, s)
		bs, err := g.ListBlocks(ctx, e.Shop.ID, true, commerce.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 1 || bs[0].ID != r.BlockID || !strings.HasPrefix(bs[0].Key, "sha256:") {
			t.Fatalf("blocks of %+v = %+v, want block %s under a hashed key", s, bs, r.BlockID)
		}
		wantBlocked(t, openGuard(t, e), e.Shop.ID, s) // a restarted instance loads it
		if err := g.Lift(ctx, e.Shop.ID, r.BlockID, "key:admin"); err != nil {
			t.Fatalf("lift: %v", err)
		}
		wantAllowed(t, g, e.Shop.ID, s)
	}
}
