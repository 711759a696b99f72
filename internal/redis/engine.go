// Package redis holds Carnival's Redis adapters for running several nodes
// over one PostgreSQL: the flash-sale admission engine (peak.Engine) and
// the rate limits. Each sits behind the interface its domain package
// declares; nothing else in Carnival imports go-redis.
//
// The admission engine keeps an item's counters in Redis and changes them
// only with Lua scripts, so every node sees the same stock, per-customer
// units and idempotency keys, and admission stays one round trip. Redis is
// not the record: an admitted attempt becomes an order in the database,
// whose own conditional update is the arbiter. A Redis fault can lose
// sales (fail closed), never oversell.
package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/peak"
)

// Defaults of EngineOptions.
const (
	DefaultPrefix     = "carnival"
	DefaultGrace      = 30 * time.Second
	DefaultSoldOutTTL = 100 * time.Millisecond
	DefaultTimeout    = time.Second
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Prefix starts every key ("carnival"); tests use a random one.
	Prefix string
	// Now is the clock (time.Now). It stamps admissions and ages them for
	// the reconciler, and times the local sold-out flag.
	Now func() time.Time
	// Grace is how old an unconfirmed admission must be before Reconcile
	// settles it (30 s): far longer than placing an order takes, so a
	// buy still in flight is never touched.
	Grace time.Duration
	// SoldOutTTL is how long this process trusts that an item is sold out
	// without asking Redis (100 ms). It bounds the staleness of SoldOut:
	// units given back on another node are offered here at most this late.
	SoldOutTTL time.Duration
	// Timeout bounds each call to Redis (1 s), whatever the client's own
	// timeouts and retries are, so a buy fails closed quickly.
	Timeout time.Duration
	// Coupons tells the reconciler whether a coupon grab's admission became
	// a coupon (LookupCoupons); a grab's admission names a coupon, not an
	// order. Without it, grab admissions are left pending, never given back
	// blind.
	Coupons CouponLookup
}

// Engine is the Redis admission engine for scale-out. Several nodes may
// share one Redis: Prime leaves an item Redis already has alone, and all
// changes are atomic scripts. Only the sold-out flag is local.
type Engine struct {
	rdb   goredis.UniversalClient
	opt   EngineOptions
	items sync.Map // item → *local
}

// local is what one process remembers of an item.
type local struct {
	soldOutUntil atomic.Int64 // unix ns; 0 when not known to be sold out
	primed       atomic.Bool  // primed here and not forgotten
}

// NewEngine returns an engine over client. Give the client short timeouts
// (EngineClientOptions does).
func NewEngine(client goredis.UniversalClient, opt EngineOptions) *Engine {
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.SoldOutTTL <= 0 {
		opt.SoldOutTTL = DefaultSoldOutTTL
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	return &Engine{rdb: client, opt: opt}
}

// EngineClientOptions parses a redis:// URL into client options with the
// short timeouts admission needs, unless the URL sets its own
// (dial_timeout, read_timeout, … query parameters). Retries of commands
// and dials are limited to one: admission scripts are idempotent per order
// id, but a down Redis should be reported, not waited for. Under a flood
// of attempts a request that waits longer than PoolTimeout for a
// connection fails closed too.
func EngineClientOptions(url string) (*goredis.Options, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 500 * time.Millisecond
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 500 * time.Millisecond
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 500 * time.Millisecond
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	return o, nil
}

// keys names an item's keys; they share the hash tag {item}.
func (e *Engine) keys(item string) []string {
	b := e.opt.Prefix + ":{" + item + "}:"
	return []string{b + "stock", b + "cust", b + "keys", b + "pending", b + "admits"}
}

// registry is the set of primed items, for the reconciler on any node.
func (e *Engine) registry() string { return e.opt.Prefix + ":flash-items" }

func (e *Engine) local(item string) *local {
	if v, ok := e.items.Load(item); ok {
		return v.(*local)
	}
	v, _ := e.items.LoadOrStore(item, &local{})
	return v.(*local)
}

func (e *Engine) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.opt.Timeout)
}

// Prime implements peak.Engine. Unlike the in-process engine it sets the
// item only if Redis does not have it yet: a node starting while others
// sell must not reset their counters, and what Redis holds then is at
// least as fresh as the database (it includes admissions still in flight).
// Use Reset to replace the state.
func (e *Engine) Prime(ctx context.Context, item string, remaining int64, perCustomer map[string]int64, keys map[string]string) error {
	return e.prime(ctx, "absent", item, remaining, perCustomer, keys)
}

// Reset replaces an item's state with the durable record, dropping the
// admissions still pending (their units are free in that record). It is for
// a caller that knows better than Redis: after a failover to a replica that
// missed writes, or when an operator re-primes a sale. Admissions that are
// in flight while it runs can only leave Redis with more units than the
// database, which refuses them: a reset never oversells.
func (e *Engine) Reset(ctx context.Context, item string, remaining int64, perCustomer map[string]int64, keys map[string]string) error {
	return e.prime(ctx, "reset", item, remaining, perCustomer, keys)
}

func (e *Engine) prime(ctx context.Context, mode, item string, remaining int64, perCustomer map[string]int64, keys map[string]string) error {
	args := make([]any, 0, 3+2*len(perCustomer)+2*len(keys))
	args = append(args, mode, remaining, 0)
	n := 0
	for c, u := range perCustomer {
		if u > 0 {
			args = append(args, c, u)
			n++
		}
	}
	args[2] = n
	for k, o := range keys {
		args = append(args, k, o)
	}
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	if err := primeScript.Run(ctx, e.rdb, e.keys(item), args...).Err(); err != nil {
		return fmt.Errorf("prime %s in redis: %w", item, err)
	}
	// The registry lives outside the item's hash slot, so it is a second
	// command; an item missing from it is still reconciled by the nodes
	// that primed it.
	if err := e.rdb.SAdd(ctx, e.registry(), item).Err(); err != nil {
		return fmt.Errorf("register %s in redis: %w", item, err)
	}
	l := e.local(item)
	l.primed.Store(true)
	l.soldOutUntil.Store(0)
	return nil
}

// Admit implements peak.Engine in one script: the idempotency key, the
// stock, the customer's limit, and a trace of the admission in the item's
// stream. Any Redis error is returned as is (not a peak error), so the buy
// fails closed with nothing taken that could not be recorded.
func (e *Engine) Admit(ctx context.Context, a peak.Attempt) (peak.Ticket, error) {
	cctx, cancel := e.ctx(ctx)
	defer cancel()
	now := e.opt.Now()
	res, err := admitScript.Run(cctx, e.rdb, e.keys(a.Item), a.Customer, a.Qty, a.Limit, a.Key, a.OrderID, a.Shop, now.UnixMilli()).Slice()
	if err != nil {
		// The script may have run and only its reply been lost: give the
		// admission back if it is there (a no-op if it is not). Should
		// this fail too, the reconciler settles it after the grace period.
		actx, cancel := e.ctx(context.WithoutCancel(ctx))
		defer cancel()
		_ = abortScript.Run(actx, e.rdb, e.keys(a.Item), a.OrderID).Err()
		return peak.Ticket{}, fmt.Errorf("admit to %s in redis: %w", a.Item, err)
	}
	status, _ := res[0].(string)
	first, _ := res[1].(string)
	stock, _ := res[2].(int64)
	if stock <= 0 && (status == "ok" || status == "soldout") {
		e.local(a.Item).soldOutUntil.Store(now.Add(e.opt.SoldOutTTL).UnixNano())
	}
	switch status {
	case "ok":
		return peak.Ticket{Attempt: a}, nil
	case "replay":
		t := peak.Ticket{Attempt: a, Replay: true}
		t.OrderID = first
		return t, nil
	case "busy":
		return peak.Ticket{}, peak.ErrInProgress
	case "soldout":
		return peak.Ticket{}, peak.ErrSoldOut
	case "limit":
		return peak.Ticket{}, peak.ErrOverLimit
	case "unknown":
		return peak.Ticket{}, peak.ErrUnknownItem
	}
	return peak.Ticket{}, fmt.Errorf("admit to %s in redis: unexpected answer %v", a.Item, res)
}

// Confirm implements peak.Engine: the key now replays the order, and the
// admission leaves the stream.
func (e *Engine) Confirm(ctx context.Context, t peak.Ticket) error {
	if t.Replay {
		return nil
	}
	return e.confirm(ctx, t.Item, t.OrderID, t.Key)
}

func (e *Engine) confirm(ctx context.Context, item, order, key string) error {
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	if err := confirmScript.Run(ctx, e.rdb, e.keys(item), order, key).Err(); err != nil {
		return fmt.Errorf("confirm %s on %s in redis: %w", order, item, err)
	}
	return nil
}

// Abort implements peak.Engine. It gives back what the admission's stream
// entry recorded, once, however often it is called.
func (e *Engine) Abort(ctx context.Context, t peak.Ticket) error {
	if t.Replay {
		return nil
	}
	_, err := e.abort(ctx, t.Item, t.OrderID)
	return err
}

func (e *Engine) abort(ctx context.Context, item, order string) (bool, error) {
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	n, err := abortScript.Run(ctx, e.rdb, e.keys(item), order).Int()
	if err != nil {
		return false, fmt.Errorf("abort %s on %s in redis: %w", order, item, err)
	}
	if n == 1 {
		e.local(item).soldOutUntil.Store(0)
	}
	return n == 1, nil
}

// Return implements peak.Engine. An item Redis does not have (its sale
// ended) is left alone, as the in-process engine does.
func (e *Engine) Return(ctx context.Context, item, customer string, qty int64) error {
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	n, err := returnScript.Run(ctx, e.rdb, e.keys(item)[:2], customer, qty).Int()
	if err != nil {
		return fmt.Errorf("return %d of %s in redis: %w", qty, item, err)
	}
	if n == 1 {
		e.local(item).soldOutUntil.Store(0)
	}
	return nil
}

// SoldOut implements peak.Engine from this process's memory alone: true
// for SoldOutTTL after an admission here found (or left) no units. Units
// given back on another node are thus offered here at most SoldOutTTL
// late; units given back in this process clear the flag at once. A false
// answer costs nothing either: Admit asks Redis.
func (e *Engine) SoldOut(item string) bool {
	v, ok := e.items.Load(item)
	if !ok {
		return false
	}
	until := v.(*local).soldOutUntil.Load()
	return until != 0 && e.opt.Now().UnixNano() < until
}

// Forget implements peak.Engine: the item's keys go (its sale ended).
func (e *Engine) Forget(ctx context.Context, item string) error {
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	e.items.Delete(item)
	if err := e.rdb.Del(ctx, e.keys(item)...).Err(); err != nil {
		return fmt.Errorf("forget %s in redis: %w", item, err)
	}
	if err := e.rdb.SRem(ctx, e.registry(), item).Err(); err != nil {
		return fmt.Errorf("forget %s in redis: %w", item, err)
	}
	return nil
}

// Remaining reports the units Redis would still admit; false if the item
// is not primed (for tests and the console).
func (e *Engine) Remaining(ctx context.Context, item string) (int64, bool, error) {
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	n, err := e.rdb.Get(ctx, e.keys(item)[0]).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s in redis: %w", item, err)
	}
	return n, true, nil
}

var _ peak.Engine = (*Engine)(nil)
