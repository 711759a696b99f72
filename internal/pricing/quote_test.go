package pricing

import (
	"testing"

	"github.com/carnivalhq/carnival/internal/money"
)

func amounts(r *Result, f func(LineResult) money.Money) []money.Money {
	var out []money.Money
	for _, l := range r.Lines {
		out = append(out, f(l))
	}
	return out
}

func TestThresholdOffApportionsLikeThePricingExample(t *testing.T) {
	// PRICING.md: 满300减40 on A ¥258.00 + B ¥59.00 → A 3256, B 744.
	r := mustQuote(t, &Input{
		Lines:      []Line{line("A", 25800, 1), line("B", 5900, 1)},
		Activities: []Activity{act("act_300_40", ThresholdOff, tiers(30000, 4000))},
	})
	got := amounts(r, func(l LineResult) money.Money { return l.OrderDiscount })
	if got[0] != 3256 || got[1] != 744 {
		t.Fatalf("order discounts = %v, want [3256 744]", got)
	}
	if r.Totals.Payable != 31700-4000+1000 {
		t.Fatalf("payable = %d, want %d", r.Totals.Payable, 31700-4000+1000)
	}
}

func TestApportionSplitsByLargestRemainderAndCapsAtTheAmounts(t *testing.T) {
	parts, capped := Apportion(4000, []money.Money{25800, 5900})
	if capped != 4000 || parts[0] != 3256 || parts[1] != 744 {
		t.Fatalf("Apportion(4000, [25800 5900]) = %v, %d; want [3256 744], 4000", parts, capped)
	}
	parts, capped = Apportion(500, []money.Money{100, 0, 200})
	if capped != 300 || parts[0] != 100 || parts[1] != 0 || parts[2] != 200 {
		t.Fatalf("Apportion(500, [100 0 200]) = %v, %d; want every line to zero, capped at 300", parts, capped)
	}
	parts, _ = Apportion(1, []money.Money{100, 100})
	if parts[0] != 1 {
		t.Fatalf("Apportion(1, equal) = %v, want the fen on the earlier line", parts)
	}
}
