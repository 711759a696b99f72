package promotion

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// ClaimCouponOnce is ClaimCoupon under an idempotency key. The coupon's id
// is derived from the shop, the customer and the key, so a retry finds the
// coupon its first attempt claimed in the customer's wallet and returns it
// (replayed true) without claiming again, and two concurrent attempts
// cannot both claim (the second one's insert collides on the id). The same
// key for another template of the same customer is 409
// idempotency_key_reused. An empty key claims as ClaimCoupon does.
func (s *Service) ClaimCouponOnce(ctx context.Context, shopID, templateID, customerID, key string) (*Coupon, bool, error) {
	if key == "" {
		c, err := s.ClaimCoupon(ctx, shopID, templateID, customerID)
		return c, false, err
	}
	id := claimID(shopID, customerID, key)
	find := func() (*Coupon, error) {
		cs, err := s.store.Wallet(ctx, shopID, customerID)
		if err != nil {
			return nil, err
		}
		for i := range cs {
			if cs[i].ID != id {
				continue
			}
			if cs[i].TemplateID != templateID {
				return nil, &commerce.Error{Kind: commerce.KindConflict, Code: "idempotency_key_reused", Field: "Idempotency-Key",
					Detail: "this Idempotency-Key was used for a claim of another coupon template"}
			}
			return &cs[i], nil
		}
		return nil, nil
	}
	if c, err := find(); c != nil || err != nil {
		return c, c != nil, err
	}
	c, err := s.ClaimCouponAs(ctx, shopID, templateID, customerID, id)
	if err != nil {
		// A concurrent attempt with the same key claimed first: this
		// one's insert collided on the id.
		if first, ferr := find(); first != nil || ferr != nil {
			return first, first != nil, ferr
		}
		return nil, false, err
	}
	return c, false, nil
}

var claimIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// claimID is the id of the coupon a claim under key makes: cpn_ and 128
// bits of SHA-256 over the shop, the customer and the key.
func claimID(shopID, customerID, key string) string {
	h := sha256.Sum256([]byte(shopID + "\x00" + customerID + "\x00" + key))
	return "cpn_" + strings.ToLower(claimIDEncoding.EncodeToString(h[:16]))
}
