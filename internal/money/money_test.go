package money

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMulRateRoundsHalfUp(t *testing.T) {
	tests := []struct {
		amount Money
		rate   Rate
		want   Money
	}{
		{10000, 8500, 8500},
		{999, 8500, 849}, // 849.15 → 849
		{1, 5000, 1},     // 0.5 → 1 (half up)
		{3, 5000, 2},     // 1.5 → 2
		{5, 3333, 2},     // 1.6665 → 2
		{25800, 9500, 24510},
		{0, 8000, 0},
		{MaxAmount, Full, MaxAmount},
	}
	for _, tt := range tests {
		if got := MulRate(tt.amount, tt.rate); got != tt.want {
			t.Errorf("MulRate(%d, %d) = %d, want %d", tt.amount, tt.rate, got, tt.want)
		}
	}
}

func TestAllocateMatchesThePricingExample(t *testing.T) {
	// PRICING.md: 满300减40 on ¥258.00 and ¥59.00 → A 3256, B 744.
	got := Allocate(4000, []Money{25800, 5900})
	if got[0] != 3256 || got[1] != 744 {
		t.Fatalf("Allocate(4000, [25800 5900]) = %v, want [3256 744]", got)
	}
}

func TestAllocateTiesGoToTheEarlierPart(t *testing.T) {
	got := Allocate(1, []Money{100, 100, 100})
	if got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Fatalf("Allocate(1, equal weights) = %v, want the fen on the first part", got)
	}
	got = Allocate(2, []Money{100, 100, 100})
	if got[0] != 1 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("Allocate(2, equal weights) = %v, want [1 1 0]", got)
	}
}

func TestAllocatePartsAlwaysSumToTotalAndStayProportional(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		n := 1 + r.IntN(25)
		w := make([]Money, n)
		var sum Money
		for j := range w {
			w[j] = r.Int64N(1_000_000)
			sum += w[j]
		}
		if sum == 0 {
			continue
		}
		total := r.Int64N(sum + 1)
		parts := Allocate(total, w)
		var got Money
		for j, p := range parts {
			got += p
			// each part is floor or floor+1 of the exact share
			q, _ := MulDivFloor(total, w[j], sum)
			if p != q && p != q+1 {
				t.Fatalf("part %d = %d, exact floor %d (weights %v total %d)", j, p, q, w, total)
			}
			if p > w[j] {
				t.Fatalf("part %d = %d exceeds its weight %d", j, p, w[j])
			}
		}
		if got != total {
			t.Fatalf("parts %v sum to %d, want %d", parts, got, total)
		}
	}
}

func TestAddAndMulReportOverflow(t *testing.T) {
	if _, err := Add(math.MaxInt64, 1); err != ErrOverflow {
		t.Errorf("Add overflow: err = %v", err)
	}
	if _, err := Mul(math.MaxInt64/2+1, 2); err != ErrOverflow {
		t.Errorf("Mul overflow: err = %v", err)
	}
	if v, err := Mul(MaxAmount, 9); err != nil || v != 9*MaxAmount {
		t.Errorf("Mul(MaxAmount, 9) = %d, %v", v, err)
	}
}
