package guard

import "time"

// LimitSpec is a Limit on the wire (the API and stored sale settings).
type LimitSpec struct {
	Rate       int     `json:"rate" minimum:"0" maximum:"1000000" doc:"Attempts per period on average; 0 = no limit"`
	PerSeconds float64 `json:"per_seconds,omitempty" minimum:"0" maximum:"86400" doc:"The period, seconds (required with a rate)"`
	Burst      int     `json:"burst,omitempty" minimum:"0" maximum:"1000000" doc:"Attempts allowed at once; 0 = same as rate"`
}

// Limit is the spec as a Limit.
func (l LimitSpec) Limit() Limit {
	return Limit{Rate: l.Rate, Per: time.Duration(l.PerSeconds * float64(time.Second)), Burst: l.Burst}
}

func limitSpec(l Limit) LimitSpec {
	return LimitSpec{Rate: l.Rate, PerSeconds: l.Per.Seconds(), Burst: l.Burst}
}

// PolicySpec is a Policy on the wire: the shop's default policy in the API,
// and a flash sale's own policy where it has one.
type PolicySpec struct {
	PerCustomer       LimitSpec `json:"per_customer,omitzero" doc:"Rate limit per customer id"`
	PerDevice         LimitSpec `json:"per_device,omitzero" doc:"Rate limit per device id"`
	PerIP             LimitSpec `json:"per_ip,omitzero" doc:"Rate limit per client IP"`
	FailLimit         int       `json:"fail_limit,omitempty" minimum:"-1" maximum:"1000" doc:"Failed attempts within the window that block; 0 = default 5, -1 = never block"`
	FailWindowSeconds int64     `json:"fail_window_seconds,omitempty" minimum:"0" maximum:"604800" doc:"0 = default 600"`
	BlockSeconds      int64     `json:"block_seconds,omitempty" minimum:"0" maximum:"2592000" doc:"How long a block lasts; 0 = default 3600"`
	BlockIPs          bool      `json:"block_ips,omitempty" doc:"Failures also block the client IP (default false: behind a shared NAT or office proxy one IP is many shoppers; customers and devices are always blocked). A trusted proxy's address is never blocked"`
}

// Policy is the spec as a Policy.
func (b PolicySpec) Policy() Policy {
	return Policy{PerCustomer: b.PerCustomer.Limit(), PerDevice: b.PerDevice.Limit(), PerIP: b.PerIP.Limit(), FailLimit: b.FailLimit,
		FailWindow: time.Duration(b.FailWindowSeconds) * time.Second, BlockFor: time.Duration(b.BlockSeconds) * time.Second, BlockIPs: b.BlockIPs}
}

// SpecOf shows a policy on the wire; pass p.Effective() to show zero
// failure settings as the defaults they stand for.
func SpecOf(p Policy) PolicySpec {
	return PolicySpec{PerCustomer: limitSpec(p.PerCustomer), PerDevice: limitSpec(p.PerDevice), PerIP: limitSpec(p.PerIP), FailLimit: p.FailLimit,
		FailWindowSeconds: int64(p.FailWindow / time.Second), BlockSeconds: int64(p.BlockFor / time.Second), BlockIPs: p.BlockIPs}
}
