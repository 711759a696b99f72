package commerce

import (
	"testing"
	"time"
)

func TestLocationIsLoadedOnceAndMatchesTheZoneDatabase(t *testing.T) {
	for _, name := range []string{"Asia/Shanghai", "America/New_York", "UTC", "Asia/Shanghai"} {
		got, err := LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := time.LoadLocation(name)
		at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
		if got.String() != name || at.In(got).Format(time.RFC3339) != at.In(want).Format(time.RFC3339) {
			t.Fatalf("%s: got %v", name, got)
		}
		again, _ := LoadLocation(name)
		if again != got {
			t.Fatalf("%s loaded twice", name)
		}
	}
	if _, err := LoadLocation("Mars/Olympus"); err == nil {
		t.Fatal("an unknown zone loaded")
	}
	if _, ok := zones.Load("Mars/Olympus"); ok {
		t.Fatal("a failed zone was cached")
	}
}
