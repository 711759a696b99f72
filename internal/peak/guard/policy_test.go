package guard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func TestPolicyValidationNamesTheField(t *testing.T) {
	ok := DefaultPolicy()
	tests := []struct {
		name  string
		edit  func(*Policy)
		field string
	}{
		{"default", func(*Policy) {}, ""},
		{"no limits at all", func(p *Policy) { *p = Policy{} }, ""},
		{"failure blocking off", func(p *Policy) { p.FailLimit = -1 }, ""},
		{"negative rate", func(p *Policy) { p.PerIP.Rate = -1 }, "per_ip.rate"},
		{"huge rate", func(p *Policy) { p.PerDevice.Rate = MaxRate + 1 }, "per_device.rate"},
		{"rate without period", func(p *Policy) { p.PerCustomer.Per = 0 }, "per_customer.per_seconds"},
		{"period over a day", func(p *Policy) { p.PerIP.Per = 25 * time.Hour }, "per_ip.per_seconds"},
		{"negative burst", func(p *Policy) { p.PerIP.Burst = -5 }, "per_ip.burst"},
		{"burst without rate", func(p *Policy) { p.PerIP = Limit{Burst: 5} }, "per_ip.rate"},
		{"fail limit too high", func(p *Policy) { p.FailLimit = MaxFailLimit + 1 }, "fail_limit"},
		{"negative window", func(p *Policy) { p.FailWindow = -time.Second }, "fail_window_seconds"},
		{"sub-second window", func(p *Policy) { p.FailWindow = time.Millisecond }, "fail_window_seconds"},
		{"block over 30 days", func(p *Policy) { p.BlockFor = 31 * 24 * time.Hour }, "block_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			e, isDomain := commerce.AsError(err)
			if !isDomain || e.Kind != commerce.KindInvalid || e.Field != tt.field {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestPolicyJSONUsesSecondsAndRoundTrips(t *testing.T) {
	p := Policy{PerIP: Limit{Rate: 10, Per: time.Second, Burst: 20}, PerCustomer: Limit{Rate: 3, Per: 500 * time.Millisecond},
		FailLimit: 7, FailWindow: 5 * time.Minute, BlockFor: 2 * time.Hour}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"per_customer":{"rate":3,"per_seconds":0.5,"burst":0},"per_device":{"rate":0,"per_seconds":0,"burst":0},` +
		`"per_ip":{"rate":10,"per_seconds":1,"burst":20},"fail_limit":7,"fail_window_seconds":300,"block_seconds":7200}`
	if string(b) != want {
		t.Fatalf("json\n got %s\nwant %s", b, want)
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, p)
	}
}

func TestZeroFailureSettingsTakeTheDefaults(t *testing.T) {
	e := Policy{}.Effective()
	if e.FailLimit != 5 || e.FailWindow != 10*time.Minute || e.BlockFor != time.Hour {
		t.Fatalf("effective = %+v, want 5 in 10m block 1h", e)
	}
}

func TestMaskKeyHidesWhoButNotWhat(t *testing.T) {
	for _, c := range []struct{ dim, in, want string }{
		{DimIP, "203.0.113.7", "203.0.113.*"},
		{DimIP, "2001:db8:85a3:0:0:8a2e:370:7334", "2001:db8:85a3:*"},
		{DimIP, "weird", "*"},
		{DimDevice, "a1b2c3d4e5", "a1b2****"},
		{DimDevice, "abc", "****"},
		{DimCustomer, "cus_01abc", "cus_01abc"},
	} {
		if got := MaskKey(c.dim, c.in); got != c.want {
			t.Errorf("MaskKey(%s, %q) = %q, want %q", c.dim, c.in, got, c.want)
		}
	}
}
