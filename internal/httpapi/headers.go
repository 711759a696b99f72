package httpapi

import (
	"net/http"
	"sync"
)

// Content-Security-Policy of what the server answers. The API's JSON and
// problem answers, the tracker script and everything else load nothing
// and may not be framed; the two HTML pages (the reference at /docs and a
// campaign review) are self-contained: inline styles, no script, no
// outside resource, nothing to submit.
const (
	cspNone = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	cspPage = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

// secureHeaders are set on every answer (observe): no MIME sniffing, no
// full URL in the Referer of links followed from a page, and the strict
// policy, which the HTML pages replace with cspPage.
func secureHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Content-Security-Policy", cspNone)
}

// DefaultLiveStreamsPerKey is how many live-tile streams one API key may
// hold open at once unless Config.LiveStreamsPerKey says otherwise.
const DefaultLiveStreamsPerKey = 4

// streamSlots counts the open live streams of each key.
type streamSlots struct {
	mu   sync.Mutex
	max  int
	open map[string]int
}

// take reserves a stream for key; the returned release gives it back.
// It answers 429 too_many_streams when the key holds max already.
func (s *streamSlots) take(key string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[key] >= s.max {
		return nil, &Problem{Status: http.StatusTooManyRequests, Title: http.StatusText(http.StatusTooManyRequests), Code: "too_many_streams",
			Detail: "this API key holds the most live streams it may (" + itoa(s.max) + "); close one first"}
	}
	s.open[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.open[key]--; s.open[key] <= 0 {
				delete(s.open, key)
			}
		})
	}, nil
}

func newStreamSlots(max int) *streamSlots {
	if max <= 0 {
		max = DefaultLiveStreamsPerKey
	}
	return &streamSlots{max: max, open: map[string]int{}}
}
