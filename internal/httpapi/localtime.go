package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/localtime"
)

// Times are stored and computed in UTC and answered in the shop's offset
// (package localtime). Input takes any offset (RFC 3339). The conversion
// happens once, here, on the way out, so no service or store has to
// remember it: shopTimes is a huma transformer that answers every response
// body with its times moved to the caller's shop's zone.

// shopTimes moves every time in a response body to the zone of the
// caller's shop. Bodies whose type holds no time pass through untouched.
func (s *Server) shopTimes(ctx huma.Context, _ string, v any) (any, error) {
	if !localtime.HoldsTimes(v) {
		return v, nil
	}
	loc := s.shopLocation(ctx.Context())
	if loc == nil {
		return v, nil
	}
	return localtime.In(v, loc), nil
}

// shopLocation is the zone of the caller's shop, nil when there is no
// caller (public operations) or the shop cannot be read.
func (s *Server) shopLocation(ctx context.Context) *time.Location {
	c := CallerFrom(ctx)
	if c.Key == nil {
		return nil
	}
	loc, err := s.cfg.Commerce.ShopLocation(ctx, c.ShopID())
	if err != nil {
		return nil
	}
	return loc
}
