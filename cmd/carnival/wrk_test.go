package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"
	"time"
)

func TestParseWrkReadsRateLatencyAndErrors(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:1234/api/v1/quote
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.01ms    2.10ms  40.00ms   80.00%
  Latency Distribution
     50%    3.50ms
     75%    4.80ms
     90%    6.20ms
     99%   12.40ms
  40000 requests in 5.00s, 800.00MB read
  Non-2xx or 3xx responses: 100
Requests/sec:   8000.00
Transfer/sec:    160.00MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.ok != 39900 || r.failed != 100 || r.p50 != 3500*time.Microsecond || r.p99 != 12400*time.Microsecond || r.rate != 7980 {
		t.Fatalf("parsed %+v", r)
	}
	// For buy attempts a 4xx is an answer: every response counts.
	if a := r.counting4xx(); a.ok != 40000 || a.failed != 0 || a.rate != 8000 {
		t.Fatalf("counting 4xx as answers: %+v", a)
	}
	if _, err := parseWrk("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
}

// TestLoadGeneratorsSendAFreshIdempotencyKeyPerRequest: order placement
// and flash buys require the header, and a repeated key would be a replay,
// not a new order; both the Go client and the wrk script send a new one
// every time.
func TestLoadGeneratorsSendAFreshIdempotencyKeyPerRequest(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		w.Write([]byte(`{"id":"ord_1"}`))
	}))
	defer srv.Close()
	check := func(name string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < 10 {
			t.Fatalf("%s: only %d requests", name, len(seen))
		}
		for k, n := range seen {
			if k == "" || n != 1 {
				t.Fatalf("%s: Idempotency-Key %q sent %d times", name, k, n)
			}
		}
		clear(seen)
	}
	bodies := [][]byte{[]byte(`{}`)}
	load(context.Background(), srv.URL, "k", bodies, 2, 300*time.Millisecond, false)
	check("orders")
	attempts(context.Background(), srv.URL, "k", bodies, 2, 300*time.Millisecond)
	check("flash attempts")
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed (Debian package wrk): the wrk script is not checked")
	}
	if _, err := wrkLoad(context.Background(), srv.URL, "k", bodies, 2, time.Second); err != nil {
		t.Fatal(err)
	}
	check("wrk")
}
