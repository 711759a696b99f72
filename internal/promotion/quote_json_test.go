package promotion

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/pricing"
)

func TestQuoteAppendJSONWritesWhatEncodingJSONWrites(t *testing.T) {
	now := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	res, err := pricing.Quote(&pricing.Input{Now: now, Lines: []pricing.Line{{SKUID: "sku_1", ListPrice: 25800, Quantity: 1}, {SKUID: "sku_<2>", ListPrice: 5900, Quantity: 2}},
		Activities: []pricing.Activity{{ID: "prm_1", Kind: pricing.ThresholdOff, Status: pricing.StatusActive, Scope: pricing.Scope{All: true},
			Tiers: []pricing.Tier{{Threshold: 30000, Off: 4000}}}}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"sku_1": "商品 \"一\"", "sku_<2>": "a&b\u2028", "\xff": "bad\xfe", "": "", "Z": "upper first", "a": "\x00"}
	for _, q := range []*Quote{
		{Result: res, Names: names},
		{Result: res, Names: map[string]string{}},
		{Result: res},
		{Names: names},
		{},
		{Result: &pricing.Result{}, Names: map[string]string{"k": "v"}},
	} {
		for _, html := range []bool{true, false} {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(q); err != nil {
				t.Fatal(err)
			}
			want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			got := q.AppendJSON(nil, html)
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatalf("invalid JSON %s: %v", got, err)
			}
			json.Unmarshal(want, &wantV)
			if d := cmp.Diff(wantV, gotV); d != "" {
				t.Fatalf("html %v: meaning differs (-encoding/json +AppendJSON):\n%s", html, d)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("html %v:\n got %s\nwant %s", html, got, want)
			}
		}
	}
}
