package httpapi_test

import (
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// addSKU adds a SKU through the API and returns its id.
func (e *env) addSKU(code string, price, cost, stock int64) string {
	e.t.Helper()
	var out httpapi.List[commerce.SKU]
	r := e.do(commerce.RoleAdmin, "PUT", "/api/v1/products", map[string]any{"items": []map[string]any{{"code": "P" + code, "name": "商品 " + code,
		"skus": []map[string]any{{"code": code, "price": price, "cost": cost, "stock": stock}}}}})
	if r.status != 200 {
		e.t.Fatalf("add sku: %d %s", r.status, r.body)
	}
	r.json(e.t, &out)
	return out.Items[0].ID
}

type quoteOut struct {
	Lines []struct {
		SKUID         string `json:"sku_id"`
		OrderDiscount int64  `json:"order_discount"`
		Payable       int64  `json:"payable"`
	} `json:"lines"`
	Totals struct {
		Payable        int64 `json:"payable"`
		OrderDiscount  int64 `json:"order_discount"`
		CouponDiscount int64 `json:"coupon_discount"`
		Shipping       int64 `json:"shipping"`
	} `json:"totals"`
	Applied []struct {
		ID     string `json:"id"`
		Amount int64  `json:"amount"`
	} `json:"applied"`
	NotApplied []struct {
		ID        string `json:"id"`
		Reason    string `json:"reason"`
		Shortfall int64  `json:"shortfall"`
	} `json:"not_applied"`
	Hints []struct {
		ActivityID string `json:"activity_id"`
		AddAmount  int64  `json:"add_amount"`
	} `json:"hints"`
}

// The worked example of PRICING.md, through the API: 满300减40 on ¥258.00 +
// ¥59.00 splits 3256 / 744, and the order placed carries the same amounts.
func TestQuoteAndOrderFollowThePricingContract(t *testing.T) {
	e := newEnv(t)
	a := e.addSKU("A", 25800, 10000, 50)
	b := e.addSKU("B", 5900, 2000, 50)
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", map[string]any{"name": "满300减40", "kind": "threshold_off",
		"scope": map[string]any{"all": true}, "tiers": []map[string]any{{"threshold": 30000, "off": 4000}}})
	if r.status != 201 {
		t.Fatalf("create promotion: %d %s", r.status, r.body)
	}
	var p promotion.Promotion
	r.json(t, &p)
	cart := map[string]any{"lines": []map[string]any{{"sku_id": a, "quantity": 1}, {"sku_id": b, "quantity": 1}}}
	var q quoteOut
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", cart)
	if r.status != 200 {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	r.json(t, &q)
	if q.Lines[0].OrderDiscount != 3256 || q.Lines[1].OrderDiscount != 744 || q.Totals.OrderDiscount != 4000 ||
		q.Totals.Payable != 31700-4000+1000 || len(q.Applied) != 1 || q.Applied[0].ID != p.ID {
		t.Fatalf("quote = %+v", q)
	}
	var o commerce.Order
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", cart)
	r.json(t, &o)
	if r.status != 201 || o.Lines[0].OrderDiscount != 3256 || o.Lines[1].Payable != 5900-744 || o.Payable != q.Totals.Payable {
		t.Fatalf("order = %d %+v", r.status, o)
	}
	// One line short of the threshold: not applied with the shortfall and a hint.
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", map[string]any{"lines": []map[string]any{{"sku_id": a, "quantity": 1}}})
	r.json(t, &q)
	if len(q.NotApplied) != 1 || q.NotApplied[0].Reason != "threshold_not_met" || q.NotApplied[0].Shortfall != 4200 {
		t.Fatalf("not applied = %+v", q.NotApplied)
	}
	if len(q.Hints) == 0 || q.Hints[0].AddAmount != 4200 {
		t.Fatalf("hints = %+v; want add ¥42", q.Hints)
	}
	// Paused, it no longer applies, and says why.
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions/"+p.ID+"/pause", nil); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", cart).json(t, &q)
	if q.Totals.OrderDiscount != 0 || len(q.NotApplied) != 1 || q.NotApplied[0].Reason != "paused" {
		t.Fatalf("paused promotion: %+v", q)
	}
}

func TestSavingAPromotionChecksItsFieldsConflictsAndMargin(t *testing.T) {
	e := newEnv(t)
	e.addSKU("A", 10000, 4000, 50)
	ok := map[string]any{"kind": "threshold_off", "scope": map[string]any{"all": true}, "tiers": []map[string]any{{"threshold": 20000, "off": 1000}}}
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", ok); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var p httpapi.Problem
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", ok)
	r.json(t, &p)
	if r.status != 409 || p.Code != "promotion_conflict" {
		t.Fatalf("overlapping promotion: %d %+v", r.status, p)
	}
	// A different priority makes it legal.
	prio := map[string]any{"kind": "threshold_off", "priority": 5, "scope": map[string]any{"all": true}, "tiers": []map[string]any{{"threshold": 20000, "off": 1000}}}
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", prio); r.status != 201 {
		t.Fatalf("different priority: %d %s", r.status, r.body)
	}
	// 5折 member price with half paid in points: under cost.
	deep := map[string]any{"kind": "member_price", "scope": map[string]any{"all": true}, "tier_rates": []map[string]any{{"tier": "gold", "rate": 5000}}}
	r = e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", deep)
	r.json(t, &p)
	if r.status != 422 || p.Code != "below_margin_floor" || p.Field != "acknowledge_margin_risk" {
		t.Fatalf("under the floor: %d %+v", r.status, p)
	}
	deep["acknowledge_margin_risk"] = true
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/promotions", deep); r.status != 403 {
		t.Fatalf("an operator acknowledged the risk: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleAdmin, "POST", "/api/v1/promotions", deep)
	if r.status != 201 || !strings.Contains(string(r.body), "below_floor") || !strings.Contains(string(r.body), "margin_ack") {
		t.Fatalf("an admin's acknowledgement: %d %s", r.status, r.body)
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAdmin, "GET", "/api/v1/audit?limit=500", nil).json(t, &audit)
	if last := audit.Items[0]; last.Action != "create_acknowledging_margin_risk" || last.Entity != "promotion" {
		t.Fatalf("last audit entry = %+v", last)
	}
}

func TestCouponsAreClaimedOnceAndAppearInTheWallet(t *testing.T) {
	e := newEnv(t)
	tpl := e.fiveYuanTemplate(t)
	claim := map[string]any{"template_id": tpl.ID, "customer_id": e.cust.ID}
	var c promotion.Coupon
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", claim)
	r.json(t, &c)
	if r.status != 201 || len(c.Code) < 12 || strings.ContainsAny(c.Code, "01OIL") {
		t.Fatalf("claim: %d %+v", r.status, c)
	}
	var p httpapi.Problem
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", claim)
	r.json(t, &p)
	if r.status != 409 || p.Code != "claim_limit_reached" {
		t.Fatalf("second claim: %d %+v", r.status, p)
	}
	var w promotion.WalletView
	e.do(commerce.RoleStorefront, "GET", "/api/v1/customers/"+e.cust.ID+"/coupons", nil).json(t, &w)
	if len(w.Valid) != 1 || w.Valid[0].ID != c.ID {
		t.Fatalf("wallet = %+v", w)
	}
	var q quoteOut
	e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", map[string]any{"customer_id": e.cust.ID, "best_coupons": true,
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}).json(t, &q)
	if q.Totals.CouponDiscount != 500 {
		t.Fatalf("best coupons chose %d off, want 500", q.Totals.CouponDiscount)
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{"NOPE23456789"},
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
	r.json(t, &q)
	if r.status != 200 || len(q.NotApplied) == 0 || q.NotApplied[len(q.NotApplied)-1].Reason != "invalid_code" {
		t.Fatalf("unknown code: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{"NOPE23456789"},
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
	r.json(t, &p)
	if r.status != 422 || p.Code != "invalid_coupon_code" || p.Field != "coupon_codes[0]" {
		t.Fatalf("order with an unknown code: %d %s", r.status, r.body)
	}
	unknown := strings.ReplaceAll(p.Detail, "NOPE23456789", "<code>")
	// A used code answers exactly like an unknown one.
	var o commerce.Order
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{c.Code},
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
	r.json(t, &o)
	if r.status != 201 || o.CouponDiscount != 500 {
		t.Fatalf("order with the coupon: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{c.Code},
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}})
	p = httpapi.Problem{}
	r.json(t, &p)
	if r.status != 422 || p.Code != "invalid_coupon_code" || strings.ReplaceAll(p.Detail, c.Code, "<code>") != unknown {
		t.Fatalf("order with a used code: %d %s, want the unknown code's answer", r.status, r.body)
	}
	q = quoteOut{}
	e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{c.Code},
		"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}).json(t, &q)
	last := q.NotApplied[len(q.NotApplied)-1]
	if last.Reason != "invalid_code" || last.ID != c.Code {
		t.Fatalf("quote with a used code explains %+v; want only invalid_code and the code", last)
	}
}

func TestPromotionEndpointsRejectBadInputAndWriteNothing(t *testing.T) {
	e := newEnv(t)
	tests := []badInput{
		{"tiers not ascending", "POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":30000,"off":4000},{"threshold":20000,"off":5000}]}`, 422, "not_ascending", "tiers[1].threshold"},
		{"rate over 100%", "POST", "/api/v1/promotions", `{"kind":"limited_time","scope":{"all":true},"rate":10001}`, 422, "validation_failed", "rate"},
		{"unknown kind", "POST", "/api/v1/promotions", `{"kind":"free_money","scope":{"all":true}}`, 422, "validation_failed", "kind"},
		{"window reversed", "POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":100,"off":10}],"starts_at":"2026-11-12T00:00:00Z","ends_at":"2026-11-11T00:00:00Z"}`, 422, "order", "ends_at"},
		{"no scope", "POST", "/api/v1/promotions", `{"kind":"threshold_off","tiers":[{"threshold":100,"off":10}]}`, 422, "validation_failed", ""},
		{"unknown field", "POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":100,"off":10}],"discount":5}`, 422, "unknown_field", ""},
		{"bad limits period", "POST", "/api/v1/promotions", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":100,"off":10}],"limits":{"per_customer_period":"week"}}`, 422, "validation_failed", "limits.per_customer_period"},
		{"update unknown promotion", "PUT", "/api/v1/promotions/prm_nope", `{"kind":"threshold_off","scope":{"all":true},"tiers":[{"threshold":100,"off":10}]}`, 404, "promotion_not_found", ""},
		{"pause unknown promotion", "POST", "/api/v1/promotions/prm_nope/pause", nil, 404, "promotion_not_found", ""},
		{"template without validity", "POST", "/api/v1/coupon-templates", `{"kind":"threshold_off","off":500,"scope":{"all":true}}`, 422, "required", "valid_until"},
		{"percent template over 100%", "POST", "/api/v1/coupon-templates", `{"kind":"percent","rate":20000,"scope":{"all":true},"valid_days":3}`, 422, "validation_failed", "rate"},
		{"claim unknown template", "POST", "/api/v1/coupons/claim", `{"template_id":"tpl_nope","customer_id":"x"}`, 404, "coupon_template_not_found", ""},
		{"quote zero quantity", "POST", "/api/v1/quote", `{"lines":[{"sku_id":"x","quantity":0}]}`, 422, "validation_failed", "lines[0].quantity"},
		{"quote unknown sku", "POST", "/api/v1/quote", `{"lines":[{"sku_id":"sku_nope","quantity":1}]}`, 422, "unknown_sku", "lines[0].sku_id"},
		{"quote malformed", "POST", "/api/v1/quote", `{"lines":`, 400, "malformed_request", ""},
		{"quote empty code", "POST", "/api/v1/quote", `{"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}],"coupon_codes":[""]}`, 422, "out_of_range", "coupon_codes[0]"},
		{"quote points without customer", "POST", "/api/v1/quote", `{"lines":[{"sku_id":"` + e.sku.ID + `","quantity":1}],"points":100}`, 422, "needs_customer", "points"},
		{"wallet unknown customer", "GET", "/api/v1/customers/cus_nope/coupons", nil, 404, "customer_not_found", ""},
	}
	e.expectRejected(t, tests, e.counts, nil)
}

func TestMarginBlockModeRefusesOrdersUnderTheFloor(t *testing.T) {
	e := newEnv(t)
	sku := e.addSKU("CHEAP", 10000, 9000, 10)
	deep := map[string]any{"kind": "limited_time", "scope": map[string]any{"sku_ids": []string{sku}}, "rate": 8000, "acknowledge_margin_risk": true}
	if r := e.do(commerce.RoleAdmin, "POST", "/api/v1/promotions", deep); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	cart := map[string]any{"lines": []map[string]any{{"sku_id": sku, "quantity": 1}}}
	// warn (default): the order goes through, flagged in the quote.
	r := e.do(commerce.RoleStorefront, "POST", "/api/v1/quote", cart)
	if r.status != 200 || !strings.Contains(string(r.body), `"margin":[{`) {
		t.Fatalf("warn-mode quote should flag the line: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", cart); r.status != 201 {
		t.Fatalf("warn mode refused the order: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RoleAdmin, "PATCH", "/api/v1/shop", `{"settings":{"margin_mode":"block"}}`); r.status != 200 {
		t.Fatalf("set block: %d %s", r.status, r.body)
	}
	before := e.counts()
	var p httpapi.Problem
	r = e.do(commerce.RoleStorefront, "POST", "/api/v1/orders", cart)
	r.json(t, &p)
	if r.status != 422 || p.Code != "below_margin_floor" {
		t.Fatalf("block mode: %d %s", r.status, r.body)
	}
	if after := e.counts(); after != before {
		t.Fatalf("a blocked order wrote:\nbefore %s\nafter  %s", before, after)
	}
}

func TestIssuedCouponsAreAuditedWithTheOperator(t *testing.T) {
	e := newEnv(t)
	tpl := e.fiveYuanTemplate(t)
	if r := e.do(commerce.RoleOperator, "POST", "/api/v1/coupon-templates/"+tpl.ID+"/issue", map[string]any{"customer_ids": []string{e.cust.ID, "cus_nobody"}}); r.status != 200 {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?action=issue&entity=coupon", nil).json(t, &audit)
	if len(audit.Items) != 1 || !strings.HasPrefix(audit.Items[0].Actor, "key:") || !strings.Contains(string(audit.Items[0].After), e.cust.ID) {
		t.Fatalf("issue audit = %+v", audit.Items)
	}
	// A customer's own claim is not an operator's act and is not audited.
	e.do(commerce.RoleStorefront, "POST", "/api/v1/coupons/claim", map[string]any{"template_id": tpl.ID, "customer_id": e.cust.ID})
	e.do(commerce.RoleAnalyst, "GET", "/api/v1/audit?action=issue", nil).json(t, &audit)
	if len(audit.Items) != 1 {
		t.Fatalf("%d issue entries after a claim", len(audit.Items))
	}
}

// fiveYuanTemplate saves a 无门槛5元 coupon template of ten coupons, valid
// seven days, as an operator.
func (e *env) fiveYuanTemplate(t testing.TB) promotion.Template {
	t.Helper()
	r := e.do(commerce.RoleOperator, "POST", "/api/v1/coupon-templates", map[string]any{"name": "无门槛5元", "kind": "threshold_off", "off": 500,
		"scope": map[string]any{"all": true}, "total_quantity": 10, "valid_days": 7})
	if r.status != 201 {
		t.Fatalf("template: %d %s", r.status, r.body)
	}
	var tpl promotion.Template
	r.json(t, &tpl)
	return tpl
}
