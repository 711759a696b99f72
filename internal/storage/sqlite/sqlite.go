// Package sqlite is Carnival's embedded engine: SQLite through the pure-Go
// modernc.org/sqlite driver, in WAL mode with one writer connection (every
// write transaction BEGIN IMMEDIATE) and a pool of read-only connections.
// It owns the SQLite migrations; the SQL itself lives in sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the engine.
type Options struct {
	// Synchronous is the SQLite synchronous pragma: FULL (default) makes an
	// acknowledged write survive power loss; NORMAL only a process crash.
	Synchronous string
	// Readers is the size of the read pool (default 2 × GOMAXPROCS).
	Readers int
}

// Open opens (creating if needed) the database file at path, applies the
// migrations and returns the store.
func Open(ctx context.Context, path string, opt Options) (*sqlstore.Store, error) {
	if err := privateFiles(path); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if opt.Synchronous == "" {
		opt.Synchronous = "FULL"
	}
	if opt.Readers <= 0 {
		opt.Readers = 2 * runtime.GOMAXPROCS(0)
	}
	// busy_timeout comes first so every later pragma already waits for a
	// lock held by another process (e.g. `carnival keys create`).
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(" + opt.Synchronous + ")", "foreign_keys(ON)", "temp_store(MEMORY)", "cache_size(-32000)"}
	dsn := func(extra ...string) string {
		v := url.Values{}
		for _, p := range append(pragmas, extra...) {
			v.Add("_pragma", p)
		}
		return "file:" + path + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite", dsn()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// SQLite made the WAL and shared-memory files with its own mode.
	if err := chmodIfPresent(0o600, path+"-wal", path+"-shm"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	st := sqlstore.New(w, r, Dialect())
	st.StartGroupCommit()
	return st, nil
}

// privateFiles makes the database private to the user Carnival runs as,
// whatever the umask: a data folder it creates is 0700, the database file
// 0600 (created so before SQLite opens it, or tightened when an older
// version left it world-readable), and so are the WAL and shared-memory
// files SQLite keeps beside it (SQLite gives them the database's mode; an
// existing pair is tightened here too). A folder that already exists is
// the operator's and keeps its mode.
func privateFiles(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return chmodIfPresent(0o600, path, path+"-wal", path+"-shm")
}

// chmodIfPresent sets mode on each file that exists and has another mode.
func chmodIfPresent(mode fs.FileMode, names ...string) error {
	for _, n := range names {
		fi, err := os.Stat(n)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != mode {
			if err := os.Chmod(n, mode); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dialect is SQLite's: ?n placeholders, constraint and busy codes.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:                "sqlite",
		CacheStatements:     true,
		NumberedPlaceholder: func(n int) string { return "?" + strconv.Itoa(n) },
		IsUnique: func(err error) bool {
			var e *sqlite3.Error
			return errors.As(err, &e) && (e.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
		IsRetryable: func(err error) bool {
			var e *sqlite3.Error
			if errors.As(err, &e) {
				c := e.Code() & 0xff
				return c == sqlite3lib.SQLITE_BUSY || c == sqlite3lib.SQLITE_LOCKED
			}
			return strings.Contains(err.Error(), "database is locked")
		},
	}
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}
