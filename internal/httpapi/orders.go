package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

type cartLineIn struct {
	SKUID    string `json:"sku_id" minLength:"1" maxLength:"64"`
	Quantity int64  `json:"quantity" minimum:"1" maximum:"1000000"`
}

type placeIn struct {
	IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first answer and place nothing"`
	Device         string `header:"X-Device-Id" maxLength:"128" doc:"The shopper's device id, for rate limits and blocking of coupon-code attempts"`
	Body           struct {
		CustomerID  string       `json:"customer_id,omitempty" maxLength:"64"`
		Lines       []cartLineIn `json:"lines" minItems:"1" maxItems:"200" doc:"At most the shop's max_line_quantity units a line and max_order_quantity in all (422 quantity_over_cap)"`
		CouponCodes []string     `json:"coupon_codes,omitempty" maxItems:"20"`
		BestCoupons bool         `json:"best_coupons,omitempty" doc:"Let the engine choose the best coupons from the wallet"`
		Points      int64        `json:"points,omitempty" minimum:"0" maximum:"1000000000"`
		Channel     string       `json:"channel,omitempty" maxLength:"64" doc:"Where the order came from (UTM source or your channel code)"`
		Campaign    string       `json:"campaign,omitempty" maxLength:"64" doc:"The UTM campaign (utm_campaign) the order came under"`
	}
}

type orderOut struct {
	Status int `json:"-"`
	Body   *commerce.Order
}

func (s *Server) registerOrders() {
	place := op("place-order", http.MethodPost, "/api/v1/orders", "Place an order: price the cart and hold stock, points, coupons and promotion uses", "Orders", rolesStorefront)
	place.DefaultStatus = http.StatusCreated
	huma.Register(s.api, place, func(ctx context.Context, in *placeIn) (*orderOut, error) {
		req := &commerce.PlaceRequest{CustomerID: in.Body.CustomerID, CouponCodes: in.Body.CouponCodes, BestCoupons: in.Body.BestCoupons,
			Points: in.Body.Points, Channel: in.Body.Channel, Campaign: in.Body.Campaign, Lines: make([]commerce.CartLine, len(in.Body.Lines))}
		for i, l := range in.Body.Lines {
			req.Lines[i] = commerce.CartLine{SKUID: l.SKUID, Quantity: l.Quantity}
		}
		// Every order is rate-limited like a flash buy (an unpaid order
		// holds stock), and an anonymous one is capped by who placed it.
		if err := s.limited(ctx, "orders", req.CustomerID, in.Device); err != nil {
			return nil, err
		}
		req.Requester = requester(ctx, req.CustomerID, in.Device)
		// Orders naming coupon codes are guarded: trying codes is how
		// codes are guessed, and repeated invalid ones block.
		var a *attempt
		if len(req.CouponCodes) > 0 {
			var err error
			if a, err = s.guarded(ctx, "coupon-codes", req.CustomerID, in.Device, nil); err != nil {
				return nil, err
			}
		}
		o, replayed, err := s.cfg.Commerce.PlaceOrder(ctx, CallerFrom(ctx).ShopID(), req, in.IdempotencyKey)
		if err != nil {
			a.failedBy(ctx, err, "invalid_coupon_code")
			return nil, s.fail(ctx, err)
		}
		out := &orderOut{Body: o, Status: http.StatusCreated}
		if replayed {
			out.Status = http.StatusOK
		}
		return out, nil
	})
	type listIn struct {
		Cursor     string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit      int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
		CustomerID string `query:"customer_id" maxLength:"64"`
		Status     string `query:"status" enum:"pending_payment,paid,fulfilled,cancelled,partially_refunded,refunded,deposit_paid,deposit_settled,deposit_forfeited,"`
	}
	huma.Register(s.api, op("list-orders", http.MethodGet, "/api/v1/orders", "List orders", "Orders", rolesRead),
		func(ctx context.Context, in *listIn) (*struct{ Body List[commerce.Order] }, error) {
			out, err := s.cfg.Commerce.ListOrders(ctx, CallerFrom(ctx).ShopID(), commerce.OrderFilter{CustomerID: in.CustomerID, Status: in.Status}, commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(o commerce.Order) string { return o.ID }), nil
		})
	huma.Register(s.api, op("get-order", http.MethodGet, "/api/v1/orders/{id}", "Get an order with its lines, amounts and holds", "Orders", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *idInput) (*orderOut, error) {
			o, err := s.cfg.Commerce.Order(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orderOut{Body: o, Status: http.StatusOK}, nil
		})
	transition := func(id, path, summary string, roles []string, f func(ctx context.Context, shopID, id string) (*commerce.Order, error)) {
		huma.Register(s.api, op(id, http.MethodPost, path, summary, "Orders", roles),
			func(ctx context.Context, in *idInput) (*orderOut, error) {
				o, err := f(ctx, CallerFrom(ctx).ShopID(), in.ID)
				if err != nil {
					return nil, s.fail(ctx, err)
				}
				return &orderOut{Body: o, Status: http.StatusOK}, nil
			})
	}
	svc := s.cfg.Commerce
	transition("pay-order", "/api/v1/orders/{id}/pay", "Record the payment of a pending order (fails after the payment timeout)", rolesStorefront,
		func(ctx context.Context, _, id string) (*commerce.Order, error) {
			return svc.PayOrderBy(ctx, CallerFrom(ctx).Actor(), id)
		})
	transition("cancel-order", "/api/v1/orders/{id}/cancel", "Cancel a pending order and release its holds", rolesStorefront,
		func(ctx context.Context, shopID, id string) (*commerce.Order, error) {
			return svc.CancelOrder(ctx, shopID, id, "cancelled")
		})
	transition("fulfil-order", "/api/v1/orders/{id}/fulfil", "Mark a paid order fulfilled (shipped)", rolesWrite, svc.FulfilOrder)

	type refundIn struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Lines []struct {
				No       int   `json:"no" minimum:"1" maximum:"200" doc:"Line number"`
				Quantity int64 `json:"quantity" minimum:"1" maximum:"1000000"`
			} `json:"lines,omitempty" maxItems:"200"`
			ReturnStock *bool  `json:"return_stock,omitempty" doc:"Return the units to stock (default true)"`
			Reason      string `json:"reason,omitempty" maxLength:"200"`
			Shipping    bool   `json:"shipping,omitempty" doc:"Also refund the shipping the customer paid (once)"`
		}
	}
	huma.Register(s.api, op("refund-order", http.MethodPost, "/api/v1/orders/{id}/refunds", "Refund units of lines (each refunds its line's payable exactly) and, if asked, the shipping; audited with the caller's key", "Orders", rolesWrite),
		func(ctx context.Context, in *refundIn) (*orderOut, error) {
			req := &commerce.RefundRequest{ReturnStock: in.Body.ReturnStock, Reason: in.Body.Reason, Shipping: in.Body.Shipping}
			for _, l := range in.Body.Lines {
				req.Lines = append(req.Lines, commerce.RefundRequestLine{No: l.No, Quantity: l.Quantity})
			}
			o, err := s.cfg.Commerce.RefundOrder(ctx, CallerFrom(ctx).Actor(), in.ID, req)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orderOut{Body: o, Status: http.StatusOK}, nil
		})
	s.registerPayments()
}
