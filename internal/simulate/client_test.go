package simulate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestClientWaitsOutRetryAfterThenRetries(t *testing.T) {
	var calls atomic.Int32
	var first, second time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("Idempotency-Key") != "i1" {
			t.Errorf("headers %v", r.Header)
		}
		if calls.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"status":429,"code":"rate_limited"}`))
			return
		}
		second = time.Now()
		w.Write([]byte(`{"id":"ord_1"}`))
	}))
	defer srv.Close()
	st := newStats()
	c := &client{base: srv.URL, http: srv.Client(), stats: st}
	var o order
	a, err := c.call(context.Background(), http.MethodPost, "/x", callOpts{key: "k", idem: "i1"}, map[string]int{"a": 1}, &o)
	if err != nil || a.status != http.StatusOK || o.ID != "ord_1" {
		t.Fatalf("call = %+v, %v, %+v", a, err, o)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want 2 (one retry after the 429)", calls.Load())
	}
	if gap := second.Sub(first); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After's 1 s", gap)
	}
	if s := st.Snapshot(); s.Statuses["429"] != 1 || s.Statuses["200"] != 1 || s.Failed() {
		t.Errorf("statuses %v, failed %v", s.Statuses, s.Failed())
	}
}

func TestClientCountsServerErrorsAndBacksOff(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"status":500,"code":"internal"}`))
	}))
	defer srv.Close()
	st := newStats()
	c := &client{base: srv.URL, http: srv.Client(), stats: st}
	a, err := c.call(context.Background(), http.MethodGet, "/x", callOpts{key: "k"}, nil, nil)
	if err != nil || a.status != 500 || a.code != "internal" {
		t.Fatalf("call = %+v, %v", a, err)
	}
	// The next call waits out the back-off (0.5 s) rather than hammering.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.call(ctx, http.MethodGet, "/x", callOpts{key: "k"}, nil, nil); err == nil {
		t.Error("a call during the back-off went out")
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls reached the server, want 1", calls.Load())
	}
	s := st.Snapshot()
	if s.ServerErrors() != 1 || !s.Failed() {
		t.Errorf("server errors %d, failed %v", s.ServerErrors(), s.Failed())
	}
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": time.Second, "3": 3 * time.Second, "junk": time.Second, "7200": time.Minute} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := retryAfter(h); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}
