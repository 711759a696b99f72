package httpapi_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// TestSignedPaymentCallbackPaysTheOrder: a callback signed with the shop's
// payment-callback secret marks the order paid without an API key; a bad,
// old or other shop's signature, a wrong amount or a publishable key
// cannot.
func TestSignedPaymentCallbackPaysTheOrder(t *testing.T) {
	e := newEnv(t)
	r := e.do(commerce.RoleAdmin, "POST", "/api/v1/payment-callback-secret", nil)
	var sec struct {
		Secret      string
		CallbackURL string `json:"callback_url"`
	}
	r.json(t, &sec)
	if r.status != 201 || sec.Secret == "" || sec.CallbackURL != "/api/v1/shops/"+e.shop.ID+"/payment-callback" {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := e.do(commerce.RolePublishable, "POST", "/api/v1/payment-callback-secret", nil); r.status != 403 {
		t.Fatalf("publishable rotates: %d", r.status)
	}
	id := e.placeOrder(commerce.RoleStorefront)
	var o commerce.Order
	e.do(commerce.RoleAdmin, "GET", "/api/v1/orders/"+id, nil).json(t, &o)
	body := `{"order_id":"` + id + `","amount":` + strconv.FormatInt(int64(o.Payable), 10) + `}`
	now := e.svc.Now()
	call := func(shop, sig, body, role string) (int, string) {
		t.Helper()
		hdr := []string{}
		if sig != "" {
			hdr = []string{"Carnival-Signature", sig}
		}
		r := e.do(role, "POST", "/api/v1/shops/"+shop+"/payment-callback", body, hdr...)
		var p struct{ Code string }
		json.Unmarshal(r.body, &p)
		return r.status, p.Code
	}
	wrong := `{"order_id":"` + id + `","amount":1}`
	for name, c := range map[string]struct {
		shop, sig, body string
		status          int
		code            string
	}{
		"no signature":       {e.shop.ID, "", body, 422, "validation_failed"},
		"wrong secret":       {e.shop.ID, commerce.SignPaymentCallback("ck_guess", now, []byte(body)), body, 401, "invalid_signature"},
		"publishable as key": {e.shop.ID, "t=1,v1=" + e.keys[commerce.RolePublishable], body, 401, "invalid_signature"},
		"old timestamp":      {e.shop.ID, commerce.SignPaymentCallback(sec.Secret, now.Add(-time.Hour), []byte(body)), body, 401, "signature_expired"},
		"other shop":         {"shop_other", commerce.SignPaymentCallback(sec.Secret, now, []byte(body)), body, 401, "invalid_signature"},
		"wrong amount":       {e.shop.ID, commerce.SignPaymentCallback(sec.Secret, now, []byte(wrong)), wrong, 409, "amount_mismatch"},
		"unknown field":      {e.shop.ID, commerce.SignPaymentCallback(sec.Secret, now, []byte(`{"order_id":"x","amount":1,"paid":true}`)), `{"order_id":"x","amount":1,"paid":true}`, 422, "unknown_field"},
		"NUL order id":       {e.shop.ID, commerce.SignPaymentCallback(sec.Secret, now, []byte(`{"order_id":"o\u0000","amount":1}`)), `{"order_id":"o\u0000","amount":1}`, 422, "invalid_text"},
	} {
		if st, code := call(c.shop, c.sig, c.body, commerce.RolePublishable); st != c.status || code != c.code {
			t.Errorf("%s: %d %s; want %d %s", name, st, code, c.status, c.code)
		}
	}
	e.do(commerce.RoleAdmin, "GET", "/api/v1/orders/"+id, nil).json(t, &o)
	if o.Status != commerce.OrderPendingPayment {
		t.Fatalf("a refused callback changed the order: %s", o.Status)
	}
	sig := commerce.SignPaymentCallback(sec.Secret, now, []byte(body))
	for i := 0; i < 2; i++ { // the provider retries: the same answer
		if st, code := call(e.shop.ID, sig, body, ""); st != 200 || code != "" {
			t.Fatalf("callback %d: %d %s", i, st, code)
		}
	}
	e.do(commerce.RoleAdmin, "GET", "/api/v1/orders/"+id, nil).json(t, &o)
	if o.Status != commerce.OrderPaid {
		t.Fatalf("after the callback the order is %s", o.Status)
	}
}
