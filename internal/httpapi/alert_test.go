package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// newAlertEnv is newEnv with the alert endpoints served too.
func newAlertEnv(t *testing.T) (*env, *alert.Service) {
	e := newEnv(t)
	as := alert.New(e.store, e.svc, alert.Options{Campaigns: e.cfg.Campaigns, Metrics: e.store, Logger: slog.New(slog.NewTextHandler(testLog, nil))})
	cfg := e.cfg
	cfg.Alerts = as
	srv := httptest.NewServer(httpapi.New(cfg).Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	return e, as
}

func (e *env) alertCounts() string {
	var rules, hooks, alerts int
	r := e.store.Reader()
	_ = r.QueryRow(`SELECT COUNT(*) FROM alert_rules`).Scan(&rules)
	_ = r.QueryRow(`SELECT COUNT(*) FROM alert_webhooks`).Scan(&hooks)
	_ = r.QueryRow(`SELECT COUNT(*) FROM alerts`).Scan(&alerts)
	return fmt.Sprintf("rules=%d webhooks=%d alerts=%d", rules, hooks, alerts)
}

func TestAlertRulesAndConsole(t *testing.T) {
	e, as := newAlertEnv(t)
	ctx := context.Background()
	// The SKU of newEnv has stock 100; give it a safety stock above that.
	stock := int64(3)
	if _, err := e.svc.UpsertProducts(ctx, commerce.Actor{ShopID: e.shop.ID}, []commerce.ProductUpsert{{Code: "P1", Name: "商品",
		SKUs: []commerce.SKUUpsert{{Code: "S1", Price: 25800, Cost: 10320, Stock: &stock, SafetyStock: 5}}}}); err != nil {
		t.Fatal(err)
	}

	r := e.do(commerce.RoleOperator, "POST", "/api/v1/alert-rules", map[string]any{"name": "库存预警", "kind": "stock", "cooldown_seconds": 600})
	if r.status != 201 {
		t.Fatalf("create rule: %d %s", r.status, r.body)
	}
	var rule alert.Rule
	r.json(t, &rule)
	if rule.ID == "" || rule.Kind != "stock" || rule.CooldownSeconds == nil || *rule.CooldownSeconds != 600 {
		t.Fatalf("rule %+v", rule)
	}
	if r := e.do(commerce.RoleAnalyst, "POST", "/api/v1/alert-rules", map[string]any{"name": "x", "kind": "stock"}); r.status != 403 {
		t.Fatalf("analyst created a rule: %d", r.status)
	}
	r = e.do(commerce.RoleAdmin, "POST", "/api/v1/alert-webhooks", map[string]any{"url": "https://hooks.example.com/x"})
	if r.status != 201 {
		t.Fatalf("create webhook: %d %s", r.status, r.body)
	}
	var hook alert.Webhook
	r.json(t, &hook)
	if !strings.HasPrefix(hook.Secret, "whsec_") || hook.MinSeverity != alert.SevReminder {
		t.Fatalf("webhook %+v", hook)
	}
	r = e.do(commerce.RoleOperator, "GET", "/api/v1/alert-webhooks/"+hook.ID, nil)
	if r.status != 200 || strings.Contains(string(r.body), hook.Secret) || strings.Contains(string(r.body), "secret") {
		t.Fatalf("the secret is shown again: %s", r.body)
	}
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/alert-webhooks", map[string]any{"url": "https://hooks.example.com/y"}); r.status != 403 {
		t.Fatalf("an operator added a webhook: %d", r.status)
	}

	if err := as.Evaluate(ctx, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/alerts?status=open&severity=warning", nil)
	var list httpapi.List[alert.Alert]
	r.json(t, &list)
	// 3 ≤ 5/2? No: 2×3 = 6 > 5, so a reminder, not a warning.
	if r.status != 200 || len(list.Items) != 0 {
		t.Fatalf("warnings: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleAnalyst, "GET", "/api/v1/alerts?status=open", nil)
	r.json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Severity != alert.SevReminder || list.Items[0].Subject != e.sku.ID || list.Items[0].Value != 3 {
		t.Fatalf("open alerts %s", r.body)
	}
	id := list.Items[0].ID
	if r := e.do(commerce.RoleAnalyst, "POST", "/api/v1/alerts/"+id+"/acknowledge", nil); r.status != 403 {
		t.Fatalf("an analyst acknowledged: %d", r.status)
	}
	r = e.do(commerce.RoleOperator, "POST", "/api/v1/alerts/"+id+"/acknowledge", nil)
	var a alert.Alert
	r.json(t, &a)
	if r.status != 200 || a.Status != alert.StatusAcknowledged || a.AckAt == nil {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleOperator, "GET", "/api/v1/alert-webhooks/"+hook.ID+"/deliveries", nil)
	var ds httpapi.List[alert.Delivery]
	r.json(t, &ds)
	if len(ds.Items) != 1 || ds.Items[0].Status != alert.DeliveryPending || ds.Items[0].AlertID != id || ds.Items[0].Event != alert.EventOpened {
		t.Fatalf("deliveries %s", r.body)
	}

	// Paging: two rules, one per page.
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/alert-rules", map[string]any{"name": "预算", "kind": "promotion_budget"}); r.status != 201 {
		t.Fatal(string(r.body))
	}
	r = e.do(commerce.RoleOperator, "GET", "/api/v1/alert-rules?limit=1", nil)
	var rules httpapi.List[alert.Rule]
	r.json(t, &rules)
	if len(rules.Items) != 1 || rules.Items[0].ID != rule.ID || rules.NextCursor != rule.ID {
		t.Fatalf("page 1 %s", r.body)
	}
	r = e.do(commerce.RoleOperator, "GET", "/api/v1/alert-rules?limit=1&cursor="+rules.NextCursor, nil)
	r.json(t, &rules)
	if len(rules.Items) != 1 || rules.Items[0].Kind != alert.KindPromotionBudget {
		t.Fatalf("page 2 %s", r.body)
	}

	r = e.do(commerce.RoleOperator, "PUT", "/api/v1/alert-rules/"+rule.ID, map[string]any{"name": "PV", "kind": "anomaly", "kpi": "pv", "weeks": 6})
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	r.json(t, &rule)
	if rule.Weeks != 6 || rule.Persistence != 2 {
		t.Fatalf("updated %+v", rule)
	}
	if r := e.do(commerce.RoleOperator, "DELETE", "/api/v1/alert-rules/"+rule.ID, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleOperator, "GET", "/api/v1/alerts/"+id, nil)
	r.json(t, &a)
	if a.Status != alert.StatusResolved {
		t.Fatalf("the deleted rule's alert: %s", r.body)
	}
	if r := e.do(commerce.RoleAdmin, "DELETE", "/api/v1/alert-webhooks/"+hook.ID, nil); r.status != 204 {
		t.Fatalf("delete webhook: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAdmin, "GET", "/api/v1/alert-webhooks/"+hook.ID, nil); r.status != 404 {
		t.Fatalf("deleted webhook read: %d", r.status)
	}
}

func TestAlertRejects(t *testing.T) {
	e, _ := newAlertEnv(t)
	rule := func(kv ...any) map[string]any {
		m := map[string]any{"name": "r"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	const rules, hooks = "/api/v1/alert-rules", "/api/v1/alert-webhooks"
	e.expectRejected(t, []badInput{
		{"no kind", "POST", rules, map[string]any{"name": "x"}, 422, "validation_failed", ""},
		{"unknown kind", "POST", rules, rule("kind", "weather"), 422, "validation_failed", "kind"},
		{"blank name", "POST", rules, map[string]any{"name": "  ", "kind": "stock"}, 422, "required", "name"},
		{"pacing without campaign", "POST", rules, rule("kind", "pacing"), 422, "required", "campaign_id"},
		{"pacing unknown campaign", "POST", rules, rule("kind", "pacing", "campaign_id", "cmp_nope"), 422, "unknown_campaign", "campaign_id"},
		{"threshold unknown kpi", "POST", rules, rule("kind", "threshold", "kpi", "vibes", "window", "day", "op", "<", "value", 1), 422, "unknown_kpi", "kpi"},
		{"threshold no window", "POST", rules, rule("kind", "threshold", "kpi", "gmv", "op", "<", "value", 1), 422, "invalid_window", "window"},
		{"threshold uv hourly", "POST", rules, rule("kind", "threshold", "kpi", "uv", "window", "hour", "op", "<", "value", 1), 422, "day_only_kpi", "window"},
		{"threshold bad op", "POST", rules, rule("kind", "threshold", "kpi", "gmv", "window", "day", "op", "!=", "value", 1), 422, "validation_failed", "op"},
		{"threshold no value", "POST", rules, rule("kind", "threshold", "kpi", "gmv", "window", "day", "op", "<"), 422, "required", "value"},
		{"threshold negative value", "POST", rules, rule("kind", "threshold", "kpi", "gmv", "window", "day", "op", "<", "value", -1), 422, "out_of_range", "value"},
		{"threshold float value", "POST", rules, rule("kind", "threshold", "kpi", "gmv", "window", "day", "op", "<", "value", 1.5), 422, "validation_failed", "value"},
		{"anomaly non-additive kpi", "POST", rules, rule("kind", "anomaly", "kpi", "conversion_bp"), 422, "unknown_kpi", "kpi"},
		{"anomaly 3 weeks", "POST", rules, rule("kind", "anomaly", "kpi", "pv", "weeks", 3), 422, "out_of_range", "weeks"},
		{"anomaly persistence 25", "POST", rules, rule("kind", "anomaly", "kpi", "pv", "persistence", 25), 422, "out_of_range", "persistence"},
		{"stock with a kpi", "POST", rules, rule("kind", "stock", "kpi", "pv"), 422, "not_for_kind", "kpi"},
		{"budget 0.5 bp over", "POST", rules, rule("kind", "promotion_budget", "threshold_bp", 10001), 422, "out_of_range", "threshold_bp"},
		{"negative cooldown", "POST", rules, rule("kind", "stock", "cooldown_seconds", -1), 422, "out_of_range", "cooldown_seconds"},
		{"unknown field", "POST", rules, rule("kind", "stock", "colour", "red"), 422, "unknown_field", ""},
		{"not json", "POST", rules, "{", 400, "malformed_request", ""},
		{"update unknown rule", "PUT", rules + "/alr_nope", rule("kind", "stock"), 404, "alert_rule_not_found", ""},
		{"delete unknown rule", "DELETE", rules + "/alr_nope", nil, 404, "alert_rule_not_found", ""},
		{"webhook ftp", "POST", hooks, map[string]any{"url": "ftp://x.example/"}, 422, "invalid_scheme", "url"},
		{"webhook userinfo", "POST", hooks, map[string]any{"url": "https://u:p@x.example/"}, 422, "userinfo_refused", "url"},
		{"webhook relative", "POST", hooks, map[string]any{"url": "/hook"}, 422, "invalid_url", "url"},
		{"webhook short secret", "POST", hooks, map[string]any{"url": "https://x.example/", "secret": "short"}, 422, "out_of_range", "secret"},
		{"webhook bad severity", "POST", hooks, map[string]any{"url": "https://x.example/", "min_severity": "meh"}, 422, "validation_failed", "min_severity"},
		{"deliveries of unknown webhook", "GET", hooks + "/awh_nope/deliveries", nil, 404, "alert_webhook_not_found", ""},
		{"alerts bad status", "GET", "/api/v1/alerts?status=closed", nil, 422, "validation_failed", "status"},
		{"alerts bad severity", "GET", "/api/v1/alerts?severity=loud", nil, 422, "validation_failed", "severity"},
		{"alerts limit too big", "GET", "/api/v1/alerts?limit=501", nil, 422, "validation_failed", "limit"},
		{"deliveries limit too big", "GET", hooks + "/awh_nope/deliveries?limit=501", nil, 422, "validation_failed", "limit"},
		{"acknowledge unknown", "POST", "/api/v1/alerts/alt_nope/acknowledge", nil, 404, "alert_not_found", ""},
	}, e.alertCounts, nil)
}

func TestAuditRedactsWebhookTokensForAnalysts(t *testing.T) {
	e, _ := newAlertEnv(t)
	const hook = "https://oapi.dingtalk.com/robot/send?access_token=ROBOT_TOKEN_1"
	if r := e.do(commerce.RoleAdmin, "POST", "/api/v1/alert-webhooks", map[string]any{"url": hook}); r.status != 201 {
		t.Fatalf("create webhook: %d %s", r.status, r.body)
	}
	analyst := e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?entity=alert_webhook", nil)
	if analyst.status != 200 || strings.Contains(string(analyst.body), "ROBOT_TOKEN_1") || !strings.Contains(string(analyst.body), "access_token=***") {
		t.Fatalf("an analyst's audit log: %d %s", analyst.status, analyst.body)
	}
	// Those who may read webhooks see the URL as saved.
	if admin := e.do(commerce.RoleAdmin, "GET", "/api/v1/audit?entity=alert_webhook", nil); !strings.Contains(string(admin.body), "ROBOT_TOKEN_1") {
		t.Fatalf("an admin's audit log: %s", admin.body)
	}
}

func TestWebhooksToInternalAddressesAreRefusedWhenSaved(t *testing.T) {
	e, _ := newAlertEnv(t)
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://localhost:9000/", "http://[::1]/", "http://0x7f000001/"} {
		r := e.do(commerce.RoleAdmin, "POST", "/api/v1/alert-webhooks", map[string]any{"url": u})
		if r.status != 422 || !strings.Contains(string(r.body), `"url"`) || !strings.Contains(string(r.body), "destination_not_allowed") {
			t.Errorf("%s: %d %s", u, r.status, r.body)
		}
	}
	// The shop allowlists its private receiver; then it is accepted.
	if r := e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"webhook_allowlist":["127.0.0.1:9000"]}}`); r.status != 200 {
		t.Fatalf("allowlist: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAdmin, "POST", "/api/v1/alert-webhooks", map[string]any{"url": "http://127.0.0.1:9000/hook"}); r.status != 201 {
		t.Fatalf("allowlisted receiver: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"webhook_allowlist":["intranet"]}}`); r.status != 422 ||
		!strings.Contains(string(r.body), "settings.webhook_allowlist[0]") {
		t.Fatalf("bad entry: %d %s", r.status, r.body)
	}
}

func TestAuditFiltersOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"shipping_fee":0}}`)
	e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"shipping_fee":500}}`)
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?action=update&entity=shop&limit=1", nil).json(t, &audit)
	if len(audit.Items) != 1 || audit.NextCursor == "" || !strings.Contains(string(audit.Items[0].After), `"shipping_fee":500`) {
		t.Fatalf("first page = %+v", audit)
	}
	var next httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?action=update&entity=shop&limit=1&cursor="+audit.NextCursor, nil).json(t, &next)
	if len(next.Items) != 1 || !strings.Contains(string(next.Items[0].After), `"shipping_fee":0`) {
		t.Fatalf("second page = %+v", next)
	}
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?actor=key:nobody", nil).json(t, &next)
	if len(next.Items) != 0 {
		t.Fatalf("actor filter: %+v", next.Items)
	}
	// Any offset, with its "+" escaped or sent as it is (arriving as a space).
	at := audit.Items[0].At
	for _, q := range []string{"from=" + url.QueryEscape(at.In(time.FixedZone("", 9*3600)).Format(time.RFC3339Nano)),
		"from=" + at.In(time.FixedZone("", 8*3600)).Format(time.RFC3339Nano), "from=" + at.UTC().Format(time.RFC3339Nano)} {
		e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?action=update&entity=shop&"+q, nil).json(t, &next)
		if len(next.Items) != 1 || next.Items[0].ID != audit.Items[0].ID {
			t.Errorf("%s: %+v", q, next.Items)
		}
	}
	for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		if r := e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?"+q, nil); r.status != 422 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
