package peak

import (
	"context"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Group buys (拼团): a campaign sells one SKU at a group price to groups of
// N customers. A customer opens a group (and is its first member) or joins
// an open one; each membership is an order at the group price holding one
// seat of the group and one unit of the SKU's free stock. When the Nth
// member pays, the group completes and its orders may be fulfilled; a group
// whose window closes first fails, and every member's order is cancelled
// or refunded. The seat count is a conditional update of the group's row
// in the order's own transaction, so a group never has more than N members.

// Hold kinds of group-buy orders. The opener's order holds group_open (ref
// the campaign id: the group is created in the order's transaction, its id
// derived from the order's); a joiner's holds group_seat (ref
// "campaign/group"). Both hold one unit of the SKU's free stock too.
const (
	HoldGroupOpen = "group_open"
	HoldGroupSeat = "group_seat"
)

// Campaign states as stored.
const (
	CampaignActive = "active"
	CampaignEnded  = "ended" // no new groups; open groups run out their window
)

// Group states.
const (
	GroupOpen     = "open"
	GroupComplete = "complete" // every seat paid: the orders proceed
	GroupFailed   = "failed"   // the window closed first: every order is cancelled or refunded
)

// Member states.
const (
	MemberHeld     = "held"     // order placed, not paid
	MemberPaid     = "paid"     // paid; waiting for the group or complete
	MemberReleased = "released" // order cancelled or timed out: the seat is free
	MemberRefunded = "refunded" // the group failed and the order was refunded
)

// ReasonGroupFailed is the cancel and refund reason of a failed group's
// orders.
const ReasonGroupFailed = "group_failed"

// Limits on group buys.
const (
	MinGroupSize       = 2
	MaxGroupSize       = 100
	MinGroupWindow     = time.Minute
	MaxGroupWindow     = 30 * 24 * time.Hour
	DefaultGroupWindow = 24 * time.Hour
)

// GroupCampaign is a group-buy campaign of one SKU.
type GroupCampaign struct {
	ID                    string      `json:"id"`
	ShopID                string      `json:"-"`
	Name                  string      `json:"name"`
	SKUID                 string      `json:"sku_id"`
	ListPrice             money.Money `json:"list_price" doc:"The SKU's list price when the campaign was created, fen"`
	GroupPrice            money.Money `json:"group_price" doc:"Unit price for members, fen"`
	GroupSize             int64       `json:"group_size"`
	StartsAt              time.Time   `json:"starts_at"`
	EndsAt                time.Time   `json:"ends_at"`
	GroupWindowSeconds    int64       `json:"group_window_seconds" doc:"How long a group stays open after it is opened (never beyond ends_at)"`
	PerCustomerLimit      int64       `json:"per_customer_limit" doc:"Seats one customer may hold in the campaign"`
	PaymentTimeoutSeconds int64       `json:"payment_timeout_seconds"`
	Status                string      `json:"status"`
	Phase                 string      `json:"phase"`
	GroupsOpened          int64       `json:"groups_opened"`
	CreatedAt             time.Time   `json:"created_at"`
	UpdatedAt             time.Time   `json:"updated_at"`
	EndedAt               *time.Time  `json:"ended_at,omitempty"`
}

// PhaseAt tells where the campaign stands at now (upcoming, live, over,
// ended).
func (c *GroupCampaign) PhaseAt(now time.Time) string {
	switch {
	case c.Status == CampaignEnded:
		return PhaseEnded
	case now.Before(c.StartsAt):
		return PhaseUpcoming
	case now.Before(c.EndsAt):
		return PhaseLive
	}
	return PhaseOver
}

// GroupExpiry is when a group opened at t closes: the group window later,
// never beyond the campaign's end.
func (c *GroupCampaign) GroupExpiry(t time.Time) time.Time {
	e := t.Add(time.Duration(c.GroupWindowSeconds) * time.Second)
	if e.After(c.EndsAt) {
		e = c.EndsAt
	}
	return e
}

// PaymentTimeout is how long a member has to pay.
func (c *GroupCampaign) PaymentTimeout() time.Duration {
	return time.Duration(c.PaymentTimeoutSeconds) * time.Second
}

// GroupCampaignInput creates a campaign.
type GroupCampaignInput struct {
	Name                  string      `json:"name" maxLength:"200"`
	SKUID                 string      `json:"sku_id" maxLength:"64"`
	GroupPrice            money.Money `json:"group_price" doc:"Unit price in fen for members; below the list price"`
	GroupSize             int64       `json:"group_size" doc:"Members a group needs, 2 to 100"`
	StartsAt              time.Time   `json:"starts_at"`
	EndsAt                time.Time   `json:"ends_at"`
	GroupWindowSeconds    int64       `json:"group_window_seconds,omitempty" doc:"How long a group stays open; default 86400 (24 h), never beyond ends_at"`
	PerCustomerLimit      int64       `json:"per_customer_limit,omitempty" doc:"Seats one customer may hold in the campaign; default 1"`
	PaymentTimeoutSeconds int64       `json:"payment_timeout_seconds,omitempty" doc:"How long a member has to pay; default 900 (15 minutes)"`
}

// Validate checks the input and fills defaults.
func (in *GroupCampaignInput) Validate(now time.Time) error {
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	if err := commerce.CheckText("sku_id", in.SKUID, true, commerce.MaxCodeLen); err != nil {
		return err
	}
	if in.GroupPrice <= 0 || in.GroupPrice > money.MaxAmount {
		return commerce.Invalid("group_price", "out_of_range", "group_price must be 1 to %d fen", money.MaxAmount)
	}
	if in.GroupSize < MinGroupSize || in.GroupSize > MaxGroupSize {
		return commerce.Invalid("group_size", "out_of_range", "group_size must be %d to %d", MinGroupSize, MaxGroupSize)
	}
	if in.StartsAt.IsZero() {
		return commerce.Invalid("starts_at", "required", "starts_at is required")
	}
	if in.EndsAt.IsZero() {
		return commerce.Invalid("ends_at", "required", "ends_at is required")
	}
	if !in.EndsAt.After(in.StartsAt) {
		return commerce.Invalid("ends_at", "window_order", "ends_at must be after starts_at")
	}
	if !in.EndsAt.After(now) {
		return commerce.Invalid("ends_at", "in_past", "the campaign would already be over")
	}
	if in.GroupWindowSeconds == 0 {
		in.GroupWindowSeconds = int64(DefaultGroupWindow / time.Second)
	}
	if w := time.Duration(in.GroupWindowSeconds) * time.Second; w < MinGroupWindow || w > MaxGroupWindow {
		return commerce.Invalid("group_window_seconds", "out_of_range", "group_window_seconds must be %d to %d",
			int64(MinGroupWindow/time.Second), int64(MaxGroupWindow/time.Second))
	}
	if in.PerCustomerLimit == 0 {
		in.PerCustomerLimit = 1
	}
	if in.PerCustomerLimit < 1 || in.PerCustomerLimit > MaxPerCustomer {
		return commerce.Invalid("per_customer_limit", "out_of_range", "per_customer_limit must be 1 to %d", MaxPerCustomer)
	}
	if in.PaymentTimeoutSeconds == 0 {
		in.PaymentTimeoutSeconds = int64(DefaultPaymentTimeout / time.Second)
	}
	if t := time.Duration(in.PaymentTimeoutSeconds) * time.Second; t < MinPaymentTimeout || t > MaxPaymentTimeout {
		return commerce.Invalid("payment_timeout_seconds", "out_of_range", "payment_timeout_seconds must be %d to %d",
			int64(MinPaymentTimeout/time.Second), int64(MaxPaymentTimeout/time.Second))
	}
	return nil
}

// Group is one group of a campaign. Members counts held and paid seats;
// always 0 ≤ Paid ≤ Members ≤ Size.
type Group struct {
	ID          string        `json:"id"`
	ShopID      string        `json:"-"`
	CampaignID  string        `json:"campaign_id"`
	SKUID       string        `json:"sku_id"`
	Size        int64         `json:"size"`
	Members     int64         `json:"members" doc:"Seats taken (paid or waiting for payment)"`
	Paid        int64         `json:"paid" doc:"Seats paid"`
	SeatsLeft   int64         `json:"seats_left"`
	Status      string        `json:"status" enum:"open,complete,failed"`
	OpenedAt    time.Time     `json:"opened_at"`
	ExpiresAt   time.Time     `json:"expires_at"`
	CompletedAt *time.Time    `json:"completed_at,omitempty"`
	FailedAt    *time.Time    `json:"failed_at,omitempty"`
	SettledAt   *time.Time    `json:"-"`
	MemberList  []GroupMember `json:"member_list,omitempty" doc:"The members, oldest first, with personal fields masked"`
}

// GroupMember is one seat's history: who, which order, in what state.
type GroupMember struct {
	OrderID    string     `json:"order_id,omitempty" doc:"Omitted in storefront views of other customers' seats"`
	CustomerID string     `json:"customer_id,omitempty" doc:"Omitted in storefront views of other customers' seats"`
	Name       string     `json:"name" doc:"Masked: 张**"`
	Leader     bool       `json:"leader,omitempty" doc:"This member opened the group (团长)"`
	State      string     `json:"state" enum:"held,paid,released,refunded"`
	Reason     string     `json:"reason,omitempty" doc:"Why the seat was released or refunded (payment_timeout, cancelled, group_failed)"`
	JoinedAt   time.Time  `json:"joined_at"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
}

// Masked returns the group as another customer may see it: names masked,
// order and customer ids left out.
func (g Group) Masked() Group {
	out := g
	out.MemberList = make([]GroupMember, len(g.MemberList))
	for i, m := range g.MemberList {
		m.Name = maskName(m.Name)
		m.OrderID, m.CustomerID = "", ""
		out.MemberList[i] = m
	}
	return out
}

func maskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return s
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// GroupIDFor is the id of the group an opener's order opens: the order's
// id with the group prefix, so a replayed open finds the same group.
func GroupIDFor(orderID string) string {
	_, rest, _ := strings.Cut(orderID, "_")
	return "grp_" + rest
}

// SeatError is why a group-buy hold could not be taken; the store returns
// it from the order's transaction and the service turns it into a
// conflict.
type SeatError struct {
	Code string // group_full, group_closed, campaign_closed, already_member, over_limit
}

func (e *SeatError) Error() string { return "group seat refused: " + e.Code }

// GroupStore is what group buys need from storage. The seat holds
// themselves are taken, committed and released by the store inside the
// order's transaction (hold kinds HoldGroupOpen and HoldGroupSeat).
type GroupStore interface {
	CreateGroupCampaign(ctx context.Context, c *GroupCampaign, audit *commerce.AuditEntry) error
	GetGroupCampaign(ctx context.Context, shopID, id string) (*GroupCampaign, error)
	ListGroupCampaigns(ctx context.Context, shopID string, p commerce.Page) ([]GroupCampaign, error)
	// EndGroupCampaign stops new groups; ErrStale when already ended.
	EndGroupCampaign(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	// GetGroup reads a group with its members (names unmasked).
	GetGroup(ctx context.Context, shopID, id string) (*Group, error)
	// OpenGroups lists a campaign's groups that are open at 'at' and have
	// a seat left, by id.
	OpenGroups(ctx context.Context, shopID, campaignID string, at time.Time, p commerce.Page) ([]Group, error)
	// DueGroups lists groups of any shop that are open past their expiry
	// at 'at', or failed and not yet settled.
	DueGroups(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error)
	// FailGroup marks an open group whose expiry has passed at 'at' failed;
	// ErrStale when it is not open or not yet expired.
	FailGroup(ctx context.Context, shopID, id string, at time.Time) error
	// MemberRefunded records that a failed group's paid member was
	// refunded: the seat and the customer's count are freed. No-op unless
	// the member is paid.
	MemberRefunded(ctx context.Context, shopID, orderID string, at time.Time) error
	// SettleGroup records that every member of a failed group is settled.
	SettleGroup(ctx context.Context, shopID, id string, at time.Time) error
}
