package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// GuardPrefix starts every key the guard's limiter writes.
const GuardPrefix = "carnival:guard:"

// Limiter is guard.Limiter over Redis: GCRA (github.com/go-redis/redis_rate),
// one key per limited key, kept only while its bucket is refilling. Each
// key is a hash tag of its own — "rate:carnival:guard:{<shop>|<scope>|<dim>|<key>}"
// — so on Redis Cluster every limit is one slot, and a hot sale's keys
// spread over the nodes instead of piling onto one.
type Limiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

var _ guard.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter over client.
func NewLimiter(client *goredis.Client) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(client), prefix: GuardPrefix}
}

// WithPrefix returns a copy writing its keys under prefix instead, e.g. to
// share one Redis between deployments or tests.
func (l *Limiter) WithPrefix(prefix string) *Limiter {
	cp := *l
	cp.prefix = prefix
	return &cp
}

// Key is the Redis key key is limited under, less redis_rate's "rate:".
func (l *Limiter) Key(key string) string { return l.prefix + "{" + key + "}" }

// Allow takes one attempt from key's bucket. A Redis error is returned, and
// the guard refuses the attempt: it fails closed.
func (l *Limiter) Allow(ctx context.Context, key string, lim guard.Limit) (bool, time.Duration, error) {
	if !lim.On() {
		return true, 0, nil
	}
	burst := lim.Burst
	if burst <= 0 {
		burst = lim.Rate
	}
	res, err := l.rl.Allow(ctx, l.Key(key), redis_rate.Limit{Rate: lim.Rate, Burst: burst, Period: lim.Per})
	if err != nil {
		return false, 0, fmt.Errorf("redis rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, res.RetryAfter, nil
}

// Connect opens a client for url (redis://[user:password@]host:port/db,
// rediss:// for TLS) with timeouts short enough that a Redis outage turns
// into quick refusals rather than requests piling up, and checks it answers.
func Connect(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = time.Second
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = 500 * time.Millisecond
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = 500 * time.Millisecond
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1 // go-redis would retry 3 times with backoff: seconds of waiting per attempt while Redis is down
	}
	c := goredis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", opt.Addr, err)
	}
	return c, nil
}
