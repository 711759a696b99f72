package guard

import (
	"encoding/json"
	"math"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Limit is a token bucket: Rate attempts per Per on average, up to Burst at
// once. A zero Rate means no limit; a zero Burst means Burst = Rate. In JSON:
// {"rate":10,"per_seconds":1,"burst":20}.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// On reports whether the limit limits anything.
func (l Limit) On() bool { return l.Rate > 0 }

// burst is the bucket size in force.
func (l Limit) burst() int {
	if l.Burst <= 0 {
		return l.Rate
	}
	return l.Burst
}

// perSecond is the refill rate in tokens per second.
func (l Limit) perSecond() float64 { return float64(l.Rate) / l.Per.Seconds() }

type limitJSON struct {
	Rate       int     `json:"rate"`
	PerSeconds float64 `json:"per_seconds"`
	Burst      int     `json:"burst"`
}

func (l Limit) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitJSON{Rate: l.Rate, PerSeconds: l.Per.Seconds(), Burst: l.Burst})
}

func (l *Limit) UnmarshalJSON(b []byte) error {
	var j limitJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*l = Limit{Rate: j.Rate, Per: seconds(j.PerSeconds), Burst: j.Burst}
	return nil
}

func seconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	if s <= math.MinInt64/float64(time.Second) {
		return math.MinInt64
	}
	return time.Duration(s * float64(time.Second))
}

// Policy is what a sale or a coupon claim is guarded by: rate limits per
// customer, device and IP, and failure-based blocking — FailLimit failed
// attempts within FailWindow block the customer, device or IP for BlockFor.
// Zero FailLimit, FailWindow and BlockFor take the defaults (5 in 10 minutes
// block for 1 hour); a negative FailLimit turns failure blocking off.
//
// Failures block customers and devices, and IPs only with BlockIPs: behind
// a shared NAT, a campus or an office proxy one address stands for many
// shoppers, and one abuser's failures would lock all of them out. Rate
// limits per IP apply either way.
type Policy struct {
	PerCustomer Limit
	PerDevice   Limit
	PerIP       Limit
	FailLimit   int
	FailWindow  time.Duration
	BlockFor    time.Duration
	BlockIPs    bool
}

// Failure-blocking defaults.
const (
	DefaultFailLimit  = 5
	DefaultFailWindow = 10 * time.Minute
	DefaultBlockFor   = time.Hour
)

// Bounds Validate enforces: wide enough for any real sale, narrow enough
// that a typo cannot block a shopper for a year or size a bucket past int.
const (
	MaxRate      = 1_000_000
	MaxPer       = 24 * time.Hour
	MaxFailLimit = 1000
	MaxWindow    = 7 * 24 * time.Hour
	MaxBlockFor  = 30 * 24 * time.Hour
)

// DefaultPolicy is the shop default until an operator sets one: a shopper
// may try 5 times a second (10 at once), a device 10 (20 at once), an IP 50
// (100 at once, since campus and mobile-carrier NATs put many shoppers behind
// one address), and 5 failures in 10 minutes block the customer and the
// device for an hour — never the IP (BlockIPs is off), for the same reason.
func DefaultPolicy() Policy {
	return Policy{
		PerCustomer: Limit{Rate: 5, Per: time.Second, Burst: 10},
		PerDevice:   Limit{Rate: 10, Per: time.Second, Burst: 20},
		PerIP:       Limit{Rate: 50, Per: time.Second, Burst: 100},
	}
}

// Effective returns p with the failure-blocking defaults filled in.
func (p Policy) Effective() Policy {
	if p.FailLimit == 0 {
		p.FailLimit = DefaultFailLimit
	}
	if p.FailWindow == 0 {
		p.FailWindow = DefaultFailWindow
	}
	if p.BlockFor == 0 {
		p.BlockFor = DefaultBlockFor
	}
	return p
}

// Validate reports the first field out of range as commerce.Invalid, named
// as in JSON, e.g. "per_ip.rate".
func (p Policy) Validate() error {
	for _, d := range []struct {
		name string
		l    Limit
	}{{"per_customer", p.PerCustomer}, {"per_device", p.PerDevice}, {"per_ip", p.PerIP}} {
		if err := d.l.validate(d.name); err != nil {
			return err
		}
	}
	if p.FailLimit > MaxFailLimit {
		return commerce.Invalid("fail_limit", "out_of_range", "fail_limit must be at most %d (0 takes the default %d, a negative value turns failure blocking off)", MaxFailLimit, DefaultFailLimit)
	}
	if p.FailWindow < 0 || p.FailWindow > MaxWindow || (p.FailWindow > 0 && p.FailWindow < time.Second) {
		return commerce.Invalid("fail_window_seconds", "out_of_range", "fail_window_seconds must be between 1 and %d (0 takes the default %d)", int(MaxWindow.Seconds()), int(DefaultFailWindow.Seconds()))
	}
	if p.BlockFor < 0 || p.BlockFor > MaxBlockFor || (p.BlockFor > 0 && p.BlockFor < time.Second) {
		return commerce.Invalid("block_seconds", "out_of_range", "block_seconds must be between 1 and %d (0 takes the default %d)", int(MaxBlockFor.Seconds()), int(DefaultBlockFor.Seconds()))
	}
	return nil
}

func (l Limit) validate(name string) error {
	if l.Rate < 0 || l.Rate > MaxRate {
		return commerce.Invalid(name+".rate", "out_of_range", "%s.rate must be between 0 (no limit) and %d", name, MaxRate)
	}
	if l.Burst < 0 || l.Burst > MaxRate {
		return commerce.Invalid(name+".burst", "out_of_range", "%s.burst must be between 0 (same as rate) and %d", name, MaxRate)
	}
	if l.Rate == 0 {
		if l.Per != 0 || l.Burst != 0 {
			return commerce.Invalid(name+".rate", "required", "%s has a period or a burst but no rate; set rate, or leave all three 0 for no limit", name)
		}
		return nil
	}
	if l.Per <= 0 || l.Per > MaxPer {
		return commerce.Invalid(name+".per_seconds", "out_of_range", "%s.per_seconds must be above 0 and at most %d when a rate is set", name, int(MaxPer.Seconds()))
	}
	return nil
}

type policyJSON struct {
	PerCustomer       Limit   `json:"per_customer"`
	PerDevice         Limit   `json:"per_device"`
	PerIP             Limit   `json:"per_ip"`
	FailLimit         int     `json:"fail_limit"`
	FailWindowSeconds float64 `json:"fail_window_seconds"`
	BlockSeconds      float64 `json:"block_seconds"`
	BlockIPs          bool    `json:"block_ips,omitempty"`
}

func (p Policy) MarshalJSON() ([]byte, error) {
	return json.Marshal(policyJSON{PerCustomer: p.PerCustomer, PerDevice: p.PerDevice, PerIP: p.PerIP, FailLimit: p.FailLimit,
		FailWindowSeconds: p.FailWindow.Seconds(), BlockSeconds: p.BlockFor.Seconds(), BlockIPs: p.BlockIPs})
}

func (p *Policy) UnmarshalJSON(b []byte) error {
	var j policyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Policy{PerCustomer: j.PerCustomer, PerDevice: j.PerDevice, PerIP: j.PerIP, FailLimit: j.FailLimit,
		FailWindow: seconds(j.FailWindowSeconds), BlockFor: seconds(j.BlockSeconds), BlockIPs: j.BlockIPs}
	return nil
}
