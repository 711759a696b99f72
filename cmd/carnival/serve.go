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

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/demo"
	"github.com/carnivalhq/carnival/internal/httpapi"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

func serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	log := newLogger(cfg.LogLevel, stderr)
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
	groups := peak.NewGroups(st, svc, peak.Options{Logger: log})

	if cfg.Demo {
		if err := seedDemo(ctx, st, svc, ps, stdout, log); err != nil {
			return err
		}
	}

	api := httpapi.New(httpapi.Config{Commerce: svc, Promotions: ps, Logger: log, Ready: st.Ping, Groups: groups})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "addr", ln.Addr().String(), "engine", st.Dialect().Name)
	fmt.Fprintf(stdout, "Carnival is listening on http://%s  (API reference: http://%s/docs)\n", ln.Addr(), ln.Addr())

	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweep(ctx, svc, groups, cfg.Sweep, log)
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// sweep fails group buys whose window closed before they completed
// (cancelling and refunding their members' orders), then cancels unpaid
// orders past their payment timeout, releasing their holds, until ctx ends.
// Groups go first so a failed group's pending orders carry the reason
// group_failed rather than payment_timeout.
func sweep(ctx context.Context, svc *commerce.Service, groups *peak.Groups, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := groups.ExpireDue(ctx, 100)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("group buy sweep", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("failed expired groups", "count", n)
			}
			if n < 100 {
				break
			}
		}
		for {
			n, err := svc.ExpireDue(ctx, 500)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("payment timeout sweep", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("cancelled unpaid orders", "count", n)
			}
			if n < 500 {
				break
			}
		}
	}
}

func seedDemo(ctx context.Context, st commerce.Store, svc *commerce.Service, ps *promotion.Service, stdout io.Writer, log *slog.Logger) error {
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
	log.Info("demo seeded", "shop", res.Shop.ID, "skus", res.SKUs, "customers", res.Customers, "orders", res.Orders,
		"promotions", len(promos.Promotions), "coupons", promos.Coupons, "took", time.Since(start).String())
	fmt.Fprintf(stdout, "Demo shop %q (%s): %d SKUs, %d customers, %d orders, %d promotions, %d coupon templates.\n",
		res.Shop.Name, res.Shop.ID, res.SKUs, res.Customers, res.Orders, len(promos.Promotions), len(promos.Templates))
	fmt.Fprintf(stdout, "Admin API key:      %s\nStorefront API key: %s\nAnalyst API key:    %s\n", res.AdminKey, res.StorefrontKey, res.AnalystKey)
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
