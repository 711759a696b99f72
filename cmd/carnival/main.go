// Command carnival runs Carnival: the API server, migrations, API keys, the
// demo shop and the load generators. Configuration comes from flags and
// CARNIVAL_* environment variables into one Config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // shop time zones resolve where the host has no zone database

	"github.com/carnivalhq/carnival/internal/netguard"
	"github.com/carnivalhq/carnival/internal/storage/postgres"
	"github.com/carnivalhq/carnival/internal/storage/sqlite"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// Config is every setting of every subcommand.
type Config struct {
	Addr        string
	Data        string
	DB          string
	Demo        bool
	LogLevel    string
	Synchronous string
	Sweep       time.Duration
	Role        string
	Shop        string
	Name        string
	// Redis is a redis:// URL; set, the guard's rate limits (and the
	// peak paths' shared state) live in Redis so instances share them.
	Redis string
	// DemoTraffic is the visitors a second the demo simulates against
	// itself (serve --demo); 0 turns the traffic off.
	DemoTraffic float64
	// RedisGrace is how long a Redis admission may stay unconfirmed before
	// the reconciler settles it against the database.
	RedisGrace time.Duration
	// AlertEvery is how often alert rules are evaluated.
	AlertEvery time.Duration
	// Node names this process among the nodes sharing one database
	// (analytics.Options.Node).
	Node string
	// TrustedProxies lists the proxies (CIDR prefixes or addresses, comma
	// separated) whose forwarding headers name the client IP.
	TrustedProxies string
}

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "carnival:", err)
		os.Exit(1)
	}
}

const usage = `Carnival — campaign operations for online stores.

Usage:
  carnival serve [flags]            run the API server (embedded SQLite in --data, or --db postgres://…)
  carnival serve --demo             the same, seeding a demo shop first if the data has none
  carnival demo [flags]             short for serve --demo
  carnival migrate [flags]          apply database migrations and exit
  carnival simulate --key K [--publishable-key P] [--admin-key A] [--duration 10m] [--rate 20] [--uplift 3] [--speed 60]
                                    drive realistic shopper traffic at a running server
  carnival analytics fold --node N  fold into the rollups the events a retired node stored but never flushed
  carnival shops create --name N    create a shop and print its id
  carnival keys create --role R --shop S [--name N]
                                    create an API key and print it (its only line on stdout);
                                    --role publishable makes the key for page HTML (ck_pk_…)

Run 'carnival <command> --help' for the flags of a command. Every flag can
also be set with an environment variable: --addr is CARNIVAL_ADDR, --data
is CARNIVAL_DATA, and so on.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "demo":
		cfg, err := parse(cmd, rest, stderr, flagsServe)
		if err != nil {
			return err
		}
		if cmd == "demo" {
			cfg.Demo = true
		}
		return serve(ctx, cfg, stdout, stderr)
	case "migrate":
		cfg, err := parse(cmd, rest, stderr, flagsStore)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "migrations applied")
		return st.Close()
	case "keys":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: carnival keys create --role R --shop S [--name N]")
		}
		cfg, err := parse("keys create", rest[1:], stderr, flagsKeys)
		if err != nil {
			return err
		}
		return keysCreate(ctx, cfg, stdout)
	case "shops":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New("usage: carnival shops create --name N")
		}
		cfg, err := parse("shops create", rest[1:], stderr, flagsShops)
		if err != nil {
			return err
		}
		return shopsCreate(ctx, cfg, stdout)
	case "analytics":
		if len(rest) == 0 || rest[0] != "fold" {
			return errors.New("usage: carnival analytics fold --node N")
		}
		cfg, err := parse("analytics fold", rest[1:], stderr, flagsFold)
		if err != nil {
			return err
		}
		return analyticsFold(ctx, cfg, stderr)
	case "bench":
		return bench(ctx, rest, stdout, stderr)
	case "simulate":
		return simulateCmd(ctx, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// env returns CARNIVAL_<NAME> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("CARNIVAL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func flagsStore(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Data, "data", env("data", "./carnival-data"), "folder of the embedded database (env CARNIVAL_DATA)")
	fs.StringVar(&c.DB, "db", env("db", ""), "PostgreSQL URL, e.g. postgres://user@host:5432/carnival; empty uses the embedded database (env CARNIVAL_DB)")
	fs.StringVar(&c.Synchronous, "sqlite-synchronous", env("sqlite-synchronous", "FULL"),
		"embedded database durability: FULL keeps acknowledged writes through power loss, NORMAL through process crashes only (env CARNIVAL_SQLITE_SYNCHRONOUS)")
	fs.StringVar(&c.LogLevel, "log-level", env("log-level", "info"), "debug, info, warn or error (env CARNIVAL_LOG_LEVEL)")
}

func flagsServe(fs *flag.FlagSet, c *Config) {
	flagsStore(fs, c)
	fs.StringVar(&c.Addr, "addr", env("addr", "127.0.0.1:8080"), "address to listen on (env CARNIVAL_ADDR)")
	fs.BoolVar(&c.Demo, "demo", env("demo", "") == "true" || env("demo", "") == "1", "seed a demo shop if the data has none, and print an admin key (env CARNIVAL_DEMO)")
	traffic, err := strconv.ParseFloat(env("demo-traffic", "2"), 64)
	if err != nil {
		traffic = 2
	}
	fs.Float64Var(&c.DemoTraffic, "demo-traffic", traffic, "with --demo: simulated visitors a second against the server itself, so the dashboard moves; 0 turns it off (env CARNIVAL_DEMO_TRAFFIC)")
	sweep := env("sweep", "1s")
	d, err := time.ParseDuration(sweep)
	if err != nil {
		d = time.Second
	}
	fs.DurationVar(&c.Sweep, "sweep", d, "how often unpaid orders past their payment timeout are cancelled (env CARNIVAL_SWEEP)")
	fs.StringVar(&c.Redis, "redis", env("redis-url", ""),
		"Redis URL, e.g. redis://127.0.0.1:6379/0: flash-sale admission and rate limits shared by several instances; empty keeps them in process (env CARNIVAL_REDIS_URL)")
	grace, err := time.ParseDuration(env("redis-grace", "30s"))
	if err != nil {
		grace = 30 * time.Second
	}
	fs.DurationVar(&c.RedisGrace, "redis-grace", grace,
		"how long a Redis admission may stay unconfirmed before the reconciler settles it against the database: confirmed if its order exists, given back if not (env CARNIVAL_REDIS_GRACE)")
	alertEvery, err := time.ParseDuration(env("alert-every", "1m"))
	if err != nil || alertEvery <= 0 {
		alertEvery = time.Minute
	}
	fs.DurationVar(&c.AlertEvery, "alert-every", alertEvery, "how often alert rules are evaluated (env CARNIVAL_ALERT_EVERY)")
	fs.StringVar(&c.Node, "node", env("node", ""),
		"this node's name when several nodes share one PostgreSQL: distinct per node and stable across restarts (a StatefulSet pod name); empty for a single node (env CARNIVAL_NODE)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("trusted-proxies", ""),
		"proxies whose X-Forwarded-For, Forwarded or X-Real-IP name the client IP: comma-separated CIDR prefixes or addresses, e.g. 10.0.0.0/8; empty trusts none and the client IP is the connection's peer (env CARNIVAL_TRUSTED_PROXIES)")
}

func flagsFold(fs *flag.FlagSet, c *Config) {
	flagsStore(fs, c)
	fs.StringVar(&c.Node, "node", "", "the retired node whose events to fold (\"\" is the single-node name)")
}

func flagsKeys(fs *flag.FlagSet, c *Config) {
	flagsStore(fs, c)
	fs.StringVar(&c.Role, "role", "", "admin, operator, analyst, storefront (the secret key for the storefront's servers) or publishable (the key for page HTML: events and anonymous quotes)")
	fs.StringVar(&c.Shop, "shop", env("shop", ""), "the shop id (env CARNIVAL_SHOP)")
	fs.StringVar(&c.Name, "name", "", "a label for the key")
}

func flagsShops(fs *flag.FlagSet, c *Config) {
	flagsStore(fs, c)
	fs.StringVar(&c.Name, "name", "", "the shop's name")
	fs.StringVar(&c.Shop, "time-zone", "Asia/Shanghai", "the shop's IANA time zone")
}

func parse(name string, args []string, stderr io.Writer, define func(*flag.FlagSet, *Config)) (*Config, error) {
	fs := flag.NewFlagSet("carnival "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &Config{}
	define(fs, c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func openStore(ctx context.Context, c *Config) (*sqlstore.Store, error) {
	if c.DB != "" {
		if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// URL, got %q", netguard.RedactURL(c.DB))
		}
		return postgres.Open(ctx, c.DB, postgres.Options{})
	}
	sync := strings.ToUpper(c.Synchronous)
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("--sqlite-synchronous must be FULL or NORMAL, got %q", c.Synchronous)
	}
	return sqlite.Open(ctx, filepath.Join(c.Data, "carnival.db"), sqlite.Options{Synchronous: sync})
}
