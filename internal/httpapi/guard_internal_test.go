package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/carnivalhq/carnival/internal/peak/guard"
)

func TestGuardErrorsBecome429403Or503WithRetryAfter(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range []struct {
		name   string
		err    error
		status int
		code   string
		retry  string
	}{
		{"rate limit", &guard.Refusal{Rule: guard.RuleRateLimit, Dimension: guard.DimIP, RetryAfter: 200 * time.Millisecond}, 429, "rate_limited", "1"},
		{"block", &guard.Refusal{Rule: guard.RuleBlocked, Dimension: guard.DimDevice, RetryAfter: 59*time.Minute + 500*time.Millisecond, Blocked: true}, 403, "blocked", "3541"},
		{"limiter down", errors.New("redis rate limit: dial tcp: connection refused"), 503, "guard_unavailable", ""},
	} {
		err := s.guardError(context.Background(), c.err)
		var p *Problem
		if !errors.As(err, &p) || p.Status != c.status || p.Code != c.code {
			t.Errorf("%s: %v, want %d %s", c.name, err, c.status, c.code)
			continue
		}
		var h huma.HeadersError
		got := ""
		if errors.As(err, &h) {
			got = h.GetHeaders().Get("Retry-After")
		}
		if got != c.retry {
			t.Errorf("%s: Retry-After %q, want %q", c.name, got, c.retry)
		}
	}
}
