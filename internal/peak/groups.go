package peak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Groups runs group buys (拼团): campaigns, opening and joining groups
// through commerce orders, the fulfilment gate and the expiry sweep.
type Groups struct {
	store GroupStore
	com   *commerce.Service
	log   *slog.Logger
}

// NewGroups returns the group-buy service. It registers a fulfilment gate
// with com (orders of a group that is not complete do not ship), so call it
// before serving.
func NewGroups(store GroupStore, com *commerce.Service, opt Options) *Groups {
	g := &Groups{store: store, com: com, log: opt.Logger}
	if g.log == nil {
		g.log = slog.Default()
	}
	com.OnFulfil(g.gate)
	return g
}

// CreateCampaign validates and stores a campaign. Units come from the SKU's
// free stock as members join, so nothing is allocated up front.
func (g *Groups) CreateCampaign(ctx context.Context, a commerce.Actor, in GroupCampaignInput) (*GroupCampaign, error) {
	now := g.com.Now().UTC()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	skus, err := g.com.SKUs(ctx, a.ShopID, []string{in.SKUID}, false)
	if err != nil {
		return nil, err
	}
	k, ok := skus[in.SKUID]
	if !ok {
		return nil, commerce.Invalid("sku_id", "unknown_sku", "SKU %q does not exist", in.SKUID)
	}
	if k.Status != commerce.SKUActive {
		return nil, commerce.Invalid("sku_id", "sku_inactive", "SKU %q is not on sale", in.SKUID)
	}
	if in.GroupPrice >= k.Price {
		return nil, commerce.Invalid("group_price", "not_below_list", "group_price must be below the list price %d", k.Price)
	}
	c := &GroupCampaign{ID: g.com.ID("gbc"), ShopID: a.ShopID, Name: in.Name, SKUID: in.SKUID, ListPrice: k.Price, GroupPrice: in.GroupPrice,
		GroupSize: in.GroupSize, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(), GroupWindowSeconds: in.GroupWindowSeconds,
		PerCustomerLimit: in.PerCustomerLimit, PaymentTimeoutSeconds: in.PaymentTimeoutSeconds, Status: CampaignActive, CreatedAt: now, UpdatedAt: now}
	if err := g.store.CreateGroupCampaign(ctx, c, g.com.Audit(a, "create", "group_campaign", c.ID, nil, c)); err != nil {
		return nil, fmt.Errorf("create group campaign: %w", err)
	}
	c.Phase = c.PhaseAt(now)
	return c, nil
}

// Campaign reads a campaign.
func (g *Groups) Campaign(ctx context.Context, shopID, id string) (*GroupCampaign, error) {
	c, err := g.store.GetGroupCampaign(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("group_campaign", id)
	}
	if err != nil {
		return nil, err
	}
	c.Phase = c.PhaseAt(g.com.Now())
	return c, nil
}

// Campaigns lists a shop's campaigns by id.
func (g *Groups) Campaigns(ctx context.Context, shopID string, p commerce.Page) ([]GroupCampaign, error) {
	out, err := g.store.ListGroupCampaigns(ctx, shopID, p.Normalized())
	now := g.com.Now()
	for i := range out {
		out[i].Phase = out[i].PhaseAt(now)
	}
	return out, err
}

// EndCampaign stops new groups now. Groups already open run out their
// window: they may still complete, or fail and be refunded.
func (g *Groups) EndCampaign(ctx context.Context, a commerce.Actor, id string) (*GroupCampaign, error) {
	if _, err := g.Campaign(ctx, a.ShopID, id); err != nil {
		return nil, err
	}
	err := g.store.EndGroupCampaign(ctx, a.ShopID, id, g.com.Now().UTC(), g.com.Audit(a, "end", "group_campaign", id, nil, nil))
	if errors.Is(err, commerce.ErrStale) {
		return nil, commerce.Conflict("illegal_transition", "group campaign %s has already ended", id)
	}
	if err != nil {
		return nil, fmt.Errorf("end group campaign %s: %w", id, err)
	}
	return g.Campaign(ctx, a.ShopID, id)
}

// Group reads a group with its members (unmasked; callers showing it to
// other customers use Masked).
func (g *Groups) Group(ctx context.Context, shopID, id string) (*Group, error) {
	gr, err := g.store.GetGroup(ctx, shopID, id)
	if errors.Is(err, commerce.ErrNotFound) {
		return nil, commerce.NotFound("group", id)
	}
	return gr, err
}

// OpenGroups lists a campaign's groups a customer can join now.
func (g *Groups) OpenGroups(ctx context.Context, shopID, campaignID string, p commerce.Page) ([]Group, error) {
	if _, err := g.Campaign(ctx, shopID, campaignID); err != nil {
		return nil, err
	}
	return g.store.OpenGroups(ctx, shopID, campaignID, g.com.Now().UTC(), p.Normalized())
}

// SeatRequest is a customer's request to open or join a group.
type SeatRequest struct {
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel,omitempty"`
	Campaign   string `json:"campaign,omitempty"`
}

func (r *SeatRequest) validate() error {
	if err := commerce.CheckText("customer_id", r.CustomerID, true, commerce.MaxCodeLen); err != nil {
		return err
	}
	if err := commerce.CheckText("campaign", r.Campaign, false, commerce.MaxCodeLen); err != nil {
		return err
	}
	return commerce.CheckText("channel", r.Channel, false, commerce.MaxCodeLen)
}

// Seat is the answer to opening or joining: the member's order (to pay
// within its payment timeout) and the group as it stands.
type Seat struct {
	Order *commerce.Order `json:"order"`
	Group *Group          `json:"group"`
}

// Open opens a new group of the campaign with the customer as its first
// member (团长): one order at the group price holding the first seat and a
// unit of stock. With an idempotency key a replay returns the first order
// and its group and takes nothing.
func (g *Groups) Open(ctx context.Context, shopID, campaignID string, req SeatRequest, key string) (*Seat, bool, error) {
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	c, err := g.Campaign(ctx, shopID, campaignID)
	if err != nil {
		return nil, false, err
	}
	now := g.com.Now().UTC()
	if key == "" {
		if err := campaignOpen(c, now); err != nil {
			return nil, false, err
		}
	}
	expires := c.GroupExpiry(now)
	orderID := g.com.ID("ord")
	hold := commerce.Hold{Kind: HoldGroupOpen, Ref: c.ID, Quantity: 1, Key: key,
		Buckets: []commerce.Bucket{{Bucket: "c:" + req.CustomerID, MaxUses: c.PerCustomerLimit}}}
	return g.place(ctx, shopID, c, req, key, orderID, hold, expires.Sub(now))
}

// Join takes a seat in an open group. Under any concurrency a group never
// has more than its size of members: the seat is a conditional update of
// the group in the order's transaction. A customer holds at most one seat
// of a group.
func (g *Groups) Join(ctx context.Context, shopID, groupID string, req SeatRequest, key string) (*Seat, bool, error) {
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	gr, err := g.Group(ctx, shopID, groupID)
	if err != nil {
		return nil, false, err
	}
	c, err := g.Campaign(ctx, shopID, gr.CampaignID)
	if err != nil {
		return nil, false, err
	}
	now := g.com.Now().UTC()
	// Cheap answers first; the order's transaction decides. A request with
	// a key may be a replay of a join that filled the group, so it goes on.
	if key == "" {
		switch {
		case gr.Status != GroupOpen || !now.Before(gr.ExpiresAt):
			return nil, false, seatConflict("group_closed")
		case gr.Members >= gr.Size:
			return nil, false, seatConflict("group_full")
		}
	}
	hold := commerce.Hold{Kind: HoldGroupSeat, Ref: c.ID + "/" + gr.ID, Quantity: 1, Key: key,
		Buckets: []commerce.Bucket{{Bucket: "c:" + req.CustomerID, MaxUses: c.PerCustomerLimit}}}
	return g.place(ctx, shopID, c, req, key, "", hold, gr.ExpiresAt.Sub(now))
}

func (g *Groups) place(ctx context.Context, shopID string, c *GroupCampaign, req SeatRequest, key, orderID string, hold commerce.Hold, untilExpiry time.Duration) (*Seat, bool, error) {
	// A member pays within the campaign's timeout and never after the group
	// closes, so no payment can land on a group that has failed.
	timeout := c.PaymentTimeout()
	if untilExpiry < timeout {
		timeout = untilExpiry
	}
	if timeout <= 0 && key == "" {
		return nil, false, seatConflict("group_closed")
	}
	if timeout <= 0 {
		timeout = time.Microsecond // a replay is answered before any hold; a new seat is refused by the store
	}
	place := &commerce.PlaceRequest{CustomerID: req.CustomerID, Lines: []commerce.CartLine{{SKUID: c.SKUID, Quantity: 1}}, Channel: req.Channel, Campaign: req.Campaign,
		PaymentTimeout: timeout,
		Reserved:       []commerce.Reserved{{SKUID: c.SKUID, Units: 1, Price: c.GroupPrice, ActivityID: c.ID, Hold: hold}}}
	o, replayed, err := g.com.PlaceOrderAs(ctx, shopID, place, key, orderID)
	var se *SeatError
	if errors.As(err, &se) {
		if se.Code == "campaign_closed" {
			// Say why when the store refused a keyed open the early check skipped.
			if cerr := campaignOpen(c, g.com.Now().UTC()); cerr != nil {
				return nil, false, cerr
			}
		}
		return nil, false, seatConflict(se.Code)
	}
	if err != nil {
		return nil, false, err
	}
	gid := groupOf(o)
	gr, err := g.Group(ctx, shopID, gid)
	if err != nil {
		return nil, false, fmt.Errorf("read group %s of order %s: %w", gid, o.ID, err)
	}
	return &Seat{Order: o, Group: gr}, replayed, nil
}

func campaignOpen(c *GroupCampaign, now time.Time) error {
	switch c.PhaseAt(now) {
	case PhaseUpcoming:
		e := commerce.Conflict("campaign_not_started", "group campaign %s starts at %s", c.ID, c.StartsAt.Format(time.RFC3339))
		e.Extra = map[string]any{"starts_at": c.StartsAt}
		return e
	case PhaseOver, PhaseEnded:
		return seatConflict("campaign_closed")
	}
	return nil
}

func seatConflict(code string) error {
	var e *commerce.Error
	switch code {
	case "group_full":
		e = commerce.Conflict(code, "the group has no seat left; join another group or open one")
	case "group_closed":
		e = commerce.Conflict(code, "the group is no longer open")
	case "campaign_closed":
		e = commerce.Conflict(code, "the campaign is not open for new groups")
	case "already_member":
		e = commerce.Conflict(code, "the customer already holds a seat in this group")
		e.Field = "customer_id"
	case "over_limit":
		e = commerce.Conflict(code, "the customer holds as many seats as the campaign allows")
		e.Field = "customer_id"
	default:
		e = commerce.Conflict(code, "the seat could not be taken")
	}
	return e
}

// groupOf returns the id of the group an order belongs to, or "".
func groupOf(o *commerce.Order) string {
	for _, h := range o.Holds {
		switch h.Kind {
		case HoldGroupOpen:
			return GroupIDFor(o.ID)
		case HoldGroupSeat:
			if _, gid, ok := strings.Cut(h.Ref, "/"); ok {
				return gid
			}
		}
	}
	return ""
}

// gate refuses to fulfil an order of a group that is not complete. A
// complete group never changes again, so allowing cannot race.
func (g *Groups) gate(ctx context.Context, o *commerce.Order) error {
	gid := groupOf(o)
	if gid == "" {
		return nil
	}
	gr, err := g.store.GetGroup(ctx, o.ShopID, gid)
	if err != nil {
		return fmt.Errorf("fulfil gate: read group %s: %w", gid, err)
	}
	if gr.Status != GroupComplete {
		e := commerce.Conflict("group_incomplete", "order %s belongs to group %s, which is %s (%d of %d paid); it ships when the group completes",
			o.ID, gid, gr.Status, gr.Paid, gr.Size)
		e.Extra = map[string]any{"group_id": gid, "group_status": gr.Status}
		return e
	}
	return nil
}

// ExpireDue fails the groups whose window closed before they completed:
// every member's pending order is cancelled and every paid one refunded in
// full with its units returned to stock, each with the reason
// group_failed. The sweeper calls it; it is safe to repeat after a crash
// midway (a failed group stays due until every member is settled). It
// returns how many groups it settled.
func (g *Groups) ExpireDue(ctx context.Context, limit int) (int, error) {
	now := g.com.Now().UTC()
	refs, err := g.store.DueGroups(ctx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("expire groups: %w", err)
	}
	n := 0
	for _, r := range refs {
		err := g.store.FailGroup(ctx, r.ShopID, r.ID, now)
		if err != nil && !errors.Is(err, commerce.ErrStale) {
			return n, fmt.Errorf("fail group %s: %w", r.ID, err)
		}
		gr, err := g.store.GetGroup(ctx, r.ShopID, r.ID)
		if err != nil {
			return n, fmt.Errorf("read group %s: %w", r.ID, err)
		}
		if gr.Status != GroupFailed {
			continue // completed at the last moment: the last payment won
		}
		if err := g.settle(ctx, gr); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (g *Groups) settle(ctx context.Context, gr *Group) error {
	for _, m := range gr.MemberList {
		switch m.State {
		case MemberHeld:
			if _, err := g.com.CancelOrder(ctx, gr.ShopID, m.OrderID, ReasonGroupFailed); err != nil {
				if ce, ok := commerce.AsError(err); !ok || ce.Kind != commerce.KindConflict {
					return fmt.Errorf("cancel order %s of failed group %s: %w", m.OrderID, gr.ID, err)
				}
				// Cancelled or timed out meanwhile: its release freed the seat.
			}
		case MemberPaid:
			o, err := g.com.Order(ctx, gr.ShopID, m.OrderID)
			if err != nil {
				return err
			}
			// Everything the member paid comes back, shipping included.
			req := &commerce.RefundRequest{Reason: ReasonGroupFailed}
			var lines money.Money
			for _, l := range o.Lines {
				if left := l.Quantity - l.RefundedQty; left > 0 {
					req.Lines = append(req.Lines, commerce.RefundRequestLine{No: l.No, Quantity: left})
				}
				lines += l.RefundedAmount
			}
			req.Shipping = o.Shipping-o.ShippingDiscount > o.RefundedAmount-lines
			if len(req.Lines) > 0 || req.Shipping {
				if _, err := g.com.RefundOrder(ctx, commerce.Actor{ShopID: gr.ShopID}, m.OrderID, req); err != nil {
					return fmt.Errorf("refund order %s of failed group %s: %w", m.OrderID, gr.ID, err)
				}
			}
			if err := g.store.MemberRefunded(ctx, gr.ShopID, m.OrderID, g.com.Now().UTC()); err != nil {
				return fmt.Errorf("record refund of order %s: %w", m.OrderID, err)
			}
		}
	}
	if err := g.store.SettleGroup(ctx, gr.ShopID, gr.ID, g.com.Now().UTC()); err != nil {
		return fmt.Errorf("settle group %s: %w", gr.ID, err)
	}
	g.log.Info("group failed", "shop", gr.ShopID, "group", gr.ID, "members", gr.Members, "paid", gr.Paid, "size", gr.Size)
	return nil
}
