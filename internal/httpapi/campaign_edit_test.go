package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

func (e *env) auditActions(t *testing.T, entity, id string) []string {
	t.Helper()
	var audit httpapi.List[commerce.AuditEntry]
	e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/audit?entity="+entity+"&entity_id="+id, nil).json(t, &audit)
	var acts []string
	for i := len(audit.Items) - 1; i >= 0; i-- {
		acts = append(acts, audit.Items[i].Action)
	}
	return acts
}

// TestCampaignEditsOverHTTP: promotions and coupon templates are attached
// and detached one call each (idempotent, audited, 404 for ids not the
// shop's, 409 on an ended campaign); channels and milestones are patched
// (absent fields unchanged) and deleted; a test campaign is deleted while
// nothing references it, and refused naming what does. On both engines.
func TestCampaignEditsOverHTTP(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnvOn(t, engine, storetest.NewClock(), 25800)
			r := e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
			var c campaign.Campaign
			r.json(t, &c)
			base := "/api/v1/campaigns/" + c.ID
			tpl := e.fiveYuanTemplate(t)
			r = e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/promotions", map[string]any{"kind": "threshold_off", "scope": map[string]any{"all": true},
				"tiers": []map[string]any{{"threshold": 30000, "off": 3000}}})
			var p promotion.Promotion
			r.json(t, &p)
			wantProblem := func(r resp, status int, code, field string) httpapi.Problem {
				t.Helper()
				var pr httpapi.Problem
				r.json(t, &pr)
				if r.status != status || pr.Code != code || pr.Field != field || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("got %d %s, want %d %s naming %q", r.status, r.body, status, code, field)
				}
				return pr
			}

			// Attach and detach.
			if r := e.do(commerce.RoleAnalyst, http.MethodPost, base+"/promotions", map[string]any{"promotion_id": p.ID}); r.status != 403 {
				t.Fatalf("an analyst attached: %d %s", r.status, r.body)
			}
			for i := 0; i < 2; i++ {
				r = e.do(commerce.RoleOperator, http.MethodPost, base+"/promotions", map[string]any{"promotion_id": p.ID})
				var got campaign.Campaign
				r.json(t, &got)
				if r.status != 200 || !slices.Equal(got.PromotionIDs, []string{p.ID}) || got.Name != "双11" || len(got.Phases) != 2 || len(got.Milestones) != 6 {
					t.Fatalf("attach #%d: %d %s", i+1, r.status, r.body)
				}
			}
			r = e.do(commerce.RoleOperator, http.MethodPost, base+"/coupon-templates", map[string]any{"coupon_template_id": tpl.ID})
			if r.status != 200 || !strings.Contains(string(r.body), `"coupon_template_ids":["`+tpl.ID+`"]`) {
				t.Fatalf("attach template: %d %s", r.status, r.body)
			}
			before := e.campaignCounts()
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/promotions", map[string]any{"promotion_id": "prm_nope"}), 404, "promotion_not_found", "")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/coupon-templates", map[string]any{"coupon_template_id": "tpl_nope"}), 404, "coupon_template_not_found", "")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns/cmp_nope/promotions", map[string]any{"promotion_id": p.ID}), 404, "campaign_not_found", "")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/promotions", map[string]any{}), 422, "validation_failed", "promotion_id")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/promotions", map[string]any{"promotion_id": p.ID, "x": 1}), 422, "unknown_field", "x")
			wantProblem(e.do(commerce.RoleOperator, http.MethodDelete, base+"/promotions/prm_nope", nil), 404, "promotion_not_found", "")
			if after := e.campaignCounts(); after != before {
				t.Fatalf("refused attachments wrote: %s → %s", before, after)
			}
			if acts := e.auditActions(t, "campaign", c.ID); !slices.Equal(acts, []string{"create", "attach_promotion", "attach_coupon_template"}) {
				t.Fatalf("campaign audit %v", acts)
			}

			// A campaign with attachments is not deleted; the refusal names them.
			pr := wantProblem(e.do(commerce.RoleOperator, http.MethodDelete, base, nil), 409, "campaign_in_use", "")
			if refs, _ := pr.Extra["references"].(map[string]any); refs["promotions"] != 1.0 || refs["coupon_templates"] != 1.0 {
				t.Fatalf("refusal %+v", pr)
			}
			for _, path := range []string{base + "/promotions/" + p.ID, base + "/coupon-templates/" + tpl.ID, base + "/coupon-templates/" + tpl.ID} {
				if r := e.do(commerce.RoleOperator, http.MethodDelete, path, nil); r.status != 200 || !strings.Contains(string(r.body), `"promotion_ids":[]`) ||
					(strings.Contains(path, "coupon-templates") != strings.Contains(string(r.body), `"coupon_template_ids":[]`)) {
					t.Fatalf("detach %s: %d %s", path, r.status, r.body)
				}
			}

			// Channels: patch what is given, delete while no spend.
			r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels", map[string]any{"kind": "paid_ads", "name": "巨量引擎", "utm_source": "oceanengine",
				"utm_medium": "cpc", "utm_campaign": "d11", "budget": 100_000})
			var ch campaign.Channel
			r.json(t, &ch)
			r = e.do(commerce.RoleOperator, http.MethodPost, base+"/channels", map[string]any{"kind": "kol", "name": "达人", "utm_source": "xhs",
				"utm_medium": "kol", "utm_campaign": "d11", "budget": 1000})
			var kol campaign.Channel
			r.json(t, &kol)
			r = e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"budget": 250_000})
			var got campaign.Channel
			r.json(t, &got)
			if r.status != 200 || got.Budget != 250_000 || got.Name != "巨量引擎" || got.UTMSource != "oceanengine" || got.Kind != "paid_ads" {
				t.Fatalf("patch channel: %d %s", r.status, r.body)
			}
			before = e.campaignCounts()
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"budget": -1}), 422, "out_of_range", "budget")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"kind": "tv"}), 422, "validation_failed", "kind")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"utm_source": "xhs", "utm_medium": "kol"}), 409, "utm_taken", "utm_source")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"name": ""}), 422, "required", "name")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/chn_nope", map[string]any{"name": "x"}), 404, "channel_not_found", "")
			if after := e.campaignCounts(); after != before {
				t.Fatalf("refused channel edits wrote: %s → %s", before, after)
			}
			if r := e.do(commerce.RoleOperator, http.MethodPost, base+"/channels/"+ch.ID+"/spend", map[string]any{"day": "2026-11-10", "amount": 500}); r.status != 201 {
				t.Fatalf("spend: %d %s", r.status, r.body)
			}
			pr = wantProblem(e.do(commerce.RoleOperator, http.MethodDelete, base+"/channels/"+ch.ID, nil), 409, "channel_has_spend", "")
			if refs, _ := pr.Extra["references"].(map[string]any); refs["spend_entries"] != 1.0 {
				t.Fatalf("refusal %+v", pr)
			}
			if r := e.do(commerce.RoleOperator, http.MethodDelete, base+"/channels/"+kol.ID, nil); r.status != 204 {
				t.Fatalf("delete channel: %d %s", r.status, r.body)
			}
			if acts := e.auditActions(t, "campaign_channel", kol.ID); !slices.Equal(acts, []string{"create", "delete"}) {
				t.Fatalf("channel audit %v", acts)
			}

			// Milestones: patch, delete.
			var ms struct{ Items []campaign.Milestone }
			e.do(commerce.RoleAnalyst, http.MethodGet, base+"/milestones", nil).json(t, &ms)
			m := ms.Items[1]
			r = e.do(commerce.RoleOperator, http.MethodPatch, base+"/milestones/"+m.ID, map[string]any{"owner": "张三", "due_on": "2026-10-15"})
			var gm campaign.Milestone
			r.json(t, &gm)
			if r.status != 200 || gm.Owner != "张三" || gm.DueOn != "2026-10-15" || gm.OffsetDays != nil || gm.Name != m.Name {
				t.Fatalf("patch milestone: %d %s", r.status, r.body)
			}
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/milestones/"+m.ID, map[string]any{"offset_days": -3, "due_on": "2026-10-15"}), 422, "ambiguous_due", "due_on")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/milestones/"+m.ID, map[string]any{"due_on": "15/10"}), 422, "invalid_date", "due_on")
			if r := e.do(commerce.RoleOperator, http.MethodDelete, base+"/milestones/"+m.ID, nil); r.status != 204 {
				t.Fatalf("delete milestone: %d %s", r.status, r.body)
			}
			wantProblem(e.do(commerce.RoleOperator, http.MethodDelete, base+"/milestones/"+m.ID, nil), 404, "milestone_not_found", "")
			if acts := e.auditActions(t, "campaign_milestone", m.ID); !slices.Equal(acts, []string{"update", "delete"}) {
				t.Fatalf("milestone audit %v", acts)
			}

			// The spend keeps the campaign; a clean test campaign goes, with
			// its channels and milestones.
			pr = wantProblem(e.do(commerce.RoleOperator, http.MethodDelete, base, nil), 409, "campaign_in_use", "")
			if refs, _ := pr.Extra["references"].(map[string]any); refs["spend_entries"] != 1.0 || len(refs) != 1 {
				t.Fatalf("refusal %+v", pr)
			}
			r = e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns", d11())
			var test campaign.Campaign
			r.json(t, &test)
			e.do(commerce.RoleOperator, http.MethodPost, "/api/v1/campaigns/"+test.ID+"/channels", map[string]any{"kind": "sms", "name": "短信", "utm_source": "sms",
				"utm_medium": "sms", "utm_campaign": "test", "budget": 0})
			if r := e.do(commerce.RoleAnalyst, http.MethodDelete, "/api/v1/campaigns/"+test.ID, nil); r.status != 403 {
				t.Fatalf("an analyst deleted a campaign: %d", r.status)
			}
			if r := e.do(commerce.RoleOperator, http.MethodDelete, "/api/v1/campaigns/"+test.ID, nil); r.status != 204 {
				t.Fatalf("delete campaign: %d %s", r.status, r.body)
			}
			wantProblem(e.do(commerce.RoleAnalyst, http.MethodGet, "/api/v1/campaigns/"+test.ID, nil), 404, "campaign_not_found", "")
			if acts := e.auditActions(t, "campaign", test.ID); !slices.Equal(acts, []string{"create", "delete"}) {
				t.Fatalf("deleted campaign audit %v", acts)
			}

			// An ended campaign's plan no longer changes.
			if r := e.do(commerce.RoleOperator, http.MethodPost, base+"/end", nil); r.status != 200 {
				t.Fatalf("end: %d %s", r.status, r.body)
			}
			wantProblem(e.do(commerce.RoleOperator, http.MethodPost, base+"/promotions", map[string]any{"promotion_id": p.ID}), 409, "campaign_ended", "")
			wantProblem(e.do(commerce.RoleOperator, http.MethodPatch, base+"/channels/"+ch.ID, map[string]any{"budget": 1}), 409, "campaign_ended", "")
		})
	}
}
