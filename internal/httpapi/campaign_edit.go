package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/campaign"
)

// registerCampaignEdits registers the piece-by-piece edits of a plan:
// attaching and detaching promotions and coupon templates, editing and
// deleting channels and milestones, deleting a campaign.
func (s *Server) registerCampaignEdits() {
	cs := s.cfg.Campaigns
	const tag = "Campaigns"

	type promotionRef struct {
		PromotionID string `json:"promotion_id" minLength:"1" maxLength:"64" doc:"One of the shop's promotions"`
	}
	type templateRef struct {
		TemplateID string `json:"coupon_template_id" minLength:"1" maxLength:"64" doc:"One of the shop's coupon templates"`
	}
	attached := func(ctx context.Context, c *campaign.Campaign, err error) (*planOut, error) {
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &planOut{Status: http.StatusOK, Body: c}, nil
	}
	huma.Register(s.api, op("attach-campaign-promotion", http.MethodPost, "/api/v1/campaigns/{id}/promotions",
		"Attach one of the shop's promotions to a campaign that has not ended, without resending the plan; attaching it again changes nothing (audited as attach_promotion)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID   string `path:"id" maxLength:"64"`
			Body promotionRef
		}) (*planOut, error) {
			c, err := cs.Attach(ctx, CallerFrom(ctx).Actor(), in.ID, campaign.AttachPromotion, in.Body.PromotionID)
			return attached(ctx, c, err)
		})
	huma.Register(s.api, op("detach-campaign-promotion", http.MethodDelete, "/api/v1/campaigns/{id}/promotions/{ref}",
		"Detach a promotion from a campaign that has not ended; detaching one that is not attached changes nothing (audited as detach_promotion)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID  string `path:"id" maxLength:"64"`
			Ref string `path:"ref" maxLength:"64" doc:"The promotion"`
		}) (*planOut, error) {
			c, err := cs.Detach(ctx, CallerFrom(ctx).Actor(), in.ID, campaign.AttachPromotion, in.Ref)
			return attached(ctx, c, err)
		})
	huma.Register(s.api, op("attach-campaign-coupon-template", http.MethodPost, "/api/v1/campaigns/{id}/coupon-templates",
		"Attach one of the shop's coupon templates to a campaign that has not ended, without resending the plan; attaching it again changes nothing (audited as attach_coupon_template)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID   string `path:"id" maxLength:"64"`
			Body templateRef
		}) (*planOut, error) {
			c, err := cs.Attach(ctx, CallerFrom(ctx).Actor(), in.ID, campaign.AttachCouponTemplate, in.Body.TemplateID)
			return attached(ctx, c, err)
		})
	huma.Register(s.api, op("detach-campaign-coupon-template", http.MethodDelete, "/api/v1/campaigns/{id}/coupon-templates/{ref}",
		"Detach a coupon template from a campaign that has not ended; detaching one that is not attached changes nothing (audited as detach_coupon_template)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID  string `path:"id" maxLength:"64"`
			Ref string `path:"ref" maxLength:"64" doc:"The coupon template"`
		}) (*planOut, error) {
			c, err := cs.Detach(ctx, CallerFrom(ctx).Actor(), in.ID, campaign.AttachCouponTemplate, in.Ref)
			return attached(ctx, c, err)
		})

	huma.Register(s.api, op("update-campaign-channel", http.MethodPatch, "/api/v1/campaigns/{id}/channels/{cid}",
		"Edit a channel of a campaign that has not ended: only the fields sent change; UTM codes stay unique in the campaign (audited)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID    string `path:"id" maxLength:"64" doc:"The campaign"`
			Child string `path:"cid" maxLength:"64" doc:"The channel"`
			Body  campaign.ChannelPatch
		}) (*struct{ Body *campaign.Channel }, error) {
			ch, err := cs.UpdateChannel(ctx, CallerFrom(ctx).Actor(), in.ID, in.Child, in.Body)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *campaign.Channel }{Body: ch}, nil
		})
	huma.Register(s.api, op("delete-campaign-channel", http.MethodDelete, "/api/v1/campaigns/{id}/channels/{cid}",
		"Delete a channel of a campaign that has not ended while no spend is posted on it (409 channel_has_spend otherwise; audited)", tag, rolesWrite),
		func(ctx context.Context, in *campaignChildIn) (*struct{}, error) {
			if err := cs.DeleteChannel(ctx, CallerFrom(ctx).Actor(), in.ID, in.Child); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})

	type milestoneIn struct {
		ID  string `path:"id" maxLength:"64" doc:"The campaign"`
		MID string `path:"mid" maxLength:"64" doc:"The milestone"`
	}
	huma.Register(s.api, op("update-campaign-milestone", http.MethodPatch, "/api/v1/campaigns/{id}/milestones/{mid}",
		"Edit a milestone: only the fields sent change; offset_days or due_on replaces the due rule, owner \"\" clears the owner (audited)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID   string `path:"id" maxLength:"64" doc:"The campaign"`
			MID  string `path:"mid" maxLength:"64" doc:"The milestone"`
			Body campaign.MilestonePatch
		}) (*struct{ Body *campaign.Milestone }, error) {
			m, err := cs.UpdateMilestone(ctx, CallerFrom(ctx).Actor(), in.ID, in.MID, in.Body)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *campaign.Milestone }{Body: m}, nil
		})
	huma.Register(s.api, op("delete-campaign-milestone", http.MethodDelete, "/api/v1/campaigns/{id}/milestones/{mid}", "Delete a milestone (audited)", tag, rolesWrite),
		func(ctx context.Context, in *milestoneIn) (*struct{}, error) {
			if err := cs.DeleteMilestone(ctx, CallerFrom(ctx).Actor(), in.ID, in.MID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})

	huma.Register(s.api, op("delete-campaign", http.MethodDelete, "/api/v1/campaigns/{id}",
		"Delete a campaign that was only a test, with its channels and milestones, while nothing references it: attached promotions or coupon templates, spend, orders under its channels' UTM codes, pacing alert rules or open alerts (409 campaign_in_use naming them in extra.references; audited)", tag, rolesWrite),
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			if err := cs.Delete(ctx, CallerFrom(ctx).Actor(), in.ID); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		})
}
