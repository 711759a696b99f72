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
