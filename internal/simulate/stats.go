package simulate

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what a run did; safe for concurrent use.
type Stats struct {
	start   time.Time
	arrived time.Duration // how long arrivals ran, once they stopped

	visitors, dropped                             atomic.Int64
	eventsSent, eventsAccepted, eventsRejected    atomic.Int64
	eventsLost                                    atomic.Int64
	quotes, placed, refused, paid, cancelled      atomic.Int64
	refunded, unpaid, transport                   atomic.Int64
	flashBought                                   atomic.Int64
	mu                                            sync.Mutex
	statuses, flash, rejections, refusals, errors map[string]int64
}

func newStats() *Stats {
	return &Stats{start: time.Now(), statuses: map[string]int64{}, flash: map[string]int64{}, rejections: map[string]int64{},
		refusals: map[string]int64{}, errors: map[string]int64{}}
}

func (s *Stats) inc(m map[string]int64, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

func (s *Stats) status(code int)      { s.inc(s.statuses, fmt.Sprint(code)) }
func (s *Stats) transportError()      { s.transport.Add(1) }
func (s *Stats) flashAnswer(a string) { s.inc(s.flash, a) }

// Snapshot is the counters at one moment.
type Snapshot struct {
	Elapsed        time.Duration    `json:"elapsed_ns"`
	Arrivals       time.Duration    `json:"arrivals_ns" doc:"how long visitors arrived: the span of the rates"`
	Visitors       int64            `json:"visitors"`
	Dropped        int64            `json:"dropped" doc:"visitors not started: too many sessions in flight"`
	EventsSent     int64            `json:"events_sent"`
	EventsAccepted int64            `json:"events_accepted"`
	EventsRejected int64            `json:"events_rejected"`
	EventsLost     int64            `json:"events_lost" doc:"in batches that got no 2xx"`
	Rejections     map[string]int64 `json:"rejections,omitempty"`
	Quotes         int64            `json:"quotes"`
	Placed         int64            `json:"orders_placed"`
	Refused        int64            `json:"orders_refused"`
	Refusals       map[string]int64 `json:"refusals,omitempty"`
	Paid           int64            `json:"orders_paid"`
	Cancelled      int64            `json:"orders_cancelled"`
	Unpaid         int64            `json:"orders_left_unpaid"`
	Refunded       int64            `json:"orders_refunded"`
	FlashBought    int64            `json:"flash_bought"`
	Flash          map[string]int64 `json:"flash,omitempty"`
	Statuses       map[string]int64 `json:"http_statuses"`
	Transport      int64            `json:"transport_errors"`
	Errors         map[string]int64 `json:"errors,omitempty"`
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, arr := time.Since(s.start), s.arrived
	if arr == 0 {
		arr = el
	}
	return Snapshot{Elapsed: el, Arrivals: arr, Visitors: s.visitors.Load(), Dropped: s.dropped.Load(),
		EventsSent: s.eventsSent.Load(), EventsAccepted: s.eventsAccepted.Load(), EventsRejected: s.eventsRejected.Load(),
		EventsLost: s.eventsLost.Load(), Rejections: maps.Clone(s.rejections), Quotes: s.quotes.Load(), Placed: s.placed.Load(),
		Refused: s.refused.Load(), Refusals: maps.Clone(s.refusals), Paid: s.paid.Load(), Cancelled: s.cancelled.Load(),
		Unpaid: s.unpaid.Load(), Refunded: s.refunded.Load(), FlashBought: s.flashBought.Load(), Flash: maps.Clone(s.flash),
		Statuses: maps.Clone(s.statuses), Transport: s.transport.Load(), Errors: maps.Clone(s.errors)}
}

// ServerErrors counts 5xx answers.
func (n Snapshot) ServerErrors() int64 {
	var t int64
	for k, v := range n.Statuses {
		if strings.HasPrefix(k, "5") {
			t += v
		}
	}
	return t
}

// Failed says whether the run saw a server failure: any 5xx, an
// undecodable answer, or a transport error.
func (n Snapshot) Failed() bool {
	return n.ServerErrors() > 0 || n.Transport > 0 || len(n.Errors) > 0
}

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func kv(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// String is the human report.
func (n Snapshot) String() string {
	var b strings.Builder
	d := n.Elapsed.Round(time.Second)
	fmt.Fprintf(&b, "after %s: %d visitors (%.1f/s", d, n.Visitors, perSec(n.Visitors, n.Arrivals))
	if n.Dropped > 0 {
		fmt.Fprintf(&b, ", %d dropped", n.Dropped)
	}
	fmt.Fprintf(&b, ")\n  events   sent %d (%.0f/s), accepted %d, rejected %d", n.EventsSent, perSec(n.EventsSent, n.Arrivals), n.EventsAccepted, n.EventsRejected)
	if n.EventsLost > 0 {
		fmt.Fprintf(&b, ", lost %d", n.EventsLost)
	}
	if len(n.Rejections) > 0 {
		fmt.Fprintf(&b, " (%s)", kv(n.Rejections))
	}
	fmt.Fprintf(&b, "\n  orders   quoted %d, placed %d (%.2f/s), refused %d, paid %d, cancelled %d, left unpaid %d, refunded %d",
		n.Quotes, n.Placed, perSec(n.Placed, n.Arrivals), n.Refused, n.Paid, n.Cancelled, n.Unpaid, n.Refunded)
	if len(n.Refusals) > 0 {
		fmt.Fprintf(&b, " (%s)", kv(n.Refusals))
	}
	if n.Visitors > 0 {
		fmt.Fprintf(&b, "\n  conversion %.2f %% of visitors placed an order", 100*float64(n.Placed-n.FlashBought)/float64(n.Visitors))
	}
	if len(n.Flash) > 0 {
		fmt.Fprintf(&b, "\n  flash    %s", kv(n.Flash))
	}
	fmt.Fprintf(&b, "\n  http     %s", kv(n.Statuses))
	if n.Transport > 0 {
		fmt.Fprintf(&b, ", transport errors %d", n.Transport)
	}
	if len(n.Errors) > 0 {
		fmt.Fprintf(&b, "\n  errors   %s", kv(n.Errors))
	}
	return b.String()
}
