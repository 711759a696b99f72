package review

import (
	"strconv"

	"github.com/carnivalhq/carnival/internal/campaign"
)

// Yuan formats fen as yuan with two decimals, "-1234.56", by integer
// arithmetic (no float ever touches money).
func Yuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/100, 10) + "." + pad2(u%100)
	if neg {
		return "-" + s
	}
	return s
}

// YuanDisplay formats fen for people: "¥1,234.56", "-¥0.05".
func YuanDisplay(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	s := "¥" + group(strconv.FormatUint(u/100, 10)) + "." + pad2(u%100)
	if neg {
		return "-" + s
	}
	return s
}

// Count formats a count with thousands separators: "12,345".
func Count(n int64) string {
	if n < 0 {
		return "-" + group(strconv.FormatUint(uint64(-n), 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// Percent formats bp as a percentage with two decimals, without the sign:
// 1234 → "12.34" (the same digits as fen in yuan).
func Percent(bp int64) string { return Yuan(bp) }

// Multiple formats bp as a multiple with two decimals: 25000 → "2.50".
func Multiple(bp int64) string {
	neg := bp < 0
	u := uint64(bp)
	if neg {
		u = -u
	}
	// two decimals of bp/10000, rounded half up: hundredths = bp/100.
	h := (u + 50) / 100
	s := strconv.FormatUint(h/100, 10) + "." + pad2(h%100)
	if neg {
		return "-" + s
	}
	return s
}

func pad2(v uint64) string {
	if v < 10 {
		return "0" + strconv.FormatUint(v, 10)
	}
	return strconv.FormatUint(v, 10)
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	out := make([]byte, 0, len(digits)+len(digits)/3)
	lead := len(digits) % 3
	if lead > 0 {
		out = append(out, digits[:lead]...)
	}
	for i := lead; i < len(digits); i += 3 {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i:i+3]...)
	}
	return string(out)
}

// Display formats a KPI value for the HTML page: money as ¥, rates as %,
// ROI as a multiple, counts grouped; "—" when absent.
func Display(kpi string, v *int64) string {
	if v == nil {
		return "—"
	}
	switch {
	case kpi == campaign.KPIROI:
		return Multiple(*v) + "×"
	case UnitOf(kpi) == UnitFen:
		return YuanDisplay(*v)
	case UnitOf(kpi) == UnitBP:
		return Percent(*v) + "%"
	}
	return Count(*v)
}

// plain formats a KPI value for the CSV and names its unit there.
func plain(kpi string, v *int64) string {
	if v == nil {
		return ""
	}
	switch {
	case kpi == campaign.KPIROI:
		return Multiple(*v)
	case UnitOf(kpi) == UnitFen:
		return Yuan(*v)
	case UnitOf(kpi) == UnitBP:
		return Percent(*v)
	}
	return strconv.FormatInt(*v, 10)
}

func csvUnit(kpi string) string {
	switch {
	case kpi == campaign.KPIROI:
		return "x"
	case UnitOf(kpi) == UnitFen:
		return "CNY"
	case UnitOf(kpi) == UnitBP:
		return "%"
	}
	return "count"
}

// KPILabels are the bilingual KPI names.
var KPILabels = map[string]string{
	campaign.KPIGMV:             "下单金额 GMV",
	campaign.KPIPaidAmount:      "支付金额 Paid amount",
	campaign.KPIOrders:          "订单数 Orders",
	campaign.KPIPayingCustomers: "支付买家数 Paying customers",
	campaign.KPINewCustomers:    "新客数 New customers",
	campaign.KPIAOV:             "客单价 AOV",
	campaign.KPIConversionRate:  "转化率 Conversion rate",
	campaign.KPIUV:              "访客数 UV",
	campaign.KPIROI:             "投入产出比 ROI",
}

// StatusLabels are the bilingual pace statuses.
var StatusLabels = map[string]string{
	campaign.PaceOnTrack:    "达标 On track",
	campaign.PaceBehind:     "落后 Behind",
	campaign.PaceAlert:      "预警 Alert",
	campaign.PaceNotStarted: "未开始 Not started",
}

// PhaseLabels are the bilingual phase kinds.
var PhaseLabels = map[string]string{
	campaign.PhasePreheat: "预热 Preheat",
	campaign.PhaseBurst:   "爆发 Burst",
	campaign.PhaseTail:    "返场 Tail",
	campaign.PhaseReview:  "复盘 Review",
}

// StepLabels are the bilingual funnel steps.
var StepLabels = map[string]string{
	"visit":        "访问 Visit",
	"product_view": "浏览商品 Product view",
	"cart":         "加购 Add to cart",
	"order":        "下单 Order",
	"paid":         "支付 Paid",
}

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}
