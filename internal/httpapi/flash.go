package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

type saleOut struct {
	Status int `json:"-"`
	Body   *peak.Sale
}

func (s *Server) registerFlash() {
	fl := s.cfg.Flash
	create := op("create-flash-sale", http.MethodPost, "/api/v1/flash-sales", "Create a flash sale (秒杀): a window and items with flash price, allocated stock and per-customer limit", "Flash sales", rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *struct{ Body peak.SaleInput }) (*saleOut, error) {
		sale, err := fl.CreateSale(ctx, CallerFrom(ctx).Actor(), in.Body)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &saleOut{Status: http.StatusCreated, Body: sale}, nil
	})
	type listIn struct {
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-flash-sales", http.MethodGet, "/api/v1/flash-sales", "List flash sales with their live counters", "Flash sales", append(rolesRead, commerce.RoleStorefront)),
		func(ctx context.Context, in *listIn) (*struct{ Body List[peak.Sale] }, error) {
			p := commerce.Page{Cursor: in.Cursor, Limit: in.Limit}.Normalized()
			sales, err := fl.Sales(ctx, CallerFrom(ctx).ShopID(), p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(sales, p.Limit, func(x peak.Sale) string { return x.ID }), nil
		})
	huma.Register(s.api, op("get-flash-sale", http.MethodGet, "/api/v1/flash-sales/{id}", "A flash sale: phase, items, remaining, reserved and sold units", "Flash sales", append(rolesRead, commerce.RoleStorefront)),
		func(ctx context.Context, in *idInput) (*saleOut, error) {
			sale, err := fl.Sale(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &saleOut{Status: http.StatusOK, Body: sale}, nil
		})
	huma.Register(s.api, op("end-flash-sale", http.MethodPost, "/api/v1/flash-sales/{id}/end", "End a flash sale now: unsold units go back to the SKUs (audited)", "Flash sales", rolesWrite),
		func(ctx context.Context, in *idInput) (*saleOut, error) {
			sale, err := fl.EndSale(ctx, CallerFrom(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &saleOut{Status: http.StatusOK, Body: sale}, nil
		})

	type buyIn struct {
		ID             string `path:"id" maxLength:"64"`
		IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first order and reserve nothing"`
		Device         string `header:"X-Device-Id" maxLength:"128" doc:"The shopper's device id, for rate limits and blocking"`
		Body           struct {
			SKUID      string `json:"sku_id" minLength:"1" maxLength:"64"`
			Quantity   int64  `json:"quantity,omitempty" minimum:"0" maximum:"1000" doc:"Default 1"`
			CustomerID string `json:"customer_id" minLength:"1" maxLength:"64"`
			Channel    string `json:"channel,omitempty" maxLength:"64"`
			Campaign   string `json:"campaign,omitempty" maxLength:"64" doc:"UTM campaign (utm_campaign) the buy came under"`
		}
	}
	buy := op("buy-flash-sale", http.MethodPost, "/api/v1/flash-sales/{id}/buy",
		"Buy in a flash sale: admitted in memory, then an order at the flash price held for the payment timeout", "Flash sales", rolesStorefront)
	buy.DefaultStatus = http.StatusCreated
	buy.Errors = append(buy.Errors, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	huma.Register(s.api, buy, func(ctx context.Context, in *buyIn) (*orderOut, error) {
		b := in.Body
		a, err := s.guarded(ctx, "flash:"+in.ID, b.CustomerID, in.Device, fl.Policy(in.ID))
		if err != nil {
			return nil, err
		}
		o, replayed, err := fl.Buy(ctx, CallerFrom(ctx).ShopID(), in.ID, peak.BuyRequest{SKUID: b.SKUID, Quantity: b.Quantity, CustomerID: b.CustomerID, Channel: b.Channel, Campaign: b.Campaign}, in.IdempotencyKey)
		if err != nil {
			a.failedBy(ctx, err)
			return nil, s.fail(ctx, err)
		}
		out := &orderOut{Body: o, Status: http.StatusCreated}
		if replayed {
			out.Status = http.StatusOK
		}
		return out, nil
	})

	type remindIn struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			CustomerID    string `json:"customer_id" minLength:"1" maxLength:"64"`
			MinutesBefore int64  `json:"minutes_before,omitempty" minimum:"0" maximum:"10080" doc:"Default 5"`
		}
	}
	rem := op("remind-flash-sale", http.MethodPost, "/api/v1/flash-sales/{id}/reminders", "Remind me before the sale starts (stored for the journeys)", "Flash sales", rolesStorefront)
	rem.DefaultStatus = http.StatusCreated
	huma.Register(s.api, rem, func(ctx context.Context, in *remindIn) (*struct {
		Status int `json:"-"`
		Body   *peak.Reminder
	}, error) {
		r, err := fl.Remind(ctx, CallerFrom(ctx).ShopID(), in.ID, in.Body.CustomerID, in.Body.MinutesBefore)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &struct {
			Status int `json:"-"`
			Body   *peak.Reminder
		}{Status: http.StatusCreated, Body: r}, nil
	})
	type remindersIn struct {
		ID     string `path:"id" maxLength:"64"`
		Cursor string `query:"cursor" maxLength:"64"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
	}
	huma.Register(s.api, op("list-flash-sale-reminders", http.MethodGet, "/api/v1/flash-sales/{id}/reminders", "A sale's reminder subscriptions", "Flash sales", rolesRead),
		func(ctx context.Context, in *remindersIn) (*struct{ Body List[peak.Reminder] }, error) {
			p := commerce.Page{Cursor: in.Cursor, Limit: in.Limit}.Normalized()
			rs, err := fl.Reminders(ctx, CallerFrom(ctx).ShopID(), in.ID, p)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(rs, p.Limit, func(r peak.Reminder) string { return r.CustomerID }), nil
		})
}

func (s *Server) registerGrabs() {
	type grabIn struct {
		ID             string `path:"id" maxLength:"64" doc:"The coupon template"`
		IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first coupon and claim nothing"`
		Device         string `header:"X-Device-Id" maxLength:"128" doc:"The shopper's device id, for rate limits and blocking"`
		Body           struct {
			CustomerID string `json:"customer_id" minLength:"1" maxLength:"64"`
		}
	}
	grab := op("grab-coupon", http.MethodPost, "/api/v1/coupon-templates/{id}/grab",
		"Grab a limited coupon (抢券): admitted in memory, in the wallet at once", "Coupons", rolesStorefront)
	grab.DefaultStatus = http.StatusCreated
	grab.Errors = append(grab.Errors, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	huma.Register(s.api, grab, func(ctx context.Context, in *grabIn) (*struct {
		Status int `json:"-"`
		Body   *promotion.Coupon
	}, error) {
		a, err := s.guarded(ctx, "claim:"+in.ID, in.Body.CustomerID, in.Device, nil)
		if err != nil {
			return nil, err
		}
		c, replayed, err := s.cfg.Grabs.Grab(ctx, CallerFrom(ctx).ShopID(), in.ID, in.Body.CustomerID, in.IdempotencyKey)
		if err != nil {
			a.failedBy(ctx, err)
			return nil, s.fail(ctx, err)
		}
		out := &struct {
			Status int `json:"-"`
			Body   *promotion.Coupon
		}{Status: http.StatusCreated, Body: c}
		if replayed {
			out.Status = http.StatusOK
		}
		return out, nil
	})
}
