package peak

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
	"github.com/carnivalhq/carnival/internal/money"
)

// Presales (预售, 定金膨胀): a customer pays a deposit D per unit in the
// deposit window, which holds the units; in the balance window the balance
// order is priced like any order and credited the deposit's value V per
// unit (V ≥ D: the deposit "swells"); a balance not paid by the end of the
// balance window forfeits the deposit and frees the units.
//
// Unlike flash sales, presales take no in-memory admission: deposits come
// over days, not in the first seconds, and every limit (the quantity cap,
// the per-customer limit, the windows) is a conditional update in the
// deposit order's own transaction.

// Presale states as stored; the phase follows from the windows and the
// clock (see Presale.PhaseAt).
const (
	PresaleScheduled = "scheduled"
	PresaleEnded     = "ended" // no more deposits; paid deposits keep their balance window
)

// Phases a presale is in at a given time.
const (
	PresaleUpcoming = "upcoming"
	PresaleDeposit  = "deposit"  // deposits are taken
	PresaleWaiting  = "waiting"  // between the windows
	PresaleBalance  = "balance"  // balances are taken
	PresaleOver     = "over"     // both windows have passed
	PresaleStopped  = "ended"    // ended by an operator: deposits refused, balances still taken in their window
	maxTermsLen     = 4000       // characters of terms text
	maxPresaleItems = 100        // SKUs in one presale
	maxPresaleCap   = 10_000_000 // units
)

// Forfeit reasons.
const (
	ForfeitBalanceNotPaid      = "balance_not_paid"
	ForfeitCancelledByCustomer = "cancelled_by_customer"
)

// Errors a presale's hold handlers report from the order's transaction;
// the service turns them into domain errors.
var (
	ErrPresaleClosed   = errors.New("presale is not taking deposits")
	ErrPresaleNotOpen  = errors.New("deposit window has not opened")
	ErrBalanceNotOpen  = errors.New("balance window has not opened")
	ErrBalanceClosed   = errors.New("balance window has closed")
	ErrDepositNotReady = errors.New("deposit is not awaiting its balance")
)

// Presale is a presale: its windows, its SKUs with deposit and value, its
// limits and its terms.
type Presale struct {
	ID                   string        `json:"id"`
	ShopID               string        `json:"-"`
	Name                 string        `json:"name"`
	Status               string        `json:"status" enum:"scheduled,ended"`
	Phase                string        `json:"phase" enum:"upcoming,deposit,waiting,balance,over,ended"`
	DepositStartsAt      time.Time     `json:"deposit_starts_at"`
	DepositEndsAt        time.Time     `json:"deposit_ends_at"`
	BalanceStartsAt      time.Time     `json:"balance_starts_at"`
	BalanceEndsAt        time.Time     `json:"balance_ends_at"`
	QuantityCap          int64         `json:"quantity_cap" doc:"Units that may be under deposit or sold in the presale; 0 = no cap"`
	Taken                int64         `json:"taken" doc:"Units under a live deposit or settled"`
	PerCustomerLimit     int64         `json:"per_customer_limit"`
	AllowOrderActivities bool          `json:"allow_order_activities" doc:"Whether balance orders combine with order-level activities (满减, 满折 …)"`
	AllowCoupons         bool          `json:"allow_coupons" doc:"Whether balance orders may use coupons"`
	Terms                string        `json:"terms"`
	Items                []PresaleItem `json:"items"`
	CreatedAt            time.Time     `json:"created_at"`
	UpdatedAt            time.Time     `json:"updated_at"`
	EndedAt              *time.Time    `json:"ended_at,omitempty"`
}

// PresaleItem is one SKU of a presale with its deposit and value per unit
// and its live counters: Held units under a live deposit, Sold units whose
// balance was paid, Forfeited units freed by forfeits.
type PresaleItem struct {
	SKUID     string      `json:"sku_id"`
	Deposit   money.Money `json:"deposit"`
	Value     money.Money `json:"value"`
	Held      int64       `json:"held"`
	Sold      int64       `json:"sold"`
	Forfeited int64       `json:"forfeited"`
}

// PhaseAt tells where the presale stands at now.
func (p *Presale) PhaseAt(now time.Time) string {
	switch {
	case p.Status == PresaleEnded:
		return PresaleStopped
	case now.Before(p.DepositStartsAt):
		return PresaleUpcoming
	case now.Before(p.DepositEndsAt):
		return PresaleDeposit
	case now.Before(p.BalanceStartsAt):
		return PresaleWaiting
	case now.Before(p.BalanceEndsAt):
		return PresaleBalance
	}
	return PresaleOver
}

// Item returns the presale's item for a SKU.
func (p *Presale) Item(skuID string) (*PresaleItem, bool) {
	for i := range p.Items {
		if p.Items[i].SKUID == skuID {
			return &p.Items[i], true
		}
	}
	return nil, false
}

// PresaleRef names a presale's SKU in a deposit hold.
func PresaleRef(presaleID, skuID string) string { return presaleID + "/" + skuID }

// PresaleInput creates a presale.
type PresaleInput struct {
	Name                 string             `json:"name" maxLength:"200"`
	DepositStartsAt      time.Time          `json:"deposit_starts_at"`
	DepositEndsAt        time.Time          `json:"deposit_ends_at"`
	BalanceStartsAt      time.Time          `json:"balance_starts_at" doc:"At or after deposit_ends_at"`
	BalanceEndsAt        time.Time          `json:"balance_ends_at"`
	QuantityCap          int64              `json:"quantity_cap,omitempty" doc:"Units the presale may take deposits for in all; 0 = no cap"`
	PerCustomerLimit     int64              `json:"per_customer_limit,omitempty" doc:"Units one customer may put a deposit on; default 1"`
	AllowOrderActivities bool               `json:"allow_order_activities,omitempty"`
	AllowCoupons         bool               `json:"allow_coupons,omitempty"`
	Terms                string             `json:"terms,omitempty" maxLength:"4000" doc:"Default: generated, in Chinese and English, stating that the deposit is forfeited if the balance is not paid in the balance window"`
	Items                []PresaleItemInput `json:"items"`
}

// PresaleItemInput is one SKU of a PresaleInput.
type PresaleItemInput struct {
	SKUID   string      `json:"sku_id"`
	Deposit money.Money `json:"deposit" doc:"Deposit per unit, fen"`
	Value   money.Money `json:"value" doc:"What the deposit is worth off the balance order per unit, fen: at least the deposit, below the list price"`
}

// Validate checks what the input says on its own and fills defaults.
func (in *PresaleInput) Validate(now time.Time) error {
	if err := commerce.CheckText("name", in.Name, true, commerce.MaxNameLen); err != nil {
		return err
	}
	if in.DepositStartsAt.IsZero() {
		return commerce.Invalid("deposit_starts_at", "required", "deposit_starts_at is required")
	}
	if !in.DepositEndsAt.After(in.DepositStartsAt) {
		return commerce.Invalid("deposit_ends_at", "window_order", "deposit_ends_at must be after deposit_starts_at")
	}
	if in.BalanceStartsAt.IsZero() {
		return commerce.Invalid("balance_starts_at", "required", "balance_starts_at is required")
	}
	if in.BalanceStartsAt.Before(in.DepositEndsAt) {
		return commerce.Invalid("balance_starts_at", "window_order", "the balance window starts at or after the deposit window ends")
	}
	if !in.BalanceEndsAt.After(in.BalanceStartsAt) {
		return commerce.Invalid("balance_ends_at", "window_order", "balance_ends_at must be after balance_starts_at")
	}
	if !in.DepositEndsAt.After(now) {
		return commerce.Invalid("deposit_ends_at", "in_past", "the deposit window would already be over")
	}
	if in.QuantityCap < 0 || in.QuantityCap > maxPresaleCap {
		return commerce.Invalid("quantity_cap", "out_of_range", "quantity_cap must be 0 (no cap) to %d", maxPresaleCap)
	}
	if in.PerCustomerLimit == 0 {
		in.PerCustomerLimit = 1
	}
	if in.PerCustomerLimit < 1 || in.PerCustomerLimit > MaxPerCustomer {
		return commerce.Invalid("per_customer_limit", "out_of_range", "per_customer_limit must be 1 to %d", MaxPerCustomer)
	}
	if err := commerce.CheckText("terms", in.Terms, false, maxTermsLen); err != nil {
		return err
	}
	if in.Terms != "" && strings.TrimSpace(in.Terms) == "" {
		return commerce.Invalid("terms", "required", "terms cannot be blank; leave them out for the generated text")
	}
	if len(in.Items) == 0 {
		return commerce.Invalid("items", "required", "a presale needs at least one SKU")
	}
	if len(in.Items) > maxPresaleItems {
		return commerce.Invalid("items", "too_many", "a presale has at most %d SKUs", maxPresaleItems)
	}
	seen := map[string]bool{}
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		if err := commerce.CheckText(f+".sku_id", it.SKUID, true, commerce.MaxCodeLen); err != nil {
			return err
		}
		if seen[it.SKUID] {
			return commerce.Invalid(f+".sku_id", "duplicate", "SKU %s is in the presale twice", it.SKUID)
		}
		seen[it.SKUID] = true
		if it.Deposit <= 0 || it.Deposit > money.MaxAmount {
			return commerce.Invalid(f+".deposit", "out_of_range", "deposit must be 1 to %d fen", money.MaxAmount)
		}
		if it.Value < it.Deposit || it.Value > money.MaxAmount {
			return commerce.Invalid(f+".value", "below_deposit", "value must be at least the deposit (%d fen)", it.Deposit)
		}
	}
	return nil
}

// DefaultTerms is the terms text a presale gets unless the operator writes
// its own: what the deposit is worth, when the balance is due, and that the
// deposit is forfeited if the balance is not paid in the balance window.
func DefaultTerms(p *Presale, loc *time.Location) string {
	const layout = "2006-01-02 15:04 MST"
	bs, be := p.BalanceStartsAt.In(loc).Format(layout), p.BalanceEndsAt.In(loc).Format(layout)
	var zh, en []string
	for _, it := range p.Items {
		zh = append(zh, fmt.Sprintf("定金 ¥%s 抵 ¥%s", yuan(it.Deposit), yuan(it.Value)))
		en = append(en, fmt.Sprintf("a deposit of ¥%s is worth ¥%s", yuan(it.Deposit), yuan(it.Value)))
	}
	return fmt.Sprintf("预售规则：%s（每件）。尾款须在 %s 至 %s 之间支付；逾期未付尾款，定金不退，商品释放。已付定金后主动取消，定金同样不退。\n"+
		"Presale terms: %s (per unit) off the balance. The balance must be paid between %s and %s; "+
		"if it is not paid in that window the deposit is forfeited (not refunded) and the units are released. "+
		"Cancelling after paying the deposit also forfeits it.",
		strings.Join(zh, "；"), bs, be, strings.Join(en, "; "), bs, be)
}

// PresaleStore is what presales need from storage.
type PresaleStore interface {
	CreatePresale(ctx context.Context, p *Presale, audit *commerce.AuditEntry) error
	GetPresale(ctx context.Context, shopID, id string) (*Presale, error)
	ListPresales(ctx context.Context, shopID string, p commerce.Page) ([]Presale, error)
	// EndPresale stops deposits; ErrStale when it has already ended.
	EndPresale(ctx context.Context, shopID, id string, at time.Time, audit *commerce.AuditEntry) error
	// PresaleDeposit reads a deposit as its order shows it; ErrNotFound
	// when orderID is not a deposit order.
	PresaleDeposit(ctx context.Context, shopID, orderID string) (*commerce.PresaleLink, error)
	// ForfeitDeposit forfeits a paid deposit that has no balance order
	// placed: the deposit order becomes deposit_forfeited and its units go
	// back to free stock. With onlyDue it does so only if the balance
	// window closed by at. ErrStale when the condition does not hold.
	ForfeitDeposit(ctx context.Context, shopID, orderID, reason string, at time.Time, onlyDue bool) error
	// DueDeposits lists paid deposits of any shop, with no balance order
	// placed, whose balance window closed by at.
	DueDeposits(ctx context.Context, at time.Time, limit int) ([]commerce.OrderRef, error)
}

// yuan formats fen as yuan with two decimals, for terms text.
func yuan(fen money.Money) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}
