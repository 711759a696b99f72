package sqlite_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/storage/sqlite"
)

// TestDataFolderAndFilesArePrivate: whatever the umask, Open creates the
// data folder 0700 and the database, its WAL and shared-memory files 0600;
// a database an older version left world-readable is made private too.
func TestDataFolderAndFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask: modes must not depend on it
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "carnival.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A write, so that the WAL holds something.
	if _, err := commerce.NewService(st, commerce.Options{}).CreateShop(ctx, "perm probe", ""); err != nil {
		t.Fatal(err)
	}
	check := func(name string, want fs.FileMode, mustExist bool) {
		t.Helper()
		fi, err := os.Stat(name)
		if os.IsNotExist(err) && !mustExist {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v; want %v", filepath.Base(name), got, want)
		}
	}
	check(dir, 0o700, true)
	check(path, 0o600, true)
	check(path+"-wal", 0o600, true)
	check(path+"-shm", 0o600, false)
	st.Close()

	// An existing world-readable database (and its folder, which the
	// operator chose) : the files are made private, the folder left alone.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(f, 0o644)
	}
	os.Chmod(dir, 0o755)
	st, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check(path, 0o600, true)
	check(path+"-wal", 0o600, false)
	check(path+"-shm", 0o600, false)
	check(dir, 0o755, true)
}
