package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/carnivalhq/carnival/internal/netguard"
	"github.com/carnivalhq/carnival/internal/signature"
)

// Claimed is a delivery leased to one deliverer, with where to send it.
type Claimed struct {
	Delivery
	URL, Secret string
	// Gone is set when the webhook was deleted: the delivery fails.
	Gone bool
	// Allow is the shop's webhook allowlist (ShopSettings.WebhookAllowlist)
	// as it is when the delivery is claimed.
	Allow []string
}

// Outcome is the result of one attempt, as the outbox records it.
type Outcome struct {
	Status        string // pending (retry at NextAttemptAt), delivered or failed
	At            time.Time
	NextAttemptAt time.Time
	HTTPStatus    int
	Error         string
}

// Outbox is the durable queue of webhook deliveries. A row is due when it
// is pending, its next attempt is not in the future and no lease on it is
// running; claiming one takes a lease with a token, and only the holder of
// the token can record the outcome.
type Outbox interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]string, error)
	// ClaimDelivery leases the delivery to token until until; nil when it
	// is not due or someone else holds a running lease.
	ClaimDelivery(ctx context.Context, id, token string, now, until time.Time) (*Claimed, error)
	// FinishDelivery records an attempt and releases the lease; nothing
	// when the lease is no longer token's.
	FinishDelivery(ctx context.Context, id, token string, o Outcome) error
}

// Retry schedule: after the n-th failed attempt the next one is due
// 30 s × 2^(n−1) later (30 s, 1 m, 2 m, 4 m … capped at 1 h), ±10 % jitter
// so receivers recovering from an outage are not hit in lockstep; after
// MaxAttempts failures the delivery fails for good.
const (
	FirstRetry  = 30 * time.Second
	MaxRetry    = time.Hour
	MaxAttempts = 12
	// Timeout bounds one attempt; Lease outlasts it so a lease never
	// expires under a running attempt.
	Timeout = 10 * time.Second
	Lease   = 3 * Timeout
)

// Backoff is the wait after the attempt-th failed attempt, before jitter.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 8 { // 30 s × 2^7 > 1 h already
		return MaxRetry
	}
	return min(FirstRetry<<(attempt-1), MaxRetry)
}

// Jittered spreads d by ±10 % with r in [0, 1).
func Jittered(d time.Duration, r float64) time.Duration {
	return d + time.Duration((r*0.2-0.1)*float64(d))
}

// Sign is the Carnival-Signature header value of body sent at t (package
// signature: the scheme payment callbacks use too).
func Sign(secret string, t time.Time, body []byte) string { return signature.Sign(secret, t, body) }

// Verify checks a Carnival-Signature header against body, as a receiver
// does: a v1 signature must match and t must be within tolerance of now
// (replays of old deliveries are refused).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return signature.Verify(secret, header, body, now, tolerance)
}

// DelivererOptions configure a Deliverer.
type DelivererOptions struct {
	Now func() time.Time
	// Resolver resolves webhook hosts (default net.DefaultResolver); every
	// address it answers is checked against the destination rules before
	// the connection is made (internal/netguard). Tests map names to
	// addresses with it.
	Resolver netguard.Resolver
	Logger   *slog.Logger
	// Batch is how many due deliveries one round takes (default 50);
	// Parallel how many it sends at once (default 8).
	Batch, Parallel int
	// Rand gives the jitter, in [0, 1) (default math/rand).
	Rand func() float64
}

// Deliverer sends the outbox's due deliveries. Several may run at once
// (in one process or many): the lease keeps a row with one of them.
type Deliverer struct {
	out  Outbox
	opts DelivererOptions
}

// NoRedirects makes a client return a redirect as the answer: a webhook
// must not be bounced to another address (2xx only counts as delivered).
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// NewDeliverer returns a deliverer over out.
func NewDeliverer(out Outbox, opts DelivererOptions) *Deliverer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	if opts.Rand == nil {
		opts.Rand = mrand.Float64
	}
	return &Deliverer{out: out, opts: opts}
}

// Run delivers every interval until ctx ends.
func (d *Deliverer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("webhook deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims and sends one batch of due deliveries and returns how
// many it attempted.
func (d *Deliverer) RunOnce(ctx context.Context) (int, error) {
	now := d.opts.Now()
	ids, err := d.out.DueDeliveries(ctx, now, d.opts.Batch)
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		n    int
		errs []error
		sem  = make(chan struct{}, d.opts.Parallel)
	)
	for _, id := range ids {
		// A slot first, then the claim: the lease starts when the attempt
		// can start, so it never runs out while the row waits for a slot.
		sem <- struct{}{}
		var b [16]byte
		_, _ = rand.Read(b[:])
		token := hex.EncodeToString(b[:])
		at := d.opts.Now()
		c, err := d.out.ClaimDelivery(ctx, id, token, at, at.Add(Lease))
		if err != nil || c == nil {
			<-sem
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			o := d.attempt(ctx, c)
			err := d.out.FinishDelivery(ctx, c.ID, token, o)
			mu.Lock()
			n++
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// attempt sends c once and says what happens next.
func (d *Deliverer) attempt(ctx context.Context, c *Claimed) Outcome {
	if c.Gone {
		return Outcome{Status: DeliveryFailed, At: d.opts.Now(), Error: "webhook deleted"}
	}
	code, err := d.post(ctx, c)
	at := d.opts.Now()
	if err == nil && code >= 200 && code < 300 {
		return Outcome{Status: DeliveryDelivered, At: at, HTTPStatus: code}
	}
	msg := ""
	if err != nil {
		msg = PublicError(err)
	} else {
		msg = fmt.Sprintf("HTTP %d", code)
	}
	o := Outcome{Status: DeliveryPending, At: at, HTTPStatus: code, Error: msg}
	// The log names the webhook by its redacted URL: its query often
	// carries the receiver's token (DingTalk access_token, WeCom key).
	logArgs := []any{"delivery", c.ID, "webhook", c.WebhookID, "url", netguard.RedactURL(c.URL), "attempt", c.Attempts + 1, "err", msg}
	if err != nil {
		logArgs = append(logArgs, "cause", logCause(err))
	}
	if c.Attempts+1 >= MaxAttempts {
		o.Status = DeliveryFailed
		d.opts.Logger.Warn("webhook delivery failed; giving up", logArgs...)
		return o
	}
	o.NextAttemptAt = at.Add(Jittered(Backoff(c.Attempts+1), d.opts.Rand()))
	d.opts.Logger.Warn("webhook delivery failed; will retry", append(logArgs, "next", o.NextAttemptAt)...)
	return o
}

// PublicError is what a delivery's owner is told about a failed attempt:
// whether the destination was refused, the host not found, the attempt
// timed out or the connection failed, never the resolver's or the
// dialer's own text (which names internal addresses).
func PublicError(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, netguard.ErrRefused):
		return netguard.ErrRefused.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "host not found"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return "TLS certificate not trusted"
	}
	return "connection failed"
}

// logCause is err for the operator's log without the request URL that
// *url.Error puts in front of it (it may carry a token).
func logCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

func (d *Deliverer) post(ctx context.Context, c *Claimed) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	body := []byte(c.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Carnival-Webhooks/1")
	req.Header.Set("Carnival-Signature", Sign(c.Secret, d.opts.Now(), body))
	req.Header.Set("Carnival-Delivery", c.ID)
	req.Header.Set("Carnival-Event", c.Event)
	resp, err := d.client(c.Allow).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// client is a one-attempt HTTP client that connects only to destinations
// the rules and the shop's allowlist allow: no proxy (a proxy would make
// the connection for us, to wherever), no kept-alive connection shared
// with another shop's delivery, redirects not followed.
func (d *Deliverer) client(allow []string) *http.Client {
	list, err := netguard.ParseAllowlist(allow)
	if err != nil {
		list = netguard.Allowlist{} // a bad stored list allows nothing extra
	}
	dialer := &netguard.Dialer{Allow: list, Resolver: d.opts.Resolver, Timeout: Timeout}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    Timeout,
		ResponseHeaderTimeout:  Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{Transport: tr, Timeout: Timeout, CheckRedirect: NoRedirects}
}
