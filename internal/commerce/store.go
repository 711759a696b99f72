package commerce

import (
	"context"
	"time"
)

// Store is everything commerce needs from storage. Each engine
// (internal/storage/...) implements it and passes storetest.
type Store interface {
	ShopStore
	CatalogStore
	CustomerStore
	CustomerStamps
	OrderStore
	// ListAudit lists the audit entries matching f, newest first; the
	// cursor is the last id seen.
	ListAudit(ctx context.Context, shopID string, f AuditFilter, p Page) ([]AuditEntry, error)
}

// AuditFilter narrows the audit log; empty fields match everything. From
// is inclusive, To exclusive.
type AuditFilter struct {
	Actor, Action, Entity, EntityID string
	From, To                        time.Time
}

// ShopStore keeps tenants and their API keys.
type ShopStore interface {
	CreateShop(ctx context.Context, s *Shop) error
	GetShop(ctx context.Context, id string) (*Shop, error)
	ListShops(ctx context.Context) ([]Shop, error)
	// UpdateShop replaces name, time zone and settings, writing audit in the
	// same transaction.
	UpdateShop(ctx context.Context, s *Shop, audit *AuditEntry) error
	// CreateAPIKey stores k, writing audit in the same transaction.
	CreateAPIKey(ctx context.Context, k *APIKey, audit *AuditEntry) error
	// APIKeyByHash finds a key that is not revoked; ErrNotFound otherwise.
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, shopID string) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, shopID, id string, at time.Time, audit *AuditEntry) error
	// SetPaymentSecret stores or replaces the shop's payment-callback
	// secret, writing audit in the same transaction.
	SetPaymentSecret(ctx context.Context, shopID, secret string, at time.Time, audit *AuditEntry) error
	// PaymentSecret is the shop's payment-callback secret; ErrNotFound
	// when it has none.
	PaymentSecret(ctx context.Context, shopID string) (string, error)
}

// ProductUpsert is one product with its SKUs in a bulk upsert, keyed by the
// merchant's codes. A nil Stock leaves stock as it is.
type ProductUpsert struct {
	Code       string
	Name       string
	CategoryID string
	Status     string
	SKUs       []SKUUpsert
}

// SKUUpsert is one SKU of a ProductUpsert.
type SKUUpsert struct {
	Code        string
	Name        string
	Price       int64
	Cost        int64
	Stock       *int64
	SafetyStock int64
	Status      string
}

// SKUFilter narrows a SKU list.
type SKUFilter struct {
	ProductID  string
	CategoryID string
	Status     string
}

// CatalogStore keeps categories, products, SKUs and the stock ledger.
type CatalogStore interface {
	UpsertCategories(ctx context.Context, shopID string, cats []Category, audit *AuditEntry) error
	ListCategories(ctx context.Context, shopID string) ([]Category, error)
	// UpsertProducts creates or updates products and their SKUs by code,
	// writing only the fields each patch sets, assigning ids with newID,
	// recording stock changes in the ledger, all in one transaction; a SKU
	// takes its product's category. A patch that would create a product
	// without a name or SKUs, or a SKU without a price, fails with a
	// *MissingError and writes nothing. It returns the SKUs of the patches
	// as stored, in input order.
	UpsertProducts(ctx context.Context, shopID string, items []ProductPatch, newID func(prefix string) string, at time.Time, audit *AuditEntry) ([]SKU, error)
	// PatchProduct writes the fields p sets of product id (not its code or
	// SKUs; a new category moves its SKUs too): ErrNotFound when the shop has
	// no such product.
	PatchProduct(ctx context.Context, shopID, id string, p ProductPatch, at time.Time, audit *AuditEntry) (*Product, error)
	// PatchSKU writes the fields p sets of SKU id (not its code), recording a
	// stock change in the ledger: ErrNotFound when the shop has no such SKU.
	PatchSKU(ctx context.Context, shopID, id string, p SKUPatch, moveID string, at time.Time, audit *AuditEntry) (*SKU, error)
	GetProduct(ctx context.Context, shopID, id string) (*Product, error)
	ListProducts(ctx context.Context, shopID string, p Page) ([]Product, error)
	// ProductsByID returns the shop's products found among ids; missing
	// ones (and other shops') are absent.
	ProductsByID(ctx context.Context, shopID string, ids []string) (map[string]*Product, error)
	GetSKU(ctx context.Context, shopID, id string) (*SKU, error)
	// SKUsByID returns the SKUs found among ids; missing ones are absent.
	SKUsByID(ctx context.Context, shopID string, ids []string) (map[string]*SKU, error)
	ListSKUs(ctx context.Context, shopID string, f SKUFilter, p Page) ([]SKU, error)
	// AdjustStock changes free stock by delta (never below zero: ErrOutOfStock).
	AdjustStock(ctx context.Context, shopID, skuID string, delta int64, note string, moveID string, at time.Time, audit *AuditEntry) (*SKU, error)
	ListStockMoves(ctx context.Context, shopID, skuID string, p Page) ([]StockMove, error)
	// CategoryAncestors returns the category and its ancestors, nearest first.
	CategoryAncestors(ctx context.Context, shopID, categoryID string) ([]string, error)
}

// CustomerStore keeps customers and the points ledger.
type CustomerStore interface {
	// UpsertCustomers creates or updates customers by external id, writing
	// only the fields each patch sets (a new customer has the empty value
	// of the others); the returned customers are as stored, in input order;
	// audit is written in the same transaction.
	UpsertCustomers(ctx context.Context, shopID string, ps []CustomerPatch, newID func(prefix string) string, at time.Time, audit *AuditEntry) ([]Customer, error)
	// PatchCustomer writes the fields p sets of customer id (not its
	// external id): ErrNotFound when the shop has no such customer, ErrStale
	// when it was erased.
	PatchCustomer(ctx context.Context, shopID, id string, p CustomerPatch, at time.Time, audit *AuditEntry) (*Customer, error)
	GetCustomer(ctx context.Context, shopID, id string) (*Customer, error)
	ListCustomers(ctx context.Context, shopID string, p Page) ([]Customer, error)
	// EraseCustomer anonymises personal fields; orders are kept.
	EraseCustomer(ctx context.Context, shopID, id string, at time.Time, audit *AuditEntry) error
	// AdjustPoints changes the balance by delta (never below zero) and
	// records the move and audit in the same transaction.
	AdjustPoints(ctx context.Context, shopID string, mv PointsMove, audit *AuditEntry) (*Customer, error)
	ListPointsMoves(ctx context.Context, shopID, customerID string, p Page) ([]PointsMove, error)
	// RecallCustomers scans up to limit of the shop's customers after the
	// id after, in id order, and returns those f keeps (never an erased
	// one) with their last paid order's time; next is the last id scanned,
	// "" when no customer is left.
	RecallCustomers(ctx context.Context, shopID string, f RecallFilter, after string, limit int) (rows []RecallRow, next string, err error)
	// AppendAudit writes an audit entry on its own (for reads that are
	// audited, such as exports of personal data).
	AppendAudit(ctx context.Context, audit *AuditEntry) error
}

// CustomerStamps reads a customer's change stamp: a number the store raises
// in the same transaction as every change to the customer's row (points
// held, released, refunded or adjusted, the first payment, tier, tags,
// erasure) or to their coupons (claimed, locked, used, released). Equal
// stamps mean nothing a quote reads of the customer changed between two
// reads, whichever node made the change.
type CustomerStamps interface {
	// CustomerStamp returns the stamp alone (ErrNotFound: no customer).
	CustomerStamp(ctx context.Context, shopID, id string) (int64, error)
	// GetCustomerStamped is GetCustomer with the stamp of the row it read.
	GetCustomerStamped(ctx context.Context, shopID, id string) (*Customer, int64, error)
}

// Idem ties a mutating request to its Idempotency-Key: the store records it
// in the same transaction as the write, and a second write with the same
// key finds the first one's record instead.
type Idem struct {
	Key         string
	Scope       string // e.g. "orders.place"
	RequestHash string
	Response    []byte // the first answer, returned on replay
}

// Refund asks to refund quantities of order lines.
type Refund struct {
	ID          string
	Lines       []RefundLine
	ReturnStock bool
	Reason      string
	// Shipping is the shipping amount refunded with the lines (fen).
	Shipping int64
	// Actor made the refund (Actor.String()); its points entries carry it.
	Actor string
}

// RefundLine is one line of a Refund; Amount and Points are filled in by the
// service before the store applies it.
type RefundLine struct {
	No       int   `json:"no"`
	Quantity int64 `json:"quantity"`
	Amount   int64 `json:"amount"`
	Points   int64 `json:"points,omitempty"`
}

// OrderFilter narrows an order list.
type OrderFilter struct {
	CustomerID string
	Status     string
}

// OrderStore keeps orders, their holds, idempotency records.
type OrderStore interface {
	// PlaceOrder writes o with its lines and takes every hold in o.Holds in
	// one transaction: stock (OutOfStockError), points (ErrStale when the
	// balance is short), and whatever later kinds the store knows. If idem
	// is set and a record for its key exists, nothing is written and the
	// stored record is returned.
	PlaceOrder(ctx context.Context, o *Order, idem *Idem) (replay *Idem, err error)
	GetOrder(ctx context.Context, shopID, id string) (*Order, error)
	ListOrders(ctx context.Context, shopID string, f OrderFilter, p Page) ([]Order, error)
	// PayOrder moves a pending order that has not expired at 'at' to paid and
	// commits its holds; ErrStale if the order was not pending or had expired.
	PayOrder(ctx context.Context, shopID, id string, at time.Time, audit *AuditEntry) error
	// CancelOrder moves a pending order to cancelled and releases its holds.
	// With onlyExpired it does so only if the order expired at 'at' (the
	// payment timeout); ErrStale when the condition does not hold.
	CancelOrder(ctx context.Context, shopID, id, reason string, at time.Time, onlyExpired bool) error
	// FulfilOrder moves a paid order to fulfilled; ErrStale otherwise.
	FulfilOrder(ctx context.Context, shopID, id string, at time.Time) error
	// RefundOrder applies a refund the service has computed and writes
	// audit in the same transaction; ErrStale if the order changed since it
	// was read (lines over-refunded).
	RefundOrder(ctx context.Context, shopID, id string, r Refund, at time.Time, audit *AuditEntry) (*Order, error)
	// DueOrders lists pending orders of any shop whose payment timeout has
	// passed at 'at', oldest first.
	DueOrders(ctx context.Context, at time.Time, limit int) ([]OrderRef, error)
	// OrdersSince pages by id (after the given one) through the orders of
	// every shop placed, paid or cancelled at or after since, without their
	// lines; their Holds hold only a balance order's presale_balance claim.
	OrdersSince(ctx context.Context, since time.Time, after string, limit int) ([]Order, error)
	// RefundsSince pages by id through the refunds made at or after since.
	RefundsSince(ctx context.Context, since time.Time, after string, limit int) ([]RefundRecord, error)
}

// RefundRecord is a refund as made, with the attribution of its order.
type RefundRecord struct {
	ID, ShopID, OrderID, Actor    string
	CustomerID, Channel, Campaign string
	Amount                        int64
	At                            time.Time
}

// OrderRef names an order across shops.
type OrderRef struct {
	ShopID string
	ID     string
}
