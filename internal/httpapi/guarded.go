package httpapi

import (
	"context"
	"slices"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// clientIP is the address the request came from: the peer, or what a
// trusted proxy's forwarding headers name (clientip.go).
func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(keyClientIP).(string)
	return ip
}

// attempt is one guarded attempt at a peak path: a flash-sale buy, a
// coupon grab, an order naming coupon codes.
type attempt struct {
	s      *Server
	shopID string
	scope  string
	subj   guard.Subject
	policy guard.Policy
}

// guarded checks an attempt against the guard before it runs: rate limits
// per customer, device and IP, and blocks. own is a sale's own policy (nil:
// the shop's). Buys, grabs and claims come with the storefront's secret
// key from its servers, so the IP is the shopper's only as a trusted proxy
// forwarded it (shopperIP): the storefront server's own address stands for
// every shopper and is never limited or blocked as one. Without a guard
// every attempt passes.
func (s *Server) guarded(ctx context.Context, scope, customerID, device string, own *guard.PolicySpec) (*attempt, error) {
	if s.cfg.Guard == nil {
		return nil, nil
	}
	a := &attempt{s: s, shopID: CallerFrom(ctx).ShopID(), scope: scope, subj: guard.Subject{CustomerID: customerID, Device: device, IP: shopperIP(ctx)}}
	if own != nil {
		a.policy = own.Policy()
	} else {
		p, err := s.cfg.Guard.ShopPolicy(ctx, a.shopID)
		if err != nil {
			return nil, s.guardError(ctx, err)
		}
		a.policy = p
	}
	if err := s.cfg.Guard.Check(ctx, a.shopID, a.scope, a.subj, a.policy); err != nil {
		return nil, s.guardError(ctx, err)
	}
	return a, nil
}

// limited checks an attempt against the shop policy's rate limits alone
// (guard.Limit): for placing orders, which blocks made elsewhere do not
// refuse. The IP is the shopper's only as a trusted proxy forwarded it
// (shopperIP): orders come from the storefront's server. Without a guard
// every attempt passes.
func (s *Server) limited(ctx context.Context, scope, customerID, device string) error {
	if s.cfg.Guard == nil {
		return nil
	}
	shopID := CallerFrom(ctx).ShopID()
	p, err := s.cfg.Guard.ShopPolicy(ctx, shopID)
	if err == nil {
		err = s.cfg.Guard.Limit(ctx, shopID, scope, guard.Subject{CustomerID: customerID, Device: device, IP: shopperIP(ctx)}, p)
	}
	if err != nil {
		return s.guardError(ctx, err)
	}
	return nil
}

// failedBy counts err against the attempt's subject when it is the kind of
// failure scripts and scalpers make — over a limit, an unknown customer or
// code, too early — so that repeated ones block. Sold out is not one: it is
// what most honest attempts at a hot item get. With only, just those codes
// count.
func (a *attempt) failedBy(ctx context.Context, err error, only ...string) {
	if a == nil || err == nil {
		return
	}
	ce, ok := commerce.AsError(err)
	if !ok {
		return
	}
	if len(only) > 0 {
		if slices.Contains(only, ce.Code) {
			a.s.cfg.Guard.Fail(ctx, a.shopID, a.scope, a.subj, a.policy, ce.Code)
		}
		return
	}
	switch ce.Code {
	case "sold_out", "coupons_sold_out", "request_in_progress", "admission_unavailable", "sale_over":
		return
	}
	if ce.Kind == commerce.KindInvalid || ce.Kind == commerce.KindConflict || ce.Kind == commerce.KindNotFound {
		a.s.cfg.Guard.Fail(ctx, a.shopID, a.scope, a.subj, a.policy, ce.Code)
	}
}
