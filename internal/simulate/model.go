package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/diurnal"
)

// Curve is the arrival rate of visitors over the run: Rate visitors a
// second at the diurnal curve's mean, shaped by the hour of the simulated
// day and multiplied by Uplift inside the uplift window.
type Curve struct {
	Hours [24]float64
	// Rate is visitors a second at the curve's mean.
	Rate float64
	// Speed compresses the simulated day: one simulated hour lasts 3600/Speed
	// real seconds. 1 is real time.
	Speed float64
	// StartHour is the simulated local hour of day at the start, [0, 24).
	StartHour float64
	// Uplift multiplies the rate inside [UpliftAt, UpliftAt+UpliftFor) of
	// elapsed real time; UpliftFor 0 means until the end of the run.
	Uplift    float64
	UpliftAt  time.Duration
	UpliftFor time.Duration
}

// NewCurve is the shared diurnal curve at rate visitors/s, without uplift.
func NewCurve(rate, speed, startHour float64) Curve {
	return Curve{Hours: diurnal.Hours, Rate: rate, Speed: speed, StartHour: startHour, Uplift: 1}
}

func (c Curve) mean() float64 {
	var s float64
	for _, w := range c.Hours {
		s += w
	}
	return s / 24
}

// HourAt is the simulated hour of day after elapsed real time.
func (c Curve) HourAt(elapsed time.Duration) float64 {
	speed := c.Speed
	if speed <= 0 {
		speed = 1
	}
	h := c.StartHour + elapsed.Hours()*speed
	return math.Mod(math.Mod(h, 24)+24, 24)
}

// uplift is the multiplier at elapsed.
func (c Curve) uplift(elapsed time.Duration) float64 {
	if c.Uplift <= 0 || c.Uplift == 1 {
		return 1
	}
	if elapsed < c.UpliftAt || (c.UpliftFor > 0 && elapsed >= c.UpliftAt+c.UpliftFor) {
		return 1
	}
	return c.Uplift
}

// RateAt is the arrival rate (visitors/s) after elapsed real time.
func (c Curve) RateAt(elapsed time.Duration) float64 {
	m := c.mean()
	if m <= 0 {
		return 0
	}
	return c.Rate * c.Hours[int(c.HourAt(elapsed))%24] / m * c.uplift(elapsed)
}

// MaxRate bounds RateAt over the whole run.
func (c Curve) MaxRate() float64 {
	m := c.mean()
	if m <= 0 {
		return 0
	}
	var top float64
	for _, w := range c.Hours {
		top = max(top, w)
	}
	return c.Rate * top / m * max(1, c.Uplift)
}

// Next draws the arrival after the one at elapsed: a non-homogeneous
// Poisson process sampled by thinning (candidates at MaxRate, each kept
// with probability RateAt/MaxRate). It returns -1 when the rate is zero.
func (c Curve) Next(r *rand.Rand, elapsed time.Duration) time.Duration {
	top := c.MaxRate()
	if top <= 0 {
		return -1
	}
	t := elapsed.Seconds()
	for {
		t += r.ExpFloat64() / top
		at := time.Duration(t * float64(time.Second))
		if r.Float64()*top < c.RateAt(at) {
			return at
		}
	}
}

// Channel is one traffic source with its UTM tags; the direct channel has
// none.
type Channel struct {
	Name     string
	Source   string
	Medium   string
	Campaign string
	Weight   float64
}

// DefaultChannels is the mix used when none is given.
const DefaultChannels = "direct=40,wechat=25,douyin=20,baidu=10,sms=5"

// media are the utm_medium of well-known sources.
var media = map[string]string{"wechat": "social", "weibo": "social", "xiaohongshu": "social", "douyin": "video", "kuaishou": "video",
	"bilibili": "video", "baidu": "cpc", "sogou": "cpc", "sms": "sms", "email": "email", "app_push": "push"}

// ParseChannels reads "direct=40,wechat=25,douyin/live=20": a source (with
// an optional /medium) and a weight. campaign becomes the utm_campaign of
// every channel but direct.
func ParseChannels(spec, campaign string) ([]Channel, error) {
	var out []Channel
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("channel %q: want name=weight", part)
		}
		weight, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil || weight < 0 || math.IsInf(weight, 0) || math.IsNaN(weight) {
			return nil, fmt.Errorf("channel %q: the weight must be a number ≥ 0", part)
		}
		if seen[name] {
			return nil, fmt.Errorf("channel %q appears twice", name)
		}
		seen[name] = true
		ch := Channel{Name: name, Weight: weight}
		if name != "direct" {
			src, med, _ := strings.Cut(name, "/")
			if med == "" {
				med = media[src]
				if med == "" {
					med = "referral"
				}
			}
			ch.Source, ch.Medium, ch.Campaign = src, med, campaign
			if len(src) > 64 {
				return nil, fmt.Errorf("channel %q: the source is longer than 64 characters", name)
			}
		}
		out = append(out, ch)
	}
	var total float64
	for _, c := range out {
		total += c.Weight
	}
	if total <= 0 {
		return nil, fmt.Errorf("channels %q: at least one needs a weight above 0", spec)
	}
	return out, nil
}

// Funnel holds the probabilities of a visitor's session. Each step is
// conditional on the step before.
type Funnel struct {
	Known       float64 // logged in from the first page
	Search      float64 // searches once
	ProductView float64 // views at least one product
	AddToCart   float64 // of product viewers: adds to the cart
	Share       float64 // of product viewers: shares a product
	Checkout    float64 // of carters: starts the checkout
	Order       float64 // of checkouts: places the order
	Pay         float64 // of orders: pays
	Cancel      float64 // of orders: cancels (the rest stay unpaid until the timeout)
	Refund      float64 // of paid orders: refunded later
}

// DefaultFunnel is a plausible storefront: about 6 % of visitors order.
var DefaultFunnel = Funnel{Known: 0.3, Search: 0.25, ProductView: 0.65, AddToCart: 0.3, Share: 0.05, Checkout: 0.55, Order: 0.6,
	Pay: 0.8, Cancel: 0.07, Refund: 0.06}

// Kind is one action of a session.
type Kind int

// The actions of a session, in funnel order.
const (
	PageView Kind = iota
	Search
	ProductView
	AddToCart
	Share
	CheckoutStart
)

var kindNames = [...]string{"page_view", "search", "product_view", "add_to_cart", "share", "checkout_start"}

func (k Kind) String() string { return kindNames[k] }

// Action is one tracked event of a session, after a pause.
type Action struct {
	Kind  Kind
	Pause time.Duration
	SKU   int // index into the catalog, for product actions
}

// Fate is what becomes of an order.
type Fate int

// The fates of an order.
const (
	Unpaid Fate = iota // left to the payment timeout
	Paid
	Cancelled
)

// Line is a cart line by catalog index.
type Line struct {
	SKU int
	Qty int64
}

// Session is one visitor's planned visit.
type Session struct {
	Channel int
	Device  string
	// Known is true when the visitor is logged in from the first page;
	// otherwise a visitor who orders logs in at the checkout.
	Known   bool
	Actions []Action
	// Order is nil when the visitor does not order.
	Order *OrderPlan
}

// OrderPlan is the order a session places and its life after.
type OrderPlan struct {
	Lines      []Line
	Fate       Fate
	After      time.Duration // pause before paying or cancelling
	Refund     bool
	RefundWait time.Duration // pause after paying before the refund
}

// Devices a visitor browses on, with weights.
var devices = []string{"ios", "android", "desktop", "tablet"}
var deviceWeights = []float64{45, 38, 13, 4}

// Sampler draws indexes in proportion to weights.
type Sampler struct{ cum []float64 }

// NewSampler makes a sampler over w.
func NewSampler(w []float64) Sampler {
	s := Sampler{cum: make([]float64, len(w))}
	var sum float64
	for i, x := range w {
		sum += max(0, x)
		s.cum[i] = sum
	}
	return s
}

// Pick draws an index, -1 when nothing weighs anything.
func (s Sampler) Pick(r *rand.Rand) int {
	n := len(s.cum)
	if n == 0 || s.cum[n-1] <= 0 {
		return -1
	}
	u := r.Float64() * s.cum[n-1]
	return sort.Search(n, func(i int) bool { return s.cum[i] > u })
}

// Model plans sessions.
type Model struct {
	Funnel   Funnel
	Channels Sampler
	SKUs     Sampler // popularity of the catalog's SKUs
	// Think is the mean pause between two actions of a visitor; PayAfter
	// the mean pause before paying or cancelling; RefundAfter the mean
	// pause between a payment and its refund.
	Think, PayAfter, RefundAfter time.Duration
}

// Popularity is a Zipf-like weight for n SKUs in catalog order shuffled by
// r: a few best sellers and a long tail.
func Popularity(r *rand.Rand, n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), 0.8)
	}
	r.Shuffle(n, func(i, j int) { w[i], w[j] = w[j], w[i] })
	return w
}

func pause(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

// Plan draws one session. With no SKUs a session has page views only.
func (m *Model) Plan(r *rand.Rand) Session {
	f := m.Funnel
	s := Session{Channel: max(0, m.Channels.Pick(r)), Device: devices[NewSampler(deviceWeights).Pick(r)], Known: r.Float64() < f.Known}
	add := func(k Kind, sku int) {
		s.Actions = append(s.Actions, Action{Kind: k, Pause: pause(r, m.Think), SKU: sku})
	}
	s.Actions = append(s.Actions, Action{Kind: PageView})
	for range geometric(r, 0.5) { // more pages: 0, 1, 2… with mean 1
		add(PageView, -1)
	}
	if r.Float64() < f.Search {
		add(Search, -1)
	}
	if len(m.SKUs.cum) == 0 || r.Float64() >= f.ProductView {
		return s
	}
	viewed := []int{}
	for range 1 + geometric(r, 0.45) {
		k := m.SKUs.Pick(r)
		viewed = append(viewed, k)
		add(ProductView, k)
	}
	if r.Float64() < f.Share {
		add(Share, viewed[r.IntN(len(viewed))])
	}
	if r.Float64() >= f.AddToCart {
		return s
	}
	var lines []Line
	for i, k := range viewed {
		if i > 0 && r.Float64() >= 0.35 {
			continue
		}
		if slicesIndex(lines, k) >= 0 {
			continue
		}
		qty := int64(1)
		if r.Float64() < 0.15 {
			qty = 2
		}
		lines = append(lines, Line{SKU: k, Qty: qty})
		add(AddToCart, k)
	}
	if r.Float64() >= f.Checkout {
		return s
	}
	add(CheckoutStart, -1)
	if r.Float64() >= f.Order {
		return s
	}
	o := &OrderPlan{Lines: lines, After: pause(r, m.PayAfter)}
	switch u := r.Float64(); {
	case u < f.Pay:
		o.Fate = Paid
		if r.Float64() < f.Refund {
			o.Refund, o.RefundWait = true, pause(r, m.RefundAfter)
		}
	case u < f.Pay+f.Cancel:
		o.Fate = Cancelled
	}
	s.Order = o
	return s
}

func slicesIndex(lines []Line, sku int) int {
	for i, l := range lines {
		if l.SKU == sku {
			return i
		}
	}
	return -1
}

// geometric draws the number of successes before the first failure, each
// success with probability p.
func geometric(r *rand.Rand, p float64) int {
	n := 0
	for n < 50 && r.Float64() < p {
		n++
	}
	return n
}
