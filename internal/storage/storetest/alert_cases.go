package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// RunAlerts runs the alert contract against open.
func RunAlerts(t *testing.T, open Opener) {
	t.Run("RulesCRUDAndAudit", func(t *testing.T) { testAlertRules(t, open) })
	t.Run("StockDedupResolveCooldown", func(t *testing.T) { testAlertStock(t, open) })
	t.Run("PromotionBudgets", func(t *testing.T) { testAlertBudgets(t, open) })
	t.Run("AnomalyAndThreshold", func(t *testing.T) { testAlertAnomaly(t, open) })
	t.Run("Pacing", func(t *testing.T) { testAlertPacing(t, open) })
	t.Run("MilestonesOverdue", func(t *testing.T) { testAlertMilestones(t, open) })
	t.Run("WebhookRetryAndSignature", func(t *testing.T) { testAlertWebhookRetry(t, open) })
	t.Run("WebhookCrashAndGiveUp", func(t *testing.T) { testAlertWebhookCrash(t, open) })
	t.Run("ConcurrentDeliverers", func(t *testing.T) { testAlertConcurrentDeliverers(t, open) })
	t.Run("WebhookDestinations", func(t *testing.T) { testAlertWebhookDestinations(t, open) })
}

func setAllowlist(t *testing.T, e *Env, entries ...string) {
	t.Helper()
	if entries == nil {
		entries = []string{}
	}
	if _, err := e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{WebhookAllowlist: &entries}); err != nil {
		t.Fatal(err)
	}
}

// mapResolver answers names from a map, as a DNS server an attacker runs
// would (rebind.test → 127.0.0.1).
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := m[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.9.8.7:53", IsNotFound: true}
}

func testAlertWebhookDestinations(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	setAllowlist(t, e) // the production default: nothing private allowed
	// Literal internal destinations are refused when saved.
	for _, u := range []string{"http://169.254.169.254/latest/meta-data", "http://localhost:8080/", "http://LOCALHOST./", "http://a.localhost/",
		"http://[::1]/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/",
		"http://0.0.0.0/", "http://224.0.0.1/", "http://100.64.0.1/", "http://10.0.0.1/", "http://192.168.1.1/", "http://[fd00::1]/",
		"http://[fe80::1]/", "https://[::ffff:a9fe:a9fe]/"} {
		_, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: u})
		ce, ok := commerce.AsError(err)
		if !ok || ce.Kind != commerce.KindInvalid || ce.Field != "url" || ce.Code != "destination_not_allowed" {
			t.Errorf("%s: %v, want 422 url destination_not_allowed", u, err)
		}
	}
	// A name is judged where it resolves, at connect time: rebind.test
	// resolves to 127.0.0.1, so the delivery is refused and the receiver
	// hears nothing; the error names no address, the log no token.
	srv := newHookServer(t, 200)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hook, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: "http://rebind.test:" + port + "/robot/send?access_token=TOKEN123"})
	if err != nil {
		t.Fatal(err)
	}
	lost, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: "http://nowhere.test:" + port + "/"})
	if err != nil {
		t.Fatal(err)
	}
	oneStockAlert(t, e, as)
	var logs bytes.Buffer
	res := mapResolver{"rebind.test": {netip.MustParseAddr("127.0.0.1")}}
	dl := alert.NewDeliverer(e.Store, alert.DelivererOptions{Now: e.Clock.Now, Resolver: res, Rand: func() float64 { return 0.5 },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if _, err := dl.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d := deliveryEvents(t, e, as, hook.ID)
	if len(d) != 1 || d[0].Status != alert.DeliveryPending || d[0].LastError != "refused: destination not allowed" || srv.count() != 0 {
		t.Fatalf("rebinding to loopback: %+v, %d requests", d, srv.count())
	}
	if d := deliveryEvents(t, e, as, lost.ID); len(d) != 1 || d[0].LastError != "host not found" {
		t.Fatalf("unknown host: %+v", d)
	}
	if l := logs.String(); strings.Contains(l, "TOKEN123") || !strings.Contains(l, "access_token=***") || !strings.Contains(l, "refused") {
		t.Fatalf("log: %s", l)
	}
	// The shop allows its private receiver: the next attempt arrives.
	setAllowlist(t, e, "127.0.0.1:"+port)
	e.Clock.Advance(time.Hour)
	if _, err := dl.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if d := deliveryEvents(t, e, as, hook.ID); d[0].Status != alert.DeliveryDelivered || srv.count() != 1 {
		t.Fatalf("allowlisted: %+v, %d requests", d[0], srv.count())
	}
	// A bad allowlist entry is refused, naming it.
	_, err = e.Svc.UpdateShopSettings(ctx, e.Admin, nil, nil, commerce.SettingsPatch{WebhookAllowlist: &[]string{"10.0.0.0/8", "intranet"}})
	if ce, ok := commerce.AsError(err); !ok || ce.Field != "settings.webhook_allowlist[1]" {
		t.Fatalf("bad entry: %v", err)
	}
}

func alertEnv(t *testing.T, open Opener, act campaign.Actuals) (*Env, *alert.Service, *campaign.Service) {
	e := NewEnv(t, open)
	// The tests' receivers are httptest servers on 127.0.0.1, a private
	// receiver the shop allows explicitly.
	setAllowlist(t, e, "127.0.0.1/32")
	cs := campaign.New(e.Store, e.Svc, nil, act)
	return e, alert.New(e.Store, e.Svc, alert.Options{Campaigns: cs, Metrics: e.Store}), cs
}

func alertsOf(t *testing.T, e *Env, as *alert.Service, status string) map[string]alert.Alert {
	t.Helper()
	list, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{Status: status}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alert.Alert{}
	for _, a := range list {
		out[a.Subject] = a
	}
	return out
}

// events lists the deliveries of a webhook as "event subject" strings, oldest first.
func deliveryEvents(t *testing.T, e *Env, as *alert.Service, hookID string) []alert.Delivery {
	t.Helper()
	list, err := as.Deliveries(ctx, e.Shop.ID, hookID, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

func testAlertRules(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	r, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "流量异常", Kind: alert.KindAnomaly, KPI: "pv", Channel: "douyin"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := as.Rule(ctx, e.Shop.ID, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Weeks != 8 || got.Persistence != 2 || got.Channel != "douyin" || got.Kind != alert.KindAnomaly || !got.IsEnabled() || got.Cooldown() != 30*time.Minute {
		t.Fatalf("stored rule = %+v", got)
	}
	cool := int64(600)
	off := false
	up, err := as.UpdateRule(ctx, e.Admin, r.ID, alert.RuleInput{Name: "库存", Kind: alert.KindStock, CooldownSeconds: &cool, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = as.Rule(ctx, e.Shop.ID, r.ID)
	if got.Kind != alert.KindStock || got.KPI != "" || got.Cooldown() != 10*time.Minute || got.IsEnabled() || !got.CreatedAt.Equal(r.CreatedAt) || up.Name != "库存" {
		t.Fatalf("updated rule = %+v", got)
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "p", Kind: alert.KindPacing, CampaignID: "cmp_nope"}); err == nil {
		t.Fatal("a pacing rule on an unknown campaign was accepted")
	} else if ce, ok := commerce.AsError(err); !ok || ce.Field != "campaign_id" {
		t.Fatalf("err = %v", err)
	}
	list, err := as.Rules(ctx, e.Shop.ID, commerce.Page{})
	if err != nil || len(list) != 1 {
		t.Fatalf("rules = %v, %v", list, err)
	}
	if err := as.DeleteRule(ctx, e.Admin, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Rule(ctx, e.Shop.ID, r.ID); err == nil {
		t.Fatal("deleted rule still read")
	}
	if err := as.DeleteRule(ctx, e.Admin, r.ID); err == nil {
		t.Fatal("deleted twice")
	}
	if n := auditCount(t, e, "alert_rule"); n != 3 {
		t.Fatalf("%d alert_rule audit entries, want 3 (create, update, delete)", n)
	}
	shops, err := e.Store.ShopsWithRules(ctx)
	if err != nil || len(shops) != 0 {
		t.Fatalf("shops with rules after the delete = %v, %v", shops, err)
	}
}

func setStock(t *testing.T, e *Env, skus map[string][2]int64) {
	t.Helper()
	var ups []commerce.SKUUpsert
	for code, v := range skus {
		st := v[0]
		ups = append(ups, commerce.SKUUpsert{Code: code, Name: "款 " + code, Price: 1000, Cost: 400, Stock: &st, SafetyStock: v[1]})
	}
	if _, err := e.Svc.UpsertProducts(ctx, e.Admin, []commerce.ProductUpsert{{Code: "P-ALERT", Name: "商品", SKUs: ups}}); err != nil {
		t.Fatal(err)
	}
}

func skuID(t *testing.T, e *Env, code string) string {
	t.Helper()
	list, err := e.Svc.ListSKUs(ctx, e.Shop.ID, commerce.SKUFilter{}, commerce.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.Code == code {
			return k.ID
		}
	}
	t.Fatalf("no SKU %s", code)
	return ""
}

func testAlertStock(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	// stock, safety stock
	setStock(t, e, map[string][2]int64{"A": {0, 10}, "B": {5, 10}, "C": {8, 10}, "D": {20, 10}, "E": {0, 0}})
	hook, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: "https://hooks.example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	urgentOnly, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: "https://pager.example.com/a", MinSeverity: alert.SevUrgent})
	if err != nil {
		t.Fatal(err)
	}
	if len(hook.Secret) < 16 {
		t.Fatalf("generated secret %q", hook.Secret)
	}
	if got, _ := as.Webhook(ctx, e.Shop.ID, hook.ID); got.Secret != "" {
		t.Fatal("the secret is shown after creation")
	}
	r, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "库存预警", Kind: alert.KindStock})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := skuID(t, e, "A"), skuID(t, e, "B"), skuID(t, e, "C")
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	open1 := alertsOf(t, e, as, alert.StatusOpen)
	want := map[string]string{a: alert.SevUrgent, b: alert.SevWarning, c: alert.SevReminder} // 0; 5 ≤ 10/2; 8 ≤ 10
	if len(open1) != len(want) {
		t.Fatalf("open alerts %v, want %v", open1, want)
	}
	for id, sev := range want {
		got := open1[id]
		if got.Severity != sev || got.Fingerprint != alert.Fingerprint(r.ID, id) || got.Expected == nil || *got.Expected != 10 {
			t.Errorf("%s: %+v, want %s", id, got, sev)
		}
	}
	p1, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{}, commerce.Page{Limit: 2})
	if err != nil || len(p1) != 2 || p1[0].ID <= p1[1].ID {
		t.Fatalf("page 1 (newest first): %+v, %v", p1, err)
	}
	p2, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{}, commerce.Page{Limit: 2, Cursor: p1[1].ID})
	if err != nil || len(p2) != 1 || p2[0].ID >= p1[1].ID {
		t.Fatalf("page 2: %+v, %v", p2, err)
	}
	if d := deliveryEvents(t, e, as, hook.ID); len(d) != 3 {
		t.Fatalf("%d deliveries to the catch-all webhook, want 3", len(d))
	}
	if d := deliveryEvents(t, e, as, urgentOnly.ID); len(d) != 1 || d[0].AlertID != open1[a].ID || d[0].Event != alert.EventOpened {
		t.Fatalf("urgent-only webhook got %+v", d)
	}

	// Acknowledged, then evaluated again: the same alerts, no new deliveries.
	ack, err := as.Acknowledge(ctx, e.Admin, open1[b].ID)
	if err != nil || ack.Status != alert.StatusAcknowledged || ack.AckBy == "" {
		t.Fatalf("ack = %+v, %v", ack, err)
	}
	if _, err := as.Acknowledge(ctx, e.Admin, open1[b].ID); err == nil {
		t.Fatal("acknowledged twice")
	}
	e.Clock.Advance(time.Minute)
	// B drops to 0: escalation to urgent notifies both webhooks; it stays acknowledged.
	setStock(t, e, map[string][2]int64{"B": {0, 10}})
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	all := alertsOf(t, e, as, "")
	if len(all) != 3 || all[b].ID != open1[b].ID || all[b].Severity != alert.SevUrgent || all[b].Status != alert.StatusAcknowledged ||
		!all[b].LastSeen.Equal(e.Clock.Now()) || !all[b].FirstSeen.Equal(open1[b].FirstSeen) {
		t.Fatalf("after escalation %+v", all[b])
	}
	d := deliveryEvents(t, e, as, hook.ID)
	if len(d) != 4 || d[3].Event != alert.EventEscalated || d[3].AlertID != all[b].ID {
		t.Fatalf("deliveries %+v", d)
	}
	if d := deliveryEvents(t, e, as, urgentOnly.ID); len(d) != 2 {
		t.Fatalf("urgent-only webhook got %d deliveries, want 2", len(d))
	}
	// A second evaluator that read B before the escalation cannot notify it again.
	stale := open1[b]
	stale.Severity, stale.Notified = alert.SevUrgent, alert.SevUrgent
	if err := e.Store.ApplyChange(ctx, alert.Change{Alert: &stale, Event: alert.EventEscalated, Was: alert.SevWarning}, nil); !errors.Is(err, commerce.ErrStale) {
		t.Fatalf("stale escalation: %v", err)
	}

	// A is restocked: resolved and notified. Back under within the
	// cooldown: nothing; after it: a new alert.
	setStock(t, e, map[string][2]int64{"A": {50, 10}})
	e.Clock.Advance(time.Minute)
	resolvedAt := e.Clock.Now()
	if err := as.Evaluate(ctx, resolvedAt); err != nil {
		t.Fatal(err)
	}
	res := alertsOf(t, e, as, alert.StatusResolved)
	if len(res) != 1 || res[a].ResolvedAt == nil || !res[a].ResolvedAt.Equal(resolvedAt) {
		t.Fatalf("resolved %+v", res)
	}
	if d := deliveryEvents(t, e, as, hook.ID); d[len(d)-1].Event != alert.EventResolved {
		t.Fatalf("last delivery %+v", d[len(d)-1])
	}
	setStock(t, e, map[string][2]int64{"A": {1, 10}})
	e.Clock.Advance(29 * time.Minute)
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := alertsOf(t, e, as, alert.StatusOpen); len(got) != 1 { // C only (B is acknowledged)
		t.Fatalf("re-fired within the cooldown: %+v", got)
	}
	e.Clock.Advance(time.Minute)
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	got := alertsOf(t, e, as, alert.StatusOpen)
	if len(got) != 2 || got[a].ID == res[a].ID || got[a].Severity != alert.SevWarning {
		t.Fatalf("after the cooldown %+v", got)
	}
	if n := auditCount(t, e, "alert"); n != 1 {
		t.Fatalf("%d acknowledgement audit entries, want 1", n)
	}
	// Deleting the rule resolves its alerts.
	if err := as.DeleteRule(ctx, e.Admin, r.ID); err != nil {
		t.Fatal(err)
	}
	if got := alertsOf(t, e, as, alert.StatusOpen); len(got) != 0 {
		t.Fatalf("open after the rule was deleted: %+v", got)
	}
}

func testAlertBudgets(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	ps := promotion.New(e.Store, e.Svc)
	mk := func(name string, budget, used int64) string {
		p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff(name, 500, promotion.Limits{Budget: budget}), true)
		if err != nil {
			t.Fatal(err)
		}
		if used > 0 {
			if err := e.Store.Write(ctx, func(tx *sqlstore.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO usage_counters (shop_id, ref, bucket, uses, amount) VALUES ($1, $2, 't', 1, $3)`, e.Shop.ID, p.ID, used)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		return p.ID
	}
	at80 := mk("满300减50", 10000, 8000)
	mk("差一分", 10000, 7999)
	spent := mk("用完", 5000, 5000)
	mk("无预算", 0, 0)
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "预算", Kind: alert.KindPromotionBudget}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	got := alertsOf(t, e, as, alert.StatusOpen)
	if len(got) != 2 || got[at80].Severity != alert.SevWarning || got[at80].Value != 8000 || got[spent].Severity != alert.SevUrgent {
		t.Fatalf("budget alerts %+v", got)
	}
}

// rollups writes hourly (and daily) PV and GMV counters for the shop.
func rollups(t *testing.T, e *Env, grain string, vals map[int64]analytics.Counters) {
	t.Helper()
	d := analytics.NewDelta()
	for b, c := range vals {
		cc := c
		d.Counters[analytics.RollupKey{ShopID: e.Shop.ID, Grain: grain, Bucket: b}] = &cc
		d.Events++
	}
	if err := e.Store.ApplyDelta(ctx, d); err != nil {
		t.Fatal(err)
	}
}

func testAlertAnomaly(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	sh, _ := time.LoadLocation(commerce.DefaultTimeZone)
	// The clock shows 11 Nov 08:00 in Shanghai: the last complete hours
	// are 06:00 and 07:00. Each had, over the past eight weeks, PV 100,
	// 140, 60, 100, 120, 80, 100, 100: median 100, MAD 10, scale 14.826.
	// Now 170 (z 4.72, warning) then 190 (z 6.07, urgent).
	base := []int64{100, 140, 60, 100, 120, 80, 100, 100}
	vals := map[int64]analytics.Counters{}
	for _, hour := range []int{6, 7} {
		h := time.Date(2026, 11, 11, hour, 0, 0, 0, sh)
		for w := 1; w <= 8; w++ {
			vals[alert.HourBucket(h.AddDate(0, 0, -7*w))] = analytics.Counters{PV: base[w-1]}
		}
	}
	vals[2026111106] = analytics.Counters{PV: 170}
	vals[2026111107] = analytics.Counters{PV: 190}
	rollups(t, e, analytics.Hour, vals)
	r, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "PV 异常", Kind: alert.KindAnomaly, KPI: "pv"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "PV 异常 (大盘)", Kind: alert.KindAnomaly, KPI: "pv", MinVolume: 500}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "一小时", Kind: alert.KindAnomaly, KPI: "pv", Persistence: 1}); err != nil {
		t.Fatal(err)
	}
	// Day threshold on 10 Nov: GMV 50 000 fen < 100 000 fires; > does not.
	rollups(t, e, analytics.Day, map[int64]analytics.Counters{20261110: {GMV: 50000, Orders: 3}})
	v := int64(100000)
	th, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "GMV 过低", Kind: alert.KindThreshold, KPI: "gmv", Window: alert.WindowDay, Op: "<", Value: &v})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "GMV 过高", Kind: alert.KindThreshold, KPI: "gmv", Window: alert.WindowDay, Op: ">", Value: &v}); err != nil {
		t.Fatal(err)
	}
	three := int64(150)
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "PV 小时", Kind: alert.KindThreshold, KPI: "pv", Window: alert.WindowHour, Op: ">=", Value: &three,
		Severity: alert.SevReminder}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	list, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{}, commerce.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]alert.Alert{}
	for _, a := range list {
		byRule[a.RuleID] = a
	}
	if len(list) != 4 {
		t.Fatalf("%d alerts, want 4 (anomaly, one-hour anomaly, low GMV, hourly PV): %+v", len(list), list)
	}
	an := byRule[r.ID]
	if an.Severity != alert.SevUrgent || an.Value != 190 || an.Expected == nil || *an.Expected != 100 || an.Subject != "pv" {
		t.Fatalf("anomaly alert %+v", an)
	}
	if g := byRule[th.ID]; g.Value != 50000 || g.Severity != alert.SevWarning {
		t.Fatalf("threshold alert %+v", g)
	}
	// The severity filter.
	urgent, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{Severity: alert.SevUrgent}, commerce.Page{Limit: 50})
	if err != nil || len(urgent) != 2 {
		t.Fatalf("urgent alerts %+v, %v", urgent, err)
	}
	// An hour later 08:00 had nothing, like its baseline: the run breaks and
	// the anomaly resolves.
	e.Clock.Advance(time.Hour)
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := as.Alert(ctx, e.Shop.ID, an.ID)
	if err != nil || got.Status != alert.StatusResolved {
		t.Fatalf("anomaly after the hour: %+v, %v", got, err)
	}
}

func testAlertPacing(t *testing.T, open Opener) {
	act := &fixedActuals{got: map[string]int64{campaign.KPIGMV: 4_000_000_00, campaign.KPIConversionRate: 320}}
	e, as, cs := alertEnv(t, open, act)
	in := double11()
	in.DayWeights, in.Phases = nil, nil
	in.Targets = campaign.Targets{campaign.KPIGMV: 14_000_000_00, campaign.KPIConversionRate: 400}
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "双11 节奏", Kind: alert.KindPacing, CampaignID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	// 08:00 on the 11th: the 10th is judged. GMV target to date 10亿,
	// actual 4亿 = 40 % < 60 %: warning; conversion 80 %: behind, no alert.
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if act.through != "2026-11-10" {
		t.Fatalf("pacing judged %s", act.through)
	}
	got := alertsOf(t, e, as, alert.StatusOpen)
	g := got[c.ID+"/gmv"]
	if len(got) != 1 || g.Severity != alert.SevWarning || g.Value != 4_000_000_00 || *g.Expected != 10_000_000_00 {
		t.Fatalf("pacing alerts %+v", got)
	}
	// 2亿 = 20 % < 30 %: urgent.
	act.got[campaign.KPIGMV] = 2_000_000_00
	e.Clock.Advance(time.Minute)
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if g := alertsOf(t, e, as, alert.StatusOpen)[c.ID+"/gmv"]; g.Severity != alert.SevUrgent || g.Notified != alert.SevUrgent {
		t.Fatalf("escalated %+v", g)
	}
	// A rule limited to conversion sees nothing.
	if _, err := as.UpdateRule(ctx, e.Admin, r.ID, alert.RuleInput{Name: "转化", Kind: alert.KindPacing, CampaignID: c.ID, KPIs: []string{"conversion_rate"}}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := alertsOf(t, e, as, alert.StatusOpen); len(got) != 0 {
		t.Fatalf("open %+v", got)
	}
}

// testAlertMilestones: a milestone rule raises one alert per milestone past
// its due day and not done, warning at first and urgent from the third day
// overdue, and resolves it once the milestone is done.
func testAlertMilestones(t *testing.T, open Opener) {
	e, as, cs := alertEnv(t, open, nil)
	in := double11() // 1–14 Nov
	in.DefaultMilestones = true
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	// 08:00 on the 11th in Shanghai: T-30 (10-02), T-21 (10-11), T-14
	// (10-18), T-1 (10-31) and 预热 (11-01) are past; 复盘 (11-15) is not.
	var done []string
	for _, m := range c.Milestones {
		if m.Name == "立项 kick-off" || m.Name == "方案评审 plan review" {
			done = append(done, m.ID)
			if _, err := cs.CompleteMilestone(ctx, e.Admin, c.ID, m.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	yesterday, err := cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "主图上线", DueOn: "2026-11-10", Owner: "王五"})
	if err != nil {
		t.Fatal(err)
	}
	today, err := cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "客服话术", DueOn: "2026-11-11"})
	if err != nil {
		t.Fatal(err)
	}
	quiet := double11()
	quiet.Name = "无里程碑"
	if _, err := cs.Create(ctx, e.Admin, quiet); err != nil {
		t.Fatal(err)
	}
	// Every campaign of the shop, and one campaign only.
	all, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "里程碑逾期", Kind: alert.KindMilestone})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "双11 里程碑", Kind: alert.KindMilestone, CampaignID: c.ID}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	count := func(status string) int {
		t.Helper()
		list, err := as.Alerts(ctx, e.Shop.ID, alert.AlertFilter{Status: status}, commerce.Page{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	got := alertsOf(t, e, as, alert.StatusOpen)        // by subject: the milestone
	if len(got) != 4 || count(alert.StatusOpen) != 8 { // 4 overdue milestones, by two rules
		t.Fatalf("open alerts %+v", got)
	}
	for _, id := range done {
		if _, ok := got[id]; ok {
			t.Fatalf("a done milestone raised an alert: %+v", got[id])
		}
	}
	if _, ok := got[today.ID]; ok {
		t.Fatal("a milestone due today is not overdue yet")
	}
	y := got[yesterday.ID]
	if y.Kind != alert.KindMilestone || y.Severity != alert.SevWarning || y.Value != 1 || !strings.Contains(y.Message, "主图上线") || !strings.Contains(y.Message, "双11 大促") {
		t.Fatalf("one day overdue: %+v", y)
	}
	for _, m := range c.Milestones {
		if m.Name == "系统测试 system test" {
			if a := got[m.ID]; a.Severity != alert.SevUrgent || a.Value != 24 { // due 10-18
				t.Fatalf("24 days overdue: %+v", a)
			}
		}
	}
	// Done: its alerts resolve at the next evaluation.
	if _, err := cs.CompleteMilestone(ctx, e.Admin, c.ID, yesterday.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := count(alert.StatusOpen); n != 6 {
		t.Fatalf("after completing one: %d open", n)
	}
	if a := alertsOf(t, e, as, alert.StatusResolved)[yesterday.ID]; a.RuleID == "" {
		t.Fatal("the completed milestone's alert is not resolved")
	}
	// A milestone rule takes a campaign only, and one that exists.
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "x", Kind: alert.KindMilestone, KPIs: []string{"gmv"}}); err == nil {
		t.Fatal("a milestone rule took kpis")
	}
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "x", Kind: alert.KindMilestone, CampaignID: "cmp_nope"}); err == nil {
		t.Fatal("a milestone rule on an unknown campaign was accepted")
	}
	// Deleting the shop-wide rule resolves its alerts.
	if err := as.DeleteRule(ctx, e.Admin, all.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(alert.StatusOpen); n != 3 {
		t.Fatalf("after deleting the shop-wide rule: %d open", n)
	}
}

// hookServer answers with the statuses in turn (the last one repeats) and
// records what it received.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []*http.Request
	bodies   [][]byte
	hits     map[string]int
	inFlight map[string]int
	overlap  atomic.Int32
}

func newHookServer(t *testing.T, statuses ...int) *hookServer {
	h := &hookServer{statuses: statuses, hits: map[string]int{}, inFlight: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get("Carnival-Delivery")
		h.mu.Lock()
		h.got, h.bodies = append(h.got, r), append(h.bodies, body)
		h.hits[id]++
		h.inFlight[id]++
		if h.inFlight[id] > 1 {
			h.overlap.Add(1)
		}
		st := h.statuses[min(len(h.got)-1, len(h.statuses)-1)]
		h.mu.Unlock()
		time.Sleep(time.Millisecond)
		h.mu.Lock()
		h.inFlight[id]--
		h.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// oneStockAlert makes one urgent stock alert, so each webhook gets one delivery.
func oneStockAlert(t *testing.T, e *Env, as *alert.Service) {
	t.Helper()
	setStock(t, e, map[string][2]int64{"A": {0, 10}})
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "库存", Kind: alert.KindStock}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func testAlertWebhookRetry(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	srv := newHookServer(t, 500, 200)
	const secret = "whsec_0123456789abcdef"
	hook, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: srv.URL + "/carnival", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	oneStockAlert(t, e, as)
	dl := alert.NewDeliverer(e.Store, alert.DelivererOptions{Now: e.Clock.Now, Rand: func() float64 { return 0.5 }})
	if n, err := dl.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("first round: %d, %v", n, err)
	}
	d := deliveryEvents(t, e, as, hook.ID)
	if len(d) != 1 || d[0].Status != alert.DeliveryPending || d[0].Attempts != 1 || d[0].LastStatus != 500 ||
		!d[0].NextAttemptAt.Equal(e.Clock.Now().Add(30*time.Second)) {
		t.Fatalf("after a 500: %+v", d)
	}
	// Not due yet.
	e.Clock.Advance(29 * time.Second)
	if n, _ := dl.RunOnce(ctx); n != 0 {
		t.Fatal("retried before the backoff")
	}
	e.Clock.Advance(time.Second)
	if n, err := dl.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("second round: %d, %v", n, err)
	}
	d = deliveryEvents(t, e, as, hook.ID)
	if d[0].Status != alert.DeliveryDelivered || d[0].Attempts != 2 || d[0].DeliveredAt == nil || !d[0].DeliveredAt.Equal(e.Clock.Now()) {
		t.Fatalf("after a 200: %+v", d[0])
	}
	if n, _ := dl.RunOnce(ctx); n != 0 || srv.count() != 2 {
		t.Fatalf("delivered again: %d requests", srv.count())
	}
	// What the receiver got verifies with the secret, names the delivery
	// and carries the alert.
	r, body := srv.got[1], srv.bodies[1]
	if r.Header.Get("Carnival-Delivery") != d[0].ID || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Carnival-Event") != alert.EventOpened {
		t.Fatalf("headers %v", r.Header)
	}
	if err := alert.Verify(secret, r.Header.Get("Carnival-Signature"), body, e.Clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := alert.Verify("whsec_someone_else_00", r.Header.Get("Carnival-Signature"), body, e.Clock.Now(), 5*time.Minute); err == nil {
		t.Fatal("verified with another secret")
	}
	if string(srv.bodies[0]) != string(body) {
		t.Fatal("the retry sent another body")
	}
	// The payload's times are in the shop's offset (Asia/Shanghai).
	var p struct {
		At    string `json:"at"`
		Alert struct {
			FirstSeen string `json:"first_seen"`
			LastSeen  string `json:"last_seen"`
		} `json:"alert"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{p.At, p.Alert.FirstSeen, p.Alert.LastSeen} {
		if !strings.HasSuffix(v, "+08:00") {
			t.Fatalf("payload times %q %q %q: want the shop's +08:00 in %s", p.At, p.Alert.FirstSeen, p.Alert.LastSeen, body)
		}
	}
}

func testAlertWebhookCrash(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	srv := newHookServer(t, 200)
	hook, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	oneStockAlert(t, e, as)
	d := deliveryEvents(t, e, as, hook.ID)
	// A deliverer claimed the row and died before recording anything.
	c, err := e.Store.ClaimDelivery(ctx, d[0].ID, "dead", e.Clock.Now(), e.Clock.Now().Add(alert.Lease))
	if err != nil || c == nil || c.URL != srv.URL {
		t.Fatalf("claim %+v, %v", c, err)
	}
	dl := alert.NewDeliverer(e.Store, alert.DelivererOptions{Now: e.Clock.Now})
	if n, _ := dl.RunOnce(ctx); n != 0 {
		t.Fatal("sent under a running lease")
	}
	e.Clock.Advance(alert.Lease + time.Second)
	if n, err := dl.RunOnce(ctx); err != nil || n != 1 || srv.count() != 1 {
		t.Fatalf("after the lease: %d, %v, %d requests", n, err, srv.count())
	}
	// The dead deliverer's late report changes nothing.
	if err := e.Store.FinishDelivery(ctx, d[0].ID, "dead", alert.Outcome{Status: alert.DeliveryFailed, At: e.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if d := deliveryEvents(t, e, as, hook.ID); d[0].Status != alert.DeliveryDelivered || d[0].Attempts != 1 {
		t.Fatalf("after the stale finish: %+v", d[0])
	}

	// A receiver that always fails: twelve attempts, then failed. A
	// redirect is not followed and counts as a failure.
	other := newHookServer(t, 200)
	var redirected atomic.Int32
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		http.Redirect(w, r, other.URL, http.StatusFound)
	}))
	t.Cleanup(bad.Close)
	h2, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: bad.URL})
	if err != nil {
		t.Fatal(err)
	}
	setStock(t, e, map[string][2]int64{"B": {1, 10}})
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < alert.MaxAttempts+2; i++ {
		if _, err := dl.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
	}
	d2 := deliveryEvents(t, e, as, h2.ID)
	if len(d2) != 1 || d2[0].Status != alert.DeliveryFailed || d2[0].Attempts != alert.MaxAttempts || d2[0].LastStatus != http.StatusFound {
		t.Fatalf("given up: %+v", d2)
	}
	if redirected.Load() != alert.MaxAttempts || other.count() != 0 {
		t.Fatalf("%d attempts, %d followed redirects", redirected.Load(), other.count())
	}
}

func testAlertConcurrentDeliverers(t *testing.T, open Opener) {
	e, as, _ := alertEnv(t, open, nil)
	srv := newHookServer(t, 200)
	const hooks = 4
	for i := 0; i < hooks; i++ {
		if _, err := as.CreateWebhook(ctx, e.Admin, alert.WebhookInput{URL: fmt.Sprintf("%s/%d", srv.URL, i)}); err != nil {
			t.Fatal(err)
		}
	}
	skus := map[string][2]int64{}
	for i := 0; i < 5; i++ {
		skus[fmt.Sprintf("S%d", i)] = [2]int64{0, 10}
	}
	setStock(t, e, skus)
	if _, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "库存", Kind: alert.KindStock}); err != nil {
		t.Fatal(err)
	}
	if err := as.Evaluate(ctx, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	const want = 5 * hooks
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dl := alert.NewDeliverer(e.Store, alert.DelivererOptions{Now: e.Clock.Now, Batch: 7, Parallel: 3})
			for i := 0; i < 20; i++ {
				if _, err := dl.RunOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.hits) != want || len(srv.got) != want || srv.overlap.Load() != 0 {
		t.Fatalf("%d deliveries received in %d requests (%d overlapping), want %d each once", len(srv.hits), len(srv.got), srv.overlap.Load(), want)
	}
	for id, n := range srv.hits {
		if n != 1 {
			t.Errorf("delivery %s received %d times", id, n)
		}
	}
}
