package localtime

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type zoneLeaf struct {
	At    time.Time  `json:"at"`
	Maybe *time.Time `json:"maybe,omitempty"`
	Zero  time.Time  `json:"zero"`
	Name  string     `json:"name"`
	When  any        `json:"when,omitempty"`
	raw   time.Time
}

type zoneTree struct {
	zoneLeaf
	Leaves []zoneLeaf            `json:"leaves"`
	ByName map[string]*zoneLeaf  `json:"by_name"`
	Pair   [2]time.Time          `json:"pair"`
	Opaque json.RawMessage       `json:"opaque"`
	Self   *zoneTree             `json:"self,omitempty"`
	Counts map[string]int        `json:"counts"`
	Any    map[string]any        `json:"any"`
	Skip   time.Time             `json:"-"`
	Nested struct{ T time.Time } `json:"nested"`
}

// inZone answers every time encoding/json would write in the zone, through
// every shape a body takes, and leaves the value it was given untouched:
// bodies may be cached values other requests share.
func TestInZoneMovesEveryTimeAndCopiesWhatItChanges(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)
	later := at.Add(90 * time.Minute)
	leaf := func() zoneLeaf { return zoneLeaf{At: at, Maybe: &later, Name: "a", When: later, raw: at} }
	in := &zoneTree{zoneLeaf: leaf(), Leaves: []zoneLeaf{leaf()}, ByName: map[string]*zoneLeaf{"x": {At: at}}, Pair: [2]time.Time{at, later},
		Opaque: json.RawMessage(`{"at":"2026-11-10T16:00:00Z"}`), Self: &zoneTree{zoneLeaf: leaf()}, Counts: map[string]int{"n": 1},
		Any: map[string]any{"t": at, "list": []any{later}}, Skip: at}
	in.Nested.T = at
	before, _ := json.Marshal(in)

	out := In(in, sh).(*zoneTree)
	got, _ := json.Marshal(out)
	after, _ := json.Marshal(in)
	if string(after) != string(before) {
		t.Fatalf("inZone changed its input:\n%s\n%s", before, after)
	}
	want := strings.NewReplacer(`"2026-11-10T16:00:00Z"`, `"2026-11-11T00:00:00+08:00"`, `"2026-11-10T17:30:00Z"`, `"2026-11-11T01:30:00+08:00"`).Replace(string(before))
	// The raw message is the one thing inZone cannot see into.
	want = strings.Replace(want, `"opaque":{"at":"2026-11-11T00:00:00+08:00"}`, `"opaque":{"at":"2026-11-10T16:00:00Z"}`, 1)
	if string(got) != want {
		t.Errorf("inZone:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(string(got), `"zero":"0001-01-01T00:00:00Z"`) {
		t.Errorf("a zero time moved: %s", got)
	}
	if out.raw != at || out.Skip != at {
		t.Errorf("unexported and skipped fields must be copied as they are")
	}
}

// A type without times passes through as the same value, without a copy.
func TestInZoneLeavesBodiesWithoutTimesAlone(t *testing.T) {
	type plain struct {
		N    int               `json:"n"`
		M    map[string]string `json:"m"`
		Raw  json.RawMessage   `json:"raw"`
		List []string          `json:"list"`
	}
	p := &plain{N: 1}
	if got := In(p, time.UTC); got.(*plain) != p {
		t.Errorf("a body without times was copied")
	}
}

// The times of an audit snapshot answer in the zone too; text that only
// looks like a time member stays as it was written.
func TestSnapshotInZone(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	raw := json.RawMessage(`{"name":"\"at\":\"2026-11-10T16:00:00Z\"","starts_at":"2026-11-10T16:00:00.5Z","at":"2026-11-10T17:00:00+09:00","sku_id":"2026-11-10T16:00:00Z"}`)
	got := string(Snapshot(raw, sh))
	want := `{"name":"\"at\":\"2026-11-10T16:00:00Z\"","starts_at":"2026-11-11T00:00:00.5+08:00","at":"2026-11-10T16:00:00+08:00","sku_id":"2026-11-10T16:00:00Z"}`
	if got != want {
		t.Errorf("snapshotInZone:\n got %s\nwant %s", got, want)
	}
}

func TestText(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	got := Text("sale s1 starts at 2026-11-10T12:00:00Z; deposit from 2026-11-10T12:00:00.25Z; id x2026-11-10T12:00:00Zy", sh)
	want := "sale s1 starts at 2026-11-10T20:00:00+08:00; deposit from 2026-11-10T20:00:00.25+08:00; id x2026-11-10T12:00:00Zy"
	if got != want {
		t.Errorf("Text:\n got %s\nwant %s", got, want)
	}
}
