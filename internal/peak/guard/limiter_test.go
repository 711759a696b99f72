package guard

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/clock"
)

var ctx = context.Background()

func testClock() *clock.Settable { return clock.At(time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)) }

func allow(t *testing.T, lim Limiter, key string, l Limit) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := lim.Allow(ctx, key, l)
	if err != nil {
		t.Fatal(err)
	}
	return ok, retry
}

func TestTokenBucketRefusesPastTheBurstAndRefillsAtTheRate(t *testing.T) {
	clk := testClock()
	lim := NewMemoryLimiter(clk.Now)
	l := Limit{Rate: 2, Per: time.Second, Burst: 3}
	for i := 0; i < 3; i++ {
		if ok, _ := allow(t, lim, "k", l); !ok {
			t.Fatalf("attempt %d of a burst of 3 refused", i+1)
		}
	}
	ok, retry := allow(t, lim, "k", l)
	if ok {
		t.Fatal("the 4th attempt at once was allowed; the burst is 3")
	}
	if retry != 500*time.Millisecond {
		t.Fatalf("retry after %s, want 500ms (one token at 2 per second)", retry)
	}
	clk.Advance(499 * time.Millisecond)
	if ok, _ := allow(t, lim, "k", l); ok {
		t.Fatal("allowed 1 ms before a token was back")
	}
	clk.Advance(time.Millisecond)
	if ok, _ := allow(t, lim, "k", l); !ok {
		t.Fatal("refused although a token had refilled")
	}
	if ok, _ := allow(t, lim, "k", l); ok {
		t.Fatal("allowed twice on one refilled token")
	}
	clk.Advance(time.Hour)
	for i := 0; i < 3; i++ {
		if ok, _ := allow(t, lim, "k", l); !ok {
			t.Fatalf("after an idle hour, attempt %d refused: the bucket refills to its burst", i+1)
		}
	}
	if ok, _ := allow(t, lim, "k", l); ok {
		t.Fatal("the bucket refilled past its burst")
	}
}

func TestEachKeyHasItsOwnBucketAndZeroRateIsNoLimit(t *testing.T) {
	lim := NewMemoryLimiter(testClock().Now)
	l := Limit{Rate: 1, Per: time.Minute}
	if ok, _ := allow(t, lim, "a", l); !ok {
		t.Fatal("first attempt of a refused")
	}
	if ok, _ := allow(t, lim, "a", l); ok {
		t.Fatal("second attempt of a allowed; burst 0 means burst = rate = 1")
	}
	if ok, _ := allow(t, lim, "b", l); !ok {
		t.Fatal("b refused because of a")
	}
	for i := 0; i < 1000; i++ {
		if ok, _ := allow(t, lim, "a", Limit{}); !ok {
			t.Fatal("a zero limit refused")
		}
	}
}

func TestAChangedLimitAppliesToAnExistingBucket(t *testing.T) {
	clk := testClock()
	lim := NewMemoryLimiter(clk.Now)
	slow := Limit{Rate: 1, Per: time.Second}
	allow(t, lim, "k", slow)
	if ok, _ := allow(t, lim, "k", slow); ok {
		t.Fatal("allowed past a burst of 1")
	}
	// The bucket keeps its (empty) tokens but refills at the new rate.
	fast := Limit{Rate: 1000, Per: time.Second, Burst: 1}
	if ok, retry := allow(t, lim, "k", fast); ok || retry > time.Millisecond {
		t.Fatalf("right after the change: ok %v, retry %s; want refused, retry within 1ms", ok, retry)
	}
	clk.Advance(time.Millisecond)
	if ok, _ := allow(t, lim, "k", fast); !ok {
		t.Fatal("1 ms later at 1000/s still refused: the new rate did not apply")
	}
}

func TestIdleBucketsAreDroppedSoMemoryFollowsActiveKeys(t *testing.T) {
	clk := testClock()
	m := newMemoryLimiter(clk.Now)
	l := Limit{Rate: 10, Per: time.Second, Burst: 20} // full again 2 s after the last attempt
	for i := 0; i < 10000; i++ {
		allow(t, m, fmt.Sprintf("old-%d", i), l)
	}
	if n := m.size(); n != 10000 {
		t.Fatalf("%d buckets after 10000 keys", n)
	}
	clk.Advance(sweepEvery + time.Second)
	for i := 0; i < 10000; i++ {
		allow(t, m, fmt.Sprintf("new-%d", i), l)
	}
	if n := m.size(); n != 10000 {
		t.Fatalf("%d buckets, want the 10000 active ones: idle buckets were kept", n)
	}
	// A bucket still refilling is kept: dropping it would hand out a full one.
	clk.Advance(sweepEvery)
	busy := Limit{Rate: 1, Per: time.Hour, Burst: 1}
	allow(t, m, "slow", busy)
	clk.Advance(sweepEvery + time.Second)
	for i := 0; i < 1000; i++ {
		allow(t, m, fmt.Sprintf("later-%d", i), l)
	}
	if ok, _ := allow(t, m, "slow", busy); ok {
		t.Fatal("a bucket still refilling was dropped and came back full")
	}
}
