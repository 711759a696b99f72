package storetest

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/carnivalhq/carnival/internal/storage/postgres"
	"github.com/carnivalhq/carnival/internal/storage/sqlstore"
)

// SecondNode returns the store another Carnival node would use over st's
// database: on PostgreSQL a store of its own on st's schema (its own
// connections), on SQLite st itself (one file, one writer). Services built
// on it have caches of their own, as on another node.
func SecondNode(t *testing.T, st *sqlstore.Store) *sqlstore.Store {
	t.Helper()
	if st.Dialect().Name == "sqlite" {
		return st
	}
	var schema string
	if err := st.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(os.Getenv(PostgresURLEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	b, err := postgres.Open(context.Background(), u.String(), postgres.Options{MaxConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
