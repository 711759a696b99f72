// Package signature signs and verifies the Carnival-Signature header:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix>.<body>" under a secret>".
// Carnival signs its alert webhooks with it, and a shop's payment provider
// signs payment callbacks with it; one scheme, so a receiver that checks
// one can check the other.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors Verify returns. A header whose signature does not match is
// ErrMismatch whatever its time; a matching one outside the tolerance is
// ErrExpired (a replay).
var (
	ErrMalformed = errors.New("signature: no timestamp or no v1 signature")
	ErrMismatch  = errors.New("signature: no v1 signature matches")
	ErrExpired   = errors.New("signature: timestamp outside the tolerance")
)

// Sign is the header value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header against body as a receiver does: one of its v1
// signatures must match (several are allowed, for a secret being rotated),
// then t must be within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts := ""
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || unix < 0 || len(sigs) == 0 {
		return ErrMalformed
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = hmac.Equal(s, want) || ok
	}
	if !ok {
		return ErrMismatch
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrExpired
	}
	return nil
}
