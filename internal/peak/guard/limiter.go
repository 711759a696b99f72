package guard

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more attempt under key fits l. It reports how
// long to wait when it does not. An error means it could not decide (e.g.
// Redis is unreachable); the guard then refuses rather than allows.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
}

// limiterShards spreads keys over this many locks, so concurrent requests
// for different keys rarely wait on each other.
const limiterShards = 64

// sweepEvery is how often a shard drops its idle buckets.
const sweepEvery = 10 * time.Second

// memoryLimiter keeps one golang.org/x/time/rate token bucket per key.
type memoryLimiter struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
	_       [32]byte // keep neighbouring shards' locks off one cache line
}

type bucket struct {
	lim   *rate.Limiter
	limit Limit
	last  time.Time
}

// NewMemoryLimiter returns the in-process Limiter: a token bucket per key,
// created on first use. A bucket left alone long enough to refill is the
// same as a new one, so each shard drops those every ten seconds: memory
// follows the keys seen within one refill period, not every key ever seen.
// now is the clock (time.Now if nil).
func NewMemoryLimiter(now func() time.Time) Limiter {
	return newMemoryLimiter(now)
}

func newMemoryLimiter(now func() time.Time) *memoryLimiter {
	if now == nil {
		now = time.Now
	}
	m := &memoryLimiter{now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].buckets = map[string]*bucket{}
	}
	return m
}

func (m *memoryLimiter) Allow(_ context.Context, key string, l Limit) (bool, time.Duration, error) {
	if !l.On() {
		return true, 0, nil
	}
	now := m.now()
	sh := &m.shards[maphash.String(m.seed, key)%limiterShards]
	sh.mu.Lock()
	if !now.Before(sh.sweepAt) {
		sh.sweep(now)
	}
	b := sh.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.perSecond()), l.burst()), limit: l} // starts full
		sh.buckets[key] = b
	} else if b.limit != l {
		// The policy changed: keep the tokens, take the new rate and size.
		b.lim.SetLimitAt(now, rate.Limit(l.perSecond()))
		b.lim.SetBurstAt(now, l.burst())
		b.limit = l
	}
	b.last = now
	sh.mu.Unlock()
	if b.lim.AllowN(now, 1) {
		return true, 0, nil
	}
	// Time until one whole token is back.
	missing := 1 - b.lim.TokensAt(now)
	retry := time.Duration(missing / l.perSecond() * float64(time.Second))
	if retry <= 0 {
		retry = time.Millisecond
	}
	return false, retry, nil
}

// sweep drops buckets idle long enough to be full again. Called with mu held.
func (sh *limiterShard) sweep(now time.Time) {
	for k, b := range sh.buckets {
		refill := time.Duration(float64(b.limit.burst()) / b.limit.perSecond() * float64(time.Second))
		if now.Sub(b.last) > refill {
			delete(sh.buckets, k)
		}
	}
	sh.sweepAt = now.Add(sweepEvery)
}

// size counts the buckets held, for tests.
func (m *memoryLimiter) size() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.Lock()
		n += len(m.shards[i].buckets)
		m.shards[i].mu.Unlock()
	}
	return n
}
