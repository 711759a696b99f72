package httpapi_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/review"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// setLanguage sets the shop's language through the API.
func (e *env) setLanguage(t *testing.T, lang string) {
	t.Helper()
	if r := e.do(commerce.RoleAdmin, http.MethodPatch, "/api/v1/shop", map[string]any{"settings": map[string]any{"language": lang}}); r.status != 200 {
		t.Fatalf("set language %s: %d %s", lang, r.status, r.body)
	}
}

func TestShopLanguageSetting(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, nil, 25800)
			var sh commerce.Shop
			e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/shop", nil).json(t, &sh)
			if sh.Settings.Language != "zh-CN" {
				t.Fatalf("a new shop's language is %q, want zh-CN", sh.Settings.Language)
			}
			before := e.counts()
			for _, bad := range []string{"fr", "", "zh-TW", "english"} {
				r := e.do(commerce.RoleAdmin, http.MethodPatch, "/api/v1/shop", map[string]any{"settings": map[string]any{"language": bad}})
				var p httpapi.Problem
				r.json(t, &p)
				if r.status != 422 || p.Field != "settings.language" {
					t.Fatalf("language %q: %d %s", bad, r.status, r.body)
				}
			}
			if after := e.counts(); after != before {
				t.Fatalf("a refused language wrote: %s -> %s", before, after)
			}
			e.setLanguage(t, "en")
			e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/shop", nil).json(t, &sh)
			if sh.Settings.Language != "en" {
				t.Fatalf("language %q after setting en", sh.Settings.Language)
			}
			// Another setting leaves the language alone.
			if r := e.do(commerce.RoleAdmin, http.MethodPatch, "/api/v1/shop", map[string]any{"settings": map[string]any{"shipping_fee": 0}}); r.status != 200 {
				t.Fatal(string(r.body))
			}
			e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/shop", nil).json(t, &sh)
			if sh.Settings.Language != "en" {
				t.Fatalf("language %q after another setting changed", sh.Settings.Language)
			}
		})
	}
}

func problemOf(t *testing.T, r resp) httpapi.Problem {
	t.Helper()
	var p httpapi.Problem
	r.json(t, &p)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("content type %q", r.header.Get("Content-Type"))
	}
	return p
}

func TestProblemsFollowAcceptLanguageElseTheShopsLanguage(t *testing.T) {
	e := newEnv(t)
	sku := e.sku.ID
	cases := []struct {
		name, role, method, path string
		body                     any
		hdr                      []string
		status                   int
		code, field              string
		title, detail            string // substrings
	}{
		{"unknown caller, no header: English", "", "GET", "/api/v1/skus", nil, nil, 401, "unauthenticated", "", "Unauthorized", "Authorization: Bearer"},
		{"unknown caller asks zh", "", "GET", "/api/v1/skus", nil, []string{"Accept-Language", "zh-CN,zh;q=0.9"}, 401, "unauthenticated", "", "未认证", "API 密钥"},
		{"shop default zh-CN", commerce.RoleAdmin, "GET", "/api/v1/orders/ord_nope", nil, nil, 404, "order_not_found", "", "未找到", `订单 "ord_nope" 不存在`},
		{"caller asks en", commerce.RoleAdmin, "GET", "/api/v1/orders/ord_nope", nil, []string{"Accept-Language", "en-US,en;q=0.8"}, 404, "order_not_found", "", "Not Found", `order "ord_nope" does not exist`},
		{"unsupported asks fall back to the shop", commerce.RoleAdmin, "GET", "/api/v1/orders/ord_nope", nil, []string{"Accept-Language", "fr"}, 404, "order_not_found", "", "未找到", "不存在"},
		{"validation zh", commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":0}]}`, nil, 422, "validation_failed", "lines[0].quantity", "请求无法处理", "lines[0].quantity：须 ≥ 1"},
		{"validation en", commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":0}]}`, []string{"Accept-Language", "en"}, 422, "validation_failed", "lines[0].quantity", "Unprocessable Entity", "expected number >= 1"},
		{"wrong type zh", commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":"2"}]}`, nil, 422, "validation_failed", "lines[0].quantity", "请求无法处理", "须为整数"},
		{"missing property zh", commerce.RoleStorefront, "POST", "/api/v1/orders", `{}`, nil, 422, "validation_failed", "lines", "请求无法处理", "缺少必填字段 lines"},
		{"unknown field zh", commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"` + sku + `","quantity":1}],"discount":1}`, nil, 422, "unknown_field", "discount", "请求无法处理", "不允许的字段"},
		{"role zh", commerce.RoleStorefront, "GET", "/api/v1/skus", nil, []string{"Accept-Language", "zh"}, 403, "forbidden_role", "", "无权限", "storefront 密钥无权调用 list-skus"},
		{"invalid text zh", commerce.RoleAdmin, "GET", "/api/v1/orders/a%01b", nil, nil, 422, "invalid_text", "id", "请求无法处理", "id 须为有效的 UTF-8"},
		{"domain range zh", commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"shipping_fee":-1}}`, nil, 422, "out_of_range", "settings.shipping_fee", "请求无法处理", "运费须为 0 到 10000000 分"},
		{"domain format unknown to the catalogue zh", commerce.RoleAdmin, "PUT", "/api/v1/guard/policy", `{"per_ip":{"rate":10}}`, nil, 422, "out_of_range", "per_ip.per_seconds", "请求无法处理", "per_ip.per_seconds 超出允许范围（"},
		{"domain enum zh", commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"margin_mode":"maybe"}}`, nil, 422, "invalid_enum", "settings.margin_mode", "请求无法处理", "毛利模式须为 warn 或 block"},
	}
	for _, c := range cases {
		r := e.do(c.role, c.method, c.path, c.body, c.hdr...)
		p := problemOf(t, r)
		if r.status != c.status || p.Code != c.code || p.Field != c.field || !strings.Contains(p.Title, c.title) || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: %d %s\nwant %d code %s field %q title ~%q detail ~%q", c.name, r.status, r.body, c.status, c.code, c.field, c.title, c.detail)
		}
	}
	// A conflict: the current state named in the caller's language.
	var o commerce.Order
	e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", `{"lines":[{"sku_id":"`+sku+`","quantity":1}]}`).json(t, &o)
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/cancel", nil); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/cancel", nil)
	if p := problemOf(t, r); r.status != 409 || p.Code != "illegal_transition" || p.Title != "冲突" || !strings.Contains(p.Detail, "不能对状态为 cancelled 的订单执行") {
		t.Fatalf("cancel twice: %d %s", r.status, r.body)
	}
	if r.header.Get("Content-Language") != "zh-CN" {
		t.Fatalf("Content-Language %q", r.header.Get("Content-Language"))
	}
	// The shop's language is the default for its callers.
	e.setLanguage(t, "en")
	p := problemOf(t, e.do(commerce.RoleAdmin, "GET", "/api/v1/orders/ord_nope", nil))
	if p.Code != "order_not_found" || p.Title != "Not Found" || p.Detail != `order "ord_nope" does not exist` {
		t.Fatalf("an English shop: %+v", p)
	}
	p = problemOf(t, e.do(commerce.RoleAdmin, "GET", "/api/v1/orders/ord_nope", nil, "Accept-Language", "zh-CN"))
	if p.Code != "order_not_found" || p.Title != "未找到" {
		t.Fatalf("an English shop's caller asking zh: %+v", p)
	}
}

func TestAlertMessagesFollowTheShopsLanguage(t *testing.T) {
	e, as := newLowStockEnv(t)
	ctx := context.Background()
	message := func() alert.Alert {
		t.Helper()
		if err := as.Evaluate(ctx, e.svc.Now()); err != nil {
			t.Fatal(err)
		}
		var list httpapi.List[alert.Alert]
		e.do(commerce.RoleAnalyst, "GET", "/api/v1/alerts?status=open", nil).json(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("open alerts: %+v", list.Items)
		}
		return list.Items[0]
	}
	a := message()
	if a.Message != "SKU S1 商品 库存 3，低于或等于安全库存 5" || a.Kind != alert.KindStock || a.Severity != alert.SevReminder {
		t.Fatalf("a zh-CN shop's alert: %+v", a)
	}
	e.setLanguage(t, "en")
	b := message()
	if b.ID != a.ID || b.Message != "SKU S1 商品 has 3 in stock, safety stock 5" || b.Kind != a.Kind || b.Severity != a.Severity {
		t.Fatalf("after switching to English: %+v", b)
	}
}

func TestReviewFollowsTheShopsLanguage(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 25800)
	e.withReview(t)
	r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c campaign.Campaign
	r.json(t, &c)
	base := "/api/v1/campaigns/" + c.ID + "/review"
	check := func(lang string, wantHTML, notHTML []string, header0, phase string) {
		t.Helper()
		var rv review.CampaignReview
		e.do(commerce.RoleAnalyst, http.MethodGet, base, nil).json(t, &rv)
		if rv.Language != lang || rv.CampaignID != c.ID {
			t.Fatalf("review language %q, want %s", rv.Language, lang)
		}
		page := string(e.do(commerce.RoleAnalyst, http.MethodGet, base+".html", nil).body)
		if !strings.Contains(page, `<html lang="`+lang+`">`) {
			t.Errorf("%s page's lang: %.200s", lang, page)
		}
		for _, s := range wantHTML {
			if !strings.Contains(page, s) {
				t.Errorf("%s page lacks %q", lang, s)
			}
		}
		for _, s := range notHTML {
			if strings.Contains(page, s) {
				t.Errorf("%s page has %q", lang, s)
			}
		}
		body := e.do(commerce.RoleAnalyst, http.MethodGet, base+".csv", nil).body
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), review.BOM))).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("csv: %v %s", err, body)
		}
		if rows[0][0] != header0 {
			t.Errorf("%s csv header %v", lang, rows[0])
		}
		// Codes stay codes: sections, metrics and statuses are the same in
		// every language.
		found := false
		for _, row := range rows[1:] {
			if row[0] == review.SecPhases && strings.HasPrefix(row[1], campaign.PhaseBurst) && row[2] == campaign.KPIGMV {
				found = true
			}
		}
		if !found {
			t.Errorf("%s csv has no phases/burst/gmv row:\n%s", lang, body)
		}
		if !strings.Contains(page, phase) {
			t.Errorf("%s page lacks phase label %q", lang, phase)
		}
	}
	check("zh-CN", []string{"活动复盘", "计划 vs 实际", "下单金额", "进行中"}, []string{"Campaign review", "Plan vs actual", "Provisional"}, "板块", "爆发")
	e.setLanguage(t, "en")
	check("en", []string{"Campaign review", "Plan vs actual", "GMV", "Provisional"}, []string{"活动复盘", "计划 vs 实际", "进行中"}, "section", "Burst")
}

// TestSeveritiesAcceptTheDocumentedChineseNames: the docs name the
// severities 提醒, 警告 and 紧急; wherever a severity is sent those are
// accepted and mean reminder, warning and urgent, and answers carry the
// codes.
func TestSeveritiesAcceptTheDocumentedChineseNames(t *testing.T) {
	e, as := newLowStockEnv(t)
	ctx := context.Background()
	if err := as.Evaluate(ctx, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	for q, n := range map[string]int{"提醒": 1, "reminder": 1, "警告": 0, "紧急": 0, "urgent": 0} {
		r := e.do(commerce.RoleAnalyst, "GET", "/api/v1/alerts?severity="+url.QueryEscape(q), nil)
		var list httpapi.List[alert.Alert]
		r.json(t, &list)
		if r.status != 200 || len(list.Items) != n {
			t.Fatalf("severity=%s: %d %s", q, r.status, r.body)
		}
		for _, a := range list.Items {
			if a.Severity != alert.SevReminder {
				t.Fatalf("severity=%s answered %q, not the code", q, a.Severity)
			}
		}
	}
	if r := e.do(commerce.RoleAnalyst, "GET", "/api/v1/alerts?severity="+url.QueryEscape("严重"), nil); r.status != 422 || problemOf(t, r).Field != "severity" {
		t.Fatalf("an unknown severity: %d %s", r.status, r.body)
	}
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/alert-rules", map[string]any{"name": "GMV", "kind": "threshold", "kpi": "gmv", "window": "day", "op": "<", "value": 100, "severity": "紧急"})
	var rule alert.Rule
	r.json(t, &rule)
	if r.status != 201 || rule.Severity != alert.SevUrgent {
		t.Fatalf("rule with severity 紧急: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleAdmin, "POST", "/api/v1/alert-webhooks", map[string]any{"url": "https://hooks.example.com/x", "min_severity": "警告"})
	var hook alert.Webhook
	r.json(t, &hook)
	if r.status != 201 || hook.MinSeverity != alert.SevWarning {
		t.Fatalf("webhook with min_severity 警告: %d %s", r.status, r.body)
	}
	// The OpenAPI document lists the accepted names.
	spec := string(e.do("", "GET", "/api/v1/openapi.json", nil).body)
	if !strings.Contains(spec, `"提醒"`) || !strings.Contains(spec, `"紧急"`) {
		t.Fatal("the OpenAPI document does not list the Chinese severities")
	}
}

// newLowStockEnv is an alert env whose SKU is below its safety stock, with
// a stock rule to raise it.
func newLowStockEnv(t *testing.T) (*env, *alert.Service) {
	t.Helper()
	e, as := newAlertEnv(t)
	stock := int64(3)
	if _, err := e.svc.UpsertProducts(context.Background(), commerce.Actor{ShopID: e.shop.ID}, []commerce.ProductUpsert{{Code: "P1", Name: "商品",
		SKUs: []commerce.SKUUpsert{{Code: "S1", Price: 25800, Cost: 10320, Stock: &stock, SafetyStock: 5}}}}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/alert-rules", map[string]any{"name": "库存预警", "kind": "stock"}); r.status != 201 {
		t.Fatalf("create rule: %d %s", r.status, r.body)
	}
	return e, as
}
