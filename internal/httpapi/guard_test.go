package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

func TestAnOperatorSeesAndLiftsABlockOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bot := guard.Subject{CustomerID: e.cust.ID, Device: "dev-0123456789", IP: "203.0.113.7"}
	for i := 0; i < 5; i++ {
		e.guard.Fail(ctx, e.shop.ID, "claim:tpl_1", bot, guard.Policy{BlockIPs: true}, "invalid_code")
	}
	if _, ok := guard.AsRefusal(e.guard.Check(ctx, e.shop.ID, "flash:s1", bot, guard.Policy{})); !ok {
		t.Fatal("not blocked after 5 failures")
	}
	e.guard.Flush()

	var blocks httpapi.List[guard.Block]
	e.do(commerce.RoleOperator, "GET", "/api/v1/guard/blocks?active=true", nil).json(t, &blocks)
	if len(blocks.Items) != 3 {
		t.Fatalf("active blocks = %+v, want customer, device and ip", blocks.Items)
	}
	var ipBlock guard.Block
	for _, b := range blocks.Items {
		if b.Dimension == guard.DimIP {
			ipBlock = b
		}
	}
	if ipBlock.Key != bot.IP || !ipBlock.Active || ipBlock.Reason != "invalid_code" || ipBlock.Failures != 5 || ipBlock.Scope != "claim:tpl_1" {
		t.Fatalf("ip block = %+v", ipBlock)
	}
	var seen httpapi.List[guard.Block]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/guard/blocks", nil).json(t, &seen)
	for _, b := range seen.Items {
		if b.Dimension == guard.DimIP && b.Key != "203.0.113.*" || b.Dimension == guard.DimDevice && b.Key != "dev-****" {
			t.Fatalf("an analyst sees %s %q, want it masked", b.Dimension, b.Key)
		}
	}

	var refusals httpapi.List[guard.RefusalRecord]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/guard/refusals?rule=blocked&scope=flash:s1", nil).json(t, &refusals)
	if len(refusals.Items) != 1 || refusals.Items[0].Dimension != guard.DimIP || refusals.Items[0].Count != 1 || refusals.Items[0].Key != "203.0.113.*" {
		t.Fatalf("refusals = %+v", refusals.Items)
	}
	if r := e.do(commerce.RoleAnalyst, "GET", "/api/v1/guard/refusals?rule=rate_limit", nil); !strings.Contains(string(r.body), `"items":[]`) {
		t.Fatalf("rate-limit refusals: %s, want none", r.body)
	}

	if r := e.do(commerce.RoleOperator, "DELETE", "/api/v1/guard/blocks/"+ipBlock.ID, nil); r.status != 204 {
		t.Fatalf("lift: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleOperator, "DELETE", "/api/v1/guard/blocks/"+ipBlock.ID, nil); r.status != 409 {
		t.Fatalf("second lift: %d %s, want 409", r.status, r.body)
	}
	if err := e.guard.Check(ctx, e.shop.ID, "flash:s1", guard.Subject{IP: bot.IP}, guard.Policy{}); err != nil {
		t.Fatalf("the lifted IP is still refused: %v", err)
	}
	e.do(commerce.RoleOperator, "GET", "/api/v1/guard/blocks?active=true&limit=1", nil).json(t, &blocks)
	if len(blocks.Items) != 1 || blocks.NextCursor == "" {
		t.Fatalf("first page of the 2 still active = %+v", blocks)
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit", nil).json(t, &audit)
	if last := audit.Items[0]; last.Action != "guard.lift" || last.EntityID != ipBlock.ID || !strings.HasPrefix(last.Actor, "key:") {
		t.Fatalf("last audit entry = %+v, want the lift by the operator's key", last)
	}
}

func TestTheShopGuardPolicyIsReadAndReplacedOverHTTP(t *testing.T) {
	e := newEnv(t)
	var p map[string]any
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/guard/policy", nil).json(t, &p)
	if ip := p["per_ip"].(map[string]any); ip["rate"] != 50.0 || ip["per_seconds"] != 1.0 || ip["burst"] != 100.0 ||
		p["fail_limit"] != 5.0 || p["fail_window_seconds"] != 600.0 || p["block_seconds"] != 3600.0 {
		t.Fatalf("default policy = %v", p)
	}
	body := `{"per_customer":{"rate":2,"per_seconds":1,"burst":4},"per_ip":{"rate":30,"per_seconds":0.5},"fail_limit":3,"fail_window_seconds":300,"block_seconds":1800}`
	r := e.do(commerce.RoleOperator, "PUT", "/api/v1/guard/policy", body)
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	got, err := e.guard.ShopPolicy(context.Background(), e.shop.ID)
	want := guard.Policy{PerCustomer: guard.Limit{Rate: 2, Per: time.Second, Burst: 4}, PerIP: guard.Limit{Rate: 30, Per: 500 * time.Millisecond},
		FailLimit: 3, FailWindow: 5 * time.Minute, BlockFor: 30 * time.Minute}
	if err != nil || got != want {
		t.Fatalf("saved policy = %+v, %v; want %+v", got, err, want)
	}
	var back map[string]any
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/guard/policy", nil).json(t, &back)
	if back["fail_limit"] != 3.0 || back["block_seconds"] != 1800.0 || back["per_ip"].(map[string]any)["per_seconds"] != 0.5 {
		t.Fatalf("policy read back = %v", back)
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit", nil).json(t, &audit)
	if last := audit.Items[0]; last.Action != "guard.policy" || len(last.Before) == 0 || len(last.After) == 0 {
		t.Fatalf("last audit entry = %+v, want the policy change with before and after", last)
	}
}

func TestGuardCountersAreExported(t *testing.T) {
	e := newEnv(t)
	p := guard.Policy{PerIP: guard.Limit{Rate: 1, Per: time.Hour}}
	s := guard.Subject{IP: "198.51.100.1"}
	_ = e.guard.Check(context.Background(), e.shop.ID, "flash:s1", s, p)
	_ = e.guard.Check(context.Background(), e.shop.ID, "flash:s1", s, p)
	r := e.do("", "GET", "/metrics", nil)
	for _, want := range []string{`carnival_guard_refusals_total{rule="rate_limit"} 1`, `carnival_guard_refusals_total{rule="blocked"} 0`,
		"carnival_guard_blocks_total 0", "carnival_guard_refusal_records_dropped_total 0"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
