package commerce

import (
	"time"

	"github.com/carnivalhq/carnival/internal/money"
)

// Presales (预售, 定金膨胀) are run by internal/peak; what commerce owns is
// how their two orders look. A deposit order pays the deposit D per unit
// and holds the units; a balance order, placed in the balance window, is
// priced like any order and then credited the deposit's value V per unit;
// a deposit whose balance is not paid in the window is forfeited.

// Hold kinds of presale orders.
const (
	// HoldPresale: a deposit order's units, taken from the SKU's free stock
	// into Held. Paying the deposit leaves them held (they are not sold
	// yet); the paid balance order sells them, a forfeit frees them.
	HoldPresale = "presale"
	// HoldPresaleBalance: a balance order's claim on its deposit (Ref is
	// the deposit order's id); it replaces the stock hold for those units.
	HoldPresaleBalance = "presale_balance"
)

// Order states a deposit order takes after payment, so that no refund,
// fulfilment or cancellation meant for ordinary orders can touch it.
const (
	OrderDepositPaid      = "deposit_paid"      // the deposit is paid; the balance is awaited
	OrderDepositSettled   = "deposit_settled"   // the balance order was paid; the deposit was credited to it
	OrderDepositForfeited = "deposit_forfeited" // the balance was not paid in the window (or the customer cancelled): the deposit is kept, the units freed
)

// Deposit states, as PresaleLink.State shows them.
const (
	DepositPending       = "pending_payment"
	DepositPaid          = "deposit_paid"
	DepositBalancePlaced = "balance_placed"
	DepositSettled       = "settled"
	DepositForfeited     = "forfeited"
	DepositReleased      = "released" // never paid: released like any unpaid order
)

// PresaleLink is what a deposit or balance order shows of its presale.
type PresaleLink struct {
	Role            string      `json:"role" enum:"deposit,balance" doc:"Which of the presale's two orders this is"`
	PresaleID       string      `json:"presale_id"`
	DepositOrderID  string      `json:"deposit_order_id"`
	BalanceOrderID  string      `json:"balance_order_id,omitempty" doc:"The balance order now placed against the deposit, if any"`
	BalanceStatus   string      `json:"balance_status,omitempty"`
	SKUID           string      `json:"sku_id"`
	Quantity        int64       `json:"quantity"`
	Deposit         money.Money `json:"deposit" doc:"Deposit per unit, fen"`
	Value           money.Money `json:"value" doc:"What a unit's deposit is worth off the balance order, fen"`
	DepositTotal    money.Money `json:"deposit_total"`
	CreditTotal     money.Money `json:"credit_total"`
	BalanceStartsAt time.Time   `json:"balance_starts_at"`
	BalanceEndsAt   time.Time   `json:"balance_ends_at"`
	State           string      `json:"state" enum:"pending_payment,deposit_paid,balance_placed,settled,forfeited,released"`
	PaidAt          *time.Time  `json:"paid_at,omitempty"`
	SettledAt       *time.Time  `json:"settled_at,omitempty"`
	ForfeitedAt     *time.Time  `json:"forfeited_at,omitempty"`
	ForfeitReason   string      `json:"forfeit_reason,omitempty" enum:"balance_not_paid,cancelled_by_customer,"`
	Terms           string      `json:"terms"`
}

// EnginePricer is the pricer orders are placed with: the promotion engine
// when one is attached, list prices otherwise.
func (s *Service) EnginePricer() Pricer {
	if s.pricer == nil {
		return ListPricer{}
	}
	return s.pricer
}

// ApplyDepositCredit credits up to credit fen to p's lines as a deposit
// credit, apportioned by largest remainder in proportion to each line's
// payable amount (ties: earlier line), so the parts sum exactly and a later
// refund of a line refunds exactly its payable. No line goes below zero:
// when the lines are worth less than credit, the credit is capped at their
// total. It returns what was credited and what the cap left out.
func ApplyDepositCredit(p *Priced, credit money.Money) (applied, capped money.Money) {
	weights := make([]money.Money, len(p.Lines))
	var total money.Money
	for i, l := range p.Lines {
		if l.Payable > 0 {
			weights[i] = l.Payable
			total += l.Payable
		}
	}
	applied = min(credit, total)
	if applied <= 0 {
		return 0, credit
	}
	parts := money.Allocate(applied, weights)
	for i := range p.Lines {
		p.Lines[i].DepositCredit += parts[i]
		p.Lines[i].Payable -= parts[i]
	}
	p.DepositCredit += applied
	p.Payable -= applied
	return applied, credit - applied
}
