package pricing

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stdJSON is what encoding/json writes for v: json.Marshal with html set,
// else an Encoder with SetEscapeHTML(false) (what the API's huma
// operations use), without the Encoder's trailing newline.
func stdJSON(t testing.TB, v any, html bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// checkSameJSON fails unless AppendJSON writes exactly what encoding/json
// writes for r, with and without HTML escaping, and both decode to equal
// values.
func checkSameJSON(t testing.TB, r *Result) {
	t.Helper()
	for _, html := range []bool{true, false} {
		want := stdJSON(t, r, html)
		got := AppendJSON([]byte("prefix"), r, html)[len("prefix"):]
		var gotV, wantV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Fatalf("AppendJSON wrote invalid JSON (%v):\n%s", err, got)
		}
		if err := json.Unmarshal(want, &wantV); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantV, gotV); d != "" {
			t.Fatalf("AppendJSON (html %v) means something else than encoding/json (-want +got):\n%s", html, d)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON (html %v) differs from encoding/json:\n got %s\nwant %s", html, got, want)
		}
	}
}

// Strings that need escaping, or that encoding/json rewrites.
var nastyStrings = []string{"", "s1", `a"b\c`, "tab\tnl\n\r\b\f\x00\x1f\x7f", "<b>&</b>", "满300减40", "🎉", "\u2028\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80"}

var edgeInts = []int64{0, 1, -1, 100, 25800, math.MaxInt64, math.MinInt64, 1 << 53, -(1 << 53) - 1}

// fill sets every field reachable from v to a random value: strings from
// nastyStrings or random bytes, integers at the edges, slices nil, empty or
// short. Being driven by reflection, it covers a field added to a result
// type later, which the hand-written encoder must then learn to write.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if r.IntN(4) == 0 {
			b := make([]byte, r.IntN(8))
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(nastyStrings[r.IntN(len(nastyStrings))])
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if r.IntN(3) == 0 {
			v.SetInt(0)
		} else if r.IntN(2) == 0 {
			v.SetInt(r.Int64N(1_000_000) - 1000)
		} else {
			n := edgeInts[r.IntN(len(edgeInts))]
			if v.Kind() == reflect.Int32 {
				n = int64(int32(n))
			}
			v.SetInt(n)
		}
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Slice:
		switch r.IntN(4) {
		case 0: // nil
			v.SetZero()
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 3)
			for i := 0; i < s.Len(); i++ {
				fill(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(r, v.Field(i))
		}
	case reflect.Pointer:
		if r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem())
		v.Set(p)
	default:
		panic("fill: no generator for " + v.Type().String())
	}
}

func randomResult(r *rand.Rand) *Result {
	res := new(Result)
	fill(r, reflect.ValueOf(res).Elem())
	return res
}

func TestAppendJSONWritesWhatEncodingJSONWritesForRandomResults(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 17))
	for i := 0; i < 3000; i++ {
		checkSameJSON(t, randomResult(r))
	}
	checkSameJSON(t, &Result{})
	if got := string(AppendJSON(nil, nil, true)); got != "null" {
		t.Fatalf("nil result = %s", got)
	}
}

func TestAppendJSONWritesWhatEncodingJSONWritesForEngineResults(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.input.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, path := range inputs {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var in Input
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		res, err := Quote(&in)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checkSameJSON(t, res)
	}
	checkSameJSON(t, mustQuote(t, benchInput()))
	r := rand.New(rand.NewPCG(11, 13))
	for i := 0; i < 500; i++ {
		res, err := Quote(randomInput(r))
		if err != nil {
			t.Fatal(err)
		}
		checkSameJSON(t, res)
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(s, s*31, "")
	}
	f.Add(uint64(5), uint64(6), "\xff<\u2028>\"")
	f.Fuzz(func(t *testing.T, a, b uint64, s string) {
		r := rand.New(rand.NewPCG(a, b))
		res := randomResult(r)
		if len(res.Lines) > 0 {
			res.Lines[0].SKUID = s // fuzzer-chosen bytes in a string field
		}
		checkSameJSON(t, res)
	})
}

func BenchmarkResultJSON(b *testing.B) {
	res, err := Quote(benchInput())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = AppendJSON(buf[:0], res, false)
		}
		b.SetBytes(int64(len(buf)))
	})
}
