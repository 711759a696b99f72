package pricing

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/carnivalhq/carnival/internal/money"
)

func TestLocalAllocateSplitsExactlyAsMoneyAllocateInto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200000; n++ {
		k := 1 + r.IntN(20)
		if n%1000 == 0 {
			k = 60 + r.IntN(10)
		}
		ws := make([]money.Money, k)
		var sum money.Money
		scale := []int64{3, 100, 10000, 1 << 40}[r.IntN(4)]
		for i := range ws {
			if r.IntN(4) > 0 {
				ws[i] = r.Int64N(scale)
			}
			sum += ws[i]
		}
		if sum == 0 {
			continue
		}
		total := r.Int64N(sum + 1)
		if r.IntN(10) == 0 {
			total = r.Int64N(scale) // sometimes above the sum
		}
		want, got := make([]money.Money, k), make([]money.Money, k)
		money.AllocateInto(want, total, ws)
		for i := range got {
			got[i] = 99
		}
		allocate(got, total, ws)
		if !slices.Equal(got, want) {
			t.Fatalf("allocate(%d, %v) = %v, money.AllocateInto gives %v", total, ws, got, want)
		}
	}
}
