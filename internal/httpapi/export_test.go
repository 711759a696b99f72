package httpapi

// WithHumaQuote serves the quote through huma's pipeline, as before the
// plain handler, so tests can compare the two.
func WithHumaQuote(c Config) Config {
	c.humaQuote = true
	return c
}
