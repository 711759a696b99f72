package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// TestUnknownKPIListsTheAcceptedKPIs: every 422 unknown_kpi names the KPIs
// that would have been accepted there, in its detail (in either language)
// and as extra.accepted.
func TestUnknownKPIListsTheAcceptedKPIs(t *testing.T) {
	e, _ := newAlertEnv(t)
	plan := d11()
	plan["targets"] = map[string]any{"gmv": 100, "likes": 5}
	phaseWith := d11()
	phaseWith["phases"] = []any{map[string]any{"kind": "burst", "starts_at": "2026-11-11T00:00:00+08:00", "ends_at": "2026-11-12T00:00:00+08:00", "targets": map[string]any{"likes": 1}}}
	cases := []struct {
		name, path string
		body       any
		field      string
		accepted   []string
	}{
		{"campaign target", "/api/v1/campaigns", plan, "targets.likes", campaign.KPIs},
		{"phase target", "/api/v1/campaigns", phaseWith, "phases[0].targets.likes", campaign.KPIs},
		{"threshold rule", "/api/v1/alert-rules", map[string]any{"name": "x", "kind": "threshold", "kpi": "likes", "window": "day", "op": "<", "value": 1}, "kpi", alert.ThresholdKPIs},
		{"anomaly rule", "/api/v1/alert-rules", map[string]any{"name": "x", "kind": "anomaly", "kpi": "uv"}, "kpi", alert.AnomalyKPIs},
		{"pacing rule", "/api/v1/alert-rules", map[string]any{"name": "x", "kind": "pacing", "campaign_id": "cmp_x", "kpis": []string{"gmv", "likes"}}, "kpis[1]", alert.PacingKPIs},
	}
	for _, c := range cases {
		for _, lang := range []string{"en", "zh-CN"} {
			r := e.do(commerce.RoleOperator, http.MethodPost, c.path, c.body, "Accept-Language", lang)
			var p struct {
				Code, Field, Detail string
				Extra               struct{ Accepted []string }
			}
			r.json(t, &p)
			if r.status != 422 || p.Code != "unknown_kpi" || p.Field != c.field {
				t.Fatalf("%s (%s): %d %s", c.name, lang, r.status, r.body)
			}
			if !slices.Equal(p.Extra.Accepted, c.accepted) {
				t.Errorf("%s (%s): extra.accepted %v, want %v", c.name, lang, p.Extra.Accepted, c.accepted)
			}
			for _, k := range c.accepted {
				if !strings.Contains(p.Detail, k) {
					t.Errorf("%s (%s): detail %q does not name %s", c.name, lang, p.Detail, k)
				}
			}
		}
	}
}
