package guard

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func benchGuard(b *testing.B) *Guard {
	g, err := New(context.Background(), newMemStore(), nil, Options{Logger: quietLog(), Refresh: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	return g
}

// BenchmarkCheckAllowed is the common case at a sale's start: many
// shoppers, each within their limits, with some blocks in memory.
func BenchmarkCheckAllowed(b *testing.B) {
	g := benchGuard(b)
	p := DefaultPolicy()
	p.PerCustomer = Limit{Rate: 1_000_000, Per: time.Second, Burst: 1_000_000}
	p.PerDevice, p.PerIP = p.PerCustomer, p.PerCustomer
	for i := 0; i < 100; i++ { // blocks exist, so the lookups are not skipped
		s := Subject{IP: "192.0.2." + strconv.Itoa(i)}
		for j := 0; j < 5; j++ {
			g.Fail(context.Background(), shop, "flash:s1", s, p, "x")
		}
	}
	const shoppers = 10000
	subjects := make([]Subject, shoppers)
	for i := range subjects {
		n := strconv.Itoa(i)
		subjects[i] = Subject{CustomerID: "cus_" + n, Device: "dev-" + n, IP: "10.1." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			if err := g.Check(ctx, shop, "flash:s1", subjects[i%shoppers], p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheckRefusedBlocked is an abuser hammering while blocked.
func BenchmarkCheckRefusedBlocked(b *testing.B) {
	g := benchGuard(b)
	p := DefaultPolicy()
	s := Subject{CustomerID: "cus_bad", Device: "dev-bad", IP: "198.51.100.66"}
	for j := 0; j < 5; j++ {
		g.Fail(context.Background(), shop, "flash:s1", s, p, "x")
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := g.Check(ctx, shop, "flash:s1", s, p); err == nil {
				b.Fatal("allowed")
			}
		}
	})
}

// BenchmarkCheckRefusedRateLimited is a bot over its rate limit.
func BenchmarkCheckRefusedRateLimited(b *testing.B) {
	g := benchGuard(b)
	p := DefaultPolicy()
	p.PerIP = Limit{Rate: 1, Per: time.Hour, Burst: 1}
	s := Subject{IP: "198.51.100.67"}
	_ = g.Check(context.Background(), shop, "flash:s1", s, p)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := g.Check(ctx, shop, "flash:s1", s, p); err == nil {
				b.Fatal("allowed")
			}
		}
	})
}

// BenchmarkBaselineOneTokenBucket is the floor Check is compared with in
// the same run: one golang.org/x/time/rate bucket per goroutine, no key
// lookup, no blocks, nothing recorded. Check takes three buckets by key.
func BenchmarkBaselineOneTokenBucket(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		lim := rate.NewLimiter(rate.Inf, 1)
		for pb.Next() {
			if !lim.AllowN(time.Now(), 1) {
				b.Fatal("refused")
			}
		}
	})
}
