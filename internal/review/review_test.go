package review_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/review"
)

var sh, _ = time.LoadLocation("Asia/Shanghai")

func p64(v int64) *int64 { return &v }

// fake answers every section with hand-made numbers; sections named in
// unavailable answer ErrUnavailable, fail makes one section fail.
type fake struct {
	unavailable map[string]bool
	fail        string
	sawWindow   review.Window
}

func (f *fake) err(sec string) error {
	if f.unavailable[sec] {
		return review.ErrUnavailable
	}
	if f.fail == sec {
		return errors.New("disk on fire")
	}
	return nil
}

func (f *fake) PlanVsActual(_ context.Context, c *campaign.Campaign, w review.Window) ([]review.PlanRow, []review.PhasePlan, error) {
	f.sawWindow = w
	// gmv: target 1 400 000 fen, to date 1 000 000, actual 700 000 → 70 %,
	// behind (alert line 60 %); uv untargeted, actual only.
	kpis := review.PlanRows([]campaign.KPIPace{{KPI: campaign.KPIGMV, Target: 1_400_000, TargetToDate: 1_000_000}},
		func(k string) *int64 {
			switch k {
			case campaign.KPIGMV:
				return p64(700_000)
			case campaign.KPIUV:
				return p64(321)
			}
			return nil
		}, c.AlertLine, true)
	phases := []review.PhasePlan{{Kind: campaign.PhaseBurst, Name: "爆发", StartsAt: c.StartsAt, EndsAt: c.EndsAt,
		KPIs: review.PlanRows([]campaign.KPIPace{{KPI: campaign.KPIGMV, Target: 500_000, TargetToDate: 500_000, Actual: p64(250_000)}}, nil, c.AlertLine, false)}}
	return kpis, phases, f.err(review.SecPlan)
}

func (f *fake) Channels(context.Context, *campaign.Campaign, review.Window) ([]review.ChannelReturn, error) {
	return []review.ChannelReturn{{Channel: "巨量引擎", UTMSource: "oceanengine", UTMMedium: "cpc", UTMCampaign: "d11", Budget: 100_000, Spend: 40_000,
		UV: 200, Orders: 5, PaidAmount: 100_000, ROI: p64(25_000)}}, f.err(review.SecChannels)
}

func (f *fake) TopSKUs(_ context.Context, _ *campaign.Campaign, _ review.Window, limit int) ([]review.TopSKU, error) {
	var out []review.TopSKU
	for i := 0; i < limit+5; i++ { // more than asked: Build keeps the limit
		out = append(out, review.TopSKU{SKUID: "sku_" + string(rune('a'+i)), Name: "商品", Units: int64(100 - i), PaidAmount: 1000})
	}
	return out, f.err(review.SecTopSKUs)
}

func (f *fake) Promotions(context.Context, *campaign.Campaign, review.Window) ([]review.PromotionUse, error) {
	return []review.PromotionUse{
		{Kind: review.KindPromotion, ID: "prm_1", Name: `满300减50, "大促"`, Orders: 3, DiscountCost: 15_000, Base: 4, Redemption: p64(7500)},
		{Kind: review.KindCouponTemplate, ID: "ctp_1", Name: "=cmd|' /C calc'!A0", Orders: 1, DiscountCost: 500, Issued: p64(3), Redeemed: p64(1), Base: 3, Redemption: p64(3333)},
	}, f.err(review.SecPromotions)
}

func (f *fake) Funnel(context.Context, *campaign.Campaign, review.Window) ([]review.FunnelStage, error) {
	return review.FunnelOf([]int64{100, 50, 20, 10, 8}), f.err(review.SecFunnel)
}

func (f *fake) Customers(context.Context, *campaign.Campaign, review.Window) (*review.CustomerMix, error) {
	return review.CustomersOf(10, 4), f.err(review.SecCustomers)
}

func (f *fake) StockOuts(context.Context, *campaign.Campaign, review.Window) ([]review.StockOut, error) {
	at := time.Date(2026, 11, 11, 0, 5, 0, 0, sh)
	return []review.StockOut{{SKUID: "sku_x", Name: "爆款", Source: review.OutStock, At: &at, Out: true},
		{SKUID: "sku_y", Name: "秒杀款", Source: review.OutFlash, SaleID: "fls_1", Out: true}}, f.err(review.SecStockOuts)
}

func d11(name string) *campaign.Campaign {
	return &campaign.Campaign{ID: "cmp_1", ShopID: "shp_1", Name: name, Status: campaign.StatusActive, AlertLine: 6000,
		StartsAt: time.Date(2026, 11, 1, 0, 0, 0, 0, sh), EndsAt: time.Date(2026, 11, 15, 0, 0, 0, 0, sh)}
}

var mid = time.Date(2026, 11, 11, 8, 0, 0, 0, sh) // during the campaign

func TestWindowIsTheCampaignsLocalDaysAndAsOfIsTodayWhileItRuns(t *testing.T) {
	c := d11("x")
	w := review.WindowOf(c, sh, mid)
	if w.FirstDay != "2026-11-01" || w.LastDay != "2026-11-14" || w.AsOf != "2026-11-11" ||
		!w.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, sh)) || !w.To.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, sh)) {
		t.Fatalf("window %+v", w)
	}
	if w := review.WindowOf(c, sh, time.Date(2026, 12, 1, 0, 0, 0, 0, sh)); w.AsOf != "2026-11-14" {
		t.Fatalf("after the end: as of %s", w.AsOf)
	}
	if w := review.WindowOf(c, sh, time.Date(2026, 10, 1, 0, 0, 0, 0, sh)); w.AsOf != "2026-11-01" {
		t.Fatalf("before the start: as of %s", w.AsOf)
	}
	// A window ending at 20:00 still covers its last day to midnight.
	c.EndsAt = time.Date(2026, 11, 14, 20, 0, 0, 0, sh)
	if w := review.WindowOf(c, sh, mid); w.LastDay != "2026-11-14" || !w.To.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, sh)) {
		t.Fatalf("partial last day: %+v", w)
	}
}

func TestBuildAssemblesEverySectionAndNotesTheMissingOnes(t *testing.T) {
	src := &fake{unavailable: map[string]bool{review.SecChannels: true, review.SecTopSKUs: true}}
	r, err := review.Build(context.Background(), src, d11("双11"), sh, mid)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Provisional || r.FirstDay != "2026-11-01" || r.LastDay != "2026-11-14" || r.AsOf != "2026-11-11" || r.TimeZone != "Asia/Shanghai" || src.sawWindow.AsOf != "2026-11-11" {
		t.Fatalf("header %+v", r)
	}
	if len(r.KPIs) != len(campaign.KPIs) {
		t.Fatalf("every KPI has a row: %d", len(r.KPIs))
	}
	g := r.KPIs[0]
	if g.KPI != campaign.KPIGMV || g.Unit != review.UnitFen || *g.Target != 1_400_000 || *g.TargetToDate != 1_000_000 || *g.Actual != 700_000 ||
		*g.Attainment != 7000 || g.Status != campaign.PaceBehind {
		t.Fatalf("gmv row %+v", g)
	}
	for _, k := range r.KPIs {
		if k.KPI == campaign.KPIUV && (k.Target != nil || k.Actual == nil || *k.Actual != 321 || k.Status != "") {
			t.Fatalf("untargeted uv %+v", k)
		}
	}
	if p := r.Phases[0].KPIs; len(p) != 1 || *p[0].Attainment != 5000 || p[0].Status != campaign.PaceAlert {
		t.Fatalf("burst: 250 000 of 500 000 is 50 %%, under the 60 %% line: %+v", p)
	}
	if len(r.Channels) != 0 || len(r.TopSKUs) != 0 {
		t.Fatalf("unavailable sections stay empty: %+v %+v", r.Channels, r.TopSKUs)
	}
	if len(r.Notes) != 2 || r.Notes[0].Section != review.SecChannels || r.Notes[0].Note != "暂无数据" || r.Notes[1].Section != review.SecTopSKUs || r.Language != "zh-CN" {
		t.Fatalf("notes %+v in %q: the default language is zh-CN", r.Notes, r.Language)
	}
	if r.In("en"); r.Language != "en" || r.Notes[0].Note != "not available" || r.Notes[0].Section != review.SecChannels {
		t.Fatalf("notes in English %+v", r.Notes)
	}
	f := r.Funnel
	if len(f) != 5 || f[0].FromPrevious != nil || *f[1].FromPrevious != 5000 || *f[2].FromPrevious != 4000 || *f[3].FromPrevious != 5000 ||
		*f[4].FromPrevious != 8000 || *f[4].FromVisit != 800 {
		t.Fatalf("funnel %+v", f)
	}
	if c := r.Customers; c.Paying != 10 || c.New != 4 || c.Returning != 6 || *c.NewShare != 4000 {
		t.Fatalf("customers %+v", c)
	}
	if len(r.Promotions) != 2 || len(r.StockOuts) != 2 {
		t.Fatalf("promotions %d, stock-outs %d", len(r.Promotions), len(r.StockOuts))
	}

	// Top SKUs are cut at the limit when the source gives more.
	r2, err := review.Build(context.Background(), &fake{}, d11("x"), sh, mid)
	if err != nil || len(r2.TopSKUs) != review.TopSKULimit || len(r2.Notes) != 0 {
		t.Fatalf("top %d, notes %v, %v", len(r2.TopSKUs), r2.Notes, err)
	}

	// Any other error fails the report, naming the section.
	if _, err := review.Build(context.Background(), &fake{fail: review.SecFunnel}, d11("x"), sh, mid); err == nil || !strings.Contains(err.Error(), "funnel") {
		t.Fatalf("failing source: %v", err)
	}
}

func TestAnEndedCampaignIsNotProvisional(t *testing.T) {
	c := d11("x")
	after := time.Date(2026, 11, 20, 0, 0, 0, 0, sh)
	if r, _ := review.Build(context.Background(), &fake{}, c, sh, after); r.Provisional {
		t.Fatal("window over: final")
	}
	c.Status = campaign.StatusEnded
	if r, _ := review.Build(context.Background(), &fake{}, c, sh, mid); r.Provisional {
		t.Fatal("ended by hand: final")
	}
}

func TestMoneyAndRatesAreFormattedByIntegerArithmetic(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{review.Yuan(123456), "1234.56"},
		{review.Yuan(5), "0.05"},
		{review.Yuan(-5), "-0.05"},
		{review.Yuan(0), "0.00"},
		{review.Yuan(9_007_199_254_740_993), "90071992547409.93"}, // beyond float64's exact integers
		{review.YuanDisplay(123456789), "¥1,234,567.89"},
		{review.YuanDisplay(100), "¥1.00"},
		{review.YuanDisplay(-123456), "-¥1,234.56"},
		{review.Count(1234567), "1,234,567"},
		{review.Count(999), "999"},
		{review.Percent(1234), "12.34"},
		{review.Percent(5), "0.05"},
		{review.Multiple(25000), "2.50"},
		{review.Multiple(12345), "1.23"},
		{review.Multiple(12350), "1.24"},
		{review.Display(campaign.KPIConversionRate, p64(320)), "3.20%"},
		{review.Display(campaign.KPIAOV, p64(25800)), "¥258.00"},
		{review.Display(campaign.KPIROI, nil), "—"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func report(t *testing.T, name string) *review.CampaignReview {
	t.Helper()
	r, err := review.Build(context.Background(), &fake{unavailable: map[string]bool{review.SecTopSKUs: true}}, d11(name), sh, mid)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHTMLIsEscapedInTheReviewsLanguageAndSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := review.HTML(&b, report(t, `<script>alert("x")</script> 双11`)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
		t.Fatal("the campaign name is not escaped")
	}
	for _, want := range []string{
		`<html lang="zh-CN">`, "计划 vs 实际", "进行中", "¥14,000.00", "¥7,000.00", "70.00%", `class="behind"`, `class="alert"`,
		"漏斗", "80.00%", "巨量引擎", "2.50×", "¥150.00", "33.33%", "暂无数据", "2026-11-11 00:05", "秒杀 fls_1", "下单金额", "落后", "爆发",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, english := range []string{"Plan vs actual", "Funnel", "not available", "Flash sale", "Behind"} {
		if strings.Contains(page, english) {
			t.Errorf("zh-CN page says %q", english)
		}
	}
	b.Reset()
	if err := review.HTML(&b, report(t, "双11").In("en")); err != nil {
		t.Fatal(err)
	}
	en := b.String()
	for _, want := range []string{`<html lang="en">`, "Campaign review", "Plan vs actual", "Provisional", "Funnel", "not available", "Flash sale fls_1", "GMV", "Behind", "Burst", "¥14,000.00"} {
		if !strings.Contains(en, want) {
			t.Errorf("en page lacks %q", want)
		}
	}
	for _, chinese := range []string{"计划", "漏斗", "暂无数据", "进行中", "下单金额"} {
		if strings.Contains(en, chinese) {
			t.Errorf("en page says %q", chinese)
		}
	}
	for _, ext := range []string{"<link", "src=", "http://", "https://", "@import"} {
		if strings.Contains(page, ext) {
			t.Errorf("page refers to an external asset: %q", ext)
		}
	}
}

func TestCSVHasABOMAHeaderAndOneTableWithASectionColumn(t *testing.T) {
	var b bytes.Buffer
	if err := review.CSV(&b, report(t, `双11, "终极" 版`)); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	if !strings.HasPrefix(raw, "\ufeff") {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "板块,项目,指标,目标,目标至今,数值,单位,比率(%),状态,备注" {
		t.Fatalf("header %v", rows[0])
	}
	find := func(section, item, metric string) []string {
		for _, r := range rows {
			if r[0] == section && r[1] == item && r[2] == metric {
				return r
			}
		}
		t.Fatalf("no row %s/%s/%s in\n%s", section, item, metric, raw)
		return nil
	}
	if r := find("campaign", `双11, "终极" 版`, "window"); r[5] != "2026-11-01 – 2026-11-14" || r[9] != "进行中" {
		t.Fatalf("campaign row %v", r)
	}
	if r := find(review.SecPlan, "campaign", "gmv"); r[3] != "14000.00" || r[4] != "10000.00" || r[5] != "7000.00" || r[6] != "CNY" || r[7] != "70.00" || r[8] != "behind" {
		t.Fatalf("gmv row %v", r)
	}
	if r := find(review.SecPhases, "burst 爆发", "gmv"); r[3] != "5000.00" || r[5] != "2500.00" || r[8] != "alert" {
		t.Fatalf("phase row %v", r)
	}
	if r := find(review.SecChannels, "巨量引擎", "roi"); r[5] != "2.50" || r[6] != "x" {
		t.Fatalf("roi row %v", r)
	}
	if r := find(review.SecPromotions, `满300减50, "大促" (prm_1)`, "discount_cost"); r[5] != "150.00" {
		t.Fatalf("promotion row %v", r)
	}
	// A name that looks like a formula is neutralised.
	if r := find(review.SecPromotions, "'=cmd|' /C calc'!A0 (ctp_1)", "redemption"); r[7] != "33.33" {
		t.Fatalf("template row %v", r)
	}
	if r := find(review.SecFunnel, "paid", "visitors"); r[5] != "8" || r[7] != "80.00" {
		t.Fatalf("funnel row %v", r)
	}
	if r := find(review.SecCustomers, "returning", "customers"); r[5] != "6" {
		t.Fatalf("customers row %v", r)
	}
	if r := find(review.SecStockOuts, "爆款 (sku_x)", "out_at"); r[5] != "2026-11-11 00:05" || r[8] != "still_out" {
		t.Fatalf("stock-out row %v", r)
	}
	if r := find(review.SecTopSKUs, "", ""); r[9] != "暂无数据" {
		t.Fatalf("note row %v", r)
	}
	// In English the header is the column codes and the notes are English;
	// every code cell is the same.
	b.Reset()
	if err := review.CSV(&b, report(t, `双11, "终极" 版`).In("en")); err != nil {
		t.Fatal(err)
	}
	en, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	if err != nil || len(en) != len(rows) || strings.Join(en[0], ",") != strings.Join(review.CSVHeader, ",") {
		t.Fatalf("en csv %v %v", err, en)
	}
	for i := 1; i < len(rows); i++ {
		if strings.Join(en[i][:9], ",") != strings.Join(rows[i][:9], ",") {
			t.Errorf("row %d differs but for its note: %v / %v", i, rows[i], en[i])
		}
	}
	if en[1][9] != "provisional" || en[len(en)-1][9] != "not available" {
		t.Fatalf("en notes %v %v", en[1], en[len(en)-1])
	}
	for _, r := range rows {
		if len(r) != len(review.CSVHeader) {
			t.Fatalf("ragged row %v", r)
		}
	}
}

// A campaign or phase that has not started is not judged on the shop's
// zeros: its targeted rows say not_started and carry no actual.
func TestPlanRowsOfAWindowNotStartedHaveNoActual(t *testing.T) {
	zero := func(string) *int64 { return p64(0) }
	rows := review.PlanRows([]campaign.KPIPace{{KPI: campaign.KPIGMV, Target: 1_000_000, TargetToDate: 100_000, Status: campaign.PaceNotStarted}},
		zero, 6000, true)
	for _, r := range rows {
		if r.KPI == campaign.KPIGMV && (r.Status != campaign.PaceNotStarted || r.Actual != nil || r.Attainment != nil) {
			t.Fatalf("gmv row of a window not started: %+v", r)
		}
	}
}
