package httpapi

import "net/http"

// docs serves the API reference page. It is rendered from the live OpenAPI
// document so it never drifts from the API.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", cspPage)
	renderDocs(w, s.api.OpenAPI())
}
