package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/httpapi"
)

// TestEveryResponseSendsNosniffAndReferrerPolicy, pages and API answers
// alike, errors and unmatched paths too.
func TestEveryResponseSendsNosniffAndReferrerPolicy(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ role, method, path string }{
		{commerce.RoleAdmin, "GET", "/api/v1/shop"},
		{"", "GET", "/api/v1/shop"},
		{"", "GET", "/healthz"},
		{"", "GET", "/nope"},
		{"", "GET", "/t.js"},
		{"", "GET", "/docs"},
		{"", "OPTIONS", "/api/v1/events"},
		{commerce.RoleStorefront, "POST", "/api/v1/quote"},
	} {
		r := e.do(c.role, c.method, c.path, nil)
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
			t.Errorf("%s %s: nosniff %q, referrer policy %q", c.method, c.path, r.header.Get("X-Content-Type-Options"), r.header.Get("Referrer-Policy"))
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s: Content-Security-Policy %q", c.method, c.path, csp)
		}
	}
}

// TestPagesSendAContentSecurityPolicyThatFitsThem: the docs and review
// pages are self-contained (inline styles, no script): their policy allows
// exactly that, and the pages carry no script or outside resource it would
// block.
func TestPagesSendAContentSecurityPolicyThatFitsThem(t *testing.T) {
	e := newEnv(t)
	docs := e.do("", "GET", "/docs", nil)
	csp := docs.header.Get("Content-Security-Policy")
	if docs.status != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'unsafe-inline'") ||
		strings.Contains(csp, "script-src") {
		t.Fatalf("/docs: %d, policy %q", docs.status, csp)
	}
	for _, bad := range []string{"<script", "src=\"http", "href=\"http", "@import", "url("} {
		if strings.Contains(string(docs.body), bad) {
			t.Fatalf("/docs contains %q, which its policy blocks", bad)
		}
	}
	js := e.do("", "GET", "/t.js", nil)
	if js.status != 200 || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") || js.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("/t.js: %d %v", js.status, js.header)
	}
}

// TestLiveStreamsAreCappedPerKey: with a cap of 2, the third stream of one
// key is 429 too_many_streams while another key still streams, and a
// closed stream frees its place.
func TestLiveStreamsAreCappedPerKey(t *testing.T) {
	e := newEnvAt(t, nil, 1000)
	cfg := e.cfg
	cfg.LiveStreamsPerKey = 2
	srv := httptest.NewServer(httpapi.New(cfg).Handler())
	defer srv.Close()
	open := func(role string) (*http.Response, func()) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/metrics/live?interval=60", nil)
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == 200 {
			// The first event is written once the place is taken.
			if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		return res, func() { res.Body.Close() }
	}
	a1, close1 := open(commerce.RoleAnalyst)
	a2, close2 := open(commerce.RoleAnalyst)
	defer close2()
	if a1.StatusCode != 200 || a2.StatusCode != 200 {
		t.Fatalf("first two streams: %d %d", a1.StatusCode, a2.StatusCode)
	}
	a3, close3 := open(commerce.RoleAnalyst)
	var p struct{ Code string }
	json.NewDecoder(a3.Body).Decode(&p)
	close3()
	if a3.StatusCode != 429 || p.Code != "too_many_streams" || a3.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("third stream: %d %+v", a3.StatusCode, p)
	}
	o, closeO := open(commerce.RoleOperator)
	closeO()
	if o.StatusCode != 200 {
		t.Fatalf("another key's stream: %d", o.StatusCode)
	}
	close1()
	// The server notices the closed stream when its next write fails or its
	// request context ends; wait for the place to free (bounded).
	for i := 0; ; i++ {
		a4, close4 := open(commerce.RoleAnalyst)
		close4()
		if a4.StatusCode == 200 {
			break
		}
		if i == 200 {
			t.Fatalf("a closed stream never freed its place: %d", a4.StatusCode)
		}
		waitABit()
	}
}

// waitABit lets the server notice a client closed its stream.
func waitABit() { time.Sleep(10 * time.Millisecond) }
