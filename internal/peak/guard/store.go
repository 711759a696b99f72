package guard

import (
	"context"
	"time"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// Dimensions a Subject is limited and blocked on.
const (
	DimCustomer = "customer"
	DimDevice   = "device"
	DimIP       = "ip"
)

// Rules a refusal or a block names.
const (
	RuleRateLimit = "rate_limit" // a token bucket was empty
	RuleBlocked   = "blocked"    // the customer, device or IP is blocked
	RuleFailLimit = "fail_limit" // the rule that creates blocks: too many failed attempts
)

// Block stops one customer, device or IP of a shop from buying and claiming
// until Until, or until an operator lifts it.
type Block struct {
	ID        string `json:"id"`
	ShopID    string `json:"-"`
	Dimension string `json:"dimension" doc:"customer, device or ip"`
	Key       string `json:"key" doc:"The customer id, device id or IP address"`
	// Scope is where the failures that caused the block happened
	// ("flash:<sale id>", "claim:<template id>"); the block applies to
	// every scope of the shop.
	Scope    string `json:"scope"`
	Rule     string `json:"rule" doc:"Why: fail_limit"`
	Reason   string `json:"reason" doc:"The last failure's reason, e.g. invalid_code"`
	Failures int    `json:"failures" doc:"Failed attempts counted"`
	// WindowSeconds is the window the failures fell in.
	WindowSeconds int64      `json:"window_seconds"`
	CreatedAt     time.Time  `json:"created_at"`
	Until         time.Time  `json:"until"`
	LiftedAt      *time.Time `json:"lifted_at,omitempty"`
	LiftedBy      string     `json:"lifted_by,omitempty"`
	// UpdatedAt moves on every change, so instances can pick up changes
	// since their last look.
	UpdatedAt time.Time `json:"-"`
	Active    bool      `json:"active" doc:"Not lifted and not yet expired, when listed"`
}

// ActiveAt reports whether b applies at t.
func (b *Block) ActiveAt(t time.Time) bool { return b.LiftedAt == nil && t.Before(b.Until) }

// RefusalRecord is one or more refusals of the same key by the same rule in
// the same scope, counted together: at peak an abuser is refused thousands
// of times a second, and one row per refusal would cost more than the
// refusing.
type RefusalRecord struct {
	ID        string    `json:"id"`
	ShopID    string    `json:"-"`
	Scope     string    `json:"scope"`
	Rule      string    `json:"rule" doc:"rate_limit or blocked"`
	Dimension string    `json:"dimension" doc:"customer, device or ip"`
	Key       string    `json:"key"`
	BlockID   string    `json:"block_id,omitempty" doc:"The block that refused, for rule blocked"`
	Count     int64     `json:"count" doc:"Refusals counted in this record"`
	FirstAt   time.Time `json:"first_at"`
	LastAt    time.Time `json:"last_at"`
}

// RefusalFilter narrows a refusal listing; empty fields match everything.
type RefusalFilter struct {
	Scope string
	Rule  string
}

// Store is what the guard keeps durably. Blocks and the shop's default
// policy are few and written rarely; refusal records arrive in batches.
type Store interface {
	// SaveBlock inserts a new block with its audit entry.
	SaveBlock(ctx context.Context, b *Block, audit *commerce.AuditEntry) error
	// LiftBlock marks block id and every other unlifted block of the same
	// shop, dimension and key lifted at `at` by actor, with the audit
	// entry, and returns the block id as it now is. commerce.ErrNotFound if
	// the shop has no such block; commerce.ErrStale if it was lifted.
	LiftBlock(ctx context.Context, shopID, id string, at time.Time, actor string, audit *commerce.AuditEntry) (*Block, error)
	// ActiveBlocks returns every shop's blocks active at now.
	ActiveBlocks(ctx context.Context, now time.Time) ([]Block, error)
	// BlocksChangedSince returns every shop's blocks created or lifted at
	// or after since.
	BlocksChangedSince(ctx context.Context, since time.Time) ([]Block, error)
	// ListBlocks pages a shop's blocks, newest first; activeAt non-nil
	// keeps those active then.
	ListBlocks(ctx context.Context, shopID string, activeAt *time.Time, p commerce.Page) ([]Block, error)
	// SaveRefusals inserts refusal records (any shops) in one transaction.
	SaveRefusals(ctx context.Context, rs []RefusalRecord) error
	// ListRefusals pages a shop's refusal records, newest first.
	ListRefusals(ctx context.Context, shopID string, f RefusalFilter, p commerce.Page) ([]RefusalRecord, error)
	// GuardPolicy returns the shop's default policy; commerce.ErrNotFound
	// if none was saved.
	GuardPolicy(ctx context.Context, shopID string) (*Policy, error)
	// SaveGuardPolicy sets the shop's default policy with its audit entry.
	SaveGuardPolicy(ctx context.Context, shopID string, p Policy, at time.Time, audit *commerce.AuditEntry) error
}
