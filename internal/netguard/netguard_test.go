package netguard

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	for _, c := range []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true}, {"2606:4700::1111", true}, {"::ffff:8.8.8.8", true}, {"64:ff9b::808:808", true},
		{"127.0.0.1", false}, {"127.9.9.9", false}, {"::1", false}, {"::ffff:127.0.0.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false},
		{"192.168.1.1", false}, {"fc00::1", false}, {"fd12:3456::1", false}, {"0.0.0.0", false}, {"::", false},
		{"100.64.0.1", false}, {"100.127.255.254", false}, {"224.0.0.1", false}, {"ff02::1", false},
		{"255.255.255.255", false}, {"64:ff9b::7f00:1", false}, {"::127.0.0.1", false}, {"::ffff:169.254.169.254", false},
	} {
		if got := Public(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Public(%s) = %v, want %v", c.ip, got, c.want)
		}
	}
}

func TestLiteralSpellings(t *testing.T) {
	for s, want := range map[string]string{
		"0x7f000001": "127.0.0.1", "2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "127.1": "127.0.0.1",
		"0x7f.1": "127.0.0.1", "0": "0.0.0.0", "[::1]": "::1", "::ffff:127.0.0.1": "::ffff:127.0.0.1", "169.254.169.254": "169.254.169.254",
		"0xa9fea9fe": "169.254.169.254",
	} {
		ip, ok := Literal(s)
		if !ok || ip.String() != want {
			t.Errorf("Literal(%q) = %v %v, want %s", s, ip, ok, want)
		}
	}
	for _, s := range []string{"example.com", "1.2.3.4.5", "256.1.1.1", "0x1g", "", "1..2", "4294967296"} {
		if ip, ok := Literal(s); ok {
			t.Errorf("Literal(%q) = %v, want not an address", s, ip)
		}
	}
}

func TestCheckHost(t *testing.T) {
	var none Allowlist
	for _, h := range []string{"localhost", "LOCALHOST.", "a.localhost", "127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "::1", "[::1]",
		"169.254.169.254", "0.0.0.0", "::ffff:127.0.0.1", "10.0.0.1", "100.64.1.1", "224.0.0.1", "fd00::1"} {
		if err := none.CheckHost(h, 80); !errors.Is(err, ErrRefused) {
			t.Errorf("CheckHost(%q) = %v, want refused", h, err)
		}
	}
	for _, h := range []string{"example.com", "8.8.8.8", "oapi.dingtalk.com"} {
		if err := none.CheckHost(h, 443); err != nil {
			t.Errorf("CheckHost(%q) = %v, want allowed", h, err)
		}
	}
	a, err := ParseAllowlist([]string{"10.0.0.0/8", "127.0.0.1:9000", "hooks.internal:8443"})
	if err != nil {
		t.Fatal(err)
	}
	if a.CheckHost("10.9.9.9", 80) != nil || a.CheckHost("127.0.0.1", 9000) != nil || a.CheckHost("localhost", 9000) != nil {
		t.Error("allowlisted destinations refused")
	}
	if a.CheckHost("127.0.0.1", 9001) == nil || a.CheckHost("192.168.0.1", 80) == nil {
		t.Error("a destination outside the allowlist was allowed")
	}
}

func TestParseAllowlist(t *testing.T) {
	for _, ok := range []string{"10.0.0.0/8", "10.1.2.3", "fd00::/8", "127.0.0.1:9000", "[::1]:9000", "hooks.internal:8443"} {
		if _, err := ParseEntry(ok); err != nil {
			t.Errorf("ParseEntry(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "hooks.internal", "10.0.0.0/33", "a b:80", "host:0", "host:70000", "http://x:80"} {
		if _, err := ParseEntry(bad); err == nil {
			t.Errorf("ParseEntry(%q) accepted", bad)
		}
	}
	_, err := ParseAllowlist([]string{"10.0.0.0/8", "nope"})
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Index != 1 {
		t.Errorf("ParseAllowlist error %v, want entry 1", err)
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestDialerChecksEveryResolvedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	res := fakeResolver{
		"rebind.test": {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":  {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1")},
	}
	get := func(d *Dialer, host string) error {
		c := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true}}
		resp, err := c.Get("http://" + net.JoinHostPort(host, u.Port()) + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	strict := &Dialer{Resolver: res}
	for _, h := range []string{"rebind.test", "mixed.test", "127.0.0.1", "0x7f000001", "2130706433", "::ffff:127.0.0.1"} {
		if err := get(strict, h); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", h, err)
		}
	}
	allow, _ := ParseAllowlist([]string{"127.0.0.1:" + strconv.Itoa(port)})
	if err := get(&Dialer{Resolver: res, Allow: allow}, "rebind.test"); err != nil {
		t.Errorf("allowlisted 127.0.0.1:%d: %v", port, err)
	}
	byName, _ := ParseAllowlist([]string{"rebind.test:" + strconv.Itoa(port)})
	if err := get(&Dialer{Resolver: res, Allow: byName}, "rebind.test"); err != nil {
		t.Errorf("allowlisted by name: %v", err)
	}
	if err := get(&Dialer{Resolver: res, Allow: byName}, "127.0.0.1"); !errors.Is(err, ErrRefused) {
		t.Errorf("a name entry let the bare address through: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://oapi.dingtalk.com/robot/send?access_token=abc123":        "https://oapi.dingtalk.com/robot/send?access_token=***",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1&debug=1": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***&debug=***",
		"https://user:pa55@example.com/hook":                              "https://user:***@example.com/hook",
		"https://open.feishu.cn/open-apis/bot/v2/hook/0d9f":               "https://open.feishu.cn/open-apis/bot/v2/hook/0d9f",
		"not a url":                  "not a url",
		"https://example.com/p#frag": "https://example.com/p#***",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	doc := json.RawMessage(`{"url":"https://oapi.dingtalk.com/robot/send?access_token=SECRET","n":12345678901234567890,"list":["http://x/?k=SECRET"]}`)
	got := string(RedactJSON(doc))
	if strings.Contains(got, "SECRET") || !strings.Contains(got, "12345678901234567890") || !strings.Contains(got, "access_token=***") {
		t.Errorf("RedactJSON = %s", got)
	}
}
