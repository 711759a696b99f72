package commerce

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/carnivalhq/carnival/internal/signature"
)

// PaymentCallbackTolerance is how far a signed payment callback's timestamp
// may be from the server's clock: a captured callback cannot be replayed
// later than this (and a replay within it finds the order paid already).
const PaymentCallbackTolerance = 5 * time.Minute

// RotatePaymentSecret makes a new payment-callback secret for the actor's
// shop, replacing any earlier one, and returns it (shown once). The audit
// entry records that it changed, never the secret.
func (s *Service) RotatePaymentSecret(ctx context.Context, a Actor) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("payment secret: %w", err)
	}
	secret := "cpcs_" + keyEncoding.EncodeToString(raw[:])
	audit := s.Audit(a, "rotate", "payment_callback_secret", a.ShopID, nil, map[string]any{"rotated": true})
	if err := s.store.SetPaymentSecret(ctx, a.ShopID, secret, s.now().UTC(), audit); err != nil {
		return "", fmt.Errorf("payment secret: %w", err)
	}
	return secret, nil
}

// PaymentCallback is what a payment provider confirms: the order and the
// amount it collected (fen), which must be the order's payable.
type PaymentCallback struct {
	OrderID string `json:"order_id"`
	Amount  int64  `json:"amount"`
}

// SignPaymentCallback is the Carnival-Signature header value for body at t,
// the scheme Carnival's own webhooks use (package signature).
func SignPaymentCallback(secret string, t time.Time, body []byte) string {
	return signature.Sign(secret, t, body)
}

var errBadSignature = &Error{Kind: KindUnauthorized, Code: "invalid_signature", Field: "Carnival-Signature",
	Detail: "the payment callback's signature does not verify (or the shop takes no payment callbacks)"}

// VerifyPaymentCallback checks signature against body with the shop's
// secret: 401 invalid_signature when the shop has no secret or no v1
// matches, 401 signature_expired when t is outside the tolerance.
func (s *Service) VerifyPaymentCallback(ctx context.Context, shopID, header string, body []byte) error {
	if !plainID(shopID) {
		return errBadSignature
	}
	secret, err := s.store.PaymentSecret(ctx, shopID)
	if errors.Is(err, ErrNotFound) {
		return errBadSignature
	}
	if err != nil {
		return err
	}
	switch err := signature.Verify(secret, header, body, s.now(), PaymentCallbackTolerance); {
	case errors.Is(err, signature.ErrExpired):
		return &Error{Kind: KindUnauthorized, Code: "signature_expired", Field: "Carnival-Signature",
			Detail: "the payment callback's timestamp is more than 5 minutes from the server's clock"}
	case err != nil:
		return errBadSignature
	}
	return nil
}

// ConfirmPayment records the payment a verified callback confirms: the
// amount must be the order's payable (409 amount_mismatch otherwise), and a
// callback for an order already paid (a provider's retry) answers the
// order as it is.
func (s *Service) ConfirmPayment(ctx context.Context, shopID string, cb PaymentCallback) (*Order, error) {
	if cb.OrderID == "" || len(cb.OrderID) > 64 || !plainID(cb.OrderID) {
		return nil, Invalid("order_id", "invalid_id", "order_id names the order paid: 1 to 64 printable characters")
	}
	o, err := s.Order(ctx, shopID, cb.OrderID)
	if err != nil {
		return nil, err
	}
	if int64(o.Payable) != cb.Amount {
		return nil, &Error{Kind: KindConflict, Code: "amount_mismatch", Field: "amount",
			Detail: fmt.Sprintf("the callback confirms %d fen; order %s is payable %d fen", cb.Amount, o.ID, int64(o.Payable))}
	}
	if o.Status != OrderPendingPayment && o.Status != OrderCancelled {
		return o, nil
	}
	return s.PayOrderBy(ctx, Actor{ShopID: shopID, Name: ActorPaymentCallback}, cb.OrderID)
}

// plainID reports whether id is valid UTF-8 without control characters,
// as every id Carnival makes is: anything else names nothing, and is not
// sent to the database.
func plainID(id string) bool {
	if !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
