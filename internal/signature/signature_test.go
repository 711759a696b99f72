package signature

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestASignatureVerifiesOnlyForItsSecretBodyAndTime(t *testing.T) {
	at := time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)
	body := []byte(`{"order_id":"ord_1","amount":25800}`)
	h := Sign("whsec_test_secret_0001", at, body)
	prefix := "t=" + strconv.FormatInt(at.Unix(), 10) + ",v1="
	if !strings.HasPrefix(h, prefix) || len(h) != len(prefix)+64 {
		t.Fatalf("header = %q", h)
	}
	if err := Verify("whsec_test_secret_0001", h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	// A rotated secret: the receiver accepts either of two v1 values.
	rotated := h + ",v1=" + Sign("whsec_next_secret_0002", at, body)[len(prefix):]
	if err := Verify("whsec_next_secret_0002", rotated, body, at, 5*time.Minute); err != nil {
		t.Fatalf("second v1: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
		want           error
	}{
		"other secret":         {"whsec_other", h, body, at, ErrMismatch},
		"other body":           {"whsec_test_secret_0001", h, []byte(`{"order_id":"ord_1","amount":1}`), at, ErrMismatch},
		"too old":              {"whsec_test_secret_0001", h, body, at.Add(6 * time.Minute), ErrExpired},
		"from the future":      {"whsec_test_secret_0001", h, body, at.Add(-6 * time.Minute), ErrExpired},
		"old and wrong secret": {"whsec_other", h, body, at.Add(time.Hour), ErrMismatch},
		"no v1":                {"whsec_test_secret_0001", "t=" + strconv.FormatInt(at.Unix(), 10), body, at, ErrMalformed},
		"no t":                 {"whsec_test_secret_0001", h[len(prefix)-len("v1="):], body, at, ErrMalformed},
		"v1 not hex":           {"whsec_test_secret_0001", prefix + "zz", body, at, ErrMalformed},
		"empty":                {"whsec_test_secret_0001", "", body, at, ErrMalformed},
	} {
		if err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
