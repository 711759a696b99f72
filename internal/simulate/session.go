package simulate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// setup reads the catalog and the customers the traffic uses.
func (r *runner) setup(ctx context.Context) error {
	if r.cfg.AdminKey != "" {
		if err := page(r, ctx, "/api/v1/skus?status=active&limit=500", 2000, func(k sku) {
			if k.Stock > 0 {
				r.skus = append(r.skus, k)
			}
		}); err != nil {
			return fmt.Errorf("reading the catalog: %w", err)
		}
		if err := page(r, ctx, "/api/v1/customers?limit=500", r.cfg.MaxCustomers, func(c struct {
			ID string `json:"id"`
		}) {
			r.customers = append(r.customers, c.ID)
		}); err != nil {
			return fmt.Errorf("reading the customers: %w", err)
		}
		if len(r.customers) == 0 {
			if err := r.createCustomers(ctx, 50); err != nil {
				return err
			}
		}
	} else {
		sales, err := r.liveSales(ctx)
		if err != nil {
			return err
		}
		for _, s := range sales {
			for _, it := range s.Items {
				r.skus = append(r.skus, sku{ID: it.SKUID})
			}
		}
	}
	if len(r.skus) == 0 {
		if r.cfg.AdminKey == "" {
			return errors.New("a storefront key cannot list the catalog and no flash sale is live: pass an admin key")
		}
		return errors.New("the shop has no active SKU with stock to sell")
	}
	return nil
}

// page reads up to max items of a list, following next_cursor.
func page[T any](r *runner, ctx context.Context, path string, max int, each func(T)) error {
	n, cursor := 0, ""
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var out struct {
			Items      []T    `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		a, err := r.c.call(ctx, http.MethodGet, p, callOpts{key: r.cfg.AdminKey}, nil, &out)
		if err != nil {
			return err
		}
		if a.status != http.StatusOK {
			return fmt.Errorf("GET %s answered %d %s", p, a.status, a.code)
		}
		for _, it := range out.Items {
			if n >= max {
				return nil
			}
			each(it)
			n++
		}
		if out.NextCursor == "" || len(out.Items) == 0 {
			return nil
		}
		cursor = out.NextCursor
	}
}

// createCustomers registers n shoppers (idempotent by external id).
func (r *runner) createCustomers(ctx context.Context, n int) error {
	type in struct {
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
	}
	var body struct {
		Items []in `json:"items"`
	}
	for i := range n {
		body.Items = append(body.Items, in{ExternalID: fmt.Sprintf("sim-%03d", i+1), Name: fmt.Sprintf("模拟顾客 %d", i+1)})
	}
	var out struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	a, err := r.c.call(ctx, http.MethodPut, "/api/v1/customers", callOpts{key: r.cfg.AdminKey}, body, &out)
	if err != nil {
		return fmt.Errorf("creating customers: %w", err)
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("creating customers: PUT /api/v1/customers answered %d %s", a.status, a.code)
	}
	for _, c := range out.Items {
		r.customers = append(r.customers, c.ID)
	}
	return nil
}

type sale struct {
	ID    string `json:"id"`
	Phase string `json:"phase"`
	Items []struct {
		SKUID     string `json:"sku_id"`
		Remaining int64  `json:"remaining"`
	} `json:"items"`
}

// liveSales lists the flash sales live now (a storefront key may).
func (r *runner) liveSales(ctx context.Context) ([]sale, error) {
	var out struct {
		Items []sale `json:"items"`
	}
	a, err := r.c.call(ctx, http.MethodGet, "/api/v1/flash-sales?limit=100", callOpts{key: r.cfg.Key}, nil, &out)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/flash-sales answered %d %s", a.status, a.code)
	}
	var live []sale
	for _, s := range out.Items {
		if s.Phase == "live" && len(s.Items) > 0 {
			live = append(live, s)
		}
	}
	return live, nil
}

// send posts the sessions' events in batches of up to 500, at least every
// quarter second.
func (r *runner) send(ctx context.Context) {
	const most = 500
	batch := make([]event, 0, most)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var out struct {
			Accepted int `json:"accepted"`
			Rejected []struct {
				Code string `json:"code"`
			} `json:"rejected"`
		}
		a, err := r.c.call(ctx, http.MethodPost, "/api/v1/events", callOpts{key: cmp.Or(r.cfg.PublishableKey, r.cfg.Key)}, map[string]any{"events": batch}, &out)
		switch {
		case err != nil && ctx.Err() != nil:
			// Stopping: what is left is dropped.
		case err != nil || a.status != http.StatusOK:
			r.stats.eventsSent.Add(int64(len(batch)))
			r.stats.eventsLost.Add(int64(len(batch)))
		default:
			r.stats.eventsSent.Add(int64(len(batch)))
			r.stats.eventsAccepted.Add(int64(out.Accepted))
			r.stats.eventsRejected.Add(int64(len(out.Rejected)))
			for _, x := range out.Rejected {
				r.stats.inc(r.stats.rejections, x.Code)
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-r.events:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e)
			if len(batch) == most {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

type line struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
}

type order struct {
	ID    string `json:"id"`
	Lines []struct {
		No       int   `json:"no"`
		Quantity int64 `json:"quantity"`
	} `json:"lines"`
}

// session plays one visitor's session.
func (r *runner) session(ctx context.Context, rng *rand.Rand, s Session, n int64) {
	vid := r.run + "-v" + strconv.FormatInt(n, 10)
	sid := vid + "-s1"
	ch := r.cfg.Channels[s.Channel]
	customer := ""
	if s.Known {
		customer = r.customer(rng)
	}
	for i, a := range s.Actions {
		if !sleep(ctx, a.Pause) {
			return
		}
		if a.Kind == CheckoutStart && customer == "" {
			customer = r.customer(rng) // a visitor logs in to check out
		}
		e := event{ID: sid + "-" + strconv.Itoa(i), Type: a.Kind.String(), TS: time.Now().UTC(), AnonymousID: vid, CustomerID: customer,
			SessionID: sid, UTMSource: ch.Source, UTMMedium: ch.Medium, UTMCampaign: ch.Campaign, Device: s.Device}
		switch a.Kind {
		case ProductView, AddToCart, Share:
			e.SKUID = r.skus[a.SKU].ID
			e.URL = "/p/" + e.SKUID
		case Search:
			e.URL = "/search"
		case CheckoutStart:
			e.URL = "/checkout"
		default:
			e.URL = "/"
		}
		select {
		case r.events <- e:
		case <-ctx.Done():
			return
		}
	}
	if s.Order == nil {
		return
	}
	o := s.Order
	lines := make([]line, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = line{SKUID: r.skus[l.SKU].ID, Quantity: l.Qty}
	}
	sf := callOpts{key: r.cfg.Key, dev: vid}
	a, err := r.c.call(ctx, http.MethodPost, "/api/v1/quote", sf, map[string]any{"customer_id": customer, "lines": lines}, nil)
	if err != nil {
		return
	}
	if a.status != http.StatusOK {
		r.refusal("quote", a)
		return
	}
	r.stats.quotes.Add(1)
	var placed order
	sf.idem = vid + "-order"
	a, err = r.c.call(ctx, http.MethodPost, "/api/v1/orders", sf, map[string]any{"customer_id": customer, "lines": lines, "channel": ch.Source, "campaign": ch.Campaign}, &placed)
	if err != nil {
		return
	}
	if a.status != http.StatusCreated && a.status != http.StatusOK {
		r.refusal("order", a)
		return
	}
	r.stats.placed.Add(1)
	r.settle(ctx, placed, o.Fate, o.After, o.Refund, o.RefundWait)
}

// settle pays, cancels or leaves an order unpaid, then maybe refunds it.
func (r *runner) settle(ctx context.Context, o order, fate Fate, after time.Duration, refund bool, refundAfter time.Duration) {
	sf := callOpts{key: r.cfg.Key}
	switch fate {
	case Unpaid:
		r.stats.unpaid.Add(1)
		return
	case Cancelled:
		if !sleep(ctx, after) {
			return
		}
		a, err := r.c.call(ctx, http.MethodPost, "/api/v1/orders/"+url.PathEscape(o.ID)+"/cancel", sf, nil, nil)
		if err == nil && a.status == http.StatusOK {
			r.stats.cancelled.Add(1)
		} else if err == nil {
			r.refusal("cancel", a)
		}
		return
	}
	if !sleep(ctx, after) {
		return
	}
	a, err := r.c.call(ctx, http.MethodPost, "/api/v1/orders/"+url.PathEscape(o.ID)+"/pay", sf, nil, nil)
	if err != nil {
		return
	}
	if a.status != http.StatusOK {
		r.refusal("pay", a)
		return
	}
	r.stats.paid.Add(1)
	if !refund || r.cfg.AdminKey == "" || !sleep(ctx, refundAfter) {
		return
	}
	var body struct {
		Lines []struct {
			No       int   `json:"no"`
			Quantity int64 `json:"quantity"`
		} `json:"lines"`
		Reason string `json:"reason"`
	}
	body.Lines, body.Reason = o.Lines, "七天无理由退货 no_reason_return"
	a, err = r.c.call(ctx, http.MethodPost, "/api/v1/orders/"+url.PathEscape(o.ID)+"/refunds", callOpts{key: r.cfg.AdminKey}, body, nil)
	if err == nil && a.status == http.StatusOK {
		r.stats.refunded.Add(1)
	} else if err == nil {
		r.refusal("refund", a)
	}
}

// refusal counts a 4xx answer of the order flow (out of stock, limits…);
// 5xx are counted with the statuses and fail the run.
func (r *runner) refusal(step string, a answer) {
	if a.status >= 500 {
		return
	}
	if step == "order" {
		r.stats.refused.Add(1)
	}
	r.stats.inc(r.stats.refusals, step+":"+a.code)
}

func (r *runner) customer(rng *rand.Rand) string {
	if len(r.customers) == 0 {
		return ""
	}
	return r.customers[rng.IntN(len(r.customers))]
}

// flashBurst sends FlashBurst buyers at a live flash sale at once. Sold
// out, over the limit or rate limited are answers a burst expects; every
// answer is counted by its code.
func (r *runner) flashBurst(ctx context.Context) {
	if len(r.customers) == 0 {
		r.stats.flashAnswer("no_customers")
		return
	}
	sales, err := r.liveSales(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.stats.flashAnswer("sales_unreadable")
		}
		return
	}
	if len(sales) == 0 {
		r.stats.flashAnswer("no_live_sale")
		return
	}
	s := sales[0]
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0xf1a5))
	type buyer struct {
		customer, sku, channel string
		pay                    bool
		after                  time.Duration
	}
	buyers := make([]buyer, r.cfg.FlashBurst)
	for i := range buyers {
		b := buyer{customer: r.customer(rng), sku: s.Items[rng.IntN(len(s.Items))].SKUID,
			pay: rng.Float64() < r.cfg.Funnel.Pay, after: pause(rng, r.cfg.PayAfter)}
		if i > 0 && rng.Float64() < r.cfg.FlashRepeat {
			b.customer, b.sku = buyers[i-1].customer, buyers[i-1].sku // tries twice: over the limit
		}
		b.channel = r.cfg.Channels[max(0, NewSampler(channelWeights(r.cfg.Channels)).Pick(rng))].Source
		buyers[i] = b
	}
	go_ := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range buyers {
		wg.Go(func() {
			<-go_
			var o order
			id := r.run + "-flash-" + strconv.Itoa(i)
			a, err := r.c.call(ctx, http.MethodPost, "/api/v1/flash-sales/"+url.PathEscape(s.ID)+"/buy",
				callOpts{key: r.cfg.Key, idem: id, dev: id, burst: true},
				map[string]any{"sku_id": b.sku, "quantity": 1, "customer_id": b.customer, "channel": b.channel}, &o)
			if err != nil {
				return
			}
			if a.status != http.StatusCreated && a.status != http.StatusOK {
				r.stats.flashAnswer(a.code)
				return
			}
			r.stats.flashAnswer("bought")
			r.stats.flashBought.Add(1)
			r.stats.placed.Add(1)
			fate := Unpaid
			if b.pay {
				fate = Paid
			}
			r.settle(ctx, o, fate, b.after, false, 0)
		})
	}
	close(go_)
	wg.Wait()
}

func channelWeights(cs []Channel) []float64 {
	w := make([]float64, len(cs))
	for i, c := range cs {
		w[i] = c.Weight
	}
	return w
}
