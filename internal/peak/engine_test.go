package peak

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestMemoryNeverAdmitsMoreThanPrimedOrOverLimit(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.Prime(ctx, "s/k", 50, map[string]int64{"c0": 2}, nil); err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	var mu sync.Mutex
	per := map[string]int64{"c0": 2}
	var wg sync.WaitGroup
	for i := 0; i < 2000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := fmt.Sprintf("c%d", i%40)
			tk, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: c, Qty: 1, Limit: 2})
			if err != nil {
				if !errors.Is(err, ErrSoldOut) && !errors.Is(err, ErrOverLimit) {
					t.Errorf("admit: %v", err)
				}
				return
			}
			admitted.Add(tk.Qty)
			mu.Lock()
			per[c]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if admitted.Load() != 50 {
		t.Fatalf("admitted %d, want 50", admitted.Load())
	}
	for c, n := range per {
		if n > 2 {
			t.Fatalf("%s admitted %d, limit 2", c, n)
		}
	}
	if !m.SoldOut("s/k") {
		t.Fatal("not sold out")
	}
	if err := m.Return(ctx, "s/k", "c1", 1); err != nil || m.SoldOut("s/k") {
		t.Fatalf("a returned unit must clear sold out (%v)", err)
	}
}

func TestMemoryIdempotencyKeys(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	m.Prime(ctx, "s/k", 2, nil, map[string]string{"old": "ord_1"})
	tk, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "a", Qty: 1, Limit: 1, Key: "old"})
	if err != nil || !tk.Replay || tk.OrderID != "ord_1" {
		t.Fatalf("primed key: %+v %v", tk, err)
	}
	tk, err = m.Admit(ctx, Attempt{Item: "s/k", Customer: "a", Qty: 1, Limit: 1, Key: "new", OrderID: "ord_2"})
	if err != nil || tk.Replay {
		t.Fatalf("new key: %+v %v", tk, err)
	}
	if _, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "a", Qty: 1, Limit: 1, Key: "new"}); !errors.Is(err, ErrInProgress) {
		t.Fatalf("pending key: %v", err)
	}
	m.Confirm(ctx, tk)
	if again, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "a", Qty: 1, Limit: 1, Key: "new"}); err != nil || !again.Replay || again.OrderID != "ord_2" {
		t.Fatalf("confirmed key: %+v %v", again, err)
	}
	// An aborted admission gives the unit and the key back.
	tk3, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "b", Qty: 1, Limit: 1, Key: "third"})
	if err != nil {
		t.Fatal(err)
	}
	m.Abort(ctx, tk3)
	if n, _ := m.Remaining("s/k"); n != 1 {
		t.Fatalf("remaining %d after abort, want 1", n)
	}
	if _, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "b", Qty: 1, Limit: 1, Key: "third"}); err != nil {
		t.Fatalf("retry after abort: %v", err)
	}
	if _, err := m.Admit(ctx, Attempt{Item: "x/y", Customer: "b", Qty: 1, Limit: 1}); !errors.Is(err, ErrUnknownItem) {
		t.Fatalf("unknown item: %v", err)
	}
}

func BenchmarkMemorySoldOut(b *testing.B) {
	m := NewMemory()
	m.Prime(context.Background(), "s/k", 0, nil, nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !m.SoldOut("s/k") {
				b.Fatal("not sold out")
			}
		}
	})
}

func BenchmarkMemoryAdmitAbort(b *testing.B) {
	ctx := context.Background()
	m := NewMemory()
	m.Prime(ctx, "s/k", 1<<40, nil, nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk, err := m.Admit(ctx, Attempt{Item: "s/k", Customer: "c", Qty: 1, Limit: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			m.Abort(ctx, tk)
		}
	})
}
