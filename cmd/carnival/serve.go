package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/campaign"
	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/demo"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/peak/guard"
	"github.com/carnivalhq/carnival/internal/promotion"
	"github.com/carnivalhq/carnival/internal/redis"
	"github.com/carnivalhq/carnival/internal/review"
)

func serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg.LogLevel, stderr)
	proxies, err := httpapi.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	tuneGC()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := commerce.NewService(st, commerce.Options{})
	ps := promotion.New(st, svc)
	// Shop-wide day sketches of data from before they existed, before
	// ingestion writes any (see BackfillShopSketches).
	if n, err := st.BackfillShopSketches(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("built shop-wide day sketches", "sketches", n)
	}
	// Merged sketches of closed days, shared by every metric read
	// (16 KiB a dense one: about 64 MiB at most).
	sketchCache := analytics.NewCache(4096, svc.Now)
	ing, err := analytics.NewIngestor(ctx, st, analytics.Options{Location: analytics.ShopLocation(svc), Logger: log, Node: cfg.Node})
	if err != nil {
		return err
	}
	defer ing.Close() // flushes rollups; raw events are already durable
	analytics.FromOrders(svc, ing, log)
	go func() { // idempotent, so it runs alongside live orders: 20 000 orders take about 2 s
		if r, err := analytics.ReconcileOrders(ctx, svc, ing, svc.Now().Add(-analytics.MaxPast), log); err != nil {
			log.Error("reconcile order events", "err", err)
		} else if r.Added > 0 {
			log.Warn("order events restored after a restart", "added", r.Added, "of", r.Events)
		}
	}()

	// One node: admission and rate limits in memory. Several nodes: both in
	// Redis, shared (--redis).
	ready := st.Ping
	var eng peak.Engine = peak.NewMemory()
	var lim guard.Limiter = guard.NewMemoryLimiter(nil)
	var redisEng *redis.Engine
	if cfg.Redis != "" {
		rc, err := redis.Connect(ctx, cfg.Redis)
		if err != nil {
			return err
		}
		defer rc.Close()
		redisEng = redis.NewEngine(rc, redis.EngineOptions{Grace: cfg.RedisGrace, Coupons: redis.LookupCoupons(ps)})
		eng, lim = redisEng, redis.NewLimiter(rc)
		ready = func(ctx context.Context) error {
			if err := st.Ping(ctx); err != nil {
				return err
			}
			return rc.Ping(ctx).Err()
		}
		log.Info("admission and rate limits in redis", "addr", rc.Options().Addr)
	}
	flash := peak.NewFlash(st, svc, eng, peak.Options{Logger: log})
	if err := flash.Start(ctx); err != nil {
		return err
	}
	pre := peak.NewPresales(st, svc, peak.Options{Logger: log})
	groups := peak.NewGroups(st, svc, peak.Options{Logger: log})
	cs := campaign.New(st, svc, ps, analytics.CampaignActuals{Reader: analytics.Reader{St: st, Cache: sketchCache}, Spend: st})
	if cfg.Demo {
		if err := seedDemo(ctx, st, svc, ps, flash, ing, cs, stdout, log); err != nil {
			return err
		}
	}

	gd, err := guard.New(ctx, st, lim, guard.Options{Logger: log, TrustedIP: proxies.Contains})
	if err != nil {
		return err
	}
	defer gd.Close() // after the server has stopped: writes the refusals still queued

	alerts := alert.New(st, svc, alert.Options{Campaigns: cs, Metrics: st, Logger: log})
	api := httpapi.New(httpapi.Config{Commerce: svc, Promotions: ps, Flash: flash, Grabs: peak.NewGrabs(eng, ps, nil), Presales: pre, Groups: groups, Campaigns: cs, Guard: gd, Logger: log, Ready: ready,
		Analytics: ing, AnalyticsStore: st, AnalyticsCache: sketchCache, Review: review.NewSources(cs, st, st), Alerts: alerts,
		TrustedProxies: proxies})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(api.StopStreams) // live-tile streams end so Shutdown does not wait on them
	log.Info("listening", "addr", ln.Addr().String(), "engine", st.Dialect().Name)
	fmt.Fprintf(stdout, "Carnival is listening on http://%s  (API reference: http://%s/docs)\n", ln.Addr(), ln.Addr())

	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweep(ctx, cfg.Sweep, log, []sweepStep{
			// Groups go first so a failed group's pending orders carry the
			// reason group_failed rather than payment_timeout.
			{"failed expired groups", groups.ExpireDue},
			// Expiring before forfeiting matters: a balance order that
			// timed out at its window's end gives its deposit back before
			// the forfeit step looks at it.
			{"cancelled unpaid orders", svc.ExpireDue},
			{"forfeited presale deposits", pre.ForfeitDue},
			{"ended flash sales", flash.EndDue},
			{"flash sales started on other nodes", flash.Refresh},
			{"reconciled redis admissions", func(ctx context.Context, _ int) (int, error) {
				if redisEng == nil {
					return 0, nil
				}
				r, err := redisEng.Sweep(ctx, redis.LookupOrders(svc), flash.Start)
				return r.Confirmed + r.Aborted, err
			}},
		})
	}()

	// Alerts: rules are evaluated every --alert-every; the deliverer sends
	// the outbox's due webhook deliveries (their schedule is in the rows).
	alertsDone := make(chan struct{}, 2)
	go func() {
		defer func() { alertsDone <- struct{}{} }()
		evaluateAlerts(ctx, alerts, cfg.AlertEvery, log)
	}()
	go func() {
		defer func() { alertsDone <- struct{}{} }()
		alert.NewDeliverer(st, alert.DelivererOptions{Logger: log}).Run(ctx, 2*time.Second)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	// The demo simulates shoppers against itself so the dashboard moves;
	// the traffic stops before the server does.
	if cfg.Demo && cfg.DemoTraffic > 0 {
		trafficCtx, stopTraffic := context.WithCancel(ctx)
		trafficDone := make(chan struct{})
		go func() {
			defer close(trafficDone)
			demoTraffic(trafficCtx, cfg.DemoTraffic, st, svc, "http://"+ln.Addr().String(), log)
		}()
		defer func() { stopTraffic(); <-trafficDone }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	<-sweepDone
	<-alertsDone
	<-alertsDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// evaluateAlerts evaluates every shop's alert rules every interval until
// ctx ends.
func evaluateAlerts(ctx context.Context, as *alert.Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := as.Evaluate(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("alert evaluation", "err", err)
		}
	}
}

// sweepStep is one periodic job: it handles at most limit due things and
// says how many it handled.
type sweepStep struct {
	what string
	run  func(ctx context.Context, limit int) (int, error)
}

// sweep runs the steps every interval until ctx ends: unpaid orders past
// their payment timeout are cancelled (releasing their holds), sales whose
// window closed are ended, and so on.
func sweep(ctx context.Context, every time.Duration, log *slog.Logger, steps []sweepStep) {
	if every <= 0 {
		return
	}
	const batch = 500
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, st := range steps {
			for {
				n, err := st.run(ctx, batch)
				if err != nil {
					if ctx.Err() == nil {
						log.Error("sweep", "step", st.what, "err", err)
					}
					break
				}
				if n > 0 {
					log.Info(st.what, "count", n)
				}
				if n < batch {
					break
				}
			}
		}
	}
}

func seedDemo(ctx context.Context, st commerce.Store, svc *commerce.Service, ps *promotion.Service, fl *peak.Flash, ing *analytics.Ingestor,
	cs *campaign.Service, stdout io.Writer, log *slog.Logger) error {
	shop, seeded, err := demo.IsSeeded(ctx, st)
	if err != nil {
		return err
	}
	if seeded {
		_, secret, err := svc.CreateAPIKey(ctx, shop.ID, commerce.RoleAdmin, "demo")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Demo shop %q (%s) is already here.\nA new admin API key: %s\n", shop.Name, shop.ID, secret)
		return nil
	}
	start := time.Now()
	fmt.Fprintln(stdout, "Seeding the demo shop (once)…")
	res, err := demo.Seed(ctx, st, demo.Options{Now: time.Now()})
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	promos, err := demo.SeedPromotions(ctx, ps, svc, res.Shop.ID, time.Now())
	if err != nil {
		return fmt.Errorf("seed demo promotions: %w", err)
	}
	flash, err := demo.SeedFlash(ctx, fl, ps, svc, res.Shop.ID, time.Now())
	if err != nil {
		return fmt.Errorf("seed demo flash sales: %w", err)
	}
	// The history's analytics (the order seeding bypasses the ingestor)
	// and the campaign plans over it.
	hist, err := demo.SeedAnalytics(ctx, svc, ing, res.Shop.ID, res.Shop.CreatedAt, time.Now(), 11)
	if err != nil {
		return fmt.Errorf("seed demo analytics: %w", err)
	}
	log.Info("demo analytics history seeded", "order_events", hist.OrderEvents, "storefront_events", hist.StorefrontEvents,
		"visitors", hist.Visitors, "took", hist.Took.String())
	loc, err := time.LoadLocation(res.Shop.TimeZone)
	if err != nil {
		return fmt.Errorf("seed demo campaigns: %w", err)
	}
	cps, err := demo.SeedCampaigns(ctx, cs, res.Shop.ID, loc, time.Now(), promos, res.Double11)
	if err != nil {
		return fmt.Errorf("seed demo campaigns: %w", err)
	}
	log.Info("demo seeded", "shop", res.Shop.ID, "skus", res.SKUs, "customers", res.Customers, "orders", res.Orders,
		"promotions", len(promos.Promotions), "coupons", promos.Coupons, "took", time.Since(start).String())
	fmt.Fprintf(stdout, "Demo shop %q (%s): %d SKUs, %d customers, %d orders, %d promotions, %d coupon templates.\n",
		res.Shop.Name, res.Shop.ID, res.SKUs, res.Customers, res.Orders, len(promos.Promotions), len(promos.Templates))
	fmt.Fprintf(stdout, "Flash sale live now: %s (upcoming: %s); coupon to grab: %s\n", flash.Live, flash.Upcoming, flash.GrabTemplate)
	fmt.Fprintf(stdout, "Campaigns: %s (双11, ended: see /api/v1/campaigns/%s/review.html), %s (双12, upcoming)\n", cps.Double11, cps.Double11, cps.Double12)
	fmt.Fprintf(stdout, "Admin API key:      %s\nStorefront API key: %s (secret: servers only)\nPublishable key:    %s (for page HTML)\nAnalyst API key:    %s\n",
		res.AdminKey, res.StorefrontKey, res.PublishableKey, res.AnalystKey)
	fmt.Fprintf(stdout, "Tracker for the shop's pages: <script src=\"https://<this server>/t.js\" data-key=\"%s\" async></script>\n", res.PublishableKey)
	return nil
}

// tuneGC trades memory for throughput: Carnival's live heap is small and
// its requests allocate a lot, so with Go's default GOGC=100 the collector
// runs constantly. Unless the operator sets GOGC, collect at 400 %.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
}
