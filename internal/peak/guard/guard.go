// Package guard is the anti-abuse guard of the peak-load paths (flash-sale
// buys, coupon claims): rate limits per customer, device and IP, and
// failure-based blocking — too many failed attempts in a window block the
// customer, device or IP for a while. It records every block and every
// refusal with the rule that made it, for the console, and lets an operator
// list and lift blocks.
//
// Check runs on every attempt, at tens of thousands a second, so it never
// reads the database: active blocks live in memory (loaded at start,
// refreshed from the store every few seconds so instances converge, updated
// at once in the instance that blocks or lifts), rate limits are token
// buckets in process or GCRA in Redis (internal/redis), and refusals are
// counted and written in the background in batches.
//
// Rate limits and failure counts are kept per shop, scope, dimension and key:
// a shopper's attempts at one sale do not use up their allowance at another.
// Blocks are per shop, dimension and key, across scopes: an IP caught guessing
// coupon codes at one claim is blocked at every sale and claim of the shop,
// since an abuser refused at one scope simply moves on to the next.
package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Subject is who makes an attempt. Empty parts are not limited or blocked.
type Subject struct {
	CustomerID string
	Device     string
	IP         string
}

// Refusal is the error Check returns when an attempt must not go ahead. A
// handler answers 429 with Retry-After for RuleRateLimit, and 403 (with
// Retry-After, the block's end) for RuleBlocked.
type Refusal struct {
	Rule       string // RuleRateLimit or RuleBlocked
	Dimension  string // DimCustomer, DimDevice or DimIP
	Key        string
	RetryAfter time.Duration
	Blocked    bool
	BlockID    string // the block that refused, for RuleBlocked
}

func (r *Refusal) Error() string {
	if r.Blocked {
		return fmt.Sprintf("%s %s is blocked for %s", r.Dimension, r.Key, r.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("too many attempts by %s %s; retry in %s", r.Dimension, r.Key, r.RetryAfter)
}

// AsRefusal unwraps err to a *Refusal, if it is one.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// Options configure a Guard. Zero values take the defaults.
type Options struct {
	Now    func() time.Time
	NewID  func(prefix string) string
	Logger *slog.Logger
	// Refresh is how often blocks made or lifted by other instances are
	// picked up (default 2 s; negative: never, tests call Refresh).
	Refresh time.Duration
	// FlushEvery is how often refusal records are written (default 1 s;
	// negative: only on Flush and Close).
	FlushEvery time.Duration
	// QueueSize bounds the refusals waiting to be written (default 65 536);
	// past it they are dropped and counted, never waited for.
	QueueSize int
	// BatchSize is the most records written in one transaction (default 1000).
	BatchSize int
	// PolicyTTL is how long a shop's default policy is cached (default 5 s).
	PolicyTTL time.Duration
	// TrustedIP reports an address of a trusted proxy (--trusted-proxies).
	// Such an address stands for everyone behind the proxy: the guard
	// never blocks it, nor enforces a block of it made elsewhere, nor
	// rate-limits it. Nil trusts none.
	TrustedIP func(ip string) bool
}

// refreshOverlap is how far back each refresh looks before the previous
// one started, to cover clock skew between instances and transactions that
// commit after their rows' timestamps.
const refreshOverlap = time.Minute

// maxKeyLen is the longest key kept as given; longer ones (a client sending
// a huge device id) are replaced by a hash, bounding memory and rows.
const maxKeyLen = 128

// Guard applies policies to attempts. Safe for concurrent use.
type Guard struct {
	store Store
	lim   Limiter
	now   func() time.Time
	newID func(string) string
	log   *slog.Logger
	opts  Options

	blocks   blockTable
	fails    failTable
	rec      *recorder
	policies sync.Map // shop id → *cachedPolicy

	refreshMu sync.Mutex // orders refreshes and lifts, so a refresh never brings back a block lifted meanwhile
	since     time.Time  // when the last refresh started

	blocksMade atomic.Uint64

	stop      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
}

type cachedPolicy struct {
	p  Policy
	at time.Time
}

// New returns a Guard over store and lim, with the active blocks loaded.
// It fails rather than start without them: a guard that forgot its blocks
// would let blocked abusers back in.
func New(ctx context.Context, store Store, lim Limiter, opts Options) (*Guard, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = commerce.NewID
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Refresh == 0 {
		opts.Refresh = 2 * time.Second
	}
	if opts.FlushEvery == 0 {
		opts.FlushEvery = time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1 << 16
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.PolicyTTL <= 0 {
		opts.PolicyTTL = 5 * time.Second
	}
	if opts.TrustedIP == nil {
		opts.TrustedIP = func(string) bool { return false }
	}
	if lim == nil {
		lim = NewMemoryLimiter(opts.Now)
	}
	g := &Guard{store: store, lim: lim, now: opts.Now, newID: opts.NewID, log: opts.Logger, opts: opts,
		stop: make(chan struct{}), loopDone: make(chan struct{})}
	g.blocks.init()
	g.fails.init()
	now := g.now()
	active, err := store.ActiveBlocks(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("load guard blocks: %w", err)
	}
	for i := range active {
		g.blocks.apply(&active[i], now)
	}
	g.since = now
	g.rec = newRecorder(store, g.newID, g.log, opts)
	go g.loop()
	return g, nil
}

func (g *Guard) loop() {
	defer close(g.loopDone)
	if g.opts.Refresh < 0 {
		<-g.stop
		return
	}
	t := time.NewTicker(g.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := g.Refresh(ctx); err != nil {
				g.log.Warn("guard refresh", "err", err)
			}
			cancel()
		}
	}
}

// Close stops the refresh and writes the refusals still queued.
func (g *Guard) Close() {
	g.closeOnce.Do(func() {
		close(g.stop)
		<-g.loopDone
		g.rec.close()
	})
}

// Refresh picks up blocks made or lifted elsewhere since the last refresh
// and forgets expired blocks and stale failure counts.
func (g *Guard) Refresh(ctx context.Context) error {
	g.refreshMu.Lock()
	defer g.refreshMu.Unlock()
	start := g.now()
	bs, err := g.store.BlocksChangedSince(ctx, g.since.Add(-refreshOverlap))
	if err != nil {
		return err
	}
	for i := range bs {
		g.blocks.apply(&bs[i], start)
	}
	g.since = start
	g.blocks.sweep(start)
	g.fails.sweep(start)
	return nil
}

// Flush writes the refusal records queued so far and returns when they are
// written.
func (g *Guard) Flush() { g.rec.flush() }

// Metrics are the guard's counters since start, for Prometheus.
type Metrics struct {
	RateLimited    uint64 // attempts refused by a rate limit
	BlockedRefused uint64 // attempts refused by a block
	BlocksMade     uint64 // blocks created by failed attempts
	RecordsDropped uint64 // refusals not recorded: queue full or write failed
}

// Metrics returns the counters.
func (g *Guard) Metrics() Metrics {
	return Metrics{RateLimited: g.rec.rateLimited.Load(), BlockedRefused: g.rec.blocked.Load(),
		BlocksMade: g.blocksMade.Load(), RecordsDropped: g.rec.dropped.Load()}
}

// normKey returns key, or a hash of it when it is too long to keep or is
// not text by commerce's rule (NUL, control characters, invalid UTF-8,
// which PostgreSQL refuses or the API would not show): its block can then
// be stored, listed and lifted like any other.
func normKey(key string) string {
	if len(key) <= maxKeyLen && commerce.TextProblem(key, false) == "" {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

type dimKey struct {
	dim, key string
	l        Limit
}

// dims lists the subject's keys; a trusted proxy's address is left out
// (it is everyone behind the proxy).
func (g *Guard) dims(s Subject, p *Policy) [3]dimKey {
	ip := normKey(s.IP)
	if ip != "" && g.opts.TrustedIP(ip) {
		ip = ""
	}
	return [3]dimKey{{DimIP, ip, p.PerIP}, {DimDevice, normKey(s.Device), p.PerDevice}, {DimCustomer, normKey(s.CustomerID), p.PerCustomer}}
}

// LimitKey is the key a rate limit is kept under: per shop, scope,
// dimension and key. Scope must not contain "|".
func LimitKey(shopID, scope, dim, key string) string {
	return shopID + "|" + scope + "|" + dim + "|" + key
}

// Check decides whether an attempt by s at scope ("flash:<sale id>",
// "claim:<template id>") may go ahead under p. It returns nil to go ahead;
// a *Refusal when s is blocked on any dimension (Rule "blocked") or over a
// rate limit (Rule "rate_limit", IP checked first, then device, then
// customer); or the Limiter's error as is when it could not decide (Redis
// down): the caller answers 503 — the guard fails closed. It reads no
// database, and records refusals in the background.
func (g *Guard) Check(ctx context.Context, shopID, scope string, s Subject, p Policy) error {
	return g.check(ctx, shopID, scope, s, p, true)
}

// Limit is Check with the rate limits alone: blocks do not refuse. Placing
// a plain order is limited so, as flash buys are, but a shopper blocked for
// guessing coupon codes may still buy without codes.
func (g *Guard) Limit(ctx context.Context, shopID, scope string, s Subject, p Policy) error {
	return g.check(ctx, shopID, scope, s, p, false)
}

func (g *Guard) check(ctx context.Context, shopID, scope string, s Subject, p Policy, blocks bool) error {
	now := g.now()
	ds := g.dims(s, &p)
	if blocks && g.blocks.any() {
		for _, d := range ds {
			if d.key == "" {
				continue
			}
			if b := g.blocks.get(blockKey{shopID, d.dim, d.key}, now); b != nil {
				g.rec.add(event{shop: shopID, scope: scope, rule: RuleBlocked, dim: d.dim, key: d.key, blockID: b.ID, at: now})
				return &Refusal{Rule: RuleBlocked, Dimension: d.dim, Key: d.key, RetryAfter: b.Until.Sub(now), Blocked: true, BlockID: b.ID}
			}
		}
	}
	for _, d := range ds {
		if d.key == "" || !d.l.On() {
			continue
		}
		ok, retry, err := g.lim.Allow(ctx, LimitKey(shopID, scope, d.dim, d.key), d.l)
		if err != nil {
			return err
		}
		if !ok {
			g.rec.add(event{shop: shopID, scope: scope, rule: RuleRateLimit, dim: d.dim, key: d.key, at: now})
			return &Refusal{Rule: RuleRateLimit, Dimension: d.dim, Key: d.key, RetryAfter: retry}
		}
	}
	return nil
}

// Fail records one failed attempt by s at scope (an invalid coupon code, a
// purchase limit exceeded, a refused attempt) for reason. On each dimension
// the FailLimit-th failure within FailWindow blocks that key for BlockFor,
// across the shop's scopes (an IP only when p.BlockIPs, and never a trusted
// proxy's); the block is written to the store with an audit
// entry before Fail returns, and applies in this instance at once. Failures
// of a key already blocked are not counted, so concurrent failures make one
// block. A block the store refuses is logged and dropped, never kept in
// memory only.
func (g *Guard) Fail(ctx context.Context, shopID, scope string, s Subject, p Policy, reason string) {
	p = p.Effective()
	if p.FailLimit < 0 {
		return
	}
	now := g.now()
	for _, d := range g.dims(s, &p) {
		if d.key == "" || (d.dim == DimIP && !p.BlockIPs) {
			continue
		}
		bk := blockKey{shopID, d.dim, d.key}
		n, ok := g.fails.fail(failKey{shopID, scope, d.dim, d.key}, now, p, func() bool { return g.blocks.get(bk, now) != nil })
		if !ok {
			continue
		}
		b := &Block{ID: g.newID("blk"), ShopID: shopID, Dimension: d.dim, Key: d.key, Scope: scope, Rule: RuleFailLimit, Reason: reason,
			Failures: n, WindowSeconds: int64(p.FailWindow / time.Second), CreatedAt: now, Until: now.Add(p.BlockFor), UpdatedAt: now}
		if !g.blocks.add(b, now) {
			continue // another scope blocked the key a moment ago
		}
		g.blocksMade.Add(1)
		g.persist(ctx, b)
	}
}

func (g *Guard) persist(ctx context.Context, b *Block) {
	after, _ := json.Marshal(b)
	audit := &commerce.AuditEntry{ID: g.newID("aud"), ShopID: b.ShopID, Actor: "guard", Action: "guard.block", Entity: "guard_block",
		EntityID: b.ID, After: after, At: b.CreatedAt}
	// The request may be over; the block must still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := g.store.SaveBlock(ctx, b, audit); err != nil {
		// A block no admin can see or lift is not kept: the key is let
		// through, and blocked again if it keeps failing once the store
		// takes blocks.
		g.blocks.remove(blockKey{b.ShopID, b.Dimension, b.Key})
		g.log.Error("guard: save block failed; the block is dropped", "err", err, "block", b.ID, "shop", b.ShopID, "dimension", b.Dimension)
		return
	}
	g.log.Info("guard: blocked", "block", b.ID, "shop", b.ShopID, "dimension", b.Dimension, "scope", b.Scope, "reason", b.Reason, "until", b.Until)
}

// ListBlocks pages the shop's blocks, newest first; activeOnly keeps those
// neither lifted nor expired.
func (g *Guard) ListBlocks(ctx context.Context, shopID string, activeOnly bool, page commerce.Page) ([]Block, error) {
	now := g.now()
	var at *time.Time
	if activeOnly {
		at = &now
	}
	bs, err := g.store.ListBlocks(ctx, shopID, at, page.Normalized())
	if err != nil {
		return nil, err
	}
	for i := range bs {
		bs[i].Active = bs[i].ActiveAt(now)
	}
	return bs, nil
}

// Lift ends block blockID of the shop, and any other block of the same
// key, now, with an audit entry by actor. The key is let through at once in
// this instance and within one refresh in the others.
func (g *Guard) Lift(ctx context.Context, shopID, blockID, actor string) error {
	g.refreshMu.Lock()
	defer g.refreshMu.Unlock()
	now := g.now()
	after, _ := json.Marshal(map[string]any{"lifted_at": now, "lifted_by": actor})
	audit := &commerce.AuditEntry{ID: g.newID("aud"), ShopID: shopID, Actor: actor, Action: "guard.lift", Entity: "guard_block",
		EntityID: blockID, After: after, At: now}
	b, err := g.store.LiftBlock(ctx, shopID, blockID, now, actor, audit)
	switch {
	case errors.Is(err, commerce.ErrNotFound):
		return commerce.NotFound("guard_block", blockID)
	case errors.Is(err, commerce.ErrStale):
		return commerce.Conflict("block_already_lifted", "block %s was already lifted", blockID)
	case err != nil:
		return err
	}
	g.blocks.remove(blockKey{shopID, b.Dimension, b.Key})
	return nil
}

// ListRefusals pages the shop's refusal records, newest first.
func (g *Guard) ListRefusals(ctx context.Context, shopID string, f RefusalFilter, page commerce.Page) ([]RefusalRecord, error) {
	if f.Rule != "" && f.Rule != RuleRateLimit && f.Rule != RuleBlocked {
		return nil, commerce.Invalid("rule", "invalid_enum", "rule must be %s or %s", RuleRateLimit, RuleBlocked)
	}
	return g.store.ListRefusals(ctx, shopID, f, page.Normalized())
}

// ShopPolicy returns the shop's default policy (DefaultPolicy until an
// operator saves one), cached for a few seconds so the peak paths can ask
// on every attempt. A sale or coupon template with a policy of its own
// passes that to Check instead.
func (g *Guard) ShopPolicy(ctx context.Context, shopID string) (Policy, error) {
	now := g.now()
	if v, ok := g.policies.Load(shopID); ok {
		if c := v.(*cachedPolicy); now.Sub(c.at) < g.opts.PolicyTTL {
			return c.p, nil
		}
	}
	p, err := g.store.GuardPolicy(ctx, shopID)
	if errors.Is(err, commerce.ErrNotFound) {
		p, err = new(DefaultPolicy()), nil
	}
	if err != nil {
		return Policy{}, err
	}
	g.policies.Store(shopID, &cachedPolicy{p: *p, at: now})
	return *p, nil
}

// SetShopPolicy validates and saves the shop's default policy, audited.
func (g *Guard) SetShopPolicy(ctx context.Context, shopID, actor string, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	before, err := g.ShopPolicy(ctx, shopID)
	if err != nil {
		return err
	}
	now := g.now()
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(p)
	audit := &commerce.AuditEntry{ID: g.newID("aud"), ShopID: shopID, Actor: actor, Action: "guard.policy", Entity: "guard_policy",
		EntityID: shopID, Before: b, After: a, At: now}
	if err := g.store.SaveGuardPolicy(ctx, shopID, p, now, audit); err != nil {
		return err
	}
	g.policies.Store(shopID, &cachedPolicy{p: p, at: now})
	return nil
}

// MaskKey hides most of an IP address or device id for readers who may see
// that abuse happened but not who: "203.0.113.*", "a1b2****". Customer ids
// are opaque and kept.
func MaskKey(dim, key string) string {
	switch dim {
	case DimIP:
		if i := strings.LastIndexByte(key, '.'); i > 0 && !strings.Contains(key, ":") {
			return key[:i] + ".*"
		}
		parts := strings.Split(key, ":")
		if len(parts) > 3 {
			return strings.Join(parts[:3], ":") + ":*"
		}
		return "*"
	case DimDevice:
		if len(key) <= 4 {
			return "****"
		}
		return key[:4] + "****"
	}
	return key
}
