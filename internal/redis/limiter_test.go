package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/redis"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
	"github.com/carnivalhq/carnival/internal/storage/storetest"
)

// RedisURLEnv names the variable that enables the tests against Redis.
const RedisURLEnv = "CARNIVAL_TEST_REDIS_URL"

var ctx = context.Background()

// openLimiter returns a limiter on the Redis named by CARNIVAL_TEST_REDIS_URL
// under a prefix of its own, whose keys are deleted when the test ends; it
// skips the test, saying so, when the variable is not set.
func openLimiter(t *testing.T) (*redis.Limiter, *goredis.Client, string) {
	t.Helper()
	url := os.Getenv(RedisURLEnv)
	if url == "" {
		t.Skipf("Redis limiter not tested: set %s (e.g. redis://127.0.0.1:6379/0)", RedisURLEnv)
	}
	c, err := redis.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		keys, _ := c.Keys(ctx, "rate:"+prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return redis.NewLimiter(c).WithPrefix(prefix), c, prefix
}

func TestRedisRefusesPastTheBurstAndSaysWhenToRetry(t *testing.T) {
	lim, _, _ := openLimiter(t)
	l := guard.Limit{Rate: 2, Per: time.Minute, Burst: 3} // a token every 30 s
	for i := 0; i < 3; i++ {
		ok, _, err := lim.Allow(ctx, "shop|flash:s1|ip|10.0.0.1", l)
		if err != nil || !ok {
			t.Fatalf("attempt %d of a burst of 3: ok %v, %v", i+1, ok, err)
		}
	}
	ok, retry, err := lim.Allow(ctx, "shop|flash:s1|ip|10.0.0.1", l)
	if err != nil || ok {
		t.Fatalf("4th attempt: ok %v, %v; want refused", ok, err)
	}
	if retry <= 29*time.Second || retry > 30*time.Second {
		t.Fatalf("retry after %s, want just under 30s", retry)
	}
	if ok, _, err := lim.Allow(ctx, "shop|flash:s1|ip|10.0.0.2", l); err != nil || !ok {
		t.Fatalf("another key: ok %v, %v; want its own bucket", ok, err)
	}
	if ok, _, err := lim.Allow(ctx, "shop|flash:s1|ip|10.0.0.1", guard.Limit{}); err != nil || !ok {
		t.Fatalf("no limit: ok %v, %v", ok, err)
	}
}

func TestRedisKeysAreHashTaggedAndExpire(t *testing.T) {
	lim, c, prefix := openLimiter(t)
	if _, _, err := lim.Allow(ctx, "shp_1|claim:t1|customer|cus_1", guard.Limit{Rate: 1, Per: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	key := "rate:" + prefix + "{shp_1|claim:t1|customer|cus_1}"
	ttl, err := c.TTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("key %s: ttl %s, want it to live only while refilling (≤ 10s)", key, ttl)
	}
}

// Instances share one Redis, so a shopper cannot multiply their allowance
// by reaching several instances.
func TestGuardsOnOneRedisShareTheLimit(t *testing.T) {
	lim, _, _ := openLimiter(t)
	e := storetest.NewEnv(t, func(t *testing.T) *sqlstore.Store { return storetest.OpenSQLite(t) })
	a, b := newGuard(t, e, lim), newGuard(t, e, lim)
	p := guard.Policy{PerCustomer: guard.Limit{Rate: 2, Per: time.Minute}}
	s := guard.Subject{CustomerID: "cus_1"}
	if err := a.Check(ctx, e.Shop.ID, "flash:s1", s, p); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx, e.Shop.ID, "flash:s1", s, p); err != nil {
		t.Fatal(err)
	}
	r, ok := guard.AsRefusal(a.Check(ctx, e.Shop.ID, "flash:s1", s, p))
	if !ok || r.Rule != guard.RuleRateLimit || r.Dimension != guard.DimCustomer || r.RetryAfter <= 0 {
		t.Fatalf("third attempt across instances: %+v, want a customer rate limit", r)
	}
}

func TestAnUnreachableRedisFailsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	e := storetest.NewEnv(t, func(t *testing.T) *sqlstore.Store { return storetest.OpenSQLite(t) })
	g := newGuard(t, e, redis.NewLimiter(c))
	for i := 0; i < 3; i++ {
		err := g.Check(ctx, e.Shop.ID, "flash:s1", guard.Subject{CustomerID: "cus_1", IP: "10.0.0.1"}, guard.DefaultPolicy())
		if err == nil {
			t.Fatal("Redis is down and the attempt was allowed")
		}
		if _, isRefusal := guard.AsRefusal(err); isRefusal {
			t.Fatalf("err = %v: a Redis outage must not look like the shopper's fault", err)
		}
	}
	// Without limits there is nothing to ask Redis, and nothing to refuse.
	if err := g.Check(ctx, e.Shop.ID, "flash:s1", guard.Subject{CustomerID: "cus_1"}, guard.Policy{}); err != nil {
		t.Fatalf("no limits configured: %v", err)
	}
}

func newGuard(t *testing.T, e *storetest.Env, lim guard.Limiter) *guard.Guard {
	t.Helper()
	g, err := guard.New(ctx, e.Store, lim, guard.Options{Now: e.Clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Refresh: -1, FlushEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}
