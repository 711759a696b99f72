package alert_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/carnivalhq/carnival/internal/alert"
	"github.com/carnivalhq/carnival/internal/netguard"
)

func TestDeliveryErrorsNameNoInternalAddress(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.example/send?access_token=T0KEN", Err: err}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{wrap(netguard.ErrRefused), "refused: destination not allowed"},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "x.example", Server: "10.0.0.2:53", IsNotFound: true}}), "host not found"},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 80}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection failed"},
		{wrap(context.DeadlineExceeded), "timed out"},
		{wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "TLS certificate not trusted"},
		{wrap(fmt.Errorf("read tcp 10.0.0.9:41000->10.0.0.5:80: connection reset by peer")), "connection failed"},
	} {
		got := alert.PublicError(c.err)
		if got != c.want || strings.Contains(got, "10.0.0") || strings.Contains(got, "T0KEN") {
			t.Errorf("PublicError(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
