package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeysCreateMakesPublishableKeysInAPrivateDataFolder: the command line
// makes the key for page HTML (ck_pk_…), and the data folder it creates is
// 0700 with the database 0600.
func TestKeysCreateMakesPublishableKeysInAPrivateDataFolder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "carnival-data")
	cli := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := run(ctx, append(args, "--data", dir), &out, &errs); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs.String())
		}
		return strings.TrimSpace(out.String())
	}
	shop := cli("shops", "create", "--name", "Keys")
	for role, prefix := range map[string]string{"publishable": "ck_pk_", "storefront": "ck_st_"} {
		if key := cli("keys", "create", "--role", role, "--shop", shop); !strings.HasPrefix(key, prefix) || strings.Contains(key, "\n") {
			t.Errorf("keys create --role %s printed %q; want one %s… line", role, key, prefix)
		}
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "carnival.db"): 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: %v; want %v", name, fi.Mode().Perm(), want)
		}
	}
}
