package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// TestCouponTemplatePauseResumeEnd: pausing a template is one call, not a
// resend of the template; a paused template is neither claimed, grabbed
// nor issued (409 template_paused) and its coupons in wallets do not apply
// (the quote says paused, an order naming one is refused); resumed, they
// apply; ended, nothing is issued (409 template_ended) and it cannot be
// resumed, while the coupons already claimed still apply. Each change is
// audited; analysts may not make them. On both engines.
func TestCouponTemplatePauseResumeEnd(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, storetest.NewClock(), 25800)
			tpl := e.fiveYuanTemplate(t)
			base := "/api/v1/coupon-templates/" + tpl.ID
			var c promotion.Coupon
			if r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/coupons/claim", map[string]any{"template_id": tpl.ID, "customer_id": e.cust.ID}); r.status != 201 {
				t.Fatalf("claim: %d %s", r.status, r.body)
			} else {
				r.json(t, &c)
			}
			cs, err := e.svc.UpsertCustomers(t.Context(), commerce.Actor{ShopID: e.shop.ID}, []commerce.Customer{{ExternalID: "u2", Name: "王五"}})
			if err != nil {
				t.Fatal(err)
			}
			other := cs[0].ID
			quote := func(body map[string]any) quoteOut {
				t.Helper()
				body["customer_id"] = e.cust.ID
				body["lines"] = []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}
				var q quoteOut
				r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/quote", body)
				if r.status != 200 {
					t.Fatalf("quote: %d %s", r.status, r.body)
				}
				r.json(t, &q)
				return q
			}
			reason := func(q quoteOut, id string) string {
				for _, na := range q.NotApplied {
					if na.ID == id {
						return na.Reason
					}
				}
				return ""
			}
			wantProblem := func(r resp, status int, code string) httpapi.Problem {
				t.Helper()
				var p httpapi.Problem
				r.json(t, &p)
				if r.status != status || p.Code != code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, code)
				}
				return p
			}

			if r := e.do(commerce.RoleAnalyst, http.MethodPost, base+"/pause", nil); r.status != 403 {
				t.Fatalf("an analyst paused a template: %d %s", r.status, r.body)
			}
			r := e.do(commerce.RoleOperator, http.MethodPost, base+"/pause", nil)
			var got promotion.Template
			r.json(t, &got)
			if r.status != 200 || got.Status != "paused" || got.Off != 500 || got.TotalQuantity != 10 || got.Issued != 1 {
				t.Fatalf("pause: %d %s", r.status, r.body)
			}
			before := e.counts()
			wantProblem(e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/coupons/claim", map[string]any{"template_id": tpl.ID, "customer_id": other}), 409, "template_paused")
			wantProblem(e.do(commerce.RoleStorefront, http.MethodPost, base+"/grab", map[string]any{"customer_id": other}), 409, "template_paused")
			r = e.do(commerce.RoleOperator, http.MethodPost, base+"/issue", map[string]any{"customer_ids": []string{other}})
			if r.status != 200 || !strings.Contains(string(r.body), `"issued":[]`) || !strings.Contains(string(r.body), `"code":"template_paused"`) {
				t.Fatalf("issue of a paused template: %d %s", r.status, r.body)
			}
			if after := e.counts(); after != before {
				t.Fatalf("refused claims wrote:\nbefore %s\nafter  %s", before, after)
			}
			for _, q := range []quoteOut{quote(map[string]any{"best_coupons": true}), quote(map[string]any{"coupon_codes": []string{c.Code}})} {
				if q.Totals.CouponDiscount != 0 || reason(q, c.ID) != "paused" {
					t.Fatalf("quote with a paused template's coupon: %+v", q)
				}
			}
			p := wantProblem(e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders", map[string]any{"customer_id": e.cust.ID, "coupon_codes": []string{c.Code},
				"lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}}), 422, "coupon_not_applicable")
			if p.Field != "coupon_codes[0]" || p.Extra["reason"] != "paused" {
				t.Fatalf("order refusal %+v", p)
			}

			if r := e.do(commerce.RoleOperator, http.MethodPost, base+"/resume", nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"active"`) {
				t.Fatalf("resume: %d %s", r.status, r.body)
			}
			if q := quote(map[string]any{"coupon_codes": []string{c.Code}}); q.Totals.CouponDiscount != 500 {
				t.Fatalf("resumed: coupon discount %d", q.Totals.CouponDiscount)
			}
			if r := e.do(commerce.RoleOperator, http.MethodPost, base+"/end", nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"ended"`) {
				t.Fatalf("end: %d %s", r.status, r.body)
			}
			wantProblem(e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/coupons/claim", map[string]any{"template_id": tpl.ID, "customer_id": other}), 409, "template_ended")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/resume", nil), 409, "illegal_transition")
			if q := quote(map[string]any{"best_coupons": true}); q.Totals.CouponDiscount != 500 {
				t.Fatalf("a coupon claimed before the end took %d off, want 500 until it expires", q.Totals.CouponDiscount)
			}
			e.clock.Advance(8 * 24 * time.Hour) // valid 7 days from the claim
			if q := quote(map[string]any{"best_coupons": true}); q.Totals.CouponDiscount != 0 {
				t.Fatalf("an expired coupon took %d off", q.Totals.CouponDiscount)
			}
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/coupon-templates/tpl_nope/pause", nil), 404, "coupon_template_not_found")

			var audit httpapi.List[commerce.AuditEntry]
			e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/audit?entity=coupon_template&entity_id="+tpl.ID, nil).json(t, &audit)
			var acts []string
			for i := len(audit.Items) - 1; i >= 0; i-- {
				acts = append(acts, audit.Items[i].Action)
			}
			if strings.Join(acts, ",") != "create,pause,resume,end" {
				t.Fatalf("audit actions %v", acts)
			}
		})
	}
}
