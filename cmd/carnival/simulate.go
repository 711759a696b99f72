package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/demo"
	"github.com/carnivalhq/carnival/internal/simulate"
)

// simulateCmd drives realistic traffic at a running server through its
// public API (internal/simulate) and prints a report every few seconds and
// at the end. Any 5xx, transport error or undecodable answer makes it exit
// non-zero.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("carnival simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envDur := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(env(name, "")); err == nil {
			return d
		}
		return def
	}
	envNum := func(name string, def float64) float64 {
		if f, err := strconv.ParseFloat(env(name, ""), 64); err == nil {
			return f
		}
		return def
	}
	var cfg simulate.Config
	fs.StringVar(&cfg.URL, "url", env("sim-url", "http://127.0.0.1:8080"), "the server (env CARNIVAL_SIM_URL)")
	fs.StringVar(&cfg.Key, "key", env("sim-key", ""), "a storefront API key: events, quotes, orders, payments, flash buys (env CARNIVAL_SIM_KEY)")
	fs.StringVar(&cfg.PublishableKey, "publishable-key", env("sim-publishable-key", ""),
		"a publishable key: sends the visitors' events as the page tracker does; without it --key sends them (env CARNIVAL_SIM_PUBLISHABLE_KEY)")
	fs.StringVar(&cfg.AdminKey, "admin-key", env("sim-admin-key", ""),
		"an admin or operator key: reads the catalog and customers, creates customers if there are none, refunds; without it only live flash-sale SKUs are sold and nothing is refunded (env CARNIVAL_SIM_ADMIN_KEY)")
	fs.DurationVar(&cfg.Duration, "duration", envDur("sim-duration", 10*time.Minute), "how long visitors arrive; 0 runs until interrupted (env CARNIVAL_SIM_DURATION)")
	fs.DurationVar(&cfg.Drain, "drain", 15*time.Second, "after the duration, how long sessions in flight may take to finish")
	fs.Float64Var(&cfg.Rate, "rate", envNum("sim-rate", 20), "visitors a second at the diurnal curve's mean (env CARNIVAL_SIM_RATE)")
	fs.Float64Var(&cfg.Uplift, "uplift", 1, "campaign uplift: the rate is multiplied by this inside the uplift window")
	fs.DurationVar(&cfg.UpliftAt, "uplift-at", 0, "when the uplift starts, after the start of the run")
	fs.DurationVar(&cfg.UpliftFor, "uplift-for", 0, "how long the uplift lasts; 0 to the end of the run")
	fs.Float64Var(&cfg.Speed, "speed", 60, "diurnal clock speed: one simulated hour lasts 3600/speed seconds (timestamps stay real)")
	fs.Float64Var(&cfg.StartHour, "start-hour", -1, "simulated local hour at the start, 0 to 23.99; negative starts at the shop's current hour")
	tz := fs.String("time-zone", "Asia/Shanghai", "the shop's time zone, for --start-hour's default")
	channels := fs.String("channels", env("sim-channels", simulate.DefaultChannels), "channel mix: source[/medium]=weight,…; direct has no UTM tags (env CARNIVAL_SIM_CHANNELS)")
	campaign := fs.String("campaign", "", "utm_campaign of every channel but direct")
	fs.IntVar(&cfg.FlashBurst, "flash-burst", 50, "buyers that hit a live flash sale at once (0: no burst)")
	fs.DurationVar(&cfg.FlashAt, "flash-at", 10*time.Second, "when the flash burst happens, after the start")
	fs.Float64Var(&cfg.FlashRepeat, "flash-repeat", 0.05, "share of burst buyers who try twice and meet the per-customer limit (the guard may block the simulator's address after a few)")
	fs.DurationVar(&cfg.Think, "think", 400*time.Millisecond, "mean pause between two actions of a visitor")
	fs.DurationVar(&cfg.PayAfter, "pay-after", 1500*time.Millisecond, "mean pause between placing an order and paying or cancelling it")
	fs.DurationVar(&cfg.RefundAfter, "refund-after", 3*time.Second, "mean pause between a payment and its refund")
	seed := fs.Uint64("seed", 1, "random seed: the same seed plans the same traffic")
	fs.DurationVar(&cfg.ReportEvery, "report", 5*time.Second, "how often to print the counters")
	asJSON := fs.Bool("json", false, "print the final counters as JSON instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return fmt.Errorf("--time-zone: %w", err)
	}
	cfg.Location, cfg.Seed = loc, *seed
	if cfg.Channels, err = simulate.ParseChannels(*channels, *campaign); err != nil {
		return fmt.Errorf("--channels: %w", err)
	}
	if cfg.Duration < 0 || cfg.Drain < 0 || cfg.UpliftAt < 0 || cfg.UpliftFor < 0 || cfg.FlashAt < 0 || cfg.ReportEvery <= 0 ||
		cfg.Think < 0 || cfg.PayAfter < 0 || cfg.RefundAfter < 0 {
		return errors.New("durations cannot be negative, and --report must be above 0")
	}
	if cfg.Uplift <= 0 || cfg.Speed <= 0 {
		return errors.New("--uplift and --speed must be above 0")
	}
	if cfg.FlashRepeat < 0 || cfg.FlashRepeat > 1 || cfg.FlashBurst < 0 {
		return errors.New("--flash-repeat must be between 0 and 1, --flash-burst at least 0")
	}
	cfg.Report = func(s simulate.Snapshot, final bool) {
		if final {
			if *asJSON {
				b, _ := json.MarshalIndent(s, "", "  ")
				fmt.Fprintf(stdout, "%s\n", b)
				return
			}
			fmt.Fprintf(stdout, "final: %s\n", s)
			return
		}
		fmt.Fprintln(stderr, s.String())
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	snap, err := simulate.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if snap.Failed() {
		return fmt.Errorf("the server failed: %d answers 5xx, %d transport errors, %d undecodable answers",
			snap.ServerErrors(), snap.Transport, len(snap.Errors))
	}
	return nil
}

// demoTrafficKey names the API keys the demo's own traffic uses.
const demoTrafficKey = "demo traffic"

// demoTraffic runs the simulator against the demo's own listener at rate
// visitors a second until ctx ends, following the shop's real clock (speed
// 1), with a small flash-sale burst after half a minute. It logs a summary
// every minute; nothing it does can stop the server.
func demoTraffic(ctx context.Context, rate float64, st commerce.Store, svc *commerce.Service, base string, log *slog.Logger) {
	shop, seeded, err := demo.IsSeeded(ctx, st)
	if err != nil || !seeded {
		if ctx.Err() == nil {
			log.Warn("demo traffic not started: no demo shop", "err", err)
		}
		return
	}
	// Keys of an earlier run are revoked, so restarts don't pile them up.
	if keys, err := svc.ListAPIKeys(ctx, shop.ID); err == nil {
		for _, k := range keys {
			if k.Name == demoTrafficKey && k.RevokedAt == nil {
				if err := svc.RevokeAPIKey(ctx, commerce.Actor{ShopID: shop.ID}, k.ID); err != nil {
					log.Warn("old demo traffic key not revoked", "key", k.ID, "err", err)
				}
			}
		}
	}
	_, front, err := svc.CreateAPIKey(ctx, shop.ID, commerce.RoleStorefront, demoTrafficKey)
	if err != nil {
		log.Warn("demo traffic not started", "err", err)
		return
	}
	_, admin, err := svc.CreateAPIKey(ctx, shop.ID, commerce.RoleOperator, demoTrafficKey)
	if err != nil {
		log.Warn("demo traffic not started", "err", err)
		return
	}
	// The visitors' events go as a page's tracker sends them: with the
	// publishable key.
	_, pub, err := svc.CreateAPIKey(ctx, shop.ID, commerce.RolePublishable, demoTrafficKey)
	if err != nil {
		log.Warn("demo traffic not started", "err", err)
		return
	}
	loc, err := time.LoadLocation(shop.TimeZone)
	if err != nil {
		loc = time.Local
	}
	report := func(s simulate.Snapshot, final bool) {
		log.Info("demo traffic", "visitors", s.Visitors, "events", s.EventsAccepted, "orders", s.Placed, "paid", s.Paid,
			"refunded", s.Refunded, "flash", s.FlashBought, "server_errors", s.ServerErrors())
	}
	_, err = simulate.Run(ctx, simulate.Config{URL: base, Key: front, AdminKey: admin, PublishableKey: pub, Rate: rate, Speed: 1, StartHour: -1, Location: loc,
		FlashBurst: 20, FlashAt: 30 * time.Second, Seed: uint64(time.Now().UnixNano()), Report: report, ReportEvery: time.Minute})
	if err != nil && ctx.Err() == nil {
		log.Warn("demo traffic stopped", "err", err)
	}
}
