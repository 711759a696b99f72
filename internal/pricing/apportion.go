package pricing

import (
	"math"
	"math/bits"

	"github.com/carnivalhq/carnival/internal/money"
)

// Apportion splits discount over lines in proportion to their current
// amounts by the largest-remainder method, ties to the earlier line (分摊).
// The parts sum exactly to discount. A discount larger than the sum of the
// amounts is capped at that sum (no line goes below zero); the returned
// capped is what was actually split. Negative inputs count as zero.
func Apportion(discount money.Money, amounts []money.Money) (parts []money.Money, capped money.Money) {
	parts = make([]money.Money, len(amounts))
	weights := make([]money.Money, len(amounts))
	var sum money.Money
	for i, a := range amounts {
		if a > 0 {
			weights[i] = a
			sum += a
		}
	}
	capped = min(max(discount, 0), sum)
	if capped > 0 {
		money.AllocateInto(parts, capped, weights)
	}
	return parts, capped
}

// satMul returns a × b for non-negative a, b, saturating at MaxInt64.
func satMul(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

// lessThanProduct reports a < b × c for non-negative values, in 128 bits.
func lessThanProduct(a, b, c int64) bool {
	hi, lo := bits.Mul64(uint64(b), uint64(c))
	if hi != 0 {
		return true
	}
	return uint64(a) < lo
}

// rateDiscount is what applying rate takes off amount: the discounted
// amount is rounded half up (the customer pays amount × rate, half up) and
// the discount is the difference, so price and discount always add up.
func rateDiscount(amount money.Money, rate money.Rate) money.Money {
	if amount <= 0 {
		return 0
	}
	rate = min(max(rate, 0), money.Full)
	return amount - money.MulRate(amount, rate)
}

// allocate is money.AllocateInto (the same parts, the same largest-
// remainder rule, ties to the earlier part) for the engine's hot paths:
// parts, total and weights are what apportion and appendRuns pass, at
// most 64 weights each below 2^50. The fen left over after the floors go
// to the largest remainders, found by one small sort of packed keys
// instead of a scan of every remainder per fen. Anything else goes to
// money.AllocateInto.
func allocate(parts []money.Money, total money.Money, weights []money.Money) {
	const limit = 1 << 50
	if len(weights) > 64 || len(parts) != len(weights) || total <= 0 || total >= limit {
		money.AllocateInto(parts, total, weights)
		return
	}
	var sum money.Money
	for _, w := range weights {
		if w < 0 || w >= limit {
			money.AllocateInto(parts, total, weights)
			return
		}
		sum += w
	}
	if sum == 0 || sum >= limit {
		money.AllocateInto(parts, total, weights)
		return
	}
	// key: the remainder (below sum < 2^50) above 63 − the index, so a
	// larger key is a larger remainder or, on a tie, an earlier part.
	var keyBuf [64]uint64
	keys := keyBuf[:len(weights)]
	var given money.Money
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, uint64(sum)) // hi < sum: w ≤ sum and total < 2^64
		parts[i] = money.Money(q)
		given += money.Money(q)
		keys[i] = r<<6 | uint64(63-i)
	}
	left := int(total - given) // < len(weights)
	if left == 0 {
		return
	}
	// Insertion sort, largest first; only the first left keys matter.
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0 && keys[j-1] < k; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
	for _, k := range keys[:left] {
		parts[63-int(k&63)]++
	}
}
