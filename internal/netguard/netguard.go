// Package netguard decides which network destinations Carnival may call on
// a shop's behalf (alert webhooks) and redacts secrets from URLs before they
// are logged or shown.
//
// Loopback, link-local, private, unique-local, carrier-grade NAT,
// multicast, unspecified and reserved addresses are refused unless the
// shop's allowlist names them. The check runs on every address a host name
// resolves to, at connect time, and the connection goes to the address that
// was checked, so a DNS answer that changes between the check and the
// connect (rebinding) cannot reach a refused address.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is returned when a destination is not allowed.
var ErrRefused = errors.New("refused: destination not allowed")

// blocked are the ranges a webhook may not reach without an allowlist
// entry (besides what netip classifies as loopback, link-local,
// multicast, private and unspecified).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Public reports whether ip is an ordinary public unicast address.
// IPv4-mapped and NAT64 IPv6 addresses are judged by their IPv4 address.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Allowlist names private destinations a shop allows anyway: CIDR
// prefixes (any port) and host:port pairs, where host is an IP address or
// a host name.
type Allowlist struct {
	prefixes []netip.Prefix
	ipPorts  map[netip.AddrPort]bool
	names    map[string]bool // "host:port", host in lower case
}

// MaxAllowlist bounds a shop's allowlist.
const MaxAllowlist = 50

// ParseEntry checks one allowlist entry: "10.0.0.0/8", "10.1.2.3",
// "fd00::/8", "127.0.0.1:9000", "[::1]:9000" or "alerts.internal:8443".
// It returns the entry in canonical form.
func ParseEntry(s string) (string, error) {
	var a Allowlist
	return a.add(s)
}

func (a *Allowlist) add(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 300 {
		return "", errors.New("an entry is a CIDR prefix, an IP address or host:port")
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		a.prefixes = append(a.prefixes, p)
		return p.String(), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		p := netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
		a.prefixes = append(a.prefixes, p)
		return p.String(), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a CIDR prefix, an IP address or host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: the port must be 1 to 65535", s)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ap := netip.AddrPortFrom(ip.Unmap(), uint16(n))
		if a.ipPorts == nil {
			a.ipPorts = map[netip.AddrPort]bool{}
		}
		a.ipPorts[ap] = true
		return ap.String(), nil
	}
	if !validHostName(host) {
		return "", fmt.Errorf("%q: %q is not a host name", s, host)
	}
	key := strings.ToLower(strings.TrimSuffix(host, ".")) + ":" + strconv.Itoa(n)
	if a.names == nil {
		a.names = map[string]bool{}
	}
	a.names[key] = true
	return key, nil
}

func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ParseAllowlist parses a shop's allowlist; the error names the index of
// the first bad entry.
func ParseAllowlist(entries []string) (Allowlist, error) {
	var a Allowlist
	if len(entries) > MaxAllowlist {
		return a, &EntryError{Index: -1, Err: fmt.Errorf("at most %d entries", MaxAllowlist)}
	}
	for i, e := range entries {
		if _, err := a.add(e); err != nil {
			return Allowlist{}, &EntryError{Index: i, Err: err}
		}
	}
	return a, nil
}

// EntryError is a bad allowlist entry.
type EntryError struct {
	Index int // -1: the list as a whole
	Err   error
}

func (e *EntryError) Error() string { return e.Err.Error() }

// allowsName reports whether the host name and port are allowlisted.
func (a Allowlist) allowsName(host string, port int) bool {
	return a.names[strings.ToLower(strings.TrimSuffix(host, "."))+":"+strconv.Itoa(port)]
}

// allowsIP reports whether ip:port is allowlisted.
func (a Allowlist) allowsIP(ip netip.Addr, port int) bool {
	ip = ip.Unmap()
	if a.ipPorts[netip.AddrPortFrom(ip, uint16(port))] {
		return true
	}
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Allowed reports whether a connection to ip:port, reached through the
// host name host ("" for a literal address), may be made.
func (a Allowlist) Allowed(host string, ip netip.Addr, port int) bool {
	return Public(ip) || a.allowsIP(ip, port) || (host != "" && a.allowsName(host, port))
}

// LooseIPv4 parses the IPv4 spellings inet_aton accepts besides the dotted
// quad — 2130706433, 0x7f000001, 0177.0.0.1, 127.1 — so they are judged as
// the address a resolver or another client would make of them.
func LooseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i, v := range vals[:last] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// Literal returns the address host spells, if it is an address in any
// form (IPv6 with or without brackets and zone, IPv4 in inet_aton forms).
func Literal(host string) (netip.Addr, bool) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.WithZone(""), true
	}
	return LooseIPv4(h)
}

// LocalName reports whether host is a name that means this machine.
func LocalName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "localhost.localdomain" ||
		h == "ip6-localhost" || h == "ip6-loopback"
}

// CheckHost is the early check made when a URL is saved: a literal
// address or a local name is refused unless allowlisted. Other names are
// judged when they are resolved, at connect time.
func (a Allowlist) CheckHost(host string, port int) error {
	if ip, ok := Literal(host); ok {
		if !a.Allowed("", ip, port) {
			return ErrRefused
		}
		return nil
	}
	if LocalName(host) && !a.allowsName(host, port) && !a.allowsIP(netip.MustParseAddr("127.0.0.1"), port) &&
		!a.allowsIP(netip.IPv6Loopback(), port) {
		return ErrRefused
	}
	return nil
}

// Resolver looks up a host's addresses; *net.Resolver is one, tests pass
// their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer connects only to allowed destinations.
type Dialer struct {
	Allow    Allowlist
	Resolver Resolver // default net.DefaultResolver
	Timeout  time.Duration
}

// DialContext resolves addr's host, refuses the connection if ANY of its
// addresses is not allowed, and connects to the checked addresses (never
// resolving again). A literal address in an inet_aton spelling is taken
// as the address it spells.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	name := ""
	if ip, ok := Literal(host); ok {
		ips = []netip.Addr{ip}
	} else {
		name = host
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	for _, ip := range ips {
		if !d.Allow.Allowed(name, ip, port) {
			return nil, ErrRefused
		}
	}
	nd := net.Dialer{Timeout: d.Timeout, Control: d.control(name)}
	var errs []error
	for _, ip := range ips {
		c, err := nd.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrRefused) {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control checks the address the socket actually connects to, as a last
// line should anything upstream hand the dialer another address.
func (d *Dialer) control(name string) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !d.Allow.Allowed(name, ap.Addr(), int(ap.Port())) {
			return ErrRefused
		}
		return nil
	}
}
