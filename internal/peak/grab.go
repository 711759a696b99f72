package peak

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// Issuer is what a coupon grab needs from the promotion service.
type Issuer interface {
	Template(ctx context.Context, shopID, id string) (*promotion.Template, error)
	ClaimCouponAs(ctx context.Context, shopID, templateID, customerID, couponID string) (*promotion.Coupon, error)
	Wallet(ctx context.Context, shopID, customerID string) (*promotion.WalletView, error)
}

// Grabs runs limited coupon grabs (抢券) through the same admission path as
// flash sales: the engine answers "gone" from memory, and only admitted
// attempts reach the database, where the claim is checked again against
// the template's total and the customer's limit.
type Grabs struct {
	eng Engine
	iss Issuer
	now func() time.Time

	mu     sync.Mutex
	primed map[string]grabState // item → when the engine was primed, and the claim limit then
}

type grabState struct {
	at    time.Time
	limit int64
}

// grabRefresh bounds how long a sold-out answer can outlive a change an
// operator made to the template (more coupons, a new limit).
const grabRefresh = 10 * time.Second

// NewGrabs returns the coupon-grab service.
func NewGrabs(eng Engine, iss Issuer, now func() time.Time) *Grabs {
	if now == nil {
		now = time.Now
	}
	return &Grabs{eng: eng, iss: iss, now: now, primed: map[string]grabState{}}
}

// GrabItemPrefix starts the engine item of a coupon grab; the rest is the
// template id. A grab's admissions name coupons (Attempt.OrderID is the
// coupon's id), so a reconciler settles them by their coupons.
const GrabItemPrefix = "grab:"

func grabItem(templateID string) string { return GrabItemPrefix + templateID }

// prime loads a template's state into the engine: coupons left and the
// claim limit. Customers' earlier claims are not loaded: a customer over
// the limit is admitted in memory and refused by the database, which
// answers the same and gives the admission back. A sold-out item is read
// again at most every grabRefresh; if the operator added coupons it is
// primed anew (forgetting the idempotency keys of the old state, whose
// replays then meet the database's per-customer limit).
func (g *Grabs) prime(ctx context.Context, shopID, templateID string) (int64, error) {
	item := grabItem(templateID)
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.primed[item]
	// Once primed, the engine's own counts are right; only a sold-out
	// item is looked at again (an operator may have added coupons).
	if ok && (!g.eng.SoldOut(item) || g.now().Sub(st.at) < grabRefresh) {
		return st.limit, nil
	}
	t, err := g.iss.Template(ctx, shopID, templateID)
	if err != nil {
		return 0, err
	}
	left := int64(math.MaxInt64 / 4)
	if t.TotalQuantity > 0 {
		left = max(0, t.TotalQuantity-t.Issued)
	}
	if !ok || left > 0 {
		if err := g.eng.Prime(ctx, item, left, nil, nil); err != nil {
			return 0, err
		}
	}
	g.primed[item] = grabState{at: g.now(), limit: limitOf(t)}
	return limitOf(t), nil
}

// reprime forgets that the template was primed and primes it from the
// database: coupons left are total − issued there. Customers' claims are
// not loaded (as at the first prime): the database refuses a customer over
// the limit. Prime leaves an item another node primed meanwhile alone, so
// concurrent grabs and nodes re-prime once.
func (g *Grabs) reprime(ctx context.Context, shopID, templateID string) (int64, error) {
	g.mu.Lock()
	delete(g.primed, grabItem(templateID))
	g.mu.Unlock()
	return g.prime(ctx, shopID, templateID)
}

func limitOf(t *promotion.Template) int64 {
	if t.PerCustomerClaims <= 0 {
		return math.MaxInt64 / 4
	}
	return t.PerCustomerClaims
}

// Grab claims one coupon of a limited template for a customer. With an
// idempotency key a replay returns the first coupon (replayed=true).
func (g *Grabs) Grab(ctx context.Context, shopID, templateID, customerID, key string) (*promotion.Coupon, bool, error) {
	if err := commerce.CheckText("customer_id", customerID, true, commerce.MaxCodeLen); err != nil {
		return nil, false, err
	}
	if err := commerce.CheckText("template_id", templateID, true, commerce.MaxCodeLen); err != nil {
		return nil, false, err
	}
	item := grabItem(templateID)
	if key == "" && g.eng.SoldOut(item) {
		g.mu.Lock()
		fresh := g.now().Sub(g.primed[item].at) < grabRefresh
		g.mu.Unlock()
		if fresh {
			return nil, false, gone(templateID)
		}
	}
	limit, err := g.prime(ctx, shopID, templateID)
	if err != nil {
		return nil, false, err
	}
	a := Attempt{Item: item, Shop: shopID, Customer: customerID, Qty: 1, Limit: limit, Key: key, OrderID: commerce.NewID("cpn")}
	t, err := g.eng.Admit(ctx, a)
	if errors.Is(err, ErrUnknownItem) {
		// The engine lost the item (Redis restarted without its data):
		// prime it again from the database, as flash sales are, and retry.
		if a.Limit, err = g.reprime(ctx, shopID, templateID); err != nil {
			return nil, false, err
		}
		t, err = g.eng.Admit(ctx, a)
	}
	switch {
	case errors.Is(err, ErrSoldOut):
		return nil, false, gone(templateID)
	case errors.Is(err, ErrOverLimit):
		return nil, false, commerce.Conflict("claim_limit_reached", "customer %s already claimed %d of %s", customerID, limit, templateID)
	case errors.Is(err, ErrInProgress):
		return nil, false, &commerce.Error{Kind: commerce.KindConflict, Code: "request_in_progress", Field: "Idempotency-Key",
			Detail: "a request with this Idempotency-Key is still being processed; retry shortly"}
	case err != nil:
		return nil, false, &commerce.Error{Kind: commerce.KindUnavailable, Code: "admission_unavailable", Detail: "coupon-grab admission is unavailable; nothing was claimed, retry shortly"}
	}
	if t.Replay {
		w, err := g.iss.Wallet(ctx, shopID, customerID)
		if err != nil {
			return nil, false, err
		}
		for _, list := range [][]promotion.Coupon{w.Valid, w.Used, w.Expired} {
			for i := range list {
				if list[i].ID == t.OrderID {
					return &list[i], true, nil
				}
			}
		}
		return nil, false, &commerce.Error{Kind: commerce.KindConflict, Code: "idempotency_key_reused", Field: "Idempotency-Key",
			Detail: "this Idempotency-Key was used for a different request"}
	}
	// An Abort or Confirm that fails leaves the admission pending; the
	// engine's reconciler settles it by the coupon after its grace period
	// (the Redis engine: EngineOptions.Coupons), so the answer stands.
	c, err := g.iss.ClaimCouponAs(ctx, shopID, templateID, customerID, t.OrderID)
	if err != nil {
		_ = g.eng.Abort(ctx, t)
		if ce, ok := commerce.AsError(err); ok && ce.Code == "coupons_sold_out" {
			return nil, false, gone(templateID)
		}
		return nil, false, err
	}
	_ = g.eng.Confirm(ctx, t)
	return c, false, nil
}

func gone(templateID string) error {
	return commerce.Conflict("coupons_sold_out", "coupon template %s has no coupons left", templateID)
}
