package simulate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/diurnal"
)

// within fails unless got is within tol of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
	}
}

func TestDiurnalCurveHasTheShapeOfAChineseShopDay(t *testing.T) {
	w := diurnal.Hours
	var sum float64
	for h, x := range w {
		if x <= 0 {
			t.Errorf("hour %d weighs %v: every hour has some traffic", h, x)
		}
		sum += x
	}
	within(t, "mean", diurnal.Mean(), sum/24, 1e-12)
	quiet := []int{2, 3, 4, 5, 6}
	busy := []int{10, 11, 14, 15, 20, 21, 22}
	for _, q := range quiet {
		for _, b := range busy {
			if w[q] >= w[b]/3 {
				t.Errorf("%02d:00 (%v) is not much quieter than %02d:00 (%v)", q, w[q], b, w[b])
			}
		}
	}
	if w[10] <= w[9] || w[10] <= w[12] {
		t.Errorf("no late-morning peak at 10:00: %v", w[8:13])
	}
	top := 0
	for h := range w {
		if w[h] > w[top] {
			top = h
		}
	}
	if top < 20 || top > 22 {
		t.Errorf("the busiest hour is %02d:00, want the evening 20–22", top)
	}
}

func TestRateAveragesToTheGivenRateOverASimulatedDay(t *testing.T) {
	c := NewCurve(20, 3600, 0) // one simulated hour per real second
	var sum float64
	for h := range 24 {
		r := c.RateAt(time.Duration(h)*time.Second + 500*time.Millisecond)
		within(t, "rate at hour", r, 20*diurnal.Hours[h]/diurnal.Mean(), 1e-9)
		sum += r
	}
	within(t, "mean rate over the day", sum/24, 20, 1e-9)
	within(t, "max rate", c.MaxRate(), 20*10/diurnal.Mean(), 1e-9) // 10 is the 21:00 weight
	// The start hour shifts the clock: starting at 21:30, the first second is 21:xx.
	c.StartHour = 21.5
	within(t, "hour at start", c.HourAt(0), 21.5, 1e-9)
	within(t, "hour after 3 s", c.HourAt(3*time.Second), 0.5, 1e-9) // wraps past midnight
}

func TestUpliftMultipliesInsideItsWindowOnly(t *testing.T) {
	c := Curve{Rate: 10, Speed: 1, Uplift: 3, UpliftAt: 10 * time.Second, UpliftFor: 5 * time.Second}
	for h := range c.Hours {
		c.Hours[h] = 1
	}
	for _, x := range []struct {
		at   time.Duration
		want float64
	}{{0, 10}, {9 * time.Second, 10}, {10 * time.Second, 30}, {14 * time.Second, 30}, {15 * time.Second, 10}} {
		within(t, "rate at "+x.at.String(), c.RateAt(x.at), x.want, 1e-9)
	}
	c.UpliftFor = 0 // to the end of the run
	within(t, "rate long after", c.RateAt(time.Hour), 30, 1e-9)
	within(t, "max rate", c.MaxRate(), 30, 1e-9)
}

func TestArrivalsFollowTheCurve(t *testing.T) {
	// 240 s at one simulated hour a second is 10 days; at 50 visitors/s
	// on average that is about 12 000 arrivals.
	c := NewCurve(50, 3600, 0)
	r := rand.New(rand.NewPCG(7, 7))
	var perHour [24]float64
	n := 0
	for at := c.Next(r, 0); at < 240*time.Second; at = c.Next(r, at) {
		perHour[int(c.HourAt(at))]++
		n++
	}
	// A Poisson count of mean 12 000 is within 4σ ≈ 440 of it.
	within(t, "arrivals", float64(n), 12000, 440)
	sum := diurnal.Mean() * 24
	for h := range 24 {
		want := 12000 * diurnal.Hours[h] / sum
		within(t, "arrivals at hour", perHour[h], want, 4*math.Sqrt(want)+5)
	}

	// The uplift triples the arrivals inside its window.
	flat := Curve{Rate: 20, Speed: 1, Uplift: 3, UpliftAt: 100 * time.Second, UpliftFor: 100 * time.Second}
	for h := range flat.Hours {
		flat.Hours[h] = 1
	}
	var before, during int
	for at := flat.Next(r, 0); at < 200*time.Second; at = flat.Next(r, at) {
		if at < 100*time.Second {
			before++
		} else {
			during++
		}
	}
	within(t, "arrivals before the uplift", float64(before), 2000, 4*math.Sqrt(2000))
	within(t, "arrivals during the uplift", float64(during), 6000, 4*math.Sqrt(6000))
}

func TestArrivalsAreDeterministicForASeed(t *testing.T) {
	c := NewCurve(5, 60, 9)
	draw := func(seed uint64) []time.Duration {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		var out []time.Duration
		at := time.Duration(0)
		for range 100 {
			at = c.Next(r, at)
			out = append(out, at)
		}
		return out
	}
	a, b, other := draw(1), draw(1), draw(2)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 1 drew %v then %v at arrival %d", a[i], b[i], i)
		}
		same = same && a[i] == other[i]
		if i > 0 && a[i] <= a[i-1] {
			t.Fatalf("arrivals not increasing: %v then %v", a[i-1], a[i])
		}
	}
	if same {
		t.Error("seeds 1 and 2 drew the same arrivals")
	}
	if (Curve{Rate: 0, Hours: diurnal.Hours}).Next(rand.New(rand.NewPCG(1, 1)), 0) != -1 {
		t.Error("a zero rate must never produce an arrival")
	}
}

func TestParseChannels(t *testing.T) {
	cs, err := ParseChannels(DefaultChannels, "double12")
	if err != nil {
		t.Fatal(err)
	}
	want := []Channel{{"direct", "", "", "", 40}, {"wechat", "wechat", "social", "double12", 25}, {"douyin", "douyin", "video", "double12", 20},
		{"baidu", "baidu", "cpc", "double12", 10}, {"sms", "sms", "sms", "double12", 5}}
	if len(cs) != len(want) {
		t.Fatalf("got %d channels, want %d", len(cs), len(want))
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("channel %d = %+v, want %+v", i, cs[i], want[i])
		}
	}
	cs, err = ParseChannels(" xiaohongshu/kol = 2.5 , partner=1", "")
	if err != nil {
		t.Fatal(err)
	}
	if cs[0] != (Channel{"xiaohongshu/kol", "xiaohongshu", "kol", "", 2.5}) || cs[1].Medium != "referral" {
		t.Errorf("got %+v", cs)
	}
	for _, bad := range []string{"", "wechat", "=3", "wechat=x", "wechat=-1", "wechat=1,wechat=2", "direct=0,sms=0", "a=NaN"} {
		if _, err := ParseChannels(bad, ""); err == nil {
			t.Errorf("ParseChannels(%q) accepted", bad)
		}
	}
}

func TestSamplerDrawsInProportion(t *testing.T) {
	s := NewSampler([]float64{1, 0, 3, 6})
	r := rand.New(rand.NewPCG(3, 3))
	var got [4]float64
	const n = 100000
	for range n {
		got[s.Pick(r)]++
	}
	for i, p := range []float64{0.1, 0, 0.3, 0.6} {
		within(t, "share", got[i]/n, p, 4*math.Sqrt(p*(1-p)/n)+1e-9)
	}
	if NewSampler(nil).Pick(r) != -1 || NewSampler([]float64{0, 0}).Pick(r) != -1 {
		t.Error("an empty sampler must draw -1")
	}
}

func TestSessionsFollowTheFunnel(t *testing.T) {
	f := DefaultFunnel
	m := &Model{Funnel: f, Channels: NewSampler([]float64{40, 25, 20, 10, 5}), SKUs: NewSampler(Popularity(rand.New(rand.NewPCG(1, 1)), 50)),
		Think: time.Second, PayAfter: 2 * time.Second, RefundAfter: 5 * time.Second}
	r := rand.New(rand.NewPCG(42, 42))
	const n = 60000
	var known, viewers, carters, checkouts, orders, paid, cancelled, unpaid, refunded float64
	var channels [5]float64
	var pause time.Duration
	var pauses int
	for range n {
		s := m.Plan(r)
		channels[s.Channel]++
		if s.Known {
			known++
		}
		if len(s.Actions) == 0 || s.Actions[0].Kind != PageView {
			t.Fatalf("a session starts with a page view: %+v", s.Actions)
		}
		seen := map[Kind]bool{}
		viewed := map[int]bool{}
		carted := map[int]bool{}
		for i, a := range s.Actions {
			seen[a.Kind] = true
			switch a.Kind {
			case ProductView:
				viewed[a.SKU] = true
			case AddToCart:
				if !viewed[a.SKU] {
					t.Fatalf("added SKU %d to the cart without viewing it", a.SKU)
				}
				carted[a.SKU] = true
			case CheckoutStart:
				if !seen[AddToCart] {
					t.Fatal("checkout without a cart")
				}
			}
			if i > 0 {
				pause += a.Pause
				pauses++
			}
		}
		if seen[ProductView] {
			viewers++
		}
		if seen[AddToCart] {
			carters++
		}
		if seen[CheckoutStart] {
			checkouts++
		}
		if s.Order == nil {
			continue
		}
		if !seen[CheckoutStart] {
			t.Fatal("an order without a checkout")
		}
		if len(s.Order.Lines) != len(carted) {
			t.Fatalf("order lines %v, cart %v", s.Order.Lines, carted)
		}
		for _, l := range s.Order.Lines {
			if !carted[l.SKU] || l.Qty < 1 {
				t.Fatalf("order line %+v not in the cart %v", l, carted)
			}
		}
		orders++
		switch s.Order.Fate {
		case Paid:
			paid++
			if s.Order.Refund {
				refunded++
			}
		case Cancelled:
			cancelled++
			if s.Order.Refund {
				t.Fatal("a cancelled order planned a refund")
			}
		case Unpaid:
			unpaid++
		}
	}
	// Each share is binomial; 4 standard deviations of slack.
	share := func(what string, k, of, p float64) {
		t.Helper()
		within(t, what, k/of, p, 4*math.Sqrt(p*(1-p)/of))
	}
	share("known visitors", known, n, f.Known)
	share("viewers of a product", viewers, n, f.ProductView)
	share("carters of viewers", carters, viewers, f.AddToCart)
	share("checkouts of carters", checkouts, carters, f.Checkout)
	share("orders of checkouts", orders, checkouts, f.Order)
	share("paid of orders", paid, orders, f.Pay)
	share("cancelled of orders", cancelled, orders, f.Cancel)
	share("unpaid of orders", unpaid, orders, 1-f.Pay-f.Cancel)
	share("refunded of paid", refunded, paid, f.Refund)
	for i, w := range []float64{0.4, 0.25, 0.2, 0.1, 0.05} {
		share("channel share", channels[i], n, w)
	}
	// The whole funnel: 0.65 × 0.3 × 0.55 × 0.6 ≈ 6.4 % of visitors order.
	share("visitors who order", orders, n, 0.65*0.3*0.55*0.6)
	within(t, "mean think time (s)", (pause / time.Duration(pauses)).Seconds(), 1, 0.03)
}

func TestSessionsWithoutACatalogOnlyBrowse(t *testing.T) {
	m := &Model{Funnel: DefaultFunnel, Channels: NewSampler([]float64{1})}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		s := m.Plan(r)
		for _, a := range s.Actions {
			if a.Kind != PageView && a.Kind != Search {
				t.Fatalf("without SKUs a session did %s", a.Kind)
			}
		}
		if s.Order != nil {
			t.Fatal("without SKUs a session ordered")
		}
	}
}
