// Package postgres is Carnival's scale-out engine: PostgreSQL through pgx v5
// (its database/sql adapter, so the portable SQL in sqlstore runs as is).
// It owns the PostgreSQL migrations.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"

	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the engine.
type Options struct {
	// MaxConns is the pool size (default 32).
	MaxConns int
}

// Open connects to url (postgres://…), applies the migrations and returns
// the store.
func Open(ctx context.Context, url string, opt Options) (*sqlstore.Store, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 32
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(opt.MaxConns)
	db.SetMaxIdleConns(opt.MaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate postgres: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate postgres: %w", err)
	}
	return sqlstore.New(db, db, Dialect()), nil
}

// Dialect is PostgreSQL's: $n placeholders, SQLSTATE codes.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:                "postgres",
		NumberedPlaceholder: func(n int) string { return "$" + strconv.Itoa(n) },
		IsUnique: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23505"
		},
		IsRetryable: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
		},
	}
}
