// Package peak serves the paths that take a big sale's first minutes:
// flash sales (秒杀) and limited coupon grabs (抢券). An attempt is admitted
// by an Engine — in memory for the embedded default, in Redis for scale-out
// — before anything touches the database, so a sold-out answer costs almost
// nothing; an admitted attempt becomes a durable order (or coupon) before
// the client is told yes. The database stays the arbiter: every reservation
// is also a conditional update of the sale's counters in the order's own
// transaction, so no engine fault can oversell.
package peak

import (
	"context"
	"fmt"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
	"github.com/carnivalhq/carnival/internal/peak/guard"
)

// Sale states as stored. Whether a scheduled sale is upcoming, live or over
// follows from its window and the clock (see Sale.Phase).
const (
	SaleScheduled = "scheduled"
	SaleEnded     = "ended" // its unsold allocation went back to the SKUs
)

// Phases a sale is in at a given time.
const (
	PhaseUpcoming = "upcoming"
	PhaseLive     = "live"
	PhaseOver     = "over" // the window has passed; ending returns the stock
	PhaseEnded    = "ended"
)

// Limits on sales.
const (
	MaxItems              = 100
	DefaultPaymentTimeout = 15 * time.Minute
	MaxPaymentTimeout     = 24 * time.Hour
	MinPaymentTimeout     = time.Minute
	MaxPerCustomer        = 1000
	MaxAllocation         = 10_000_000
)

// Sale is a flash-sale session: a window and the items on sale in it.
type Sale struct {
	ID                    string    `json:"id"`
	ShopID                string    `json:"-"`
	Name                  string    `json:"name"`
	Status                string    `json:"status"`
	Phase                 string    `json:"phase"`
	StartsAt              time.Time `json:"starts_at"`
	EndsAt                time.Time `json:"ends_at"`
	PaymentTimeoutSeconds int64     `json:"payment_timeout_seconds"`
	// Guard is the sale's own anti-abuse policy; nil follows the shop's.
	Guard     *guard.PolicySpec `json:"guard,omitempty"`
	Items     []SaleItem        `json:"items"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	EndedAt   *time.Time        `json:"ended_at,omitempty"`
}

// SaleItem is one SKU in a sale with its flash price and allocated stock.
// Always Allocated = Remaining + Reserved + Sold + Returned.
type SaleItem struct {
	SKUID            string      `json:"sku_id"`
	FlashPrice       money.Money `json:"flash_price"`
	PerCustomerLimit int64       `json:"per_customer_limit"`
	Allocated        int64       `json:"allocated"`
	Remaining        int64       `json:"remaining"`
	Reserved         int64       `json:"reserved"`
	Sold             int64       `json:"sold"`
	Returned         int64       `json:"returned"`
}

// PhaseAt tells where the sale stands at now.
func (s *Sale) PhaseAt(now time.Time) string {
	switch {
	case s.Status == SaleEnded:
		return PhaseEnded
	case now.Before(s.StartsAt):
		return PhaseUpcoming
	case now.Before(s.EndsAt):
		return PhaseLive
	}
	return PhaseOver
}

// Item returns the sale's item for a SKU.
func (s *Sale) Item(skuID string) (*SaleItem, bool) {
	for i := range s.Items {
		if s.Items[i].SKUID == skuID {
			return &s.Items[i], true
		}
	}
	return nil, false
}

// PaymentTimeout is how long a buyer has to pay.
func (s *Sale) PaymentTimeout() time.Duration {
	return time.Duration(s.PaymentTimeoutSeconds) * time.Second
}

// ItemKey names an item in engines and in usage counters.
func ItemKey(saleID, skuID string) string { return saleID + "/" + skuID }

// SaleInput creates a sale.
type SaleInput struct {
	Name                  string            `json:"name" maxLength:"200"`
	StartsAt              time.Time         `json:"starts_at"`
	EndsAt                time.Time         `json:"ends_at"`
	PaymentTimeoutSeconds int64             `json:"payment_timeout_seconds,omitempty" doc:"Default 900 (15 minutes)"`
	Guard                 *guard.PolicySpec `json:"guard,omitempty" doc:"Rate limits and blocking for this sale's buys; omitted = the shop's policy"`
	Items                 []SaleItemInput   `json:"items"`
}

// SaleItemInput is one item of a SaleInput.
type SaleItemInput struct {
	SKUID            string      `json:"sku_id"`
	FlashPrice       money.Money `json:"flash_price" doc:"Unit price in fen for units bought in the sale"`
	Allocated        int64       `json:"allocated" doc:"Units taken from the SKU's stock for the sale"`
	PerCustomerLimit int64       `json:"per_customer_limit,omitempty" doc:"Units one customer may buy in the sale; default 1"`
}

// Validate checks the input and fills defaults.
func (in *SaleInput) Validate(now time.Time) error {
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	if in.StartsAt.IsZero() {
		return commerce.Invalid("starts_at", "required", "starts_at is required")
	}
	if !in.EndsAt.After(in.StartsAt) {
		return commerce.Invalid("ends_at", "window_order", "ends_at must be after starts_at")
	}
	if !in.EndsAt.After(now) {
		return commerce.Invalid("ends_at", "in_past", "the sale would already be over")
	}
	if in.PaymentTimeoutSeconds == 0 {
		in.PaymentTimeoutSeconds = int64(DefaultPaymentTimeout / time.Second)
	}
	if t := time.Duration(in.PaymentTimeoutSeconds) * time.Second; t < MinPaymentTimeout || t > MaxPaymentTimeout {
		return commerce.Invalid("payment_timeout_seconds", "out_of_range", "payment_timeout_seconds must be %d to %d",
			int64(MinPaymentTimeout/time.Second), int64(MaxPaymentTimeout/time.Second))
	}
	if in.Guard != nil {
		if err := in.Guard.Policy().Validate(); err != nil {
			if ce, ok := commerce.AsError(err); ok {
				ce2 := *ce
				ce2.Field = "guard." + ce.Field
				return &ce2
			}
			return err
		}
	}
	if len(in.Items) == 0 {
		return commerce.Invalid("items", "required", "a sale needs at least one item")
	}
	if len(in.Items) > MaxItems {
		return commerce.Invalid("items", "too_many", "a sale has at most %d items", MaxItems)
	}
	seen := map[string]bool{}
	for i := range in.Items {
		it := &in.Items[i]
		f := fmt.Sprintf("items[%d]", i)
		if err := commerce.CheckText(f+".sku_id", it.SKUID, true, commerce.MaxCodeLen); err != nil {
			return err
		}
		if seen[it.SKUID] {
			return commerce.Invalid(f+".sku_id", "duplicate", "SKU %s is in the sale twice", it.SKUID)
		}
		seen[it.SKUID] = true
		if it.FlashPrice <= 0 || it.FlashPrice > money.MaxAmount {
			return commerce.Invalid(f+".flash_price", "out_of_range", "flash_price must be 1 to %d fen", money.MaxAmount)
		}
		if it.Allocated < 1 || it.Allocated > MaxAllocation {
			return commerce.Invalid(f+".allocated", "out_of_range", "allocated must be 1 to %d", MaxAllocation)
		}
		if it.PerCustomerLimit == 0 {
			it.PerCustomerLimit = 1
		}
		if it.PerCustomerLimit < 1 || it.PerCustomerLimit > MaxPerCustomer {
			return commerce.Invalid(f+".per_customer_limit", "out_of_range", "per_customer_limit must be 1 to %d", MaxPerCustomer)
		}
	}
	return nil
}

// Reservation is one admitted buy, as recorded with its order.
type Reservation struct {
	SaleID     string    `json:"sale_id"`
	SKUID      string    `json:"sku_id"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Quantity   int64     `json:"quantity"`
	IdemKey    string    `json:"-"`
	State      string    `json:"state"` // held, committed, released
	CreatedAt  time.Time `json:"created_at"`
}

// Reminder asks to be told before a sale starts.
type Reminder struct {
	SaleID     string    `json:"sale_id"`
	CustomerID string    `json:"customer_id"`
	RemindAt   time.Time `json:"remind_at"`
	CreatedAt  time.Time `json:"created_at"`
}

// Store is what the peak paths need from storage.
type Store interface {
	// CreateSale writes the sale and moves each item's allocation out of
	// its SKU's free stock, in one transaction (OutOfStockError when a SKU
	// has too little).
	CreateSale(ctx context.Context, s *Sale, audit *commerce.AuditEntry) error
	GetSale(ctx context.Context, shopID, id string) (*Sale, error)
	ListSales(ctx context.Context, shopID string, p commerce.Page) ([]Sale, error)
	// EndSale marks the sale ended and returns every item's remaining
	// units to its SKU; later releases go straight back to the SKU.
	// ErrStale when it has already ended.
	EndSale(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	// DueSales lists scheduled sales of any shop whose window closed by at.
	DueSales(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error)
	// Reservations lists a sale's reservations (held and committed ones
	// with their idempotency keys, for priming an engine).
	Reservations(ctx context.Context, shopID, saleID string) ([]Reservation, error)
	AddReminder(ctx context.Context, shopID string, r Reminder) error
	ListReminders(ctx context.Context, shopID, saleID string, p commerce.Page) ([]Reminder, error)
	// LiveSales lists the sales of every shop that are not ended, to prime
	// engines at start.
	LiveSales(ctx context.Context) ([]Sale, error)
}
