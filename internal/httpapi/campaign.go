package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
)

type planOut struct {
	Status int `json:"-"`
	Body   *campaign.Campaign
}

type campaignChildIn struct {
	ID    string `path:"id" maxLength:"64" doc:"The campaign"`
	Child string `path:"cid" maxLength:"64" doc:"The channel"`
}

func (s *Server) registerCampaigns() {
	cs := s.cfg.Campaigns
	const tag = "Campaigns"
	create := op("create-campaign", http.MethodPost, "/api/v1/campaigns",
		"Plan a campaign: window, phases (预热 preheat, 爆发 burst, 返场 tail, 复盘 review), KPI targets with day weights, alert line, attached promotions and coupon templates", tag, rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *struct{ Body campaign.Input }) (*planOut, error) {
		c, err := cs.Create(ctx, CallerFrom(ctx).Actor(), in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &planOut{Status: http.StatusCreated, Body: c}, nil
	})
	type listIn struct {
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-campaigns", http.MethodGet, "/api/v1/campaigns", "List campaigns (plans without channels and milestones)", tag, rolesRead),
		func(ctx context.Context, in *listIn) (*struct{ Body List[campaign.Campaign] }, error) {
			p := commerce.Page{Cursor: in.Cursor, Limit: in.Limit}.Normalized()
			list, err := cs.List(ctx, CallerFrom(ctx).ShopID(), p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(list, p.Limit, func(c campaign.Campaign) string { return c.ID }), nil
		})
	huma.Register(s.api, op("get-campaign", http.MethodGet, "/api/v1/campaigns/{id}", "A campaign with its channels (spend, budget used) and milestones (done, due, overdue)", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*planOut, error) {
			c, err := cs.Get(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &planOut{Status: http.StatusOK, Body: c}, nil
		})
	huma.Register(s.api, op("update-campaign", http.MethodPut, "/api/v1/campaigns/{id}", "Replace a campaign's plan while it has not ended (audited)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID   string `path:"id" maxLength:"64"`
			Body campaign.Input
		}) (*planOut, error) {
			c, err := cs.Update(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &planOut{Status: http.StatusOK, Body: c}, nil
		})
	huma.Register(s.api, op("end-campaign", http.MethodPost, "/api/v1/campaigns/{id}/end", "End (archive) a campaign: its plan stops changing", tag, rolesWrite),
		func(ctx context.Context, in *idInput) (*planOut, error) {
			c, err := cs.End(ctx, CallerFrom(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &planOut{Status: http.StatusOK, Body: c}, nil
		})

	addCh := op("add-campaign-channel", http.MethodPost, "/api/v1/campaigns/{id}/channels",
		"Add a channel (站内, 站外投放, 达人, 私域, SMS …) with UTM codes unique in the campaign and a planned budget", tag, rolesWrite)
	addCh.DefaultStatus = http.StatusCreated
	huma.Register(s.api, addCh, func(ctx context.Context, in *struct {
		ID   string `path:"id" maxLength:"64"`
		Body campaign.ChannelInput
	}) (*struct {
		Status int `json:"-"`
		Body   *campaign.Channel
	}, error) {
		ch, err := cs.AddChannel(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &struct {
			Status int `json:"-"`
			Body   *campaign.Channel
		}{Status: http.StatusCreated, Body: ch}, nil
	})
	huma.Register(s.api, op("list-campaign-channels", http.MethodGet, "/api/v1/campaigns/{id}/channels", "A campaign's channels with spend to date and budget used", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body List[campaign.Channel] }, error) {
			c, err := cs.Get(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return allOf(c.Channels), nil
		})

	type spendIn struct {
		ID             string `path:"id" maxLength:"64" doc:"The campaign"`
		Child          string `path:"cid" maxLength:"64" doc:"The channel"`
		IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Replays with the same key return the first entry and record nothing"`
		Body           campaign.SpendInput
	}
	spend := op("add-campaign-spend", http.MethodPost, "/api/v1/campaigns/{id}/channels/{cid}/spend", "Record spend on a channel for a day (entered, or posted by an ad platform)", tag, rolesWrite)
	spend.DefaultStatus = http.StatusCreated
	huma.Register(s.api, spend, func(ctx context.Context, in *spendIn) (*struct {
		Status int `json:"-"`
		Body   *campaign.Spend
	}, error) {
		sp, replayed, err := cs.AddSpend(ctx, CallerFrom(ctx).Actor(), in.ID, in.Child, in.Body, in.IdempotencyKey)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &struct {
			Status int `json:"-"`
			Body   *campaign.Spend
		}{Status: http.StatusCreated, Body: sp}
		if replayed {
			out.Status = http.StatusOK
		}
		return out, nil
	})
	huma.Register(s.api, op("list-campaign-spend", http.MethodGet, "/api/v1/campaigns/{id}/channels/{cid}/spend", "A channel's spend entries by day", tag, rolesRead),
		func(ctx context.Context, in *campaignChildIn) (*struct{ Body List[campaign.Spend] }, error) {
			list, err := cs.Spend(ctx, CallerFrom(ctx).ShopID(), in.ID, in.Child)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return allOf(list), nil
		})

	addMs := op("add-campaign-milestone", http.MethodPost, "/api/v1/campaigns/{id}/milestones", "Add a milestone due offset_days from the start (T-30 …) or on due_on, with an owner", tag, rolesWrite)
	addMs.DefaultStatus = http.StatusCreated
	type msOut struct {
		Status int `json:"-"`
		Body   *campaign.Milestone
	}
	huma.Register(s.api, addMs, func(ctx context.Context, in *struct {
		ID   string `path:"id" maxLength:"64"`
		Body campaign.MilestoneInput
	}) (*msOut, error) {
		m, err := cs.AddMilestone(ctx, CallerFrom(ctx).Actor(), in.ID, in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &msOut{Status: http.StatusCreated, Body: m}, nil
	})
	huma.Register(s.api, op("list-campaign-milestones", http.MethodGet, "/api/v1/campaigns/{id}/milestones", "A campaign's milestones by due date, with status done, due or overdue", tag, rolesRead),
		func(ctx context.Context, in *idInput) (*struct{ Body List[campaign.Milestone] }, error) {
			c, err := cs.Get(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return allOf(c.Milestones), nil
		})
	huma.Register(s.api, op("complete-campaign-milestone", http.MethodPost, "/api/v1/campaigns/{id}/milestones/{mid}/done", "Mark a milestone done now (audited)", tag, rolesWrite),
		func(ctx context.Context, in *struct {
			ID  string `path:"id" maxLength:"64"`
			MID string `path:"mid" maxLength:"64"`
		}) (*msOut, error) {
			m, err := cs.CompleteMilestone(ctx, CallerFrom(ctx).Actor(), in.ID, in.MID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &msOut{Status: http.StatusOK, Body: m}, nil
		})

	huma.Register(s.api, op("campaign-pacing", http.MethodGet, "/api/v1/campaigns/{id}/pacing",
		"Targets to date per KPI for a day (shop-local), for the campaign and each phase; actuals and on_track/behind/alert once analytics supplies them", tag, rolesRead),
		func(ctx context.Context, in *struct {
			ID  string `path:"id" maxLength:"64"`
			Day string `query:"day" maxLength:"10" doc:"2006-01-02, shop-local; default today"`
		}) (*struct{ Body *campaign.PacingReport }, error) {
			r, err := cs.Pacing(ctx, CallerFrom(ctx).ShopID(), in.ID, in.Day)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *campaign.PacingReport }{Body: r}, nil
		})

	huma.Register(s.api, op("campaign-plan-vs-actual", http.MethodGet, "/api/v1/campaigns/{id}/plan-vs-actual",
		"Plan against actual by day, for the campaign and each phase: every targeted KPI's day target and actual, both to date, attainment and on_track/behind/alert", tag, rolesRead),
		func(ctx context.Context, in *struct {
			ID      string `path:"id" maxLength:"64"`
			Through string `query:"through" maxLength:"10" doc:"Last day shown, 2006-01-02, shop-local; default today"`
		}) (*struct{ Body *campaign.PlanVsActual }, error) {
			r, err := cs.PlanVsActual(ctx, CallerFrom(ctx).ShopID(), in.ID, in.Through)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *campaign.PlanVsActual }{Body: r}, nil
		})

	huma.Register(s.api, op("marketing-calendar", http.MethodGet, "/api/v1/calendar",
		"The marketing calendar: campaigns overlapping the days from..to and the trade's dates in them (38, 618, 99, 双11, 双12, 年货节, 春节)", tag, rolesRead),
		func(ctx context.Context, in *struct {
			From string `query:"from" required:"true" maxLength:"10" doc:"First day, 2006-01-02"`
			To   string `query:"to" required:"true" maxLength:"10" doc:"Last day, inclusive"`
		}) (*struct{ Body *campaign.CalendarView }, error) {
			v, err := cs.Calendar(ctx, CallerFrom(ctx).ShopID(), in.From, in.To)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &struct{ Body *campaign.CalendarView }{Body: v}, nil
		})
}

// allOf is a whole (unpaginated) list: a campaign's channels, spend entries
// or milestones are few.
func allOf[T any](items []T) *struct{ Body List[T] } {
	if items == nil {
		items = []T{}
	}
	return &struct{ Body List[T] }{Body: List[T]{Items: items}}
}
