package promotion

import (
	"slices"

	"github.com/carnivalhq/carnival/internal/pricing"
)

// uniformCodes makes every named coupon code that cannot be used for what
// it is — unknown, expired, used, void — look the same: reason
// invalid_code, the code as typed, nothing else. Someone trying codes
// learns only that a code does not work, never that it exists; the owner
// sees the real state in the wallet. Reasons about the cart (scope,
// threshold, stacking) stay as they are.
func uniformCodes(res *pricing.Result, codes []string, wall map[string]Coupon) {
	if len(codes) == 0 {
		return
	}
	for i := range res.NotApplied {
		na := &res.NotApplied[i]
		if na.Source != pricing.SourceCoupon {
			continue
		}
		switch na.Reason {
		case pricing.ReasonInvalidCode, pricing.ReasonExpired, pricing.ReasonUsed, pricing.ReasonUnavailable:
		default:
			continue
		}
		code := na.ID
		if c, ok := wall[na.ID]; ok {
			code = c.Code
		}
		if !slices.Contains(codes, code) {
			continue // a wallet coupon the engine considered on its own
		}
		*na = pricing.NotApplied{Source: pricing.SourceCoupon, ID: code, Reason: pricing.ReasonInvalidCode}
	}
}
