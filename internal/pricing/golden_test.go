package pricing

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.want.json from the engine (review every change by hand)")

// TestGoldenQuotes prices the realistic carts of testdata/golden and
// compares with the reviewed answers. Each want file was checked by hand
// against PRICING.md; see testdata/golden_notes.md.
func TestGoldenQuotes(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.input.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, path := range inputs {
		name := strings.TrimSuffix(filepath.Base(path), ".input.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var in Input
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			res, err := Quote(&in)
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			checkInvariants(t, &in, res)
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			wantPath := strings.TrimSuffix(path, ".input.json") + ".want.json"
			if *update {
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenQuotes -update, then review the file)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Fatalf("%s differs (-want +got):\n%s", wantPath, d)
			}
		})
	}
}
