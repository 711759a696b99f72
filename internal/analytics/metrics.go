package analytics

// The formulas of docs/METRICS.md over facts already summed by the store.
// Rates are basis points and per-head amounts fen, both rounded half away
// from zero; a zero denominator gives nil (absent), never 0.

// Distincts are the non-additive facts of a period, counted exactly over
// per-visitor-day and per-customer-day rows.
type Distincts struct {
	UV              int64 `json:"uv"`
	PayingCustomers int64 `json:"paying_customers"`
	Repurchasers    int64 `json:"repurchasers"`
	NewCustomers    int64 `json:"new_customers"`
}

// KPIs are one period's (or bucket's) metrics.
type KPIs struct {
	GMV             int64  `json:"gmv" doc:"下单金额: payable of orders placed, fen"`
	Orders          int64  `json:"orders"`
	PaidAmount      int64  `json:"paid_amount" doc:"支付金额: payable of orders paid, fen"`
	PaidOrders      int64  `json:"paid_orders"`
	Refunds         int64  `json:"refunds"`
	CancelledOrders int64  `json:"cancelled_orders" doc:"Orders cancelled unpaid (customer, payment timeout, failed group)"`
	CancelledAmount int64  `json:"cancelled_amount" doc:"Payable of the orders cancelled unpaid, fen"`
	NetSales        int64  `json:"net_sales"`
	DiscountCost    int64  `json:"discount_cost"`
	PV              int64  `json:"pv"`
	ProductViews    int64  `json:"product_views"`
	Carts           int64  `json:"add_to_carts"`
	UV              *int64 `json:"uv,omitempty" doc:"Distinct visitors; absent on hourly buckets"`
	PayingCustomers *int64 `json:"paying_customers,omitempty"`
	NewCustomers    *int64 `json:"new_customers,omitempty"`
	ConversionBP    *int64 `json:"conversion_bp,omitempty"`
	AOV             *int64 `json:"aov,omitempty" doc:"客单价, fen"`
	UVValue         *int64 `json:"uv_value,omitempty" doc:"fen"`
	RepurchaseBP    *int64 `json:"repurchase_bp,omitempty"`
	RefundRateBP    *int64 `json:"refund_rate_bp,omitempty"`
	ROIBP           *int64 `json:"roi_bp,omitempty" doc:"attributed paid amount / cost; only when cost is given"`
}

// Ratio returns num/den rounded half away from zero, nil when den is 0.
// num and den are non-negative fen or counts well below 2^62/10000.
func Ratio(num, den, scale int64) *int64 {
	if den == 0 {
		return nil
	}
	n := num * scale
	q := n / den
	if r := n % den; 2*r >= den {
		q++
	}
	return &q
}

// Compute applies the definitions to counters and (when known) distincts.
// cost > 0 also gives ROI.
func Compute(c Counters, d *Distincts, cost int64) KPIs {
	k := KPIs{GMV: c.GMV, Orders: c.Orders, PaidAmount: c.PaidAmount, PaidOrders: c.PaidOrders, Refunds: c.Refunds,
		CancelledOrders: c.CancelledOrders, CancelledAmount: c.CancelledAmount,
		NetSales: c.PaidAmount - c.Refunds, DiscountCost: c.Discount, PV: c.PV, ProductViews: c.ProductViews, Carts: c.Carts}
	k.RefundRateBP = Ratio(c.Refunds, c.PaidAmount, 10000)
	if cost > 0 {
		k.ROIBP = Ratio(c.PaidAmount, cost, 10000)
	}
	if d != nil {
		uv, pc, nc := d.UV, d.PayingCustomers, d.NewCustomers
		k.UV, k.PayingCustomers, k.NewCustomers = &uv, &pc, &nc
		k.ConversionBP = Ratio(d.PayingCustomers, d.UV, 10000)
		k.AOV = Ratio(c.PaidAmount, d.PayingCustomers, 1)
		k.UVValue = Ratio(c.PaidAmount, d.UV, 1)
		k.RepurchaseBP = Ratio(d.Repurchasers, d.PayingCustomers, 10000)
	}
	return k
}
