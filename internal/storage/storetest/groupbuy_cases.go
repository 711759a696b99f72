package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/peak"
	"github.com/carnivalhq/carnival/internal/promotion"
)

// RunGroupBuys runs the group-buy (拼团) contract against a store.
func RunGroupBuys(t *testing.T, open Opener) {
	t.Run("ConcurrentJoinsNeverExceedTheGroupSize", func(t *testing.T) { testGroupRush(t, open) })
	t.Run("UnpaidSeatIsFreedForSomeoneElse", func(t *testing.T) { testGroupSeatTimeout(t, open) })
	t.Run("ExpiredWindowCancelsAndRefundsEveryMember", func(t *testing.T) { testGroupFails(t, open) })
	t.Run("ReplaysDuplicatesAndLimits", func(t *testing.T) { testGroupReplays(t, open) })
}

type groupEnv struct {
	*Env
	Groups *peak.Groups
	sku    *commerce.SKU
	total  int64 // stock + held + sold of the SKU, constant
}

func newGroupEnv(t *testing.T, open Opener, stock int64) *groupEnv {
	e := NewEnv(t, open)
	promotion.New(e.Store, e.Svc) // orders are priced by the engine
	g := &groupEnv{Env: e, Groups: peak.NewGroups(e.Store, e.Svc, peak.Options{})}
	g.sku = e.SeedSKU(t, "GROUP", 9900, stock)
	g.total = stock
	return g
}

// campaign creates a live campaign: list ¥99, group ¥59, size n.
func (e *groupEnv) campaign(t *testing.T, size int64, window, payment time.Duration, limit int64) *peak.GroupCampaign {
	t.Helper()
	c, err := e.Groups.CreateCampaign(ctx, e.Admin, peak.GroupCampaignInput{Name: "三人团", SKUID: e.sku.ID, GroupPrice: 5900, GroupSize: size,
		StartsAt: e.Clock.Now(), EndsAt: e.Clock.Now().Add(7 * 24 * time.Hour), GroupWindowSeconds: int64(window / time.Second),
		PaymentTimeoutSeconds: int64(payment / time.Second), PerCustomerLimit: limit})
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return c
}

func (e *groupEnv) people(t *testing.T, n int) []commerce.Customer {
	t.Helper()
	batch := make([]commerce.Customer, n)
	for i := range batch {
		batch[i] = commerce.Customer{ExternalID: fmt.Sprintf("member-%d-%d", time.Now().UnixNano(), i), Name: fmt.Sprintf("王小%d", i)}
	}
	out, err := e.Svc.UpsertCustomers(ctx, e.Admin, batch)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// conserved asserts no unit of the SKU was made or lost, and returns it.
func (e *groupEnv) conserved(t *testing.T) *commerce.SKU {
	t.Helper()
	k := e.Env.sku(t, e.sku.ID)
	if got := k.Stock + k.Held + k.Sold; got != e.total {
		t.Fatalf("stock %d + held %d + sold %d = %d, want %d", k.Stock, k.Held, k.Sold, got, e.total)
	}
	return k
}

func (e *groupEnv) group(t *testing.T, id string) *peak.Group {
	t.Helper()
	g, err := e.Groups.Group(ctx, e.Shop.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Members < 0 || g.Paid > g.Members || g.Members > g.Size {
		t.Fatalf("group %s counters out of balance: %+v", id, g)
	}
	live := int64(0)
	for _, m := range g.MemberList {
		if m.State == peak.MemberHeld || m.State == peak.MemberPaid {
			live++
		}
	}
	if live != g.Members {
		t.Fatalf("group %s counts %d members but lists %d live seats", id, g.Members, live)
	}
	return g
}

func (e *groupEnv) pay(t *testing.T, id string) *commerce.Order {
	t.Helper()
	o, err := e.Svc.PayOrder(ctx, e.Shop.ID, id)
	if err != nil {
		t.Fatalf("pay %s: %v", id, err)
	}
	return o
}

func testGroupRush(t *testing.T, open Opener) {
	e := newGroupEnv(t, open, 1000)
	c := e.campaign(t, 5, 24*time.Hour, 15*time.Minute, 1)
	people := e.people(t, 201)
	opened, _, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: people[0].ID}, "")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	gid := opened.Group.ID
	if opened.Group.Members != 1 || opened.Group.SeatsLeft != 4 || opened.Order.Payable != 5900+1000 {
		t.Fatalf("opened group %+v, order payable %d", opened.Group, opened.Order.Payable)
	}
	// 200 customers at once, each with its own key so every attempt reaches
	// the order's transaction (none is turned away early).
	var wg sync.WaitGroup
	var mu sync.Mutex
	var joined []string
	full := 0
	start := make(chan struct{})
	for i := 1; i <= 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: people[i].ID}, fmt.Sprintf("join-%d", i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ce, ok := commerce.AsError(err); ok && ce.Code == "group_full" && ce.Kind == commerce.KindConflict {
					full++
					return
				}
				t.Errorf("join %d: %v", i, err)
				return
			}
			joined = append(joined, s.Order.ID)
		}()
	}
	close(start)
	wg.Wait()
	if len(joined) != 4 || full != 196 {
		t.Fatalf("joined %d, group_full %d; want 4 and 196", len(joined), full)
	}
	g := e.group(t, gid)
	if g.Members != 5 || g.SeatsLeft != 0 || g.Status != peak.GroupOpen {
		t.Fatalf("group after the rush: %+v", g)
	}
	if k := e.conserved(t); k.Held != 5 {
		t.Fatalf("held = %d, want 5", k.Held)
	}
	orders := append([]string{opened.Order.ID}, joined...)
	// Paid but incomplete: not shipped.
	for _, id := range orders[:4] {
		e.pay(t, id)
	}
	_, err = e.Svc.FulfilOrder(ctx, e.Shop.ID, orders[0])
	wantCode(t, err, "group_incomplete")
	if g := e.group(t, gid); g.Paid != 4 || g.Status != peak.GroupOpen {
		t.Fatalf("group after 4 payments: %+v", g)
	}
	// The fifth payment completes the group in its transaction.
	e.pay(t, orders[4])
	g = e.group(t, gid)
	if g.Status != peak.GroupComplete || g.Paid != 5 || g.CompletedAt == nil {
		t.Fatalf("group after 5 payments: %+v", g)
	}
	for _, id := range orders {
		o, err := e.Svc.FulfilOrder(ctx, e.Shop.ID, id)
		if err != nil || o.Status != commerce.OrderFulfilled {
			t.Fatalf("fulfil %s after completion: %v", id, err)
		}
	}
	// A complete group takes no one, and the sweep leaves it alone.
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: people[200].ID}, "late")
	wantCode(t, err, "group_closed")
	e.Clock.Advance(25 * time.Hour)
	if n, err := e.Groups.ExpireDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("expire after completion = %d, %v", n, err)
	}
	if k := e.conserved(t); k.Sold != 5 || k.Held != 0 || k.Stock != 995 {
		t.Fatalf("sku after completion: %+v", k)
	}
}

func testGroupSeatTimeout(t *testing.T, open Opener) {
	e := newGroupEnv(t, open, 10)
	c := e.campaign(t, 3, 24*time.Hour, 15*time.Minute, 1)
	p := e.people(t, 4)
	s0, _, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[0].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	gid := s0.Group.ID
	e.Clock.Advance(10 * time.Minute)
	s1, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[1].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[2].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[3].ID}, "")
	wantCode(t, err, "group_full")
	e.pay(t, s1.Order.ID)
	e.pay(t, s2.Order.ID)
	// The opener does not pay within 15 minutes: the seat goes back.
	e.Clock.Advance(6 * time.Minute)
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("expire unpaid = %d, %v", n, err)
	}
	g := e.group(t, gid)
	if g.Members != 2 || g.SeatsLeft != 1 || g.Status != peak.GroupOpen {
		t.Fatalf("group after the opener timed out: %+v", g)
	}
	if m := g.MemberList[0]; m.State != peak.MemberReleased || m.Reason != "payment_timeout" || !m.Leader {
		t.Fatalf("opener's seat: %+v", m)
	}
	if k := e.conserved(t); k.Held != 0 || k.Sold != 2 {
		t.Fatalf("sku: %+v", k)
	}
	open3, err := e.Groups.OpenGroups(ctx, e.Shop.ID, c.ID, commerce.Page{})
	if err != nil || len(open3) != 1 || open3[0].ID != gid || open3[0].SeatsLeft != 1 {
		t.Fatalf("open groups = %+v, %v", open3, err)
	}
	// Someone else takes it and pays: the group completes.
	s3, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[3].ID}, "")
	if err != nil {
		t.Fatalf("join the freed seat: %v", err)
	}
	e.pay(t, s3.Order.ID)
	if g := e.group(t, gid); g.Status != peak.GroupComplete || g.Paid != 3 {
		t.Fatalf("group: %+v", g)
	}
	if open3, _ := e.Groups.OpenGroups(ctx, e.Shop.ID, c.ID, commerce.Page{}); len(open3) != 0 {
		t.Fatalf("a complete group is still listed open: %+v", open3)
	}
	e.conserved(t)
}

func testGroupFails(t *testing.T, open Opener) {
	e := newGroupEnv(t, open, 10)
	// Members may pay for 2 hours, but the group closes after 1: pending
	// orders are due when the group is.
	c := e.campaign(t, 5, time.Hour, 2*time.Hour, 1)
	p := e.people(t, 4)
	s0, _, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[0].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	gid := s0.Group.ID
	if !s0.Order.ExpiresAt.Equal(s0.Group.ExpiresAt) || !s0.Group.ExpiresAt.Equal(e.Clock.Now().Add(time.Hour)) {
		t.Fatalf("order expires %v, group %v: a member must pay before the group closes", s0.Order.ExpiresAt, s0.Group.ExpiresAt)
	}
	s1, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[1].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[2].ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	paid0, paid1 := e.pay(t, s0.Order.ID), e.pay(t, s1.Order.ID)
	_, err = e.Svc.FulfilOrder(ctx, e.Shop.ID, s1.Order.ID)
	wantCode(t, err, "group_incomplete")
	e.Clock.Advance(59 * time.Minute)
	if n, err := e.Groups.ExpireDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("expire before the window closed = %d, %v", n, err)
	}
	e.Clock.Advance(time.Minute)
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[3].ID}, "")
	wantCode(t, err, "group_closed")
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[3].ID}, "with-key")
	wantCode(t, err, "group_closed")
	if n, err := e.Groups.ExpireDue(ctx, 100); err != nil || n != 1 {
		t.Fatalf("expire = %d, %v; want 1 group", n, err)
	}
	g := e.group(t, gid)
	if g.Status != peak.GroupFailed || g.Members != 0 || g.Paid != 0 || g.FailedAt == nil {
		t.Fatalf("failed group: %+v", g)
	}
	for _, paid := range []*commerce.Order{paid0, paid1} {
		o, _ := e.Svc.Order(ctx, e.Shop.ID, paid.ID)
		var lines int64
		for _, l := range o.Lines {
			lines += l.Payable
		}
		// Everything paid comes back: the lines and the shipping.
		if o.Status != commerce.OrderRefunded || lines != 5900 || o.Shipping-o.ShippingDiscount <= 0 || o.RefundedAmount != o.Payable {
			t.Fatalf("paid member's order after failure: status %s refunded %d of %d (lines %d, shipping %d)", o.Status, o.RefundedAmount, o.Payable, lines, o.Shipping)
		}
		var reason string
		if err := e.Store.Reader().QueryRow(e.Store.Q(`SELECT reason FROM refunds WHERE order_id = $1`), o.ID).Scan(&reason); err != nil || reason != peak.ReasonGroupFailed {
			t.Fatalf("refund reason of %s = %q, %v", o.ID, reason, err)
		}
	}
	o2, _ := e.Svc.Order(ctx, e.Shop.ID, s2.Order.ID)
	if o2.Status != commerce.OrderCancelled || o2.CancelReason != peak.ReasonGroupFailed {
		t.Fatalf("pending member's order: %s (%s)", o2.Status, o2.CancelReason)
	}
	for _, m := range g.MemberList {
		if m.Reason != peak.ReasonGroupFailed || (m.State != peak.MemberRefunded && m.State != peak.MemberReleased) {
			t.Fatalf("member after failure: %+v", m)
		}
	}
	if k := e.conserved(t); k.Stock != 10 || k.Held != 0 || k.Sold != 0 {
		t.Fatalf("stock did not all come back: %+v", k)
	}
	// Settled once: the sweep does not come back to it, nor to its orders.
	if n, err := e.Groups.ExpireDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("second expire = %d, %v", n, err)
	}
	if n, err := e.Svc.ExpireDue(ctx, 100); err != nil || n != 0 {
		t.Fatalf("order sweep after the group failed = %d, %v", n, err)
	}
	// The customers' seats are free again: they may join another group.
	s4, _, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[0].ID}, "")
	if err != nil || s4.Group.ID == gid {
		t.Fatalf("open again after failure: %v", err)
	}
	e.conserved(t)
}

func testGroupReplays(t *testing.T, open Opener) {
	e := newGroupEnv(t, open, 10)
	c := e.campaign(t, 3, 24*time.Hour, 15*time.Minute, 1)
	p := e.people(t, 3)
	first, replayed, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[0].ID}, "open-1")
	if err != nil || replayed {
		t.Fatalf("open: %v %v", replayed, err)
	}
	again, replayed, err := e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[0].ID}, "open-1")
	if err != nil || !replayed || again.Order.ID != first.Order.ID || again.Group.ID != first.Group.ID {
		t.Fatalf("replayed open: %v %v %+v", replayed, err, again)
	}
	gid := first.Group.ID
	j1, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[1].ID}, "join-1")
	if err != nil {
		t.Fatal(err)
	}
	j2, replayed, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[1].ID}, "join-1")
	if err != nil || !replayed || j2.Order.ID != j1.Order.ID {
		t.Fatalf("replayed join: %v %v", replayed, err)
	}
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[2].ID}, "join-1")
	wantCode(t, err, "idempotency_key_reused")
	if g := e.group(t, gid); g.Members != 2 {
		t.Fatalf("replays took seats: %+v", g)
	}
	if k := e.conserved(t); k.Held != 2 {
		t.Fatalf("replays held stock: %+v", k)
	}
	// One seat per customer per group, with or without a key.
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[1].ID}, "")
	wantCode(t, err, "already_member")
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[0].ID}, "join-again")
	wantCode(t, err, "already_member")
	// The campaign's limit of one seat: no second group either.
	_, _, err = e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[1].ID}, "")
	wantCode(t, err, "over_limit")
	// Unknown group, unknown customer, missing customer.
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, "grp_nope", peak.SeatRequest{CustomerID: p[2].ID}, "")
	wantCode(t, err, "group_not_found")
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: "cus_nope"}, "")
	wantCode(t, err, "unknown_customer")
	_, _, err = e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{}, "")
	wantCode(t, err, "required")
	// Another customer sees names masked and no ids.
	g, _ := e.Groups.Group(ctx, e.Shop.ID, gid)
	m := g.Masked().MemberList[0]
	if m.Name != "王**" || m.OrderID != "" || m.CustomerID != "" || !m.Leader {
		t.Fatalf("masked member: %+v", m)
	}
	// A campaign that has not started takes no group, keyed or not.
	later, err := e.Groups.CreateCampaign(ctx, e.Admin, peak.GroupCampaignInput{Name: "明日团", SKUID: e.sku.ID, GroupPrice: 5900, GroupSize: 2,
		StartsAt: e.Clock.Now().Add(time.Hour), EndsAt: e.Clock.Now().Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.Groups.Open(ctx, e.Shop.ID, later.ID, peak.SeatRequest{CustomerID: p[2].ID}, "")
	wantCode(t, err, "campaign_not_started")
	_, _, err = e.Groups.Open(ctx, e.Shop.ID, later.ID, peak.SeatRequest{CustomerID: p[2].ID}, "early-key")
	wantCode(t, err, "campaign_not_started")
	// Ending the campaign stops new groups; the open one may still fill.
	if _, err := e.Groups.EndCampaign(ctx, e.Admin, c.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[2].ID}, "")
	wantCode(t, err, "campaign_closed")
	_, _, err = e.Groups.Open(ctx, e.Shop.ID, c.ID, peak.SeatRequest{CustomerID: p[2].ID}, "open-after-end")
	wantCode(t, err, "campaign_closed")
	if _, _, err := e.Groups.Join(ctx, e.Shop.ID, gid, peak.SeatRequest{CustomerID: p[2].ID}, ""); err != nil {
		t.Fatalf("join after the campaign ended: %v", err)
	}
	if k := e.conserved(t); k.Held != 3 {
		t.Fatalf("sku: %+v", k)
	}
}
