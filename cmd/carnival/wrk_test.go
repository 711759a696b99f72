package main

import (
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
