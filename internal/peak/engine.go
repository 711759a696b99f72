package peak

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Admission errors. The service turns them into problem+json answers.
var (
	ErrSoldOut     = errors.New("sold out")
	ErrOverLimit   = errors.New("over the per-customer limit")
	ErrInProgress  = errors.New("a request with this idempotency key is in progress")
	ErrUnknownItem = errors.New("item not primed")
)

// Attempt asks an Engine to admit Qty units of Item for Customer, within
// Limit units per customer, under an optional idempotency Key.
type Attempt struct {
	Item     string
	Customer string
	Qty      int64
	Limit    int64
	Key      string
	// OrderID is the order the admission will become.
	OrderID string
	// Shop owns the sale. Engines that keep a trace of admissions record
	// it, so a reconciler can look the order up after a crash.
	Shop string
}

// Ticket is an admitted attempt. Replay means the Key was admitted and
// confirmed before: nothing was taken now, and OrderID is the first order.
type Ticket struct {
	Attempt
	Replay bool
}

// Engine admits attempts before they reach the database. Implementations
// must never admit more than the primed units nor more than Limit per
// customer, under any concurrency; the database checks again, so an
// engine that admits too little only loses sales, never oversells.
type Engine interface {
	// Prime sets an item's state from the durable record: units left,
	// each customer's units held or bought, and the keys already used
	// (key → order id). Priming an item again replaces its state.
	Prime(ctx context.Context, item string, remaining int64, perCustomer map[string]int64, keys map[string]string) error
	// Admit takes the units or says why not (ErrSoldOut, ErrOverLimit,
	// ErrInProgress, ErrUnknownItem).
	Admit(ctx context.Context, a Attempt) (Ticket, error)
	// Confirm records that the ticket's order is durable.
	Confirm(ctx context.Context, t Ticket) error
	// Abort gives back an admission whose order was not written.
	Abort(ctx context.Context, t Ticket) error
	// Return gives back units of a durable reservation that was released
	// (cancelled or unpaid).
	Return(ctx context.Context, item, customer string, qty int64) error
	// SoldOut answers from local memory whether the item is known to be
	// sold out; it never blocks on I/O.
	SoldOut(item string) bool
	// Forget drops an item (its sale ended).
	Forget(ctx context.Context, item string) error
}

// Memory is the in-process Engine for a single node: each item is a small
// struct behind its own mutex, so attempts on different items never
// contend and a sold-out check is one atomic load.
type Memory struct {
	items sync.Map // item → *memItem
}

// NewMemory returns an empty in-process engine.
func NewMemory() *Memory { return &Memory{} }

type memItem struct {
	soldOut   atomic.Bool
	mu        sync.Mutex
	remaining int64
	customers map[string]int64
	keys      map[string]string // key → order id; "" while pending
}

func (m *Memory) item(key string) (*memItem, error) {
	v, ok := m.items.Load(key)
	if !ok {
		return nil, ErrUnknownItem
	}
	return v.(*memItem), nil
}

// Prime implements Engine.
func (m *Memory) Prime(_ context.Context, item string, remaining int64, perCustomer map[string]int64, keys map[string]string) error {
	it := &memItem{remaining: remaining, customers: make(map[string]int64, len(perCustomer)), keys: make(map[string]string, len(keys))}
	for c, n := range perCustomer {
		it.customers[c] = n
	}
	for k, o := range keys {
		it.keys[k] = o
	}
	it.soldOut.Store(remaining <= 0)
	m.items.Store(item, it)
	return nil
}

// Admit implements Engine.
func (m *Memory) Admit(_ context.Context, a Attempt) (Ticket, error) {
	it, err := m.item(a.Item)
	if err != nil {
		return Ticket{}, err
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if a.Key != "" {
		if order, ok := it.keys[a.Key]; ok {
			if order == "" {
				return Ticket{}, ErrInProgress
			}
			t := Ticket{Attempt: a, Replay: true}
			t.OrderID = order
			return t, nil
		}
	}
	if it.remaining < a.Qty {
		return Ticket{}, ErrSoldOut
	}
	if it.customers[a.Customer]+a.Qty > a.Limit {
		return Ticket{}, ErrOverLimit
	}
	it.remaining -= a.Qty
	it.customers[a.Customer] += a.Qty
	if a.Key != "" {
		it.keys[a.Key] = ""
	}
	if it.remaining <= 0 {
		it.soldOut.Store(true)
	}
	return Ticket{Attempt: a}, nil
}

// Confirm implements Engine.
func (m *Memory) Confirm(_ context.Context, t Ticket) error {
	if t.Key == "" || t.Replay {
		return nil
	}
	it, err := m.item(t.Item)
	if err != nil {
		return err
	}
	it.mu.Lock()
	it.keys[t.Key] = t.OrderID
	it.mu.Unlock()
	return nil
}

// Abort implements Engine.
func (m *Memory) Abort(_ context.Context, t Ticket) error {
	if t.Replay {
		return nil
	}
	it, err := m.item(t.Item)
	if err != nil {
		return err
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if t.Key != "" {
		delete(it.keys, t.Key)
	}
	it.give(t.Customer, t.Qty)
	return nil
}

// Return implements Engine.
func (m *Memory) Return(_ context.Context, item, customer string, qty int64) error {
	it, err := m.item(item)
	if err != nil {
		return nil // not primed here (ended, or another node's item)
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	it.give(customer, qty)
	return nil
}

func (it *memItem) give(customer string, qty int64) {
	it.remaining += qty
	if n := it.customers[customer] - qty; n > 0 {
		it.customers[customer] = n
	} else {
		delete(it.customers, customer)
	}
	if it.remaining > 0 {
		it.soldOut.Store(false)
	}
}

// SoldOut implements Engine.
func (m *Memory) SoldOut(item string) bool {
	it, err := m.item(item)
	return err == nil && it.soldOut.Load()
}

// Forget implements Engine.
func (m *Memory) Forget(_ context.Context, item string) error {
	m.items.Delete(item)
	return nil
}

// Remaining reports the units the engine would still admit (for tests and
// the console); false if the item is not primed.
func (m *Memory) Remaining(item string) (int64, bool) {
	it, err := m.item(item)
	if err != nil {
		return 0, false
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.remaining, true
}

var _ Engine = (*Memory)(nil)
