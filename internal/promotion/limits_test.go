package promotion

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/carnivalhq/carnival/internal/commerce"
)

func ptr(v int64) *int64 { return &v }

func TestUsageLeftSubtractsEachBucketFromItsLimit(t *testing.T) {
	counters := map[string]Counter{"t": {Uses: 7, Amount: 3500}, "c:cus_1": {Uses: 2}, "c:cus_1:2026-11-11": {Uses: 1}, "d:2026-11-11": {Amount: 900}}
	tests := []struct {
		name     string
		limits   Limits
		qty      int64
		customer string
		want     func() (uses, cust, budget, daily *int64)
	}{
		{"none", Limits{}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, nil, nil, nil }},
		{"total uses and budget", Limits{TotalUses: 10, Budget: 5000}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return ptr(3), nil, ptr(1500), nil }},
		{"per customer per campaign", Limits{PerCustomerUses: 3}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, ptr(1), nil, nil }},
		{"per customer per day", Limits{PerCustomerUses: 3, PerCustomerPeriod: "day"}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, ptr(2), nil, nil }},
		{"per customer needs a customer", Limits{PerCustomerUses: 3}, 0, "", func() (*int64, *int64, *int64, *int64) { return nil, ptr(0), nil, nil }},
		{"unit limit of an item-level promotion", Limits{}, 5, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, ptr(3), nil, nil }},
		{"the tighter of uses and units", Limits{PerCustomerUses: 4}, 3, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, ptr(1), nil, nil }},
		{"daily budget", Limits{DailyBudget: 1000}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return nil, nil, nil, ptr(100) }},
		{"never negative", Limits{TotalUses: 5}, 0, "cus_1", func() (*int64, *int64, *int64, *int64) { return ptr(0), nil, nil, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := usageLeft(tt.limits, tt.qty, counters, tt.customer, "2026-11-11")
			uses, cust, budget, daily := tt.want()
			got := []*int64{u.Uses, u.CustomerUses, u.Budget, u.DailyBudget}
			if diff := cmp.Diff([]*int64{uses, cust, budget, daily}, got); diff != "" {
				t.Errorf("usage left (uses, customer, budget, daily) -want +got:\n%s", diff)
			}
		})
	}
}

func TestBucketsRaiseOnlyTheLimitedCounters(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		qty    int64
		cust   string
		want   []commerce.Bucket
	}{
		{"no limits", Limits{}, 0, "cus_1", nil},
		{"total and budget share one counter", Limits{TotalUses: 100, Budget: 9000}, 0, "cus_1", []commerce.Bucket{{Bucket: "t", MaxUses: 100, MaxAmount: 9000}}},
		{"per customer per day", Limits{PerCustomerUses: 2, PerCustomerPeriod: "day"}, 0, "cus_1", []commerce.Bucket{{Bucket: "c:cus_1:2026-11-11", MaxUses: 2}}},
		{"anonymous has no customer counter", Limits{PerCustomerUses: 2}, 0, "", nil},
		{"daily budget", Limits{DailyBudget: 500}, 0, "cus_1", []commerce.Bucket{{Bucket: "d:2026-11-11", MaxAmount: 500}}},
		{"unit limit", Limits{}, 3, "cus_1", []commerce.Bucket{{Bucket: "c:cus_1", MaxUses: 3}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, buckets(tt.limits, tt.qty, tt.cust, "2026-11-11")); diff != "" {
			t.Errorf("%s: buckets -want +got:\n%s", tt.name, diff)
		}
	}
}

func TestCouponCodesHaveNoLookAlikes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c := newCode()
		if len(c) != 12 {
			t.Fatalf("code %q has %d characters", c, len(c))
		}
		for _, r := range c {
			switch r {
			case '0', 'O', '1', 'I', 'L':
				t.Fatalf("code %q has the look-alike %q", c, r)
			}
		}
		if seen[c] {
			t.Fatalf("code %q came twice in 2000", c)
		}
		seen[c] = true
	}
}
