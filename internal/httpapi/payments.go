package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// registerPayments adds the shop-level signed payment callback: a payment
// provider (or the shop's payment relay) confirms a payment without an API
// key, by signing the callback with the shop's payment-callback secret.
func (s *Server) registerPayments() {
	type secretOut struct {
		Status int `json:"-"`
		Body   struct {
			Secret      string `json:"secret" doc:"The payment-callback secret; shown once. Sign callbacks with it"`
			CallbackURL string `json:"callback_url" doc:"Where the provider posts the signed callback (path on this server)"`
		}
	}
	rot := op("rotate-payment-callback-secret", http.MethodPost, "/api/v1/payment-callback-secret",
		"Make (or replace) the shop's payment-callback secret; shown once, audited without it", "Orders", rolesAdmin)
	rot.DefaultStatus = http.StatusCreated
	huma.Register(s.api, rot, func(ctx context.Context, _ *struct{}) (*secretOut, error) {
		c := CallerFrom(ctx)
		secret, err := s.cfg.Commerce.RotatePaymentSecret(ctx, c.Actor())
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &secretOut{Status: http.StatusCreated}
		out.Body.Secret, out.Body.CallbackURL = secret, "/api/v1/shops/"+c.ShopID()+"/payment-callback"
		return out, nil
	})

	type callbackIn struct {
		ShopID    string `path:"shop_id" maxLength:"64" doc:"The shop whose order is paid"`
		Signature string `header:"Carnival-Signature" required:"true" maxLength:"512" doc:"t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" under the shop's payment-callback secret>"`
		Body      struct {
			OrderID string `json:"order_id" minLength:"1" maxLength:"64" doc:"The order paid"`
			Amount  int64  `json:"amount" minimum:"0" doc:"What the provider collected, fen: the order's payable"`
		}
		// RawBody is the body as signed.
		RawBody []byte
	}
	cb := op("payment-callback", http.MethodPost, "/api/v1/shops/{shop_id}/payment-callback",
		"A payment provider confirms a payment, signed with the shop's payment-callback secret (no API key)", "Orders", nil)
	cb.Security = nil
	cb.Description = "The body is `{\"order_id\":\"ord_…\",\"amount\":<fen>}`; the amount must be the order's payable (409 amount_mismatch). " +
		"A bad or missing signature, or a shop without a secret, is 401 invalid_signature; a timestamp more than 5 minutes off is 401 signature_expired. " +
		"A callback for an order already paid answers it as it is (providers retry)."
	cb.Errors = []int{400, 401, 404, 409, 413, 422}
	huma.Register(s.api, cb, func(ctx context.Context, in *callbackIn) (*orderOut, error) {
		svc := s.cfg.Commerce
		if err := svc.VerifyPaymentCallback(ctx, in.ShopID, in.Signature, in.RawBody); err != nil {
			return nil, s.fail(ctx, err)
		}
		o, err := svc.ConfirmPayment(ctx, in.ShopID, commerce.PaymentCallback{OrderID: in.Body.OrderID, Amount: in.Body.Amount})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &orderOut{Body: o, Status: http.StatusOK}, nil
	})
}
