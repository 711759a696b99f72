package pricing

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A Quoter reused across very different carts, errors included, must price
// each exactly as a fresh Quote does, and must not change a result it
// returned earlier.
func TestQuoterReusedAcrossCartsPricesLikeQuote(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 4))
	var qt Quoter
	var prev *Result
	var prevWant *Result
	for i := 0; i < 2000; i++ {
		in := randomInput(r)
		if i%5 == 0 {
			in = benchInput()
		}
		if i%97 == 0 {
			bad := *in
			bad.Points = -1
			if _, err := qt.Quote(&bad); err == nil {
				t.Fatalf("case %d: negative points priced", i)
			}
		}
		want, err := Quote(in)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := qt.Quote(in)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("case %d: a reused Quoter priced differently (-Quote +Quoter):\n%s", i, d)
		}
		if prev != nil {
			if d := cmp.Diff(prevWant, prev); d != "" {
				t.Fatalf("case %d: the next quote changed the previous result (-was +now):\n%s", i, d)
			}
		}
		prev, prevWant = got, want
	}
}
