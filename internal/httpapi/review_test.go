package httpapi_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/review"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// withReview serves e's API again with the default review sources.
func (e *env) withReview(t *testing.T) {
	cfg := e.cfg
	cfg.Review = review.NewSources(cfg.Campaigns, e.store, e.store)
	srv := httptest.NewServer(httpapi.New(cfg).Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
}

func TestCampaignReviewAsJSONHTMLAndCSV(t *testing.T) {
	e := newEnvAt(t, storetest.NewClock(), 25800) // 11 Nov 2026 08:00 in Shanghai
	e.withReview(t)
	ctx := context.Background()
	_, p := e.reviewPromotion(t)
	plan := d11()
	plan["name"] = `双11 <script>alert(1)</script>, "终极"`
	plan["promotion_ids"] = []string{p.ID}
	r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", plan)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var c campaign.Campaign
	r.json(t, &c)
	// One paid channel: the orders come through it, ¥20 spent on it.
	r = e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns/"+c.ID+"/channels", map[string]any{"kind": "paid_ads", "name": "朋友圈广告",
		"utm_source": "wechat", "utm_medium": "cpc", "utm_campaign": "d11", "budget": 100_000})
	var ch campaign.Channel
	r.json(t, &ch)
	if r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns/"+c.ID+"/channels/"+ch.ID+"/spend", map[string]any{"day": "2026-11-11", "amount": 2000}); r.status != http.StatusCreated {
		t.Fatalf("spend: %d %s", r.status, r.body)
	}

	// Two orders placed, one paid; both get the promotion.
	var orders []commerce.Order
	for i, key := range []string{"r1", "r2"} {
		body := map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}, "channel": "wechat", "campaign": "d11"}
		r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders", body, "Idempotency-Key", key)
		var o commerce.Order
		r.json(t, &o)
		if o.OrderDiscount != 500 {
			t.Fatalf("order %d: discount %d, want the promotion's 500", i, o.OrderDiscount)
		}
		orders = append(orders, o)
	}
	if r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders/"+orders[0].ID+"/pay", nil); r.status != 200 {
		t.Fatalf("pay: %d %s", r.status, r.body)
	}
	if err := e.ingest.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gmv, paid := orders[0].Payable+orders[1].Payable, orders[0].Payable

	base := "/api/v1/campaigns/" + c.ID + "/review"
	r = e.do(commerce.RoleAnalyst, http.MethodGet, base, nil)
	if r.status != 200 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	var rep review.CampaignReview
	r.json(t, &rep)
	if !rep.Provisional || rep.FirstDay != "2026-11-01" || rep.LastDay != "2026-11-14" || rep.AsOf != "2026-11-11" {
		t.Fatalf("header %+v", rep)
	}
	kpi := map[string]review.PlanRow{}
	for _, k := range rep.KPIs {
		kpi[k.KPI] = k
	}
	// gmv 1 400 000 over 14 equal days: 1 100 000 through the 11th.
	g := kpi[campaign.KPIGMV]
	wantAtt := (gmv*10000*2 + 1_100_000) / (2 * 1_100_000) // half up
	if *g.Target != 1_400_000 || *g.TargetToDate != 1_100_000 || *g.Actual != gmv || *g.Attainment != wantAtt || g.Status != campaign.PaceAlert {
		t.Fatalf("gmv %+v, want actual %d attainment %d", g, gmv, wantAtt)
	}
	if k := kpi[campaign.KPIPaidAmount]; k.Target != nil || *k.Actual != paid {
		t.Fatalf("paid amount %+v", k)
	}
	if k := kpi[campaign.KPIOrders]; *k.Actual != 2 {
		t.Fatalf("orders %+v", k)
	}
	if len(rep.Phases) != 2 || rep.Phases[1].Kind != campaign.PhaseBurst || *rep.Phases[1].KPIs[0].Target != 500_000 {
		t.Fatalf("phases %+v", rep.Phases)
	}
	if len(rep.Promotions) != 1 {
		t.Fatalf("promotions %+v", rep.Promotions)
	}
	if pr := rep.Promotions[0]; pr.ID != p.ID || pr.Name != "满10减5" || pr.Orders != 1 || pr.DiscountCost != 500 || pr.Base != 1 || *pr.Redemption != 10000 {
		t.Fatalf("promotion %+v", pr)
	}
	if f := rep.Funnel; len(f) != 5 || f[3].Visitors != 1 || f[4].Visitors != 1 {
		t.Fatalf("funnel %+v", f)
	}
	if cu := rep.Customers; cu == nil || cu.Paying != 1 || cu.New != 1 || cu.Returning != 0 {
		t.Fatalf("customers %+v", cu)
	}
	if len(rep.Notes) != 0 {
		t.Fatalf("notes %+v", rep.Notes)
	}
	// The channel brought the paid order: ROI = paid / ¥20, half up.
	wantROI := (paid*10000*2 + 2000) / (2 * 2000)
	if len(rep.Channels) != 1 || rep.Channels[0].Channel != "朋友圈广告" || rep.Channels[0].Orders != 2 || rep.Channels[0].PaidAmount != paid ||
		rep.Channels[0].Spend != 2000 || rep.Channels[0].Budget != 100_000 || rep.Channels[0].ROI == nil || *rep.Channels[0].ROI != wantROI {
		t.Fatalf("channels %+v, want roi %d", rep.Channels, wantROI)
	}
	if len(rep.TopSKUs) != 1 || rep.TopSKUs[0].SKUID != e.sku.ID || rep.TopSKUs[0].Units != 1 || rep.TopSKUs[0].PaidAmount != int64(orders[0].Lines[0].Payable) {
		t.Fatalf("top skus %+v", rep.TopSKUs)
	}

	r = e.do(commerce.RoleAnalyst, http.MethodGet, base+".html", nil)
	page := string(r.body)
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("html: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, review.YuanDisplay(gmv)) ||
		!strings.Contains(page, "计划 vs 实际") || !strings.Contains(page, "进行中") {
		t.Fatalf("html page:\n%s", page)
	}
	// The page is self-contained: its policy allows inline styles and
	// nothing else, and it uses nothing else.
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'unsafe-inline'") ||
		strings.Contains(csp, "script-src") || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("html policy %q", csp)
	}
	for _, bad := range []string{"<script", "src=\"http", "@import", "url(", "<form"} {
		if strings.Contains(page, bad) {
			t.Fatalf("the review page has %q, which its policy blocks", bad)
		}
	}

	r = e.do(commerce.RoleAnalyst, http.MethodGet, base+".csv", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		r.header.Get("Content-Disposition") != `attachment; filename="review-`+c.ID+`.csv"` || !strings.HasPrefix(string(r.body), "\ufeff") {
		t.Fatalf("csv: %d %v", r.status, r.header)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	for _, row := range rows {
		switch {
		case row[0] == "campaign" && row[1] != plan["name"]:
			t.Fatalf("name did not survive the CSV: %q", row[1])
		case row[0] == review.SecPlan && row[2] == "gmv":
			seen++
			if row[5] != review.Yuan(gmv) || row[3] != "14000.00" || row[4] != "11000.00" {
				t.Fatalf("gmv row %v", row)
			}
		case row[0] == review.SecPromotions && row[2] == "discount_cost":
			seen++
			if row[5] != "5.00" {
				t.Fatalf("promotion row %v", row)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("csv rows:\n%s", r.body)
	}
}

func TestCampaignReviewErrorsAreProblems(t *testing.T) {
	e := newEnv(t)
	e.withReview(t)
	for _, suffix := range []string{"", ".html", ".csv"} {
		r := e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/campaigns/cmp_nope/review"+suffix, nil, "Accept", "text/html,*/*;q=0.8")
		if r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), `"code":"campaign_not_found"`) {
			t.Fatalf("%s: %d %s %s", suffix, r.status, r.header.Get("Content-Type"), r.body)
		}
		r = e.do(commerce.RoleStorefront, http.MethodGet, "/api/v1/campaigns/cmp_nope/review"+suffix, nil)
		if r.status != 403 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s as storefront: %d %s", suffix, r.status, r.body)
		}
		r = e.do("", http.MethodGet, "/api/v1/campaigns/cmp_nope/review"+suffix, nil)
		if r.status != 401 {
			t.Fatalf("%s without a key: %d %s", suffix, r.status, r.body)
		}
	}
	spec := e.do("", http.MethodGet, "/api/v1/openapi.json", nil)
	for _, want := range []string{`"/api/v1/campaigns/{id}/review.csv"`, `"text/csv"`, `"text/html"`, `"CampaignReview"`} {
		if !strings.Contains(string(spec.body), want) {
			t.Errorf("the OpenAPI document lacks %s", want)
		}
	}
	long := strings.Repeat("x", 65)
	r := e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/campaigns/"+long+"/review.csv", nil)
	if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("long id: %d %s", r.status, r.body)
	}
}

// Every figure of a review is bounded by the campaign's window, and the
// review says which window it covers: a coupon claimed in the window but
// redeemed after it, an order paid after it and spend posted for days
// outside it do not show, on both engines.
func TestCampaignReviewIsBoundedByTheWindow(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			clk := storetest.NewClock() // 11 Nov 2026 08:00 in Shanghai
			e := newEnvOn(t, engine, clk, 25800)
			e.withReview(t)
			ctx := context.Background()
			admin, p := e.reviewPromotion(t)
			tpl, err := e.cfg.Promotions.SaveTemplate(ctx, admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: "满30减8", Kind: pricing.ThresholdOff,
				Threshold: 3000, Off: 800, Scope: pricing.Scope{All: true}}, ValidDays: 30})
			if err != nil {
				t.Fatal(err)
			}
			plan := d11()
			plan["promotion_ids"], plan["coupon_template_ids"] = []string{p.ID}, []string{tpl.ID}
			r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", plan)
			var c campaign.Campaign
			r.json(t, &c)
			base := "/api/v1/campaigns/" + c.ID
			r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels", map[string]any{"kind": "paid_ads", "name": "朋友圈广告",
				"utm_source": "wechat", "utm_medium": "cpc", "utm_campaign": "d11", "budget": 100_000})
			var ch campaign.Channel
			r.json(t, &ch)
			// Spend for a day before, on and after the window: only the 11th's is the campaign's.
			for day, amount := range map[string]int{"2026-10-25": 5000, "2026-11-11": 2000, "2026-11-20": 8000} {
				if r := e.do(commerce.RoleOperator, http.MethodPost, base+"/channels/"+ch.ID+"/spend", map[string]any{"day": day, "amount": amount}); r.status != http.StatusCreated {
					t.Fatalf("spend: %d %s", r.status, r.body)
				}
			}
			coupon, err := e.cfg.Promotions.ClaimCoupon(ctx, e.shop.ID, tpl.ID, e.cust.ID) // claimed in the window
			if err != nil {
				t.Fatal(err)
			}
			order := func(key string, codes ...string) commerce.Order {
				t.Helper()
				body := map[string]any{"customer_id": e.cust.ID, "lines": []map[string]any{{"sku_id": e.sku.ID, "quantity": 1}}, "channel": "wechat", "campaign": "d11"}
				if len(codes) > 0 {
					body["coupon_codes"] = codes
				}
				var o commerce.Order
				e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders", body, "Idempotency-Key", key).json(t, &o)
				if r := e.do(commerce.RoleStorefront, http.MethodPost, "/api/v1/orders/"+o.ID+"/pay", nil); r.status != 200 {
					t.Fatalf("pay: %d %s", r.status, r.body)
				}
				return o
			}
			in := order("in")
			clk.Set(time.Date(2026, 11, 16, 4, 0, 0, 0, time.UTC)) // 16 Nov 12:00 in Shanghai: over
			late := order("late", coupon.Code)
			if late.CouponDiscount != 800 || late.OrderDiscount != 500 {
				t.Fatalf("late order: coupon %d, promotion %d", late.CouponDiscount, late.OrderDiscount)
			}
			if err := e.ingest.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			var rep review.CampaignReview
			if r := e.do(commerce.RoleAnalyst, http.MethodGet, base+"/review", nil); r.status != 200 {
				t.Fatalf("review: %d %s", r.status, r.body)
			} else {
				r.json(t, &rep)
			}
			sh, _ := time.LoadLocation("Asia/Shanghai")
			w := rep.Window
			if !w.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, sh)) || !w.To.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, sh)) ||
				w.FirstDay != "2026-11-01" || w.LastDay != "2026-11-14" || w.TimeZone != "Asia/Shanghai" {
				t.Fatalf("window %+v", w)
			}
			kpi := map[string]review.PlanRow{}
			for _, k := range rep.KPIs {
				kpi[k.KPI] = k
			}
			if k := kpi[campaign.KPIOrders]; k.Actual == nil || *k.Actual != 1 {
				t.Fatalf("orders %+v: the late order counted", k)
			}
			wantROI := (int64(in.Payable)*10000*2 + 2000) / (2 * 2000)
			if k := kpi[campaign.KPIROI]; k.Actual == nil || *k.Actual != wantROI {
				t.Fatalf("roi %+v, want %d (paid in the window over the spend of its days)", k, wantROI)
			}
			if len(rep.Channels) != 1 || rep.Channels[0].Spend != 2000 || rep.Channels[0].Orders != 1 {
				t.Fatalf("channels %+v", rep.Channels)
			}
			for _, pu := range rep.Promotions {
				switch pu.ID {
				case p.ID:
					if pu.Orders != 1 || pu.DiscountCost != 500 || pu.Base != 1 {
						t.Fatalf("promotion %+v: only the order paid in the window", pu)
					}
				case tpl.ID:
					if pu.Orders != 0 || pu.DiscountCost != 0 || *pu.Issued != 1 || *pu.Redeemed != 0 {
						t.Fatalf("template %+v: its redemption came after the window", pu)
					}
				}
			}
			if cu := rep.Customers; cu == nil || cu.Paying != 1 {
				t.Fatalf("customers %+v", cu)
			}
			if f := rep.Funnel; len(f) != 5 || f[4].Visitors != 1 {
				t.Fatalf("funnel %+v", f)
			}
			if len(rep.TopSKUs) != 1 || rep.TopSKUs[0].Units != 1 {
				t.Fatalf("top skus %+v", rep.TopSKUs)
			}

			page := string(e.do(commerce.RoleAnalyst, http.MethodGet, base+"/review.html", nil).body)
			if !strings.Contains(page, "统计区间: 2026-11-01 00:00 – 2026-11-15 00:00 (Asia/Shanghai)") {
				t.Fatalf("the page does not say its window:\n%s", page)
			}
			body := e.do(commerce.RoleAnalyst, http.MethodGet, base+"/review.csv", nil).body
			rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var covers []string
			for _, row := range rows {
				if row[0] == "campaign" && row[2] == "covers" {
					covers = row
				}
			}
			if covers == nil || covers[5] != "2026-11-01 00:00 – 2026-11-15 00:00" || covers[6] != "Asia/Shanghai" {
				t.Fatalf("csv covers row %v in:\n%s", covers, body)
			}
		})
	}
}

// reviewPromotion saves the 满10减5 the review tests attach to their
// campaign, as an admin.
func (e *env) reviewPromotion(t *testing.T) (commerce.Actor, *promotion.Promotion) {
	t.Helper()
	admin := commerce.Actor{ShopID: e.shop.ID, KeyID: "key_test", Role: commerce.RoleAdmin}
	p, _, err := e.cfg.Promotions.SavePromotion(context.Background(), admin, &promotion.Promotion{Activity: pricing.Activity{Name: "满10减5", Kind: pricing.ThresholdOff,
		Scope: pricing.Scope{All: true}, Tiers: []pricing.Tier{{Threshold: 1000, Off: 500}}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return admin, p
}
