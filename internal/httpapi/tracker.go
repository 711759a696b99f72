package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// trackerJS is the storefront tracker (assets/t.js): hand-written, no
// dependencies, under 3 KB. Its data-key is a publishable key (ck_pk_…),
// the only kind a page may carry: it sends events and nothing else that
// matters; storefront secret keys stay on the shop's servers.
//
//go:embed assets/t.js
var trackerJS []byte

// serveTracker serves /t.js with a day-long public cache: every storefront
// page includes it, and a change reaches browsers within a day.
func serveTracker(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Length", strconv.Itoa(len(trackerJS)))
	w.Write(trackerJS)
}
