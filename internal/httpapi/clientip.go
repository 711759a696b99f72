package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the proxies (load balancers, CDN edges, ingress) whose
// forwarding headers Carnival believes: CIDR prefixes or single addresses.
// The zero value trusts nobody, and the client IP is the connection's peer.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes or
// addresses, e.g. "10.0.0.0/8, 192.0.2.10, fd00::/8".
func ParseTrustedProxies(list string) (TrustedProxies, error) {
	var t TrustedProxies
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return TrustedProxies{}, fmt.Errorf("trusted proxy %q: not a CIDR prefix or an IP address", f)
		}
		a = a.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

// Contains reports whether ip (text) is a trusted proxy's address.
func (t TrustedProxies) Contains(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && t.contains(a)
}

func (t TrustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address a request came from. The connection's peer is
// it, unless the peer is a trusted proxy: then the forwarding headers name
// it — X-Forwarded-For, else Forwarded (RFC 7239), else X-Real-IP. Of the
// addresses in X-Forwarded-For and Forwarded the right-most one that is not
// a trusted proxy is the client: everything to its left was written by the
// client itself or by proxies nobody vouches for, and can be spoofed. An
// entry that is not an address ends the walk at the last trusted hop. ok
// reports whether the address came from a trusted proxy's forwarding
// headers and is not itself a proxy's.
func (t TrustedProxies) clientIP(r *http.Request) (ip string, ok bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host, false
	}
	peer = peer.Unmap()
	if !t.contains(peer) {
		return peer.String(), false
	}
	a := peer
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		a = t.walk(peer, splitList(xff, parseXFF))
	} else if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		a = t.walk(peer, splitList(fwd, parseForwarded))
	} else if real, ok := parseXFF(r.Header.Get("X-Real-IP")); ok {
		a = real
	}
	return a.String(), !t.contains(a)
}

// walk goes from the right-most hop leftwards past trusted proxies.
func (t TrustedProxies) walk(peer netip.Addr, hops []hop) netip.Addr {
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		if !hops[i].ok {
			break
		}
		last = hops[i].addr
		if !t.contains(last) {
			break
		}
	}
	return last
}

// forwardedKey marks a request whose client IP a trusted proxy forwarded.
type forwardedKey struct{}

// withClientIP puts the request's client IP in ctx (see clientIP).
func withClientIP(ctx context.Context, t TrustedProxies, r *http.Request) context.Context {
	ip, fwd := t.clientIP(r)
	ctx = context.WithValue(ctx, keyClientIP, ip)
	if fwd {
		ctx = context.WithValue(ctx, forwardedKey{}, true)
	}
	return ctx
}

// shopperIP is the client IP when a trusted proxy forwarded it, else "".
// Orders are placed with a server-side key: without a trusted proxy naming
// the shopper, the peer is the storefront's own server, whose address
// stands for every shopper and must not be capped or limited as one.
func shopperIP(ctx context.Context) string {
	if fwd, _ := ctx.Value(forwardedKey{}).(bool); fwd {
		return clientIP(ctx)
	}
	return ""
}

type hop struct {
	addr netip.Addr
	ok   bool
}

func splitList(values []string, parse func(string) (netip.Addr, bool)) []hop {
	var out []hop
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			a, ok := parse(f)
			out = append(out, hop{a, ok})
		}
	}
	return out
}

// parseXFF reads one X-Forwarded-For entry: an address, possibly with a
// port or in brackets.
func parseXFF(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseForwarded reads the for= of one Forwarded element, e.g.
// `for=192.0.2.60;proto=http` or `for="[2001:db8::1]:4711"`.
func parseForwarded(elem string) (netip.Addr, bool) {
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(k, "for") {
			continue
		}
		return parseXFF(strings.Trim(v, `"`))
	}
	return netip.Addr{}, false
}

// requester is who places an anonymous order, for the shop's cap on an
// anonymous caller's unpaid orders: the device id the storefront sends,
// else the shopper's IP as a trusted proxy forwarded it (shopperIP); ""
// for a customer's order (the customer is capped) or when neither is known.
// A device id is the finer key (many shoppers share an office or carrier
// IP); a caller rotating device ids still meets the guard's per-IP rate
// limit on placing orders.
func requester(ctx context.Context, customerID, device string) string {
	switch {
	case customerID != "":
		return ""
	case device != "":
		return "device:" + device
	case shopperIP(ctx) != "":
		return "ip:" + shopperIP(ctx)
	}
	return ""
}
