package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/pricing"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// ptr is in partial_cases.go.

func cashTemplate(t *testing.T, e *Env, ps *promotion.Service, name string) *promotion.Template {
	t.Helper()
	tpl, err := ps.SaveTemplate(ctx, e.Admin, &promotion.Template{CouponTemplate: pricing.CouponTemplate{Name: name, Kind: pricing.ThresholdOff, Off: 500, Scope: pricing.Scope{All: true}},
		TotalQuantity: 50, ValidDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// testCampaignAttachments: a promotion or coupon template is attached and
// detached by one call each, without resending the plan; both are
// idempotent (a repeat changes nothing and writes no audit entry),
// concurrent attachments all land, ids that are not the shop's are 404,
// and an ended campaign's attachments no longer change.
func testCampaignAttachments(t *testing.T, open Opener) {
	e, ps, cs := campaignEnv(t, open)
	p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff("满300减50", 5000, promotion.Limits{}), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	audits := func() int { return auditCount(t, e, "campaign") }
	n0 := audits()
	got, err := cs.Attach(ctx, e.Admin, c.ID, campaign.AttachPromotion, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.PromotionIDs, []string{p.ID}) || got.Name != c.Name || len(got.Phases) != 3 {
		t.Fatalf("after attach: %+v", got)
	}
	if got, err = cs.Attach(ctx, e.Admin, c.ID, campaign.AttachPromotion, p.ID); err != nil || len(got.PromotionIDs) != 1 {
		t.Fatalf("attaching again: %+v, %v", got, err)
	}
	if n := audits(); n != n0+1 {
		t.Fatalf("%d audit entries for an attach and its repeat, want 1", n-n0)
	}
	_, err = cs.Attach(ctx, e.Admin, c.ID, campaign.AttachPromotion, "prm_nope")
	wantCode(t, err, "promotion_not_found")
	_, err = cs.Attach(ctx, e.Admin, c.ID, campaign.AttachCouponTemplate, "tpl_nope")
	wantCode(t, err, "coupon_template_not_found")
	_, err = cs.Attach(ctx, e.Admin, "cmp_nope", campaign.AttachPromotion, p.ID)
	wantCode(t, err, "campaign_not_found")

	// Concurrent attachments of different templates all land.
	tpls := make([]string, 8)
	for i := range tpls {
		tpls[i] = cashTemplate(t, e, ps, fmt.Sprintf("券%d", i)).ID
	}
	var wg sync.WaitGroup
	for _, id := range tpls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cs.Attach(ctx, e.Admin, c.ID, campaign.AttachCouponTemplate, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ = cs.Get(ctx, e.Shop.ID, c.ID)
	if len(got.CouponTemplateIDs) != len(tpls) || !slices.Equal(got.PromotionIDs, []string{p.ID}) {
		t.Fatalf("after concurrent attachments: promotions %v, templates %v", got.PromotionIDs, got.CouponTemplateIDs)
	}
	for _, id := range tpls {
		if !slices.Contains(got.CouponTemplateIDs, id) {
			t.Fatalf("template %s lost among %v", id, got.CouponTemplateIDs)
		}
	}

	if got, err = cs.Detach(ctx, e.Admin, c.ID, campaign.AttachCouponTemplate, tpls[3]); err != nil || len(got.CouponTemplateIDs) != len(tpls)-1 || slices.Contains(got.CouponTemplateIDs, tpls[3]) {
		t.Fatalf("detach: %+v, %v", got, err)
	}
	n1 := audits()
	if _, err = cs.Detach(ctx, e.Admin, c.ID, campaign.AttachCouponTemplate, tpls[3]); err != nil {
		t.Fatalf("detaching again: %v", err)
	}
	if audits() != n1 {
		t.Fatal("detaching what is not attached wrote an audit entry")
	}
	_, err = cs.Detach(ctx, e.Admin, c.ID, campaign.AttachPromotion, "prm_nope")
	wantCode(t, err, "promotion_not_found")

	if _, err := cs.End(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = cs.Attach(ctx, e.Admin, c.ID, campaign.AttachCouponTemplate, tpls[3])
	wantCode(t, err, "campaign_ended")
	_, err = cs.Detach(ctx, e.Admin, c.ID, campaign.AttachPromotion, p.ID)
	wantCode(t, err, "campaign_ended")
	if got, _ = cs.Get(ctx, e.Shop.ID, c.ID); !slices.Equal(got.PromotionIDs, []string{p.ID}) {
		t.Fatalf("an ended campaign's attachments changed: %v", got.PromotionIDs)
	}
}

// testCampaignChannelEdits: a channel is edited field by field (what is
// left out stays), its UTM codes stay unique, it is deleted while no spend
// is posted on it, and each change is audited.
func testCampaignChannelEdits(t *testing.T, open Opener) {
	e, _, cs := campaignEnv(t, open)
	c, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelKOL, Name: "达人直播", UTMSource: "douyin", UTMMedium: "kol", UTMCampaign: "d11", Budget: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	other, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPaidAds, Name: "巨量", UTMSource: "oceanengine", UTMMedium: "cpc", UTMCampaign: "d11", Budget: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.AddSpend(ctx, e.Admin, c.ID, ch.ID, campaign.SpendInput{Day: "2026-11-02", Amount: 50_000}, ""); err != nil {
		t.Fatal(err)
	}
	got, err := cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{Budget: ptr[int64](400_000)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Budget != 400_000 || got.Name != "达人直播" || got.Kind != campaign.ChannelKOL || got.UTMSource != "douyin" || got.UTMMedium != "kol" || got.UTMCampaign != "d11" ||
		got.Spent != 50_000 || got.BudgetUsed != 1250 {
		t.Fatalf("after a budget patch: %+v", got)
	}
	if got, err = cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{Name: ptr("抖音达人"), UTMMedium: ptr("live")}); err != nil {
		t.Fatal(err)
	}
	if got.Name != "抖音达人" || got.UTMMedium != "live" || got.Budget != 400_000 {
		t.Fatalf("after a name patch: %+v", got)
	}
	read, _ := cs.Get(ctx, e.Shop.ID, c.ID)
	if read.Channels[0].Name != "抖音达人" || read.Channels[0].Budget != 400_000 {
		t.Fatalf("read back %+v", read.Channels)
	}
	_, err = cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{UTMSource: ptr("oceanengine"), UTMMedium: ptr("cpc")})
	wantCode(t, err, "utm_taken")
	_, err = cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{Budget: ptr[int64](-1)})
	wantCode(t, err, "out_of_range")
	_, err = cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{Name: ptr("")})
	wantCode(t, err, "required")
	_, err = cs.UpdateChannel(ctx, e.Admin, c.ID, "chn_nope", campaign.ChannelPatch{Name: ptr("x")})
	wantCode(t, err, "channel_not_found")

	err = cs.DeleteChannel(ctx, e.Admin, c.ID, ch.ID)
	wantCode(t, err, "channel_has_spend")
	if err := cs.DeleteChannel(ctx, e.Admin, c.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	read, _ = cs.Get(ctx, e.Shop.ID, c.ID)
	if len(read.Channels) != 1 || read.Channels[0].ID != ch.ID {
		t.Fatalf("channels after delete: %+v", read.Channels)
	}
	err = cs.DeleteChannel(ctx, e.Admin, c.ID, other.ID)
	wantCode(t, err, "channel_not_found")
	acts := entityActions(t, e, "campaign_channel", ch.ID)
	if !slices.Equal(acts, []string{"create", "update", "update"}) {
		t.Fatalf("channel audit %v", acts)
	}
	if acts := entityActions(t, e, "campaign_channel", other.ID); !slices.Equal(acts, []string{"create", "delete"}) {
		t.Fatalf("deleted channel audit %v", acts)
	}

	if _, err := cs.End(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = cs.UpdateChannel(ctx, e.Admin, c.ID, ch.ID, campaign.ChannelPatch{Budget: ptr[int64](1)})
	wantCode(t, err, "campaign_ended")
}

// testCampaignMilestoneEdits: a milestone is edited field by field and
// deleted, audited.
func testCampaignMilestoneEdits(t *testing.T, open Opener) {
	e, _, cs := campaignEnv(t, open)
	c, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	m, err := cs.AddMilestone(ctx, e.Admin, c.ID, campaign.MilestoneInput{Name: "方案评审", OffsetDays: ptr[int64](-21), Owner: "张三"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{Owner: ptr("李四")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != "李四" || got.Name != "方案评审" || got.OffsetDays == nil || *got.OffsetDays != -21 || got.DueOn != "2026-10-11" {
		t.Fatalf("after an owner patch: %+v", got)
	}
	if got, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{DueOn: ptr("2026-10-20")}); err != nil {
		t.Fatal(err)
	}
	if got.OffsetDays != nil || got.DueOn != "2026-10-20" || got.Owner != "李四" {
		t.Fatalf("moved to a date: %+v", got)
	}
	if got, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{OffsetDays: ptr[int64](-7), Owner: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if got.OffsetDays == nil || *got.OffsetDays != -7 || got.DueOn != "2026-10-25" || got.Owner != "" {
		t.Fatalf("back to an offset, owner cleared: %+v", got)
	}
	// The anchor moves with a patch: 1 day from the end is the day after
	// the last day; a date drops the anchor, and an anchor needs an offset.
	if got, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{OffsetDays: ptr[int64](1), Anchor: ptr(campaign.AnchorEnd)}); err != nil {
		t.Fatal(err)
	}
	if last := c.AnchorDay(campaign.AnchorEnd, time.FixedZone("", 8*3600)); got.Anchor != campaign.AnchorEnd || last != "2026-11-14" || got.DueOn != "2026-11-15" {
		t.Fatalf("anchored to the end: %+v (last day %s)", got, last)
	}
	if got, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{Name: ptr("方案评审")}); err != nil || got.Anchor != campaign.AnchorEnd {
		t.Fatalf("a name patch kept the anchor? %+v, %v", got, err)
	}
	_, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{DueOn: ptr("2026-10-20"), Anchor: ptr(campaign.AnchorEnd)})
	wantCode(t, err, "anchor_without_offset")
	if got, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{OffsetDays: ptr[int64](-7), Anchor: ptr(campaign.AnchorStart)}); err != nil || got.DueOn != "2026-10-25" {
		t.Fatalf("back to the start: %+v, %v", got, err)
	}
	_, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{OffsetDays: ptr[int64](-7), DueOn: ptr("2026-10-20")})
	wantCode(t, err, "ambiguous_due")
	_, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, m.ID, campaign.MilestonePatch{DueOn: ptr("2026-13-01")})
	wantCode(t, err, "invalid_date")
	_, err = cs.UpdateMilestone(ctx, e.Admin, c.ID, "cms_nope", campaign.MilestonePatch{Name: ptr("x")})
	wantCode(t, err, "milestone_not_found")
	if err := cs.DeleteMilestone(ctx, e.Admin, c.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Milestone(ctx, e.Shop.ID, c.ID, m.ID); err == nil {
		t.Fatal("a deleted milestone is still there")
	}
	wantCode(t, cs.DeleteMilestone(ctx, e.Admin, c.ID, m.ID), "milestone_not_found")
	if acts := entityActions(t, e, "campaign_milestone", m.ID); !slices.Equal(acts, []string{"create", "update", "update", "update", "update", "update", "update", "delete"}) {
		t.Fatalf("milestone audit %v", acts)
	}
}

// testCampaignDelete: a campaign is deleted, with its channels and
// milestones, only while nothing references it: attached promotions or
// coupon templates, spend, orders placed under its channels' UTM codes, a
// pacing alert rule. Each refusal names what references it.
func testCampaignDelete(t *testing.T, open Opener) {
	e, ps, cs := campaignEnv(t, open)
	as := alert.New(e.Store, e.Svc, alert.Options{Campaigns: cs, Metrics: e.Store})
	p, _, err := ps.SavePromotion(ctx, e.Admin, thresholdOff("满300减50", 5000, promotion.Limits{}), true)
	if err != nil {
		t.Fatal(err)
	}
	in := double11()
	in.DefaultMilestones = true
	in.PromotionIDs = []string{p.ID}
	c, err := cs.Create(ctx, e.Admin, in)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := cs.AddChannel(ctx, e.Admin, c.ID, campaign.ChannelInput{Kind: campaign.ChannelPaidAds, Name: "巨量", UTMSource: "oceanengine", UTMMedium: "cpc", UTMCampaign: "d11", Budget: 1000})
	if err != nil {
		t.Fatal(err)
	}
	refusedFor := func(id, what string) {
		t.Helper()
		err := cs.Delete(ctx, e.Admin, id)
		wantCode(t, err, "campaign_in_use")
		ce, _ := commerce.AsError(err)
		refs, _ := ce.Extra["references"].(map[string]int64)
		if refs[what] == 0 {
			t.Fatalf("refusal %+v does not name %s", ce, what)
		}
		if _, err := cs.Get(ctx, e.Shop.ID, id); err != nil {
			t.Fatalf("a refused delete removed the campaign: %v", err)
		}
	}
	refusedFor(c.ID, "promotions")
	if _, err := cs.Detach(ctx, e.Admin, c.ID, campaign.AttachPromotion, p.ID); err != nil {
		t.Fatal(err)
	}

	spent, err := cs.Create(ctx, e.Admin, double11())
	if err != nil {
		t.Fatal(err)
	}
	sch, err := cs.AddChannel(ctx, e.Admin, spent.ID, campaign.ChannelInput{Kind: campaign.ChannelKOL, Name: "达人", UTMSource: "xhs", UTMMedium: "kol", UTMCampaign: "d11", Budget: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.AddSpend(ctx, e.Admin, spent.ID, sch.ID, campaign.SpendInput{Day: "2026-11-02", Amount: 100}, ""); err != nil {
		t.Fatal(err)
	}
	refusedFor(spent.ID, "spend_entries")

	rule, err := as.CreateRule(ctx, e.Admin, alert.RuleInput{Name: "双11 进度", Kind: alert.KindPacing, CampaignID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	refusedFor(c.ID, "alert_rules")
	if err := as.DeleteRule(ctx, e.Admin, rule.ID); err != nil {
		t.Fatal(err)
	}

	sku := e.SeedSKU(t, "A", 5000, 10)
	if _, _, err := e.Svc.PlaceOrder(ctx, e.Shop.ID, &commerce.PlaceRequest{Lines: []commerce.CartLine{{SKUID: sku.ID, Quantity: 1}}, Channel: "oceanengine", Campaign: "d11"}, ""); err != nil {
		t.Fatal(err)
	}
	refusedFor(c.ID, "orders")
	// Without the channel whose codes it carries, nothing attributes the
	// order to the campaign.
	if err := cs.DeleteChannel(ctx, e.Admin, c.ID, ch.ID); err != nil {
		t.Fatal(err)
	}

	if err := cs.Delete(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = cs.Get(ctx, e.Shop.ID, c.ID)
	wantCode(t, err, "campaign_not_found")
	for _, table := range []string{"campaign_channels", "campaign_milestones"} {
		var n int
		if err := e.Store.Reader().QueryRow(e.Store.Q(`SELECT COUNT(*) FROM `+table+` WHERE campaign_id = $1`), c.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s of the deleted campaign: %d, %v", table, n, err)
		}
	}
	wantCode(t, cs.Delete(ctx, e.Admin, c.ID), "campaign_not_found")
	if acts := entityActions(t, e, "campaign", c.ID); acts[len(acts)-1] != "delete" {
		t.Fatalf("campaign audit %v", acts)
	}
}
