package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func (e *env) campaignCounts() string {
	var out []string
	for _, table := range []string{"campaigns", "campaign_channels", "campaign_spend", "campaign_milestones", "audit_log"} {
		var n int
		if err := e.store.Reader().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, table+"="+itoa(n))
	}
	return strings.Join(out, " ")
}

// d11 is a 1–14 Nov 2026 plan (Shanghai) with a burst phase on the 11th.
func d11() map[string]any {
	return map[string]any{
		"name": "双11", "starts_at": "2026-11-01T00:00:00+08:00", "ends_at": "2026-11-15T00:00:00+08:00",
		"targets":            map[string]any{"gmv": 1_400_000, "conversion_rate": 300},
		"default_milestones": true,
		"phases": []any{
			map[string]any{"kind": "preheat", "starts_at": "2026-11-01T00:00:00+08:00", "ends_at": "2026-11-11T00:00:00+08:00"},
			map[string]any{"kind": "burst", "starts_at": "2026-11-11T00:00:00+08:00", "ends_at": "2026-11-12T00:00:00+08:00",
				"targets": map[string]any{"gmv": 500_000}},
		},
	}
}

func TestCampaignPlanOverHTTP(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 25800) // 11 Nov 2026 08:00 in Shanghai
	r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c campaign.Campaign
	r.json(t, &c)
	if !strings.HasPrefix(c.ID, "cmp_") || len(c.Milestones) != 6 || c.AlertLine != 6000 {
		t.Fatalf("created %+v", c)
	}
	base := "/api/v1/campaigns/" + c.ID

	r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels", map[string]any{"kind": "paid_ads", "name": "巨量引擎", "utm_source": "oceanengine",
		"utm_medium": "cpc", "utm_campaign": "d11", "budget": 100_000})
	if r.status != http.StatusCreated {
		t.Fatalf("channel: %d %s", r.status, r.body)
	}
	var ch campaign.Channel
	r.json(t, &ch)
	spend := map[string]any{"day": "2026-11-10", "amount": 40_000}
	r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels/"+ch.ID+"/spend", spend, "Idempotency-Key", "sp-1")
	if r.status != http.StatusCreated {
		t.Fatalf("spend: %d %s", r.status, r.body)
	}
	before := e.campaignCounts()
	r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels/"+ch.ID+"/spend", spend, "Idempotency-Key", "sp-1")
	if r.status != http.StatusOK || e.campaignCounts() != before {
		t.Fatalf("replayed spend: %d %s; wrote %s → %s", r.status, r.body, before, e.campaignCounts())
	}
	r = e.do(commerce.RoleAnalyst, http.MethodGet, base+"/channels", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"spent":40000`) || !strings.Contains(string(r.body), `"budget_used_bp":4000`) {
		t.Fatalf("channels: %d %s", r.status, r.body)
	}

	r = e.do(commerce.RoleAnalyst, http.MethodGet, base+"/pacing?day=2026-11-11", nil)
	var p campaign.PacingReport
	r.json(t, &p)
	if r.status != http.StatusOK || p.TimeZone != "Asia/Shanghai" || len(p.KPIs) != 2 || len(p.Phases) != 2 {
		t.Fatalf("pacing: %d %s", r.status, r.body)
	}
	// 1 400 000 over 14 equal days: 100 000 a day, 1 100 000 through the 11th.
	// Nothing was sold: the actual is 0, far below the alert line.
	if k := p.KPIs[0]; k.KPI != "gmv" || k.TargetToDate != 1_100_000 || k.DayTarget != 100_000 || k.Actual == nil || *k.Actual != 0 || k.Status != "alert" {
		t.Fatalf("gmv pacing %+v", k)
	}
	if k := p.KPIs[1]; k.KPI != "conversion_rate" || k.TargetToDate != 300 {
		t.Fatalf("conversion rate pacing %+v", k)
	}
	if k := p.Phases[1].KPIs[0]; k.TargetToDate != 500_000 {
		t.Fatalf("burst phase pacing %+v", k)
	}
	r = e.do(commerce.RoleAnalyst, http.MethodGet, base+"/pacing", nil) // today, shop-local
	p = campaign.PacingReport{}
	r.json(t, &p)
	if p.Day != "2026-11-11" {
		t.Fatalf("default pacing day %s, want the shop's today", p.Day)
	}

	var ms struct{ Items []campaign.Milestone }
	e.do(commerce.RoleAnalyst, http.MethodGet, base+"/milestones", nil).json(t, &ms)
	if len(ms.Items) != 6 || ms.Items[0].Status != campaign.MilestoneOverdue {
		t.Fatalf("milestones %+v", ms.Items)
	}
	r = e.do(commerce.RoleOperator, http.MethodPost, base+"/milestones/"+ms.Items[0].ID+"/done", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":"done"`) {
		t.Fatalf("done: %d %s", r.status, r.body)
	}

	r = e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/calendar?from=2026-11-01&to=2026-12-31", nil)
	var cal campaign.CalendarView
	r.json(t, &cal)
	if r.status != http.StatusOK || len(cal.Campaigns) != 1 || len(cal.TradeDates) != 2 {
		t.Fatalf("calendar: %d %s", r.status, r.body)
	}

	// Roles: analysts and storefronts do not write; storefronts do not read plans.
	for _, tt := range []struct {
		role, method, path string
		body               any
		want               int
	}{
		{commerce.RoleAnalyst, http.MethodPost, "/api/v1/campaigns", d11(), http.StatusForbidden},
		{commerce.RoleAnalyst, http.MethodPost, base + "/end", nil, http.StatusForbidden},
		{commerce.RoleAnalyst, http.MethodPost, base + "/channels/" + ch.ID + "/spend", spend, http.StatusForbidden},
		{commerce.RoleStorefront, http.MethodGet, base, nil, http.StatusForbidden},
		{commerce.RoleStorefront, http.MethodGet, "/api/v1/calendar?from=2026-11-01&to=2026-11-02", nil, http.StatusForbidden},
		{"", http.MethodGet, base, nil, http.StatusUnauthorized},
		{commerce.RoleAdmin, http.MethodPost, base + "/end", nil, http.StatusOK},
	} {
		before := e.campaignCounts()
		r := e.do(tt.role, tt.method, tt.path, tt.body)
		if r.status != tt.want {
			t.Errorf("%s %s %s: %d, want %d (%s)", tt.role, tt.method, tt.path, r.status, tt.want, r.body)
		}
		if tt.want >= 400 && e.campaignCounts() != before {
			t.Errorf("%s %s %s was refused but wrote", tt.role, tt.method, tt.path)
		}
	}
	r = e.do(commerce.RoleOperator, http.MethodPut, base, d11())
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "campaign_ended") {
		t.Fatalf("update after end: %d %s", r.status, r.body)
	}
}

func TestCampaignRejectsBadInput(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 25800)
	r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
	var c campaign.Campaign
	r.json(t, &c)
	base := "/api/v1/campaigns/" + c.ID
	r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels", map[string]any{"kind": "kol", "name": "达人", "utm_source": "xhs",
		"utm_medium": "kol", "utm_campaign": "d11", "budget": 1000})
	var ch campaign.Channel
	r.json(t, &ch)
	e.do(commerce.RoleOperator, http.MethodPost, base+"/channels/"+ch.ID+"/spend", map[string]any{"day": "2026-11-10", "amount": 5}, "Idempotency-Key", "used")

	with := func(k string, v any) map[string]any { m := d11(); m[k] = v; return m }
	phase := func(k string, v any) map[string]any {
		m := d11()
		ph := m["phases"].([]any)[1].(map[string]any)
		ph[k] = v
		return m
	}
	ch1 := map[string]any{"kind": "kol", "name": "x", "utm_source": "a", "utm_medium": "b", "utm_campaign": "c", "budget": 1}
	chWith := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ch1 {
			m[a] = b
		}
		m[k] = v
		return m
	}
	spend := base + "/channels/" + ch.ID + "/spend"
	tests := []badInput{
		{"window reversed", "POST", "/api/v1/campaigns", with("ends_at", "2026-10-01T00:00:00+08:00"), 422, "window_order", "ends_at"},
		{"phase outside the window", "POST", "/api/v1/campaigns", phase("ends_at", "2026-11-20T00:00:00+08:00"), 422, "outside_campaign", "phases[1].ends_at"},
		{"phases overlap", "POST", "/api/v1/campaigns", phase("starts_at", "2026-11-10T00:00:00+08:00"), 422, "phases_overlap", "phases[1].starts_at"},
		{"unknown phase kind", "POST", "/api/v1/campaigns", phase("kind", "party"), 422, "validation_failed", "phases[1].kind"},
		{"negative target", "POST", "/api/v1/campaigns", with("targets", map[string]any{"gmv": -1}), 422, "out_of_range", "targets.gmv"},
		{"conversion rate over 100 %", "POST", "/api/v1/campaigns", with("targets", map[string]any{"conversion_rate": 10001}), 422, "out_of_range", "targets.conversion_rate"},
		{"unknown KPI", "POST", "/api/v1/campaigns", with("targets", map[string]any{"likes": 1}), 422, "unknown_kpi", "targets.likes"},
		{"weights all zero", "POST", "/api/v1/campaigns", with("day_weights", make([]int64, 14)), 422, "all_zero", "day_weights"},
		{"weights per day", "POST", "/api/v1/campaigns", with("day_weights", []int64{1, 2}), 422, "wrong_length", "day_weights"},
		{"alert line over 100 %", "POST", "/api/v1/campaigns", with("alert_line_bp", 10001), 422, "out_of_range", "alert_line_bp"},
		{"unknown promotion", "POST", "/api/v1/campaigns", with("promotion_ids", []string{"prm_nope"}), 422, "unknown_promotion", "promotion_ids[0]"},
		{"unknown coupon template", "POST", "/api/v1/campaigns", with("coupon_template_ids", []string{"tpl_nope"}), 422, "unknown_coupon_template", "coupon_template_ids[0]"},
		{"missing name", "POST", "/api/v1/campaigns", with("name", ""), 422, "required", "name"},
		{"update of a missing campaign", "PUT", "/api/v1/campaigns/cmp_nope", d11(), 404, "campaign_not_found", ""},
		{"channel kind", "POST", base + "/channels", chWith("kind", "tv"), 422, "validation_failed", "kind"},
		{"channel negative budget", "POST", base + "/channels", chWith("budget", -1), 422, "out_of_range", "budget"},
		{"channel without utm_source", "POST", base + "/channels", chWith("utm_source", ""), 422, "required", "utm_source"},
		{"channel UTM taken", "POST", base + "/channels", map[string]any{"kind": "kol", "name": "y", "utm_source": "xhs", "utm_medium": "kol", "utm_campaign": "d11", "budget": 1}, 409, "utm_taken", "utm_source"},
		{"channel on a missing campaign", "POST", "/api/v1/campaigns/cmp_nope/channels", ch1, 404, "campaign_not_found", ""},
		{"spend zero", "POST", spend, map[string]any{"day": "2026-11-10", "amount": 0}, 422, "out_of_range", "amount"},
		{"spend bad day", "POST", spend, map[string]any{"day": "11/10", "amount": 1}, 422, "invalid_date", "day"},
		{"spend on a missing channel", "POST", base + "/channels/chn_nope/spend", map[string]any{"day": "2026-11-10", "amount": 1}, 404, "channel_not_found", ""},
		{"spend key reused for another amount", "POST", spend, map[string]any{"day": "2026-11-10", "amount": 6}, 409, "idempotency_mismatch", ""},
		{"milestone without a due rule", "POST", base + "/milestones", map[string]any{"name": "x"}, 422, "required", "offset_days"},
		{"milestone with both due rules", "POST", base + "/milestones", map[string]any{"name": "x", "offset_days": -3, "due_on": "2026-11-01"}, 422, "ambiguous_due", "due_on"},
		{"milestone bad date", "POST", base + "/milestones", map[string]any{"name": "x", "due_on": "2026-13-01"}, 422, "invalid_date", "due_on"},
		{"milestone anchor with a date", "POST", base + "/milestones", map[string]any{"name": "x", "due_on": "2026-11-01", "anchor": "end"}, 422, "anchor_without_offset", "anchor"},
		{"done on a missing milestone", "POST", base + "/milestones/cms_nope/done", nil, 404, "milestone_not_found", ""},
		{"pacing bad day", "GET", base + "/pacing?day=tomorrow", nil, 422, "invalid_date", "day"},
		{"plan vs actual bad through", "GET", base + "/plan-vs-actual?through=11-11", nil, 422, "invalid_date", "through"},
		{"plan vs actual of a missing campaign", "GET", "/api/v1/campaigns/cmp_nope/plan-vs-actual", nil, 404, "campaign_not_found", ""},
		{"calendar reversed", "GET", "/api/v1/calendar?from=2026-12-01&to=2026-11-01", nil, 422, "window_order", "to"},
		{"calendar bad from", "GET", "/api/v1/calendar?from=x&to=2026-11-01", nil, 422, "invalid_date", "from"},
		{"calendar too long", "GET", "/api/v1/calendar?from=2020-01-01&to=2026-11-01", nil, 422, "too_long", "to"},
		{"calendar without to", "GET", "/api/v1/calendar?from=2026-01-01", nil, 422, "validation_failed", "to"},
	}
	e.expectRejected(t, tests, e.campaignCounts, map[string][]string{"spend key reused for another amount": {"Idempotency-Key", "used"}})
}

// An order placed over HTTP under a campaign's UTM codes, paid on the
// 11th, shows in the plan-vs-actual view: 25800 + 1000 shipping = 26800
// against 100 000 a day (1 100 000 through the 11th: 244 bp, alert), and
// in the burst phase against 500 000 (536 bp). Nobody visited, so
// conversion has no actual.
func TestCampaignPlanVsActualOverHTTP(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 25800) // 11 Nov 2026 08:00 in Shanghai
	r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders", map[string]any{"customer_id": e.cust.ID,
		"lines": []any{map[string]any{"sku_id": e.sku.ID, "quantity": 1}}, "channel": "oceanengine", "campaign": "d11"})
	var o commerce.Order
	r.json(t, &o)
	if r.status != http.StatusCreated || o.Campaign != "d11" || o.Payable != 26800 {
		t.Fatalf("order: %d %s", r.status, r.body)
	}
	if r = e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders/"+o.ID+"/pay", nil); r.status != http.StatusOK {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	if err := e.ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
	var c campaign.Campaign
	r.json(t, &c)
	r = e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/campaigns/"+c.ID+"/plan-vs-actual?through=2026-11-11", nil)
	var pva campaign.PlanVsActual
	r.json(t, &pva)
	if r.status != http.StatusOK || pva.Through != "2026-11-11" || pva.Campaign.From != "2026-11-01" || pva.Campaign.To != "2026-11-14" || len(pva.Phases) != 2 {
		t.Fatalf("plan vs actual: %d %s", r.status, r.body)
	}
	gmv, conv := pva.Campaign.KPIs[0], pva.Campaign.KPIs[1]
	if gmv.KPI != "gmv" || len(gmv.Days) != 11 || conv.KPI != "conversion_rate" {
		t.Fatalf("campaign KPIs: %s", r.body)
	}
	first, last := gmv.Days[0], gmv.Days[10]
	if first.Day != "2026-11-01" || first.Target != 100_000 || first.Actual == nil || *first.Actual != 0 {
		t.Errorf("1 Nov: %+v", first)
	}
	if last.Day != "2026-11-11" || *last.Actual != 26800 || last.CumulativeTarget != 1_100_000 || *last.CumulativeActual != 26800 ||
		*last.Attainment != 244 || last.Status != campaign.PaceAlert {
		t.Errorf("11 Nov: %+v", last)
	}
	if d := conv.Days[10]; d.Actual != nil || d.CumulativeActual != nil || d.Status != "" || d.Target != 300 {
		t.Errorf("conversion without visitors: %+v", d)
	}
	burst := pva.Phases[1]
	if burst.Kind != "burst" || len(burst.KPIs) != 1 || len(burst.KPIs[0].Days) != 1 || *burst.KPIs[0].Days[0].Attainment != 536 {
		t.Errorf("burst: %+v", burst)
	}
	if pre := pva.Phases[0]; len(pre.KPIs) != 0 || pre.From != "2026-11-01" || pre.To != "2026-11-10" {
		t.Errorf("preheat (no targets): %+v", pre)
	}
	r = e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/campaigns/"+c.ID+"/plan-vs-actual", nil) // today
	pva = campaign.PlanVsActual{}
	r.json(t, &pva)
	if pva.Through != "2026-11-11" {
		t.Errorf("default through %s", pva.Through)
	}
	if r = e.do(commerce.RoleStorefront, http.MethodGet, "/api/v1/campaigns/"+c.ID+"/plan-vs-actual", nil); r.status != http.StatusForbidden {
		t.Errorf("storefront read a plan: %d", r.status)
	}
}
