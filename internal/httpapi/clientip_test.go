package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestClientIPBelievesForwardingHeadersOnlyFromTrustedProxies(t *testing.T) {
	tp, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.10 ,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer string
		h          http.Header
		want       string
	}{
		{"untrusted peer, spoofed XFF", "203.0.113.7:5000", http.Header{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.7"},
		{"untrusted peer, spoofed X-Real-IP", "203.0.113.7:5000", http.Header{"X-Real-Ip": {"1.2.3.4"}}, "203.0.113.7"},
		{"untrusted peer, spoofed Forwarded", "203.0.113.7:5000", http.Header{"Forwarded": {"for=1.2.3.4"}}, "203.0.113.7"},
		{"trusted peer, XFF", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"198.51.100.9"}}, "198.51.100.9"},
		{"trusted peer, client-written XFF left of the real one", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"1.2.3.4, 198.51.100.9"}}, "198.51.100.9"},
		{"two trusted hops", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"1.2.3.4, 198.51.100.9, 192.0.2.10", "10.9.9.9"}}, "198.51.100.9"},
		{"every hop trusted", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"10.7.7.7"}}, "10.7.7.7"},
		{"garbage hop stops the walk", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"198.51.100.9, nonsense, 10.4.4.4"}}, "10.4.4.4"},
		{"XFF with port", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"198.51.100.9:1234"}}, "198.51.100.9"},
		{"Forwarded", "10.1.2.3:5000", http.Header{"Forwarded": {`for=1.2.3.4, for="[2001:db8::1]:4711";proto=https`}}, "2001:db8::1"},
		{"X-Real-IP", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"198.51.100.9"}}, "198.51.100.9"},
		{"bad X-Real-IP", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"\x00"}}, "10.1.2.3"},
		{"no header", "[fd00::5]:5000", http.Header{}, "fd00::5"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:5000", http.Header{"X-Forwarded-For": {"198.51.100.9"}}, "198.51.100.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Header = c.peer, c.h
		if got, _ := tp.clientIP(r); got != c.want {
			t.Errorf("%s: client ip %q, want %q", c.name, got, c.want)
		}
	}
	if !tp.Contains("192.0.2.10") || tp.Contains("192.0.2.11") || tp.Contains("bogus") {
		t.Error("Contains")
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,example.com"); err == nil {
		t.Error("a host name was accepted as a trusted proxy")
	}
	var none TrustedProxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header = "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"1.2.3.4"}}
	if got, _ := none.clientIP(r); got != "10.1.2.3" {
		t.Errorf("with no trusted proxy: %q, want the peer", got)
	}
}

func TestRequestsCarryTheClientIPFromTrustedProxiesOnly(t *testing.T) {
	tp, _ := ParseTrustedProxies("10.0.0.0/8")
	s := &Server{cfg: Config{TrustedProxies: tp}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		reqs:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r"}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "l"}, []string{"operation"})}
	var got string
	h := s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = clientIP(r.Context()) }))
	for _, c := range []struct{ peer, want string }{{"203.0.113.7:1", "203.0.113.7"}, {"10.0.0.2:1", "198.51.100.9"}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		r.Header.Set("X-Forwarded-For", "198.51.100.9")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("peer %s: client ip %q, want %q", c.peer, got, c.want)
		}
	}
}
