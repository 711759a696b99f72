package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// OrderLookup tells whether an order was durably written.
type OrderLookup func(ctx context.Context, shopID, orderID string) (bool, error)

// LookupOrders answers OrderLookup from the commerce service: an order it
// reports as not found was never written.
func LookupOrders(com *commerce.Service) OrderLookup {
	return func(ctx context.Context, shopID, orderID string) (bool, error) {
		_, err := com.Order(ctx, shopID, orderID)
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return true, nil
	}
}

// Reconciled says what a Reconcile pass did.
type Reconciled struct {
	// Confirmed admissions were older than the grace period and their
	// order exists: they are settled as if the buy had confirmed them.
	Confirmed int
	// Aborted admissions were older than the grace period and their order
	// was never written (the node died between admission and the database
	// write): their units went back.
	Aborted int
	// Waiting admissions are younger than the grace period: left alone, a
	// buy may still be placing their order.
	Waiting int
	// Unprimed lists items this process primed that Redis no longer holds
	// (Redis restarted without its data). Prime them again from the
	// database — peak.Flash.Start does, leaving present items alone —
	// until then their attempts are refused.
	Unprimed []string
}

// Sweep is what a node's sweeper runs, at start and then periodically:
// Reconcile, then, if Redis lost items, reprime (pass peak.Flash.Start,
// which primes every live sale Redis does not hold from the database).
func (e *Engine) Sweep(ctx context.Context, exists OrderLookup, reprime func(context.Context) error) (Reconciled, error) {
	r, err := e.Reconcile(ctx, exists)
	if len(r.Unprimed) > 0 && reprime != nil {
		if perr := reprime(ctx); perr != nil {
			err = errors.Join(err, fmt.Errorf("reprime flash sales: %w", perr))
		}
	}
	return r, err
}

// reconcilePage is how many stream entries one read returns.
const reconcilePage = 500

// Reconcile settles admissions that never heard back: for each entry in
// every item's admissions stream older than the grace period, it asks
// exists whether the order was written, confirms it if so and gives its
// units back if not. Every node may run it periodically (the sweeper
// does); the scripts make a settlement happen once however many nodes
// race. An entry whose lookup fails is left for the next pass, and the
// pass goes on; the errors are returned together.
func (e *Engine) Reconcile(ctx context.Context, exists OrderLookup) (Reconciled, error) {
	var out Reconciled
	items, err := e.knownItems(ctx)
	if err != nil {
		return out, err
	}
	cutoff := e.opt.Now().Add(-e.opt.Grace).UnixMilli()
	var errs []error
	for _, item := range items {
		if err := e.reconcileItem(ctx, item, cutoff, exists, &out); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// knownItems is the union of the shared registry and the items primed
// here; it lists in Unprimed the local ones Redis lost.
func (e *Engine) knownItems(ctx context.Context) ([]string, error) {
	cctx, cancel := e.ctx(ctx)
	defer cancel()
	reg, err := e.rdb.SMembers(cctx, e.registry()).Result()
	if err != nil {
		return nil, fmt.Errorf("reconcile: list items in redis: %w", err)
	}
	seen := make(map[string]bool, len(reg))
	for _, it := range reg {
		seen[it] = true
	}
	e.items.Range(func(k, v any) bool {
		if v.(*local).primed.Load() && !seen[k.(string)] {
			seen[k.(string)] = true
			reg = append(reg, k.(string))
		}
		return true
	})
	return reg, nil
}

func (e *Engine) reconcileItem(ctx context.Context, item string, cutoff int64, exists OrderLookup, out *Reconciled) error {
	k := e.keys(item)
	cctx, cancel := e.ctx(ctx)
	present, err := e.rdb.Exists(cctx, k[0]).Result()
	cancel()
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", item, err)
	}
	if present == 0 {
		if v, ok := e.items.Load(item); ok && v.(*local).primed.Load() {
			out.Unprimed = append(out.Unprimed, item)
		}
		return nil
	}
	var errs []error
	start := "-"
	for {
		cctx, cancel := e.ctx(ctx)
		entries, err := e.rdb.XRangeN(cctx, k[4], start, "+", reconcilePage).Result()
		cancel()
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("reconcile %s: read admissions: %w", item, err))...)
		}
		for _, m := range entries {
			if err := e.settle(ctx, item, m, cutoff, exists, out); err != nil {
				errs = append(errs, err)
			}
		}
		if len(entries) < reconcilePage {
			return errors.Join(errs...)
		}
		start = "(" + entries[len(entries)-1].ID
	}
}

func (e *Engine) settle(ctx context.Context, item string, m goredis.XMessage, cutoff int64, exists OrderLookup, out *Reconciled) error {
	field := func(name string) string { s, _ := m.Values[name].(string); return s }
	at, err := strconv.ParseInt(field("at"), 10, 64)
	if err != nil {
		return fmt.Errorf("reconcile %s: admission %s has no time", item, m.ID)
	}
	if at > cutoff {
		out.Waiting++
		return nil
	}
	order := field("order")
	var ok bool
	if strings.HasPrefix(item, peak.GrabItemPrefix) {
		// A grab's admission names the coupon it claims, not an order.
		if e.opt.Coupons == nil {
			out.Waiting++
			return nil
		}
		ok, err = e.opt.Coupons(ctx, field("shop"), field("customer"), order)
	} else {
		ok, err = exists(ctx, field("shop"), order)
	}
	if err != nil {
		return fmt.Errorf("reconcile %s: look up %s: %w", item, order, err)
	}
	if ok {
		if err := e.confirm(ctx, item, order, field("key")); err != nil {
			return err
		}
		out.Confirmed++
		return nil
	}
	gave, err := e.abort(ctx, item, order)
	if err != nil {
		return err
	}
	if gave {
		out.Aborted++
	}
	return nil
}

// CouponLookup tells whether a coupon grab's admission was durably written
// as the customer's coupon.
type CouponLookup func(ctx context.Context, shopID, customerID, couponID string) (bool, error)

// LookupCoupons answers CouponLookup from the promotion service.
func LookupCoupons(ps *promotion.Service) CouponLookup {
	return func(ctx context.Context, shopID, customerID, couponID string) (bool, error) {
		w, err := ps.Wallet(ctx, shopID, customerID)
		if ce, ok := commerce.AsError(err); ok && ce.Kind == commerce.KindNotFound {
			return false, nil // no such customer: no coupon was claimed
		}
		if err != nil {
			return false, err
		}
		for _, list := range [][]promotion.Coupon{w.Valid, w.Used, w.Expired} {
			for _, c := range list {
				if c.ID == couponID {
					return true, nil
				}
			}
		}
		return false, nil
	}
}
