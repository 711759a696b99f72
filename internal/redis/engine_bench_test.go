package redis

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/peak"
)

// benchEngines returns the in-process engine and the Redis engine, so one
// run measures both on the same machine at the same moment.
func benchEngines(b *testing.B) map[string]peak.Engine {
	c := testClient(b)
	return map[string]peak.Engine{
		"memory": peak.NewMemory(),
		// The real clock, with a TTL the run cannot outlast.
		"redis": NewEngine(c, EngineOptions{Prefix: testPrefix(b, c), SoldOutTTL: time.Hour}),
	}
}

// BenchmarkAdmit measures one admission from many goroutines: distinct
// customers, no idempotency key, stock that never runs out. With confirm,
// it is the engine's whole part of a successful buy. 32 goroutines per
// core keep requests in flight, as a busy server does: the Redis figure is
// throughput over one connection pool, not one round trip's latency.
func BenchmarkAdmit(b *testing.B) {
	for _, confirm := range []bool{false, true} {
		for _, name := range []string{"memory", "redis"} {
			label := name
			if confirm {
				label += "+confirm"
			}
			b.Run(label, func(b *testing.B) {
				eng := benchEngines(b)[name]
				const item = "fls_bench/sku_1"
				if err := eng.Prime(ctx, item, math.MaxInt32, nil, nil); err != nil {
					b.Fatal(err)
				}
				var n atomic.Int64
				b.SetParallelism(32)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						a := peak.Attempt{Item: item, Customer: fmt.Sprintf("c%d", i), Qty: 1, Limit: 1, OrderID: fmt.Sprintf("ord_%d", i), Shop: "shp_1"}
						t, err := eng.Admit(ctx, a)
						if err != nil {
							b.Fatal(err)
						}
						if confirm {
							if err := eng.Confirm(ctx, t); err != nil {
								b.Fatal(err)
							}
						}
					}
				})
				b.StopTimer()
				_ = eng.Forget(ctx, item)
			})
		}
	}
}

// BenchmarkSoldOut measures the answer most attempts at a hot item get
// once it has sold out.
func BenchmarkSoldOut(b *testing.B) {
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			eng := benchEngines(b)[name]
			const item = "fls_bench/sku_1"
			if err := eng.Prime(ctx, item, 0, nil, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Admit(ctx, peak.Attempt{Item: item, Customer: "c", Qty: 1, Limit: 1, OrderID: "ord_1"}); err != peak.ErrSoldOut {
				b.Fatalf("admit on a sold-out item: %v", err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !eng.SoldOut(item) {
						b.Fatal("not sold out")
					}
				}
			})
			b.StopTimer()
			_ = eng.Forget(ctx, item)
		})
	}
}
