package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
)

type presaleItemIn struct {
	SKUID   string `json:"sku_id" minLength:"1" maxLength:"64"`
	Deposit int64  `json:"deposit" minimum:"1" maximum:"1000000000000000" doc:"Deposit per unit, fen"`
	Value   int64  `json:"value" minimum:"1" maximum:"1000000000000000" doc:"What the deposit is worth off the balance order per unit, fen: at least the deposit, below the SKU's list price"`
}

type presaleIn struct {
	Body struct {
		Name                 string          `json:"name" maxLength:"200"`
		DepositStartsAt      time.Time       `json:"deposit_starts_at"`
		DepositEndsAt        time.Time       `json:"deposit_ends_at"`
		BalanceStartsAt      time.Time       `json:"balance_starts_at" doc:"At or after deposit_ends_at"`
		BalanceEndsAt        time.Time       `json:"balance_ends_at"`
		QuantityCap          int64           `json:"quantity_cap,omitempty" minimum:"0" maximum:"10000000" doc:"Units the presale takes deposits for in all; 0 = no cap"`
		PerCustomerLimit     int64           `json:"per_customer_limit,omitempty" minimum:"0" maximum:"1000" doc:"Units one customer may put a deposit on; default 1"`
		AllowOrderActivities bool            `json:"allow_order_activities,omitempty" doc:"Balance orders combine with order-level activities (满减, 满折 …)"`
		AllowCoupons         bool            `json:"allow_coupons,omitempty" doc:"Balance orders may use coupons"`
		Terms                string          `json:"terms,omitempty" maxLength:"4000" doc:"Default: generated in Chinese and English, stating that the deposit is forfeited if the balance is not paid in the balance window"`
		Items                []presaleItemIn `json:"items" minItems:"1" maxItems:"100"`
	}
}

type presaleOut struct {
	Status int `json:"-"`
	Body   *peak.Presale
}

type depositIn struct {
	ID             string `path:"id" maxLength:"64" doc:"The presale"`
	IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first order and place nothing"`
	Body           struct {
		SKUID      string `json:"sku_id" minLength:"1" maxLength:"64"`
		Quantity   int64  `json:"quantity,omitempty" minimum:"0" maximum:"1000" doc:"Default 1"`
		CustomerID string `json:"customer_id" minLength:"1" maxLength:"64"`
		Channel    string `json:"channel,omitempty" maxLength:"64"`
		Campaign   string `json:"campaign,omitempty" maxLength:"64" doc:"UTM campaign (utm_campaign) the order came under"`
	}
}

type balanceIn struct {
	ID             string `path:"id" maxLength:"64" doc:"The deposit order"`
	IdempotencyKey string `header:"Idempotency-Key" required:"true" maxLength:"255" doc:"Required (428 idempotency_key_required without it): a fresh key per attempt, the same key for its retries. Replays with the same key return the first order and place nothing"`
	Body           struct {
		CustomerID  string       `json:"customer_id" minLength:"1" maxLength:"64"`
		Lines       []cartLineIn `json:"lines,omitempty" maxItems:"199" doc:"Other SKUs bought in the same order; the deposit's units are added"`
		CouponCodes []string     `json:"coupon_codes,omitempty" maxItems:"20"`
		BestCoupons bool         `json:"best_coupons,omitempty"`
		Channel     string       `json:"channel,omitempty" maxLength:"64"`
		Campaign    string       `json:"campaign,omitempty" maxLength:"64" doc:"UTM campaign (utm_campaign) the order came under"`
	}
}

func placed(o *commerce.Order, replayed bool) *orderOut {
	out := &orderOut{Body: o, Status: http.StatusCreated}
	if replayed {
		out.Status = http.StatusOK
	}
	return out
}

func (s *Server) registerPresales() {
	pre := s.cfg.Presales
	create := op("create-presale", http.MethodPost, "/api/v1/presales", "Create a presale (定金膨胀): SKUs with deposit and value, a deposit window then a balance window", "Presales", rolesWrite)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *presaleIn) (*presaleOut, error) {
		b := in.Body
		pin := peak.PresaleInput{Name: b.Name, DepositStartsAt: b.DepositStartsAt, DepositEndsAt: b.DepositEndsAt, BalanceStartsAt: b.BalanceStartsAt,
			BalanceEndsAt: b.BalanceEndsAt, QuantityCap: b.QuantityCap, PerCustomerLimit: b.PerCustomerLimit, AllowOrderActivities: b.AllowOrderActivities,
			AllowCoupons: b.AllowCoupons, Terms: b.Terms}
		for _, it := range b.Items {
			pin.Items = append(pin.Items, peak.PresaleItemInput{SKUID: it.SKUID, Deposit: it.Deposit, Value: it.Value})
		}
		p, err := pre.CreatePresale(ctx, CallerFrom(ctx).Actor(), pin)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &presaleOut{Body: p, Status: http.StatusCreated}, nil
	})
	type listIn struct {
		Cursor string `query:"cursor" maxLength:"64" doc:"The next_cursor of the previous page"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size, default 50"`
	}
	huma.Register(s.api, op("list-presales", http.MethodGet, "/api/v1/presales", "List presales", "Presales", rolesRead),
		func(ctx context.Context, in *listIn) (*struct{ Body List[peak.Presale] }, error) {
			out, err := pre.Presales(ctx, CallerFrom(ctx).ShopID(), commerce.Page{Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return listOf(out, in.Limit, func(p peak.Presale) string { return p.ID }), nil
		})
	huma.Register(s.api, op("get-presale", http.MethodGet, "/api/v1/presales/{id}", "Get a presale with its phase, counters and terms", "Presales", append(rolesStorefront, commerce.RoleAnalyst)),
		func(ctx context.Context, in *idInput) (*presaleOut, error) {
			p, err := pre.Presale(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &presaleOut{Body: p, Status: http.StatusOK}, nil
		})
	huma.Register(s.api, op("end-presale", http.MethodPost, "/api/v1/presales/{id}/end", "Stop taking deposits now (paid deposits keep their balance window)", "Presales", rolesWrite),
		func(ctx context.Context, in *idInput) (*presaleOut, error) {
			p, err := pre.EndPresale(ctx, CallerFrom(ctx).Actor(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &presaleOut{Body: p, Status: http.StatusOK}, nil
		})

	dep := op("place-presale-deposit", http.MethodPost, "/api/v1/presales/{id}/deposits", "Place a deposit order: pays the deposit per unit and holds the units until the balance is paid or forfeited", "Presales", rolesStorefront)
	dep.DefaultStatus = http.StatusCreated
	huma.Register(s.api, dep, func(ctx context.Context, in *depositIn) (*orderOut, error) {
		o, replayed, err := pre.PlaceDeposit(ctx, CallerFrom(ctx).ShopID(), in.ID, peak.DepositRequest{SKUID: in.Body.SKUID, Quantity: in.Body.Quantity,
			CustomerID: in.Body.CustomerID, Channel: in.Body.Channel, Campaign: in.Body.Campaign}, in.IdempotencyKey)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return placed(o, replayed), nil
	})
	bal := op("place-presale-balance", http.MethodPost, "/api/v1/presale-deposits/{id}/balance", "Place the balance order of a paid deposit, in the balance window: priced by the engine, the deposit's value credited", "Presales", rolesStorefront)
	bal.DefaultStatus = http.StatusCreated
	huma.Register(s.api, bal, func(ctx context.Context, in *balanceIn) (*orderOut, error) {
		req := peak.BalanceRequest{CustomerID: in.Body.CustomerID, CouponCodes: in.Body.CouponCodes, BestCoupons: in.Body.BestCoupons, Channel: in.Body.Channel, Campaign: in.Body.Campaign}
		for _, l := range in.Body.Lines {
			req.Lines = append(req.Lines, commerce.CartLine{SKUID: l.SKUID, Quantity: l.Quantity})
		}
		o, replayed, err := pre.PlaceBalance(ctx, CallerFrom(ctx).ShopID(), in.ID, req, in.IdempotencyKey)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return placed(o, replayed), nil
	})
	huma.Register(s.api, op("cancel-presale-deposit", http.MethodPost, "/api/v1/presale-deposits/{id}/cancel",
		"Cancel a deposit: an unpaid one is released; a paid one is forfeited per the terms (the deposit is kept, the units freed)", "Presales", rolesStorefront),
		func(ctx context.Context, in *idInput) (*orderOut, error) {
			o, err := pre.CancelDeposit(ctx, CallerFrom(ctx).ShopID(), in.ID)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &orderOut{Body: o, Status: http.StatusOK}, nil
		})
}
