package alert

import (
	"strings"
	"testing"
)

// TestFindingsSpeakTheShopsLanguage renders each kind's message in both
// languages: every value shows, KPIs by their name, no verb left over.
func TestFindingsSpeakTheShopsLanguage(t *testing.T) {
	mk := func() []Finding {
		return []Finding{
			{MessageKey: "alert.threshold", MessageArgs: []any{kpiName("paid_amount"), "2026-11-11", int64(1200), "<", int64(5000)}},
			{MessageKey: "alert.anomaly.below", MessageArgs: []any{kpiName("gmv"), "2026-11-11 20:00", int64(5), int64(100), -4.5, 2}},
			{MessageKey: "alert.pacing", MessageArgs: []any{kpiName("gmv"), "双11", "2026-11-11", int64(30), "30.00%", int64(100), "60.00%"}},
			{MessageKey: "alert.promotion_budget", MessageArgs: []any{"prm_1", "满300减50", int64(90), int64(100), "90.00%"}},
			{MessageKey: "alert.milestone.owner", MessageArgs: []any{"双11 大促", "主图上线", int64(2), "2026-11-10", "王五"}},
			{MessageKey: "alert.milestone", MessageArgs: []any{"双11 大促", "主图上线", int64(1), "2026-11-10"}},
			{Message: "set by its source", MessageArgs: []any{1}},
		}
	}
	want := map[string][][]string{
		"zh-CN": {{"支付金额", "2026-11-11", "1,200", "< 5,000"}, {"下单金额", "低于", "z -4.50", "2 小时"}, {"下单金额", `"双11"`, "30.00%", "预警线 60.00%"}, {"满300减50", "90", "100", "90.00%"}, {"双11 大促", "主图上线", "王五", "逾期 2 天", "2026-11-10"}, {"主图上线", "逾期 1 天"}, {"set by its source"}},
		"en":    {{"Paid amount", "2026-11-11", "1,200", "< 5,000"}, {"GMV", "below", "z -4.50", "2 hours"}, {"GMV", `"双11"`, "30.00%", "alert line 60.00%"}, {"promotion prm_1", "90 of its budget 100"}, {`"主图上线"`, `"双11 大促"`, "owner 王五", "2 day(s) overdue", "due 2026-11-10"}, {"1 day(s) overdue"}, {"set by its source"}},
	}
	for lang, wants := range want {
		fs := mk()
		localize(fs, lang)
		for i, f := range fs {
			if strings.Contains(f.Message, "%!") {
				t.Errorf("%s %d: %q", lang, i, f.Message)
			}
			for _, w := range wants[i] {
				if !strings.Contains(f.Message, w) {
					t.Errorf("%s %d: %q lacks %q", lang, i, f.Message, w)
				}
			}
		}
	}
}
