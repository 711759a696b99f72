// Package simulate drives realistic shopper traffic at a running Carnival
// server through its public API, the way a storefront and a back office
// would: visitors arrive as a non-homogeneous Poisson process following the
// shop's diurnal curve (compressed by Speed) times a campaign uplift, each
// from a channel of the mix, and browse, search, add to cart, check out,
// order, pay, cancel or leave orders unpaid; some paid orders are refunded;
// at a chosen moment a burst of buyers hits a live flash sale. Event
// timestamps are always now: the server refuses events from the future or
// older than 7 days. The same seed draws the same traffic.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"github.com/carnivalhq/carnival/internal/analytics"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Config is one run.
type Config struct {
	// URL is the server, e.g. http://127.0.0.1:8080.
	URL string
	// Key is a storefront key (events, quotes, orders, payments, flash
	// buys). AdminKey (admin or operator) reads the catalog and customers,
	// creates customers when the shop has none, and refunds; without it
	// the catalog is the live flash sales' SKUs and nothing is refunded.
	Key, AdminKey string
	// PublishableKey, when set, sends the visitors' events as a page's
	// tracker does (the publishable key is the one page HTML carries);
	// without it Key sends them.
	PublishableKey string
	// Duration of the arrivals; 0 runs until ctx ends. After it, sessions
	// in flight get Drain to finish.
	Duration, Drain time.Duration
	// Rate is visitors a second at the diurnal curve's mean; Speed
	// compresses the simulated day (one hour per 3600/Speed s); StartHour
	// is the simulated hour at the start (negative: now, in Location).
	Rate, Speed, StartHour float64
	Location               *time.Location
	// Uplift multiplies the rate from UpliftAt for UpliftFor (0: to the end).
	Uplift              float64
	UpliftAt, UpliftFor time.Duration
	Channels            []Channel
	Funnel              Funnel
	// Think, PayAfter and RefundAfter are mean pauses (see Model).
	Think, PayAfter, RefundAfter time.Duration
	// FlashBurst buyers hit a live flash sale at FlashAt after the start
	// (0 buyers: no burst).
	FlashBurst int
	FlashAt    time.Duration
	// FlashRepeat is the share of burst buyers who try a second time, to
	// meet the per-customer limit (the guard counts those failures and may
	// block the simulator's address for the sale).
	FlashRepeat float64
	Seed        uint64
	// MaxSessions bounds the sessions in flight; arrivals beyond are
	// dropped and counted.
	MaxSessions int
	// MaxCustomers bounds the known customers loaded.
	MaxCustomers int
	// Report, if set, is called every ReportEvery and once at the end.
	Report      func(s Snapshot, final bool)
	ReportEvery time.Duration
	HTTP        *http.Client
}

func (c Config) normalized() (Config, error) {
	if c.URL == "" {
		return c, errors.New("the server URL is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("the server URL %q must be http(s)://host[:port]", c.URL)
	}
	if c.Key == "" {
		return c, errors.New("a storefront API key is required")
	}
	if c.Rate <= 0 {
		return c, fmt.Errorf("the rate must be above 0 visitors/s, got %v", c.Rate)
	}
	if c.Speed <= 0 {
		c.Speed = 1
	}
	if c.Uplift <= 0 {
		c.Uplift = 1
	}
	if c.Duration < 0 {
		return c, errors.New("the duration cannot be negative")
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.StartHour < 0 {
		n := time.Now().In(c.Location)
		c.StartHour = float64(n.Hour()) + float64(n.Minute())/60
	}
	if c.StartHour >= 24 {
		return c, fmt.Errorf("the start hour must be below 24, got %v", c.StartHour)
	}
	if len(c.Channels) == 0 {
		c.Channels, _ = ParseChannels(DefaultChannels, "")
	}
	if c.Funnel == (Funnel{}) {
		c.Funnel = DefaultFunnel
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Think, 400*time.Millisecond)
	def(&c.PayAfter, 1500*time.Millisecond)
	def(&c.RefundAfter, 3*time.Second)
	def(&c.Drain, 15*time.Second)
	def(&c.ReportEvery, 5*time.Second)
	if c.MaxSessions <= 0 {
		c.MaxSessions = 5000
	}
	if c.MaxCustomers <= 0 {
		c.MaxCustomers = 2000
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
	}
	return c, nil
}

// Curve is the config's arrival curve.
func (c Config) Curve() Curve {
	k := NewCurve(c.Rate, c.Speed, c.StartHour)
	k.Uplift, k.UpliftAt, k.UpliftFor = c.Uplift, c.UpliftAt, c.UpliftFor
	return k
}

type sku struct {
	ID    string `json:"id"`
	Price int64  `json:"price"`
	Stock int64  `json:"stock"`
}

type runner struct {
	cfg       Config
	c         *client
	stats     *Stats
	run       string // a prefix that keeps ids of two runs apart
	skus      []sku
	customers []string
	events    chan event
}

// event is what POST /api/v1/events takes.
type event = analytics.Event

// Run drives traffic until Duration has passed (and sessions in flight
// finished) or ctx ends, and returns the final counters. An error means
// the run could not start (bad config, no catalog); server failures during
// the run are in the snapshot (Failed).
func Run(ctx context.Context, cfg Config) (Snapshot, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return Snapshot{}, err
	}
	st := newStats()
	r := &runner{cfg: cfg, stats: st, c: &client{base: trimSlash(cfg.URL), http: cfg.HTTP, stats: st},
		run: strconv.FormatInt(time.Now().UnixNano(), 36), events: make(chan event, 10000)}
	if err := r.setup(ctx); err != nil {
		return st.Snapshot(), err
	}
	st.mu.Lock()
	st.start = time.Now()
	st.mu.Unlock()

	var senders sync.WaitGroup
	for range 2 {
		senders.Go(func() { r.send(ctx) })
	}
	stopReports := make(chan struct{})
	var reports sync.WaitGroup
	if cfg.Report != nil {
		reports.Go(func() {
			t := time.NewTicker(cfg.ReportEvery)
			defer t.Stop()
			for {
				select {
				case <-stopReports:
					return
				case <-t.C:
					cfg.Report(st.Snapshot(), false)
				}
			}
		})
	}

	sessCtx, cancelSessions := context.WithCancel(ctx)
	defer cancelSessions()
	var sessions sync.WaitGroup
	if cfg.FlashBurst > 0 && (cfg.Duration == 0 || cfg.FlashAt < cfg.Duration) {
		sessions.Go(func() {
			if sleep(sessCtx, cfg.FlashAt) {
				r.flashBurst(sessCtx)
			}
		})
	}
	r.arrivals(sessCtx, &sessions)
	st.mu.Lock()
	st.arrived = time.Since(st.start)
	st.mu.Unlock()

	// Arrivals are over: give the sessions in flight Drain to finish.
	done := make(chan struct{})
	go func() { sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	case <-time.After(cfg.Drain):
	}
	cancelSessions()
	<-done
	close(r.events)
	senders.Wait()
	close(stopReports)
	reports.Wait()
	snap := st.Snapshot()
	if cfg.Report != nil {
		cfg.Report(snap, true)
	}
	return snap, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// arrivals starts sessions at the curve's arrival times until Duration or
// ctx ends. Every draw comes from the seed, in order, so a seed plans the
// same sessions whatever the server answers.
func (r *runner) arrivals(ctx context.Context, wg *sync.WaitGroup) {
	cfg := r.cfg
	master := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	model := &Model{Funnel: cfg.Funnel, Think: cfg.Think, PayAfter: cfg.PayAfter, RefundAfter: cfg.RefundAfter}
	cw := make([]float64, len(cfg.Channels))
	for i, c := range cfg.Channels {
		cw[i] = c.Weight
	}
	model.Channels = NewSampler(cw)
	model.SKUs = NewSampler(Popularity(master, len(r.skus)))
	curve := cfg.Curve()
	start := r.stats.start
	var live int64
	var mu sync.Mutex
	var at time.Duration
	for n := int64(1); ; n++ {
		at = curve.Next(master, at)
		if at < 0 || (cfg.Duration > 0 && at >= cfg.Duration) {
			if cfg.Duration > 0 {
				sleep(ctx, cfg.Duration-time.Since(start))
			} else {
				<-ctx.Done()
			}
			return
		}
		rng := rand.New(rand.NewPCG(master.Uint64(), master.Uint64()))
		s := model.Plan(rng)
		if !sleep(ctx, time.Until(start.Add(at))) {
			return
		}
		r.stats.visitors.Add(1)
		mu.Lock()
		full := live >= int64(cfg.MaxSessions)
		if !full {
			live++
		}
		mu.Unlock()
		if full {
			r.stats.dropped.Add(1)
			continue
		}
		wg.Go(func() {
			defer func() { mu.Lock(); live--; mu.Unlock() }()
			r.session(ctx, rng, s, n)
		})
	}
}
