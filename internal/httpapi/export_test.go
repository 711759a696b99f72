package httpapi

import "github.com/danielgtaylor/huma/v2"

// WithHumaQuote serves the quote through huma's pipeline, as before the
// plain handler, so tests can compare the two.
func WithHumaQuote(c Config) Config {
	c.humaQuote = true
	return c
}

// OpenAPIOf is the OpenAPI document s serves, with huma's schema registry,
// for tests that validate examples against it.
func OpenAPIOf(s *Server) *huma.OpenAPI { return s.api.OpenAPI() }

// SetExportPage sets how many raw events one read of an export takes and
// returns a function restoring it.
func SetExportPage(n int) (restore func()) {
	old := exportPage
	exportPage = n
	return func() { exportPage = old }
}

// SetRecallPage sets how many customers one read of the recall export
// scans and returns a function restoring it.
func SetRecallPage(n int) (restore func()) {
	old := recallPage
	recallPage = n
	return func() { recallPage = old }
}
