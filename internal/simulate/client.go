package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client calls the API like a storefront or a back office would. It backs
// off for everyone when the server says 429 (Retry-After) or fails (5xx,
// network errors), so a struggling server is not hammered.
type client struct {
	base  string
	http  *http.Client
	stats *Stats

	mu     sync.Mutex
	until  time.Time // no request before this
	streak int       // consecutive failures
}

// callOpts tune one call.
type callOpts struct {
	key   string
	idem  string // Idempotency-Key
	dev   string // X-Device-Id
	burst bool   // a flash-sale buyer: 429 is an answer, not a reason to wait
}

// answer is one response: the status and, for an error, the problem code.
type answer struct {
	status int
	code   string
}

const maxAttempts = 3

// wait sleeps until the shared back-off ends, or ctx does.
func (c *client) wait(ctx context.Context) error {
	c.mu.Lock()
	d := time.Until(c.until)
	c.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *client) pause(d time.Duration) {
	c.mu.Lock()
	if u := time.Now().Add(d); u.After(c.until) {
		c.until = u
	}
	c.mu.Unlock()
}

// failed records a failure and backs off 0.5 s, 1 s, 2 s… up to 10 s.
func (c *client) failed() {
	c.mu.Lock()
	c.streak++
	d := min(10*time.Second, 500*time.Millisecond<<min(c.streak-1, 5))
	if u := time.Now().Add(d); u.After(c.until) {
		c.until = u
	}
	c.mu.Unlock()
}

func (c *client) ok() {
	c.mu.Lock()
	c.streak = 0
	c.mu.Unlock()
}

// retryAfter reads Retry-After in seconds (or an HTTP date); 1 s when absent.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return time.Second
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Minute)
	}
	return time.Second
}

// call sends one request and decodes a 2xx body into out. err is set when
// no answer came (ctx ended, network error); an HTTP error is an answer.
// Every answer is counted by status in the stats, unless ctx had ended.
func (c *client) call(ctx context.Context, method, path string, o callOpts, body, out any) (answer, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return answer{}, err
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return answer{}, err
		}
		// A request once sent is let finish (the client's timeout bounds
		// it): cancelling it mid-way would make the server log a failure
		// while it shuts down. ctx stops the next one.
		req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, c.base+path, bytes.NewReader(payload))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Authorization", "Bearer "+o.key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if o.idem != "" {
			req.Header.Set("Idempotency-Key", o.idem)
		}
		if o.dev != "" {
			req.Header.Set("X-Device-Id", o.dev)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			c.stats.transportError()
			c.failed()
			return answer{}, err
		}
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if rerr != nil && ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		a := answer{status: resp.StatusCode}
		c.stats.status(resp.StatusCode)
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			c.ok()
			if out != nil {
				if err := json.Unmarshal(b, out); err != nil {
					c.stats.inc(c.stats.errors, "undecodable answer to "+method+" "+strings.SplitN(path, "?", 2)[0])
					return a, errors.New(method + " " + path + ": undecodable answer: " + err.Error())
				}
			}
			return a, nil
		case resp.StatusCode == http.StatusTooManyRequests:
			a.code = problemCode(b)
			if o.burst {
				return a, nil
			}
			c.pause(retryAfter(resp.Header))
			if attempt < maxAttempts {
				continue
			}
			return a, nil
		case resp.StatusCode >= 500:
			a.code = problemCode(b)
			c.failed()
			return a, nil
		default:
			a.code = problemCode(b)
			return a, nil
		}
	}
}

func problemCode(b []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(b, &p) != nil || p.Code == "" {
		return "unknown"
	}
	return p.Code
}
