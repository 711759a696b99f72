package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
)

// groupCampaignIn leaves every field optional to the schema so that the
// domain's validation names the missing or wrong field itself.
type groupCampaignIn struct {
	Name                  string    `json:"name,omitempty" maxLength:"200"`
	SKUID                 string    `json:"sku_id,omitempty" maxLength:"64"`
	GroupPrice            int64     `json:"group_price,omitempty" maximum:"1000000000000000" doc:"Unit price in fen for members; below the SKU's list price"`
	GroupSize             int64     `json:"group_size,omitempty" maximum:"1000000" doc:"Members a group needs, 2 to 100"`
	StartsAt              time.Time `json:"starts_at,omitzero"`
	EndsAt                time.Time `json:"ends_at,omitzero"`
	GroupWindowSeconds    int64     `json:"group_window_seconds,omitempty" maximum:"1000000000" doc:"How long a group stays open after it is opened; default 86400 (24 h), never beyond ends_at"`
	PerCustomerLimit      int64     `json:"per_customer_limit,omitempty" maximum:"1000000000" doc:"Seats one customer may hold in the campaign; default 1"`
	PaymentTimeoutSeconds int64     `json:"payment_timeout_seconds,omitempty" maximum:"1000000000" doc:"How long a member has to pay (never beyond the group's expiry); default 900"`
}

type seatIn struct {
	ID             string `path:"id" maxLength:"64"`
	IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first order and take nothing"`
	Body           struct {
		CustomerID string `json:"customer_id,omitempty" maxLength:"64" doc:"The member; required"`
		Channel    string `json:"channel,omitempty" maxLength:"64"`
		Campaign   string `json:"campaign,omitempty" maxLength:"64" doc:"UTM campaign (utm_campaign) the seat came under"`
	}
}

type seatOut struct {
	Status int `json:"-"`
	Body   *peak.Seat
}

type campaignOut struct {
	Status int `json:"-"`
	Body   *peak.GroupCampaign
}

type groupOut struct {
	Body *peak.Group
}

func (s *Server) registerGroupBuys() {
	gs := s.cfg.Groups
	create := op("create-group-buy", http.MethodPost, "/api/v1/group-buys", "Create a group-buy campaign (拼团): SKU, group price, group size, window", "Group buys", rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *struct{ Body groupCampaignIn }) (*campaignOut, error) {
		b := in.Body
		c, err := gs.CreateCampaign(ctx, CallerFrom(ctx).Actor(), peak.GroupCampaignInput{Name: b.Name, SKUID: b.SKUID, GroupPrice: b.GroupPrice,
			GroupSize: b.GroupSize, StartsAt: b.StartsAt, EndsAt: b.EndsAt, GroupWindowSeconds: b.GroupWindowSeconds, PerCustomerLimit: b.PerCustomerLimit,
			PaymentTimeoutSeconds: b.PaymentTimeoutSeconds})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &campaignOut{Status: http.StatusCreated, Body: c}, nil
	})
	huma.Register(s.api, op("list-group-buys", http.MethodGet, "/api/v1/group-buys", "List group-buy campaigns", "Group buys", rolesRead),
		func(ctx context.Context, in *pageInput) (*struct{ Body List[peak.GroupCampaign] }, error) {
			out, err := gs.Campaigns(ctx, CallerFrom(ctx).ShopID(), in.page())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(c peak.GroupCampaign) string { return c.ID }), nil
		})
	huma.Register(s.api, op("get-group-buy", http.MethodGet, "/api/v1/group-buys/{id}", "Get a group-buy campaign", "Group buys", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *idInput) (*campaignOut, error) {
			c, err := gs.Campaign(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &campaignOut{Status: http.StatusOK, Body: c}, nil
		})
	huma.Register(s.api, op("end-group-buy", http.MethodPost, "/api/v1/group-buys/{id}/end", "End a campaign: no new groups; open groups run out their window", "Group buys", rolesWrite),
		func(ctx context.Context, in *idInput) (*campaignOut, error) {
			c, err := gs.EndCampaign(ctx, CallerFrom(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &campaignOut{Status: http.StatusOK, Body: c}, nil
		})

	seat := func(f func(ctx context.Context, shopID, id string, req peak.SeatRequest, key string) (*peak.Seat, bool, error)) func(context.Context, *seatIn) (*seatOut, error) {
		return func(ctx context.Context, in *seatIn) (*seatOut, error) {
			st, replayed, err := f(ctx, CallerFrom(ctx).ShopID(), in.ID, peak.SeatRequest{CustomerID: in.Body.CustomerID, Channel: in.Body.Channel, Campaign: in.Body.Campaign}, in.IdempotencyKey)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			g := st.Group.Masked()
			st.Group = &g
			out := &seatOut{Status: http.StatusCreated, Body: st}
			if replayed {
				out.Status = http.StatusOK
			}
			return out, nil
		}
	}
	open := op("open-group", http.MethodPost, "/api/v1/group-buys/{id}/groups",
		"Open a group (开团): the customer is its first member; answers the order to pay and the group", "Group buys", rolesStorefront)
	open.DefaultStatus = http.StatusCreated
	huma.Register(s.api, open, seat(gs.Open))
	join := op("join-group", http.MethodPost, "/api/v1/groups/{id}/join",
		"Join a group (参团): takes a seat if one is left; answers the order to pay and the group", "Group buys", rolesStorefront)
	join.DefaultStatus = http.StatusCreated
	huma.Register(s.api, join, seat(gs.Join))

	type openListIn struct {
		ID     string `path:"id" maxLength:"64"`
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-open-groups", http.MethodGet, "/api/v1/group-buys/{id}/groups", "A campaign's groups open to join now: members, seats left, expires_at",
		"Group buys", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *openListIn) (*struct{ Body List[peak.Group] }, error) {
			out, err := gs.OpenGroups(ctx, CallerFrom(ctx).ShopID(), in.ID, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(g peak.Group) string { return g.ID }), nil
		})
	huma.Register(s.api, op("get-group", http.MethodGet, "/api/v1/groups/{id}",
		"Get a group with its members (names masked and ids left out for storefront keys)", "Group buys", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *idInput) (*groupOut, error) {
			g, err := gs.Group(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			if role := CallerFrom(ctx).Key.Role; role != commerce.RoleAdmin && role != commerce.RoleOperator {
				m := g.Masked()
				g = &m
			}
			return &groupOut{Body: g}, nil
		})
}
