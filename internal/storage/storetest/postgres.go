package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/carnivalhq/carnival/internal/storage/postgres"
	"github.com/carnivalhq/carnival/internal/storage/sqlite"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// PostgresURLEnv names the variable that enables PostgreSQL tests.
const PostgresURLEnv = "CARNIVAL_TEST_POSTGRES_URL"

// OpenPostgres opens a store in a fresh schema of the database named by
// CARNIVAL_TEST_POSTGRES_URL, dropped when the test ends; it skips the test,
// saying so, when the variable is not set.
func OpenPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL engine not tested: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", PostgresURLEnv)
	}
	ctx := context.Background()
	schema := "t_" + strings.ToLower(ulid.Make().String())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 16})
	if err != nil {
		t.Fatal(fmt.Errorf("open postgres: %w", err))
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenSQLite opens a store in a fresh SQLite file under the test's temp
// folder, closed when the test ends (synchronous=NORMAL: tests need no
// power-loss durability).
func OpenSQLite(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "carnival.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
