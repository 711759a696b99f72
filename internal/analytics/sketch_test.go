package analytics_test

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/carnivalhq/carnival/internal/analytics"
)

// The error the docs state for a sketch count (docs/METRICS.md): exact
// up to 1000 visitors (the sparse form keeps 25-bit hashes: n²/2²⁶
// expected collisions, 0.015 at 1000), within ±0.1 % up to 5000, and
// within ±2.5 % (about three standard errors of 0.81 % at precision 14)
// at any size.
func TestSketchErrorAgainstExactCounts(t *testing.T) {
	worst := map[bool]float64{}
	for _, n := range []int{1, 10, 100, 1000, 5000, 20_000, 100_000, 1_000_000} {
		for seed := 0; seed < 3; seed++ {
			// Three day sketches overlapping by a third, each stored, then
			// merged through their stored bytes as a range query does.
			var days [3]*hyperloglog.Sketch
			for d := range days {
				days[d] = analytics.NewSketch()
			}
			for i := 0; i < n; i++ {
				h := analytics.HashVisitor("a:" + strconv.Itoa(seed) + "-" + strconv.Itoa(i))
				days[i%3].InsertHash(h)
				days[(i+1)%3].InsertHash(h)
			}
			var all []byte
			for d := range days {
				b, err := analytics.MergeStored(all, days[d])
				if err != nil {
					t.Fatal(err)
				}
				all = b
			}
			got := analytics.NewSketch()
			if err := got.UnmarshalBinary(all); err != nil {
				t.Fatal(err)
			}
			est := float64(got.Estimate())
			rel := (est - float64(n)) / float64(n)
			small := n <= 5000
			worst[small] = max(worst[small], math.Abs(rel))
			if n <= 1000 && est != float64(n) || small && math.Abs(rel) > 0.001 {
				t.Errorf("n=%d seed %d: estimate %v, want %d", n, seed, est, n)
			}
			if math.Abs(rel) > 0.025 {
				t.Errorf("n=%d seed %d: estimate %v, exact %d, error %.2f%%", n, seed, est, n, rel*100)
			}
		}
	}
	t.Logf("worst relative error: %.3f%% up to 5000, %.3f%% above", worst[true]*100, worst[false]*100)
}

func TestBuildSketchesCountsALinkedVisitorOnceAndKeepsStepsApart(t *testing.T) {
	vd := map[analytics.VisitorDayKey]int64{
		{ShopID: "s", Day: 20261111, Visitor: "a:x", Channel: "wx"}: analytics.StepVisit | analytics.StepProduct,
		{ShopID: "s", Day: 20261111, Visitor: "c:1", Channel: "wx"}: analytics.StepVisit | analytics.StepPaid,
		{ShopID: "s", Day: 20261111, Visitor: "a:y", Channel: "wx"}: analytics.StepVisit,
		{ShopID: "s", Day: 20261112, Visitor: "a:y", Channel: ""}:   analytics.StepOrder,
	}
	calls := 0
	sks, err := analytics.BuildSketches(vd, nil, func(shop, v string) (string, error) {
		calls++
		if v == "a:x" {
			return "c:1", nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("resolve called %d times, want once per distinct visitor (3)", calls)
	}
	est := func(day int64, ch string, kind int) uint64 {
		s := sks[analytics.SketchKey{ShopID: "s", Day: day, Channel: ch, Kind: kind}]
		if s == nil {
			return 0
		}
		return s.Estimate()
	}
	// a:x is c:1: two visitors on the 11th, not three.
	got := fmt.Sprint(est(20261111, "wx", 0), est(20261111, "wx", 1), est(20261111, "wx", 2), est(20261111, "wx", 4), est(20261112, "", 0), est(20261112, "", 3))
	if want := "2 1 0 1 0 1"; got != want {
		t.Errorf("visit, product, cart, paid on the 11th; visit, order on the 12th = %s, want %s", got, want)
	}
	// Shop-wide (all channels and campaigns): visit, product and paid on
	// the 11th, order on the 12th.
	w := analytics.SketchShopWide
	got = fmt.Sprint(est(20261111, "", w), est(20261111, "", w+1), est(20261111, "", w+4), est(20261112, "", w), est(20261112, "", w+3))
	if want := "2 1 1 0 1"; got != want {
		t.Errorf("shop-wide visit, product, paid on the 11th; visit, order on the 12th = %s, want %s", got, want)
	}
	if len(sks) != 8 {
		t.Errorf("%d sketches, want 4 detailed and 4 shop-wide", len(sks))
	}
}
