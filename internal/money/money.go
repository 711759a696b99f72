// Package money holds Carnival's money and rate types: integer minor units
// (fen for CNY) and basis-point rates, with the half-up rounding and the
// largest-remainder allocation that PRICING.md requires. Nothing here uses
// floating point.
package money

import (
	"errors"
	"math"
	"math/bits"
)

// Money is an amount in minor units (fen). The shop has one currency.
type Money = int64

// Rate is a rate in basis points: 10000 = 100 %. "8.5折" is 8500.
type Rate = int64

// Full is 100 % in basis points.
const Full Rate = 10000

// ErrOverflow is returned when an amount does not fit in int64.
var ErrOverflow = errors.New("money: amount overflows")

// MulRate returns amount × rate / 10000 rounded half up (away from zero for
// negative amounts, which never occur in pricing but are handled sanely).
func MulRate(amount Money, rate Rate) Money {
	return MulDiv(amount, rate, Full)
}

// MulDiv returns a × b / d rounded half up, computed in 128 bits so that no
// intermediate overflows. d must be positive; a and b may be any sign.
// It panics if the result does not fit in int64, which callers prevent by
// validating input bounds (see MaxAmount).
func MulDiv(a, b, d int64) int64 {
	if d <= 0 {
		panic("money: MulDiv by non-positive divisor")
	}
	neg := (a < 0) != (b < 0)
	ua, ub := abs64(a), abs64(b)
	hi, lo := bits.Mul64(ua, ub)
	if hi >= uint64(d) {
		panic(ErrOverflow)
	}
	q, r := bits.Div64(hi, lo, uint64(d))
	// half up: round when 2r >= d
	if r >= uint64(d)-r {
		q++
	}
	if q > math.MaxInt64 {
		panic(ErrOverflow)
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// MulDivFloor returns floor(a × b / d) and the remainder, for non-negative
// a, b and positive d. Used by Allocate.
func MulDivFloor(a, b, d int64) (q, r int64) {
	if a < 0 || b < 0 || d <= 0 {
		panic("money: MulDivFloor needs non-negative operands and a positive divisor")
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) {
		panic(ErrOverflow)
	}
	uq, ur := bits.Div64(hi, lo, uint64(d))
	if uq > math.MaxInt64 {
		panic(ErrOverflow)
	}
	return int64(uq), int64(ur)
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// MaxAmount bounds every amount Carnival accepts from a client: 10^15 fen
// (10 trillion yuan). Products of two bounded values stay within 128-bit
// arithmetic and sums of many stay far from int64 overflow.
const MaxAmount Money = 1_000_000_000_000_000

// Add returns a + b or ErrOverflow.
func Add(a, b Money) (Money, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Mul returns a × n or ErrOverflow.
func Mul(a Money, n int64) (Money, error) {
	hi, lo := bits.Mul64(abs64(a), abs64(n))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	if (a < 0) != (n < 0) {
		return -int64(lo), nil
	}
	return int64(lo), nil
}

// Allocate splits total over weights in proportion, by the largest-remainder
// method: each part is floor(total × w / Σw), and the fen left over go one
// each to the parts with the largest remainders, ties to the earlier part.
// The parts always sum to total. total and every weight must be
// non-negative; when all weights are zero the result is all zeros (and the
// caller must not ask to allocate a positive total over nothing).
func Allocate(total Money, weights []Money) []Money {
	parts := make([]Money, len(weights))
	AllocateInto(parts, total, weights)
	return parts
}

// AllocateInto is Allocate writing into parts (len(parts) == len(weights)),
// for hot paths that reuse buffers.
func AllocateInto(parts []Money, total Money, weights []Money) {
	var sum Money
	for _, w := range weights {
		if w < 0 {
			panic("money: negative allocation weight")
		}
		sum += w
	}
	for i := range parts {
		parts[i] = 0
	}
	if total == 0 || sum == 0 {
		if total != 0 {
			panic("money: allocating a non-zero total over zero weights")
		}
		return
	}
	// Remainders are kept alongside to find the largest ones without
	// allocating when the slice is short.
	var remBuf [16]int64
	rems := remBuf[:0]
	if len(weights) > len(remBuf) {
		rems = make([]int64, 0, len(weights))
	}
	var given Money
	for i, w := range weights {
		q, r := MulDivFloor(total, w, sum)
		parts[i] = q
		given += q
		rems = append(rems, r)
	}
	left := total - given // < len(weights)
	for ; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if r < 0 {
				continue
			}
			if best < 0 || r > rems[best] {
				best = i
			}
		}
		parts[best]++
		rems[best] = -1 // each part gets at most one extra fen
	}
}
